/** protocol.md "subscribe" and "unsubscribe / unsubscribe_all": requests, replies, and their effect on the stream. */
import { BROKER, type Env, marketDataFrame, startEnv } from '../helpers/proxy';
import { scopes, uniq } from '../helpers/scope';
import { bookTick, ltpTick, quoteTick } from '../helpers/ticks';
import { type Msg, ofType, type TestClient } from '../helpers/wsClient';

const { suite, each } = scopes();

const TOPIC_MODE = ['', 'LTP', 'QUOTE', 'DEPTH'] as const;

/** A successful subscribe entry as the reply lists it. */
function subscribed(symbol: string, exchange: string, mode: string, depth = 5): Msg {
  return { symbol, exchange, status: 'success', mode, depth, broker: BROKER };
}

/** `[symbol, mode, ltp]` of each market_data frame: what a client saw, compactly. */
function seen(frames: Msg[]): [string, number, number][] {
  return frames.map((f) => {
    expect(f['type']).toBe('market_data');
    return [f['symbol'], f['mode'], f['data']['ltp']];
  });
}

let env: Env;
beforeAll(async () => {
  env = await startEnv(suite, { throttleMs: 0 });
});

/** Ticks every mode of `sym` and returns what `client` saw of them. */
async function seenAfterTicks(client: TestClient, sym: string): Promise<[string, number, number][]> {
  await tickAllModes([sym]);
  return seen((await env.settle(client))[0] as Msg[]);
}

/** What a client holding only LTP of `sym` sees of {@link tickAllModes}. */
const ltpOf = (sym: string): [string, number, number][] => [
  [sym, 1, 101],
  [sym, 1, 102],
  [sym, 1, 103],
];

/** A logged-in client that can be settled. */
async function fencedClient(): Promise<TestClient> {
  return env.fenced(await env.login(each));
}

/** Subscribes and returns the `subscribe` reply. */
function subscribe(client: TestClient, body: Record<string, unknown>): Promise<Msg> {
  return client.request({ action: 'subscribe', ...body }, ofType('subscribe'));
}

/** Unsubscribes and returns the `unsubscribe` reply. */
function unsubscribe(client: TestClient, body: Record<string, unknown>): Promise<Msg> {
  return client.request({ action: 'unsubscribe', ...body }, ofType('unsubscribe'));
}

/** Publishes one tick per mode (ltp = base + mode) on every symbol of NSE. */
async function tickAllModes(symbols: string[], base = 100): Promise<void> {
  for (const symbol of symbols) {
    await env.publish(`NSE_${symbol}_LTP`, ltpTick(base + 1));
    await env.publish(`NSE_${symbol}_QUOTE`, quoteTick(base + 2));
    await env.publish(`NSE_${symbol}_DEPTH`, bookTick(base + 3));
  }
}

