/**
 * Scenarios at exchange scale (issue 15): a universe of keys whose last values the target holds,
 * a fifth of them ticking, and clients holding scattered keys.
 *
 * - s8-exchange: the universe published once, then ~20,000 keys ticking at 1–5/s plus a few
 *   hundred at 50/s; 1,000 clients of 50 random keys and 10 of 5,000; and, under that load, one
 *   more client subscribing to 5,000 keys at once, timed to its reply and to its last snapshot.
 * - s9-interest: the same universe and feed from publishers that filter at the source (an XPUB
 *   sends a topic only to a SUB that subscribed to it), clients holding 10% of the keys, the proxy
 *   with `--zmq-subscribe all` and then `interest`.
 */
import type { TickGroup } from './feed';
import { Session, type SessionSpec, type StepResult, type TargetKind } from './session';
import type { ProbeReport } from './client';
import { mulberry32 } from '../../src/sim/market';

/** Sizes of scenarios 8 and 9. */
export interface ExchangeScale {
  /** Keys with a last value (Quote mode), published once before anything is measured. */
  readonly universe: number;
  /** Keys ticking during the measurement, in five equal groups at 1, 2, 3, 4 and 5 ticks/s. */
  readonly ticking: number;
  /** Keys ticking at `burstRate` (above the 100 ms throttle), beside the ticking ones. */
  readonly burstKeys: number;
  readonly burstRate: number;
  /** Clients holding `smallKeys` random keys each. */
  readonly smallClients: number;
  readonly smallKeys: number;
  /** Clients holding `bigKeys` random keys each. */
  readonly bigClients: number;
  readonly bigKeys: number;
  /** Keys of the timed subscribe (with their snapshots). */
  readonly probeKeys: number;
  /** The universe is published over this long. */
  readonly preloadMs: number;
  readonly settleMs: number;
  readonly measureMs: number;
  readonly drainMs: number;
  /** Scenario 9: share of the universe the clients hold, and how many clients share it out. */
  readonly interestShare: number;
  readonly interestClients: number;
}

export const EXCHANGE_FULL: ExchangeScale = {
  universe: 100_000,
  ticking: 20_000,
  burstKeys: 300,
  burstRate: 50,
  smallClients: 1000,
  smallKeys: 50,
  bigClients: 10,
  bigKeys: 5000,
  probeKeys: 5000,
  preloadMs: 5000,
  settleMs: 3000,
  measureMs: 8000,
  drainMs: 1000,
  interestShare: 0.1,
  interestClients: 100,
};

export const EXCHANGE_QUICK: ExchangeScale = {
  universe: 5000,
  ticking: 1000,
  burstKeys: 20,
  burstRate: 50,
  smallClients: 50,
  smallKeys: 50,
  bigClients: 2,
  bigKeys: 500,
  probeKeys: 500,
  preloadMs: 500,
  settleMs: 400,
  measureMs: 800,
  drainMs: 250,
  interestShare: 0.1,
  interestClients: 10,
};

const THROTTLE_MS = 100;

/** The universe, each key once, spread over `preloadMs`. */
export function universeGroup(x: ExchangeScale): TickGroup {
  return { name: 'universe', firstSymbol: 0, keys: x.universe, ratePerKey: 1000 / x.preloadMs, mode: 2, once: true };
}

/** The measured feed: five groups at 1–5 ticks/s, then the burst keys. Keys `S0`… upward. */
export function exchangeGroups(x: ExchangeScale): TickGroup[] {
  const per = Math.floor(x.ticking / 5);
  const groups: TickGroup[] = [1, 2, 3, 4, 5].map((rate, i) => ({
    name: `${rate}/s`,
    firstSymbol: i * per,
    keys: per,
    ratePerKey: rate,
    mode: 2,
  }));
  groups.push({ name: 'burst', firstSymbol: 5 * per, keys: x.burstKeys, ratePerKey: x.burstRate, mode: 2 });
  return groups;
}

/** `count` distinct keys of `[0, universe)`, sorted. */
export function pickKeys(count: number, universe: number, random: () => number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, universe)) picked.add(Math.floor(random() * universe));
  return [...picked].sort((a, b) => a - b);
}

/** Per group, how many of the connections hold each of its keys on average. */
export function holdersPerGroup(groups: readonly TickGroup[], sets: readonly (readonly number[])[], universe: number): number[] {
  const held = new Uint32Array(universe);
  for (const set of sets) for (const k of set) held[k] = (held[k] as number) + 1;
  return groups.map((g) => {
    let sum = 0;
    for (let k = g.firstSymbol; k < g.firstSymbol + g.keys; k++) sum += held[k] ?? 0;
    return g.keys > 0 ? sum / g.keys : 0;
  });
}

