/**
 * Tickcast against OpenAlgo's own WebSocket proxy on the same feed, on this machine, in one run
 * (bench/openalgo/README.md). For each client count, the two systems alternate (A, B, A, B …):
 *
 * - A, OpenAlgo: websocket_proxy/server.py (OpenAlgo's code, a stand-in broker adapter), keys
 *   verified by OpenAlgo's auth_db;
 * - B, Tickcast: `node dist/src/cli.js serve`, and beside it the OpenAlgo feed host
 *   (contrib/openalgo/tickcast_host.py on OpenAlgo's code, the same stand-in adapter). With
 *   `--control` in this build, Tickcast drives the host and keys are OpenAlgo's; without it,
 *   Tickcast takes the key by `--api-key` and the runner itself asks the host to verify the key and
 *   subscribe the symbols, so the host holds what it would hold, and its CPU is measured the same.
 *
 * The feed (publisher.ts) connects a PUB to the system's SUB, as adapters do; the clients
 * (client.ts) authenticate and subscribe every symbol in Quote mode. Per run: warm-up, then a
 * measured window: CPU of each server process from /proc/<pid>/stat, ticks sent, frames delivered
 * stamped in the window, latency percentiles.
 *
 *   node dist/bench/bench/openalgo/run.js --openalgo-root DIR --python VENV/bin/python [--rounds 2]
 *     [--clients 1,10] [--window-s 30] [--warm-s 5] [--keys 1000] [--rate 5] [--out FILE.json] [--check]
 *
 * `--summarize FILE…`: the summary of earlier `--out` files, pooled.
 *
 * `--check`: no measurement; a client shaped like OpenAlgo's React MarketDataManager, against each
 * system on the live feed: a wrong key, then the stored key and four symbols in Quote mode; then
 * OpenAlgo's own Python client (services/websocket_client.py) does the same.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { Dealer } from 'zeromq';
import { nowNs, sleep } from '../e2e/common';
import { Child, cpuUs, freePort, machineCpuUs } from '../e2e/procs';
import type { ClientsReport } from './client';

interface Options {
  readonly openalgoRoot: string;
  readonly python: string;
  readonly rounds: number;
  readonly clients: readonly number[];
  readonly windowS: number;
  readonly warmS: number;
  readonly keys: number;
  readonly rate: number;
  readonly out: string | undefined;
  readonly logDir: string;
  /** Only the MarketDataManager-shaped client against both systems, no measurement. */
  readonly check: boolean;
}

type System = 'openalgo' | 'tickcast';

interface RunResult {
  readonly system: System;
  readonly clients: number;
  readonly round: number;
  readonly windowS: number;
  /** CPU % of one core per process over the window. */
  readonly cpu: Readonly<Record<string, number>>;
  readonly machineBusyPct: number;
  readonly sentInWindow: number;
  readonly expected: number;
  readonly delivered: number;
  /** Frames the clients received inside the window, whenever stamped (a server running behind sends older ones). */
  readonly receivedInWindow?: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly publisherMaxLagMs: number;
  readonly closed: number;
  /** How the feed host was driven: by Tickcast (`--control`) or by this runner. */
  readonly hostDrivenBy?: 'tickcast' | 'runner';
}

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const HERE = __dirname;
const SRC_HERE = join(ROOT, 'bench', 'openalgo');
const USER = 'benchuser';
const BROKER = 'zerodha';

function parseArgs(argv: readonly string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const openalgoRoot = get('openalgo-root');
  const python = get('python');
  if (!openalgoRoot || !python)
    throw new Error('usage: run.js --openalgo-root DIR --python PYTHON [--rounds N] [--clients 1,10] [--window-s S] [--out FILE]');
  return {
    openalgoRoot: resolve(openalgoRoot),
    python,
    rounds: Number(get('rounds') ?? 2),
    clients: (get('clients') ?? '1,10').split(',').map(Number),
    windowS: Number(get('window-s') ?? 30),
    warmS: Number(get('warm-s') ?? 5),
    keys: Number(get('keys') ?? 1000),
    rate: Number(get('rate') ?? 5),
    out: get('out'),
    logDir: get('log-dir') ?? '/tmp/tickcast-openalgo-bench',
    check: argv.includes('--check'),
  };
}

