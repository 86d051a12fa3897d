import { TickcastAuthError, TickcastConnectionError, TickcastServerError } from '../../src/client';
import { marketData } from '../../test/helpers/fakeServer';
import { harness, STATUS, X_LOG } from '../../test/helpers/clientHarness';
import { testScheduler } from '../../test/helpers/marbles';

describe('client authentication', () => {
  it('errors status$ and every stream with TickcastAuthError on a refused key, and never reconnects', () => {
    const scheduler = testScheduler();
    const server = scheduler.run(({ expectObservable }) => {
      const { client, server, status, at } = harness(scheduler, {}, { apiKey: 'wrong-key' });
      at(60_000, () => undefined);
      const refused = new TickcastAuthError('AUTHENTICATION_ERROR', 'Invalid API key', 'tc1');

      // prettier-ignore
      const states = '(c#)';
      //              0
      // prettier-ignore
      const log =    '(abc)';
      //              0
      expectObservable(status).toBe(states, STATUS, refused);
      expectObservable(client.ticks$('X', 'NSE', 1)).toBe('#', {}, refused);
      expectObservable(client.ltp$('Y', 'NSE'), '100ms ^').toBe('100ms #', {}, refused);
      expectObservable(server.log).toBe(log, { a: 'connect#0', b: 'authenticate#0', c: 'closed#0 1000' });
      return server;
    });
    expect(server.sockets.length).toBe(1);
  });

  it('treats an AUTHENTICATION_ERROR without request_id (OpenAlgo) as a refused key', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { status } = harness(scheduler, { echoRequestId: false }, { apiKey: 'wrong-key' });
      const refused = new TickcastAuthError('AUTHENTICATION_ERROR', 'Invalid API key');
      expectObservable(status).toBe('(c#)', STATUS, refused);
    });
  });

  it('reconnects when authentication is answered with another error, such as RATE_LIMITED', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const once = { limited: false };
      const envelope = (frame: Record<string, unknown>) => {
        if (frame['action'] !== 'authenticate' || once.limited) return undefined;
        once.limited = true;
        return { code: 'RATE_LIMITED', message: 'slow down' };
      };
      const { server, status } = harness(scheduler, { envelope });

      // prettier-ignore
      const log =    '(abc) 70ms (de)';
      //              0         75
      // prettier-ignore
      const states = '(cr) 71ms o';
      //              0        75
      expectObservable(server.log).toBe(log, {
        a: 'connect#0',
        b: 'authenticate#0',
        c: 'closed#0 1000',
        d: 'connect#1',
        e: 'authenticate#1',
      });
      expectObservable(status).toBe(states, STATUS);
    });
  });
});

describe('client close()', () => {
  it('emits closed, completes status$ and every stream, closes the socket and never reconnects', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server, status, at } = harness(scheduler);
      at(50, () => server.socket(0).tick('NSE', 'X', 1, { ltp: 10 }));
      at(100, () => client.close());
      at(60_000, () => undefined);

      // prettier-ignore
      const states = '(co) 96ms (x|)';
      //              0         100
      // prettier-ignore
      const ticks =  '50ms a 49ms |';
      //              0    50     100
      // prettier-ignore
      const log =    '(abc) 95ms d';
      //              0         100
      expectObservable(status).toBe(states, STATUS);
      expectObservable(client.ticks$('X', 'NSE', 1)).toBe(ticks, { a: marketData('NSE', 'X', 1, { ltp: 10 }) });
      expectObservable(client.ticks$('Y', 'NSE', 1), '200ms ^').toBe('200ms |');
      expectObservable(client.status$, '200ms ^').toBe('200ms (x|)', STATUS);
      expectObservable(server.log).toBe(log, { ...X_LOG, d: 'closed#0 1000' });
    });
  });

  it('completes a stream whose last observer left but whose grace period was still running', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server, at } = harness(scheduler);
      at(100, () => client.close());

      // prettier-ignore
      const gone =   '^ 49ms !';
      //              0    50
      // prettier-ignore
      const log =    '(abc) 95ms d';
      //              0         100
      expectObservable(client.ticks$('X', 'NSE', 1), gone).toBe('');
      expectObservable(server.log).toBe(log, { ...X_LOG, d: 'closed#0 1000' });
    });
  });
});

