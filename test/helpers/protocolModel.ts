/**
 * A reference model of the client protocol (protocol.md), written from the spec rather than from
 * the gateway's code: given the bytes of one inbound frame and what a connection holds, it says
 * exactly which frames the proxy must answer with and what the connection holds afterwards. The
 * fuzz test runs the real proxy and this model side by side and compares them frame by frame.
 */
import type { ApiKey } from '../../src/config';

export type Mode = 1 | 2 | 3;
const LABELS = ['LTP', 'Quote', 'Depth'] as const;

/** Largest nesting of arrays/objects a client message may have (deeper → INVALID_PARAMETERS). */
export const MODEL_MAX_NESTING = 32;
/** Longest symbol or exchange the proxy accepts. */
const MAX_NAME = 128;

/** One (exchange, symbol) a connection holds, with its modes. */
export interface Holding {
  readonly exchange: string;
  readonly symbol: string;
  readonly modes: Set<Mode>;
}

/** What one connection holds, as the model tracks it. */
export interface ConnectionModel {
  user: { userId: string; broker: string } | undefined;
  orders: boolean;
  /** `exchange \0 symbol` → holding, in the order first held (as the hub iterates). */
  readonly held: Map<string, Holding>;
}

/** One tick the feed published before the run, for snapshot-on-subscribe. */
export interface FedTick {
  readonly exchange: string;
  readonly symbol: string;
  readonly mode: Mode;
  readonly payload: Record<string, unknown>;
}

/** Matchers the model puts where the spec leaves a value open (timestamps, free-text messages). */
export interface Wildcards {
  anyNumber(): unknown;
  anyString(): unknown;
  startsWith(prefix: string): unknown;
}

export interface ModelOptions {
  readonly keys: readonly ApiKey[];
  readonly maxSubscriptions: number;
  readonly fed: readonly FedTick[];
  readonly adapterStatus: string;
  readonly any: Wildcards;
}

type Obj = Record<string, unknown>;

const own = (o: Obj, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
/** A client value as an echo of it reads back: through JSON, so `-0` comes back as `0`. */
const echo = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;
const keyOf = (exchange: string, symbol: string): string => `${exchange}\u0000${symbol}`;

/** Nesting of a parsed JSON value, iteratively (the value may be thousands deep). */
export function nestingOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    for (const child of Object.values(v as Obj)) if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
  }
  return max;
}

/** protocol.md's mode rule: 1|2|3 or a label (trimmed, any case); anything else is invalid. */
function modeOf(value: unknown): Mode | 'invalid' {
  if (value === 1 || value === 2 || value === 3) return value;
  if (typeof value === 'string') {
    const i = ['ltp', 'quote', 'depth'].indexOf(value.trim().toLowerCase());
    if (i >= 0) return (i + 1) as Mode;
  }
  return 'invalid';
}

function status(ok: number, failed: number): string {
  if (failed === 0) return 'success';
  return ok === 0 ? 'error' : 'partial';
}

export function newConnection(): ConnectionModel {
  return { user: undefined, orders: false, held: new Map() };
}

/** How many (symbol, mode) pairs a connection holds. */
export function countHeld(c: ConnectionModel): number {
  let n = 0;
  for (const h of c.held.values()) n += h.modes.size;
  return n;
}

/**
 * The protocol as a function: `answer(connection, bytes)` updates the connection and returns the
 * frames the proxy must send for this one inbound frame, in order (the reply first, then any
 * snapshots).
 */
export class ProtocolModel {
  constructor(private readonly o: ModelOptions) {}

