import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Subscriber } from 'zeromq';
import { COMMANDS, DEMO_OPTIONS, main, SIM_COMMAND_OPTIONS, startupHint } from '../src/cli';
import { envName, parseArgs, resolveOptions, SERVE_OPTIONS, type OptionSpec } from '../src/config';
import { demoBanner } from '../src/demo';
import { buildCli, CLI, CliProcess, ROOT } from './helpers/cliProcess';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs `main` in-process for commands that return at once (help, errors). */
async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(argv, { env, stdout, stderr, logDestination: new Capture(), exit: () => undefined });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const resolve = (specs: readonly OptionSpec[], argv: string[], env: Record<string, string>) =>
  resolveOptions(specs, parseArgs(argv, specs).raw, env);

describe('option precedence: flag beats env beats default', () => {
  const SPECS: Record<string, readonly OptionSpec[]> = { serve: SERVE_OPTIONS, demo: DEMO_OPTIONS, sim: SIM_COMMAND_OPTIONS };
  // [command, option, argv, env, expected]
  const table: [string, string, string[], Record<string, string>, unknown][] = [
    ['serve', 'port', [], {}, 8765],
    ['serve', 'port', [], { TICKCAST_PORT: '9000' }, 9000],
    ['serve', 'port', ['--port', '9100'], { TICKCAST_PORT: '9000' }, 9100],
    ['serve', 'port', ['--port=0'], {}, 0],
    ['serve', 'port', [], { TICKCAST_PORT: '' }, 8765],
    ['serve', 'throttle-ms', [], { TICKCAST_THROTTLE_MS: '0' }, 0],
    ['serve', 'api-key', [], {}, []],
    ['serve', 'api-key', [], { TICKCAST_API_KEYS: 'a:u1,b:u2' }, ['a:u1', 'b:u2']],
    ['serve', 'api-key', ['--api-key', 'c', '--api-key', 'd'], { TICKCAST_API_KEYS: 'a' }, ['c', 'd']],
    ['serve', 'zmq-connect', ['--zmq-connect', 'tcp://127.0.0.1:1,tcp://127.0.0.1:2'], {}, ['tcp://127.0.0.1:1', 'tcp://127.0.0.1:2']],
    ['serve', 'per-message-deflate', [], {}, false],
    ['serve', 'per-message-deflate', [], { TICKCAST_PER_MESSAGE_DEFLATE: 'true' }, true],
    ['serve', 'per-message-deflate', ['--no-per-message-deflate'], { TICKCAST_PER_MESSAGE_DEFLATE: 'true' }, false],
    ['serve', 'log-level', [], { TICKCAST_LOG_LEVEL: 'debug' }, 'debug'],
    ['serve', 'log-level', ['--log-level=warn'], { TICKCAST_LOG_LEVEL: 'debug' }, 'warn'],
    ['serve', 'dashboard', [], {}, false],
    ['demo', 'dashboard', [], {}, true],
    ['demo', 'dashboard', [], { TICKCAST_DASHBOARD: 'false' }, false],
    ['demo', 'rate', [], { TICKCAST_SIM_RATE: '5' }, 5],
    ['demo', 'rate', ['--rate', '1.5'], { TICKCAST_SIM_RATE: '5' }, 1.5],
    ['demo', 'port', [], { TICKCAST_PORT: '9001' }, 9001],
    ['sim', 'zmq-connect', [], { TICKCAST_ZMQ_CONNECT: 'tcp://127.0.0.1:1' }, 'tcp://127.0.0.1:5555'],
    ['sim', 'symbols', ['--symbols', '100'], { TICKCAST_SIM_SYMBOLS: '3' }, 100],
    ['sim', 'burst', ['--burst'], {}, true],
  ];
  it.each(table)('%s --%s, argv %j, env %j → %j', (cmd, name, argv, env, expected) => {
    expect(resolve(SPECS[cmd]!, argv, env)[name]).toEqual(expected);
  });

  it('names the flag and the env var of a bad value', () => {
    expect(() => resolve(SERVE_OPTIONS, ['--port', '70000'], {})).toThrow('--port (env TICKCAST_PORT) must be at most 65535, got 70000.');
    expect(() => resolve(SERVE_OPTIONS, [], { TICKCAST_PORT: 'abc' })).toThrow(
      'TICKCAST_PORT (flag --port) must be a whole number, got "abc".',
    );
    expect(() => resolve(SERVE_OPTIONS, ['--log-level', 'loud'], {})).toThrow(/--log-level .*must be one of/);
  });
});

