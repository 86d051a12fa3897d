import { formatTopic, type Mode } from '../../streams';

/** What {@link TopicInterest} drives: a socket's subscribe/unsubscribe. */
export interface TopicTarget {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/** Timers, injectable so the grace is tested in virtual time. */
export interface GraceTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: GraceTimers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

const MODES: readonly Mode[] = [1, 2, 3];

/**
 * Turns the hub's interest (lowest mode held per symbol, order topics of users with an order
 * subscriber) into socket subscriptions: each topic subscribed when its first holder comes,
 * cancelled `graceMs` after its last one left unless one came back meanwhile (so a client that
 * unsubscribes and resubscribes does not make publishers flap). Topics are ref-counted: an order
 * topic may be wanted by several users' calls.
 */
export class TopicInterest {
  private readonly counts = new Map<string, number>();
  private readonly cancels = new Map<string, unknown>();
  /** Lowest mode held per symbol (`exchange\0symbol`); absent when none. */
  private readonly lowest = new Map<string, number>();

  constructor(
    private readonly target: TopicTarget,
    private readonly graceMs: number,
    private readonly timers: GraceTimers = REAL_TIMERS,
  ) {}

  /**
   * A symbol's lowest held mode is now `lowestMode` (0: no holder). Its ticks can reach a client
   * on the topics of modes lowestMode..3 (a mode-1 holder is also sent QUOTE and DEPTH ticks' LTP).
   */
  symbol(exchange: string, symbol: string, lowestMode: 0 | 1 | 2 | 3): void {
    const key = `${exchange}\0${symbol}`;
    const before = this.lowest.get(key) ?? 0;
    if (before === lowestMode) return;
    if (lowestMode === 0) this.lowest.delete(key);
    else this.lowest.set(key, lowestMode);
    for (const mode of MODES) {
      const was = before !== 0 && mode >= before;
      const is = lowestMode !== 0 && mode >= lowestMode;
      if (is && !was) this.want(formatTopic({ exchange, symbol, mode }));
      else if (was && !is) this.release(formatTopic({ exchange, symbol, mode }));
    }
  }

  /** Order-event topics gained their first (`interested`) or lost their last subscriber. */
  orders(topics: readonly string[], interested: boolean): void {
    for (const topic of topics) {
      if (interested) this.want(topic);
      else this.release(topic);
    }
  }

  /** Topics wanted now (not those only waiting out their grace). */
  wanted(): string[] {
    return [...this.counts.keys()];
  }

  /** Stops pending cancels (the socket is closing anyway). */
  close(): void {
    for (const handle of this.cancels.values()) this.timers.clear(handle);
    this.cancels.clear();
  }

  private want(topic: string): void {
    const n = this.counts.get(topic) ?? 0;
    this.counts.set(topic, n + 1);
    if (n !== 0) return;
    const pending = this.cancels.get(topic);
    if (pending !== undefined) {
      // Back within the grace: still subscribed, nothing to tell the publishers.
      this.timers.clear(pending);
      this.cancels.delete(topic);
      return;
    }
    this.target.subscribe(topic);
  }

  private release(topic: string): void {
    const n = this.counts.get(topic);
    if (n === undefined) return;
    if (n > 1) {
      this.counts.set(topic, n - 1);
      return;
    }
    this.counts.delete(topic);
    if (this.graceMs === 0) {
      this.target.unsubscribe(topic);
      return;
    }
    const handle = this.timers.set(() => {
      this.cancels.delete(topic);
      this.target.unsubscribe(topic);
    }, this.graceMs);
    this.cancels.set(topic, handle);
  }
}
