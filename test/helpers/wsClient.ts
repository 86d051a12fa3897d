import WebSocket, { type ClientOptions } from 'ws';
import { Inbox } from './inbox';

/** A parsed server frame. Tests read its fields freely and assert them exactly. */
export type Msg = Record<string, any>;

/** Matches a frame. */
export type Predicate = (msg: Msg) => boolean;

/** How a connection ended, as the client saw it. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** Frames whose `type` is `t`. */
export const ofType =
  (t: string): Predicate =>
  (m) =>
    m['type'] === t;

/** `market_data` frames, optionally only those of one symbol. */
export const marketData =
  (symbol?: string): Predicate =>
  (m) =>
    m['type'] === 'market_data' && (symbol === undefined || m['symbol'] === symbol);

/** Error envelopes (`status: error` and no `type`). */
export const isError: Predicate = (m) => m['status'] === 'error' && m['type'] === undefined;

/**
 * A WebSocket client for tests: every text frame is parsed and queued; {@link next} takes the first
 * queued (or future) frame that matches, leaving the others queued in order; {@link collect} takes
 * whatever arrives over a span. Close codes and reasons are kept.
 */
export class TestClient {
  /** Frames received and not yet taken, in arrival order. */
  private readonly inbox = new Inbox<Msg>('frame');
  /** Frames that arrived as binary (the protocol speaks text only). */
  binaryFrames = 0;
  /** Every frame's raw text length, for tests about sizes. */
  bytesReceived = 0;
  /** Set once the connection ended. */
  closeInfo: CloseInfo | undefined;
  /** Resolves when the connection ends, however it ends. */
  readonly closed: Promise<CloseInfo>;
  readonly errors: Error[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('error', (err) => this.errors.push(err));
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        this.inbox.end(`connection closed (${code} ${this.closeInfo.reason})`);
        resolve(this.closeInfo);
      });
    });
  }

  /** Opens a connection; rejects when the server refuses the upgrade. */
  static open(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    const client = new TestClient(ws);
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
        ws.off('open', ok);
        reject(err);
      };
      const ok = (): void => {
        ws.off('error', fail);
        resolve(client);
      };
      ws.once('open', ok);
      ws.once('error', fail);
      ws.once('unexpected-response', (_req, res) => fail(new Error(`upgrade refused with HTTP ${res.statusCode}`)));
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends `msg` as one JSON text frame. */
  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** Sends `text` as-is in one text frame. */
  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** Sends `msg` and resolves with the first frame matching `predicate` (default: the next frame). */
  request(msg: unknown, predicate?: Predicate, timeoutMs?: number): Promise<Msg> {
    this.send(msg);
    return this.next(predicate, timeoutMs);
  }

  /**
   * The first queued or future frame that matches (any frame when no predicate). Frames that do not
   * match stay queued. Rejects after `timeoutMs`, naming what was queued.
   */
  next(predicate: Predicate = () => true, timeoutMs = 3000): Promise<Msg> {
    return this.inbox.next(predicate, timeoutMs);
  }

  /** Takes every frame queued now. */
  drain(): Msg[] {
    return this.inbox.drain();
  }

  /** Removes the queued frames that match; returns how many. */
  discard(predicate: Predicate): number {
    return this.inbox.discard(predicate);
  }

  /** Waits `ms` and takes every frame queued by then. */
  async collect(ms: number): Promise<Msg[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.drain();
  }

  /** Frames queued now, without taking them. */
  peek(): readonly Msg[] {
    return this.inbox.peek();
  }

  /** Closes with a close frame; resolves once closed (cutting the socket if the server is silent). */
  async close(code = 1000): Promise<void> {
    if (this.closeInfo) return;
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
    } else {
      this.ws.close(code);
    }
    const cut = setTimeout(() => this.ws.terminate(), 1000);
    await this.closed;
    clearTimeout(cut);
  }

  /** Drops the TCP connection without a close frame. */
  async terminate(): Promise<void> {
    if (this.closeInfo) return;
    this.ws.terminate();
    await this.closed;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) this.binaryFrames++;
    const text = data.toString('utf8');
    this.bytesReceived += data.length;
    let msg: Msg;
    try {
      msg = JSON.parse(text) as Msg;
    } catch {
      msg = { __unparsed: text };
    }
    this.inbox.push(msg);
  }
}
