import type { FeedEngine, FeedEngineEvents, FeedEngineOptions } from './engine';
import { ZmtpSubscriber } from './zmtp';

/** The built-in engine: a {@link ZmtpSubscriber} behind the {@link FeedEngine} interface. */
export class ZmtpEngine implements FeedEngine {
  private readonly socket: ZmtpSubscriber;

  constructor(options: FeedEngineOptions, events: FeedEngineEvents) {
    this.socket = new ZmtpSubscriber(
      { message: events.message, badMessage: events.badMessage },
      {
        topics: [],
        maxFrameBytes: options.maxMessageBytes,
        maxPublishers: options.maxPublishers,
        maxPartialBytes: options.maxPartialBytes,
        reconnectIvlMs: options.reconnectIvlMs,
        reconnectIvlMaxMs: options.reconnectIvlMaxMs,
        onReject: events.reject,
        onPeers: events.publishers,
        onDialError: events.dialError,
      },
    );
  }

  get publishers(): number {
    return this.socket.peers;
  }

  get partialBytes(): number {
    return this.socket.partialBytes;
  }

  bind(endpoint: string): Promise<string> {
    return this.socket.bind(endpoint);
  }

  connect(endpoint: string): void {
    this.socket.connect(endpoint);
  }

  start(): void {
    // Messages flow from the first read: nothing to start.
  }

  subscribe(topic: string): void {
    this.socket.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.socket.unsubscribe(topic);
  }

  close(): void {
    this.socket.close();
  }
}
