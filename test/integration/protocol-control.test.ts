/**
 * protocol.md "Dispatch", "Error envelope", "authenticate", "ping, broker info", and the control
 * rate limit: the requests that are not subscriptions.
 */
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/logger';
import { ALICE, BOB, BROKER, type Env, startEnv } from '../helpers/proxy';
import { scopes, until } from '../helpers/scope';
import { ltpTick } from '../helpers/ticks';
import { isError, type Msg, ofType, type TestClient } from '../helpers/wsClient';

const { suite, each } = scopes();

const AUTH_SUCCESS_ALICE = {
  type: 'auth',
  status: 'success',
  message: 'Authentication successful',
  broker: BROKER,
  user_id: 'alice',
  supported_features: { ltp: true, quote: true, depth: true },
};

/** The connection is still usable: a ping gets its pong. */
async function expectAlive(client: TestClient): Promise<void> {
  expect(await client.request({ action: 'ping', _pingId: 'alive' }, ofType('pong'))).toMatchObject({ _pingId: 'alive' });
  expect(client.isOpen).toBe(true);
}

describe('control messages', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(suite, { throttleMs: 0 });
  });

  describe('dispatch', () => {
    it('takes the action from "type" when "action" is missing', async () => {
      const client = await env.connect(each);
      expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong', status: 'success' });
    });

    it('falls back to "type" when "action" is null', async () => {
      const client = await env.connect(each);
      expect(await client.request({ action: null, type: 'ping' })).toMatchObject({ type: 'pong', status: 'success' });
    });

    it('prefers "action" over "type"', async () => {
      const client = await env.connect(each);
      expect(await client.request({ action: 'ping', type: 'subscribe' })).toMatchObject({ type: 'pong', status: 'success' });
    });

    it('answers an unknown action with INVALID_ACTION naming it, and keeps the connection', async () => {
      const client = await env.connect(each);
      expect(await client.request({ action: 'bogus' })).toStrictEqual({
        status: 'error',
        code: 'INVALID_ACTION',
        message: 'Invalid action: bogus',
      });
      await expectAlive(client);
    });

    it('answers an unknown action with INVALID_ACTION after authentication too', async () => {
      const client = await env.login(each);
      expect(await client.request({ action: 'get_quotes' })).toStrictEqual({
        status: 'error',
        code: 'INVALID_ACTION',
        message: 'Invalid action: get_quotes',
      });
    });

    it.each([
      ['no action at all', { symbol: 'X' }],
      ['a null action', { action: null }],
    ])('answers %s with INVALID_ACTION', async (_what, msg) => {
      const client = await env.connect(each);
      const reply = await client.request(msg);
      expect(reply).toStrictEqual({ status: 'error', code: 'INVALID_ACTION', message: expect.stringMatching(/^Invalid action: /) });
      await expectAlive(client);
    });
  });

  describe('error envelope', () => {
    it('has exactly status, code and message, and no type', async () => {
      const client = await env.connect(each);
      const reply = await client.request({ action: 'subscribe', symbol: 'RELIANCE', exchange: 'NSE' });
      expect(reply).toStrictEqual({ status: 'error', code: 'NOT_AUTHENTICATED', message: 'You must authenticate first' });
    });

    it.each([['r1'], [7], [{ trace: 'a' }]])('echoes request_id %j', async (requestId) => {
      const client = await env.connect(each);
      const reply = await client.request({ action: 'nope', request_id: requestId });
      expect(reply).toStrictEqual({ status: 'error', code: 'INVALID_ACTION', message: 'Invalid action: nope', request_id: requestId });
    });

    it('answers text that is not JSON with INVALID_JSON and keeps the connection', async () => {
      const client = await env.connect(each);
      client.sendRaw('{"action": "ping"');
      expect(await client.next()).toStrictEqual({ status: 'error', code: 'INVALID_JSON', message: 'Invalid JSON message' });
      client.sendRaw('hello');
      expect(await client.next()).toStrictEqual({ status: 'error', code: 'INVALID_JSON', message: 'Invalid JSON message' });
      await expectAlive(client);
    });

    it.each([['[]'], ['[{"action":"ping"}]'], ['3'], ['"x"'], ['null'], ['true']])(
      'answers JSON that is not an object (%s) with INVALID_PARAMETERS and keeps the connection',
      async (text) => {
        const client = await env.connect(each);
        client.sendRaw(text);
        expect(await client.next()).toStrictEqual({
          status: 'error',
          code: 'INVALID_PARAMETERS',
          message: 'A message must be a JSON object such as {"action":"ping"}',
        });
        await expectAlive(client);
      },
    );
  });

  describe('authenticate', () => {
    it('accepts "api_key" and answers with the exact success object', async () => {
      const client = await env.connect(each);
      expect(await client.request({ action: 'authenticate', api_key: ALICE.key })).toStrictEqual(AUTH_SUCCESS_ALICE);
    });

    it('accepts the "auth" action and the "apikey" spelling', async () => {
      const client = await env.connect(each);
      expect(await client.request({ action: 'auth', apikey: BOB.key })).toStrictEqual({ ...AUTH_SUCCESS_ALICE, user_id: 'bob' });
    });

    it('echoes request_id on success', async () => {
      const client = await env.connect(each);
      expect(await client.request({ action: 'authenticate', api_key: ALICE.key, request_id: 'a1' })).toStrictEqual({
        ...AUTH_SUCCESS_ALICE,
        request_id: 'a1',
      });
    });

    it.each([
      ['no key', { action: 'authenticate' }],
      ['an empty key', { action: 'authenticate', api_key: '' }],
    ])('answers %s with "API key is required" and keeps the socket open', async (_what, msg) => {
      const client = await env.connect(each);
      expect(await client.request(msg)).toStrictEqual({ status: 'error', code: 'AUTHENTICATION_ERROR', message: 'API key is required' });
      await expectAlive(client);
    });

    it('answers a wrong key with "Invalid API key", stays unauthenticated, and accepts a right key next', async () => {
      const client = await env.connect(each);
      expect(await client.request({ action: 'authenticate', api_key: `${ALICE.key}x` })).toStrictEqual({
        status: 'error',
        code: 'AUTHENTICATION_ERROR',
        message: 'Invalid API key',
      });
      expect(await client.request({ action: 'get_broker_info' })).toStrictEqual({
        status: 'error',
        code: 'NOT_AUTHENTICATED',
        message: 'You must authenticate first',
      });
      expect(await client.request({ action: 'authenticate', api_key: ALICE.key })).toStrictEqual(AUTH_SUCCESS_ALICE);
    });

    it('answers a key that is a prefix of a real key with "Invalid API key"', async () => {
      const client = await env.connect(each);
      expect(await client.request({ action: 'authenticate', api_key: ALICE.key.slice(0, -1) })).toMatchObject({
        code: 'AUTHENTICATION_ERROR',
        message: 'Invalid API key',
      });
    });
  });

  describe('actions that need authentication', () => {
    it.each([
      [{ action: 'subscribe', symbols: [{ symbol: 'RELIANCE', exchange: 'NSE' }] }],
      [{ action: 'unsubscribe', symbols: [{ symbol: 'RELIANCE', exchange: 'NSE' }] }],
      [{ action: 'unsubscribe_all' }],
      [{ action: 'get_broker_info' }],
      [{ action: 'subscribe_orders' }],
      [{ action: 'unsubscribe_orders' }],
    ])('answers %j before authentication with NOT_AUTHENTICATED', async (msg) => {
      const client = await env.connect(each);
      expect(await client.request({ ...msg, request_id: 'q' })).toStrictEqual({
        status: 'error',
        code: 'NOT_AUTHENTICATED',
        message: 'You must authenticate first',
        request_id: 'q',
      });
      await expectAlive(client);
    });

    it('answers get_supported_brokers without authentication', async () => {
      const client = await env.connect(each);
      expect(await client.request({ action: 'get_supported_brokers' })).toStrictEqual({
        type: 'supported_brokers',
        status: 'success',
        brokers: [BROKER],
        count: 1,
      });
    });
  });

  describe('ping', () => {
    it('echoes client_timestamp and _pingId and stamps server_timestamp in epoch ms', async () => {
      const client = await env.connect(each);
      const before = Date.now();
      const pong = await client.request({ action: 'ping', timestamp: 1737345600000, _pingId: 'abc' });
      const after = Date.now();
      expect(pong).toStrictEqual({
        type: 'pong',
        status: 'success',
        server_timestamp: expect.any(Number),
        client_timestamp: 1737345600000,
        _pingId: 'abc',
      });
      expect(Number.isInteger(pong['server_timestamp'])).toBe(true);
      expect(pong['server_timestamp']).toBeGreaterThanOrEqual(before);
      expect(pong['server_timestamp']).toBeLessThanOrEqual(after);
    });

    it('leaves client_timestamp and _pingId out when they were not sent', async () => {
      const client = await env.connect(each);
      expect(await client.request({ action: 'ping' })).toStrictEqual({
        type: 'pong',
        status: 'success',
        server_timestamp: expect.any(Number),
      });
    });
  });
});

