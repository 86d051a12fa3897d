import { hostname } from 'node:os';
import { filter, type Observable, type Subscription } from 'rxjs';
import { DEFAULT_MAX_KEYS, keyedThrottle, PayloadDecoder, type RawTick, TopicCache, type TopicKey } from '../../streams';
import { type ZmqEngine, ZmqFeed } from '../ingest/zmq';
import { type Logger, silentLogger, ThrottledLog } from '../logger';
import type { FeedDropReason } from '../stats';
import { connectNats, type LiveConnection } from './connection';
import { describeJetStreamError, ensureLastValueStream } from './lastValues';
import { encodeToken, keySubject, MD_PREFIX, ORDERS_PREFIX } from './subject';

/** Everything `tickcast bridge` runs with. Parsed once, validated, frozen. */
export interface BridgeConfig {
  readonly zmqBind: string | undefined;
  readonly zmqConnect: readonly string[];
  readonly zmqEngine: ZmqEngine;
  readonly zmqRcvHwm: number;
  readonly zmqReadIntervalMs: number;
  /** NATS server URL(s), comma-separated. */
  readonly nats: string;
  /** Per-key throttle before publishing; 0 publishes every tick. */
  readonly throttleMs: number;
  readonly twoSegmentExchanges: readonly string[];
  /** The last-value stream. */
  readonly stream: string;
  readonly storage: 'file' | 'memory';
  readonly replicas: number;
  /**
   * Most keys the bridge remembers in its topic cache, its throttle and the ticks it keeps while
   * NATS is down (`--max-keys`, as `serve` reads it). Default {@link DEFAULT_MAX_KEYS}.
   */
  readonly maxKeys?: number;
  readonly logLevel: string;
  readonly statsIntervalS: number;
}

/** Counters of a bridge: plain numbers, bumped with an add on the hot path. */
export interface BridgeCounters {
  /** Feed messages received, whatever they were. */
  received: number;
  /** Ticks published to NATS (after the throttle). */
  published: number;
  /** Order events published. */
  orders: number;
  /** Non-market-data topics that carry nothing for clients (cache, positions, margins). */
  ignored: number;
  /** Ticks kept back (latest per key) while NATS was unreachable, published on reconnect. */
  heldWhileDown: number;
  /** Feed messages dropped, by reason. */
  readonly dropped: Record<FeedDropReason, number>;
}

/** A running bridge. */
export interface Bridge {
  readonly counters: BridgeCounters;
  /** Where the ZeroMQ side reads from (the bound endpoint, `*` ports resolved). */
  readonly zmqEndpoint: string;
  /** True while NATS is connected (and nothing kept back waits to be published). */
  isUp(): boolean;
  close(): Promise<void>;
}

/** Options of {@link startBridge}. */
export interface BridgeOptions {
  readonly config: BridgeConfig;
  readonly logger?: Logger;
  /** The ZeroMQ feed; built from `config` when omitted. */
  readonly feed?: { readonly raw$: Observable<RawTick>; ready(): Promise<void>; readonly endpoint?: string };
  /** NATS connection name (`/connz`). Default `tickcast-bridge <host> <pid>`. */
  readonly name?: string;
  /** Reconnect backoff: first delay and cap, in ms. Defaults 250 and 5000. */
  readonly reconnectBaseMs?: number;
  readonly reconnectMaxMs?: number;
}

/** A market-data topic as the bridge routes it: its key and NATS subject, built once per topic. */
interface Route extends TopicKey {
  readonly key: string;
  readonly subject: string;
}

/**
 * `tickcast bridge`: reads the ZeroMQ feed exactly like the proxy (the same socket, and the proxy
 * pipeline's topic classifier, topic cache and payload checks), optionally throttles per key with
 * the proxy's own throttle (`keyedThrottle`: the semantics of `throttleByKey`), and publishes each tick's payload bytes untouched on
 * `tickcast.md.<exchange>.<symbol>.<mode>`. A JetStream stream keeps the last message of every subject, so a node that starts carrying a symbol can show
 * its price at once. Order events go to `tickcast.orders.<topic>`, never throttled.
 *
 * While NATS is unreachable, the latest tick of each key is kept (not every tick: a flood of stale
 * prices on reconnect helps no one) and published once the connection is back.
 */
