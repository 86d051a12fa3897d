import {
  asyncScheduler,
  BehaviorSubject,
  defer,
  EMPTY,
  filter,
  map,
  Observable,
  of,
  type SchedulerLike,
  share,
  Subject,
  type Subscriber,
  type Subscription,
  switchMap,
  take,
  throwError,
  throwIfEmpty,
  timer,
} from 'rxjs';
import { type Mode, parseMode } from '../../streams';
import { type BackoffOptions, backoffDelay, resolveBackoff } from './backoff';
import { TickcastAuthError, TickcastConnectionError, TickcastServerError, TickcastSubscribeError } from './errors';
import {
  answerTypeOf,
  isErrorEnvelope,
  isMarketData,
  isOrderUpdate,
  keyId,
  parseServerFrame,
  type SubscriptionKey,
  subscribeReplyEntries,
} from './frames';
import type {
  ClientRequest,
  MarketData,
  ModeInput,
  OrderUpdate,
  ServerFrame,
  TickcastStatus,
  WebSocketCtor,
  WebSocketLike,
} from './types';

/** Options of {@link createTickcastClient}. */
export interface TickcastClientOptions {
  /** The proxy's WebSocket URL, e.g. `ws://127.0.0.1:8765` (any path is accepted). */
  readonly url: string;
  /** The API key the proxy is configured with. Never logged by the client. */
  readonly apiKey: string;
  /**
   * The WebSocket class. Default: the global `WebSocket` (browsers, Node 22+). In Node 20 pass the
   * `ws` package's class: `import WebSocket from 'ws'`.
   */
  readonly WebSocketCtor?: WebSocketCtor;
  /** Reconnection delays; see {@link BackoffOptions} for the defaults. */
  readonly backoff?: Partial<BackoffOptions>;
  /**
   * How long a key stays subscribed on the server after its last observer left, in ms, so a view
   * that re-renders does not unsubscribe and subscribe again. Default 1000; 0 unsubscribes at once.
   */
  readonly unsubscribeGraceMs?: number;
  /**
   * Ask a Tickcast proxy for batched delivery: market data arrives every `batchMs` as one
   * `market_data_batch` frame, which costs the proxy far less per update at many clients. The
   * client unpacks batches, so `ticks$` and `ltp$` see the same frames either way. Default 0 (one
   * frame per update; OpenAlgo's proxy knows no batching — leave it 0 there).
   */
  readonly batchMs?: number;
  /** Time source of every timer (backoff, grace). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Numbers in [0, 1) for the backoff jitter. Default `Math.random`; inject a constant in tests. */
  readonly random?: () => number;
}

/**
 * A connection to a Tickcast (or OpenAlgo) market-data proxy that survives disconnects. Create one
 * with {@link createTickcastClient}.
 */
export interface TickcastClient {
  /**
   * The connection's state, replayed to late subscribers: `connecting` → `open` ⇄ `reconnecting`,
   * `closed` (then complete) after {@link TickcastClient.close}. Errors with a `TickcastAuthError`
   * when the server refuses the key, or a `TickcastConnectionError` when `backoff.maxAttempts` runs
   * out; the client has then stopped.
   */
  readonly status$: Observable<TickcastStatus>;
  /**
   * Ticks of one (exchange, symbol, mode). Every observer of a key shares ONE server subscription,
   * made when the first observer subscribes and dropped `unsubscribeGraceMs` after the last leaves.
   * The stream survives reconnects (the client subscribes again and ticks resume); it completes on
   * `close()` and errors with a `TickcastSubscribeError` when the server refuses the subscription.
   *
   * Frames are routed by the `mode` the server tags them with. When this client holds several modes
   * of one symbol, the server sends each tick ONCE, tagged with the highest held mode at or below
   * the tick's own mode; so a mode-1 stream sees only the LTP ticks once mode 2 is also held.
   *
   * @param mode 1, 2, 3 or `'LTP'`, `'Quote'`, `'Depth'` (case-insensitive); anything else errors
   *   the stream with `InvalidModeError`.
   */
  ticks$(symbol: string, exchange: string, mode: ModeInput): Observable<MarketData>;
  /** `data.ltp` of the mode-1 (LTP) ticks of a symbol: `ticks$(symbol, exchange, 1)` mapped. */
  ltp$(symbol: string, exchange: string): Observable<number>;
  /**
   * Order updates of this API key's user (`subscribe_orders`), ref-counted and re-subscribed on
   * reconnect like {@link TickcastClient.ticks$}.
   */
  readonly orders$: Observable<OrderUpdate>;
  /**
   * Sends one request once the client is `open` and emits the server's answer (then completes),
   * correlated by a `request_id` the client assigns. An error envelope errors with a
   * `TickcastServerError`; a connection that closes first errors with a `TickcastConnectionError`.
   * Subscriptions are not requests: use `ticks$` and `orders$` for them.
   *
   * @example
   * client.request({ action: 'get_broker_info' }).subscribe((info) => console.log(info['broker']));
   */
  request(message: ClientRequest): Observable<ServerFrame>;
  /** Error envelopes the server sent that answer no request of this client (e.g. `RATE_LIMITED`). */
  readonly errors$: Observable<TickcastServerError>;
  /** Every JSON frame the server sends, as parsed, for debugging and for frame types not covered here. */
  readonly messages$: Observable<ServerFrame>;
  /** Closes for good: `status$` emits `closed` and completes, every tick stream completes. Idempotent. */
  close(): void;
}