describe('client request()', () => {
  it('sends once the client is open and emits the answer carrying its request_id', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server } = harness(scheduler, { refuse: (n) => n === 0 });

      // prettier-ignore
      const pong =   '75ms (p|)';
      //              0    75
      // prettier-ignore
      const log =    'a 74ms (bcd)';
      //              0     75
      expectObservable(client.request({ action: 'ping' })).toBe(pong, {
        p: { type: 'pong', status: 'success', server_timestamp: 0, request_id: 'tc2' },
      });
      expectObservable(server.log).toBe(log, { a: 'connect#0', b: 'connect#1', c: 'authenticate#1', d: 'ping#1' });
    });
  });

  it('errors with TickcastServerError when the server answers with an error envelope', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client } = harness(scheduler);
      expectObservable(client.request({ action: 'bogus' }), '100ms ^').toBe(
        '100ms #',
        {},
        new TickcastServerError('INVALID_ACTION', 'Invalid action: bogus', 'tc2'),
      );
    });
  });

  it('errors with TickcastConnectionError when the connection drops before the answer', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server, at } = harness(scheduler, { ignore: ['get_broker_info'] });
      at(200, () => server.socket(0).drop(1001, 'server shutting down'));
      expectObservable(client.request({ action: 'get_broker_info' }), '100ms ^').toBe(
        '200ms #',
        {},
        new TickcastConnectionError('The connection closed (code 1001, server shutting down) before the server answered.'),
      );
    });
  });

  it('refuses actions the client manages itself', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client } = harness(scheduler);
      expectObservable(client.request({ action: 'unsubscribe_all' })).toBe(
        '#',
        {},
        new TypeError('request() does not send "unsubscribe_all": the client manages it; use ticks$ or orders$.'),
      );
    });
  });

  it('sends unclaimed error envelopes to errors$', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server, at } = harness(scheduler);
      at(100, () => server.socket(0).push({ status: 'error', code: 'RATE_LIMITED', message: 'slow down' }));
      expectObservable(client.errors$).toBe('100ms e', { e: new TickcastServerError('RATE_LIMITED', 'slow down') });
    });
  });
});

describe('client orders$', () => {
  it('subscribes once, relays order updates, and subscribes again after a reconnect', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server, at } = harness(scheduler);
      const update = (id: string) => ({ type: 'order_update', user_id: 'u1', orderid: id });
      at(100, () => server.socket(0).push(update('o1')));
      at(200, () => server.socket(0).drop(1001));
      at(300, () => server.socket(1).push(update('o2')));

      // prettier-ignore
      const orders = '100ms a 199ms b';
      //              0     100     300
      // prettier-ignore
      const log =    '(abc) 270ms (def)';
      //              0          275
      expectObservable(client.orders$).toBe(orders, { a: update('o1'), b: update('o2') });
      expectObservable(client.orders$, '50ms ^ 9ms !').toBe('');
      expectObservable(server.log).toBe(log, {
        a: 'connect#0',
        b: 'authenticate#0',
        c: 'subscribe_orders#0',
        d: 'connect#1',
        e: 'authenticate#1',
        f: 'subscribe_orders#1',
      });
    });
  });

  it('unsubscribes from orders one grace period after the last observer leaves', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { client, server } = harness(scheduler);

      // prettier-ignore
      const log =    '(abc) 1095ms d';
      //              0          1100
      expectObservable(client.orders$, '^ 99ms !').toBe('');
      expectObservable(server.log).toBe(log, {
        a: 'connect#0',
        b: 'authenticate#0',
        c: 'subscribe_orders#0',
        d: 'unsubscribe_orders#0',
      });
    });
  });
});
