#!/usr/bin/env node
/**
 * `npm run build`, unless dist/ is already newer than everything it is built from (the .ts and page
 * files under src/ and streams/, the tsconfigs, package.json and scripts/build-page.js). The examples'
 * commands run this first: the package they use is the built one, and a build they do not need
 * would rewrite dist/ under processes that run from it (`npm test` runs the examples' tests next to
 * the others, after building once).
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
/** Written by every build (tsc rewrites all its outputs; build-page.js writes the page bundle). */
const OUTPUTS = ['dist/src/index.js', 'dist/src/cli.js', 'dist/src/client/index.js', 'dist/streams/index.js', 'dist/page/app.js'];
const INPUT_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-page.js'];
const INPUT_DIRS = ['src', 'streams'];

/** The newest modification time under `dir`, in ms (0 when it is empty or missing). */
function newestUnder(dir) {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((newest, entry) => Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs), 0);
}

const newestInput = Math.max(
  ...INPUT_FILES.map((f) => (existsSync(join(ROOT, f)) ? statSync(join(ROOT, f)).mtimeMs : 0)),
  ...INPUT_DIRS.map((d) => newestUnder(join(ROOT, d))),
);
const oldestOutput = Math.min(...OUTPUTS.map((f) => (existsSync(join(ROOT, f)) ? statSync(join(ROOT, f)).mtimeMs : 0)));

if (oldestOutput <= newestInput) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(result.status ?? 1);
}
