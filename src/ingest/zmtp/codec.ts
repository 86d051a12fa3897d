/**
 * The SUB side of ZMTP 3 (ZeroMQ's wire protocol, RFC 23 and RFC 37) as a codec: bytes in, messages
 * and control bytes out, no sockets, no timers. Pure, so it is tested by cutting streams at every
 * byte (test/zmtp.test.ts); the sockets around it live in ./subscriber.ts.
 *
 * What it speaks: ZMTP 3.0 framing with the NULL security mechanism. It announces version 3.0, so
 * libzmq peers (4.x, also 3.1 ones) take subscriptions as messages (`0x01` + topic to subscribe,
 * `0x00` + topic to cancel) and speak 3.0 framing. It answers PING with PONG and checks that the peer
 * is a PUB or XPUB. CURVE/PLAIN and ZMTP 1.0/2.0 peers (libzmq 2.x/3.x) are not spoken.
 *
 * Memory grows only with bytes received: a frame whose header announces N bytes is held as the
 * chunks that arrived, never allocated up front, and {@link ZmtpSubConnection.heldBytes} says how
 * much is held so the socket layer can cap it across connections.
 */

/** Why a publisher's connection was closed. */
export type ZmtpRejectReason =
  | 'signature'
  | 'version'
  | 'mechanism'
  | 'handshake'
  | 'socket_type'
  | 'framing'
  | 'oversized'
  | 'peer_error'
  | 'timeout'
  | 'too_many_publishers'
  | 'partial_bytes';

/** Every {@link ZmtpRejectReason}, for counters with a fixed label set. */
export const ZMTP_REJECT_REASONS: readonly ZmtpRejectReason[] = [
  'signature',
  'version',
  'mechanism',
  'handshake',
  'socket_type',
  'framing',
  'oversized',
  'peer_error',
  'timeout',
  'too_many_publishers',
  'partial_bytes',
];

/** The default largest frame (topic or payload) a publisher may send: ticks are a few KB at most. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** What a connection hands up. */
export interface ZmtpHandlers {
  /** A two-frame message `[topic, payload]`; `payload` is a view into the read buffer. */
  message(topic: string, payload: Buffer): void;
  /** A message with another number of frames, dropped. */
  badMessage(frameCount: number): void;
}

const GREETING_BYTES = 64;
const FLAG_MORE = 0x01;
const FLAG_LONG = 0x02;
const FLAG_COMMAND = 0x04;
const FLAG_RESERVED = 0xf8;

/** Our greeting: signature, version 3.0, mechanism NULL, not as-server. */
const GREETING = ((): Buffer => {
  const g = Buffer.alloc(GREETING_BYTES);
  g[0] = 0xff;
  g[8] = 0x01;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 0;
  g.write('NULL', 12, 'latin1');
  return g;
})();

/** A short command frame: flags, size, then `\len name` and `body`. */
function commandFrame(name: string, body: Buffer): Buffer {
  const size = 1 + name.length + body.length;
  if (size > 255) throw new Error(`ZMTP command ${name} too long for a short frame`);
  return Buffer.concat([Buffer.from([FLAG_COMMAND, size, name.length]), Buffer.from(name, 'latin1'), body]);
}

/** The READY command of a SUB: one property, Socket-Type = SUB. */
const READY = ((): Buffer => {
  const name = Buffer.from('Socket-Type', 'latin1');
  const value = Buffer.from('SUB', 'latin1');
  const prop = Buffer.alloc(1 + name.length + 4 + value.length);
  prop[0] = name.length;
  name.copy(prop, 1);
  prop.writeUInt32BE(value.length, 1 + name.length);
  value.copy(prop, 1 + name.length + 4);
  return commandFrame('READY', prop);
})();

/**
 * A ZMTP 3.0 subscription (`on`) or cancel: a one-frame message `0x01` or `0x00` + the topic prefix;
 * the empty prefix is every topic.
 */
