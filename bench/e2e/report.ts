/** Turns end-to-end results into the markdown tables README shows, and judges the targets. */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { markdownTable } from '../lib/table';
import type { AllocationSite } from './diagnostics';
import type { ExchangeRun, InterestRun } from './exchange';
import type { ProfileSummary } from './profile';
import { type ConnectionsRun, fitLine, type RampRun, type ScenarioRun, type SoakRun } from './scenarios';
import type { StepResult, TargetKind } from './session';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly os: string;
  readonly memGB: number;
  /** The commit measured, and whether src/ or streams/ had uncommitted changes. */
  readonly revision: string;
  readonly loadAvgStart: readonly number[];
  loadAvgEnd?: readonly number[];
}

function revision(root: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'streams'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted changes in src/ or streams/` : head;
  } catch {
    return 'unknown';
  }
}

export function machine(root: string): Machine {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    node: process.version,
    os: `${process.platform} ${release()}`,
    memGB: Math.round(totalmem() / 2 ** 30),
    revision: revision(root),
    loadAvgStart: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** A target of issue 3 or 6, judged. */
export interface TargetCheck {
  readonly issue: string;
  readonly target: string;
  readonly goal: string;
  readonly measured: string;
  /** undefined: could not be judged (a run missing or failed). */
  readonly pass: boolean | undefined;
}

export interface E2eResults {
  readonly scenarios: readonly ScenarioRun[];
  readonly ramps: readonly RampRun[];
  readonly connections: readonly ConnectionsRun[];
  readonly soak?: SoakRun;
  /** `--levers`: the floor with one lever at a time, next to the plain floor and the proxy. */
  readonly levers: readonly { readonly scenario: string; readonly program: string; readonly result: StepResult }[];
  readonly profiles: readonly { readonly target: TargetKind; readonly scenario: string; readonly summary: ProfileSummary }[];
  /** Scenario 8 (absent in runs before it existed). */
  readonly exchange?: readonly ExchangeRun[];
  /** Scenario 9. */
  readonly interest?: readonly InterestRun[];
  readonly errors: readonly string[];
}

const f = (v: number, digits = 2): string =>
  Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(digits)) : '–';
const int = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–');
const x = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');

function find<T extends { id: string; target: TargetKind }>(list: readonly T[], id: string, target: TargetKind): T | undefined {
  return list.find((r) => r.id === id && r.target === target);
}

/** Judges every target the runs allow. */
export function checkTargets(r: E2eResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  const pair = (id: string): [StepResult | undefined, StepResult | undefined] => [
    find(r.scenarios, id, 'floor')?.result,
    find(r.scenarios, id, 'proxy')?.result,
  ];
  const ratio = (id: string, pick: (s: StepResult) => number): number => {
    const [fl, px] = pair(id);
    return fl && px ? pick(px) / pick(fl) : NaN;
  };
  const judge = (
    issue: string,
    target: string,
    goal: string,
    value: number,
    ok: (v: number) => boolean,
    show: (v: number) => string,
  ): void => {
    out.push({ issue, target, goal, measured: show(value), pass: Number.isFinite(value) ? ok(value) : undefined });
  };
  // Batched delivery holds updates up to batch_ms by design: its latency is not judged.
  for (const s of r.scenarios.filter((s) => s.target === 'proxy' && !s.id.startsWith('s2b'))) {
    judge(
      '3',
      `p99, ${s.title}`,
      '≤ 2 ms',
      s.result.p99Ms,
      (v) => v <= 2,
      (v) => `${f(v)} ms (p99.9 ${f(s.result.p999Ms ?? NaN)} ms)`,
    );
  }
  judge(
    '3',
    'CPU at 1 client (scenario 1)',
    '≤ 1× floor',
    ratio('s1', (s) => s.cpuPct),
    (v) => v <= 1,
    x,
  );
  judge(
    '3',
    'CPU per delivered msg, 10 clients',
    '≤ 0.5× floor',
    ratio('s2-10', (s) => s.cpuUsPerMsg),
    (v) => v <= 0.5,
    x,
  );
  judge(
    '6',
    'scenario 1 CPU',
    '≤ 0.5× floor',
    ratio('s1', (s) => s.cpuPct),
    (v) => v <= 0.5,
    x,
  );
  judge(
    '6',
    'scenario 1 p99',
    '≤ 2 ms',
    pair('s1')[1]?.p99Ms ?? NaN,
    (v) => v <= 2,
    (v) => `${f(v)} ms (p99.9 ${f(pair('s1')[1]?.p999Ms ?? NaN)} ms)`,
  );
  for (const n of [10, 100]) {
    judge(
      '6',
      `scenario 2 CPU per delivered msg, ${n} clients`,
      '≤ 0.3× floor',
      ratio(`s2-${n}`, (s) => s.cpuUsPerMsg),
      (v) => v <= 0.3,
      x,
    );
  }
  judge(
    '6',
    'scenario 2 p99 at 100 clients',
    '≤ 2 ms',
    pair('s2-100')[1]?.p99Ms ?? NaN,
    (v) => v <= 2,
    (v) => `${f(v)} ms (p99.9 ${f(pair('s2-100')[1]?.p999Ms ?? NaN)} ms)`,
  );
  for (const e of (r.exchange ?? []).filter((e) => e.target === 'proxy')) {
    judge(
      '15',
      'p99, scenario 8 (exchange scale)',
      '≤ 2 ms',
      e.result.p99Ms,
      (v) => v <= 2,
      (v) => `${f(v)} ms (p99.9 ${f(e.result.p999Ms)} ms)`,
    );
  }
  judge(
    '6',
    'batched delivery, CPU per delivered update, 100 clients',
    '≤ 0.1× floor',
    ratio('s2b-100', (s) => s.cpuUsPerMsg),
    (v) => v <= 0.1,
    x,
  );
  const rampRatio = (id: string): number => {
    const fl = find(r.ramps, id, 'floor');
    const px = find(r.ramps, id, 'proxy');
    return fl && px && fl.maxSustained > 0 ? px.maxSustained / fl.maxSustained : NaN;
  };
  const bound = (id: string): string => {
    const gen = [find(r.ramps, id, 'floor'), find(r.ramps, id, 'proxy')]
      .filter((x): x is RampRun => x !== undefined && x.stoppedBy !== 'target')
      .map((x) => x.target);
    return gen.length > 0 ? ` (${gen.join(', ')}: not saturated, a lower bound)` : '';
  };
  judge(
    '6',
    'ramp, --throttle-ms 0: max sustained ingest',
    '≥ 0.9× floor',
    rampRatio('s5-t0'),
    (v) => v >= 0.9,
    (v) => x(v) + bound('s5-t0'),
  );
  judge(
    '6',
    'ramp, throttle + bursts: max sustained ingest',
    '≥ 2× floor',
    rampRatio('s5-burst'),
    (v) => v >= 2,
    (v) => x(v) + bound('s5-burst'),
  );
  const conns = find(r.connections, 's6', 'proxy');
  judge(
    '6',
    'RSS per idle connection',
    '≤ 20 KB',
    conns?.rssPerConnKB ?? NaN,
    (v) => v <= 20,
    (v) => `${f(v, 1)} KB`,
  );
  if (r.soak) {
    // "No upward slope": the heap after GC does not grow by 1% or more of itself over the soak, or
    // its slope is within two standard errors of zero (sampling noise, not a trend).
    const s = r.soak;
    const settled = s.samples.filter(([t]) => t >= Math.min(60, (s.minutes * 60) / 4)).map(([t, heap]) => [t / 60, heap * 1024] as const);
    const fit = fitLine(settled);
    const heap0 = s.samples[0]?.[1] ?? NaN;
    const growth = (fit.slope * s.minutes) / 1024 / heap0;
    const upward = fit.slope > 2 * fit.standardError && growth >= 0.01;
    out.push({
      issue: '6',
      target: `soak ${s.minutes} min: heap slope (after GC)`,
      goal: 'no upward slope',
      measured: `${f(fit.slope)} ± ${f(fit.standardError)} KB/min (${pct(growth)} of the heap over the soak)`,
      pass: Number.isFinite(fit.slope) ? !upward : undefined,
    });
  }
  return out;
}

/** The whole markdown report. */
/**
 * The whole markdown report. `jsonFile` (relative to the project root) is where the run's raw
 * figures were written: a run artifact that stays out of git, named in the page so a reader knows
 * where the full figures of this page live and how to render the page again from them.
 */
export function formatReport(r: E2eResults, m: Machine, quick: boolean, date: string, seconds: number, jsonFile?: string): string {
  const parts: string[] = [];
  parts.push(
    `## End-to-end benchmark${quick ? ' (--quick: small, not for comparison)' : ''} — ${date}`,
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memGB} GB, ${m.os}, node ${m.node}. Load average ${m.loadAvgStart.join(' / ')} at start, ` +
      `${(m.loadAvgEnd ?? []).join(' / ')} at the end (the machine is shared: read the ratios, not the absolute figures). ` +
      `Code: ${m.revision}. Suite: ${seconds.toFixed(0)} s.`,
  );
  if (jsonFile !== undefined) {
    parts.push(
      `Raw figures: \`${jsonFile}\` on the machine that ran the suite (a run artifact, not kept in git; ` +
        `\`npm run bench -- --report=${jsonFile}\` renders this page again from it).`,
    );
  }

  const rows: string[][] = [];
  for (const s of r.scenarios) {
    const res = s.result;
    const floor = s.target === 'proxy' ? find(r.scenarios, s.id, 'floor')?.result : undefined;
    rows.push([
      s.title,
      s.target === 'proxy' ? `proxy (throttle ${s.throttleMs})` : 'floor',
      String(res.connections),
      int(res.ingestPerS),
      int(res.deliveredPerS),
      pct(res.deliveredRatio),
      int(res.gaps),
      f(res.p50Ms),
      f(res.p99Ms),
      f(res.p999Ms ?? NaN),
      f(res.maxMs),
      f(res.cpuPct, 1),
      f(res.sysPct, 1),
      f(res.cpuUsPerMsg),
      floor ? x(res.cpuPct / floor.cpuPct) : '',
      floor ? x(res.cpuUsPerMsg / floor.cpuUsPerMsg) : '',
      `${f(res.idleRssMB, 0)} → ${f(res.rssMB, 0)}`,
      f(res.publisherCpuPct, 0),
      f(res.clientCpuPct, 0),
      f(res.othersCorePct, 0),
    ]);
  }
  if (rows.length > 0)
    parts.push(
      '### Scenarios 1–4',
      markdownTable(
        [
          { header: 'scenario' },
          { header: 'target' },
          { header: 'conns', right: true },
          { header: 'ingest/s', right: true },
          { header: 'delivered/s', right: true },
          { header: 'deliv/exp', right: true },
          { header: 'seq gaps', right: true },
          { header: 'p50 ms', right: true },
          { header: 'p99 ms', right: true },
          { header: 'p99.9 ms', right: true },
          { header: 'max ms', right: true },
          { header: 'CPU %', right: true },
          { header: 'of which kernel %', right: true },
          { header: 'CPU µs/msg', right: true },
          { header: 'CPU ÷ floor', right: true },
          { header: 'µs/msg ÷ floor', right: true },
          { header: 'RSS MB idle → end', right: true },
          { header: 'gen CPU %', right: true },
          { header: 'clients CPU %', right: true },
          { header: 'others %', right: true },
        ],
        rows,
      ),
      'CPU % is of one core, from /proc/<pid>/stat (utime+stime) over the window; "of which kernel" is the stime part (syscalls: ' +
        'socket reads and writes, loopback TCP, epoll); µs/msg divides it by the `market_data` ' +
        'updates the target handed to client sockets in the window (frames; for batch_ms clients, the updates inside ' +
        '`market_data_batch` frames) — the updates delivered, while clients keep up. Latency is publish→receive: the publisher stamps each payload with CLOCK_MONOTONIC, ' +
        'the client subtracts on arrival. deliv/exp: frames stamped in the window that arrived, over what should arrive (the floor ' +
        'and throttle 0: every tick × connections; with the throttle: every tick of a key ticking slower than the window, one per ' +
        'window for faster keys). gen/clients CPU: the publisher and the client processes (a saturated generator shows there); ' +
        'others: CPU the rest of the machine used meanwhile, in % of one core (approximate: /proc/stat and the per-process ' +
        'counters disagree by up to ~15% of a core, so small negative values mean "nothing else ran").',
    );

  if (r.ramps.length > 0) {
    const rampRows = r.ramps.map((ramp) => {
      const last = ramp.steps[ramp.steps.length - 1];
      const floor = ramp.target === 'proxy' ? find(r.ramps, ramp.id, 'floor') : undefined;
      return [
        ramp.title,
        ramp.target === 'proxy' ? `proxy (throttle ${ramp.throttleMs})` : 'floor',
        int(ramp.maxSustained),
        floor && floor.maxSustained > 0 ? x(ramp.maxSustained / floor.maxSustained) : '',
        ramp.stoppedBy === 'target'
          ? 'target failed next step'
          : ramp.stoppedBy === 'generator'
            ? 'generator fell behind'
            : 'last step passed',
        last
          ? `${int(last.scheduledPerS)}/s: ${pct(last.deliveredRatio)}, p99 ${f(last.p99Ms)} ms, p99.9 ${f(last.p999Ms ?? NaN)} ms, CPU ${f(last.cpuPct, 0)}%, gen ${f(last.publisherCpuPct, 0)}%`
          : '',
      ];
    });
    parts.push(
      '### Scenario 5: ramp (max sustained ingest: delivered/expected ≥ 0.99 and p99 ≤ 50 ms)',
      markdownTable(
        [
          { header: 'ramp' },
          { header: 'target' },
          { header: 'max ingest/s', right: true },
          { header: '÷ floor', right: true },
          { header: 'stopped' },
          { header: 'last step' },
        ],
        rampRows,
      ),
    );
  }

  if (r.connections.length > 0) {
    const floor = find(r.connections, 's6', 'floor');
    parts.push(
      '### Scenario 6: idle authenticated connections',
      markdownTable(
        [
          { header: 'target' },
          { header: 'connected', right: true },
          { header: 'client procs', right: true },
          { header: 'RSS before MB', right: true },
          { header: 'RSS after MB', right: true },
          { header: 'RSS KB/conn', right: true },
          { header: 'heap KB/conn', right: true },
          { header: '÷ floor', right: true },
        ],
        r.connections.map((c) => [
          c.target,
          `${int(c.connected)}/${int(c.connections)}`,
          String(c.clientProcs),
          f(c.rssBeforeMB, 1),
          f(c.rssAfterMB, 1),
          f(c.rssPerConnKB, 1),
          f(c.heapPerConnKB, 1),
          c.target === 'proxy' && floor ? x(c.rssPerConnKB / floor.rssPerConnKB) : '',
        ]),
      ),
    );
  }

  if (r.soak) {
    const s = r.soak;
    const first = s.samples[0];
    const last = s.samples[s.samples.length - 1];
    parts.push(
      `### Scenario 7: soak (scenario 2, 10 clients, ${s.minutes} min)`,
      markdownTable(
        [
          { header: 'deliv/exp' },
          { header: 'p99 ms' },
          { header: 'p99.9 ms' },
          { header: 'CPU %' },
          { header: 'heap MB (after GC), first → last' },
          { header: 'heap slope KB/min' },
          { header: 'RSS MB, first → last' },
          { header: 'RSS slope KB/min' },
        ],
        [
          [
            pct(s.result.deliveredRatio),
            f(s.result.p99Ms),
            f(s.result.p999Ms ?? NaN),
            f(s.result.cpuPct, 1),
            `${f(first?.[1] ?? NaN)} → ${f(last?.[1] ?? NaN)}`,
            f(s.heapSlopeKBPerMin),
            `${f(first?.[2] ?? NaN)} → ${f(last?.[2] ?? NaN)}`,
            f(s.rssSlopeKBPerMin),
          ],
        ],
      ),
    );
  }

  if (r.exchange && r.exchange.length > 0) parts.push(formatExchange(r.exchange));
  if (r.interest && r.interest.length > 0) parts.push(formatInterest(r.interest));

  const checks = checkTargets(r);
  parts.push(
    '### Targets (issues 3, 6 and 15; reported, never enforced)',
    markdownTable(
      [{ header: 'issue' }, { header: 'target' }, { header: 'goal' }, { header: 'measured' }, { header: 'result' }],
      checks.map((c) => [c.issue, c.target, c.goal, c.measured, c.pass === undefined ? 'n/a' : c.pass ? 'PASS' : 'MISS']),
    ),
  );

  if (r.levers.length > 0) {
    const base = (scenario: string): StepResult | undefined =>
      r.levers.find((l) => l.scenario === scenario && l.program === 'floor')?.result;
    parts.push(
      '### Levers, measured on the floor (`--levers`)',
      'The floor with one delivery lever applied, against the plain floor and the proxy on the same load: what the lever ' +
        'is worth by itself. cork: each client socket corked until the batch of ready ticks is sent (one writev per client ' +
        'per batch). preframed: cork, and the WebSocket frame (header + payload) built once per tick and the same bytes ' +
        "written to every socket instead of one `ws.send` per client. one write per client: preframed, and a client's " +
        'frames of the batch joined into one buffer, one `socket.write` per client per batch. ZMTP reader: the floor reads ' +
        "its socket with the proxy's built-in ZMTP engine instead of the zeromq package (what the receive path is worth). " +
        '`proxy, --zmq-engine libzmq`: the proxy on the zeromq package, as before the ZMTP engine became its default.',
      markdownTable(
        [
          { header: 'scenario' },
          { header: 'program' },
          { header: 'deliv/exp', right: true },
          { header: 'p99 ms', right: true },
          { header: 'p99.9 ms', right: true },
          { header: 'CPU %', right: true },
          { header: 'of which kernel %', right: true },
          { header: 'CPU µs/msg', right: true },
          { header: '÷ plain floor', right: true },
        ],
        r.levers.map((l) => {
          const b = base(l.scenario);
          return [
            l.scenario,
            l.program,
            pct(l.result.deliveredRatio),
            f(l.result.p99Ms),
            f(l.result.p999Ms ?? NaN),
            f(l.result.cpuPct, 1),
            f(l.result.sysPct, 1),
            f(l.result.cpuUsPerMsg),
            b ? x(l.result.cpuUsPerMsg / b.cpuUsPerMsg) : '',
          ];
        }),
      ),
    );
  }

  for (const p of r.profiles) parts.push(formatProfile(p.target, p.scenario, p.summary));
  if (r.errors.length > 0) parts.push('### Errors', ...r.errors.map((e) => `- ${e}`));
  return parts.join('\n\n');
}