  answer(c: ConnectionModel, bytes: Buffer): Obj[] {
    const { any } = this.o;
    let msg: unknown;
    try {
      msg = JSON.parse(bytes.toString('utf8'));
    } catch {
      return [{ status: 'error', code: 'INVALID_JSON', message: 'Invalid JSON message' }];
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || nestingOf(msg) > MODEL_MAX_NESTING) {
      return [{ status: 'error', code: 'INVALID_PARAMETERS', message: any.anyString() }];
    }
    const m = msg as Obj;
    const rid = own(m, 'request_id') ? { request_id: echo(m['request_id']) } : {};
    const err = (code: string, message: unknown): Obj[] => [{ status: 'error', code, message, ...rid }];
    const action = m['action'] ?? m['type'];
    switch (action) {
      case 'authenticate':
      case 'auth':
        return this.authenticate(c, m, rid, err);
      case 'ping': {
        const out: Obj = { type: 'pong', status: 'success', server_timestamp: any.anyNumber() };
        if (own(m, 'timestamp')) out['client_timestamp'] = echo(m['timestamp']);
        if (own(m, '_pingId')) out['_pingId'] = echo(m['_pingId']);
        return [{ ...out, ...rid }];
      }
      case 'get_supported_brokers': {
        const brokers = [...new Set(this.o.keys.map((k) => k.broker))];
        return [{ type: 'supported_brokers', status: 'success', brokers, count: brokers.length, ...rid }];
      }
      case 'subscribe':
      case 'unsubscribe':
      case 'unsubscribe_all':
      case 'get_broker_info':
      case 'subscribe_orders':
      case 'unsubscribe_orders':
        if (!c.user) return err('NOT_AUTHENTICATED', 'You must authenticate first');
        break;
      default:
        return err(
          'INVALID_ACTION',
          action === undefined || action === null
            ? 'Invalid action: None'
            : typeof action === 'string' && action.length <= 64
              ? `Invalid action: ${action}`
              : any.startsWith('Invalid action: '),
        );
    }
    const user = c.user;
    switch (action) {
      case 'subscribe':
        return this.subscribe(c, m, rid, err);
      case 'unsubscribe':
        return this.unsubscribe(c, m, rid, err);
      case 'unsubscribe_all': {
        const successful = [...c.held.values()].map((h) => ({
          symbol: h.symbol,
          exchange: h.exchange,
          status: 'success',
          broker: user.broker,
        }));
        c.held.clear();
        return [this.unsubscribeReply(successful, [], user.broker, rid)];
      }
      case 'get_broker_info':
        return [
          {
            type: 'broker_info',
            status: 'success',
            broker: user.broker,
            adapter_status: this.o.adapterStatus,
            user_id: user.userId,
            ...rid,
          },
        ];
      default: {
        const on = action === 'subscribe_orders';
        c.orders = on;
        return [
          { type: action, status: 'success', message: on ? 'Subscribed to order updates' : 'Unsubscribed from order updates', ...rid },
        ];
      }
    }
  }

  private authenticate(c: ConnectionModel, m: Obj, rid: Obj, err: (code: string, message: unknown) => Obj[]): Obj[] {
    const key = m['api_key'] ?? m['apikey'];
    if (typeof key !== 'string' || key === '') return err('AUTHENTICATION_ERROR', 'API key is required');
    const found = this.o.keys.find((k) => k.key === key);
    if (!found) return err('AUTHENTICATION_ERROR', 'Invalid API key');
    c.user = { userId: found.userId, broker: found.broker };
    return [
      {
        type: 'auth',
        status: 'success',
        message: 'Authentication successful',
        broker: found.broker,
        user_id: found.userId,
        supported_features: { ltp: true, quote: true, depth: true },
        ...rid,
      },
    ];
  }

  /** The entries of a request, or the INVALID_PARAMETERS case. */
  private entries(m: Obj): unknown[] | 'invalid' {
    const symbols = m['symbols'];
    if (symbols !== undefined && symbols !== null) {
      if (!Array.isArray(symbols)) return 'invalid';
      // An empty array falls through to the single form, as OpenAlgo's `data.get("symbols") or []`.
      if (symbols.length > 0) return symbols;
    }
    if (m['symbol'] === undefined && m['exchange'] === undefined) return 'invalid';
    return [m];
  }

