/** protocol.md "market_data": frame shape, the mode hierarchy, books, seq and the per-key throttle. */
import { type Env, marketDataFrame, startEnv } from '../helpers/proxy';
import { scopes, sleep, uniq } from '../helpers/scope';
import { asks, bids, bookTick, depthTick, ltpTick, quoteTick, scramble } from '../helpers/ticks';
import { marketData, type Msg, ofType, type TestClient } from '../helpers/wsClient';

const { suite, each } = scopes();

/** A logged-in, fenced client holding `modes` of NSE `symbol` (one request per mode). */
async function holder(env: Env, symbol: string, ...modes: number[]): Promise<TestClient> {
  const client = await env.fenced(await env.login(each));
  for (const mode of modes) {
    const reply = await client.request({ action: 'subscribe', symbol, exchange: 'NSE', mode }, ofType('subscribe'));
    expect(reply['status']).toBe('success');
  }
  return client;
}

/** `[mode, ltp]` of each frame. */
const modesAndPrices = (frames: Msg[]): [number, number][] => frames.map((f) => [f['mode'], f['data']['ltp']]);

describe('market data', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(suite, { throttleMs: 0 });
  });

  it('carries type, symbol, exchange, the integer mode, seq, the payload and the broker', async () => {
    const sym = uniq('RELIANCE');
    const client = await holder(env, sym, 2);
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(1418.4));
    expect(await client.next(marketData(sym))).toStrictEqual(marketDataFrame(sym, 'NSE', 2, quoteTick(1418.4), 1));
  });

  it('delivers a tick on mode M to holders of modes ≤ M, once per client, tagged with its highest held mode ≤ M', async () => {
    const sym = uniq('HIER');
    const holdings: Record<string, number[]> = { L: [1], Q: [2], D: [3], LQ: [1, 2], LD: [1, 3], QD: [2, 3], LQD: [1, 2, 3] };
    const names = Object.keys(holdings);
    const clients = await Promise.all(names.map((n) => holder(env, sym, ...(holdings[n] as number[]))));

    await env.publish(`NSE_${sym}_LTP`, ltpTick(101));
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(102));
    await env.publish(`NSE_${sym}_DEPTH`, bookTick(103));
    const frames = await env.settle(...clients);

    const got = Object.fromEntries(names.map((n, i) => [n, modesAndPrices(frames[i] as Msg[])]));
    expect(got).toStrictEqual({
      L: [
        [1, 101],
        [1, 102],
        [1, 103],
      ],
      Q: [
        [2, 102],
        [2, 103],
      ],
      D: [[3, 103]],
      LQ: [
        [1, 101],
        [2, 102],
        [2, 103],
      ],
      LD: [
        [1, 101],
        [1, 102],
        [3, 103],
      ],
      QD: [
        [2, 102],
        [3, 103],
      ],
      LQD: [
        [1, 101],
        [2, 102],
        [3, 103],
      ],
    });
  });

  it('tags the frame with the receiving client mode and passes the payload through', async () => {
    const sym = uniq('TAG');
    const ltpOnly = await holder(env, sym, 1);
    const payload = quoteTick(55.5, { oi: 1200, average_price: 55.1 });
    await env.publish(`NSE_${sym}_QUOTE`, payload);
    const [[frame]] = (await env.settle(ltpOnly)) as [[Msg]];
    expect(frame).toMatchObject({ symbol: sym, mode: 1, data: payload });
  });

  it('sorts each side of a book: bids high to low, asks low to high', async () => {
    const sym = uniq('BOOK');
    const client = await holder(env, sym, 3);
    const buy = bids(5, 200);
    const sell = asks(5, 200.05);
    await env.publish(`NSE_${sym}_DEPTH`, depthTick(200, scramble(buy), scramble(sell)));
    const [[frame]] = (await env.settle(client)) as [[Msg]];
    expect(frame['data']).toStrictEqual(depthTick(200, buy, sell));
  });

  it('delivers a bids/asks book of level objects as depth {buy, sell}', async () => {
    const sym = uniq('BIDS');
    const client = await holder(env, sym, 3);
    const buy = bids(3, 50);
    const sell = asks(3, 50.05);
    await env.publish(`NSE_${sym}_DEPTH`, { ltp: 50, bids: scramble(buy), asks: sell });
    const [[frame]] = (await env.settle(client)) as [[Msg]];
    expect(frame['data']).toStrictEqual({ ltp: 50, depth: { buy, sell } });
  });

  it('delivers a book of [price, quantity] pairs as depth {buy, sell} of level objects', async () => {
    const sym = uniq('PAIRS');
    const client = await holder(env, sym, 3);
    await env.publish(`NSE_${sym}_DEPTH`, {
      ltp: 10,
      bids: [
        [9.9, 5],
        [9.95, 3],
      ],
      asks: [
        [10.1, 2],
        [10.05, 7],
      ],
    });
    const [[frame]] = (await env.settle(client)) as [[Msg]];
    const data = frame['data'];
    expect(Object.keys(data).sort()).toStrictEqual(['depth', 'ltp']);
    const levels = (side: Msg[]): [number, number][] => side.map((l) => [l['price'], l['quantity']]);
    expect(levels(data['depth']['buy'])).toStrictEqual([
      [9.95, 3],
      [9.9, 5],
    ]);
    expect(levels(data['depth']['sell'])).toStrictEqual([
      [10.05, 7],
      [10.1, 2],
    ]);
    for (const level of [...data['depth']['buy'], ...data['depth']['sell']]) {
      expect(Object.keys(level).every((k) => ['price', 'quantity', 'orders'].includes(k))).toBe(true);
    }
  });

  it('leaves the book out of a Depth tick delivered to an LTP or Quote holder, and keeps it for a Depth holder', async () => {
    const sym = uniq('OMIT');
    const ltp = await holder(env, sym, 1);
    const quote = await holder(env, sym, 2);
    const both = await holder(env, sym, 1, 3);
    const book = bookTick(300, 5, { open: 290 });
    await env.publish(`NSE_${sym}_DEPTH`, book);
    const [[l], [q], [d]] = (await env.settle(ltp, quote, both)) as [[Msg], [Msg], [Msg]];
    const lean = { ltp: 300, volume: 5000, timestamp: 1746171226512, open: 290 };
    expect([l['mode'], l['data']]).toStrictEqual([1, lean]);
    expect([q['mode'], q['data']]).toStrictEqual([2, lean]);
    expect([d['mode'], d['data']]).toStrictEqual([3, book]);
  });

  it('numbers frames per (symbol, mode): seq rises by 1 per frame and is the same for every client', async () => {
    const sym = uniq('SEQ');
    const early = await holder(env, sym, 2);
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(1));
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(2));
    await env.publish(`NSE_${sym}_LTP`, ltpTick(3));
    await env.publish(`NSE_${sym}_DEPTH`, bookTick(4));
    const [first] = (await env.settle(early)) as [Msg[]];
    expect(modesAndPrices(first)).toStrictEqual([
      [2, 1],
      [2, 2],
      [2, 4],
    ]);
    const s = first[0]?.['seq'] as number;
    expect(first.map((f) => f['seq'])).toStrictEqual([s, s + 1, s + 2]);

    // A late client's snapshot carries the same count; then both see the same next number.
    const late = await env.login(each);
    late.send({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 2 });
    expect((await late.next())['type']).toBe('subscribe');
    expect(await late.next()).toMatchObject({ type: 'market_data', symbol: sym, mode: 2, seq: s + 2 });
    await env.fenced(late);
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(5));
    const [e, l] = (await env.settle(early, late)) as [Msg[], Msg[]];
    expect(e.map((f) => [f['seq'], f['data']['ltp']])).toStrictEqual([[s + 3, 5]]);
    expect(l.map((f) => [f['seq'], f['data']['ltp']])).toStrictEqual([[s + 3, 5]]);
  });

  it('counts every tick of mode ≥ M in the seq of mode M', async () => {
    const sym = uniq('SEQL');
    const client = await holder(env, sym, 1);
    await env.publish(`NSE_${sym}_LTP`, ltpTick(1));
    await env.publish(`NSE_${sym}_DEPTH`, bookTick(2));
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(3));
    await env.publish(`NSE_${sym}_LTP`, ltpTick(4));
    const [frames] = (await env.settle(client)) as [Msg[]];
    const s = frames[0]?.['seq'] as number;
    expect(frames.map((f) => [f['seq'], f['data']['ltp']])).toStrictEqual([
      [s, 1],
      [s + 1, 2],
      [s + 2, 3],
      [s + 3, 4],
    ]);
  });
});