export function formatProfile(target: TargetKind, scenario: string, p: ProfileSummary): string {
  const rows = (list: ProfileSummary['self']): string[][] => list.map((e) => [e.name, e.area, `${e.pct.toFixed(1)}%`, f(e.ms, 0)]);
  const cols = [{ header: 'function' }, { header: 'area' }, { header: '% busy', right: true }, { header: 'ms', right: true }];
  return [
    `### CPU profile: ${target}, ${scenario}`,
    `${f(p.durationMs / 1000, 1)} s profiled, JS thread busy ${f(p.busyMs, 0)} ms (${f((p.busyMs / p.durationMs) * 100, 1)}%). Profile: \`${p.file}\`.`,
    '#### By stage (each sample goes to the nearest frame on its stack that names a stage)',
    markdownTable(
      [{ header: 'stage' }, { header: '% busy', right: true }, { header: 'ms', right: true }],
      p.stages.map((a) => [a.name, `${a.pct.toFixed(1)}%`, f(a.ms, 0)]),
    ),
    '#### By area (self time)',
    markdownTable(
      [{ header: 'area' }, { header: '% busy', right: true }, { header: 'ms', right: true }],
      p.areas.map((a) => [a.name, `${a.pct.toFixed(1)}%`, f(a.ms, 0)]),
    ),
    '#### Top functions, self time',
    markdownTable(cols, rows(p.self)),
    '#### Top functions, inclusive time',
    markdownTable(cols, rows(p.inclusive)),
  ].join('\n\n');
}

