/**
 * What the browser tests share: Debian's Chromium (installed by scripts/ensure-chromium.sh when
 * missing; the tests never skip), the flags it needs on a machine with no network, and the page
 * bundle the proxy serves.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from './cliProcess';

export const CHROMIUM = '/usr/bin/chromium';
/** Without the background-networking flags Chromium's own connections fail on a machine with no network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium, headless, with no profile kept (pages open with `browser.newPage()`). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Installs Chromium with apt-get when it is missing; fails the suite (never skips) when it cannot. */
export function ensureChromium(): void {
  const result = spawnSync('bash', [join(ROOT, 'scripts', 'ensure-chromium.sh')], { encoding: 'utf8', timeout: 15 * 60_000 });
  if (result.status !== 0) {
    throw new Error(
      `scripts/ensure-chromium.sh failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`,
    );
  }
}

/** `npm run build`'s second half: the page bundle the proxy serves. */
export function buildPage(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-page.js')], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`scripts/build-page.js failed:\n${result.stdout}${result.stderr}`);
}

/** A price as the page writes it (`84,60,565.48`) → a number. */
export const price = (text: string): number => Number(text.replace(/,/g, ''));

/** A Chromium window on a fresh profile of its own (so no storage leaks between suites). */
export class ChromiumWindow {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly profile: string,
  ) {}

  static async open(viewport: { width: number; height: number }): Promise<ChromiumWindow> {
    const profile = mkdtempSync(join(tmpdir(), 'tickcast-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
    });
    return new ChromiumWindow(context, context.pages()[0] ?? (await context.newPage()), profile);
  }

  /** Saves the last screen to artifacts/`screenshot`, then closes the browser and removes its profile. */
  async close(screenshot: string): Promise<void> {
    try {
      mkdirSync(join(ROOT, 'artifacts'), { recursive: true });
      await this.page.screenshot({ path: join(ROOT, 'artifacts', screenshot) });
    } finally {
      await this.context.close();
      rmSync(this.profile, { recursive: true, force: true });
    }
  }
}
