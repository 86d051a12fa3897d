import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { nowNs } from './common';

/** What a {@link RawWebSocket} tells its owner. */
export interface RawWebSocketHandlers {
  /**
   * A whole text or binary message: `buf[start, end)`. `recvNs` is when the chunk holding its last
   * byte was read. The bytes are only valid during the call.
   */
  onMessage(buf: Buffer, start: number, end: number, recvNs: number): void;
  onClose(why: string): void;
}

const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

/**
 * The smallest WebSocket client that can measure a server: RFC 6455 over a plain TCP socket, no
 * extensions, unfragmented frames in (the servers measured never fragment), masked frames out,
 * pings answered. It hands out message bytes in place instead of decoding them, so one process
 * can read hundreds of thousands of frames a second and leave the CPU to the server under test.
 * The `ws` package would do, at several times the cost per frame.
 */
export class RawWebSocket {
  private rest: Buffer | undefined;
  private open = false;
  private closed = false;
  /** Frames of a kind this client does not take apart (fragments, reserved opcodes). */
  unsupported = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly handlers: RawWebSocketHandlers,
  ) {}

  /** Connects and completes the opening handshake; rejects on refusal or after `timeoutMs`. */
  static connect(port: number, handlers: RawWebSocketHandlers, timeoutMs = 10_000): Promise<RawWebSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.setNoDelay(true);
      const ws = new RawWebSocket(socket, handlers);
      let header = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new Error(`WebSocket handshake with 127.0.0.1:${port} timed out`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const onHandshake = (chunk: Buffer): void => {
        header = Buffer.concat([header, chunk]);
        const end = header.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onHandshake);
        clearTimeout(timer);
        const status = header.toString('latin1', 0, header.indexOf('\r\n'));
        if (!/^HTTP\/1\.1 101 /.test(status)) return fail(new Error(`WebSocket upgrade refused: ${status}`));
        ws.open = true;
        socket.on('data', (data: Buffer) => ws.onData(data));
        resolve(ws);
        if (end + 4 < header.length) ws.onData(header.subarray(end + 4));
      };
      socket.on('data', onHandshake);
      socket.once('error', (err) => (ws.open ? ws.finish(`error: ${err.message}`) : fail(err)));
      socket.once('close', () => ws.finish('socket closed'));
      socket.once('connect', () => {
        const key = randomBytes(16).toString('base64');
        socket.write(
          `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
    });
  }

  /** Sends one text message. */
  sendText(text: string): void {
    this.sendFrame(OP_TEXT, Buffer.from(text, 'utf8'));
  }

  /** Closes with a close frame, then the socket. */
  close(): void {
    if (this.closed) return;
    this.sendFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]));
    this.socket.end();
    this.finish('closed by client');
  }

  /** Drops the TCP connection without a close frame. */
  destroy(): void {
    this.socket.destroy();
    this.finish('destroyed by client');
  }

  private finish(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(why);
  }

  private sendFrame(opcode: number, payload: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    const len = payload.length;
    const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(head + 4 + len);
    frame[0] = 0x80 | opcode;
    if (head === 2) frame[1] = 0x80 | len;
    else if (head === 4) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(len, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(len), 2);
    }
    const mask = randomBytes(4);
    mask.copy(frame, head);
    for (let i = 0; i < len; i++) frame[head + 4 + i] = (payload[i] as number) ^ (mask[i & 3] as number);
    this.socket.write(frame);
  }

  private onData(chunk: Buffer): void {
    const recvNs = nowNs();
    const buf = this.rest === undefined ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = undefined;
    const size = buf.length;
    let off = 0;
    while (size - off >= 2) {
      const b0 = buf[off] as number;
      let len = (buf[off + 1] as number) & 0x7f;
      let head = 2;
      if (len === 126) {
        if (size - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        head = 4;
      } else if (len === 127) {
        if (size - off < 10) break;
        len = Number(buf.readBigUInt64BE(off + 2));
        head = 10;
      }
      const start = off + head;
      const end = start + len;
      if (end > size) break;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x80) === 0 || opcode === OP_CONT) this.unsupported++;
      else if (opcode === OP_TEXT || opcode === OP_BINARY) this.handlers.onMessage(buf, start, end, recvNs);
      else if (opcode === OP_PING) this.sendFrame(0xa, Buffer.from(buf.subarray(start, end)));
      else if (opcode === OP_CLOSE) {
        this.close();
        return;
      }
      off = end;
    }
    if (off < size) this.rest = Buffer.from(buf.subarray(off));
  }
}
