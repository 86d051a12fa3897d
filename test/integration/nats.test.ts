/**
 * Scale-out over NATS (issue 8), end to end on loopback: a real nats-server with JetStream, a bridge
 * fed by a real ZeroMQ publisher, proxy nodes fed from NATS, real WebSocket clients.
 */
import { connect } from '@nats-io/transport-node';
import { LastValueReader } from '../../src/nats/lastValues';
import { keySubject } from '../../src/nats/subject';
import type { NatsConnection } from '../../src/nats/types';
import { describeWithNats, loginTo, mdSubjectsOf, startNode, startTestBridge, subscribeTo, useNatsSuite } from '../helpers/natsServer';
import { sleep, until } from '../helpers/scope';
import { bookTick, ltpTick, quoteTick } from '../helpers/ticks';
import { marketData, type Msg, ofType, type TestClient } from '../helpers/wsClient';

jest.setTimeout(30_000);

/** `[mode, ltp]` of each frame: what a client saw, compactly. */
const seen = (frames: Msg[]): [number, number][] => frames.map((f) => [f['mode'], f['data']['ltp']]);

/** The next `n` market_data frames of `symbol` (waiting for each). */
async function take(client: TestClient, n: number, symbol?: string): Promise<Msg[]> {
  const out: Msg[] = [];
  for (let i = 0; i < n; i++) out.push(await client.next(marketData(symbol), 5000));
  return out;
}