/** The key sets of scenario 8: the small clients, then the big ones. */
export function exchangeSets(x: ExchangeScale): number[][] {
  const random = mulberry32(8);
  const sets: number[][] = [];
  for (let c = 0; c < x.smallClients; c++) sets.push(pickKeys(x.smallKeys, x.universe, random));
  for (let c = 0; c < x.bigClients; c++) sets.push(pickKeys(x.bigKeys, x.universe, random));
  return sets;
}

/** Scenario 8 on one target. */
export interface ExchangeRun {
  readonly id: 's8-exchange';
  readonly title: string;
  readonly target: TargetKind;
  readonly throttleMs: number;
  readonly result: StepResult;
  readonly universe: number;
  /** Universe ticks the publishers sent (one per key). */
  readonly preloadSent: number;
  readonly rssIdleMB: number;
  /** RSS and heap after the universe was taken in (after a full GC), before any client. */
  readonly rssUniverseMB: number;
  readonly heapIdleMB: number;
  readonly heapUniverseMB: number;
  /** (RSS after the universe − RSS before) ÷ keys, bytes; the same for the V8 heap. */
  readonly rssPerKeyB: number;
  readonly heapPerKeyB: number;
  /** Opening and subscribing every client, s. */
  readonly connectS: number;
  /** The timed subscribe of `probeKeys` keys under the load (after the window). */
  readonly probe?: ProbeReport;
  readonly probeKeys: number;
  readonly probeError?: string;
}

const clientProcs = (connections: number): number => (connections >= 500 ? 3 : connections >= 50 ? 2 : 1);

function lifetime(x: ExchangeScale): number {
  return 180_000 + x.preloadMs + x.settleMs + x.measureMs + x.drainMs;
}

async function withSession<T>(spec: SessionSpec, run: (s: Session) => Promise<T>): Promise<T> {
  const session = await Session.start(spec);
  try {
    return await run(session);
  } finally {
    await session.stop();
  }
}

const MB = 2 ** 20;

/** Runs scenario 8 on one target. */
export async function runExchange(target: TargetKind, x: ExchangeScale, log: (line: string) => void): Promise<ExchangeRun> {
  const groups = exchangeGroups(x);
  const sets = exchangeSets(x);
  const connections = sets.length;
  const spec: SessionSpec = {
    target,
    throttleMs: THROTTLE_MS,
    connections,
    clientProcs: clientProcs(connections),
    maxLifetimeMs: lifetime(x),
    publishers: 2,
  };
  return withSession(spec, async (s) => {
    const idle = await s.memory(true);
    const preloadSent = await s.preload([universeGroup(x)], x.preloadMs, 500);
    const loaded = await s.memory(true);
    log(
      `    ${target}: universe of ${x.universe.toLocaleString('en-US')} sent (${preloadSent.toLocaleString('en-US')}); RSS ${(idle.rss / MB).toFixed(0)} → ${(loaded.rss / MB).toFixed(0)} MB`,
    );
    const t0 = Date.now();
    const c = await s.connect({ symbols: [], mode: 2, depth: 5, perConnection: sets }, 50);
    const connectS = (Date.now() - t0) / 1000;
    if (c.failed > 0) throw new Error(`${c.failed} of ${connections} connections failed: ${c.errors.join('; ')}`);
    log(`    ${target}: ${c.connected} clients subscribed in ${connectS.toFixed(1)} s`);
    const result = await s.step({
      groups,
      settleMs: x.settleMs,
      measureMs: x.measureMs,
      drainMs: x.drainMs,
      holders: holdersPerGroup(groups, sets, x.universe),
    });
    // The feed runs on for a few seconds after the window: the timed subscribe meets the same load.
    const probeSet = pickKeys(x.probeKeys, x.universe, mulberry32(88));
    let probe: ProbeReport | undefined;
    let probeError: string | undefined;
    try {
      // The floor keeps no last values: it answers the subscribe and sends no snapshot.
      probe = await s.probe(probeSet, target === 'proxy' ? x.probeKeys : 0);
    } catch (err) {
      probeError = err instanceof Error ? err.message : String(err);
    }
    return {
      id: 's8-exchange',
      title: exchangeTitle(x),
      target,
      throttleMs: target === 'proxy' ? THROTTLE_MS : 0,
      result,
      universe: x.universe,
      preloadSent,
      rssIdleMB: idle.rss / MB,
      rssUniverseMB: loaded.rss / MB,
      heapIdleMB: idle.heapUsed / MB,
      heapUniverseMB: loaded.heapUsed / MB,
      rssPerKeyB: (loaded.rss - idle.rss) / x.universe,
      heapPerKeyB: (loaded.heapUsed - idle.heapUsed) / x.universe,
      connectS,
      probe,
      probeKeys: x.probeKeys,
      probeError,
    };
  });
}