describe('subscribe', () => {
  it('answers the bulk form with one entry per symbol and echoes request_id', async () => {
    const client = await env.login(each);
    const [rel, nifty] = [uniq('RELIANCE'), uniq('NIFTY')];
    const reply = await subscribe(client, {
      symbols: [
        { symbol: rel, exchange: 'NSE' },
        { symbol: nifty, exchange: 'NSE_INDEX' },
      ],
      mode: 'Quote',
      depth: 5,
      request_id: 'r1',
    });
    expect(reply).toStrictEqual({
      type: 'subscribe',
      status: 'success',
      subscriptions: [subscribed(rel, 'NSE', 'Quote'), subscribed(nifty, 'NSE_INDEX', 'Quote')],
      message: 'Subscription processing complete',
      broker: BROKER,
      request_id: 'r1',
    });
  });

  it('answers the single form with one entry and no request_id when none was sent', async () => {
    const client = await env.login(each);
    const sym = uniq('RELIANCE');
    expect(await subscribe(client, { symbol: sym, exchange: 'NSE', mode: 3, depth: 20 })).toStrictEqual({
      type: 'subscribe',
      status: 'success',
      subscriptions: [subscribed(sym, 'NSE', 'Depth', 20)],
      message: 'Subscription processing complete',
      broker: BROKER,
    });
  });

  it.each([
    [1, 'LTP', 1],
    [2, 'Quote', 2],
    [3, 'Depth', 3],
    ['ltp', 'LTP', 1],
    [' Depth ', 'Depth', 3],
    ['QUOTE', 'Quote', 2],
  ])('accepts mode %j, lists it as %s and delivers frames tagged %d', async (mode, label, int) => {
    const client = await fencedClient();
    const sym = uniq('SBIN');
    const reply = await subscribe(client, { symbols: [{ symbol: sym, exchange: 'NSE' }], mode });
    expect(reply['subscriptions']).toStrictEqual([subscribed(sym, 'NSE', label)]);
    await env.publish(`NSE_${sym}_${TOPIC_MODE[int]}`, ltpTick(42));
    const [frames] = await env.settle(client);
    expect(seen(frames as Msg[])).toStrictEqual([[sym, int, 42]]);
  });

  it.each([
    [0, '0'],
    [4, '4'],
    [2.5, '2.5'],
    [true, 'true'],
    [null, 'null'],
    ['1', '"1"'],
    ['FOO', '"FOO"'],
    ['', '""'],
    [[1], 'an array'],
    [{ mode: 1 }, 'an object'],
  ])('rejects the whole request for mode %j with INVALID_MODE', async (mode, named) => {
    const client = await fencedClient();
    const [a, b] = [uniq('TCS'), uniq('INFY')];
    const reply = await client.request({
      action: 'subscribe',
      symbols: [
        { symbol: a, exchange: 'NSE' },
        { symbol: b, exchange: 'NSE' },
      ],
      mode,
      request_id: 'm',
    });
    expect(reply).toStrictEqual({
      status: 'error',
      code: 'INVALID_MODE',
      message: `Invalid mode: ${named}. Use 1, 2, 3 or "LTP", "Quote", "Depth".`,
      request_id: 'm',
    });
    await tickAllModes([a, b]);
    expect(await env.settle(client)).toStrictEqual([[]]);
  });

  it('subscribes Quote when the mode is missing', async () => {
    const client = await fencedClient();
    const sym = uniq('HDFC');
    const reply = await subscribe(client, { symbols: [{ symbol: sym, exchange: 'NSE' }] });
    expect(reply['subscriptions']).toStrictEqual([subscribed(sym, 'NSE', 'Quote')]);
    await env.publish(`NSE_${sym}_LTP`, ltpTick(1));
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(2));
    const [frames] = await env.settle(client);
    expect(seen(frames as Msg[])).toStrictEqual([[sym, 2, 2]]);
  });

  it('ignores a per-item mode: the request mode applies to every entry', async () => {
    const client = await fencedClient();
    const [a, b] = [uniq('ITC'), uniq('WIPRO')];
    const reply = await subscribe(client, {
      symbols: [
        { symbol: a, exchange: 'NSE', mode: 3 },
        { symbol: b, exchange: 'NSE', mode: 'Depth' },
      ],
      mode: 1,
    });
    expect(reply['subscriptions']).toStrictEqual([subscribed(a, 'NSE', 'LTP'), subscribed(b, 'NSE', 'LTP')]);
    await env.publish(`NSE_${a}_LTP`, ltpTick(1));
    await env.publish(`NSE_${b}_LTP`, ltpTick(2));
    const [frames] = await env.settle(client);
    expect(seen(frames as Msg[])).toStrictEqual([
      [a, 1, 1],
      [b, 1, 2],
    ]);
  });

  it('ignores a per-item mode when the request has none: Quote', async () => {
    const client = await env.login(each);
    const sym = uniq('ITC');
    const reply = await subscribe(client, { symbols: [{ symbol: sym, exchange: 'NSE', mode: 1 }] });
    expect(reply['subscriptions']).toStrictEqual([subscribed(sym, 'NSE', 'Quote')]);
  });

  it('echoes the requested depth in every entry, 5 when not given', async () => {
    const client = await env.login(each);
    const [a, b] = [uniq('A'), uniq('B')];
    const symbols = [
      { symbol: a, exchange: 'NSE' },
      { symbol: b, exchange: 'BSE' },
    ];
    expect((await subscribe(client, { symbols, mode: 3 }))['subscriptions']).toStrictEqual([
      subscribed(a, 'NSE', 'Depth', 5),
      subscribed(b, 'BSE', 'Depth', 5),
    ]);
    expect((await subscribe(client, { symbols, mode: 1, depth: 50 }))['subscriptions']).toStrictEqual([
      subscribed(a, 'NSE', 'LTP', 50),
      subscribed(b, 'BSE', 'LTP', 50),
    ]);
  });

  it('does not trim books to the requested depth', async () => {
    const client = await fencedClient();
    const sym = uniq('AXIS');
    await subscribe(client, { symbol: sym, exchange: 'NSE', mode: 3, depth: 5 });
    const book = bookTick(500, 20);
    await env.publish(`NSE_${sym}_DEPTH`, book);
    const [[frame]] = (await env.settle(client)) as [[Msg]];
    expect(frame['data']).toStrictEqual(book);
  });

  it('treats symbols and exchanges as case-sensitive and passes them through as given', async () => {
    const lower = await fencedClient();
    const upper = await fencedClient();
    const sym = uniq('Reliance');
    const reply = await subscribe(lower, { symbols: [{ symbol: sym.toLowerCase(), exchange: 'nse' }], mode: 1 });
    expect(reply['subscriptions']).toStrictEqual([subscribed(sym.toLowerCase(), 'nse', 'LTP')]);
    await subscribe(upper, { symbols: [{ symbol: sym.toUpperCase(), exchange: 'NSE' }], mode: 1 });

    await env.publish(`NSE_${sym.toUpperCase()}_LTP`, ltpTick(1));
    await env.publish(`nse_${sym.toLowerCase()}_LTP`, ltpTick(2));
    await env.publish(`NSE_${sym}_LTP`, ltpTick(3));
    const [lowerFrames, upperFrames] = await env.settle(lower, upper);
    expect((lowerFrames as Msg[]).map((f) => [f['exchange'], f['symbol'], f['data']['ltp']])).toStrictEqual([
      ['nse', sym.toLowerCase(), 2],
    ]);
    expect((upperFrames as Msg[]).map((f) => [f['exchange'], f['symbol'], f['data']['ltp']])).toStrictEqual([
      ['NSE', sym.toUpperCase(), 1],
    ]);
  });

  it('answers entries without symbol or exchange, or that are not objects, as error entries: status partial', async () => {
    const client = await fencedClient();
    const ok = uniq('LT');
    const reply = await subscribe(client, {
      symbols: [
        { symbol: ok, exchange: 'NSE' },
        { symbol: '', exchange: 'NSE' },
        { exchange: 'NSE' },
        { symbol: 'Y' },
        'NSE:Z',
        42,
        null,
        ['NSE', 'Z'],
      ],
      mode: 1,
      request_id: 'p',
    });
    expect(reply).toMatchObject({
      type: 'subscribe',
      status: 'partial',
      message: 'Subscription processing complete',
      broker: BROKER,
      request_id: 'p',
    });
    const entries = reply['subscriptions'] as Msg[];
    expect(entries).toHaveLength(8);
    expect(entries[0]).toStrictEqual(subscribed(ok, 'NSE', 'LTP'));
    const required = { symbol: '', exchange: 'NSE', status: 'error', message: 'symbol and exchange are required', broker: BROKER };
    expect(entries[1]).toStrictEqual(required);
    expect(entries[2]).toStrictEqual(required);
    expect(entries[3]).toMatchObject({ symbol: 'Y', status: 'error', message: 'symbol and exchange are required', broker: BROKER });
    const notAnObject = {
      symbol: '',
      exchange: '',
      status: 'error',
      message: 'each entry must be an object {"symbol","exchange"}',
      broker: BROKER,
    };
    expect(entries.slice(4)).toStrictEqual([notAnObject, notAnObject, notAnObject, notAnObject]);
    // The good entry took effect.
    await env.publish(`NSE_${ok}_LTP`, ltpTick(7));
    expect(seen((await env.settle(client))[0] as Msg[])).toStrictEqual([[ok, 1, 7]]);
  });

  it('answers status error when every entry failed', async () => {
    const client = await env.login(each);
    const reply = await subscribe(client, { symbols: [{ symbol: 'X' }, { exchange: 'NSE' }], mode: 1 });
    expect(reply).toMatchObject({ type: 'subscribe', status: 'error', message: 'Subscription processing complete', broker: BROKER });
    expect(reply['subscriptions'].map((e: Msg) => e['status'])).toStrictEqual(['error', 'error']);
  });

  it.each([
    ['an empty symbols array', { symbols: [] }],
    ['symbols null', { symbols: null }],
    ['no symbols and no single form', {}],
  ])("answers a request that names no symbol (%s) with OpenAlgo's INVALID_PARAMETERS envelope, request_id echoed", async (_, body) => {
    const client = await env.login(each);
    expect(await client.request({ action: 'subscribe', ...body, mode: 1, request_id: 'e1' })).toStrictEqual({
      status: 'error',
      code: 'INVALID_PARAMETERS',
      message: 'At least one symbol must be specified',
      request_id: 'e1',
    });
  });

  it('lets an empty symbols array fall through to the single form, as OpenAlgo does', async () => {
    const client = await env.login(each);
    const sym = uniq('SINGLE');
    const reply = await subscribe(client, { symbols: [], symbol: sym, exchange: 'NSE', mode: 1, request_id: 'e2' });
    expect(reply).toStrictEqual({
      type: 'subscribe',
      status: 'success',
      subscriptions: [subscribed(sym, 'NSE', 'LTP')],
      message: 'Subscription processing complete',
      broker: BROKER,
      request_id: 'e2',
    });
  });

  it.each([['RELIANCE'], [{ symbol: 'RELIANCE', exchange: 'NSE' }], [5], [true]])(
    'answers symbols that are not an array (%j) with INVALID_PARAMETERS',
    async (symbols) => {
      const client = await env.login(each);
      expect(await client.request({ action: 'subscribe', symbols, mode: 1, request_id: 's' })).toStrictEqual({
        status: 'error',
        code: 'INVALID_PARAMETERS',
        message: '"symbols" must be an array of {"symbol","exchange"} objects',
        request_id: 's',
      });
    },
  );
});

