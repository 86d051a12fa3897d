/**
 * Issue 2 §6: the feed side end to end without the gateway. A real ZeroMQ PUB on loopback →
 * ZmqFeed → marketData (throttle, decode, normalise) → Hub → two client sinks (HubClient.frames$).
 */
import type { Subscription } from 'rxjs';
import { type Frame, Hub, type HubClient } from '../../src/hub';
import { ZmqFeed } from '../../src/ingest/zmq';
import { type InvalidReason, marketData } from '../../streams';
import { FeedPublisher, PROBE_TOPIC } from '../helpers/feed';
import { freePort } from '../helpers/net';
import { Inbox } from '../helpers/inbox';
import { Scope, sleep, uniq } from '../helpers/scope';
import { asks, bids, bookTick, ltpTick, scramble } from '../helpers/ticks';
import type { Msg } from '../helpers/wsClient';

const THROTTLE_MS = 200;
const suite = new Scope();
afterAll(() => suite.close());

let feed: ZmqFeed;
let pub: FeedPublisher;
let hub: Hub;
let invalid: Record<InvalidReason, number>;

beforeAll(async () => {
  const port = await freePort();
  feed = new ZmqFeed({ bind: `tcp://127.0.0.1:${port}` });
  hub = new Hub({ broker: 'zerodha' });
  invalid = { topic: 0, encoding: 0, json: 0, not_object: 0, error: 0 };
  const pipeline: Subscription = marketData(feed.raw$, {
    throttleMs: THROTTLE_MS,
    onInvalid: (reason, raw) => {
      if (raw.topic !== PROBE_TOPIC) invalid[reason]++;
    },
  }).subscribe((tick) => hub.publish(tick));
  suite.add({ close: () => pipeline.unsubscribe() });
  await feed.ready();
  pub = suite.add(new FeedPublisher(feed.endpoint as string));
  await pub.sync(() => feed.received);
});

/** A hub client whose frames are decoded into an inbox. */
function sink(): { client: HubClient; inbox: Inbox<Msg> } {
  const client = hub.addClient();
  const inbox = new Inbox<Msg>('frame');
  const sub = client.frames$.subscribe((frame: Frame) => inbox.push(JSON.parse(frame.bytes.toString('utf8')) as Msg));
  suite.add({
    close: () => {
      sub.unsubscribe();
      hub.removeClient(client);
    },
  });
  return { client, inbox };
}

/** Every frame that arrives within `ms`: only for "nothing more arrives" after a known last frame. */
async function rest(inbox: Inbox<Msg>, ms: number): Promise<Msg[]> {
  await sleep(ms);
  return inbox.drain();
}