/** One `--gc` run: a scenario on one target with its collections and allocation sites. */
export interface GcRun {
  /** plain: no profiler; allocated: every allocation sampled; survivors: only objects that outlived the young generation. */
  readonly variant: 'plain' | 'allocated' | 'survivors';
  /** Node/V8 flags the target ran with beyond the suite's (`--gc-flags`), '' for none. */
  readonly nodeFlags?: string;
  readonly scenario: string;
  readonly title: string;
  readonly target: TargetKind;
  readonly result: StepResult;
  /** Ticks the publisher sent in the window (what the target received, barring drops). */
  readonly ticksIn: number;
  readonly allocation?: {
    readonly totalBytes: number;
    readonly sites: readonly AllocationSite[];
    readonly byCaller: readonly AllocationSite[];
  };
  readonly traceReasons: readonly {
    readonly collector: string;
    readonly reason: string;
    readonly count: number;
    readonly totalMs: number;
  }[];
  readonly files: { readonly trace: string; readonly heap?: string };
}

/** The `--gc` tables: collections per second by kind, bytes allocated per tick by site. */
export function formatGc(runs: readonly GcRun[]): string {
  const parts: string[] = ['### Garbage collection and allocation (`--gc`)'];
  parts.push(
    markdownTable(
      [
        { header: 'scenario' },
        { header: 'target' },
        { header: 'run' },
        { header: 'p99 ms', right: true },
        { header: 'p99.9 ms', right: true },
        { header: 'CPU %', right: true },
        { header: 'scavenges/s', right: true },
        { header: 'mark-compacts/s', right: true },
        { header: 'mark-compact ms/s', right: true },
        { header: 'longest pause ms', right: true },
        { header: 'allocated KB/s', right: true },
        { header: 'allocated B/tick in', right: true },
        { header: 'external MB', right: true },
      ],
      runs.map((r) => {
        const s = r.result.windowS;
        const g = r.result.diag?.gc;
        const bytes = r.allocation?.totalBytes ?? NaN;
        return [
          r.scenario,
          r.target,
          `${r.variant}${r.nodeFlags ? ` ${r.nodeFlags}` : ''}`,
          f(r.result.p99Ms),
          f(r.result.p999Ms),
          f(r.result.cpuPct, 1),
          g ? f(g.minor / s, 1) : '–',
          g ? f(g.major / s, 2) : '–',
          g ? f(g.majorMs / s, 1) : '–',
          g ? f(g.maxPauseMs) : '–',
          int(bytes / 1024 / s),
          int(bytes / r.ticksIn),
          f((r.result.diag?.externalBytes ?? NaN) / 2 ** 20, 1),
        ];
      }),
    ),
    "Counts from a `PerformanceObserver` on `gc` entries over the window; allocation from V8's sampling heap profiler " +
      'over the same window, counting objects collected since (so it is what was allocated, not what survived; sampled, ' +
      'so small sites are approximate). B/tick in: bytes allocated in the window ÷ ticks the target received in it.',
  );
  for (const r of runs) {
    if (r.traceReasons.length > 0) {
      parts.push(
        `#### ${r.scenario} ${r.target}${r.nodeFlags ? ` ${r.nodeFlags}` : ''}: \`--trace-gc\` over the whole process life (${r.files.trace})`,
        markdownTable(
          [{ header: 'collector' }, { header: 'reason' }, { header: 'count', right: true }, { header: 'total ms', right: true }],
          r.traceReasons.slice(0, 8).map((t) => [t.collector, t.reason, int(t.count), f(t.totalMs, 1)]),
        ),
      );
    }
    if (r.allocation) {
      const rows = (list: readonly AllocationSite[]): string[][] =>
        list.map((a) => [`\`${a.site}\``, `${a.pct.toFixed(1)}%`, int(a.bytes / r.ticksIn)]);
      const cols = [{ header: 'site' }, { header: 'share', right: true }, { header: 'B/tick in', right: true }];
      parts.push(
        `#### ${r.scenario} ${r.target}, ${r.variant === 'survivors' ? 'objects that outlived the young generation' : 'every allocation'}, by the allocating function (${r.files.heap ?? ''})`,
        markdownTable(cols, rows(r.allocation.sites)),
        `#### ${r.scenario} ${r.target}, ${r.variant === 'survivors' ? 'objects that outlived the young generation' : 'every allocation'}, by the nearest project function on the stack`,
        markdownTable(cols, rows(r.allocation.byCaller)),
      );
    }
  }
  return parts.join('\n\n');
}

