/**
 * `tickcast/client`: a dashboard client for the Tickcast market-data proxy (and OpenAlgo's). Browser
 * and Node: it imports only `rxjs` and the stream library; give it a WebSocket class in Node 20.
 *
 * @example
 * import { createTickcastClient } from 'tickcast/client';
 * const client = createTickcastClient({ url: 'ws://127.0.0.1:8765', apiKey: KEY });
 * client.ltp$('RELIANCE', 'NSE').subscribe((ltp) => render(ltp));
 */
export { createTickcastClient } from './createTickcastClient';
export type { TickcastClient, TickcastClientOptions } from './createTickcastClient';
export { backoffDelay, DEFAULT_BACKOFF, resolveBackoff } from './backoff';
export type { BackoffOptions } from './backoff';
export { TickcastAuthError, TickcastConnectionError, TickcastServerError, TickcastSubscribeError } from './errors';
export type {
  BookLevel,
  ClientRequest,
  MarketData,
  MarketDataPayload,
  ModeInput,
  OrderUpdate,
  ServerFrame,
  TickcastStatus,
  WebSocketCtor,
  WebSocketLike,
} from './types';
export { InvalidModeError, modeLabel, parseMode } from '../../streams';
export type { Mode, ModeLabel } from '../../streams';
