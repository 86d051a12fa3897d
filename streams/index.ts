/**
 * Tickcast's stream library: pure RxJS operators for market-data feeds. Browser-safe: no Node
 * built-ins, time only through an injected scheduler.
 */
export { InvalidModeError, isMode, modeLabel, parseMode } from './mode';
export type { Mode, ModeLabel } from './mode';
export { classifyTopic, DEFAULT_TWO_SEGMENT_EXCHANGES, formatTopic, parseTopic, topicClassifier, topicParser } from './topic';
export type { ParseTopicOptions, TopicClass, TopicKey } from './topic';
export { throttleLatest } from './throttleLatest';
export { throttleByKey } from './throttleByKey';
export { keyedThrottle } from './keyedThrottle';
export type { KeyedThrottleOptions } from './keyedThrottle';
export type { ThrottleByKeyOptions } from './throttleByKey';
export { DEFAULT_MAX_LEVELS, isSideSorted, levelPrice, normalizeBook, normalizeSide } from './normalizeBook';
export type { BookLevel, BookLevelObject, BookLevelPair, NormalizeBookOptions } from './normalizeBook';
export { DEFAULT_MAX_KEYS, marketData, marketTicks, PayloadDecoder, TopicCache } from './marketData';
export type { InvalidReason, KeyEntry, MarketDataOptions, PayloadProblem, RawTick, Tick } from './marketData';
