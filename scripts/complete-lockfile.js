#!/usr/bin/env node
// Adds to package-lock.json the entries npm itself leaves out: the other platforms' variants of
// optional native packages (e.g. @unrs/resolver-binding-*, pulled in by jest). `npm install` records
// only the variants it could resolve, and `npm ci` then refuses the lockfile with "Missing: … from
// lock file" (npm/cli#4828, #8320). The registry reachable here serves only this platform's
// variants, so each missing entry is filled from the registry's metadata when it has it, and
// otherwise from the napi-rs naming convention (`<name>-<os>-<cpu>[-<abi>]`) — enough for npm to
// see the entry and skip it on every other platform. No download address is recorded, like the rest
// of this lockfile.
//
// Run it whenever `npm install` rewrites the lockfile:  node scripts/complete-lockfile.js
'use strict';
const { execFileSync } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const file = process.argv[2] ?? join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

/** os/cpu/libc from a napi-rs style name such as `binding-linux-arm64-musl` or `binding-win32-x64-msvc`. */
function platformOf(name) {
  const m = /-(android|darwin|freebsd|linux|openharmony|win32|wasm32)-([a-z0-9]+)(?:-([a-z]+))?$/.exec(name);
  if (!m) return undefined;
  const [, os, cpu, abi] = m;
  if (os === 'wasm32') return { cpu: ['wasm32'] };
  const out = { cpu: [cpu], os: [os] };
  if (abi === 'musl') out.libc = ['musl'];
  else if (abi === 'gnu' || abi === 'gnueabihf') out.libc = ['glibc'];
  return out;
}

function registryRecord(name, version) {
  try {
    const meta = JSON.parse(
      execFileSync('npm', ['view', `${name}@${version}`, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    );
    const info = Array.isArray(meta) ? meta[meta.length - 1] : meta;
    const record = { version: info.version, integrity: info.dist.integrity };
    for (const field of ['cpu', 'os', 'libc', 'license', 'engines']) if (info[field] !== undefined) record[field] = info[field];
    return record;
  } catch {
    return undefined;
  }
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const top = `node_modules/${name}`;
    if (packages[top] || packages[`${path ? path + '/' : ''}node_modules/${name}`]) continue;
    const platform = platformOf(name);
    const record = registryRecord(name, version) ?? (platform && /^\d+\.\d+\.\d+/.test(version) ? { version, ...platform } : undefined);
    if (!record) {
      console.error(`cannot complete ${name}@${version}: not in the registry and not a platform package name`);
      process.exitCode = 1;
      continue;
    }
    record.optional = true;
    packages[top] = record;
    added++;
    console.log(`added ${top}@${record.version}${record.integrity ? '' : ' (platform from its name)'}`);
  }
}

if (added > 0) writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(added > 0 ? `package-lock.json: ${added} entries added` : 'package-lock.json is complete');