/**
 * Connects to a Tickcast proxy and keeps the connection: authenticates, multiplexes observers onto
 * one server subscription per (exchange, symbol, mode), reconnects with capped exponential backoff
 * on any close it did not ask for, and re-subscribes what is still observed. Browser-safe.
 *
 * Throws at once on invalid options, or when the WebSocket class is missing or refuses the URL.
 *
 * @example
 * import WebSocket from 'ws'; // Node 20; in a browser leave WebSocketCtor out
 * const client = createTickcastClient({ url: 'ws://127.0.0.1:8765', apiKey: KEY, WebSocketCtor: WebSocket });
 * client.ltp$('RELIANCE', 'NSE').subscribe((ltp) => console.log(ltp));
 * client.ticks$('NIFTY', 'NSE_INDEX', 'Quote').subscribe((t) => console.log(t.data.volume));
 */
export function createTickcastClient(options: TickcastClientOptions): TickcastClient {
  return new Client(options);
}

const SOCKET_OPEN = 1;
const DEFAULT_GRACE_MS = 1000;
/** Actions the client owns; sending them through `request` would desynchronise its bookkeeping. */
const OWNED_ACTIONS = new Set([
  'authenticate',
  'auth',
  'subscribe',
  'unsubscribe',
  'unsubscribe_all',
  'subscribe_orders',
  'unsubscribe_orders',
]);
const noop = (): void => {};

/** A key some observer wants; `held` while the server has (or is being asked for) it on this connection. */
interface KeyEntry extends SubscriptionKey {
  readonly id: string;
  readonly subscriber: Subscriber<MarketData>;
  held: boolean;
}

interface OrdersEntry {
  readonly subscriber: Subscriber<OrderUpdate>;
  held: boolean;
}

