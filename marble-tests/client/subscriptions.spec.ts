import { InvalidModeError, TickcastSubscribeError } from '../../src/client';
import { type FakeServer, marketData } from '../../test/helpers/fakeServer';
import { harness, STATUS, X_LOG } from '../../test/helpers/clientHarness';
import { testScheduler } from '../../test/helpers/marbles';

// The fake server answers in the same frame as the request, so a connection, its authentication
// and the subscriptions it makes all land on one frame. Grace period: 1000 ms (the default).

describe('client subscriptions', () => {
  it('sends one subscribe for a key however many observers it has', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server, at } = harness(scheduler);
      at(100, () => server.socket(0).tick('NSE', 'X', 1, { ltp: 10 }));

      // prettier-ignore
      const first =  '^';
      // prettier-ignore
      const second = '50ms ^';
      // prettier-ignore
      const ticks =  '100ms a';
      //              0     100
      // prettier-ignore
      const log =    '(abc)';
      //              0
      const values = { a: marketData('NSE', 'X', 1, { ltp: 10 }) };
      expectObservable(client.ticks$('X', 'NSE', 1), first).toBe(ticks, values);
      expectObservable(client.ticks$('X', 'NSE', 'ltp'), second).toBe(ticks, values);
      expectObservable(server.log).toBe(log, { a: 'connect#0', b: 'authenticate#0', c: 'subscribe#0 1 NSE:X' });
    });
  });

  /** X observed from 0 to 100 ms and by a second observer as `second` says; asserts what reached the server. */
  function observeTwice(second: string, log: string): FakeServer {
    const scheduler = testScheduler();
    return scheduler.run(({ expectObservable }) => {
      const { client, server } = harness(scheduler);
      expectObservable(client.ticks$('X', 'NSE', 1), '^ 99ms !').toBe('');
      expectObservable(client.ticks$('X', 'NSE', 1), second).toBe('');
      expectObservable(server.log).toBe(log, X_LOG);
      return server;
    });
  }

  it('unsubscribes, naming the mode, one grace period after the last observer leaves', () => {
    // prettier-ignore
    const second = '^ 199ms !';
    //              0      200
    // prettier-ignore
    const log =    '(abc) 1195ms d';
    //              0          1200
    const server = observeTwice(second, log);
    expect(server.frames).toStrictEqual([
      { action: 'authenticate', api_key: 'good-key', request_id: 'tc1' },
      { action: 'subscribe', symbols: [{ symbol: 'X', exchange: 'NSE' }], mode: 1, request_id: 'tc2' },
      { action: 'unsubscribe', symbols: [{ symbol: 'X', exchange: 'NSE', mode: 1 }], request_id: 'tc3' },
    ]);
  });

  it('keeps the server subscription when an observer comes back within the grace period', () => {
    // prettier-ignore
    const second = '600ms ^ 99ms !';
    //              600     700
    // prettier-ignore
    const log =    '(abc) 1695ms d';
    //              0          1700
    observeTwice(second, log);
  });

  it('subscribes again when an observer comes after the grace period ran out', () => {
    // prettier-ignore
    const second = '1500ms ^';
    //              1500
    // prettier-ignore
    const log =    '(abc) 1095ms d 399ms e';
    //              0          1100    1500
    observeTwice(second, log);
  });

  it('re-subscribes every live key after a reconnect, one frame per mode, and ticks resume on the same streams', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server, status, at } = harness(scheduler);
      at(100, () => server.socket(0).tick('NSE', 'X', 1, { ltp: 10 }));
      at(100, () => server.socket(0).tick('NSE', 'Z', 2, { ltp: 20, volume: 5 }));
      at(200, () => server.socket(0).drop(1001, 'server shutting down'));
      at(300, () => server.socket(1).tick('NSE', 'X', 1, { ltp: 11 }));
      at(300, () => server.socket(1).tick('NSE', 'Y', 1, { ltp: 30 }));
      at(300, () => server.socket(1).tick('NSE', 'Z', 2, { ltp: 21, volume: 6 }));

      // prettier-ignore
      const x =      '100ms a 199ms b';
      //              0     100     300
      // prettier-ignore
      const y =      '300ms c';
      //              0     300
      // prettier-ignore
      const z =      '100ms d 199ms e';
      //              0     100     300
      // prettier-ignore
      const log =    '(abcd) 269ms (efgh)';
      //              0          275
      // prettier-ignore
      const states = '(co) 196ms r 74ms o';
      //              0         200    275
      expectObservable(client.ticks$('X', 'NSE', 1)).toBe(x, {
        a: marketData('NSE', 'X', 1, { ltp: 10 }),
        b: marketData('NSE', 'X', 1, { ltp: 11 }),
      });
      expectObservable(client.ticks$('Y', 'NSE', 'LTP')).toBe(y, { c: marketData('NSE', 'Y', 1, { ltp: 30 }) });
      expectObservable(client.ticks$('Z', 'NSE', 'quote')).toBe(z, {
        d: marketData('NSE', 'Z', 2, { ltp: 20, volume: 5 }),
        e: marketData('NSE', 'Z', 2, { ltp: 21, volume: 6 }),
      });
      expectObservable(server.log).toBe(log, {
        a: 'connect#0',
        b: 'authenticate#0',
        c: 'subscribe#0 1 NSE:X NSE:Y',
        d: 'subscribe#0 2 NSE:Z',
        e: 'connect#1',
        f: 'authenticate#1',
        g: 'subscribe#1 1 NSE:X NSE:Y',
        h: 'subscribe#1 2 NSE:Z',
      });
      expectObservable(status).toBe(states, STATUS);
    });
  });

  it('subscribes a key first observed while reconnecting in the same frame as the others', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server } = harness(scheduler, { refuse: (n) => n === 0 });

      // prettier-ignore
      const late =   '50ms ^';
      // prettier-ignore
      const log =    'a 74ms (bcd)';
      //              0     75
      expectObservable(client.ticks$('X', 'NSE', 1)).toBe('');
      expectObservable(client.ticks$('Y', 'NSE', 1), late).toBe('');
      expectObservable(server.log).toBe(log, {
        a: 'connect#0',
        b: 'connect#1',
        c: 'authenticate#1',
        d: 'subscribe#1 1 NSE:X NSE:Y',
      });
    });
  });

  it('routes each frame to the streams of the mode it is tagged with', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server, at } = harness(scheduler);
      at(100, () => server.socket(0).tick('NSE', 'X', 1, { ltp: 10 }));
      at(200, () => server.socket(0).tick('NSE', 'X', 2, { ltp: 11, volume: 7 }));
      at(300, () => server.socket(0).tick('NSE', 'X', 3, { ltp: 12 }));
      at(300, () => server.socket(0).tick('BSE', 'X', 1, { ltp: 13 }));
      at(300, () => server.socket(0).push({ type: 'market_data', symbol: 'X', exchange: 'NSE', mode: 4, data: {} }));

      // prettier-ignore
      const ltp =    '100ms a';
      //              0     100
      // prettier-ignore
      const quote =  '200ms b';
      //              0     200
      expectObservable(client.ticks$('X', 'NSE', 1)).toBe(ltp, { a: marketData('NSE', 'X', 1, { ltp: 10 }) });
      expectObservable(client.ticks$('X', 'NSE', 2)).toBe(quote, { b: marketData('NSE', 'X', 2, { ltp: 11, volume: 7 }) });
    });
  });

  it('ltp$ emits data.ltp of the LTP ticks and skips ticks without a numeric ltp', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server, at } = harness(scheduler);
      at(100, () => server.socket(0).tick('NSE', 'X', 1, { ltp: 10.5 }));
      at(200, () => server.socket(0).tick('NSE', 'X', 1, { volume: 1 }));
      at(250, () => server.socket(0).tick('NSE', 'X', 1, { ltp: '11' }));
      at(300, () => server.socket(0).tick('NSE', 'X', 1, { ltp: 11 }));

      // prettier-ignore
      const ltp =    '100ms a 199ms b';
      //              0     100     300
      expectObservable(client.ltp$('X', 'NSE')).toBe(ltp, { a: 10.5, b: 11 });
    });
  });

  it('delivers the snapshot the server sends right after the subscribe reply', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client } = harness(scheduler, { snapshot: (_exchange, symbol) => ({ ltp: symbol.length * 100 }) });

      // prettier-ignore
      const ticks =  's';
      //              0
      expectObservable(client.ticks$('X', 'NSE', 1)).toBe(ticks, { s: marketData('NSE', 'X', 1, { ltp: 100 }) });
    });
  });

  it('errors the stream of a key whose subscribe entry the server refuses, with its code and message', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server, at } = harness(scheduler, { rejectSymbols: ['BAD'] });
      at(100, () => server.socket(0).tick('NSE', 'X', 1, { ltp: 10 }));

      // prettier-ignore
      const bad =    '#';
      //              0
      // prettier-ignore
      const good =   '100ms a';
      //              0     100
      expectObservable(client.ticks$('X', 'NSE', 1)).toBe(good, { a: marketData('NSE', 'X', 1, { ltp: 10 }) });
      expectObservable(client.ticks$('BAD', 'NSE', 1)).toBe(
        bad,
        {},
        new TickcastSubscribeError('NO_SUCH_SYMBOL', 'unknown symbol BAD', 'BAD', 'NSE', 1, 'tc2'),
      );
      // A new observer after the refusal asks the server again.
      // prettier-ignore
      const retry =  '500ms ^';
      //              0     500
      // prettier-ignore
      const log =    '(abc) 495ms d';
      //              0          500
      expectObservable(client.ticks$('BAD', 'NSE', 1), retry).toBe(
        '500ms #',
        {},
        new TickcastSubscribeError('NO_SUCH_SYMBOL', 'unknown symbol BAD', 'BAD', 'NSE', 1, 'tc3'),
      );
      expectObservable(server.log).toBe(log, {
        a: 'connect#0',
        b: 'authenticate#0',
        c: 'subscribe#0 1 NSE:X NSE:BAD',
        d: 'subscribe#0 1 NSE:BAD',
      });
    });
  });

  it('matches subscribe replies without request_id (OpenAlgo) to requests in order', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client } = harness(scheduler, { rejectSymbols: ['BAD'], echoRequestId: false });

      // Two requests wait at once: X's (tc2) then BAD's (tc3); the answers carry no request_id.
      // prettier-ignore
      const later =  '100ms ^';
      // prettier-ignore
      const bad =    '100ms #';
      //              0     100
      expectObservable(client.ticks$('X', 'NSE', 1), later).toBe('');
      expectObservable(client.ticks$('BAD', 'NSE', 1), later).toBe(
        bad,
        {},
        new TickcastSubscribeError('NO_SUCH_SYMBOL', 'unknown symbol BAD', 'BAD', 'NSE', 1, 'tc3'),
      );
    });
  });

  it('errors every stream of a subscribe request the server answers with an error envelope', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const limited = (frame: Record<string, unknown>) =>
        frame['action'] === 'subscribe' && frame['mode'] === 2 ? { code: 'RATE_LIMITED', message: 'slow down' } : undefined;
      const { client } = harness(scheduler, { envelope: limited });

      const error = (symbol: string) => new TickcastSubscribeError('RATE_LIMITED', 'slow down', symbol, 'NSE', 2, 'tc3');
      expectObservable(client.ticks$('X', 'NSE', 1)).toBe('');
      expectObservable(client.ticks$('Y', 'NSE', 2)).toBe('#', {}, error('Y'));
      expectObservable(client.ticks$('Z', 'NSE', 2)).toBe('#', {}, error('Z'));
    });
  });

  it('errors a stream whose mode is not 1, 2, 3 or a label, and sends nothing for it', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server } = harness(scheduler);
      expectObservable(client.ticks$('X', 'NSE', 'Full')).toBe('#', {}, new InvalidModeError('Full'));
      expectObservable(server.log).toBe('(ab)', { a: 'connect#0', b: 'authenticate#0' });
    });
  });
});
