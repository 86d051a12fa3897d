import { TickcastConnectionError } from '../../src/client';
import { harness, STATUS } from '../../test/helpers/clientHarness';
import { testScheduler } from '../../test/helpers/marbles';

// TEST_BACKOFF with random = 0.5 gives the delays 75, 150, 300, 600, then 750 (capped) for ever.

describe('client reconnection backoff', () => {
  it('waits 75, 150, 300, 600 ms between failed attempts, then stays capped at 750 ms', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, status } = harness(scheduler, { refuse: (n) => n < 6 });

      // prettier-ignore
      const log =    'a 74ms b 149ms c 299ms d 599ms e 749ms f 749ms (gh)';
      //              0       75        225       525       1125      1875      2625
      // prettier-ignore
      const states = '(cr) 2621ms o';
      //              0           2625
      expectObservable(server.log).toBe(log, {
        a: 'connect#0',
        b: 'connect#1',
        c: 'connect#2',
        d: 'connect#3',
        e: 'connect#4',
        f: 'connect#5',
        g: 'connect#6',
        h: 'authenticate#6',
      });
      expectObservable(status).toBe(states, STATUS);
    });
  });

  it('starts again from the initial delay once a connection authenticates', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, status, at } = harness(scheduler, { refuse: (n) => n === 1 || n === 2 });
      at(1000, () => server.socket(0).drop(1001));
      at(2000, () => server.socket(3).drop(1001));

      // prettier-ignore
      const log =    '(ab) 1071ms c 149ms d 299ms (ef) 546ms (gh)';
      //              0         1075      1225      1525        2075
      // prettier-ignore
      const states = '(co) 996ms r 524ms o 474ms r 74ms o';
      //              0         1000     1525     2000   2075
      expectObservable(server.log).toBe(log, {
        a: 'connect#0',
        b: 'authenticate#0',
        c: 'connect#1',
        d: 'connect#2',
        e: 'connect#3',
        f: 'authenticate#3',
        g: 'connect#4',
        h: 'authenticate#4',
      });
      expectObservable(status).toBe(states, STATUS);
    });
  });

  it('keeps backing off when a connection opens but closes before authenticating', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, status, at } = harness(scheduler, { silent: (n) => n === 1 });
      at(1000, () => server.socket(0).drop(1001));
      at(1100, () => server.socket(1).drop(4401, 'auth timeout'));

      // prettier-ignore
      const log =    '(ab) 1071ms (cd) 171ms (ef)';
      //              0         1075        1250
      // prettier-ignore
      const states = '(co) 996ms r 249ms o';
      //              0         1000     1250
      expectObservable(server.log).toBe(log, {
        a: 'connect#0',
        b: 'authenticate#0',
        c: 'connect#1',
        d: 'authenticate#1',
        e: 'connect#2',
        f: 'authenticate#2',
      });
      expectObservable(status).toBe(states, STATUS);
    });
  });

  it('gives up after backoff.maxAttempts failed reconnection attempts and errors status$', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, status, at } = harness(
        scheduler,
        { refuse: (n) => n > 0 },
        { backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5, maxAttempts: 2 } },
      );
      at(1000, () => server.socket(0).drop(1001));
      at(60_000, () => undefined);

      // prettier-ignore
      const log =    '(ab) 1071ms c 149ms d';
      //              0         1075      1225
      // prettier-ignore
      const states = '(co) 996ms r 224ms #';
      //              0         1000     1225
      expectObservable(server.log).toBe(log, { a: 'connect#0', b: 'authenticate#0', c: 'connect#1', d: 'connect#2' });
      expectObservable(status).toBe(
        states,
        STATUS,
        new TickcastConnectionError(
          'Gave up on ws://fake/ws after 2 failed reconnection attempts (last: code 1006). ' +
            'Check that the proxy is running and reachable, or raise backoff.maxAttempts.',
        ),
      );
    });
  });
});
