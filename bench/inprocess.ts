/**
 * The in-process benchmark (issue 2 §7): recorded-shape ticks through `marketTicks` + `Hub.publish`
 * in virtual time, against a naive per-client-JSON baseline measured in the same run, plus
 * `normalizeBook` on sorted vs shuffled Depth-50 books. Prints figures and PASS/MISS against the
 * targets; asserts nothing. How to run it, and why it is built this way: bench/README.md.
 */
import { asyncScheduler, type SchedulerLike, Subject, type Subscription } from 'rxjs';
import { marketTicks, normalizeBook, type RawTick } from '../streams';
import { Hub, type HubClient } from '../src/hub';
import { mulberry32 } from '../src/sim/market';
import { type FeedKey, payloadFor, RecordedFeed } from './lib/feed';
import { ManualScheduler } from './lib/manualScheduler';
import { calibrate, canCollectGarbage, collectGarbage, cost, cpuNs, nsPerOp } from './lib/measure';
import { type NaiveClient, NaiveProxy } from './lib/naiveProxy';
import { count, figure, type Figure, round, spreadPct } from './lib/stats';
import { markdownTable } from './lib/table';

/** Throttle window per key, the production default. */
const THROTTLE_MS = 100;
/** Every key ticks this often (200 ticks/s a key), so about 19 in 20 ticks fall to the throttle. */
const TICK_INTERVAL_MS = 5;
const KEY_COUNTS = [1_000, 10_000] as const;
const SUBSCRIBER_COUNTS = [1, 100] as const;
const DEPTH_LEVELS = 50;
const BROKER = 'bench';

/** Targets of issue 2 §7; reported, never enforced. */
const TARGET_NS_PER_TICK = 500;
const TARGET_MIN_THROTTLED_PCT = 90;
const TARGET_NAIVE_RATIO = 20;
const TARGET_SORTED_RATIO = 10;

interface Plan {
  /** Ticks ingested per timed repetition of a pipeline scenario. */
  readonly ticksPerRep: number;
  readonly reps: number;
  /** Wall time of one repetition of the naive baseline and of the micro-benchmarks. */
  readonly naiveTargetMs: number;
  readonly microTargetMs: number;
  /** Timers fired to price a real timer against a virtual one. */
  readonly timers: number;
}

const FULL: Plan = { ticksPerRep: 500_000, reps: 5, naiveTargetMs: 250, microTargetMs: 100, timers: 20_000 };
const QUICK: Plan = { ticksPerRep: 100_000, reps: 3, naiveTargetMs: 50, microTargetMs: 25, timers: 5_000 };

/** What one side of a pipeline scenario cost. */
export interface PipelineCost {
  /** CPU ns per ingested tick. */
  readonly nsPerTick: Figure;
  readonly wallNsPerTick: Figure;
  /** CPU µs per frame handed to a client. */
  readonly usPerDelivered: Figure;
}

/** One pipeline scenario: Tickcast and the naive baseline on the same feed and clients. */
export interface PipelineResult {
  readonly kind: 'pipeline';
  readonly name: string;
  readonly keys: number;
  readonly subscribersPerKey: number;
  readonly throttleMs: number;
  readonly tickIntervalMs: number;
  /** Ticks ingested per timed repetition. */
  readonly ticksPerRep: number;
  /** Totals over the timed repetitions. */
  readonly ingested: number;
  readonly emitted: number;
  readonly delivered: number;
  /** Share of ingested ticks the throttle dropped, in percent. */
  readonly throttledPct: number;
  /** `nsPerTick` and `usPerDelivered` are CPU time (see bench/README.md); wall time beside it. */
  readonly tickcast: PipelineCost;
  readonly naive: PipelineCost & { readonly ticksPerRep: number };
  /** Naive ns per ingested tick ÷ Tickcast ns per ingested tick (medians). */
  readonly naiveOverTickcast: number;
  /** ns per tick of the benchmark's feed loop alone (included in Tickcast's figure). */
  readonly feedLoopNsPerTick: Figure;
  /** Timers the pipeline scheduled, and clock reads it made, per ingested tick (counted on the virtual clock). */
  readonly timersPerTick: number;
  readonly clockReadsPerTick: number;
  /**
   * Tickcast's ns per ingested tick with the virtual clock's costs swapped for real ones: every
   * timer the pipeline scheduled priced as an rxjs `asyncScheduler` timer, every clock read as
   * `Date.now()`. An estimate.
   */
  readonly realTimerEstimateNsPerTick: number;
}

