/**
 * Candles built in the page from the ticks it receives: pure data, no DOM and no chart library, so
 * it is tested in Node. The dashboard keeps one {@link CandleSeries} per symbol and bar size for as
 * long as the symbol is on the watchlist, across reconnects: a reconnect only resumes the ticks, it
 * never starts the bars again, so the chart neither repeats nor loses a bar.
 */

/** The bar sizes the chart offers, in seconds: short enough to fill a chart a few minutes after opening. */
export const BAR_SIZES = [5, 60, 300] as const;
/** One of {@link BAR_SIZES}. */
export type BarSize = (typeof BAR_SIZES)[number];
/** The bar size the chart opens with. */
export const DEFAULT_BAR_SIZE: BarSize = 5;
/** Bars kept per series; older ones are dropped (an hour of 5 s bars, days of 5 min bars). */
export const MAX_BARS = 1000;

/** One candle. */
export interface Bar {
  /** The bar's start, in UTC seconds: a multiple of its size. */
  readonly time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** What traded in the bar, from the feed's cumulative day volume; 0 when the feed sends none. */
  volume: number;
  /** When (epoch ms) the tick that set `close` happened: a later tick moves the close, an earlier one does not. */
  closeAt: number;
}

/** What {@link CandleSeries.add} changed. */
export type BarChange =
  /** The last bar (updated, or new at the end): the chart can update it alone. */
  | 'last'
  /** An earlier bar (a late tick): the chart must take the whole series again. */
  | 'older'
  /** Nothing: the tick is older than every bar kept, or its price is not a positive number. */
  | 'none';

/** `"5s"`, `"1m"`, `"5m"`: a bar size as its switch reads. */
export function barSizeLabel(size: number): string {
  return size < 60 ? `${size}s` : `${size / 60}m`;
}

/** The start (UTC seconds) of the `size`-second bar that epoch ms `at` falls in. */
export function barTime(at: number, size: number): number {
  return Math.floor(at / 1000 / size) * size;
}

/**
 * When a tick happened: the publisher's `timestamp` (epoch ms) when it is a plausible one, else
 * `now`, when the page received it. Bars follow the exchange's clock, so a tick replayed after a
 * reconnect lands in the bar it belongs to, not in the bar of the moment it arrived.
 */
export function tickTime(timestamp: unknown, now: number): number {
  const DAY_MS = 86_400_000;
  return typeof timestamp === 'number' && Number.isFinite(timestamp) && Math.abs(timestamp - now) < DAY_MS ? timestamp : now;
}

/**
 * The bars of one symbol at one size. Ticks may come late or twice (a reconnect's first ticks, a
 * tick on several modes): each lands in its own bar, a late one never moves a bar's close back in
 * time, and volume is taken from the growth of the feed's cumulative day volume, so a tick seen
 * twice adds nothing.
 */
export class CandleSeries {
  /** Oldest first; times strictly ascending, one bar per time. */
  readonly bars: Bar[] = [];
  /** True once a tick carried volume: only then does the chart draw a volume histogram. */
  hasVolume = false;
  /** The feed's cumulative volume at the last tick that carried it. */
  private dayVolume: number | undefined;

  constructor(
    readonly size: number,
    private readonly maxBars = MAX_BARS,
  ) {}

  /** The last bar, if any. */
  get last(): Bar | undefined {
    return this.bars[this.bars.length - 1];
  }

  /**
   * Folds a trade at `price` that happened at epoch ms `at`, with the feed's cumulative day
   * `volume` when the tick has one.
   */
  add(price: number, at: number, volume?: number): BarChange {
    if (!Number.isFinite(price) || price <= 0 || !Number.isFinite(at)) return 'none';
    const traded = this.traded(volume);
    const time = barTime(at, this.size);
    const last = this.last;
    if (!last || time > last.time) {
      this.bars.push({ time, open: price, high: price, low: price, close: price, volume: traded, closeAt: at });
      if (this.bars.length > this.maxBars) this.bars.splice(0, this.bars.length - this.maxBars);
      return 'last';
    }
    const i = time === last.time ? this.bars.length - 1 : this.indexOf(time);
    if (i === undefined) return 'none';
    const bar = this.bars[i];
    if (!bar) {
      // A late tick in a gap between two kept bars: it opens its own bar there.
      this.bars.splice(-i - 1, 0, { time, open: price, high: price, low: price, close: price, volume: traded, closeAt: at });
      return 'older';
    }
    bar.high = Math.max(bar.high, price);
    bar.low = Math.min(bar.low, price);
    bar.volume += traded;
    if (at >= bar.closeAt) {
      bar.close = price;
      bar.closeAt = at;
    }
    return bar === last ? 'last' : 'older';
  }

  /**
   * What traded since the last tick with volume: the growth of the cumulative day volume. A first
   * reading, a repeat, or a drop (a new day, a restarted feed) counts nothing.
   */
  private traded(volume: number | undefined): number {
    if (volume === undefined || !Number.isFinite(volume)) return 0;
    this.hasVolume = true;
    const before = this.dayVolume;
    this.dayVolume = volume;
    return before !== undefined && volume > before ? volume - before : 0;
  }

  /**
   * The index of the bar at `time`; `-(insertion point) - 1` when there is none but `time` is
   * within the series; `undefined` when `time` is before the first bar.
   */
  private indexOf(time: number): number | undefined {
    const first = this.bars[0];
    if (!first || time < first.time) return undefined;
    let lo = 0;
    let hi = this.bars.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = (this.bars[mid] as Bar).time;
      if (t === time) return mid;
      if (t < time) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }
}

/**
 * One symbol's bars at every size in {@link BAR_SIZES}: every tick is folded into all of them, so
 * switching the size shows a full chart at once.
 */
export class SymbolBars {
  readonly series: ReadonlyMap<number, CandleSeries>;
  /** Moves on every change, so a view can tell whether it is behind. */
  version = 0;
  /** Moves when an earlier bar changed: a view must take the whole series again. */
  rewrites = 0;

  constructor(sizes: readonly number[] = BAR_SIZES, maxBars = MAX_BARS) {
    this.series = new Map(sizes.map((size) => [size, new CandleSeries(size, maxBars)]));
  }

  /** Folds one trade into every size; see {@link CandleSeries.add}. */
  add(price: number, at: number, volume?: number): void {
    let changed = false;
    for (const series of this.series.values()) {
      const change = series.add(price, at, volume);
      if (change === 'older') this.rewrites++;
      if (change !== 'none') changed = true;
    }
    if (changed) this.version++;
  }
}
