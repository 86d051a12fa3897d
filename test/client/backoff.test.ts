import { backoffDelay, DEFAULT_BACKOFF, resolveBackoff } from '../../src/client';

describe('backoffDelay', () => {
  const options = resolveBackoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 });

  it('grows by the factor per attempt and stops at maxMs, before jitter', () => {
    const noJitter = () => 0;
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, options, noJitter))).toStrictEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('takes off up to `jitter` of the delay, in proportion to the random number', () => {
    expect(backoffDelay(3, options, () => 0.5)).toBe(600);
    expect(backoffDelay(3, options, () => 0.999)).toBe(400);
    expect(backoffDelay(9, options, () => 0.25)).toBe(875);
  });

  it('keeps the delay inside [d × (1 − jitter), d] whatever the random source returns', () => {
    expect(backoffDelay(0, options, () => 7)).toBe(50);
    expect(backoffDelay(0, options, () => -3)).toBe(100);
    expect(backoffDelay(0, options, () => Number.NaN)).toBe(100);
  });

  it('does not overflow for very large attempt numbers', () => {
    expect(backoffDelay(10_000, options, () => 0)).toBe(1000);
  });
});

describe('resolveBackoff', () => {
  it('fills in the defaults', () => {
    expect(resolveBackoff({ initialMs: 250 })).toStrictEqual({ ...DEFAULT_BACKOFF, initialMs: 250 });
    expect(DEFAULT_BACKOFF).toStrictEqual({ initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5, maxAttempts: Infinity });
  });

  it.each([
    [{ initialMs: -1 }, 'initialMs must be a finite number ≥ 0, got -1'],
    [{ initialMs: 2000, maxMs: 1000 }, 'maxMs must be a finite number ≥ initialMs, got 1000'],
    [{ factor: 0.5 }, 'factor must be a finite number ≥ 1, got 0.5'],
    [{ jitter: 1.5 }, 'jitter must be between 0 and 1, got 1.5'],
    [{ maxAttempts: 0 }, 'maxAttempts must be ≥ 1 (or Infinity), got 0'],
  ])('rejects %j', (input, message) => {
    expect(() => resolveBackoff(input)).toThrow(new RangeError(`Invalid backoff option: ${message}.`));
  });
});
