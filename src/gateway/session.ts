import type WebSocket from 'ws';
import type { Mode } from '../../streams';
import type { ServeConfig } from '../config';
import type { Frame, Hub, HubClient } from '../hub';
import type { Logger } from '../logger';
import type { Stats } from '../stats';
import { MAX_BATCH_MS, Outbox } from './outbox';
import {
  actionOf,
  authReply,
  batchMsOf,
  brokerInfoReply,
  depthOf,
  describeAction,
  type ErrorCode,
  errorEntry,
  errorEnvelope,
  itemsOf,
  MAX_MESSAGE_NESTING,
  maxRequestEntries,
  nestsDeeperThan,
  optionalModeOf,
  ordersReply,
  pongReply,
  type Request,
  requestIdOf,
  setOptionsReply,
  type SubscribeEntry,
  subscribedEntry,
  subscribeModeOf,
  subscribeReply,
  supportedBrokersReply,
  unsubscribedEntry,
  unsubscribeReply,
} from './protocol';
import { ControlRateLimiter } from './rateLimiter';
import type { Identity, KeyVerifier, Upstream, UpstreamItem, UpstreamResult, UserAdapterStatus } from './types';

/** What every session shares: built once per gateway, not per client. */
export interface SessionContext {
  readonly config: ServeConfig;
  readonly hub: Hub;
  readonly stats: Stats;
  readonly verifier: KeyVerifier;
  /** Where new subscriptions are acquired and released; undefined: everything is accepted. */
  readonly upstream: Upstream | undefined;
  readonly adapterStatus: (user: Identity) => UserAdapterStatus;
  /** Registers or removes a session as a receiver of its user's order events. */
  readonly orders: (session: Session, subscribed: boolean) => void;
  /** Every broker label configured, for `supported_brokers`. */
  readonly brokers: readonly string[];
}

/** Frames larger than this are not parsed once rate-limited: limiting must stay cheap. */
const LIMITED_PARSE_BYTES = 4096;

/**
 * The `request_id` of a message that is being rate-limited, so its RATE_LIMITED envelope can echo it
 * like every other error — read only from small, shallow frames.
 */