/** `normalizeBook` on already-sorted vs shuffled books. */
export interface NormalizeBookResult {
  readonly kind: 'normalizeBook';
  readonly name: string;
  readonly levels: number;
  readonly sortedNs: Figure;
  readonly shuffledNs: Figure;
  /** Shuffled ns ÷ sorted ns (medians). */
  readonly shuffledOverSorted: number;
}

/** What one tick that survives the throttle costs, by kind: decode, normalise, encode once, deliver. */
export interface SurvivorCostResult {
  readonly kind: 'survivor';
  readonly name: string;
  readonly byKind: readonly {
    readonly label: string;
    /** Share of the feed's keys of this kind. */
    readonly share: number;
    readonly payloadBytes: number;
    /** CPU ns per tick, one client. */
    readonly ns: Figure;
  }[];
  /** Share-weighted mean of the medians: the average surviving tick of the feed. */
  readonly meanNs: number;
}

/** What the virtual clock stands in for, priced. */
export interface ClockCostResult {
  readonly kind: 'clock';
  readonly name: string;
  /** CPU ns per rxjs `asyncScheduler` timer: created, fired by Node, cleared. */
  readonly asyncTimerNs: Figure;
  /** CPU ns per {@link ManualScheduler} timer: created, fired by `advanceTo`. */
  readonly virtualTimerNs: Figure;
  readonly dateNowNs: Figure;
  readonly virtualNowNs: Figure;
}

/** A target of issue 2 §7 and whether this run met it. */
export interface TargetResult {
  readonly kind: 'target';
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean;
}

export type InProcessResult = PipelineResult | SurvivorCostResult | NormalizeBookResult | ClockCostResult | TargetResult;

const loaded = Date.now();
const progress = (line: string): void => {
  process.stderr.write(`[inprocess +${((Date.now() - loaded) / 1000).toFixed(1)}s] ${line}\n`);
};

/**
 * Tickcast as the server wires it: a hot raw stream → `marketTicks` → `Hub.publish` → each
 * client's deliver callback → a counter. Every client subscribes to every given key.
 */
class TickcastRig {
  readonly raw$ = new Subject<RawTick>();
  emitted = 0;
  private readonly hub = new Hub({ broker: BROKER });
  private readonly sinks: { frames: number; bytes: number }[] = [];
  private readonly clients: HubClient[] = [];
  private readonly subscription: Subscription;

  constructor(keys: readonly FeedKey[], subscribers: number, throttleMs: number, scheduler: SchedulerLike) {
    for (let c = 0; c < subscribers; c++) {
      const sink = { frames: 0, bytes: 0 };
      // As the gateway does: frames handed to a callback, not through an Observable per client.
      const client = this.hub.addClient((frame) => {
        sink.frames++;
        sink.bytes += frame.bytes.length;
      });
      for (const key of keys) this.hub.subscribe(client, key.exchange, key.symbol, key.mode);
      this.sinks.push(sink);
      this.clients.push(client);
    }
    this.subscription = this.raw$.pipe(marketTicks({ throttleMs, scheduler, maxLevels: DEPTH_LEVELS })).subscribe((tick) => {
      this.emitted++;
      this.hub.publish(tick);
    });
  }

  delivered(): number {
    let frames = 0;
    for (const sink of this.sinks) frames += sink.frames;
    return frames;
  }

  dispose(): void {
    this.subscription.unsubscribe();
    for (const client of this.clients) this.hub.removeClient(client);
  }
}

/** Plays a feed into a sink on a virtual clock, one feed ms at a time, continuing where it stopped. */
class FeedDriver {
  private time = 0;

  constructor(
    private readonly feed: RecordedFeed,
    private readonly sink: { next(raw: RawTick): void },
    readonly scheduler: ManualScheduler,
  ) {}

