import fc from 'fast-check';
import { decodeToken, encodeToken, keySubject, parseKeySubject } from '../../src/nats/subject';

/** Fixed seed: a failure found once is found again on every run. */
const RUNS = { seed: 20250801, numRuns: 1000 } as const;

/** Strings of any Unicode (well-formed UTF-16), biased towards the characters NATS treats specially. */
const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }),
  fc.string({
    unit: fc.constantFrom('.', '*', '>', ' ', '\t', ':', '%', '_', '-', 'A', 'z', '9', 'é', '€', '𝄞'),
    minLength: 1,
    maxLength: 12,
  }),
);
const TOKEN = /^[A-Za-z0-9_%-]+$/;

describe('encodeToken / decodeToken', () => {
  it('round-trips every non-empty string, and the token is one plain NATS token', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const token = encodeToken(s);
        expect(token).toMatch(TOKEN);
        expect(decodeToken(token)).toBe(s);
      }),
      RUNS,
    );
  });

  it('is canonical: a token that decodes re-encodes to itself', () => {
    const tokenish = fc.string({
      unit: fc.constantFrom('%', 'A', 'a', '2', 'E', 'F', '3', '_', '-', '0', 'C', '8'),
      minLength: 1,
      maxLength: 12,
    });
    fc.assert(
      fc.property(tokenish, (t) => {
        const s = decodeToken(t);
        if (s !== null) expect(encodeToken(s)).toBe(t);
      }),
      RUNS,
    );
  });

  it('keeps safe symbols as they are and escapes the rest byte by byte', () => {
    expect(encodeToken('RELIANCE')).toBe('RELIANCE');
    expect(encodeToken('SOL_INR')).toBe('SOL_INR');
    expect(encodeToken('NIFTY-I')).toBe('NIFTY-I');
    expect(encodeToken('TCS:50')).toBe('TCS%3A50');
    expect(encodeToken('BTC.USD')).toBe('BTC%2EUSD');
    expect(encodeToken('A*B>C D')).toBe('A%2AB%3EC%20D');
    expect(encodeToken('50%')).toBe('50%25');
    expect(encodeToken('€')).toBe('%E2%82%AC');
  });

  it('rejects what encodeToken never produces', () => {
    for (const bad of ['', 'A.B', 'A B', '%', '%4', '%zz', '%3a', '%41', '%FF', '%C3', 'TCS:50']) {
      expect(decodeToken(bad)).toBeNull();
    }
  });
});

describe('keySubject / parseKeySubject', () => {
  it('names a key as tickcast.md.<exchange>.<symbol>.<mode> and reads it back', () => {
    expect(keySubject({ exchange: 'NSE', symbol: 'TCS:50', mode: 3 })).toBe('tickcast.md.NSE.TCS%3A50.depth');
    expect(keySubject({ exchange: 'NSE_INDEX', symbol: 'NIFTY 50', mode: 1 })).toBe('tickcast.md.NSE_INDEX.NIFTY%2050.ltp');
    fc.assert(
      fc.property(anyText, anyText, fc.constantFrom(1 as const, 2 as const, 3 as const), (exchange, symbol, mode) => {
        const subject = keySubject({ exchange, symbol, mode });
        expect(subject.split('.')).toHaveLength(5);
        expect(parseKeySubject(subject)).toEqual({ exchange, symbol, mode });
      }),
      RUNS,
    );
  });

  it('returns null for subjects that are not market data', () => {
    for (const bad of [
      'tickcast.md.NSE.TCS',
      'tickcast.md.NSE.TCS.ltp.x',
      'tickcast.md.NSE.TCS.LTP',
      'other.md.NSE.TCS.ltp',
      'tickcast.md.N%3a.TCS.ltp',
    ]) {
      expect(parseKeySubject(bad)).toBeNull();
    }
  });
});
