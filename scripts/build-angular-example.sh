#!/usr/bin/env bash
# Builds examples/angular the way a user's own Angular project gets tickcast: from the tarball
# `npm pack` makes of this repository, installed with the app's lockfile, built by `ng build`.
#   1. `npm run build` here when dist/ is older than its sources (scripts/ensure-built.js), then
#      `npm pack` into a fresh folder; the tarball becomes
#      examples/angular/tickcast.tgz (the app's package.json asks for `file:tickcast.tgz`, so the
#      name does not change with the version; it is gitignored);
#   2. `npm ci` in examples/angular: a clean install, the lockfile never rewritten. The lockfile
#      records no integrity for tickcast, so every new tarball is taken as it is;
#   3. `ng build`: the static app in examples/angular/dist/browser/.
# Prints how long the install and the build took ("install: 45.1 s", "build: 19.8 s").
# `--relock` rewrites the app's lockfile first, after a change to the root package's dependencies:
# tickcast's entry is dropped, `npm install --package-lock-only` reads it again from the tarball, and
# its integrity is taken out again.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
APP="$ROOT/examples/angular"
export NG_CLI_ANALYTICS=false

seconds() { node -e 'process.stdout.write((Number(process.argv[2] - process.argv[1]) / 1e9).toFixed(1))' "$1" "$(date +%s%N)"; }

cd "$ROOT"
node scripts/ensure-built.js
pack_dir=$(mktemp -d)
trap 'rm -rf "$pack_dir"' EXIT
npm pack --silent --pack-destination "$pack_dir" >/dev/null
tarballs=("$pack_dir"/*.tgz)
if [ "${#tarballs[@]}" -ne 1 ] || [ ! -f "${tarballs[0]}" ]; then
  echo "build-angular-example: npm pack made no single tarball in $pack_dir" >&2
  exit 1
fi
mv -f "${tarballs[0]}" "$APP/tickcast.tgz"

cd "$APP"
lock() {
  node -e '
    const fs = require("fs");
    const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
    const entry = lock.packages["node_modules/tickcast"];
    if (process.argv[1] === "forget") delete lock.packages["node_modules/tickcast"];
    else if (entry) delete entry.integrity;
    fs.writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");' "$1"
}
if [ "${1:-}" = "--relock" ]; then
  # Without its entry npm reads tickcast's dependencies from the new tarball, not from the old lock.
  lock forget
  npm install --package-lock-only --no-audit --no-fund
  lock strip-integrity
fi

start=$(date +%s%N)
npm ci --no-audit --no-fund
echo "install: $(seconds "$start") s"

start=$(date +%s%N)
npx ng build
echo "build: $(seconds "$start") s"
