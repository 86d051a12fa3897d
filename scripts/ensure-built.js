#!/usr/bin/env node
/**
 * Builds dist/ only when it is missing or older than what it is built from, so `npm start`,
 * `npm run serve`, `npm run tickcast` and `npm test` start at once after the first build
 * (`npm ci` builds through the `prepare` script). Checking costs a few milliseconds of stat calls;
 * the build is `npm run build`, the one definition of how dist/ is made.
 *
 * Exits with the build's status when it had to build, 0 otherwise.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');

/** What dist/ is built from: every file under these folders, and these files. */
const INPUT_DIRS = ['src', 'streams'];
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build-page.js'];

/** One output of each build step; a full build rewrites each of them. */
const OUTPUTS = ['dist/src/cli.js', 'dist/src/index.js', 'dist/streams/index.js', 'dist/page/app.js', 'dist/page/index.html'];

/** The newest input: its path and modification time. */
function newestInput() {
  let newest = { path: '', mtimeMs: 0 };
  const consider = (path) => {
    const { mtimeMs } = statSync(path);
    if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
  };
  for (const dir of INPUT_DIRS) {
    // A folder's own time changes when a file in it is deleted or renamed: that needs a build too.
    consider(join(ROOT, dir));
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() || entry.isDirectory()) consider(join(entry.parentPath ?? entry.path, entry.name));
    }
  }
  for (const file of INPUT_FILES) if (existsSync(join(ROOT, file))) consider(join(ROOT, file));
  return newest;
}

/** Why dist/ must be built, or undefined when it is up to date. */
function staleReason() {
  const missing = OUTPUTS.find((out) => !existsSync(join(ROOT, out)));
  if (missing) return `${missing} does not exist`;
  const built = Math.min(...OUTPUTS.map((out) => statSync(join(ROOT, out)).mtimeMs));
  const newest = newestInput();
  return newest.mtimeMs > built ? `${relative(ROOT, newest.path)} changed since the last build` : undefined;
}

function main() {
  const reason = staleReason();
  if (reason === undefined) return 0;
  process.stderr.write(`tickcast: building dist/ (${reason})\n`);
  // Under npm, npm_execpath is the npm that runs us; otherwise the npm on PATH.
  const npm = process.env.npm_execpath;
  const run =
    npm && /\.c?js$/.test(npm)
      ? spawnSync(process.execPath, [npm, 'run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' })
      : spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (run.status !== 0) process.stderr.write('tickcast: the build failed (see above); fix it or run `npm run build` to see it again.\n');
  return run.status ?? 1;
}

if (require.main === module) process.exitCode = main();

module.exports = { staleReason };
