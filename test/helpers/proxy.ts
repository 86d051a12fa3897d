import type { ClientOptions } from 'ws';
import { type ApiKey, defaultServeConfig, type ServeConfig } from '../../src/config';
import type { Logger } from '../../src/logger';
import { type Proxy, startProxy } from '../../src/server';
import { FeedPublisher } from './feed';
import { freePort } from './net';
import type { Scope } from './scope';
import { type Msg, TestClient } from './wsClient';

/** The broker label every test key and the proxy itself carry. */
export const BROKER = 'zerodha';

/** Two users, so order relays can be checked for leaks between them. */
export const ALICE: ApiKey = { key: 'alice-key-3f9a1c', userId: 'alice', broker: BROKER };
export const BOB: ApiKey = { key: 'bob-key-8d2e7b', userId: 'bob', broker: BROKER };

/** A `market_data` frame exactly as protocol.md shows it (`seq` counts the key's ticks, from 1). */
export function marketDataFrame(symbol: string, exchange: string, mode: number, data: unknown, seq: number): Msg {
  return { type: 'market_data', symbol, exchange, mode, seq, data, broker: BROKER };
}

/** The exchange of fence ticks: a symbol every fenced client holds at LTP. */
const FENCE_EXCHANGE = 'FENCE';

/** Options of {@link startEnv} that are not proxy configuration. */
export interface EnvOptions {
  /** Connect a publisher and wait until it reaches the proxy. Default true. */
  readonly feed?: boolean;
  /** The proxy's logger; silent by default. */
  readonly logger?: Logger;
}

/** A running proxy on free ports, with a publisher connected to its feed and client helpers. */
export interface Env {
  readonly proxy: Proxy;
  /** Undefined when started with `feed: false`. */
  readonly feed: FeedPublisher;
  /** The ZeroMQ endpoint the proxy binds. */
  readonly endpoint: string;
  /** Opens a WebSocket to `path` (default `/`), closed with `scope`. */
  connect(scope: Scope, path?: string, options?: ClientOptions): Promise<TestClient>;
  /** Opens a WebSocket and authenticates with `key`; fails the test if that does not succeed. */
  login(scope: Scope, key?: ApiKey): Promise<TestClient>;
  /** Publishes one feed message. */
  publish(topic: string, payload: unknown): Promise<void>;
  /** Subscribes `client` to the fence symbol, so {@link settle} can tell when the feed has passed. */
  fenced(client: TestClient): Promise<TestClient>;
  /**
   * Publishes a fence tick and waits until every client has received it: everything published
   * before it has then been delivered (one publisher, one ordered pipeline). Returns each client's
   * frames received since its last settle, fence frames left out.
   */
  settle(...clients: TestClient[]): Promise<Msg[][]>;
}

/** The configuration tests start from: loopback, free ports, both test keys, quiet. */
export async function testConfig(overrides: Partial<ServeConfig> = {}): Promise<ServeConfig> {
  const zmqPort = await freePort();
  return defaultServeConfig({
    apiKeys: [ALICE, BOB],
    broker: BROKER,
    host: '127.0.0.1',
    port: 0,
    zmqBind: `tcp://127.0.0.1:${zmqPort}`,
    statsIntervalS: 0,
    shutdownGraceMs: 200,
    logLevel: 'silent',
    ...overrides,
  });
}

let fenceCount = 0;

/** Starts a proxy (and a publisher feeding it) that `scope` closes. */
export async function startEnv(scope: Scope, overrides: Partial<ServeConfig> = {}, options: EnvOptions = {}): Promise<Env> {
  let proxy: Proxy | undefined;
  let config: ServeConfig | undefined;
  // The free ZeroMQ port can be taken between probing and binding; try another.
  for (let attempt = 0; proxy === undefined; attempt++) {
    config = await testConfig(overrides);
    try {
      proxy = await startProxy({ config, logger: options.logger });
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  const started = scope.add(proxy);
  const endpoint = (config as ServeConfig).zmqBind as string;
  let feed: FeedPublisher | undefined;
  if (options.feed !== false) {
    feed = scope.add(new FeedPublisher(endpoint));
    await feed.sync(() => started.stats.received);
  }
  const fenceSymbol = `F${++fenceCount}`;
  const fenceTopic = `${FENCE_EXCHANGE}_${fenceSymbol}_LTP`;
  const isFence = (m: Msg): boolean => m['type'] === 'market_data' && m['exchange'] === FENCE_EXCHANGE && m['symbol'] === fenceSymbol;
  let fenceId = 0;

  const env: Env = {
    proxy: started,
    feed: feed as FeedPublisher,
    endpoint,
    connect: async (s, path = '/', clientOptions) => s.add(await TestClient.open(`ws://127.0.0.1:${started.port}${path}`, clientOptions)),
    login: async (s, key = ALICE) => {
      const client = await env.connect(s);
      const reply = await client.request({ action: 'authenticate', api_key: key.key });
      if (reply['type'] !== 'auth' || reply['status'] !== 'success') {
        throw new Error(`authentication failed: ${JSON.stringify(reply)}`);
      }
      return client;
    },
    publish: (topic, payload) => {
      if (!feed) throw new Error('this env was started with feed: false');
      return feed.send(topic, payload);
    },
    fenced: async (client) => {
      const reply = await client.request(
        { action: 'subscribe', symbol: fenceSymbol, exchange: FENCE_EXCHANGE, mode: 1 },
        (m) => m['type'] === 'subscribe',
      );
      if (reply['status'] !== 'success') throw new Error(`fence subscription failed: ${JSON.stringify(reply)}`);
      // A snapshot of the last fence tick follows the reply; the pong after it says it has come.
      await client.request({ action: 'ping', _pingId: 'fence' }, (m) => m['type'] === 'pong' && m['_pingId'] === 'fence');
      client.discard(isFence);
      return client;
    },
    settle: async (...clients) => {
      const id = ++fenceId;
      await env.publish(fenceTopic, { ltp: id, fence: id });
      await Promise.all(clients.map((c) => c.next((m) => isFence(m) && m['data']?.['fence'] === id, 5000)));
      return clients.map((c) => c.drain().filter((m) => !isFence(m)));
    },
  };
  return env;
}
