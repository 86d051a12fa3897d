/**
 * The SUB side of ZMTP 3 (ZeroMQ's wire protocol, RFC 23 and RFC 37) in TypeScript over `node:net`:
 * the default way the proxy reads its feed.
 *
 * Why not libzmq (the `zeromq` package)? Through the binding every message costs a hop across the
 * libzmq I/O thread (a pipe write and an eventfd signal), a poll of the socket and one N-API call
 * with a Promise and two Buffers in JavaScript. Here a publisher's TCP stream arrives in the event
 * loop as one chunk per read, carrying however many messages the kernel had: the frames are cut
 * out of it in a loop, the payload is a view into the chunk, and there is no second thread. On the
 * benchmark's feed this halves the CPU the receive path costs (see bench/README.md).
 *
 * What it speaks: ZMTP 3.0 framing with the NULL security mechanism over `tcp://` and `ipc://`,
 * binding (publishers connect: the default fan-in) or connecting (publishers bind; reconnects every
 * `reconnectIvlMs` like libzmq). It announces version 3.0, so libzmq peers (4.x, also 3.1 ones)
 * take subscriptions as messages and speak 3.0 framing. It subscribes to everything, answers PING
 * with PONG, and checks that the peer is a PUB or XPUB. CURVE/PLAIN, ZMTP 1.0/2.0 peers (libzmq
 * 2.x/3.x) and other transports are not spoken: use the libzmq engine for them.
 *
 * Hostile or broken peers cost a connection, never the process: a bad greeting, another mechanism,
 * a wrong socket type, a malformed frame or one larger than `maxFrameBytes` closes that connection
 * and is reported with a reason.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { connect as netConnect, createServer, isIP, type Server, type Socket } from 'node:net';

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
  | 'timeout';

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

/** ZMTP 3.0 subscription: a one-frame message `\x01` + prefix; the empty prefix takes every topic. */
const SUBSCRIBE_ALL = Buffer.from([0x00, 0x01, 0x01]);

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
  private heldBytes = 0;
  private need = 1;
  /** The message being assembled: frames seen so far and its first frame as text. */
  private frames = 0;
  private topic = '';
  /** The peer's socket type, once its READY arrived. */
  peerType: string | undefined;

  constructor(
    private readonly send: (bytes: Buffer) => void,
    private readonly handlers: ZmtpHandlers,
    private readonly maxFrameBytes = 64 * 1024 * 1024,
  ) {}

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
    if (this.heldBytes > 0) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.heldBytes < this.need) return undefined;
      buf = Buffer.concat(this.held, this.heldBytes);
      this.held.length = 0;
      this.heldBytes = 0;
    }
    const reason = this.parse(buf);
    if (reason !== undefined) {
      this.phase = Phase.Failed;
      this.held.length = 0;
      this.heldBytes = 0;
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
    this.heldBytes = rest.length;
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
      this.send(SUBSCRIBE_ALL);
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

/** A parsed endpoint the engine can serve. */
export type ZmtpEndpoint =
  | { readonly transport: 'tcp'; readonly host: string | undefined; readonly port: number }
  | { readonly transport: 'ipc'; readonly path: string };

/**
 * Parses `tcp://HOST:PORT` (HOST may be `*` for every interface when binding, `[v6]`, or a name;
 * PORT may be `*` or 0 for any free port when binding) and `ipc://PATH` (`@name`: Linux abstract
 * namespace). Throws, naming the engine to use instead, for anything else.
 */
export function parseZmtpEndpoint(endpoint: string, role: 'bind' | 'connect'): ZmtpEndpoint {
  if (endpoint.startsWith('ipc://')) {
    const path = endpoint.slice('ipc://'.length);
    if (path.length === 0) throw new Error(`endpoint ${endpoint} names no path`);
    return { transport: 'ipc', path: path.startsWith('@') ? `\0${path.slice(1)}` : path };
  }
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/[\]]+):(\d+|\*)$/.exec(endpoint);
  if (m === null) {
    throw new Error(
      `the built-in ZMTP engine reads tcp://HOST:PORT and ipc://PATH endpoints, not ${endpoint}; use --zmq-engine libzmq for other transports`,
    );
  }
  const rawHost = m[1] as string;
  const port = m[2] === '*' ? 0 : Number(m[2]);
  if (port > 65535) throw new Error(`endpoint ${endpoint}: port out of range`);
  if (role === 'connect' && (rawHost === '*' || port === 0)) throw new Error(`cannot connect to ${endpoint}: it names no host or port`);
  // `localhost` is 127.0.0.1, as libzmq (IPv4 unless ZMQ_IPV6) reads it; Node might pick ::1.
  const host = rawHost === '*' ? undefined : rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost === 'localhost' ? '127.0.0.1' : rawHost;
  return { transport: 'tcp', host, port };
}

