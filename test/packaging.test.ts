/**
 * The published entry points work as a user meets them: resolved by Node through the package's own
 * `exports` map (a package may import itself by name), bundled for the browser by esbuild with no
 * Node built-in and no server-side dependency pulled in, and — from what `npm pack` makes — installed
 * into a fresh project, imported from ESM and CommonJS, typechecked, bundled and run as a bin.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { build, type BuildResult, type Metafile } from 'esbuild';
import { newestSource, ROOT } from './helpers/cliProcess';

// Each test spawns Node or esbuild; leave room for a loaded machine.
jest.setTimeout(30_000);

const TSC = require.resolve('typescript/bin/tsc');

interface Entry {
  /** What a user imports. */
  readonly specifier: string;
  /** The barrel it is built from. */
  readonly barrel: string;
  /** Where the exports map points. */
  readonly dist: string;
  /** Source folders the entry is built from: a build error there fails the test. */
  readonly sources: readonly string[];
}

const STREAMS: Entry = {
  specifier: 'tickcast/streams',
  barrel: 'streams/index.ts',
  dist: 'dist/streams/index.js',
  sources: ['streams'],
};
const CLIENT: Entry = {
  specifier: 'tickcast/client',
  barrel: 'src/client/index.ts',
  dist: 'dist/src/client/index.js',
  sources: ['streams', 'src/client'],
};

/** What streams/ documents, by kind (`typeof` at runtime). */
const STREAMS_API: Readonly<Record<string, string>> = {
  parseMode: 'function',
  modeLabel: 'function',
  isMode: 'function',
  InvalidModeError: 'function',
  parseTopic: 'function',
  topicParser: 'function',
  formatTopic: 'function',
  DEFAULT_TWO_SEGMENT_EXCHANGES: 'object',
  throttleLatest: 'function',
  throttleByKey: 'function',
  normalizeBook: 'function',
  normalizeSide: 'function',
  isSideSorted: 'function',
  levelPrice: 'function',
  DEFAULT_MAX_LEVELS: 'number',
  marketTicks: 'function',
  marketData: 'function',
};

/** Server-side packages no browser entry may pull in. */
const SERVER_ONLY = /(^|\/)node_modules\/(zeromq|ws|pino|pino-pretty|prom-client|@nats-io\/[^/]+)\//;

function isFresh(entry: Entry): boolean {
  const dist = join(ROOT, entry.dist);
  if (!existsSync(dist)) return false;
  const built = statSync(dist).mtimeMs;
  return entry.sources.every((dir) => newestSource(join(ROOT, dir)) <= built);
}

/**
 * Builds dist/ (`tsconfig.build.json`, as `npm run build` does) when the entry's output is missing
 * or older than its sources. Other parts of src/ may be mid-change and fail to type-check; tsc still
 * emits, so only errors in the entry's own sources fail the test.
 */
function ensureBuilt(entry: Entry): void {
  if (isFresh(entry)) return;
  const run = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  const ours = output.split('\n').filter((line) => entry.sources.some((dir) => line.startsWith(`${dir}/`)));
  if (ours.length > 0) throw new Error(`Building ${entry.specifier} failed:\n${ours.join('\n')}`);
  if (!isFresh(entry)) throw new Error(`The build did not produce a fresh ${entry.dist}:\n${output}`);
}

/** The value exports a barrel declares (`export { a, b as c } from ...`, not `export type`). */
function barrelExports(entry: Entry): string[] {
  const text = readFileSync(join(ROOT, entry.barrel), 'utf8');
  const names: string[] = [];
  for (const match of text.matchAll(/export\s+\{([^}]*)\}\s+from/g)) {
    for (const part of (match[1] as string).split(',')) {
      const name = part.trim();
      if (name === '' || name.startsWith('type ')) continue;
      names.push(name.split(/\s+as\s+/).pop() as string);
    }
  }
  return names;
}

/** Runs Node with `args` in a fresh process from the project root. */
function node(args: string[]): { status: number | null; out: string; err: string } {
  const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, out: run.stdout, err: run.stderr };
}

/** `require(specifier)` in Node: where it resolved and the `typeof` of every export. */
function requireInNode(specifier: string): { resolved: string; kinds: Record<string, string> } {
  const s = JSON.stringify(specifier);
  const run = node([
    '-e',
    `const m = require(${s});` +
      `process.stdout.write(JSON.stringify({ resolved: require.resolve(${s}),` +
      ` kinds: Object.fromEntries(Object.keys(m).map((k) => [k, typeof m[k]])) }));`,
  ]);
  if (run.status !== 0) throw new Error(`require(${s}) failed:\n${run.err}`);
  return JSON.parse(run.out);
}

