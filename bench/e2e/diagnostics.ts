/**
 * What a target (proxy or floor) can measure about itself for one window, on the orchestrator's
 * request: garbage collections by kind (a `PerformanceObserver` on `gc` entries) and, when asked,
 * an allocation profile — V8's sampling heap profiler, keeping the samples of objects that were
 * collected too, so it shows what is allocated per tick, not only what survives. Used by
 * `npm run bench -- --gc` (see bench/README.md); idle otherwise.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { constants, PerformanceObserver } from 'node:perf_hooks';

/** Collections in a window, by kind, and the time they paused the JS thread. */
export interface GcCounts {
  readonly minor: number;
  readonly major: number;
  readonly incremental: number;
  readonly weakcb: number;
  readonly minorMs: number;
  readonly majorMs: number;
  readonly incrementalMs: number;
  /** Major collections V8 was asked for by external memory (Buffers) or forced, by flag. */
  readonly majorForced: number;
  readonly majorExternalMemory: number;
  /** The longest single pause of any kind, ms. */
  readonly maxPauseMs: number;
}

/** What `diag-stop` answers. */
export interface DiagReport {
  readonly gc: GcCounts;
  /** The sampling heap profile of the window, when one was asked for. */
  readonly heapProfileFile?: string;
  /** External memory (Buffers and typed arrays outside the V8 heap) at the end of the window, bytes. */
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
}

const zero = (): { -readonly [K in keyof GcCounts]: number } => ({
  minor: 0,
  major: 0,
  incremental: 0,
  weakcb: 0,
  minorMs: 0,
  majorMs: 0,
  incrementalMs: 0,
  majorForced: 0,
  majorExternalMemory: 0,
  maxPauseMs: 0,
});

/**
 * Handles `diag-start` (`{ heapProfileFile?, samplingIntervalBytes?, survivorsOnly? }`) and `diag-stop` for a
 * target; returns undefined for other commands so the caller's handler goes on.
 */
export function diagnostics(): (cmd: string | undefined, msg: Record<string, unknown>) => Promise<unknown> | undefined {
  let counts = zero();
  let observer: PerformanceObserver | undefined;
  let session: Session | undefined;
  let heapFile: string | undefined;

  const post = <T>(method: string, params?: object): Promise<T> =>
    new Promise((resolve, reject) => {
      (session as Session).post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
    });

  return (cmd, msg) => {
    if (cmd === 'diag-start') {
      return (async () => {
        counts = zero();
        observer?.disconnect();
        observer = new PerformanceObserver((list) => {
          for (const e of list.getEntries()) {
            const detail = (e as unknown as { detail?: { kind?: number; flags?: number } }).detail ?? {};
            const kind = detail.kind ?? 0;
            const flags = detail.flags ?? 0;
            if (e.duration > counts.maxPauseMs) counts.maxPauseMs = e.duration;
            if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
              counts.minor++;
              counts.minorMs += e.duration;
            } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
              counts.major++;
              counts.majorMs += e.duration;
              if (flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) counts.majorForced++;
              if (flags & constants.NODE_PERFORMANCE_GC_FLAGS_ALL_EXTERNAL_MEMORY) counts.majorExternalMemory++;
            } else if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) {
              counts.incremental++;
              counts.incrementalMs += e.duration;
            } else counts.weakcb++;
          }
        });
        observer.observe({ entryTypes: ['gc'] });
        heapFile = typeof msg['heapProfileFile'] === 'string' ? msg['heapProfileFile'] : undefined;
        if (heapFile !== undefined) {
          session = new Session();
          session.connect();
          await post('HeapProfiler.enable');
          await post('HeapProfiler.startSampling', {
            samplingInterval: typeof msg['samplingIntervalBytes'] === 'number' ? msg['samplingIntervalBytes'] : 16_384,
            includeObjectsCollectedByMajorGC: true,
            // Without the young generation's dead: what survived scavenges (old-space garbage and live data).
            includeObjectsCollectedByMinorGC: msg['survivorsOnly'] !== true,
          });
        }
        return true;
      })();
    }
    if (cmd === 'diag-stop') {
      return (async (): Promise<DiagReport> => {
        // Entries are delivered asynchronously: let the last ones of the window arrive.
        await new Promise((resolve) => setTimeout(resolve, 50));
        observer?.disconnect();
        observer = undefined;
        let written: string | undefined;
        if (session && heapFile !== undefined) {
          const { profile } = await post<{ profile: unknown }>('HeapProfiler.stopSampling');
          writeFileSync(heapFile, JSON.stringify(profile));
          written = heapFile;
          session.disconnect();
          session = undefined;
        }
        const mem = process.memoryUsage();
        return { gc: { ...counts }, heapProfileFile: written, externalBytes: mem.external, arrayBuffersBytes: mem.arrayBuffers };
      })();
    }
    return undefined;
  };
}

