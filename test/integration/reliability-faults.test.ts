/**
 * Issue 7, faults: a publisher killed mid-stream (SIGKILL) and started again while the proxy keeps
 * running, and a proxy killed (SIGKILL, no close frames) and started again on the same port while
 * `tickcast/client` streams are open. Ticks resume in both cases without anyone restarting or
 * re-subscribing by hand, and no Observable completes or errors.
 */
import type { Subscription } from 'rxjs';
import WebSocket from 'ws';
import { createTickcastClient, type MarketData, type OrderUpdate, type TickcastClient, type TickcastStatus } from '../../src/client';
import { FeedPublisher } from '../helpers/feed';
import { ALICE, BROKER, startEnv } from '../helpers/proxy';
import { Scope, uniq, until } from '../helpers/scope';
import { bookTick } from '../helpers/ticks';
import type { Msg, TestClient } from '../helpers/wsClient';
import { ChildProxy, ChildPublisher } from '../helpers/childProxy';

const each = new Scope();
afterEach(() => each.close());

async function adapterStatus(client: TestClient): Promise<string> {
  const reply = await client.request({ action: 'get_broker_info' }, (m) => m['type'] === 'broker_info');
  return reply['adapter_status'] as string;
}

describe('publisher dies mid-stream and comes back', () => {
  it('turns adapter_status stale while it is gone and connected again after, and ticks resume with seq unbroken', async () => {
    const env = await startEnv(each, { staleAfterS: 0.3, throttleMs: 0 }, { feed: false });
    const sym = uniq('PUBKILL');
    const topic = `NSE_${sym}_LTP`;
    const client = await env.login(each);
    await client.request({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 1 });
    expect(await adapterStatus(client)).toBe('disconnected');

    const ticks = (): Msg[] => client.peek().filter((m) => m['type'] === 'market_data');
    const first = each.add(ChildPublisher.spawn(env.endpoint, [topic], 5));
    await until(() => ticks().length >= 20, 'ticks from the first publisher', 10_000);
    expect(await adapterStatus(client)).toBe('connected');

    expect(await first.kill()).toStrictEqual({ code: null, signal: 'SIGKILL' });
    const statuses: string[] = [];
    await until(
      async () => {
        statuses.push(await adapterStatus(client));
        return statuses[statuses.length - 1] === 'stale';
      },
      'adapter_status to turn stale',
      5000,
      50,
    );
    expect(statuses.filter((s) => s !== 'connected' && s !== 'stale')).toStrictEqual([]);
    const beforeRestart = ticks().length;
    expect(env.proxy.feed.isUp()).toBe(true);

    each.add(ChildPublisher.spawn(env.endpoint, [topic], 5));
    await until(() => ticks().length >= beforeRestart + 20, 'ticks from the second publisher', 10_000);
    expect(await adapterStatus(client)).toBe('connected');

    const all = ticks();
    // Every tick the proxy got, this client got: seq runs 1..n with no gap across the restart.
    expect(all.map((m) => m['seq'])).toStrictEqual(all.map((_, i) => i + 1));
    // Each publisher's count runs on without a gap once connected (ZeroMQ drops only what a
    // publisher sends before its connection is up), and the second one started again from 1.
    const ltps = all.map((m) => m['data']['ltp'] as number);
    for (const part of [ltps.slice(0, beforeRestart), ltps.slice(beforeRestart)]) {
      expect(part).toStrictEqual(part.map((_, i) => (part[0] as number) + i));
    }
    expect(ltps[beforeRestart]).toBeLessThan(ltps[beforeRestart - 1] as number);
    expect(env.proxy.stats.feedDropped).toStrictEqual({ frames: 0, topic: 0, encoding: 0, json: 0, not_object: 0, error: 0 });
  }, 30_000);
});

