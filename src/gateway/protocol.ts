import { InvalidModeError, type Mode, modeLabel, parseMode } from '../../streams';

/** Error codes of protocol.md's error envelope. */
export type ErrorCode =
  | 'AUTHENTICATION_ERROR'
  | 'NOT_AUTHENTICATED'
  | 'INVALID_MODE'
  | 'INVALID_PARAMETERS'
  | 'INVALID_ACTION'
  | 'INVALID_JSON'
  | 'SERVER_ERROR'
  | 'PROCESSING_ERROR'
  | 'MAX_SUBSCRIPTIONS'
  | 'RATE_LIMITED';

/** A client request after JSON parsing: an object with unknown fields. */
export type Request = Record<string, unknown>;

/** Longest symbol or exchange accepted; longer ones get error entries (they cannot be real). */
export const MAX_NAME_LENGTH = 128;

/**
 * Deepest nesting of arrays and objects a client message may have. Real requests nest 3 deep;
 * replies echo client values (`request_id`, `timestamp`), and `JSON.stringify` overflows the stack
 * on values a few thousand deep (which `JSON.parse` reads without complaint).
 */
export const MAX_MESSAGE_NESTING = 32;

/**
 * True when the JSON `text` nests arrays/objects deeper than `max`: one pass that skips strings,
 * and none at all for texts too short to nest that deep.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  if (text.length <= 2 * max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The `request_id` to echo, when the request carried one [ext]. */
export function requestIdOf(msg: Request | undefined): unknown {
  return msg === undefined ? undefined : msg['request_id'];
}

/** `{"status":"error","code",...,"message"}` with no `type` (protocol.md), echoing `request_id`. */
export function errorEnvelope(code: ErrorCode, message: string, requestId?: unknown): string {
  const out: Record<string, unknown> = { status: 'error', code, message };
  if (requestId !== undefined) out['request_id'] = requestId;
  return JSON.stringify(out);
}

/** Serialises a reply, appending `request_id` when the request carried one. */
export function reply(body: Record<string, unknown>, requestId: unknown): string {
  if (requestId !== undefined) body['request_id'] = requestId;
  return JSON.stringify(body);
}

/** The action a message names: `action`, else `type` (protocol.md dispatch). */
export function actionOf(msg: Request): unknown {
  return msg['action'] ?? msg['type'];
}

/** How an invalid action is named in `Invalid action: <action>`: as OpenAlgo prints it. */
export function describeAction(action: unknown): string {
  if (action === undefined || action === null) return 'None';
  const s = typeof action === 'string' ? action : (JSON.stringify(action) ?? String(action));
  return s.length > 64 ? s.slice(0, 64) + '…' : s;
}

/** One entry of a subscribe/unsubscribe request, validated. */
export type Item =
  | { readonly ok: true; readonly symbol: string; readonly exchange: string; readonly raw: Request }
  | { readonly ok: false; readonly symbol: string; readonly exchange: string; readonly message: string };

function nameOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function item(raw: unknown): Item {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, symbol: '', exchange: '', message: 'each entry must be an object {"symbol","exchange"}' };
  }
  const r = raw as Request;
  const symbol = r['symbol'];
  const exchange = r['exchange'];
  if (typeof symbol !== 'string' || typeof exchange !== 'string' || symbol === '' || exchange === '') {
    return { ok: false, symbol: nameOf(symbol), exchange: nameOf(exchange), message: 'symbol and exchange are required' };
  }
  if (symbol.length > MAX_NAME_LENGTH || exchange.length > MAX_NAME_LENGTH) {
    return {
      ok: false,
      symbol: symbol.slice(0, MAX_NAME_LENGTH),
      exchange: exchange.slice(0, MAX_NAME_LENGTH),
      message: `symbol and exchange must be at most ${MAX_NAME_LENGTH} characters`,
    };
  }
  return { ok: true, symbol, exchange, raw: r };
}

/** OpenAlgo's INVALID_PARAMETERS messages for a request that names no symbol at all [compat]. */
export const NO_SYMBOLS_MESSAGE = {
  subscribe: 'At least one symbol must be specified',
  unsubscribe: 'Either symbols or unsubscribe_all is required',
} as const;

/**
 * The entries of a subscribe/unsubscribe request: the bulk form (`symbols: [...]`) or the single
 * form (`symbol`, `exchange` at top level). Returns a string (the INVALID_PARAMETERS message) when
 * `symbols` is not an array, or when the request names no symbol at all (`symbols` empty or missing
 * and no single form) — as OpenAlgo does, whose `data.get("symbols") or []` also lets an empty
 * `symbols` fall through to the single form.
 */
export function itemsOf(msg: Request, action: 'subscribe' | 'unsubscribe'): Item[] | string {
  const symbols = msg['symbols'];
  if (symbols !== undefined && symbols !== null) {
    if (!Array.isArray(symbols)) return '"symbols" must be an array of {"symbol","exchange"} objects';
    if (symbols.length > 0) return symbols.map(item);
  }
  if (msg['symbol'] === undefined && msg['exchange'] === undefined) return NO_SYMBOLS_MESSAGE[action];
  return [item(msg)];
}

/**
 * Most entries one subscribe/unsubscribe request may carry: the subscription cap, and at least
 * 10,000. Every entry is answered with its own entry, so an unbounded request (a megabyte of
 * `[0,0,…]` is 500,000 entries) would build a reply of tens of megabytes and trip the slow-client
 * limit of a client that reads fine.
 */
export function maxRequestEntries(maxSubscriptions: number): number {
  return Math.max(maxSubscriptions, 10_000);
}