describe('snapshot on subscribe', () => {
  let observer: TestClient;
  /** Waits until everything published so far has been through the pipeline. */
  const flush = async (): Promise<void> => {
    await env.settle(observer);
  };
  beforeEach(async () => {
    observer = await fencedClient();
  });

  it('sends the last tick right after the reply, tagged with the subscribed mode', async () => {
    const sym = uniq('BHARTI');
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(880));
    await flush();
    const client = await env.login(each);
    client.send({ action: 'subscribe', symbols: [{ symbol: sym, exchange: 'NSE' }], mode: 'Quote', request_id: 'snap' });
    expect(await client.next()).toMatchObject({ type: 'subscribe', status: 'success', request_id: 'snap' });
    expect(await client.next()).toStrictEqual(marketDataFrame(sym, 'NSE', 2, quoteTick(880), 1));
  });

  it('sends the newest tick among the topics of the subscribed mode and above', async () => {
    const sym = uniq('MARUTI');
    await env.publish(`NSE_${sym}_LTP`, ltpTick(1));
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(2));
    await env.publish(`NSE_${sym}_LTP`, ltpTick(3));
    await flush();
    const client = await env.login(each);

    client.send({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 1 });
    expect(await client.next()).toMatchObject({ type: 'subscribe', status: 'success' });
    expect(await client.next()).toMatchObject({ type: 'market_data', symbol: sym, mode: 1, data: ltpTick(3) });

    client.send({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 2 });
    expect(await client.next()).toMatchObject({ type: 'subscribe', status: 'success' });
    expect(await client.next()).toMatchObject({ type: 'market_data', symbol: sym, mode: 2, data: quoteTick(2) });

    await env.publish(`NSE_${sym}_DEPTH`, bookTick(4));
    await flush();
    const late = await env.login(each);
    late.send({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 1 });
    expect(await late.next()).toMatchObject({ type: 'subscribe', status: 'success' });
    const snap = await late.next();
    expect(snap).toMatchObject({ type: 'market_data', symbol: sym, mode: 1 });
    expect(snap['data']['ltp']).toBe(4);
  });

  it('sends no snapshot when no tick of the subscribed mode or above was seen', async () => {
    const sym = uniq('ONGC');
    await env.publish(`NSE_${sym}_LTP`, ltpTick(1));
    await env.publish(`NSE_${sym}_QUOTE`, quoteTick(2));
    await flush();
    const client = await env.login(each);
    client.send({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 3 });
    client.send({ action: 'ping' });
    expect((await client.next())['type']).toBe('subscribe');
    expect((await client.next())['type']).toBe('pong');
  });

  it('sends no snapshot for a key the client already held', async () => {
    const sym = uniq('COAL');
    await env.publish(`NSE_${sym}_LTP`, ltpTick(1));
    await flush();
    const client = await env.login(each);
    client.send({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 1 });
    expect((await client.next())['type']).toBe('subscribe');
    expect((await client.next())['type']).toBe('market_data');

    client.send({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 1 });
    client.send({ action: 'ping' });
    expect(await client.next()).toMatchObject({ type: 'subscribe', status: 'success', subscriptions: [subscribed(sym, 'NSE', 'LTP')] });
    expect((await client.next())['type']).toBe('pong');
  });

  it('sends one snapshot for a symbol listed twice in one request', async () => {
    const sym = uniq('TWICE');
    await env.publish(`NSE_${sym}_LTP`, ltpTick(5));
    await flush();
    const client = await env.login(each);
    client.send({
      action: 'subscribe',
      symbols: [
        { symbol: sym, exchange: 'NSE' },
        { symbol: sym, exchange: 'NSE' },
      ],
      mode: 1,
    });
    client.send({ action: 'ping' });
    expect(await client.next()).toMatchObject({
      type: 'subscribe',
      status: 'success',
      subscriptions: [subscribed(sym, 'NSE', 'LTP'), subscribed(sym, 'NSE', 'LTP')],
    });
    expect(seen([await client.next()])).toStrictEqual([[sym, 1, 5]]);
    expect((await client.next())['type']).toBe('pong');
  });

  it('sends one snapshot per newly held symbol of a bulk request, after the reply', async () => {
    const [a, b, none] = [uniq('A'), uniq('B'), uniq('NONE')];
    await env.publish(`NSE_${a}_LTP`, ltpTick(10));
    await env.publish(`NSE_${b}_QUOTE`, quoteTick(20));
    await flush();
    const client = await env.login(each);
    client.send({
      action: 'subscribe',
      symbols: [
        { symbol: a, exchange: 'NSE' },
        { symbol: none, exchange: 'NSE' },
        { symbol: b, exchange: 'NSE' },
      ],
      mode: 1,
    });
    client.send({ action: 'ping' });
    expect((await client.next())['type']).toBe('subscribe');
    const snaps = [await client.next(), await client.next()];
    expect(seen(snaps).sort()).toStrictEqual([
      [a, 1, 10],
      [b, 1, 20],
    ]);
    expect((await client.next())['type']).toBe('pong');
  });
});

