/**
 * End to end as an OpenAlgo install runs it with Tickcast in place of its proxy: `tickcast serve
 * --control … --zmq-subscribe interest` as a child process, contrib/openalgo/tickcast_host.py run
 * from a stand-in OpenAlgo root (test/control/openalgo_stub: SQLite `api_keys` with Argon2 hashes, a
 * fake adapter whose PUB connects to Tickcast's SUB and publishes only what it was told), and real
 * WebSocket clients. The steps share one Tickcast and build on each other, in order.
 */
import type { ChildProcess } from 'node:child_process';
import { FeedPublisher } from '../helpers/feed';
import { describeWithPyHost, type OpenAlgoRoot, startOpenAlgoStack, type StubUser, stopProcess } from '../helpers/openalgoHost';
import { scopes, sleep, until } from '../helpers/scope';
import { isError, marketData, type Msg, ofType, TestClient } from '../helpers/wsClient';

jest.setTimeout(60_000);

const { suite } = scopes();
const WAIT_MS = 15_000;
/** Verifying a key is Argon2 over the stored keys, in the host's Python: slow on a loaded CPU. */
const VERIFY_MS = 25_000;
const ALICE: StubUser = {
  userId: 'alice',
  apiKey: 'a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9',
  broker: 'fakebroker',
};
const BOB: StubUser = { userId: 'bob', apiKey: 'b0b1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9', broker: 'fakebroker' };
/** In the database too, but never asked for until the host is down: not in Tickcast's key cache. */
const CAROL: StubUser = {
  userId: 'carol',
  apiKey: 'ca401c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f',
  broker: 'fakebroker',
};

