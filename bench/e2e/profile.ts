/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and says where the time went: self time per
 * function, inclusive time per function, and time per area (ws, ZeroMQ, RxJS, Tickcast, Node's
 * socket layer, GC, idle). Percentages are of busy time (everything but idle).
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One line of a profile summary. */
export interface ProfileEntry {
  readonly name: string;
  readonly area: string;
  /** Share of busy time, percent. */
  readonly pct: number;
  /** Busy milliseconds. */
  readonly ms: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** Wall time the profile covers, ms. */
  readonly durationMs: number;
  /** Non-idle time, ms (CPU the JS thread was busy, plus GC and native time V8 sees). */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly areas: readonly ProfileEntry[];
  /** Busy time by pipeline stage: each sample goes to the nearest frame on its stack that names a stage. */
  readonly stages: readonly ProfileEntry[];
  readonly self: readonly ProfileEntry[];
  readonly inclusive: readonly ProfileEntry[];
}

/** Which part of the stack a frame belongs to. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url.startsWith('node:')) return 'node core';
  if (url.includes('node_modules/ws/')) return 'ws';
  if (url.includes('node_modules/zeromq/')) return 'zeromq';
  if (url.includes('node_modules/rxjs/')) return 'rxjs';
  if (url.includes('node_modules/pino')) return 'pino';
  if (url.includes('/streams/')) return 'tickcast streams/';
  if (url.includes('/bench/e2e/') || url.includes('/bench/run')) return 'bench harness';
  if (url.includes('/src/')) return 'tickcast src/';
  if (url === '') return 'builtin (JSON, Buffer, natives)';
  return 'other';
}

/** `name package/path:line` — short enough for a table, precise enough to open the file. */
const SOCKET_WRITE = new Set([
  'writev',
  'writevGeneric',
  'writeGeneric',
  'Socket._writev',
  'Socket._writeGeneric',
  'clearBuffer',
  'doWrite',
  'Writable.uncork',
  'Writable.write',
  'writeOrBuffer',
  'uncorkAll',
  'writeUtf8String',
]);

/** The pipeline stage a frame stands for, or undefined when it names none (then its caller decides). */
export function stageOf(frame: CallFrame): string | undefined {
  const { url, functionName: fn } = frame;
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'V8/native (program)';
  if (SOCKET_WRITE.has(fn) || url.includes('node_modules/ws/')) return 'socket writes (ws.send, cork/uncork, writev)';
  if (url.includes('node_modules/zeromq/') || url.includes('/ingest/zmq')) return 'ZeroMQ receive loop';
  if (url.includes('/bench/e2e/floor')) return 'floor loop (topic lookup, frame build)';
  if (fn === 'decode' || url.includes('normalizeBook') || fn === 'parse') return 'decode + normalise (JSON.parse, books)';
  if (url.includes('hrottle')) return 'throttle (per key)';
  if (url.includes('/src/hub') || url.includes('/src/frames')) return 'hub: fan-out, frame encode';
  if (url.includes('/src/gateway/')) return 'gateway: session, outbox';
  const ours = !url.startsWith('node:');
  if (ours && url.includes('/streams/')) return 'pipeline: topic parse, filters';
  if (ours && url.includes('/src/')) return 'proxy glue (server, stats)';
  if (url.includes('node_modules/rxjs/')) return 'RxJS operator plumbing';
  if (fn === 'listOnTimeout' || fn === 'processTimers') return 'timers';
  return undefined;
}

