import fc from 'fast-check';
import { normalizeBook, normalizeSide } from '../../streams';

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
  ] as const)('sorts each side of a %s book into book order, drops levels without a finite price, caps at maxLevels', (_shape, book) => {
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
  });

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
    /** Levels whose price getter counts its reads: a sorted side is read once, never sorted again. */
    let reads = 0;
    const counted = (levels: readonly { price: unknown; quantity: number }[]) =>
      levels.map(({ price, quantity }) => ({
        get price() {
          reads++;
          return price;
        },
        quantity,
      }));
    const sortedSide = (side: Side) =>
      fc
        .array(fc.record({ price: goodPrice, quantity: fc.nat(1000) }), { maxLength: 12 })
        .map((levels) => expectedSide(levels, side, Infinity) as { price: unknown; quantity: number }[]);

    it('is returned as it is, each price read once, when within maxLevels', () => {
      fc.assert(
        fc.property(sortedSide('bid'), sortedSide('ask'), (buy, sell) => {
          const input = { ltp: 1, depth: { buy: counted(buy), sell: counted(sell) } };
          reads = 0;
          const out = normalizeBook(input, { maxLevels: 12 });
          expect(reads).toBe(buy.length + sell.length);
          expect(out).toBe(input);
        }),
        RUNS,
      );
    });

    it('is only cut to maxLevels, each price read once, when longer', () => {
      fc.assert(
        fc.property(sortedSide('bid'), sortedSide('ask'), maxLevels, (b, a, max) => {
          const bids = counted(b);
          const asks = counted(a);
          reads = 0;
          const out = normalizeBook({ bids, asks }, { maxLevels: max });
          expect(reads).toBe(bids.length + asks.length);
          expect(out.bids).toHaveLength(Math.min(max, bids.length));
          expect(out.asks).toHaveLength(Math.min(max, asks.length));
          out.bids.forEach((level, i) => expect(level).toBe(bids[i]));
          out.asks.forEach((level, i) => expect(level).toBe(asks[i]));
        }),
        RUNS,
      );
    });

    it('(control) an unsorted side is sorted, and its prices are read again', () => {
      const bids = counted([
        { price: 1, quantity: 5 },
        { price: 2, quantity: 1 },
      ]);
      reads = 0;
      const out = normalizeBook({ bids });
      expect(reads).toBe(4);
      expect(out.bids).toEqual([bids[1], bids[0]]);
    });
  });

  describe('normalizeSide against a plain stable sort', () => {
    // Longer sides than above, few distinct prices (many ties), caps below and above the length:
    // the insertion sort keeps only the best maxLevels as it goes, so the cap is where it can differ.
    const tiedPrice = fc.oneof(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 2, max: 12 }).map((n) => String(n / 2)),
      fc.constantFrom(1400.05, 1400.1, 1399.95),
    );
    const anyPrice = fc.oneof({ weight: 6, arbitrary: tiedPrice }, { weight: 1, arbitrary: badPrice });
    const objects = fc.array(
      fc.oneof(
        { weight: 8, arbitrary: fc.record({ price: anyPrice, quantity: fc.nat(1000), orders: fc.nat(50) }) },
        { weight: 1, arbitrary: fc.record({ quantity: fc.nat(1000) }) },
      ),
      { maxLength: 120 },
    );
    const pairs = fc.array(fc.oneof(fc.tuple(anyPrice, fc.nat(1000)), fc.tuple(anyPrice, fc.nat(1000), fc.nat(50))), {
      maxLength: 120,
    });

    it.each([
      ['{ price, quantity, orders } objects', objects],
      ['[price, quantity] pairs', pairs],
    ] as const)('gives the same levels, in the same order, as filter + stable sort + slice, for %s', (_shape, sideArb) => {
      fc.assert(
        fc.property(sideArb, fc.constantFrom<Side>('bid', 'ask'), fc.integer({ min: 0, max: 130 }), (levels, side, max) => {
          const out = normalizeSide(levels as readonly unknown[], side, max);
          const expected = expectedSide(levels, side, max);
          expect(out).toHaveLength(expected.length);
          out.forEach((level, i) => expect(level).toBe(expected[i]));
        }),
        RUNS,
      );
    });

    it('does not mutate the side it sorts', () => {
      fc.assert(
        fc.property(objects, fc.constantFrom<Side>('bid', 'ask'), fc.integer({ min: 0, max: 60 }), (levels, side, max) => {
          const copy = [...levels];
          deepFreeze(levels);
          normalizeSide(levels, side, max);
          expect(levels).toEqual(copy);
        }),
        RUNS,
      );
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
    const out = normalizeBook({
      bids: [
        ['9.5', '1'],
        ['10', '2'],
        ['100', '3'],
      ],
      asks: [
        ['100', '1'],
        ['9.5', '2'],
      ],
    });
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
        sell: [
          [Infinity, 1],
          [3, 1],
        ],
      },
    });
    expect(out).toStrictEqual({ depth: { buy: [{ price: 5 }], sell: [[3, 1]] } });
  });

  it.each([
    [0, []],
    [2.7, [3, 2]],
    [-1, []],
  ])('caps at maxLevels %p (floored, never negative)', (max, prices) => {
    const out = normalizeBook(
      {
        bids: [
          [3, 1],
          [2, 1],
          [1, 1],
        ],
      },
      { maxLevels: max },
    );
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
