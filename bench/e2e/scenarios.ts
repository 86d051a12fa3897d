/**
 * The scenarios of issue 6, each run against the floor and the proxy in the same invocation.
 * `Scale` holds every size and duration; `--quick` shrinks them so the whole suite is a smoke test.
 */
import type { ZmqEngine } from '../../src/ingest/zmq';
import { type TickGroup, symbolsOf } from './feed';
import type { FloorVariant } from './floor';
import { openFilesLimit } from './procs';
import { Session, type SessionSpec, type StepResult, type StepSpec, type Subscription, type TargetKind } from './session';

export interface Scale {
  readonly quick: boolean;
  /** Symbols of the seed feed (1,000 at full size), each ticking 5 times a second. */
  readonly symbols: number;
  readonly fanOut: readonly number[];
  readonly depthClients: number;
  readonly burstKeys: number;
  readonly settleMs: number;
  readonly measureMs: number;
  readonly drainMs: number;
  readonly ramp: { readonly settleMs: number; readonly measureMs: number; readonly drainMs: number };
  /** Ramp with --throttle-ms 0: total ingest per step. */
  readonly rampRates: readonly number[];
  /** Ramp with the throttle: burst keys (500 ticks/s each) per step, on top of the seed feed. */
  readonly rampBurstKeys: readonly number[];
  readonly idleConnections: number;
  readonly soakMs: number;
  readonly soakSampleMs: number;
}

export const FULL: Scale = {
  quick: false,
  symbols: 1000,
  fanOut: [10, 100],
  depthClients: 10,
  burstKeys: 20,
  settleMs: 2000,
  measureMs: 8000,
  drainMs: 1000,
  ramp: { settleMs: 1500, measureMs: 3000, drainMs: 800 },
  rampRates: [5_000, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000, 100_000, 120_000, 140_000],
  rampBurstKeys: [10, 20, 40, 60, 80, 100, 120, 150, 180, 220, 260, 300, 360, 420, 500, 600],
  idleConnections: 5000,
  soakMs: 600_000,
  soakSampleMs: 20_000,
};

export const QUICK: Scale = {
  quick: true,
  symbols: 200,
  fanOut: [10, 100],
  depthClients: 10,
  burstKeys: 20,
  settleMs: 300,
  measureMs: 700,
  drainMs: 250,
  ramp: { settleMs: 400, measureMs: 600, drainMs: 250 },
  rampRates: [1_000, 4_000],
  rampBurstKeys: [2, 10],
  idleConnections: 300,
  soakMs: 30_000,
  soakSampleMs: 5_000,
};

/** Target rule of thumb: a ramp step is sustained when nearly everything arrives, soon enough. */
export const SUSTAINED_RATIO = 0.99;
export const SUSTAINED_P99_MS = 50;
/** The generator fell behind when it sent less than this share of its schedule. */
const GENERATOR_SHARE = 0.97;
const THROTTLE_MS = 100;
/** Batched delivery (issue 6): every client opts in with this window. */
export const BATCH_MS = 50;
export const BATCHED_CLIENTS = 100;

const seed = (scale: Scale, ratePerKey = 5): TickGroup => ({ name: 'seed', firstSymbol: 0, keys: scale.symbols, ratePerKey, mode: 2 });
const burst = (scale: Scale, keys: number): TickGroup => ({ name: 'burst', firstSymbol: scale.symbols, keys, ratePerKey: 500, mode: 2 });

/** One row of the main table: a scenario on one target. */
export interface ScenarioRun {
  readonly id: string;
  readonly title: string;
  readonly target: TargetKind;
  readonly throttleMs: number;
  /** With `--reps` above 1: the median of each figure over the repetitions. */
  readonly result: StepResult;
  /** Every repetition, when there were several. */
  readonly reps?: readonly StepResult[];
}

const median = (values: number[]): number => {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
};

/** Repetitions of one scenario on one target as one row: the median of every figure. */
export function medianRun(runs: readonly ScenarioRun[]): ScenarioRun {
  const first = runs[0];
  if (!first) throw new Error('no runs');
  if (runs.length === 1) return first;
  const results = runs.map((r) => r.result);
  const merged: Record<string, unknown> = { ...first.result };
  for (const [key, value] of Object.entries(first.result)) {
    if (typeof value === 'number') merged[key] = median(results.map((r) => (r as unknown as Record<string, number>)[key] as number));
  }
  return { ...first, result: merged as unknown as StepResult, reps: results };
}

export interface ScenarioDef {
  readonly id: string;
  readonly title: string;
  readonly connections: number;
  readonly groups: readonly TickGroup[];
  readonly sub: Subscription;
}

