import type { AddressInfo } from 'net';
import { type WebSocket, WebSocketServer } from 'ws';

type Frame = Record<string, unknown>;

/** A frame a client sent, and which connection (numbered from 0) it came on. */
export interface Received {
  readonly conn: number;
  readonly frame: Frame;
}

/**
 * Just enough of the proxy's protocol over a real `ws` server on 127.0.0.1 (random port) to test the
 * client with real sockets: authenticate, subscribe (with per-entry replies), unsubscribe, and a
 * hand to push ticks and to close connections as a shutting-down server does.
 */
export class MiniProxy {
  readonly received: Received[] = [];
  readonly connections: WebSocket[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly wss: WebSocketServer,
    readonly apiKey: string,
  ) {
    wss.on('connection', (socket) => {
      const conn = this.connections.length;
      this.connections.push(socket);
      socket.on('message', (data) => this.onMessage(socket, conn, String(data)));
      socket.on('close', () => this.notify());
      this.notify();
    });
  }

  /** Starts a server on 127.0.0.1 at a free port. */
  static start(apiKey: string): Promise<MiniProxy> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      wss.once('error', reject);
      wss.once('listening', () => resolve(new MiniProxy(wss, apiKey)));
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/ws`;
  }

  /**
   * Resolves once `condition` holds — checked on every server event and every 5 ms, since it may
   * depend on what the client received — or rejects after 2 s naming `what`.
   */
  until(condition: () => boolean, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.waiters.delete(check);
        clearInterval(poll);
        clearTimeout(timeout);
      };
      const check = (): void => {
        if (!condition()) return;
        done();
        resolve();
      };
      const poll = setInterval(check, 5);
      const timeout = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.received)}`));
      }, 2000);
      this.waiters.add(check);
    });
  }

  /** The actions received so far, as `action#conn`. */
  actions(): string[] {
    return this.received.map(({ conn, frame }) => `${String(frame['action'])}#${conn}`);
  }

  /** Sends a frame to connection `conn`. */
  push(conn: number, frame: object): void {
    this.connections[conn]?.send(JSON.stringify(frame));
  }

  /** Closes every open connection with `code`, as a server shutting down does (1001). */
  closeAll(code = 1001, reason = 'server shutting down'): void {
    for (const socket of this.connections) if (socket.readyState === socket.OPEN) socket.close(code, reason);
  }

  /** True once connection `conn` is closed. */
  isClosed(conn: number): boolean {
    const socket = this.connections[conn];
    return socket !== undefined && socket.readyState === socket.CLOSED;
  }

  stop(): Promise<void> {
    for (const socket of this.connections) socket.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private onMessage(socket: WebSocket, conn: number, text: string): void {
    const frame = JSON.parse(text) as Frame;
    this.received.push({ conn, frame });
    const echo = frame['request_id'] === undefined ? {} : { request_id: frame['request_id'] };
    const reply = (answer: Frame): void => socket.send(JSON.stringify(answer));
    switch (frame['action']) {
      case 'authenticate':
        if (frame['api_key'] === this.apiKey) {
          reply({ type: 'auth', status: 'success', message: 'Authentication successful', broker: 'mini', user_id: 'u1' });
        } else {
          reply({ status: 'error', code: 'AUTHENTICATION_ERROR', message: 'Invalid API key', ...echo });
        }
        break;
      case 'subscribe': {
        const items = frame['symbols'] as { symbol: string; exchange: string }[];
        const subscriptions = items.map((item) => ({ ...item, status: 'success', mode: 'LTP', depth: 5, broker: 'mini' }));
        reply({
          type: 'subscribe',
          status: 'success',
          subscriptions,
          message: 'Subscription processing complete',
          broker: 'mini',
          ...echo,
        });
        break;
      }
      case 'unsubscribe':
        reply({ type: 'unsubscribe', status: 'success', successful: frame['symbols'], failed: [], broker: 'mini', ...echo });
        break;
      default:
        reply({ status: 'error', code: 'INVALID_ACTION', message: `Invalid action: ${String(frame['action'])}`, ...echo });
    }
    this.notify();
  }
}