const label = (f: CallFrame): string => {
  const nm = f.url.lastIndexOf('node_modules/');
  const dist = f.url.indexOf('/dist/');
  const file = nm >= 0 ? f.url.slice(nm + 'node_modules/'.length) : dist >= 0 ? f.url.slice(dist + 1) : f.url.replace(/^file:\/\//, '');
  return `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
};

/**
 * Summarises a profile: the `top` heaviest functions by self and by inclusive time. With a window
 * (µs on the monotonic clock, which V8's profile timestamps use), only samples inside it count, so
 * start-up and connection set-up stay out of the figures.
 */
export function summarizeProfile(file: string, top = 15, window?: { readonly fromUs: number; readonly toUs: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Each sample lasts until the next one.
  const from = window && window.fromUs > profile.startTime && window.fromUs < profile.endTime ? window.fromUs : profile.startTime;
  const to = window && window.toUs > from ? Math.min(window.toUs, profile.endTime) : profile.endTime;
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t >= to) continue;
    const id = profile.samples[i] as number;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const durationUs = to - from;
  let idleUs = 0;
  const areas = new Map<string, number>();
  const self = new Map<string, { area: string; us: number }>();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const area = areaOf(node.callFrame);
    if (area === 'idle') {
      idleUs += us;
      continue;
    }
    areas.set(area, (areas.get(area) ?? 0) + us);
    const key = label(node.callFrame);
    const entry = self.get(key) ?? { area, us: 0 };
    entry.us += us;
    self.set(key, entry);
  }
  const busyUs = [...areas.values()].reduce((s, v) => s + v, 0);

  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stageCache = new Map<number, string>();
  const stageOfNode = (id: number): string => {
    const cached = stageCache.get(id);
    if (cached !== undefined) return cached;
    const node = byId.get(id) as ProfileNode;
    const up = parent.get(id);
    const stage = stageOf(node.callFrame) ?? (up === undefined ? `other (${areaOf(node.callFrame)})` : stageOfNode(up));
    stageCache.set(id, stage);
    return stage;
  };
  const stages = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id) as ProfileNode;
    if (node.callFrame.functionName === '(idle)') continue;
    // A leaf with no stage of its own: its nearest caller that has one.
    const stage = stageOfNode(id);
    stages.set(stage, (stages.get(stage) ?? 0) + us);
  }

  // Inclusive: a function's subtree time, counted once per stack even when it recurses.
  const inclusive = new Map<string, { area: string; us: number }>();
  const subtree = new Map<number, number>();
  const total = (id: number): number => {
    const cached = subtree.get(id);
    if (cached !== undefined) return cached;
    const node = byId.get(id) as ProfileNode;
    let us = node.callFrame.functionName === '(idle)' ? 0 : (selfUs.get(id) ?? 0);
    for (const child of node.children ?? []) us += total(child);
    subtree.set(id, us);
    return us;
  };
  const walk = (id: number, open: Set<string>): void => {
    const node = byId.get(id) as ProfileNode;
    const key = label(node.callFrame);
    const fresh = !open.has(key);
    if (fresh) {
      const entry = inclusive.get(key) ?? { area: areaOf(node.callFrame), us: 0 };
      entry.us += total(id);
      inclusive.set(key, entry);
      open.add(key);
    }
    for (const child of node.children ?? []) walk(child, open);
    if (fresh) open.delete(key);
  };
  const root = profile.nodes[0];
  if (root) walk(root.id, new Set());

  const entries = (m: Map<string, { area: string; us: number }>): ProfileEntry[] =>
    [...m.entries()].map(([name, v]) => ({ name, area: v.area, pct: (v.us / busyUs) * 100, ms: v.us / 1000 })).sort((a, b) => b.ms - a.ms);
  const skip = new Set(['(root)', '(program)', '(garbage collector)', '(idle)']);
  return {
    file,
    durationMs: durationUs / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    areas: [...areas.entries()]
      .map(([name, us]) => ({ name, area: name, pct: (us / busyUs) * 100, ms: us / 1000 }))
      .sort((a, b) => b.ms - a.ms),
    stages: [...stages.entries()]
      .map(([name, us]) => ({ name, area: name, pct: (us / busyUs) * 100, ms: us / 1000 }))
      .sort((a, b) => b.ms - a.ms),
    self: entries(self).slice(0, top),
    inclusive: entries(inclusive)
      .filter((e) => !skip.has(e.name.split(' ')[0] as string) && !e.name.startsWith('(anonymous) node:internal/') && e.pct < 99.5)
      .slice(0, top),
  };
}
