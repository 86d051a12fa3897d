import type { OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';

/**
 * A `TestScheduler` whose assertions use Jest's strict deep equality, so a property that should be
 * absent (e.g. a tick's `json`) fails the test when it is present but `undefined`.
 */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).toStrictEqual(expected);
  });
}

/** One marble case: a cold source, the operator's expected output and the source's subscriptions. */
export interface Marbles {
  /** The cold source. */
  readonly src: string;
  /** The source's expected subscription log. */
  readonly subs: string;
  /** The expected output. */
  readonly exp: string;
  /** When the consumer unsubscribes; never by default. */
  readonly unsub?: string;
}

/** Values of a {@link Marbles} case: the source's, the output's (default: the source's), the error. */
export interface MarbleValues<T, R> {
  readonly src: Readonly<Record<string, T>>;
  readonly exp?: Readonly<Record<string, R>>;
  readonly error?: unknown;
}

/**
 * Runs one marble case in virtual time (`TestScheduler.run`): pipes the cold source through the
 * operator `make` builds (given the scheduler, so time can be injected) and asserts both the output
 * and the source's subscriptions.
 */
export function expectMarbles<T, R = T>(
  marbles: Marbles,
  make: (scheduler: TestScheduler) => OperatorFunction<T, R>,
  values: MarbleValues<T, R>,
): void {
  const scheduler = testScheduler();
  scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
    const src = cold(marbles.src, values.src, values.error);
    const expected = values.exp ?? (values.src as unknown as Readonly<Record<string, R>>);
    expectObservable(src.pipe(make(scheduler)), marbles.unsub).toBe(marbles.exp, expected, values.error);
    expectSubscriptions(src.subscriptions).toBe(marbles.subs);
  });
}
