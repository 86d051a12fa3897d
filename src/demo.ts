import { randomBytes } from 'node:crypto';
import type { CommandContext, Service } from './cli';
import { type ApiKey, buildServeConfig, collectApiKeys, ConfigError, type ServeConfig } from './config';
import { DEFAULT_ZMQ_BIND } from './ingest/zmq';
import { startProxy, type Proxy } from './server';
import { buildSimConfig, startSimulator } from './sim';
import { timed } from './statsLog';

/** Extra time shutdown may take: the simulator closes beside the proxy. */
const CLOSE_SLACK_MS = 500;

/** A fresh random API key: 32 hex characters. */
export function generateApiKey(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The endpoint a local publisher should connect to, from what the proxy's feed actually bound
 * (`tcp://127.0.0.1:*` resolves to a real port); a wildcard host becomes loopback.
 */
export function publisherEndpoint(proxy: Pick<Proxy, 'feed'>, config: Pick<ServeConfig, 'zmqBind'>): string {
  const bound = /(?:tcp|ipc|inproc):\/\/\S+/.exec(proxy.feed.describe())?.[0] ?? config.zmqBind ?? DEFAULT_ZMQ_BIND;
  return bound.replace(/^tcp:\/\/(\*|0\.0\.0\.0):/, 'tcp://127.0.0.1:');
}

/** The plain lines the demo prints: where to point a browser or a client, and the key to use. */
export function demoBanner(proxy: Pick<Proxy, 'httpUrl' | 'wsUrl'>, apiKey: string | undefined, feed: string): string {
  return [
    '',
    'Tickcast demo is running.',
    // The key rides in the fragment, which browsers never send to a server: the page reads it and
    // drops it from the address bar.
    `  Dashboard:     ${proxy.httpUrl}/${apiKey ? `#key=${apiKey}` : ''}`,
    `  WebSocket URL: ${proxy.wsUrl}`,
    `  API key:       ${apiKey ?? '(the key you configured with --api-key / --api-keys-file / TICKCAST_API_KEYS)'}`,
    `  Feed:          ${feed}`,
    'Subscribe to e.g. NSE:RELIANCE, NSE_INDEX:NIFTY or CRYPTO:BTC_INR. Ctrl+C stops.',
    '',
  ].join('\n');
}

/**
 * `tickcast demo`: the proxy and the simulator in one process. The simulator's PUB connects over
 * TCP loopback to the proxy's SUB, exactly as a broker adapter would. Without a configured key a
 * fresh random one is made for this run and printed (never logged).
 */
export async function startDemo(opts: Record<string, unknown>, ctx: CommandContext): Promise<Service> {
  if (opts['nats'] !== undefined) {
    throw new ConfigError('--nats is not for demo: the demo feeds its proxy from the simulator over ZeroMQ. Use it with tickcast serve.');
  }
  const keys: ApiKey[] = collectApiKeys(opts);
  const generated = keys.length === 0 ? generateApiKey() : undefined;
  if (generated) keys.push({ key: generated, userId: 'demo', broker: opts['broker'] as string });
  const built = buildServeConfig(opts, keys);
  // The simulator needs a SUB to connect to, even when the proxy also connects to publishers.
  const config: ServeConfig = built.zmqBind ? built : Object.freeze({ ...built, zmqBind: DEFAULT_ZMQ_BIND });
  const simConfig = buildSimConfig({ ...opts, 'zmq-connect': undefined });
  const logger = ctx.logger(config.logLevel);

  const proxy = await timed(logger, 'startup', () => startProxy({ config, logger }));
  const endpoint = publisherEndpoint(proxy, config);
  const sim = startSimulator(simConfig, logger.child({ component: 'sim' }), endpoint);
  const feed = `simulated, ${simConfig.symbols} instruments at ${simConfig.rate} ticks/s each${simConfig.burst ? ' with bursts' : ''} → ${endpoint} (seed ${simConfig.seed})`;

  ctx.io.stdout.write(demoBanner(proxy, generated, feed));
  logger.info(
    { event: 'listening', dashboardUrl: `${proxy.httpUrl}/`, wsUrl: proxy.wsUrl, feed: endpoint, seed: simConfig.seed },
    `tickcast demo on ${proxy.wsUrl}`,
  );
  return {
    logger,
    closeDeadlineMs: config.shutdownGraceMs + CLOSE_SLACK_MS,
    close: () =>
      timed(logger, 'shutdown', async () => {
        await Promise.all([sim.close(), proxy.close()]);
      }),
  };
}
