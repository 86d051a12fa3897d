/**
 * The dashboard as a trader keeps it open, in real Chromium against `tickcast demo` and its
 * simulated feed: at a phone's, two laptops' and a desktop's size no panel covers another and no
 * number is cut; the chart draws candles whose last close and price line match the watchlist; a
 * symbol whose publisher stops goes grey with its age and comes back when it resumes; a proxy
 * restart shows in the status and everything recovers. One browser, one page, bounded waits.
 * Screenshots of each size go to artifacts/dashboard-<width>x<height>.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Publisher } from 'zeromq';
import { formatTopic } from '../../streams';
import { buildPage, ensureChromium, launchChromium, price } from '../helpers/chromium';
import { buildCli, CliProcess, ROOT } from '../helpers/cliProcess';
import { Scope } from '../helpers/scope';
import { DEFAULT_WATCHLIST } from '../../src/page/model';

const API_KEY = 'feedc0de'.repeat(4);
/** Published by this test, so it can stop and resume one symbol's feed. */
const PAUSED = 'TEST:PAUSED';
/** Never published: it must say so rather than show dashes. */
const NEVER = 'TEST:NEVER';
/** The page's stale limit for this test (`?stale=`), in seconds. */
const STALE_S = 2;
const VIEWPORTS = [
  { width: 360, height: 740 },
  { width: 1024, height: 700 },
  { width: 1280, height: 720 },
  { width: 1920, height: 1080 },
] as const;
const DEMO_ARGS = ['--zmq-bind', 'tcp://127.0.0.1:*', '--stats-interval-s', '0', '--api-key', API_KEY];

/** Every box that must not overlap another, by name. */
const BOXES = { topbar: '.topbar', watchlist: '#watch-panel', chart: '#chart-panel', book: '#book-panel', footer: 'footer' };
/** Every element showing a number: none may be cut (its content must fit its box). */
const NUMBERS = [
  '#watchlist-rows .ltp',
  '#watchlist-rows .change',
  '#watchlist-rows .volume',
  '#watchlist-rows .age',
  '#book .px',
  '#book .qty-cell',
  '#book .ord',
  '.book-ltp',
  '.chart-last',
  '.book-foot dd',
  '.figures dd',
].join(', ');

/** Publishes LTP ticks of {@link PAUSED} every 200 ms while running. */
class PausablePublisher {
  private readonly socket = new Publisher({ linger: 0 });
  private timer: NodeJS.Timeout | undefined;
  private ltp = 100;

  constructor(endpoint: string) {
    this.socket.connect(endpoint);
  }

  resume(): void {
    this.timer ??= setInterval(() => {
      this.ltp = Math.round((this.ltp + 0.05) * 100) / 100;
      const [exchange, symbol] = PAUSED.split(':') as [string, string];
      const payload = { ltp: this.ltp, symbol, exchange, mode: 1, timestamp: Date.now() };
      void this.socket.send([formatTopic({ exchange, symbol, mode: 1 }), JSON.stringify(payload)]).catch(() => undefined);
    }, 200);
  }

  pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.pause();
    this.socket.close();
  }
}

/** What the layout checks read off the page in one go. */
interface Layout {
  boxes: Record<string, { left: number; top: number; right: number; bottom: number }>;
  pageScrollWidth: number;
  innerWidth: number;
  clipped: string[];
  numbersChecked: number;
}

function readLayout(page: Page): Promise<Layout> {
  return page.evaluate(
    ({ boxes, numbers }) => {
      const out: Layout = { boxes: {}, pageScrollWidth: document.documentElement.scrollWidth, innerWidth, clipped: [], numbersChecked: 0 };
      for (const [name, selector] of Object.entries(boxes)) {
        const r = document.querySelector(selector)!.getBoundingClientRect();
        out.boxes[name] = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      }
      for (const el of Array.from(document.querySelectorAll<HTMLElement>(numbers))) {
        if (el.offsetParent === null || el.textContent === '') continue; // not displayed, or empty
        out.numbersChecked++;
        if (el.scrollWidth > el.clientWidth) out.clipped.push(`${el.className} "${el.textContent}" ${el.scrollWidth} > ${el.clientWidth}`);
      }
      return out;
    },
    { boxes: BOXES, numbers: NUMBERS },
  );
}