  /** Feeds the next `ms` of feed time: each ms, first the timers that fell due, then its ticks. Returns the ticks fed. */
  run(ms: number): number {
    const { feed, scheduler, sink } = this;
    const end = this.time + ms;
    let fed = 0;
    for (let t = this.time; t < end; t++) {
      scheduler.advanceTo(t);
      fed += feed.emitAt(t, sink);
    }
    this.time = end;
    return fed;
  }
}

/** The naive baseline on the same feed, with the same clients subscribed to every key. */
class NaiveRig {
  private readonly proxy = new NaiveProxy(BROKER, DEPTH_LEVELS);
  private readonly clients: NaiveClient[] = [];
  private next = 0;

  constructor(
    private readonly feed: RecordedFeed,
    subscribers: number,
  ) {
    for (let c = 0; c < subscribers; c++) {
      const client: NaiveClient = { frames: 0, bytes: 0 };
      for (const key of feed.keys) this.proxy.subscribe(client, key.exchange, key.symbol, key.mode);
      this.clients.push(client);
    }
  }

  /** Ingests the next `n` ticks of the feed, in arrival order. */
  run(n: number): void {
    const { feed, proxy } = this;
    const end = this.next + n;
    for (let i = this.next; i < end; i++) proxy.ingest(feed.tickAt(i));
    this.next = end;
  }

  delivered(): number {
    let frames = 0;
    for (const client of this.clients) frames += client.frames;
    return frames;
  }
}

function pipelineScenario(feed: RecordedFeed, subscribers: number, plan: Plan, clock: ClockCostResult): PipelineResult {
  const keys = feed.keys.length;
  const name = `${count(keys)} keys × ${subscribers} subscriber${subscribers === 1 ? '' : 's'}`;
  progress(`pipeline: ${name}`);
  collectGarbage();
  const scheduler = new ManualScheduler();
  const tickcast = new TickcastRig(feed.keys, subscribers, THROTTLE_MS, scheduler);
  const driver = new FeedDriver(feed, tickcast.raw$, scheduler);
  const bare$ = new Subject<RawTick>();
  bare$.subscribe(() => undefined);
  const loop = new FeedDriver(feed, bare$, new ManualScheduler());
  const naive = new NaiveRig(feed, subscribers);
  // Whole windows per repetition, so each key's window closes as often in every repetition.
  const repMs = THROTTLE_MS * Math.max(1, Math.round(plan.ticksPerRep / feed.ticksPerMs / THROTTLE_MS));

  // Warm-up: past the feed's ramp every key has started and the JIT has seen every path.
  driver.run(Math.max(repMs, 2 * THROTTLE_MS));
  loop.run(repMs);
  const naiveTicks = calibrate((n) => naive.run(n), plan.naiveTargetMs);
  naive.run(naiveTicks);

  // Alternate the three so noise from the shared machine falls on all alike.
  const tc = {
    cpu: [] as number[],
    wall: [] as number[],
    usFrame: [] as number[],
    ingested: 0,
    emitted: 0,
    delivered: 0,
    timers: 0,
    reads: 0,
  };
  const nv = { cpu: [] as number[], wall: [] as number[], usFrame: [] as number[] };
  const loopNs: number[] = [];
  for (let r = 0; r < plan.reps; r++) {
    collectGarbage();
    const emitted0 = tickcast.emitted;
    const delivered0 = tickcast.delivered();
    const { scheduled: timers0, reads: reads0 } = scheduler;
    let ingested = 0;
    const took = cost(() => {
      ingested = driver.run(repMs);
    });
    const delivered = tickcast.delivered() - delivered0;
    tc.cpu.push(took.cpuNs / ingested);
    tc.wall.push(took.wallNs / ingested);
    tc.usFrame.push(took.cpuNs / 1000 / Math.max(delivered, 1));
    tc.ingested += ingested;
    tc.emitted += tickcast.emitted - emitted0;
    tc.delivered += delivered;
    tc.timers += scheduler.scheduled - timers0;
    tc.reads += scheduler.reads - reads0;

    collectGarbage();
    const naiveDelivered0 = naive.delivered();
    const naiveTook = cost(() => naive.run(naiveTicks));
    nv.cpu.push(naiveTook.cpuNs / naiveTicks);
    nv.wall.push(naiveTook.wallNs / naiveTicks);
    nv.usFrame.push(naiveTook.cpuNs / 1000 / Math.max(naive.delivered() - naiveDelivered0, 1));

    collectGarbage();
    let looped = 0;
    const loopTook = cost(() => {
      looped = loop.run(repMs);
    });
    loopNs.push(loopTook.cpuNs / looped);
  }
  tickcast.dispose();
  // Every client holds every key, so each emitted tick reaches each client exactly once.
  if (tc.delivered !== tc.emitted * subscribers) {
    throw new Error(`${name}: ${tc.delivered} frames delivered for ${tc.emitted} ticks × ${subscribers} clients; the rig is miswired.`);
  }

  const tickcastNs = figure(tc.cpu);
  const naiveNs = figure(nv.cpu);
  const timersPerTick = tc.timers / tc.ingested;
  const clockReadsPerTick = tc.reads / tc.ingested;
  const realTimerEstimate =
    tickcastNs.median +
    timersPerTick * (clock.asyncTimerNs.median - clock.virtualTimerNs.median) +
    clockReadsPerTick * (clock.dateNowNs.median - clock.virtualNowNs.median);
  return {
    kind: 'pipeline',
    name,
    keys,
    subscribersPerKey: subscribers,
    throttleMs: THROTTLE_MS,
    tickIntervalMs: feed.tickIntervalMs,
    ticksPerRep: tc.ingested / plan.reps,
    ingested: tc.ingested,
    emitted: tc.emitted,
    delivered: tc.delivered,
    throttledPct: (1 - tc.emitted / tc.ingested) * 100,
    tickcast: { nsPerTick: tickcastNs, wallNsPerTick: figure(tc.wall), usPerDelivered: figure(tc.usFrame) },
    naive: { nsPerTick: naiveNs, wallNsPerTick: figure(nv.wall), usPerDelivered: figure(nv.usFrame), ticksPerRep: naiveTicks },
    naiveOverTickcast: naiveNs.median / tickcastNs.median,
    feedLoopNsPerTick: figure(loopNs),
    timersPerTick,
    clockReadsPerTick,
    realTimerEstimateNsPerTick: realTimerEstimate,
  };
}

