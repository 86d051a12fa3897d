/**
 * Capped exponential backoff for redialling a publisher: `initialMs`, doubling up to `maxMs`, back to
 * `initialMs` after {@link reset} (a handshake that succeeded). A publisher that is down for an hour
 * costs one attempt per `maxMs`, not one per 100 ms.
 */
export class Backoff {
  private current: number;

  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 5000,
  ) {
    this.current = initialMs;
  }

  /** The wait before the next attempt; each call doubles the one after, up to the cap. */
  next(): number {
    const wait = this.current;
    this.current = Math.min(this.current * 2, Math.max(this.maxMs, this.initialMs));
    return wait;
  }

  /** Starts over from `initialMs`. */
  reset(): void {
    this.current = this.initialMs;
  }
}
