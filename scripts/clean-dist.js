#!/usr/bin/env node
/**
 * Removes the compiled server and stream library before `tsc` writes them again, so a source file
 * that was deleted or moved (src/ingest/zmtp.ts became src/ingest/zmtp/) leaves no stale .js that
 * `require` would still find first. dist/page, dist/examples and dist/bench have builds of their own.
 */
'use strict';
const { rmSync } = require('node:fs');
const { join } = require('node:path');

for (const dir of ['dist/src', 'dist/streams']) rmSync(join(__dirname, '..', dir), { recursive: true, force: true });
