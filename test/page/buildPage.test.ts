/**
 * scripts/build-page.js leaves no process behind: `npm start` runs it and then the demo, and an
 * esbuild child it did not wait for would stay defunct for as long as the demo runs wherever PID 1
 * does not reap orphans.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** Linux's USER_HZ, the unit of /proc/<pid>/stat's start time. */
const CLOCK_TICKS_PER_S = 100;

/** Seconds since boot, the clock of /proc/<pid>/stat's start time. */
const uptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

/** Processes named esbuild that started at or after `since` (seconds since boot), with their state. */
function esbuildsSince(since: number): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    // pid (comm) state ppid … starttime is the 22nd field; comm may hold spaces, so split after ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const startedAt = Number(fields[19]) / CLOCK_TICKS_PER_S;
    if (comm === 'esbuild' && startedAt >= since) out.push({ pid: Number(name), state: fields[0] ?? '' });
  }
  return out;
}

const onLinux = process.platform === 'linux' && statSync('/proc/uptime', { throwIfNoEntry: false }) !== undefined;

(onLinux ? describe : describe.skip)('scripts/build-page.js', () => {
  it('builds the page and leaves no esbuild process, running or defunct, once it has exited', () => {
    // Its own folder: the browser tests build and serve dist/page meanwhile.
    const out = mkdtempSync(join(tmpdir(), 'tickcast-page-'));
    try {
      // Start times are in whole clock ticks: step back one so a child started in this tick counts.
      const before = uptime() - 1 / CLOCK_TICKS_PER_S;
      const result = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-page.js'), out], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(readdirSync(out).sort()).toEqual(['app.js', 'index.html']);
      expect(statSync(join(out, 'app.js')).size).toBeGreaterThan(0);
      // The chart library's licence notice is kept in the bundle.
      expect(readFileSync(join(out, 'app.js'), 'utf8')).toContain('TradingView Lightweight Charts');
      expect(esbuildsSince(before)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 130_000);
});
