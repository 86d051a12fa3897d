import { BehaviorSubject, Observable, share } from 'rxjs';
import { Subscriber } from 'zeromq';
import type { RawTick } from '../../streams';

/** Options of {@link ZmqFeed}. */
export interface ZmqFeedOptions {
  /** Endpoint the SUB socket binds (publishers connect): the default topology. */
  readonly bind?: string;
  /** Endpoints of publishers that bind; the SUB connects to each. */
  readonly connect?: readonly string[];
  /** ZeroMQ receive high-water mark (messages queued before ZeroMQ drops). Default 100,000. */
  readonly receiveHighWaterMark?: number;
  /** Told of each message that is not `[topic, payload]`, with its frame count. */
  readonly onBadFrame?: (frameCount: number) => void;
  /**
   * After draining every message that is ready, wait this long before reading again, so a feed that
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
 * The ZeroMQ side: one SUB socket, subscribed to every topic, read by ONE loop, exposed as a hot
 * shared `Observable<RawTick>`. The loop drains every queued message per wake-up (see
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

  constructor(private readonly options: ZmqFeedOptions = {}) {
    this.raw$ = new Observable<RawTick>((subscriber) => {
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
          this.error = err instanceof Error ? err : new Error(String(err));
          this.state$.next('failed');
          subscriber.error(this.error);
        },
      );
      return () => {
        closed = true;
        socket.close();
        this.state$.next('closed');
      };
    }).pipe(share());
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