/**
 * Ticks of one kind at a time through the same pipeline with the throttle off (every tick
 * survives) and one client: what each surviving tick costs, which is most of the pipeline figure.
 */
function survivorScenario(feed: RecordedFeed, plan: Plan): SurvivorCostResult {
  progress('survivors: one tick through decode, normalise, encode, deliver, by kind');
  const kinds: { label: string; is: (key: FeedKey) => boolean }[] = [
    { label: 'LTP', is: (key) => key.mode === 1 },
    { label: 'Quote', is: (key) => key.mode === 2 },
    { label: `Depth-${DEPTH_LEVELS}, sorted`, is: (key) => key.mode === 3 && !key.shuffled },
    { label: `Depth-${DEPTH_LEVELS}, shuffled`, is: (key) => key.mode === 3 && key.shuffled },
  ];
  const byKind = kinds.map(({ label, is }) => {
    collectGarbage();
    const keys = feed.keys.filter(is);
    const ticks = feed.keys.flatMap((key, j) => (is(key) ? feed.ticksOf(j) : []));
    const rig = new TickcastRig(keys, 1, 0, asyncScheduler);
    const ns = nsPerOp(
      (n) => {
        for (let i = 0; i < n; i++) rig.raw$.next(ticks[i % ticks.length] as RawTick);
      },
      { targetMs: plan.microTargetMs, reps: plan.reps, beforeRep: collectGarbage },
    );
    rig.dispose();
    const payloadBytes = ticks.reduce((sum, tick) => sum + tick.payload.length, 0) / Math.max(ticks.length, 1);
    return { label, share: keys.length / feed.keys.length, payloadBytes, ns };
  });
  return {
    kind: 'survivor',
    name: 'surviving tick by kind',
    byKind,
    meanNs: byKind.reduce((sum, k) => sum + k.share * k.ns.median, 0),
  };
}

