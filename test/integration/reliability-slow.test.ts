/**
 * Issue 7, slow and stalled clients, against a proxy in its own process: one client stops reading,
 * one reads 1 KB a second, four read normally. The four get every tick (exact counts, contiguous
 * seq, as in a run without the slow ones), the proxy's RSS stays bounded, and both slow clients are
 * closed and counted. The normal clients' p99 latency with and without the slow ones is measured
 * in the same test and reported with TICKCAST_REPORT=1 (on a shared 2-core machine the ratio is a
 * figure for docs/reliability.md, not an assertion). Also: a big feed batch never makes a client
 * that keeps up look slow, and seq tells a throttled stream from a lossy one.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { FeedPublisher } from '../helpers/feed';
import { ALICE, startEnv } from '../helpers/proxy';
import { Scope, sleep, until } from '../helpers/scope';
import { ChildProxy, percentile, RawWsClient } from '../helpers/childProxy';

const SYMBOLS = 20;
const NORMAL = 4;
const ROUND_MS = 10;
const RUN_MS = 3000;
/** Each tick is padded to about 1 KB: 20 symbols every 10 ms is ~2 MB/s per client. */
const PAD = 'p'.repeat(900);

const suite = new Scope();
afterAll(() => suite.close());

const now = (): number => performance.timeOrigin + performance.now();

/** A normal client: reads everything, records per-symbol seqs and each tick's latency. */
class Reader {
  readonly seqs = new Map<string, number[]>();
  readonly latencies: number[] = [];
  received = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { type?: string; symbol?: string; seq?: number; data?: { t?: number } };
      if (m.type !== 'market_data') return;
      this.received++;
      this.latencies.push(now() - (m.data?.t as number));
      const list = this.seqs.get(m.symbol as string) ?? [];
      list.push(m.seq as number);
      this.seqs.set(m.symbol as string, list);
    });
  }

  static async open(url: string, symbols: readonly string[]): Promise<Reader> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const replies: string[] = [];
    ws.on('message', (d: Buffer) => replies.push(d.toString('utf8')));
    ws.send(JSON.stringify({ action: 'authenticate', api_key: ALICE.key }));
    ws.send(JSON.stringify({ action: 'subscribe', symbols: symbols.map((symbol) => ({ symbol, exchange: 'NSE' })), mode: 2 }));
    await until(() => replies.some((r) => r.includes('"type":"subscribe"')), 'the subscribe reply');
    ws.removeAllListeners('message');
    return new Reader(ws);
  }

  close(): void {
    this.ws.terminate();
  }
}

interface Run {
  readonly rounds: number;
  /** Per normal client: still open, and every tick of every symbol received, seq 1..rounds in order. */
  readonly complete: boolean[];
  readonly p50: number;
  readonly p99: number;
  readonly samples: number;
}

/** Publishes one ~1 KB Quote tick per symbol every ROUND_MS until `until()` and at least RUN_MS. */
async function publish(pub: FeedPublisher, symbols: readonly string[], stop: () => boolean): Promise<number> {
  const started = Date.now();
  let rounds = 0;
  // Bounded: 20 s at most, whatever `stop` says.
  while ((Date.now() - started < RUN_MS || !stop()) && Date.now() - started < 20_000) {
    rounds++;
    for (const s of symbols) await pub.send(`NSE_${s}_QUOTE`, { ltp: rounds, n: rounds, t: now(), pad: PAD });
    await sleep(ROUND_MS);
  }
  return rounds;
}

async function run(proxy: ChildProxy, pub: FeedPublisher, tag: string, stop: () => boolean = () => true): Promise<Run> {
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => `${tag}${i}`);
  const readers: Reader[] = [];
  for (let i = 0; i < NORMAL; i++) readers.push(suite.add(await Reader.open(proxy.wsUrl, symbols)));
  const rounds = await publish(pub, symbols, stop);
  await until(() => readers.every((r) => r.received >= rounds * SYMBOLS), `every ${tag} tick at every normal client`, 20_000);
  const complete = readers.map((r) => r.ws.readyState === WebSocket.OPEN && r.received === rounds * SYMBOLS && everyTickInOrder(r, rounds));
  const latencies = readers.flatMap((r) => r.latencies);
  for (const r of readers) r.close();
  return { rounds, complete, p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length };
}