describe('command table', () => {
  it('lists serve, demo, sim and bridge, each with a summary and no option twice', () => {
    expect(COMMANDS.map((c) => [c.name, c.summary])).toEqual([
      ['serve', 'the production proxy: ZeroMQ feed in, OpenAlgo-compatible WebSocket clients out'],
      ['demo', 'the proxy plus a simulated broker feed in one process (what `npm start` runs)'],
      ['sim', "the simulated broker feed alone: a ZeroMQ PUB that connects to a proxy's SUB (ours or OpenAlgo's)"],
      ['bridge', 'relay the ZeroMQ feed onto NATS (last values in JetStream) for scale-out nodes: `serve --nats URL`'],
    ]);
    for (const c of COMMANDS) {
      const names = c.options.map((o) => o.name);
      expect(new Set(names).size).toBe(names.length);
      const envs = c.options.map((o) => envName(o.name, o));
      expect(new Set(envs).size).toBe(envs.length);
    }
  });

  it("gives demo every serve option plus the simulator's, except the simulator's --zmq-connect", () => {
    const names = DEMO_OPTIONS.map((o) => o.name);
    for (const o of SERVE_OPTIONS) expect(names).toContain(o.name);
    for (const name of ['symbols', 'rate', 'burst', 'depth-levels', 'unsorted-ratio', 'seed']) expect(names).toContain(name);
    expect(DEMO_OPTIONS.find((o) => o.name === 'zmq-connect')).toBe(SERVE_OPTIONS.find((o) => o.name === 'zmq-connect'));
  });
});

