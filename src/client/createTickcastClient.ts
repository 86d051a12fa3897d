import {
  asyncScheduler,
  BehaviorSubject,
  defer,
  filter,
  map,
  Observable,
  of,
  type SchedulerLike,
  Subject,
  switchMap,
  take,
  throwError,
  throwIfEmpty,
} from 'rxjs';
import { type BackoffOptions, resolveBackoff } from './backoff';
import { Connection } from './connection';
import { TickcastAuthError, TickcastConnectionError, TickcastServerError } from './errors';
import { isErrorEnvelope, isMarketData, isOrderUpdate, parseServerFrame } from './frames';
import { PendingRequests } from './pendingRequests';
import { SubscriptionRegistry } from './subscriptions';
import type { ClientRequest, MarketData, ModeInput, OrderUpdate, ServerFrame, TickcastStatus, WebSocketCtor } from './types';

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

/**
 * The client as its users see it, wiring three parts: {@link PendingRequests} (ids and answers),
 * {@link SubscriptionRegistry} (what is observed, ref-counted, re-subscribed after a reconnect) and
 * {@link Connection} (sockets, authentication, backoff). It owns the status and error streams and
 * routes each inbound frame.
 */
class Client implements TickcastClient {
  readonly status$: Observable<TickcastStatus>;
  readonly errors$: Observable<TickcastServerError>;
  readonly messages$: Observable<ServerFrame>;
  readonly orders$: Observable<OrderUpdate>;

  private readonly status = new BehaviorSubject<TickcastStatus>('connecting');
  private readonly errors = new Subject<TickcastServerError>();
  private readonly messages = new Subject<ServerFrame>();
  private readonly pending: PendingRequests;
  private readonly registry: SubscriptionRegistry;
  private readonly connection: Connection;
  private readonly batchMs: number;
  private stopped: { readonly error?: Error } | undefined;

  constructor(options: TickcastClientOptions) {
    const Ctor = options.WebSocketCtor ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (!Ctor) {
      throw new TypeError(
        'No WebSocket class: this runtime has no global WebSocket (Node 20 has none). Pass WebSocketCtor from the ws package: ' +
          'run `npm install ws`, then `import WebSocket from "ws"` and createTickcastClient({ ..., WebSocketCtor: WebSocket }).',
      );
    }
    const backoff = resolveBackoff(options.backoff);
    const graceMs = options.unsubscribeGraceMs ?? DEFAULT_GRACE_MS;
    if (!(graceMs >= 0 && Number.isFinite(graceMs))) {
      throw new RangeError(`unsubscribeGraceMs must be a finite number ≥ 0, got ${graceMs}.`);
    }
    this.batchMs = options.batchMs ?? 0;
    if (!(Number.isInteger(this.batchMs) && this.batchMs >= 0)) {
      throw new RangeError(`batchMs must be a whole number of ms ≥ 0, got ${this.batchMs}.`);
    }
    const scheduler: SchedulerLike = options.scheduler ?? asyncScheduler;
    this.pending = new PendingRequests((message) => this.connection.send(message));
    this.connection = new Connection(
      { url: options.url, apiKey: options.apiKey, Ctor, backoff, scheduler, random: options.random ?? Math.random },
      this.pending,
      {
        authenticated: () => this.onAuthenticated(),
        message: (data) => this.onMessage(data),
        dropped: (why) => {
          this.registry.dropped();
          this.setStatus('reconnecting');
          this.pending.dropAll(new TickcastConnectionError(`The connection closed (${why}) before the server answered.`));
        },
        fatal: (error) => this.fail(error),
      },
    );
    this.registry = new SubscriptionRegistry(
      {
        pending: this.pending,
        authenticated: () => this.connection.authenticated,
        stopped: () => this.stopped,
        unanswered: (error) => this.errors.next(error),
      },
      graceMs,
      scheduler,
    );
    const status$ = this.status.asObservable();
    // A completed BehaviorSubject replays nothing: tell late subscribers that the client is closed.
    this.status$ = defer(() => (this.stopped && !this.stopped.error ? of<TickcastStatus>('closed') : status$));
    this.errors$ = this.errors.asObservable();
    this.messages$ = this.messages.asObservable();
    this.orders$ = this.registry.orders$;
    this.connection.start();
  }

  ticks$(symbol: string, exchange: string, mode: ModeInput): Observable<MarketData> {
    return this.registry.ticks$(symbol, exchange, mode);
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
    this.registry.end();
    this.status.next('closed');
    this.status.complete();
    this.errors.complete();
    this.messages.complete();
  }

  private exchange(message: ClientRequest): Observable<ServerFrame> {
    return new Observable<ServerFrame>((subscriber) => {
      const requestId = this.pending.ask(message, {
        reply: (frame) => {
          subscriber.next(frame);
          subscriber.complete();
        },
        refused: (error) => subscriber.error(error),
        dropped: (error) => subscriber.error(error),
      });
      return () => this.pending.cancel(requestId);
    });
  }

  private onAuthenticated(): void {
    // Before any subscription, so even the snapshots arrive batched.
    if (this.batchMs > 0)
      this.pending.ask({ action: 'set_options', batch_ms: this.batchMs }, { refused: (error) => this.errors.next(error) });
    this.registry.resubscribe();
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
    if (isMarketData(frame)) this.registry.deliverMarketData(frame);
    else if (isOrderUpdate(frame)) this.registry.deliverOrder(frame);
    else if (isErrorEnvelope(frame)) this.onErrorEnvelope(frame);
    else this.pending.answer(frame);
  }

  private onErrorEnvelope(frame: ServerFrame): void {
    const code = typeof frame.code === 'string' ? frame.code : 'SERVER_ERROR';
    const message = typeof frame.message === 'string' ? frame.message : '';
    const requestId = typeof frame.request_id === 'string' ? frame.request_id : undefined;
    if (
      requestId !== undefined &&
      this.pending.refuse(new TickcastServerError(code, message, requestId) as TickcastServerError & { requestId: string })
    )
      return;
    if (!this.connection.authenticated && code === 'AUTHENTICATION_ERROR') {
      // OpenAlgo does not echo request_id; before authentication this can only answer our key.
      this.fail(new TickcastAuthError(code, message, requestId));
    } else {
      this.errors.next(new TickcastServerError(code, message, requestId));
    }
  }

  /** The client stops for good on `error`. */
  private fail(error: Error): void {
    if (this.stopped) return;
    this.shutdown(error);
    this.stopped = { error };
    this.registry.end(error);
    this.status.error(error);
    this.errors.complete();
    this.messages.complete();
  }

  private shutdown(pendingError: Error): void {
    this.connection.stop();
    this.pending.dropAll(pendingError);
  }

  private setStatus(status: TickcastStatus): void {
    if (this.status.value !== status) this.status.next(status);
  }
}
