/**
 * The built-in ZMTP engine on real sockets (127.0.0.1 and ipc:// in the temp dir): ZmqFeed and
 * ZmtpSubscriber against libzmq publishers (the `zeromq` package), against raw TCP peers that speak
 * the wire protocol by hand or not at all, and against pyzmq (what OpenAlgo's adapters publish with;
 * Debian's python3-zmq, installed by scripts/ensure-pyzmq.sh, brings a second libzmq build).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Publisher, XPublisher } from 'zeromq';
import { ZmqFeed, type ZmqFeedOptions } from '../../src/ingest/zmq';
import { type ZmtpRejectReason, ZmtpSubscriber } from '../../src/ingest/zmtp';
import { freePort } from '../helpers/net';
import { ensurePyzmq } from '../helpers/pyzmq';
import { scopes, sleep, until, uniq } from '../helpers/scope';
import { command, greeting, message, ping, readyAs } from '../helpers/zmtpWire';

jest.setTimeout(30_000);

const { each } = scopes();
/** Generous: the machine may be loaded. */
const WAIT_MS = 10_000;

// Skipped, loudly, on a developer machine that cannot install pyzmq; under CI a missing pyzmq fails.
const { pyzmq, runs: pyzmqRuns } = ensurePyzmq('zmtp.test', 'the pyzmq interop test');
const itPy = pyzmqRuns ? it : it.skip;

// Wire bytes, from RFC 23, for the raw peers (test/helpers/zmtpWire.ts).
const OUR_GREETING = greeting({ major: 3, minor: 0 });
const OUR_READY = readyAs('SUB');
const SUBSCRIBE_ALL = Buffer.from([0x00, 0x01, 0x01]);

// ---------------------------------------------------------------------------------------------
// Harness.

interface Received {
  readonly topic: string;
  readonly payload: Buffer;
}

interface Started {
  readonly feed: ZmqFeed;
  /** Every message the feed emitted, payloads kept as handed over (views, not copies). */
  readonly ticks: Received[];
  readonly errors: unknown[];
  readonly rejects: { reason: ZmtpRejectReason; peer: string }[];
  readonly badFrames: number[];
  /** Every count onPublishers was told, in order. */
  readonly publisherCounts: number[];
  /** Unsubscribes (also done after the test). */
  stop(): void;
}

/** A ZmqFeed (zmtp engine unless told) subscribed and up; unsubscribed after the test. */
async function startFeed(options: ZmqFeedOptions): Promise<Started> {
  const ticks: Received[] = [];
  const errors: unknown[] = [];
  const rejects: { reason: ZmtpRejectReason; peer: string }[] = [];
  const badFrames: number[] = [];
  const publisherCounts: number[] = [];
  const feed = new ZmqFeed({
    ...options,
    onBadFrame: (n) => badFrames.push(n),
    onReject: (reason, peer) => rejects.push({ reason, peer }),
    onPublishers: (count) => publisherCounts.push(count),
  });
  const sub = feed.raw$.subscribe({
    next: (t) => ticks.push({ topic: t.topic, payload: t.payload as Buffer }),
    error: (err: unknown) => errors.push(err),
  });
  const stop = (): void => sub.unsubscribe();
  each.add({ close: stop });
  await feed.ready();
  return { feed, ticks, errors, rejects, badFrames, publisherCounts, stop };
}

/** A libzmq PUB closed after the test. */
function publisher(): Publisher {
  const pub = new Publisher({ linger: 0, sendHighWaterMark: 100_000 });
  each.add({ close: () => pub.close() });
  return pub;
}

/**
 * Waits out the slow joiner: sends `[topic, '']` until one arrives, so the publisher has taken our
 * subscription and everything it sends next is delivered.
 */
async function primed(send: (topic: string) => Promise<unknown>, ticks: readonly Received[], topic: string): Promise<void> {
  await until(
    async () => {
      if (ticks.some((t) => t.topic === topic)) return true;
      await send(topic);
      return false;
    },
    `probe ${topic} to arrive`,
    WAIT_MS,
    25,
  );
}

const isProbe = (t: Received): boolean => t.topic.startsWith('probe');
const payloadsOf = (ticks: readonly Received[], topic: string): string[] =>
  ticks.filter((t) => t.topic === topic).map((t) => t.payload.toString('utf8'));

/** Rejects with `what` unless `promise` settles within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP peer written by hand: records what it reads and when it is closed. */
class RawPeer {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  isClosed = false;
  readonly closed: Promise<void>;
  readonly connected: Promise<void>;

