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

describe('keyedThrottle with maxKeys', () => {
  it('emits exactly what the unbounded throttle does when forgotten keys had finished their windows', () => {
    // Keys tick 30 ms apart with a 10 ms window: every key is finished when the next new one comes.
    const evs: Ev[] = Array.from({ length: 40 }, (_, i) => ({ key: `K${i % 8}`, t: i * 30, v: i }));
    const bounded = run(evs, (s) => keyedThrottle((e: Ev) => e.key, 10, { scheduler: s, maxKeys: 2 }), 2000);
    const unbounded = run(evs, (s) => keyedThrottle((e: Ev) => e.key, 10, { scheduler: s }), 2000);
    expect(bounded).toEqual(unbounded);
    expect(bounded).toHaveLength(40);
  });

  it('forgets an old key with nothing pending before one whose window is open; never one with a pending value', () => {
    // A leads at 0, B at 1; at 5 A gets a pending value; C (new, at 6) must forget B, not A.
    const evs: Ev[] = [
      { key: 'A', t: 0, v: 1 },
      { key: 'B', t: 1, v: 2 },
      { key: 'A', t: 5, v: 3 },
      { key: 'C', t: 6, v: 4 },
      { key: 'B', t: 7, v: 5 }, // B was forgotten: leads at once
      { key: 'A', t: 8, v: 6 }, // A kept: replaces its pending value
    ];
    const out = run(evs, (s) => keyedThrottle((e: Ev) => e.key, 100, { scheduler: s, maxKeys: 2 }), 500);
    expect(out).toEqual(['A@0=1', 'A@100=6', 'B@1=2', 'B@7=5', 'C@6=4']);
  });
});
