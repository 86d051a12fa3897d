import type { Server } from 'node:http';
import type { ServeConfig } from '../config';
import type { Hub, HubClient } from '../hub';
import type { Logger } from '../logger';
import type { Stats } from '../stats';

/** The owner of an API key: a local `--api-key` entry, or the feed host's answer (`--control`). */
export interface Identity {
  readonly userId: string;
  readonly broker: string;
}

/** Verifies API keys. The default checks the configured --api-key list. */
export interface KeyVerifier {
  /**
   * The key's identity; undefined for a key that is not valid. Rejects when it cannot tell (e.g. the
   * feed host is down): the client then gets an error saying so, and may retry.
   */
  verify(apiKey: string): Promise<Identity | undefined> | Identity | undefined;
}

/** One (exchange, symbol, mode) a connection subscribes, with the book depth it asked for. */
export interface UpstreamItem {
  readonly exchange: string;
  readonly symbol: string;
  readonly mode: 1 | 2 | 3;
  readonly depth: number;
}

/** The answer for one item: held, or an error the client receives as an error entry. */
export type UpstreamResult = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * Where subscriptions go before ticks can flow (a feed host's adapters). Called per connection; the
 * implementation ref-counts per (user, item).
 */
export interface Upstream {
  subscribe(identity: Identity, items: readonly UpstreamItem[]): Promise<readonly UpstreamResult[]>;
  /** Releases what that connection acquired (items whose subscribe result was ok). */
  unsubscribe(identity: Identity, items: readonly UpstreamItem[]): void;
}

/** The feed's health as clients see it in `broker_info.adapter_status`. */
export type AdapterStatus = 'connected' | 'stale' | 'disconnected';

/** A user's adapter as `broker_info` shows it: the feed's health, or `error` when the feed host reports that user's adapter failed. */
export type UserAdapterStatus = AdapterStatus | 'error';

/** What the gateway needs from the rest of the process. */
export interface GatewayDeps {
  /** The shared HTTP server; the gateway handles its `upgrade` events. */
  readonly server: Server;
  readonly config: ServeConfig;
  readonly hub: Hub;
  readonly logger: Logger;
  readonly stats: Stats;
  /** The health `broker_info` reports to that user right now (with a feed host: that user's adapter). */
  readonly adapterStatus: (user: Identity) => UserAdapterStatus;
  /** Checks API keys; default: the configured `--api-key` list (constant-time lookup). */
  readonly verifier?: KeyVerifier;
  /**
   * Asked before a connection's new (exchange, symbol, mode) is subscribed, and told when the
   * connection lets it go (unsubscribe, a mode dropped, unsubscribe_all, disconnect). Default: none,
   * every item accepted. Never called per tick.
   */
  readonly upstream?: Upstream;
  /**
   * Called when a user's order events gain their first subscribed connection (`interested` true) or
   * lose their last (false), with that user's feed topics: `{BROKER}_{USER_ID}_orders` (broker in
   * upper case, as OpenAlgo's publisher writes it) and `ANALYZE_{USER_ID}_orders`.
   */
  readonly onOrderInterest?: (topics: readonly string[], interested: boolean) => void;
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
