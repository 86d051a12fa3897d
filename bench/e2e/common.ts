/**
 * What every process of the end-to-end benchmark shares: the clock, the names the feed uses, and
 * the scaffolding that keeps a child process bounded in time and tied to its parent.
 */

/**
 * Nanoseconds on the system's monotonic clock. `process.hrtime` reads CLOCK_MONOTONIC, which is
 * one clock for every process on the machine, so a stamp taken in the publisher can be subtracted
 * from a reading in a client. Exact as a double for 104 days of uptime.
 */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The key every client authenticates with, on the proxy and on the floor. */
export const API_KEY = 'bench-key';
export const BROKER = 'bench';
export const EXCHANGE = 'NSE';
/** Symbols are `S<index>`: a client reads the index back from a frame without building a string. */
export const symbolName = (index: number): string => `S${index}`;
export const MODE_TOPIC = ['', 'LTP', 'QUOTE', 'DEPTH'] as const;
export type BenchMode = 1 | 2 | 3;

/** The payload field carrying the publisher's send time ({@link nowNs}). */
export const STAMP_FIELD = 'ts_ns';

/** A message between the orchestrator and a child: a request carries an id its reply echoes. */
export interface IpcMessage {
  readonly id?: number;
  readonly cmd?: string;
  readonly event?: string;
  readonly [field: string]: unknown;
}

/**
 * Makes a child process safe to leave running: it exits when its parent goes away (the IPC
 * channel closes) and, whatever happens, after `maxLifetimeMs`.
 */
export function boundChild(maxLifetimeMs: number): void {
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => {
    process.stderr.write(`bench child ${process.argv[1] ?? ''} exceeded its ${maxLifetimeMs} ms lifetime\n`);
    process.exit(3);
  }, maxLifetimeMs).unref();
}

/** Sends a message to the parent; a no-op once the channel is gone. */
export function toParent(message: IpcMessage): void {
  if (process.connected) process.send?.(message);
}

/**
 * Serves requests from the parent: `handler` answers each one (or throws), and the answer goes
 * back with the request's id.
 */
export function serveParent(handler: (message: IpcMessage) => unknown): void {
  process.on('message', (message: IpcMessage) => {
    Promise.resolve()
      .then(() => handler(message))
      .then(
        (data) => toParent({ id: message.id, ok: true, data }),
        (err: unknown) => toParent({ id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
}

/** The config a child was started with: JSON in its first argument. */
export function childConfig<T>(): T {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('bench child started without its JSON config argument');
  return JSON.parse(raw) as T;
}

/** Answers `mem` requests: memory of this process, after a full collection when `gc` is exposed. */
export function memoryReport(collect: boolean): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (collect && gc) gc();
  return process.memoryUsage();
}
