/**
 * Tickcast's stream library: pure RxJS operators for market-data feeds. Browser-safe: no Node
 * built-ins, time only through an injected scheduler.
 */
export { InvalidModeError, isMode, modeLabel, parseMode } from './mode';
export type { Mode, ModeLabel } from './mode';
export { DEFAULT_TWO_SEGMENT_EXCHANGES, formatTopic, parseTopic, topicParser } from './topic';
export type { ParseTopicOptions, TopicKey } from './topic';
export { throttleLatest } from './throttleLatest';
export { throttleByKey } from './throttleByKey';
export { keyedThrottle } from './keyedThrottle';
export type { ThrottleByKeyOptions } from './throttleByKey';
export { DEFAULT_MAX_LEVELS, isSideSorted, levelPrice, normalizeBook, normalizeSide } from './normalizeBook';
export type { BookLevel, BookLevelObject, BookLevelPair, NormalizeBookOptions } from './normalizeBook';
export { marketData, marketTicks } from './marketData';
export type { InvalidReason, MarketDataOptions, RawTick, Tick } from './marketData';
