import type { Observable } from 'rxjs';
import type { RawTick } from '../streams';
import { TopicInterest } from './ingest/interest';
import { ZmqFeed } from './ingest/zmq';
import type { ServeConfig } from './config';
import { type Logger, ThrottledLog } from './logger';
import type { Stats } from './stats';

/**
 * Where the proxy's raw ticks come from. ZeroMQ by default; NATS when scaled out. Everything
 * downstream (throttle, normalise, hub, protocol, slow clients) is the same whatever the source.
 */
export interface FeedSource {
  /** Raw feed messages; hot. Subscribing starts the source, unsubscribing stops it. */
  readonly raw$: Observable<RawTick>;
  /** Resolves when the source is connected; rejects with a message saying what failed. */
  ready(): Promise<void>;
  /** True while the source is connected (for `/readyz`). */
  isUp(): boolean;
  /** Where it reads from, for logs and the startup banner. */
  describe(): string;
  /**
   * Why {@link isUp} is false, for `/readyz` (e.g. "no publisher connected to tcp://…"), when the
   * source can say.
   */
  whyNotUp?(): string | undefined;
  /**
   * Told whenever the lowest mode any client holds for a symbol changes; 0 when its last holder
   * left. A source that can filter (ZeroMQ with `--zmq-subscribe interest`, NATS) then carries only
   * what some client could receive; sources that carry everything ignore it.
   */
  interest?(exchange: string, symbol: string, lowestMode: 0 | 1 | 2 | 3): void;
  /** Told when the order-event topics of a user gain their first or lose their last subscriber. */
  orderInterest?(topics: readonly string[], interested: boolean): void;
}

/**
 * True when only this host can reach a ZeroMQ endpoint: `ipc://`, `inproc://`, or TCP on a
 * loopback address (`127.x.x.x`, `::1`, `localhost`). `tcp://*`, `tcp://0.0.0.0` and any interface
 * or other address are reachable from elsewhere, and the bus has no authentication.
 *
 * @example
 * isLoopbackEndpoint('tcp://127.0.0.1:5555'); // true
 * isLoopbackEndpoint('tcp://0.0.0.0:5555');   // false
 */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://')) return true;
  if (!endpoint.startsWith('tcp://')) return false;
  // The host with or without a port: `tcp://127.0.0.1` is refused later for its missing port, and
  // must not first be called reachable from other hosts.
  const rest = endpoint.slice('tcp://'.length);
  const host = rest.startsWith('[') ? rest.slice(0, rest.indexOf(']') + 1) : rest.replace(/:[^:]*$/, '');
  return /^127(\.\d{1,3}){3}$/.test(host) || host === 'localhost' || host === '[::1]' || host === '::1';
}

/**
 * The ZeroMQ feed as a {@link FeedSource}: a SUB that binds (default) or connects, subscribed to
 * every topic or (`--zmq-subscribe interest`) to what the hub says clients hold.
 */
export function zmqFeedSource(config: ServeConfig, stats: Stats, logger?: Logger): FeedSource {
  const log = logger ? new ThrottledLog(logger.child({ component: 'feed' })) : undefined;
  const feed = new ZmqFeed({
    bind: config.zmqBind,
    connect: config.zmqConnect,
    engine: config.zmqEngine,
    subscribe: config.zmqSubscribe,
    maxMessageBytes: config.zmqMaxMessageBytes,
    maxPublishers: config.zmqMaxPublishers,
    maxPartialBytes: config.zmqMaxPartialBytes,
    receiveHighWaterMark: config.zmqRcvHwm,
    readIntervalMs: config.zmqReadIntervalMs,
    onBadFrame: () => {
      stats.feedDropped.frames++;
    },
    onUnsubscribed: () => {
      stats.feedUnsubscribed++;
    },
    onReject: (reason, peer) => {
      stats.feedRejected[reason]++;
      log?.warn(`zmtp_${reason}`, { reason, peer }, `closed a ZeroMQ publisher connection: ${reason}`);
    },
    onPublishers: (count) => {
      stats.feedPublishers = count;
    },
    onDialError: (endpoint, err, retryInMs) => {
      const unresolved = err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EAI_NONAME';
      const retry = retryInMs === undefined ? '' : `; retrying in ${retryInMs} ms`;
      const host = /^tcp:\/\/(.*):[^:]*$/.exec(endpoint)?.[1] ?? endpoint;
      if (unresolved) {
        log?.warn(
          'zmq_unresolved',
          { endpoint, code: err.code },
          `--zmq-connect ${endpoint}: host ${host} does not resolve (${err.code ?? 'error'}); check the name${retry}`,
        );
      } else {
        log?.warn(
          'zmq_dial_failed',
          { endpoint, code: err.code },
          `no ZeroMQ publisher reachable at ${endpoint} (${err.code ?? err.message})${retry}`,
        );
      }
    },
  });
  stats.feedPartialBytes = () => feed.partialBytes;
  const interest = config.zmqSubscribe === 'interest' ? new TopicInterest(feed, config.zmqInterestGraceMs) : undefined;
  const where = (): string => feed.endpoint ?? config.zmqBind ?? config.zmqConnect.join(',');
  const up = (): boolean => feed.state$.value === 'up' && (!feed.connectOnly || (feed.publishers ?? 0) > 0);
  return {
    raw$: feed.raw$,
    ready: () => feed.ready(),
    isUp: up,
    whyNotUp: () => {
      if (up()) return undefined;
      if (feed.state$.value === 'up') return `no publisher connected to ${config.zmqConnect.join(', ')}`;
      return feed.error ? `ZeroMQ socket failed: ${feed.error.message}` : `ZeroMQ socket ${feed.state$.value}`;
    },
    describe: () => `zmq ${where()}${interest ? ' (interest subscriptions)' : ''}`,
    ...(interest
      ? {
          interest: (exchange: string, symbol: string, lowestMode: 0 | 1 | 2 | 3) => interest.symbol(exchange, symbol, lowestMode),
          orderInterest: (topics: readonly string[], interested: boolean) => interest.orders(topics, interested),
        }
      : {}),
  };
}
