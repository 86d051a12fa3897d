import { createHash } from 'node:crypto';
import { Dealer } from 'zeromq';
import { type Logger, silentLogger, ThrottledLog } from '../logger';
import type { Identity, KeyVerifier, Upstream, UpstreamItem, UpstreamResult } from './types';

/** The code of every failure caused by the feed host not answering (down, not connected, too slow). */
export const FEED_HOST_UNAVAILABLE = 'FEED_HOST_UNAVAILABLE';

/** A control request that failed; `code` is {@link FEED_HOST_UNAVAILABLE} when the host did not answer. */
export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

/** Options of {@link ControlClient}. */
export interface ControlClientOptions {
  /** The endpoint the feed host binds, e.g. `tcp://127.0.0.1:5556`. */
  readonly endpoint: string;
  /** How long a request may wait for its reply (default 5000 ms). */
  readonly timeoutMs?: number;
  /** How often `health` is polled (default 2000 ms). */
  readonly healthIntervalMs?: number;
  /** How long a valid key's answer is cached (default 10 h, as OpenAlgo). */
  readonly goodKeyTtlMs?: number;
  /** How long an invalid key's answer is cached (default 5 min, as OpenAlgo). */
  readonly badKeyTtlMs?: number;
  /** At most this many cached key answers; the oldest goes first (default 10,000). */
  readonly maxCachedKeys?: number;
  readonly logger?: Logger;
  /** Clock for the key cache (tests). */
  readonly now?: () => number;
}

/** Whether the feed host answers: `unknown` until its first reply. */
export type HostState = 'unknown' | 'up' | 'down';

/** One adapter the host reports. */
export interface AdapterHealth {
  readonly userId: string;
  readonly broker: string;
  readonly status: 'connected' | 'disconnected' | 'error';
  readonly message: string;
}

/** The last health answer, and whether the host is answering at all. */
export interface ControlHealth {
  readonly state: HostState;
  readonly adapters: readonly AdapterHealth[];
  /** Epoch of the host's last reply (changes when it restarts). */
  readonly epoch: string | undefined;
}

/** Counters for /metrics and tests. */
export interface ControlCounters {
  requests: number;
  failures: number;
  /** Replies dropped: malformed, or to a request already given up. */
  dropped: number;
  /** Times every live interest was re-sent (host restarted or came back). */
  resends: number;
}

type Reply = Record<string, unknown> & { ok: boolean };

interface Pending {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (err: ControlError) => void;
  readonly timer: NodeJS.Timeout;
}

/** One (user, broker, exchange, symbol, mode) some connections hold. */
interface Entry {
  readonly key: string;
  readonly identity: Identity;
  readonly item: UpstreamItem;
  count: number;
  live: boolean;
  /** Resolves when the host answered the first subscribe. */
  readonly settled: Promise<UpstreamResult>;
  resolve(result: UpstreamResult): void;
}

interface CachedKey {
  readonly identity: Identity | undefined;
  readonly until: number;
}

const OK: UpstreamResult = { ok: true };
const ADAPTER_STATUSES = new Set(['connected', 'disconnected', 'error']);

/**
 * Tickcast's side of the control channel (docs/control.md): verifies API keys through the feed host,
 * tells it the first subscribe and the last unsubscribe of each (user, broker, exchange, symbol,
 * mode), polls its health, and re-sends every live interest when it restarts or comes back.
 * Nothing here is on the tick path; every request ends within the timeout.
 */
export class ControlClient implements KeyVerifier, Upstream {
  /** Counters, never reset. */
  readonly counters: ControlCounters = { requests: 0, failures: 0, dropped: 0, resends: 0 };

  private readonly dealer = new Dealer({ immediate: true, linger: 0, sendTimeout: 0 });
  private readonly timeoutMs: number;
  private readonly goodKeyTtlMs: number;
  private readonly badKeyTtlMs: number;
  private readonly maxCachedKeys: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly throttled: ThrottledLog;
  private readonly pending = new Map<string, Pending>();
  private readonly entries = new Map<string, Entry>();
  private readonly keyCache = new Map<string, CachedKey>();
  private readonly verifying = new Map<string, Promise<Identity | undefined>>();
  /** Last unsubscribes the host did not answer, sent again when it comes back. */
  private readonly owed = new Map<string, { identity: Identity; item: UpstreamItem }>();
  private readonly healthTimer: NodeJS.Timeout;
  private nextId = 1;
  private sending: Promise<void> = Promise.resolve();
  private state: HostState = 'unknown';
  private epoch: string | undefined;
  private adapters: readonly AdapterHealth[] = [];
  private adapterByUser = new Map<string, AdapterHealth>();
  private healthInFlight = false;
  private closed = false;

