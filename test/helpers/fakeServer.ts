import { ReplaySubject, type SchedulerLike } from 'rxjs';
import type { WebSocketCtor, WebSocketLike } from '../../src/client';

/** The API key {@link FakeServer} accepts unless told otherwise. */
export const GOOD_KEY = 'good-key';

/** Options of {@link FakeServer}. */
export interface FakeServerOptions {
  /** Every event of the fake (opening, refusing, answering) happens through this, at delay 0. */
  readonly scheduler: SchedulerLike;
  readonly apiKey?: string;
  /** Connection attempts (numbered from 0) that fail: error + close 1006 without ever opening. */
  readonly refuse?: (attempt: number) => boolean;
  /** Connection attempts that open but are never answered (the client waits for its auth reply). */
  readonly silent?: (attempt: number) => boolean;
  /** An error envelope to answer a frame with instead of the usual answer; `undefined` answers as usual. */
  readonly envelope?: (frame: Record<string, unknown>) => { code: string; message: string } | undefined;
  /** Actions the server never answers. */
  readonly ignore?: readonly string[];
  /** Symbols whose subscribe entries the server answers with an error entry. */
  readonly rejectSymbols?: readonly string[];
  /** Whether answers echo `request_id` (Tickcast does; OpenAlgo does not). Default true. */
  readonly echoRequestId?: boolean;
  /** A snapshot `data` to send after a subscribe reply, per newly held key. */
  readonly snapshot?: (exchange: string, symbol: string, mode: number) => Record<string, unknown> | undefined;
}

type Frame = Record<string, unknown>;

/**
 * A stand-in for the proxy, in virtual time: its WebSocket class (`Ctor`) records every client
 * frame and answers authenticate / subscribe / unsubscribe / ping as `protocol.md` says. The log is
 * a ReplaySubject of short strings, so a marble test can assert what reached the server and when.
 */
export class FakeServer {
  readonly sockets: FakeSocket[] = [];
  /** `connect#N`, `authenticate#N`, `subscribe#N <mode> <EX:SYM ...>`, `unsubscribe#N <EX:SYM:M ...>`, `closed#N <code>`, ... */
  readonly log = new ReplaySubject<string>();
  /** Every frame clients sent, parsed, in order. */
  readonly frames: Frame[] = [];
  readonly Ctor: WebSocketCtor;

  constructor(readonly options: FakeServerOptions) {
    const server = this;
    this.Ctor = class extends FakeSocket {
      constructor(url: string) {
        super(server, url);
      }
    };
  }

  /** Socket number `n` (0 = the first connection attempt). */
  socket(n: number): FakeSocket {
    const socket = this.sockets[n];
    if (!socket) throw new Error(`no socket #${n}: only ${this.sockets.length} were opened`);
    return socket;
  }

  /** The newest socket. */
  get last(): FakeSocket {
    return this.socket(this.sockets.length - 1);
  }

  /** Runs `work` after the current event, as a real network would. */
  later(work: () => void): void {
    this.options.scheduler.schedule(work);
  }
}

