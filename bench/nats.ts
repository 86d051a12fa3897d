/**
 * Scale-out benchmark (issue 8): the latency NATS adds, and what each role costs. Two topologies,
 * one after the other, under the same feed (1,000 symbols × 5 ticks/s on LTP = 5,000 msg/s, every
 * payload stamped with its send time on the monotonic clock):
 *
 *   single   publisher → proxy (tickcast serve) → clients
 *   nats     publisher → bridge → nats-server (JetStream last values) → node (serve --nats) → clients
 *
 * Every role is its own process (bench/e2e's publisher and client, bench/e2e/launcher for the proxy,
 * bench/natsRoles for bridge and node, nats-server itself); CPU is read from /proc/<pid>/stat over
 * the measured window. Clients measure receive − send per frame. Prints a table; asserts nothing.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/nats.js            (~1 min)
 *   npx tsc -p tsconfig.bench.json && node dist/bench/nats.js --quick    (a smoke run)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientReport, ConnectRequest } from './e2e/client';
import { API_KEY, nowNs, sleep } from './e2e/common';
import { symbolsOf, type TickGroup } from './e2e/feed';
import { LatencyHistogram } from './e2e/histogram';
import { Child, cpuUs, freePort, killAll, machineCpuUs } from './e2e/procs';
import type { Plan, PlanReport } from './e2e/publisher';

const ROOT = join(__dirname, '..', '..');
const E2E = join(__dirname, 'e2e');
const QUICK = process.argv.includes('--quick');
const SYMBOLS = 1000;
const RATE = 5;
/** WebSocket connections, each subscribed to every symbol: 2 × 5,000 frames/s. */
const CONNECTIONS = 2;
const SETTLE_MS = QUICK ? 1500 : 3000;
const MEASURE_MS = QUICK ? 3000 : 15_000;
const DRAIN_MS = 1000;
const LIFETIME_MS = 5 * 60_000;

const GROUPS: readonly TickGroup[] = [{ name: 'ltp', firstSymbol: 0, keys: SYMBOLS, ratePerKey: RATE, mode: 1 }];

type Topology = 'single' | 'nats';