function normalizeBookScenario(plan: Plan): NormalizeBookResult {
  progress(`normalizeBook: Depth-${DEPTH_LEVELS} sorted vs shuffled`);
  collectGarbage();
  const rng = mulberry32(7);
  const key = { exchange: 'NSE', symbol: 'BOOK', mode: 3 as const };
  // Parsed from JSON, as the pipeline sees them, so the objects have the shapes JSON.parse gives.
  const books = (order: 'sorted' | 'shuffled'): Record<string, unknown>[] =>
    Array.from({ length: 64 }, (_, i) => {
      const payload = payloadFor(rng, key, 1000 + i, 0, { levels: DEPTH_LEVELS, order });
      return JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
    });
  const options = { maxLevels: DEPTH_LEVELS };
  const timeBooks = (set: readonly Record<string, unknown>[]): Figure => {
    let changed = 0;
    const result = nsPerOp(
      (n) => {
        for (let i = 0; i < n; i++) {
          const book = set[i & 63] as Record<string, unknown>;
          if (normalizeBook(book, options) !== book) changed++;
        }
      },
      { targetMs: plan.microTargetMs, reps: plan.reps, beforeRep: collectGarbage },
    );
    if (changed < 0) progress('unreachable'); // keeps `changed` observable, so the calls stay
    return result;
  };
  const sorted = books('sorted');
  const shuffled = books('shuffled');
  const sortedNs = timeBooks(sorted);
  const shuffledNs = timeBooks(shuffled);
  return {
    kind: 'normalizeBook',
    name: `normalizeBook Depth-${DEPTH_LEVELS}`,
    levels: DEPTH_LEVELS,
    sortedNs,
    shuffledNs,
    shuffledOverSorted: shuffledNs.median / sortedNs.median,
  };
}

/** Prices the real timer and clock reads that the virtual clock replaces in the pipeline figures. */
async function clockScenario(plan: Plan): Promise<ClockCostResult> {
  progress('clock: real vs virtual timers');
  collectGarbage();
  const n = plan.timers;
  const realTimers = (): Promise<void> =>
    new Promise((resolve) => {
      let left = n;
      const work = (): void => {
        if (--left === 0) resolve();
      };
      for (let i = 0; i < n; i++) asyncScheduler.schedule(work, 1 + (i % TICK_INTERVAL_MS));
    });
  const virtualTimers = async (): Promise<void> => {
    const scheduler = new ManualScheduler();
    let fired = 0;
    const work = (): void => {
      fired++;
    };
    for (let i = 0; i < n; i++) scheduler.schedule(work, 1 + (i % TICK_INTERVAL_MS));
    scheduler.advanceTo(TICK_INTERVAL_MS);
    if (fired !== n) throw new Error(`ManualScheduler fired ${fired} of ${n} timers`);
  };
  const real: number[] = [];
  const virtual: number[] = [];
  await realTimers(); // warm-up
  await virtualTimers();
  for (let r = 0; r < plan.reps; r++) {
    collectGarbage();
    real.push((await cpuNs(realTimers)) / n);
    collectGarbage();
    virtual.push((await cpuNs(virtualTimers)) / n);
  }
  let sink = 0;
  const scheduler = new ManualScheduler();
  const reads = (now: () => number) => (k: number) => {
    for (let i = 0; i < k; i++) sink += now();
  };
  const dateNowNs = nsPerOp(reads(Date.now), { targetMs: plan.microTargetMs / 2, reps: plan.reps });
  const virtualNowNs = nsPerOp(
    reads(() => scheduler.now()),
    { targetMs: plan.microTargetMs / 2, reps: plan.reps },
  );
  if (sink < 0) progress('unreachable');
  return {
    kind: 'clock',
    name: 'clock costs',
    asyncTimerNs: figure(real),
    virtualTimerNs: figure(virtual),
    dateNowNs,
    virtualNowNs,
  };
}