  constructor(options: ControlClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.goodKeyTtlMs = options.goodKeyTtlMs ?? 10 * 3600_000;
    this.badKeyTtlMs = options.badKeyTtlMs ?? 300_000;
    this.maxCachedKeys = options.maxCachedKeys ?? 10_000;
    this.now = options.now ?? Date.now;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'control' });
    this.throttled = new ThrottledLog(this.logger);
    // Greet the host as soon as a connection is usable (each time: a restarted host answers with a
    // new epoch at once); a lost connection means down without waiting for a timeout.
    void this.eventLoop();
    this.dealer.connect(options.endpoint);
    void this.receiveLoop();
    this.healthTimer = setInterval(() => this.pollHealth(), options.healthIntervalMs ?? 2000);
    this.healthTimer.unref();
  }

  /** Whether the host answers: `up` after a reply, `down` after a request it did not answer. */
  get status(): HostState {
    return this.state;
  }

  /** The last health answer (never asks the host: polled on a timer). */
  health(): ControlHealth {
    return { state: this.state, adapters: this.adapters, epoch: this.epoch };
  }

  /** What `broker_info.adapter_status` shows for a user: the host's last word, or `unknown`. */
  adapterStatus(identity: Identity): AdapterHealth['status'] | 'unknown' {
    return this.adapterByUser.get(entryKey([identity.userId, identity.broker]))?.status ?? 'unknown';
  }

  /** How many (user, broker, exchange, symbol, mode) are held (live or being subscribed). */
  get heldKeys(): number {
    return this.entries.size;
  }

  /**
   * OpenAlgo's web app re-logged a user in or regenerated a key: it publishes
   * `CACHE_INVALIDATE_{AUTH|FEED|ALL}_{user}` with `{"user_id","cache_type"}` on the feed bus. For
   * `ALL` every cached key answer is forgotten (as OpenAlgo's proxy does); the host is told, so it
   * clears its own caches and rebuilds the user's adapter on fresh credentials. Fire and forget.
   */
  invalidate(userId: string, cacheType = 'ALL'): void {
    if (cacheType === 'ALL') this.keyCache.clear();
    if (this.closed) return;
    this.request({ op: 'invalidate', user_id: userId, cache_type: cacheType }).then(
      (reply) => {
        if (!reply.ok)
          this.throttled.warn(
            'control.invalidate-failed',
            { code: reply['code'] },
            'feed host could not rebuild an adapter after a credentials change',
          );
      },
      (err: ControlError) =>
        this.throttled.warn('control.invalidate-unanswered', { code: err.code }, `invalidate not answered: ${err.message}`),
    );
  }

  /** Resolves the key's owner, `undefined` for a bad key; rejects with a {@link ControlError} when the host cannot tell. */
  verify(apiKey: string): Promise<Identity | undefined> {
    // A digest, never the key, is what stays in memory.
    const digest = createHash('sha256').update(apiKey).digest('hex');
    const cached = this.keyCache.get(digest);
    if (cached) {
      if (cached.until > this.now()) return Promise.resolve(cached.identity);
      this.keyCache.delete(digest);
    }
    const inFlight = this.verifying.get(digest);
    if (inFlight) return inFlight;
    const asked = this.request({ op: 'verify', api_key: apiKey })
      .then((reply) => {
        if (reply.ok && typeof reply['user_id'] === 'string' && typeof reply['broker'] === 'string') {
          const identity: Identity = { userId: reply['user_id'], broker: reply['broker'] };
          this.cacheKey(digest, identity, this.goodKeyTtlMs);
          return identity;
        }
        if (reply.ok) throw new ControlError('BAD_REPLY', 'feed host answered verify without user_id and broker');
        if (reply['code'] === 'INVALID_API_KEY') this.cacheKey(digest, undefined, this.badKeyTtlMs);
        return undefined;
      })
      .finally(() => this.verifying.delete(digest));
    this.verifying.set(digest, asked);
    return asked;
  }

  /**
   * Subscribes a connection's items; only the first holder of each (user, broker, exchange, symbol,
   * mode) reaches the host, and holders arriving while that request is out share its answer.
   */
  subscribe(identity: Identity, items: readonly UpstreamItem[]): Promise<readonly UpstreamResult[]> {
    const results: Array<UpstreamResult | Promise<UpstreamResult>> = [];
    const fresh: Entry[] = [];
    for (const item of items) {
      const key = itemKey(identity, item);
      let entry = this.entries.get(key);
      if (entry) {
        entry.count++;
        results.push(entry.live ? OK : entry.settled);
        continue;
      }
      entry = newEntry(key, identity, item);
      this.entries.set(key, entry);
      fresh.push(entry);
      results.push(entry.settled);
    }
    if (fresh.length > 0) void this.subscribeFresh(identity, fresh);
    return Promise.all(results);
  }

  /** Releases items a connection held; the host hears the last holder's leaving only. */
  unsubscribe(identity: Identity, items: readonly UpstreamItem[]): void {
    const last: UpstreamItem[] = [];
    for (const item of items) {
      const key = itemKey(identity, item);
      const entry = this.entries.get(key);
      if (!entry || entry.count <= 0) continue;
      entry.count--;
      // A pending entry released to zero is unsubscribed when its subscribe succeeds (see settle).
      if (entry.count === 0 && entry.live) {
        this.entries.delete(key);
        last.push(entry.item);
      }
    }
    this.sendUnsubscribe(identity, last);
  }

  /**
   * Resolves when no request is waiting for its reply, or after `timeoutMs`: on shutdown, lets the
   * last unsubscribes reach the host before {@link close}.
   */
  async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && !this.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /** Stops polling, fails what is in flight, closes the socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.healthTimer);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new ControlError(FEED_HOST_UNAVAILABLE, 'control client closed'));
    }
    this.dealer.close();
  }

  private async subscribeFresh(identity: Identity, fresh: readonly Entry[]): Promise<void> {
    let results: UpstreamResult[];
    try {
      const reply = await this.request({ op: 'subscribe', ...wireIdentity(identity), items: fresh.map((e) => wireItem(e.item)) });
      results = itemResults(reply, fresh.length);
    } catch (err) {
      const e = err as ControlError;
      results = fresh.map(() => ({ ok: false, code: e.code, message: e.message }));
    }
    const compensate: UpstreamItem[] = [];
    fresh.forEach((entry, i) => {
      const result = results[i] as UpstreamResult;
      if (result.ok) {
        entry.live = true;
        if (entry.count === 0) {
          this.entries.delete(entry.key);
          compensate.push(entry.item);
        }
      } else {
        if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
        // The host may still have done it after we gave up: undo it, since nobody holds it now.
        if (result.code === FEED_HOST_UNAVAILABLE && !this.entries.has(entry.key)) compensate.push(entry.item);
      }
      entry.resolve(result);
    });
    if (compensate.length > 0 && !this.closed) this.sendUnsubscribe(identity, compensate);
  }

  private sendUnsubscribe(identity: Identity, items: readonly UpstreamItem[]): void {
    if (items.length === 0 || this.closed) return;
    const keys = items.map((item) => itemKey(identity, item));
    for (const k of keys) this.owed.delete(k);
    this.request({ op: 'unsubscribe', ...wireIdentity(identity), items: items.map(wireItem) }).then(
      (reply) => {
        const failed = itemResults(reply, items.length).filter((r) => !r.ok).length;
        if (failed > 0) this.throttled.warn('control.unsubscribe-failed', { failed }, 'feed host refused some unsubscribes');
      },
      (err: ControlError) => {
        // Owed until the host answers again, unless someone holds the key again by then.
        items.forEach((item, i) => this.owed.set(keys[i] as string, { identity, item }));
        this.throttled.warn('control.unsubscribe-unanswered', { code: err.code }, `unsubscribe not answered: ${err.message}`);
      },
    );
  }

  /** Sends again the last unsubscribes the host did not answer, for keys nobody holds now. */
  private payOwed(): void {
    const byIdentity = new Map<string, { identity: Identity; items: UpstreamItem[] }>();
    for (const [k, { identity, item }] of this.owed) {
      if (this.entries.has(k)) continue;
      const g = entryKey([identity.userId, identity.broker]);
      let group = byIdentity.get(g);
      if (!group) byIdentity.set(g, (group = { identity, items: [] }));
      group.items.push(item);
    }
    this.owed.clear();
    for (const { identity, items } of byIdentity.values()) this.sendUnsubscribe(identity, items);
  }

  /** Re-sends every live interest, one subscribe per (user, broker): the host restarted or came back. */
  private resend(): void {
    const byIdentity = new Map<string, { identity: Identity; items: UpstreamItem[] }>();
    for (const entry of this.entries.values()) {
      if (!entry.live) continue;
      const k = entryKey([entry.identity.userId, entry.identity.broker]);
      let group = byIdentity.get(k);
      if (!group) byIdentity.set(k, (group = { identity: entry.identity, items: [] }));
      group.items.push(entry.item);
    }
    if (byIdentity.size === 0) return;
    this.counters.resends++;
    this.logger.info(
      { users: byIdentity.size, keys: [...byIdentity.values()].reduce((n, g) => n + g.items.length, 0) },
      're-sending live interest to the feed host',
    );
    for (const { identity, items } of byIdentity.values()) {
      this.request({ op: 'subscribe', ...wireIdentity(identity), items: items.map(wireItem) }).then(
        (reply) => {
          const failed = itemResults(reply, items.length).filter((r) => !r.ok).length;
          if (failed > 0) this.throttled.warn('control.resend-failed', { failed }, 'feed host refused some re-sent subscriptions');
        },
        (err: ControlError) =>
          this.throttled.warn('control.resend-unanswered', { code: err.code }, `re-sent subscribe not answered: ${err.message}`),
      );
    }
  }

  private hello(): void {
    if (this.closed) return;
    this.request({ op: 'hello' }).then(
      (reply) => this.logger.info({ host: reply['name'], protocol: reply['protocol'], epoch: reply['epoch'] }, 'feed host answered'),
      (err: ControlError) => this.logger.warn({ code: err.code }, `feed host did not answer hello: ${err.message}`),
    );
  }

  private pollHealth(): void {
    if (this.healthInFlight || this.closed) return;
    this.healthInFlight = true;
    this.request({ op: 'health' })
      .then(
        (reply) => {
          const list = Array.isArray(reply['adapters']) ? (reply['adapters'] as unknown[]) : [];
          const adapters: AdapterHealth[] = [];
          for (const a of list) {
            const r = a as Record<string, unknown>;
            if (typeof r['user_id'] !== 'string' || typeof r['broker'] !== 'string' || !ADAPTER_STATUSES.has(r['status'] as string))
              continue;
            adapters.push({
              userId: r['user_id'],
              broker: r['broker'],
              status: r['status'] as AdapterHealth['status'],
              message: typeof r['message'] === 'string' ? r['message'] : '',
            });
          }
          this.adapters = adapters;
          this.adapterByUser = new Map(adapters.map((a) => [entryKey([a.userId, a.broker]), a]));
        },
        () => undefined,
      )
      .finally(() => (this.healthInFlight = false));
  }

  /**
   * Sends one request. A host that is not connected, or that does not answer `health`/`hello`, is
   * down; a slow `subscribe` (a broker adapter connecting) or `verify` (Argon2) only fails itself.
   */
  private request(body: Record<string, unknown>): Promise<Reply> {
    const probe = body['op'] === 'health' || body['op'] === 'hello';
    if (this.closed) return Promise.reject(new ControlError(FEED_HOST_UNAVAILABLE, 'control client closed'));
    this.counters.requests++;
    const id = String(this.nextId++);
    return new Promise<Reply>((resolve, reject) => {
      const fail = (message: string, down: boolean): void => {
        const p = this.pending.get(id);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(id);
        this.counters.failures++;
        if (down) this.markDown(message);
        reject(new ControlError(FEED_HOST_UNAVAILABLE, message));
      };
      const timer = setTimeout(() => fail(`feed host did not answer within ${this.timeoutMs} ms`, probe), this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      // zeromq allows one send at a time per socket: chain them.
      const payload = ['', id, JSON.stringify(body)];
      this.sending = this.sending.then(() =>
        this.closed ? undefined : this.dealer.send(payload).catch(() => fail('feed host is not connected', true)),
      );
    });
  }

  private markDown(message: string): void {
    if (this.state !== 'down') this.logger.warn({ code: FEED_HOST_UNAVAILABLE }, `feed host down: ${message}`);
    this.state = 'down';
  }

  /** Reads the socket's monitor events (the iterator, not `events.on`: no EventEmitter mode to leave behind). */
  private async eventLoop(): Promise<void> {
    try {
      for await (const event of this.dealer.events) {
        if (event.type === 'handshake') this.hello();
        else if (event.type === 'disconnect') this.markDown('feed host disconnected');
      }
    } catch {
      // the socket closed
    }
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.dealer) this.onReply(frames);
    } catch (err) {
      if (!this.closed) this.logger.error({ err }, 'control socket failed');
    }
  }

  private onReply(frames: Buffer[]): void {
    // [empty, id, reply] from a ROUTER or REP host; tolerate a host that drops the delimiter.
    const [idFrame, bodyFrame] =
      frames.length === 3 && frames[0]?.length === 0 ? [frames[1], frames[2]] : frames.length === 2 ? [frames[0], frames[1]] : [];
    let reply: Reply | undefined;
    try {
      const parsed: unknown = bodyFrame ? JSON.parse(bodyFrame.toString('utf8')) : undefined;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && typeof (parsed as Reply).ok === 'boolean')
        reply = parsed as Reply;
    } catch {
      reply = undefined;
    }
    const p = idFrame ? this.pending.get(idFrame.toString('latin1')) : undefined;
    if (!reply || !p) {
      this.counters.dropped++;
      this.throttled.warn(
        'control.reply-dropped',
        { frames: frames.length },
        'dropped a control reply (malformed, or its request had timed out)',
      );
      return;
    }
    this.pending.delete((idFrame as Buffer).toString('latin1'));
    clearTimeout(p.timer);
    this.noteEpoch(reply['epoch']);
    p.resolve(reply);
  }

  /** Any reply proves the host is up; a new epoch or a return after downtime means it may have lost our interest. */
  private noteEpoch(epoch: unknown): void {
    const restarted = typeof epoch === 'string' && this.epoch !== undefined && epoch !== this.epoch;
    const returned = this.state === 'down';
    if (typeof epoch === 'string') this.epoch = epoch;
    if (this.state !== 'up') this.logger.info({ epoch: this.epoch }, 'feed host up');
    this.state = 'up';
    if (restarted || returned) {
      this.resend();
      this.payOwed();
    }
  }

  private cacheKey(digest: string, identity: Identity | undefined, ttlMs: number): void {
    if (this.keyCache.size >= this.maxCachedKeys) {
      const oldest = this.keyCache.keys().next().value;
      if (oldest !== undefined) this.keyCache.delete(oldest);
    }
    this.keyCache.set(digest, { identity, until: this.now() + ttlMs });
  }
}

