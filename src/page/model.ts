/**
 * What the demo page shows, as plain data: watchlist rows folded from ticks, the order-book ladder,
 * the tick rate, and how numbers are written. No DOM here, so it is tested in Node.
 */
import type { BookLevel, MarketDataPayload } from '../client';

/** One instrument of the watchlist. */
export interface Instrument {
  readonly exchange: string;
  readonly symbol: string;
  /** `EXCHANGE:SYMBOL`, as `?symbols=` spells it. */
  readonly id: string;
}

/**
 * The watchlist the page opens with when the URL has no `?symbols=`: the simulator's headline
 * instruments (`tickcast demo`), which are also common names on real Indian brokers' feeds.
 */
export const DEFAULT_WATCHLIST = [
  'NSE:RELIANCE',
  'NSE:TCS',
  'NSE:INFY',
  'NSE_INDEX:NIFTY',
  'CRYPTO:BTC_INR',
  'NSE_INDEX:BANKNIFTY',
  'CRYPTO:ETH_INR',
  'NSE:HDFCBANK',
  'NFO:NIFTY30JAN25FUT',
  'NSE:ICICIBANK',
  'CRYPTO:SOL_INR',
  'NSE:SBIN',
] as const;

/** Book levels the ladder shows per side. */
export const LADDER_LEVELS = 20;

/**
 * `EXCHANGE:SYMBOL` → an instrument, or `undefined` when it is not of that form. The exchange is
 * what comes before the first colon (symbols may contain anything, exchanges do not contain `:`);
 * both are kept as written, since the proxy's symbols and exchanges are case-sensitive.
 *
 * @example
 * parseInstrument('NSE_INDEX:NIFTY'); // { exchange: 'NSE_INDEX', symbol: 'NIFTY', id: 'NSE_INDEX:NIFTY' }
 */
export function parseInstrument(text: string): Instrument | undefined {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  if (colon <= 0 || colon === trimmed.length - 1) return undefined;
  const exchange = trimmed.slice(0, colon).trim();
  const symbol = trimmed.slice(colon + 1).trim();
  if (exchange === '' || symbol === '') return undefined;
  return { exchange, symbol, id: `${exchange}:${symbol}` };
}

/**
 * A comma-separated `?symbols=` list → instruments, without duplicates or malformed entries; the
 * default watchlist when the list is missing or names nothing usable.
 */
export function parseWatchlist(spec: string | null | undefined): Instrument[] {
  const parse = (items: readonly string[]): Instrument[] => {
    const seen = new Map<string, Instrument>();
    for (const item of items) {
      const inst = parseInstrument(item);
      if (inst && !seen.has(inst.id)) seen.set(inst.id, inst);
    }
    return [...seen.values()];
  };
  const listed = spec ? parse(spec.split(',')) : [];
  return listed.length > 0 ? listed : parse(DEFAULT_WATCHLIST);
}

/** What the page knows of one instrument, folded from every tick of it whatever its mode. */
export interface Quote {
  ltp?: number;
  /** The previous session's close, from Quote and Depth ticks: the base of the change. */
  close?: number;
  volume?: number;
  /** When the last tick arrived (`Date.now()` of the page), 0 before any. */
  updatedAt: number;
  ticks: number;
  /** When the instrument joined the watchlist (`Date.now()` of the page). */
  addedAt: number;
  /** When the tick that set `ltp` happened (its publisher timestamp, else its arrival). */
  priceAt?: number;
  /** Why the server refused the subscription, when it did. */
  refused?: string;
}

/** A quote that has seen no tick yet, for an instrument added at `now`. */
export function emptyQuote(now = 0): Quote {
  return { updatedAt: 0, ticks: 0, addedAt: now };
}

/** How long without a tick before a price is shown as stale, unless `?stale=` says otherwise. */
export const STALE_MS = 10_000;

/**
 * How far a shown value can be trusted:
 * - `live`: it ticked within the stale limit and the connection is open;
 * - `stale`: no tick for longer than that (the publisher stopped, the market is shut);
 * - `offline`: the connection is down, so nothing is arriving whatever the market does;
 * - `waiting`: no tick since the instrument was added;
 * - `refused`: the server refused the subscription.
 */
