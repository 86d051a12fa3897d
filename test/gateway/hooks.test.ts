/**
 * The gateway's hooks for a control channel (issue #13): a KeyVerifier that answers later or not at
 * all, an Upstream that grants or refuses subscriptions per item, and onOrderInterest. Real
 * WebSocket clients against a real gateway on 127.0.0.1, with in-process fakes of the hooks that
 * record every call, so the exact call sequences can be asserted.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultServeConfig } from '../../src/config';
import { createGateway } from '../../src/gateway';
import type { Gateway, Identity, KeyVerifier, Upstream, UpstreamItem, UpstreamResult } from '../../src/gateway/types';
import { Hub } from '../../src/hub';
import { silentLogger } from '../../src/logger';
import { Stats } from '../../src/stats';
import { until } from '../helpers/scope';
import { type Msg, ofType, TestClient } from '../helpers/wsClient';

const ALICE: Identity = { userId: 'alice', broker: 'zerodha' };
const BOB: Identity = { userId: 'bob', broker: 'angel' };

/** A promise with its resolve/reject in hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const item = (i: UpstreamItem): string => `${i.exchange}:${i.symbol}:${i.mode}:${i.depth}`;

/** An Upstream that records calls as text and refuses the symbols in `refuse`; `hold` keeps answers back. */
class FakeUpstream implements Upstream {
  readonly calls: string[] = [];
  readonly refuse = new Set<string>();
  hold: Promise<void> | undefined;
  fail: Error | undefined;

  async subscribe(identity: Identity, items: readonly UpstreamItem[]): Promise<readonly UpstreamResult[]> {
    this.calls.push(`subscribe ${identity.userId} ${items.map(item).join(' ')}`);
    if (this.hold) await this.hold;
    if (this.fail) throw this.fail;
    return items.map((i) =>
      this.refuse.has(i.symbol) ? { ok: false, code: 'INVALID_SYMBOL', message: `no such symbol ${i.symbol}` } : { ok: true },
    );
  }

  unsubscribe(identity: Identity, items: readonly UpstreamItem[]): void {
    this.calls.push(`unsubscribe ${identity.userId} ${items.map(item).join(' ')}`);
  }
}

/** A verifier over a fixed table; `next` (when set) answers the next call instead. */
class FakeVerifier implements KeyVerifier {
  readonly calls: string[] = [];
  next: Promise<Identity | undefined> | undefined;

  verify(apiKey: string): Promise<Identity | undefined> | Identity | undefined {
    this.calls.push(apiKey);
    const next = this.next;
    this.next = undefined;
    if (next) return next;
    return apiKey === 'alice-key' ? ALICE : apiKey === 'bob-key' ? BOB : undefined;
  }
}

