import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, CliProcess } from './cliProcess';
import { freePort } from './feed';
import type { Scope } from './scope';

const REPO = join(__dirname, '..', '..');

/** A Python with pyzmq and argon2 (installed by scripts/ensure-pyhost.sh when missing), or why there is none. */
export const pyHost = ((): { python: string } | { error: string } => {
  try {
    const out = execFileSync('bash', [join(REPO, 'scripts', 'ensure-pyhost.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
    return { python: out.trim().split('\n').pop() ?? 'python3' };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { error: (e.stderr ?? '').trim() || e.message };
  }
})();

/** `describe` when the host can run (always in CI, where a missing Python fails the test); else `describe.skip`, saying why. */
export function describeWithPyHost(file: string): jest.Describe {
  if ('error' in pyHost && !process.env['CI']) process.stderr.write(`${file}: skipping: ${pyHost.error}\n`);
  return 'python' in pyHost || process.env['CI'] ? describe : describe.skip;
}

/** One call the stand-in adapter recorded (test/control/openalgo_stub). */
export interface AdapterCall {
  pid: number;
  call: string;
  user_id?: string;
  symbol?: string;
  exchange?: string;
  mode?: number;
}

/** A user in the stand-in's `api_keys` and `auth` tables. */
export interface StubUser {
  readonly userId: string;
  readonly apiKey: string;
  readonly broker: string;
}

/**
 * A stand-in OpenAlgo installation root (test/control/openalgo_stub copied to a temp dir) with its
 * `.env` (pepper, SQLite database, ZMQ_HOST/ZMQ_PORT where the adapters' PUBs connect) and the given
 * users' keys stored as OpenAlgo stores them; and the feed host run from it.
 */
export class OpenAlgoRoot {
  readonly root: string;
  readonly adapterLog: string;
  private readonly python: string;

  constructor(
    private readonly scope: Scope,
    zmqPort: number,
    users: readonly StubUser[],
  ) {
    this.python = 'python' in pyHost ? pyHost.python : 'python3';
    this.root = mkdtempSync(join(tmpdir(), 'tickcast-openalgo-'));
    scope.add({ close: () => rmSync(this.root, { recursive: true, force: true }) });
    cpSync(join(REPO, 'test', 'control', 'openalgo_stub'), this.root, { recursive: true });
    this.adapterLog = join(this.root, 'adapter.jsonl');
    const pepper = 'p'.repeat(64);
    const db = `sqlite:///${join(this.root, 'openalgo.db')}`;
    // The host must find these in the installation's .env, not in its environment.
    writeFileSync(
      join(this.root, '.env'),
      [`API_KEY_PEPPER='${pepper}'`, `DATABASE_URL=${db}`, 'ZMQ_HOST=127.0.0.1', `ZMQ_PORT=${zmqPort}`, ''].join('\n'),
    );
    const seed = users.map(
      (u) =>
        `a.upsert_api_key(${JSON.stringify(u.userId)}, ${JSON.stringify(u.apiKey)}); a.upsert_auth(${JSON.stringify(u.userId)}, 'token', ${JSON.stringify(u.broker)})`,
    );
    execFileSync(this.python, ['-c', ['import sys; sys.path.insert(0, ".")', 'from database import auth_db as a', ...seed].join('\n')], {
      cwd: this.root,
      env: { ...process.env, API_KEY_PEPPER: pepper, DATABASE_URL: db },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Starts contrib/openalgo/tickcast_host.py from the root, binding `endpoint`; killed when `scope` closes. */
  startHost(endpoint: string, scope: Scope = this.scope): ChildProcess {
    const env: NodeJS.ProcessEnv = { ...process.env, STUB_ADAPTER_LOG: this.adapterLog };
    delete env['API_KEY_PEPPER'];
    delete env['DATABASE_URL'];
    const child = spawn(this.python, [join(REPO, 'contrib', 'openalgo', 'tickcast_host.py'), '--control', endpoint], {
      cwd: this.root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    scope.add({
      close: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    });
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal === null) process.stderr.write(`tickcast_host exited ${code}: ${stderr}\n`);
    });
    return child;
  }

  /** Every call the adapters recorded so far, in order. */
  calls(): AdapterCall[] {
    return existsSync(this.adapterLog)
      ? readFileSync(this.adapterLog, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as AdapterCall)
      : [];
  }

  /** `[user, symbol, mode]` of every recorded `call` (subscribe, unsubscribe). */
  callsOf(call: string): Array<[string | undefined, string | undefined, number | undefined]> {
    return this.calls()
      .filter((c) => c.call === call)
      .map((c) => [c.user_id, c.symbol, c.mode]);
  }

  /** Forgets the recorded calls. */
  clearCalls(): void {
    if (existsSync(this.adapterLog)) rmSync(this.adapterLog);
  }
}

/** Sends `signal` to a process and resolves when it has exited. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

/** Tickcast run as `tickcast serve --control … --zmq-subscribe interest` beside the feed host on a stand-in OpenAlgo root. */
export interface OpenAlgoStack {
  readonly oa: OpenAlgoRoot;
  readonly tickcast: CliProcess;
  /** The running host; replace it with {@link OpenAlgoRoot.startHost} after stopping it. */
  host: ChildProcess;
  readonly controlEndpoint: string;
  readonly zmqEndpoint: string;
  readonly wsUrl: string;
  readonly httpUrl: string;
}

/**
 * Builds the CLI, makes a stand-in OpenAlgo root with `users`, starts its feed host and Tickcast
 * (WebSocket/HTTP, ZeroMQ and control ports free on 127.0.0.1; `--broker fakebroker`, the stand-in's),
 * all stopped when `scope` closes. Resolves once Tickcast listens (the host may not have answered yet).
 */
export async function startOpenAlgoStack(
  scope: Scope,
  users: readonly StubUser[],
  extraArgs: readonly string[] = [],
): Promise<OpenAlgoStack> {
  buildCli();
  const [zmqPort, controlPort, wsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const zmqEndpoint = `tcp://127.0.0.1:${zmqPort}`;
  const controlEndpoint = `tcp://127.0.0.1:${controlPort}`;
  const oa = new OpenAlgoRoot(scope, zmqPort, users);
  const host = oa.startHost(controlEndpoint);
  const tickcast = scope.add(
    new CliProcess([
      'serve',
      '--port',
      String(wsPort),
      '--zmq-bind',
      zmqEndpoint,
      '--zmq-subscribe',
      'interest',
      '--zmq-interest-grace-ms',
      '100',
      '--control',
      controlEndpoint,
      // Argon2 per stored key on a shared CPU: verify may take seconds; a down host fails at once anyway.
      '--control-timeout-ms',
      '20000',
      '--control-health-interval-ms',
      '100',
      '--broker',
      'fakebroker',
      '--stats-interval-s',
      '0',
      ...extraArgs,
    ]),
  );
  const listening = await tickcast.waitFor(/"wsUrl":"(ws:[^"]+)".*"httpUrl":"(http:[^"]+)"/, 15_000);
  return { oa, tickcast, host, controlEndpoint, zmqEndpoint, wsUrl: listening[1] as string, httpUrl: listening[2] as string };
}
