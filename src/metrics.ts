import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AdapterStatus } from './gateway/types';
import type { Route } from './http';
import type { Stats } from './stats';

/** What `/metrics` reads, at scrape time only. */
export interface MetricsSources {
  readonly stats: Stats;
  /** Index sizes (see `Hub.stats`). */
  readonly hubStats: () => { subscriptions: number; keys: number; heldSymbols: number };
  /** The bound on keys kept and the keys forgotten so far, by why (see `Hub.evictions`). */
  readonly keyLifecycle: () => { readonly maxKeys: number; readonly evicted: Readonly<Record<'idle' | 'cap', number>> };
  /** Open WebSocket connections. */
  readonly clientCount: () => number;
  readonly adapterStatus: () => AdapterStatus;
  /** True while the feed socket is up. */
  readonly feedUp: () => boolean;
  /** True while the proxy drains on shutdown. */
  readonly draining: () => boolean;
  /** The control channel's figures, when `--control` names a feed host; its metrics are absent otherwise. */
  readonly control?: () => ControlMetrics;
}

/** What `/metrics` shows of the control channel to a feed host (docs/control.md). */
export interface ControlMetrics {
  /** Requests sent to the host (verify, subscribe, unsubscribe, health, hello, invalidate). */
  readonly requests: number;
  /** Requests the host did not answer: not connected, or past --control-timeout-ms. */
  readonly failures: number;
  /** Replies dropped: malformed, or to a request already given up. */
  readonly dropped: number;
  /** Times every live interest was re-sent because the host restarted or came back. */
  readonly resends: number;
  /** (user, broker, exchange, symbol, mode) held at the host now. */
  readonly heldKeys: number;
  /** Whether the host answers. */
  readonly state: 'unknown' | 'up' | 'down';
  /** CACHE_INVALIDATE_* messages from the feed passed on to the host. */
  readonly invalidations: number;
  /** CACHE_INVALIDATE_* messages dropped because their payload named no user. */
  readonly invalidationsMalformed: number;
}

const HOST_STATES = ['unknown', 'up', 'down'] as const;

/** Options of {@link ProxyMetrics}. */
export interface MetricsOptions {
  /** Append the process metrics (CPU, memory, GC, handles, event-loop delay). Default true. */
  readonly defaultMetrics?: boolean;
}

const MODES = [
  [1, 'ltp'],
  [2, 'quote'],
  [3, 'depth'],
] as const;
const ADAPTER_STATUSES: readonly AdapterStatus[] = ['connected', 'stale', 'disconnected'];

/**
 * Ticks the throttle held back: ticks in − ticks out − ticks that failed to decode after the
 * throttle. A tick waiting for its window to close counts until it goes out, so the raw difference
 * can dip; `previous` keeps the figure monotonic, as a counter must be.
 */
export function throttledTicks(stats: Stats, previous = 0): number {
  const f = stats.feedDropped;
  const lost = f.encoding + f.json + f.not_object + f.error;
  return Math.max(previous, stats.totalTicksIn() - stats.ticksOut - lost);
}

/** camelCase counter names → snake_case label values (`authTimeout` → `auth_timeout`). */
function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

let processMetrics: Registry | undefined;

