import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Subscription } from 'rxjs';
import { type InvalidReason, marketTicks, type RawTick } from '../streams';
import type { ServeConfig } from './config';
import { ControlClient, controlHooks } from './control';
import { mountDashboard } from './dashboard';
import { type FeedSource, isLoopbackEndpoint, zmqFeedSource } from './feed';
import { createGateway } from './gateway';
import type { AdapterStatus, Gateway, Identity, UserAdapterStatus } from './gateway/types';
import { HttpRoutes, text } from './http';
import { Hub } from './hub';
import { type Logger, silentLogger, ThrottledLog } from './logger';
import { ProxyMetrics } from './metrics';
import { Stats } from './stats';
import { startStatsLog } from './statsLog';

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  readonly config: ServeConfig;
  readonly logger?: Logger;
  /** The feed; ZeroMQ per `config` when omitted. */
  readonly feed?: FeedSource;
}

/** A running proxy. */
export interface Proxy {
  readonly config: ServeConfig;
  readonly port: number;
  /** `ws://host:port/` */
  readonly wsUrl: string;
  /** `http://host:port` */
  readonly httpUrl: string;
  readonly feed: FeedSource;
  readonly hub: Hub;
  readonly stats: Stats;
  readonly gateway: Gateway;
  readonly server: Server;
  readonly routes: HttpRoutes;
  readonly logger: Logger;
  /** Prometheus metrics, served at `GET /metrics`. */
  readonly metrics: ProxyMetrics;
  /** The feed's health as `broker_info` reports it (without a feed host; with one, per user). */
  adapterStatus(): AdapterStatus;
  /** The control channel to the feed host (`--control`), if any. */
  readonly control: ControlClient | undefined;
  /** True from the start of {@link close}: `/readyz` answers 503. */
  readonly draining: boolean;
  /** Drains and stops: readiness off, no new connections, open clients cut so they reconnect, feed closed. */
  close(): Promise<void>;
}

/**
 * The broker label `market_data` frames carry. Frames are encoded once for every client, so the
 * label is the feed's: the keys' broker when every key names the same one, else `--broker`. With a
 * feed host (`--control`) the users' brokers are known only as they authenticate, so the label is
 * `--broker`, which an installation of one broker (OpenAlgo's case) sets to that broker.
 */
export function feedBroker(config: ServeConfig): string {
  if (config.control !== undefined) return config.broker;
  const brokers = new Set(config.apiKeys.map((k) => k.broker));
  return brokers.size === 1 ? (brokers.values().next().value as string) : config.broker;
}

/**
 * Starts the proxy: feed → per-key throttle → normalise → hub → WebSocket gateway, with health
 * routes on the same port. Resolves once the feed is up and the port is listening.
 */