function entryKey(parts: readonly string[]): string {
  return parts.join('\u0001');
}

function itemKey(identity: Identity, item: UpstreamItem): string {
  return entryKey([identity.userId, identity.broker, item.exchange, item.symbol, String(item.mode)]);
}

function newEntry(key: string, identity: Identity, item: UpstreamItem): Entry {
  let resolve!: (r: UpstreamResult) => void;
  const settled = new Promise<UpstreamResult>((r) => (resolve = r));
  return {
    key,
    identity,
    item: { exchange: item.exchange, symbol: item.symbol, mode: item.mode, depth: item.depth },
    count: 1,
    live: false,
    settled,
    resolve,
  };
}

function wireIdentity(identity: Identity): { user_id: string; broker: string } {
  return { user_id: identity.userId, broker: identity.broker };
}

function wireItem(item: UpstreamItem): { exchange: string; symbol: string; mode: number; depth: number } {
  return { exchange: item.exchange, symbol: item.symbol, mode: item.mode, depth: item.depth };
}

/** One result per item from a subscribe/unsubscribe reply; a whole-request refusal fails them all. */
function itemResults(reply: Reply, n: number): UpstreamResult[] {
  const code = (r: Record<string, unknown>): string => (typeof r['code'] === 'string' ? r['code'] : 'UPSTREAM_ERROR');
  const message = (r: Record<string, unknown>, fallback: string): string => (typeof r['message'] === 'string' ? r['message'] : fallback);
  if (!reply.ok) {
    const failure: UpstreamResult = { ok: false, code: code(reply), message: message(reply, 'feed host refused the request') };
    return Array.from({ length: n }, () => failure);
  }
  const list = Array.isArray(reply['results']) ? (reply['results'] as unknown[]) : [];
  return Array.from({ length: n }, (_, i): UpstreamResult => {
    const r = list[i];
    if (!r || typeof r !== 'object') return { ok: false, code: 'BAD_REPLY', message: 'feed host gave no result for this item' };
    const rec = r as Record<string, unknown>;
    return rec['ok'] === true ? OK : { ok: false, code: code(rec), message: message(rec, 'subscription failed') };
  });
}