export type Freshness = 'live' | 'stale' | 'offline' | 'waiting' | 'refused';

/**
 * The {@link Freshness} of a value last updated at `updatedAt` (0: never), at `now`, with the
 * connection `connected` or not.
 */
export function freshness(updatedAt: number, now: number, connected: boolean, staleMs = STALE_MS, refused = false): Freshness {
  if (refused) return 'refused';
  if (updatedAt === 0) return 'waiting';
  if (!connected) return 'offline';
  return now - updatedAt > staleMs ? 'stale' : 'live';
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/**
 * Folds one tick into `quote`. LTP ticks carry only the price, so `close` and `volume` keep their
 * last known values until a Quote or Depth tick brings new ones. `at` is when the tick happened
 * (see `tickTime`): the proxy throttles each mode on its own, so a Quote tick can arrive after a
 * newer LTP tick, and the older one must not move the price back. Candles follow the same rule,
 * so the row and the chart's last close always agree.
 */
export function applyTick(quote: Quote, data: MarketDataPayload, now: number, at = now): void {
  if (at >= (quote.priceAt ?? -Infinity)) {
    const ltp = num(data.ltp);
    if (ltp !== undefined) {
      quote.ltp = ltp;
      quote.priceAt = at;
    }
    quote.volume = num(data.volume) ?? quote.volume;
  }
  quote.close = num(data.close) ?? quote.close;
  quote.updatedAt = now;
  quote.ticks++;
}

/** Change from the previous close in percent; `undefined` until both are known (or when close is 0). */
export function changePercent(quote: Pick<Quote, 'ltp' | 'close'>): number | undefined {
  const { ltp, close } = quote;
  if (ltp === undefined || close === undefined || close === 0) return undefined;
  return ((ltp - close) / close) * 100;
}

/** One level of the ladder, with its size bar's length. */
export interface LadderLevel extends BookLevel {
  /** quantity / the largest quantity shown on either side: 0..1, the bar's length. */
  readonly share: number;
}

/** The ladder of one book: level i of each side in row i. */
export interface Ladder {
  /** Bids as the proxy sent them (best first, price descending), at most `levels`. */
  readonly bids: readonly LadderLevel[];
  /** Asks as the proxy sent them (best first, price ascending), at most `levels`. */
  readonly asks: readonly LadderLevel[];
  /** Best ask − best bid, when both sides have a level. */
  readonly spread?: number;
  readonly bidQuantity: number;
  readonly askQuantity: number;
  /** Decimals of the most precise quantity shown (at most 4), so a column of coin sizes lines up. */
  readonly quantityDecimals: number;
  /** True when some level carries an order count (crypto books do not): else the column is hidden. */
  readonly hasOrders: boolean;
  /** The last price of the tick this book came with, so the ladder's header and rows agree. */
  readonly ltp?: number;
  /** When the tick arrived (`Date.now()` of the page). */
  readonly at: number;
}

const isLevel = (level: unknown): level is BookLevel =>
  level !== null &&
  typeof level === 'object' &&
  num((level as BookLevel).price) !== undefined &&
  num((level as BookLevel).quantity) !== undefined;

/**
 * The ladder for a Depth tick's `depth`. Levels stay in the order the proxy delivered them: it
 * sorts books (bids high→low, asks low→high), and the browser test reads that order off the page,
 * so a page that re-sorted would hide a proxy that does not. Size bars share one scale across both
 * sides so bid and ask sizes compare at a glance.
 */
export function ladder(depth: MarketDataPayload['depth'] | undefined, levels: number = LADDER_LEVELS, ltp?: number, at = 0): Ladder {
  const bids = (Array.isArray(depth?.buy) ? depth.buy : []).filter(isLevel).slice(0, levels);
  const asks = (Array.isArray(depth?.sell) ? depth.sell : []).filter(isLevel).slice(0, levels);
  const largest = Math.max(0, ...bids.map((l) => l.quantity), ...asks.map((l) => l.quantity));
  const withShare = (l: BookLevel): LadderLevel => ({ ...l, share: largest > 0 ? Math.max(0, l.quantity) / largest : 0 });
  const sum = (side: readonly BookLevel[]): number => side.reduce((total, l) => total + l.quantity, 0);
  const bestBid = bids[0];
  const bestAsk = asks[0];
  return {
    bids: bids.map(withShare),
    asks: asks.map(withShare),
    ...(bestBid && bestAsk ? { spread: bestAsk.price - bestBid.price } : {}),
    bidQuantity: sum(bids),
    askQuantity: sum(asks),
    quantityDecimals: Math.max(0, ...[...bids, ...asks].map((l) => fractionDigits(l.quantity))),
    hasOrders: [...bids, ...asks].some((l) => num(l.orders) !== undefined),
    ...(num(ltp) !== undefined ? { ltp } : {}),
    at,
  };
}

/** The decimals `value` needs, at most 4 (`0.125` → 3, `12` → 0, `0.00001` → 4). */
export function fractionDigits(value: number): number {
  for (let digits = 0; digits < 4; digits++) if (Number(value.toFixed(digits)) === value) return digits;
  return 4;
}

/**
 * Events per second over a sliding window of ten 100 ms buckets: steady to read, yet it follows a
 * burst within a second.
 */
export class RateMeter {
  private readonly counts = new Array<number>(10).fill(0);
  private readonly slots = new Array<number>(10).fill(-1);

  /** Counts `n` events at `now` (ms). */
  add(now: number, n = 1): void {
    const slot = Math.floor(now / 100);
    const i = slot % 10;
    if (this.slots[i] !== slot) {
      this.slots[i] = slot;
      this.counts[i] = 0;
    }
    this.counts[i]! += n;
  }

  /** Events in the second up to `now`. */
  perSecond(now: number): number {
    const slot = Math.floor(now / 100);
    let total = 0;
    for (let i = 0; i < 10; i++) {
      const s = this.slots[i]!;
      if (s > slot - 10 && s <= slot) total += this.counts[i]!;
    }
    return total;
  }
}

// Indian digit grouping (12,34,567.89): the demo's instruments are NSE and INR pairs.
const PRICE = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const SMALL_PRICE = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 4, maximumFractionDigits: 6 });
const QUANTITY = new Intl.NumberFormat('en-IN', { maximumFractionDigits: 4 });
const QUANTITY_WITH = [0, 1, 2, 3, 4].map((d) => new Intl.NumberFormat('en-IN', { minimumFractionDigits: d, maximumFractionDigits: 4 }));
const COMPACT = new Intl.NumberFormat('en-IN', { notation: 'compact', maximumFractionDigits: 2 });
const PERCENT = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: 'exceptZero' });

