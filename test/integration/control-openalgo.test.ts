/**
 * contrib/openalgo/tickcast_host.py, run as OpenAlgo users will (python3, from an installation root
 * holding its .env), against a stand-in of the OpenAlgo modules it imports (test/control/openalgo_stub:
 * SQLite `api_keys` with Argon2 hashes of key + pepper, a fake adapter publishing on a real pyzmq
 * PUB), talking to ControlClient over real sockets; ticks arrive on a real SUB as Tickcast's would.
 */
import type { ChildProcess } from 'node:child_process';
import { Subscriber } from 'zeromq';
import { ControlClient, type ControlError, FEED_HOST_UNAVAILABLE, type Identity, type UpstreamItem } from '../../src/control';
import { freePort } from '../helpers/feed';
import { describeWithPyHost, OpenAlgoRoot, stopProcess } from '../helpers/openalgoHost';
import { scopes, sleep, until } from '../helpers/scope';

jest.setTimeout(60_000);

const { suite, each } = scopes();
const WAIT_MS = 15_000;
const GOOD_KEY = 'a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const FAIL_KEY = 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed';

describeWithPyHost('control-openalgo.test')('the OpenAlgo feed host', () => {
  let oa: OpenAlgoRoot;
  const ticks: string[] = [];

  beforeAll(async () => {
    const zmqPort = await freePort();
    oa = new OpenAlgoRoot(suite, zmqPort, [
      { userId: 'alice', apiKey: GOOD_KEY, broker: 'fakebroker' },
      { userId: 'carol', apiKey: FAIL_KEY, broker: 'failbroker' },
    ]);
    // Tickcast's SUB: binds, the adapters' PUBs connect.
    const sub = suite.add(new Subscriber({ linger: 0 }));
    await sub.bind(`tcp://127.0.0.1:${zmqPort}`);
    sub.subscribe();
    void (async () => {
      try {
        for await (const [topic] of sub) ticks.push((topic as Buffer).toString());
      } catch {
        // closed
      }
    })();
  });

  beforeEach(() => {
    ticks.length = 0;
    oa.clearCalls();
  });

  const calls = () => oa.calls();
  const subCalls = (call: string) => oa.callsOf(call);
  const startHost = (endpoint: string): ChildProcess => oa.startHost(endpoint, each);
  const stop = stopProcess;

  async function setup(): Promise<{ client: ControlClient; endpoint: string; host: ChildProcess }> {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const host = startHost(endpoint);
    const client = each.add(new ControlClient({ endpoint, timeoutMs: 5000, healthIntervalMs: 100 }));
    await until(() => client.status === 'up', 'the host to answer', WAIT_MS);
    return { client, endpoint, host };
  }

  const alice: Identity = { userId: 'alice', broker: 'fakebroker' };
  const reliance: UpstreamItem = { exchange: 'NSE', symbol: 'RELIANCE', mode: 2, depth: 5 };
  const infy: UpstreamItem = { exchange: 'NSE', symbol: 'INFY', mode: 1, depth: 5 };
  const badsym: UpstreamItem = { exchange: 'NSE', symbol: 'BADSYM', mode: 1, depth: 5 };

  it("verifies a key from OpenAlgo's api_keys table and names its broker; a wrong key is refused", async () => {
    const { client } = await setup();
    expect(await client.verify(GOOD_KEY)).toEqual(alice);
    expect(await client.verify(GOOD_KEY.replace('a3', 'b3'))).toBeUndefined();
  });

  it('subscribes the adapter once however many callers, and ticks arrive for what was subscribed only', async () => {
    const { client } = await setup();
    const answers = await Promise.all([
      client.subscribe(alice, [reliance]),
      client.subscribe(alice, [reliance]),
      client.subscribe(alice, [reliance]),
    ]);
    expect(answers).toEqual([[{ ok: true }], [{ ok: true }], [{ ok: true }]]);
    await until(() => ticks.length >= 3, 'ticks from the adapter', WAIT_MS);
    expect(subCalls('subscribe')).toEqual([['alice', 'RELIANCE', 2]]);
    expect(calls().map((c) => c.call)).toEqual(['initialize', 'connect', 'subscribe']);
    expect(new Set(ticks)).toEqual(new Set(['NSE_RELIANCE_QUOTE']));
  });

  it("turns an adapter's refusal into an error result and holds nothing for it", async () => {
    const { client } = await setup();
    expect(await client.subscribe(alice, [badsym, infy])).toEqual([
      { ok: false, code: 'INVALID_SYMBOL', message: 'Symbol not found: NSE:BADSYM' },
      { ok: true },
    ]);
    expect(client.heldKeys).toBe(1);
  });

  it('fails every item with BROKER_INIT_ERROR when the adapter cannot initialise, after one retry on fresh credentials', async () => {
    const { client } = await setup();
    const carol = await client.verify(FAIL_KEY);
    expect(carol).toEqual({ userId: 'carol', broker: 'failbroker' });
    expect(await client.subscribe(carol as Identity, [infy])).toEqual([
      { ok: false, code: 'BROKER_INIT_ERROR', message: '401 Unauthorized: token expired' },
    ]);
    expect(calls().map((c) => c.call)).toEqual(['initialize', 'clear_auth_cache_for_user', 'initialize']);
    await until(() => client.adapterStatus(carol as Identity) === 'error', "the host's health to report the failure", WAIT_MS);
  });

  it('unsubscribes the adapter on the last release only, then disconnects it and its ticks stop', async () => {
    const { client } = await setup();
    await client.subscribe(alice, [reliance]);
    await client.subscribe(alice, [reliance]);
    client.unsubscribe(alice, [reliance]);
    await sleep(200);
    expect(subCalls('unsubscribe')).toEqual([]);
    client.unsubscribe(alice, [reliance]);
    await until(() => calls().some((c) => c.call === 'disconnect'), 'the adapter to be disconnected', WAIT_MS);
    expect(calls().map((c) => c.call)).toEqual(['initialize', 'connect', 'subscribe', 'unsubscribe', 'disconnect']);
    await sleep(200);
    ticks.length = 0;
    await sleep(300);
    expect(ticks).toEqual([]);
  });

  it('re-sends live interest to a host that restarted, and its new adapter publishes again', async () => {
    const { client, endpoint, host } = await setup();
    await client.subscribe(alice, [reliance, infy]);
    await stop(host, 'SIGKILL');
    startHost(endpoint);
    await until(
      () => new Set(calls().map((c) => c.pid)).size === 2 && subCalls('subscribe').length === 4,
      'the re-sent subscribes',
      WAIT_MS,
    );
    const second = calls().filter((c) => c.pid !== calls()[0]?.pid);
    expect(second.map((c) => [c.call, c.symbol])).toEqual([
      ['initialize', undefined],
      ['connect', undefined],
      ['subscribe', 'RELIANCE'],
      ['subscribe', 'INFY'],
    ]);
    ticks.length = 0;
    await until(() => ticks.includes('NSE_RELIANCE_QUOTE') && ticks.includes('NSE_INFY_LTP'), 'ticks from the new adapter', WAIT_MS);
  });

  it("rebuilds a user's adapter on OpenAlgo's cache invalidation and gives it back its subscriptions", async () => {
    const { client } = await setup();
    await client.subscribe(alice, [reliance]);
    client.invalidate('alice', 'ALL');
    await until(() => subCalls('subscribe').length === 2, 'the rebuilt adapter to be subscribed', WAIT_MS);
    expect(calls().map((c) => c.call)).toEqual(['initialize', 'connect', 'subscribe', 'disconnect', 'initialize', 'connect', 'subscribe']);
    expect(await client.verify(GOOD_KEY)).toEqual(alice);
  });

  it('gives clear errors while the host is down and never hangs', async () => {
    const { client, host } = await setup();
    await stop(host, 'SIGTERM');
    await until(() => client.status === 'down', 'the host to be seen down', WAIT_MS);
    const err = (await client.verify(GOOD_KEY).catch((e: unknown) => e)) as ControlError;
    expect(err.code).toBe(FEED_HOST_UNAVAILABLE);
    expect(await client.subscribe(alice, [infy])).toEqual([
      { ok: false, code: FEED_HOST_UNAVAILABLE, message: 'feed host is not connected' },
    ]);
  });
});
