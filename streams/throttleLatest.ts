import { asyncScheduler, type MonoTypeOperatorFunction, type SchedulerLike, throttleTime } from 'rxjs';

/**
 * Emits the first value of a window at once and the LATEST value of the window when it closes
 * (which starts the next window): `throttleTime(ms, scheduler, { leading: true, trailing: true })`.
 * A burst therefore never loses its last value, and a lone value is emitted once, not twice.
 *
 * `ms <= 0` passes every value straight through.
 *
 * @example
 * ticks$.pipe(throttleLatest(100)); // at most ~10 values per second, never a stale last one
 */
export function throttleLatest<T>(ms: number, scheduler: SchedulerLike = asyncScheduler): MonoTypeOperatorFunction<T> {
  if (!(ms > 0)) return (source) => source;
  return throttleTime<T>(ms, scheduler, { leading: true, trailing: true });
}