  /** An entry checked: its names, or the error entry's names and message. */
  private entry(raw: unknown): { ok: boolean; symbol: string; exchange: string; message?: unknown; raw?: Obj } {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      return { ok: false, symbol: '', exchange: '', message: this.o.any.anyString() };
    }
    const r = raw as Obj;
    const symbol = r['symbol'];
    const exchange = r['exchange'];
    if (typeof symbol !== 'string' || typeof exchange !== 'string' || symbol === '' || exchange === '') {
      return {
        ok: false,
        symbol: typeof symbol === 'string' ? symbol : '',
        exchange: typeof exchange === 'string' ? exchange : '',
        message: 'symbol and exchange are required',
      };
    }
    if (symbol.length > MAX_NAME || exchange.length > MAX_NAME) {
      return { ok: false, symbol: symbol.slice(0, MAX_NAME), exchange: exchange.slice(0, MAX_NAME), message: this.o.any.anyString() };
    }
    return { ok: true, symbol, exchange, raw: r };
  }

  private subscribe(c: ConnectionModel, m: Obj, rid: Obj, err: (code: string, message: unknown) => Obj[]): Obj[] {
    const { any, maxSubscriptions } = this.o;
    const broker = (c.user as { broker: string }).broker;
    const mode = m['mode'] === undefined ? 2 : modeOf(m['mode']);
    if (mode === 'invalid') return err('INVALID_MODE', any.anyString());
    const d = m['depth'];
    const depth = d === undefined || d === null ? 5 : typeof d === 'number' && Number.isInteger(d) && d > 0 && d <= 10_000 ? d : 'invalid';
    if (depth === 'invalid') return err('INVALID_PARAMETERS', any.anyString());
    const list = this.entries(m);
    if (list === 'invalid') return err('INVALID_PARAMETERS', any.anyString());
    if (list.length > Math.max(maxSubscriptions, 10_000)) return err('MAX_SUBSCRIPTIONS', any.anyString());
    let held = countHeld(c);
    let ok = 0;
    const added: Holding[] = [];
    const subscriptions = list.map((raw) => {
      const e = this.entry(raw);
      if (!e.ok) return { symbol: e.symbol, exchange: e.exchange, status: 'error', message: e.message, broker };
      const k = keyOf(e.exchange, e.symbol);
      const h = c.held.get(k);
      const already = h?.modes.has(mode) === true;
      if (!already && held >= maxSubscriptions) {
        return { symbol: e.symbol, exchange: e.exchange, status: 'error', code: 'MAX_SUBSCRIPTIONS', message: any.anyString(), broker };
      }
      if (!already) {
        if (h) h.modes.add(mode);
        else c.held.set(k, { exchange: e.exchange, symbol: e.symbol, modes: new Set([mode]) });
        held++;
        added.push({ exchange: e.exchange, symbol: e.symbol, modes: new Set([mode]) });
      }
      ok++;
      return { symbol: e.symbol, exchange: e.exchange, status: 'success', mode: LABELS[mode - 1], depth, broker };
    });
    const out: Obj[] = [
      {
        type: 'subscribe',
        status: status(ok, list.length - ok),
        subscriptions,
        message: 'Subscription processing complete',
        broker,
        ...rid,
      },
    ];
    for (const a of added) {
      const snap = this.snapshot(a.exchange, a.symbol, mode);
      if (snap) out.push(snap);
    }
    return out;
  }

  /** The snapshot frame for a newly held key: the newest fed tick of mode ≥ `mode`, tagged `mode`. */
  private snapshot(exchange: string, symbol: string, mode: Mode): Obj | undefined {
    const ticks = this.o.fed.filter((t) => t.exchange === exchange && t.symbol === symbol && t.mode >= mode);
    const last = ticks[ticks.length - 1];
    if (!last) return undefined;
    let data = last.payload;
    if (mode < 3 && last.mode === 3) {
      data = Object.fromEntries(Object.entries(data).filter(([k]) => k !== 'depth' && k !== 'bids' && k !== 'asks'));
    }
    const broker = [...new Set(this.o.keys.map((k) => k.broker))][0] as string;
    return { type: 'market_data', symbol, exchange, mode, seq: ticks.length, data, broker };
  }

  private unsubscribe(c: ConnectionModel, m: Obj, rid: Obj, err: (code: string, message: unknown) => Obj[]): Obj[] {
    const { any, maxSubscriptions } = this.o;
    const broker = (c.user as { broker: string }).broker;
    const top = m['mode'] === undefined || m['mode'] === null ? undefined : modeOf(m['mode']);
    if (top === 'invalid') return err('INVALID_MODE', any.anyString());
    const list = this.entries(m);
    if (list === 'invalid') return err('INVALID_PARAMETERS', any.anyString());
    if (list.length > Math.max(maxSubscriptions, 10_000)) return err('INVALID_PARAMETERS', any.anyString());
    const bulk = Array.isArray(m['symbols']) && m['symbols'].length > 0;
    const successful: Obj[] = [];
    const failed: Obj[] = [];
    for (const raw of list) {
      const e = this.entry(raw);
      if (!e.ok) {
        failed.push({ symbol: e.symbol, exchange: e.exchange, status: 'error', message: e.message, broker });
        continue;
      }
      const itemMode = bulk ? (e.raw as Obj)['mode'] : undefined;
      const own = itemMode === undefined || itemMode === null ? undefined : modeOf(itemMode);
      if (own === 'invalid') {
        failed.push({ symbol: e.symbol, exchange: e.exchange, status: 'error', code: 'INVALID_MODE', message: any.anyString(), broker });
        continue;
      }
      const which = own ?? top;
      const k = keyOf(e.exchange, e.symbol);
      const h = c.held.get(k);
      if (h) {
        if (which === undefined) h.modes.clear();
        else h.modes.delete(which);
        if (h.modes.size === 0) c.held.delete(k);
      }
      successful.push({ symbol: e.symbol, exchange: e.exchange, status: 'success', broker });
    }
    return [this.unsubscribeReply(successful, failed, broker, rid)];
  }

  private unsubscribeReply(successful: Obj[], failed: Obj[], broker: string, rid: Obj): Obj {
    return {
      type: 'unsubscribe',
      status: status(successful.length, failed.length),
      message: 'Unsubscription processing complete',
      successful,
      failed,
      broker,
      ...rid,
    };
  }
}
