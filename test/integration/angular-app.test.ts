/**
 * examples/angular as a user builds and runs it: scripts/build-angular-example.sh packs this
 * repository, installs the tarball into the app with its lockfile and runs `ng build`; the static
 * files are served by a plain HTTP server, the proxy is `tickcast demo` on its own port, and Debian's
 * Chromium (playwright-core) opens the app with the proxy's URL in `?ws=` and the key in `#key=`. The
 * proxy is stopped and started again on the same port: the app says so, and prices resume. The last
 * screen is saved to artifacts/angular-app.png.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import { ChromiumWindow, ensureChromium, price } from '../helpers/chromium';
import { buildCli, CliProcess, ROOT } from '../helpers/cliProcess';
import { Scope } from '../helpers/scope';

const APP_DIST = join(ROOT, 'examples', 'angular', 'dist', 'browser');
const SCREENSHOT = 'angular-app.png';
const VIEWPORT = { width: 900, height: 640 };
/** A key the demo is started with both times, as a proxy's configured keys survive its restart. */
const API_KEY = '0123456789abcdef0123456789abcdef';
/** The app's watchlist, in its order. */
const WATCHLIST = ['NSE:RELIANCE', 'NSE:TCS', 'NSE:INFY', 'CRYPTO:BTC_INR'];
/** A price as Angular's `number: '1.2-2'` writes it (`2,950.05`). */
const PRICE = /^\d{1,3}(,\d{3})*\.\d{2}$/;

function run(command: string, args: string[], timeoutMs: number): string {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`,
    );
  }
  return result.stdout;
}

/** The built app's files; any other path gets index.html, as an SPA host does. */
function serveStatic(root: string): Promise<Server> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.txt': 'text/plain' };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(root, path);
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      file = join(root, 'index.html');
      body = readFileSync(file);
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** `tickcast demo` with {@link API_KEY}, on `port` (0: any free one); resolves once it serves. */
async function startDemo(scope: Scope, port: number): Promise<{ demo: CliProcess; wsUrl: string }> {
  const demo = scope.add(
    new CliProcess(['demo', '--port', String(port), '--zmq-bind', 'tcp://127.0.0.1:*', '--stats-interval-s', '0', '--api-key', API_KEY]),
  );
  const [, wsUrl = ''] = await demo.waitFor(/^ {2}WebSocket URL: (ws:\/\/\S+)$/m, 30_000);
  return { demo, wsUrl };
}

/** The watchlist's LTP text by instrument (`NSE:RELIANCE` → `2,950.05`). */
function ltps(page: Page): Promise<Record<string, string>> {
  return page.$$eval('app-quote', (quotes) =>
    Object.fromEntries(quotes.map((q) => [q.querySelector('.symbol')?.textContent ?? '', q.querySelector('.ltp')?.textContent ?? ''])),
  );
}

/** Waits until at least `enough` watchlist prices differ from `before`. */
async function pricesMove(page: Page, before: Record<string, string>, enough: number): Promise<void> {
  await page.waitForFunction(
    ({ first, enough }) =>
      Array.from(document.querySelectorAll('app-quote')).filter((q) => {
        const ltp = q.querySelector('.ltp')?.textContent ?? '';
        return /\d/.test(ltp) && ltp !== first[q.querySelector('.symbol')?.textContent ?? ''];
      }).length >= enough,
    { first: before, enough },
    { timeout: 15_000 },
  );
}

describe('the Angular example app in Chromium', () => {
  const scope = new Scope();
  let window: ChromiumWindow | undefined;
  let page: Page;
  let appUrl: string;
  let wsUrl: string;
  let demo: CliProcess;
  /** Uncaught exceptions in the page (a failed WebSocket connection is not one). */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureChromium();
    const built = run('bash', [join(ROOT, 'scripts', 'build-angular-example.sh')], 15 * 60_000);
    // The times go to the test's output, for CI's log: no test asserts on them.
    console.log(
      built
        .split('\n')
        .filter((l) => /^(install|build): /.test(l))
        .join('\n'),
    );
    buildCli();
    const server = await serveStatic(APP_DIST);
    scope.add({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    ({ demo, wsUrl } = await startDemo(scope, 0));
    window = await ChromiumWindow.open(VIEWPORT);
    ({ page } = window);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${appUrl}?ws=${encodeURIComponent(wsUrl)}#key=${API_KEY}`);
  }, 20 * 60_000);

  afterAll(async () => {
    try {
      await window?.close(SCREENSHOT);
    } finally {
      await scope.close();
    }
  }, 30_000);

  it('connects with the key from the fragment, then takes the key out of the address bar', async () => {
    await page.waitForSelector('.status[data-status="open"]', { timeout: 15_000 });
    expect(await page.textContent('.status')).toBe('open');
    expect(page.url()).toBe(`${appUrl}?ws=${encodeURIComponent(wsUrl)}`);
  }, 20_000);

  it('shows a live price and volume on every watchlist row (async pipe)', async () => {
    await page.waitForFunction(
      () => Array.from(document.querySelectorAll('app-quote .volume')).filter((v) => /\d/.test(v.textContent ?? '')).length === 4,
      undefined,
      { timeout: 15_000 },
    );
    const prices = await ltps(page);
    expect(Object.keys(prices)).toEqual(WATCHLIST);
    for (const ltp of Object.values(prices)) expect(ltp).toMatch(PRICE);
    // The simulator walks RELIANCE from 2950 and BTC_INR from 8,500,000.
    expect(price(prices['NSE:RELIANCE']!)).toBeGreaterThan(2500);
    expect(price(prices['NSE:RELIANCE']!)).toBeLessThan(3500);
    expect(price(prices['CRYPTO:BTC_INR']!)).toBeGreaterThan(7_000_000);
    await pricesMove(page, prices, 2);
  }, 40_000);

  it('follows the selected index with signals: a click switches the stream', async () => {
    const live = async (): Promise<string> => (await page.textContent('app-live-price')) ?? '';
    await page.waitForFunction(
      () => /^NIFTY [\d,]+\.\d{2}$/.test(document.querySelector('app-live-price')?.textContent?.trim() ?? ''),
      undefined,
      {
        timeout: 15_000,
      },
    );
    const nifty = price((await live()).trim().split(' ')[1]!);
    expect(nifty).toBeGreaterThan(20_000);
    expect(nifty).toBeLessThan(30_000);
    await page.click('button:has-text("BANKNIFTY")');
    await page.waitForFunction(
      () => /^BANKNIFTY [\d,]+\.\d{2}$/.test(document.querySelector('app-live-price')?.textContent?.trim() ?? ''),
      undefined,
      {
        timeout: 15_000,
      },
    );
    // Around 52,000: the BANKNIFTY stream, not NIFTY's last price under a new name.
    expect(price((await live()).trim().split(' ')[1]!)).toBeGreaterThan(45_000);
  }, 40_000);

  it('says it is reconnecting while the proxy is down, and resumes prices when it is back on the same port', async () => {
    const port = new URL(wsUrl).port;
    demo.kill('SIGTERM');
    await demo.exited;
    await page.waitForSelector('.status[data-status="reconnecting"]', { timeout: 15_000 });
    const stale = await ltps(page);
    ({ demo } = await startDemo(scope, Number(port)));
    await page.waitForSelector('.status[data-status="open"]', { timeout: 30_000 });
    // Every row gets prices from the new proxy: the subscriptions were sent again.
    await pricesMove(page, stale, WATCHLIST.length);
    for (const ltp of Object.values(await ltps(page))) expect(ltp).toMatch(PRICE);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
