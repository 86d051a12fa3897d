import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The project root. */
export const ROOT = join(__dirname, '..', '..');
/** The built entry point `npm start`, `npm run serve` and the `tickcast` bin run. */
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');

let built = false;

/** The newest modification time of the `.ts` files anywhere under `dir` (0 when there are none). */
export function newestSource(dir: string): number {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  return files.reduce((newest, f) => Math.max(newest, statSync(join(dir, f)).mtimeMs), 0);
}

/**
 * Builds `dist/` (what `npm start` does first) unless it is newer than every source file; throws
 * when no CLI came out.
 */
export function buildCli(): void {
  if (built) return;
  const fresh = existsSync(CLI) && statSync(CLI).mtimeMs > Math.max(newestSource(join(ROOT, 'src')), newestSource(join(ROOT, 'streams')));
  if (fresh) {
    built = true;
    return;
  }
  const result = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (!existsSync(CLI)) throw new Error(`the build produced no ${CLI}:\n${result.stdout}${result.stderr}`);
  built = true;
}

/** How a process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * `node dist/src/cli.js <args>` as a child process, its output captured. Register it with a scope
 * (or call {@link close} in afterAll): a process still running then is killed.
 */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
  private readonly child: ChildProcess;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    // Only what the CLI needs from the parent env: no stray TICKCAST_* settings leak in.
    const base = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' };
    this.child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The JSON log lines printed so far. */
  logLines(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Resolves with the first match of `pattern` in stdout; rejects when the process ends or after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.stdout);
      if (match) return match;
      if (this.exit) throw new Error(`process exited (${JSON.stringify(this.exit)}) before ${pattern}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exit) this.child.kill(signal);
  }

  /** Kills the process if it still runs and waits for it to end. */
  async close(): Promise<void> {
    if (!this.exit) this.child.kill('SIGKILL');
    await this.exited;
  }
}