/** A server process (Python or the Tickcast CLI), killed with the runner whatever happens. */
class Server {
  readonly proc: ChildProcess;
  private exited = false;
  private static readonly live = new Set<Server>();
  private static cleanupInstalled = false;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
    cwd: string,
    logFile: string,
  ) {
    const fd = openSync(logFile, 'a');
    this.proc = spawn(command, [...args], { cwd, env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    Server.live.add(this);
    this.proc.once('exit', () => {
      this.exited = true;
      Server.live.delete(this);
    });
    if (!Server.cleanupInstalled) {
      Server.cleanupInstalled = true;
      process.once('exit', () => Server.live.forEach((s) => s.proc.kill('SIGKILL')));
    }
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  get running(): boolean {
    return !this.exited;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.proc.kill('SIGTERM');
    for (let i = 0; i < 30 && !this.exited; i++) await sleep(100);
    if (!this.exited) this.proc.kill('SIGKILL');
    for (let i = 0; i < 30 && !this.exited; i++) await sleep(100);
  }
}

async function waitForPort(port: number, server: Server, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!server.running) throw new Error(`${server.name} exited before listening on ${port}`);
    const ok = await new Promise<boolean>((done) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        done(true);
      });
      s.once('error', () => done(false));
    });
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`${server.name} did not listen on ${port} within ${timeoutMs} ms`);
}

/** Does this Tickcast build have `serve --control` (the feed-host control channel)? */
function tickcastHasControl(): boolean {
  try {
    const help = execFileSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), 'serve', '--help'], { encoding: 'utf8' });
    return /--control\s/.test(help);
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? '';
    return /--control\s/.test(out);
  }
}

/** Asks the feed host what Tickcast would (docs/control.md): verify the key, subscribe the symbols. */
async function driveHost(endpoint: string, apiKey: string, keys: number): Promise<void> {
  const dealer = new Dealer({ linger: 0, receiveTimeout: 60_000 });
  dealer.connect(endpoint);
  let id = 0;
  const ask = async (req: object): Promise<Record<string, unknown>> => {
    const rid = String(++id);
    await dealer.send(['', rid, JSON.stringify(req)]);
    for (;;) {
      const frames = await dealer.receive();
      if (frames[frames.length - 2]?.toString() === rid)
        return JSON.parse((frames[frames.length - 1] as Buffer).toString()) as Record<string, unknown>;
    }
  };
  try {
    const verified = await ask({ op: 'verify', api_key: apiKey });
    if (verified['ok'] !== true || verified['user_id'] !== USER)
      throw new Error(`feed host did not verify the key: ${JSON.stringify(verified)}`);
    const items = Array.from({ length: keys }, (_, i) => ({ exchange: 'NSE', symbol: `S${i}`, mode: 2, depth: 5 }));
    const sub = await ask({ op: 'subscribe', user_id: USER, broker: verified['broker'], items });
    const results = (sub['results'] ?? []) as { ok?: boolean }[];
    if (sub['ok'] !== true || results.length !== keys || results.some((r) => r.ok !== true))
      throw new Error(`feed host subscribe failed: ${JSON.stringify(sub).slice(0, 300)}`);
  } finally {
    dealer.close();
  }
}

function pythonEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONUNBUFFERED: '1', ...extra };
}

/** A system under test, up and listening, with the processes whose CPU counts. */
interface Started {
  readonly wsPort: number;
  readonly zmqPort: number;
  readonly servers: Server[];
  readonly measured: Record<string, Server>;
  readonly hostDrivenBy?: 'tickcast' | 'runner';
}

