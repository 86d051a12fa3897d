import { Publisher } from 'zeromq';
import { sleep } from './scope';

/** Also here, next to the publisher that binds to it; defined in ./net so zeromq-free tests can have it. */
export { freePort } from './net';

/** The topic {@link FeedPublisher.sync} probes with: a cache-invalidation topic, ignored as a tick. */
export const PROBE_TOPIC = 'CACHE_INVALIDATE_tickcast_probe';

/**
 * A broker adapter as the proxy sees one: a ZeroMQ PUB that CONNECTS to the proxy's bound SUB and
 * sends `[topic, JSON payload]` messages.
 */
export class FeedPublisher {
  private readonly socket = new Publisher({ sendHighWaterMark: 1_000_000, linger: 0 });
  private closed = false;

  constructor(readonly endpoint: string) {
    this.socket.connect(endpoint);
  }

  /** Sends one market-data message; objects are JSON-encoded, strings and buffers go as they are. */
  async send(topic: string, payload: unknown): Promise<void> {
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    await this.socket.send([topic, body]);
  }

  /** Sends a message of any frame count, for malformed-input tests. */
  async sendFrames(frames: readonly (string | Buffer)[]): Promise<void> {
    await this.socket.send([...frames]);
  }

  /**
   * Waits out ZeroMQ's slow joiner: until the connection is up, a PUB drops what it sends. Probes
   * until `received()` (the far side's count of messages read) moves.
   */
  async sync(received: () => number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const before = received();
    while (received() === before) {
      if (Date.now() > deadline) throw new Error(`publisher to ${this.endpoint} never reached the proxy within ${timeoutMs} ms`);
      await this.send(PROBE_TOPIC, '{}');
      await sleep(20);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
