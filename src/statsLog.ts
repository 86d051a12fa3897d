import { performance } from 'node:perf_hooks';
import type { Logger } from './logger';
import { throttledTicks } from './metrics';
import type { Stats } from './stats';

/** Operations that take longer than this are logged with their duration. */
export const SLOW_OPERATION_MS = 500;

/** The summary line's counters: deltas since the previous line, gauges as they are now. */
export interface StatsLine {
  readonly intervalS: number;
  readonly ticksIn: number;
  readonly ticksOut: number;
  readonly throttled: number;
  readonly framesSent: number;
  readonly bytesSent: number;
  readonly dropped: number;
  readonly conflated: number;
  readonly clients: number;
  readonly keys: number;
  readonly subscriptions: number;
}

/** What the summary line reads. */
export interface StatsLogSources {
  readonly stats: Stats;
  readonly hubStats: () => { subscriptions: number; keys: number };
  readonly clientCount: () => number;
}

interface Totals {
  ticksIn: number;
  ticksOut: number;
  throttled: number;
  framesSent: number;
  bytesSent: number;
  dropped: number;
  conflated: number;
}

function totals(stats: Stats, throttledBefore: number): Totals {
  let dropped = 0;
  for (const n of Object.values(stats.feedDropped)) dropped += n;
  return {
    ticksIn: stats.totalTicksIn(),
    ticksOut: stats.ticksOut,
    throttled: throttledTicks(stats, throttledBefore),
    framesSent: stats.framesSent,
    bytesSent: stats.bytesSent,
    dropped,
    conflated: stats.conflated,
  };
}

/**
 * The high-frequency events summarised: one info line every `intervalS` seconds with what happened
 * since the previous line (ticks in and out, throttled, frames and bytes sent, malformed feed
 * messages dropped, conflations) and the sizes now (clients, keys, subscriptions). Nothing is ever
 * logged per tick or per frame. Stop it with the returned function.
 */
export function startStatsLog(sources: StatsLogSources, logger: Logger, intervalS: number): () => void {
  if (!(intervalS > 0)) return () => undefined;
  const line = statsLine(sources);
  const timer = setInterval(() => logger.info({ event: 'stats', ...line() }, 'stats'), intervalS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * A function that returns the next {@link StatsLine} each time it is called: deltas since the
 * previous call (or since it was made). Pure apart from the counters it reads and the clock.
 */
export function statsLine(sources: StatsLogSources, now: () => number = () => performance.now()): () => StatsLine {
  let last = totals(sources.stats, 0);
  let lastAt = now();
  return () => {
    const t = totals(sources.stats, last.throttled);
    const at = now();
    const hub = sources.hubStats();
    const line: StatsLine = {
      intervalS: Math.round(at - lastAt) / 1000,
      ticksIn: t.ticksIn - last.ticksIn,
      ticksOut: t.ticksOut - last.ticksOut,
      throttled: t.throttled - last.throttled,
      framesSent: t.framesSent - last.framesSent,
      bytesSent: t.bytesSent - last.bytesSent,
      dropped: t.dropped - last.dropped,
      conflated: t.conflated - last.conflated,
      clients: sources.clientCount(),
      keys: hub.keys,
      subscriptions: hub.subscriptions,
    };
    last = t;
    lastAt = at;
    return line;
  };
}

/**
 * Runs `operation` and, when it took longer than {@link SLOW_OPERATION_MS}, logs a warning with its
 * name and duration. Errors pass through untouched (and are timed too).
 *
 * @example
 * const proxy = await timed(logger, 'startup', () => startProxy({ config, logger }));
 */
export async function timed<T>(logger: Logger, operation: string, run: () => Promise<T> | T, thresholdMs = SLOW_OPERATION_MS): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    const durationMs = Math.round(performance.now() - started);
    if (durationMs > thresholdMs) logger.warn({ event: 'slow_operation', operation, durationMs }, `${operation} took ${durationMs} ms`);
  }
}

/**
 * Logs a warning when the event loop was blocked longer than `thresholdMs` (one timer checks its
 * own lateness every `everyMs`): a stall that delays every client shows up in the log with its
 * duration. Returns a stop function.
 */
export function watchEventLoop(logger: Logger, thresholdMs = SLOW_OPERATION_MS, everyMs = 250): () => void {
  let expected = performance.now() + everyMs;
  const timer = setInterval(() => {
    const now = performance.now();
    const blockedMs = Math.round(now - expected);
    expected = now + everyMs;
    if (blockedMs > thresholdMs)
      logger.warn({ event: 'event_loop_blocked', durationMs: blockedMs }, `event loop blocked for ${blockedMs} ms`);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
