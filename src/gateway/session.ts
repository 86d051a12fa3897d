import type WebSocket from 'ws';
import { modeLabel } from '../../streams';
import type { ServeConfig } from '../config';
import type { Frame, Hub, HubClient } from '../hub';
import type { Logger } from '../logger';
import type { Stats } from '../stats';
import type { ApiKeyStore } from './auth';
import { MAX_BATCH_MS, Outbox } from './outbox';
import {
  actionOf,
  batchMsOf,
  depthOf,
  describeAction,
  type ErrorCode,
  errorEnvelope,
  itemsOf,
  MAX_MESSAGE_NESTING,
  maxRequestEntries,
  nestsDeeperThan,
  optionalModeOf,
  overallStatus,
  reply,
  type Request,
  requestIdOf,
  subscribeModeOf,
} from './protocol';
import { ControlRateLimiter } from './rateLimiter';
import type { AdapterStatus } from './types';

/** What every session shares: built once per gateway, not per client. */
export interface SessionContext {
  readonly config: ServeConfig;
  readonly hub: Hub;
  readonly stats: Stats;
  readonly keys: ApiKeyStore;
  readonly adapterStatus: () => AdapterStatus;
  /** Registers or removes a session as a receiver of its user's order events. */
  readonly orders: (session: Session, subscribed: boolean) => void;
  /** The `supported_brokers` reply, serialised once. */
  readonly supportedBrokers: string;
}

const SUPPORTED_FEATURES = { ltp: true, quote: true, depth: true };

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
 * One WebSocket connection: protocol state (authentication, order subscription), the control-rate
 * limiter, and the outbox its market data flows through. Every inbound frame gets exactly one
 * reply or error envelope; only the documented cases close the connection.
 */
