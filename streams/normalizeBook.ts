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

const byBid = (a: unknown, b: unknown): number => levelPrice(b) - levelPrice(a);
const byAsk = (a: unknown, b: unknown): number => levelPrice(a) - levelPrice(b);
const hasPrice = (level: unknown): boolean => Number.isFinite(levelPrice(level));

/**
 * One side in book order and capped. Returns the SAME array when it was already sorted and within
 * the cap (the common case costs one pass and no allocation); otherwise a new array: levels with no
 * finite price dropped, the rest sorted (stable), the first `maxLevels` kept.
 */
export function normalizeSide<L>(levels: readonly L[], side: Side, maxLevels: number): readonly L[] {
  if (isSideSorted(levels, side)) return levels.length > maxLevels ? levels.slice(0, maxLevels) : levels;
  const valid = levels.filter(hasPrice);
  valid.sort(side === 'bid' ? byBid : byAsk);
  return valid.length > maxLevels ? valid.slice(0, maxLevels) : valid;
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
function withSides(
  record: Record<string, unknown>,
  bidKey: string,
  bid: unknown,
  askKey: string,
  ask: unknown,
): Record<string, unknown> {
  const out = { ...record };
  if (bid !== record[bidKey]) out[bidKey] = bid;
  if (ask !== record[askKey]) out[askKey] = ask;
  return out;
}

function sideOf(levels: unknown, side: Side, maxLevels: number): unknown {
  return Array.isArray(levels) ? normalizeSide(levels, side, maxLevels) : levels;
}
