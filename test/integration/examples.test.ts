/**
 * The examples README quotes are real: `npm run typecheck` checks every file under examples/ (with
 * examples/tsconfig.json), this test runs the Node one against `tickcast demo` and checks that
 * README.md quotes each file exactly as it is.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { buildCli, CliProcess, ROOT } from '../helpers/cliProcess';
import { Scope } from '../helpers/scope';

const EXAMPLES = [
  'examples/node/print-prices.ts',
  'examples/angular/tickcast.service.ts',
  'examples/angular/quote.component.ts',
  'examples/angular/live-price.component.ts',
  'examples/angular/app.config.ts',
];

describe('examples', () => {
  const scope = new Scope();
  afterAll(() => scope.close());

  it.each(EXAMPLES)('README.md quotes %s as it is', (file) => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const source = readFileSync(join(ROOT, file), 'utf8').trimEnd();
    expect(readme).toContain(`\`\`\`ts\n// ${file}\n${source}\n\`\`\``);
  });

  it('the Node example prints live prices from the demo and exits when interrupted', async () => {
    buildCli();
    const demo = scope.add(new CliProcess(['demo', '--port', '0', '--zmq-bind', 'tcp://127.0.0.1:*', '--stats-interval-s', '0']));
    const [, wsUrl] = await demo.waitFor(/^ {2}WebSocket URL: (ws:\/\/\S+)$/m, 30_000);
    const [, apiKey] = await demo.waitFor(/^ {2}API key: +([0-9a-f]{32})$/m);
    // Compiled as a user's build would, into the package (dist/ is ignored), so that `tickcast/client`
    // resolves through package.json's exports map to the built client, as it does for users.
    const script = join(ROOT, 'dist', 'examples', 'node', 'print-prices.js');
    buildSync({ entryPoints: [join(ROOT, EXAMPLES[0]!)], outfile: script, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error' });

    const child = spawn(process.execPath, [script], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', TICKCAST_URL: wsUrl!, TICKCAST_API_KEY: apiKey! },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    scope.add({ close: () => (child.exitCode === null ? (child.kill('SIGKILL'), exited) : undefined) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const seen = (pattern: RegExp): Promise<void> =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + 15_000;
        const poll = (): void => {
          if (pattern.test(stdout)) return resolve();
          if (Date.now() > deadline || child.exitCode !== null) return reject(new Error(`no ${pattern} in:\n${stdout}\n${stderr}`));
          setTimeout(poll, 20);
        };
        poll();
      });

    await seen(/^status open$/m);
    await seen(/^NSE:RELIANCE \d+(\.\d+)?$/m);
    await seen(/^NSE_INDEX:NIFTY \d+(\.\d+)? volume \d+$/m);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/^status closed$/m);
    expect(stderr).toBe('');
  }, 60_000);
});
