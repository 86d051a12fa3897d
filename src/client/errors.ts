import type { Mode } from '../../streams';

/**
 * The server answered a request of this client with an error (`{"status":"error","code":...}`).
 * `code` is the server's (`INVALID_MODE`, `RATE_LIMITED`, ...); `serverMessage` its own words.
 *
 * @example
 * client.request({ action: 'get_broker_info' }).subscribe({
 *   error: (err) => err instanceof TickcastServerError && console.warn(err.code, err.serverMessage),
 * });
 */
export class TickcastServerError extends Error {
  constructor(
    readonly code: string,
    readonly serverMessage: string,
    readonly requestId?: string,
    message = `The server refused the request: ${code}: ${serverMessage}`,
  ) {
    super(message);
    this.name = 'TickcastServerError';
  }
}

/**
 * The server refused the API key (`AUTHENTICATION_ERROR`). The client stops for good: `status$`
 * errors with this, every tick stream errors with it, and nothing is retried.
 *
 * @example
 * client.status$.subscribe({ error: (err) => err instanceof TickcastAuthError && showLogin() });
 */
export class TickcastAuthError extends TickcastServerError {
  constructor(code: string, serverMessage: string, requestId?: string) {
    super(
      code,
      serverMessage,
      requestId,
      `Authentication failed (${code}: ${serverMessage}). Check the apiKey given to createTickcastClient; ` +
        'the client has stopped and will not retry — create a new one with a valid key.',
    );
    this.name = 'TickcastAuthError';
  }
}

/**
 * The server refused one subscription (an `error` entry in its `subscribe` reply, or an error
 * envelope answering the subscribe request). The `ticks$` stream of that key errors with this.
 *
 * @example
 * client.ticks$('NOPE', 'NSE', 'LTP').subscribe({
 *   error: (err) => err instanceof TickcastSubscribeError && console.warn(err.symbol, err.code),
 * });
 */
export class TickcastSubscribeError extends TickcastServerError {
  constructor(
    code: string,
    serverMessage: string,
    readonly symbol: string,
    readonly exchange: string,
    readonly mode: Mode,
    requestId?: string,
  ) {
    super(
      code,
      serverMessage,
      requestId,
      `The server refused the subscription to ${exchange}:${symbol} mode ${mode} (${code}: ${serverMessage}).`,
    );
    this.name = 'TickcastSubscribeError';
  }
}

/**
 * The connection failed in a way the client does not retry past: a request whose connection closed
 * before the answer came, a client that gave up after `backoff.maxAttempts`, or a WebSocket class
 * that could not be constructed.
 *
 * @example
 * client.status$.subscribe({ error: (err) => err instanceof TickcastConnectionError && showOffline() });
 */
export class TickcastConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TickcastConnectionError';
  }
}
