import { asyncScheduler, type MonoTypeOperatorFunction, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { ThrottleByKeyOptions } from './throttleByKey';

interface KeyState<T> {
  /** When the key's current window ends; a value at or after it (with nothing pending) leads. */
  windowEnd: number;
  hasPending: boolean;
  pending: T | undefined;
}

/** Options of {@link keyedThrottle}. */
export interface KeyedThrottleOptions extends ThrottleByKeyOptions {
  /**
   * Most keys remembered at once. A new key past it forgets an older one, preferring (in insertion
   * order) one whose window is over and that has nothing pending: forgetting such a key changes
   * nothing, since its next value would lead anyway. Default unbounded.
   */
  readonly maxKeys?: number;
}

/** How many of the oldest keys a new key looks at for one it can forget. */
const EVICT_SCAN = 8;

interface Due<T> {
  readonly at: number;
  readonly order: number;
  readonly state: KeyState<T>;
}

/**
 * The contract of {@link throttleByKey} — per key, `throttleTime(ms, { leading: true, trailing:
 * true })`: the first value of a key goes out at once, the latest value of its window goes out when
 * the window closes (starting the next one) — built for a hot path with many keys:
 *
 * - no group, subscription or timer per key: a key is three fields in a `Map`;
 * - windows are lazy: a key that ticks slower than the window never arms a timer at all (its next
 *   value simply finds the window over and leads);
 * - ONE timer for the whole operator, armed only while some key has a trailing value waiting, at the
 *   earliest such window end; keys whose windows end together are flushed in one wake-up.
 *
 * Each key's emissions (values and times) are those of `throttleTime`; only the relative order of
 * two different keys emitting at the same instant may differ from {@link throttleByKey}. Keys idle
 * for `idleMs` are forgotten, and at most `maxKeys` are remembered.
 *
 * @example
 * ticks$.pipe(keyedThrottle((t) => t.key, 100));
 */
export function keyedThrottle<T, K>(keyOf: (value: T) => K, ms: number, options: KeyedThrottleOptions = {}): MonoTypeOperatorFunction<T> {
  if (!(ms > 0)) return (source) => source;
  const maxKeys = options.maxKeys ?? Infinity;
  const scheduler: SchedulerLike = options.scheduler ?? asyncScheduler;
  const idleMs = Math.max(options.idleMs ?? Math.max(60_000, ms * 10), ms * 2);
  return (source) =>
    new Observable<T>((subscriber) => {
      const keys = new Map<K, KeyState<T>>();
      const heap: Due<T>[] = [];
      let order = 0;
      let timer: Subscription | undefined;
      let timerAt = Infinity;
      let sourceDone = false;
      let sweptAt = scheduler.now();

      const arm = (): void => {
        const next = heap[0];
        if (next === undefined) {
          if (sourceDone) subscriber.complete();
          return;
        }
        if (timer !== undefined && timerAt <= next.at) return;
        timer?.unsubscribe();
        timerAt = next.at;
        timer = scheduler.schedule(flush, Math.max(0, next.at - scheduler.now()));
      };

      const flush = (): void => {
        timer = undefined;
        timerAt = Infinity;
        const now = scheduler.now();
        while (heap.length > 0 && (heap[0] as Due<T>).at <= now) {
          const { state } = pop(heap);
          const value = state.pending as T;
          state.hasPending = false;
          state.pending = undefined;
          // The trailing value starts the next window, as throttleTime does.
          state.windowEnd = now + ms;
          subscriber.next(value);
        }
        arm();
      };

      const sweep = (now: number): void => {
        sweptAt = now;
        for (const [key, state] of keys) if (!state.hasPending && now - state.windowEnd >= idleMs) keys.delete(key);
      };

      /** Makes room for one key: forgets an old key with nothing pending, a finished one first. */
      const evict = (now: number): void => {
        let fallback: K | undefined;
        let seen = 0;
        for (const [key, state] of keys) {
          if (!state.hasPending) {
            if (now >= state.windowEnd) {
              keys.delete(key);
              return;
            }
            if (fallback === undefined) fallback = key;
          }
          if (++seen >= EVICT_SCAN) break;
        }
        if (fallback !== undefined) keys.delete(fallback);
      };

      const subscription = source.subscribe({
        next(value) {
          const now = scheduler.now();
          let key: K;
          try {
            key = keyOf(value);
          } catch (err) {
            // Down the error channel, as throttleByKey does; thrown from here it would escape the
            // stream as an unhandled error.
            subscriber.error(err);
            return;
          }
          const state = keys.get(key);
          if (state === undefined) {
            if (keys.size >= maxKeys) evict(now);
            keys.set(key, { windowEnd: now + ms, hasPending: false, pending: undefined });
            subscriber.next(value);
            if (now - sweptAt >= idleMs) sweep(now);
            return;
          }
          if (state.hasPending) {
            state.pending = value;
            return;
          }
          if (now >= state.windowEnd) {
            state.windowEnd = now + ms;
            subscriber.next(value);
            return;
          }
          state.hasPending = true;
          state.pending = value;
          push(heap, { at: state.windowEnd, order: order++, state });
          if (state.windowEnd < timerAt) arm();
        },
        error(err) {
          subscriber.error(err);
        },
        complete() {
          sourceDone = true;
          if (heap.length === 0) subscriber.complete();
        },
      });

      return () => {
        subscription.unsubscribe();
        timer?.unsubscribe();
        keys.clear();
        heap.length = 0;
      };
    });
}

function before<T>(a: Due<T>, b: Due<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

function push<T>(heap: Due<T>[], item: Due<T>): void {
  let i = heap.push(item) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i] as Due<T>, heap[parent] as Due<T>)) break;
    [heap[i], heap[parent]] = [heap[parent] as Due<T>, heap[i] as Due<T>];
    i = parent;
  }
}

function pop<T>(heap: Due<T>[]): Due<T> {
  const top = heap[0] as Due<T>;
  const last = heap.pop() as Due<T>;
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l] as Due<T>, heap[m] as Due<T>)) m = l;
      if (r < heap.length && before(heap[r] as Due<T>, heap[m] as Due<T>)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m] as Due<T>, heap[i] as Due<T>];
      i = m;
    }
  }
  return top;
}