describe('ZeroMQ feed → pipeline → hub', () => {
  it('delivers each tick to the clients holding its symbol, tagged with the mode each holds', async () => {
    const sym = uniq('INFY');
    const ltp = sink();
    const depth = sink();
    hub.subscribe(ltp.client, 'NSE', sym, 1);
    hub.subscribe(depth.client, 'NSE', sym, 3);

    await pub.send(`NSE_${sym}_LTP`, ltpTick(1501.5));
    const first = await ltp.inbox.next();
    expect(first).toStrictEqual({
      type: 'market_data',
      symbol: sym,
      exchange: 'NSE',
      mode: 1,
      seq: 1,
      data: ltpTick(1501.5),
      broker: 'zerodha',
    });

    const book = bookTick(1502, 5);
    await pub.send(`NSE_${sym}_DEPTH`, book);
    const deep = await depth.inbox.next();
    expect(deep).toStrictEqual({ type: 'market_data', symbol: sym, exchange: 'NSE', mode: 3, seq: 1, data: book, broker: 'zerodha' });
    const shallow = await ltp.inbox.next();
    expect(shallow['mode']).toBe(1);
    expect(shallow['seq']).toBe(2);
    // The LTP-only client did not ask for the book.
    expect(shallow['data']).toStrictEqual({ ltp: 1502, volume: 5000, timestamp: 1746171226512 });
    expect(depth.inbox.drain()).toStrictEqual([]);
  });

  it('throttles per key: the first tick of a burst at once, the latest when the window closes', async () => {
    const sym = uniq('TCS');
    const a = sink();
    const b = sink();
    hub.subscribe(a.client, 'NSE', sym, 2);
    hub.subscribe(b.client, 'NSE', sym, 2);

    for (let i = 1; i <= 5; i++) await pub.send(`NSE_${sym}_QUOTE`, { ltp: 3000 + i });
    for (const { inbox } of [a, b]) {
      const leading = await inbox.next();
      const trailing = await inbox.next();
      expect([leading['data'], trailing['data']]).toStrictEqual([{ ltp: 3001 }, { ltp: 3005 }]);
      expect([leading['seq'], trailing['seq']]).toStrictEqual([1, 2]);
    }
    // Nothing else of the burst was let through.
    expect(await rest(a.inbox, THROTTLE_MS * 2)).toStrictEqual([]);
    expect(b.inbox.drain()).toStrictEqual([]);
  });

  it('delivers books as depth {buy, sell} in book order, whatever shape and order they arrived in', async () => {
    const sym = uniq('BTC_INR');
    const c = sink();
    hub.subscribe(c.client, 'CRYPTO', sym, 3);
    const buy = bids(4, 100);
    const sell = asks(4, 100.05);

    await pub.send(`CRYPTO_${sym}_DEPTH`, { ltp: 100, depth: { buy: scramble(buy), sell: scramble(sell) } });
    expect((await c.inbox.next())['data']).toStrictEqual({ ltp: 100, depth: { buy, sell } });

    await sleep(THROTTLE_MS * 1.5);
    await pub.send(`CRYPTO_${sym}_DEPTH`, { ltp: 101, bids: scramble(buy), asks: scramble(sell) });
    expect((await c.inbox.next())['data']).toStrictEqual({ ltp: 101, depth: { buy, sell } });

    await sleep(THROTTLE_MS * 1.5);
    await pub.send(`CRYPTO_${sym}_DEPTH`, {
      ltp: 102,
      bids: scramble(buy.map((l) => [l.price, l.quantity])),
      asks: scramble(sell.map((l) => [l.price, l.quantity])),
    });
    const pairs = (await c.inbox.next())['data'];
    expect(pairs).toStrictEqual({
      ltp: 102,
      depth: {
        buy: buy.map((l) => ({ price: l.price, quantity: l.quantity })),
        sell: sell.map((l) => ({ price: l.price, quantity: l.quantity })),
      },
    });
  });

  it('counts malformed messages and keeps the stream going', async () => {
    const sym = uniq('SBIN');
    const c = sink();
    hub.subscribe(c.client, 'NSE', sym, 1);
    const badFrames = feed.badFrames;
    const before = { ...invalid };

    await pub.sendFrames([`NSE_${sym}_LTP`]);
    await pub.sendFrames([`NSE_${sym}_LTP`, '{"ltp":1}', 'extra']);
    await pub.send('NSE_LTP', ltpTick(1));
    await pub.send(`NSE_${sym}_TRADES`, ltpTick(2));
    await pub.send(`NSE_${sym}_LTP`, '{"ltp": 3');
    await pub.send(`NSE_${uniq('X')}_LTP`, '[1, 2]');
    await pub.send(`NSE_${uniq('X')}_LTP`, '42');
    await pub.send(`NSE_${sym}_LTP`, ltpTick(5));

    // A bad JSON payload is decoded only after the throttle let it through: it was the leading
    // message of its key's window, so the good tick is the window's trailing one.
    expect((await c.inbox.next())['data']).toStrictEqual(ltpTick(5));
    expect(feed.badFrames - badFrames).toBe(2);
    expect({
      topic: invalid.topic - before.topic,
      json: invalid.json - before.json,
      not_object: invalid.not_object - before.not_object,
      encoding: invalid.encoding - before.encoding,
      error: invalid.error - before.error,
    }).toStrictEqual({ topic: 2, json: 1, not_object: 2, encoding: 0, error: 0 });
  });
});