/** One fake connection: the client side is the WebSocket API, the rest is the server's hand. */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  readonly n: number;
  /** Keys this connection holds on the server: `EX:SYM:M`. */
  readonly held = new Set<string>();

  constructor(
    private readonly server: FakeServer,
    readonly url: string,
  ) {
    this.n = server.sockets.length;
    server.sockets.push(this);
    server.log.next(`connect#${this.n}`);
    const refuse = server.options.refuse?.(this.n) ?? false;
    server.later(() => (refuse ? this.refuse() : this.accept()));
  }

  // --- the client's side ---

  send(text: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    const frame = JSON.parse(text) as Frame;
    this.server.frames.push(frame);
    this.server.log.next(describeFrame(frame, this.n));
    this.server.later(() => this.answer(frame));
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.server.log.next(`closed#${this.n} ${code ?? 1005}`);
    this.server.later(() => this.onclose?.({ code: code ?? 1005, reason: reason ?? '' }));
  }

  // --- the server's side ---

  /** Pushes a frame to the client (if this connection is still open). */
  push(frame: Frame): void {
    if (this.readyState === 1) this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** Pushes a `market_data` frame tagged `mode`. */
  tick(exchange: string, symbol: string, mode: number, data: Record<string, unknown>): void {
    this.push(marketData(exchange, symbol, mode, data));
  }

  /** The server closes the connection (1001: it is shutting down). */
  drop(code = 1001, reason = 'server shutting down'): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  private accept(): void {
    if (this.readyState !== 0) return;
    this.readyState = 1;
    this.onopen?.({});
  }

  private refuse(): void {
    if (this.readyState !== 0) return;
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006, reason: '' });
  }

  private answer(frame: Frame): void {
    const { options } = this.server;
    const action = frame['action'];
    if (options.silent?.(this.n) || options.ignore?.includes(String(action))) return;
    const echo = options.echoRequestId !== false && frame['request_id'] !== undefined ? { request_id: frame['request_id'] } : {};
    const envelope = options.envelope?.(frame);
    if (envelope) {
      this.push({ status: 'error', ...envelope, ...echo });
    } else if (action === 'authenticate') {
      if (frame['api_key'] === (options.apiKey ?? GOOD_KEY)) {
        this.push({ type: 'auth', status: 'success', message: 'Authentication successful', broker: 'fake', user_id: 'u1', ...echo });
      } else {
        this.push({ status: 'error', code: 'AUTHENTICATION_ERROR', message: 'Invalid API key', ...echo });
      }
    } else if (action === 'subscribe') {
      this.answerSubscribe(frame, echo);
    } else if (action === 'unsubscribe') {
      const items = frame['symbols'] as { symbol: string; exchange: string; mode: number }[];
      for (const { exchange, symbol, mode } of items) this.held.delete(`${exchange}:${symbol}:${mode}`);
      const successful = items.map(({ symbol, exchange }) => ({ symbol, exchange, status: 'success', broker: 'fake' }));
      this.push({ type: 'unsubscribe', status: 'success', successful, failed: [], broker: 'fake', ...echo });
    } else if (action === 'ping') {
      this.push({ type: 'pong', status: 'success', server_timestamp: 0, ...echo });
    } else if (action === 'subscribe_orders' || action === 'unsubscribe_orders') {
      this.push({ type: action, status: 'success', message: 'ok', ...echo });
    } else {
      this.push({ status: 'error', code: 'INVALID_ACTION', message: `Invalid action: ${String(action)}`, ...echo });
    }
  }

  private answerSubscribe(frame: Frame, echo: Frame): void {
    const { rejectSymbols = [], snapshot } = this.server.options;
    const mode = frame['mode'] as number;
    const items = frame['symbols'] as { symbol: string; exchange: string }[];
    const fresh: string[] = [];
    const subscriptions = items.map(({ symbol, exchange }) => {
      if (rejectSymbols.includes(symbol)) {
        return { symbol, exchange, status: 'error', code: 'NO_SUCH_SYMBOL', message: `unknown symbol ${symbol}`, broker: 'fake' };
      }
      const key = `${exchange}:${symbol}:${mode}`;
      if (!this.held.has(key)) fresh.push(key);
      this.held.add(key);
      return { symbol, exchange, status: 'success', mode: ['LTP', 'Quote', 'Depth'][mode - 1], depth: 5, broker: 'fake' };
    });
    const failed = subscriptions.filter((s) => s.status === 'error').length;
    const status = failed === 0 ? 'success' : failed === subscriptions.length ? 'error' : 'partial';
    this.push({ type: 'subscribe', status, subscriptions, message: 'Subscription processing complete', broker: 'fake', ...echo });
    for (const key of fresh) {
      const [exchange = '', symbol = ''] = key.split(':');
      const data = snapshot?.(exchange, symbol, mode);
      if (data) this.tick(exchange, symbol, mode, data);
    }
  }
}

/** A `market_data` frame as the proxy sends it. */
export function marketData(exchange: string, symbol: string, mode: number, data: Record<string, unknown>): Frame {
  return { type: 'market_data', symbol, exchange, mode, data, broker: 'fake' };
}

function describeFrame(frame: Frame, n: number): string {
  const action = String(frame['action']);
  if (action === 'subscribe') {
    const items = frame['symbols'] as { symbol: string; exchange: string }[];
    return `subscribe#${n} ${String(frame['mode'])} ${items.map((i) => `${i.exchange}:${i.symbol}`).join(' ')}`;
  }
  if (action === 'unsubscribe') {
    const items = frame['symbols'] as { symbol: string; exchange: string; mode: number }[];
    return `unsubscribe#${n} ${items.map((i) => `${i.exchange}:${i.symbol}:${i.mode}`).join(' ')}`;
  }
  return `${action}#${n}`;
}