describe('unsubscribe', () => {
  /** A fenced client holding `modes` of a fresh NSE symbol. */
  async function holding(...modes: number[]): Promise<{ client: TestClient; sym: string }> {
    const client = await fencedClient();
    const sym = uniq('UNSUB');
    for (const mode of modes) await subscribe(client, { symbol: sym, exchange: 'NSE', mode });
    return { client, sym };
  }

  const ok = (symbol: string, exchange = 'NSE'): Msg => ({ symbol, exchange, status: 'success', broker: BROKER });

  it('removes the item mode and answers with the exact reply', async () => {
    const { client, sym } = await holding(1, 2);
    expect(await unsubscribe(client, { symbols: [{ symbol: sym, exchange: 'NSE', mode: 1 }], request_id: 'x' })).toStrictEqual({
      type: 'unsubscribe',
      status: 'success',
      message: 'Unsubscription processing complete',
      successful: [ok(sym)],
      failed: [],
      broker: BROKER,
      request_id: 'x',
    });
    // Quote is still held: LTP ticks no longer reach the client, Quote and Depth ticks do, as mode 2.
    expect(await seenAfterTicks(client, sym)).toStrictEqual([
      [sym, 2, 102],
      [sym, 2, 103],
    ]);
  });

  it('removes the top-level mode from every entry of the bulk form', async () => {
    const { client, sym } = await holding(1, 2);
    const reply = await unsubscribe(client, { symbols: [{ symbol: sym, exchange: 'NSE' }], mode: ' quote ' });
    expect(reply).toMatchObject({ status: 'success', successful: [ok(sym)], failed: [] });
    expect(await seenAfterTicks(client, sym)).toStrictEqual(ltpOf(sym));
  });

  it('prefers the item mode over the top-level mode', async () => {
    const { client, sym } = await holding(1, 2);
    await unsubscribe(client, { symbols: [{ symbol: sym, exchange: 'NSE', mode: 2 }], mode: 1 });
    expect(await seenAfterTicks(client, sym)).toStrictEqual(ltpOf(sym));
  });

  it('removes every held mode when no mode is given (bulk form)', async () => {
    const { client, sym } = await holding(1, 2, 3);
    const reply = await unsubscribe(client, { symbols: [{ symbol: sym, exchange: 'NSE' }] });
    expect(reply).toMatchObject({ status: 'success', successful: [ok(sym)], failed: [] });
    expect(await seenAfterTicks(client, sym)).toStrictEqual([]);
  });

  it('removes every held mode when no mode is given (single form)', async () => {
    const { client, sym } = await holding(1, 3);
    const reply = await unsubscribe(client, { symbol: sym, exchange: 'NSE' });
    expect(reply).toMatchObject({ status: 'success', successful: [ok(sym)], failed: [] });
    expect(await seenAfterTicks(client, sym)).toStrictEqual([]);
  });

  it('removes only the given mode in the single form', async () => {
    const { client, sym } = await holding(1, 3);
    await unsubscribe(client, { symbol: sym, exchange: 'NSE', mode: 'LTP' });
    await tickAllModes([sym]);
    const [frames] = (await env.settle(client)) as [Msg[]];
    expect(seen(frames)).toStrictEqual([[sym, 3, 103]]);
    expect(frames[0]?.['data']).toStrictEqual(bookTick(103));
  });

  it('counts unsubscribing what was not subscribed as success', async () => {
    const client = await env.login(each);
    const sym = uniq('NEVER');
    expect(await unsubscribe(client, { symbols: [{ symbol: sym, exchange: 'NSE', mode: 1 }] })).toStrictEqual({
      type: 'unsubscribe',
      status: 'success',
      message: 'Unsubscription processing complete',
      successful: [ok(sym)],
      failed: [],
      broker: BROKER,
    });
  });

  it('lists bad entries as failed: status partial, or error when all failed', async () => {
    const { client, sym } = await holding(1);
    const partial = await unsubscribe(client, {
      symbols: [
        { symbol: sym, exchange: 'NSE' },
        { symbol: '', exchange: 'NSE' },
      ],
    });
    expect(partial).toMatchObject({ type: 'unsubscribe', status: 'partial', successful: [ok(sym)] });
    expect(partial['failed']).toHaveLength(1);
    const failed = await unsubscribe(client, { symbols: [{ exchange: 'NSE' }, 7] });
    expect(failed).toMatchObject({ type: 'unsubscribe', status: 'error', successful: [] });
    expect(failed['failed']).toHaveLength(2);
  });

  it.each([
    ['an empty symbols array', { symbols: [] }],
    ['no symbols and no single form', {}],
  ])("answers an unsubscribe that names no symbol (%s) with OpenAlgo's INVALID_PARAMETERS envelope", async (_, body) => {
    const client = await env.login(each);
    expect(await client.request({ action: 'unsubscribe', ...body, request_id: 'u1' })).toStrictEqual({
      status: 'error',
      code: 'INVALID_PARAMETERS',
      message: 'Either symbols or unsubscribe_all is required',
      request_id: 'u1',
    });
  });

  it('unsubscribe_all removes everything and answers with type unsubscribe', async () => {
    const client = await env.login(each);
    const [a, b] = [uniq('ALL'), uniq('ALL')];
    await subscribe(client, { symbol: a, exchange: 'NSE', mode: 1 });
    await subscribe(client, { symbol: b, exchange: 'NSE', mode: 2 });
    await subscribe(client, { symbol: b, exchange: 'NSE', mode: 3 });

    const reply = await client.request({ action: 'unsubscribe_all', request_id: 'all' }, ofType('unsubscribe'));
    expect(reply).toMatchObject({
      type: 'unsubscribe',
      status: 'success',
      message: 'Unsubscription processing complete',
      failed: [],
      broker: BROKER,
      request_id: 'all',
    });
    const entries = reply['successful'] as Msg[];
    for (const entry of entries) expect(entry).toMatchObject({ exchange: 'NSE', status: 'success', broker: BROKER });
    expect([...new Set(entries.map((e) => e['symbol']))].sort()).toStrictEqual([a, b].sort());

    await env.fenced(client);
    await tickAllModes([a, b]);
    expect(await env.settle(client)).toStrictEqual([[]]);
  });

  it('unsubscribe_all with nothing held succeeds', async () => {
    const client = await env.login(each);
    expect(await client.request({ action: 'unsubscribe_all' }, ofType('unsubscribe'))).toMatchObject({
      type: 'unsubscribe',
      status: 'success',
      successful: [],
      failed: [],
      broker: BROKER,
    });
  });
});

