/**
 * pyzmq, what OpenAlgo's adapters publish with: Debian's python3-zmq brings a second libzmq build to
 * test the feed against. scripts/ensure-pyzmq.sh installs it when missing.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './cliProcess';

/** A Python that imports zmq, or why there is none. */
export type Pyzmq = { readonly python: string } | { readonly error: string };

/**
 * Installs pyzmq when missing and names the Python that imports it. On a developer machine that
 * cannot install it the cases that need it are skipped, loudly (`skipping` says which, on stderr,
 * prefixed with `testName`); under CI (`CI` set) they run, and fail.
 */
export function ensurePyzmq(testName: string, skipping: string): { pyzmq: Pyzmq; runs: boolean } {
  let pyzmq: Pyzmq;
  try {
    const out = execFileSync('bash', [join(ROOT, 'scripts', 'ensure-pyzmq.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
    pyzmq = { python: out.trim().split('\n').pop() ?? 'python3' };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    pyzmq = { error: (e.stderr ?? '').trim() || e.message };
  }
  const runs = 'python' in pyzmq || Boolean(process.env['CI']);
  if (!runs && 'error' in pyzmq) process.stderr.write(`${testName}: skipping ${skipping}: ${pyzmq.error}\n`);
  return { pyzmq, runs };
}
