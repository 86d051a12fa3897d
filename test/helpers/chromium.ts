/**
 * What the browser tests share: Debian's Chromium (installed by scripts/ensure-chromium.sh when
 * missing; the tests never skip), the flags it needs on a machine with no network, and the page
 * bundle the proxy serves.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
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

/** Installs Chromium with apt-get when it is missing; fails the suite (never skips) when it cannot. */
export function ensureChromium(): void {
  const result = spawnSync('bash', [join(ROOT, 'scripts', 'ensure-chromium.sh')], { encoding: 'utf8', timeout: 15 * 60_000 });
  if (result.status !== 0) {
    throw new Error(`scripts/ensure-chromium.sh failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`);
  }
}

/** `npm run build`'s second half: the page bundle the proxy serves. */
export function buildPage(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-page.js')], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`scripts/build-page.js failed:\n${result.stdout}${result.stderr}`);
}

/** A price as the page writes it (`84,60,565.48`) → a number. */
export const price = (text: string): number => Number(text.replace(/,/g, ''));