/** A request waiting for its answer. */
interface Pending {
  /** The `type` of the answer, to match servers that do not echo `request_id`. */
  readonly answerType: string;
  reply(frame: ServerFrame): void;
  refused(error: TickcastServerError): void;
  dropped(error: Error): void;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class Client implements TickcastClient {
  readonly status$: Observable<TickcastStatus>;
  readonly errors$: Observable<TickcastServerError>;
  readonly messages$: Observable<ServerFrame>;
  readonly orders$: Observable<OrderUpdate>;

  private readonly url: string;
  private readonly apiKey: string;
  private readonly Ctor: WebSocketCtor;
  private readonly backoff: Readonly<BackoffOptions>;
  private readonly graceMs: number;
  private readonly scheduler: SchedulerLike;
  private readonly random: () => number;

  private readonly status = new BehaviorSubject<TickcastStatus>('connecting');
  private readonly errors = new Subject<TickcastServerError>();
  private readonly messages = new Subject<ServerFrame>();
  private readonly pending = new Map<string, Pending>();
  private readonly keys = new Map<string, KeyEntry>();
  private readonly streams = new Map<string, Observable<MarketData>>();
  private orders: OrdersEntry | undefined;

  private socket: WebSocketLike | undefined;
  private authenticated = false;
  private readonly batchMs: number;
  /** Consecutive connection attempts that did not reach a successful authentication. */
  private failedAttempts = 0;
  private retry: Subscription | undefined;
  private stopped: { readonly error?: Error } | undefined;
  private lastRequestId = 0;

  constructor(options: TickcastClientOptions) {
    this.url = options.url;
    this.apiKey = options.apiKey;
    const Ctor = options.WebSocketCtor ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (!Ctor) {
      throw new TypeError(
        'No WebSocket class: this runtime has no global WebSocket. Pass WebSocketCtor (in Node 20: `import WebSocket from "ws"`).',
      );
    }
    this.Ctor = Ctor;
    this.backoff = resolveBackoff(options.backoff);
    this.graceMs = options.unsubscribeGraceMs ?? DEFAULT_GRACE_MS;
    if (!(this.graceMs >= 0 && Number.isFinite(this.graceMs))) {
      throw new RangeError(`unsubscribeGraceMs must be a finite number ≥ 0, got ${this.graceMs}.`);
    }
    this.batchMs = options.batchMs ?? 0;
    if (!(Number.isInteger(this.batchMs) && this.batchMs >= 0)) {
      throw new RangeError(`batchMs must be a whole number of ms ≥ 0, got ${this.batchMs}.`);
    }
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.random = options.random ?? Math.random;
    const status$ = this.status.asObservable();
    // A completed BehaviorSubject replays nothing: tell late subscribers that the client is closed.
    this.status$ = defer(() => (this.stopped && !this.stopped.error ? of<TickcastStatus>('closed') : status$));
    this.errors$ = this.errors.asObservable();
    this.messages$ = this.messages.asObservable();
    this.orders$ = this.withGrace(new Observable<OrderUpdate>((subscriber) => this.holdOrders(subscriber)));
    this.connect(true);
  }

  ticks$(symbol: string, exchange: string, mode: ModeInput): Observable<MarketData> {
    return defer(() => {
      const key: SubscriptionKey = { symbol, exchange, mode: parseMode(mode) };
      const id = keyId(exchange, symbol, key.mode);
      let stream = this.streams.get(id);
      if (!stream) {
        const shared: Observable<MarketData> = this.withGrace(
          new Observable<MarketData>((subscriber) => {
            const teardown = this.holdKey(key, id, subscriber);
            return () => {
              if (this.streams.get(id) === shared) this.streams.delete(id);
              teardown();
            };
          }),
        );
        stream = shared;
        this.streams.set(id, stream);
      }
      return stream;
    });
  }

  ltp$(symbol: string, exchange: string): Observable<number> {
    return this.ticks$(symbol, exchange, 1).pipe(
      map((frame) => frame.data.ltp),
      filter((ltp): ltp is number => typeof ltp === 'number' && Number.isFinite(ltp)),
    );
  }

  request(message: ClientRequest): Observable<ServerFrame> {
    return defer(() => {
      if (OWNED_ACTIONS.has(message.action)) {
        return throwError(
          () => new TypeError(`request() does not send "${message.action}": the client manages it; use ticks$ or orders$.`),
        );
      }
      return this.status$.pipe(
        filter((status) => status === 'open'),
        take(1),
        throwIfEmpty(() => new TickcastConnectionError('The client was closed before the request could be sent.')),
        switchMap(() => this.exchange(message)),
      );
    });
  }

  close(): void {
    if (this.stopped) return;
    this.shutdown(new TickcastConnectionError('The client was closed before the server answered.'));
    this.stopped = {};
    for (const entry of [...this.keys.values()]) entry.subscriber.complete();
    this.orders?.subscriber.complete();
    this.status.next('closed');
    this.status.complete();
    this.errors.complete();
    this.messages.complete();
  }

  // --- subscriptions ---------------------------------------------------------------------------

  /** One server subscription per key while observed, kept `graceMs` after the last observer left. */
  private withGrace<T>(source: Observable<T>): Observable<T> {
    const graceMs = this.graceMs;
    return source.pipe(
      share({ resetOnRefCountZero: graceMs > 0 ? () => timer(graceMs, this.scheduler) : true }),
    );
  }

  /** Ends `subscriber` as the client ended (error or complete) if it has stopped; true if so. */
  private endIfStopped(subscriber: Subscriber<unknown>): boolean {
    if (!this.stopped) return false;
    if (this.stopped.error) subscriber.error(this.stopped.error);
    else subscriber.complete();
    return true;
  }

  private holdKey(key: SubscriptionKey, id: string, subscriber: Subscriber<MarketData>): () => void {
    if (this.endIfStopped(subscriber)) return noop;
    const entry: KeyEntry = { ...key, id, subscriber, held: false };
    this.keys.set(id, entry);
    if (this.authenticated) this.subscribeKeys(key.mode, [entry]);
    return () => {
      if (this.keys.get(id) === entry) this.keys.delete(id);
      if (entry.held && this.authenticated) this.unsubscribeKey(entry);
    };
  }

  private subscribeKeys(mode: Mode, entries: readonly KeyEntry[]): void {
    const requestId = this.nextRequestId();
    for (const entry of entries) entry.held = true;
    this.pending.set(requestId, {
      answerType: 'subscribe',
      reply: (frame) => this.onSubscribeReply(entries, frame, requestId),
      refused: (error) => {
        for (const entry of entries) this.rejectKey(entry, error.code, error.serverMessage, requestId);
      },
      dropped: noop,
    });
    this.send({
      action: 'subscribe',
      symbols: entries.map(({ symbol, exchange }) => ({ symbol, exchange })),
      mode,
      request_id: requestId,
    });
  }

  private onSubscribeReply(entries: readonly KeyEntry[], frame: ServerFrame, requestId: string): void {
    const results = new Map(subscribeReplyEntries(frame).map((r) => [JSON.stringify([r.exchange, r.symbol]), r]));
    for (const entry of entries) {
      const result = results.get(JSON.stringify([entry.exchange, entry.symbol]));
      if (result ? result.status === 'error' : frame.status === 'error') {
        const code = result?.code ?? frame.code ?? 'SUBSCRIBE_FAILED';
        this.rejectKey(entry, code, result?.message ?? frame.message ?? 'subscription failed', requestId);
      }
    }
  }

  private rejectKey(entry: KeyEntry, code: string, message: string, requestId: string): void {
    if (this.keys.get(entry.id) !== entry) return;
    entry.held = false;
    const { symbol, exchange, mode } = entry;
    entry.subscriber.error(new TickcastSubscribeError(code, message, symbol, exchange, mode, requestId));
  }

  private unsubscribeKey({ symbol, exchange, mode }: KeyEntry): void {
    this.fireAndForget('unsubscribe', { symbols: [{ symbol, exchange, mode }] });
  }

  private holdOrders(subscriber: Subscriber<OrderUpdate>): () => void {
    if (this.endIfStopped(subscriber)) return noop;
    const entry: OrdersEntry = { subscriber, held: false };
    this.orders = entry;
    if (this.authenticated) this.subscribeOrders(entry);
    return () => {
      if (this.orders === entry) this.orders = undefined;
      if (entry.held && this.authenticated) this.fireAndForget('unsubscribe_orders', {});
    };
  }

  private subscribeOrders(entry: OrdersEntry): void {
    entry.held = true;
    const reject = (error: TickcastServerError): void => {
      if (this.orders !== entry) return;
      entry.held = false;
      entry.subscriber.error(error);
    };
    const requestId = this.nextRequestId();
    this.pending.set(requestId, {
      answerType: 'subscribe_orders',
      reply: (frame) => {
        if (frame.status === 'error') {
          reject(new TickcastServerError(frame.code ?? 'SUBSCRIBE_FAILED', frame.message ?? '', requestId));
        }
      },
      refused: reject,
      dropped: noop,
    });
    this.send({ action: 'subscribe_orders', request_id: requestId });
  }

  /** A request whose answer nobody waits for; a refusal goes to `errors$`. */
  private fireAndForget(action: string, body: Record<string, unknown>): void {
    const requestId = this.nextRequestId();
    this.pending.set(requestId, {
      answerType: answerTypeOf(action),
      reply: noop,
      refused: (error) => this.errors.next(error),
      dropped: noop,
    });
    this.send({ action, ...body, request_id: requestId });
  }

  private exchange(message: ClientRequest): Observable<ServerFrame> {
    return new Observable<ServerFrame>((subscriber) => {
      const requestId = this.nextRequestId();
      this.pending.set(requestId, {
        answerType: answerTypeOf(message.action),
        reply: (frame) => {
          subscriber.next(frame);
          subscriber.complete();
        },
        refused: (error) => subscriber.error(error),
        dropped: (error) => subscriber.error(error),
      });
      this.send({ ...message, request_id: requestId });
      return () => this.pending.delete(requestId);
    });
  }

  // --- connection ------------------------------------------------------------------------------

  private connect(first = false): void {
    this.retry = undefined;
    let socket: WebSocketLike;
    try {
      socket = new this.Ctor(this.url);
    } catch (err) {
      if (first) throw err;
      this.fail(new TickcastConnectionError(`Could not open a WebSocket to ${this.url}: ${describe(err)}`));
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket === socket) this.authenticate();
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.onMessage(event.data);
    };
    // An error is always followed by a close event, which is where the client reacts.
    socket.onerror = noop;
    socket.onclose = (event) => {
      if (this.socket === socket) this.onDrop(`code ${event.code}${event.reason ? `, ${event.reason}` : ''}`);
    };
  }

