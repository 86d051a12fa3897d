/**
 * The interfaces the control client implements: one definition, the gateway's (src/gateway/types.ts),
 * re-exported here so `src/control` reads on its own.
 */
export type { Identity, KeyVerifier, Upstream, UpstreamItem, UpstreamResult } from '../gateway/types';
