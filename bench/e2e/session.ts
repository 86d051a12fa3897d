/**
 * One benchmark session: a target process (the proxy or the floor), client processes holding the
 * WebSocket connections, and the publisher, all on loopback. A session runs steps back to back
 * (one for a plain scenario, several for a ramp); each step sets the feed, lets it settle, then
 * measures a window: CPU of every process from /proc, latency and counts from the clients, what
 * the publisher really sent.
 */
import type { ZmqEngine } from '../../src/ingest/zmq';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientReport, ConnectRequest, ProbeReport, ProbeRequest } from './client';
import { API_KEY, type BenchMode, type IpcMessage, nowNs, sleep } from './common';
import type { DiagReport } from './diagnostics';
import { type TickGroup } from './feed';
import { LatencyHistogram } from './histogram';
import { Child, cpuSplitUs, cpuUs, freePort, machineCpuUs, rssBytes } from './procs';
import type { FloorVariant } from './floor';
import type { Plan, PlanReport } from './publisher';

export type TargetKind = 'floor' | 'proxy';

export interface SessionSpec {
  readonly target: TargetKind;
  /** Runs a floor variant instead of the plain floor (lever experiments only). */
  readonly floorVariant?: FloorVariant;
  /** The floor reads with the ZMTP engine (lever experiments only). */
  readonly floorZmtp?: boolean;
  /** The proxy's `--zmq-read-interval-ms` (lever experiments only). */
  readonly zmqReadIntervalMs?: number;
  /** The proxy's `--zmq-engine` (lever experiments only; the production default otherwise). */
  readonly zmqEngine?: ZmqEngine;
  /** The proxy's `--throttle-ms`; ignored by the floor, which never throttles. */
  readonly throttleMs: number;
  /** WebSocket connections, spread evenly over `clientProcs` processes. */
  readonly connections: number;
  readonly clientProcs: number;
  /** Write a V8 CPU profile of the target into this directory. */
  readonly profileDir?: string;
  /** Upper bound of the session's life; every child exits by then whatever happens. */
  readonly maxLifetimeMs: number;
  /**
   * Publisher processes (default 1). Each takes a share of every group's keys, so per-key order and
   * rates are as with one; more than one lets a ramp outrun what one Node publisher can send.
   */
  readonly publishers?: number;
  /** Extra node flags for the target (e.g. `--trace-gc`), after the suite's own. */
  readonly targetNodeFlags?: readonly string[];
  /** Where the target's stdout goes (a file, e.g. for `--trace-gc` lines); the suite's stdout otherwise. */
  readonly targetStdoutFile?: string;
  /**
   * Measure the target's garbage collections in every window and, with `heapProfileFile`, sample
   * its allocations there (see diagnostics.ts). `heapProfileFile` gets the step's number appended.
   */
  readonly diag?: { readonly heapProfileFile?: string; readonly samplingIntervalBytes?: number; readonly survivorsOnly?: boolean };
  /** Extra fields for the proxy launcher's config (see launcher.ts `LauncherConfig`). */
  readonly launcher?: Readonly<Record<string, unknown>>;
  /** Publishers report ready before the target subscribes (a target that subscribes by interest). */
  readonly publishersReadyWithoutSubscription?: boolean;
}

/** What every connection subscribes to. */
export interface Subscription {
  readonly symbols: readonly number[];
  readonly mode: BenchMode;
  readonly depth: number;
  /** Batched delivery (`set_options` `batch_ms`) on every connection. */
  readonly batchMs?: number;
  /** Connection k subscribes to `perConnection[k]` instead of `symbols`. */
  readonly perConnection?: readonly (readonly number[])[];
}

export interface StepSpec {
  readonly groups: readonly TickGroup[];
  readonly settleMs: number;
  readonly measureMs: number;
  /** Time after the window for late frames of the window to arrive. Shorter than the next settle. */
  readonly drainMs: number;
  /**
   * Per group, how many connections hold each of its keys on average, when connections hold
   * different keys; every connection holds every key otherwise.
   */
  readonly holders?: readonly number[];
}