/** Scenario 8's table: each target, with memory per key and the timed 5,000-key subscribe. */
export function formatExchange(runs: readonly ExchangeRun[]): string {
  const floor = runs.find((r) => r.target === 'floor');
  const first = runs[0];
  if (!first) return '';
  const rows = runs.map((r) => {
    const res = r.result;
    const p = r.probe;
    return [
      r.target === 'proxy' ? `proxy (throttle ${r.throttleMs})` : 'floor',
      int(res.connections),
      int(res.ingestPerS),
      int(res.deliveredPerS),
      pct(res.deliveredRatio),
      int(res.gaps),
      f(res.p50Ms),
      f(res.p99Ms),
      f(res.p999Ms),
      f(res.maxMs),
      f(res.cpuPct, 1),
      f(res.sysPct, 1),
      f(res.cpuUsPerMsg),
      r.target === 'proxy' && floor ? x(res.cpuPct / floor.result.cpuPct) : '',
      `${f(r.rssIdleMB, 0)} → ${f(r.rssUniverseMB, 0)} → ${f(res.rssMB, 0)}`,
      `${int(r.rssPerKeyB)} / ${int(r.heapPerKeyB)}`,
      f(r.connectS, 1),
      p ? f(p.replyMs, 1) : r.probeError ? 'failed' : '–',
      p
        ? r.target === 'floor'
          ? 'none kept'
          : Number.isFinite(p.snapshotsMs)
            ? `${f(p.snapshotsMs, 1)} (${int(p.stampedBefore ?? NaN)})`
            : `not all: ${int(p.snapshots)}/${int(r.probeKeys)}`
        : '–',
    ];
  });
  return [
    `### Scenario ${first.title}`,
    markdownTable(
      [
        { header: 'target' },
        { header: 'conns', right: true },
        { header: 'ingest/s', right: true },
        { header: 'delivered/s', right: true },
        { header: 'deliv/exp', right: true },
        { header: 'seq gaps', right: true },
        { header: 'p50 ms', right: true },
        { header: 'p99 ms', right: true },
        { header: 'p99.9 ms', right: true },
        { header: 'max ms', right: true },
        { header: 'CPU %', right: true },
        { header: 'of which kernel %', right: true },
        { header: 'CPU µs/msg', right: true },
        { header: 'CPU ÷ floor', right: true },
        { header: 'RSS MB idle → universe → end', right: true },
        { header: 'B/key RSS / heap', right: true },
        { header: 'connect all s', right: true },
        { header: `${int(first.probeKeys)}-key subscribe: reply ms`, right: true },
        { header: 'all keys answered ms (of which snapshots)', right: true },
      ],
      rows,
    ),
    `The universe (${int(first.universe)} keys, Quote) is published once before any client connects; B/key is ` +
      '(RSS, and V8 heap, after a full GC with the universe held − the same before it) ÷ keys. The floor keeps nothing ' +
      'per key nobody holds and sends no snapshots, so its B/key is what its process grows by anyway and its timed subscribe ' +
      'is the reply alone. The timed subscribe runs after the window, on one more connection, while the feed goes on: ' +
      'from sending it to its reply, and until every one of its keys had its first `market_data` frame — its snapshot, or a ' +
      'newer tick where slow-client conflation replaced it (in brackets: how many of those first frames were snapshots, ' +
      'published before the subscribe). ' +
      'Expected deliveries count, per group of keys, how many clients hold each key on average, so in a short window ' +
      '(where not every key of a 1/s group ticks) deliv/exp can stray from 100% by a fraction of a percent.',
  ].join('\n\n');
}