function limitedRequestId(data: Buffer): unknown {
  if (data.length > LIMITED_PARSE_BYTES) return undefined;
  const text = data.toString('utf8');
  if (nestsDeeperThan(text, MAX_MESSAGE_NESTING)) return undefined;
  try {
    const msg: unknown = JSON.parse(text);
    return msg !== null && typeof msg === 'object' && !Array.isArray(msg) ? requestIdOf(msg as Request) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Messages of one connection held while an earlier one waits on a key verifier or an upstream: at
 * most this many, beyond which they are refused (the rate limiter bounds how fast they come).
 */
const MAX_QUEUED = 256;

/** The error-entry code of items an upstream could not be asked about (OpenAlgo's code for a missing adapter). */
const UPSTREAM_DOWN_CODE = 'BROKER_ERROR';

/** A handler of one action; a promise when its answer waits on a verifier or an upstream. */
type Handler = (session: Session, msg: Request, rid: unknown) => void | Promise<void>;

/** One action of protocol.md's dispatch table. */
interface Action {
  readonly needsAuth: boolean;
  readonly handle: Handler;
}

function isPromise<T>(value: unknown): value is Promise<T> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The key of an (exchange, symbol, mode) held by one connection. */
function itemKey(exchange: string, symbol: string, mode: Mode): string {
  return `${mode}\u0000${exchange}\u0000${symbol}`;
}

/**
 * One WebSocket connection: protocol state (authentication, order subscription), the control-rate
 * limiter, and the outbox its market data flows through. Every inbound frame gets exactly one
 * reply or error envelope, in the order the frames came (a frame waiting on a verifier or upstream
 * holds the ones after it); only the documented cases close the connection.
 */
export class Session {
  /** protocol.md's dispatch table: action → whether it needs authentication, and its handler. */
  private static readonly ACTIONS: ReadonlyMap<string, Action> = new Map<string, Action>([
    ['authenticate', { needsAuth: false, handle: (s, m, r) => s.authenticate(m, r) }],
    ['auth', { needsAuth: false, handle: (s, m, r) => s.authenticate(m, r) }],
    ['ping', { needsAuth: false, handle: (s, m) => s.outbox.sendControl(pongReply(m, Date.now())) }],
    ['set_options', { needsAuth: false, handle: (s, m, r) => s.setOptions(m, r) }],
    ['get_supported_brokers', { needsAuth: false, handle: (s, _m, r) => s.outbox.sendControl(supportedBrokersReply(s.ctx.brokers, r)) }],
    ['subscribe', { needsAuth: true, handle: (s, m, r) => s.subscribe(m, r) }],
    ['unsubscribe', { needsAuth: true, handle: (s, m, r) => s.unsubscribe(m, r) }],
    ['unsubscribe_all', { needsAuth: true, handle: (s, _m, r) => s.unsubscribeAll(r) }],
    ['get_broker_info', { needsAuth: true, handle: (s, _m, r) => s.brokerInfo(r) }],
    ['subscribe_orders', { needsAuth: true, handle: (s, _m, r) => s.setOrders(true, r) }],
    ['unsubscribe_orders', { needsAuth: true, handle: (s, _m, r) => s.setOrders(false, r) }],
  ]);

  /** Set once authenticated. */
  user: Identity | undefined;
  ordersSubscribed = false;
  alive = true;
  readonly outbox: Outbox;
  private readonly client: HubClient;
  private readonly limiter: ControlRateLimiter;
  private authTimer: NodeJS.Timeout | undefined;
  private ended = false;
  /** True while a message's answer waits on a promise; later messages queue behind it. */
  private busy = false;
  private readonly queued: Request[] = [];
  /** What this connection acquired from the upstream, to release exactly that. */
  private readonly acquired = new Map<string, { readonly identity: Identity; readonly item: UpstreamItem }>();

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    private readonly ctx: SessionContext,
    private readonly log: Logger,
  ) {
    const { config, hub, stats } = ctx;
    this.outbox = new Outbox(
      ws,
      { softBytes: config.slowSoftBytes, hardBytes: config.slowHardBytes, maxSlowMs: config.slowMaxS * 1000 },
      stats,
      (buffered) => log.info({ event: 'slow_consumer', buffered }, 'closing a slow client (1008)'),
    );
    this.client = hub.addClient();
    this.client.frames$.subscribe((frame) => this.outbox.sendFrame(frame));
    this.limiter = new ControlRateLimiter(
      { ratePerS: config.controlRate, burst: config.controlBurst, floodCloseMs: config.floodCloseS * 1000 },
      Date.now(),
    );
    this.authTimer = setTimeout(() => {
      if (this.user || this.ended) return;
      stats.disconnects.authTimeout++;
      ws.close(4401, 'auth timeout');
    }, config.authGraceS * 1000);
    this.authTimer.unref();
  }

  /** Handles one inbound frame. Never throws. */
  onMessage(data: Buffer): void {
    if (this.ended) return;
    const decision = this.limiter.take(Date.now());
    if (decision !== 'ok') {
      this.ctx.stats.rateLimited++;
      if (decision === 'flood') {
        this.ctx.stats.disconnects.flood++;
        this.log.info({ event: 'flood' }, 'closing a client that kept flooding control messages (1008)');
        this.ws.close(1008, 'rate limited');
        this.end();
        return;
      }
      this.error('RATE_LIMITED', `Too many messages: at most ${this.ctx.config.controlRate} per second`, limitedRequestId(data));
      return;
    }
    let msg: unknown;
    const text = data.toString('utf8');
    try {
      msg = JSON.parse(text);
    } catch {
      this.error('INVALID_JSON', 'Invalid JSON message', undefined);
      return;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.error('INVALID_PARAMETERS', 'A message must be a JSON object such as {"action":"ping"}', undefined);
      return;
    }
    if (nestsDeeperThan(text, MAX_MESSAGE_NESTING)) {
      this.error('INVALID_PARAMETERS', `A message may nest arrays and objects at most ${MAX_MESSAGE_NESTING} deep`, undefined);
      return;
    }
    if (!this.busy) return this.run(msg as Request);
    if (this.queued.length >= MAX_QUEUED) {
      return this.error('RATE_LIMITED', 'Too many messages waiting for an earlier one to be answered', requestIdOf(msg as Request));
    }
    this.queued.push(msg as Request);
  }

  /** Releases everything the connection held. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queued.length = 0;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.outbox.dispose();
    this.ctx.hub.removeClient(this.client);
    if (this.ordersSubscribed) this.ctx.orders(this, false);
    this.releaseAll();
  }

  /** This connection's handle in the hub (read-only use: tests and diagnostics). */
  get hubClient(): HubClient {
    return this.client;
  }

  /** Sends an order event (already serialised) to this connection. */
  sendOrder(text: string): void {
    this.outbox.sendControl(text);
  }

  /** Applies a `?batch_ms=` from the connection URL; a bad value is answered, not fatal. */
  applyUrlBatchMs(value: string): void {
    const ms = batchMsOf(value, MAX_BATCH_MS);
    if (typeof ms === 'string') return this.error('INVALID_PARAMETERS', ms, undefined);
    this.outbox.setBatchMs(ms);
  }

  /** Handles one message; when its answer waits on a promise, holds the next ones until it settles. */
  private run(msg: Request): void {
    const pending = this.dispatch(msg);
    if (!pending) return;
    this.busy = true;
    void pending.then(() => {
      this.busy = false;
      while (!this.busy && !this.ended && this.queued.length > 0) this.run(this.queued.shift() as Request);
    });
  }

  /** Answers one message; a promise (that never rejects) when the answer waits. */
  private dispatch(msg: Request): Promise<void> | undefined {
    const rid = requestIdOf(msg);
    const fail = (err: unknown): void => {
      this.log.error({ err, event: 'dispatch_error' }, 'unexpected error while handling a client message');
      if (!this.ended) this.error('SERVER_ERROR', 'Internal error while handling the message', rid);
    };
    try {
      const action = actionOf(msg);
      const entry = typeof action === 'string' ? Session.ACTIONS.get(action) : undefined;
      if (!entry) {
        this.error('INVALID_ACTION', `Invalid action: ${describeAction(action)}`, rid);
        return undefined;
      }
      if (entry.needsAuth && !this.user) {
        this.error('NOT_AUTHENTICATED', 'You must authenticate first', rid);
        return undefined;
      }
      const result = entry.handle(this, msg, rid);
      return isPromise<void>(result) ? result.catch(fail) : undefined;
    } catch (err) {
      fail(err);
      return undefined;
    }
  }

  /** `set_options` [ext]: per-connection delivery options; today `batch_ms`. */
  private setOptions(msg: Request, rid: unknown): void {
    if (msg['batch_ms'] === undefined) return this.error('INVALID_PARAMETERS', 'set_options needs "batch_ms"', rid);
    const ms = batchMsOf(msg['batch_ms'], MAX_BATCH_MS);
    if (typeof ms === 'string') return this.error('INVALID_PARAMETERS', ms, rid);
    this.outbox.setBatchMs(ms);
    this.outbox.sendControl(setOptionsReply(ms, rid));
  }

  private authenticate(msg: Request, rid: unknown): void | Promise<void> {
    const key = msg['api_key'] ?? msg['apikey'];
    if (typeof key !== 'string' || key === '') {
      this.ctx.stats.authFailures++;
      return this.error('AUTHENTICATION_ERROR', 'API key is required', rid);
    }
    let answer: ReturnType<KeyVerifier['verify']>;
    try {
      answer = this.ctx.verifier.verify(key);
    } catch (err) {
      return this.verifyFailed(err, rid);
    }
    if (isPromise<Identity | undefined>(answer)) {
      return answer.then(
        (found) => this.authenticated(found, rid),
        (err: unknown) => this.verifyFailed(err, rid),
      );
    }
    this.authenticated(answer, rid);
  }

  private authenticated(found: Identity | undefined, rid: unknown): void {
    if (this.ended) return;
    if (!found) {
      this.ctx.stats.authFailures++;
      this.log.info({ event: 'auth_failed' }, 'authentication failed');
      return this.error('AUTHENTICATION_ERROR', 'Invalid API key', rid);
    }
    const user: Identity = { userId: found.userId, broker: found.broker };
    if (this.user && this.user.userId !== user.userId && this.ordersSubscribed) {
      // Order events follow the user: re-register under the new one.
      this.ctx.orders(this, false);
      this.user = user;
      this.ctx.orders(this, true);
    } else {
      this.user = user;
    }
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.log.debug({ event: 'auth', userId: user.userId }, 'authenticated');
    this.outbox.sendControl(authReply(user, rid));
  }

  /** The verifier could not tell (it threw or rejected): say so; the client may try again. */
  private verifyFailed(err: unknown, rid: unknown): void {
    if (this.ended) return;
    this.ctx.stats.authFailures++;
    this.log.warn({ event: 'auth_unavailable', reason: describe(err) }, 'an API key could not be checked');
    // A feed host that does not answer (docs/control.md) is named as such: the operator knows what to restart.
    const hostDown = (err as { code?: unknown } | undefined)?.code === 'FEED_HOST_UNAVAILABLE';
    this.error(
      'SERVER_ERROR',
      hostDown
        ? 'The API key could not be checked right now: the feed host is unavailable; try again shortly'
        : 'The API key could not be checked right now (the key service is unavailable); try again',
      rid,
    );
  }

  private brokerInfo(rid: unknown): void {
    this.outbox.sendControl(brokerInfoReply(this.user as Identity, this.ctx.adapterStatus(this.user as Identity), rid));
  }

  private setOrders(on: boolean, rid: unknown): void {
    if (this.ordersSubscribed !== on) {
      this.ordersSubscribed = on;
      this.ctx.orders(this, on);
    }
    this.outbox.sendControl(ordersReply(on, rid));
  }

  private subscribe(msg: Request, rid: unknown): void | Promise<void> {
    const user = this.user as Identity;
    const { broker } = user;
    const m = subscribeModeOf(msg);
    if (m instanceof Error) return this.error('INVALID_MODE', m.message, rid);
    const depth = depthOf(msg);
    if (typeof depth === 'string') return this.error('INVALID_PARAMETERS', depth, rid);
    const items = itemsOf(msg, 'subscribe');
    if (typeof items === 'string') return this.error('INVALID_PARAMETERS', items, rid);
    const { hub, config, upstream } = this.ctx;
    const most = maxRequestEntries(config.maxSubscriptions);
    if (items.length > most) return this.error('MAX_SUBSCRIPTIONS', `A request may carry at most ${most} entries; split it`, rid);
    // Each entry: its final answer already, or the (exchange, symbol) it asks for.
    const plan: (SubscribeEntry | { readonly exchange: string; readonly symbol: string })[] = [];
    /** The keys this request newly holds, in first-mention order. */
    const fresh = new Map<string, UpstreamItem>();
    let held = hub.countHeld(this.client);
    for (const it of items) {
      if (!it.ok) {
        plan.push(errorEntry(it.symbol, it.exchange, it.message, broker));
        continue;
      }
      const key = itemKey(it.exchange, it.symbol, m);
      const already = fresh.has(key) || hub.held(this.client, it.exchange, it.symbol).includes(m);
      if (!already && held >= config.maxSubscriptions) {
        plan.push(
          errorEntry(
            it.symbol,
            it.exchange,
            `Subscription limit reached: at most ${config.maxSubscriptions} (symbol, mode) subscriptions per connection`,
            broker,
            'MAX_SUBSCRIPTIONS',
          ),
        );
        continue;
      }
      if (!already) {
        held++;
        fresh.set(key, { exchange: it.exchange, symbol: it.symbol, mode: m, depth });
      }
      plan.push({ exchange: it.exchange, symbol: it.symbol });
    }
    if (!upstream || fresh.size === 0) return this.finishSubscribe(plan, fresh, undefined, m, depth, user, rid);
    const asked = [...fresh.values()];
    return upstream.subscribe(user, asked).then(
      (results) => this.finishSubscribe(plan, fresh, resultsByKey(asked, results, m), m, depth, user, rid),
      (err: unknown) => {
        this.log.warn({ event: 'upstream_unavailable', reason: describe(err) }, 'the upstream could not take a subscribe');
        const down: UpstreamResult = { ok: false, code: UPSTREAM_DOWN_CODE, message: `The feed host could not be asked: ${describe(err)}` };
        const results = new Map(asked.map((item) => [itemKey(item.exchange, item.symbol, m), down]));
        this.finishSubscribe(plan, fresh, results, m, depth, user, rid);
      },
    );
  }

  /**
   * Applies a subscribe once the upstream (if any) answered: accepted new keys are held in the hub
   * (and remembered as acquired), refused ones become error entries; then the reply, then the
   * snapshots of the new keys.
   */
  private finishSubscribe(
    plan: readonly (SubscribeEntry | { readonly exchange: string; readonly symbol: string })[],
    fresh: ReadonlyMap<string, UpstreamItem>,
    results: ReadonlyMap<string, UpstreamResult> | undefined,
    m: Mode,
    depth: number,
    user: Identity,
    rid: unknown,
  ): void {
    const { hub, upstream } = this.ctx;
    const added: UpstreamItem[] = [];
    const refusedByUs: UpstreamItem[] = [];
    for (const [key, item] of fresh) {
      if (results && !(results.get(key) as UpstreamResult).ok) continue;
      if (!this.ended && hub.subscribe(this.client, item.exchange, item.symbol, m)) {
        added.push(item);
        if (results) this.acquired.set(key, { identity: user, item });
      } else if (results) {
        // Gone meanwhile (or held after all): give back what the upstream granted.
        refusedByUs.push(item);
      }
    }
    if (upstream && refusedByUs.length > 0) upstream.unsubscribe(user, refusedByUs);
    if (this.ended) return;
    const entries = plan.map((p): SubscribeEntry => {
      if ('status' in p) return p as SubscribeEntry;
      const result = results?.get(itemKey(p.exchange, p.symbol, m));
      if (result && !result.ok) return errorEntry(p.symbol, p.exchange, result.message, user.broker, result.code);
      return subscribedEntry(p.symbol, p.exchange, m, depth, user.broker);
    });
    this.outbox.sendControl(subscribeReply(entries, user.broker, rid));
    // Snapshot on subscribe [ext]: right after the reply, the last known tick of each new key.
    for (const { exchange, symbol } of added) {
      const frame: Frame | undefined = hub.snapshot(exchange, symbol, m);
      if (frame) this.outbox.sendFrame(frame);
    }
  }

  private unsubscribe(msg: Request, rid: unknown): void {
    const broker = (this.user as Identity).broker;
    const top = optionalModeOf(msg['mode']);
    if (top instanceof Error) return this.error('INVALID_MODE', top.message, rid);
    const items = itemsOf(msg, 'unsubscribe');
    if (typeof items === 'string') return this.error('INVALID_PARAMETERS', items, rid);
    const most = maxRequestEntries(this.ctx.config.maxSubscriptions);
    if (items.length > most) return this.error('INVALID_PARAMETERS', `A request may carry at most ${most} entries; split it`, rid);
    const successful: Record<string, unknown>[] = [];
    const failed: Record<string, unknown>[] = [];
    const bulk = Array.isArray(msg['symbols']) && msg['symbols'].length > 0;
    const released: { identity: Identity; item: UpstreamItem }[] = [];
    for (const it of items) {
      if (!it.ok) {
        failed.push(errorEntry(it.symbol, it.exchange, it.message, broker));
        continue;
      }
      // The item's own mode, else the request's, else every held mode [fix].
      const own = bulk ? optionalModeOf(it.raw['mode']) : undefined;
      if (own instanceof Error) {
        failed.push(errorEntry(it.symbol, it.exchange, own.message, broker, 'INVALID_MODE'));
        continue;
      }
      for (const mode of this.ctx.hub.unsubscribe(this.client, it.exchange, it.symbol, own ?? top)) {
        this.takeAcquired(it.exchange, it.symbol, mode, released);
      }
      successful.push(unsubscribedEntry(it.symbol, it.exchange, broker));
    }
    this.release(released);
    this.outbox.sendControl(unsubscribeReply(successful, failed, broker, rid));
  }

  private unsubscribeAll(rid: unknown): void {
    const broker = (this.user as Identity).broker;
    const removed = this.ctx.hub.unsubscribeAll(this.client);
    const released: { identity: Identity; item: UpstreamItem }[] = [];
    for (const r of removed) for (const mode of r.modes) this.takeAcquired(r.exchange, r.symbol, mode, released);
    this.release(released);
    this.outbox.sendControl(unsubscribeReply(removed.map((r) => unsubscribedEntry(r.symbol, r.exchange, broker)), [], broker, rid));
  }

  /** Moves the upstream acquisition of one dropped (exchange, symbol, mode), if any, into `into`. */
  private takeAcquired(exchange: string, symbol: string, mode: Mode, into: { identity: Identity; item: UpstreamItem }[]): void {
    const key = itemKey(exchange, symbol, mode);
    const held = this.acquired.get(key);
    if (!held) return;
    this.acquired.delete(key);
    into.push(held);
  }

  /** Gives `released` back to the upstream: one call per identity. */
  private release(released: readonly { identity: Identity; item: UpstreamItem }[]): void {
    const upstream = this.ctx.upstream;
    if (!upstream || released.length === 0) return;
    const byIdentity = new Map<Identity, UpstreamItem[]>();
    for (const { identity, item } of released) {
      const list = byIdentity.get(identity);
      if (list) list.push(item);
      else byIdentity.set(identity, [item]);
    }
    for (const [identity, items] of byIdentity) {
      try {
        upstream.unsubscribe(identity, items);
      } catch (err) {
        this.log.warn({ event: 'upstream_error', reason: describe(err) }, 'the upstream failed to take an unsubscribe');
      }
    }
  }

  /** On disconnect: everything acquired goes back. */
  private releaseAll(): void {
    const all = [...this.acquired.values()];
    this.acquired.clear();
    this.release(all);
  }

  private error(code: ErrorCode, message: string, rid: unknown): void {
    this.outbox.sendControl(errorEnvelope(code, message, rid));
  }
}

/** The upstream's answers keyed like `fresh`; a missing answer counts as a refusal. */
function resultsByKey(asked: readonly UpstreamItem[], results: readonly UpstreamResult[], m: Mode): Map<string, UpstreamResult> {
  const out = new Map<string, UpstreamResult>();
  asked.forEach((item, i) => {
    const result = results[i];
    out.set(
      itemKey(item.exchange, item.symbol, m),
      result && (result.ok === true || (typeof result.code === 'string' && typeof result.message === 'string'))
        ? result
        : { ok: false, code: UPSTREAM_DOWN_CODE, message: 'The feed host gave no answer for this item' },
    );
  });
  return out;
}
