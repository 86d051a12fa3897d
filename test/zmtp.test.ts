/**
 * The SUB side of ZMTP 3.0 without sockets: ZmtpSubConnection is fed wire bytes built here from
 * RFC 23 (not from src/), cut at arbitrary points, and what it sends back and hands up is checked
 * byte for byte. parseZmtpEndpoint: which endpoints the built-in engine serves.
 */
import fc from 'fast-check';
import { parseZmtpEndpoint, type ZmtpRejectReason, ZmtpSubConnection } from '../src/ingest/zmtp';
import { command, frame, greeting, message, ping, ready, readyAs } from './helpers/zmtpWire';

const SEED = 0x2a7e;

// Wire bytes, written from the spec (test/helpers/zmtpWire.ts).
const READY_PUB = readyAs('PUB');

// ---------------------------------------------------------------------------------------------
// A connection under test, recording everything it does.

type Event =
  { readonly kind: 'message'; readonly topic: string; readonly payload: Buffer } | { readonly kind: 'bad'; readonly frames: number };

interface Harness {
  readonly conn: ZmtpSubConnection;
  /** Every buffer the connection sent, in order. */
  readonly sent: Buffer[];
  /** Every message and bad message handed up, in order. */
  readonly events: Event[];
  /** Pushes each chunk; returns the reasons returned, undefined ones left out. */
  push(...chunks: Buffer[]): ZmtpRejectReason[];
  /** The same for a long list of chunks (too many to spread into arguments). */
  pushAll(chunks: readonly Buffer[]): ZmtpRejectReason[];
}

function harness(maxFrameBytes?: number): Harness {
  const sent: Buffer[] = [];
  const events: Event[] = [];
  const conn = new ZmtpSubConnection(
    (bytes) => sent.push(Buffer.from(bytes)),
    {
      // The payload is a view into the read buffer: copied, as a consumer keeping it would.
      message: (topic, payload) => events.push({ kind: 'message', topic, payload: Buffer.from(payload) }),
      badMessage: (frames) => events.push({ kind: 'bad', frames }),
    },
    maxFrameBytes,
  );
  return {
    conn,
    sent,
    events,
    push: (...chunks) => pushAll(chunks),
    pushAll,
  };
  function pushAll(chunks: readonly Buffer[]): ZmtpRejectReason[] {
    const reasons: ZmtpRejectReason[] = [];
    for (const chunk of chunks) {
      const reason = conn.push(chunk);
      if (reason !== undefined) reasons.push(reason);
    }
    return reasons;
  }
}

/** A connection past the handshake (both greetings and READYs crossed), with `sent` emptied. */
function trafficHarness(maxFrameBytes?: number): Harness {
  const h = harness(maxFrameBytes);
  h.conn.start();
  expect(h.push(greeting(), READY_PUB)).toStrictEqual([]);
  expect(h.conn.ready).toBe(true);
  h.sent.length = 0;
  return h;
}

/** Our greeting: signature, version 3.0, NULL, as-server 0, zero filler. */
const OUR_GREETING = greeting({ major: 3, minor: 0 });
const OUR_READY = readyAs('SUB');
const SUBSCRIBE_ALL = Buffer.from([0x00, 0x01, 0x01]);

