/** How long the client waits before each reconnection attempt. */
export interface BackoffOptions {
  /** Delay before the first attempt after a drop, in ms. Default 500. */
  readonly initialMs: number;
  /** Largest delay, in ms; the exponential growth stops here. Default 30 000. */
  readonly maxMs: number;
  /** Each consecutive failed attempt multiplies the delay by this (≥ 1). Default 2. */
  readonly factor: number;
  /**
   * Fraction of the delay (0..1) taken off at random, so clients dropped together do not all come
   * back at once: the delay is uniform in `[d × (1 − jitter), d]`. Default 0.5.
   */
  readonly jitter: number;
  /**
   * Consecutive failed attempts after which the client gives up (`status$` errors with a
   * `TickcastConnectionError`). Default `Infinity`: never give up.
   */
  readonly maxAttempts: number;
}

/** The defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 500,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
});

/**
 * Fills in {@link DEFAULT_BACKOFF} and checks every value, so a bad option fails at creation, not at
 * the first disconnect.
 *
 * @example
 * resolveBackoff({ initialMs: 100 }); // { initialMs: 100, maxMs: 30000, factor: 2, jitter: 0.5, maxAttempts: Infinity }
 */
export function resolveBackoff(options: Partial<BackoffOptions> = {}): Readonly<BackoffOptions> {
  const resolved = { ...DEFAULT_BACKOFF, ...options };
  const { initialMs, maxMs, factor, jitter, maxAttempts } = resolved;
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new RangeError(`Invalid backoff option: ${what}.`);
  };
  check(Number.isFinite(initialMs) && initialMs >= 0, `initialMs must be a finite number ≥ 0, got ${initialMs}`);
  check(Number.isFinite(maxMs) && maxMs >= initialMs, `maxMs must be a finite number ≥ initialMs, got ${maxMs}`);
  check(Number.isFinite(factor) && factor >= 1, `factor must be a finite number ≥ 1, got ${factor}`);
  check(jitter >= 0 && jitter <= 1, `jitter must be between 0 and 1, got ${jitter}`);
  check(maxAttempts >= 1, `maxAttempts must be ≥ 1 (or Infinity), got ${maxAttempts}`);
  return Object.freeze(resolved);
}

/**
 * The delay before reconnection attempt number `attempt` (0 for the first after a drop), in whole
 * ms: `min(maxMs, initialMs × factor^attempt)`, less up to `jitter` of it at random.
 *
 * @param random a source of numbers in [0, 1); inject a constant in tests.
 * @example
 * const opts = resolveBackoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 });
 * backoffDelay(0, opts, () => 0.5); // 75
 * backoffDelay(9, opts, () => 0.5); // 750 (capped at 1000, then jittered)
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const capped = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(capped * (1 - options.jitter * (Number.isNaN(r) ? 0 : r)));
}