describe('API keys in logs', () => {
  it('never writes a key to the log, right or wrong, even at trace level', async () => {
    const sink = new PassThrough();
    const lines: string[] = [];
    sink.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    const env = await startEnv(each, { logLevel: 'trace' }, { logger: createLogger({ level: 'trace', destination: sink, pretty: false }) });
    const wrong = 'wrong-key-5c0ffee';
    const client = await env.connect(each);
    await client.request({ action: 'authenticate', api_key: wrong });
    await client.request({ action: 'auth', apikey: `${BOB.key}-nope` });
    await client.request({ action: 'authenticate', api_key: ALICE.key });
    await client.request({ action: 'subscribe', symbol: 'X', exchange: 'NSE', api_key: ALICE.key });
    client.sendRaw(`{"action":"authenticate","api_key":"${ALICE.key}"`);
    await client.next();
    await client.close();
    await env.proxy.close();
    const log = lines.join('');
    // The attempts were logged (so the absence of keys below is not the absence of a log).
    const events = log
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { event?: string }).event);
    expect(events.filter((e) => e === 'auth_failed' || e === 'auth')).toStrictEqual(['auth_failed', 'auth_failed', 'auth']);
    for (const secret of [ALICE.key, BOB.key, wrong]) expect(log).not.toContain(secret);
  });
});