describeWithPyHost('control-e2e.test')('Tickcast + the OpenAlgo feed host + WebSocket clients, end to end', () => {
  let oa: OpenAlgoRoot;
  let host: ChildProcess;
  let controlEndpoint: string;
  let wsUrl: string;
  let httpUrl: string;
  let zmqEndpoint: string;
  /** Alice's two clients and Bob's one, from the authenticate step on. */
  const clients = {} as Record<'a1' | 'a2' | 'b1', TestClient>;

  const readyz = async (): Promise<[number, string]> => {
    const res = await fetch(`${httpUrl}/readyz`);
    return [res.status, await res.text()];
  };
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${httpUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? NaN : Number(line.slice(name.length + 1));
  };
  const login = async (user: StubUser): Promise<TestClient> => {
    const c = suite.add(await TestClient.open(wsUrl));
    const auth = await c.request({ action: 'authenticate', api_key: user.apiKey }, undefined, VERIFY_MS);
    expect(auth).toEqual({
      type: 'auth',
      status: 'success',
      message: 'Authentication successful',
      broker: user.broker,
      user_id: user.userId,
      supported_features: { ltp: true, quote: true, depth: true },
    });
    return c;
  };
  const subscribe = (c: TestClient, symbols: readonly string[], mode: number): Promise<Msg> =>
    c.request({ action: 'subscribe', symbols: symbols.map((symbol) => ({ symbol, exchange: 'NSE' })), mode }, ofType('subscribe'), WAIT_MS);
  /** A publisher on the bus that Tickcast's SUB has greeted (so it has been sent the SUB's subscriptions). */
  const publisher = async (): Promise<FeedPublisher> => {
    const before = await metric('tickcast_feed_publishers');
    const pub = suite.add(new FeedPublisher(zmqEndpoint));
    await until(async () => (await metric('tickcast_feed_publishers')) === before + 1, 'the publisher to be connected', WAIT_MS, 50);
    await sleep(100);
    return pub;
  };
  const okEntry = (symbol: string, mode: string): Msg => ({
    symbol,
    exchange: 'NSE',
    status: 'success',
    mode,
    depth: 5,
    broker: 'fakebroker',
  });

  beforeAll(async () => {
    const stack = await startOpenAlgoStack(suite, [ALICE, BOB, CAROL]);
    ({ oa, host, controlEndpoint, zmqEndpoint, wsUrl, httpUrl } = stack);
  });

  it('is ready once the feed host answers', async () => {
    await until(async () => (await readyz())[0] === 200, '/readyz 200', WAIT_MS, 50);
    expect(await readyz()).toEqual([200, 'ready\n']);
  });

  it("authenticates a key from OpenAlgo's database and refuses a wrong one", async () => {
    const c = suite.add(await TestClient.open(wsUrl));
    expect(await c.request({ action: 'authenticate', api_key: ALICE.apiKey.replace('a3', 'b3') }, undefined, VERIFY_MS)).toEqual({
      status: 'error',
      code: 'AUTHENTICATION_ERROR',
      message: 'Invalid API key',
    });
    [clients.a1, clients.a2, clients.b1] = await Promise.all([login(ALICE), login(ALICE), login(BOB)]);
  });

  it('subscribes each user’s adapter once however many of its clients ask, and the ticks reach every client', async () => {
    const replies = await Promise.all([
      subscribe(clients.a1, ['RELIANCE'], 2),
      subscribe(clients.a2, ['RELIANCE'], 2),
      subscribe(clients.b1, ['RELIANCE'], 2),
    ]);
    for (const r of replies) expect(r['subscriptions']).toEqual([okEntry('RELIANCE', 'Quote')]);
    for (const c of Object.values(clients)) {
      const tick = await c.next(marketData('RELIANCE'), WAIT_MS);
      expect([tick['exchange'], tick['mode'], tick['broker'], typeof tick['data']['ltp']]).toEqual(['NSE', 2, 'fakebroker', 'number']);
    }
    expect(oa.callsOf('subscribe').sort()).toEqual([
      ['alice', 'RELIANCE', 2],
      ['bob', 'RELIANCE', 2],
    ]);
    expect(await metric('tickcast_control_held_keys')).toBe(2);
  });

  it("turns the adapter's refusal of a symbol into an error entry of the subscribe reply", async () => {
    const reply = await subscribe(clients.a1, ['BADSYM', 'INFY'], 1);
    expect(reply).toEqual({
      type: 'subscribe',
      status: 'partial',
      subscriptions: [
        {
          symbol: 'BADSYM',
          exchange: 'NSE',
          status: 'error',
          code: 'INVALID_SYMBOL',
          message: 'Symbol not found: NSE:BADSYM',
          broker: 'fakebroker',
        },
        okEntry('INFY', 'LTP'),
      ],
      message: 'Subscription processing complete',
      broker: 'fakebroker',
    });
    await clients.a1.next(marketData('INFY'), WAIT_MS);
  });

  it("reports the user's adapter as connected in broker_info", async () => {
    await until(
      async () => {
        const info = await clients.b1.request({ action: 'get_broker_info' }, ofType('broker_info'), WAIT_MS);
        return info['adapter_status'] === 'connected';
      },
      "bob's adapter reported connected",
      WAIT_MS,
      100,
    );
  });

  it("lets nothing no client asked for cross the bus: the adapters' SUB carries subscribed topics only", async () => {
    // Another publisher on the bus offering what nobody holds: a PUB filters at the source.
    const other = await publisher();
    // INFY LTP is held: it arrives (the adapter's own ticks compete in the throttle window, so keep
    // offering); TCS (no holder) and RELIANCE LTP (RELIANCE is held at QUOTE) never leave the PUB.
    const seen: Msg[] = [];
    await until(
      async () => {
        await other.send('NSE_TCS_LTP', { ltp: 1 });
        await other.send('NSE_RELIANCE_LTP', { ltp: 1 });
        await other.send('NSE_INFY_LTP', { ltp: 7 });
        seen.push(...(await clients.a1.collect(30)), ...clients.b1.drain());
        return seen.some((m) => marketData('INFY')(m) && m['data']['ltp'] === 7);
      },
      'the held topic from the other publisher',
      WAIT_MS,
    );
    expect(seen.filter((m) => m['type'] === 'market_data' && (m['symbol'] === 'TCS' || m['mode'] === 1) && m['symbol'] !== 'INFY')).toEqual(
      [],
    );
    expect(await metric('tickcast_keys')).toBe(2);
    expect(await metric('tickcast_feed_unsubscribed_total')).toBe(0);
  });

  it("unsubscribes the adapter at the user's last release only, and another user's ticks go on", async () => {
    oa.clearCalls();
    await clients.a1.request(
      { action: 'unsubscribe', symbols: [{ symbol: 'RELIANCE', exchange: 'NSE' }], mode: 2 },
      ofType('unsubscribe'),
      WAIT_MS,
    );
    await sleep(300);
    expect(oa.callsOf('unsubscribe')).toEqual([]);
    await clients.a2.request(
      { action: 'unsubscribe', symbols: [{ symbol: 'RELIANCE', exchange: 'NSE' }], mode: 2 },
      ofType('unsubscribe'),
      WAIT_MS,
    );
    await until(() => oa.callsOf('unsubscribe').length === 1, "alice's last unsubscribe at the adapter", WAIT_MS);
    expect(oa.callsOf('unsubscribe')).toEqual([['alice', 'RELIANCE', 2]]);
    clients.b1.drain();
    await clients.b1.next(marketData('RELIANCE'), WAIT_MS);
    expect(await metric('tickcast_control_held_keys')).toBe(2);
  });

  it('passes OpenAlgo’s CACHE_INVALIDATE for a user to the host, which rebuilds that adapter with its subscriptions', async () => {
    oa.clearCalls();
    // OpenAlgo's web app publishes this on the bus when alice logs in again or regenerates her key.
    const web = await publisher();
    await web.send('CACHE_INVALIDATE_ALL_alice', { action: 'invalidate', user_id: 'alice', cache_type: 'ALL' });
    await until(() => oa.calls().some((c) => c.call === 'subscribe'), "alice's adapter rebuilt", WAIT_MS);
    expect(oa.calls().map((c) => [c.call, c.user_id, c.symbol])).toEqual([
      ['disconnect', 'alice', undefined],
      ['initialize', 'alice', undefined],
      ['connect', 'alice', undefined],
      ['subscribe', 'alice', 'INFY'],
    ]);
    expect(await metric('tickcast_control_invalidations_total')).toBe(1);
  });

  it('re-sends every live interest to a host that restarted, and ticks resume', async () => {
    await stopProcess(host, 'SIGKILL');
    oa.clearCalls();
    host = oa.startHost(controlEndpoint);
    await until(() => oa.callsOf('subscribe').length === 2, 'the re-sent subscribes', WAIT_MS);
    expect(oa.callsOf('subscribe').sort()).toEqual([
      ['alice', 'INFY', 1],
      ['bob', 'RELIANCE', 2],
    ]);
    clients.a1.drain();
    clients.b1.drain();
    await clients.a1.next(marketData('INFY'), WAIT_MS);
    await clients.b1.next(marketData('RELIANCE'), WAIT_MS);
    expect(await metric('tickcast_control_resends_total')).toBeGreaterThanOrEqual(1);
  });

  it('with the host down: /readyz 503, authenticate and subscribe answer clear errors at once', async () => {
    await stopProcess(host, 'SIGTERM');
    await until(async () => (await readyz())[0] === 503, '/readyz 503', WAIT_MS, 50);
    expect(await readyz()).toEqual([503, `feed host not connected (not answering at ${controlEndpoint})\n`]);
    expect(await metric('tickcast_control_host_up')).toBe(0);

    const c = suite.add(await TestClient.open(wsUrl));
    expect(await c.request({ action: 'authenticate', api_key: CAROL.apiKey }, undefined, WAIT_MS)).toEqual({
      status: 'error',
      code: 'SERVER_ERROR',
      message: 'The API key could not be checked right now: the feed host is unavailable; try again shortly',
    });
    const reply = await subscribe(clients.b1, ['TCS'], 1);
    expect(reply['subscriptions']).toEqual([
      {
        symbol: 'TCS',
        exchange: 'NSE',
        status: 'error',
        code: 'FEED_HOST_UNAVAILABLE',
        message: 'feed host is not connected',
        broker: 'fakebroker',
      },
    ]);
    expect((await clients.b1.request({ action: 'get_broker_info' }, ofType('broker_info'), WAIT_MS))['adapter_status']).toBe(
      'disconnected',
    );
    expect(clients.b1.peek().filter(isError)).toEqual([]);
  });
});
