import { asyncScheduler, filter, map, type Observable, type OperatorFunction, pipe, type SchedulerLike } from 'rxjs';
import type { Mode } from './mode';
import { DEFAULT_MAX_LEVELS, normalizeBook } from './normalizeBook';
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- named by the TSDoc links below
import type { throttleByKey } from './throttleByKey';
import { formatTopic, type ParseTopicOptions, type TopicClass, topicClassifier, type TopicKey } from './topic';
import { keyedThrottle } from './keyedThrottle';

/** One message as the feed delivers it: a topic and its undecoded payload. */
export interface RawTick {
  readonly topic: string;
  readonly payload: Uint8Array | string;
}

/** A decoded, throttled, normalised market-data update. Every field is always present. */
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
   * encoder can embed it instead of calling `JSON.stringify` again; else undefined.
   */
  readonly json: string | undefined;
  /**
   * The payload's bytes when `json` is set and the feed gave bytes that are its UTF-8 encoding; else
   * undefined. An encoder can copy them into a frame instead of encoding `json` again. A view into
   * the feed's read buffer: copy before keeping it.
   */
  readonly bytes: Uint8Array | undefined;
}

/** Why a message was skipped. */
export type InvalidReason = 'topic' | 'encoding' | 'json' | 'not_object' | 'error';

/** Why a payload is not a market-data object. */
export type PayloadProblem = 'encoding' | 'json' | 'not_object';

/**
 * The payload checks of the pipeline (UTF-8, JSON, an object), in one place for every reader of
 * the feed: the proxy's {@link marketTicks} and the NATS bridge. {@link decode} leaves the text it
 * decoded in {@link text}, so a good payload costs no allocation beyond its parse.
 */
export class PayloadDecoder {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** The text of the payload last given to {@link decode} (when it was valid UTF-8). */
  text = '';

  /** The payload parsed to an object, or why it is not one. */
  decode(payload: Uint8Array | string): Record<string, unknown> | PayloadProblem {
    try {
      this.text = typeof payload === 'string' ? payload : this.decoder.decode(payload);
    } catch {
      return 'encoding';
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(this.text);
    } catch {
      return 'json';
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'not_object';
    return parsed as Record<string, unknown>;
  }
}

/** A market-data topic as the topic cache keeps it: its key and canonical spelling. */
export interface KeyEntry extends TopicKey {
  /** {@link formatTopic} of the key. */
  readonly key: string;
}

/** Exchange names are few; a feed that invents them past this many just stops sharing them. */
const MAX_INTERNED_EXCHANGES = 1024;

/** Default of {@link TopicCache}'s bound and of the proxy's `--max-keys`. */
export const DEFAULT_MAX_KEYS = 250_000;

/**
 * Topic strings are few and repeat forever: each is classified once ({@link classifyTopic}) and
 * remembered. Bounded: past `maxTopics` the topic cached longest ago is forgotten (a later message
 * on it is classified again), so junk topics cannot grow it. `make` builds what is kept for a
 * market-data topic, once per topic.
 */
export class TopicCache<E extends TopicKey = KeyEntry> {
  private readonly entries = new Map<string, E | 'order' | 'ignored' | 'invalid'>();
  private readonly exchanges = new Map<string, string>();
  private readonly classify: (topic: string) => TopicClass;

  constructor(
    private readonly make: (key: TopicKey, canonical: string) => E,
    options: ParseTopicOptions & { readonly maxTopics?: number } = {},
    private readonly maxTopics = options.maxTopics ?? DEFAULT_MAX_KEYS,
  ) {
    this.classify = topicClassifier(options);
  }

  /** What `topic` is: its entry when it names a market-data key, else its class. */
  get(topic: string): E | 'order' | 'ignored' | 'invalid' {
    let entry = this.entries.get(topic);
    if (entry === undefined) {
      const cls = typeof topic === 'string' ? this.classify(topic) : 'invalid';
      entry = typeof cls === 'string' ? cls : this.entryOf(topic, cls);
      if (this.entries.size >= this.maxTopics) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(topic, entry);
    }
    return entry;
  }

  /**
   * A whole exchange universe of keys stays cached, so each costs as little as it can: the topic
   * string itself is the canonical key when it is spelled canonically (as publishers do), and the
   * few exchange names are shared by every key rather than sliced per topic.
   */
  private entryOf(topic: string, key: TopicKey): E {
    let exchange = this.exchanges.get(key.exchange);
    if (exchange === undefined) {
      exchange = key.exchange;
      if (this.exchanges.size < MAX_INTERNED_EXCHANGES) this.exchanges.set(exchange, exchange);
    }
    const canonical = formatTopic(key);
    return this.make({ exchange, symbol: key.symbol, mode: key.mode }, canonical === topic ? topic : canonical);
  }

