/**
 * protocol.md "Limits and slow clients": one client that stops reading is closed with 1008
 * `slow consumer` while the others keep receiving every throttled update, and memory stays bounded.
 */
import type { Socket } from 'node:net';
import { type Env, startEnv } from '../helpers/proxy';
import { scopes, sleep, until } from '../helpers/scope';
import { bookTick } from '../helpers/ticks';
import { type Msg, ofType, type TestClient } from '../helpers/wsClient';

const { each } = scopes();
// Hundreds of sockets on a shared machine: far beyond Jest's 5 s default when CPUs are busy.
jest.setTimeout(30_000);

const THROTTLE_MS = 20;
const SYMBOLS = ['SLOW_A', 'SLOW_B', 'SLOW_C', 'SLOW_D'];
/** Pads each Depth frame to ~16 KB so a stalled socket's buffers fill within a second or two. */
const PADDING = 'x'.repeat(12_000);

/** The TCP socket under a ws client, to stop reading from it. */
function socketOf(client: TestClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

describe('slow consumer', () => {
  let env: Env;
  beforeEach(async () => {
    env = await startEnv(each, {
      throttleMs: THROTTLE_MS,
      slowSoftBytes: 128 * 1024,
      slowHardBytes: 2 * 1024 * 1024,
      slowMaxS: 0.5,
    });
  });

  it('closes a client that stops reading with 1008 "slow consumer" while nine others get every update', async () => {
    const clients: TestClient[] = [];
    for (let i = 0; i < 10; i++) {
      const client = await env.fenced(await env.login(each));
      const reply = await client.request(
        { action: 'subscribe', symbols: SYMBOLS.map((symbol) => ({ symbol, exchange: 'NSE' })), mode: 3, depth: 50 },
        ofType('subscribe'),
      );
      expect(reply['status']).toBe('success');
      clients.push(client);
    }
    const [slow, ...fast] = clients as [TestClient, ...TestClient[]];

    // What each fast client saw: per symbol, the seq of every frame. Frames are dropped once
    // counted so the test's own memory stays flat.
    const seqs = fast.map(() => new Map<string, number[]>(SYMBOLS.map((s) => [s, []])));
    const count = (i: number, frames: Msg[]): void => {
      for (const m of frames) {
        if (m['type'] === 'market_data' && SYMBOLS.includes(m['symbol'])) seqs[i]?.get(m['symbol'])?.push(m['seq']);
      }
    };
    const record = (): void => fast.forEach((client, i) => count(i, client.drain()));
    const recorder = setInterval(record, 20);

    const memoryBefore = process.memoryUsage();
    socketOf(slow).pause();
    let published = 0;
    try {
      const deadline = Date.now() + 15_000;
      while (env.proxy.stats.disconnects.slow === 0) {
        if (Date.now() > deadline) throw new Error(`the slow client was never closed; ${published} ticks published`);
        for (const symbol of SYMBOLS) await env.publish(`NSE_${symbol}_DEPTH`, bookTick(100 + (published % 50), 50, { n: published, note: PADDING }));
        published++;
        await sleep(5);
      }
      // Read again so the close frame the proxy queued behind the backlog can arrive.
      socketOf(slow).resume();
      expect(await slow.closed).toStrictEqual({ code: 1008, reason: 'slow consumer' });

      // A few more rounds after the close, then let every throttle window end.
      for (let round = 0; round < 10; round++) {
        for (const symbol of SYMBOLS) await env.publish(`NSE_${symbol}_DEPTH`, bookTick(90, 50, { n: published, note: PADDING }));
        published++;
        await sleep(5);
      }
      await sleep(THROTTLE_MS * 10);
    } finally {
      clearInterval(recorder);
    }
    record();
    (await env.settle(...fast)).forEach((frames, i) => count(i, frames));
    const memoryAfter = process.memoryUsage();

    expect(env.proxy.stats.disconnects.slow).toBe(1);
    expect(fast.every((c) => c.isOpen)).toBe(true);
    const reference = seqs[0] as Map<string, number[]>;
    for (const symbol of SYMBOLS) {
      const expected = reference.get(symbol) as number[];
      // Every throttled update of the key, in order, none skipped or conflated...
      expect(expected.length).toBeGreaterThan(10);
      expected.forEach((seq, k) => expect(seq).toBe((expected[0] as number) + k));
      // ...and the very same ones at every fast client.
      for (const [i, seen] of seqs.entries()) expect([i, symbol, seen.get(symbol)]).toStrictEqual([i, symbol, expected]);
    }
    // Far more went to the slow client than the proxy may hold for it; memory did not follow.
    expect(published * SYMBOLS.length * PADDING.length).toBeGreaterThan(2 * 2 * 1024 * 1024);
    expect(memoryAfter.heapUsed - memoryBefore.heapUsed).toBeLessThan(200 * 1024 * 1024);
    expect(memoryAfter.rss - memoryBefore.rss).toBeLessThan(400 * 1024 * 1024);
  });
});