function targets(pipelines: readonly PipelineResult[], book: NormalizeBookResult): TargetResult[] {
  const out: TargetResult[] = [];
  for (const p of pipelines) {
    const throttledEnough = p.throttledPct >= TARGET_MIN_THROTTLED_PCT;
    out.push({
      kind: 'target',
      name: `ns per ingested tick, ${p.name}`,
      target: `≤ ${TARGET_NS_PER_TICK} ns at ≥ ${TARGET_MIN_THROTTLED_PCT}% throttled`,
      measured: `${round(p.tickcast.nsPerTick.median)} ns (≈ ${round(p.realTimerEstimateNsPerTick)} with real timers), ${round(p.throttledPct)}% throttled`,
      pass: throttledEnough && p.tickcast.nsPerTick.median <= TARGET_NS_PER_TICK,
    });
  }
  for (const p of pipelines.filter((q) => q.subscribersPerKey === 100)) {
    out.push({
      kind: 'target',
      name: `vs naive baseline, ${p.name}`,
      target: `≥ ${TARGET_NAIVE_RATIO}× cheaper per ingested tick`,
      measured: `${round(p.naiveOverTickcast)}×`,
      pass: p.naiveOverTickcast >= TARGET_NAIVE_RATIO,
    });
  }
  out.push({
    kind: 'target',
    name: `${book.name}, sorted vs shuffled`,
    target: `sorted ≥ ${TARGET_SORTED_RATIO}× cheaper`,
    measured: `${round(book.shuffledOverSorted)}×`,
    pass: book.shuffledOverSorted >= TARGET_SORTED_RATIO,
  });
  return out;
}

const withSpread = (fig: Figure, scale = 1): string => `${round(fig.median * scale)} (±${Math.round(spreadPct(fig) / 2)}%)`;

/** The results as markdown: one table per part, then the targets. */
export function formatInProcess(results: readonly InProcessResult[], header: string): string {
  const pipelines = results.filter((r): r is PipelineResult => r.kind === 'pipeline');
  const survivorResults = results.filter((r): r is SurvivorCostResult => r.kind === 'survivor');
  const books = results.filter((r): r is NormalizeBookResult => r.kind === 'normalizeBook');
  const clocks = results.filter((r): r is ClockCostResult => r.kind === 'clock');
  const goals = results.filter((r): r is TargetResult => r.kind === 'target');
  const parts = [header];

  parts.push(
    '### Pipeline: raw ticks → marketTicks → Hub.publish → client deliver callback, vs. naive per-client JSON',
    markdownTable(
      [
        { header: 'keys' },
        { header: 'subs/key', right: true },
        { header: 'throttled', right: true },
        { header: 'Tickcast ns/tick', right: true },
        { header: '≈ with real timers', right: true },
        { header: 'of which feed loop', right: true },
        { header: 'Tickcast µs/frame', right: true },
        { header: 'naive ns/tick', right: true },
        { header: 'naive µs/frame', right: true },
        { header: 'naive ÷ Tickcast', right: true },
      ],
      pipelines.map((p) => [
        count(p.keys),
        String(p.subscribersPerKey),
        `${round(p.throttledPct)}%`,
        withSpread(p.tickcast.nsPerTick),
        round(p.realTimerEstimateNsPerTick),
        round(p.feedLoopNsPerTick.median),
        withSpread(p.tickcast.usPerDelivered),
        withSpread(p.naive.nsPerTick),
        withSpread(p.naive.usPerDelivered),
        `${round(p.naiveOverTickcast)}×`,
      ]),
    ),
  );
  const first = pipelines[0];
  if (first) {
    parts.push(
      `CPU time of this process (all threads), medians of ${first.tickcast.nsPerTick.samples.length} repetitions ` +
        `(± half the min–max spread). Tickcast: ` +
        pipelines.map((p) => `${count(p.ticksPerRep)}`).join(' / ') +
        ` ticks a repetition; naive: ${pipelines.map((p) => count(p.naive.ticksPerRep)).join(' / ')} ticks ` +
        `(time-boxed, same feed). A frame is one market_data message handed to one client. ` +
        `"≈ with real timers" prices the timers and clock reads the pipeline made on the virtual clock ` +
        `(per ingested tick: ${pipelines.map((p) => `${round(p.timersPerTick, 2)} timers, ${round(p.clockReadsPerTick, 2)} reads`).join(' / ')}) ` +
        `at their real cost (table below). "of which feed loop" is the benchmark's own loop into a bare Subject.`,
    );
  }

  for (const sv of survivorResults) {
    parts.push(
      '### One tick that survives the throttle: decode, normalise, encode once, deliver to 1 client',
      markdownTable(
        [
          { header: 'kind' },
          { header: 'share of keys', right: true },
          { header: 'payload bytes', right: true },
          { header: 'ns/tick', right: true },
        ],
        sv.byKind.map((k) => [k.label, `${round(k.share * 100, 2)}%`, count(k.payloadBytes), withSpread(k.ns)]),
      ),
      `Weighted by the feed's mix, a surviving tick costs ${round(sv.meanNs)} ns; ` +
        pipelines
          .filter((p) => p.subscribersPerKey === 1)
          .map(
            (p) =>
              `at ${count(p.keys)} keys, ${round(100 - p.throttledPct, 2)}% survive: ≈ ${round(((100 - p.throttledPct) / 100) * sv.meanNs)} ns per ingested tick`,
          )
          .join('; ') +
        ' (hot caches here, so a floor for the pipeline figure).',
    );
  }

  for (const b of books) {
    parts.push(
      `### ${b.name}: ns per call`,
      markdownTable(
        [{ header: 'book' }, { header: 'ns/call', right: true }],
        [
          ['sorted', withSpread(b.sortedNs)],
          ['shuffled', withSpread(b.shuffledNs)],
          ['shuffled ÷ sorted', `${round(b.shuffledOverSorted)}×`],
        ],
      ),
    );
  }

  for (const c of clocks) {
    parts.push(
      '### What virtual time replaces: CPU ns per timer and per clock read',
      markdownTable(
        [{ header: 'cost' }, { header: 'real', right: true }, { header: 'virtual', right: true }],
        [
          ['timer (schedule, fire, clear)', withSpread(c.asyncTimerNs), withSpread(c.virtualTimerNs)],
          ['clock read (Date.now vs scheduler.now)', withSpread(c.dateNowNs), withSpread(c.virtualNowNs)],
        ],
      ),
    );
  }

  parts.push(
    '### Targets (reported, not enforced)',
    markdownTable(
      [{ header: 'target' }, { header: 'goal' }, { header: 'measured' }, { header: 'result' }],
      goals.map((g) => [g.name, g.target, g.measured, g.pass ? 'PASS' : 'MISS']),
    ),
  );
  return parts.join('\n\n');
}