export async function startProxy(options: ProxyOptions): Promise<Proxy> {
  const { config } = options;
  const logger = options.logger ?? silentLogger();
  const stats = new Stats();
  const feed: FeedSource =
    options.feed ?? (config.nats ? (await import('./nats/feed')).natsFeedSource(config, logger) : zmqFeedSource(config, stats, logger));
  if (!options.feed && !config.nats && config.zmqBind !== undefined && !isLoopbackEndpoint(config.zmqBind)) {
    logger.warn(
      { event: 'zmq_bind_exposed', endpoint: config.zmqBind },
      `The ZeroMQ feed binds ${config.zmqBind}, reachable from other hosts, and the bus is unauthenticated: anyone who can ` +
        'connect can publish ticks and order events. Bind tcp://127.0.0.1 unless publishers run elsewhere, and then firewall the port.',
    );
  }
  const hub = new Hub({
    broker: feedBroker(config),
    booksAsDepth: config.booksAsDepth,
    omitBooksBelowDepth: config.omitBooksBelowDepth,
    onInterest: feed.interest?.bind(feed),
    maxKeys: config.maxKeys,
    keyIdleMs: config.keyIdleS * 1000,
    onEncodeError: (err, tick) => {
      stats.feedDropped.error++;
      feedLog.warn('encode_error', { err, key: tick.key }, 'a tick could not be encoded for some clients (payload nested too deep)');
    },
  });

  // Feed staleness is sampled, not stamped per tick: the hot path does no clock reads.
  let seenTicks = 0;
  const staleMs = config.staleAfterS * 1000;
  const staleTimer = setInterval(
    () => {
      const n = stats.received;
      if (n !== seenTicks) {
        seenTicks = n;
        stats.lastFeedAt = Date.now();
      }
    },
    Math.max(10, Math.min(1000, staleMs / 4)),
  );
  staleTimer.unref();
  // The hub's clock for key idleness: a key is forgotten at most a sweep period past --key-idle-s.
  const sweepTimer = setInterval(() => hub.sweep(), Math.max(1000, Math.min(60_000, (config.keyIdleS * 1000) / 8)));
  sweepTimer.unref();
  const adapterStatus = (): AdapterStatus => {
    if (stats.lastFeedAt === 0) return stats.received > 0 ? 'connected' : 'disconnected';
    return Date.now() - stats.lastFeedAt > staleMs ? 'stale' : 'connected';
  };

  // The feed host (docs/control.md): verifies keys, hears subscriptions, reports adapters.
  const control =
    config.control === undefined
      ? undefined
      : new ControlClient({
          endpoint: config.control,
          timeoutMs: config.controlTimeoutMs,
          healthIntervalMs: config.controlHealthIntervalMs,
          logger,
        });
  const hooks =
    control &&
    controlHooks(control, {
      localKeys: config.apiKeys,
      frameBroker: feedBroker(config),
      subscribeTopics: feed.orderInterest ? (topics) => feed.orderInterest?.(topics, true) : undefined,
      logger: logger.child({ component: 'control' }),
    });
  const userAdapterStatus = hooks ? (user: Identity): UserAdapterStatus => hooks.adapterStatus(user, adapterStatus()) : adapterStatus;

  const routes = new HttpRoutes();
  const server = createServer(routes.handle);
  const gateway = createGateway({
    server,
    config,
    hub,
    logger: logger.child({ component: 'gateway' }),
    stats,
    adapterStatus: userAdapterStatus,
    verifier: hooks?.verifier,
    upstream: hooks?.upstream,
    onOrderInterest: feed.orderInterest?.bind(feed),
  });

  const feedLog = new ThrottledLog(logger.child({ component: 'feed' }));
  const onInvalid = (reason: InvalidReason, raw: RawTick): void => {
    if (reason === 'topic') stats.received++;
    stats.feedDropped[reason]++;
    feedLog.warn(`feed_${reason}`, { reason, topic: String(raw?.topic).slice(0, 120) }, `dropped a feed message: ${reason}`);
  };

  const pipeline: Subscription = feed.raw$
    .pipe(
      marketTicks({
        throttleMs: config.throttleMs,
        maxLevels: config.maxDepth,
        twoSegmentExchanges: config.twoSegmentExchanges,
        maxKeys: config.maxKeys,
        onInvalid,
        onOrder: (topic, payload) => {
          stats.received++;
          stats.ordersRelayed++;
          gateway.relayOrder(topic, payload as Buffer | string);
        },
        onIgnored: hooks
          ? (raw) => {
              stats.received++;
              stats.ticksIn[0]!++;
              hooks.onIgnored(raw.topic, raw.payload);
            }
          : () => {
              stats.received++;
              stats.ticksIn[0]!++;
            },
        onParsed: (key) => {
          stats.received++;
          stats.ticksIn[key.mode]!++;
        },
      }),
    )
    .subscribe({
      next: (tick) => {
        stats.ticksOut++;
        try {
          hub.publish(tick);
        } catch (err) {
          // Never let one tick take the feed (or, via RxJS's rethrow, the process) down.
          stats.feedDropped.error++;
          feedLog.warn('publish_error', { err, key: tick.key }, 'failed to deliver a tick');
        }
      },
      error: (err: unknown) => logger.error({ err }, 'feed failed; no ticks will arrive until restart'),
    });

  let draining = false;
  routes.set('/healthz', (_req, res) => text(res, 200, 'ok\n'));
  routes.set('/readyz', (_req, res) => {
    const feedUp = feed.isUp() && server.listening;
    const hostUp = !control || control.status === 'up';
    if (!draining && feedUp && hostUp) return text(res, 200, 'ready\n');
    if (draining) return text(res, 503, 'draining\n');
    if (!feedUp) {
      const why = feed.whyNotUp?.();
      return text(res, 503, why ? `feed not up: ${why}\n` : 'feed not up\n');
    }
    text(res, 503, `feed host not connected (${control?.status === 'down' ? 'not answering' : 'no answer yet'} at ${config.control})\n`);
  });
  const metrics = new ProxyMetrics({
    stats,
    hubStats: () => hub.stats(),
    keyLifecycle: () => ({ maxKeys: hub.keyLimit, evicted: hub.evictions() }),
    clientCount: () => gateway.clientCount(),
    adapterStatus,
    feedUp: () => feed.isUp(),
    draining: () => draining,
    control: hooks?.metrics,
  });
  routes.set('/metrics', metrics.route);
  if (config.dashboard) mountDashboard(routes);

  try {
    await feed.ready();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    control?.close();
    pipeline.unsubscribe();
    clearInterval(staleTimer);
    clearInterval(sweepTimer);
    server.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const stopStatsLog = startStatsLog(
    { stats, hubStats: () => hub.stats(), clientCount: () => gateway.clientCount() },
    logger.child({ component: 'stats' }),
    config.statsIntervalS,
  );
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  const proxy: Proxy = {
    config,
    port,
    wsUrl: `ws://${host}:${port}/`,
    httpUrl: `http://${host}:${port}`,
    feed,
    hub,
    stats,
    gateway,
    server,
    routes,
    logger,
    metrics,
    adapterStatus,
    control,
    get draining() {
      return draining;
    },
    close() {
      closing ??= (async () => {
        draining = true;
        stopStatsLog();
        gateway.stopAccepting();
        await gateway.close(config.shutdownGraceMs);
        // After the gateway: the connections' last unsubscribes are out; give the host a moment to take them.
        if (control) {
          await control.settle(Math.min(1000, config.shutdownGraceMs));
          control.close();
        }
        pipeline.unsubscribe();
        clearInterval(staleTimer);
        clearInterval(sweepTimer);
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
  return proxy;
}
