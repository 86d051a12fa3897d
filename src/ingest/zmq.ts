import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { BehaviorSubject, Observable, share } from 'rxjs';
import type { RawTick } from '../../streams';
import { createFeedEngine, type FeedEngine, type FeedEngineEvents, type ZmqEngine } from './engine';
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_PARTIAL_BYTES, DEFAULT_MAX_PUBLISHERS, type ZmtpRejectReason } from './zmtp';

export type { ZmqEngine } from './engine';

/**
 * What the SUB subscribes. `all` (default): every topic (the empty subscription), as OpenAlgo's
 * proxy does. `interest`: only the topics given to {@link ZmqFeed.subscribe}, matched exactly.
 */
export type ZmqSubscribeMode = 'all' | 'interest';

/** Options of {@link ZmqFeed}. */
export interface ZmqFeedOptions {
  /** Endpoint the SUB socket binds (publishers connect): the default topology. */
  readonly bind?: string;
  /** Endpoints of publishers that bind; the SUB connects to each. */
  readonly connect?: readonly string[];
  /** Which implementation reads the socket. Default `zmtp`. */
  readonly engine?: ZmqEngine;
  /** What the SUB subscribes. Default `all`. */
  readonly subscribe?: ZmqSubscribeMode;
  /**
   * Largest frame (topic or payload) a publisher may send; a larger one closes its connection
   * ('oversized'; libzmq: ZMQ_MAXMSGSIZE, uncounted). Default 1 MiB.
   */
  readonly maxMessageBytes?: number;
  /** zmtp engine: publisher connections accepted on the bound endpoint. Default 256. */
  readonly maxPublishers?: number;
  /** zmtp engine: bytes held in unfinished messages over all connections. Default 64 MiB. */
  readonly maxPartialBytes?: number;
  /** First wait before redialling a publisher (connect mode); doubles per failure. Default 100 ms. */
  readonly reconnectIvlMs?: number;
  /** Cap of the redial wait; back to the first after a handshake. Default 5 s. */
  readonly reconnectIvlMaxMs?: number;
  /**
   * libzmq engine: receive high-water mark (messages queued before ZeroMQ drops). Default 100,000.
   * The zmtp engine queues nothing itself: a busy proxy leaves bytes in the kernel's TCP buffer,
   * then in the publisher's send queue (its own high-water mark).
   */
  readonly receiveHighWaterMark?: number;
  /** Told of each message that is not `[topic, payload]`, with its frame count. */
  readonly onBadFrame?: (frameCount: number) => void;
  /** Told of each message dropped because its topic is not exactly one subscribed (interest mode). */
  readonly onUnsubscribed?: (topic: string) => void;
  /** zmtp engine: told when a publisher's connection is closed for a protocol reason or a cap. */
  readonly onReject?: (reason: ZmtpRejectReason, peer: string) => void;
  /** Told the number of connected publishers whenever it changes. */
  readonly onPublishers?: (count: number) => void;
  /**
   * Told when a publisher to connect to cannot be reached: its host does not resolve (both engines)
   * or the dial failed (zmtp engine, with the wait before the next attempt).
   */
  readonly onDialError?: (endpoint: string, err: NodeJS.ErrnoException, retryInMs: number | undefined) => void;
  /**
   * libzmq engine only. After draining every message that is ready, wait this long before reading again, so a feed that
   * trickles one message at a time is read in batches. Adds up to this much latency. Default 0: wake
   * as soon as a message arrives and drain everything queued — measured cheaper for feeds that
   * arrive in bursts (adapters publish in packets), since each burst then paid a timer wake-up as well.
   */
  readonly readIntervalMs?: number;
}

export type FeedState = 'idle' | 'starting' | 'up' | 'closed' | 'failed';

/** The default fan-in endpoint of feed.md. */
export const DEFAULT_ZMQ_BIND = 'tcp://127.0.0.1:5555';

/**
 * The ZeroMQ side: one SUB socket exposed as a hot shared `Observable<RawTick>`, read by the
 * chosen {@link FeedEngine}. The socket opens with the first subscriber and closes when the last
 * leaves. Messages that are not two frames are counted and dropped; the stream never errors on bad
 * input. Subscriptions ({@link subscribe}) may change at any time, also while the socket is closed.
 */
export class ZmqFeed {
  /** Raw feed messages; hot and shared. */
  readonly raw$: Observable<RawTick>;
  /** `up` once the socket is bound/connected; `failed` when that failed (see {@link error}). */
  readonly state$ = new BehaviorSubject<FeedState>('idle');
  /** Why the socket failed, when it did. */
  error: Error | undefined;
  /** The endpoint actually bound (resolves `*` ports), once up. */
  endpoint: string | undefined;
  received = 0;
  badFrames = 0;
  /** Messages dropped because their topic is not exactly one subscribed (interest mode). */
  unsubscribed = 0;
  /** Connections closed for a protocol reason or a cap (zmtp engine). */
  rejected = 0;
  private engine: FeedEngine | undefined;
  /** Subscribed topics; in interest mode also the exact-match filter. */
  private readonly topics = new Set<string>();
  private readonly exact: boolean;

  /** Publishers connected now (with the handshake done); undefined before the socket first opened. */
  get publishers(): number | undefined {
    return this.engine?.publishers ?? (this.state$.value === 'idle' ? undefined : 0);
  }

