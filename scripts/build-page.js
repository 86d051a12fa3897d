#!/usr/bin/env node
/**
 * Builds the demo dashboard into dist/page/ (the second half of `npm run build`, after tsc):
 * - app.js: src/page/main.ts and what it imports (tickcast/client, rxjs), bundled for the browser
 *   by esbuild as one minified script;
 * - index.html: src/page/index.html with src/page/style.css inlined in place of its stylesheet link,
 *   so the page needs exactly two requests and nothing from outside the proxy.
 * `node scripts/build-page.js DIR` builds into DIR instead (tests). Each file is written whole and
 * renamed into place, so a proxy that reads the page while another build runs never reads half.
 * The proxy serves both (src/dashboard.ts). Exits non-zero with esbuild's messages on any error.
 *
 * esbuild runs through buildSync with worker threads off, so its binary runs as a child that this
 * process waits for and reaps before it goes on. The asynchronous API keeps a long-lived esbuild
 * child that it neither waits for nor reaps when node exits: the orphan is handed to PID 1, and
 * where PID 1 does not reap (a container's init, a session runner) a defunct `esbuild` stays in the
 * process table for as long as the demo that `npm start` launches after this build runs.
 */
'use strict';
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

// Read by esbuild when it loads: without it buildSync runs in a worker thread that owns an
// asynchronous, unreaped service child again.
process.env.ESBUILD_WORKER_THREADS = '0';
const esbuild = require('esbuild');

const ROOT = join(__dirname, '..');
const SRC = join(ROOT, 'src', 'page');
const OUT = process.argv[2] ? resolve(process.argv[2]) : join(ROOT, 'dist', 'page');
const STYLESHEET_LINK = '<link rel="stylesheet" href="style.css">';

/** Writes `file` in OUT through a temporary name and a rename. */
function writeWhole(file, contents) {
  const tmp = join(OUT, `.${file}.${process.pid}.tmp`);
  writeFileSync(tmp, contents);
  renameSync(tmp, join(OUT, file));
}

function main() {
  mkdirSync(OUT, { recursive: true });
  const result = esbuild.buildSync({
    entryPoints: [join(SRC, 'main.ts')],
    outfile: join(OUT, 'app.js'),
    write: false,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2020'],
    minify: true,
    // The bundled libraries' licence notices (Lightweight Charts' Apache-2.0 header) stay, at the end.
    legalComments: 'eof',
    logLevel: 'warning',
  });
  for (const output of result.outputFiles) writeWhole('app.js', output.contents);

  const html = readFileSync(join(SRC, 'index.html'), 'utf8');
  if (!html.includes(STYLESHEET_LINK)) {
    throw new Error(`src/page/index.html must link its stylesheet as ${STYLESHEET_LINK} (the build inlines it there)`);
  }
  const css = readFileSync(join(SRC, 'style.css'), 'utf8').trim();
  // A function replacement: CSS may contain `$&` and friends, which a string replacement expands.
  writeWhole(
    'index.html',
    html.replace(STYLESHEET_LINK, () => `<style>\n${css}\n</style>`),
  );
}

try {
  main();
} catch (err) {
  // esbuild has printed its diagnostics already; anything else gets its message here.
  if (!err || !err.errors) console.error(`build-page: ${err && err.message ? err.message : err}`);
  process.exit(1);
}