export function subscriptionFrame(on: boolean, topic: string): Buffer {
  const body = Buffer.from(topic, 'utf8');
  const size = body.length + 1;
  const head = size > 255 ? Buffer.from([FLAG_LONG, 0, 0, 0, 0, 0, 0, 0, 0]) : Buffer.from([0x00, size]);
  if (size > 255) head.writeUInt32BE(size, 5);
  return Buffer.concat([head, Buffer.from([on ? 0x01 : 0x00]), body]);
}

/** Every topic: what a SUB sends unless told otherwise. */
const EVERY_TOPIC: readonly string[] = [''];

/** Reads the `Socket-Type` property of a READY body (after its name), or undefined. */
function socketTypeOf(body: Buffer, from: number, to: number): string | undefined {
  let i = from;
  while (i < to) {
    const nameLen = body[i] as number;
    const nameEnd = i + 1 + nameLen;
    if (nameEnd + 4 > to) return undefined;
    const valueLen = body.readUInt32BE(nameEnd);
    const valueEnd = nameEnd + 4 + valueLen;
    if (valueEnd > to) return undefined;
    if (body.toString('latin1', i + 1, nameEnd).toLowerCase() === 'socket-type') return body.toString('latin1', nameEnd + 4, valueEnd);
    i = valueEnd;
  }
  return undefined;
}

const enum Phase {
  Greeting,
  Handshake,
  Traffic,
  Failed,
}

/**
 * One publisher connection, without the socket: bytes in (`push`), control bytes out (`send`),
 * messages up (`handlers`). Pure, so it is tested by cutting streams at every byte.
 */
export class ZmtpSubConnection {
  private phase = Phase.Greeting;
  /** Bytes received but not yet parsed, and how many are needed before parsing can go on. */
  private readonly held: Buffer[] = [];
  private heldCount = 0;
  private need = 1;
  /** The message being assembled: frames seen so far and its first frame as text. */
  private frames = 0;
  private topic = '';
  /** The peer's socket type, once its READY arrived. */
  peerType: string | undefined;

  /**
   * @param maxFrameBytes a larger frame closes the connection ('oversized') as soon as its header
   *   arrives, before any of it is held.
   * @param topics the subscriptions to send once the peer's READY arrived (every topic by default);
   *   later changes go through {@link subscribe} and {@link cancel}.
   */
  constructor(
    private readonly send: (bytes: Buffer) => void,
    private readonly handlers: ZmtpHandlers,
    private readonly maxFrameBytes = DEFAULT_MAX_MESSAGE_BYTES,
    private readonly topics: () => Iterable<string> = () => EVERY_TOPIC,
  ) {}

  /** Bytes of an unfinished frame (or greeting) held until the rest arrives. */
  get heldBytes(): number {
    return this.heldCount;
  }

  /** Subscribes the peer to `topic`, once messages flow; before that the READY sends {@link topics}. */
  subscribe(topic: string): void {
    if (this.phase === Phase.Traffic) this.send(subscriptionFrame(true, topic));
  }

  /** Cancels a subscription of `topic` at the peer. */
  cancel(topic: string): void {
    if (this.phase === Phase.Traffic) this.send(subscriptionFrame(false, topic));
  }

  /** Writes our greeting; call once the connection is open. */
  start(): void {
    this.send(GREETING);
  }

  /** True once both READY commands crossed and messages flow. */
  get ready(): boolean {
    return this.phase === Phase.Traffic;
  }

  /**
   * Takes the next bytes from the peer. Returns why the connection must close, or undefined. After a
   * reason was returned, further bytes are ignored.
   */
  push(chunk: Buffer): ZmtpRejectReason | undefined {
    if (this.phase === Phase.Failed) return undefined;
    let buf = chunk;
    if (this.heldCount > 0) {
      this.held.push(chunk);
      this.heldCount += chunk.length;
      if (this.heldCount < this.need) return undefined;
      buf = Buffer.concat(this.held, this.heldCount);
      this.held.length = 0;
      this.heldCount = 0;
    }
    const reason = this.parse(buf);
    if (reason !== undefined) {
      this.phase = Phase.Failed;
      this.held.length = 0;
      this.heldCount = 0;
    }
    return reason;
  }