interface HeapNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly id: number;
  readonly children: readonly HeapNode[];
}

/** One allocation site of a sampling heap profile. */
export interface AllocationSite {
  readonly site: string;
  readonly bytes: number;
  readonly pct: number;
}

/**
 * Sums a sampling heap profile by allocation site (function, file and line; the nearest
 * project frame when the allocating frame is in Node or a library), biggest first.
 */
export function summarizeAllocations(
  profile: { head: HeapNode },
  top = 15,
  root = '',
): { totalBytes: number; sites: AllocationSite[]; byCaller: AllocationSite[] } {
  const bySite = new Map<string, number>();
  const byCaller = new Map<string, number>();
  let total = 0;
  const short = (url: string): string =>
    url
      .replace(/^file:\/\//, '')
      .replace(root, '')
      .replace(/^.*node_modules\//, '');
  const name = (n: HeapNode): string =>
    `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const own = (n: HeapNode): boolean => /\/(src|streams|bench)\//.test(n.callFrame.url) && !n.callFrame.url.includes('node_modules');
  const walk = (n: HeapNode, nearestOwn: string | undefined): void => {
    const here = own(n) ? name(n) : nearestOwn;
    if (n.selfSize > 0) {
      total += n.selfSize;
      const site = name(n);
      bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
      const caller = here ?? '(no project frame)';
      byCaller.set(caller, (byCaller.get(caller) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, here);
  };
  walk(profile.head, undefined);
  const list = (m: Map<string, number>): AllocationSite[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([site, bytes]) => ({ site, bytes, pct: total > 0 ? (bytes / total) * 100 : 0 }));
  return { totalBytes: total, sites: list(bySite), byCaller: list(byCaller) };
}

/**
 * `--trace-gc` lines of a log, counted by collector and reason (the text after the pause figures),
 * and `--trace-incremental-marking` starts by what started them (allocation limit, external memory…).
 */
export function traceGcReasons(log: string): { collector: string; reason: string; count: number; totalMs: number }[] {
  const out = new Map<string, { collector: string; reason: string; count: number; totalMs: number }>();
  // e.g. "[123:0x...]   4567 ms: Mark-Compact 30.1 (41.2) -> 25.0 (41.9) MB, 3.21 / 0.00 ms  (average mu = ...) allocation failure; GC in old space requested"
  const line = /ms: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact)[^,]*, ([\d.]+) \/ [\d.]+ ms\s+(?:\([^)]*\)\s*)?(.*)$/;
  const start = /\[IncrementalMarking\] Start \(([^)]*)\)/;
  for (const l of log.split('\n')) {
    const s = start.exec(l);
    if (s) {
      const key = `start|${s[1] as string}`;
      const e = out.get(key) ?? { collector: 'incremental marking started', reason: s[1] as string, count: 0, totalMs: 0 };
      e.count++;
      out.set(key, e);
      continue;
    }
    const m = line.exec(l);
    if (!m) continue;
    const collector = m[1] as string;
    const reason = (m[3] as string)
      .replace(/\([^)]*\)/g, '')
      .replace(/\s+/g, ' ')
      .trim();
    const key = `${collector}|${reason}`;
    const e = out.get(key) ?? { collector, reason, count: 0, totalMs: 0 };
    e.count++;
    e.totalMs += Number(m[2]);
    out.set(key, e);
  }
  return [...out.values()].sort((a, b) => b.count - a.count);
}