const n = (v: number): string => v.toLocaleString('en-US');

export function exchangeTitle(x: ExchangeScale): string {
  return (
    `8 exchange: ${n(x.universe)} keys, ${n(x.ticking)} × 1–5/s + ${n(x.burstKeys)} × ${x.burstRate}/s; ` +
    `${n(x.smallClients)} clients × ${n(x.smallKeys)} keys + ${n(x.bigClients)} × ${n(x.bigKeys)}`
  );
}

/** Scenario 9 with one `--zmq-subscribe` mode. */
export interface InterestRun {
  readonly id: 's9-interest';
  readonly title: string;
  readonly mode: 'all' | 'interest';
  /** Why it did not run (the proxy under test has no such option), when it did not. */
  readonly skipped?: string;
  readonly result?: StepResult;
  /** Subscriptions the publishers received from the proxy: topics, and how many were "everything". */
  readonly subscriptions?: { readonly subscribed: number; readonly unsubscribed: number; readonly everything: number };
  readonly heldKeys: number;
  /** Share of the universe held: every (1 / share)-th key. */
  readonly share: number;
}

/** The key sets of scenario 9: every (1 / share)-th key of the universe, dealt out in contiguous runs. */
export function interestSets(x: ExchangeScale): number[][] {
  const step = Math.round(1 / x.interestShare);
  const held: number[] = [];
  for (let k = 0; k < x.universe; k += step) held.push(k);
  const per = Math.ceil(held.length / x.interestClients);
  return Array.from({ length: x.interestClients }, (_, c) => held.slice(c * per, (c + 1) * per)).filter((set) => set.length > 0);
}

export function interestTitle(x: ExchangeScale): string {
  return `9 interest: ${n(x.universe)} keys, clients hold ${Math.round(x.interestShare * 100)}% (${n(x.interestClients)} clients)`;
}

/** Runs scenario 9 on the proxy with one `--zmq-subscribe` mode. */
export async function runInterest(mode: 'all' | 'interest', x: ExchangeScale, log: (line: string) => void): Promise<InterestRun> {
  const groups = exchangeGroups(x);
  const sets = interestSets(x);
  const heldKeys = sets.reduce((s, set) => s + set.length, 0);
  const spec: SessionSpec = {
    target: 'proxy',
    throttleMs: THROTTLE_MS,
    connections: sets.length,
    clientProcs: clientProcs(sets.length),
    maxLifetimeMs: lifetime(x),
    publishers: 2,
    launcher: { zmqSubscribe: mode },
    // Subscribing by interest, the proxy sends no subscription before a client holds a key.
    publishersReadyWithoutSubscription: true,
  };
  return withSession(spec, async (s) => {
    const supports = (s.targetInfo['supports'] as { zmqSubscribe?: boolean } | undefined)?.zmqSubscribe === true;
    const base = { id: 's9-interest' as const, title: interestTitle(x), mode, heldKeys, share: x.interestShare };
    if (!supports) {
      const skipped = 'the proxy under test has no `zmqSubscribe` option (`--zmq-subscribe`): scenario 9 needs it';
      log(`    s9-interest ${mode}: SKIPPED, ${skipped}`);
      return { ...base, skipped };
    }
    const c = await s.connect({ symbols: [], mode: 2, depth: 5, perConnection: sets }, 50);
    if (c.failed > 0) throw new Error(`${c.failed} of ${sets.length} connections failed: ${c.errors.join('; ')}`);
    // Wait until the proxy's subscriptions have reached the publishers (the count stops moving).
    let subs = await s.publisherSubscriptions();
    for (let stable = 0, waited = 0; stable < 5 && waited < 15_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = await s.publisherSubscriptions();
      stable = now.subscribed === subs.subscribed ? stable + 1 : 0;
      subs = now;
    }
    await s.preload([universeGroup(x)], x.preloadMs, 500);
    const result = await s.step({
      groups,
      settleMs: x.settleMs,
      measureMs: x.measureMs,
      drainMs: x.drainMs,
      holders: holdersPerGroup(groups, sets, x.universe),
    });
    if (mode === 'interest' && subs.everything > 0) {
      log(`    s9-interest interest: the proxy subscribed to everything although asked for interest: the figures compare nothing`);
    }
    log(
      `    s9-interest ${mode}: ${subs.subscribed} subscriptions at the publishers (${subs.everything} for everything), ` +
        `CPU ${result.cpuPct.toFixed(1)}%, ${(result.deliveredRatio * 100).toFixed(1)}% delivered, p99 ${result.p99Ms.toFixed(2)} ms`,
    );
    return { ...base, result, subscriptions: subs };
  });
}