async function startSystem(opts: Options, system: System, apiKey: string, control: boolean, logPrefix: string): Promise<Started> {
  const wsPort = await freePort();
  const zmqPort = await freePort();
  const controlPort = await freePort();
  const log = (name: string): string => join(opts.logDir, `${logPrefix}-${name}.log`);
  const launcher = join(SRC_HERE, 'openalgo_launcher.py');
  const servers: Server[] = [];
  const measured: Record<string, Server> = {};
  try {
    if (system === 'openalgo') {
      const proxy = new Server(
        'openalgo-proxy',
        opts.python,
        [launcher, 'proxy', '--root', opts.openalgoRoot],
        pythonEnv({ WEBSOCKET_HOST: '127.0.0.1', WEBSOCKET_PORT: String(wsPort), ZMQ_HOST: '127.0.0.1', ZMQ_PORT: String(zmqPort) }),
        opts.openalgoRoot,
        log('proxy'),
      );
      servers.push(proxy);
      measured['openalgo_proxy'] = proxy;
      await waitForPort(wsPort, proxy, 60_000);
      return { wsPort, zmqPort, servers, measured };
    }
    const controlEndpoint = `tcp://127.0.0.1:${controlPort}`;
    const host = new Server(
      'feed-host',
      opts.python,
      [
        launcher,
        'host',
        '--root',
        opts.openalgoRoot,
        '--host-script',
        join(ROOT, 'contrib', 'openalgo', 'tickcast_host.py'),
        '--control',
        controlEndpoint,
      ],
      pythonEnv({ ZMQ_HOST: '127.0.0.1', ZMQ_PORT: String(zmqPort) }),
      opts.openalgoRoot,
      log('host'),
    );
    servers.push(host);
    await waitForPort(controlPort, host, 60_000);
    const args = [
      join(ROOT, 'dist', 'src', 'cli.js'),
      'serve',
      '--port',
      String(wsPort),
      '--zmq-bind',
      `tcp://127.0.0.1:${zmqPort}`,
      '--log-level',
      'warn',
      // The label its market_data frames carry; the host names the user's broker (docs/openalgo.md).
      '--broker',
      BROKER,
    ];
    if (control) args.push('--control', controlEndpoint, '--control-timeout-ms', '60000');
    else args.push('--api-key', `${apiKey}:${USER}:${BROKER}`);
    const tickcast = new Server('tickcast', process.execPath, args, process.env, ROOT, log('tickcast'));
    servers.push(tickcast);
    measured['tickcast'] = tickcast;
    measured['feed_host'] = host;
    await waitForPort(wsPort, tickcast, 30_000);
    if (!control) await driveHost(controlEndpoint, apiKey, opts.keys);
    return { wsPort, zmqPort, servers, measured, hostDrivenBy: control ? 'tickcast' : 'runner' };
  } catch (err) {
    for (const s of servers.reverse()) await s.stop();
    throw err;
  }
}

async function runOne(opts: Options, system: System, clients: number, round: number, apiKey: string, control: boolean): Promise<RunResult> {
  const { wsPort, zmqPort, servers, measured, hostDrivenBy } = await startSystem(
    opts,
    system,
    apiKey,
    control,
    `${system}-${clients}c-r${round}`,
  );
  const children: Child[] = [];
  try {
    const lifetime = (opts.warmS + opts.windowS + 180) * 1000;
    const publisher = new Child('publisher', join(HERE, 'publisher.js'), {
      endpoint: `tcp://127.0.0.1:${zmqPort}`,
      keys: opts.keys,
      ratePerKey: opts.rate,
      maxLifetimeMs: lifetime,
    });
    children.push(publisher);
    await publisher.waitFor('ready', 10_000);
    const client = new Child('clients', join(HERE, 'client.js'), { maxLifetimeMs: lifetime });
    children.push(client);
    await client.request('connect', { port: wsPort, conns: clients, apiKey, keys: opts.keys, mode: 2 }, 170_000);
    await sleep(opts.warmS * 1000);

    const fromNs = nowNs() + 200e6;
    const toNs = fromNs + opts.windowS * 1e9;
    await Promise.all([publisher.request('window', { fromNs, toNs }), client.request('window', { fromNs, toNs })]);
    await sleep((fromNs - nowNs()) / 1e6);
    const cpu0 = Object.fromEntries(Object.entries(measured).map(([k, s]) => [k, cpuUs(s.pid)]));
    const m0 = machineCpuUs();
    const t0 = nowNs();
    await sleep((toNs - nowNs()) / 1e6);
    const cpu1 = Object.fromEntries(Object.entries(measured).map(([k, s]) => [k, cpuUs(s.pid)]));
    const m1 = machineCpuUs();
    const elapsedUs = (nowNs() - t0) / 1000;
    // Frames stamped at the window's end are still in flight: let them land before counting.
    await sleep(2000);
    const pub = await publisher.request<{ sentInWindow: number; maxLagMs: number }>('collect');
    const got = await client.request<ClientsReport>('collect');
    const cpu: Record<string, number> = {};
    for (const k of Object.keys(measured)) cpu[k] = (100 * ((cpu1[k] as number) - (cpu0[k] as number))) / elapsedUs;
    return {
      system,
      clients,
      round,
      windowS: opts.windowS,
      cpu,
      machineBusyPct: (100 * (m1.busy - m0.busy)) / (m1.total - m0.total),
      sentInWindow: pub.sentInWindow,
      expected: pub.sentInWindow * clients,
      delivered: got.delivered,
      receivedInWindow: got.receivedInWindow,
      p50Ms: got.p50Us / 1000,
      p99Ms: got.p99Us / 1000,
      maxMs: got.maxUs / 1000,
      publisherMaxLagMs: pub.maxLagMs,
      closed: got.closed,
      ...(hostDrivenBy ? { hostDrivenBy } : {}),
    };
  } finally {
    for (const c of children) await c.stop('SIGTERM', 2000);
    for (const s of servers.reverse()) await s.stop();
  }
}