  private authenticate(): void {
    const requestId = this.nextRequestId();
    const refuse = (code: string, message: string): void => this.fail(new TickcastAuthError(code, message, requestId));
    this.pending.set(requestId, {
      answerType: 'auth',
      reply: (frame) => {
        if (frame.status === 'success') this.onAuthenticated();
        else refuse(frame.code ?? 'AUTHENTICATION_ERROR', frame.message ?? 'authentication failed');
      },
      refused: (error) => {
        if (error.code === 'AUTHENTICATION_ERROR') refuse(error.code, error.serverMessage);
        else this.abandonConnection(`authentication answered ${error.code}`);
      },
      dropped: noop,
    });
    this.send({ action: 'authenticate', api_key: this.apiKey, request_id: requestId });
  }

  private onAuthenticated(): void {
    this.authenticated = true;
    this.failedAttempts = 0;
    // Before any subscription, so even the snapshots arrive batched.
    if (this.batchMs > 0) this.fireAndForget('set_options', { batch_ms: this.batchMs });
    const byMode = new Map<Mode, KeyEntry[]>();
    for (const entry of this.keys.values()) {
      const list = byMode.get(entry.mode);
      if (list) list.push(entry);
      else byMode.set(entry.mode, [entry]);
    }
    for (const mode of [1, 2, 3] as const) {
      const list = byMode.get(mode);
      if (list) this.subscribeKeys(mode, list);
    }
    if (this.orders) this.subscribeOrders(this.orders);
    // Announced last: an observer that subscribes a new key on `open` then sends its own request,
    // instead of being caught in the bulk re-subscription as well.
    this.setStatus('open');
  }