/** The subscribe mode: missing → Quote; otherwise exactly as {@link parseMode}. */
export function subscribeModeOf(msg: Request): Mode | InvalidModeError {
  const mode = msg['mode'];
  if (mode === undefined) return 2;
  try {
    return parseMode(mode);
  } catch (err) {
    return err as InvalidModeError;
  }
}

/**
 * An unsubscribe mode: `undefined` when not given (meaning every held mode), the mode, or the
 * error for a value that is not a mode.
 */
export function optionalModeOf(value: unknown): Mode | undefined | InvalidModeError {
  if (value === undefined || value === null) return undefined;
  try {
    return parseMode(value);
  } catch (err) {
    return err as InvalidModeError;
  }
}

/** The requested depth: default 5; a positive whole number, else an error message. */
export function depthOf(msg: Request): number | string {
  const depth = msg['depth'];
  if (depth === undefined || depth === null) return 5;
  if (typeof depth === 'number' && Number.isInteger(depth) && depth > 0 && depth <= 10_000) return depth;
  return '"depth" must be a whole number of book levels, such as 5, 20 or 50';
}

/** `success` when all succeeded, `error` when all failed, `partial` otherwise (none → success). */
export function overallStatus(ok: number, failed: number): 'success' | 'partial' | 'error' {
  if (failed === 0) return 'success';
  return ok === 0 ? 'error' : 'partial';
}

/**
 * A batch window as a client may ask for it (`set_options.batch_ms`, or `?batch_ms=` on the URL):
 * a whole number of ms from 0 (off) to `max`. Returns the error message otherwise.
 */
export function batchMsOf(value: unknown, max: number): number | string {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max) return n;
  return `"batch_ms" must be a whole number of milliseconds from 0 (off) to ${max}`;
}

// --- replies -------------------------------------------------------------------------------------
// Pure builders of every reply protocol.md defines, serialised, `request_id` echoed when given.

/** Who a connection authenticated as. */
export interface ReplyUser {
  readonly userId: string;
  readonly broker: string;
}

const SUPPORTED_FEATURES = { ltp: true, quote: true, depth: true };

/** `auth` success. */
export function authReply(user: ReplyUser, requestId: unknown): string {
  return reply(
    {
      type: 'auth',
      status: 'success',
      message: 'Authentication successful',
      broker: user.broker,
      user_id: user.userId,
      supported_features: SUPPORTED_FEATURES,
    },
    requestId,
  );
}

/** `pong`, echoing `timestamp` as `client_timestamp` and `_pingId` when the ping carried them. */
export function pongReply(msg: Request, now: number): string {
  const out: Record<string, unknown> = { type: 'pong', status: 'success', server_timestamp: now };
  if (msg['timestamp'] !== undefined) out['client_timestamp'] = msg['timestamp'];
  if (msg['_pingId'] !== undefined) out['_pingId'] = msg['_pingId'];
  return reply(out, requestIdOf(msg));
}

/** `supported_brokers`. */
export function supportedBrokersReply(brokers: readonly string[], requestId: unknown): string {
  return reply({ type: 'supported_brokers', status: 'success', brokers, count: brokers.length }, requestId);
}

/** `broker_info` for an authenticated user. */
export function brokerInfoReply(user: ReplyUser, adapterStatus: string, requestId: unknown): string {
  return reply(
    { type: 'broker_info', status: 'success', broker: user.broker, adapter_status: adapterStatus, user_id: user.userId },
    requestId,
  );
}

/** `subscribe_orders` / `unsubscribe_orders`. */
export function ordersReply(subscribed: boolean, requestId: unknown): string {
  return reply(
    {
      type: subscribed ? 'subscribe_orders' : 'unsubscribe_orders',
      status: 'success',
      message: subscribed ? 'Subscribed to order updates' : 'Unsubscribed from order updates',
    },
    requestId,
  );
}

/** `set_options` [ext]. */
export function setOptionsReply(batchMs: number, requestId: unknown): string {
  return reply({ type: 'set_options', status: 'success', batch_ms: batchMs }, requestId);
}

/** One entry of a subscribe reply. */
export type SubscribeEntry = Record<string, unknown> & { readonly status: 'success' | 'error' };

/** A successful subscribe entry: `mode` is the label. */
export function subscribedEntry(symbol: string, exchange: string, mode: Mode, depth: number, broker: string): SubscribeEntry {
  return { symbol, exchange, status: 'success', mode: modeLabel(mode), depth, broker };
}

/** A failed subscribe (or unsubscribe) entry, with a `code` when there is one. */
export function errorEntry(symbol: string, exchange: string, message: string, broker: string, code?: string): SubscribeEntry {
  return code === undefined
    ? { symbol, exchange, status: 'error', message, broker }
    : { symbol, exchange, status: 'error', code, message, broker };
}

/** The `subscribe` reply: one entry per requested item, in request order. */
export function subscribeReply(entries: readonly SubscribeEntry[], broker: string, requestId: unknown): string {
  const ok = entries.filter((e) => e.status === 'success').length;
  return reply(
    {
      type: 'subscribe',
      status: overallStatus(ok, entries.length - ok),
      subscriptions: entries,
      message: 'Subscription processing complete',
      broker,
    },
    requestId,
  );
}

/** An unsubscribe entry that succeeded. */
export function unsubscribedEntry(symbol: string, exchange: string, broker: string): Record<string, unknown> {
  return { symbol, exchange, status: 'success', broker };
}

/** The `unsubscribe` reply (also `unsubscribe_all`'s). */
export function unsubscribeReply(successful: readonly unknown[], failed: readonly unknown[], broker: string, requestId: unknown): string {
  return reply(
    {
      type: 'unsubscribe',
      status: overallStatus(successful.length, failed.length),
      message: 'Unsubscription processing complete',
      successful,
      failed,
      broker,
    },
    requestId,
  );
}
