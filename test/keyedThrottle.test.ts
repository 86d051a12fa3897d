import fc from 'fast-check';
import { from, mergeMap, of, delay, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { keyedThrottle } from '../streams/keyedThrottle';
import { throttleByKey } from '../streams/throttleByKey';

interface Ev {
  readonly key: string;
  readonly t: number;
  readonly v: number;
}

/** Emissions as (key, time, value), sorted per key by time then arrival: what each key saw. */
function run(events: Ev[], op: (s: TestScheduler) => (src: Observable<Ev>) => Observable<Ev>, endAt: number): string[] {
  const scheduler = new TestScheduler(() => undefined);
  const out: string[] = [];
  scheduler.run(() => {
    const src = from(events).pipe(mergeMap((e) => of(e).pipe(delay(e.t, scheduler))));
    op(scheduler)(src).subscribe((e) => out.push(`${e.key}@${scheduler.now()}=${e.v}`));
    scheduler.schedule(() => undefined, endAt);
  });
  // Per key, in emission order: the contract is per key.
  const byKey = new Map<string, string[]>();
  for (const line of out) {
    const key = line.split('@')[0] as string;
    byKey.set(key, [...(byKey.get(key) ?? []), line]);
  }
  return [...byKey.keys()].sort().flatMap((k) => byKey.get(k) as string[]);
}

const events = fc
  .array(fc.record({ key: fc.constantFrom('A', 'B', 'C'), t: fc.integer({ min: 0, max: 600 }) }), { maxLength: 60 })
  .map((list) => list.sort((a, b) => a.t - b.t).map((e, i) => ({ ...e, v: i })));

describe('keyedThrottle', () => {
  it('emits, per key, exactly the values and times of throttleByKey (groupBy + throttleTime) on random feeds', () => {
    fc.assert(
      fc.property(events, fc.constantFrom(1, 10, 50, 100), (evs, ms) => {
        const reference = run(evs, (s) => throttleByKey((e: Ev) => e.key, ms, { scheduler: s }), 2000);
        const keyed = run(evs, (s) => keyedThrottle((e: Ev) => e.key, ms, { scheduler: s }), 2000);
        expect(keyed).toEqual(reference);
      }),
      { seed: 20261121, numRuns: 500 },
    );
  });

  it('arms no timer for a key that ticks slower than its window', () => {
    const scheduler = new TestScheduler(() => undefined);
    const spy = jest.spyOn(scheduler, 'schedule');
    scheduler.run(({ cold }) => {
      const got: string[] = [];
      // prettier-ignore
      const src = cold('a 199ms b 199ms c', { a: 'a', b: 'b', c: 'c' }); // frames 0, 200, 400
      const before = spy.mock.calls.length;
      src.pipe(keyedThrottle(() => 'k', 100, { scheduler })).subscribe((v) => got.push(v));
      scheduler.flush();
      expect(got).toEqual(['a', 'b', 'c']);
      // Only the cold source's own three emissions were scheduled: no window timers.
      expect(spy.mock.calls.length - before).toBe(3);
    });
  });

  it('flushes every key whose window ends at the same time in one timer', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      // prettier-ignore
      const src = hot('(ab) 9ms (AB) 99ms |', { a: 'a1', b: 'b1', A: 'a2', B: 'b2' }); // 0, 13, | at 116
      const subs = '   ^ 115ms !';
      // leading a1,b1 at 0; trailing a2,b2 together at 100 (one wake-up); complete at 116
      // prettier-ignore
      expectObservable(src.pipe(keyedThrottle((v: string) => v[0], 100, { scheduler })))
        .toBe('(ab) 96ms (AB) 12ms |', { a: 'a1', b: 'b1', A: 'a2', B: 'b2' }); // 0, 100, 116
      expectSubscriptions(src.subscriptions).toBe(subs);
    });
  });
});
