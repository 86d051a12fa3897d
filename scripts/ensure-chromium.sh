#!/usr/bin/env bash
# Makes sure Debian's headless-capable Chromium is at /usr/bin/chromium, for the dashboard's browser
# test (test/integration/browser.test.ts drives it with playwright-core, which downloads no browser).
# Idempotent and fast: exits 0 at once when it is already installed. Otherwise installs the Debian
# package `chromium` (see scripts/lib/apt-install.sh). Prints the binary's path on success; exits 1
# with a message saying what to do when it cannot install.
set -euo pipefail
. "$(dirname "$0")/lib/apt-install.sh"

CHROMIUM=/usr/bin/chromium
found() {
  [ -x "$CHROMIUM" ] && echo "$CHROMIUM"
}

if found; then exit 0; fi
apt_install ensure-chromium found chromium
