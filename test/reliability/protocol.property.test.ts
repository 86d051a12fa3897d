/**
 * Issue 7, property-based checks of the gateway's pure guards: the nesting scan that keeps
 * `JSON.stringify` from overflowing on echoed values, and the control-rate token bucket.
 */
import fc from 'fast-check';
import { nestsDeeperThan } from '../../src/gateway/protocol';
import { ControlRateLimiter } from '../../src/gateway/rateLimiter';
import { deepJson } from '../helpers/arbitraries';
import { nestingOf } from '../helpers/protocolModel';

describe('nestsDeeperThan', () => {
  it('agrees with the parsed value’s nesting for any JSON text, strings full of brackets included', () => {
    const bracketString = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a'), maxLength: 12 });
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        bracketString,
        fc.integer(),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(bracketString, tie('v'), { maxKeys: 3 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 8 }), (v, max) => {
        const text = JSON.stringify(v);
        expect(nestsDeeperThan(text, max)).toBe(nestingOf(v) > max);
      }),
      { seed: 0x5ca1, numRuns: 2000 },
    );
  });

  it.each([
    [32, false],
    [33, true],
    [100_000, true],
  ])('flags arrays and objects nested %i deep against a limit of 32: %s', (n, deeper) => {
    expect(nestsDeeperThan(deepJson(n, false), 32)).toBe(deeper);
    expect(nestsDeeperThan(deepJson(n, true), 32)).toBe(deeper);
  });
});

describe('ControlRateLimiter', () => {
  const options = fc.record({
    ratePerS: fc.integer({ min: 1, max: 500 }),
    burst: fc.integer({ min: 1, max: 300 }),
    floodCloseMs: fc.integer({ min: 1, max: 5000 }),
  });
  /** Arrival times: gaps of 0–50 ms, often under 4 ms so the bucket runs dry. */
  const arrivals = fc
    .array(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 50 })), { minLength: 1, maxLength: 600 })
    .map((gaps) => {
      let t = 1_000_000;
      return gaps.map((g) => (t += g));
    });

  it('never lets through more than burst + rate × elapsed messages', () => {
    fc.assert(
      fc.property(options, arrivals, (o, times) => {
        const start = times[0] as number;
        const limiter = new ControlRateLimiter(o, start);
        let ok = 0;
        for (const t of times) {
          if (limiter.take(t) === 'ok') ok++;
          expect(ok).toBeLessThanOrEqual(o.burst + (o.ratePerS * (t - start)) / 1000 + 1e-9);
        }
      }),
      { seed: 0x1a7e, numRuns: 500 },
    );
  });

  it('lets exactly burst messages through at one instant, then limits, and a pause of burst/rate refills it all', () => {
    fc.assert(
      fc.property(options, (o) => {
        const limiter = new ControlRateLimiter({ ...o, floodCloseMs: 1e9 }, 0);
        for (let round = 0; round < 2; round++) {
          const t = round * Math.ceil((o.burst / o.ratePerS) * 1000);
          const decisions = Array.from({ length: o.burst + 1 }, () => limiter.take(t));
          expect(decisions.slice(0, o.burst).every((d) => d === 'ok')).toBe(true);
          expect(decisions[o.burst]).toBe('limited');
        }
      }),
      { seed: 0xb0b, numRuns: 300 },
    );
  });

  it('calls it a flood only after limiting has gone on for floodCloseMs', () => {
    fc.assert(
      fc.property(options, arrivals, (o, times) => {
        const limiter = new ControlRateLimiter(o, times[0] as number);
        let limitedSince: number | undefined;
        let lastLimited = -Infinity;
        for (const t of times) {
          const d = limiter.take(t);
          if (d === 'ok') continue;
          // A pause of more than a second without limiting ends a flood (floodResetMs default).
          if (limitedSince === undefined || t - lastLimited > 1000) limitedSince = t;
          lastLimited = t;
          expect(d).toBe(t - limitedSince >= o.floodCloseMs ? 'flood' : 'limited');
        }
      }),
      { seed: 0xf100d, numRuns: 500 },
    );
  });
});