/**
 * Process metrics (CPU, memory, GC, handles, event-loop delay as `nodejs_eventloop_lag_*` from
 * `monitorEventLoopDelay`) on a registry of this module's own, made once per process: they describe
 * the process, not a proxy, and collecting them per proxy would start a sampler per proxy.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/**
 * The proxy's Prometheus metrics on a registry of its own (several proxies in one process do not
 * clash; process metrics are shared, see {@link processRegistry}). Every value is read from the plain {@link Stats} counters and the index sizes when
 * Prometheus scrapes: nothing on the hot path touches prom-client. Label values come from fixed
 * sets in code (modes, drop reasons, disconnect reasons), never from clients or the feed.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  private throttled = 0;
  private readonly withProcess: boolean;

  constructor(sources: MetricsSources, options: MetricsOptions = {}) {
    const { stats } = sources;
    const registers = [this.registry];
    const self = this;

    /** A counter mirroring a plain number (or one per label value). */
    const mirror = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };

    new Counter({
      name: 'tickcast_ticks_received_total',
      help: 'Market-data messages received from the feed, by topic mode',
      labelNames: ['mode'],
      registers,
      collect() {
        this.reset();
        for (const [m, mode] of MODES) this.inc({ mode }, stats.ticksIn[m] ?? 0);
      },
    });
    mirror('tickcast_feed_messages_total', 'Feed messages received, whatever they were', () => stats.received);
    mirror('tickcast_ticks_delivered_total', 'Ticks that left the throttle for the hub', () => stats.ticksOut);
    mirror('tickcast_ticks_throttled_total', 'Ticks the per-key throttle replaced with a newer one', () => {
      self.throttled = throttledTicks(stats, self.throttled);
      return self.throttled;
    });
    new Counter({
      name: 'tickcast_feed_malformed_total',
      help: 'Feed messages dropped as malformed, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(stats.feedDropped)) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'tickcast_feed_connections_rejected_total',
      help: 'Publisher connections the zmtp engine closed, by reason: a protocol error (bad greeting, mechanism, socket type, frame), a frame over --zmq-max-message-bytes (oversized), one past --zmq-max-publishers, or the most partial bytes past --zmq-max-partial-bytes',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(stats.feedRejected)) this.inc({ reason }, n);
      },
    });
    mirror(
      'tickcast_feed_unsubscribed_total',
      'Feed messages dropped because their topic is not exactly a subscribed one (--zmq-subscribe interest; ZeroMQ matches prefixes)',
      () => stats.feedUnsubscribed,
    );
    mirror('tickcast_orders_relayed_total', 'Order events received for relay to their user', () => stats.ordersRelayed);
    mirror('tickcast_frames_sent_total', 'WebSocket frames handed to client sockets', () => stats.framesSent);
    mirror('tickcast_bytes_sent_total', 'Bytes handed to client sockets', () => stats.bytesSent);
    mirror(
      'tickcast_slow_client_conflations_total',
      'Frames replaced by a newer one for the same key while their client was slow',
      () => stats.conflated,
    );
    new Counter({
      name: 'tickcast_disconnects_total',
      help: 'Connections closed by the proxy, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(stats.disconnects)) this.inc({ reason: snake(reason) }, n);
      },
    });
    mirror('tickcast_connections_total', 'WebSocket connections accepted', () => stats.connectionsTotal);
    mirror('tickcast_auth_failures_total', 'Failed authentication attempts', () => stats.authFailures);
    mirror('tickcast_rate_limited_total', 'Control messages answered RATE_LIMITED', () => stats.rateLimited);

    gauge('tickcast_clients', 'WebSocket connections open now', sources.clientCount);
    gauge('tickcast_subscriptions', '(symbol, mode) subscriptions held by clients now', () => sources.hubStats().subscriptions);
    gauge('tickcast_symbols_held', 'Symbols at least one client holds now', () => sources.hubStats().heldSymbols);
    gauge('tickcast_keys', 'Topic keys (exchange, symbol, mode) kept with their last tick for snapshots', () => sources.hubStats().keys);
    gauge(
      'tickcast_keys_max',
      'Most keys kept (--max-keys); past it unheld keys are forgotten, least recently ticked first',
      () => sources.keyLifecycle().maxKeys,
    );
    new Counter({
      name: 'tickcast_key_evictions_total',
      help: 'Keys no client held that were forgotten with their last tick, by reason (idle: --key-idle-s; cap: --max-keys)',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(sources.keyLifecycle().evicted)) this.inc({ reason }, n);
      },
    });
    gauge('tickcast_feed_up', '1 while the feed socket is up', () => (sources.feedUp() ? 1 : 0));
    gauge(
      'tickcast_feed_partial_bytes',
      'Bytes held in unfinished feed messages over all publisher connections (zmtp engine; capped by --zmq-max-partial-bytes)',
      () => stats.feedPartialBytes(),
    );
    gauge('tickcast_feed_publishers', 'ZeroMQ publishers connected now, with the handshake done', () => stats.feedPublishers);
    gauge('tickcast_feed_stale', '1 when the feed has been silent longer than --stale-after-s', () =>
      sources.adapterStatus() === 'stale' ? 1 : 0,
    );
    gauge('tickcast_draining', '1 while the proxy drains on shutdown', () => (sources.draining() ? 1 : 0));
    new Gauge({
      name: 'tickcast_adapter_status',
      help: 'Feed health as broker_info reports it: 1 for the current status, 0 for the others',
      labelNames: ['status'],
      registers,
      collect() {
        const now = sources.adapterStatus();
        for (const status of ADAPTER_STATUSES) this.set({ status }, status === now ? 1 : 0);
      },
    });

    const control = sources.control;
    if (control) {
      mirror(
        'tickcast_control_requests_total',
        'Requests sent to the feed host over the control channel (--control)',
        () => control().requests,
      );
      mirror(
        'tickcast_control_failures_total',
        'Control requests the feed host did not answer: not connected, or past --control-timeout-ms',
        () => control().failures,
      );
      mirror(
        'tickcast_control_replies_dropped_total',
        'Control replies dropped: malformed, or to a request already given up',
        () => control().dropped,
      );
      mirror(
        'tickcast_control_resends_total',
        'Times every live interest was re-sent to the feed host because it restarted or came back',
        () => control().resends,
      );
      mirror(
        'tickcast_control_invalidations_total',
        'CACHE_INVALIDATE_* messages from the feed passed on to the feed host',
        () => control().invalidations,
      );
      mirror(
        'tickcast_control_invalidations_malformed_total',
        'CACHE_INVALIDATE_* messages dropped because their payload named no user',
        () => control().invalidationsMalformed,
      );
      gauge(
        'tickcast_control_held_keys',
        '(user, broker, exchange, symbol, mode) subscribed at the feed host now',
        () => control().heldKeys,
      );
      gauge('tickcast_control_host_up', '1 while the feed host answers the control channel', () => (control().state === 'up' ? 1 : 0));
      new Gauge({
        name: 'tickcast_control_host_state',
        help: 'Feed host state: 1 for the current one (unknown until its first reply), 0 for the others',
        labelNames: ['state'],
        registers,
        collect() {
          const now = control().state;
          for (const state of HOST_STATES) this.set({ state }, state === now ? 1 : 0);
        },
      });
    }

    this.withProcess = options.defaultMetrics !== false;
  }

  /** The exposition text: the proxy's metrics, then the process's. */
  async text(): Promise<string> {
    const own = await this.registry.metrics();
    return this.withProcess ? own + (await processRegistry().metrics()) : own;
  }

  /** `GET /metrics` */
  readonly route: Route = async (_req, res) => {
    const body = await this.text();
    res.writeHead(200, {
      'content-type': this.registry.contentType,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  };
}