function bundleForBrowser(specifier: string, format: 'esm' | 'iife' = 'esm'): Promise<BuildResult<{ metafile: true; write: false }>> {
  return build({
    stdin: { contents: `export * from '${specifier}';`, resolveDir: ROOT, sourcefile: 'entry.js' },
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format,
    globalName: format === 'iife' ? 'tickcast' : undefined,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
}

function inputsOf(metafile: Metafile): string[] {
  return Object.keys(metafile.inputs);
}

beforeAll(() => {
  ensureBuilt(STREAMS);
  ensureBuilt(CLIENT);
}, 240_000);

describe('tickcast/streams in Node', () => {
  it('resolves through the exports map to dist/streams and exposes the documented API', () => {
    const { resolved, kinds } = requireInNode(STREAMS.specifier);
    expect(resolved).toBe(join(ROOT, STREAMS.dist));
    expect(kinds).toEqual(expect.objectContaining(STREAMS_API));
    expect(Object.keys(kinds)).toEqual(expect.arrayContaining(barrelExports(STREAMS)));
  });

  it('works when loaded that way: CommonJS require and ESM named imports', () => {
    const cjs = node([
      '-e',
      `const { parseTopic, parseMode } = require('tickcast/streams');` +
        `process.stdout.write(JSON.stringify([parseTopic('NSE_INDEX_NIFTY_LTP'), parseMode(' Depth ')]));`,
    ]);
    expect(cjs.err).toBe('');
    expect(JSON.parse(cjs.out)).toEqual([{ exchange: 'NSE_INDEX', symbol: 'NIFTY', mode: 1 }, 3]);

    const esm = node([
      '--input-type=module',
      '-e',
      `import { formatTopic } from 'tickcast/streams';` + `process.stdout.write(formatTopic({ exchange: 'NSE', symbol: 'TCS', mode: 2 }));`,
    ]);
    expect(esm.err).toBe('');
    expect(esm.out).toBe('NSE_TCS_QUOTE');
  });

  it('refuses a deep import the exports map does not list', () => {
    const run = node(['-e', `require('tickcast/streams/mode')`]);
    expect(run.status).not.toBe(0);
    expect(run.err).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});

describe('tickcast/streams in the browser', () => {
  it('bundles with esbuild for platform browser from dist, with no Node built-in or server package', async () => {
    const result = await bundleForBrowser(STREAMS.specifier);
    const inputs = inputsOf(result.metafile);
    expect(result.errors).toEqual([]);
    expect(inputs).toContain(STREAMS.dist);
    expect(inputs.some((path) => path.includes('node_modules/rxjs/'))).toBe(true);
    expect(inputs.filter((path) => path.startsWith('node:') || SERVER_ONLY.test(path))).toEqual([]);
    expect(inputs.filter((path) => path.startsWith('dist/') && !path.startsWith('dist/streams/'))).toEqual([]);
  });

  it('runs as a script where there is no require, process or Buffer', async () => {
    const result = await bundleForBrowser(STREAMS.specifier, 'iife');
    const sandbox: { tickcast?: { parseTopic(topic: string): unknown } } = {};
    runInNewContext(`${result.outputFiles[0]!.text}; this.tickcast = tickcast;`, sandbox);
    expect(sandbox.tickcast!.parseTopic('CRYPTO_SOL_INR_LTP')).toEqual({ exchange: 'CRYPTO', symbol: 'SOL_INR', mode: 1 });
  });

  it('(control) the server entry does not bundle for the browser, so the check above can fail', async () => {
    await expect(bundleForBrowser('tickcast')).rejects.toMatchObject({
      errors: expect.arrayContaining([
        expect.objectContaining({ text: expect.stringMatching(/Could not resolve "(fs|path|module|net|os)"/) }),
      ]),
    });
  });
});

describe('tickcast/client', () => {
  it('resolves in Node through the exports map and exposes what its barrel exports', () => {
    const { resolved, kinds } = requireInNode(CLIENT.specifier);
    const declared = barrelExports(CLIENT);
    expect(resolved).toBe(join(ROOT, CLIENT.dist));
    expect(declared.length).toBeGreaterThan(0);
    expect(Object.keys(kinds)).toEqual(expect.arrayContaining(declared));
  });

  it('bundles for the browser with no Node built-in or server package', async () => {
    const result = await bundleForBrowser(CLIENT.specifier);
    const inputs = inputsOf(result.metafile);
    expect(result.errors).toEqual([]);
    expect(inputs).toContain(CLIENT.dist);
    expect(inputs.filter((path) => path.startsWith('node:') || SERVER_ONLY.test(path))).toEqual([]);
    // The client may use the stream library, never the server side of src/.
    expect(inputs.filter((path) => /^dist\/src\//.test(path) && !path.startsWith('dist/src/client/'))).toEqual([]);
  });
});

/**
 * What `npm pack` makes, installed into a fresh project as a user would (`npm install
 * ./tickcast-0.1.0.tgz`), without the network: the project's lockfile says which version of each
 * dependency the package gets, and a lockfile built from it lets `npm ci --offline` take every
 * tarball from npm's cache, where this checkout's own `npm ci` left them.
 */
describe('the packed package, installed in a fresh project', () => {
  const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
    bin: Record<string, string>;
  };
  let app = '';

  /** Runs a command in the app; fails the test with its output unless it exits 0. */
  function inApp(command: string, args: string[], input?: string): string {
    const run = spawnSync(command, args, {
      cwd: app,
      encoding: 'utf8',
      input,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${run.status}:\n${run.stdout}${run.stderr}`);
    return run.stdout;
  }

  /**
   * A lockfile for an app that depends on the tarball: the package, then every package it needs
   * at run time (this project's non-dev entries, and its peer rxjs with what rxjs needs), at the
   * versions and integrity hashes this project's lockfile pins.
   */
  function appLockfile(tarball: string): object {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
    const packages: Record<string, Record<string, unknown>> = {
      '': { name: 'app', version: '1.0.0', dependencies: { [pkg.name]: `file:${tarball}` } },
      [`node_modules/${pkg.name}`]: {
        version: pkg.version,
        resolved: `file:${tarball}`,
        dependencies: pkg.dependencies,
        peerDependencies: pkg.peerDependencies,
        bin: pkg.bin,
      },
    };
    const peers = new Set<string>();
    const addWithDeps = (name: string): void => {
      const path = `node_modules/${name}`;
      const entry = lock.packages[path];
      if (entry === undefined || peers.has(path)) return;
      peers.add(path);
      for (const dep of Object.keys((entry['dependencies'] as Record<string, string> | undefined) ?? {})) addWithDeps(dep);
    };
    for (const name of Object.keys(pkg.peerDependencies)) addWithDeps(name);
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '' || path.startsWith('node_modules/.')) continue;
      if (entry['dev'] !== true && entry['devOptional'] !== true) packages[path] = { ...entry };
      else if (peers.has(path)) packages[path] = { ...entry, dev: undefined, peer: true };
    }
    return { name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
  }

  beforeAll(() => {
    // Everything the package serves, including the dashboard page: what `npm pack` would build.
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'ensure-built.js')], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`);
    app = mkdtempSync(join(tmpdir(), 'tickcast-app-'));
    // --ignore-scripts: dist/ is built; `prepare` would build it again.
    const packed = spawnSync(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', app], { cwd: ROOT, encoding: 'utf8' });
    if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
    const tarball = (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename;
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: { [pkg.name]: `file:${tarball}` } }),
    );
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(appLockfile(tarball)));
    inApp(NPM, ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund']);
  }, 180_000);

  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('holds the built code, its types, the page and the docs, and no sources, tests or source maps', () => {
    const root = join(app, 'node_modules', pkg.name);
    const files = (readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[]).map((f) => f.split('\\').join('/'));
    for (const f of [
      'dist/src/cli.js',
      'dist/src/index.d.ts',
      'dist/src/client/index.d.ts',
      'dist/streams/index.d.ts',
      'dist/page/app.js',
      'dist/page/index.html',
      'README.md',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /\.map$|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(
      files.filter(
        (f) => /^(src|streams|test|bench|examples|scripts)\//.test(f) || f.startsWith('dist/test') || f.startsWith('dist/bench'),
      ),
    ).toEqual([]);
  });

  it('installs rxjs, its peer dependency, beside it', () => {
    const installed = (name: string): string | undefined => {
      const file = join(app, 'node_modules', name, 'package.json');
      return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : undefined;
    };
    expect(installed('rxjs')).toMatch(/^7\./);
    expect(pkg.dependencies['rxjs']).toBeUndefined();
  });

  it('imports every entry point from ESM', () => {
    const out = inApp(process.execPath, [
      '--input-type=module',
      '-e',
      `import * as root from 'tickcast'; import * as streams from 'tickcast/streams'; import * as client from 'tickcast/client';` +
        `const topic = streams.parseTopic('NSE_INDEX_NIFTY_DEPTH');` +
        `process.stdout.write(JSON.stringify({ topic, startProxy: typeof root.startProxy, defaultServeConfig: typeof root.defaultServeConfig,` +
        ` createTickcastClient: typeof client.createTickcastClient, parseMode: client.parseMode('quote') }));`,
    ]);
    expect(JSON.parse(out)).toEqual({
      topic: { exchange: 'NSE_INDEX', symbol: 'NIFTY', mode: 3 },
      startProxy: 'function',
      defaultServeConfig: 'function',
      createTickcastClient: 'function',
      parseMode: 2,
    });
  });

  it('requires every entry point from CommonJS', () => {
    const out = inApp(process.execPath, [
      '-e',
      `const root = require('tickcast'), streams = require('tickcast/streams'), client = require('tickcast/client');` +
        `process.stdout.write(JSON.stringify([typeof root.startProxy, streams.formatTopic({ exchange: 'NSE', symbol: 'TCS', mode: 1 }), typeof client.createTickcastClient]));`,
    ]);
    expect(JSON.parse(out)).toEqual(['function', 'NSE_TCS_LTP', 'function']);
  });

  it('says what to do where there is no global WebSocket', () => {
    const out = inApp(process.execPath, [
      '-e',
      `delete globalThis.WebSocket; const { createTickcastClient } = require('tickcast/client');` +
        `try { createTickcastClient({ url: 'ws://127.0.0.1:1', apiKey: 'k' }); process.stdout.write('no error'); } catch (e) { process.stdout.write(e.message); }`,
    ]);
    expect(out).toMatch(/^No WebSocket class: .*WebSocketCtor.*\bws\b/);
  });

  it('typechecks client and streams code against its types, from ESM and CommonJS', () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          types: [],
          strict: true,
          noEmit: true,
        },
      }),
    );
    const body = `
const client: TickcastClient = createTickcastClient({ url: 'ws://127.0.0.1:8765', apiKey: 'k' });
const price$ = client.ltp$('TCS', 'NSE');
const subscription = price$.subscribe((ltp: number) => ltp.toFixed(2));
subscription.unsubscribe();
const key: TopicKey | null = parseTopic('NSE_TCS_LTP');
export const mode: Mode | undefined = key?.mode;
// @ts-expect-error the types are real: url is a string
createTickcastClient({ url: 8765, apiKey: 'k' });
`;
    writeFileSync(
      join(app, 'esm.mts'),
      `import { createTickcastClient, type Mode, type TickcastClient } from 'tickcast/client';\nimport { parseTopic, type TopicKey } from 'tickcast/streams';\n${body}`,
    );
    writeFileSync(
      join(app, 'cjs.cts'),
      `import { createTickcastClient, type Mode, type TickcastClient } from 'tickcast/client';\nimport { parseTopic, type TopicKey } from 'tickcast/streams';\n${body}`,
    );
    inApp(process.execPath, [TSC, '-p', 'tsconfig.json']);
  });

  it('bundles client and streams for the browser and runs there', async () => {
    const result = await build({
      stdin: {
        contents: `export { createTickcastClient } from 'tickcast/client'; export { parseTopic } from 'tickcast/streams';`,
        resolveDir: app,
        sourcefile: 'app.js',
      },
      absWorkingDir: app,
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'tickcast',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = inputsOf(result.metafile);
    expect(inputs).toContain('node_modules/tickcast/dist/src/client/index.js');
    expect(inputs.filter((path) => path.startsWith('node:') || SERVER_ONLY.test(path))).toEqual([]);
    // What every browser has and a bare VM context does not.
    const sandbox: { TextDecoder: typeof TextDecoder; tickcast?: { parseTopic(topic: string): unknown; createTickcastClient: unknown } } = {
      TextDecoder,
    };
    runInNewContext(`${result.outputFiles[0]!.text}; this.tickcast = tickcast;`, sandbox);
    expect(sandbox.tickcast!.parseTopic('MCX_CRUDEOIL_QUOTE')).toEqual({ exchange: 'MCX', symbol: 'CRUDEOIL', mode: 2 });
    expect(typeof sandbox.tickcast!.createTickcastClient).toBe('function');
  });

  it('runs the tickcast bin: npx tickcast --help', () => {
    const out = inApp(NPM, ['exec', '--offline', '--', 'tickcast', '--help']);
    expect(out).toMatch(/^Usage: tickcast <command> \[options\]/);
    // The link npm made, run as a shell runs it (its #! line): the same file npx ran.
    expect(inApp(join(app, 'node_modules', '.bin', 'tickcast'), ['serve', '--help'])).toContain('  --zmq-bind ENDPOINT');
  });
});