describe('proxy killed and restarted on the same port', () => {
  const subscriptions: Subscription[] = [];
  let client: TickcastClient | undefined;
  afterEach(() => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    client?.close();
  });

  it('tickcast/client reconnects, re-authenticates and re-subscribes every stream; none completes or errors', async () => {
    const first = each.add(await ChildProxy.spawn({ throttleMs: 0 }));
    const ltpSym = uniq('RESTART');
    const bookSym = uniq('RESTARTB');
    client = createTickcastClient({
      url: first.wsUrl,
      apiKey: ALICE.key,
      WebSocketCtor: WebSocket,
      backoff: { initialMs: 50, maxMs: 200, factor: 2, jitter: 0 },
    });
    const statuses: TickcastStatus[] = [];
    const ltp: MarketData[] = [];
    const books: MarketData[] = [];
    const orders: OrderUpdate[] = [];
    const ended: string[] = [];
    const watch = <T>(name: string, into: T[]) => ({
      next: (v: T) => into.push(v),
      error: (e: unknown) => ended.push(`${name} errored: ${String(e)}`),
      complete: () => ended.push(`${name} completed`),
    });
    subscriptions.push(client.status$.subscribe(watch('status$', statuses)));
    subscriptions.push(client.ticks$(ltpSym, 'NSE', 1).subscribe(watch('ticks$ LTP', ltp)));
    subscriptions.push(client.ticks$(bookSym, 'NSE', 'Depth').subscribe(watch('ticks$ Depth', books)));
    subscriptions.push(client.orders$.subscribe(watch('orders$', orders)));

    /** Publishes to `proxy` until every stream has one more item than now (the slow joiner drops the first). */
    const roundTrip = async (proxy: ChildProxy, n: number): Promise<void> => {
      const pub = each.add(new FeedPublisher(proxy.zmq));
      const want = [ltp.length + 1, books.length + 1, orders.length + 1];
      await until(
        async () => {
          if (ltp.length < want[0]!) await pub.send(`NSE_${ltpSym}_LTP`, { ltp: n });
          if (books.length < want[1]!) await pub.send(`NSE_${bookSym}_DEPTH`, bookTick(n, 5));
          if (orders.length < want[2]!)
            await pub.send(`${BROKER.toUpperCase()}_${ALICE.userId}_orders`, { user_id: ALICE.userId, order_id: `o${n}` });
          return ltp.length >= want[0]! && books.length >= want[1]! && orders.length >= want[2]!;
        },
        `every stream to get a tick from proxy ${n}`,
        10_000,
        50,
      );
      pub.close();
    };

    await until(() => statuses.includes('open'), 'the first connection');
    await roundTrip(first, 1);

    expect(await first.kill('SIGKILL')).toStrictEqual({ code: null, signal: 'SIGKILL' });
    await until(() => statuses[statuses.length - 1] === 'reconnecting', 'the client to notice');
    // A few attempts find nothing listening before the new proxy is up.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(statuses[statuses.length - 1]).toBe('reconnecting');

    const second = each.add(await ChildProxy.spawn({ throttleMs: 0, port: first.port }));
    expect(second.port).toBe(first.port);
    await until(() => statuses[statuses.length - 1] === 'open', 'the client to be open again', 10_000);
    await roundTrip(second, 2);

    expect(ltp.map((t) => [t.data.ltp, t.seq])).toContainEqual([2, 1]);
    expect(books[books.length - 1]).toStrictEqual({
      type: 'market_data',
      symbol: bookSym,
      exchange: 'NSE',
      mode: 3,
      seq: 1,
      data: bookTick(2, 5),
      broker: BROKER,
    });
    expect(orders[orders.length - 1]).toStrictEqual({ type: 'order_update', user_id: ALICE.userId, order_id: 'o2' });
    expect(statuses.filter((s, i) => s !== statuses[i - 1])).toStrictEqual(['connecting', 'open', 'reconnecting', 'open']);
    expect(ended).toStrictEqual([]);
    // Re-subscribed exactly once each: two (symbol, mode) pairs on one connection.
    const m = await second.measure();
    expect([m.clients, m.hub.subscriptions, m.hub.heldSymbols]).toStrictEqual([1, 2, 2]);
  }, 60_000);
});