  private onMessage(data: unknown): void {
    const frame = parseServerFrame(data);
    if (!frame) return;
    if (frame.type === 'market_data_batch' && Array.isArray(frame['ticks'])) {
      // A batch is its frames in order: each is handled exactly as if it had come alone.
      for (const tick of frame['ticks'] as unknown[]) {
        if (tick !== null && typeof tick === 'object' && !Array.isArray(tick)) this.onFrame(tick as ServerFrame);
      }
    } else {
      this.onFrame(frame);
    }
    this.messages.next(frame);
  }

  private onFrame(frame: ServerFrame): void {
    if (isMarketData(frame)) {
      this.keys.get(keyId(frame.exchange, frame.symbol, frame.mode))?.subscriber.next(frame);
    } else if (isOrderUpdate(frame)) {
      this.orders?.subscriber.next(frame);
    } else if (isErrorEnvelope(frame)) {
      this.onErrorEnvelope(frame);
    } else {
      this.takePending(frame)?.reply(frame);
    }
  }

  private onErrorEnvelope(frame: ServerFrame): void {
    const code = typeof frame.code === 'string' ? frame.code : 'SERVER_ERROR';
    const message = typeof frame.message === 'string' ? frame.message : '';
    const requestId = typeof frame.request_id === 'string' ? frame.request_id : undefined;
    const pending = requestId === undefined ? undefined : this.pending.get(requestId);
    if (pending && requestId !== undefined) {
      this.pending.delete(requestId);
      pending.refused(new TickcastServerError(code, message, requestId));
    } else if (!this.authenticated && code === 'AUTHENTICATION_ERROR') {
      // OpenAlgo does not echo request_id; before authentication this can only answer our key.
      this.fail(new TickcastAuthError(code, message, requestId));
    } else {
      this.errors.next(new TickcastServerError(code, message, requestId));
    }
  }

