import type { MonoTypeOperatorFunction } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { throttleLatest, type ThrottleByKeyOptions } from '../streams';
import { expectMarbles } from '../test/helpers/marbles';

/** A test value: `k` is its key. */
export interface V {
  readonly k: string;
  readonly n: number;
}
const keyOf = (value: V): string => value.k;
// a, b, c, d: key "a"; x, y: key "x"
const src: Record<string, V> = {
  a: { k: 'a', n: 1 },
  b: { k: 'a', n: 2 },
  c: { k: 'a', n: 3 },
  d: { k: 'a', n: 4 },
  x: { k: 'x', n: 1 },
  y: { k: 'x', n: 2 },
};

/** An operator with the signature and contract of `throttleByKey`. */
export type KeyedThrottle = <T, K>(keyOf: (value: T) => K, ms: number, options?: ThrottleByKeyOptions) => MonoTypeOperatorFunction<T>;

/** Checks a spec adds after a contract case, for what only its implementation can show. */
export interface ContractHooks {
  /** After a key idle past idleMs ticks again. */
  readonly expired?: () => void;
  /** After a key ticks steadily, each tick within idleMs of the last. */
  readonly keptAlive?: () => void;
  /** After the consumer unsubscribed at frame 50 with groups open for keys a (from 0) and x (from 10). */
  readonly unsubscribed?: () => void;
}

/**
 * The marble cases every keyed throttle must pass — per key, exactly `throttleTime(ms, { leading:
 * true, trailing: true })` — as `it`s in the calling `describe`.
 */
export function keyedThrottleContract(operator: KeyedThrottle, hooks: ContractHooks = {}): void {
  const byKey =
    (ms: number, idleMs?: number) =>
    (scheduler: TestScheduler): MonoTypeOperatorFunction<V> =>
      operator(keyOf, ms, { idleMs, scheduler });

  it('throttles each key on its own: a busy key neither delays nor replaces another key’s latest tick', () => {
    // prettier-ignore
    const m = {
      src:  'a 4ms x 4ms b 4ms y 4ms c 200ms |', // a@0 x@5 b@10 y@15 c@20 |@221
      subs: '^ 220ms !',                         // ^@0 !@221
      exp:  'a 4ms x 94ms c 4ms y 115ms |',      // a@0 x@5 c@100 y@105 |@221
    };
    expectMarbles(m, byKey(100), { src });
  });

  it('flushes every key’s pending tick before completing', () => {
    // prettier-ignore
    const m = {
      src:  'a x b y |',       // a@0 x@1 b@2 y@3 |@4
      subs: '^ 3ms !',         // ^@0 !@4
      exp:  'a x 98ms b (y|)', // a@0 x@1 b@100 y@101 |@101
    };
    expectMarbles(m, byKey(100), { src });
  });

  it('lets a key idle past idleMs start a fresh window with its next tick', () => {
    // prettier-ignore
    const m = {
      src:  'a 9ms b 489ms c 9ms d 400ms |',   // a@0 b@10 c@500 d@510 |@911
      subs: '^ 910ms !',                       // ^@0 !@911
      exp:  'a 99ms b 399ms c 99ms d 310ms |', // a@0 b@100 c@500 d@600 |@911
    };
    expectMarbles(m, byKey(100, 300), { src });
    hooks.expired?.();
  });

  it('throttles a key that ticks steadily within idleMs like any other', () => {
    // prettier-ignore
    const m = {
      src:  'a 249ms b 249ms c 200ms |', // a@0 b@250 c@500 |@701
      subs: '^ 700ms !',                 // ^@0 !@701
      exp:  'a 249ms b 249ms c 200ms |', // a@0 b@250 c@500 |@701
    };
    expectMarbles(m, byKey(100, 300), { src });
    hooks.keptAlive?.();
  });

  it('never lets expiry cut short the window a trailing tick opened, even with idleMs equal to ms', () => {
    // prettier-ignore
    const m = {
      src:  'a 49ms b 109ms c 100ms |', // a@0 b@50 c@160 |@261
      subs: '^ 260ms !',                // ^@0 !@261
      exp:  'a 99ms b 99ms c 60ms |',   // a@0 b@100 c@200 (b opened 100–200) |@261
    };
    expectMarbles(m, byKey(100, 100), { src });
    expectMarbles(m, (scheduler) => throttleLatest<V>(100, scheduler), { src });
  });

  it('passes every tick straight through when ms is 0', () => {
    // prettier-ignore
    const m = {
      src:  'a b x c y |', // a@0 b@1 x@2 c@3 y@4 |@5
      subs: '^ 4ms !',     // ^@0 !@5
      exp:  'a b x c y |', // a@0 b@1 x@2 c@3 y@4 |@5
    };
    expectMarbles(m, byKey(0), { src });
  });

  it('tears down the source on unsubscribe, though ticks keep coming', () => {
    // prettier-ignore
    const m = {
      src:   'a 9ms x 9ms b 200ms y 9ms c 9ms x', // a@0 x@10 b@20 y@221 c@231 x@241
      unsub: '^ 49ms !',                          // ^@0 !@50
      subs:  '^ 49ms !',                          // ^@0 !@50
      exp:   'a 9ms x',                           // a@0 x@10, b never sent at 100
    };
    expectMarbles(m, byKey(100), { src });
    hooks.unsubscribed?.();
  });

  it('passes an error from the source through at once', () => {
    // prettier-ignore
    const m = {
      src:  'a 9ms b 9ms #', // a@0 b@10 #@20
      subs: '^ 19ms !',      // ^@0 !@20
      exp:  'a 19ms #',      // a@0 #@20
    };
    expectMarbles(m, byKey(100), { src, error: new Error('feed') });
  });

  it('sends an error thrown by keyOf down the error channel', () => {
    const failing = (value: V): string => {
      if (value.k === 'x') throw new Error('no key');
      return value.k;
    };
    // prettier-ignore
    const m = {
      src:  'a 9ms x 9ms b', // a@0 x@10 b@20
      subs: '^ 9ms !',       // ^@0 !@10
      exp:  'a 9ms #',       // a@0 #@10
    };
    expectMarbles(m, (scheduler) => operator(failing, 100, { scheduler }), { src, error: new Error('no key') });
  });
}
