import { Subscriber } from 'zeromq';
import type { FeedEngine, FeedEngineEvents, FeedEngineOptions } from './engine';
import { missingPort } from './zmtp';

/**
 * The `zeromq` package's SUB behind the {@link FeedEngine} interface. Loaded only when
 * `--zmq-engine libzmq` is chosen. libzmq does the limits it has: ZMQ_MAXMSGSIZE (a larger frame
 * drops the connection, uncounted: libzmq does not say why) and its own capped reconnect backoff
 * (ZMQ_RECONNECT_IVL doubling to ZMQ_RECONNECT_IVL_MAX). It has no cap on connections or on bytes
 * held in partial messages; its receive high-water mark bounds whole messages queued.
 */
export class LibzmqEngine implements FeedEngine {
  private readonly socket: Subscriber;
  private closed = false;
  publishers = 0;
  /** libzmq does not say what it holds. */
  readonly partialBytes = 0;

  constructor(
    private readonly options: FeedEngineOptions,
    private readonly events: FeedEngineEvents,
  ) {
    this.socket = new Subscriber({
      receiveHighWaterMark: options.receiveHighWaterMark,
      maxMessageSize: options.maxMessageBytes,
      reconnectInterval: options.reconnectIvlMs,
      reconnectMaxInterval: options.reconnectIvlMaxMs,
    });
    // Handshakes and disconnects come from libzmq's socket monitor: per connection, not per message.
    const count = (delta: number): void => {
      if (this.closed) return;
      const next = Math.max(0, this.publishers + delta);
      if (next === this.publishers) return;
      this.publishers = next;
      events.publishers(next);
    };
    // receive() rather than events.on(): the package's emitter mode is defined once on the native
    // prototype with the require() of whichever module instance loaded first.
    const observer = this.socket.events;
    const watch = async (): Promise<void> => {
      while (!this.closed && !observer.closed) {
        const event = await observer.receive();
        if (event.type === 'handshake') count(1);
        else if (event.type === 'disconnect') count(-1);
      }
    };
    // Closing the socket closes its observer, which rejects the pending receive(): nothing to report.
    watch().catch(() => undefined);
  }

  async bind(endpoint: string): Promise<string> {
    const noPort = missingPort(endpoint, 'bind');
    if (noPort !== undefined) throw new Error(noPort);
    await this.socket.bind(endpoint);
    return this.socket.lastEndpoint ?? endpoint;
  }

  connect(endpoint: string): void {
    const noPort = missingPort(endpoint, 'connect');
    if (noPort !== undefined) throw new Error(noPort);
    this.socket.connect(endpoint);
  }

  start(): void {
    this.read().then(
      () => undefined,
      (err: unknown) => {
        // Closing the socket rejects the pending receive(): that is teardown, not a failure.
        if (!this.closed) this.events.failed(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  subscribe(topic: string): void {
    this.socket.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.socket.unsubscribe(topic);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  private async read(): Promise<void> {
    const socket = this.socket;
    const events = this.events;
    const interval = this.options.readIntervalMs;
    const take = (frames: Buffer[]): void => {
      if (frames.length !== 2) events.badMessage(frames.length);
      else events.message((frames[0] as Buffer).toString('utf8'), frames[1] as Buffer);
    };
    if (interval === 0) {
      // receive() resolves at once while messages are queued, so this drains a burst in one
      // wake-up without asking the socket `readable` per message (one poll syscall less each).
      while (!this.closed) take(await socket.receive());
      return;
    }
    while (!this.closed) {
      // Waits (polling the socket) only when nothing is queued.
      take(await socket.receive());
      // Everything already queued resolves at once: the whole batch in this one wake-up.
      while (!this.closed && socket.readable) take(await socket.receive());
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }
}