export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const { config } = options;
  const logger = options.logger ?? silentLogger();
  const feedLog = new ThrottledLog(logger.child({ component: 'feed' }));
  const counters: BridgeCounters = {
    received: 0,
    published: 0,
    orders: 0,
    ignored: 0,
    heldWhileDown: 0,
    dropped: { frames: 0, topic: 0, encoding: 0, json: 0, not_object: 0, error: 0 },
  };
  const storeOptions = { stream: config.stream, storage: config.storage, replicas: config.replicas };

  /** Ticks kept back while NATS is down or the stream is being re-ensured: latest per subject. */
  const pending = new Map<string, Uint8Array | string>();
  let holding = false;
  let conn: LiveConnection | undefined;

  const publishKept = (): void => {
    if (!conn) return;
    for (const [subject, payload] of pending) {
      conn.nc.publish(subject, payload);
      counters.published++;
    }
    pending.clear();
  };
  const resume = async (): Promise<void> => {
    try {
      await ensureLastValueStream((conn as LiveConnection).nc, storeOptions);
    } catch (err) {
      logger.error(
        { event: 'nats_stream', err },
        `last-value stream not ready after reconnect: ${describeJetStreamError(err, config.stream)}`,
      );
    }
    if (conn?.isUp()) {
      holding = false;
      publishKept();
    }
  };

  conn = await connectNats({
    servers: config.nats,
    name: options.name ?? `tickcast-bridge ${hostname()} ${process.pid}`,
    reconnectBaseMs: options.reconnectBaseMs,
    reconnectMaxMs: options.reconnectMaxMs,
    logger: logger.child({ component: 'nats' }),
    onState: (up) => {
      holding = true;
      if (up) void resume();
    },
  });
  try {
    await ensureLastValueStream(conn.nc, storeOptions);
  } catch (err) {
    await conn.close();
    throw new Error(`Could not set up the last-value stream ${config.stream}: ${describeJetStreamError(err, config.stream)}.`);
  }
  const nc = conn.nc;

  const maxKeys = config.maxKeys ?? DEFAULT_MAX_KEYS;
  // The proxy pipeline's own topic cache and payload checks: the bridge forwards exactly what a
  // proxy reading the same feed would accept. Bounded like the proxy's.
  const routes = new TopicCache<Route>((key, canonical) => ({ ...key, key: canonical, subject: keySubject(key, MD_PREFIX) }), {
    twoSegmentExchanges: config.twoSegmentExchanges,
    maxTopics: maxKeys,
  });
  const payloads = new PayloadDecoder();
  /** The route of a market-data message, or null after handling (or counting) anything else. */
  const route = (raw: RawTick): Route | null => {
    counters.received++;
    const topic = raw.topic;
    const entry = routes.get(topic);
    if (typeof entry === 'object') return entry;
    if (entry === 'order') {
      nc.publish(`${ORDERS_PREFIX}.${encodeToken(topic)}`, raw.payload);
      counters.orders++;
    } else if (entry === 'ignored') {
      counters.ignored++;
    } else {
      counters.dropped.topic++;
      feedLog.warn('feed_topic', { reason: 'topic', topic: String(topic).slice(0, 120) }, 'dropped a feed message: topic');
    }
    return null;
  };
  /** The subject of a message `route` accepted (its topic may have left the cache meanwhile). */
  const subjectOf = (topic: string): string => (routes.get(topic) as Route).subject;

  const feed =
    options.feed ??
    new ZmqFeed({
      bind: config.zmqBind,
      connect: config.zmqConnect,
      engine: config.zmqEngine,
      receiveHighWaterMark: config.zmqRcvHwm,
      readIntervalMs: config.zmqReadIntervalMs,
      onBadFrame: () => {
        counters.received++;
        counters.dropped.frames++;
      },
      onReject: (reason, peer) => {
        feedLog.warn(`zmtp_${reason}`, { reason, peer }, `closed a ZeroMQ publisher connection: ${reason}`);
      },
    });

  const pipeline: Subscription = feed.raw$
    .pipe(
      filter((raw) => route(raw) !== null),
      keyedThrottle((raw: RawTick) => subjectOf(raw.topic), config.throttleMs, { maxKeys }),
    )
    .subscribe({
      next: (raw) => {
        const problem = payloads.decode(raw.payload);
        if (typeof problem === 'string') {
          counters.dropped[problem]++;
          feedLog.warn(`feed_${problem}`, { reason: problem, topic: raw.topic.slice(0, 120) }, `dropped a feed message: ${problem}`);
          return;
        }
        const subject = subjectOf(raw.topic);
        if (holding || !conn?.isUp()) {
          holding = true;
          // Latest per subject, at most maxKeys subjects: past it the oldest kept goes.
          if (!pending.delete(subject) && pending.size >= maxKeys) pending.delete(pending.keys().next().value as string);
          pending.set(subject, raw.payload);
          counters.heldWhileDown++;
          return;
        }
        nc.publish(subject, raw.payload);
        counters.published++;
      },
      error: (err: unknown) => logger.error({ err }, 'ZeroMQ feed failed; the bridge publishes nothing until restart'),
    });

  try {
    await feed.ready();
  } catch (err) {
    pipeline.unsubscribe();
    await conn.close();
    throw err;
  }
  const zmqEndpoint = feed.endpoint ?? config.zmqBind ?? config.zmqConnect.join(',');
  logger.info(
    { event: 'bridge_up', zmq: zmqEndpoint, nats: config.nats, stream: config.stream, throttleMs: config.throttleMs },
    `bridge: ZeroMQ ${zmqEndpoint} → NATS ${config.nats} (${MD_PREFIX}.>, last values in stream ${config.stream})`,
  );

  let statsTimer: NodeJS.Timeout | undefined;
  if (config.statsIntervalS > 0) {
    statsTimer = setInterval(
      () => logger.info({ event: 'bridge_stats', ...counters, up: conn?.isUp() ?? false }, 'bridge stats'),
      config.statsIntervalS * 1000,
    );
    statsTimer.unref();
  }

  let closing: Promise<void> | undefined;
  return {
    counters,
    zmqEndpoint,
    isUp: () => !holding && (conn?.isUp() ?? false),
    close() {
      closing ??= (async () => {
        clearInterval(statsTimer);
        pipeline.unsubscribe();
        await conn?.nc.flush().catch(() => undefined);
        await conn?.close();
      })();
      return closing;
    },
  };
}
