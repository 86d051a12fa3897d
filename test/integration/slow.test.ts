/**
 * protocol.md "Limits and slow clients": a client that stops reading has its updates conflated per
 * key, and is closed with 1008 `slow consumer` once it has been over the soft limit too long, while
 * the others keep receiving every throttled update, and memory stays bounded. (The hard-limit path
 * depends on how much the kernel's socket buffers absorb, which a test cannot pin down.)
 */
import type { Socket } from 'node:net';
import type { ServeConfig } from '../../src/config';
import { socketOf } from '../../src/gateway/wsInternals';
import { type Env, startEnv } from '../helpers/proxy';
import { scopes, sleep } from '../helpers/scope';
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
function clientSocket(client: TestClient): Socket {
  const socket = socketOf(client.ws);
  if (!socket) throw new Error('no TCP socket under the client (see src/gateway/wsInternals.ts)');
  return socket;
}

/** A proxy with the given slow-client limits and `n` fenced clients holding Depth of every symbol. */
async function setup(limits: Partial<ServeConfig>, n: number): Promise<{ env: Env; clients: TestClient[] }> {
  const env = await startEnv(each, { throttleMs: THROTTLE_MS, ...limits });
  const clients: TestClient[] = [];
  for (let i = 0; i < n; i++) {
    const client = await env.fenced(await env.login(each));
    const reply = await client.request(
      { action: 'subscribe', symbols: SYMBOLS.map((symbol) => ({ symbol, exchange: 'NSE' })), mode: 3, depth: 50 },
      ofType('subscribe'),
    );
    expect(reply['status']).toBe('success');
    clients.push(client);
  }
  return { env, clients };
}

/**
 * Per client and symbol, the `[seq, n]` of every frame received (n = the tick's publish round).
 * Frames are dropped once counted, so the test's own memory stays flat.
 */
class Recorder {
  readonly seen: Map<string, [number, number][]>[];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly clients: TestClient[]) {
    this.seen = clients.map(() => new Map(SYMBOLS.map((s) => [s, []])));
    this.timer = setInterval(() => this.record(), 20);
  }

  count(i: number, frames: Msg[]): void {
    for (const m of frames) {
      if (m['type'] === 'market_data' && SYMBOLS.includes(m['symbol'])) this.seen[i]?.get(m['symbol'])?.push([m['seq'], m['data']['n']]);
    }
  }

  record(): void {
    this.clients.forEach((client, i) => this.count(i, client.drain()));
  }

  /** Seqs client `i` saw of `symbol`. */
  seqs(i: number, symbol: string): number[] {
    return (this.seen[i]?.get(symbol) ?? []).map(([seq]) => seq);
  }

  /** Stops recording, after taking what is queued and what a final settle brings. */
  async finish(env: Env): Promise<void> {
    clearInterval(this.timer);
    this.record();
    (await env.settle(...this.clients)).forEach((frames, i) => this.count(i, frames));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Publishes rounds of one Depth tick per symbol until `done()`, then `after` more rounds; returns
 * the number of rounds. Fails after 20 s.
 */
async function pump(env: Env, done: () => boolean, what: string, after = 0): Promise<number> {
  const deadline = Date.now() + 20_000;
  let rounds = 0;
  let extra = 0;
  while (extra < after || !done()) {
    if (done()) extra++;
    if (Date.now() > deadline) throw new Error(`${what} did not happen after ${rounds} rounds`);
    for (const symbol of SYMBOLS) await env.publish(`NSE_${symbol}_DEPTH`, bookTick(100 + (rounds % 50), 50, { n: rounds, note: PADDING }));
    rounds++;
    await sleep(5);
  }
  // Let every throttle window close so the last tick of each key has gone out.
  await sleep(THROTTLE_MS * 10);
  return rounds;
}

/** True when `seqs` rises by exactly 1 each time. */
function contiguous(seqs: number[]): boolean {
  return seqs.every((seq, k) => seq === (seqs[0] as number) + k);
}

describe('slow consumer', () => {
  it('closes a client that stops reading with 1008 "slow consumer" while nine others get every update', async () => {
    const { env, clients } = await setup({ slowSoftBytes: 128 * 1024, slowHardBytes: 2 * 1024 * 1024, slowMaxS: 0.5 }, 10);
    const [slow, ...fast] = clients as [TestClient, ...TestClient[]];
    const recorder = new Recorder(fast);
    const memoryBefore = process.memoryUsage();
    clientSocket(slow).pause();
    let rounds: number;
    try {
      rounds = await pump(env, () => env.proxy.stats.disconnects.slow > 0, 'closing the slow client', 10);
      // Read again so the close frame the proxy queued behind the backlog can arrive.
      clientSocket(slow).resume();
      expect(await slow.closed).toStrictEqual({ code: 1008, reason: 'slow consumer' });
    } finally {
      recorder.stop();
    }
    await recorder.finish(env);
    const memoryAfter = process.memoryUsage();

    expect(env.proxy.stats.disconnects.slow).toBe(1);
    expect(fast.every((c) => c.isOpen)).toBe(true);
    for (const symbol of SYMBOLS) {
      const expected = recorder.seqs(0, symbol);
      // Every throttled update of the key, in order, none skipped or conflated...
      expect(expected.length).toBeGreaterThan(10);
      expect(contiguous(expected)).toBe(true);
      // ...and the very same ones at every fast client.
      for (let i = 1; i < fast.length; i++) expect([i, symbol, recorder.seqs(i, symbol)]).toStrictEqual([i, symbol, expected]);
    }
    // Far more went to the slow client than the proxy may hold for it; memory did not follow.
    expect(rounds * SYMBOLS.length * PADDING.length).toBeGreaterThan(2 * 2 * 1024 * 1024);
    expect(memoryAfter.heapUsed - memoryBefore.heapUsed).toBeLessThan(200 * 1024 * 1024);
    expect(memoryAfter.rss - memoryBefore.rss).toBeLessThan(400 * 1024 * 1024);
  });

  it('conflates a slow client per key: after a jump in seq it still gets the latest update of every key', async () => {
    const { env, clients } = await setup({ slowSoftBytes: 128 * 1024, slowHardBytes: 256 * 1024 * 1024, slowMaxS: 60 }, 2);
    const [slow, fast] = clients as [TestClient, TestClient];
    const recorder = new Recorder([fast, slow]);
    clientSocket(slow).pause();
    try {
      await pump(env, () => env.proxy.stats.conflated > 50, 'conflation');
      clientSocket(slow).resume();
      await recorder.finish(env);
    } finally {
      recorder.stop();
    }

    expect(slow.isOpen).toBe(true);
    expect(env.proxy.stats.disconnects.slow).toBe(0);
    let jumps = 0;
    for (const symbol of SYMBOLS) {
      const all = recorder.seen[0]?.get(symbol) as [number, number][];
      const some = recorder.seen[1]?.get(symbol) as [number, number][];
      expect(contiguous(all.map(([seq]) => seq))).toBe(true);
      // Fewer frames, in order, ending on the very latest one: nothing stale is left waiting.
      expect(some.length).toBeLessThan(all.length);
      expect(some.every(([seq], k) => k === 0 || seq > (some[k - 1] as [number, number])[0])).toBe(true);
      expect(some[some.length - 1]).toStrictEqual(all[all.length - 1]);
      jumps += some.filter(([seq], k) => k > 0 && seq > (some[k - 1] as [number, number])[0] + 1).length;
    }
    expect(jumps).toBeGreaterThan(0);
  });
});