interface Result {
  readonly topology: Topology;
  readonly sentPerS: number;
  readonly delivered: number;
  readonly expected: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Frames the serving proxy conflated for clients that fell behind (a stall shows here). */
  readonly conflated: number;
  /** CPU of each role in % of one core over the window. */
  readonly cpu: Record<string, number>;
  readonly othersPct: number;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** nats-server with JetStream on free ports, its store in a temporary directory. */
async function startNatsServer(): Promise<{ url: string; proc: ChildProcess; stop: () => Promise<void> }> {
  const bin = execFileSync('bash', [join(ROOT, 'scripts', 'ensure-nats-server.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop() as string;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-bench-nats-'));
  const proc = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  process.on('exit', () => proc.kill('SIGKILL'));
  const url = `nats://127.0.0.1:${port}`;
  // Up once it accepts a TCP connection.
  const { connect } = await import('node:net');
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 200) throw new Error('nats-server did not start');
    await sleep(25);
  }
  return {
    url,
    proc,
    stop: async () => {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function run(topology: Topology): Promise<Result> {
  const port = await freePort();
  const zmqBind = `tcp://127.0.0.1:${await freePort()}`;
  const roles: { name: string; pid: () => number; stop: () => Promise<void> }[] = [];
  const children: Child[] = [];
  const child = (name: string, script: string, config: object): Child => {
    const c = new Child(name, script, { maxLifetimeMs: LIFETIME_MS, ...config });
    children.push(c);
    roles.push({ name, pid: () => c.pid, stop: () => c.stop('SIGTERM', 3000) });
    return c;
  };
  let nats: Awaited<ReturnType<typeof startNatsServer>> | undefined;
  try {
    if (topology === 'single') {
      child('proxy', join(E2E, 'launcher.js'), { port, zmqBind, apiKey: API_KEY, throttleMs: 100 });
    } else {
      nats = await startNatsServer();
      const server = nats;
      roles.push({ name: 'nats-server', pid: () => server.proc.pid as number, stop: () => server.stop() });
      child('bridge', join(__dirname, 'natsRoles.js'), { role: 'bridge', nats: server.url, zmqBind, apiKey: API_KEY });
      child('node', join(__dirname, 'natsRoles.js'), { role: 'node', nats: server.url, port, apiKey: API_KEY });
    }
    const publisher = child('publisher', join(E2E, 'publisher.js'), { endpoint: zmqBind });
    const client = child('clients', join(E2E, 'client.js'), {});
    await Promise.all(children.map((c) => c.waitFor('ready', 20_000)));

    const request: ConnectRequest = {
      port,
      conns: CONNECTIONS,
      apiKey: API_KEY,
      symbols: symbolsOf(GROUPS),
      mode: 1,
      depth: 5,
      concurrency: CONNECTIONS,
    };
    const connected = await client.request<{ connected: number; errors: string[] }>('connect', { request }, 120_000);
    if (connected.connected !== CONNECTIONS) throw new Error(`only ${connected.connected} connections: ${connected.errors.join('; ')}`);

    const atNs = nowNs() + 100e6;
    const fromNs = atNs + SETTLE_MS * 1e6;
    const toNs = fromNs + MEASURE_MS * 1e6;
    const plan: Plan = { id: 1, atNs, untilNs: toNs + (DRAIN_MS + 2000) * 1e6, groups: GROUPS, windowFromNs: fromNs, windowToNs: toNs };
    await Promise.all([publisher.request('plan', { plan }), client.request('window', { fromNs, toNs })]);
    const sample = (): { t: number; machine: number; cpu: number[] } => ({
      t: nowNs(),
      machine: machineCpuUs().busy,
      cpu: roles.map((r) => cpuUs(r.pid())),
    });
    await sleep((fromNs - nowNs()) / 1e6);
    const first = sample();
    await sleep((toNs - nowNs()) / 1e6);
    const last = sample();
    await sleep(DRAIN_MS);
    const serving = children.find((c) => c.name === 'proxy' || c.name === 'node') as Child;
    const [sent, report, servingStats] = await Promise.all([
      publisher.request<PlanReport>('collect', { planId: 1 }),
      client.request<ClientReport>('collect'),
      serving.request<{ conflated: number }>('stats'),
    ]);
    const wallUs = (last.t - first.t) / 1000;
    const cpu: Record<string, number> = {};
    let ours = 0;
    roles.forEach((r, i) => {
      const us = (last.cpu[i] as number) - (first.cpu[i] as number);
      ours += us;
      cpu[r.name] = (us / wallUs) * 100;
    });
    const hist = new LatencyHistogram();
    hist.merge(report.latency);
    const sentInWindow = sent.sentInWindow.reduce((s, n) => s + n, 0);
    return {
      topology,
      sentPerS: sentInWindow / (MEASURE_MS / 1000),
      delivered: report.delivered,
      expected: sentInWindow * CONNECTIONS,
      p50Ms: hist.percentileUs(50) / 1000,
      p99Ms: hist.percentileUs(99) / 1000,
      maxMs: hist.maxUs / 1000,
      conflated: servingStats.conflated,
      cpu,
      othersPct: ((last.machine - first.machine - ours) / wallUs) * 100,
    };
  } finally {
    for (const r of [...roles].reverse()) await r.stop().catch(() => undefined);
  }
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');

function table(results: readonly Result[]): string {
  const lines = [
    '| topology | sent/s | delivered / expected | conflated | p50 ms | p99 ms | max ms | CPU % of a core, per role | machine, others % |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const r of results) {
    const roles = Object.entries(r.cpu)
      .map(([name, pct]) => `${name} ${f1(pct)}`)
      .join(', ');
    lines.push(
      `| ${r.topology} | ${r.sentPerS.toFixed(0)} | ${r.delivered} / ${r.expected} | ${r.conflated} | ${f2(r.p50Ms)} | ${f2(r.p99Ms)} | ${f2(r.maxMs)} | ${roles} | ${f1(r.othersPct)} |`,
    );
  }
  const [single, nats] = results;
  if (single && nats) {
    lines.push('', `Added by bridge → NATS → node: p50 ${f2(nats.p50Ms - single.p50Ms)} ms, p99 ${f2(nats.p99Ms - single.p99Ms)} ms.`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  setTimeout(() => {
    log('nats benchmark exceeded 5 minutes: stopping');
    killAll();
    process.exit(2);
  }, LIFETIME_MS).unref();
  log(
    `NATS scale-out benchmark${QUICK ? ' (quick)' : ''}: ${SYMBOLS} symbols × ${RATE} ticks/s, ${CONNECTIONS} connections on every symbol; ` +
      `${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  const results: Result[] = [];
  for (const topology of ['single', 'nats'] as const) {
    log(`  ${topology}…`);
    results.push(await run(topology));
  }
  process.stdout.write(`${table(results)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`nats benchmark failed: ${err instanceof Error ? err.stack : String(err)}`);
    killAll();
    process.exit(1);
  },
);
