import {
  asyncScheduler,
  debounceTime,
  defer,
  finalize,
  groupBy,
  mergeMap,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
  Subject,
  takeUntil,
} from 'rxjs';
import { throttleLatest } from './throttleLatest';

/** Options of {@link throttleByKey}. */
export interface ThrottleByKeyOptions {
  /**
   * A key's group is dropped after this long without a value, so the set of groups does not grow
   * forever; a later value on that key starts a fresh group and a fresh window. Default: the larger
   * of 60 s and ten windows. Raised to at least two windows (`2 * ms`) if smaller: a trailing value
   * opens one more window, and a group that expired inside it would let the next value out early.
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
export function throttleByKey<T, K>(keyOf: (value: T) => K, ms: number, options: ThrottleByKeyOptions = {}): MonoTypeOperatorFunction<T> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const window = ms > 0 ? ms : 0;
  const idleMs = Math.max(options.idleMs ?? Math.max(60_000, window * 10), window * 2);
  return (source) =>
    defer(() => {
      // RxJS 7's groupBy stays subscribed to its source while anything is subscribed to a group,
      // and each group's idle timer is (rxjs#6805): without this, unsubscribing would leave the
      // feed subscribed and the timers running for as long as ticks keep coming.
      const unsubscribed = new Subject<void>();
      return source.pipe(
        takeUntil(unsubscribed),
        groupBy(keyOf, { duration: (group) => group.pipe(debounceTime(idleMs, scheduler)) }),
        mergeMap((group) => group.pipe(throttleLatest<T>(window, scheduler))),
        finalize(() => unsubscribed.next()),
      );
    });
}
