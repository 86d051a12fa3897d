#!/usr/bin/env node
/**
 * Builds what `npm run bench` runs into dist/bench/: every TypeScript file of streams/, src/ and
 * bench/, transpiled file by file with esbuild (layout kept, so `../../src/server` still resolves;
 * no type checking: `npm run typecheck` does that). A private copy, so a rebuild of dist/src by
 * another command during a long benchmark cannot change the code under measurement, and a type
 * error in work in progress elsewhere does not stop a benchmark of code that runs.
 */
'use strict';
const { readdirSync, rmSync } = require('node:fs');
const { join, relative } = require('node:path');
const esbuild = require('esbuild');

const ROOT = join(__dirname, '..', '..');
const OUT = join(ROOT, 'dist', 'bench');
// Browser-only code the proxy never loads in a benchmark.
const SKIP = new Set([join(ROOT, 'src', 'page')]);

function sources(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP.has(path)) out.push(...sources(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      out.push(path);
    }
  }
  return out;
}

rmSync(OUT, { recursive: true, force: true });
const entryPoints = ['streams', 'src', 'bench'].flatMap((d) => sources(join(ROOT, d)));
const result = esbuild.buildSync({
  entryPoints,
  outdir: OUT,
  outbase: ROOT,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // As tsc does for the real build: `await import('./x')` becomes a require. Left as a native
  // import() in CommonJS output, Node resolves it as ESM, which needs the file's extension.
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
});
if (result.errors.length > 0) process.exit(1);
process.stderr.write(`bench build: ${entryPoints.length} files → ${relative(ROOT, OUT)}/\n`);