/** Options of {@link ZmtpSubscriber}. */
export interface ZmtpSubscriberOptions {
  /** A frame larger than this closes its connection ('oversized'). Default 64 MiB. */
  readonly maxFrameBytes?: number;
  /** Wait between connection attempts to a publisher that binds. Default 100 ms (libzmq's). */
  readonly reconnectIvlMs?: number;
  /** A peer that has not finished the handshake by then is dropped ('timeout'). Default 30 s. */
  readonly handshakeTimeoutMs?: number;
  /** Told when a connection is closed for a protocol reason. */
  readonly onReject?: (reason: ZmtpRejectReason, peer: string) => void;
  /** Told the number of publishers with the handshake done, whenever it changes. */
  readonly onPeers?: (count: number) => void;
}

/**
 * A SUB socket on the ZMTP engine: binds and/or connects, one {@link ZmtpSubConnection} per
 * publisher, every message to `handlers`. Messages of one publisher arrive in order; publishers are
 * served as their bytes arrive.
 */
export class ZmtpSubscriber {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly ipcPaths: string[] = [];
  private closed = false;
  /** Publishers connected with the handshake done. */
  peers = 0;
  /** Connections closed for a protocol reason. */
  rejected = 0;

  constructor(
    private readonly handlers: ZmtpHandlers,
    private readonly options: ZmtpSubscriberOptions = {},
  ) {}

  /** Listens on `endpoint`; resolves with the endpoint actually bound (a free port resolved). */
  async bind(endpoint: string): Promise<string> {
    const ep = parseZmtpEndpoint(endpoint, 'bind');
    const server = createServer({ noDelay: true }, (socket) => this.attach(socket, undefined));
    if (ep.transport === 'ipc') removeStaleSocket(ep.path);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = (): void => {
        server.off('error', reject);
        resolve();
      };
      if (ep.transport === 'ipc') server.listen(ep.path, done);
      else if (ep.host === undefined) server.listen(ep.port, done);
      else server.listen(ep.port, ep.host, done);
    });
    // After start-up a listener error (rare: the fd failing) must not crash the process.
    server.on('error', () => undefined);
    if (this.closed) {
      server.close();
      throw new Error('socket closed');
    }
    this.servers.push(server);
    if (ep.transport === 'ipc') {
      if (!ep.path.startsWith('\0')) this.ipcPaths.push(ep.path);
      return endpoint;
    }
    const address = server.address();
    if (address === null || typeof address === 'string') return endpoint;
    const host = ep.host === undefined ? '0.0.0.0' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `tcp://${host}:${address.port}`;
  }

  /** Connects to a publisher that binds `endpoint`, and keeps reconnecting until closed. */
  connect(endpoint: string): void {
    const ep = parseZmtpEndpoint(endpoint, 'connect');
    const dial = (): void => {
      if (this.closed) return;
      // IPv4 for names, as libzmq resolves them unless ZMQ_IPV6 is set.
      const socket =
        ep.transport === 'ipc'
          ? netConnect({ path: ep.path })
          : netConnect({ host: ep.host, port: ep.port, noDelay: true, ...(isIP(ep.host ?? '') === 0 ? { family: 4 } : {}) });
      this.attach(socket, () => {
        if (this.closed) return;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          dial();
        }, this.options.reconnectIvlMs ?? 100);
        this.timers.add(timer);
      });
    };
    dial();
  }

  /** Closes listeners and connections; no handler is called afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const server of this.servers) server.close();
    this.servers.length = 0;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    for (const path of this.ipcPaths) removeStaleSocket(path);
    if (this.peers !== 0) {
      this.peers = 0;
      this.options.onPeers?.(0);
    }
  }

  private attach(socket: Socket, onClosed: (() => void) | undefined): void {
    this.sockets.add(socket);
    // Named when needed: a connecting socket has no remote address yet.
    const peer = (): string => (socket.remoteAddress !== undefined ? `${socket.remoteAddress}:${socket.remotePort ?? ''}` : 'ipc');
    let counted = false;
    const conn = new ZmtpSubConnection(
      (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      this.handlers,
      this.options.maxFrameBytes,
    );
    const reject = (reason: ZmtpRejectReason): void => {
      this.rejected++;
      this.options.onReject?.(reason, peer());
      socket.destroy();
    };
    const handshake = setTimeout(() => reject('timeout'), this.options.handshakeTimeoutMs ?? 30_000);
    handshake.unref();
    const opened = (): void => conn.start();
    if (socket.connecting) socket.once('connect', opened);
    else opened();
    socket.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      const reason = conn.push(chunk);
      if (!counted && conn.ready) {
        counted = true;
        clearTimeout(handshake);
        this.peers++;
        this.options.onPeers?.(this.peers);
      }
      if (reason !== undefined) reject(reason);
    });
    // Errors (a reset, a refused connect) end in 'close', where the connection is cleaned up.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(handshake);
      this.sockets.delete(socket);
      if (counted && !this.closed) {
        this.peers--;
        this.options.onPeers?.(this.peers);
      }
      onClosed?.();
    });
  }
}

/** libzmq removes a socket file left behind by an earlier process before binding: so do we. */
function removeStaleSocket(path: string): void {
  if (path.startsWith('\0')) return;
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Not there: nothing to remove.
  }
}