  /** Topics remembered now. */
  get size(): number {
    return this.entries.size;
  }
}

/** Options of {@link marketData}. */
export interface MarketDataOptions extends ParseTopicOptions {
  /** Throttle window per key in ms; `0` disables throttling. Default 100. */
  readonly throttleMs?: number;
  /** Book levels kept per side. Default 50. */
  readonly maxLevels?: number;
  /** Idle time after which a key's throttle state is dropped. See {@link throttleByKey}. */
  readonly idleMs?: number;
  /**
   * Most keys (and topics) the pipeline remembers at once, in its topic cache and its throttle;
   * past it the oldest are forgotten. Default {@link DEFAULT_MAX_KEYS}.
   */
  readonly maxKeys?: number;
  /** Time source; `asyncScheduler` by default. */
  readonly scheduler?: SchedulerLike;
  /** Told of every message that is skipped, and why. Never called for a good message. */
  readonly onInvalid?: (reason: InvalidReason, raw: RawTick) => void;
  /**
   * Told of every order-event message (topic `..._orders`), unthrottled and undecoded. Without it,
   * order events are not market data: `onInvalid('topic')`.
   */
  readonly onOrder?: (topic: string, payload: Uint8Array | string) => void;
  /**
   * Told of every message on a topic that carries nothing for clients (`CACHE_INVALIDATE_*`,
   * `..._positions`, `..._margins`). Without it they are reported as `onInvalid('topic')`.
   */
  readonly onIgnored?: (raw: RawTick) => void;
  /**
   * Told of every message whose topic parses, before the throttle (e.g. to count ticks in by mode).
   * Gets the cached key, so it costs no parsing.
   */
  readonly onParsed?: (key: TopicKey, raw: RawTick) => void;
}

/**
 * The whole per-key pipeline of `design.md` as one operator: classify the topic (cached per topic,
 * {@link TopicCache}), hand order events to `onOrder`, throttle market data per key with
 * {@link keyedThrottle} (the semantics of {@link throttleByKey}, without a group or timer per key),
 * then — only for what survived the throttle — decode the JSON payload ({@link PayloadDecoder}) and
 * normalise order books. Messages that fail anywhere are reported to `onInvalid` and skipped; a bad
 * message never errors the stream.
 *
 * @example
 * raw$.pipe(marketTicks({ throttleMs: 100, onInvalid: (reason) => counter.inc({ reason }) }));
 */
export function marketTicks(options: MarketDataOptions = {}): OperatorFunction<RawTick, Tick> {
  const throttleMs = options.throttleMs ?? 100;
  const maxLevels = options.maxLevels ?? DEFAULT_MAX_LEVELS;
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  const scheduler = options.scheduler ?? asyncScheduler;
  const { onInvalid, onOrder, onIgnored, onParsed } = options;
  const topics = new TopicCache<KeyEntry>(
    (key, canonical) => ({ exchange: key.exchange, symbol: key.symbol, mode: key.mode, key: canonical }),
    {
      twoSegmentExchanges: options.twoSegmentExchanges,
      maxTopics: maxKeys,
    },
  );
  const payloads = new PayloadDecoder();

  const report = (reason: InvalidReason, raw: RawTick): void => {
    if (!onInvalid) return;
    try {
      onInvalid(reason, raw);
    } catch {
      // A faulty reporter must not take the stream down with it.
    }
  };

  const decode = (raw: RawTick, entry: KeyEntry): Tick | null => {
    const parsed = payloads.decode(raw.payload);
    if (typeof parsed === 'string') {
      report(parsed, raw);
      return null;
    }
    try {
      const data = normalizeBook(parsed, { maxLevels });
      const { exchange, symbol, mode, key } = entry;
      if (data !== parsed) return { exchange, symbol, mode, key, data, json: undefined, bytes: undefined };
      const json = payloads.text;
      // TextDecoder drops a leading byte-order mark: then the bytes are not the text's encoding.
      const payload = raw.payload;
      const bytes = typeof payload !== 'string' && payload[0] !== 0xef ? payload : undefined;
      return { exchange, symbol, mode, key, data, json, bytes };
    } catch {
      report('error', raw);
      return null;
    }
  };

  // The filter looks the topic up once and leaves the entry here for the throttle's keyOf and the
  // decode, which run synchronously right after it for the same message (the throttle hands a
  // trailing value over later, so decode looks it up again then): one cache lookup per tick, no
  // pair object allocated per tick.
  let current: KeyEntry | null = null;
  return pipe(
    filter((raw: RawTick) => {
      const entry = raw !== null && typeof raw === 'object' ? topics.get(raw.topic) : 'invalid';
      if (typeof entry === 'object') {
        current = entry;
        onParsed?.(entry, raw);
        return true;
      }
      current = null;
      if (entry === 'order' && onOrder) onOrder(raw.topic, raw.payload);
      else if (entry === 'ignored' && onIgnored) onIgnored(raw);
      else report('topic', raw);
      return false;
    }),
    keyedThrottle(() => (current as KeyEntry).key, throttleMs, { idleMs: options.idleMs, scheduler, maxKeys }),
    map((raw) => {
      const entry = topics.get(raw.topic);
      return typeof entry === 'object' ? decode(raw, entry) : null;
    }),
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
