import {
  asyncScheduler,
  debounceTime,
  groupBy,
  mergeMap,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import { throttleLatest } from './throttleLatest';

/** Options of {@link throttleByKey}. */
export interface ThrottleByKeyOptions {
  /**
   * A key's group is dropped after this long without a value, so the set of groups does not grow
   * forever; a later value on that key starts a fresh group and a fresh window. Default: the larger
   * of 60 s and ten windows. Must be at least `ms`, or a pending trailing value would be cut short
   * (it is raised to `ms` if smaller).
   */
  readonly idleMs?: number;
  /** Time source; `asyncScheduler` by default, a `TestScheduler` in marble tests. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Throttles each key on its own with {@link throttleLatest}: the first value of a key goes out at
 * once, the latest value of the key's window goes out when it closes, and a busy key never delays
 * or replaces another key's values. Groups idle for `idleMs` expire.
 *
 * @example
 * ticks$.pipe(throttleByKey((t) => t.topic, 100));
 */
export function throttleByKey<T, K>(
  keyOf: (value: T) => K,
  ms: number,
  options: ThrottleByKeyOptions = {},
): MonoTypeOperatorFunction<T> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const window = ms > 0 ? ms : 0;
  const idleMs = Math.max(options.idleMs ?? Math.max(60_000, window * 10), window);
  return (source) =>
    source.pipe(
      groupBy(keyOf, { duration: (group) => group.pipe(debounceTime(idleMs, scheduler)) }),
      mergeMap((group) => group.pipe(throttleLatest<T>(window, scheduler))),
    );
}
