/**
 * `npm run bench`: the end-to-end suite (real proxy, floor, publisher and client processes on
 * loopback; bench/e2e/), then the in-process benchmark (bench/inprocess.ts) when it is there.
 * Writes bench/results/<date>.json (raw figures, a run artifact git ignores) and .md (the summary git
 * keeps) and prints the tables. Measures and reports; never fails
 * on a figure — only when the harness itself breaks.
 *
 *   npm run bench                     full suite (~10 min)
 *   npm run bench -- --quick          everything small: a smoke test
 *   npm run bench -- --soak           adds scenario 7 (10 min)
 *   npm run bench -- --profile        adds CPU profiles of the proxy and the floor, scenarios 1 and 2 (10 clients)
 *   npm run bench -- --only=s1,s5-t0  just these scenarios (s1 s2-10 s2-100 s2b-100 s3 s4 s5-t0 s5-burst s6 s7 s8-exchange s9-interest)
 *   npm run bench -- --levers         adds the floor with corking / pre-built frames, scenarios 1 and 2 (10 clients)
 *   npm run bench -- --symbols=300 --measure-ms=8000   resize scenarios 1–4 (results go to <date>-partial.*)
 *   npm run bench -- --exchange=universe=100000,ticking=2000   resize scenarios 8 and 9 (ExchangeScale fields)
 *   npm run bench -- --gc             GC counts, --trace-gc reasons and allocation sites of floor and proxy (s3; or --only=)
 *   npm run bench -- --reps=3         scenarios 1–4 three times, floor and proxy alternating; medians
 *   npm run bench -- --no-inprocess   skip the in-process benchmark
 *   npm run bench -- --report=bench/results/<date>.json   re-render that run's markdown (no benchmark)
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { summarizeAllocations, traceGcReasons } from './e2e/diagnostics';
import { summarizeProfile } from './e2e/profile';
import { killAll } from './e2e/procs';
import {
  EXCHANGE_FULL,
  EXCHANGE_QUICK,
  type ExchangeRun,
  type ExchangeScale,
  type InterestRun,
  runExchange,
  runInterest,
} from './e2e/exchange';
import { type E2eResults, formatGc, formatReport, type GcRun, type Machine, machine } from './e2e/report';
import {
  type ConnectionsRun,
  FULL,
  type LeverOptions,
  medianRun,
  plainScenarios,
  QUICK,
  rampScenarios,
  type RampRun,
  runConnections,
  runRamp,
  runScenario,
  runSoak,
  type ScenarioRun,
  type SoakRun,
} from './e2e/scenarios';
import type { TargetKind } from './e2e/session';

/** What bench/inprocess.ts exports (typed here so this file builds without it). */
interface InProcessModule {
  runInProcess(options: { quick: boolean }): Promise<unknown[]>;
  formatInProcess?(results: readonly unknown[], header: string): string;
}

/** The project root: the nearest directory up from here with a package.json (runs from dist/bench/bench/). */
function projectRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir;
  return process.cwd();
}

const ROOT = projectRoot();
const RESULTS = join(ROOT, 'bench', 'results');
const TARGETS: readonly TargetKind[] = ['floor', 'proxy'];

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

const ms = (v: number | null | undefined): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(1) : '–');

function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

function onlyList(): Set<string> | undefined {
  const arg = process.argv.find((a) => a.startsWith('--only='));
  return arg ? new Set(arg.slice('--only='.length).split(',')) : undefined;
}

