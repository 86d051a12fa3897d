import { lstatSync, unlinkSync } from 'node:fs';
import { connect as netConnect, createServer, isIP, type Server, type Socket } from 'node:net';
import { Backoff } from '../backoff';
import { DEFAULT_MAX_MESSAGE_BYTES, type ZmtpHandlers, type ZmtpRejectReason, ZmtpSubConnection } from './codec';
import { parseZmtpEndpoint } from './endpoint';

/** The default cap on publisher connections accepted on bound endpoints. */
export const DEFAULT_MAX_PUBLISHERS = 256;
/** The default cap on bytes held in unfinished messages, summed over every connection. */
export const DEFAULT_MAX_PARTIAL_BYTES = 64 * 1024 * 1024;

/** Options of {@link ZmtpSubscriber}. */
export interface ZmtpSubscriberOptions {
  /** A frame larger than this closes its connection ('oversized') at its header. Default 1 MiB. */
  readonly maxFrameBytes?: number;
  /**
   * Connections accepted on bound endpoints (handshake done or not); one more is closed at once
   * ('too_many_publishers'). Connections this socket dials are configured, so not counted. Default 256.
   */
  readonly maxPublishers?: number;
  /**
   * Bytes held in unfinished frames over all connections. When a read takes the sum past this, the
   * connection holding the most is closed ('partial_bytes'). Default 64 MiB.
   */
  readonly maxPartialBytes?: number;
  /** First wait before redialling a publisher that binds; doubles per failed attempt. Default 100 ms. */
  readonly reconnectIvlMs?: number;
  /** Cap of that wait; back to the first after a handshake. Default 5 s. */
  readonly reconnectIvlMaxMs?: number;
  /** A peer that has not finished the handshake by then is dropped ('timeout'). Default 30 s. */
  readonly handshakeTimeoutMs?: number;
  /** The topics to subscribe at start. Default: every topic (`['']`). */
  readonly topics?: Iterable<string>;
  /** Told when a connection is closed for a protocol reason or a cap. */
  readonly onReject?: (reason: ZmtpRejectReason, peer: string) => void;
  /** Told the number of publishers with the handshake done, whenever it changes. */
  readonly onPeers?: (count: number) => void;
  /** Told when dialling `endpoint` failed (the error's code, e.g. ENOTFOUND) and when it is retried. */
  readonly onDialError?: (endpoint: string, err: NodeJS.ErrnoException, retryInMs: number) => void;
}

/** One open connection and what it holds. */
interface Conn {
  readonly socket: Socket;
  readonly codec: ZmtpSubConnection;
  /** Bytes its codec held after its last read: its share of {@link ZmtpSubscriber.partialBytes}. */
  held: number;
  /** Closed by us; its further bytes are ignored. */
  dead: boolean;
  reject(reason: ZmtpRejectReason): void;
}

/**
 * A SUB socket on the built-in engine: binds and/or connects, one {@link ZmtpSubConnection} per
 * publisher, every message to `handlers`. Messages of one publisher arrive in order; publishers are
 * served as their bytes arrive. Subscriptions go to every connected publisher, and a publisher that
 * connects later is sent the current set, as libzmq does.
 */
export class ZmtpSubscriber {
  private readonly servers: Server[] = [];
  private readonly conns = new Map<Socket, Conn>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly ipcPaths: string[] = [];
  private readonly topics: Set<string>;
  private closed = false;
  /** Connections accepted on bound endpoints, open now. */
  private accepted = 0;
  /** Publishers connected with the handshake done. */
  peers = 0;
  /** Connections closed for a protocol reason or a cap. */
  rejected = 0;
  /** Bytes held in unfinished frames over every connection. */
  partialBytes = 0;

  constructor(
    private readonly handlers: ZmtpHandlers,
    private readonly options: ZmtpSubscriberOptions = {},
  ) {
    this.topics = new Set(options.topics ?? ['']);
  }

  /** Subscribes `topic` (a prefix, as in ZeroMQ) at every publisher, now and later ones. */
  subscribe(topic: string): void {
    if (this.topics.has(topic)) return;
    this.topics.add(topic);
    for (const conn of this.conns.values()) conn.codec.subscribe(topic);
  }

