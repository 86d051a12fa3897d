import fc from 'fast-check';
import { normalizeBook } from '../../streams';

/** Fixed seeds: a failure found once is found again on every run. */
const RUNS = { seed: 20240501, numRuns: 300 } as const;

type Side = 'bid' | 'ask';

/** The oracle's own reading of a level's price: numbers as they are, non-blank strings as numbers. */
function priceOf(level: unknown): number {
  const p = Array.isArray(level)
    ? level[0]
    : level !== null && typeof level === 'object'
      ? (level as Record<string, unknown>)['price']
      : undefined;
  if (typeof p === 'number') return p;
  if (typeof p === 'string' && p.trim() !== '') return Number(p);
  return NaN;
}

/** What a side must become: levels with a finite price, in book order (ties keep input order), capped. */
function expectedSide(levels: readonly unknown[], side: Side, maxLevels: number): unknown[] {
  return levels
    .map((level, index) => ({ level, index, price: priceOf(level) }))
    .filter((l) => Number.isFinite(l.price))
    .sort((a, b) => (side === 'bid' ? b.price - a.price : a.price - b.price) || a.index - b.index)
    .slice(0, maxLevels)
    .map((l) => l.level);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// Small integer ranges so equal prices (ties) are common.
const goodPrice = fc.oneof(
  fc.integer({ min: 90, max: 110 }),
  fc.double({ min: 90, max: 110, noNaN: true }),
  fc.integer({ min: 180, max: 220 }).map((n) => String(n / 2)),
);
const badPrice = fc.constantFrom(NaN, Infinity, -Infinity, null, '', '  ', 'abc', true);
const price = fc.oneof({ weight: 5, arbitrary: goodPrice }, { weight: 1, arbitrary: badPrice });
const levelObject = fc.oneof(
  { weight: 8, arbitrary: fc.record({ price, quantity: fc.nat(1000), orders: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ quantity: fc.nat(1000), orders: fc.nat(50) }) }, // no price at all
);
const levelPair = fc.oneof(fc.tuple(price, fc.nat(1000)), fc.tuple(price, fc.nat(1000), fc.nat(50)));
const sideOf = (level: fc.Arbitrary<unknown>) => fc.array(level, { maxLength: 12 });
const maxLevels = fc.integer({ min: 0, max: 8 });

/** `depth: { buy, sell }` books of level objects, a side sometimes missing. */
const depthBook = fc.record(
  { ltp: fc.integer(), depth: fc.record({ buy: sideOf(levelObject), sell: sideOf(levelObject) }, { requiredKeys: [] }) },
  { requiredKeys: ['depth'] },
);
/** `bids`/`asks` books of level objects or of `[price, quantity]` pairs, a side sometimes missing. */
const bidsAsks = (level: fc.Arbitrary<unknown>) =>
  fc.record({ ltp: fc.integer(), bids: sideOf(level), asks: sideOf(level) }, { requiredKeys: [] });
const bidsAsksBook = fc.oneof(bidsAsks(levelObject), bidsAsks(levelPair));

/** The sides of a book in either shape, for the assertions. */
function sides(book: Record<string, unknown>): { bid: unknown; ask: unknown } {
  const depth = book['depth'] as Record<string, unknown> | undefined;
  return depth ? { bid: depth['buy'], ask: depth['sell'] } : { bid: book['bids'], ask: book['asks'] };
}

describe('normalizeBook (properties)', () => {
  it.each([
    ['depth: { buy, sell }', depthBook],
    ['bids/asks', bidsAsksBook],
  ] as const)(
    'sorts each side of a %s book into book order, drops levels without a finite price, caps at maxLevels',
    (_shape, book) => {
      fc.assert(
        fc.property(book, maxLevels, (input, max) => {
          const out = normalizeBook(input as Record<string, unknown>, { maxLevels: max });
          const before = sides(input as Record<string, unknown>);
          const after = sides(out);
          for (const side of ['bid', 'ask'] as const) {
            const levels = before[side];
            if (!Array.isArray(levels)) {
              expect(after[side]).toBe(levels);
              continue;
            }
            const expected = expectedSide(levels, side, max);
            expect(after[side]).toEqual(expected);
            // The very same level objects, not copies.
            (after[side] as unknown[]).forEach((level, i) => expect(level).toBe(expected[i]));
          }
        }),
        RUNS,
      );
    },
  );

  it('returns the shape it was given: the same keys, other fields untouched, depth stays depth', () => {
    fc.assert(
      fc.property(fc.oneof(depthBook, bidsAsksBook), maxLevels, (input, max) => {
        const record = input as Record<string, unknown>;
        const out = normalizeBook(record, { maxLevels: max });
        expect(Object.keys(out).sort()).toEqual(Object.keys(record).sort());
        expect(out['ltp']).toBe(record['ltp']);
        const depth = record['depth'] as Record<string, unknown> | undefined;
        if (depth) expect(Object.keys(out['depth'] as object).sort()).toEqual(Object.keys(depth).sort());
      }),
      RUNS,
    );
  });

  it('is idempotent: normalising its own output returns that very object', () => {
    fc.assert(
      fc.property(fc.oneof(depthBook, bidsAsksBook), maxLevels, (input, max) => {
        const once = normalizeBook(input as Record<string, unknown>, { maxLevels: max });
        const twice = normalizeBook(once, { maxLevels: max });
        expect(twice).toBe(once);
        expect(twice).toEqual(once);
      }),
      RUNS,
    );
  });

  it('never mutates its input', () => {
    fc.assert(
      fc.property(fc.oneof(depthBook, bidsAsksBook), maxLevels, (input, max) => {
        const copy = structuredClone(input);
        // Frozen, so an in-place sort or splice throws instead of passing unnoticed.
        normalizeBook(deepFreeze(input) as Record<string, unknown>, { maxLevels: max });
        expect(input).toEqual(copy);
      }),
      RUNS,
    );
  });

  describe('an already-sorted book', () => {
    let sort: jest.SpyInstance;
    beforeEach(() => {
      sort = jest.spyOn(Array.prototype, 'sort');
    });
    afterEach(() => {
      sort.mockRestore();
    });

    const sortedSide = (side: Side) =>
      fc
        .array(fc.record({ price: goodPrice, quantity: fc.nat(1000) }), { maxLength: 12 })
        .map((levels) => expectedSide(levels, side, Infinity) as { price: unknown; quantity: number }[]);

    it('is returned as it is, in order, with sort never called, when within maxLevels', () => {
      fc.assert(
        fc.property(sortedSide('bid'), sortedSide('ask'), (buy, sell) => {
          const input = { ltp: 1, depth: { buy, sell } };
          sort.mockClear();
          const out = normalizeBook(input, { maxLevels: 12 });
          expect(sort).not.toHaveBeenCalled();
          expect(out).toBe(input);
        }),
        RUNS,
      );
    });

    it('is only cut to maxLevels, with sort never called, when longer', () => {
      fc.assert(
        fc.property(sortedSide('bid'), sortedSide('ask'), maxLevels, (bids, asks, max) => {
          const input = { bids, asks };
          sort.mockClear();
          const out = normalizeBook(input, { maxLevels: max });
          expect(sort).not.toHaveBeenCalled();
          expect(out.bids).toEqual(bids.slice(0, max));
          expect(out.asks).toEqual(asks.slice(0, max));
        }),
        RUNS,
      );
    });

    it('(control) an unsorted side is sorted, and the spy sees it', () => {
      const out = normalizeBook({ bids: [{ price: 1 }, { price: 2 }] });
      expect(sort).toHaveBeenCalledTimes(1);
      expect(out.bids).toEqual([{ price: 2 }, { price: 1 }]);
    });
  });
});

describe('normalizeBook (examples)', () => {
  it('sorts the documented example', () => {
    expect(
      normalizeBook({
        depth: {
          buy: [
            { price: 1, quantity: 5 },
            { price: 2, quantity: 1 },
          ],
          sell: [],
        },
      }),
    ).toStrictEqual({
      depth: {
        buy: [
          { price: 2, quantity: 1 },
          { price: 1, quantity: 5 },
        ],
        sell: [],
      },
    });
  });

  it('orders [price, quantity] pairs with string prices by their numeric value, not as text', () => {
    const out = normalizeBook({ bids: [['9.5', '1'], ['10', '2'], ['100', '3']], asks: [['100', '1'], ['9.5', '2']] });
    expect(out).toStrictEqual({
      bids: [
        ['100', '3'],
        ['10', '2'],
        ['9.5', '1'],
      ],
      asks: [
        ['9.5', '2'],
        ['100', '1'],
      ],
    });
  });

  it('drops levels whose price is NaN, missing, blank or not a number', () => {
    const out = normalizeBook({
      depth: {
        buy: [{ price: NaN }, { quantity: 1 }, { price: '' }, { price: 'x' }, { price: 5 }, { price: null }],
        sell: [[Infinity, 1], [3, 1]],
      },
    });
    expect(out).toStrictEqual({ depth: { buy: [{ price: 5 }], sell: [[3, 1]] } });
  });

  it.each([
    [0, []],
    [2.7, [3, 2]],
    [-1, []],
  ])('caps at maxLevels %p (floored, never negative)', (max, prices) => {
    const out = normalizeBook({ bids: [[3, 1], [2, 1], [1, 1]] }, { maxLevels: max });
    expect((out.bids as number[][]).map((l) => l[0])).toEqual(prices);
  });

  it('caps at 50 levels by default', () => {
    const bids = Array.from({ length: 60 }, (_, i) => ({ price: 100 - i, quantity: 1 }));
    expect(normalizeBook({ bids }).bids).toEqual(bids.slice(0, 50));
  });

  it.each([null, 42, 'text', [1, 2], { ltp: 1 }, { depth: [1, 2] }])('returns %p, which carries no book, as it is', (value) => {
    expect(normalizeBook(value)).toBe(value);
  });
});
