import type { Mode, RawTick } from '../../streams';
import { mulberry32 } from '../../src/sim/market';

/** A book level as adapters send it in `depth: { buy, sell }`. */
export interface Level {
  price: number;
  quantity: number;
  orders: number;
}

/** How a generated book's sides are ordered. */
export type BookOrder = 'sorted' | 'shuffled';

const TICK_SIZE = 0.05;
const cents = (value: number): number => Math.round(value * 100) / 100;

function shuffle<T>(items: T[], rng: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/**
 * One book of `levels` levels a side around `mid`, one tick apart: bids high→low and asks low→high
 * when sorted; each side in a random order when shuffled.
 */
export function depthBook(rng: () => number, mid: number, levels: number, order: BookOrder): { buy: Level[]; sell: Level[] } {
  const side = (sign: -1 | 1): Level[] =>
    Array.from({ length: levels }, (_, i) => ({
      price: cents(mid + sign * TICK_SIZE * (i + 1)),
      quantity: 1 + Math.floor(rng() * 5000),
      orders: 1 + Math.floor(rng() * 40),
    }));
  const buy = side(-1);
  const sell = side(1);
  return order === 'sorted' ? { buy, sell } : { buy: shuffle(buy, rng), sell: shuffle(sell, rng) };
}

/** The fields a Quote payload carries (feed.md), around `ltp`. */
function quoteFields(rng: () => number, ltp: number): Record<string, number> {
  const close = cents(ltp * (1 + (rng() - 0.5) * 0.02));
  return {
    ltp,
    volume: Math.floor(rng() * 5_000_000),
    open: cents(close * (1 + (rng() - 0.5) * 0.01)),
    high: cents(ltp * 1.01),
    low: cents(ltp * 0.99),
    close,
    average_price: cents(ltp * (1 + (rng() - 0.5) * 0.004)),
    last_trade_quantity: 1 + Math.floor(rng() * 500),
    total_buy_quantity: Math.floor(rng() * 900_000),
    total_sell_quantity: Math.floor(rng() * 900_000),
  };
}

/** What a payload is about. */
export interface PayloadKey {
  readonly exchange: string;
  readonly symbol: string;
  readonly mode: Mode;
}

/**
 * A payload shaped like feed.md for the key's mode: LTP `{ltp, ltt, …}`, Quote with the OHLC and
 * quantity fields, Depth with the quote fields and `depth: { buy, sell }` of `levels` level objects.
 */
export function payloadFor(
  rng: () => number,
  key: PayloadKey,
  ltp: number,
  timestamp: number,
  book: { levels: number; order: BookOrder },
): Record<string, unknown> {
  const { exchange, symbol, mode } = key;
  if (mode === 1) return { ltp, ltt: timestamp, symbol, exchange, mode, timestamp };
  const quote = quoteFields(rng, ltp);
  if (mode === 2) return { ...quote, oi: 0, symbol, exchange, mode, timestamp };
  return { ...quote, depth: depthBook(rng, ltp, book.levels, book.order), symbol, exchange, mode, timestamp };
}

/** One subscription key of a {@link RecordedFeed}. */
export interface FeedKey extends PayloadKey {
  readonly topic: string;
  /** True for a Depth key whose publisher sends unsorted books. */
  readonly shuffled: boolean;
}

/** Options of {@link RecordedFeed}. */
export interface RecordedFeedOptions {
  /** Topic keys: symbols each carry LTP, QUOTE and DEPTH topics, so a third of the keys are books. Must be a multiple of `tickIntervalMs`. */
  readonly keys: number;
  /** Each key ticks every this many ms; keys are spread evenly over the interval. */
  readonly tickIntervalMs: number;
  /** Levels per book side. Default 50. */
  readonly depthLevels?: number;
  /** Share of Depth keys whose books arrive shuffled. Default 0.5. */
  readonly shuffledShare?: number;
  /** Distinct payloads per key, used in turn. Default 2. */
  readonly variants?: number;
  /**
   * Keys start ticking at staggered times over the first `rampMs` of feed time, so their throttle
   * windows close spread over time, as with a real feed, not all in the same few ms. Default 100.
   */
  readonly rampMs?: number;
  readonly seed?: number;
}

const EXCHANGES = ['NSE', 'BSE', 'NFO', 'MCX'] as const;
const TOPIC_MODES = ['LTP', 'QUOTE', 'DEPTH'] as const;
const EPOCH_MS = 1_746_171_226_000;

/**
 * A recorded-shape feed, generated up front so producing a tick costs nothing measurable: per key a
 * few UTF-8 JSON payloads in Buffers, as ZeroMQ hands them over. Key `j` ticks at every ms `t` with
 * `t % tickIntervalMs === j % tickIntervalMs` from its start time on (all keys have started after
 * `rampMs`), so each ms then carries `keys / tickIntervalMs` ticks evenly mixed over LTP, Quote and
 * Depth.
 */
export class RecordedFeed {
  readonly keys: readonly FeedKey[];
  readonly tickIntervalMs: number;
  /** Ticks in each ms of feed time. */
  readonly ticksPerMs: number;
  private readonly ticks: readonly (readonly RawTick[])[];
  private readonly variants: number;
  private readonly rampMs: number;
  /** First ms at which each key ticks. */
  private readonly starts: Int32Array;

  constructor(options: RecordedFeedOptions) {
    const { keys: keyCount, tickIntervalMs } = options;
    if (!(tickIntervalMs >= 1) || keyCount % tickIntervalMs !== 0) {
      throw new Error(`RecordedFeed: keys (${keyCount}) must be a multiple of tickIntervalMs (${tickIntervalMs}).`);
    }
    const rng = mulberry32(options.seed ?? 42); // the same seed gives the same feed on every run
    const levels = options.depthLevels ?? 50;
    const shuffledShare = options.shuffledShare ?? 0.5;
    this.variants = Math.max(1, options.variants ?? 2);
    this.tickIntervalMs = tickIntervalMs;
    this.ticksPerMs = keyCount / tickIntervalMs;
    this.rampMs = Math.max(0, Math.floor(options.rampMs ?? 100));
    this.starts = new Int32Array(keyCount);

    const keys: FeedKey[] = [];
    const ticks: RawTick[][] = [];
    for (let j = 0; j < keyCount; j++) {
      const s = Math.floor(j / 3);
      const mode = ((j % 3) + 1) as Mode;
      const exchange = EXCHANGES[s % EXCHANGES.length] as string;
      const symbol = `SYM${s}`;
      const key: FeedKey = {
        exchange,
        symbol,
        mode,
        topic: `${exchange}_${symbol}_${TOPIC_MODES[mode - 1]}`,
        shuffled: mode === 3 && rng() < shuffledShare,
      };
      keys.push(key);
      const offset = Math.floor(rng() * this.rampMs);
      this.starts[j] = offset + ((((j - offset) % tickIntervalMs) + tickIntervalMs) % tickIntervalMs);
      const base = cents(100 + Math.floor(rng() * 98_000) * TICK_SIZE);
      const book = { levels, order: key.shuffled ? ('shuffled' as const) : ('sorted' as const) };
      ticks.push(
        Array.from({ length: this.variants }, (_, v) => ({
          topic: key.topic,
          payload: Buffer.from(JSON.stringify(payloadFor(rng, key, cents(base + v * TICK_SIZE), EPOCH_MS + v, book))),
        })),
      );
    }
    this.keys = keys;
    this.ticks = ticks;
  }

  /** Feeds every tick of feed-time ms `t` to `sink`, in arrival order; returns how many. */
  emitAt(t: number, sink: { next(raw: RawTick): void }): number {
    const step = this.tickIntervalMs;
    const variant = Math.floor(t / step) % this.variants;
    const ticks = this.ticks;
    if (t >= this.rampMs) {
      for (let j = t % step; j < ticks.length; j += step) sink.next((ticks[j] as readonly RawTick[])[variant] as RawTick);
      return this.ticksPerMs;
    }
    let fed = 0;
    for (let j = t % step; j < ticks.length; j += step) {
      if ((this.starts[j] as number) > t) continue;
      sink.next((ticks[j] as readonly RawTick[])[variant] as RawTick);
      fed++;
    }
    return fed;
  }

  /** Key `j`'s payloads, one per variant. */
  ticksOf(j: number): readonly RawTick[] {
    return this.ticks[j] ?? [];
  }

  /**
   * The `i`-th tick of the steady feed in arrival order (`emitAt(0)`'s ticks, then `emitAt(1)`'s, …,
   * as if every key had started at 0).
   */
  tickAt(i: number): RawTick {
    const t = Math.floor(i / this.ticksPerMs);
    const j = (t % this.tickIntervalMs) + (i - t * this.ticksPerMs) * this.tickIntervalMs;
    return (this.ticks[j] as readonly RawTick[])[Math.floor(t / this.tickIntervalMs) % this.variants] as RawTick;
  }

  /** Bytes of payload held, for the report. */
  payloadBytes(): number {
    let bytes = 0;
    for (const perKey of this.ticks) for (const tick of perKey) bytes += (tick.payload as Buffer).length;
    return bytes;
  }
}