/** Scenarios 1–4 at a scale. */
export function plainScenarios(scale: Scale): ScenarioDef[] {
  const quote = (groups: TickGroup[]): Subscription => ({ symbols: symbolsOf(groups), mode: 2, depth: 5 });
  const seedFeed = [seed(scale)];
  const depth: TickGroup = {
    name: 'depth',
    firstSymbol: 0,
    keys: scale.symbols,
    ratePerKey: 5,
    mode: 3,
    depthLevels: 50,
    unsortedShare: 0.5,
  };
  const burstFeed = [seed(scale), burst(scale, scale.burstKeys)];
  return [
    { id: 's1', title: `1 seed: ${scale.symbols} sym × 5/s Quote`, connections: 1, groups: seedFeed, sub: quote(seedFeed) },
    ...scale.fanOut.map((n) => ({
      id: `s2-${n}`,
      title: `2 fan-out: ${n} clients`,
      connections: n,
      groups: seedFeed,
      sub: quote(seedFeed),
    })),
    {
      id: `s2b-${BATCHED_CLIENTS}`,
      title: `2 fan-out: ${BATCHED_CLIENTS} clients, batch_ms ${BATCH_MS}`,
      connections: BATCHED_CLIENTS,
      groups: seedFeed,
      sub: { ...quote(seedFeed), batchMs: BATCH_MS },
    },
    {
      id: 's3',
      title: `3 depth-50, half unsorted, ${scale.depthClients} clients`,
      connections: scale.depthClients,
      groups: [depth],
      sub: { symbols: symbolsOf([depth]), mode: 3, depth: 50 },
    },
    { id: 's4', title: `4 burst: +${scale.burstKeys} sym × 500/s`, connections: 1, groups: burstFeed, sub: quote(burstFeed) },
  ];
}

/** Client processes for a number of connections: heavy fan-out gets two readers. */
const clientProcsFor = (connections: number): number => (connections >= 50 ? 2 : 1);

function sessionSpec(target: TargetKind, throttleMs: number, connections: number, lifetimeMs: number, profileDir?: string): SessionSpec {
  return { target, throttleMs, connections, clientProcs: clientProcsFor(connections), maxLifetimeMs: lifetimeMs, profileDir };
}

const debug = process.env['BENCH_DEBUG'] === '1';
const t0 = Date.now();
const phase = (what: string): void => {
  if (debug) process.stderr.write(`      [${((Date.now() - t0) / 1000).toFixed(2)} s] ${what}\n`);
};

async function withSession<T>(spec: SessionSpec, run: (s: Session) => Promise<T>): Promise<T> {
  phase(`starting ${spec.target}`);
  const session = await Session.start(spec);
  phase('started');
  try {
    return await run(session);
  } finally {
    phase('stopping');
    await session.stop();
    phase('stopped');
  }
}

async function connectAll(session: Session, sub: Subscription): Promise<void> {
  const c = await session.connect(sub);
  phase('connected');
  if (c.failed > 0) throw new Error(`${c.failed} of ${session.spec.connections} connections failed: ${c.errors.join('; ')}`);
}

/** A lever to try on one run (see `--levers`). */
export interface LeverOptions {
  readonly floorVariant?: FloorVariant;
  /** The floor reads its ZeroMQ socket with the proxy's ZMTP engine instead of the zeromq package. */
  readonly floorZmtp?: boolean;
  readonly zmqReadIntervalMs?: number;
  readonly zmqEngine?: ZmqEngine;
}

/** Runs one plain scenario on one target. */
export async function runScenario(
  def: ScenarioDef,
  target: TargetKind,
  scale: Scale,
  profileDir?: string,
  lever: LeverOptions = {},
  extra: Partial<Pick<SessionSpec, 'diag' | 'targetNodeFlags' | 'targetStdoutFile'>> = {},
): Promise<ScenarioRun> {
  const throttleMs = THROTTLE_MS;
  const step: StepSpec = { groups: def.groups, settleMs: scale.settleMs, measureMs: scale.measureMs, drainMs: scale.drainMs };
  const lifetime = 120_000 + scale.settleMs + scale.measureMs + scale.drainMs;
  const spec = { ...sessionSpec(target, throttleMs, def.connections, lifetime, profileDir), ...lever, ...extra };
  const result = await withSession(spec, async (s) => {
    await connectAll(s, def.sub);
    return s.step(step);
  });
  return { id: def.id, title: def.title, target, throttleMs: target === 'proxy' ? throttleMs : 0, result };
}