/** What the MarketDataManager-shaped client saw. */
interface ManagerCheck {
  readonly system: System;
  readonly auth: string;
  readonly wrongKey: string;
  readonly subscribe: string;
  readonly ticksPerSymbol: Readonly<Record<string, number>>;
  readonly sample: unknown;
  readonly fieldsPresent: readonly string[];
  /** OpenAlgo's own Python client (services/websocket_client.py) against the same system. */
  readonly pythonClient?: Record<string, unknown>;
}

/**
 * A client speaking exactly what OpenAlgo's React MarketDataManager (frontend/src/lib/
 * MarketDataManager.ts) sends and reads: `{action: 'authenticate', api_key}` on open; on
 * `type: 'auth'` success, `{action: 'subscribe', symbols: [{symbol, exchange}], mode: 'Quote'}`;
 * `market_data` read as `data.symbol` / `data.exchange` (upper-cased) and the fields of `data.data`
 * it caches; `type || status` decides the case, as there.
 */
function managerSession(
  port: number,
  apiKey: string,
  symbols: readonly string[],
  listenMs: number,
): Promise<Omit<ManagerCheck, 'system' | 'wrongKey'>> {
  return new Promise((done, fail) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`);
    const ticks: Record<string, number> = Object.fromEntries(symbols.map((s) => [`NSE:${s}`, 0]));
    const cache = new Map<string, Record<string, unknown>>();
    let auth = 'no reply';
    let subscribe = 'no reply';
    let finished = false;
    // Resolves once the socket is closed for good: a socket left closing while this process is
    // busy elsewhere stops being read, and a server that waits on its slowest client would stall.
    const finish = (): void => {
      if (finished) return;
      finished = true;
      const sample = cache.get(`NSE:${symbols[0] ?? ''}`);
      const result = {
        auth,
        subscribe,
        ticksPerSymbol: ticks,
        sample,
        fieldsPresent: Object.entries(sample ?? {})
          .filter(([, v]) => v !== undefined)
          .map(([k]) => k),
      };
      socket.once('close', () => done(result));
      socket.close();
    };
    const timer = setTimeout(finish, listenMs + 10_000);
    socket.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    socket.on('open', () => socket.send(JSON.stringify({ action: 'authenticate', api_key: apiKey })));
    socket.on('message', (raw) => {
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(String(raw)) as Record<string, unknown>;
      } catch {
        return;
      }
      const type = (data['type'] || data['status']) as string;
      if (type === 'auth') {
        auth = String(data['status']);
        if (data['status'] !== 'success') {
          clearTimeout(timer);
          finish();
          return;
        }
        socket.send(
          JSON.stringify({ action: 'subscribe', symbols: symbols.map((symbol) => ({ symbol, exchange: 'NSE' })), mode: 'Quote' }),
        );
        clearTimeout(timer);
        setTimeout(finish, listenMs);
      } else if (type === 'subscribe') {
        subscribe = String(data['status']);
      } else if (type === 'market_data') {
        const key = `${String(data['exchange']).toUpperCase()}:${String(data['symbol']).toUpperCase()}`;
        const p = (data['data'] || {}) as Record<string, unknown>;
        const existing = cache.get(key) ?? {};
        cache.set(key, {
          ltp: p['ltp'] ?? existing['ltp'],
          open: p['open'] ?? existing['open'],
          high: p['high'] ?? existing['high'],
          low: p['low'] ?? existing['low'],
          close: p['close'] ?? existing['close'],
          volume: p['volume'] ?? existing['volume'],
          change: p['change'] ?? existing['change'],
          change_percent: p['change_percent'] ?? existing['change_percent'],
          timestamp: p['timestamp'] ?? existing['timestamp'],
          bid_price: p['bid_price'] ?? existing['bid_price'],
          ask_price: p['ask_price'] ?? existing['ask_price'],
          bid_size: p['bid_size'] ?? existing['bid_size'],
          ask_size: p['ask_size'] ?? existing['ask_size'],
          depth: p['depth'] ?? existing['depth'],
        });
        if (key in ticks) ticks[key] = (ticks[key] as number) + 1;
      } else if (type === 'error' && auth === 'no reply') {
        auth = `error: ${String(data['message'])}`;
        clearTimeout(timer);
        finish();
      }
    });
  });
}

async function managerCheck(opts: Options, system: System, apiKey: string, control: boolean): Promise<ManagerCheck> {
  const started = await startSystem(opts, system, apiKey, control, `${system}-check`);
  const publisher = new Child('publisher', join(HERE, 'publisher.js'), {
    endpoint: `tcp://127.0.0.1:${started.zmqPort}`,
    keys: opts.keys,
    ratePerKey: opts.rate,
    maxLifetimeMs: 120_000,
  });
  try {
    await publisher.waitFor('ready', 10_000);
    const wrong = await managerSession(started.wsPort, randomBytes(32).toString('hex'), ['S0'], 1000);
    const good = await managerSession(started.wsPort, apiKey, ['S0', 'S1', 'S500', 'S999'], 3000);
    const python = await new Promise<string>((done, fail) =>
      execFile(
        opts.python,
        [
          join(SRC_HERE, 'openalgo_launcher.py'),
          'client-check',
          '--root',
          opts.openalgoRoot,
          '--port',
          String(started.wsPort),
          '--api-key',
          apiKey,
        ],
        { env: pythonEnv({}), encoding: 'utf8', timeout: 60_000 },
        (err, stdout) => (err ? fail(err) : done(stdout)),
      ),
    );
    const pythonClient = JSON.parse(python.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    return { system, wrongKey: wrong.auth, ...good, pythonClient };
  } finally {
    await publisher.stop('SIGTERM', 2000);
    for (const s of started.servers.reverse()) await s.stop();
  }
}

