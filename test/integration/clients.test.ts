/**
 * Existing OpenAlgo clients must work unchanged: one that talks like the Python SDK (integer modes,
 * bulk subscribe with depth, unsubscribe with per-item modes) and one like the React dashboard's
 * MarketDataManager (label modes, one request per symbol and mode, mode-less unsubscribe).
 */
import { ALICE, BOB, BROKER, type Env, startEnv } from '../helpers/proxy';
import { scopes, uniq } from '../helpers/scope';
import { bookTick, ltpTick, quoteTick } from '../helpers/ticks';
import { type Msg, ofType } from '../helpers/wsClient';

const { suite, each } = scopes();

let env: Env;
beforeAll(async () => {
  env = await startEnv(suite, { throttleMs: 0 });
});

/** `symbol mode ltp` of each market_data frame, for readable exact comparisons. */
const summary = (frames: Msg[]): string[] => frames.map((f) => `${f['type']} ${f['symbol']} ${f['mode']} ${f['data']?.['ltp']}`);

describe('OpenAlgo clients', () => {
  it('serve a Python-SDK-style and a React-style client side by side, each exactly what it asked for', async () => {
    const [infy, tcs, nifty, idle] = [uniq('INFY'), uniq('TCS'), uniq('NIFTY'), uniq('IDLE')];
    const publishRound = async (base: number): Promise<void> => {
      for (const s of [infy, tcs, idle]) {
        await env.publish(`NSE_${s}_LTP`, ltpTick(base + 1));
        await env.publish(`NSE_${s}_QUOTE`, quoteTick(base + 2));
        await env.publish(`NSE_${s}_DEPTH`, bookTick(base + 3));
      }
      await env.publish(`NSE_INDEX_${nifty}_LTP`, ltpTick(base + 4));
    };

    // Python SDK: authenticate, then bulk subscribe with integer modes and a depth.
    const sdk = await env.connect(each);
    expect(await sdk.request({ action: 'authenticate', api_key: ALICE.key })).toMatchObject({
      type: 'auth',
      status: 'success',
      user_id: 'alice',
    });
    const sdkLtp = await sdk.request(
      {
        action: 'subscribe',
        symbols: [
          { exchange: 'NSE', symbol: infy },
          { exchange: 'NSE_INDEX', symbol: nifty },
        ],
        mode: 1,
        depth: 5,
      },
      ofType('subscribe'),
    );
    expect(sdkLtp).toMatchObject({
      status: 'success',
      subscriptions: [
        { symbol: infy, mode: 'LTP', depth: 5 },
        { symbol: nifty, mode: 'LTP', depth: 5 },
      ],
    });
    const sdkDepth = await sdk.request(
      { action: 'subscribe', symbols: [{ exchange: 'NSE', symbol: tcs }], mode: 3, depth: 20 },
      ofType('subscribe'),
    );
    expect(sdkDepth).toMatchObject({ status: 'success', subscriptions: [{ symbol: tcs, mode: 'Depth', depth: 20 }] });

    // React dashboard: label modes, one symbol per request, several modes of one symbol.
    const web = await env.connect(each);
    expect(await web.request({ action: 'authenticate', api_key: BOB.key })).toMatchObject({
      type: 'auth',
      status: 'success',
      user_id: 'bob',
    });
    for (const [symbol, mode] of [
      [infy, 'Quote'],
      [tcs, 'LTP'],
      [tcs, 'Depth'],
    ] as const) {
      const reply = await web.request({ action: 'subscribe', symbols: [{ symbol, exchange: 'NSE' }], mode }, ofType('subscribe'));
      expect(reply).toMatchObject({
        status: 'success',
        broker: BROKER,
        subscriptions: [{ symbol, exchange: 'NSE', status: 'success', mode }],
      });
    }
    await env.fenced(sdk);
    await env.fenced(web);

    await publishRound(100);
    const [sdkFrames, webFrames] = (await env.settle(sdk, web)) as [Msg[], Msg[]];
    expect(summary(sdkFrames)).toStrictEqual([
      `market_data ${infy} 1 101`,
      `market_data ${infy} 1 102`,
      `market_data ${infy} 1 103`,
      `market_data ${tcs} 3 103`,
      `market_data ${nifty} 1 104`,
    ]);
    expect(summary(webFrames)).toStrictEqual([
      `market_data ${infy} 2 102`,
      `market_data ${infy} 2 103`,
      `market_data ${tcs} 1 101`,
      `market_data ${tcs} 1 102`,
      `market_data ${tcs} 3 103`,
    ]);
    // What each client reads: the SDK reads depth.buy/sell of mode 3, the dashboard ltp.
    expect(sdkFrames[3]?.['data']).toStrictEqual(bookTick(103));
    expect(webFrames[0]?.['data']).toStrictEqual(quoteTick(102));

    // The SDK unsubscribes with per-item modes.
    const sdkUnsub = await sdk.request(
      {
        action: 'unsubscribe',
        symbols: [
          { exchange: 'NSE', symbol: infy, mode: 1 },
          { exchange: 'NSE_INDEX', symbol: nifty, mode: 1 },
          { exchange: 'NSE', symbol: tcs, mode: 3 },
        ],
      },
      ofType('unsubscribe'),
    );
    expect(sdkUnsub).toMatchObject({ status: 'success', failed: [] });
    expect(sdkUnsub['successful']).toHaveLength(3);

    // The dashboard unsubscribes without a mode: every mode it holds of the symbol goes.
    for (const symbol of [infy, tcs]) {
      const reply = await web.request({ action: 'unsubscribe', symbols: [{ symbol, exchange: 'NSE' }] }, ofType('unsubscribe'));
      expect(reply).toMatchObject({ status: 'success', successful: [{ symbol, exchange: 'NSE', status: 'success' }], failed: [] });
    }

    await publishRound(200);
    expect(await env.settle(sdk, web)).toStrictEqual([[], []]);
  });

  it("keep one client's subscriptions when another unsubscribes the same symbol", async () => {
    const sym = uniq('SHARED');
    const sdk = await env.fenced(await env.login(each, ALICE));
    const web = await env.fenced(await env.login(each, BOB));
    await sdk.request({ action: 'subscribe', symbols: [{ exchange: 'NSE', symbol: sym }], mode: 1, depth: 5 }, ofType('subscribe'));
    await web.request({ action: 'subscribe', symbols: [{ exchange: 'NSE', symbol: sym }], mode: 'LTP' }, ofType('subscribe'));
    await web.request({ action: 'unsubscribe', symbols: [{ exchange: 'NSE', symbol: sym }] }, ofType('unsubscribe'));
    await env.publish(`NSE_${sym}_LTP`, ltpTick(9));
    const [s, w] = (await env.settle(sdk, web)) as [Msg[], Msg[]];
    expect(summary(s)).toStrictEqual([`market_data ${sym} 1 9`]);
    expect(w).toStrictEqual([]);
  });

  it('serve the SDK per-instrument calls: single form, integer mode, depth 5, unsubscribe with the same mode', async () => {
    const sym = uniq('SBIN');
    const sdk = await env.fenced(await env.login(each));
    for (const mode of [1, 2, 3]) {
      const reply = await sdk.request({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode, depth: 5 }, ofType('subscribe'));
      expect(reply).toMatchObject({ status: 'success', subscriptions: [{ symbol: sym, exchange: 'NSE', status: 'success', depth: 5 }] });
    }
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(2));
    expect(summary(((await env.settle(sdk)) as [Msg[]])[0])).toStrictEqual([`market_data ${sym} 2 2`]);

    for (const mode of [1, 2, 3]) {
      const reply = await sdk.request({ action: 'unsubscribe', symbol: sym, exchange: 'NSE', mode }, ofType('unsubscribe'));
      expect(reply).toMatchObject({ status: 'success', successful: [{ symbol: sym, exchange: 'NSE', status: 'success' }] });
    }
    await env.publish(`NSE_${sym}_DEPTH`, bookTick(3));
    expect(await env.settle(sdk)).toStrictEqual([[]]);
  });
});