/** A ramp on one target: every step's figures and the highest ingest sustained. */
export interface RampRun {
  readonly id: string;
  readonly title: string;
  readonly target: TargetKind;
  readonly throttleMs: number;
  readonly steps: readonly StepResult[];
  /** Highest ingest/s of a sustained step (0 when none was). */
  readonly maxSustained: number;
  /** Why the ramp stopped: the target failed a step, the generator fell behind, or the steps ran out. */
  readonly stoppedBy: 'target' | 'generator' | 'steps';
}

export interface RampDef {
  readonly id: string;
  readonly title: string;
  readonly proxyThrottleMs: number;
  readonly steps: readonly (readonly TickGroup[])[];
}

export function rampScenarios(scale: Scale): RampDef[] {
  return [
    {
      id: 's5-t0',
      title: '5 ramp, --throttle-ms 0',
      proxyThrottleMs: 0,
      steps: scale.rampRates.map((rate) => [seed(scale, rate / scale.symbols)]),
    },
    {
      id: 's5-burst',
      title: '5 ramp, throttle 100 + bursts',
      proxyThrottleMs: THROTTLE_MS,
      steps: scale.rampBurstKeys.map((keys) => [seed(scale), burst(scale, keys)]),
    },
  ];
}

/** Raises the ingest step by step until delivered/expected < 0.99 or p99 > 50 ms (twice in a row). */
export async function runRamp(def: RampDef, target: TargetKind, scale: Scale, log: (line: string) => void): Promise<RampRun> {
  const throttleMs = target === 'proxy' ? def.proxyThrottleMs : 0;
  const allSymbols = symbolsOf(def.steps.flat());
  const { settleMs, measureMs, drainMs } = scale.ramp;
  const lifetime = 60_000 + 2 * def.steps.length * (settleMs + measureMs + drainMs + 1000);
  // Two publisher processes: one Node publisher tops out near 150,000 ticks/s (measured at 62% of a
  // core at 135,000), below what the throttled proxy sustains.
  return withSession({ ...sessionSpec(target, throttleMs, 1, lifetime), publishers: 2 }, async (s) => {
    await connectAll(s, { symbols: allSymbols, mode: 2, depth: 5 });
    const steps: StepResult[] = [];
    let maxSustained = 0;
    let stoppedBy: RampRun['stoppedBy'] = 'steps';
    const measure = async (
      groups: readonly TickGroup[],
      attempt: number,
    ): Promise<StepResult & { sustained: boolean; behind: boolean }> => {
      const r = await s.step({ groups, settleMs, measureMs, drainMs });
      steps.push(r);
      const sustained = r.deliveredRatio >= SUSTAINED_RATIO && r.p99Ms <= SUSTAINED_P99_MS;
      const behind = r.ingestPerS < GENERATOR_SHARE * r.scheduledPerS;
      log(
        `    ${target} ${Math.round(r.scheduledPerS)}/s${attempt > 1 ? ' (again)' : ''}: sent ${Math.round(r.ingestPerS)}/s, ` +
          `delivered ${(r.deliveredRatio * 100).toFixed(1)}%, p99 ${r.p99Ms.toFixed(2)} ms, cpu ${r.cpuPct.toFixed(0)}%, ` +
          `generator ${r.publisherCpuPct.toFixed(0)}%, others ${r.othersCorePct.toFixed(0)}%` +
          (sustained ? '' : ' — not sustained') +
          (behind ? ' — generator behind' : ''),
      );
      return { ...r, sustained, behind };
    };
    for (const groups of def.steps) {
      // On a shared machine one stall can sink a window: a failed step is measured once more, and
      // only a second failure ends the ramp.
      let r = await measure(groups, 1);
      if (!r.sustained) r = await measure(groups, 2);
      if (!r.sustained) {
        stoppedBy = 'target';
        break;
      }
      maxSustained = r.ingestPerS;
      if (r.behind) {
        stoppedBy = 'generator';
        break;
      }
    }
    return { id: def.id, title: def.title, target, throttleMs, steps, maxSustained, stoppedBy };
  });
}

/** Scenario 6 on one target. */
export interface ConnectionsRun {
  readonly id: 's6';
  readonly target: TargetKind;
  readonly connections: number;
  readonly clientProcs: number;
  readonly connected: number;
  readonly failed: number;
  readonly rssBeforeMB: number;
  readonly rssAfterMB: number;
  readonly heapBeforeMB: number;
  readonly heapAfterMB: number;
  readonly rssPerConnKB: number;
  readonly heapPerConnKB: number;
  readonly errors: readonly string[];
}