  /** Cancels `topic` at every publisher. */
  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    for (const conn of this.conns.values()) conn.codec.cancel(topic);
  }

  /** Listens on `endpoint`; resolves with the endpoint actually bound (a free port resolved). */
  async bind(endpoint: string): Promise<string> {
    const ep = parseZmtpEndpoint(endpoint, 'bind');
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
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

  /**
   * Connects to a publisher that binds `endpoint`, and redials until closed: after a failed attempt
   * or a lost connection it waits `reconnectIvlMs`, doubling per failure up to `reconnectIvlMaxMs`.
   */
  connect(endpoint: string): void {
    const ep = parseZmtpEndpoint(endpoint, 'connect');
    const backoff = new Backoff(this.options.reconnectIvlMs ?? 100, this.options.reconnectIvlMaxMs ?? 5000);
    const dial = (): void => {
      if (this.closed) return;
      // IPv4 for names, as libzmq resolves them unless ZMQ_IPV6 is set.
      const socket =
        ep.transport === 'ipc'
          ? netConnect({ path: ep.path })
          : netConnect({ host: ep.host, port: ep.port, noDelay: true, ...(isIP(ep.host ?? '') === 0 ? { family: 4 } : {}) });
      let connected = false;
      let failure: NodeJS.ErrnoException | undefined;
      socket.once('connect', () => (connected = true));
      socket.once('error', (err: NodeJS.ErrnoException) => {
        if (!connected) failure = err;
      });
      this.attach(
        socket,
        () => backoff.reset(),
        () => {
          if (this.closed) return;
          const wait = backoff.next();
          if (failure !== undefined) this.options.onDialError?.(endpoint, failure, wait);
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            dial();
          }, wait);
          this.timers.add(timer);
        },
      );
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
    for (const socket of this.conns.keys()) socket.destroy();
    this.conns.clear();
    this.partialBytes = 0;
    for (const path of this.ipcPaths) removeStaleSocket(path);
    if (this.peers !== 0) {
      this.peers = 0;
      this.options.onPeers?.(0);
    }
  }

  /** A publisher connected to a bound endpoint: served unless that is one too many. */
  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.accepted >= (this.options.maxPublishers ?? DEFAULT_MAX_PUBLISHERS)) {
      this.rejected++;
      this.options.onReject?.('too_many_publishers', peerName(socket));
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    this.accepted++;
    socket.once('close', () => this.accepted--);
    this.attach(socket, undefined, undefined);
  }

  private attach(socket: Socket, onHandshake: (() => void) | undefined, onClosed: (() => void) | undefined): void {
    let counted = false;
    const codec = new ZmtpSubConnection(
      (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      this.handlers,
      this.options.maxFrameBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      () => this.topics,
    );
    const conn: Conn = {
      socket,
      codec,
      held: 0,
      dead: false,
      reject: (reason) => {
        if (conn.dead) return;
        conn.dead = true;
        this.partialBytes -= conn.held;
        conn.held = 0;
        this.rejected++;
        this.options.onReject?.(reason, peerName(socket));
        socket.destroy();
      },
    };
    this.conns.set(socket, conn);
    const handshake = setTimeout(() => conn.reject('timeout'), this.options.handshakeTimeoutMs ?? 30_000);
    handshake.unref();
    const opened = (): void => codec.start();
    if (socket.connecting) socket.once('connect', opened);
    else opened();
    socket.on('data', (chunk: Buffer) => {
      if (this.closed || conn.dead) return;
      const reason = codec.push(chunk);
      this.partialBytes += codec.heldBytes - conn.held;
      conn.held = codec.heldBytes;
      if (!counted && codec.ready) {
        counted = true;
        clearTimeout(handshake);
        this.peers++;
        this.options.onPeers?.(this.peers);
        onHandshake?.();
      }
      if (reason !== undefined) conn.reject(reason);
      else if (this.partialBytes > (this.options.maxPartialBytes ?? DEFAULT_MAX_PARTIAL_BYTES))
        this.largestHolder(conn).reject('partial_bytes');
    });
    // Errors (a reset, a refused connect) end in 'close', where the connection is cleaned up.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(handshake);
      this.conns.delete(socket);
      this.partialBytes -= conn.held;
      conn.held = 0;
      conn.dead = true;
      if (counted && !this.closed) {
        this.peers--;
        this.options.onPeers?.(this.peers);
      }
      onClosed?.();
    });
  }

  /** The connection holding the most partial bytes (`fallback` on a tie): the one a cap closes. */
  private largestHolder(fallback: Conn): Conn {
    let largest = fallback;
    for (const conn of this.conns.values()) if (!conn.dead && conn.held > largest.held) largest = conn;
    return largest;
  }
}

/** A connection's peer for logs; a connecting or ipc socket has no remote address. */
function peerName(socket: Socket): string {
  return socket.remoteAddress !== undefined ? `${socket.remoteAddress}:${socket.remotePort ?? ''}` : 'ipc';
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
