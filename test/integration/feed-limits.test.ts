/**
 * The feed socket's limits against `tickcast serve` as a child process (so its RSS is its own):
 * 200 raw TCP peers complete the ZMTP handshake, announce a 60 MiB frame, send part of it and stall.
 * Past each cap the offending connection is closed and counted by reason; memory grows only with
 * bytes held, bounded by --zmq-max-partial-bytes; a real publisher beside them keeps delivering.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { Publisher } from 'zeromq';
import { ZmqFeed } from '../../src/ingest/zmq';
import { buildCli, CliProcess } from '../helpers/cliProcess';
import { freePort } from '../helpers/net';
import { scrapeMetrics } from '../helpers/metrics';
import { Scope, sleep, until } from '../helpers/scope';
import { frame, greeting, readyAs } from '../helpers/zmtpWire';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
const PEERS = 200;
const WAIT_MS = 30_000;

/** Greeting (3.0, NULL) and READY as a PUB, in one write: what a publisher sends first. */
const HELLO = Buffer.concat([greeting({ minor: 0 }), readyAs('PUB')]);

/** A topic frame, then the header of a LONG payload frame announcing `size` bytes. */
function announce(size: number): Buffer {
  const head = Buffer.alloc(9);
  head[0] = 0x02;
  head.writeUInt32BE(size, 5);
  return Buffer.concat([frame(0x01, Buffer.from('NSE_HOSTILE_LTP')), head]);
}

/** A raw peer that connects and says hello; later sends part of a huge frame and stalls. */
class StallingPeer {
  readonly socket: Socket;
  closed = false;
  sent = 0;
  readonly connected: Promise<void>;

  constructor(port: number) {
    this.socket = netConnect({ host: '127.0.0.1', port });
    this.socket.on('error', () => undefined);
    this.socket.on('data', () => undefined);
    this.socket.once('close', () => (this.closed = true));
    this.connected = new Promise((resolve) => this.socket.once('connect', () => resolve()));
  }

  hello(): void {
    if (!this.closed) this.socket.write(HELLO);
  }

  /** Announces a `announced`-byte frame and sends `bytes` of it, then nothing more. */
  stallInside(announced: number, bytes: number): void {
    if (this.closed) return;
    this.socket.write(announce(announced));
    this.socket.write(Buffer.alloc(bytes, 0x61), () => (this.sent = bytes));
  }

  /** Everything written has left this process, or the connection is gone. */
  get settled(): boolean {
    return this.closed || (this.sent > 0 && this.socket.writableLength === 0);
  }

  close(): void {
    this.socket.destroy();
  }
}

const rejected = (m: Map<string, number>, reason: string): number =>
  m.get(`tickcast_feed_connections_rejected_total{reason="${reason}"}`) ?? 0;
const ltpTicks = (m: Map<string, number>): number => m.get('tickcast_ticks_received_total{mode="ltp"}') ?? 0;
const rss = (m: Map<string, number>): number => m.get('process_resident_memory_bytes') ?? 0;

interface Served {
  readonly http: string;
  readonly zmqPort: number;
  readonly pub: Publisher;
  /** Stops the publisher's ticking. */
  readonly ticking: { stop: boolean };
}

/** `tickcast serve` with `flags`, and a libzmq PUB beside it ticking NSE_REAL_LTP every 10 ms. */
async function serveWithPublisher(scope: Scope, flags: string[]): Promise<Served> {
  const zmqPort = await freePort();
  const proc = scope.add(
    new CliProcess(
      ['serve', '--port', '0', '--zmq-bind', `tcp://127.0.0.1:${zmqPort}`, '--throttle-ms', '0', '--stats-interval-s', '0', ...flags],
      {
        TICKCAST_API_KEYS: 'limits-test-key',
      },
    ),
  );
  await proc.waitFor(/"event":"listening"/, WAIT_MS);
  const http = proc.logLines().find((l) => l['event'] === 'listening')!['httpUrl'] as string;
  const pub = new Publisher({ linger: 0 });
  scope.add({ close: () => pub.close() });
  pub.connect(`tcp://127.0.0.1:${zmqPort}`);
  const ticking = { stop: false };
  scope.add({ close: () => (ticking.stop = true) });
  void (async () => {
    for (let i = 0; !ticking.stop; i++) {
      await pub.send(['NSE_REAL_LTP', JSON.stringify({ ltp: 100 + (i % 50) })]);
      await sleep(10);
    }
  })();
  await until(async () => ltpTicks(await scrapeMetrics(http)) > 0, 'the real publisher to deliver', WAIT_MS, 50);
  return { http, zmqPort, pub, ticking };
}

/** PEERS raw peers connected and greeted; registered for closing. */
async function peers(scope: Scope, port: number): Promise<StallingPeer[]> {
  const list = Array.from({ length: PEERS }, () => scope.add(new StallingPeer(port)));
  await Promise.all(list.map((p) => p.connected));
  for (const p of list) p.hello();
  return list;
}