/** Bytes cut into consecutive chunks of the given sizes, cycled. */
function cut(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const size = sizes[k % sizes.length] as number;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** `size` bytes of a pattern that differs with `seed`, so a shifted or mixed-up payload shows. */
function pattern(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (seed + i * 31 + (i >> 8)) & 0xff;
  return b;
}

// ---------------------------------------------------------------------------------------------

describe('ZmtpSubConnection: what it sends', () => {
  it('start() sends our 64-byte greeting: signature, version 3.0, mechanism NULL, as-server 0', () => {
    const h = harness();
    h.conn.start();
    expect(h.sent).toHaveLength(1);
    const g = h.sent[0] as Buffer;
    expect(g.length).toBe(64);
    expect(g[0]).toBe(0xff);
    expect(g[9]! & 0x01).toBe(1);
    expect(g[10]).toBe(3);
    expect(g[11]).toBe(0);
    expect(g.toString('latin1', 12, 32)).toBe('NULL'.padEnd(20, '\0'));
    expect(g[32]).toBe(0);
    expect(g).toStrictEqual(OUR_GREETING);
  });

  it('sends READY (Socket-Type SUB) only once the peer greeting is complete, not at byte 63', () => {
    const h = harness();
    h.conn.start();
    const g = greeting();
    expect(h.push(g.subarray(0, 10), g.subarray(10, 63))).toStrictEqual([]);
    expect(h.sent).toStrictEqual([OUR_GREETING]);
    expect(h.push(g.subarray(63))).toStrictEqual([]);
    expect(h.sent).toStrictEqual([OUR_GREETING, OUR_READY]);
    expect(h.conn.ready).toBe(false);
  });

  it("sends the subscription to every topic [0x00, 0x01, 0x01] only once the peer's READY is complete", () => {
    const h = harness();
    h.conn.start();
    h.push(greeting());
    expect(h.push(READY_PUB.subarray(0, READY_PUB.length - 1))).toStrictEqual([]);
    expect(h.sent).toStrictEqual([OUR_GREETING, OUR_READY]);
    expect(h.conn.ready).toBe(false);
    expect(h.push(READY_PUB.subarray(READY_PUB.length - 1))).toStrictEqual([]);
    expect(h.sent).toStrictEqual([OUR_GREETING, OUR_READY, SUBSCRIBE_ALL]);
    expect(h.conn.ready).toBe(true);
    expect(h.conn.peerType).toBe('PUB');
  });

  it('handles greeting, READY and messages arriving in one chunk', () => {
    const h = harness();
    h.conn.start();
    expect(h.push(Buffer.concat([greeting(), READY_PUB, message(['T', 'one']), message(['U', 'two'])]))).toStrictEqual([]);
    expect(h.sent).toStrictEqual([OUR_GREETING, OUR_READY, SUBSCRIBE_ALL]);
    expect(h.events).toStrictEqual([
      { kind: 'message', topic: 'T', payload: Buffer.from('one') },
      { kind: 'message', topic: 'U', payload: Buffer.from('two') },
    ]);
  });

  it('accepts an XPUB peer, a lower-case property name and other properties before Socket-Type', () => {
    const h = harness();
    h.conn.start();
    const r = ready([
      ['Identity', ''],
      ['socket-type', 'XPUB'],
    ]);
    expect(h.push(greeting({ minor: 0 }), r, message(['x', 'y']))).toStrictEqual([]);
    expect(h.conn.peerType).toBe('XPUB');
    expect(h.events).toStrictEqual([{ kind: 'message', topic: 'x', payload: Buffer.from('y') }]);
  });

  it('answers PING with PONG carrying the same context', () => {
    const h = trafficHarness();
    expect(h.push(ping(100, Buffer.from('ctx-1')))).toStrictEqual([]);
    expect(h.push(ping(0, Buffer.alloc(0)))).toStrictEqual([]);
    expect(h.sent).toStrictEqual([command('PONG', Buffer.from('ctx-1')), command('PONG')]);
    // Exactly: flags 0x04, size 1+4+5, '\x04PONG', context.
    expect(h.sent[0]).toStrictEqual(Buffer.from([0x04, 10, 4, ...Buffer.from('PONGctx-1')]));
  });

  it('answers a PING cut into 1-byte chunks, between messages, without disturbing them', () => {
    const h = trafficHarness();
    const bytes = Buffer.concat([message(['a', '1']), ping(5, Buffer.from([0, 1, 2, 0xff])), message(['b', '2'])]);
    expect(h.pushAll(cut(bytes, [1]))).toStrictEqual([]);
    expect(h.sent).toStrictEqual([command('PONG', Buffer.from([0, 1, 2, 0xff]))]);
    expect(h.events).toStrictEqual([
      { kind: 'message', topic: 'a', payload: Buffer.from('1') },
      { kind: 'message', topic: 'b', payload: Buffer.from('2') },
    ]);
  });

  it('ignores commands it does not know once messages flow', () => {
    const h = trafficHarness();
    expect(h.push(command('SUBSCRIBE', Buffer.from('x')), command('PONG', Buffer.from('c')), message(['t', 'p']))).toStrictEqual([]);
    expect(h.sent).toStrictEqual([]);
    expect(h.events).toStrictEqual([{ kind: 'message', topic: 't', payload: Buffer.from('p') }]);
  });
});

describe('ZmtpSubConnection: messages', () => {
  it('hands up 2-frame messages and counts 1- and 3-frame ones, in order', () => {
    const h = trafficHarness();
    const bytes = Buffer.concat([
      message(['NSE_TCS_LTP', '{"ltp":1}']),
      message(['lonely']),
      message(['a', 'b', 'c']),
      message(['', '']),
      message(['a', 'b', 'c', 'd', 'e']),
      message(['NSE_INFY_LTP', '{"ltp":2}']),
    ]);
    expect(h.push(bytes)).toStrictEqual([]);
    expect(h.events).toStrictEqual([
      { kind: 'message', topic: 'NSE_TCS_LTP', payload: Buffer.from('{"ltp":1}') },
      { kind: 'bad', frames: 1 },
      { kind: 'bad', frames: 3 },
      { kind: 'message', topic: '', payload: Buffer.alloc(0) },
      { kind: 'bad', frames: 5 },
      { kind: 'message', topic: 'NSE_INFY_LTP', payload: Buffer.from('{"ltp":2}') },
    ]);
  });

  it('reads frames of 255 bytes as short frames and of 256 bytes and more as LONG ones', () => {
    const h = trafficHarness();
    const p255 = pattern(255, 1);
    const p256 = pattern(256, 2);
    const big = pattern(70_000, 3);
    const bytes = Buffer.concat([message(['s', p255]), message(['l', p256]), message(['b', big])]);
    // The LONG headers as the spec writes them: flags 0x02 then 8 bytes big-endian.
    expect(frame(0x00, p256).subarray(0, 9)).toStrictEqual(Buffer.from([0x02, 0, 0, 0, 0, 0, 0, 1, 0]));
    expect(h.pushAll(cut(bytes, [7, 1, 4096]))).toStrictEqual([]);
    expect(h.events).toStrictEqual([
      { kind: 'message', topic: 's', payload: p255 },
      { kind: 'message', topic: 'l', payload: p256 },
      { kind: 'message', topic: 'b', payload: big },
    ]);
  });

  it('reads a LONG frame whose size would fit a short one', () => {
    const h = trafficHarness();
    const topic = Buffer.concat([Buffer.from([0x03, 0, 0, 0, 0, 0, 0, 0, 2]), Buffer.from('ab')]);
    const payload = Buffer.concat([Buffer.from([0x02, 0, 0, 0, 0, 0, 0, 0, 1]), Buffer.from('z')]);
    expect(h.push(topic, payload)).toStrictEqual([]);
    expect(h.events).toStrictEqual([{ kind: 'message', topic: 'ab', payload: Buffer.from('z') }]);
  });

  it('gives the same messages whichever single byte the stream is cut at', () => {
    const stream = Buffer.concat([
      greeting(),
      READY_PUB,
      message(['NSE_TCS_LTP', 'x'.repeat(300)]),
      ping(1, Buffer.from('p')),
      message(['only']),
      message(['€_topic', Buffer.from([0, 1, 2])]),
    ]);
    const expected: Event[] = [
      { kind: 'message', topic: 'NSE_TCS_LTP', payload: Buffer.from('x'.repeat(300)) },
      { kind: 'bad', frames: 1 },
      { kind: 'message', topic: '€_topic', payload: Buffer.from([0, 1, 2]) },
    ];
    for (let at = 0; at <= stream.length; at++) {
      const h = harness();
      h.conn.start();
      expect(h.push(stream.subarray(0, at), stream.subarray(at))).toStrictEqual([]);
      expect(h.events).toStrictEqual(expected);
      expect(h.sent).toStrictEqual([OUR_GREETING, OUR_READY, SUBSCRIBE_ALL, command('PONG', Buffer.from('p'))]);
    }
  });

  it('delivers any list of messages cut into any chunks exactly, in order (property)', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      fc.string({ unit: 'binary', minLength: 90, maxLength: 120 }),
    );
    const size = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
      { weight: 1, arbitrary: fc.integer({ min: 256, max: 70_000 }) },
    );
    const payload = fc.tuple(size, fc.integer({ min: 0, max: 255 })).map(([n, seed]) => pattern(n, seed));
    const msg = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.tuple(text, payload).map(([topic, body]) => ({ frames: [Buffer.from(topic, 'utf8'), body] as Buffer[], topic })),
      },
      { weight: 1, arbitrary: fc.array(payload, { minLength: 1, maxLength: 1 }).map((frames) => ({ frames, topic: undefined })) },
      { weight: 1, arbitrary: fc.array(payload, { minLength: 3, maxLength: 5 }).map((frames) => ({ frames, topic: undefined })) },
    );
    // Chunk sizes, cycled: 1-byte chunks, sizes around frame headers, and large ones.
    const sizes = fc.array(fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 100_000 })), {
      minLength: 1,
      maxLength: 8,
    });

    fc.assert(
      fc.property(fc.array(msg, { maxLength: 8 }), sizes, (msgs, chunkSizes) => {
        const h = harness();
        h.conn.start();
        const stream = Buffer.concat([greeting(), READY_PUB, ...msgs.map((m) => message(m.frames))]);
        const reasons = h.pushAll(cut(stream, chunkSizes));
        const expected: Event[] = msgs.map((m) =>
          m.frames.length === 2
            ? { kind: 'message', topic: m.topic as string, payload: m.frames[1] as Buffer }
            : { kind: 'bad', frames: m.frames.length },
        );
        expect(reasons).toStrictEqual([]);
        expect(h.events).toStrictEqual(expected);
        expect(h.sent).toStrictEqual([OUR_GREETING, OUR_READY, SUBSCRIBE_ALL]);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('ZmtpSubConnection: rejections', () => {
  /** A connection that has sent its greeting; the peer's bytes so far pushed. */
  function fresh(maxFrameBytes?: number): Harness {
    const h = harness(maxFrameBytes);
    h.conn.start();
    return h;
  }

  /** After a rejection: more bytes (even a valid message) do nothing at all. */
  function expectDeaf(h: Harness): void {
    const sent = [...h.sent];
    const events = [...h.events];
    const wasReady = h.conn.ready;
    expect(h.push(greeting(), READY_PUB, message(['t', 'p']), ping(1, Buffer.from('c')))).toStrictEqual([]);
    expect(h.sent).toStrictEqual(sent);
    expect(h.events).toStrictEqual(events);
    expect(h.conn.ready).toBe(wasReady);
  }

  it("rejects an HTTP request as 'signature' at its first byte and ignores what follows", () => {
    const h = fresh();
    expect(h.conn.push(Buffer.from('G'))).toBe('signature');
    expect(h.conn.push(Buffer.from('ET / HTTP/1.1\r\n\r\n'))).toBeUndefined();
    expect(h.sent).toStrictEqual([OUR_GREETING]);
    expectDeaf(h);
  });

  it("rejects 'GET / HTTP/1.1' in one chunk as 'signature'", () => {
    const h = fresh();
    expect(h.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toStrictEqual(['signature']);
    expect(h.sent).toStrictEqual([OUR_GREETING]);
    expectDeaf(h);
  });

  it("rejects a signature whose byte 9 lacks bit 0 as 'signature'", () => {
    const h = fresh();
    expect(h.push(greeting({ byte9: 0x7e }))).toStrictEqual(['signature']);
    expect(h.sent).toStrictEqual([OUR_GREETING]);
    expectDeaf(h);
  });

  it("rejects a bad signature arriving one byte at a time as 'signature', before the greeting is whole", () => {
    const h = fresh();
    // The first chunk fails at once; later bytes are ignored.
    expect(h.pushAll(cut(greeting({ first: 0x00 }), [1]))).toStrictEqual(['signature']);
    expectDeaf(h);
  });

  it("rejects major version 2 as 'version', and does not send READY", () => {
    const h = fresh();
    expect(h.push(greeting({ major: 2, minor: 0 }))).toStrictEqual(['version']);
    expect(h.sent).toStrictEqual([OUR_GREETING]);
    expectDeaf(h);
  });

  it("rejects major version 2 arriving in 1-byte chunks as 'version'", () => {
    const h = fresh();
    expect(h.pushAll(cut(greeting({ major: 2 }), [1]))).toStrictEqual(['version']);
    expect(h.sent).toStrictEqual([OUR_GREETING]);
  });

  it.each(['PLAIN', 'CURVE', 'NULLX', 'null'])("rejects mechanism %s as 'mechanism', and does not send READY", (mechanism) => {
    const h = fresh();
    expect(h.push(greeting({ mechanism }))).toStrictEqual(['mechanism']);
    expect(h.sent).toStrictEqual([OUR_GREETING]);
    expectDeaf(h);
  });

  it("rejects a data frame before READY as 'handshake'", () => {
    const h = fresh();
    expect(h.push(greeting(), message(['t', 'p']))).toStrictEqual(['handshake']);
    expect(h.events).toStrictEqual([]);
    expect(h.sent).toStrictEqual([OUR_GREETING, OUR_READY]);
    expectDeaf(h);
  });

  it("rejects a command other than READY before READY as 'handshake'", () => {
    const h = fresh();
    expect(h.push(greeting(), ping(1, Buffer.alloc(0)))).toStrictEqual(['handshake']);
    expect(h.sent).toStrictEqual([OUR_GREETING, OUR_READY]);
    expectDeaf(h);
  });

  it.each([
    ['REQ', [['Socket-Type', 'REQ']]],
    ['SUB', [['Socket-Type', 'SUB']]],
    ['pub (lower case)', [['Socket-Type', 'pub']]],
    ['missing', [['Identity', 'abc']]],
    ['no properties', []],
  ] as const)("rejects READY with Socket-Type %s as 'socket_type', and sends no subscription", (_name, props) => {
    const h = fresh();
    expect(h.push(greeting(), ready(props))).toStrictEqual(['socket_type']);
    expect(h.sent).toStrictEqual([OUR_GREETING, OUR_READY]);
    expect(h.conn.ready).toBe(false);
    expectDeaf(h);
  });

  it("rejects READY whose property runs past the frame as 'socket_type'", () => {
    const h = fresh();
    // Socket-Type claims a 10-byte value; 3 bytes follow.
    const body = Buffer.concat([Buffer.from([11]), Buffer.from('Socket-Type'), Buffer.from([0, 0, 0, 10]), Buffer.from('PUB')]);
    expect(h.push(greeting(), command('READY', body))).toStrictEqual(['socket_type']);
    expectDeaf(h);
  });

  it.each([
    ['0x08', 0x08],
    ['0x10', 0x10],
    ['0x80', 0x80],
    ['0xff', 0xff],
  ] as const)("rejects a frame with reserved flag bits (flags %s) as 'framing'", (_hex, flags) => {
    const h = trafficHarness();
    expect(h.push(message(['a', 'b']), Buffer.from([flags, 1, 0x41]), message(['c', 'd']))).toStrictEqual(['framing']);
    expect(h.events).toStrictEqual([{ kind: 'message', topic: 'a', payload: Buffer.from('b') }]);
    expectDeaf(h);
  });

  it("rejects a command with MORE set as 'framing'", () => {
    const h = trafficHarness();
    const pingMore = ping(1, Buffer.from('c'));
    pingMore[0] = 0x05;
    expect(h.push(pingMore)).toStrictEqual(['framing']);
    expect(h.sent).toStrictEqual([]);
    expectDeaf(h);
  });

  it("rejects a command whose name runs past the frame as 'framing'", () => {
    const h = trafficHarness();
    expect(h.push(Buffer.from([0x04, 3, 9, 0x50, 0x49]))).toStrictEqual(['framing']);
    expectDeaf(h);
  });

  it("rejects a frame larger than maxFrameBytes as 'oversized' as soon as its header arrives", () => {
    const h = trafficHarness(1000);
    const head = Buffer.alloc(9);
    head[0] = 0x02;
    head.writeBigUInt64BE(1001n, 1);
    expect(h.push(head)).toStrictEqual(['oversized']);
    expectDeaf(h);
  });

  it('accepts a frame of exactly maxFrameBytes', () => {
    const h = trafficHarness(1000);
    const body = pattern(1000, 9);
    expect(h.push(message(['t', body]))).toStrictEqual([]);
    expect(h.events).toStrictEqual([{ kind: 'message', topic: 't', payload: body }]);
  });

  it("rejects a short frame larger than a small maxFrameBytes as 'oversized'", () => {
    const h = trafficHarness(100);
    expect(h.push(message(['t', pattern(101, 1)]))).toStrictEqual(['oversized']);
    expect(h.events).toStrictEqual([]);
  });

  it("rejects a LONG size with non-zero upper 32 bits as 'oversized'", () => {
    const h = trafficHarness();
    expect(h.push(Buffer.from([0x02, 0, 0, 0, 1, 0, 0, 0, 0]))).toStrictEqual(['oversized']);
    expectDeaf(h);
  });

  it("rejects a LONG header cut into 1-byte chunks as 'oversized' at its last byte", () => {
    const h = trafficHarness(1000);
    const head = Buffer.from([0x02, 0, 0, 0, 0, 0, 0, 0x03, 0xe9]);
    for (let i = 0; i < 8; i++) expect(h.conn.push(head.subarray(i, i + 1))).toBeUndefined();
    expect(h.conn.push(head.subarray(8))).toBe('oversized');
  });

  it("rejects an ERROR command as 'peer_error', during the handshake and after it", () => {
    const err = command('ERROR', Buffer.concat([Buffer.from([7]), Buffer.from('go away')]));
    const during = fresh();
    expect(during.push(greeting(), err)).toStrictEqual(['peer_error']);
    expectDeaf(during);
    const after = trafficHarness();
    expect(after.push(message(['a', 'b']), err, message(['c', 'd']))).toStrictEqual(['peer_error']);
    expect(after.events).toStrictEqual([{ kind: 'message', topic: 'a', payload: Buffer.from('b') }]);
    expectDeaf(after);
  });
});

describe('parseZmtpEndpoint', () => {
  it.each([
    ['tcp://127.0.0.1:5555', 'bind', { transport: 'tcp', host: '127.0.0.1', port: 5555 }],
    ['tcp://127.0.0.1:5555', 'connect', { transport: 'tcp', host: '127.0.0.1', port: 5555 }],
    ['tcp://*:5555', 'bind', { transport: 'tcp', host: undefined, port: 5555 }],
    ['tcp://127.0.0.1:*', 'bind', { transport: 'tcp', host: '127.0.0.1', port: 0 }],
    ['tcp://[::1]:5555', 'connect', { transport: 'tcp', host: '::1', port: 5555 }],
    ['tcp://localhost:5555', 'bind', { transport: 'tcp', host: '127.0.0.1', port: 5555 }],
    ['tcp://feed.example.com:6000', 'connect', { transport: 'tcp', host: 'feed.example.com', port: 6000 }],
    ['ipc:///tmp/x', 'bind', { transport: 'ipc', path: '/tmp/x' }],
    ['ipc://relative.sock', 'connect', { transport: 'ipc', path: 'relative.sock' }],
    ['ipc://@name', 'bind', { transport: 'ipc', path: '\0name' }],
  ] as const)('reads %s (%s)', (endpoint, role, expected) => {
    expect(parseZmtpEndpoint(endpoint, role)).toStrictEqual(expected);
  });

  it.each([
    ['inproc://x', 'bind'],
    ['inproc://x', 'connect'],
    ['pgm://eth0;239.192.1.1:5555', 'connect'],
    ['tcp://127.0.0.1:port', 'connect'],
  ] as const)('refuses %s (%s), pointing at --zmq-engine libzmq', (endpoint, role) => {
    expect(() => parseZmtpEndpoint(endpoint, role)).toThrow(`not ${endpoint}; use --zmq-engine libzmq`);
  });

  it.each([
    ['tcp://127.0.0.1', 'bind', 'tcp://127.0.0.1 names no port: write tcp://127.0.0.1:5555 (or tcp://127.0.0.1:* for any free port)'],
    ['tcp://eth0', 'bind', 'tcp://eth0 names no port: write tcp://eth0:5555 (or tcp://eth0:* for any free port)'],
    ['tcp://127.0.0.1', 'connect', 'tcp://127.0.0.1 names no port: write tcp://127.0.0.1:5555'],
    ['tcp://[::1]', 'connect', 'tcp://[::1] names no port: write tcp://[::1]:5555'],
  ] as const)('refuses %s (%s) saying the port is missing and how to write it', (endpoint, role, message) => {
    expect(() => parseZmtpEndpoint(endpoint, role)).toThrow(message);
  });

  it.each(['tcp://*:5', 'tcp://127.0.0.1:*', 'tcp://127.0.0.1:0'])('refuses to connect to %s, which names no host or port', (endpoint) => {
    expect(() => parseZmtpEndpoint(endpoint, 'connect')).toThrow(`cannot connect to ${endpoint}: it names no host or port`);
  });

  it('refuses a port above 65535 and an ipc:// endpoint without a path', () => {
    expect(() => parseZmtpEndpoint('tcp://127.0.0.1:65536', 'bind')).toThrow('endpoint tcp://127.0.0.1:65536: port out of range');
    expect(() => parseZmtpEndpoint('ipc://', 'bind')).toThrow('endpoint ipc:// names no path');
  });
});
