/**
 * The interfaces the gateway calls, structurally identical to the ones in src/gateway/types.ts (the
 * lead unifies them when wiring): who owns an API key, and the upstream that hears subscriptions.
 */

/** The owner of an API key, as the feed host names it. */
export interface Identity {
  readonly userId: string;
  readonly broker: string;
}

/** Verifies API keys; rejects when it cannot tell (the feed host is down), resolves `undefined` for a bad key. */
export interface KeyVerifier {
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

/** Where subscriptions go upstream; called per connection, ref-counted behind it. */
export interface Upstream {
  subscribe(identity: Identity, items: readonly UpstreamItem[]): Promise<readonly UpstreamResult[]>;
  /** Releases what that connection acquired (items whose subscribe result was ok). */
  unsubscribe(identity: Identity, items: readonly UpstreamItem[]): void;
}