function fmt(r: RunResult): string {
  const cpu = Object.entries(r.cpu)
    .map(([k, v]) => `${k} ${v.toFixed(1)}%`)
    .join(', ');
  return `${r.system} ${r.clients}c r${r.round}: ${cpu}; machine ${r.machineBusyPct.toFixed(0)}%; delivered ${r.delivered}/${r.expected} (${((100 * r.delivered) / r.expected).toFixed(2)}%), received in window ${r.receivedInWindow ?? NaN}; p50 ${r.p50Ms.toFixed(2)} ms p99 ${r.p99Ms.toFixed(2)} ms max ${r.maxMs.toFixed(1)} ms; publisher lag ${r.publisherMaxLagMs.toFixed(1)} ms`;
}

const range = (xs: readonly number[], digits: number): string => {
  const lo = Math.min(...xs).toFixed(digits);
  const hi = Math.max(...xs).toFixed(digits);
  return lo === hi ? lo : `${lo}–${hi}`;
};

/**
 * Per client count: each figure's range over the rounds, and the same-round ratio of OpenAlgo's
 * proxy CPU to Tickcast's (and to Tickcast + host): runs of one round ran back to back.
 */
function summary(results: readonly RunResult[]): string {
  const lines: string[] = ['', 'summary (ranges over rounds):'];
  for (const clients of [...new Set(results.map((r) => r.clients))]) {
    for (const system of ['openalgo', 'tickcast'] as const) {
      const rs = results.filter((r) => r.clients === clients && r.system === system);
      if (rs.length === 0) continue;
      const cpu = Object.keys(rs[0]?.cpu ?? {})
        .map(
          (k) =>
            `${k} ${range(
              rs.map((r) => r.cpu[k] as number),
              1,
            )}%`,
        )
        .join(', ');
      const main = system === 'openalgo' ? 'openalgo_proxy' : 'tickcast';
      const perFrame = rs
        .filter((r) => r.receivedInWindow)
        .map((r) => (((r.cpu[main] as number) / 100) * r.windowS * 1e6) / (r.receivedInWindow as number));
      lines.push(
        `  ${clients}c ${system}: ${cpu};${perFrame.length > 0 ? ` ${main} CPU per frame received ${range(perFrame, 1)} µs;` : ''} delivered ${range(
          rs.map((r) => (100 * r.delivered) / r.expected),
          2,
        )}%; p50 ${range(
          rs.map((r) => r.p50Ms),
          2,
        )} ms; p99 ${range(
          rs.map((r) => r.p99Ms),
          2,
        )} ms; machine ${range(
          rs.map((r) => r.machineBusyPct),
          0,
        )}%`,
      );
    }
    const ratios: number[] = [];
    const ratiosWithHost: number[] = [];
    for (const a of results.filter((r) => r.clients === clients && r.system === 'openalgo')) {
      const b = results.find((r) => r.clients === clients && r.system === 'tickcast' && r.round === a.round);
      if (!b) continue;
      const oa = a.cpu['openalgo_proxy'] as number;
      ratios.push(oa / (b.cpu['tickcast'] as number));
      ratiosWithHost.push(oa / ((b.cpu['tickcast'] as number) + (b.cpu['feed_host'] ?? 0)));
    }
    if (ratios.length > 0)
      lines.push(
        `  ${clients}c OpenAlgo proxy CPU / Tickcast CPU, same round: ${range(ratios, 1)}× (/ Tickcast + host: ${range(ratiosWithHost, 1)}×)`,
      );
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const summarize = process.argv.indexOf('--summarize');
  if (summarize >= 0) {
    // The summary of earlier runs' JSON files (--out), pooled: each round's pair stays a pair.
    const results = process.argv
      .slice(summarize + 1)
      .flatMap((file, i) =>
        (JSON.parse(readFileSync(file, 'utf8')) as { results: RunResult[] }).results.map((r) => ({ ...r, round: r.round + 100 * i })),
      );
    process.stdout.write(summary(results));
    return;
  }
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(opts.logDir, { recursive: true });
  const control = tickcastHasControl();
  const apiKey = randomBytes(32).toString('hex');
  execFileSync(
    opts.python,
    [join(SRC_HERE, 'openalgo_launcher.py'), 'seed', '--root', opts.openalgoRoot, '--api-key', apiKey, '--user', USER, '--broker', BROKER],
    {
      env: pythonEnv({}),
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 120_000,
    },
  );
  process.stdout.write(
    `key stored in OpenAlgo's DB; Tickcast ${control ? 'drives the feed host (--control)' : 'has no --control: --api-key, the runner drives the host'}\n`,
  );
  if (opts.check) {
    const checks: ManagerCheck[] = [];
    for (const system of ['openalgo', 'tickcast'] as const) {
      const c = await managerCheck(opts, system, apiKey, control);
      checks.push(c);
      process.stdout.write(`${JSON.stringify(c)}\n`);
    }
    if (opts.out) writeFileSync(opts.out, `${JSON.stringify({ date: new Date().toISOString(), control, checks }, null, 2)}\n`);
    return;
  }
  const results: RunResult[] = [];
  for (const clients of opts.clients) {
    for (let round = 1; round <= opts.rounds; round++) {
      for (const system of ['openalgo', 'tickcast'] as const) {
        const r = await runOne(opts, system, clients, round, apiKey, control);
        results.push(r);
        process.stdout.write(`${fmt(r)}\n`);
      }
    }
  }
  process.stdout.write(summary(results));
  const doc = { date: new Date().toISOString(), control, options: { ...opts, python: undefined }, results };
  if (opts.out) writeFileSync(opts.out, `${JSON.stringify(doc, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`openalgo bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