/** Opens N idle authenticated connections and prices each in RSS (and heap) of the target. */
export async function runConnections(target: TargetKind, scale: Scale, log: (line: string) => void): Promise<ConnectionsRun> {
  const n = scale.idleConnections;
  const limit = openFilesLimit();
  // Each client process holds its share of sockets; keep it well under its open-files limit.
  const perProc = Math.max(100, Math.min(2500, limit - 200));
  const clientProcs = Math.ceil(n / perProc);
  if (limit < n + 200) log(`    note: ulimit -n is ${limit}; the target needs ${n + 200} descriptors for ${n} connections`);
  const spec: SessionSpec = { target, throttleMs: THROTTLE_MS, connections: n, clientProcs, maxLifetimeMs: 180_000 };
  return withSession(spec, async (s) => {
    const before = await s.memory(true);
    const c = await s.connect(undefined, 100);
    // Let lazily allocated socket buffers settle before reading memory.
    await new Promise((resolve) => setTimeout(resolve, scale.quick ? 500 : 2000));
    const after = await s.memory(true);
    const ok = Math.max(1, c.connected);
    return {
      id: 's6',
      target,
      connections: n,
      clientProcs,
      connected: c.connected,
      failed: c.failed,
      rssBeforeMB: before.rss / 2 ** 20,
      rssAfterMB: after.rss / 2 ** 20,
      heapBeforeMB: before.heapUsed / 2 ** 20,
      heapAfterMB: after.heapUsed / 2 ** 20,
      rssPerConnKB: (after.rss - before.rss) / 1024 / ok,
      heapPerConnKB: (after.heapUsed - before.heapUsed) / 1024 / ok,
      errors: c.errors,
    };
  });
}

/** Scenario 7: memory over a long run of scenario 2 with 10 clients. */
export interface SoakRun {
  readonly id: 's7';
  readonly minutes: number;
  readonly result: StepResult;
  /** `[seconds since the window opened, heapUsed MB after GC, RSS MB]` */
  readonly samples: readonly (readonly [number, number, number])[];
  /** Least-squares slopes after the first minute, in KB per minute. */
  readonly heapSlopeKBPerMin: number;
  readonly rssSlopeKBPerMin: number;
}

export async function runSoak(scale: Scale, log: (line: string) => void): Promise<SoakRun> {
  const groups = [seed(scale)];
  const spec = sessionSpec('proxy', THROTTLE_MS, 10, scale.soakMs + 120_000);
  return withSession(spec, async (s) => {
    await connectAll(s, { symbols: symbolsOf(groups), mode: 2, depth: 5 });
    const samples: [number, number, number][] = [];
    const result = await s.step(
      { groups, settleMs: scale.settleMs, measureMs: scale.soakMs, drainMs: scale.drainMs },
      async (fromNs, toNs) => {
        const start = Date.now();
        while (Date.now() - start < (toNs - fromNs) / 1e6 - 1000) {
          const m = await s.memory(true);
          const t = (Date.now() - start) / 1000;
          samples.push([t, m.heapUsed / 2 ** 20, m.rss / 2 ** 20]);
          log(`    soak ${t.toFixed(0)} s: heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MB, rss ${(m.rss / 2 ** 20).toFixed(1)} MB`);
          await new Promise((resolve) => setTimeout(resolve, scale.soakSampleMs));
        }
      },
    );
    const settled = samples.filter(([t]) => t >= Math.min(60, scale.soakMs / 4000));
    return {
      id: 's7',
      minutes: scale.soakMs / 60_000,
      result,
      samples,
      heapSlopeKBPerMin: slope(settled.map(([t, h]) => [t / 60, h * 1024])),
      rssSlopeKBPerMin: slope(settled.map(([t, , r]) => [t / 60, r * 1024])),
    };
  });
}

/** Least-squares slope of y over x; NaN with fewer than two points. */
export function slope(points: readonly (readonly [number, number])[]): number {
  return fitLine(points).slope;
}

/** Least-squares line through the points: its slope and the slope's standard error (NaN below 3 points). */
export function fitLine(points: readonly (readonly [number, number])[]): { slope: number; standardError: number } {
  const n = points.length;
  if (n < 2) return { slope: NaN, standardError: NaN };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  const b = den > 0 ? num / den : NaN;
  let residuals = 0;
  for (const [x, y] of points) residuals += (y - my - b * (x - mx)) ** 2;
  const standardError = n > 2 && den > 0 ? Math.sqrt(residuals / (n - 2) / den) : NaN;
  return { slope: b, standardError };
}
