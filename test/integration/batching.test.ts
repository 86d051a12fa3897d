/** Batched delivery [ext] (issue 6): `set_options` / `?batch_ms=` → `market_data_batch` frames. */
import { ALICE, type Env, marketDataFrame, startEnv } from '../helpers/proxy';
import { scopes, uniq } from '../helpers/scope';
import { quoteTick } from '../helpers/ticks';
import { isError, marketData, type Msg, ofType, type TestClient } from '../helpers/wsClient';

const { suite, each } = scopes();

/**
 * The ticks of the next `market_data_batch` frames until `n` updates have arrived (a burst usually
 * fits one window, but a window may close in the middle of it).
 */
async function batchedTicks(client: TestClient, n: number): Promise<{ frames: number; ticks: Msg[] }> {
  const ticks: Msg[] = [];
  let frames = 0;
  while (ticks.length < n) {
    const batch = await client.next((m) => m['type'] === 'market_data_batch' || m['type'] === 'market_data', 5000);
    expect(batch['type']).toBe('market_data_batch');
    frames++;
    ticks.push(...(batch['ticks'] as Msg[]));
  }
  return { frames, ticks };
}

async function subscribeQuote(client: TestClient, symbol: string): Promise<void> {
  const reply = await client.request({ action: 'subscribe', symbol, exchange: 'NSE', mode: 2 }, ofType('subscribe'));
  expect(reply['status']).toBe('success');
}

describe('batched delivery', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(suite, { throttleMs: 0 });
  });

  it('sends the updates of one window as one market_data_batch frame, in order, after set_options', async () => {
    const sym = uniq('BATCH');
    const client = await env.login(each);
    expect(await client.request({ action: 'set_options', batch_ms: 200, request_id: 'b1' }, ofType('set_options'))).toStrictEqual({
      type: 'set_options',
      status: 'success',
      batch_ms: 200,
      request_id: 'b1',
    });
    await subscribeQuote(client, sym);
    for (const ltp of [101, 102, 103]) await env.publish(`NSE_${sym}_QUOTE`, quoteTick(ltp));
    const { frames, ticks } = await batchedTicks(client, 3);
    expect(ticks).toStrictEqual([101, 102, 103].map((ltp, i) => marketDataFrame(sym, 'NSE', 2, quoteTick(ltp), i + 1)));
    // One window's frame, or two when the shared batch clock ticked mid-burst: never one frame per update.
    expect([1, 2]).toContain(frames);
  });

  it('turns batching on from the connection URL (?batch_ms=)', async () => {
    const sym = uniq('URLBATCH');
    const client = await env.connect(each, `/ws?batch_ms=200`);
    await client.request({ action: 'authenticate', api_key: ALICE.key }, ofType('auth'));
    await subscribeQuote(client, sym);
    for (const ltp of [7, 8]) await env.publish(`NSE_${sym}_QUOTE`, quoteTick(ltp));
    const { ticks } = await batchedTicks(client, 2);
    expect(ticks.map((t) => t['data']['ltp'])).toEqual([7, 8]);
  });

  it('leaves clients that never opt in on one market_data frame per update', async () => {
    const sym = uniq('MIXED');
    const batching = await env.login(each);
    await batching.request({ action: 'set_options', batch_ms: 200 }, ofType('set_options'));
    const plain = await env.login(each);
    await subscribeQuote(batching, sym);
    await subscribeQuote(plain, sym);
    for (const ltp of [1, 2]) await env.publish(`NSE_${sym}_QUOTE`, quoteTick(ltp));
    expect(await plain.next(marketData(sym))).toStrictEqual(marketDataFrame(sym, 'NSE', 2, quoteTick(1), 1));
    expect(await plain.next(marketData(sym))).toStrictEqual(marketDataFrame(sym, 'NSE', 2, quoteTick(2), 2));
    const { ticks } = await batchedTicks(batching, 2);
    expect(ticks.map((t) => [t['data']['ltp'], t['seq']])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('goes back to one frame per update with batch_ms 0', async () => {
    const sym = uniq('UNBATCH');
    const client = await env.login(each);
    await client.request({ action: 'set_options', batch_ms: 200 }, ofType('set_options'));
    expect((await client.request({ action: 'set_options', batch_ms: 0 }, ofType('set_options')))['batch_ms']).toBe(0);
    await subscribeQuote(client, sym);
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(5));
    expect(await client.next(marketData(sym))).toStrictEqual(marketDataFrame(sym, 'NSE', 2, quoteTick(5), 1));
  });

  it.each([[-1], [2.5], ['x'], [5001], [null], [true]])('refuses batch_ms %p with INVALID_PARAMETERS', async (value) => {
    const client = await env.login(each);
    const reply = await client.request({ action: 'set_options', batch_ms: value, request_id: 'bad' }, isError);
    expect(reply).toStrictEqual({
      status: 'error',
      code: 'INVALID_PARAMETERS',
      message: '"batch_ms" must be a whole number of milliseconds from 0 (off) to 5000',
      request_id: 'bad',
    });
  });

  it('refuses set_options without batch_ms', async () => {
    const client = await env.login(each);
    expect(await client.request({ action: 'set_options' }, isError)).toStrictEqual({
      status: 'error',
      code: 'INVALID_PARAMETERS',
      message: 'set_options needs "batch_ms"',
    });
  });
});
