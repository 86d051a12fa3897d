/**
 * The demo dashboard in a real browser: `node dist/src/cli.js demo` on free ports, Debian's headless
 * Chromium driven by playwright-core, the page read the way a person reads it, from the DOM. Chromium
 * is installed by scripts/ensure-chromium.sh when missing (CI runs as root); this test never skips.
 * The last screen is saved to artifacts/dashboard.png.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { buildPage, ChromiumWindow, ensureChromium, price } from '../helpers/chromium';
import { buildCli, CliProcess } from '../helpers/cliProcess';
import { Scope } from '../helpers/scope';

const SCREENSHOT = 'dashboard.png';
/** A laptop screen. */
const VIEWPORT = { width: 1366, height: 768 };
/** Rows of the page's default watchlist. */
const WATCHLIST_ROWS = 12;
const LADDER_LEVELS = 20;

/** The LTP text of every watchlist row, by instrument id. */
function ltps(page: Page): Promise<Record<string, string>> {
  return page.$$eval('#watchlist-rows tr', (rows) =>
    Object.fromEntries(rows.map((tr) => [(tr as HTMLElement).dataset['id'] ?? '', tr.querySelector('.ltp')?.textContent ?? ''])),
  );
}

/** The ladder's prices, top row first, one list per side. */
function ladderPrices(page: Page): Promise<{ bids: string[]; asks: string[] }> {
  return page.$eval('#book', (tbody) => ({
    bids: Array.from(tbody.querySelectorAll('.bid-price'))
      .map((td) => td.textContent ?? '')
      .filter((t) => t !== ''),
    asks: Array.from(tbody.querySelectorAll('.ask-price'))
      .map((td) => td.textContent ?? '')
      .filter((t) => t !== ''),
  }));
}

const isSorted = (values: readonly number[], order: 'ascending' | 'descending'): boolean =>
  values.every((v, i) => i === 0 || (order === 'ascending' ? v >= values[i - 1]! : v <= values[i - 1]!));

