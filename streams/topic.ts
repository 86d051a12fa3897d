import type { Mode } from './mode';

/** The subscription key a market-data topic names. */
export interface TopicKey {
  readonly exchange: string;
  readonly symbol: string;
  readonly mode: Mode;
}

/** Exchanges whose name is two `_` segments; {@link ParseTopicOptions.twoSegmentExchanges}. */
export const DEFAULT_TWO_SEGMENT_EXCHANGES: readonly string[] = ['NSE_INDEX', 'BSE_INDEX', 'MCX_INDEX', 'GLOBAL_INDEX'];

export interface ParseTopicOptions {
  /** Exchanges spelled as two segments, e.g. `NSE_INDEX`. Default {@link DEFAULT_TWO_SEGMENT_EXCHANGES}. */
  readonly twoSegmentExchanges?: Iterable<string>;
}

const TOPIC_MODES: Readonly<Record<string, Mode>> = { LTP: 1, QUOTE: 2, DEPTH: 3 };
const TOPIC_MODE_NAMES: readonly string[] = ['LTP', 'QUOTE', 'DEPTH'];
const DEFAULT_SET: ReadonlySet<string> = new Set(DEFAULT_TWO_SEGMENT_EXCHANGES);

/**
 * Builds a topic parser bound to one set of two-segment exchanges, so the set is built once
 * rather than per call.
 */
export function topicParser(options: ParseTopicOptions = {}): (topic: string) => TopicKey | null {
  const twoSeg = options.twoSegmentExchanges ? new Set(options.twoSegmentExchanges) : DEFAULT_SET;
  return (topic) => parseWith(topic, twoSeg);
}

/**
 * Parses a feed topic `{EXCHANGE}_{SYMBOL}_{MODE}` into its key, or returns `null` for anything
 * that is not a market-data topic (order, position, margin and `CACHE_INVALIDATE_*` topics, unknown
 * modes, fewer than three segments, empty parts).
 *
 * The mode is always the last segment (case-insensitive). `NSE_INDEX`, `BSE_INDEX`, `MCX_INDEX` and
 * `GLOBAL_INDEX` are two-segment exchanges; otherwise the exchange is the first segment and the
 * symbol is everything in between, `_` and `:` included.
 *
 * @example
 * parseTopic('NSE_INDEX_NIFTY_LTP'); // { exchange: 'NSE_INDEX', symbol: 'NIFTY', mode: 1 }
 * parseTopic('CRYPTO_SOL_INR_LTP');  // { exchange: 'CRYPTO', symbol: 'SOL_INR', mode: 1 }
 * parseTopic('NSE_TCS:50_DEPTH');    // { exchange: 'NSE', symbol: 'TCS:50', mode: 3 }
 * parseTopic('ZERODHA_U1_orders');   // null
 */
export function parseTopic(topic: string, options?: ParseTopicOptions): TopicKey | null {
  const twoSeg = options?.twoSegmentExchanges ? new Set(options.twoSegmentExchanges) : DEFAULT_SET;
  return parseWith(topic, twoSeg);
}

/**
 * OpenAlgo's cache-invalidation broadcasts, `CACHE_INVALIDATE_{AUTH|FEED|ALL}_{user_id}`: never
 * market data, even when the user id happens to read like a mode (`..._ltp`).
 */
const NOT_MARKET_DATA_PREFIX = 'CACHE_INVALIDATE_';

function parseWith(topic: string, twoSeg: ReadonlySet<string>): TopicKey | null {
  if (typeof topic !== 'string' || topic.startsWith(NOT_MARKET_DATA_PREFIX)) return null;
  const last = topic.lastIndexOf('_');
  if (last <= 0) return null;
  const mode = TOPIC_MODES[topic.slice(last + 1).toUpperCase()];
  if (mode === undefined) return null;
  const first = topic.indexOf('_');
  if (first === last) return null; // only two segments
  const second = topic.indexOf('_', first + 1);
  let exchangeEnd = first;
  if (second !== last && twoSeg.has(topic.slice(0, second))) exchangeEnd = second;
  const exchange = topic.slice(0, exchangeEnd);
  const symbol = topic.slice(exchangeEnd + 1, last);
  if (exchange.length === 0 || symbol.length === 0) return null;
  return { exchange, symbol, mode };
}

/**
 * The topic a publisher uses for a key: the inverse of {@link parseTopic}.
 *
 * @example
 * formatTopic({ exchange: 'NSE', symbol: 'TCS', mode: 2 }); // 'NSE_TCS_QUOTE'
 */
export function formatTopic(key: TopicKey): string {
  return `${key.exchange}_${key.symbol}_${TOPIC_MODE_NAMES[key.mode - 1]}`;
}

/**
 * What a feed topic is: a market-data key, an account's order events (`..._orders`, relayed to its
 * user), a topic that carries nothing for clients (`CACHE_INVALIDATE_*`, `..._positions`,
 * `..._margins`: ignored, not counted as bad), or none of these (invalid).
 */
export type TopicClass = TopicKey | 'order' | 'ignored' | 'invalid';

/** The one place that decides what a topic is; see {@link TopicClass}. */
export function classifyTopic(topic: string, options?: ParseTopicOptions): TopicClass {
  const twoSeg = options?.twoSegmentExchanges ? new Set(options.twoSegmentExchanges) : DEFAULT_SET;
  return classifyWith(topic, twoSeg);
}

/** {@link classifyTopic} bound to one set of two-segment exchanges, built once. */
export function topicClassifier(options: ParseTopicOptions = {}): (topic: string) => TopicClass {
  const twoSeg = options.twoSegmentExchanges ? new Set(options.twoSegmentExchanges) : DEFAULT_SET;
  return (topic) => classifyWith(topic, twoSeg);
}

function classifyWith(topic: string, twoSeg: ReadonlySet<string>): TopicClass {
  if (typeof topic !== 'string') return 'invalid';
  const key = parseWith(topic, twoSeg);
  if (key !== null) return key;
  if (topic.endsWith('_orders')) return 'order';
  if (topic.startsWith('CACHE_INVALIDATE') || topic.endsWith('_positions') || topic.endsWith('_margins')) return 'ignored';
  return 'invalid';
}
