/**
 * Issue 14, keys have a lifecycle: a publisher that puts a counter into its symbols (300,000 LTP
 * ticks, each on a fresh symbol) against a proxy in its own process with `--max-keys 20000`. The
 * keys metric ends exactly at the cap, every key past it is counted as a cap eviction, the RSS after
 * a full GC grows by less than {@link RSS_GROWTH_BOUND}, and the proxy still serves: a held key
 * keeps ticking to its client, its snapshot survives, the newest keys have theirs, the oldest not.
 */
import { FeedPublisher } from '../helpers/feed';
import { ALICE } from '../helpers/proxy';
import { Scope, until } from '../helpers/scope';
import { marketData, type Msg, TestClient } from '../helpers/wsClient';
import { ChildProxy } from '../helpers/childProxy';
import { scrapeMetrics } from '../helpers/metrics';

const FLOOD = 300_000;
const CAP = 20_000;
/**
 * What the flood may add to the proxy's RSS (after a full GC). Before keys had a lifecycle it added
 * about 2 KB per key (600 MB for this flood); kept at the cap, 20,000 keys cost a few MB, and the
 * rest is what the heap and allocator keep from a burst of 300,000 messages.
 */
const RSS_GROWTH_BOUND = 96 * 1024 * 1024;

const suite = new Scope();
afterAll(() => suite.close());

/** `name{labels}` → value from the proxy's `/metrics`. */
const metrics = (proxy: ChildProxy): Promise<Map<string, number>> => scrapeMetrics(`http://127.0.0.1:${proxy.port}`);

async function login(proxy: ChildProxy): Promise<TestClient> {
  const client = suite.add(await TestClient.open(proxy.wsUrl));
  expect(await client.request({ action: 'authenticate', api_key: ALICE.key })).toMatchObject({ type: 'auth', status: 'success' });
  return client;
}

describe('unique-key flood', () => {
  it(`keeps ${FLOOD.toLocaleString('en')} fresh keys at --max-keys, RSS bounded, held keys and snapshots intact, and keeps serving`, async () => {
    const proxy = suite.add(await ChildProxy.spawn({ maxKeys: CAP }));
    const pub = suite.add(new FeedPublisher(proxy.zmq));
    const holder = await login(proxy);
    expect(await holder.request({ action: 'subscribe', symbol: 'HELD', exchange: 'NSE', mode: 1 })).toMatchObject({
      type: 'subscribe',
      status: 'success',
    });
    // Until the publisher's connection is up, what it sends is lost: resend until the holder sees it.
    await until(async () => {
      await pub.send('NSE_HELD_LTP', { ltp: 42 });
      return (await holder.collect(50)).some((m: Msg) => m['type'] === 'market_data');
    }, 'the publisher to reach the proxy');
    const before = await proxy.measure();

    for (let i = 0; i < FLOOD; i++) await pub.send(`NSE_F${i}_LTP`, '{"ltp":1}');
    const sent = before.received + FLOOD;
    await until(async () => (await metrics(proxy)).get('tickcast_feed_messages_total')! >= sent, 'the flood to be read', 120_000, 200);
    const after = await proxy.measure();
    const m = await metrics(proxy);

    // HELD and 300,000 flood keys were seen; 20,000 are kept, HELD among them.
    expect(m.get('tickcast_keys')).toBe(CAP);
    expect(m.get('tickcast_keys_max')).toBe(CAP);
    expect(m.get('tickcast_key_evictions_total{reason="cap"}')).toBe(FLOOD + 1 - CAP);
    expect(m.get('tickcast_key_evictions_total{reason="idle"}')).toBe(0);
    expect(after.hub).toStrictEqual({ clients: 1, subscriptions: 1, symbols: CAP, heldSymbols: 1, keys: CAP });
    expect(after.rss - before.rss).toBeLessThan(RSS_GROWTH_BOUND);
    if (process.env['TICKCAST_REPORT'])
      console.log({ rssBefore: before.rss, rssAfter: after.rss, heapBefore: before.heapUsed, heapAfter: after.heapUsed });

    // The held key still ticks to its client, and a newcomer gets its snapshot at once.
    await pub.send('NSE_HELD_LTP', { ltp: 43 });
    expect(await holder.next(marketData('HELD'))).toMatchObject({ seq: 2, data: { ltp: 43 } });
    const late = await login(proxy);
    late.send({
      action: 'subscribe',
      symbols: [
        { symbol: 'HELD', exchange: 'NSE' },
        { symbol: `F${FLOOD - 1}`, exchange: 'NSE' },
        { symbol: 'F0', exchange: 'NSE' },
      ],
      mode: 1,
    });
    const snapshots = [await late.next(marketData('HELD')), await late.next(marketData(`F${FLOOD - 1}`))];
    expect(snapshots.map((s) => [s['symbol'], s['seq'], s['data']])).toStrictEqual([
      ['HELD', 2, { ltp: 43 }],
      [`F${FLOOD - 1}`, 1, { ltp: 1 }],
    ]);
    // F0 was the first forgotten: nothing to show for it.
    expect((await late.collect(300)).filter(marketData('F0'))).toStrictEqual([]);
  }, 240_000);
});
