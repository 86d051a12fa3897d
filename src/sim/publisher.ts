import { Publisher } from 'zeromq';
import type { Logger } from '../logger';
import { Market } from './market';
import type { SimConfig } from './options';

/** Options of {@link SimPublisher}. */
export interface SimPublisherOptions {
  /** The proxy's SUB endpoint; the PUB connects to it, as a broker adapter does. */
  readonly connect: string;
  /** How often a batch goes out, in ms. Default 10: sends spread evenly, one timer for all of them. */
  readonly intervalMs?: number;
  /** ZeroMQ send high-water mark; past it a PUB drops, it never blocks. Default 100,000. */
  readonly sendHighWaterMark?: number;
  readonly logger?: Logger;
  /** The clock. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The simulator's one impure part: a real ZeroMQ PUB that connects to the proxy's SUB and, on one
 * timer, sends whatever the {@link Market} says is due. Nothing is logged per message; `sent`
 * counts them.
 */
export class SimPublisher {
  /** Messages handed to ZeroMQ so far. */
  sent = 0;
  /** Batches that went out. */
  batches = 0;
  private readonly socket: Publisher;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
  private readonly now: () => number;

  constructor(
    private readonly market: Market,
    private readonly options: SimPublisherOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.socket = new Publisher({ sendHighWaterMark: options.sendHighWaterMark ?? 100_000, linger: 0 });
  }

  /** Connects and starts publishing. ZeroMQ connects in the background and reconnects by itself. */
  start(): void {
    if (this.timer || this.closed) return;
    this.socket.connect(this.options.connect);
    this.options.logger?.info(
      {
        endpoint: this.options.connect,
        instruments: this.market.instruments.length,
        bursting: this.market.bursting.map((i) => `${i.exchange}:${i.symbol}`),
      },
      'simulator publishing',
    );
    this.timer = setInterval(() => this.pump(), this.options.intervalMs ?? 10);
  }

  /** One timer tick: send what is due. A batch still in flight makes this tick a no-op; the next catches up. */
  private pump(): void {
    if (this.sending || this.closed) return;
    const batch = this.market.next(this.now());
    if (batch.length === 0) return;
    this.sending = (async () => {
      for (const m of batch) {
        if (this.closed) return;
        await this.socket.send([m.topic, m.payload]);
        this.sent++;
      }
      this.batches++;
    })()
      .catch((err: unknown) => {
        if (!this.closed) this.options.logger?.error({ err }, 'simulator could not send; stopping');
        this.stopTimer();
      })
      .finally(() => {
        this.sending = undefined;
      });
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops the timer, lets the batch in flight finish, closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    await this.sending;
    this.socket.close();
  }
}

/**
 * Builds the market of `config` and starts publishing it to `config.zmqConnect` (or `connect`, when
 * the caller knows better: the demo connects to the endpoint its proxy actually bound).
 */
export function startSimulator(config: SimConfig, logger?: Logger, connect = config.zmqConnect): SimPublisher {
  const publisher = new SimPublisher(new Market(config), { connect, logger });
  publisher.start();
  return publisher;
}
