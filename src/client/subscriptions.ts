import { defer, Observable, type SchedulerLike, share, type Subscriber, timer } from 'rxjs';
import { type Mode, parseMode } from '../../streams';
import { TickcastServerError, TickcastSubscribeError } from './errors';
import { keyId, type SubscriptionKey, subscribeReplyEntries } from './frames';
import type { PendingRequests } from './pendingRequests';
import type { MarketData, ModeInput, OrderUpdate, ServerFrame } from './types';

/** What the registry needs from the client around it. */
export interface RegistryHost {
  readonly pending: PendingRequests;
  /** True while the connection is authenticated: requests can go out now. */
  authenticated(): boolean;
  /** Set once the client stopped for good, with the error it stopped on (none after `close()`). */
  stopped(): { readonly error?: Error } | undefined;
  /** A refusal nobody waits for (e.g. of an unsubscribe): goes to `errors$`. */
  unanswered(error: TickcastServerError): void;
}

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

const noop = (): void => {};

/**
 * The client's subscriptions: one server subscription per (exchange, symbol, mode) however many
 * observers share it (ref-counted by `share`), kept `graceMs` after the last observer left so an
 * unsubscribe/resubscribe does not reach the server; re-subscribed in one request per mode after a
 * reconnect; and the order-update subscription, likewise.
 */
export class SubscriptionRegistry {
  readonly orders$: Observable<OrderUpdate>;
  private readonly keys = new Map<string, KeyEntry>();
  private readonly streams = new Map<string, Observable<MarketData>>();
  private orders: OrdersEntry | undefined;

  constructor(
    private readonly host: RegistryHost,
    private readonly graceMs: number,
    private readonly scheduler: SchedulerLike,
  ) {
    this.orders$ = this.withGrace(new Observable<OrderUpdate>((subscriber) => this.holdOrders(subscriber)));
  }

  /** The shared stream of one key. */
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

  /** After authentication: asks for every observed key, one request per mode, then for orders. */
  resubscribe(): void {
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
  }

  /** The connection is gone: the server holds nothing of ours any more. */
  dropped(): void {
    for (const entry of this.keys.values()) entry.held = false;
    if (this.orders) this.orders.held = false;
  }

  /** Hands a market_data frame to its key's observers, if observed. */
  deliverMarketData(frame: MarketData): void {
    this.keys.get(keyId(frame.exchange, frame.symbol, frame.mode))?.subscriber.next(frame);
  }

  /** Hands an order update to the orders$ observers, if any. */
  deliverOrder(frame: OrderUpdate): void {
    this.orders?.subscriber.next(frame);
  }

  /** The client stopped: every stream errors with `error`, or completes when there is none. */
  end(error?: Error): void {
    for (const entry of [...this.keys.values()]) {
      if (error) entry.subscriber.error(error);
      else entry.subscriber.complete();
    }
    if (error) this.orders?.subscriber.error(error);
    else this.orders?.subscriber.complete();
  }

  /** One server subscription per key while observed, kept `graceMs` after the last observer left. */
  private withGrace<T>(source: Observable<T>): Observable<T> {
    const graceMs = this.graceMs;
    return source.pipe(share({ resetOnRefCountZero: graceMs > 0 ? () => timer(graceMs, this.scheduler) : true }));
  }

  /** Ends `subscriber` as the client ended (error or complete) if it has stopped; true if so. */
  private endIfStopped(subscriber: Subscriber<unknown>): boolean {
    const stopped = this.host.stopped();
    if (!stopped) return false;
    if (stopped.error) subscriber.error(stopped.error);
    else subscriber.complete();
    return true;
  }

  private holdKey(key: SubscriptionKey, id: string, subscriber: Subscriber<MarketData>): () => void {
    if (this.endIfStopped(subscriber)) return noop;
    const entry: KeyEntry = { ...key, id, subscriber, held: false };
    this.keys.set(id, entry);
    if (this.host.authenticated()) this.subscribeKeys(key.mode, [entry]);
    return () => {
      if (this.keys.get(id) === entry) this.keys.delete(id);
      if (entry.held && this.host.authenticated()) {
        const { symbol, exchange, mode } = entry;
        this.tell({ action: 'unsubscribe', symbols: [{ symbol, exchange, mode }] });
      }
    };
  }

  private subscribeKeys(mode: Mode, entries: readonly KeyEntry[]): void {
    for (const entry of entries) entry.held = true;
    this.host.pending.ask(
      { action: 'subscribe', symbols: entries.map(({ symbol, exchange }) => ({ symbol, exchange })), mode },
      {
        reply: (frame, requestId) => this.onSubscribeReply(entries, frame, requestId),
        refused: (error) => {
          for (const entry of entries) this.rejectKey(entry, error.code, error.serverMessage, error.requestId ?? '');
        },
      },
    );
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

  private holdOrders(subscriber: Subscriber<OrderUpdate>): () => void {
    if (this.endIfStopped(subscriber)) return noop;
    const entry: OrdersEntry = { subscriber, held: false };
    this.orders = entry;
    if (this.host.authenticated()) this.subscribeOrders(entry);
    return () => {
      if (this.orders === entry) this.orders = undefined;
      if (entry.held && this.host.authenticated()) this.tell({ action: 'unsubscribe_orders' });
    };
  }

  private subscribeOrders(entry: OrdersEntry): void {
    entry.held = true;
    const reject = (error: TickcastServerError): void => {
      if (this.orders !== entry) return;
      entry.held = false;
      entry.subscriber.error(error);
    };
    this.host.pending.ask(
      { action: 'subscribe_orders' },
      {
        reply: (frame, requestId) => {
          if (frame.status === 'error') reject(new TickcastServerError(frame.code ?? 'SUBSCRIBE_FAILED', frame.message ?? '', requestId));
        },
        refused: reject,
      },
    );
  }

  /** A request whose answer nobody waits for; a refusal goes to `errors$`. */
  private tell(message: { readonly action: string } & Record<string, unknown>): void {
    this.host.pending.ask(message, { refused: (error) => this.host.unanswered(error) });
  }
}