  /** Bytes held in unfinished messages now (zmtp engine; 0 while closed). */
  get partialBytes(): number {
    return this.engine?.partialBytes ?? 0;
  }

  /** True when the feed only connects: it is of no use until a publisher is there. */
  get connectOnly(): boolean {
    return (this.options.connect ?? []).length > 0 && this.options.bind === undefined;
  }

  constructor(private readonly options: ZmqFeedOptions = {}) {
    this.exact = options.subscribe === 'interest';
    if (!this.exact) this.topics.add('');
    this.raw$ = this.open$().pipe(share());
  }

  /**
   * Subscribes `topic` at the socket (and so at every publisher). In interest mode only topics
   * subscribed here are delivered, matched exactly; the empty topic (everything) is refused.
   */
  subscribe(topic: string): void {
    if (this.exact && topic === '') throw new Error('interest mode never subscribes every topic');
    if (this.topics.has(topic)) return;
    this.topics.add(topic);
    this.engine?.subscribe(topic);
  }

  /** Cancels a subscription of {@link subscribe}. */
  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    this.engine?.unsubscribe(topic);
  }

  /** The topics subscribed now. */
  subscriptions(): string[] {
    return [...this.topics];
  }

  private open$(): Observable<RawTick> {
    const options = this.options;
    return new Observable<RawTick>((subscriber) => {
      let closed = false;
      let engine: FeedEngine | undefined;
      const topics = this.topics;
      const exact = this.exact;
      const events: FeedEngineEvents = {
        message: (topic, payload) => {
          this.received++;
          // ZeroMQ matches subscriptions as prefixes: NSE_TCS_LTP would also let NSE_TCS_LTPX in.
          if (exact && !topics.has(topic)) {
            this.unsubscribed++;
            options.onUnsubscribed?.(topic);
            return;
          }
          subscriber.next({ topic, payload });
        },
        badMessage: (frameCount) => {
          this.received++;
          this.badFrames++;
          options.onBadFrame?.(frameCount);
        },
        reject: (reason, peer) => {
          this.rejected++;
          options.onReject?.(reason, peer);
        },
        publishers: (count) => options.onPublishers?.(count),
        dialError: (endpoint, err, retryInMs) => options.onDialError?.(endpoint, err, retryInMs),
        failed: (err) => {
          if (closed) return;
          this.fail(err);
          subscriber.error(this.error);
        },
      };
      this.state$.next('starting');
      const run = async (): Promise<void> => {
        const built = await createFeedEngine(
          options.engine ?? 'zmtp',
          {
            maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
            maxPublishers: options.maxPublishers ?? DEFAULT_MAX_PUBLISHERS,
            maxPartialBytes: options.maxPartialBytes ?? DEFAULT_MAX_PARTIAL_BYTES,
            reconnectIvlMs: options.reconnectIvlMs ?? 100,
            reconnectIvlMaxMs: options.reconnectIvlMaxMs ?? 5000,
            receiveHighWaterMark: options.receiveHighWaterMark ?? 100_000,
            readIntervalMs: options.readIntervalMs ?? 0,
          },
          events,
        );
        if (closed) {
          built.close();
          return;
        }
        engine = built;
        this.engine = built;
        for (const topic of topics) built.subscribe(topic);
        const connect = options.connect ?? [];
        if (connect.length === 0 || options.bind) this.endpoint = await built.bind(options.bind ?? DEFAULT_ZMQ_BIND);
        for (const endpoint of connect) built.connect(endpoint);
        if (connect.length > 0 && !this.endpoint) this.endpoint = connect.join(',');
        built.start();
        if (options.engine === 'libzmq') this.checkNames(connect);
      };
      run().then(
        () => {
          if (!closed) this.state$.next('up');
        },
        (err: unknown) => {
          if (closed) return;
          engine?.close();
          this.fail(err);
          subscriber.error(this.error);
        },
      );
      return () => {
        closed = true;
        engine?.close();
        this.engine = undefined;
        // After a failure the state stays `failed`, so a later ready() still rejects.
        if (this.state$.value !== 'failed') this.state$.next('closed');
      };
    });
  }

  /**
   * libzmq resolves a publisher's host name where we cannot see it fail: look it up once here, so a
   * misspelt host is said at start-up. (The zmtp engine reports it on every redial.)
   */
  private checkNames(endpoints: readonly string[]): void {
    for (const endpoint of endpoints) {
      const host = /^tcp:\/\/([^:[\]]+):\d+$/.exec(endpoint)?.[1];
      if (host === undefined || isIP(host) !== 0 || host === '*') continue;
      lookup(host, { family: 4 }).catch((err: NodeJS.ErrnoException) => this.options.onDialError?.(endpoint, err, undefined));
    }
  }

  private fail(err: unknown): void {
    this.error = err instanceof Error ? err : new Error(String(err));
    this.state$.next('failed');
  }

  /** Resolves once the socket is up; rejects with a message naming the endpoint when it failed. */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sub = this.state$.subscribe((state) => {
        if (state === 'up') {
          queueMicrotask(() => sub.unsubscribe());
          resolve();
        } else if (state === 'failed') {
          queueMicrotask(() => sub.unsubscribe());
          const where = this.options.bind ?? this.options.connect?.join(', ') ?? DEFAULT_ZMQ_BIND;
          reject(new Error(`ZeroMQ socket could not start on ${where}: ${this.error?.message ?? 'unknown error'}`));
        }
      });
    });
  }
}
