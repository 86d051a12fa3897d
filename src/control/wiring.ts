import type { ApiKey } from '../config';
import { ApiKeyStore } from '../gateway/auth';
import type { AdapterStatus, Identity, KeyVerifier, Upstream, UpstreamItem, UpstreamResult, UserAdapterStatus } from '../gateway/types';
import { type Logger, ThrottledLog } from '../logger';
import type { ControlMetrics } from '../metrics';
import type { ControlClient } from './ControlClient';

/** What {@link controlHooks} needs besides the control client. */
export interface ControlHooksOptions {
  /** Keys configured with `--api-key` / `--api-keys-file`: checked first, and never sent to the host. */
  readonly localKeys: readonly ApiKey[];
  /** The broker label `market_data` frames carry (one for every client: frames are encoded once). */
  readonly frameBroker: string;
  /**
   * Subscribes the feed to exact topics, once per host user (`--zmq-subscribe interest` filters
   * exactly, so a user's `CACHE_INVALIDATE_{AUTH|FEED|ALL}_{user}` must be asked for by name).
   * Absent when the feed takes every topic.
   */
  readonly subscribeTopics?: (topics: readonly string[]) => void;
  readonly logger: Logger;
}

/** The gateway hooks and feed handlers a control channel gives the proxy. */
export interface ControlHooks {
  readonly verifier: KeyVerifier;
  readonly upstream: Upstream;
  /** `broker_info.adapter_status` for a user, given the feed's own health. */
  adapterStatus(user: Identity, feed: AdapterStatus): UserAdapterStatus;
  /** A feed message the pipeline ignores: `CACHE_INVALIDATE_*` ones are passed on to the host. */
  onIgnored(topic: string, payload: Uint8Array | string): void;
  /** The figures `/metrics` shows. */
  metrics(): ControlMetrics;
}

const CACHE_TYPES = new Set(['AUTH', 'FEED', 'ALL']);
const INVALIDATE_PREFIX = 'CACHE_INVALIDATE';
/** Larger invalidation payloads are not OpenAlgo's (a user id and a cache type): dropped unread. */
const MAX_INVALIDATE_BYTES = 4096;
/** Users whose invalidation topics the feed was asked for; past it, no more (the set never shrinks). */
const MAX_WATCHED_USERS = 100_000;

/**
 * Wires a {@link ControlClient} into the proxy (docs/control.md): keys are checked against the local
 * `--api-key` list first, then verified by the feed host; subscriptions of host users go to the host
 * (local-key users are not the host's users: their items are accepted as without `--control`); a
 * user's `broker_info` shows the host's word on that user's adapter; OpenAlgo's credential-change
 * messages on the bus reach the host.
 */
export function controlHooks(control: ControlClient, options: ControlHooksOptions): ControlHooks {
  const local = new ApiKeyStore(options.localKeys);
  const localUsers = new Set(options.localKeys.map((k) => userKey(k)));
  const log = new ThrottledLog(options.logger);
  const watched = new Set<string>();
  const brokersSeen = new Set<string>();
  let invalidations = 0;
  let invalidationsMalformed = 0;

  const hostUser = (identity: Identity): void => {
    if (!brokersSeen.has(identity.broker) && brokersSeen.size < 64) {
      brokersSeen.add(identity.broker);
      if (identity.broker !== options.frameBroker) {
        options.logger.warn(
          { event: 'frame_broker_differs', broker: identity.broker, frameBroker: options.frameBroker },
          `the feed host names broker "${identity.broker}" for a user, but market_data frames say "${options.frameBroker}" ` +
            '(frames are encoded once for every client); set --broker to the broker of this installation',
        );
      }
    }
    if (options.subscribeTopics && !watched.has(identity.userId) && watched.size < MAX_WATCHED_USERS) {
      watched.add(identity.userId);
      options.subscribeTopics([...CACHE_TYPES].map((t) => `${INVALIDATE_PREFIX}_${t}_${identity.userId}`));
    }
  };

  const ALL_OK: UpstreamResult = { ok: true };
  const isLocal = (identity: Identity): boolean => localUsers.size > 0 && localUsers.has(userKey(identity));

  return {
    verifier: {
      verify(apiKey: string) {
        const found = local.lookup(apiKey);
        if (found) return found;
        return control.verify(apiKey).then((identity) => {
          if (identity) hostUser(identity);
          return identity;
        });
      },
    },
    upstream: {
      subscribe: (identity: Identity, items: readonly UpstreamItem[]) =>
        isLocal(identity) ? Promise.resolve(items.map(() => ALL_OK)) : control.subscribe(identity, items),
      unsubscribe: (identity: Identity, items: readonly UpstreamItem[]) => {
        if (!isLocal(identity)) control.unsubscribe(identity, items);
      },
    },
    adapterStatus(user: Identity, feed: AdapterStatus): UserAdapterStatus {
      if (isLocal(user)) return feed;
      if (control.status !== 'up') return 'disconnected';
      const status = control.adapterStatus(user);
      if (status === 'error') return 'error';
      if (status !== 'connected') return 'disconnected';
      // The adapter is connected; the feed says whether its ticks are flowing (stale) or not yet.
      return feed === 'stale' ? 'stale' : 'connected';
    },
    onIgnored(topic: string, payload: Uint8Array | string): void {
      if (!topic.startsWith(INVALIDATE_PREFIX)) return;
      const parsed = parseInvalidation(payload);
      if (!parsed) {
        invalidationsMalformed++;
        log.warn(
          'control_invalidate_malformed',
          { topic: topic.slice(0, 120) },
          'dropped a CACHE_INVALIDATE message whose payload names no user_id',
        );
        return;
      }
      invalidations++;
      control.invalidate(parsed.userId, parsed.cacheType);
    },
    metrics: (): ControlMetrics => ({
      ...control.counters,
      heldKeys: control.heldKeys,
      state: control.status,
      invalidations,
      invalidationsMalformed,
    }),
  };
}

function userKey(user: { readonly userId: string; readonly broker: string }): string {
  return `${user.userId}\u0001${user.broker}`;
}

/** OpenAlgo's payload, `{"action":"invalidate","user_id","cache_type"}`; a missing or unknown type is ALL (the widest). */
export function parseInvalidation(payload: Uint8Array | string): { userId: string; cacheType: string } | undefined {
  const size = typeof payload === 'string' ? payload.length : payload.byteLength;
  if (size === 0 || size > MAX_INVALIDATE_BYTES) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(
      typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'),
    );
  } catch {
    return undefined;
  }
  if (body === null || typeof body !== 'object') return undefined;
  const userId = (body as Record<string, unknown>)['user_id'];
  const cacheType = (body as Record<string, unknown>)['cache_type'];
  if (typeof userId !== 'string' || userId === '') return undefined;
  return { userId, cacheType: typeof cacheType === 'string' && CACHE_TYPES.has(cacheType) ? cacheType : 'ALL' };
}