/** Figures of one measured window. */
export interface StepResult {
  readonly windowS: number;
  /** The window on the monotonic clock (ns), e.g. to cut a CPU profile to it. */
  readonly windowFromNs: number;
  readonly windowToNs: number;
  readonly connections: number;
  readonly ingestPerS: number;
  /** The publisher's own schedule for the window; `sent / scheduled` below 1 means it fell behind. */
  readonly scheduledPerS: number;
  readonly publisherMaxLagMs: number;
  readonly expected: number;
  readonly delivered: number;
  readonly deliveredPerS: number;
  readonly deliveredRatio: number;
  readonly gaps: number;
  readonly reordered: number;
  readonly unstamped: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** CPU of the target as % of one core. */
  readonly cpuPct: number;
  /** The part of it spent in the kernel (system time: syscalls, loopback TCP), % of one core. */
  readonly sysPct: number;
  /**
   * Target CPU per `market_data` frame it handed to a socket in the window. Equal to CPU per
   * delivered frame while clients keep up; unlike it, still a price when the backlog outgrows the
   * window.
   */
  readonly cpuUsPerMsg: number;
  /** Updates the target handed to sockets during the window: frames, or updates inside batch frames. */
  readonly framesSent: number;
  readonly rssMB: number;
  /** RSS of the target before any client connected. */
  readonly idleRssMB: number;
  readonly publisherCpuPct: number;
  /** All client processes together, % of one core. */
  readonly clientCpuPct: number;
  readonly clientsClosed: number;
  /** Everything else the machine ran during the window (other users' work), in % of one core. */
  readonly othersCorePct: number;
  /** Latency percentile 99.9, ms. */
  readonly p999Ms: number;
  /** The proxy's own counters at the end of the window (proxy only). */
  readonly proxyStats?: Record<string, unknown>;
  /** Garbage collections and the allocation profile of the window, when the session asked (`diag`). */
  readonly diag?: DiagReport;
}

const HERE = __dirname;
const READY_MS = 20_000;

/** How many deliveries the window should have per connection, given what was sent. */
export function expectedPerConnection(
  target: TargetKind,
  throttleMs: number,
  groups: readonly TickGroup[],
  sent: readonly number[],
  windowS: number,
  weights?: readonly number[],
): number {
  let total = 0;
  groups.forEach((g, i) => {
    const n = sent[i] ?? 0;
    const throttled = target === 'proxy' && throttleMs > 0 && 1000 / g.ratePerKey < throttleMs;
    // A key ticking faster than the window gets its leading tick and then one per window.
    total += (throttled ? Math.min(n, g.keys * windowS * (1000 / throttleMs)) : n) * (weights?.[i] ?? 1);
  });
  return total;
}

/**
 * Splits groups over `n` publishers: publisher `p` gets, for every group, a contiguous share of its
 * keys (an empty share when the group has fewer keys than publishers), in the same group order, so
 * the per-group counts of every publisher add up to the group's.
 */
export function shareGroups(groups: readonly TickGroup[], n: number, p: number): TickGroup[] {
  return groups.map((g) => {
    const from = Math.floor((g.keys * p) / n);
    const to = Math.floor((g.keys * (p + 1)) / n);
    return { ...g, name: `${g.name}#${p}`, firstSymbol: g.firstSymbol + from, keys: to - from };
  });
}

export class Session {
  private readonly publishers: readonly Child[];
  private lastWindowToNs = 0;
  private planId = 0;
  /** Connections asked for batched delivery: count updates inside batches, not frames. */
  private batched = false;
  /** RSS of the target before any client connected. */
  readonly idleRssBytes: number;
  /** What the target said when it was ready (the proxy launcher names the options it supports). */
  targetInfo: IpcMessage = {};

  private constructor(
    readonly spec: SessionSpec,
    readonly target: Child,
    readonly clients: readonly Child[],
    publishers: readonly Child[],
    readonly wsPort: number,
    readonly zmqEndpoint: string,
  ) {
    this.publishers = publishers;
    this.idleRssBytes = rssBytes(target.pid);
  }

