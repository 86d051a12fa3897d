/** protocol.md "Transport" and "Limits": paths, silence on connect, frame cap, timers, client cap. */
import { defaultServeConfig } from '../../src/config';
import { ALICE, type Env, marketDataFrame, startEnv } from '../helpers/proxy';
import { scopes, sleep } from '../helpers/scope';
import { ofType } from '../helpers/wsClient';

const { suite, each } = scopes();

describe('transport', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(suite, { maxFrameBytes: 1024, throttleMs: 0 });
  });

  it.each(['/', '/ws', '/some/deep/path?client=dashboard', '/healthz', '/metrics'])(
    'accepts a connection on any URL path (%s)',
    async (path) => {
      const client = await env.connect(each, path);
      const reply = await client.request({ action: 'authenticate', api_key: ALICE.key });
      expect(reply).toMatchObject({ type: 'auth', status: 'success' });
    },
  );

  it('sends nothing when a client connects', async () => {
    const client = await env.connect(each);
    expect(await client.collect(300)).toStrictEqual([]);
    expect(client.isOpen).toBe(true);
  });

  it('answers in text frames', async () => {
    const client = await env.login(each);
    await client.request({ action: 'ping' });
    await client.request({ action: 'bogus' });
    await env.fenced(client);
    await env.settle(client);
    expect(client.binaryFrames).toBe(0);
  });

  it('does not negotiate permessage-deflate by default', async () => {
    const client = await env.connect(each, '/', { perMessageDeflate: true });
    expect(client.ws.extensions).toBe('');
  });

  it('negotiates permessage-deflate when the flag enables it', async () => {
    const deflating = await startEnv(each, { perMessageDeflate: true }, { feed: false });
    const client = await deflating.connect(each, '/', { perMessageDeflate: true });
    expect(client.ws.extensions).toMatch(/^permessage-deflate/);
    expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
  });

  it('delivers the same market data to a deflating client (framed by ws) and a plain one (pre-built frames)', async () => {
    const deflating = await startEnv(each, { perMessageDeflate: true, throttleMs: 0 });
    const compressed = await deflating.connect(each, '/', { perMessageDeflate: true });
    const plain = await deflating.connect(each, '/', { perMessageDeflate: false });
    expect(compressed.ws.extensions).toMatch(/^permessage-deflate/);
    expect(plain.ws.extensions).toBe('');
    const data = { ltp: 1418.4, volume: 10, note: 'x'.repeat(2000) };
    for (const client of [compressed, plain]) {
      expect(await client.request({ action: 'authenticate', api_key: ALICE.key })).toMatchObject({ status: 'success' });
      expect(await client.request({ action: 'subscribe', symbol: 'DEFL', exchange: 'NSE', mode: 2 })).toMatchObject({ status: 'success' });
    }
    await deflating.publish('NSE_DEFL_QUOTE', data);
    for (const client of [compressed, plain]) {
      expect(await client.next((m) => m['type'] === 'market_data')).toStrictEqual(marketDataFrame('DEFL', 'NSE', 2, data, 1));
    }
  });

  it('accepts a frame up to the configured maximum', async () => {
    const client = await env.connect(each);
    const padding = 'x'.repeat(1024 - JSON.stringify({ action: 'ping', pad: '' }).length);
    const frame = JSON.stringify({ action: 'ping', pad: padding });
    expect(Buffer.byteLength(frame)).toBe(1024);
    client.sendRaw(frame);
    expect(await client.next()).toMatchObject({ type: 'pong', status: 'success' });
  });

  it('closes with 1009 on a frame over the configured maximum', async () => {
    const client = await env.login(each);
    client.sendRaw(JSON.stringify({ action: 'ping', pad: 'x'.repeat(2048) }));
    expect((await client.closed).code).toBe(1009);
  });
});

