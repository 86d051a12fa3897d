import { EXCHANGE, MODE_TOPIC, type BenchMode, STAMP_FIELD, symbolName } from './common';

/**
 * A set of keys ticking at one rate: symbols `S<first>`…`S<first + keys - 1>` on one mode. The
 * publisher spreads the group's ticks evenly: tick `j` goes to key `j % keys` at `j / (keys × rate)`
 * seconds, so each key's ticks are exactly `1 / rate` apart.
 */
export interface TickGroup {
  readonly name: string;
  readonly firstSymbol: number;
  readonly keys: number;
  /** Ticks per second per key. */
  readonly ratePerKey: number;
  readonly mode: BenchMode;
  /** Depth payloads carry a book of this many levels a side (Depth mode only). */
  readonly depthLevels?: number;
  /** Share of keys (the odd ones, then more) whose books arrive unsorted, 0..1. */
  readonly unsortedShare?: number;
  /** Send each key once and stop (a universe of last values published before a measurement). */
  readonly once?: boolean;
}

export const groupRate = (g: TickGroup): number => g.keys * g.ratePerKey;
export const feedRate = (groups: readonly TickGroup[]): number => groups.reduce((sum, g) => sum + groupRate(g), 0);

/** Every symbol index the groups tick on, for a client subscribing to all of them. */
export function symbolsOf(groups: readonly TickGroup[]): number[] {
  const out = new Set<number>();
  for (const g of groups) for (let i = 0; i < g.keys; i++) out.add(g.firstSymbol + i);
  return [...out].sort((a, b) => a - b);
}

export const topicOf = (symbol: number, mode: BenchMode): string => `${EXCHANGE}_${symbolName(symbol)}_${MODE_TOPIC[mode]}`;

const QUOTE_REST =
  ',"open":1410.0,"high":1425.5,"low":1401.25,"close":1409.5,"average_price":1415.2,"last_quantity":10,' +
  '"total_buy_quantity":52300,"total_sell_quantity":48110,"oi":0';

/** A book side as an adapter would send it: `count` levels, sorted or shuffled. */
function bookSide(count: number, best: number, step: number, shuffled: boolean, seed: number): string {
  const levels: string[] = [];
  for (let i = 0; i < count; i++) {
    const price = (best + step * i).toFixed(2);
    levels.push(`{"price":${price},"quantity":${100 + ((i * 37 + seed) % 900)},"orders":${1 + ((i * 7 + seed) % 40)}}`);
  }
  if (shuffled) {
    let s = seed + 1;
    for (let i = levels.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const j = s % (i + 1);
      [levels[i], levels[j]] = [levels[j] as string, levels[i] as string];
    }
  }
  return `[${levels.join(',')}]`;
}

/** Book variants: a handful per sortedness, rotated tick by tick, so the publisher builds no book per tick. */
const BOOK_VARIANTS = 8;

/**
 * Builds payloads for one group. Every payload is a JSON object in the shape feed.md describes,
 * stamped with {@link STAMP_FIELD}; the varying numbers (ltp, volume, timestamp, stamp) change per
 * tick so nothing upstream can cache a payload. The stamp sits before the book so a client finds it
 * without scanning a 50-level book.
 */
export class PayloadMaker {
  readonly topics: readonly string[];
  private readonly heads: readonly string[];
  private readonly sortedBooks: readonly string[];
  private readonly shuffledBooks: readonly string[];
  private readonly unsortedKey: (k: number) => boolean;

  constructor(private readonly group: TickGroup) {
    const topics: string[] = [];
    const heads: string[] = [];
    for (let k = 0; k < group.keys; k++) {
      const s = group.firstSymbol + k;
      topics.push(topicOf(s, group.mode));
      heads.push(`{"symbol":"${symbolName(s)}","exchange":"${EXCHANGE}","ltp":`);
    }
    this.topics = topics;
    this.heads = heads;
    const levels = group.depthLevels ?? 50;
    const sorted: string[] = [];
    const shuffled: string[] = [];
    if (group.mode === 3) {
      for (let v = 0; v < BOOK_VARIANTS; v++) {
        const bid = 1400 - v * 0.05;
        const ask = 1400.05 + v * 0.05;
        sorted.push(`{"buy":${bookSide(levels, bid, -0.05, false, v)},"sell":${bookSide(levels, ask, 0.05, false, v + 50)}}`);
        shuffled.push(`{"buy":${bookSide(levels, bid, -0.05, true, v)},"sell":${bookSide(levels, ask, 0.05, true, v + 50)}}`);
      }
    }
    this.sortedBooks = sorted;
    this.shuffledBooks = shuffled;
    const share = group.unsortedShare ?? 0;
    // Spread the unsorted keys evenly over the group: key k is unsorted when its slot crosses a multiple.
    this.unsortedKey = (k) => Math.floor((k + 1) * share) > Math.floor(k * share);
  }

  /** The payload of the `n`-th tick of key `k`, stamped `stampNs`. */
  payload(k: number, n: number, stampNs: number): string {
    const ltp = (1400 + ((n * 13 + k) % 400) * 0.05).toFixed(2);
    const head = `${this.heads[k] as string}${ltp},"volume":${100_000 + n}${QUOTE_REST},"timestamp":${Date.now()},"${STAMP_FIELD}":${stampNs}`;
    if (this.group.mode !== 3) return `${head}}`;
    const books = this.unsortedKey(k) ? this.shuffledBooks : this.sortedBooks;
    return `${head},"depth":${books[n % BOOK_VARIANTS] as string}}`;
  }
}
