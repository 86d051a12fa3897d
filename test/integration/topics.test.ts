/** feed.md "Topic grammar" end to end: what a publisher's topic becomes in the frames clients get. */
import { BROKER, type Env, marketDataFrame, startEnv } from '../helpers/proxy';
import { scopes } from '../helpers/scope';
import { bookTick, ltpTick, quoteTick } from '../helpers/ticks';
import { type Msg, ofType, type TestClient } from '../helpers/wsClient';

const { suite, each } = scopes();

let env: Env;
beforeAll(async () => {
  env = await startEnv(suite, { throttleMs: 0 });
});

/** A fenced client holding each `[exchange, symbol, mode]`. */
async function holding(...keys: [string, string, number][]): Promise<TestClient> {
  const client = await env.fenced(await env.login(each));
  for (const [exchange, symbol, mode] of keys) {
    const reply = await client.request({ action: 'subscribe', symbol, exchange, mode }, ofType('subscribe'));
    expect(reply['status']).toBe('success');
  }
  return client;
}

describe('topics end to end', () => {
  it('reads NSE_INDEX_NIFTY_LTP as exchange NSE_INDEX, symbol NIFTY', async () => {
    const client = await holding(['NSE_INDEX', 'NIFTY', 1]);
    await env.publish('NSE_INDEX_NIFTY_LTP', ltpTick(24350.5));
    expect(await env.settle(client)).toStrictEqual([[marketDataFrame('NIFTY', 'NSE_INDEX', 1, ltpTick(24350.5), 1)]]);
  });

  it('reads CRYPTO_SOL_INR_LTP as exchange CRYPTO, symbol SOL_INR', async () => {
    const client = await holding(['CRYPTO', 'SOL_INR', 1]);
    await env.publish('CRYPTO_SOL_INR_LTP', ltpTick(14250));
    expect(await env.settle(client)).toStrictEqual([[marketDataFrame('SOL_INR', 'CRYPTO', 1, ltpTick(14250), 1)]]);
  });

  it('reads NSE_TCS:50_DEPTH as exchange NSE, symbol TCS:50, mode Depth', async () => {
    const client = await holding(['NSE', 'TCS:50', 3]);
    const book = bookTick(3500, 5);
    await env.publish('NSE_TCS:50_DEPTH', book);
    expect(await env.settle(client)).toStrictEqual([[marketDataFrame('TCS:50', 'NSE', 3, book, 1)]]);
  });

  it('reads every configured two-segment exchange, and a symbol with _ after one', async () => {
    const client = await holding(
      ['BSE_INDEX', 'SENSEX', 2],
      ['MCX_INDEX', 'MCXCOMPDEX', 1],
      ['GLOBAL_INDEX', 'DJI', 1],
      ['NSE_INDEX', 'NIFTY_50', 1],
    );
    await env.publish('BSE_INDEX_SENSEX_QUOTE', quoteTick(80000));
    await env.publish('MCX_INDEX_MCXCOMPDEX_LTP', ltpTick(1));
    await env.publish('GLOBAL_INDEX_DJI_LTP', ltpTick(2));
    await env.publish('NSE_INDEX_NIFTY_50_LTP', ltpTick(3));
    const [frames] = (await env.settle(client)) as [Msg[]];
    expect(frames.map((f) => [f['exchange'], f['symbol'], f['mode']])).toStrictEqual([
      ['BSE_INDEX', 'SENSEX', 2],
      ['MCX_INDEX', 'MCXCOMPDEX', 1],
      ['GLOBAL_INDEX', 'DJI', 1],
      ['NSE_INDEX', 'NIFTY_50', 1],
    ]);
  });

  it('reads the mode segment case-insensitively', async () => {
    const client = await holding(['NSE', 'INFY', 3]);
    await env.publish('NSE_INFY_depth', bookTick(1));
    await env.publish('NSE_INFY_Depth', bookTick(2));
    const [frames] = (await env.settle(client)) as [Msg[]];
    expect(frames.map((f) => [f['mode'], f['data']['ltp']])).toStrictEqual([
      [3, 1],
      [3, 2],
    ]);
  });

  it('never takes order, position, margin or cache topics for ticks', async () => {
    const client = await holding(['NSE', 'RELIANCE', 1], ['zerodha', 'alice', 1], ['CACHE', 'INVALIDATE', 1]);
    await env.publish('NSE_RELIANCE_orders', ltpTick(1));
    await env.publish('NSE_RELIANCE_positions', ltpTick(2));
    await env.publish('NSE_RELIANCE_margins', ltpTick(3));
    await env.publish('zerodha_alice_orders', { user_id: 'alice', ltp: 4 });
    await env.publish('CACHE_INVALIDATE_AUTH_alice', { action: 'invalidate', user_id: 'alice', cache_type: 'AUTH' });
    await env.publish('NSE_RELIANCE_LTP', ltpTick(6));
    const [frames] = (await env.settle(client)) as [Msg[]];
    expect(frames).toStrictEqual([marketDataFrame('RELIANCE', 'NSE', 1, ltpTick(6), 1)]);
  });

  it('never takes a cache invalidation for a tick, even for a user id that reads like a mode', async () => {
    // OpenAlgo publishes CACHE_INVALIDATE_{AUTH|FEED|ALL}_{user_id} on the market-data bus.
    const client = await holding(['CACHE', 'INVALIDATE_FEED', 1], ['CACHE', 'INVALIDATE_ALL', 3]);
    await env.publish('CACHE_INVALIDATE_FEED_ltp', { action: 'invalidate', user_id: 'ltp', cache_type: 'FEED', ltp: 1 });
    await env.publish('CACHE_INVALIDATE_ALL_Depth', { action: 'invalidate', user_id: 'Depth', cache_type: 'ALL', ltp: 2 });
    expect(await env.settle(client)).toStrictEqual([[]]);
  });

  it('drops topics with fewer than three segments or an unknown mode, counts them, and goes on', async () => {
    const client = await holding(['NSE', 'SBIN', 1]);
    const before = env.proxy.stats.feedDropped.topic;
    await env.publish('NSE_LTP', ltpTick(1));
    await env.publish('SBIN', ltpTick(2));
    await env.publish('NSE_SBIN_TRADES', ltpTick(3));
    await env.publish('NSE_SBIN_', ltpTick(4));
    await env.publish('NSE_SBIN_LTP', ltpTick(5));
    expect(await env.settle(client)).toStrictEqual([[marketDataFrame('SBIN', 'NSE', 1, ltpTick(5), 1)]]);
    expect(env.proxy.stats.feedDropped.topic - before).toBe(4);
  });

  it('carries the broker label on every frame', async () => {
    const client = await holding(['NSE', 'ITC', 1]);
    await env.publish('NSE_ITC_LTP', ltpTick(1));
    const [[frame]] = (await env.settle(client)) as [[Msg]];
    expect(frame['broker']).toBe(BROKER);
  });
});