/** True when, for every symbol, the reader saw seq 1..rounds in order. */
function everyTickInOrder(reader: Reader, rounds: number): boolean {
  const want = Array.from({ length: rounds }, (_, i) => i + 1);
  return (
    [...reader.seqs.values()].length === SYMBOLS &&
    [...reader.seqs.values()].every((s) => s.length === rounds && s.every((v, i) => v === want[i]))
  );
}

describe('slow and stalled clients', () => {
  it('costs the normal clients no tick: a stalled and a 1 KB/s reader are closed and counted, RSS stays bounded', async () => {
    const proxy = suite.add(await ChildProxy.spawn({ throttleMs: 0, slowSoftBytes: 64 * 1024, slowHardBytes: 1024 * 1024, slowMaxS: 1 }));
    const pub = suite.add(new FeedPublisher(proxy.zmq));
    await until(async () => {
      await pub.send('CACHE_INVALIDATE_sync', '{}');
      return (await proxy.measure()).received > 0;
    }, 'the publisher to reach the proxy');

    await run(proxy, pub, 'WARM'); // compiles the hot paths of both processes before anything is timed
    const baseline = await run(proxy, pub, 'BASE');

    const slowSymbols = Array.from({ length: SYMBOLS }, (_, i) => `SLOW${i}`);
    const stalled = suite.add(await RawWsClient.open(proxy.port));
    const trickle = suite.add(await RawWsClient.open(proxy.port));
    for (const c of [stalled, trickle]) {
      c.send({ action: 'authenticate', api_key: ALICE.key });
      c.send({ action: 'subscribe', symbols: slowSymbols.map((symbol) => ({ symbol, exchange: 'NSE' })), mode: 2 });
    }
    await until(async () => (await proxy.measure()).hub.subscriptions === 2 * SYMBOLS, 'the slow clients to subscribe');
    stalled.stall();
    trickle.readAt(1024);
    const before = await proxy.measure();
    let rssMax = before.rss;
    let slowClosed = 0;
    const sampler = setInterval(() => {
      void proxy.sample().then((m) => {
        rssMax = Math.max(rssMax, m.rss);
        slowClosed = m.disconnects['slow'] ?? 0;
      });
    }, 100);
    let withSlow: Run;
    try {
      // The slow clients hold the same symbols as the normal ones of this run.
      withSlow = await run(proxy, pub, 'SLOW', () => slowClosed >= 2);
    } finally {
      clearInterval(sampler);
    }
    const after = await proxy.measure();

    expect(baseline.complete).toStrictEqual([true, true, true, true]);
    expect(withSlow.complete).toStrictEqual([true, true, true, true]);
    expect(after.disconnects['slow']).toBe(2);
    await until(async () => (await proxy.measure()).clients === 0, 'every client to be gone');
    // The slow pair was sent several times what the proxy may hold for them (1 MiB each); RSS did not follow.
    expect(withSlow.rounds * SYMBOLS * PAD.length * 2).toBeGreaterThan(4 * 2 * 1024 * 1024);
    expect(rssMax - before.rss).toBeLessThan(64 * 1024 * 1024);

    if (process.env['TICKCAST_REPORT']) {
      console.log({
        baseline: { rounds: baseline.rounds, samples: baseline.samples, p50: baseline.p50, p99: baseline.p99 },
        withSlow: { rounds: withSlow.rounds, samples: withSlow.samples, p50: withSlow.p50, p99: withSlow.p99 },
        p99Ratio: withSlow.p99 / baseline.p99,
        rssBefore: before.rss,
        rssMax,
        trickleRead: trickle.bytesRead,
        conflated: after.conflated,
      });
    }
  }, 120_000);

  it('never conflates or closes a client that keeps up because one batch of the feed is bigger than the slow limits', async () => {
    const env = await startEnv(suite, { throttleMs: 0, slowSoftBytes: 16 * 1024, slowHardBytes: 256 * 1024, slowMaxS: 60 });
    const symbols = Array.from({ length: 50 }, (_, i) => `BATCH${i}`);
    const client = await env.login(suite);
    await client.request({ action: 'subscribe', symbols: symbols.map((symbol) => ({ symbol, exchange: 'NSE' })), mode: 2 });
    const rounds = 8;
    for (let n = 1; n <= rounds; n++) for (const s of symbols) await env.publish(`NSE_${s}_QUOTE`, { ltp: n, pad: PAD });
    // Hold this thread while ZeroMQ's own threads move all 400 ticks into the proxy's queue: the
    // proxy then reads them in one batch, about 400 KB for this one client, past both limits.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    const frames = [];
    for (let i = 0; i < rounds * symbols.length; i++) frames.push(await client.next((m) => m['type'] === 'market_data'));
    for (const s of symbols) {
      expect(frames.filter((f) => f['symbol'] === s).map((f) => [f['seq'], f['data']['ltp']])).toStrictEqual(
        Array.from({ length: rounds }, (_, i) => [i + 1, i + 1]),
      );
    }
    expect(env.proxy.stats.conflated).toBe(0);
    expect(env.proxy.stats.disconnects.slow).toBe(0);
    expect(client.isOpen).toBe(true);
  });

  it('lets a client tell a throttled stream (seq contiguous) from a lossy one (seq jumps)', async () => {
    const env = await startEnv(suite, { throttleMs: 20, slowSoftBytes: 16 * 1024, slowHardBytes: 256 * 1024 * 1024, slowMaxS: 60 });
    const symbols = Array.from({ length: 10 }, (_, i) => `SEQ${i}`);
    const subscribe = { action: 'subscribe', symbols: symbols.map((symbol) => ({ symbol, exchange: 'NSE' })), mode: 2 };
    const normal = await env.login(suite);
    const lossy = await env.login(suite);
    await normal.request(subscribe);
    await lossy.request(subscribe);
    const socket = (lossy.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const big = 'q'.repeat(16_000);
    let rounds = 0;
    // Bounded: until the paused client's updates have been conflated a while, 20 s at most.
    while ((env.proxy.stats.conflated < 100 || rounds % 10 !== 0) && rounds < 4000) {
      rounds++;
      for (const s of symbols) await env.publish(`NSE_${s}_QUOTE`, { ltp: rounds, pad: big });
      await sleep(2);
    }
    socket.resume();
    const hasLast = (c: typeof normal, s: string): boolean => c.peek().some((m) => m['symbol'] === s && m['data']['ltp'] === rounds);
    await until(
      () => symbols.every((s) => hasLast(normal, s) && hasLast(lossy, s)),
      'the last tick of every symbol at both clients',
      10_000,
    );
    const seqs = (frames: Record<string, any>[], s: string): number[] => frames.filter((f) => f['symbol'] === s).map((f) => f['seq']);
    const normalFrames = [...normal.drain()];
    const lossyFrames = [...lossy.drain()];
    let jumps = 0;
    for (const s of symbols) {
      const n = seqs(normalFrames, s);
      const l = seqs(lossyFrames, s);
      // Throttled: fewer frames than ticks, but every frame the proxy emitted, seq without a gap.
      expect(n.length + 1).toBeLessThan(rounds);
      expect(n).toStrictEqual(n.map((_, i) => i + 1));
      // Conflated: still in order, but with jumps where frames were replaced by newer ones.
      expect(l.every((v, i) => i === 0 || v > (l[i - 1] as number))).toBe(true);
      jumps += l.filter((v, i) => i > 0 && v > (l[i - 1] as number) + 1).length;
    }
    expect(jumps).toBeGreaterThan(0);
    expect(env.proxy.stats.disconnects.slow).toBe(0);
  }, 60_000);
});
