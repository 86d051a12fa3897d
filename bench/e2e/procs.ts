/**
 * The orchestrator's side of the child processes: spawning them with an IPC channel, request/reply
 * over it, reading their CPU time and memory from /proc, and making sure none outlives the run —
 * on normal exit, on an exception and on Ctrl-C.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { IpcMessage } from './common';

const live = new Set<Child>();
let cleanupInstalled = false;

/** Kills every child still running. Synchronous, so it also works from an `exit` handler. */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the benchmark and its processes\n`);
      killAll();
      process.exit(130);
    });
  }
}

/** A child process of the benchmark, spoken to over IPC. */
export class Child {
  readonly proc: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly events: IpcMessage[] = [];
  private readonly eventWaiters: { event: string; resolve: (m: IpcMessage) => void }[] = [];
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    script: string,
    config: object,
    execArgv: readonly string[] = [],
    /** A file descriptor for the child's stdout (e.g. `--trace-gc` lines); the parent's stdout otherwise. */
    stdout?: number,
  ) {
    installCleanup();
    this.proc = fork(script, [JSON.stringify(config)], {
      stdio: ['ignore', stdout ?? 'inherit', 'inherit', 'ipc'],
      execArgv: [...execArgv],
    });
    live.add(this);
    this.proc.on('message', (msg: IpcMessage) => {
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg['ok']) p?.resolve(msg['data']);
        else p?.reject(new Error(`${this.name}: ${String(msg['error'])}`));
        return;
      }
      const i = this.eventWaiters.findIndex((w) => w.event === msg.event);
      if (i >= 0) this.eventWaiters.splice(i, 1)[0]?.resolve(msg);
      else this.events.push(msg);
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code) => {
        this.exitCode = code;
        live.delete(this);
        for (const p of this.pending.values()) p.reject(new Error(`${this.name} exited (code ${String(code)})`));
        this.pending.clear();
        resolve();
      });
    });
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Waits for an event the child announces (e.g. `ready`). */
  waitFor(event: string, timeoutMs: number): Promise<IpcMessage> {
    const seen = this.events.findIndex((m) => m.event === event);
    if (seen >= 0) return Promise.resolve(this.events.splice(seen, 1)[0] as IpcMessage);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no '${event}' within ${timeoutMs} ms`)), timeoutMs);
      const onExit = (): void => reject(new Error(`${this.name} exited before '${event}'`));
      this.proc.once('exit', onExit);
      this.eventWaiters.push({
        event,
        resolve: (m) => {
          clearTimeout(timer);
          this.proc.off('exit', onExit);
          resolve(m);
        },
      });
    });
  }

  /** Sends a command and resolves with the child's answer. */
  request<T>(cmd: string, fields: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    if (!this.running || !this.proc.connected) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: '${cmd}' unanswered after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ id, cmd, ...fields });
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.proc.kill(signal);
  }

  /** Asks the child to stop with `signal`, and kills it if it has not exited within `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    if (this.running) {
      this.kill('SIGKILL');
      await this.exited;
    }
  }
}

let clockTicks: number | undefined;

/** Clock ticks per second of /proc's CPU times. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User and system (kernel) CPU time of a process (all its threads) in µs, from /proc/<pid>/stat. */
export function cpuSplitUs(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
  const tick = 1e6 / ticksPerSecond();
  return { user: Number(fields[11]) * tick, sys: Number(fields[12]) * tick };
}

/** User + system CPU time of a process (all its threads) in µs. */
export function cpuUs(pid: number): number {
  const { user, sys } = cpuSplitUs(pid);
  return user + sys;
}

/** Resident set size in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** A free TCP port on 127.0.0.1 (free now; the caller binds it soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The open-files limit child processes inherit (`ulimit -n`). */
export function openFilesLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? 1_000_000 : Number(out);
  } catch {
    return 1024;
  }
}

/** CPU time of the whole machine in µs since boot, busy and total (all cores), from /proc/stat. */
export function machineCpuUs(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string;
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((s, v) => s + v, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const scale = 1e6 / ticksPerSecond();
  return { busy: (total - idle) * scale, total: total * scale };
}
