import { TestScheduler } from 'rxjs/testing';
import { throttleLatest } from '../streams';
import { expectMarbles } from '../test/helpers/marbles';

const src = { a: 1, b: 2, c: 3, d: 4 };
const throttle100 = (scheduler: TestScheduler) => throttleLatest<number>(100, scheduler);

describe('throttleLatest', () => {
  it('sends the first tick of a window at once', () => {
    // prettier-ignore
    const m = {
      src:  '-- a 300ms |', // a@2 |@303
      subs: '^ 302ms !',    // ^@0 !@303
      exp:  '-- a 300ms |', // a@2 |@303
    };
    expectMarbles(m, throttle100, { src });
  });

  it('sends the latest tick of a burst when the window closes', () => {
    // prettier-ignore
    const m = {
      src:  'a 9ms b 9ms c 9ms d 200ms |', // a@0 b@10 c@20 d@30 |@231
      subs: '^ 230ms !',                   // ^@0 !@231
      exp:  'a 99ms d 130ms |',            // a@0 d@100 |@231 (b and c superseded, never first-wins)
    };
    expectMarbles(m, throttle100, { src });
  });

  it('emits a lone tick once, not twice', () => {
    // prettier-ignore
    const m = {
      src:  'a 299ms |', // a@0 |@300
      subs: '^ 299ms !', // ^@0 !@300
      exp:  'a 299ms |', // a@0 |@300, nothing at 100
    };
    expectMarbles(m, throttle100, { src });
  });

  it('starts the next window with the trailing emission', () => {
    // prettier-ignore
    const m = {
      src:  'a 49ms b 99ms c 199ms |', // a@0 b@50 c@150 |@350
      subs: '^ 349ms !',               // ^@0 !@350
      exp:  'a 99ms b 99ms c 149ms |', // a@0 b@100 c@200 (b opened 100–200) |@350
    };
    expectMarbles(m, throttle100, { src });
  });

  it('sends a tick that follows a quiet window at once', () => {
    // prettier-ignore
    const m = {
      src:  'a 249ms b 49ms c 199ms |', // a@0 b@250 c@300 |@500
      subs: '^ 499ms !',                // ^@0 !@500
      exp:  'a 249ms b 99ms c 149ms |', // a@0 b@250 c@350 |@500
    };
    expectMarbles(m, throttle100, { src });
  });

  it('holds completion until the pending latest tick has gone out', () => {
    // prettier-ignore
    const m = {
      src:  'a 9ms b 9ms |', // a@0 b@10 |@20
      subs: '^ 19ms !',      // ^@0 !@20
      exp:  'a 99ms (b|)',   // a@0 b@100 |@100
    };
    expectMarbles(m, throttle100, { src });
  });

  it('passes an error through at once', () => {
    // prettier-ignore
    const m = {
      src:  'a 9ms b 9ms #', // a@0 b@10 #@20
      subs: '^ 19ms !',      // ^@0 !@20
      exp:  'a 19ms #',      // a@0 #@20
    };
    expectMarbles(m, throttle100, { src, error: new Error('feed') });
  });

  it('tears down the source and drops the pending tick on unsubscribe', () => {
    // prettier-ignore
    const m = {
      src:   'a 9ms b 200ms c', // a@0 b@10 c@211
      unsub: '^ 49ms !',        // ^@0 !@50
      subs:  '^ 49ms !',        // ^@0 !@50
      exp:   'a',               // a@0, b never sent at 100
    };
    expectMarbles(m, throttle100, { src });
  });

  it.each([0, -5, NaN])('passes every tick straight through when ms is %p', (ms) => {
    // prettier-ignore
    const m = {
      src:  'a b c 7ms d |', // a@0 b@1 c@2 d@10 |@11
      subs: '^ 10ms !',      // ^@0 !@11
      exp:  'a b c 7ms d |', // a@0 b@1 c@2 d@10 |@11
    };
    expectMarbles(m, (scheduler) => throttleLatest<number>(ms, scheduler), { src });
  });

  it('keeps time with the scheduler it is given', () => {
    // Deliberately outside `run()`: there the default asyncScheduler keeps REAL time, so the
    // trailing tick only appears at frame 30 if the injected scheduler is the one used.
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toStrictEqual(expected));
    // prettier-ignore
    const source = scheduler.createColdObservable('a-b-------|', src); // a@0 b@20 |@100 (10 frames a char)
    // prettier-ignore
    const subs =                                  '^---------!'; //      ^@0 !@100
    // prettier-ignore
    const exp =                                   'a--b------|'; //      a@0 b@30 |@100
    scheduler.expectObservable(source.pipe(throttleLatest(30, scheduler))).toBe(exp, src);
    scheduler.expectSubscriptions(source.subscriptions).toBe(subs);
    scheduler.flush();
  });
});
