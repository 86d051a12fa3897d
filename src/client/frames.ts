import { isMode, type Mode } from '../../streams';
import type { MarketData, OrderUpdate, ServerFrame } from './types';

/** One (exchange, symbol, mode) the client may hold on the server. */
export interface SubscriptionKey {
  readonly exchange: string;
  readonly symbol: string;
  readonly mode: Mode;
}

/** A string naming a {@link SubscriptionKey}, unique whatever characters symbols contain. */
export function keyId(exchange: string, symbol: string, mode: Mode): string {
  return JSON.stringify([exchange, symbol, mode]);
}

const decoder = new TextDecoder();

/**
 * The JSON object in a WebSocket message, or `null` when it is not one (binary junk, bad JSON, an
 * array): the client ignores such messages rather than failing.
 */
export function parseServerFrame(data: unknown): ServerFrame | null {
  let text: string;
  if (typeof data === 'string') text = data;
  else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    try {
      text = decoder.decode(data);
    } catch {
      return null;
    }
  } else return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as ServerFrame) : null;
}

/** True for a well-formed `market_data` frame (a `mode` of 1, 2 or 3 and an object `data`). */
export function isMarketData(frame: ServerFrame): frame is ServerFrame & MarketData {
  const data = frame['data'];
  return (
    frame.type === 'market_data' &&
    typeof frame['symbol'] === 'string' &&
    typeof frame['exchange'] === 'string' &&
    isMode(frame['mode']) &&
    data !== null &&
    typeof data === 'object' &&
    !Array.isArray(data)
  );
}

/** True for an `order_update` frame. */
export function isOrderUpdate(frame: ServerFrame): frame is ServerFrame & OrderUpdate {
  return frame.type === 'order_update';
}

/** True for an error envelope: `status: "error"` and, as the protocol sends them, no `type`. */
export function isErrorEnvelope(frame: ServerFrame): boolean {
  return frame.status === 'error' && frame.type === undefined;
}

const ANSWER_TYPES: Readonly<Record<string, string>> = {
  authenticate: 'auth',
  auth: 'auth',
  unsubscribe_all: 'unsubscribe',
  ping: 'pong',
  get_broker_info: 'broker_info',
  get_supported_brokers: 'supported_brokers',
};

/** The `type` of the server's answer to `action` (`ping` → `pong`; most actions answer with their own name). */
export function answerTypeOf(action: string): string {
  return ANSWER_TYPES[action] ?? action;
}

/** One entry of a `subscribe` reply's `subscriptions`. */
export interface SubscribeReplyEntry {
  readonly symbol: string;
  readonly exchange: string;
  readonly status: string;
  readonly code?: string;
  readonly message?: string;
}

/** The well-formed entries of a `subscribe` reply (junk entries are left out). */
export function subscribeReplyEntries(frame: ServerFrame): SubscribeReplyEntry[] {
  const list = frame['subscriptions'];
  if (!Array.isArray(list)) return [];
  return list.filter(
    (e: unknown): e is SubscribeReplyEntry =>
      e !== null &&
      typeof e === 'object' &&
      typeof (e as SubscribeReplyEntry).symbol === 'string' &&
      typeof (e as SubscribeReplyEntry).exchange === 'string' &&
      typeof (e as SubscribeReplyEntry).status === 'string',
  );
}
