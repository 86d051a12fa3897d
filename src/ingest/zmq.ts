import { BehaviorSubject, Observable, share, type Subscriber as RxSubscriber } from 'rxjs';
import { Subscriber } from 'zeromq';
import type { RawTick } from '../../streams';
import { type ZmtpRejectReason, ZmtpSubscriber } from './zmtp';

/**
 * How the SUB socket is implemented. `zmtp` (default): the built-in ZMTP 3 reader over node:net
 * (tcp:// and ipc://, NULL mechanism; see ./zmtp.ts). `libzmq`: the `zeromq` package, for other
 * transports or security mechanisms.
 */
export type ZmqEngine = 'zmtp' | 'libzmq';

/** Options of {@link ZmqFeed}. */
export interface ZmqFeedOptions {
  /** Endpoint the SUB socket binds (publishers connect): the default topology. */
  readonly bind?: string;
  /** Endpoints of publishers that bind; the SUB connects to each. */
  readonly connect?: readonly string[];
  /** Which implementation reads the socket. Default `zmtp`. */
  readonly engine?: ZmqEngine;
  /**
   * libzmq engine: receive high-water mark (messages queued before ZeroMQ drops). Default 100,000.
   * The zmtp engine queues nothing itself: a busy proxy leaves bytes in the kernel's TCP buffer,
   * then in the publisher's send queue (its own high-water mark).
   */
  readonly receiveHighWaterMark?: number;
  /** Told of each message that is not `[topic, payload]`, with its frame count. */
  readonly onBadFrame?: (frameCount: number) => void;
  /** zmtp engine: told when a publisher's connection is closed for a protocol reason. */
  readonly onReject?: (reason: ZmtpRejectReason, peer: string) => void;
  /** zmtp engine: told the number of connected publishers whenever it changes. */
  readonly onPublishers?: (count: number) => void;
  /**
   * libzmq engine only. After draining every message that is ready, wait this long before reading again, so a feed that
   * trickles one message at a time is read in batches. Adds up to this much latency. Default 0: wake
   * as soon as a message arrives and drain everything queued — measured cheaper for feeds that arrive
   * in bursts (adapters publish in packets): 1 ms cost 11.6% of a core against 9.6% at 1,000
   * symbols x 5 ticks/s, since each burst then paid a timer wake-up as well.
   */
  readonly readIntervalMs?: number;
}

export type FeedState = 'idle' | 'starting' | 'up' | 'closed' | 'failed';

/** The default fan-in endpoint of feed.md. */
export const DEFAULT_ZMQ_BIND = 'tcp://127.0.0.1:5555';

/**
 * The ZeroMQ side: one SUB socket, subscribed to every topic, exposed as a hot shared
 * `Observable<RawTick>`. On the zmtp engine each publisher's bytes are cut into messages as they
 * arrive; on the libzmq engine ONE loop drains every queued message per wake-up (see
 * {@link ZmqFeedOptions.readIntervalMs}). The socket opens with the first subscriber and closes when the last
 * leaves. Messages that are not two frames are counted and dropped; the stream never errors on bad
 * input.
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
  /** zmtp engine: connections closed for a protocol reason. */
  rejected = 0;
  private zmtp: ZmtpSubscriber | undefined;

  /** zmtp engine: publishers connected now (undefined on the libzmq engine, which does not say). */
  get publishers(): number | undefined {
    return this.zmtp?.peers;
  }

  constructor(private readonly options: ZmqFeedOptions = {}) {
    this.raw$ = (options.engine === 'libzmq' ? this.libzmq$() : this.zmtp$()).pipe(share());
  }

  private zmtp$(): Observable<RawTick> {
    const options = this.options;
    return new Observable<RawTick>((subscriber) => {
      let closed = false;
      const socket = new ZmtpSubscriber(
        {
          message: (topic, payload) => {
            this.received++;
            subscriber.next({ topic, payload });
          },
          badMessage: (frameCount) => {
            this.received++;
            this.badFrames++;
            options.onBadFrame?.(frameCount);
          },
        },
        {
          onReject: (reason, peer) => {
            this.rejected++;
            options.onReject?.(reason, peer);
          },
          onPeers: options.onPublishers,
        },
      );
      this.zmtp = socket;
      this.state$.next('starting');
      const run = async (): Promise<void> => {
        const connect = options.connect ?? [];
        if (connect.length === 0 || options.bind) this.endpoint = await socket.bind(options.bind ?? DEFAULT_ZMQ_BIND);
        for (const endpoint of connect) socket.connect(endpoint);
        if (connect.length > 0 && !this.endpoint) this.endpoint = connect.join(',');
      };
      run().then(
        () => {
          if (!closed) this.state$.next('up');
        },
        (err: unknown) => {
          if (closed) return;
          socket.close();
          this.fail(subscriber, err);
        },
      );
      return () => {
        closed = true;
        socket.close();
        this.markClosed();
      };
    });
  }

  private libzmq$(): Observable<RawTick> {
    const options = this.options;
    return new Observable<RawTick>((subscriber) => {
      const socket = new Subscriber({ receiveHighWaterMark: options.receiveHighWaterMark ?? 100_000 });
      let closed = false;
      this.state$.next('starting');
      const run = async (): Promise<void> => {
        socket.subscribe();
        const connect = options.connect ?? [];
        if (connect.length === 0 || options.bind) {
          await socket.bind(options.bind ?? DEFAULT_ZMQ_BIND);
          this.endpoint = socket.lastEndpoint ?? options.bind;
        }
        for (const endpoint of connect) socket.connect(endpoint);
        if (connect.length > 0 && !this.endpoint) this.endpoint = connect.join(',');
        this.state$.next('up');
        const interval = options.readIntervalMs ?? 0;
        const take = (frames: Buffer[]): void => {
          this.received++;
          if (frames.length !== 2) {
            this.badFrames++;
            options.onBadFrame?.(frames.length);
            return;
          }
          subscriber.next({ topic: (frames[0] as Buffer).toString('utf8'), payload: frames[1] as Buffer });
        };
        if (interval === 0) {
          // receive() resolves at once while messages are queued, so this drains a burst in one
          // wake-up without asking the socket `readable` per message (one poll syscall less each).
          while (!closed) take(await socket.receive());
        } else {
          while (!closed) {
            // Waits (polling the socket) only when nothing is queued.
            take(await socket.receive());
            // Everything already queued resolves at once: the whole batch in this one wake-up.
            while (!closed && socket.readable) take(await socket.receive());
            await new Promise((resolve) => setTimeout(resolve, interval));
          }
        }
      };
      run().then(
        () => {
          if (!closed) subscriber.complete();
        },
        (err: unknown) => {
          // Closing the socket rejects the pending receive(): that is teardown, not a failure.
          if (closed) return;
          this.fail(subscriber, err);
        },
      );
      return () => {
        closed = true;
        socket.close();
        this.markClosed();
      };
    });
  }

  /** Start-up failed or the reader died: say why and error the stream. */
  private fail(subscriber: RxSubscriber<RawTick>, err: unknown): void {
    this.error = err instanceof Error ? err : new Error(String(err));
    this.state$.next('failed');
    subscriber.error(this.error);
  }

  /** After a failure the state stays `failed`, so a later ready() still rejects. */
  private markClosed(): void {
    if (this.state$.value !== 'failed') this.state$.next('closed');
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
