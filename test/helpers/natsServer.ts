import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TWO_SEGMENT_EXCHANGES } from '../../streams';
import { type Bridge, type BridgeConfig, type BridgeOptions, startBridge } from '../../src/nats/bridge';
import { NatsFeed, type NatsFeedOptions } from '../../src/nats/feed';
import { DEFAULT_STREAM, MD_PREFIX } from '../../src/nats/subject';
import { type Proxy, startProxy } from '../../src/server';
import { FeedPublisher } from './feed';
import { freePort } from './net';
import { ALICE, testConfig } from './proxy';
import { Scope, until } from './scope';
import { ofType, TestClient } from './wsClient';

const ENSURE_SCRIPT = join(__dirname, '..', '..', 'scripts', 'ensure-nats-server.sh');

let binary: { path: string } | { error: string } | undefined;

/** Servers still running, killed if the test process exits without closing them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * The nats-server binary, installed by `scripts/ensure-nats-server.sh` when missing (Debian package;
 * root). Returns an error message instead when it cannot be had. Run once per process.
 */
export function natsServerBinary(): { path: string } | { error: string } {
  if (binary) return binary;
  try {
    const out = execFileSync('bash', [ENSURE_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    const path = out.trim().split('\n').pop() ?? '';
    binary = path ? { path } : { error: 'ensure-nats-server.sh printed no path' };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    binary = { error: (e.stderr ?? '').trim() || e.message };
  }
  return binary;
}

/**
 * `describe` for suites that need nats-server: runs them when it is installed (or installable), and
 * otherwise skips them with a loud warning — except under CI (`CI` set), where a missing server
 * fails the suite: CI must really run these tests.
 */
export function describeWithNats(name: string, body: () => void): void {
  const found = natsServerBinary();
  if ('path' in found) {
    describe(name, body);
    return;
  }
  if (process.env['CI']) {
    describe(name, () => {
      it('has nats-server', () => {
        throw new Error(`nats-server is required on CI and could not be installed: ${found.error}`);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPING "${name}": nats-server is not installed and could not be installed ***\n*** ${found.error} ***\n`);
  describe.skip(name, body);
}

/** A nats-server with JetStream on free loopback ports, its store in a temporary directory. */
export class NatsServer {
  private child: ChildProcess | undefined;
  private output = '';
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'tickcast-nats-'));

  private constructor(
    private readonly bin: string,
    readonly port: number,
    readonly monitorPort: number,
  ) {}

  /** Starts a server; resolves once it answers its health check with JetStream up. */
  static async start(): Promise<NatsServer> {
    const found = natsServerBinary();
    if (!('path' in found)) throw new Error(`nats-server is not available: ${found.error}`);
    const server = new NatsServer(found.path, await freePort(), await freePort());
    await server.restart();
    return server;
  }

  /** `nats://127.0.0.1:PORT` */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** (Re)starts the server on the same ports and store: what a restarted nats-server looks like. */
  async restart(): Promise<void> {
    if (this.running) return;
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-m', String(this.monitorPort), '-js', '-sd', this.storeDir];
    const child = spawn(this.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    try {
      await until(async () => !this.running || (await this.healthy()), 'nats-server to become healthy', 10_000, 25);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.output}`);
    }
    if (!this.running) throw new Error(`nats-server exited at start (${args.join(' ')}):\n${this.output}`);
  }

  /** Kills the server at once (SIGKILL: no lame-duck, clients see the socket drop). */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** GETs a monitoring endpoint (`/connz?subs=1`, `/subsz?subs=1`, ...) as JSON. */
  monitor<T = Record<string, unknown>>(path: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port: this.monitorPort, path, timeout: 2000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body) as T);
          } catch (err) {
            reject(new Error(`monitor ${path} answered ${res.statusCode}: ${body.slice(0, 200)}`));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`monitor ${path} timed out`)));
      req.on('error', reject);
    });
  }

  /** Stops the server and removes its store. */
  async close(): Promise<void> {
    await this.signal('SIGTERM');
    rmSync(this.storeDir, { recursive: true, force: true });
  }

  private async healthy(): Promise<boolean> {
    try {
      const health = await this.monitor<{ status?: string }>('/healthz?js-enabled-only=true');
      return health.status === 'ok';
    } catch {
      return false;
    }
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const cut = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(cut);
  }
}

/** Subscriptions per client connection name, from the server's `/connz?subs=1`. */
export async function subscriptionsByConnection(server: NatsServer): Promise<Map<string, string[]>> {
  const connz = await server.monitor<{ connections?: { name?: string; subscriptions_list?: string[] }[] }>('/connz?subs=1&limit=1024');
  const out = new Map<string, string[]>();
  for (const c of connz.connections ?? []) out.set(c.name ?? '', [...(c.subscriptions_list ?? [])].sort());
  return out;
}

/** The bridge configuration tests start from: a free loopback ZeroMQ port, no throttle, quiet. */
export async function testBridgeConfig(natsUrl: string, overrides: Partial<BridgeConfig> = {}): Promise<BridgeConfig> {
  return {
    zmqBind: `tcp://127.0.0.1:${await freePort()}`,
    zmqConnect: [],
    zmqEngine: 'zmtp',
    zmqRcvHwm: 100_000,
    zmqReadIntervalMs: 0,
    nats: natsUrl,
    throttleMs: 0,
    twoSegmentExchanges: DEFAULT_TWO_SEGMENT_EXCHANGES,
    stream: DEFAULT_STREAM,
    storage: 'file',
    replicas: 1,
    logLevel: 'silent',
    statsIntervalS: 0,
    ...overrides,
  };
}

/** A bridge in this process with a broker-adapter publisher connected to it; `scope` closes both. */
export async function startTestBridge(
  scope: Scope,
  natsUrl: string,
  overrides: Partial<BridgeConfig> = {},
  options: Omit<BridgeOptions, 'config'> = {},
): Promise<{ bridge: Bridge; publisher: FeedPublisher }> {
  const bridge = scope.add(await startBridge({ config: await testBridgeConfig(natsUrl, overrides), ...options }));
  const publisher = scope.add(new FeedPublisher(bridge.zmqEndpoint));
  await publisher.sync(() => bridge.counters.received);
  return { bridge, publisher };
}

/** A proxy node fed from NATS, in this process. Its feed is the one `serve --nats` builds unless `feed` options are given. */
export async function startNode(scope: Scope, natsUrl: string, feed?: Omit<NatsFeedOptions, 'url'>): Promise<Proxy & { feed: NatsFeed }> {
  const config = await testConfig({ nats: natsUrl, throttleMs: 0 });
  const proxy = await startProxy({ config, feed: feed ? new NatsFeed({ url: natsUrl, ...feed }) : undefined });
  if (!(proxy.feed instanceof NatsFeed)) throw new Error(`expected a NATS feed, got ${proxy.feed.describe()}`);
  return scope.add(proxy) as Proxy & { feed: NatsFeed };
}

/** Opens a client to `proxy` and authenticates as {@link ALICE}. */
export async function loginTo(scope: Scope, proxy: Proxy): Promise<TestClient> {
  const client = scope.add(await TestClient.open(proxy.wsUrl));
  const reply = await client.request({ action: 'authenticate', api_key: ALICE.key });
  if (reply['status'] !== 'success') throw new Error(`authentication failed: ${JSON.stringify(reply)}`);
  return client;
}

/** Subscribes one (exchange, symbol) at `mode`; fails the test unless it succeeds. */
export async function subscribeTo(client: TestClient, exchange: string, symbol: string, mode: 1 | 2 | 3): Promise<void> {
  const reply = await client.request({ action: 'subscribe', exchange, symbol, mode }, ofType('subscribe'));
  if (reply['status'] !== 'success') throw new Error(`subscribe failed: ${JSON.stringify(reply)}`);
}

/** The market-data subjects a connection subscribes, per the server's `/connz?subs=1`. */
export async function mdSubjectsOf(server: NatsServer, connectionName: string): Promise<string[]> {
  return ((await subscriptionsByConnection(server)).get(connectionName) ?? []).filter((s) => s.startsWith(`${MD_PREFIX}.`));
}

/** What {@link useNatsSuite} sets up; its fields are there from `beforeAll` on. */
export interface NatsSuite {
  server: NatsServer;
  bridge: Bridge;
  publisher: FeedPublisher;
  /** Closed after every test: nodes and clients a test opens. */
  readonly each: Scope;
}

/**
 * Registers a suite's hooks: one nats-server and one bridge (with a publisher feeding it) for the
 * whole suite, and a scope closed after every test.
 */
export function useNatsSuite(bridgeOptions: Omit<BridgeOptions, 'config'> = {}): NatsSuite {
  const suite = new Scope();
  const env = { each: new Scope() } as NatsSuite;
  beforeAll(async () => {
    env.server = suite.add(await NatsServer.start());
    Object.assign(env, await startTestBridge(suite, env.server.url, {}, bridgeOptions));
  });
  afterEach(() => env.each.close());
  afterAll(() => suite.close());
  return env;
}
