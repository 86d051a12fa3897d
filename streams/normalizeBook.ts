/** One price level as adapters send it: an object, or a `[price, quantity]` pair. */
export interface BookLevelObject {
  price: number;
  quantity: number;
  orders?: number;
  [extra: string]: unknown;
}
export type BookLevelPair = readonly [price: number | string, quantity: number | string, ...rest: unknown[]];
export type BookLevel = BookLevelObject | BookLevelPair;

/** Options of {@link normalizeBook}. */
export interface NormalizeBookOptions {
  /** Levels kept per side after sorting. Default 50. */
  readonly maxLevels?: number;
}

/** The default cap on levels per side. */
export const DEFAULT_MAX_LEVELS = 50;

type Side = 'bid' | 'ask';

/** A level's price as a number, `NaN` when it has none that is usable. */
export function levelPrice(level: unknown): number {
  let p: unknown;
  if (Array.isArray(level)) p = level[0];
  else if (level !== null && typeof level === 'object') p = (level as { price?: unknown }).price;
  if (typeof p === 'number') return p;
  if (typeof p === 'string' && p.trim() !== '') return Number(p);
  return NaN;
}

/**
 * True when `levels` is in book order for its side (bids high→low, asks low→high) and every level
 * has a finite price. One pass, no allocation.
 */
export function isSideSorted(levels: readonly unknown[], side: Side): boolean {
  let prev = side === 'bid' ? Infinity : -Infinity;
  for (let i = 0; i < levels.length; i++) {
    const p = levelPrice(levels[i]);
    if (!Number.isFinite(p)) return false;
    if (side === 'bid' ? p > prev : p < prev) return false;
    prev = p;
  }
  return true;
}

/** Prices of the side being sorted, read once each; grown on demand, shared (no side is sorted reentrantly). */
let prices = new Float64Array(64);

/**
 * One side in book order and capped. Returns the SAME array when it was already sorted and within
 * the cap (the common case costs one pass and no allocation); otherwise a new array: levels with no
 * finite price dropped, the rest sorted (stable), the first `maxLevels` kept.
 *
 * The unsorted case reads each level's price once into a scratch `Float64Array` and insertion-sorts
 * levels and prices together, keeping only the best `maxLevels` as it goes: no comparator callback
 * (a comparator returning a price difference boxes a double per call), no intermediate arrays, and
 * at most `maxLevels` moves per level, so an oversized side costs levels × cap, never levels².
 * Strict comparisons keep equal prices in arrival order.
 */
export function normalizeSide<L>(levels: readonly L[], side: Side, maxLevels: number): readonly L[] {
  if (isSideSorted(levels, side)) return levels.length > maxLevels ? levels.slice(0, maxLevels) : levels;
  const cap = Math.min(levels.length, maxLevels);
  if (prices.length < cap) prices = new Float64Array(cap * 2);
  const out: L[] = [];
  if (cap === 0) return out;
  const bid = side === 'bid';
  let n = 0;
  for (let k = 0; k < levels.length; k++) {
    const level = levels[k] as L;
    const p = levelPrice(level);
    if (!Number.isFinite(p)) continue;
    let i: number;
    if (n < cap) i = n++;
    else {
      // Full: a level no better than the worst kept one (a tie arrived later) is dropped.
      const worst = prices[cap - 1] as number;
      if (bid ? p <= worst : p >= worst) continue;
      i = cap - 1;
    }
    while (i > 0 && (bid ? (prices[i - 1] as number) < p : (prices[i - 1] as number) > p)) {
      prices[i] = prices[i - 1] as number;
      out[i] = out[i - 1] as L;
      i--;
    }
    prices[i] = p;
    out[i] = level;
  }
  return out;
}

/**
 * Puts an order book in book order: bids (`depth.buy` or `bids`) high→low, asks (`depth.sell` or
 * `asks`) low→high, each capped at `maxLevels` (default 50). Levels may be `{ price, quantity,
 * orders }` objects or `[price, quantity]` pairs; the shape given is the shape returned.
 *
 * A side that is already sorted is checked in one pass and never sorted again. Levels without a
 * finite price are dropped.
 *
 * Copies, never mutates: when nothing needs to change it returns `data` itself (so callers can tell
 * "unchanged" with `===`); otherwise a shallow copy of `data` with new side arrays. Values that
 * carry no book are returned as they are.
 *
 * @example
 * normalizeBook({ depth: { buy: [{ price: 1, quantity: 5 }, { price: 2, quantity: 1 }], sell: [] } });
 * // { depth: { buy: [{ price: 2, quantity: 1 }, { price: 1, quantity: 5 }], sell: [] } }
 */
export function normalizeBook<T>(data: T, options: NormalizeBookOptions = {}): T {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const maxLevels = Math.max(0, Math.floor(options.maxLevels ?? DEFAULT_MAX_LEVELS));
  const record = data as Record<string, unknown>;
  const depth = record['depth'];
  if (depth !== null && typeof depth === 'object' && !Array.isArray(depth)) {
    const book = depth as Record<string, unknown>;
    const buy = sideOf(book['buy'], 'bid', maxLevels);
    const sell = sideOf(book['sell'], 'ask', maxLevels);
    if (buy === book['buy'] && sell === book['sell']) return data;
    return { ...record, depth: withSides(book, 'buy', buy, 'sell', sell) } as T;
  }
  const bids = sideOf(record['bids'], 'bid', maxLevels);
  const asks = sideOf(record['asks'], 'ask', maxLevels);
  if (bids === record['bids'] && asks === record['asks']) return data;
  return withSides(record, 'bids', bids, 'asks', asks) as T;
}

/** A shallow copy of `record` with its changed sides; a side it does not have stays absent. */
function withSides(record: Record<string, unknown>, bidKey: string, bid: unknown, askKey: string, ask: unknown): Record<string, unknown> {
  const out = { ...record };
  if (bid !== record[bidKey]) out[bidKey] = bid;
  if (ask !== record[askKey]) out[askKey] = ask;
  return out;
}

function sideOf(levels: unknown, side: Side, maxLevels: number): unknown {
  return Array.isArray(levels) ? normalizeSide(levels, side, maxLevels) : levels;
}
