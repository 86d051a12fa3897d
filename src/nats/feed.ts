import { hostname } from 'node:os';
import { BehaviorSubject, filter, firstValueFrom, Observable, share, type Subscriber } from 'rxjs';
import { formatTopic, type Mode, type RawTick } from '../../streams';
import type { ServeConfig } from '../config';
import type { FeedSource } from '../feed';
import { type Logger, silentLogger, ThrottledLog } from '../logger';
import { connectNats, type LiveConnection } from './connection';
import { describeJetStreamError, LastValueReader } from './lastValues';
import { decodeToken, DEFAULT_STREAM, MD_PREFIX, MODE_TOKENS, ORDERS_PREFIX, symbolStem } from './subject';
import type { Msg, Subscription } from './types';

/** Options of {@link NatsFeed}. */
export interface NatsFeedOptions {
  /** NATS server URL(s), comma-separated. */
  readonly url: string;
  /** Connection name shown by the server's `/connz`. Default `tickcast-node <host> <pid> <n>`. */
  readonly name?: string;
  readonly logger?: Logger;
  /** The last-value stream the bridge writes. Default {@link DEFAULT_STREAM}. */
  readonly stream?: string;
  /** Market-data subject prefix. Default {@link MD_PREFIX}. */
  readonly prefix?: string;
  /** Reconnect backoff: first delay and cap, in ms. Defaults 250 and 5000. */
  readonly reconnectBaseMs?: number;
  readonly reconnectMaxMs?: number;
  /** Timeout of a last-value lookup in ms. Default 2000. */
  readonly snapshotTimeoutMs?: number;
}

export type NatsFeedState = 'idle' | 'connecting' | 'up' | 'failed' | 'closed';

/** Counters of a {@link NatsFeed}: plain numbers, bumped on the hot path with an add. */
export interface NatsFeedCounters {
  /** Live market-data messages received (all held symbols). */
  received: number;
  /** Last values fetched from the stream and pushed into the feed. */
  snapshots: number;
  /** Symbols whose last-value lookup found nothing stored. */
  snapshotMisses: number;
  /** Last-value lookups that failed (timeout, no stream, no JetStream). */
  snapshotErrors: number;
  /** Order events received. */
  orders: number;
  /** Subjects subscribed and unsubscribed as interest came and went. */
  subscribes: number;
  unsubscribes: number;
}

/** A symbol some local client holds: its NATS subscription and what it has carried. */
interface Held {
  readonly exchange: string;
  readonly symbol: string;
  /** `tickcast.md.<ex>.<sym>` */
  readonly stem: string;
  /** The feed topic of each mode (index mode - 1), built once. */
  readonly topics: readonly string[];
  sub: Subscription | undefined;
  /** A live message arrived on mode (index) since the last snapshot request: the snapshot is older. */
  readonly live: boolean[];
  received: number;
}

let connections = 0;

/**
 * The proxy's feed when scaled out: ticks come from NATS (published by `tickcast bridge`) instead
 * of ZeroMQ, and only for symbols some local client holds. The hub tells it when a symbol gains its
 * first holder ({@link interest} with a mode): it subscribes `tickcast.md.<ex>.<sym>.*` and fetches
 * that symbol's last values from the JetStream stream, pushing them into {@link raw$} like any
 * tick, so they flow through the same throttle into the hub's last-tick store. When the last holder
 * leaves, it unsubscribes. Order events (`tickcast.orders.*`) are always carried.
 *
 * A snapshot fetched this way arrives one round trip after the subscribe reply: the gateway's
 * snapshot-on-subscribe has nothing yet for a symbol this node never carried, and the last value
 * reaches the client as an ordinary `market_data` frame a few ms later (it holds the key by then).
 *
 * {@link isUp} is false while NATS is unreachable, so `/readyz` answers 503 during an outage. The
 * connection retries forever; on reconnect the server re-subscribes and the last values of every
 * held symbol are fetched again, so a symbol that ticked during the outage is current at once.
 */
export class NatsFeed implements FeedSource {
  readonly raw$: Observable<RawTick>;
  readonly state$ = new BehaviorSubject<NatsFeedState>('idle');
  readonly counters: NatsFeedCounters = {
    received: 0,
    snapshots: 0,
    snapshotMisses: 0,
    snapshotErrors: 0,
    orders: 0,
    subscribes: 0,
    unsubscribes: 0,
  };
  /** Why the first connection failed, when it did. */
  error: Error | undefined;
  /** The NATS connection's name, as the server's `/connz` shows it. */
  readonly name: string;

  private readonly logger: Logger;
  private readonly warn: ThrottledLog;
  private readonly prefix: string;
  private readonly held = new Map<string, Held>();
  private conn: LiveConnection | undefined;
  private reader: LastValueReader | undefined;
  private sink: Subscriber<RawTick> | undefined;

