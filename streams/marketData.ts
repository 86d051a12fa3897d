import { asyncScheduler, filter, map, type Observable, type OperatorFunction, pipe, type SchedulerLike } from 'rxjs';
import type { Mode } from './mode';
import { DEFAULT_MAX_LEVELS, normalizeBook } from './normalizeBook';
import type { throttleByKey } from './throttleByKey';
import { formatTopic, type ParseTopicOptions, type TopicKey, topicParser } from './topic';
import { keyedThrottle } from './keyedThrottle';

/** One message as the feed delivers it: a topic and its undecoded payload. */
export interface RawTick {
  readonly topic: string;
  readonly payload: Uint8Array | string;
}

/** A decoded, throttled, normalised market-data update. */
export interface Tick {
  readonly exchange: string;
  readonly symbol: string;
  readonly mode: Mode;
  /** The canonical topic of the key, `{EXCHANGE}_{SYMBOL}_{LTP|QUOTE|DEPTH}`; stable per key. */
  readonly key: string;
  /** The publisher's payload, books normalised. */
  readonly data: Record<string, unknown>;
  /**
   * The payload's JSON text when `data` is exactly what it says (nothing was normalised), so an
   * encoder can embed it instead of calling `JSON.stringify` again.
   */
  readonly json?: string;
  /**
   * The payload's bytes, present with `json` when the feed gave bytes: its UTF-8 encoding. An
   * encoder can copy them into a frame instead of encoding `json` again. A view into the feed's
   * read buffer: copy before keeping it.
   */
  readonly bytes?: Uint8Array;
}

/** Why a message was skipped. */
export type InvalidReason = 'topic' | 'encoding' | 'json' | 'not_object' | 'error';

/** Options of {@link marketData}. */
export interface MarketDataOptions extends ParseTopicOptions {
  /** Throttle window per key in ms; `0` disables throttling. Default 100. */
  readonly throttleMs?: number;
  /** Book levels kept per side. Default 50. */
  readonly maxLevels?: number;
  /** Idle time after which a key's throttle state is dropped. See {@link throttleByKey}. */
  readonly idleMs?: number;
  /** Time source; `asyncScheduler` by default. */
  readonly scheduler?: SchedulerLike;
  /** Told of every message that is skipped, and why. Never called for a good message. */
  readonly onInvalid?: (reason: InvalidReason, raw: RawTick) => void;
  /**
   * Told of every message whose topic parses, before the throttle (e.g. to count ticks in by mode).
   * Gets the cached key, so it costs no parsing.
   */
  readonly onParsed?: (key: TopicKey, raw: RawTick) => void;
}

interface KeyEntry {
  readonly exchange: string;
  readonly symbol: string;
  readonly mode: Mode;
  readonly key: string;
}

/** Topic strings are few and repeat forever: parse each once. Bounded so junk cannot grow it. */
const TOPIC_CACHE_LIMIT = 100_000;

/**
 * The whole per-key pipeline of `design.md` as one operator: parse the topic (cached per topic),
 * throttle per key with {@link keyedThrottle} (the semantics of {@link throttleByKey}, without a
 * group or timer per key), then — only for what survived the throttle — decode
 * the JSON payload and normalise order books. Messages that fail anywhere are reported to
 * `onInvalid` and skipped; a bad message never errors the stream.
 *
 * @example
 * raw$.pipe(marketTicks({ throttleMs: 100, onInvalid: (reason) => counter.inc({ reason }) }));
 */
export function marketTicks(options: MarketDataOptions = {}): OperatorFunction<RawTick, Tick> {
  const throttleMs = options.throttleMs ?? 100;
  const maxLevels = options.maxLevels ?? DEFAULT_MAX_LEVELS;
  const scheduler = options.scheduler ?? asyncScheduler;
  const onInvalid = options.onInvalid;
  const onParsed = options.onParsed;
  const parse = topicParser(options);
  const cache = new Map<string, KeyEntry | null>();
  const decoder = new TextDecoder('utf-8', { fatal: true });

  const report = (reason: InvalidReason, raw: RawTick): void => {
    if (!onInvalid) return;
    try {
      onInvalid(reason, raw);
    } catch {
      // A faulty reporter must not take the stream down with it.
    }
  };

  const entryOf = (topic: string): KeyEntry | null => {
    let entry = cache.get(topic);
    if (entry === undefined) {
      const key = typeof topic === 'string' ? parse(topic) : null;
      entry = key && { ...key, key: formatTopic(key) };
      if (cache.size >= TOPIC_CACHE_LIMIT) cache.clear();
      cache.set(topic, entry);
    }
    return entry;
  };

  const decode = (raw: RawTick): Tick | null => {
    const entry = entryOf(raw.topic) as KeyEntry;
    let text: string;
    try {
      text = typeof raw.payload === 'string' ? raw.payload : decoder.decode(raw.payload);
    } catch {
      report('encoding', raw);
      return null;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      report('json', raw);
      return null;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      report('not_object', raw);
      return null;
    }
    try {
      const data = normalizeBook(parsed as Record<string, unknown>, { maxLevels });
      const { exchange, symbol, mode, key } = entry;
      if (data !== parsed) return { exchange, symbol, mode, key, data };
      // TextDecoder drops a leading byte-order mark: then the bytes are not the text's encoding.
      const payload = raw.payload;
      return typeof payload !== 'string' && payload[0] !== 0xef
        ? { exchange, symbol, mode, key, data, json: text, bytes: payload }
        : { exchange, symbol, mode, key, data, json: text };
    } catch {
      report('error', raw);
      return null;
    }
  };

  // The filter looks the topic up once and leaves the entry here for the throttle's keyOf, which
  // runs synchronously right after it for the same message: one cache lookup per tick, no pair
  // object allocated per tick.
  let current: KeyEntry | null = null;
  return pipe(
    filter((raw: RawTick) => {
      const entry = raw !== null && typeof raw === 'object' ? entryOf(raw.topic) : null;
      current = entry;
      if (entry === null) {
        report('topic', raw);
        return false;
      }
      onParsed?.(entry, raw);
      return true;
    }),
    keyedThrottle(() => (current as KeyEntry).key, throttleMs, { idleMs: options.idleMs, scheduler }),
    map(decode),
    filter((tick): tick is Tick => tick !== null),
  );
}

/**
 * {@link marketTicks} applied to a source: raw feed messages in, throttled normalised ticks out.
 *
 * @example
 * marketData(raw$, { throttleMs: 100, maxLevels: 50 }).subscribe((tick) => hub.publish(tick));
 */
export function marketData(raw$: Observable<RawTick>, options: MarketDataOptions = {}): Observable<Tick> {
  return raw$.pipe(marketTicks(options));
}