/**
 * Runs the in-process benchmark, prints its markdown report to stdout (progress to stderr) and
 * returns the figures. `quick` trades precision for a run of a few seconds.
 *
 * @example
 * const results = await runInProcess({ quick: true });
 */
export async function runInProcess({ quick }: { quick: boolean }): Promise<InProcessResult[]> {
  const plan = quick ? QUICK : FULL;
  const started = Date.now();
  if (!canCollectGarbage()) progress('global.gc unavailable: run node with --expose-gc for steadier figures');

  const clock = await clockScenario(plan);
  const book = normalizeBookScenario(plan);
  const pipelines: PipelineResult[] = [];
  let survivors: SurvivorCostResult | undefined;
  for (const keys of KEY_COUNTS) {
    const feed = new RecordedFeed({ keys, tickIntervalMs: TICK_INTERVAL_MS, depthLevels: DEPTH_LEVELS, rampMs: THROTTLE_MS });
    survivors ??= survivorScenario(feed, plan);
    for (const subscribers of SUBSCRIBER_COUNTS) pipelines.push(pipelineScenario(feed, subscribers, plan, clock));
  }
  const results: InProcessResult[] = [...pipelines, ...(survivors ? [survivors] : []), book, clock, ...targets(pipelines, book)];

  const seconds = (Date.now() - started) / 1000;
  const header =
    `## In-process benchmark (${quick ? 'quick' : 'full'})\n\n` +
    `node ${process.version}, ${seconds.toFixed(1)} s. Virtual time; throttle ${THROTTLE_MS} ms per key; every key ` +
    `ticks every ${TICK_INTERVAL_MS} ms; a third of the keys are Depth-${DEPTH_LEVELS} books, about half of them ` +
    `shuffled; clients subscribe to every key.${canCollectGarbage() ? '' : ' (no --expose-gc)'}`;
  process.stdout.write(`${formatInProcess(results, header)}\n`);
  return results;
}

if (require.main === module) {
  runInProcess({ quick: process.argv.includes('--quick') }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