describe('docs/operations.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
  it.each([...SERVE_OPTIONS, ...SIM_COMMAND_OPTIONS])('lists --$name with its env var', (o) => {
    expect(doc).toContain(`| \`--${o.name}`);
    expect(doc).toContain(`| \`${envName(o.name, o)}\` |`);
  });

  /** The options table under a `### heading`: its rows by env var (unique within a table). */
  function optionRows(heading: string): Map<string, { flag: string; fallback: string }> {
    const section = doc.split(/^### /m).find((part) => part.startsWith(heading)) ?? '';
    const rows = new Map<string, { flag: string; fallback: string }>();
    for (const line of section.split('\n').filter((l) => l.startsWith('| `--'))) {
      const [flag = '', env = '', fallback = ''] = line
        .split(/(?<!\\)\|/)
        .slice(1)
        .map((cell) => cell.trim().replace(/\\\|/g, '|'));
      rows.set(env.replace(/`/g, ''), { flag, fallback });
    }
    return rows;
  }

  /** How `--help` shows an option's placeholder and default. */
  const shown = (o: OptionSpec): { flag: string; fallback: string | undefined } => ({
    flag: `\`--${o.name}${o.kind === 'bool' ? '' : ` ${o.arg ?? o.kind.toUpperCase()}`}\``,
    fallback:
      o.default === undefined || (Array.isArray(o.default) && o.default.length === 0)
        ? undefined
        : `\`${Array.isArray(o.default) ? o.default.join(',') : String(o.default)}\``,
  });

  it.each([
    ['`serve`', SERVE_OPTIONS],
    ['`sim`', SIM_COMMAND_OPTIONS.filter((o) => o.env?.startsWith('TICKCAST_SIM_'))],
  ] as const)('gives each %s option the placeholder and default --help shows', (heading, options) => {
    const rows = optionRows(heading);
    for (const o of options) {
      const row = rows.get(envName(o.name, o));
      const want = shown(o);
      expect({ option: o.name, flag: row?.flag }).toEqual({ option: o.name, flag: want.flag });
      // An option with a default starts its cell with it; one without shows no value (– or a word).
      if (want.fallback === undefined)
        expect({ option: o.name, fallback: row?.fallback.startsWith('`') }).toEqual({ option: o.name, fallback: false });
      else expect({ option: o.name, fallback: row?.fallback.startsWith(want.fallback) }).toEqual({ option: o.name, fallback: true });
    }
  });

  it('shows the demo banner as the demo prints it, the dashboard URL with its #key=', () => {
    const block = /^Tickcast demo is running\.\n(?: {2}.*\n)+/m.exec(doc)?.[0] ?? '';
    const key = /^ {2}API key: {7}(\S+)$/m.exec(block)?.[1];
    const feed = /^ {2}Feed: {10}(.+)$/m.exec(block)?.[1] ?? '';
    const printed = demoBanner({ httpUrl: 'http://127.0.0.1:8765', wsUrl: 'ws://127.0.0.1:8765/' }, key, feed);
    expect(block).toMatch(/#key=[0-9a-f]{32}\n/);
    expect(printed).toContain(block);
  });
});

describe('tickcast (in-process)', () => {
  it('--help lists the commands on stdout and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tickcast <command> \[options\]/);
    for (const name of ['serve', 'demo', 'sim', 'bridge']) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it('without a command prints the usage on stderr and exits 2', async () => {
    const r = await run([]);
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toContain('Usage: tickcast <command>');
  });

  it('<command> --help lists every option with its env var and default', async () => {
    const r = await run(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const o of SERVE_OPTIONS) {
      expect(r.stdout).toContain(`  --${o.name}`);
      expect(r.stdout).toContain(`env ${envName(o.name, o)}`);
    }
    expect(r.stdout).toContain('[default: 8765]');
    const demo = await run(['demo', '--help']);
    expect(demo.stdout).toContain('  --rate TICKS_PER_S_PER_SYMBOL');
    expect(demo.stdout).toContain('env TICKCAST_SIM_RATE');
    expect(demo.stdout).not.toContain('TICKCAST_SIM_ZMQ_CONNECT');
    const sim = await run(['sim', '--help']);
    expect(sim.stdout).toContain('env TICKCAST_SIM_ZMQ_CONNECT');
    expect(sim.stdout).toContain('  --log-level');
  });

  it.each([
    [['frobnicate'], 'tickcast: unknown command "frobnicate". Commands: serve, demo, sim, bridge. Run tickcast --help.'],
    [['serve', '--bogus'], 'tickcast serve: Unknown option --bogus. Run with --help to see the options.'],
    [['serve', '--port'], 'tickcast serve: Option --port needs a value (int).'],
    [['serve', 'now'], 'tickcast serve: Unexpected argument "now". Options start with --; run tickcast serve --help.'],
    [
      ['serve', '--api-key', 'k', '--slow-soft-bytes', '10', '--slow-hard-bytes', '5'],
      'tickcast serve: --slow-soft-bytes (10) must be smaller than --slow-hard-bytes (5).',
    ],
    [['sim', '--depth-levels', '7'], 'tickcast sim: --depth-levels (env TICKCAST_SIM_DEPTH_LEVELS) must be one of 5, 20, 50, got "7".'],
    [
      ['demo', '--nats', 'nats://127.0.0.1:4222'],
      'tickcast demo: --nats is not for demo: the demo feeds its proxy from the simulator over ZeroMQ. Use it with tickcast serve.',
    ],
    [
      ['bridge', '--nats-storage', 'disk'],
      'tickcast bridge: --nats-storage (env TICKCAST_NATS_STORAGE) must be one of file, memory, got "disk".',
    ],
  ])('%j fails with exit code 2 and says why', async (argv, message) => {
    const r = await run(argv);
    expect([r.code, r.stdout, r.stderr]).toEqual([2, '', message + '\n']);
  });

  it('serve without an API key fails with exit code 2 and says how to add one', async () => {
    const r = await run(['serve', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'tickcast serve: No API key configured: clients could not authenticate. Add one with --api-key KEY[:USER[:BROKER]], ' +
        '--api-keys-file FILE, or TICKCAST_API_KEYS=KEY1,KEY2, or verify keys through a feed host with --control ENDPOINT.\n',
    );
  });

  it('serve on a ZeroMQ endpoint already bound fails with exit code 1 and says what to do', async () => {
    const taken = new Subscriber({ linger: 0 });
    await taken.bind('tcp://127.0.0.1:*');
    try {
      const r = await run(['serve', '--api-key', 'k', '--port', '0', '--zmq-bind', taken.lastEndpoint as string]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^tickcast serve: could not start: ZeroMQ socket could not start on tcp:\/\/127\.0\.0\.1:\d+: .*--zmq-bind\.\n$/,
      );
    } finally {
      taken.close();
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('explains a port in use', () => {
    const err = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8765'), { code: 'EADDRINUSE' });
    expect(startupHint(err)).toBe(
      'listen EADDRINUSE: address already in use 127.0.0.1:8765: another process uses that port; stop it or pick another with --port (0 = any free port).',
    );
  });
});

describe('tickcast (the built bin)', () => {
  const procs: CliProcess[] = [];
  beforeAll(() => buildCli(), 120_000);
  afterAll(() => Promise.all(procs.map((p) => p.close())));
  const spawnCli = (args: string[], env?: Record<string, string>) => {
    const p = new CliProcess(args, env);
    procs.push(p);
    return p;
  };

  it('is what package.json installs and what npm start, serve and tickcast run', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(join(ROOT, pkg.bin['tickcast']!)).toBe(CLI);
    expect(pkg.scripts['start']).toMatch(/&& node dist\/src\/cli\.js demo$/);
    expect(pkg.scripts['serve']).toMatch(/&& node dist\/src\/cli\.js serve$/);
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('prints --help and exits 0', async () => {
    const p = spawnCli(['--help']);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.stdout).toContain('Usage: tickcast <command> [options]');
  });

  it('rejects a bad flag value with exit code 2 and a message naming the flag', async () => {
    const p = spawnCli(['serve', '--api-key', 'k', '--max-depth', '0']);
    expect(await p.exited).toEqual({ code: 2, signal: null });
    expect(p.stderr).toBe('tickcast serve: --max-depth (env TICKCAST_MAX_DEPTH) must be at least 1, got 0.\n');
  });

  it('reads TICKCAST_* env when no flag is given', async () => {
    const p = spawnCli(['serve'], { TICKCAST_API_KEYS: 'k', TICKCAST_THROTTLE_MS: '-5' });
    expect(await p.exited).toEqual({ code: 2, signal: null });
    expect(p.stderr).toBe('tickcast serve: TICKCAST_THROTTLE_MS (flag --throttle-ms) must be at least 0, got -5.\n');
  });
});