  /**
   * Starts the target, the (idle) client processes and the publisher, side by side. The publisher
   * is ready once the target's SUB has subscribed to it.
   */
  static async start(spec: SessionSpec): Promise<Session> {
    const wsPort = await freePort();
    const zmqEndpoint = `tcp://127.0.0.1:${await freePort()}`;
    const execArgv = ['--expose-gc'];
    if (spec.profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${spec.profileDir}`, '--cpu-prof-interval=200');
    execArgv.push(...(spec.targetNodeFlags ?? []));
    const common = { port: wsPort, zmqBind: zmqEndpoint, apiKey: API_KEY, maxLifetimeMs: spec.maxLifetimeMs };
    const stdout = spec.targetStdoutFile === undefined ? undefined : openSync(spec.targetStdoutFile, 'a');
    const target =
      spec.target === 'proxy'
        ? new Child(
            'proxy',
            join(HERE, 'launcher.js'),
            {
              ...common,
              throttleMs: spec.throttleMs,
              zmqReadIntervalMs: spec.zmqReadIntervalMs,
              zmqEngine: spec.zmqEngine,
              ...spec.launcher,
            },
            execArgv,
            stdout,
          )
        : new Child(
            'floor',
            join(HERE, 'floor.js'),
            { ...common, receiveHighWaterMark: 100_000, variant: spec.floorVariant ?? 'plain', zmtp: spec.floorZmtp === true },
            execArgv,
            stdout,
          );
    // The child holds its own copy of the descriptor.
    if (stdout !== undefined) closeSync(stdout);
    const clients = Array.from(
      { length: spec.clientProcs },
      (_, i) => new Child(`client${i}`, join(HERE, 'client.js'), { maxLifetimeMs: spec.maxLifetimeMs }),
    );
    const publishers = Array.from(
      { length: spec.publishers ?? 1 },
      (_, i) =>
        new Child(`publisher${i}`, join(HERE, 'publisher.js'), {
          endpoint: zmqEndpoint,
          maxLifetimeMs: spec.maxLifetimeMs,
          readyWithoutSubscription: spec.publishersReadyWithoutSubscription === true,
        }),
    );
    const all = [target, ...publishers, ...clients];
    let ready: IpcMessage[];
    try {
      ready = await Promise.all(all.map((c) => c.waitFor('ready', READY_MS)));
    } catch (err) {
      await Promise.all(all.map((c) => c.stop('SIGKILL')));
      throw err;
    }
    const session = new Session(spec, target, clients, publishers, wsPort, zmqEndpoint);
    session.targetInfo = ready[0] ?? {};
    return session;
  }

  /**
   * Publishes every key of `groups` (each with `once`) over `overMs`, and returns when all are
   * sent and the target had `settleMs` to take them in: a universe of last values before a
   * measurement. Returns the ticks sent.
   */
  async preload(groups: readonly TickGroup[], overMs: number, settleMs: number): Promise<number> {
    const atNs = nowNs() + 100e6;
    const untilNs = atNs + (overMs + 60_000) * 1e6;
    const plan: Plan = { id: ++this.planId, atNs, untilNs, groups, windowFromNs: atNs, windowToNs: untilNs };
    const n = this.publishers.length;
    await Promise.all(
      this.publishers.map((pub, p) => pub.request('plan', { plan: n === 1 ? plan : { ...plan, groups: shareGroups(groups, n, p) } })),
    );
    const want = groups.reduce((s, g) => s + g.keys, 0);
    const deadline = Date.now() + overMs + 60_000;
    let sent = 0;
    await sleep(overMs + 100);
    for (;;) {
      const reports = await Promise.all(this.publishers.map((pub) => pub.request<PlanReport>('collect', { planId: plan.id })));
      sent = reports.reduce((s, r) => s + r.sentInWindow.reduce((a, b) => a + b, 0), 0);
      if (sent >= want || Date.now() > deadline) break;
      await sleep(100);
    }
    this.lastWindowToNs = nowNs();
    await sleep(settleMs);
    return sent;
  }

  /** Subscriptions the publishers received from the target (summed over publishers). */
  async publisherSubscriptions(): Promise<{ subscribed: number; unsubscribed: number; everything: number }> {
    const all = await Promise.all(
      this.publishers.map((p) => p.request<{ subscribed: number; unsubscribed: number; everything: number }>('subscriptions')),
    );
    return {
      subscribed: all.reduce((s, r) => s + r.subscribed, 0),
      unsubscribed: all.reduce((s, r) => s + r.unsubscribed, 0),
      everything: all.reduce((s, r) => s + r.everything, 0),
    };
  }

  /** One extra connection (in the first client process) subscribes to `symbols` at once; timed. */
  probe(symbols: readonly number[], snapshots: number, timeoutMs = 60_000): Promise<ProbeReport> {
    const request: ProbeRequest = { port: this.wsPort, apiKey: API_KEY, symbols, mode: 2, depth: 5, snapshots, timeoutMs };
    return (this.clients[0] as Child).request<ProbeReport>('probe', { request }, timeoutMs + 30_000);
  }

  /** Opens every connection (authenticate, and subscribe unless `sub` is undefined). */
  async connect(sub: Subscription | undefined, concurrency = 50): Promise<{ connected: number; failed: number; errors: string[] }> {
    const n = this.clients.length;
    this.batched = (sub?.batchMs ?? 0) > 0;
    const results = await Promise.all(
      this.clients.map((c, i) => {
        const conns = Math.floor(this.spec.connections / n) + (i < this.spec.connections % n ? 1 : 0);
        // Connection j goes to process j mod n, so every process gets a share of each kind of connection.
        const symbolSets = sub?.perConnection?.filter((_, j) => j % n === i);
        const request: ConnectRequest = {
          port: this.wsPort,
          conns,
          apiKey: API_KEY,
          symbols: sub?.symbols ?? [],
          symbolSets,
          mode: sub?.mode ?? 2,
          depth: sub?.depth ?? 5,
          batchMs: sub?.batchMs,
          concurrency,
        };
        return c.request<{ connected: number; failed: number; errors: string[] }>('connect', { request }, 120_000);
      }),
    );
    return {
      connected: results.reduce((s, r) => s + r.connected, 0),
      failed: results.reduce((s, r) => s + r.failed, 0),
      errors: results.flatMap((r) => r.errors).slice(0, 5),
    };
  }

  /** The target's memory as it sees it (after a full GC when `gc`). */
  memory(gc: boolean): Promise<NodeJS.MemoryUsage> {
    return this.target.request<NodeJS.MemoryUsage>('mem', { gc });
  }

  /** Runs one step right after the previous one and returns the figures of its window. */
  async step(step: StepSpec, onWindow?: (fromNs: number, toNs: number) => Promise<void>): Promise<StepResult> {
    const publishers = this.publishers;
    const atNs = Math.max(nowNs() + 100e6, this.lastWindowToNs);
    const fromNs = atNs + step.settleMs * 1e6;
    const toNs = fromNs + step.measureMs * 1e6;
    this.lastWindowToNs = toNs;
    const plan: Plan = {
      id: ++this.planId,
      atNs,
      // The feed goes on past the window so the window's late frames travel under the same load;
      // the next step's plan takes over from its own start.
      untilNs: toNs + (step.drainMs + 3000) * 1e6,
      groups: step.groups,
      windowFromNs: fromNs,
      windowToNs: toNs,
    };
    const n = publishers.length;
    await Promise.all([
      ...publishers.map((pub, p) => pub.request('plan', { plan: n === 1 ? plan : { ...plan, groups: shareGroups(step.groups, n, p) } })),
      ...this.clients.map((c) => c.request('window', { fromNs, toNs })),
    ]);

    const pids = { target: this.target.pid, publishers: publishers.map((p) => p.pid), clients: this.clients.map((c) => c.pid) };
    const sample = async (): Promise<{
      t: number;
      machine: number;
      target: number;
      targetSys: number;
      publisher: number;
      clients: number;
      framesSent: number;
    }> => {
      const counters = this.target.request<{ framesSent: number; batchedUpdates?: number }>('stats');
      const cpu = {
        t: nowNs(),
        machine: machineCpuUs().busy,
        target: cpuUs(pids.target),
        targetSys: cpuSplitUs(pids.target).sys,
        publisher: pids.publishers.reduce((s, pid) => s + cpuUs(pid), 0),
        clients: pids.clients.reduce((s, pid) => s + cpuUs(pid), 0),
      };
      const c = await counters;
      return { ...cpu, framesSent: this.batched && c.batchedUpdates !== undefined ? c.batchedUpdates : c.framesSent };
    };
    const diag = this.spec.diag;
    const heapProfileFile =
      diag?.heapProfileFile === undefined ? undefined : `${diag.heapProfileFile.replace(/\.heapprofile$/, '')}-${plan.id}.heapprofile`;
    await sleep((fromNs - nowNs()) / 1e6 - (diag ? 30 : 0));
    if (diag)
      await this.target.request('diag-start', {
        heapProfileFile,
        samplingIntervalBytes: diag.samplingIntervalBytes,
        survivorsOnly: diag.survivorsOnly,
      });
    const first = await sample();
    const during = onWindow?.(fromNs, toNs);
    await sleep((toNs - nowNs()) / 1e6);
    const last = await sample();
    const diagReport = diag ? await this.target.request<DiagReport>('diag-stop', {}, 120_000) : undefined;
    const rss = rssBytes(pids.target);
    await during;
    await sleep(step.drainMs);

    const [sentBy, reports, targetStats] = await Promise.all([
      Promise.all(publishers.map((pub) => pub.request<PlanReport>('collect', { planId: plan.id }))),
      Promise.all(this.clients.map((c) => c.request<ClientReport>('collect'))),
      this.target.request<Record<string, unknown>>('stats'),
    ]);
    const sent: PlanReport = {
      id: plan.id,
      sentInWindow: step.groups.map((_, g) => sentBy.reduce((s, r) => s + (r.sentInWindow[g] ?? 0), 0)),
      scheduledInWindow: sentBy.reduce((s, r) => s + r.scheduledInWindow, 0),
      maxLagMs: Math.max(...sentBy.map((r) => r.maxLagMs)),
    };
    const framesSent = last.framesSent - first.framesSent;
    const windowS = step.measureMs / 1000;
    const wallUs = (last.t - first.t) / 1000;
    const hist = new LatencyHistogram();
    for (const r of reports) hist.merge(r.latency);
    const delivered = reports.reduce((s, r) => s + r.delivered, 0);
    const connections = this.spec.connections;
    const expected =
      step.holders === undefined
        ? connections * expectedPerConnection(this.spec.target, this.spec.throttleMs, step.groups, sent.sentInWindow, windowS)
        : expectedPerConnection(this.spec.target, this.spec.throttleMs, step.groups, sent.sentInWindow, windowS, step.holders);
    const targetCpuUs = last.target - first.target;
    const ingest = sent.sentInWindow.reduce((s, n) => s + n, 0);
    return {
      windowS,
      windowFromNs: fromNs,
      windowToNs: toNs,
      connections,
      ingestPerS: ingest / windowS,
      scheduledPerS: sent.scheduledInWindow / windowS,
      publisherMaxLagMs: sent.maxLagMs,
      expected,
      delivered,
      deliveredPerS: delivered / windowS,
      deliveredRatio: expected > 0 ? delivered / expected : NaN,
      gaps: reports.reduce((s, r) => s + r.gaps, 0),
      reordered: reports.reduce((s, r) => s + r.reordered, 0),
      unstamped: reports.reduce((s, r) => s + r.unstamped + r.unsupported, 0),
      p50Ms: hist.percentileUs(50) / 1000,
      p99Ms: hist.percentileUs(99) / 1000,
      p999Ms: hist.percentileUs(99.9) / 1000,
      maxMs: hist.maxUs / 1000,
      meanMs: hist.count > 0 ? hist.sumUs / hist.count / 1000 : NaN,
      cpuPct: (targetCpuUs / wallUs) * 100,
      sysPct: ((last.targetSys - first.targetSys) / wallUs) * 100,
      cpuUsPerMsg: framesSent > 0 ? targetCpuUs / framesSent : NaN,
      framesSent,
      rssMB: rss / 2 ** 20,
      idleRssMB: this.idleRssBytes / 2 ** 20,
      publisherCpuPct: ((last.publisher - first.publisher) / wallUs) * 100,
      clientCpuPct: ((last.clients - first.clients) / wallUs) * 100,
      clientsClosed: reports.reduce((s, r) => s + r.closed, 0),
      othersCorePct:
        ((last.machine - first.machine - targetCpuUs - (last.publisher - first.publisher) - (last.clients - first.clients)) / wallUs) * 100,
      proxyStats: this.spec.target === 'proxy' ? pickStats(targetStats) : undefined,
      diag: diagReport,
    };
  }

  /** Stops every process of the session; the target gets SIGTERM (so a CPU profile is written). */
  async stop(): Promise<void> {
    await Promise.all([...this.publishers.map((p) => p.stop('SIGKILL')), ...this.clients.map((c) => c.stop('SIGKILL'))]);
    await this.target.stop('SIGTERM', 5000);
  }
}

function pickStats(s: Record<string, unknown>): Record<string, unknown> {
  const { received, ticksOut, framesSent, conflated, disconnects, feedDropped, hub, clients } = s;
  return { received, ticksOut, framesSent, conflated, disconnects, feedDropped, hub, clients };
}