/** Scenario 9's table: the proxy with `--zmq-subscribe all` and `interest` in the same run. */
export function formatInterest(runs: readonly InterestRun[]): string {
  const first = runs[0];
  if (!first) return '';
  const all = runs.find((r) => r.mode === 'all')?.result;
  const lines: string[] = [`### Scenario ${first.title}`];
  for (const r of runs.filter((r) => r.skipped)) lines.push(`\`--zmq-subscribe ${r.mode}\`: skipped — ${r.skipped}.`);
  const ran = runs.filter((r) => r.result);
  if (ran.length > 0) {
    lines.push(
      markdownTable(
        [
          { header: 'proxy' },
          { header: 'subscriptions at the publishers', right: true },
          { header: 'conns', right: true },
          { header: 'sent/s (all keys)', right: true },
          { header: 'delivered/s', right: true },
          { header: 'deliv/exp', right: true },
          { header: 'p99 ms', right: true },
          { header: 'p99.9 ms', right: true },
          { header: 'CPU %', right: true },
          { header: 'of which kernel %', right: true },
          { header: 'CPU ÷ all', right: true },
          { header: 'RSS MB', right: true },
          { header: 'gen CPU %', right: true },
        ],
        ran.map((r) => {
          const res = r.result as StepResult;
          const subs = r.subscriptions;
          return [
            `--zmq-subscribe ${r.mode}`,
            subs ? (subs.everything > 0 ? `everything (${int(subs.subscribed)})` : int(subs.subscribed)) : '–',
            int(res.connections),
            int(res.ingestPerS),
            int(res.deliveredPerS),
            pct(res.deliveredRatio),
            f(res.p99Ms),
            f(res.p999Ms),
            f(res.cpuPct, 1),
            f(res.sysPct, 1),
            all && r.mode !== 'all' ? x(res.cpuPct / all.cpuPct) : '',
            f(res.rssMB, 0),
            f(res.publisherCpuPct, 0),
          ];
        }),
      ),
      `Clients hold ${int(first.heldKeys)} keys (every ${Math.round(1 / first.share)}th key of the universe, each ` +
        'held by exactly one client). The publishers are XPUBs: libzmq sends a topic only to a SUB that subscribed to it, ' +
        'so with `interest` the proxy receives only held keys. sent/s counts what the publishers offered (every ticking key), ' +
        'not what reached the proxy.',
    );
  }
  return lines.join('\n\n');
}