/** The selected row's LTP and what the chart says it draws, read in the same frame. */
function chartAndRow(page: Page): Promise<{ ltp: string; bars: number; last: string; priceLine: string; title: string; id: string }> {
  return page.evaluate(() => {
    const row = document.querySelector<HTMLElement>('#watchlist-rows tr.selected');
    const chart = document.getElementById('chart')!;
    return {
      id: row?.dataset['id'] ?? '',
      ltp: row?.querySelector('.ltp')?.textContent ?? '',
      bars: Number(chart.dataset['bars'] ?? 0),
      last: chart.dataset['last'] ?? '',
      priceLine: chart.dataset['priceLine'] ?? '',
      title: document.getElementById('chart-title')?.textContent ?? '',
    };
  });
}

const rowState = (page: Page, id: string): Promise<string | undefined> =>
  page.$eval(`#watchlist-rows tr[data-id="${id}"]`, (tr) => (tr as HTMLElement).dataset['state']);

describe('the dashboard at every screen size, live and stale', () => {
  const scope = new Scope();
  let demo: CliProcess;
  let origin: string;
  let port: string;
  let publisher: PausablePublisher;
  let browser: Browser;
  let page: Page;
  /** What the browser reported as blocked by the page's Content-Security-Policy, or as a script error. */
  const pageErrors: string[] = [];

  /** Starts `tickcast demo` on `onPort` and returns the page's origin and the feed endpoint. */
  async function startDemo(onPort: string): Promise<{ origin: string; feed: string }> {
    demo = scope.add(new CliProcess(['demo', '--port', onPort, ...DEMO_ARGS]));
    const [, link = ''] = await demo.waitFor(/^ {2}Dashboard: +(http:\/\/\S+)$/m, 30_000);
    const [, feed = ''] = await demo.waitFor(/^ {2}Feed: .*→ (tcp:\/\/\S+) /m);
    return { origin: new URL(link).origin, feed };
  }

  beforeAll(async () => {
    ensureChromium();
    buildCli();
    buildPage();
    const started = await startDemo('0');
    origin = started.origin;
    port = new URL(origin).port;
    publisher = new PausablePublisher(started.feed);
    scope.add({ close: () => publisher.close() });
    publisher.resume();
    browser = await launchChromium();
    scope.add({ close: () => browser.close() });
    page = await browser.newPage({ viewport: VIEWPORTS[0] });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) pageErrors.push(message.text());
    });
    const symbols = [...DEFAULT_WATCHLIST, PAUSED, NEVER].join(',');
    await page.goto(`${origin}/?symbols=${symbols}&stale=${STALE_S}#key=${API_KEY}`);
    await page.waitForFunction(() => document.getElementById('status')?.dataset['status'] === 'open', undefined, { timeout: 15_000 });
  }, 20 * 60_000);

  afterAll(() => scope.close(), 30_000);

  it.each(VIEWPORTS)(
    'at $width×$height: no panel over another, no number cut, a chart that matches the watchlist',
    async (viewport) => {
      await page.setViewportSize(viewport);
      // Every simulated row live with its change, the book filled, and the chart with a couple of 5 s bars.
      await page.waitForFunction(
        (ids) =>
          ids.every((id) => {
            const tr = document.querySelector<HTMLElement>(`#watchlist-rows tr[data-id="${id}"]`);
            return tr?.dataset['state'] === 'live' && /%$/.test(tr.querySelector('.change')?.textContent ?? '');
          }) &&
          document.getElementById('book-panel')?.dataset['state'] === 'live' &&
          Number(document.getElementById('chart')?.dataset['bars'] ?? 0) >= 2,
        DEFAULT_WATCHLIST,
        { timeout: 20_000 },
      );
      // Two frames, so the layout has followed the resize.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));

      const layout = await readLayout(page);
      expect(layout.pageScrollWidth).toBeLessThanOrEqual(layout.innerWidth);
      expect(layout.clipped).toEqual([]);
      expect(layout.numbersChecked).toBeGreaterThan(50);
      const names = Object.keys(layout.boxes);
      for (const [i, a] of names.entries()) {
        const boxA = layout.boxes[a]!;
        expect(boxA.right).toBeLessThanOrEqual(viewport.width);
        for (const b of names.slice(i + 1)) {
          const boxB = layout.boxes[b]!;
          const overlapX = Math.min(boxA.right, boxB.right) - Math.max(boxA.left, boxB.left);
          const overlapY = Math.min(boxA.bottom, boxB.bottom) - Math.max(boxA.top, boxB.top);
          expect({ a, b, overlaps: overlapX > 0.5 && overlapY > 0.5 }).toEqual({ a, b, overlaps: false });
        }
      }

      const chart = await chartAndRow(page);
      expect(chart.id).toBe('NSE:RELIANCE');
      expect(chart.title).toBe('RELIANCE · NSE');
      expect(chart.bars).toBeGreaterThanOrEqual(2);
      expect(chart.priceLine).toBe('on');
      expect(Number(chart.last)).toBe(price(chart.ltp));

      // A phone stacks the ladder (asks over bids) and shows the best 10 levels of each side.
      const ladder = await page.$eval('#book', (el) => ({
        stacked: el.classList.contains('stacked'),
        rows: Array.from(el.querySelectorAll('.bids .lrow:not(.head)')).filter((r) => (r as HTMLElement).offsetParent !== null).length,
      }));
      expect(ladder).toEqual(viewport.width < 500 ? { stacked: true, rows: 10 } : { stacked: false, rows: 20 });

      // The chart library runs under the page's strict policy: nothing it does is blocked.
      expect(pageErrors).toEqual([]);

      mkdirSync(join(ROOT, 'artifacts'), { recursive: true });
      await page.screenshot({
        path: join(ROOT, 'artifacts', `dashboard-${viewport.width}x${viewport.height}.png`),
        fullPage: viewport.width < 500,
      });
    },
    40_000,
  );

  it('follows the selection by keyboard, and switches the bar size', async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.focus('#watchlist-rows tr[data-id="NSE:RELIANCE"]');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(() => document.getElementById('chart-title')?.textContent === 'TCS · NSE', undefined, { timeout: 5000 });
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset['id'])).toBe('NSE:TCS');
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset['bars'] ?? 0) >= 1, undefined, { timeout: 10_000 });
    const fiveSecond = (await chartAndRow(page)).bars;
    await page.click('#bar-sizes button[data-size="60"]');
    await page.waitForFunction(
      () => document.querySelector('#bar-sizes button[data-size="60"]')?.getAttribute('aria-pressed') === 'true',
      undefined,
      { timeout: 5000 },
    );
    const minute = await chartAndRow(page);
    expect(minute.bars).toBeGreaterThanOrEqual(1);
    expect(minute.bars).toBeLessThanOrEqual(fiveSecond);
    expect(Number(minute.last)).toBe(price(minute.ltp));
    await page.click('#bar-sizes button[data-size="5"]');
    await page.focus('#watchlist-rows tr[data-id="NSE:TCS"]');
    await page.keyboard.press('ArrowUp');
    await page.waitForFunction(() => document.getElementById('chart-title')?.textContent === 'RELIANCE · NSE', undefined, {
      timeout: 5000,
    });
  }, 30_000);

  it('says when a symbol has never ticked, and when the server refused it', async () => {
    expect(await rowState(page, NEVER)).toBe('waiting');
    expect(await page.textContent(`#watchlist-rows tr[data-id="${NEVER}"] .ltp`)).toBe('no tick yet');
    // Names longer than the protocol allows are refused by the proxy.
    const refused = `TEST:${'X'.repeat(130)}`;
    await page.fill('#add-input', refused);
    await page.press('#add-input', 'Enter');
    await page.waitForFunction(
      (id) => document.querySelector<HTMLElement>(`#watchlist-rows tr[data-id="${id}"]`)?.dataset['state'] === 'refused',
      refused,
      {
        timeout: 10_000,
      },
    );
    expect(await page.textContent(`#watchlist-rows tr[data-id="${refused}"] .ltp`)).toBe('refused');
    expect(await page.textContent('#chart-state')).toBe('Refused by the server');
    await page.click(`#watchlist-rows tr[data-id="${refused}"] button.remove`);
  }, 30_000);

  it('greys a symbol with its age when its publisher stops, and shows it live again when it resumes', async () => {
    await page.click(`#watchlist-rows tr[data-id="${PAUSED}"]`);
    await page.waitForFunction(() => document.getElementById('chart-panel')?.dataset['state'] === 'live', undefined, { timeout: 10_000 });
    publisher.pause();
    await page.waitForFunction(
      (id) =>
        document.querySelector<HTMLElement>(`#watchlist-rows tr[data-id="${id}"]`)?.dataset['state'] === 'stale' &&
        document.getElementById('chart-panel')?.dataset['state'] === 'stale',
      PAUSED,
      { timeout: (STALE_S + 5) * 1000 },
    );
    const stale = await page.evaluate((id) => {
      const row = document.querySelector<HTMLElement>(`#watchlist-rows tr[data-id="${id}"]`)!;
      return {
        age: row.querySelector('.age')?.textContent ?? '',
        opacity: getComputedStyle(row.querySelector('.ltp')!).opacity,
        badge: document.getElementById('chart-state')?.textContent ?? '',
      };
    }, PAUSED);
    expect(Number.parseFloat(stale.age)).toBeGreaterThanOrEqual(STALE_S);
    expect(Number(stale.opacity)).toBeLessThan(1);
    expect(stale.badge).toMatch(/^Stale · \d+(\.\d)?s$/);
    // The simulated symbols go on ticking: only the paused one is stale.
    expect(await rowState(page, 'NSE:RELIANCE')).toBe('live');

    publisher.resume();
    await page.waitForFunction(
      (id) =>
        document.querySelector<HTMLElement>(`#watchlist-rows tr[data-id="${id}"]`)?.dataset['state'] === 'live' &&
        document.getElementById('chart-panel')?.dataset['state'] === 'live',
      PAUSED,
      { timeout: 10_000 },
    );
    expect(await page.textContent('#chart-state')).toBe('Live');
    await page.click('#watchlist-rows tr[data-id="NSE:RELIANCE"]');
  }, 30_000);

  it('shows a proxy restart in the status, greys every row meanwhile, and recovers with its bars intact', async () => {
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset['bars'] ?? 0) >= 2, undefined, { timeout: 10_000 });
    const before = await chartAndRow(page);
    demo.kill('SIGTERM');
    await demo.exited;
    await page.waitForFunction(() => document.getElementById('status')?.dataset['status'] === 'reconnecting', undefined, {
      timeout: 10_000,
    });
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('#watchlist-rows tr[data-id="NSE:TCS"]')?.dataset['state'] === 'offline',
      undefined,
      {
        timeout: 5000,
      },
    );
    expect(await page.textContent('#status-text')).toMatch(/^Reconnecting… \d/);
    expect(await page.getAttribute('#chart-panel', 'data-state')).toBe('offline');
    expect(await page.textContent('#chart-state')).toMatch(/^Offline · \d/);

    await startDemo(port);
    await page.waitForFunction(() => document.getElementById('status')?.dataset['status'] === 'open', undefined, { timeout: 30_000 });
    expect(await page.textContent('#status-text')).toMatch(/^Live · reconnected \d+(\.\d)?s ago$/);
    await page.waitForFunction(
      (ids) => ids.every((id) => document.querySelector<HTMLElement>(`#watchlist-rows tr[data-id="${id}"]`)?.dataset['state'] === 'live'),
      DEFAULT_WATCHLIST,
      { timeout: 15_000 },
    );
    // The bars from before the restart are still there, and the chart goes on from them.
    const after = await chartAndRow(page);
    expect(after.bars).toBeGreaterThanOrEqual(before.bars);
    expect(Number(after.last)).toBe(price(after.ltp));
  }, 60_000);
});