describe('get_broker_info', () => {
  const info = (status: string): Msg => ({
    type: 'broker_info',
    status: 'success',
    broker: BROKER,
    adapter_status: status,
    user_id: 'alice',
  });
  const ask = (client: TestClient): Promise<Msg> => client.request({ action: 'get_broker_info' }, ofType('broker_info'));

  it('reports "disconnected" before any feed message has arrived', async () => {
    const env = await startEnv(each, {}, { feed: false });
    const client = await env.login(each);
    expect(await ask(client)).toStrictEqual(info('disconnected'));
  });

  it('reports "connected" while ticks arrive, "stale" after the configured silence, "connected" again when they resume', async () => {
    const env = await startEnv(each, { staleAfterS: 0.3 });
    const client = await env.login(each);
    expect(await ask(client)).toStrictEqual(info('connected'));

    let last: Msg | undefined;
    await until(async () => (last = await ask(client))['adapter_status'] === 'stale', 'adapter_status stale', 5000, 50);
    expect(last).toStrictEqual(info('stale'));

    await env.publish('NSE_RELIANCE_LTP', ltpTick(1));
    await until(async () => (last = await ask(client))['adapter_status'] === 'connected', 'adapter_status connected', 5000, 20);
    expect(last).toStrictEqual(info('connected'));
  });

  it('names the authenticated user', async () => {
    const env = await startEnv(each, {}, { feed: false });
    const client = await env.login(each, BOB);
    expect(await client.request({ action: 'get_broker_info', request_id: 'b' })).toStrictEqual({
      ...info('disconnected'),
      user_id: 'bob',
      request_id: 'b',
    });
  });
});

describe('control-message flood', () => {
  /** A bucket of 5 that refills one token per 100 s: exactly 5 of a burst pass. */
  /** What a message past the burst is answered with, at `flooded()`'s rate. */
  const RATE_LIMITED_MESSAGE = 'Too many messages: at most 0.01 per second';

  async function flooded(): Promise<{ client: TestClient; replies: Msg[] }> {
    const env = await startEnv(each, { controlRate: 0.01, controlBurst: 5, floodCloseS: 0.3 }, { feed: false });
    const client = await env.connect(each);
    for (let i = 0; i < 20; i++) client.send({ action: 'ping', _pingId: i, request_id: `q${i}` });
    const replies: Msg[] = [];
    for (let i = 0; i < 20; i++) replies.push(await client.next());
    return { client, replies };
  }

  it('answers messages past the burst with RATE_LIMITED and closes a sustained flood with 1008 "rate limited"', async () => {
    const { client, replies } = await flooded();
    expect(replies.filter(ofType('pong')).map((m) => m['_pingId'])).toStrictEqual([0, 1, 2, 3, 4]);
    const limited = replies.filter(isError);
    expect(limited).toHaveLength(15);
    for (const m of limited) expect(m).toMatchObject({ status: 'error', code: 'RATE_LIMITED', message: RATE_LIMITED_MESSAGE });
    for (const m of limited) expect(m['type']).toBeUndefined();

    // Keep flooding until the proxy gives up on us.
    const flood = setInterval(() => {
      if (client.isOpen) client.send({ action: 'ping' });
    }, 20);
    try {
      expect(await client.closed).toStrictEqual({ code: 1008, reason: 'rate limited' });
    } finally {
      clearInterval(flood);
    }
  });

  it('echoes request_id on RATE_LIMITED envelopes like on every other error', async () => {
    const { replies } = await flooded();
    expect(replies.filter(isError)).toStrictEqual(
      Array.from({ length: 15 }, (_, k) => ({
        status: 'error',
        code: 'RATE_LIMITED',
        message: RATE_LIMITED_MESSAGE,
        request_id: `q${k + 5}`,
      })),
    );
  });
});
