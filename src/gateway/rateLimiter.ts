/** Options of {@link ControlRateLimiter}. */
export interface RateLimitOptions {
  /** Messages per second refilled. */
  readonly ratePerS: number;
  /** Bucket size: messages allowed in a burst. */
  readonly burst: number;
  /** Sustained limiting for this long means a flood: the connection is to be closed. */
  readonly floodCloseMs: number;
  /** A pause this long without a limited message ends a flood. Default 1000 ms. */
  readonly floodResetMs?: number;
}

export type RateDecision = 'ok' | 'limited' | 'flood';

/**
 * A token bucket per connection for control messages, plus flood tracking: `limited` while the
 * bucket is empty, `flood` once limiting has gone on for `floodCloseMs` without a pause of
 * `floodResetMs`. Time comes in as an argument, so it is testable without a clock.
 */
export class ControlRateLimiter {
  private tokens: number;
  private refilledAt: number;
  private floodingSince = -1;
  private lastLimitedAt = -Infinity;

  constructor(
    private readonly options: RateLimitOptions,
    now: number,
  ) {
    this.tokens = options.burst;
    this.refilledAt = now;
  }

  /** Takes one token for a message arriving at `now` (ms). */
  take(now: number): RateDecision {
    const { ratePerS, burst, floodCloseMs } = this.options;
    const resetMs = this.options.floodResetMs ?? 1000;
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) * ratePerS) / 1000);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    if (this.floodingSince < 0 || now - this.lastLimitedAt > resetMs) this.floodingSince = now;
    this.lastLimitedAt = now;
    return now - this.floodingSince >= floodCloseMs ? 'flood' : 'limited';
  }
}
