/**
 * Issue 7, limits at their boundaries: the inbound frame limit, the per-connection subscription
 * cap, the per-request entry cap, the connection cap and the control-rate limit each let exactly
 * their limit through and refuse the next one, the documented way. A control-message flood ends in
 * 1008 while another client's ticks keep arriving, every one of them.
 */
import { ALICE, startEnv } from '../helpers/proxy';
import { Scope, sleep, uniq, until } from '../helpers/scope';
import { ltpTick } from '../helpers/ticks';
import { type Msg, TestClient } from '../helpers/wsClient';

const each = new Scope();
afterEach(() => each.close());

/** `{"action":"ping","_pingId":"xxx…"}` padded to exactly `bytes` bytes. */
function pingOfSize(bytes: number): string {
  const head = '{"action":"ping","_pingId":"';
  const tail = '"}';
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

describe('inbound frame limit', () => {
  it.each([
    ['a configured 4,096', 4096],
    ['the default 1 MiB', 1_048_576],
  ])('answers a frame of exactly %s bytes and closes the connection with 1009 on one byte more', async (_name, limit) => {
    const env = await startEnv(each, limit === 1_048_576 ? {} : { maxFrameBytes: limit }, { feed: false });
    expect(env.proxy.config.maxFrameBytes).toBe(limit);
    const client = await env.connect(each);
    const exact = pingOfSize(limit);
    expect(Buffer.byteLength(exact)).toBe(limit);
    client.sendRaw(exact);
    const pong = await client.next();
    expect(pong).toMatchObject({ type: 'pong', status: 'success', _pingId: JSON.parse(exact)._pingId });

    client.sendRaw(pingOfSize(limit + 1));
    expect(await client.closed).toStrictEqual({ code: 1009, reason: '' });
    await until(() => env.proxy.gateway.clientCount() === 0, 'the oversized connection to be gone');
    expect(env.proxy.stats.disconnects.oversize).toBe(1);
  });

  it('closes a text frame that is not valid UTF-8 with 1007 (RFC 6455), and the proxy serves the next connection', async () => {
    const env = await startEnv(each, {}, { feed: false });
    const client = await env.connect(each);
    // The ws client sends a Buffer as given; mark it text so the server must validate it.
    client.ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    expect((await client.closed).code).toBe(1007);
    const next = await env.connect(each);
    expect(await next.request({ action: 'ping' })).toMatchObject({ type: 'pong', status: 'success' });
  });
});

describe('subscription cap', () => {
  it('accepts exactly max-subscriptions (symbol, mode) pairs and answers the next with MAX_SUBSCRIPTIONS', async () => {
    const env = await startEnv(each, { maxSubscriptions: 5 }, { feed: false });
    const client = await env.login(each);
    const syms = [1, 2, 3, 4, 5].map(() => uniq('CAP'));
    const first = await client.request({ action: 'subscribe', symbols: syms.map((symbol) => ({ symbol, exchange: 'NSE' })), mode: 1 });
    expect(first['status']).toBe('success');
    expect((first['subscriptions'] as Msg[]).map((e) => e['status'])).toStrictEqual([
      'success',
      'success',
      'success',
      'success',
      'success',
    ]);
    const session = env.proxy.gateway.sessions()[0];
    expect(env.proxy.hub.countHeld(session!.hubClient)).toBe(5);

    // A sixth pair, even a new mode of a held symbol, is past the cap.
    for (const extra of [
      { symbol: uniq('CAP'), exchange: 'NSE', mode: 1 },
      { symbol: syms[0], exchange: 'NSE', mode: 2 },
    ]) {
      const reply = await client.request({ action: 'subscribe', ...extra });
      expect(reply).toMatchObject({
        type: 'subscribe',
        status: 'error',
        subscriptions: [{ symbol: extra.symbol, exchange: 'NSE', status: 'error', code: 'MAX_SUBSCRIPTIONS' }],
      });
      expect((reply['subscriptions'] as Msg[])[0]!['message']).toContain('at most 5');
    }
    expect(env.proxy.hub.countHeld(session!.hubClient)).toBe(5);
  });

  it('answers a request of exactly 10,000 entries entry by entry, and one of 10,001 with a single MAX_SUBSCRIPTIONS envelope', async () => {
    const env = await startEnv(each, { maxSubscriptions: 3 }, { feed: false });
    const client = await env.login(each);
    const items = (n: number): unknown[] => Array.from({ length: n }, (_, i) => ({ symbol: `E${i}`, exchange: 'NSE' }));
    const exact = await client.request({ action: 'subscribe', symbols: items(10_000), mode: 1, request_id: 'a' });
    const entries = exact['subscriptions'] as Msg[];
    expect(entries).toHaveLength(10_000);
    expect(entries.filter((e) => e['status'] === 'success')).toHaveLength(3);
    expect(entries.filter((e) => e['code'] === 'MAX_SUBSCRIPTIONS')).toHaveLength(9_997);
    expect(exact['status']).toBe('partial');

    expect(await client.request({ action: 'subscribe', symbols: items(10_001), mode: 1, request_id: 'b' })).toStrictEqual({
      status: 'error',
      code: 'MAX_SUBSCRIPTIONS',
      message: 'A request may carry at most 10000 entries; split it',
      request_id: 'b',
    });
    expect(await client.request({ action: 'unsubscribe', symbols: items(10_001), request_id: 'c' })).toStrictEqual({
      status: 'error',
      code: 'INVALID_PARAMETERS',
      message: 'A request may carry at most 10000 entries; split it',
      request_id: 'c',
    });
    expect(client.isOpen).toBe(true);
  });
});

describe('connection cap', () => {
  it('accepts exactly max-clients connections, closes the next with 1013, and accepts again once one leaves', async () => {
    const env = await startEnv(each, { maxClients: 3 }, { feed: false });
    const clients: TestClient[] = [];
    for (let i = 0; i < 3; i++) clients.push(await env.login(each));
    const refused = await env.connect(each);
    expect(await refused.closed).toStrictEqual({ code: 1013, reason: 'server at connection limit' });
    expect(env.proxy.stats.disconnects.refused).toBe(1);
    expect(env.proxy.gateway.clientCount()).toBe(3);
    for (const c of clients) expect(await c.request({ action: 'ping' })).toMatchObject({ type: 'pong' });

    await clients[0]!.close();
    await until(() => env.proxy.gateway.clientCount() === 2, 'the server to see the close');
    const again = await env.login(each);
    expect(await again.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
    expect(env.proxy.stats.disconnects.refused).toBe(1);
  });
});

describe('control-rate limit', () => {
  it('answers exactly control-burst messages sent at once and the next with RATE_LIMITED', async () => {
    // A refill of one token per 100 s: nothing refills while the burst is in flight.
    const env = await startEnv(each, { controlBurst: 10, controlRate: 0.01, floodCloseS: 60 }, { feed: false });
    const client = await env.connect(each);
    for (let i = 0; i < 11; i++) client.send({ action: 'ping', _pingId: i });
    const answers: Msg[] = [];
    for (let i = 0; i < 11; i++) answers.push(await client.next());
    expect(answers.slice(0, 10).map((a) => [a['type'], a['_pingId']])).toStrictEqual(Array.from({ length: 10 }, (_, i) => ['pong', i]));
    expect(answers[10]).toStrictEqual({ status: 'error', code: 'RATE_LIMITED', message: 'Too many messages: at most 0.01 per second' });
    expect(env.proxy.stats.rateLimited).toBe(1);
    expect(client.isOpen).toBe(true);
  });

  it('closes a client that keeps flooding with 1008 "rate limited", while another client gets every tick in order', async () => {
    const env = await startEnv(each, { controlBurst: 5, controlRate: 0.01, floodCloseS: 0.5, throttleMs: 0 });
    const flooder = await env.login(each);
    const watcher = await env.login(each, ALICE);
    const sym = uniq('CALM');
    await watcher.request({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 1 });

    let sent = 0;
    let tick = 0;
    // Bounded: 300 rounds of 10 ms is three seconds, six times the flood limit.
    while (flooder.closeInfo === undefined && sent < 300) {
      flooder.send({ action: 'ping', _pingId: sent++ });
      await env.publish(`NSE_${sym}_LTP`, ltpTick(++tick));
      await sleep(10);
    }
    expect(await flooder.closed).toStrictEqual({ code: 1008, reason: 'rate limited' });
    const answers = flooder.drain();
    // The login took one token; four pings were answered, then only RATE_LIMITED.
    expect(answers.slice(0, 4).map((a) => a['type'])).toStrictEqual(['pong', 'pong', 'pong', 'pong']);
    expect(answers.slice(4).every((a) => a['code'] === 'RATE_LIMITED')).toBe(true);
    expect(answers.length).toBeGreaterThan(4);
    expect(env.proxy.stats.disconnects.flood).toBe(1);

    const frames: Msg[] = [];
    while (frames.length < tick) frames.push(await watcher.next((m) => m['type'] === 'market_data'));
    expect(frames.map((f) => f['seq'])).toStrictEqual(Array.from({ length: tick }, (_, i) => i + 1));
    expect(frames.map((f) => f['data']['ltp'])).toStrictEqual(Array.from({ length: tick }, (_, i) => i + 1));
    expect(watcher.isOpen).toBe(true);
  });
});
