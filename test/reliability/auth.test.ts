/**
 * Issue 7: API keys are compared in constant time. The store compares the digest of the offered
 * key with EVERY configured key's digest on EVERY lookup — no early exit on a match, none on a
 * miss — so how long a lookup takes says nothing about which key, or how much of one, was right.
 */
// The module object itself (an `import * as` namespace is a frozen copy that cannot be spied on).
const crypto = require('node:crypto') as typeof import('node:crypto');
import { ApiKeyStore } from '../../src/gateway/auth';

const KEYS = ['k-one-0001', 'k-two-0002', 'k-three-0003', 'k-four-0004', 'k-five-0005'].map((key, i) => ({
  key,
  userId: `u${i}`,
  broker: 'b',
}));

describe('ApiKeyStore', () => {
  let spy: jest.SpyInstance;
  beforeEach(() => {
    spy = jest.spyOn(crypto, 'timingSafeEqual');
  });
  afterEach(() => spy.mockRestore());

  it.each([
    ['the first key', KEYS[0]!.key, 'u0'],
    ['the last key', KEYS[4]!.key, 'u4'],
    ['a middle key', KEYS[2]!.key, 'u2'],
    ['a wrong key', 'nope', undefined],
    ['a prefix of a key', KEYS[0]!.key.slice(0, 5), undefined],
    ['a key with one character changed', KEYS[1]!.key.slice(0, -1) + 'X', undefined],
    ['an empty key', '', undefined],
    ['a very long key', 'x'.repeat(100_000), undefined],
  ])('compares %s with every configured key, through timingSafeEqual on equal-length digests', (_name, offered, user) => {
    const store = new ApiKeyStore(KEYS);
    spy.mockClear();
    expect(store.lookup(offered)?.userId).toBe(user);
    expect(spy).toHaveBeenCalledTimes(KEYS.length);
    for (const [a, b] of spy.mock.calls as [Buffer, Buffer][]) {
      expect(a.length).toBe(32);
      expect(b.length).toBe(32);
    }
    // Each configured key's digest exactly once.
    const seen = new Set((spy.mock.calls as [Buffer, Buffer][]).map(([, b]) => b.toString('hex')));
    expect(seen.size).toBe(KEYS.length);
  });

  it('keeps no key in clear: only digests are held', () => {
    const store = new ApiKeyStore(KEYS);
    const dump = JSON.stringify(store, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
    for (const { key } of KEYS) expect(dump).not.toContain(key);
  });
});