describe('feed socket limits (tickcast serve, 200 stalling peers)', () => {
  const scope = new Scope();
  beforeAll(() => buildCli(), 120_000);
  afterEach(() => scope.close());

  it("with the defaults closes each peer at the header of its 60 MiB frame ('oversized'), holds nothing, and the real publisher keeps delivering", async () => {
    const served = await serveWithPublisher(scope, []);
    const before = await scrapeMetrics(served.http);
    const list = await peers(scope, served.zmqPort);
    for (const p of list) p.stallInside(60 * MiB, 8 * MiB);
    await until(() => list.every((p) => p.closed), 'every peer closed', WAIT_MS, 50);
    const after = await scrapeMetrics(served.http);
    expect(rejected(after, 'oversized')).toBe(PEERS);
    expect(rejected(after, 'too_many_publishers')).toBe(0);
    expect(rejected(after, 'partial_bytes')).toBe(0);
    // Nothing of a refused frame is held: growth is noise (a read per peer at most), not 200 × 8 MiB.
    expect(rss(after) - rss(before)).toBeLessThan(32 * MiB);
    const ticks = ltpTicks(after);
    await until(async () => ltpTicks(await scrapeMetrics(served.http)) >= ticks + 20, '20 more ticks from the real publisher', WAIT_MS, 50);
    expect((await scrapeMetrics(served.http)).get('tickcast_feed_publishers')).toBe(1);
  });

  it('past --zmq-max-publishers closes the newcomers, past --zmq-max-partial-bytes the largest holders; what is held stays under the cap', async () => {
    const cap = 32 * MiB;
    const PART = 8 * MiB;
    const served = await serveWithPublisher(scope, [
      '--zmq-max-message-bytes',
      String(64 * MiB),
      '--zmq-max-publishers',
      '150',
      '--zmq-max-partial-bytes',
      String(cap),
    ]);
    const before = await scrapeMetrics(served.http);
    const list = await peers(scope, served.zmqPort);
    // The real publisher is one of the 150: 51 peers are one too many.
    await until(() => list.filter((p) => p.closed).length === PEERS - 149, `${PEERS - 149} peers refused`, WAIT_MS, 20);
    expect(rejected(await scrapeMetrics(served.http), 'too_many_publishers')).toBe(PEERS - 149);
    // 149 peers offer 8 MiB each of a 60 MiB frame: 1,192 MiB against a 32 MiB cap.
    for (const p of list) p.stallInside(60 * MiB, PART);
    await until(() => list.every((p) => p.settled), 'every peer sent its part or was closed', WAIT_MS, 50);
    // Sent is not yet read: wait until the proxy holds exactly what the open peers sent.
    let after = await scrapeMetrics(served.http);
    let open = 0;
    await until(
      async () => {
        after = await scrapeMetrics(served.http);
        open = list.filter((p) => !p.closed).length;
        return after.get('tickcast_feed_partial_bytes') === open * (PART + 9);
      },
      'the proxy to read what the open peers sent',
      WAIT_MS,
      50,
    );
    expect(rejected(after, 'partial_bytes')).toBe(149 - open);
    // What is held fits the cap: at most 4 peers of 8 MiB stay.
    expect(open).toBeLessThanOrEqual(cap / PART);
    expect(rejected(after, 'partial_bytes')).toBeGreaterThanOrEqual(149 - cap / PART);
    expect(after.get('tickcast_feed_partial_bytes')).toBeLessThanOrEqual(cap);
    // Each holder: its 8 MiB and the 9-byte LONG header of the frame they belong to.
    expect(after.get('tickcast_feed_partial_bytes')).toBe(open * (PART + 9));
    // RSS also carries the chunks of closed connections until the GC frees them (V8 collects as
    // external memory grows): bounded by the cap plus that slack, far below the 1,192 MiB offered.
    const growth = rss(after) - rss(before);
    process.stderr.write(`feed-limits: RSS growth ${(growth / MiB).toFixed(1)} MiB with ${open} peers holding, cap ${cap / MiB} MiB\n`);
    expect(growth).toBeLessThan(cap + 256 * MiB);
    const ticks = ltpTicks(after);
    await until(async () => ltpTicks(await scrapeMetrics(served.http)) >= ticks + 20, '20 more ticks from the real publisher', WAIT_MS, 50);
  });
});

describe('feed socket limits (libzmq engine)', () => {
  const scope = new Scope();
  afterEach(() => scope.close());

  it('sets ZMQ_MAXMSGSIZE: a frame over --zmq-max-message-bytes does not arrive, smaller ones before and after it do', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const feed = new ZmqFeed({ engine: 'libzmq', bind: endpoint, maxMessageBytes: 1024 });
    const topics: string[] = [];
    const sub = feed.raw$.subscribe((t) => topics.push(`${t.topic}:${(t.payload as Buffer).length}`));
    scope.add({ close: () => sub.unsubscribe() });
    await feed.ready();
    const pub = new Publisher({ linger: 0 });
    scope.add({ close: () => pub.close() });
    pub.connect(endpoint);
    await until(
      async () => {
        await pub.send(['probe', '']);
        return topics.includes('probe:0');
      },
      'the PUB to connect',
      WAIT_MS,
      20,
    );
    await pub.send(['SMALL', Buffer.alloc(1024)]);
    await pub.send(['LARGE', Buffer.alloc(1025)]);
    // libzmq drops the connection on the large frame; the PUB reconnects by itself.
    await until(
      async () => {
        await pub.send(['AFTER', Buffer.alloc(10)]);
        return topics.includes('AFTER:10');
      },
      'a message after the reconnect',
      WAIT_MS,
      50,
    );
    expect(topics.filter((t) => t !== 'probe:0' && t !== 'AFTER:10')).toStrictEqual(['SMALL:1024']);
  });
});