  constructor(port: number) {
    this.socket = netConnect({ host: '127.0.0.1', port });
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    this.socket.on('error', () => undefined);
    this.connected = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.closed = new Promise((resolve) =>
      this.socket.once('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
    each.add(this);
  }

  /** Waits until at least `n` bytes were read. */
  async read(n: number): Promise<Buffer> {
    await until(() => this.received.length >= n, `${n} bytes from the proxy (have ${this.received.length})`, WAIT_MS);
    return this.received;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Leaves a unix socket file at `path` with nothing listening: a process killed while bound. */
function leaveStaleSocket(path: string): void {
  const script = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  const result = spawnSync(process.execPath, ['-e', script], { stdio: 'ignore', timeout: WAIT_MS });
  expect(result.signal).toBe('SIGKILL');
}

/** The error code of connecting to the unix socket at `path`, or 'connected'. */
function dialIpc(path: string): Promise<string> {
  return new Promise((resolve) => {
    const s = netConnect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

function ipcPath(): string {
  const path = join(tmpdir(), `tickcast-zmtp-${process.pid}-${uniq('s')}.sock`);
  each.add({ close: () => rmSync(path, { force: true }) });
  return path;
}

/** `bind` on a libzmq socket, retried while the endpoint is still held by a socket being closed. */
async function bindRetrying(sock: Publisher, endpoint: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      await sock.bind(endpoint);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe('ZmqFeed on the zmtp engine: libzmq publishers', () => {
  it('fans in two PUBs and an XPUB: the XPUB sees our subscription [0x01], every message arrives, each publisher in order', async () => {
    const port = await freePort();
    const f = await startFeed({ bind: `tcp://127.0.0.1:${port}` });
    expect(f.feed.endpoint).toBe(`tcp://127.0.0.1:${port}`);
    const pubs = [publisher(), publisher()];
    const xpub = new XPublisher({ linger: 0, sendHighWaterMark: 100_000 });
    each.add({ close: () => xpub.close() });
    for (const s of [...pubs, xpub]) s.connect(f.feed.endpoint as string);

    const [subscription, ...rest] = await within(xpub.receive(), WAIT_MS, 'the subscription at the XPUB');
    expect(subscription).toStrictEqual(Buffer.from([0x01]));
    expect(rest).toStrictEqual([]);
    await until(() => f.feed.publishers === 3, 'three publishers connected', WAIT_MS);
    const senders = [...pubs, xpub];
    for (const [k, s] of senders.entries()) await primed((topic) => s.send([topic, '']), f.ticks, `probe${k}`);

    const N = 300;
    for (let i = 0; i < N; i++) {
      for (const [k, s] of senders.entries()) await s.send([`P${k}`, `${k}:${i}`]);
    }
    await until(() => f.ticks.filter((t) => !isProbe(t)).length >= 3 * N, `${3 * N} messages`, WAIT_MS);
    await sleep(50);
    for (const k of [0, 1, 2]) {
      expect(payloadsOf(f.ticks, `P${k}`)).toStrictEqual(Array.from({ length: N }, (_, i) => `${k}:${i}`));
    }
    expect(f.ticks.filter((t) => !isProbe(t))).toHaveLength(3 * N);
    expect(f.feed.badFrames).toBe(0);
    expect(f.feed.rejected).toBe(0);
    expect(f.errors).toStrictEqual([]);
  });

  it('delivers a 1 MiB payload intact between small messages', async () => {
    const port = await freePort();
    const f = await startFeed({ bind: `tcp://127.0.0.1:${port}` });
    const pub = publisher();
    pub.connect(f.feed.endpoint as string);
    await primed((topic) => pub.send([topic, '']), f.ticks, 'probe');

    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 0xff;
    await pub.send(['before', 'a']);
    await pub.send(['big', big]);
    await pub.send(['after', 'b']);
    await until(() => f.ticks.some((t) => t.topic === 'after'), 'the message after the big one', WAIT_MS);
    const got = f.ticks.filter((t) => !isProbe(t));
    expect(got.map((t) => t.topic)).toStrictEqual(['before', 'big', 'after']);
    expect(got[1]?.payload.length).toBe(big.length);
    expect(got[1]?.payload.equals(big)).toBe(true);
    expect(got[0]?.payload.toString()).toBe('a');
    expect(got[2]?.payload.toString()).toBe('b');
  });

  it('counts 1- and 3-frame messages in badFrames and keeps delivering', async () => {
    const port = await freePort();
    const f = await startFeed({ bind: `tcp://127.0.0.1:${port}` });
    const pub = publisher();
    pub.connect(f.feed.endpoint as string);
    await primed((topic) => pub.send([topic, '']), f.ticks, 'probe');
    const receivedBefore = f.feed.received;

    await pub.send(['T', '1']);
    await pub.send(['alone']);
    await pub.send(['T', '2']);
    await pub.send(['a', 'b', 'c']);
    await pub.send(['T', '3']);
    await until(() => payloadsOf(f.ticks, 'T').length === 3, 'three good messages', WAIT_MS);
    expect(payloadsOf(f.ticks, 'T')).toStrictEqual(['1', '2', '3']);
    expect(f.feed.badFrames).toBe(2);
    expect(f.badFrames).toStrictEqual([1, 3]);
    expect(f.feed.received - receivedBefore).toBe(5);
    expect(f.errors).toStrictEqual([]);
    expect(f.feed.publishers).toBe(1);
  });

  it('counts publishers 0 → 1 → 0 as one connects and closes', async () => {
    const port = await freePort();
    const feed = new ZmqFeed({ bind: `tcp://127.0.0.1:${port}` });
    expect(feed.publishers).toBeUndefined();
    const f = await startFeed({ bind: `tcp://127.0.0.1:${port}` });
    expect(f.feed.publishers).toBe(0);
    const pub = new Publisher({ linger: 0 });
    each.add({ close: () => pub.closed || pub.close() });
    pub.connect(`tcp://127.0.0.1:${port}`);
    await until(() => f.feed.publishers === 1, 'one publisher', WAIT_MS);
    pub.close();
    await until(() => f.feed.publishers === 0, 'no publisher', WAIT_MS);
    expect(f.publisherCounts).toStrictEqual([1, 0]);
  });

  it('connects to a PUB that binds, and reconnects when a new PUB binds the same endpoint', async () => {
    const port = await freePort();
    const endpoint = `tcp://127.0.0.1:${port}`;
    const first = new Publisher({ linger: 0 });
    each.add({ close: () => first.closed || first.close() });
    await first.bind(endpoint);
    const f = await startFeed({ connect: [endpoint] });
    expect(f.feed.endpoint).toBe(endpoint);
    await until(() => f.feed.publishers === 1, 'the first publisher', WAIT_MS);
    await primed((topic) => first.send([topic, '']), f.ticks, 'probe1');
    for (let i = 0; i < 5; i++) await first.send(['A', `a${i}`]);
    await until(() => payloadsOf(f.ticks, 'A').length === 5, 'five messages from the first', WAIT_MS);

    first.close();
    await until(() => f.feed.publishers === 0, 'the first publisher gone', WAIT_MS);
    const second = publisher();
    await bindRetrying(second, endpoint);
    await until(() => f.feed.publishers === 1, 'the second publisher', WAIT_MS);
    await primed((topic) => second.send([topic, '']), f.ticks, 'probe2');
    for (let i = 0; i < 5; i++) await second.send(['B', `b${i}`]);
    await until(() => payloadsOf(f.ticks, 'B').length === 5, 'five messages from the second', WAIT_MS);

    expect(payloadsOf(f.ticks, 'A')).toStrictEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(payloadsOf(f.ticks, 'B')).toStrictEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    // 1, 0, 1: the first went, the second came (a redial racing the first's close may add a 1, 0).
    expect(f.publisherCounts.slice(0, 2)).toStrictEqual([1, 0]);
    expect(f.publisherCounts.at(-1)).toBe(1);
    expect(f.publisherCounts.every((c, i) => c === (i % 2 === 0 ? 1 : 0))).toBe(true);
    expect(f.errors).toStrictEqual([]);
    expect(f.feed.error).toBeUndefined();
    expect(f.feed.state$.value).toBe('up');
    expect(f.feed.rejected).toBe(0);
  });

  it('binds ipc:// over a stale socket file, takes a PUB, and closes the listener when unsubscribed', async () => {
    const path = ipcPath();
    leaveStaleSocket(path);
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(await dialIpc(path)).toBe('ECONNREFUSED');

    const f = await startFeed({ bind: `ipc://${path}` });
    expect(f.feed.endpoint).toBe(`ipc://${path}`);
    const pub = publisher();
    pub.connect(`ipc://${path}`);
    await until(() => f.feed.publishers === 1, 'the ipc publisher', WAIT_MS);
    await primed((topic) => pub.send([topic, '']), f.ticks, 'probe');
    for (let i = 0; i < 5; i++) await pub.send(['I', `i${i}`]);
    await until(() => payloadsOf(f.ticks, 'I').length === 5, 'five ipc messages', WAIT_MS);
    expect(payloadsOf(f.ticks, 'I')).toStrictEqual(['i0', 'i1', 'i2', 'i3', 'i4']);

    f.stop();
    expect(f.feed.state$.value).toBe('closed');
    await until(() => !existsSync(path), 'the socket file removed', WAIT_MS);
    expect(await dialIpc(path)).toBe('ENOENT');
  });

  it('connects to a PUB bound on ipc://', async () => {
    const path = ipcPath();
    const pub = publisher();
    await pub.bind(`ipc://${path}`);
    const f = await startFeed({ connect: [`ipc://${path}`] });
    await until(() => f.feed.publishers === 1, 'the ipc publisher', WAIT_MS);
    await primed((topic) => pub.send([topic, '']), f.ticks, 'probe');
    await pub.send(['I', 'x']);
    await until(() => payloadsOf(f.ticks, 'I').length === 1, 'the ipc message', WAIT_MS);
    expect(payloadsOf(f.ticks, 'I')).toStrictEqual(['x']);
  });

  it('resolves tcp://127.0.0.1:* to the port it bound', async () => {
    const f = await startFeed({ bind: 'tcp://127.0.0.1:*' });
    expect(f.feed.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const port = Number((f.feed.endpoint as string).split(':')[2]);
    expect(port).toBeGreaterThan(0);
    const pub = publisher();
    pub.connect(f.feed.endpoint as string);
    await primed((topic) => pub.send([topic, '']), f.ticks, 'probe');
  });

  itPy('receives from a pyzmq PUB that connects', async () => {
    const port = await freePort();
    const f = await startFeed({ bind: `tcp://127.0.0.1:${port}` });
    const script = [
      'import select, sys, zmq',
      'ctx = zmq.Context()',
      's = ctx.socket(zmq.PUB)',
      's.connect(sys.argv[1])',
      'while not select.select([sys.stdin], [], [], 0.025)[0]:',
      "    s.send_multipart([b'probe', b''])",
      'sys.stdin.readline()',
      'for i in range(100):',
      "    s.send_multipart([b'PY', str(i).encode()])",
      "s.send_multipart([b'only one frame'])",
      "s.send_multipart([b'PY', 'é€'.encode('utf-8')])",
      's.close(linger=5000)',
      'ctx.term()',
    ].join('\n');
    if ('error' in pyzmq) throw new Error(pyzmq.error);
    const child: ChildProcess = spawn(pyzmq.python, ['-c', script, f.feed.endpoint as string], { stdio: ['pipe', 'ignore', 'inherit'] });
    each.add({ close: () => child.kill() });
    await until(() => f.ticks.some((t) => t.topic === 'probe'), 'a probe from pyzmq', WAIT_MS);
    child.stdin?.write('go\n');
    await until(() => payloadsOf(f.ticks, 'PY').length === 101, '101 messages from pyzmq', WAIT_MS);
    expect(payloadsOf(f.ticks, 'PY')).toStrictEqual([...Array.from({ length: 100 }, (_, i) => String(i)), 'é€']);
    expect(f.badFrames).toStrictEqual([1]);
  });
});

describe('ZmqFeed on the zmtp engine: raw and hostile peers', () => {
  it('speaks the handshake on the wire: greeting, READY (SUB) after the peer greeting, the subscription after its READY, PONG to PING', async () => {
    const port = await freePort();
    const f = await startFeed({ bind: `tcp://127.0.0.1:${port}` });
    const raw = new RawPeer(port);
    expect(await raw.read(64)).toStrictEqual(OUR_GREETING);

    raw.socket.write(greeting());
    expect(await raw.read(64 + OUR_READY.length)).toStrictEqual(Buffer.concat([OUR_GREETING, OUR_READY]));
    expect(f.feed.publishers).toBe(0);

    raw.socket.write(readyAs('PUB'));
    expect(await raw.read(64 + OUR_READY.length + 3)).toStrictEqual(Buffer.concat([OUR_GREETING, OUR_READY, SUBSCRIBE_ALL]));
    await until(() => f.feed.publishers === 1, 'the raw peer counted', WAIT_MS);

    raw.socket.write(Buffer.concat([message(['NSE_TCS_LTP', '{"ltp":1}']), ping(10, Buffer.from('ctx'))]));
    const pong = command('PONG', Buffer.from('ctx'));
    expect(await raw.read(64 + OUR_READY.length + 3 + pong.length)).toStrictEqual(
      Buffer.concat([OUR_GREETING, OUR_READY, SUBSCRIBE_ALL, pong]),
    );
    await until(() => f.ticks.length === 1, 'the raw message', WAIT_MS);
    expect(f.ticks.map((t) => [t.topic, t.payload.toString()])).toStrictEqual([['NSE_TCS_LTP', '{"ltp":1}']]);

    raw.socket.end();
    await until(() => f.feed.publishers === 0, 'the raw peer gone', WAIT_MS);
    expect(f.publisherCounts).toStrictEqual([1, 0]);
    expect(f.feed.rejected).toBe(0);
  });

  it("closes a client speaking HTTP ('signature') while a real publisher keeps delivering", async () => {
    const port = await freePort();
    const f = await startFeed({ bind: `tcp://127.0.0.1:${port}` });
    const pub = publisher();
    pub.connect(f.feed.endpoint as string);
    await primed((topic) => pub.send([topic, '']), f.ticks, 'probe');
    for (let i = 0; i < 10; i++) await pub.send(['P', String(i)]);

    const raw = new RawPeer(port);
    await within(raw.connected, WAIT_MS, 'the raw connection');
    const localPort = raw.socket.localPort;
    raw.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await within(raw.closed, WAIT_MS, 'the HTTP client to be closed');
    // It may have read (part of) our greeting first, and nothing else.
    expect(OUR_GREETING.subarray(0, raw.received.length)).toStrictEqual(raw.received);

    for (let i = 10; i < 20; i++) await pub.send(['P', String(i)]);
    await until(() => payloadsOf(f.ticks, 'P').length === 20, 'twenty messages', WAIT_MS);
    expect(payloadsOf(f.ticks, 'P')).toStrictEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(f.rejects).toStrictEqual([{ reason: 'signature', peer: `127.0.0.1:${localPort}` }]);
    expect(f.feed.rejected).toBe(1);
    expect(f.feed.publishers).toBe(1);
    expect(f.errors).toStrictEqual([]);
  });

  it.each([
    ['a valid greeting then garbage', 'framing', () => Buffer.concat([greeting(), Buffer.from('garbage!!')])],
    [
      'a handshake then a frame with reserved flag bits',
      'framing',
      () => Buffer.concat([greeting(), readyAs('PUB'), Buffer.from([0x40, 1, 0x41])]),
    ],
    ['greeting version 2.0', 'version', () => greeting({ major: 2, minor: 0 })],
    ['the PLAIN mechanism', 'mechanism', () => greeting({ mechanism: 'PLAIN' })],
    ['the CURVE mechanism', 'mechanism', () => greeting({ mechanism: 'CURVE' })],
    ['a message before READY', 'handshake', () => Buffer.concat([greeting(), message(['t', 'p'])])],
    ['READY as a REQ socket', 'socket_type', () => Buffer.concat([greeting(), readyAs('REQ')])],
    ['READY as a SUB socket', 'socket_type', () => Buffer.concat([greeting(), readyAs('SUB')])],
    ['an ERROR command', 'peer_error', () => Buffer.concat([greeting(), command('ERROR', Buffer.from([2, 0x6e, 0x6f]))])],
  ] as const)("closes a raw peer sending %s ('%s'), and the feed keeps running", async (_what, reason, bytes) => {
    const port = await freePort();
    const f = await startFeed({ bind: `tcp://127.0.0.1:${port}` });
    const raw = new RawPeer(port);
    await within(raw.connected, WAIT_MS, 'the raw connection');
    raw.socket.write(bytes());
    await within(raw.closed, WAIT_MS, 'the raw peer to be closed');
    await until(() => f.feed.rejected === 1, 'the rejection counted', WAIT_MS);
    expect(f.rejects.map((r) => r.reason)).toStrictEqual([reason]);
    await until(() => f.feed.publishers === 0, 'no publisher counted', WAIT_MS);

    // The feed still takes publishers.
    const pub = publisher();
    pub.connect(f.feed.endpoint as string);
    await primed((topic) => pub.send([topic, '']), f.ticks, 'probe');
    expect(f.errors).toStrictEqual([]);
    expect(f.feed.state$.value).toBe('up');
  });

  it("drops a peer that does not finish the handshake in time ('timeout')", async () => {
    const port = await freePort();
    const rejects: string[] = [];
    const sub = new ZmtpSubscriber(
      { message: () => undefined, badMessage: () => undefined },
      { handshakeTimeoutMs: 300, onReject: (reason) => rejects.push(reason) },
    );
    each.add(sub);
    expect(await sub.bind(`tcp://127.0.0.1:${port}`)).toBe(`tcp://127.0.0.1:${port}`);
    const raw = new RawPeer(port);
    await within(raw.connected, WAIT_MS, 'the raw connection');
    raw.socket.write(greeting().subarray(0, 20));
    await within(raw.closed, WAIT_MS, 'the silent peer to be closed');
    expect(rejects).toStrictEqual(['timeout']);
    expect(sub.rejected).toBe(1);
    expect(sub.peers).toBe(0);
  });

  it('names a TCP publisher it connected to by address and port when it rejects it', async () => {
    // A "publisher" that binds and answers like an HTTP server.
    const server: Server = createServer((s) => {
      s.on('error', () => undefined);
      s.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    each.add({ close: () => server.close() });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const rejects: { reason: string; peer: string }[] = [];
    const sub = new ZmtpSubscriber(
      { message: () => undefined, badMessage: () => undefined },
      { onReject: (reason, peer) => rejects.push({ reason, peer }) },
    );
    each.add(sub);
    sub.connect(`tcp://127.0.0.1:${port}`);
    await until(() => rejects.length >= 1, 'a rejection', WAIT_MS);
    sub.close();
    expect(rejects[0]).toStrictEqual({ reason: 'signature', peer: `127.0.0.1:${port}` });
  });
});

describe('ZmqFeed on the zmtp engine: bind errors', () => {
  it('rejects ready() naming the endpoint when another feed holds it, and the first feed keeps delivering', async () => {
    const port = await freePort();
    const endpoint = `tcp://127.0.0.1:${port}`;
    const first = await startFeed({ bind: endpoint });

    const second = new ZmqFeed({ bind: endpoint });
    const errors: unknown[] = [];
    const sub = second.raw$.subscribe({ error: (err: unknown) => errors.push(err) });
    each.add({ close: () => sub.unsubscribe() });
    await expect(second.ready()).rejects.toThrow(`ZeroMQ socket could not start on ${endpoint}: `);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toContain('listen EADDRINUSE');
    expect(second.error?.message).toContain('listen EADDRINUSE');
    expect(second.publishers).toBe(0);

    const pub = publisher();
    pub.connect(endpoint);
    await primed((topic) => pub.send([topic, '']), first.ticks, 'probe');
    expect(first.errors).toStrictEqual([]);
  });

  it('rejects ready() naming the endpoint when a plain TCP server holds the port', async () => {
    const server = createServer();
    each.add({ close: () => server.close() });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const feed = new ZmqFeed({ bind: `tcp://127.0.0.1:${port}` });
    const sub = feed.raw$.subscribe({ error: () => undefined });
    each.add({ close: () => sub.unsubscribe() });
    await expect(feed.ready()).rejects.toThrow(`ZeroMQ socket could not start on tcp://127.0.0.1:${port}`);
    expect(server.listening).toBe(true);
    // The state stays `failed`: asking again, later, still rejects instead of waiting forever.
    expect(feed.state$.value).toBe('failed');
    await expect(feed.ready()).rejects.toThrow(`ZeroMQ socket could not start on tcp://127.0.0.1:${port}`);
  });

  it('does not remove a regular file at an ipc:// path: ready() rejects naming the endpoint and the file stays', async () => {
    const path = ipcPath();
    writeFileSync(path, 'not a socket');
    const feed = new ZmqFeed({ bind: `ipc://${path}` });
    const sub = feed.raw$.subscribe({ error: () => undefined });
    each.add({ close: () => sub.unsubscribe() });
    await expect(feed.ready()).rejects.toThrow(`ZeroMQ socket could not start on ipc://${path}: `);
    expect(feed.error?.message).toContain('listen EADDRINUSE');
    expect(lstatSync(path).isFile()).toBe(true);
  });

  it('rejects ready() for an endpoint the engine does not serve, pointing at --zmq-engine libzmq', async () => {
    const feed = new ZmqFeed({ bind: 'inproc://tickcast' });
    const sub = feed.raw$.subscribe({ error: () => undefined });
    each.add({ close: () => sub.unsubscribe() });
    await expect(feed.ready()).rejects.toThrow('ZeroMQ socket could not start on inproc://tickcast: the built-in ZMTP engine');
    expect(feed.error?.message).toContain('--zmq-engine libzmq');
  });
});