describe('subscription cap', () => {
  it('answers entries past the cap with MAX_SUBSCRIPTIONS naming the cap, and frees room on unsubscribe', async () => {
    const capped = await startEnv(each, { throttleMs: 0, maxSubscriptions: 3 });
    const client = await capped.login(each);
    const syms = [1, 2, 3, 4, 5].map(() => uniq('CAP'));
    const reply = await subscribe(client, { symbols: syms.map((symbol) => ({ symbol, exchange: 'NSE' })), mode: 1 });
    expect(reply['status']).toBe('partial');
    const entries = reply['subscriptions'] as Msg[];
    expect(entries.slice(0, 3)).toStrictEqual(syms.slice(0, 3).map((s) => subscribed(s, 'NSE', 'LTP')));
    for (const [i, entry] of entries.slice(3).entries()) {
      expect(entry).toMatchObject({ symbol: syms[3 + i], exchange: 'NSE', status: 'error', code: 'MAX_SUBSCRIPTIONS', broker: BROKER });
      expect(entry['message']).toMatch(/\b3\b/);
    }

    // A key already held needs no room; a new mode of a held symbol does.
    expect((await subscribe(client, { symbol: syms[0], exchange: 'NSE', mode: 1 }))['status']).toBe('success');
    const more = await subscribe(client, { symbol: syms[0], exchange: 'NSE', mode: 2 });
    expect(more).toMatchObject({ status: 'error', subscriptions: [{ status: 'error', code: 'MAX_SUBSCRIPTIONS' }] });

    await unsubscribe(client, { symbol: syms[0], exchange: 'NSE' });
    await capped.fenced(client);
    await tickAllModes(syms.map((s) => s));
    for (const s of syms) await capped.publish(`NSE_${s}_LTP`, ltpTick(9));
    const [frames] = (await capped.settle(client)) as [Msg[]];
    expect([...new Set(frames.map((f) => f['symbol']))]).toStrictEqual([syms[1], syms[2]]);
  });
});