describe('throttle and book cap', () => {
  const WINDOW_MS = 250;
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(suite, { throttleMs: WINDOW_MS, maxDepth: 10 });
  });

  it('sends the first tick of a burst at once and the latest when the window closes', async () => {
    const sym = uniq('BURST');
    const client = await holder(env, sym, 2);
    for (let i = 1; i <= 5; i++) await env.publish(`NSE_${sym}_QUOTE`, quoteTick(i));
    const leading = await client.next(marketData(sym));
    const trailing = await client.next(marketData(sym));
    expect([leading['data']['ltp'], trailing['data']['ltp']]).toStrictEqual([1, 5]);
    expect(trailing['seq']).toBe(leading['seq'] + 1);
    expect(await env.settle(client)).toStrictEqual([[]]);
  });

  it('sends a lone tick once, not again when its window closes', async () => {
    const sym = uniq('LONE');
    const client = await holder(env, sym, 1);
    await env.publish(`NSE_${sym}_LTP`, ltpTick(7));
    expect((await client.next(marketData(sym)))['data']).toStrictEqual(ltpTick(7));
    await sleep(WINDOW_MS * 2);
    expect(await env.settle(client)).toStrictEqual([[]]);
  });

  it('throttles per topic key: an LTP tick never replaces a pending Depth book', async () => {
    const sym = uniq('KEYS');
    const client = await holder(env, sym, 1, 3);
    await env.publish(`NSE_${sym}_DEPTH`, bookTick(1));
    await env.publish(`NSE_${sym}_DEPTH`, bookTick(2));
    await env.publish(`NSE_${sym}_LTP`, ltpTick(3));
    const frames = [await client.next(marketData(sym)), await client.next(marketData(sym)), await client.next(marketData(sym))];
    expect(modesAndPrices(frames)).toStrictEqual([
      [3, 1],
      [1, 3],
      [3, 2],
    ]);
    expect(frames[2]?.['data']).toStrictEqual(bookTick(2));
  });

  it('caps each side of a book at the configured depth, keeping the best levels', async () => {
    const sym = uniq('CAP');
    const client = await holder(env, sym, 3);
    const buy = bids(15, 80);
    const sell = asks(15, 80.05);
    await env.publish(`NSE_${sym}_DEPTH`, depthTick(80, scramble(buy), sell));
    const frame = await client.next(marketData(sym));
    expect(frame['data']).toStrictEqual(depthTick(80, buy.slice(0, 10), sell.slice(0, 10)));
  });
});

describe('book options', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(suite, { throttleMs: 0, booksAsDepth: false, omitBooksBelowDepth: false });
  });

  it('can pass bids/asks books through and keep books for LTP and Quote holders', async () => {
    const sym = uniq('OPT');
    const quote = await holder(env, sym, 2);
    const depth = await holder(env, sym, 3);
    const payload = { ltp: 5, bids: bids(2, 5), asks: asks(2, 5.05) };
    await env.publish(`NSE_${sym}_DEPTH`, payload);
    const [[q], [d]] = (await env.settle(quote, depth)) as [[Msg], [Msg]];
    expect([q['mode'], q['data']]).toStrictEqual([2, payload]);
    expect([d['mode'], d['data']]).toStrictEqual([3, payload]);
  });
});