export class Session {
  /** Set once authenticated. */
  user: { readonly userId: string; readonly broker: string } | undefined;
  ordersSubscribed = false;
  alive = true;
  readonly outbox: Outbox;
  private readonly client: HubClient;
  private readonly limiter: ControlRateLimiter;
  private authTimer: NodeJS.Timeout | undefined;
  private ended = false;

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
    try {
      this.dispatch(msg as Request);
    } catch (err) {
      this.log.error({ err, event: 'dispatch_error' }, 'unexpected error while handling a client message');
      this.error('SERVER_ERROR', 'Internal error while handling the message', requestIdOf(msg as Request));
    }
  }

  /** Releases everything the connection held. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.outbox.dispose();
    this.ctx.hub.removeClient(this.client);
    if (this.ordersSubscribed) this.ctx.orders(this, false);
  }

  /** This connection's handle in the hub (read-only use: tests and diagnostics). */
  get hubClient(): HubClient {
    return this.client;
  }

  /** Sends an order event (already serialised) to this connection. */
  sendOrder(text: string): void {
    this.outbox.sendControl(text);
  }

  private dispatch(msg: Request): void {
    const action = actionOf(msg);
    const rid = requestIdOf(msg);
    switch (action) {
      case 'authenticate':
      case 'auth':
        return this.authenticate(msg, rid);
      case 'ping':
        return this.pong(msg);
      case 'set_options':
        return this.setOptions(msg, rid);
      case 'get_supported_brokers':
        return this.outbox.sendControl(rid === undefined ? this.ctx.supportedBrokers : reply(JSON.parse(this.ctx.supportedBrokers), rid));
      case 'subscribe':
      case 'unsubscribe':
      case 'unsubscribe_all':
      case 'get_broker_info':
      case 'subscribe_orders':
      case 'unsubscribe_orders':
        if (!this.user) return this.error('NOT_AUTHENTICATED', 'You must authenticate first', rid);
        break;
      default:
        return this.error('INVALID_ACTION', `Invalid action: ${describeAction(action)}`, rid);
    }
    const user = this.user;
    switch (action) {
      case 'subscribe':
        return this.subscribe(msg, rid);
      case 'unsubscribe':
        return this.unsubscribe(msg, rid);
      case 'unsubscribe_all':
        return this.unsubscribeAll(rid);
      case 'get_broker_info':
        return this.outbox.sendControl(
          reply(
            { type: 'broker_info', status: 'success', broker: user.broker, adapter_status: this.ctx.adapterStatus(), user_id: user.userId },
            rid,
          ),
        );
      case 'subscribe_orders':
      case 'unsubscribe_orders': {
        const on = action === 'subscribe_orders';
        if (this.ordersSubscribed !== on) {
          this.ordersSubscribed = on;
          this.ctx.orders(this, on);
        }
        return this.outbox.sendControl(
          reply({ type: action, status: 'success', message: on ? 'Subscribed to order updates' : 'Unsubscribed from order updates' }, rid),
        );
      }
    }
  }

  /** Applies a `?batch_ms=` from the connection URL; a bad value is answered, not fatal. */
  applyUrlBatchMs(value: string): void {
    const ms = batchMsOf(value, MAX_BATCH_MS);
    if (typeof ms === 'string') return this.error('INVALID_PARAMETERS', ms, undefined);
    this.outbox.setBatchMs(ms);
  }

  /** `set_options` [ext]: per-connection delivery options; today `batch_ms`. */
  private setOptions(msg: Request, rid: unknown): void {
    if (msg['batch_ms'] === undefined) return this.error('INVALID_PARAMETERS', 'set_options needs "batch_ms"', rid);
    const ms = batchMsOf(msg['batch_ms'], MAX_BATCH_MS);
    if (typeof ms === 'string') return this.error('INVALID_PARAMETERS', ms, rid);
    this.outbox.setBatchMs(ms);
    this.outbox.sendControl(reply({ type: 'set_options', status: 'success', batch_ms: ms }, rid));
  }

  private authenticate(msg: Request, rid: unknown): void {
    const key = msg['api_key'] ?? msg['apikey'];
    if (typeof key !== 'string' || key === '') {
      this.ctx.stats.authFailures++;
      return this.error('AUTHENTICATION_ERROR', 'API key is required', rid);
    }
    const found = this.ctx.keys.lookup(key);
    if (!found) {
      this.ctx.stats.authFailures++;
      this.log.info({ event: 'auth_failed' }, 'authentication failed');
      return this.error('AUTHENTICATION_ERROR', 'Invalid API key', rid);
    }
    if (this.user && this.user.userId !== found.userId && this.ordersSubscribed) {
      // Order events follow the user: re-register under the new one.
      this.ctx.orders(this, false);
      this.user = found;
      this.ctx.orders(this, true);
    } else {
      this.user = found;
    }
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.log.debug({ event: 'auth', userId: found.userId }, 'authenticated');
    this.outbox.sendControl(
      reply(
        {
          type: 'auth',
          status: 'success',
          message: 'Authentication successful',
          broker: found.broker,
          user_id: found.userId,
          supported_features: SUPPORTED_FEATURES,
        },
        rid,
      ),
    );
  }

  private pong(msg: Request): void {
    const out: Record<string, unknown> = { type: 'pong', status: 'success', server_timestamp: Date.now() };
    if (msg['timestamp'] !== undefined) out['client_timestamp'] = msg['timestamp'];
    if (msg['_pingId'] !== undefined) out['_pingId'] = msg['_pingId'];
    this.outbox.sendControl(reply(out, requestIdOf(msg)));
  }

  private subscribe(msg: Request, rid: unknown): void {
    const broker = (this.user as { broker: string }).broker;
    const m = subscribeModeOf(msg);
    if (m instanceof Error) return this.error('INVALID_MODE', m.message, rid);
    const depth = depthOf(msg);
    if (typeof depth === 'string') return this.error('INVALID_PARAMETERS', depth, rid);
    const items = itemsOf(msg, 'subscribe');
    if (typeof items === 'string') return this.error('INVALID_PARAMETERS', items, rid);
    const { hub, config } = this.ctx;
    const most = maxRequestEntries(config.maxSubscriptions);
    if (items.length > most) return this.error('MAX_SUBSCRIPTIONS', `A request may carry at most ${most} entries; split it`, rid);
    const label = modeLabel(m);
    let held = hub.countHeld(this.client);
    let ok = 0;
    const added: { exchange: string; symbol: string }[] = [];
    const subscriptions = items.map((it) => {
      if (!it.ok) return { symbol: it.symbol, exchange: it.exchange, status: 'error', message: it.message, broker };
      const already = hub.held(this.client, it.exchange, it.symbol).includes(m);
      if (!already && held >= config.maxSubscriptions) {
        return {
          symbol: it.symbol,
          exchange: it.exchange,
          status: 'error',
          code: 'MAX_SUBSCRIPTIONS',
          message: `Subscription limit reached: at most ${config.maxSubscriptions} (symbol, mode) subscriptions per connection`,
          broker,
        };
      }
      if (!already && hub.subscribe(this.client, it.exchange, it.symbol, m)) {
        held++;
        added.push({ exchange: it.exchange, symbol: it.symbol });
      }
      ok++;
      return { symbol: it.symbol, exchange: it.exchange, status: 'success', mode: label, depth, broker };
    });
    this.outbox.sendControl(
      reply(
        {
          type: 'subscribe',
          status: overallStatus(ok, items.length - ok),
          subscriptions,
          message: 'Subscription processing complete',
          broker,
        },
        rid,
      ),
    );
    // Snapshot on subscribe [ext]: right after the reply, the last known tick of each new key.
    for (const { exchange, symbol } of added) {
      const frame: Frame | undefined = hub.snapshot(exchange, symbol, m);
      if (frame) this.outbox.sendFrame(frame);
    }
  }

  private unsubscribe(msg: Request, rid: unknown): void {
    const broker = (this.user as { broker: string }).broker;
    const top = optionalModeOf(msg['mode']);
    if (top instanceof Error) return this.error('INVALID_MODE', top.message, rid);
    const items = itemsOf(msg, 'unsubscribe');
    if (typeof items === 'string') return this.error('INVALID_PARAMETERS', items, rid);
    const most = maxRequestEntries(this.ctx.config.maxSubscriptions);
    if (items.length > most) return this.error('INVALID_PARAMETERS', `A request may carry at most ${most} entries; split it`, rid);
    const successful: Record<string, unknown>[] = [];
    const failed: Record<string, unknown>[] = [];
    const bulk = Array.isArray(msg['symbols']) && msg['symbols'].length > 0;
    for (const it of items) {
      if (!it.ok) {
        failed.push({ symbol: it.symbol, exchange: it.exchange, status: 'error', message: it.message, broker });
        continue;
      }
      // The item's own mode, else the request's, else every held mode [fix].
      const own = bulk ? optionalModeOf(it.raw['mode']) : undefined;
      if (own instanceof Error) {
        failed.push({ symbol: it.symbol, exchange: it.exchange, status: 'error', code: 'INVALID_MODE', message: own.message, broker });
        continue;
      }
      this.ctx.hub.unsubscribe(this.client, it.exchange, it.symbol, own ?? top);
      successful.push({ symbol: it.symbol, exchange: it.exchange, status: 'success', broker });
    }
    this.unsubscribeReply(successful, failed, broker, rid);
  }

  private unsubscribeAll(rid: unknown): void {
    const broker = (this.user as { broker: string }).broker;
    const removed = this.ctx.hub.unsubscribeAll(this.client);
    const successful = removed.map((r) => ({ symbol: r.symbol, exchange: r.exchange, status: 'success', broker }));
    this.unsubscribeReply(successful, [], broker, rid);
  }

  private unsubscribeReply(successful: unknown[], failed: unknown[], broker: string, rid: unknown): void {
    this.outbox.sendControl(
      reply(
        {
          type: 'unsubscribe',
          status: overallStatus(successful.length, failed.length),
          message: 'Unsubscription processing complete',
          successful,
          failed,
          broker,
        },
        rid,
      ),
    );
  }

  private error(code: ErrorCode, message: string, rid: unknown): void {
    this.outbox.sendControl(errorEnvelope(code, message, rid));
  }
}