describe('defaults', () => {
  it('match protocol.md: 127.0.0.1:8765, 1 MiB frames, 15 s auth grace, 20 s pings, no deflate, and the limits', () => {
    expect(defaultServeConfig({ apiKeys: [ALICE] })).toMatchObject({
      host: '127.0.0.1',
      port: 8765,
      maxFrameBytes: 1024 * 1024,
      authGraceS: 15,
      pingIntervalS: 20,
      perMessageDeflate: false,
      throttleMs: 100,
      maxDepth: 50,
      staleAfterS: 30,
      slowSoftBytes: 256 * 1024,
      slowHardBytes: 4 * 1024 * 1024,
      slowMaxS: 10,
      controlRate: 100,
      controlBurst: 200,
      floodCloseS: 5,
      booksAsDepth: true,
      omitBooksBelowDepth: true,
    });
  });

  describe('with the default frame cap', () => {
    let env: Env;
    beforeAll(async () => {
      env = await startEnv(suite, {}, { feed: false });
    });

    it('takes a subscribe of 3,000 symbols in one frame, as the Python SDK sends', async () => {
      const client = await env.login(each);
      const symbols = Array.from({ length: 3000 }, (_, i) => ({ symbol: `SYMBOL${i}-EQ`, exchange: 'NSE' }));
      const reply = await client.request({ action: 'subscribe', symbols, mode: 1, depth: 5 }, ofType('subscribe'), 10_000);
      expect(reply['status']).toBe('success');
      expect(reply['subscriptions']).toHaveLength(3000);
    });

    it('accepts a 1 MiB frame and closes with 1009 on one byte more', async () => {
      const client = await env.login(each);
      const frame = (bytes: number): string => {
        const head = JSON.stringify({ action: 'ping', pad: '' });
        return JSON.stringify({ action: 'ping', pad: 'x'.repeat(bytes - head.length) });
      };
      expect(Buffer.byteLength(frame(1024 * 1024))).toBe(1024 * 1024);
      client.sendRaw(frame(1024 * 1024));
      expect(await client.next(undefined, 10_000)).toMatchObject({ type: 'pong' });
      client.sendRaw(frame(1024 * 1024 + 1));
      expect((await client.closed).code).toBe(1009);
    });
  });
});

describe('authentication grace', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(suite, { authGraceS: 0.3 }, { feed: false });
  });

  it('closes a client that has not authenticated within the grace with 4401 "auth timeout"', async () => {
    const client = await env.connect(each);
    expect(await client.closed).toStrictEqual({ code: 4401, reason: 'auth timeout' });
  });

  it('keeps the grace running after a failed authentication', async () => {
    const client = await env.connect(each);
    const failed = await client.request({ action: 'authenticate', api_key: 'wrong' });
    expect(failed).toMatchObject({ status: 'error', code: 'AUTHENTICATION_ERROR' });
    expect(await client.closed).toStrictEqual({ code: 4401, reason: 'auth timeout' });
  });

  it('keeps an authenticated client open past the grace', async () => {
    const authed = await env.login(each);
    const idle = await env.connect(each);
    await idle.closed;
    expect(authed.isOpen).toBe(true);
    expect(await authed.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
  });
});

describe('keepalive', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(suite, { pingIntervalS: 0.2 }, { feed: false });
  });

  it('sends protocol pings', async () => {
    const client = await env.login(each);
    await new Promise<void>((resolve) => client.ws.once('ping', () => resolve()));
  });

  it('terminates a peer that does not answer pings, and keeps one that does', async () => {
    const mute = await env.connect(each, '/', { autoPong: false });
    let pings = 0;
    mute.ws.on('ping', () => pings++);
    const lively = await env.connect(each);
    await mute.request({ action: 'authenticate', api_key: ALICE.key });
    await lively.request({ action: 'authenticate', api_key: ALICE.key });

    const closed = await mute.closed;
    // Terminated, not closed politely: no close frame reaches the peer.
    expect(closed.code).toBe(1006);
    // One sweep pinged it, the next found no pong and cut it.
    expect(pings).toBe(1);
    expect(lively.isOpen).toBe(true);
    expect(await lively.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
  });
});

describe('connection cap', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(suite, { maxClients: 2 }, { feed: false });
  });

  it('refuses connections over the cap with 1013 and accepts again once one leaves', async () => {
    const first = await env.connect(each);
    await env.connect(each);
    const third = await env.connect(each);
    expect((await third.closed).code).toBe(1013);

    await first.close();
    // The server learns of the close asynchronously; retry until it has.
    for (let attempt = 0; ; attempt++) {
      const again = await env.connect(each);
      const outcome = await Promise.race([again.closed, again.request({ action: 'ping' }, ofType('pong'), 2000)]);
      if ('type' in outcome) break;
      if (attempt > 20) throw new Error(`never accepted again; last close ${JSON.stringify(outcome)}`);
      await sleep(50);
    }
  });
});
