import { connect } from '@nats-io/transport-node';
import { type Logger, ThrottledLog } from '../logger';
import type { NatsConnection } from './types';

/** Options of {@link connectNats}. */
export interface NatsConnectOptions {
  /** Server URL(s): `nats://host:4222`, comma-separated for several. */
  readonly servers: string;
  /** Connection name, shown by the server's monitoring endpoints (`/connz`). */
  readonly name: string;
  /** First reconnect delay in ms; doubles per failed attempt up to {@link reconnectMaxMs}. Default 250. */
  readonly reconnectBaseMs?: number;
  /** Largest reconnect delay in ms. Default 5000. */
  readonly reconnectMaxMs?: number;
  readonly logger: Logger;
  /** Told when the connection goes up (true) or down (false), and after every reconnect. */
  readonly onState?: (up: boolean, reconnected: boolean) => void;
}

/** A NATS connection that reconnects forever, and whether it is up right now. */
export interface LiveConnection {
  readonly nc: NatsConnection;
  isUp(): boolean;
  /** Closes without draining (market data in flight is not worth waiting for). */
  close(): Promise<void>;
}

/** Splits `--nats` into the server list the client takes. */
export function natsServers(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Connects to NATS with reconnection that never gives up (`maxReconnectAttempts: -1`) and an
 * exponential backoff with jitter, reset by every successful reconnect. State changes are logged
 * once each (disconnect, first reconnect attempt, reconnect), never per attempt or per message.
 * Rejects with a message naming the URL when the FIRST connection fails, so a typo in `--nats`
 * stops the process at once instead of retrying silently.
 */
export async function connectNats(options: NatsConnectOptions): Promise<LiveConnection> {
  const { logger } = options;
  const base = options.reconnectBaseMs ?? 250;
  const cap = options.reconnectMaxMs ?? 5000;
  let attempts = 0;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: natsServers(options.servers),
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: base,
      reconnectDelayHandler: () => {
        const delay = Math.min(cap, base * 2 ** Math.min(attempts++, 16));
        return delay / 2 + Math.random() * (delay / 2);
      },
      pingInterval: 10_000,
      maxPingOut: 2,
    });
  } catch (err) {
    throw new Error(
      `Could not connect to NATS at ${options.servers}: ${(err as Error).message}. ` +
        'Start nats-server (with -js for the last-value store) or fix --nats.',
    );
  }
  let up = true;
  const noisy = new ThrottledLog(logger);
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          if (up) {
            up = false;
            logger.warn({ event: 'nats_disconnect', server: s.server }, 'NATS connection lost; reconnecting');
            options.onState?.(false, false);
          }
          break;
        case 'reconnect':
          attempts = 0;
          up = true;
          logger.info({ event: 'nats_reconnect', server: s.server }, 'NATS connection restored');
          options.onState?.(true, true);
          break;
        case 'error':
          noisy.warn('nats_error', { err: s.error }, 'NATS reported an error');
          break;
        case 'ldm':
          logger.warn({ event: 'nats_ldm', server: s.server }, 'NATS server entering lame-duck mode; will move to another');
          break;
        case 'staleConnection':
          logger.warn({ event: 'nats_stale' }, 'NATS connection went stale (no pong); reconnecting');
          break;
        case 'slowConsumer':
          noisy.warn('nats_slow_consumer', { subject: s.sub.getSubject(), pending: s.pending }, 'NATS subscription falling behind');
          break;
        default:
          break;
      }
    }
  })().catch(() => undefined);
  void nc.closed().then(() => {
    up = false;
  });
  return {
    nc,
    isUp: () => up && !nc.isClosed(),
    close: async () => {
      if (!nc.isClosed()) await nc.close();
    },
  };
}
