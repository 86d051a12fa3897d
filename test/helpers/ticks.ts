/** Payloads as broker adapters publish them (feed.md "Payloads"), built with exact values. */

/** An LTP payload. */
export function ltpTick(ltp: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ltp, ltt: 1746171226000, ...extra };
}

/** A Quote payload. */
export function quoteTick(ltp: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ltp, volume: 120034, open: 1410, high: 1425, low: 1401, close: 1409.5, timestamp: 1746171226512, ...extra };
}

/** One book level object. */
export interface Level {
  price: number;
  quantity: number;
  orders: number;
}

/** `n` bid levels from `best` downwards, in book order (high → low), 0.05 apart. */
export function bids(n: number, best = 100): Level[] {
  return Array.from({ length: n }, (_, i) => ({ price: round(best - i * 0.05), quantity: 10 + i, orders: 1 + i }));
}

/** `n` ask levels from `best` upwards, in book order (low → high), 0.05 apart. */
export function asks(n: number, best = 100.05): Level[] {
  return Array.from({ length: n }, (_, i) => ({ price: round(best + i * 0.05), quantity: 20 + i, orders: 2 + i }));
}

/** A Depth payload in OpenAlgo's shape: `depth: { buy, sell }`. */
export function depthTick(ltp: number, buy: Level[], sell: Level[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ltp, volume: 5000, timestamp: 1746171226512, ...extra, depth: { buy, sell } };
}

/** A Depth payload with `levels` levels a side, in book order. */
export function bookTick(ltp: number, levels = 5, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return depthTick(ltp, bids(levels, ltp - 0.05), asks(levels, ltp + 0.05), extra);
}

/** A copy of `arr` in a fixed scrambled order (reversed halves interleaved), never book order for n ≥ 3. */
export function scramble<T>(arr: readonly T[]): T[] {
  const out: T[] = [];
  const rev = [...arr].reverse();
  for (let i = 0; i < rev.length; i += 2) out.push(rev[i] as T);
  for (let i = 1; i < rev.length; i += 2) out.push(rev[i] as T);
  return out;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
