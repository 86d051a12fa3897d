/**
 * The feed engine seams: the built-in engine never loads `zeromq`, and a connect-mode feed redials
 * with capped exponential backoff.
 */
import { Backoff } from '../../src/ingest/backoff';
import { ZmqFeed } from '../../src/ingest/zmq';
import { freePort } from '../helpers/net';
import { scopes, until } from '../helpers/scope';

// Any require of the package fails this file: the zmtp engine must not need it.
jest.mock('zeromq', () => {
  throw new Error('zeromq was loaded');
});

const { each } = scopes();

describe('Backoff', () => {
  it('doubles from the first wait up to the cap and starts over after reset()', () => {
    const b = new Backoff(100, 5000);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => b.next())).toStrictEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    b.reset();
    expect([b.next(), b.next()]).toStrictEqual([100, 200]);
  });
});

describe('ZmqFeed engines', () => {
  it('starts the zmtp engine without loading the zeromq package', async () => {
    const feed = new ZmqFeed({ bind: `tcp://127.0.0.1:${await freePort()}` });
    const sub = feed.raw$.subscribe();
    each.add({ close: () => sub.unsubscribe() });
    await feed.ready();
    expect(feed.state$.value).toBe('up');
  });

  it("names the libzmq engine's load failure in ready() when it is chosen", async () => {
    const feed = new ZmqFeed({ engine: 'libzmq', bind: `tcp://127.0.0.1:${await freePort()}` });
    const sub = feed.raw$.subscribe({ error: () => undefined });
    each.add({ close: () => sub.unsubscribe() });
    await expect(feed.ready()).rejects.toThrow('zeromq was loaded');
  });

  it('redials a publisher that is not there after 10, 20, 40, 80, 80 ms (capped backoff), reporting each refusal', async () => {
    const port = await freePort();
    const waits: number[] = [];
    const codes: string[] = [];
    const feed = new ZmqFeed({
      connect: [`tcp://127.0.0.1:${port}`],
      reconnectIvlMs: 10,
      reconnectIvlMaxMs: 80,
      onDialError: (_endpoint, err, retryInMs) => {
        waits.push(retryInMs ?? -1);
        codes.push(err.code ?? '');
      },
    });
    const sub = feed.raw$.subscribe();
    each.add({ close: () => sub.unsubscribe() });
    await feed.ready();
    await until(() => waits.length >= 5, 'five refused dials', 10_000);
    sub.unsubscribe();
    expect(waits.slice(0, 5)).toStrictEqual([10, 20, 40, 80, 80]);
    expect(new Set(codes)).toStrictEqual(new Set(['ECONNREFUSED']));
  });
});