/** The dash shown where there is no value yet. */
export const NO_VALUE = '—';

/**
 * A price: two decimals, more below 1 (cheap coins). A difference of prices (a spread) passes the
 * price it is a difference of as `scale`, so it gets the same decimals.
 */
export function formatPrice(price: number | undefined, scale: number | undefined = price): string {
  if (price === undefined) return NO_VALUE;
  const small = scale !== undefined && scale !== 0 && Math.abs(scale) < 1;
  return small ? SMALL_PRICE.format(price) : PRICE.format(price);
}

/** A change in percent with its sign: `+0.42%`, `-1.05%`, `0.00%`. */
export function formatPercent(percent: number | undefined): string {
  return percent === undefined ? NO_VALUE : `${PERCENT.format(percent)}%`;
}

/**
 * A quantity in a book: whole, or with the fraction a coin lot has; `decimals` pads it to the
 * column's precision (0 to 4).
 */
export function formatQuantity(quantity: number | undefined, decimals = 0): string {
  if (quantity === undefined) return NO_VALUE;
  return (QUANTITY_WITH[Math.max(0, Math.min(4, decimals))] as Intl.NumberFormat).format(quantity);
}

/** A day's volume: compact past 100,000 (`12.5L`, `3.1Cr`), exact below. */
export function formatVolume(volume: number | undefined): string {
  if (volume === undefined) return NO_VALUE;
  return Math.abs(volume) >= 100_000 ? COMPACT.format(volume) : QUANTITY.format(volume);
}

/** How long ago a tick arrived: `0.4s`, `12s`, `3m`, `2h`; the dash before any tick. */
export function formatAge(ms: number | undefined): string {
  if (ms === undefined) return NO_VALUE;
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}
