import type { SchedulerLike, Subscription } from 'rxjs';
import { type BackoffOptions, backoffDelay } from './backoff';
import { TickcastAuthError, TickcastConnectionError } from './errors';
import type { PendingRequests } from './pendingRequests';
import type { WebSocketCtor, WebSocketLike } from './types';

const SOCKET_OPEN = 1;
const noop = (): void => {};

/** How the connection tells the client what happened to it. */
export interface ConnectionHooks {
  /** The key was accepted: the connection is usable. */
  authenticated(): void;
  /** A message arrived on the current socket. */
  message(data: unknown): void;
  /** The connection went without the client asking; another attempt is scheduled. */
  dropped(why: string): void;
  /** The client cannot go on: the key was refused, or reconnecting gave up. */
  fatal(error: Error): void;
}

/** What {@link Connection} is built from. */
export interface ConnectionOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly Ctor: WebSocketCtor;
  readonly backoff: Readonly<BackoffOptions>;
  readonly scheduler: SchedulerLike;
  readonly random: () => number;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One client's link to the proxy over successive sockets: opens a socket, authenticates on it,
 * and after a drop schedules the next attempt with capped exponential backoff, giving up after
 * `backoff.maxAttempts` attempts in a row that did not authenticate.
 */
export class Connection {
  private socket: WebSocketLike | undefined;
  private isAuthenticated = false;
  /** Consecutive connection attempts that did not reach a successful authentication. */
  private failedAttempts = 0;
  private retry: Subscription | undefined;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly pending: PendingRequests,
    private readonly hooks: ConnectionHooks,
  ) {}

  /** True while the current socket is authenticated. */
  get authenticated(): boolean {
    return this.isAuthenticated;
  }

  /** Opens the first socket; throws when the WebSocket class refuses the URL. */
  start(): void {
    this.connect(true);
  }

  /** Sends a message on the current socket if it is open; otherwise drops it (a reconnect re-sends state). */
  send(message: Record<string, unknown>): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== SOCKET_OPEN) return;
    try {
      socket.send(JSON.stringify(message));
    } catch {
      // The socket is closing; its close event will reconnect and re-subscribe.
    }
  }

  /** Closes a connection that cannot go on (and is retried like any drop). */
  abandon(why: string): void {
    const socket = this.socket;
    this.socket = undefined;
    closeQuietly(socket, 1000, 'client reconnecting');
    this.onDrop(why);
  }

  /** Stops for good: no further attempt, the socket closed. */
  stop(): void {
    this.isAuthenticated = false;
    this.retry?.unsubscribe();
    this.retry = undefined;
    const socket = this.socket;
    this.socket = undefined;
    closeQuietly(socket, 1000, 'client closed');
  }

  private connect(first = false): void {
    this.retry = undefined;
    let socket: WebSocketLike;
    try {
      socket = new this.options.Ctor(this.options.url);
    } catch (err) {
      if (first) throw err;
      this.hooks.fatal(new TickcastConnectionError(`Could not open a WebSocket to ${this.options.url}: ${describe(err)}`));
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket === socket) this.authenticate();
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.hooks.message(event.data);
    };
    // An error is always followed by a close event, which is where the client reacts.
    socket.onerror = noop;
    socket.onclose = (event) => {
      if (this.socket === socket) this.onDrop(`code ${event.code}${event.reason ? `, ${event.reason}` : ''}`);
    };
  }

  private authenticate(): void {
    this.pending.ask(
      { action: 'authenticate', api_key: this.options.apiKey },
      {
        reply: (frame, requestId) => {
          if (frame.status === 'success') this.onAuthenticated();
          else
            this.hooks.fatal(
              new TickcastAuthError(frame.code ?? 'AUTHENTICATION_ERROR', frame.message ?? 'authentication failed', requestId),
            );
        },
        refused: (error) => {
          if (error.code === 'AUTHENTICATION_ERROR')
            this.hooks.fatal(new TickcastAuthError(error.code, error.serverMessage, error.requestId));
          else this.abandon(`authentication answered ${error.code}`);
        },
      },
    );
  }

  private onAuthenticated(): void {
    this.isAuthenticated = true;
    this.failedAttempts = 0;
    this.hooks.authenticated();
  }

  /** The connection is gone without the client asking: schedule the next attempt, or give up. */
  private onDrop(why: string): void {
    this.socket = undefined;
    this.isAuthenticated = false;
    const { backoff, url } = this.options;
    if (this.failedAttempts >= backoff.maxAttempts) {
      this.hooks.fatal(
        new TickcastConnectionError(
          `Gave up on ${url} after ${this.failedAttempts} failed reconnection attempts (last: ${why}). ` +
            'Check that the proxy is running and reachable, or raise backoff.maxAttempts.',
        ),
      );
      return;
    }
    const delay = backoffDelay(this.failedAttempts, backoff, this.options.random);
    this.failedAttempts++;
    this.hooks.dropped(why);
    this.retry = this.options.scheduler.schedule(() => this.connect(), delay);
  }
}

function closeQuietly(socket: WebSocketLike | undefined, code: number, reason: string): void {
  if (!socket) return;
  try {
    socket.close(code, reason);
  } catch {
    // Already closing, or a runtime that refuses to close a connecting socket: nothing to undo.
  }
}
