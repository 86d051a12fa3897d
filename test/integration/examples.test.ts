/**
 * The examples README quotes are real: `npm run typecheck` checks the files under examples/ (with
 * examples/tsconfig.json), this test runs the Node one with the command README gives against
 * `tickcast demo` and checks that README.md quotes each file exactly as it is. The Angular app is
 * built and opened in a browser by angular-app.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliProcess, ROOT } from '../helpers/cliProcess';
import { Scope } from '../helpers/scope';

const EXAMPLES = [
  'examples/node/print-prices.ts',
  'examples/angular/src/app/tickcast.service.ts',
  'examples/angular/src/app/quote.component.ts',
  'examples/angular/src/app/live-price.component.ts',
  'examples/angular/src/app/app.config.ts',
];

/** Resolves once no process of the group `group` (negative pid) is left; rejects after `timeoutMs`. */
async function groupGone(group: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(group, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process group ${-group} still runs ${timeoutMs} ms after Ctrl+C`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('examples', () => {
  const scope = new Scope();
  afterAll(() => scope.close());

  it.each(EXAMPLES)('README.md quotes %s as it is', (file) => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const source = readFileSync(join(ROOT, file), 'utf8').trimEnd();
    expect(readme).toContain(`\`\`\`ts\n// ${file}\n${source}\n\`\`\``);
  });

  it('`npm start --prefix examples/node` prints live prices from the demo and stops on Ctrl+C', async () => {
    // Built here, so that the command finds dist/ up to date and prints only what the example prints.
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'ensure-built.js')], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`scripts/ensure-built.js failed:\n${built.stdout}${built.stderr}`);
    const demo = scope.add(new CliProcess(['demo', '--port', '0', '--zmq-bind', 'tcp://127.0.0.1:*', '--stats-interval-s', '0']));
    const [, wsUrl] = await demo.waitFor(/^ {2}WebSocket URL: (ws:\/\/\S+)$/m, 30_000);
    const [, apiKey] = await demo.waitFor(/^ {2}API key: +([0-9a-f]{32})$/m);

    // The command README gives, in its own process group: Ctrl+C signals npm, sh and node together.
    const child = spawn('npm', ['start', '--prefix', 'examples/node'], {
      cwd: ROOT,
      detached: true,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', TICKCAST_URL: wsUrl!, TICKCAST_API_KEY: apiKey! },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    const group = -(child.pid as number);
    scope.add({
      close: () => (child.exitCode === null && child.signalCode === null ? (process.kill(group, 'SIGKILL'), exited) : undefined),
    });
    let stdout = '';
    let stderr = '';
    // The pipe ends when every process holding it (npm and the example it runs) has let go.
    const stdoutEnded = new Promise<void>((resolve) => child.stdout.once('end', () => resolve()));
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const seen = (pattern: RegExp, timeoutMs: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = (): void => {
          if (pattern.test(stdout)) return resolve();
          if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null)
            return reject(new Error(`no ${pattern} in:\n${stdout}\n${stderr}`));
          setTimeout(poll, 20);
        };
        poll();
      });

    await seen(/^status open$/m, 30_000);
    await seen(/^NSE:RELIANCE \d+(\.\d+)?$/m, 15_000);
    await seen(/^NSE:TCS \d+(\.\d+)? volume \d+$/m, 15_000);
    process.kill(group, 'SIGINT');
    // npm got Ctrl+C too: it ends with its script's code (0) or, when its own signal handling wins
    // the race, by that signal (a shell reports 130); either way after the script has ended.
    expect([0, 'SIGINT']).toContain(await exited);
    // Nothing of the command is left running, and the example closed its client on SIGINT (it may
    // write that after npm has already gone: read the pipe to its end).
    await groupGone(group, 5000);
    await stdoutEnded;
    expect(stdout).toMatch(/^status closed$/m);
    expect(stderr).toBe('');
  }, 150_000);
});
