import fc from 'fast-check';
import { type Bar, barSizeLabel, barTime, CandleSeries, SymbolBars, tickTime } from '../../src/page/candles';

const T0 = Date.UTC(2025, 0, 30, 9, 15, 0); // a bar boundary for every size
type Ohlcv = Omit<Bar, 'closeAt'>;
const bar = (time: number, open: number, high: number, low: number, close: number, volume = 0): Ohlcv => ({
  time,
  open,
  high,
  low,
  close,
  volume,
});
/** The bars without their bookkeeping. */
const ohlcv = (bars: readonly Bar[] | undefined): Ohlcv[] =>
  (bars ?? []).map(({ time, open, high, low, close, volume }) => ({ time, open, high, low, close, volume }));

describe('candles', () => {
  it('starts a bar at the multiple of its size the tick falls in', () => {
    expect(barTime(T0 + 4_999, 5)).toBe(T0 / 1000);
    expect(barTime(T0 + 5_000, 5)).toBe(T0 / 1000 + 5);
    expect(barTime(T0 + 59_999, 60)).toBe(T0 / 1000);
    expect(barTime(T0 + 299_999, 300)).toBe(T0 / 1000);
    expect([5, 60, 300].map(barSizeLabel)).toEqual(['5s', '1m', '5m']);
  });

  it('folds ticks into open, high, low, close per bar', () => {
    const s = new CandleSeries(5);
    expect(s.add(100, T0)).toBe('last');
    s.add(103, T0 + 1000);
    s.add(99, T0 + 2000);
    s.add(101, T0 + 4999);
    expect(s.add(102, T0 + 5000)).toBe('last');
    expect(ohlcv(s.bars)).toEqual([bar(T0 / 1000, 100, 103, 99, 101), bar(T0 / 1000 + 5, 102, 102, 102, 102)]);
    expect(s.hasVolume).toBe(false);
  });

  it('takes bar volume from the growth of the cumulative day volume, and a repeated tick adds nothing', () => {
    const s = new CandleSeries(5);
    s.add(100, T0, 1000); // the first reading is the day so far, not this bar's
    s.add(100, T0 + 1000, 1040);
    s.add(100, T0 + 1000, 1040); // the same tick again (a reconnect's replay)
    s.add(101, T0 + 6000, 1100);
    s.add(101, T0 + 7000); // an LTP tick: no volume
    expect(s.bars.map((b) => b.volume)).toEqual([40, 60]);
    expect(s.hasVolume).toBe(true);
  });

  it('never moves the close back in time for a late tick, but counts it in high and low', () => {
    const s = new CandleSeries(5);
    s.add(100, T0 + 3000);
    s.add(90, T0 + 1000);
    expect(ohlcv(s.bars)).toEqual([bar(T0 / 1000, 100, 100, 90, 100)]);
  });

  it('puts a late tick into its own earlier bar and says the series must be redrawn', () => {
    const s = new CandleSeries(5);
    s.add(100, T0);
    s.add(110, T0 + 10_000);
    expect(s.add(105, T0 + 6000)).toBe('older'); // the gap bar between them
    expect(s.add(104, T0 + 1000)).toBe('older');
    expect(s.bars.map((b) => [b.time - T0 / 1000, b.close])).toEqual([
      [0, 104],
      [5, 105],
      [10, 110],
    ]);
    expect(s.add(1, T0 - 60_000)).toBe('none'); // before every bar kept
    expect(s.add(Number.NaN, T0 + 11_000)).toBe('none');
  });

  it('keeps at most its last maxBars bars', () => {
    const s = new CandleSeries(5, 3);
    for (let i = 0; i < 5; i++) s.add(100 + i, T0 + i * 5000);
    expect(s.bars.map((b) => b.close)).toEqual([102, 103, 104]);
  });

  it('uses the publisher timestamp when plausible, else the time the page received the tick', () => {
    expect(tickTime(T0 - 500, T0)).toBe(T0 - 500);
    expect(tickTime(undefined, T0)).toBe(T0);
    expect(tickTime(T0 / 1000, T0)).toBe(T0); // seconds, not ms: implausible
    expect(tickTime('x', T0)).toBe(T0);
  });

  it('folds every tick into every bar size and counts versions and rewrites', () => {
    const bars = new SymbolBars([5, 60]);
    bars.add(100, T0);
    bars.add(101, T0 + 7000);
    bars.add(99, T0 + 2000);
    expect(bars.version).toBe(3);
    expect(bars.rewrites).toBe(1); // the 5 s series changed an earlier bar; the 1 m one its last
    expect(ohlcv(bars.series.get(60)?.bars)).toEqual([bar(T0 / 1000, 100, 101, 99, 101)]);
  });

  /** Ticks at arbitrary times within an hour, some repeated, in any order: what a feed with reconnects can deliver. */
  const ticks = fc.array(
    fc.record({
      price: fc.integer({ min: 1, max: 10_000 }),
      at: fc.integer({ min: 0, max: 3_600_000 }),
      volume: fc.option(fc.nat(1_000_000), { nil: undefined }),
    }),
    { maxLength: 200 },
  );

  it('property: bars are ascending and unique, each tick is inside its bar, and in-order ticks give the reference OHLC', () => {
    fc.assert(
      fc.property(ticks, fc.constantFrom(5, 60, 300), (list, size) => {
        const s = new CandleSeries(size);
        for (const t of list) s.add(t.price, T0 + t.at, t.volume);
        for (let i = 1; i < s.bars.length; i++) expect(s.bars[i]!.time).toBeGreaterThan(s.bars[i - 1]!.time);
        for (const b of s.bars) {
          expect(b.time % size).toBe(0);
          expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
          expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
        }
        // Every tick at or after the first bar is within its bar's range.
        const first = s.bars[0]?.time ?? Infinity;
        for (const t of list) {
          const time = barTime(T0 + t.at, size);
          if (time < first) continue;
          const b = s.bars.find((x) => x.time === time)!;
          expect(t.price).toBeGreaterThanOrEqual(b.low);
          expect(t.price).toBeLessThanOrEqual(b.high);
        }

        // Sorted by time, the ticks give exactly the bars of a plain group-by.
        const sorted = [...list].sort((a, b) => a.at - b.at);
        const inOrder = new CandleSeries(size);
        for (const t of sorted) inOrder.add(t.price, T0 + t.at);
        const reference = new Map<number, Ohlcv>();
        for (const t of sorted) {
          const time = barTime(T0 + t.at, size);
          const b = reference.get(time);
          if (!b) reference.set(time, bar(time, t.price, t.price, t.price, t.price));
          else Object.assign(b, { high: Math.max(b.high, t.price), low: Math.min(b.low, t.price), close: t.price });
        }
        expect(ohlcv(inOrder.bars)).toEqual([...reference.values()]);
      }),
      { numRuns: 300 },
    );
  });

  it('property: a reconnect that replays ticks already seen changes no bar', () => {
    fc.assert(
      fc.property(ticks, fc.nat(200), (list, cut) => {
        const sorted = [...list].sort((a, b) => a.at - b.at);
        const once = new CandleSeries(5);
        for (const t of sorted) once.add(t.price, T0 + t.at, t.volume);
        // The same ticks, with everything from `cut` back delivered again after the "reconnect".
        const replayed = new CandleSeries(5);
        const from = Math.min(cut, sorted.length);
        for (const t of [...sorted, ...sorted.slice(Math.max(0, from - 3), from)]) replayed.add(t.price, T0 + t.at, t.volume);
        expect(replayed.bars.map(({ time, open, high, low }) => ({ time, open, high, low }))).toEqual(
          once.bars.map(({ time, open, high, low }) => ({ time, open, high, low })),
        );
        expect(replayed.bars.length).toBe(once.bars.length);
      }),
      { numRuns: 300 },
    );
  });
});
