/**
 * The published entry points work as a user meets them: resolved by Node through the package's own
 * `exports` map (a package may import itself by name), and bundled for the browser by esbuild with
 * no Node built-in and no server-side dependency pulled in.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { build, type BuildResult, type Metafile } from 'esbuild';

// Each test spawns Node or esbuild; leave room for a loaded machine.
jest.setTimeout(30_000);

const ROOT = join(__dirname, '..');
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
/** `src/client/` is being written; its checks run once it exists. */
const CLIENT_EXISTS = existsSync(join(ROOT, CLIENT.barrel));

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

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

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
  if (CLIENT_EXISTS) ensureBuilt(CLIENT);
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
      `import { formatTopic } from 'tickcast/streams';` +
        `process.stdout.write(formatTopic({ exchange: 'NSE', symbol: 'TCS', mode: 2 }));`,
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
      errors: expect.arrayContaining([expect.objectContaining({ text: expect.stringMatching(/Could not resolve "(fs|path|module|net|os)"/) })]),
    });
  });
});

const clientIt = CLIENT_EXISTS ? it : it.skip;
const pending = CLIENT_EXISTS ? '' : ' (skipped: src/client/index.ts does not exist yet)';

describe('tickcast/client', () => {
  clientIt(`resolves in Node through the exports map and exposes what its barrel exports${pending}`, () => {
    const { resolved, kinds } = requireInNode(CLIENT.specifier);
    const declared = barrelExports(CLIENT);
    expect(resolved).toBe(join(ROOT, CLIENT.dist));
    expect(declared.length).toBeGreaterThan(0);
    expect(Object.keys(kinds)).toEqual(expect.arrayContaining(declared));
  });

  clientIt(`bundles for the browser with no Node built-in or server package${pending}`, async () => {
    const result = await bundleForBrowser(CLIENT.specifier);
    const inputs = inputsOf(result.metafile);
    expect(result.errors).toEqual([]);
    expect(inputs).toContain(CLIENT.dist);
    expect(inputs.filter((path) => path.startsWith('node:') || SERVER_ONLY.test(path))).toEqual([]);
    // The client may use the stream library, never the server side of src/.
    expect(inputs.filter((path) => /^dist\/src\//.test(path) && !path.startsWith('dist/src/client/'))).toEqual([]);
  });
});
