import type { ZmtpRejectReason } from './zmtp';

/**
 * How the SUB socket is implemented. `zmtp` (default): the built-in ZMTP 3 reader over node:net
 * (tcp:// and ipc://, NULL mechanism; see ./zmtp/). `libzmq`: the `zeromq` package, for other
 * transports or security mechanisms; loaded only when chosen.
 */
export type ZmqEngine = 'zmtp' | 'libzmq';

/** What an engine tells its feed. Called on the event loop, never re-entrantly from a method call. */
export interface FeedEngineEvents {
  /** A two-frame message; `payload` may be a view into a read buffer. */
  message(topic: string, payload: Buffer): void;
  /** A message with another number of frames, dropped. */
  badMessage(frameCount: number): void;
  /** A publisher's connection was closed for a protocol reason or a cap. */
  reject(reason: ZmtpRejectReason, peer: string): void;
  /** Publishers with the handshake done, whenever the number changes. */
  publishers(count: number): void;
  /** Dialling a publisher failed; the engine retries after `retryInMs`. */
  dialError(endpoint: string, err: NodeJS.ErrnoException, retryInMs: number): void;
  /** The reader died after it started; no message follows. */
  failed(err: Error): void;
}

/** Limits and tuning an engine is built with (see `ZmqFeedOptions` for each). */
export interface FeedEngineOptions {
  readonly maxMessageBytes: number;
  readonly maxPublishers: number;
  readonly maxPartialBytes: number;
  readonly reconnectIvlMs: number;
  readonly reconnectIvlMaxMs: number;
  readonly receiveHighWaterMark: number;
  readonly readIntervalMs: number;
}

/**
 * One SUB socket, whichever engine implements it. The feed decides what to bind, connect and
 * subscribe; the engine only does it. Subscriptions may change at any time, before or after
 * `bind`/`connect`: publishers that connect later get the current set.
 */
export interface FeedEngine {
  /** Listens on `endpoint`; resolves with the endpoint actually bound (a `*` port resolved). */
  bind(endpoint: string): Promise<string>;
  /** Connects to a publisher that binds `endpoint`, redialling with capped backoff until closed. */
  connect(endpoint: string): void;
  /** Starts handing messages to the events (after the first bind/connect). */
  start(): void;
  /** Subscribes `topic` as a ZeroMQ prefix (`''` = every topic). */
  subscribe(topic: string): void;
  /** Cancels a subscription made with {@link subscribe}. */
  unsubscribe(topic: string): void;
  /** Publishers with the handshake done now. */
  readonly publishers: number;
  /** Bytes held in unfinished messages now (0 where the engine does not say). */
  readonly partialBytes: number;
  /** Closes everything; no event is called afterwards. */
  close(): void;
}

/** Builds the chosen engine; `zeromq` is required only for `libzmq`. */
export async function createFeedEngine(engine: ZmqEngine, options: FeedEngineOptions, events: FeedEngineEvents): Promise<FeedEngine> {
  if (engine === 'libzmq') {
    const { LibzmqEngine } = await import('./libzmqEngine');
    return new LibzmqEngine(options, events);
  }
  const { ZmtpEngine } = await import('./zmtpEngine');
  return new ZmtpEngine(options, events);
}
