import type { MonoTypeOperatorFunction, SchedulerLike } from 'rxjs';
import { throttleByKey } from '../streams';
import { keyedThrottleContract } from './keyedThrottleContract';

/**
 * Each key's group is throttled by its own `throttleLatest`, so wrapping it records when every group
 * starts and ends. Expiry leaves no trace in the output (a tick after a long silence leads a window
 * either way); this record is how the tests see that a group really expired.
 */
const mockGroups: { start: number; end?: number }[] = [];
jest.mock('../streams/throttleLatest', () => {
  const actual = jest.requireActual('../streams/throttleLatest');
  const { defer, finalize } = jest.requireActual('rxjs');
  return {
    throttleLatest:
      <T>(ms: number, scheduler: SchedulerLike): MonoTypeOperatorFunction<T> =>
      (source) =>
        defer(() => {
          const group: { start: number; end?: number } = { start: scheduler.now() };
          mockGroups.push(group);
          return actual
            .throttleLatest(
              ms,
              scheduler,
            )(source)
            .pipe(finalize(() => (group.end = scheduler.now())));
        }),
  };
});

beforeEach(() => {
  mockGroups.length = 0;
});

describe('throttleByKey', () => {
  keyedThrottleContract(throttleByKey, {
    // Group 1 ends 300 ms after b (its last tick); c opens group 2, which ends 300 ms after d.
    expired: () =>
      expect(mockGroups).toEqual([
        { start: 0, end: 310 },
        { start: 500, end: 810 },
      ]),
    keptAlive: () => expect(mockGroups).toEqual([{ start: 0, end: 701 }]),
    unsubscribed: () =>
      expect(mockGroups).toEqual([
        { start: 0, end: 50 },
        { start: 10, end: 50 },
      ]),
  });
});