  private parse(buf: Buffer): ZmtpRejectReason | undefined {
    const len = buf.length;
    let i = 0;
    if (len === 0) return undefined;
    if (this.phase === Phase.Greeting) {
      // Refuse early what cannot become a ZMTP 3 greeting, so a stray client does not hang on.
      if ((buf[0] as number) !== 0xff) return 'signature';
      if (len >= 10 && ((buf[9] as number) & 0x01) === 0) return 'signature';
      if (len >= 11 && (buf[10] as number) < 3) return 'version';
      if (len < GREETING_BYTES) return this.hold(buf, 0, GREETING_BYTES);
      if (buf.toString('latin1', 12, 32) !== 'NULL\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0') return 'mechanism';
      i = GREETING_BYTES;
      this.phase = Phase.Handshake;
      this.send(READY);
    }
    const handlers = this.handlers;
    let frames = this.frames;
    while (i < len) {
      if (len - i < 2) return this.holdAt(buf, i, 2, frames);
      const flags = buf[i] as number;
      if ((flags & FLAG_RESERVED) !== 0) return 'framing';
      let start: number;
      let size: number;
      if ((flags & FLAG_LONG) !== 0) {
        if (len - i < 9) return this.holdAt(buf, i, 9, frames);
        if (buf.readUInt32BE(i + 1) !== 0) return 'oversized';
        size = buf.readUInt32BE(i + 5);
        start = i + 9;
      } else {
        size = buf[i + 1] as number;
        start = i + 2;
      }
      if (size > this.maxFrameBytes) return 'oversized';
      const end = start + size;
      if (end > len) return this.holdAt(buf, i, end - i, frames);
      i = end;
      if ((flags & FLAG_COMMAND) !== 0) {
        if ((flags & FLAG_MORE) !== 0) return 'framing';
        const reason = this.command(buf, start, end);
        if (reason !== undefined) return reason;
        continue;
      }
      if (this.phase !== Phase.Traffic) return 'handshake';
      frames++;
      if ((flags & FLAG_MORE) !== 0) {
        if (frames === 1) this.topic = buf.toString('utf8', start, end);
        continue;
      }
      if (frames === 2) handlers.message(this.topic, buf.subarray(start, end));
      else handlers.badMessage(frames);
      frames = 0;
    }
    this.frames = frames;
    return undefined;
  }

  /** Keeps `buf[from..]` until `need` bytes (from `from`) are there. */
  private hold(buf: Buffer, from: number, need: number): undefined {
    const rest = from === 0 ? buf : buf.subarray(from);
    this.held.push(rest);
    this.heldCount = rest.length;
    this.need = need;
    return undefined;
  }

  private holdAt(buf: Buffer, from: number, need: number, frames: number): undefined {
    this.frames = frames;
    return this.hold(buf, from, need);
  }

  private command(buf: Buffer, start: number, end: number): ZmtpRejectReason | undefined {
    if (end - start < 1) return 'framing';
    const nameLen = buf[start] as number;
    const bodyAt = start + 1 + nameLen;
    if (bodyAt > end) return 'framing';
    const name = buf.toString('latin1', start + 1, bodyAt);
    if (name === 'ERROR') return 'peer_error';
    if (this.phase === Phase.Handshake) {
      if (name !== 'READY') return 'handshake';
      const type = socketTypeOf(buf, bodyAt, end);
      if (type !== 'PUB' && type !== 'XPUB') return 'socket_type';
      this.peerType = type;
      this.phase = Phase.Traffic;
      // Only now: libzmq takes anything that arrives before it sent its own READY as a handshake
      // command, and would close on our subscription.
      for (const topic of this.topics()) this.send(subscriptionFrame(true, topic));
      return undefined;
    }
    if (name === 'PING') {
      // PING = TTL (2 bytes) + context (0..16 bytes); PONG echoes the context.
      const contextAt = Math.min(bodyAt + 2, end);
      this.send(commandFrame('PONG', Buffer.from(buf.subarray(contextAt, Math.min(end, contextAt + 16)))));
    }
    return undefined;
  }
}