describe('gateway hooks', () => {
  let server: Server;
  let gateway: Gateway;
  let url: string;
  let upstream: FakeUpstream;
  let verifier: FakeVerifier;
  let interest: string[];
  const clients: TestClient[] = [];

  beforeEach(async () => {
    upstream = new FakeUpstream();
    verifier = new FakeVerifier();
    interest = [];
    server = createServer();
    // A configured key the verifier replaces: the gateway must not consult it.
    // Control rate high enough that only the gateway's own queue bound can refuse a message here.
    const config = defaultServeConfig({
      apiKeys: [{ key: 'configured-key', userId: 'carol', broker: 'feed' }],
      port: 0,
      controlRate: 10_000,
      controlBurst: 10_000,
    });
    gateway = createGateway({
      server,
      config,
      hub: new Hub({ broker: 'feed' }),
      logger: silentLogger(),
      stats: new Stats(),
      adapterStatus: () => 'connected',
      verifier,
      upstream,
      onOrderInterest: (topics, on) => interest.push(`${on ? '+' : '-'} ${topics.join(' ')}`),
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    await gateway.close(100);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function open(): Promise<TestClient> {
    const c = await TestClient.open(url);
    clients.push(c);
    return c;
  }

  async function login(key = 'alice-key'): Promise<TestClient> {
    const c = await open();
    expect(await c.request({ action: 'authenticate', api_key: key }, ofType('auth'))).toMatchObject({ status: 'success' });
    return c;
  }

  const subscribe = (c: TestClient, body: Record<string, unknown>): Promise<Msg> =>
    c.request({ action: 'subscribe', ...body }, ofType('subscribe'));
  const unsubscribe = (c: TestClient, body: Record<string, unknown>): Promise<Msg> =>
    c.request({ action: 'unsubscribe', ...body }, ofType('unsubscribe'));

  describe('KeyVerifier', () => {
    it('answers the frames sent while a verify is pending after it, in order, as an authenticated connection', async () => {
      const c = await open();
      const answer = deferred<Identity | undefined>();
      verifier.next = answer.promise;
      c.send({ action: 'authenticate', api_key: 'slow-key', request_id: 'a' });
      c.send({ action: 'subscribe', symbol: 'RELIANCE', exchange: 'NSE', mode: 1, request_id: 's' });
      c.send({ action: 'ping', request_id: 'p' });
      await until(() => verifier.calls.length === 1, 'the verify call');
      answer.resolve(ALICE);
      const replies = [await c.next(), await c.next(), await c.next()];
      expect(replies.map((r) => [r['type'], r['status'], r['request_id']])).toStrictEqual([
        ['auth', 'success', 'a'],
        ['subscribe', 'success', 's'],
        ['pong', 'success', 'p'],
      ]);
      expect(replies[0]).toMatchObject({ user_id: 'alice', broker: 'zerodha' });
      expect(verifier.calls).toStrictEqual(['slow-key']);
      expect(upstream.calls).toStrictEqual(['subscribe alice NSE:RELIANCE:1:5']);
    });

    it('answers a verify that rejects with SERVER_ERROR saying the key could not be checked; the client may retry', async () => {
      const c = await open();
      verifier.next = Promise.reject(new Error('feed host down'));
      expect(await c.request({ action: 'authenticate', api_key: 'alice-key', request_id: 'r' })).toStrictEqual({
        status: 'error',
        code: 'SERVER_ERROR',
        message: 'The API key could not be checked right now (the key service is unavailable); try again',
        request_id: 'r',
      });
      expect(await c.request({ action: 'subscribe', symbol: 'X', exchange: 'NSE' })).toMatchObject({ code: 'NOT_AUTHENTICATED' });
      expect(await c.request({ action: 'authenticate', api_key: 'alice-key' })).toMatchObject({
        type: 'auth',
        status: 'success',
        user_id: 'alice',
      });
    });

    it('holds at most 256 frames behind a pending verify and refuses the rest with RATE_LIMITED at once', async () => {
      const c = await open();
      const answer = deferred<Identity | undefined>();
      verifier.next = answer.promise;
      c.send({ action: 'authenticate', api_key: 'slow-key' });
      for (let i = 0; i < 300; i++) c.send({ action: 'ping', request_id: i });
      const refused: Msg[] = [];
      for (let i = 0; i < 44; i++) refused.push(await c.next());
      expect(refused.map((m) => [m['code'], m['request_id']])).toStrictEqual(
        Array.from({ length: 44 }, (_, i) => ['RATE_LIMITED', 256 + i]),
      );
      answer.resolve(ALICE);
      expect(await c.next()).toMatchObject({ type: 'auth', status: 'success' });
      const pongs: unknown[] = [];
      for (let i = 0; i < 256; i++) pongs.push((await c.next(ofType('pong')))['request_id']);
      expect(pongs).toStrictEqual(Array.from({ length: 256 }, (_, i) => i));
    });

    it('answers a key the verifier does not know with Invalid API key', async () => {
      const c = await open();
      expect(await c.request({ action: 'authenticate', api_key: 'nobody' })).toStrictEqual({
        status: 'error',
        code: 'AUTHENTICATION_ERROR',
        message: 'Invalid API key',
      });
    });
  });

  describe('Upstream', () => {
    it('relays refused items as error entries of the subscribe reply, holds the granted ones, and releases only those', async () => {
      const c = await login();
      upstream.refuse.add('NOPE');
      const reply = await subscribe(c, {
        symbols: [
          { symbol: 'RELIANCE', exchange: 'NSE' },
          { symbol: 'NOPE', exchange: 'NSE' },
        ],
        mode: 1,
        request_id: 'r1',
      });
      expect(reply).toStrictEqual({
        type: 'subscribe',
        status: 'partial',
        subscriptions: [
          { symbol: 'RELIANCE', exchange: 'NSE', status: 'success', mode: 'LTP', depth: 5, broker: 'zerodha' },
          { symbol: 'NOPE', exchange: 'NSE', status: 'error', code: 'INVALID_SYMBOL', message: 'no such symbol NOPE', broker: 'zerodha' },
        ],
        message: 'Subscription processing complete',
        broker: 'zerodha',
        request_id: 'r1',
      });
      const [session] = gateway.sessions();
      expect(session?.userId).toBe('alice');
      await unsubscribe(c, {
        symbols: [
          { symbol: 'RELIANCE', exchange: 'NSE' },
          { symbol: 'NOPE', exchange: 'NSE' },
        ],
      });
      expect(upstream.calls).toStrictEqual(['subscribe alice NSE:RELIANCE:1:5 NSE:NOPE:1:5', 'unsubscribe alice NSE:RELIANCE:1:5']);
    });

    it('asks once per new key of a connection (a key it holds, or one listed twice, is not asked again)', async () => {
      const c = await login();
      await subscribe(c, {
        symbols: [
          { symbol: 'A', exchange: 'NSE' },
          { symbol: 'A', exchange: 'NSE' },
        ],
        mode: 2,
        depth: 20,
      });
      await subscribe(c, { symbol: 'A', exchange: 'NSE', mode: 2 });
      expect(upstream.calls).toStrictEqual(['subscribe alice NSE:A:2:20']);
    });

    it('releases a dropped mode at once and the rest on disconnect', async () => {
      const c = await login();
      await subscribe(c, { symbol: 'A', exchange: 'NSE', mode: 1 });
      await subscribe(c, { symbol: 'A', exchange: 'NSE', mode: 3 });
      await unsubscribe(c, { symbol: 'A', exchange: 'NSE', mode: 3 });
      expect(upstream.calls).toStrictEqual(['subscribe alice NSE:A:1:5', 'subscribe alice NSE:A:3:5', 'unsubscribe alice NSE:A:3:5']);
      c.ws.terminate();
      await until(() => upstream.calls.length === 4, 'the release on disconnect');
      expect(upstream.calls[3]).toBe('unsubscribe alice NSE:A:1:5');
    });

    it('releases everything on unsubscribe_all, in one call', async () => {
      const c = await login();
      await subscribe(c, {
        symbols: [
          { symbol: 'A', exchange: 'NSE' },
          { symbol: 'B', exchange: 'BSE' },
        ],
        mode: 1,
      });
      await c.request({ action: 'unsubscribe_all' }, ofType('unsubscribe'));
      expect(upstream.calls).toStrictEqual(['subscribe alice NSE:A:1:5 BSE:B:1:5', 'unsubscribe alice NSE:A:1:5 BSE:B:1:5']);
    });

    it('two connections of one user: one subscribe each, and each releases exactly what it acquired', async () => {
      const one = await login();
      const two = await login();
      await subscribe(one, { symbol: 'A', exchange: 'NSE', mode: 1 });
      await subscribe(two, { symbol: 'A', exchange: 'NSE', mode: 1 });
      one.ws.terminate();
      await until(() => upstream.calls.length === 3, 'the first release');
      await unsubscribe(two, { symbol: 'A', exchange: 'NSE' });
      two.ws.terminate();
      await until(() => gateway.clientCount() === 0, 'both gone');
      expect(upstream.calls).toStrictEqual([
        'subscribe alice NSE:A:1:5',
        'subscribe alice NSE:A:1:5',
        'unsubscribe alice NSE:A:1:5',
        'unsubscribe alice NSE:A:1:5',
      ]);
    });

    it('answers every item with a BROKER_ERROR entry when the upstream cannot be asked, and holds nothing', async () => {
      const c = await login();
      upstream.fail = new Error('feed host down');
      const reply = await subscribe(c, { symbol: 'A', exchange: 'NSE', mode: 1 });
      expect(reply['status']).toBe('error');
      expect(reply['subscriptions']).toStrictEqual([
        {
          symbol: 'A',
          exchange: 'NSE',
          status: 'error',
          code: 'BROKER_ERROR',
          message: 'The feed host could not be asked: feed host down',
          broker: 'zerodha',
        },
      ]);
      c.ws.terminate();
      await until(() => gateway.clientCount() === 0, 'the disconnect');
      expect(upstream.calls).toStrictEqual(['subscribe alice NSE:A:1:5']);
    });

    it('gives back what was granted to a connection that left before the answer came', async () => {
      const c = await login();
      const gate = deferred<void>();
      upstream.hold = gate.promise;
      c.send({ action: 'subscribe', symbol: 'A', exchange: 'NSE', mode: 1 });
      await until(() => upstream.calls.length === 1, 'the subscribe call');
      c.ws.terminate();
      await until(() => gateway.clientCount() === 0, 'the disconnect');
      gate.resolve();
      await until(() => upstream.calls.length === 2, 'the give-back');
      expect(upstream.calls).toStrictEqual(['subscribe alice NSE:A:1:5', 'unsubscribe alice NSE:A:1:5']);
    });

    it('keeps frames in order behind a pending upstream answer', async () => {
      const c = await login();
      const gate = deferred<void>();
      upstream.hold = gate.promise;
      c.send({ action: 'subscribe', symbol: 'A', exchange: 'NSE', mode: 1, request_id: 's' });
      c.send({ action: 'unsubscribe', symbol: 'A', exchange: 'NSE', request_id: 'u' });
      await until(() => upstream.calls.length === 1, 'the subscribe call');
      gate.resolve();
      const replies = [await c.next(), await c.next()];
      expect(replies.map((r) => [r['type'], r['status'], r['request_id']])).toStrictEqual([
        ['subscribe', 'success', 's'],
        ['unsubscribe', 'success', 'u'],
      ]);
      expect(upstream.calls).toStrictEqual(['subscribe alice NSE:A:1:5', 'unsubscribe alice NSE:A:1:5']);
    });
  });

  describe('onOrderInterest', () => {
    it("announces a user's order topics on the first subscriber and withdraws them after the last", async () => {
      const one = await login();
      const two = await login();
      const bob = await login('bob-key');
      await one.request({ action: 'subscribe_orders' }, ofType('subscribe_orders'));
      await two.request({ action: 'subscribe_orders' }, ofType('subscribe_orders'));
      await bob.request({ action: 'subscribe_orders' }, ofType('subscribe_orders'));
      await one.request({ action: 'unsubscribe_orders' }, ofType('unsubscribe_orders'));
      expect(interest).toStrictEqual(['+ ZERODHA_alice_orders ANALYZE_alice_orders', '+ ANGEL_bob_orders ANALYZE_bob_orders']);
      two.ws.terminate();
      await until(() => interest.length === 3, 'the withdrawal');
      expect(interest[2]).toBe('- ZERODHA_alice_orders ANALYZE_alice_orders');
    });
  });
});
