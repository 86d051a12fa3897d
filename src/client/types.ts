import type { Mode, ModeLabel } from '../../streams';

/**
 * Where the client is in its life:
 * - `connecting`: the first connection (socket and authentication) is under way;
 * - `open`: authenticated; subscriptions are live;
 * - `reconnecting`: a connection was lost (or a connection attempt failed) and the client is
 *   waiting out its backoff or connecting again; subscriptions resume when it is `open` again;
 * - `closed`: {@link TickcastClient.close} was called; nothing more will happen.
 *
 * @example
 * client.status$.subscribe((status) => (badge.textContent = status));
 */
export type TickcastStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * A mode as {@link TickcastClient.ticks$} accepts it: the integer the wire carries, or a label
 * (`LTP`, `Quote`, `Depth`, case-insensitive), as the server accepts them.
 *
 * @example
 * client.ticks$('RELIANCE', 'NSE', 'depth'); // the same key as ticks$('RELIANCE', 'NSE', 3)
 */
export type ModeInput = Mode | ModeLabel | (string & Record<never, never>);

/** One level of an order book, as the server delivers books (`depth: { buy, sell }`). */
export interface BookLevel {
  readonly price: number;
  readonly quantity: number;
  readonly orders?: number;
}

/**
 * The `data` of a `market_data` frame: the publisher's payload. The usual fields are typed; anything
 * else the publisher sends is there too, as `unknown`.
 */
export interface MarketDataPayload {
  readonly ltp?: number;
  readonly volume?: number;
  readonly open?: number;
  readonly high?: number;
  readonly low?: number;
  readonly close?: number;
  readonly timestamp?: number;
  /** Order book (mode 3), bids high→low in `buy`, asks low→high in `sell`. */
  readonly depth?: { readonly buy: readonly BookLevel[]; readonly sell: readonly BookLevel[] };
  readonly [field: string]: unknown;
}

/**
 * A `market_data` frame exactly as the server sends it.
 *
 * @example
 * client.ticks$('RELIANCE', 'NSE', 2).subscribe((t) => console.log(t.symbol, t.seq, t.data.ltp, t.data.volume));
 *
 * `mode` is the mode THIS client subscribed that the frame was delivered for (the server's mode
 * hierarchy tags each tick with the highest mode the client holds at or below the tick's own mode),
 * not necessarily the mode the tick was published on.
 */
export interface MarketData {
  readonly type: 'market_data';
  readonly symbol: string;
  readonly exchange: string;
  readonly mode: Mode;
  /** Frames the server has emitted for (exchange, symbol, mode) so far; a jump means frames were skipped. */
  readonly seq?: number;
  readonly data: MarketDataPayload;
  readonly broker: string;
}

/** An `order_update` frame, relayed verbatim from the broker's order feed. */
export interface OrderUpdate {
  readonly type: 'order_update';
  readonly user_id?: string;
  readonly [field: string]: unknown;
}

/**
 * Any JSON object the server sends; `type` and `status` tell which (see `protocol.md`).
 *
 * @example
 * client.messages$.subscribe((frame) => frame.type === 'pong' && console.log(frame['server_timestamp']));
 */
export interface ServerFrame {
  readonly type?: string;
  readonly status?: string;
  readonly code?: string;
  readonly message?: string;
  readonly request_id?: string;
  readonly [field: string]: unknown;
}

/**
 * A request the client may send with {@link TickcastClient.request}: any action but the ones the client owns.
 *
 * @example
 * const ping: ClientRequest = { action: 'ping', timestamp: Date.now() };
 */
export interface ClientRequest {
  readonly action: string;
  readonly [field: string]: unknown;
}

/**
 * An event handler slot of a WebSocket. Typed as a method so that both the DOM `WebSocket` and the
 * `ws` package's class (whose handlers take their own, richer event types) fit.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/**
 * What the client needs of a WebSocket: the part of the WHATWG API that browsers, Node 22+ and the
 * `ws` package share. Text frames must arrive as strings (`ws` and browsers do so).
 */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ readonly data: unknown }> | null;
  onerror: Handler<unknown> | null;
  onclose: Handler<{ readonly code: number; readonly reason: string }> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * A WebSocket class: `WebSocket` in a browser, `import WebSocket from 'ws'` in Node 20.
 *
 * @example
 * import WebSocket from 'ws';
 * createTickcastClient({ url, apiKey, WebSocketCtor: WebSocket });
 */
export type WebSocketCtor = new (url: string) => WebSocketLike;