/** `--report=FILE`: renders a saved run's markdown again (after a change to the report's layout or rules). */
function rerender(file: string): void {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as E2eResults & { machine: Machine; quick: boolean; date: string; seconds: number };
  const markdown = formatReport(
    { ...saved, levers: saved.levers ?? [] },
    saved.machine,
    saved.quick,
    saved.date,
    saved.seconds,
    relative(ROOT, file),
  );
  const md = file.replace(/\.json$/, '.md');
  const previous = existsSync(md) ? readFileSync(md, 'utf8') : '';
  // Keep the in-process part of the file as it was: it is not rebuilt from the JSON here.
  const inprocessAt = previous.indexOf('\n## In-process benchmark');
  writeFileSync(md, `${markdown}\n${inprocessAt >= 0 ? previous.slice(inprocessAt) : ''}`);
  process.stdout.write(`${markdown}\n`);
  log(`re-rendered ${relative(ROOT, md)}`);
}

async function main(): Promise<void> {
  const reportArg = process.argv.find((a) => a.startsWith('--report='));
  if (reportArg) return rerender(reportArg.slice('--report='.length));
  const quick = flag('quick');
  // --symbols=N and --measure-ms=N resize scenarios 1–4 (e.g. a longer window at a small scale for --gc).
  const numberArg = (name: string): number | undefined => {
    const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
    const v = arg === undefined ? NaN : Number(arg.slice(name.length + 3));
    return Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const base = quick ? QUICK : FULL;
  const scale = { ...base, symbols: numberArg('symbols') ?? base.symbols, measureMs: numberArg('measure-ms') ?? base.measureMs };
  const only = onlyList();
  const gcMode = flag('gc');
  // --gc measures its own scenarios (s3 unless --only says), instead of the suite.
  const wanted = (id: string): boolean => !gcMode && (only ? only.has(id) : id !== 's7' || flag('soak'));
  const started = Date.now();
  const date = new Date().toISOString().slice(0, 10);
  const m = machine(ROOT);
  // Whatever hangs, the suite ends: quick in 5 minutes, full in 40 (plus the soak).
  const budgetMs = (quick ? 5 : 40) * 60_000 + (wanted('s7') ? scale.soakMs + 120_000 : 0);
  setTimeout(() => {
    log(`benchmark exceeded its ${budgetMs / 60_000} min budget: stopping`);
    killAll();
    process.exit(2);
  }, budgetMs).unref();

  log(`end-to-end benchmark${quick ? ' (quick)' : ''}: ${m.cpu}, ${m.cores} cores, node ${m.node}, load ${m.loadAvgStart.join(' ')}`);
  const scenarios: ScenarioRun[] = [];
  const ramps: RampRun[] = [];
  const connections: ConnectionsRun[] = [];
  const profiles: E2eResults['profiles'][number][] = [];
  const levers: E2eResults['levers'][number][] = [];
  const errors: string[] = [];
  const gcRuns: GcRun[] = [];
  let soak: SoakRun | undefined;
  const attempt = async (what: string, run: () => Promise<void>): Promise<void> => {
    const t0 = Date.now();
    log(`  ${what}`);
    try {
      await run();
    } catch (err) {
      const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
      errors.push(message);
      log(`  FAILED ${message}`);
    }
    log(`    (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  };

  // Floor and proxy of a scenario run one after the other; in --quick, where no figure is compared,
  // side by side to keep the smoke test short.
  const eachTarget = async <T>(what: string, run: (target: TargetKind) => Promise<T>): Promise<T[]> => {
    const one = async (target: TargetKind): Promise<T | undefined> => {
      let out: T | undefined;
      await attempt(`${what} ${target}`, async () => {
        out = await run(target);
      });
      return out;
    };
    const got: (T | undefined)[] = [];
    if (quick) got.push(...(await Promise.all(TARGETS.map(one))));
    else for (const target of TARGETS) got.push(await one(target));
    return got.filter((r): r is Awaited<T> => r !== undefined);
  };

  const repsArg = process.argv.find((a) => a.startsWith('--reps='));
  const reps = Math.max(1, Number(repsArg?.slice('--reps='.length) ?? 1) || 1);
  for (const def of plainScenarios(scale).filter((d) => wanted(d.id))) {
    const byTarget = new Map<TargetKind, ScenarioRun[]>();
    for (let rep = 1; rep <= reps; rep++) {
      const runs = await eachTarget(reps > 1 ? `${def.id} (${rep}/${reps})` : def.id, (target) => runScenario(def, target, scale));
      for (const run of runs) {
        const r = run.result;
        log(
          `    ${def.id} ${run.target}: ${(r.deliveredRatio * 100).toFixed(1)}% delivered, p99 ${r.p99Ms.toFixed(2)} ms, CPU ${r.cpuPct.toFixed(1)}%, ${r.cpuUsPerMsg.toFixed(2)} µs/msg`,
        );
        byTarget.set(run.target, [...(byTarget.get(run.target) ?? []), run]);
      }
    }
    for (const target of TARGETS) {
      const runs = byTarget.get(target);
      if (runs) scenarios.push(medianRun(runs));
    }
  }
  for (const def of rampScenarios(scale).filter((d) => wanted(d.id))) {
    ramps.push(...(await eachTarget(def.id, (target) => runRamp(def, target, scale, log))));
  }
  if (wanted('s6')) {
    const runs = await eachTarget('s6', (target) => runConnections(target, scale, log));
    for (const c of runs) log(`    s6 ${c.target}: ${c.connected} connected, ${c.rssPerConnKB.toFixed(1)} KB RSS per connection`);
    connections.push(...runs);
  }
  // --exchange=universe=100000,ticking=2000,… overrides sizes of scenarios 8 and 9 (ExchangeScale's fields).
  const exchangeArg = process.argv.find((a) => a.startsWith('--exchange='))?.slice('--exchange='.length);
  const exchangeOverrides = Object.fromEntries(
    (exchangeArg ?? '')
      .split(',')
      .map((pair) => pair.split('='))
      .filter((kv): kv is [string, string] => kv.length === 2 && Number.isFinite(Number(kv[1])))
      .map(([k, v]) => [k, Number(v)]),
  );
  const exchangeScale: ExchangeScale = { ...(quick ? EXCHANGE_QUICK : EXCHANGE_FULL), ...exchangeOverrides };
  const exchange: ExchangeRun[] = [];
  if (wanted('s8-exchange')) exchange.push(...(await eachTarget('s8-exchange', (target) => runExchange(target, exchangeScale, log))));
  for (const e of exchange) {
    const r = e.result;
    log(
      `    s8-exchange ${e.target}: ${(r.deliveredRatio * 100).toFixed(1)}% delivered, p99 ${r.p99Ms.toFixed(2)} ms, p99.9 ${r.p999Ms.toFixed(2)} ms, ` +
        `CPU ${r.cpuPct.toFixed(1)}%, ${e.rssPerKeyB.toFixed(0)} B RSS/key, subscribe of ${e.probeKeys}: reply ${ms(e.probe?.replyMs)} ms, ` +
        `snapshots ${ms(e.probe?.snapshotsMs)} ms${e.probeError ? ` (${e.probeError})` : ''}`,
    );
  }
  const interest: InterestRun[] = [];
  if (wanted('s9-interest')) {
    // Both modes one after the other (never side by side): the figure is their CPU ratio.
    for (const mode of ['all', 'interest'] as const) {
      await attempt(`s9-interest --zmq-subscribe ${mode}`, async () => {
        interest.push(await runInterest(mode, exchangeScale, log));
      });
      if (interest.some((r) => r.skipped)) break;
    }
  }
  if (wanted('s7')) {
    await attempt('s7 soak', async () => {
      soak = await runSoak(scale, log);
    });
  }
  if (flag('levers')) {
    const programs: readonly { name: string; target: TargetKind; lever?: LeverOptions }[] = [
      { name: 'floor', target: 'floor' },
      { name: 'floor + cork', target: 'floor', lever: { floorVariant: 'cork' } },
      { name: 'floor + cork + preframed', target: 'floor', lever: { floorVariant: 'preframed' } },
      { name: 'floor + preframed + one write per client', target: 'floor', lever: { floorVariant: 'coalesced' } },
      { name: 'floor + ZMTP reader', target: 'floor', lever: { floorZmtp: true } },
      { name: 'floor + ZMTP reader + cork', target: 'floor', lever: { floorZmtp: true, floorVariant: 'cork' } },
      { name: 'proxy', target: 'proxy' },
      { name: 'proxy, --zmq-engine libzmq', target: 'proxy', lever: { zmqEngine: 'libzmq' } },
    ];
    for (const def of plainScenarios(scale).filter((d) => d.id === 's1' || d.id === 's2-10')) {
      const runs = new Map<string, ScenarioRun[]>();
      for (let rep = 1; rep <= reps; rep++) {
        for (const p of programs) {
          await attempt(`lever ${def.id} ${p.name}${reps > 1 ? ` (${rep}/${reps})` : ''}`, async () => {
            const run = await runScenario(def, p.target, scale, undefined, p.lever);
            log(
              `    ${(run.result.deliveredRatio * 100).toFixed(1)}% delivered, CPU ${run.result.cpuPct.toFixed(1)}%, ${run.result.cpuUsPerMsg.toFixed(2)} µs/msg`,
            );
            runs.set(p.name, [...(runs.get(p.name) ?? []), run]);
          });
        }
      }
      for (const p of programs) {
        const got = runs.get(p.name);
        if (got) levers.push({ scenario: def.id, program: p.name, result: medianRun(got).result });
      }
    }
  }
  if (flag('profile')) {
    // Scenario 1 shows the per-tick costs (one client: ingest dominates), scenario 2 the fan-out;
    // --only picks others (e.g. s2-100).
    for (const def of plainScenarios(scale).filter((d) => (only ? only.has(d.id) : d.id === 's1' || d.id === 's2-10'))) {
      for (const target of TARGETS) {
        await attempt(`profile ${target} ${def.id}`, async () => {
          const dir = join(RESULTS, 'profiles', `${date}-${def.id}-${target}`);
          mkdirSync(dir, { recursive: true });
          const t0 = Date.now();
          const run = await runScenario(def, target, scale, dir);
          const newest = readdirSync(dir)
            .filter((name) => name.endsWith('.cpuprofile'))
            .map((name) => join(dir, name))
            .filter((file) => statSync(file).mtimeMs >= t0)
            .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
          if (!newest) throw new Error(`no .cpuprofile written in ${dir}`);
          const summary = summarizeProfile(newest, 15, { fromUs: run.result.windowFromNs / 1000, toUs: run.result.windowToNs / 1000 });
          profiles.push({ target, scenario: def.title, summary: { ...summary, file: relative(ROOT, newest) } });
        });
      }
    }
  }

  if (gcMode) {
    const ids = only ?? new Set(['s3']);
    for (const def of plainScenarios(scale).filter((d) => ids.has(d.id))) {
      // Three runs per target: GC counts and traces with no profiler (the undisturbed figures), then
      // every allocation, then only what survived the young generation (what old space collects).
      // --gc-flags='A;B C' adds plain proxy runs with node/V8 flags A, then B and C (e.g. a larger
      // young generation), right after the plain proxy run they are compared with.
      const flagSets = (process.argv.find((a) => a.startsWith('--gc-flags='))?.slice('--gc-flags='.length) ?? '')
        .split(';')
        .map((set) => set.trim().split(/\s+/).filter(Boolean))
        .filter((set) => set.length > 0);
      const runs: { variant: GcRun['variant']; target: TargetKind; flags: string[] }[] = [
        ...TARGETS.map((target) => ({ variant: 'plain' as const, target, flags: [] })),
        ...flagSets.map((flags) => ({ variant: 'plain' as const, target: 'proxy' as const, flags })),
        ...(['allocated', 'survivors'] as const).flatMap((variant) => TARGETS.map((target) => ({ variant, target, flags: [] }))),
      ];
      for (const [i, { variant, target, flags }] of runs.entries()) {
        await attempt(`gc ${def.id} ${target} ${variant} ${flags.join(' ')}`, async () => {
          const dir = join(RESULTS, 'profiles');
          mkdirSync(dir, { recursive: true });
          const stem = join(dir, `${date}-${def.id}-${target}-${variant}-${i}`);
          const traceFile = `${stem}-trace-gc.log`;
          writeFileSync(traceFile, '');
          const run = await runScenario(
            def,
            target,
            scale,
            undefined,
            {},
            {
              targetNodeFlags: [...flags, ...(variant === 'plain' ? ['--trace-gc', '--trace-incremental-marking'] : [])],
              targetStdoutFile: traceFile,
              diag: variant === 'plain' ? {} : { heapProfileFile: `${stem}.heapprofile`, survivorsOnly: variant === 'survivors' },
            },
          );
          const d = run.result.diag;
          const file = d?.heapProfileFile;
          const alloc = file
            ? summarizeAllocations(JSON.parse(readFileSync(file, 'utf8')) as Parameters<typeof summarizeAllocations>[0], 15, ROOT)
            : undefined;
          gcRuns.push({
            variant,
            nodeFlags: flags.join(' '),
            scenario: def.id,
            title: def.title,
            target,
            result: run.result,
            ticksIn: run.result.ingestPerS * run.result.windowS,
            allocation: alloc,
            traceReasons: traceGcReasons(readFileSync(traceFile, 'utf8')),
            files: { trace: relative(ROOT, traceFile), heap: file ? relative(ROOT, file) : undefined },
          });
          log(
            `    ${target} ${variant}: p99 ${run.result.p99Ms.toFixed(2)} ms, p99.9 ${run.result.p999Ms.toFixed(2)} ms, GC ${JSON.stringify(d?.gc)}`,
          );
        });
      }
    }
  }

  m.loadAvgEnd = loadavg().map((v) => Math.round(v * 100) / 100);
  const results: E2eResults = { scenarios, ramps, connections, soak, levers, profiles, exchange, interest, errors };
  const seconds = (Date.now() - started) / 1000;
  const resized = scale.symbols !== base.symbols || scale.measureMs !== base.measureMs || exchangeArg !== undefined;
  const stem = join(RESULTS, quick ? `${date}-quick` : only || gcMode || resized ? `${date}-partial` : date);
  const markdown = [
    formatReport(results, m, quick, date, seconds, `${relative(ROOT, stem)}.json`),
    ...(gcRuns.length > 0 ? [formatGc(gcRuns)] : []),
  ].join('\n\n');
  process.stdout.write(`\n${markdown}\n`);

  let inprocess: unknown[] | undefined;
  let inprocessMarkdown: string | undefined;
  const inprocessFile = join(__dirname, 'inprocess.js');
  if (!flag('no-inprocess') && only === undefined && !gcMode && existsSync(inprocessFile)) {
    log('\nin-process benchmark (bench/inprocess.ts)');
    await attempt('in-process', async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(inprocessFile) as InProcessModule;
      inprocess = await mod.runInProcess({ quick });
      inprocessMarkdown = mod.formatInProcess?.(inprocess, '## In-process benchmark');
    });
  }

  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    `${stem}.json`,
    `${JSON.stringify({ date, quick, args: process.argv.slice(2), machine: m, seconds, ...results, gcRuns, inprocess }, null, 1)}\n`,
  );
  writeFileSync(`${stem}.md`, `${[markdown, inprocessMarkdown].filter(Boolean).join('\n\n')}\n`);
  log(`\nresults: ${relative(ROOT, stem)}.json, .md (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  if (errors.length > 0) {
    log(`${errors.length} part(s) of the suite failed to run`);
    process.exitCode = 1;
  }
}

main()
  .catch((err: unknown) => {
    log(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => {
    killAll();
    // Timers of finished sessions must not keep the process alive.
    setTimeout(() => process.exit(), 100).unref();
  });