describe('the demo dashboard in Chromium', () => {
  const scope = new Scope();
  let demo: CliProcess;
  let dashboardUrl: string;
  let apiKey: string;
  let window: ChromiumWindow | undefined;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    ensureChromium();
    buildCli();
    buildPage();
    // Every book shuffled by the simulator: the ladder is sorted only if the proxy sorts.
    demo = scope.add(
      new CliProcess([
        'demo',
        '--port',
        '0',
        '--zmq-bind',
        'tcp://127.0.0.1:*',
        '--stats-interval-s',
        '0',
        '--depth-levels',
        '20',
        '--unsorted-ratio',
        '1',
      ]),
    );
    // The printed link carries the generated key in its fragment: open it exactly as a user would.
    const [, printedLink = ''] = await demo.waitFor(/^ {2}Dashboard: +(http:\/\/\S+)$/m, 30_000);
    [, apiKey = ''] = await demo.waitFor(/^ {2}API key: +([0-9a-f]{32})$/m);
    dashboardUrl = new URL(printedLink).origin;
    expect(printedLink).toBe(`${dashboardUrl}/#key=${apiKey}`);
    window = await ChromiumWindow.open(VIEWPORT);
    ({ context, page } = window);
    await page.goto(printedLink);
  }, 20 * 60_000);

  afterAll(async () => {
    try {
      await window?.close(SCREENSHOT);
    } finally {
      await scope.close();
    }
  }, 30_000);

  it('connects with the key from the link, then takes the key out of the address bar', async () => {
    await page.waitForFunction(() => document.getElementById('status-text')?.textContent === 'Live', undefined, { timeout: 15_000 });
    expect(await page.getAttribute('#status', 'data-status')).toBe('open');
    expect(page.url()).toBe(`${dashboardUrl}/`);
    expect(await page.isHidden('#key-dialog')).toBe(true);
    // broker_info is asked for once the connection is open; its answer follows.
    await page.waitForFunction(() => document.getElementById('broker')?.textContent !== '—', undefined, { timeout: 5000 });
    expect(await page.textContent('#broker')).toBe('tickcast');
  }, 20_000);

  it('shows a live price, change and age on every watchlist row, and volume where the feed sends it', async () => {
    await page.waitForFunction(
      (n) => {
        const rows = Array.from(document.querySelectorAll('#watchlist-rows tr'));
        return rows.length === n && rows.every((tr) => /\d/.test(tr.querySelector('.ltp')?.textContent ?? ''));
      },
      WATCHLIST_ROWS,
      { timeout: 15_000 },
    );
    const row = await page.$eval('#watchlist-rows tr[data-id="NSE:RELIANCE"]', (tr) => ({
      symbol: tr.querySelector('.symbol')?.textContent,
      exchange: tr.querySelector('.exchange')?.textContent,
      ltp: tr.querySelector('.ltp')?.textContent ?? '',
    }));
    expect(row.symbol).toBe('RELIANCE');
    expect(row.exchange).toBe('NSE');
    // The simulator walks RELIANCE from 2950 in 0.05 steps.
    expect(row.ltp).toMatch(/^\d{1,2},\d{3}\.\d{2}$/);
    expect(price(row.ltp)).toBeGreaterThan(2500);
    expect(price(row.ltp)).toBeLessThan(3500);
    // Change and volume come with Quote ticks; give them a moment on every row. Indices carry no
    // volume (real index feeds do not): their cell stays empty rather than waiting with a dash.
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('#watchlist-rows tr')).every(
          (tr) =>
            /^[+-]?\d+\.\d{2}%$/.test(tr.querySelector('.change')?.textContent ?? '') &&
            (/_INDEX:/.test((tr as HTMLElement).dataset['id'] ?? '')
              ? tr.querySelector('.volume')?.textContent === ''
              : /\d/.test(tr.querySelector('.volume')?.textContent ?? '')),
        ),
      undefined,
      { timeout: 15_000 },
    );
    expect(await page.$$eval('#watchlist-rows tr', (rows) => rows.map((tr) => (tr as HTMLElement).dataset['state']))).toEqual(
      new Array(WATCHLIST_ROWS).fill('live'),
    );
    const ages = await page.$$eval('#watchlist-rows .age', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(ages).toHaveLength(WATCHLIST_ROWS);
    for (const age of ages) expect(age).toMatch(/^\d\.\ds$/);
  }, 40_000);

  it('moves prices and counts ticks per second over a few seconds', async () => {
    const before = await ltps(page);
    await page.waitForFunction(
      ({ first, enough }) => {
        const changed = Array.from(document.querySelectorAll('#watchlist-rows tr')).filter(
          (tr) => tr.querySelector('.ltp')?.textContent !== first[(tr as HTMLElement).dataset['id'] ?? ''],
        );
        return changed.length >= enough;
      },
      { first: before, enough: WATCHLIST_ROWS / 2 },
      { timeout: 10_000 },
    );
    const after = await ltps(page);
    const moved = Object.keys(before).filter((id) => after[id] !== before[id]);
    expect(moved.length).toBeGreaterThanOrEqual(WATCHLIST_ROWS / 2);
    // Twelve symbols at two broker ticks a second each: the rate cannot be zero while prices move.
    expect(Number(await page.textContent('#tps'))).toBeGreaterThan(0);
  }, 20_000);

  it.each([
    ['NSE:TCS', 'TCS · NSE'],
    ['CRYPTO:BTC_INR', 'BTC_INR · CRYPTO'], // published as [price, qty] pairs: the proxy converts them
    ['CRYPTO:ETH_INR', 'ETH_INR · CRYPTO'], // published as bids/asks level objects
  ])(
    'fills the book ladder with %s sorted levels when its row is clicked',
    async (id, title) => {
      await page.click(`#watchlist-rows tr[data-id="${id}"]`);
      // The page renders once per animation frame: wait for the row to show as selected.
      await page.waitForSelector(`#watchlist-rows tr.selected[data-id="${id}"]`, { timeout: 5000 });
      await page.waitForFunction(
        ({ title, levels }) =>
          document.getElementById('book-title')?.textContent === title &&
          Array.from(document.querySelectorAll('#book .bid-price, #book .ask-price')).filter((td) => td.textContent !== '').length ===
            levels * 2,
        { title, levels: LADDER_LEVELS },
        { timeout: 15_000 },
      );
      const { bids, asks } = await ladderPrices(page);
      const bidPrices = bids.map(price);
      const askPrices = asks.map(price);
      expect(bidPrices).toHaveLength(LADDER_LEVELS);
      expect(askPrices).toHaveLength(LADDER_LEVELS);
      expect(isSorted(bidPrices, 'descending')).toBe(true);
      expect(isSorted(askPrices, 'ascending')).toBe(true);
      expect(bidPrices[0]!).toBeLessThan(askPrices[0]!);
      expect(await page.textContent('#book-levels')).toBe(`${LADDER_LEVELS} / ${LADDER_LEVELS}`);
      // The book is this symbol's: its best bid is within 1% of the row's last price.
      const ltp = price((await page.textContent(`#watchlist-rows tr[data-id="${id}"] .ltp`)) ?? '');
      expect(Math.abs(bidPrices[0]! - ltp) / ltp).toBeLessThan(0.01);
      // Size bars: every filled level has one, and the largest quantity's bar is full length.
      const bars = await page.$$eval('#book .bid-qty .bar, #book .ask-qty .bar', (spans) =>
        spans.map((s) => Number(/scaleX\(([\d.]+)\)/.exec((s as HTMLElement).style.transform)?.[1] ?? -1)),
      );
      expect(bars).toHaveLength(LADDER_LEVELS * 2);
      expect(bars.every((b) => b > 0 && b <= 1)).toBe(true);
      expect(Math.max(...bars)).toBe(1);
      // Order counts: NSE books have them; the pairs-shaped crypto book (BTC) has none, so its
      // column is hidden rather than left blank.
      const ordersShown = await page.$eval('#book .bid-orders', (el) => getComputedStyle(el).display !== 'none');
      expect(ordersShown).toBe(id !== 'CRYPTO:BTC_INR');
      // The header's price is the book's own tick's: the simulator quotes its best bid at the last
      // price, so the two are equal when (and only when) they come from the same tick.
      const sameFrame = await page.evaluate(() => ({
        ltp: document.getElementById('book-ltp')?.textContent ?? '',
        bestBid: document.querySelector('#book .bid-price')?.textContent ?? '',
      }));
      expect(sameFrame.ltp).toBe(sameFrame.bestBid);
    },
    30_000,
  );

  it('asks for a key when the link has none, says when the proxy refuses one, and connects with the right one', async () => {
    // A new tab: sessionStorage is per tab, so it starts with no key.
    const tab = await context.newPage();
    try {
      const response = await tab.goto(`${dashboardUrl}/`);
      // The page the proxy serves never carries a key.
      expect(await response?.text()).not.toContain(apiKey);
      expect(response?.headers()['content-security-policy']).toContain("connect-src 'self'");
      await tab.waitForSelector('#key-dialog:not([hidden])', { timeout: 5000 });
      await tab.fill('#key-input', 'not-the-key');
      await tab.click('#key-form button[type="submit"]');
      await tab.waitForFunction(() => document.getElementById('status')?.dataset['status'] === 'refused', undefined, { timeout: 10_000 });
      expect(await tab.textContent('#key-error')).toBe('The proxy refused this key. Check it and try again.');
      await tab.fill('#key-input', apiKey);
      await tab.click('#key-form button[type="submit"]');
      await tab.waitForFunction(() => document.getElementById('status-text')?.textContent === 'Live', undefined, { timeout: 10_000 });
      await tab.waitForFunction(() => /\d/.test(document.querySelector('#watchlist-rows tr .ltp')?.textContent ?? ''), undefined, {
        timeout: 10_000,
      });
    } finally {
      await tab.close();
    }
  }, 30_000);
});