  /** The request `frame` answers: by `request_id`, else the oldest one waiting for its `type`. */
  private takePending(frame: ServerFrame): Pending | undefined {
    let id: string | undefined;
    if (typeof frame.request_id === 'string') id = frame.request_id;
    else if (frame.request_id === undefined) {
      for (const [pendingId, pending] of this.pending) {
        if (pending.answerType === frame.type) {
          id = pendingId;
          break;
        }
      }
    }
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (id !== undefined) this.pending.delete(id);
    return pending;
  }

  /** The connection is gone without the client asking: schedule the next attempt. */
  private onDrop(why: string): void {
    this.socket = undefined;
    this.authenticated = false;
    for (const entry of this.keys.values()) entry.held = false;
    if (this.orders) this.orders.held = false;
    if (this.failedAttempts >= this.backoff.maxAttempts) {
      this.fail(
        new TickcastConnectionError(
          `Gave up on ${this.url} after ${this.failedAttempts} failed reconnection attempts (last: ${why}). ` +
            'Check that the proxy is running and reachable, or raise backoff.maxAttempts.',
        ),
      );
      return;
    }
    const delay = backoffDelay(this.failedAttempts, this.backoff, this.random);
    this.failedAttempts++;
    this.setStatus('reconnecting');
    this.dropPending(new TickcastConnectionError(`The connection closed (${why}) before the server answered.`));
    this.retry = this.scheduler.schedule(() => this.connect(), delay);
  }

  /** Closes a connection that cannot go on (and is retried like any drop). */
  private abandonConnection(why: string): void {
    const socket = this.socket;
    this.socket = undefined;
    closeQuietly(socket, 1000, 'client reconnecting');
    this.onDrop(why);
  }

  /** The client stops for good on `error`. */
  private fail(error: Error): void {
    if (this.stopped) return;
    this.shutdown(error);
    this.stopped = { error };
    for (const entry of [...this.keys.values()]) entry.subscriber.error(error);
    this.orders?.subscriber.error(error);
    this.status.error(error);
    this.errors.complete();
    this.messages.complete();
  }

  private shutdown(pendingError: Error): void {
    this.authenticated = false;
    this.retry?.unsubscribe();
    this.retry = undefined;
    const socket = this.socket;
    this.socket = undefined;
    closeQuietly(socket, 1000, 'client closed');
    this.dropPending(pendingError);
  }

  private dropPending(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.dropped(error);
  }

  private send(message: Record<string, unknown>): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== SOCKET_OPEN) return;
    try {
      socket.send(JSON.stringify(message));
    } catch {
      // The socket is closing; its close event will reconnect and re-subscribe.
    }
  }

  private setStatus(status: TickcastStatus): void {
    if (this.status.value !== status) this.status.next(status);
  }

  private nextRequestId(): string {
    return `tc${++this.lastRequestId}`;
  }
}

function closeQuietly(socket: WebSocketLike | undefined, code: number, reason: string): void {
  if (!socket) return;
  try {
    socket.close(code, reason);
  } catch {
    // Already closing, or a runtime that refuses to close a connecting socket: nothing to undo.
  }
}