describeWithNats('tickcast over NATS', () => {
  const env = useNatsSuite();
  const { each } = env;

  /** Waits until the server has every subject on the node's connection (its SUBs have arrived). */
  const subscribed = (node: { feed: { name: string } }, subjects: string[]): Promise<void> =>
    until(
      async () => {
        const have = await mdSubjectsOf(env.server, node.feed.name);
        return subjects.every((s) => have.includes(s));
      },
      `${node.feed.name} to subscribe ${subjects.join(', ')}`,
    );

  /** Waits until the last-value stream holds `ltp` as the last tick of the key's subject. */
  async function stored(exchange: string, symbol: string, mode: 1 | 2 | 3, ltp: number): Promise<void> {
    const nc: NatsConnection = await connect({ servers: env.server.url });
    try {
      const reader = new LastValueReader(nc);
      const subject = keySubject({ exchange, symbol, mode });
      await until(async () => {
        const last = await reader.last(subject);
        return last !== null && JSON.parse(Buffer.from(last.data).toString('utf8')).ltp === ltp;
      }, `${subject} to be stored with ltp ${ltp}`);
    } finally {
      await nc.close();
    }
  }

  it('delivers the same ticks, in order, with the mode hierarchy, to clients on two nodes', async () => {
    const nodeA = await startNode(each, env.server.url);
    const nodeB = await startNode(each, env.server.url);
    const ltpA = await loginTo(each, nodeA);
    const depthA = await loginTo(each, nodeA);
    const ltpB = await loginTo(each, nodeB);
    const quoteB = await loginTo(each, nodeB);
    await subscribeTo(ltpA, 'NSE', 'RELIANCE', 1);
    await subscribeTo(depthA, 'NSE', 'RELIANCE', 3);
    await subscribeTo(ltpB, 'NSE', 'RELIANCE', 1);
    await subscribeTo(quoteB, 'NSE', 'RELIANCE', 2);
    const subject = 'tickcast.md.NSE.RELIANCE.*';
    await subscribed(nodeA, [subject]);
    await subscribed(nodeB, [subject]);

    const ticks: [string, Record<string, unknown>][] = [
      ['LTP', ltpTick(1)],
      ['QUOTE', quoteTick(2)],
      ['DEPTH', bookTick(3)],
      ['LTP', ltpTick(4)],
      ['DEPTH', bookTick(5)],
      ['QUOTE', quoteTick(6)],
      ['LTP', ltpTick(7)],
    ];
    for (const [mode, payload] of ticks) await env.publisher.send(`NSE_RELIANCE_${mode}`, payload);

    const everyTick: [number, number][] = [1, 2, 3, 4, 5, 6, 7].map((ltp) => [1, ltp]);
    const fromA = await take(ltpA, 7);
    const fromB = await take(ltpB, 7);
    expect(seen(fromA)).toEqual(everyTick);
    // The same frames on both nodes: same data, same per-key sequence numbers.
    expect(fromB.map((f) => [f['data'], f['seq']])).toEqual(fromA.map((f) => [f['data'], f['seq']]));
    expect(seen(await take(quoteB, 4))).toEqual([
      [2, 2],
      [2, 3],
      [2, 5],
      [2, 6],
    ]);
    const books = await take(depthA, 2);
    expect(seen(books)).toEqual([
      [3, 3],
      [3, 5],
    ]);
    expect(books[1]?.['data']).toEqual(bookTick(5));
    // Nothing else is on its way: a tick on LTP never reaches Quote or Depth holders.
    await sleep(100);
    expect([ltpA, depthA, ltpB, quoteB].map((c) => c.drain().filter(marketData()).length)).toEqual([0, 0, 0, 0]);
  });

  it('carries only the symbols its own clients hold, and drops a subject when the last holder leaves', async () => {
    const node = await startNode(each, env.server.url);
    const client = await loginTo(each, node);
    const held: [string, string, 1 | 2 | 3][] = [
      ['NSE', 'INFY', 1],
      ['NSE', 'TCS:50', 2],
      ['CRYPTO', 'BTC.USD *>', 3],
    ];
    for (const [exchange, symbol, mode] of held) await subscribeTo(client, exchange, symbol, mode);
    const subjects = ['tickcast.md.CRYPTO.BTC%2EUSD%20%2A%3E.*', 'tickcast.md.NSE.INFY.*', 'tickcast.md.NSE.TCS%3A50.*'];
    await subscribed(node, subjects);
    expect(await mdSubjectsOf(env.server, node.feed.name)).toEqual(subjects);

    // Ten symbols tick; the three held ones last, so once the client has those, the rest have passed.
    for (let i = 0; i < 7; i++) await env.publisher.send(`NSE_OTHER${i}_DEPTH`, bookTick(100 + i));
    await env.publisher.send('NSE_INFY_LTP', ltpTick(11));
    await env.publisher.send('NSE_TCS:50_QUOTE', quoteTick(12));
    await env.publisher.send('CRYPTO_BTC.USD *>_DEPTH', bookTick(13));
    const frames = await take(client, 3);
    expect(frames.map((f) => [f['exchange'], f['symbol'], f['mode'], f['data']['ltp']])).toEqual([
      ['NSE', 'INFY', 1, 11],
      ['NSE', 'TCS:50', 2, 12],
      ['CRYPTO', 'BTC.USD *>', 3, 13],
    ]);
    expect(node.feed.counters.received).toBe(3);
    expect(node.stats.totalTicksIn()).toBe(3);
    expect(node.feed.carried()).toEqual([
      { exchange: 'NSE', symbol: 'INFY', received: 1 },
      { exchange: 'NSE', symbol: 'TCS:50', received: 1 },
      { exchange: 'CRYPTO', symbol: 'BTC.USD *>', received: 1 },
    ]);

    await client.request({ action: 'unsubscribe', exchange: 'NSE', symbol: 'INFY' }, ofType('unsubscribe'));
    await until(async () => (await mdSubjectsOf(env.server, node.feed.name)).length === 2, 'the INFY subject to be dropped');
    expect(await mdSubjectsOf(env.server, node.feed.name)).toEqual(subjects.filter((s) => !s.includes('INFY')));
    await client.close();
    await until(async () => (await mdSubjectsOf(env.server, node.feed.name)).length === 0, 'every subject to be dropped');
  });

  it('gives a client on a node that never carried the symbol its last tick at once', async () => {
    await env.publisher.send('NSE_WIPRO_LTP', ltpTick(21));
    await env.publisher.send('NSE_WIPRO_QUOTE', quoteTick(22));
    await env.publisher.send('NSE_WIPRO_LTP', ltpTick(23));
    await stored('NSE', 'WIPRO', 1, 23);
    await stored('NSE', 'WIPRO', 2, 22);

    const node = await startNode(each, env.server.url);
    const ltp = await loginTo(each, node);
    const quote = await loginTo(each, node);
    await subscribeTo(ltp, 'NSE', 'WIPRO', 1);
    await subscribeTo(quote, 'NSE', 'WIPRO', 2);
    // LTP holder: both stored ticks, oldest first, so the newest (23) is what it ends on.
    expect(seen(await take(ltp, 2))).toEqual([
      [1, 22],
      [1, 23],
    ]);
    expect(seen(await take(quote, 1))).toEqual([[2, 22]]);
    // "At once": both came from the store (no tick was published after the subscribes).
    expect(node.feed.counters.snapshots).toBe(2);

    // A second client of the same symbol gets the hub's own snapshot, right after its reply.
    const late = await loginTo(each, node);
    await subscribeTo(late, 'NSE', 'WIPRO', 1);
    expect(seen(await take(late, 1))).toEqual([[1, 23]]);
    expect(node.feed.counters.snapshots).toBe(2);
  });

  it('throttles per key at the bridge when asked, publishing the payload bytes untouched', async () => {
    const throttled = await startTestBridge(each, env.server.url, { throttleMs: 200 });
    const nc: NatsConnection = await connect({ servers: env.server.url });
    const got: [string, string][] = [];
    const sub = nc.subscribe('tickcast.md.MCX.GOLD.*', {
      callback: (_err, msg) => {
        got.push([msg.subject, msg.string()]);
      },
    });
    await nc.flush();
    try {
      for (let i = 1; i <= 5; i++) await throttled.publisher.send('MCX_GOLD_LTP', `{"ltp": ${i}.50 , "note":"kept as sent"}`);
      await throttled.publisher.send('MCX_GOLD_QUOTE', quoteTick(9));
      await until(() => got.length === 3, 'the leading, trailing and quote ticks');
      await sleep(300);
      expect(got).toEqual([
        ['tickcast.md.MCX.GOLD.ltp', '{"ltp": 1.50 , "note":"kept as sent"}'],
        ['tickcast.md.MCX.GOLD.quote', JSON.stringify(quoteTick(9))],
        ['tickcast.md.MCX.GOLD.ltp', '{"ltp": 5.50 , "note":"kept as sent"}'],
      ]);
      expect(throttled.bridge.counters.published).toBe(3);
    } finally {
      sub.unsubscribe();
      await nc.close();
    }
  });

  it('drops what the proxy drops, and relays order events to their user', async () => {
    const node = await startNode(each, env.server.url);
    const client = await loginTo(each, node);
    await client.request({ action: 'subscribe_orders' }, ofType('subscribe_orders'));
    const dropped = { ...env.bridge.counters.dropped };
    const ignored = env.bridge.counters.ignored;
    await env.publisher.send('NSE_BAD_LTP', 'not json');
    await env.publisher.send('NSE_BAD_LTP', '[1,2]');
    await env.publisher.send('NSE_ONLYTWO', ltpTick(1));
    await env.publisher.send('CACHE_INVALIDATE_ALL', '{}');
    await env.publisher.sendFrames(['one frame']);
    const order = { user_id: 'alice', order_id: 'o-1', status: 'complete' };
    await env.publisher.send('ZERODHA_alice_orders', order);
    expect(await client.next(ofType('order_update'))).toEqual({ type: 'order_update', ...order });
    expect(env.bridge.counters.dropped).toEqual({
      ...dropped,
      json: dropped.json + 1,
      not_object: dropped.not_object + 1,
      topic: dropped.topic + 1,
      frames: dropped.frames + 1,
    });
    expect(env.bridge.counters.ignored).toBe(ignored + 1);
  });
});