  constructor(private readonly options: NatsFeedOptions) {
    this.logger = options.logger ?? silentLogger();
    this.warn = new ThrottledLog(this.logger);
    this.prefix = options.prefix ?? MD_PREFIX;
    this.name = options.name ?? `tickcast-node ${hostname()} ${process.pid} ${++connections}`;
    this.raw$ = new Observable<RawTick>((subscriber) => {
      this.sink = subscriber;
      let closed = false;
      this.state$.next('connecting');
      connectNats({
        servers: options.url,
        name: this.name,
        reconnectBaseMs: options.reconnectBaseMs,
        reconnectMaxMs: options.reconnectMaxMs,
        logger: this.logger,
        onState: (up, reconnected) => {
          if (closed) return;
          if (reconnected) this.refreshAll();
          this.logger.debug({ event: 'nats_feed_state', up }, up ? 'feed up' : 'feed down');
        },
      }).then(
        (conn) => {
          if (closed) {
            void conn.close();
            return;
          }
          this.conn = conn;
          this.reader = new LastValueReader(conn.nc, { stream: options.stream, timeoutMs: options.snapshotTimeoutMs });
          conn.nc.subscribe(`${ORDERS_PREFIX}.*`, {
            callback: (err, msg) => {
              if (!err) this.onOrder(msg);
            },
          });
          for (const h of this.held.values()) this.open(h);
          // One round trip, so the server has our subscriptions before we report `up`: order events
          // published right after readiness would otherwise be lost (core NATS keeps nothing).
          conn.nc.flush().then(
            () => {
              if (closed) return;
              this.logger.info({ event: 'nats_feed_up', url: options.url, stream: this.reader?.stream }, 'feed connected to NATS');
              this.state$.next('up');
            },
            (err: Error) => {
              if (closed) return;
              this.error = err;
              this.state$.next('failed');
              subscriber.error(err);
            },
          );
        },
        (err: Error) => {
          if (closed) return;
          this.error = err;
          this.state$.next('failed');
          subscriber.error(err);
        },
      );
      return () => {
        closed = true;
        this.sink = undefined;
        for (const h of this.held.values()) h.sub = undefined;
        const conn = this.conn;
        this.conn = undefined;
        this.reader = undefined;
        void conn?.close().catch(() => undefined);
        this.state$.next('closed');
      };
    }).pipe(share());
  }

  async ready(): Promise<void> {
    const state = await firstValueFrom(this.state$.pipe(filter((s) => s === 'up' || s === 'failed')));
    if (state === 'failed') throw this.error ?? new Error(`Could not connect to NATS at ${this.options.url}.`);
  }

  isUp(): boolean {
    return this.state$.value === 'up' && this.conn !== undefined && this.conn.isUp();
  }

  describe(): string {
    return `nats ${this.options.url} (last values: stream ${this.options.stream ?? DEFAULT_STREAM})`;
  }

  /**
   * Carries a symbol from its first holder to its last: NATS subjects are per symbol, so only
   * whether some client holds it matters (`lowestMode !== 0`), not from which mode up.
   */
  interest(exchange: string, symbol: string, lowestMode: 0 | 1 | 2 | 3): void {
    const interested = lowestMode !== 0;
    const id = exchange + '\u0000' + symbol;
    const existing = this.held.get(id);
    if (interested) {
      if (existing) return;
      const topics = MODE_TOKENS.map((_, i) => formatTopic({ exchange, symbol, mode: (i + 1) as Mode }));
      const h: Held = {
        exchange,
        symbol,
        stem: symbolStem(exchange, symbol, this.prefix),
        topics,
        sub: undefined,
        live: [false, false, false],
        received: 0,
      };
      this.held.set(id, h);
      if (this.conn) this.open(h);
    } else if (existing) {
      this.held.delete(id);
      if (existing.sub) {
        existing.sub.unsubscribe();
        existing.sub = undefined;
        this.counters.unsubscribes++;
      }
    }
  }

  /** The symbols this node carries now, with the live messages each has received. */
  carried(): { exchange: string; symbol: string; received: number }[] {
    return [...this.held.values()].map(({ exchange, symbol, received }) => ({ exchange, symbol, received }));
  }

  private open(h: Held): void {
    const conn = this.conn;
    if (!conn) return;
    const from = h.stem.length + 1;
    h.sub = conn.nc.subscribe(`${h.stem}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const i = MODE_TOKENS.indexOf(msg.subject.slice(from));
        if (i < 0) return;
        h.live[i] = true;
        h.received++;
        this.counters.received++;
        this.sink?.next({ topic: h.topics[i] as string, payload: msg.data });
      },
    });
    this.counters.subscribes++;
    this.fetchLast(h);
  }

  /**
   * Pushes the stored last values of a held symbol into the feed, oldest first, skipping any mode
   * on which a live message already arrived (it is at least as new). Dropped when the symbol was
   * released or re-subscribed meanwhile.
   */
  private fetchLast(h: Held): void {
    const reader = this.reader;
    const sub = h.sub;
    if (!reader || !sub) return;
    h.live.fill(false);
    reader.lastOfSymbol(h.stem).then(
      (values) => {
        if (h.sub !== sub || !this.sink) return;
        if (values.length === 0) this.counters.snapshotMisses++;
        for (const v of values) {
          const i = MODE_TOKENS.indexOf(v.subject.slice(h.stem.length + 1));
          if (i < 0 || h.live[i]) continue;
          this.counters.snapshots++;
          this.sink.next({ topic: h.topics[i] as string, payload: v.data });
        }
      },
      (err: unknown) => {
        this.counters.snapshotErrors++;
        this.warn.warn(
          'nats_last_value',
          { stream: reader.stream, subject: h.stem },
          `could not read last values, clients of new symbols wait for the next tick: ${describeJetStreamError(err, reader.stream)}`,
        );
      },
    );
  }

  private refreshAll(): void {
    for (const h of this.held.values()) this.fetchLast(h);
  }

  private onOrder(msg: Msg): void {
    const topic = decodeToken(msg.subject.slice(ORDERS_PREFIX.length + 1));
    if (topic === null) return;
    this.counters.orders++;
    this.sink?.next({ topic, payload: msg.data });
  }
}

/** The NATS feed of `tickcast serve --nats URL`. */
export function natsFeedSource(config: ServeConfig, logger: Logger): NatsFeed {
  if (!config.nats) throw new Error('natsFeedSource needs config.nats (--nats URL).');
  return new NatsFeed({ url: config.nats, logger: logger.child({ component: 'nats' }) });
}
