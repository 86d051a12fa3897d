import type { Server } from 'node:http';
import type { ServeConfig } from '../config';
import type { Hub, HubClient } from '../hub';
import type { Logger } from '../logger';
import type { Stats } from '../stats';

/** The feed's health as clients see it in `broker_info.adapter_status`. */
export type AdapterStatus = 'connected' | 'stale' | 'disconnected';

/** What the gateway needs from the rest of the process. */
export interface GatewayDeps {
  /** The shared HTTP server; the gateway handles its `upgrade` events. */
  readonly server: Server;
  readonly config: ServeConfig;
  readonly hub: Hub;
  readonly logger: Logger;
  readonly stats: Stats;
  /** The feed's health right now. */
  readonly adapterStatus: () => AdapterStatus;
}

/** What one open connection holds, as {@link Gateway.sessions} shows it: read-only, for tests and diagnostics. */
export interface SessionView {
  readonly id: number;
  /** The peer's TCP port: lets a test find the session behind its own socket. */
  readonly remotePort: number | undefined;
  /** Undefined until the connection authenticates. */
  readonly userId: string | undefined;
  readonly ordersSubscribed: boolean;
  /** The connection's handle in the hub, for `hub.held(...)` / `hub.countHeld(...)`. */
  readonly hubClient: HubClient;
}

/** The WebSocket side of the proxy. */
export interface Gateway {
  /** Connections open now (authenticated or not). */
  clientCount(): number;
  /** The open connections, in the order they connected. */
  sessions(): SessionView[];
  /**
   * Relays an order event from feed topic `{BROKER}_{USER}_orders` or `ANALYZE_{USER}_orders` to the
   * connections of the user named by the payload's `user_id` that subscribed to orders.
   */
  relayOrder(topic: string, payload: Buffer | string): void;
  /** Stops accepting new connections (upgrades answered 503). */
  stopAccepting(): void;
  /**
   * Ends every connection for a restart and resolves when they are gone: open ones are cut without a
   * close frame so their clients reconnect; ones already closing get graceMs to finish.
   */
  close(graceMs: number): Promise<void>;
}
