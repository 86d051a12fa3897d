import { figure, type Figure } from './stats';

/** Runs a full collection when node was started with `--expose-gc`; otherwise does nothing. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

/** True when {@link collectGarbage} really collects. */
export function canCollectGarbage(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

/** Wall time of `work()` in nanoseconds. */
export function timeNs(work: () => void): number {
  const start = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - start);
}

/** What one run of some work cost, in nanoseconds. */
export interface Cost {
  /** CPU time of this process (user + system, all its threads, GC helpers included). */
  readonly cpuNs: number;
  readonly wallNs: number;
}

/**
 * CPU and wall time of `work()`. CPU time is what the benchmarks report: on a machine shared with
 * other work it barely moves, while wall time stretches with every other process that runs.
 */
export function cost(work: () => void): Cost {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  work();
  const wallNs = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  return { cpuNs: (used.user + used.system) * 1000, wallNs };
}

/** Options of {@link nsPerOp}. */
export interface NsPerOpOptions {
  /** Wall time one measured repetition should take, in ms. */
  readonly targetMs: number;
  /** Measured repetitions; the median is reported. */
  readonly reps: number;
  /** Called before every timed repetition, outside the timing (e.g. to collect garbage). */
  readonly beforeRep?: () => void;
}

/**
 * How many operations `run(n)` must perform to take about `targetMs`, warming it up on the way:
 * `n` doubles until a run takes a quarter of `targetMs`, then is scaled to the target.
 */
export function calibrate(run: (n: number) => void, targetMs: number): number {
  const targetNs = targetMs * 1e6;
  let n = 1;
  let took = timeNs(() => run(n));
  while (took < targetNs / 4 && n < 2 ** 30) {
    n *= 2;
    took = timeNs(() => run(n));
  }
  return Math.max(1, Math.round((n * targetNs) / Math.max(took, 1)));
}

/**
 * CPU nanoseconds per operation of `run(n)` (which must perform `n` operations): calibrated with
 * {@link calibrate}, warmed up once more at the final size, then timed `reps` times.
 */
export function nsPerOp(run: (n: number) => void, options: NsPerOpOptions): Figure {
  const n = calibrate(run, options.targetMs);
  run(n);
  const samples: number[] = [];
  for (let r = 0; r < options.reps; r++) {
    options.beforeRep?.();
    samples.push(cost(() => run(n)).cpuNs / n);
  }
  return figure(samples);
}

/**
 * CPU time (user + system, this process) spent while `work()` runs and the promise it returns
 * settles, in nanoseconds. Unlike wall time it does not count waiting, so it can price work that
 * is spread over real time (timers firing).
 */
export async function cpuNs(work: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) * 1000;
}
