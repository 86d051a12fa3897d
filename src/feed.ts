import type { Observable } from 'rxjs';
import type { RawTick } from '../streams';
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
  /** Told whenever the lowest mode any client holds for a symbol changes; 0 when its last holder left. */
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
  const host = /^tcp:\/\/(.*):[^:\]]*$/.exec(endpoint)?.[1];
  if (host === undefined) return false;
  return /^127(\.\d{1,3}){3}$/.test(host) || host === 'localhost' || host === '[::1]' || host === '::1';
}

/** The ZeroMQ feed as a {@link FeedSource}: a SUB that binds (default) or connects. */
export function zmqFeedSource(config: ServeConfig, stats: Stats, logger?: Logger): FeedSource {
  const log = logger ? new ThrottledLog(logger.child({ component: 'feed' })) : undefined;
  const feed = new ZmqFeed({
    bind: config.zmqBind,
    connect: config.zmqConnect,
    engine: config.zmqEngine,
    receiveHighWaterMark: config.zmqRcvHwm,
    readIntervalMs: config.zmqReadIntervalMs,
    onBadFrame: () => {
      stats.feedDropped.frames++;
    },
    onReject: (reason, peer) => {
      stats.feedRejected++;
      log?.warn(`zmtp_${reason}`, { reason, peer }, `closed a ZeroMQ publisher connection: ${reason}`);
    },
    onPublishers: (count) => {
      stats.feedPublishers = count;
    },
  });
  return {
    raw$: feed.raw$,
    ready: () => feed.ready(),
    isUp: () => feed.state$.value === 'up',
    describe: () => `zmq ${feed.endpoint ?? config.zmqBind ?? config.zmqConnect.join(',')}`,
  };
}
