#!/usr/bin/env bash
# Makes sure Debian's headless-capable Chromium is at /usr/bin/chromium, for the dashboard's browser
# test (test/integration/browser.test.ts drives it with playwright-core, which downloads no browser).
# Idempotent and fast: exits 0 at once when it is already installed. Otherwise runs
# `apt-get update` then `apt-get install -y chromium` (needs root, or sudo without a password, and
# the Debian package archive; CI runs as root). Prints the binary's path on success; exits 1 with a
# message saying what to do when it cannot install.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then echo "$CHROMIUM"; exit 0; fi

if [ "$(id -u)" = 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "ensure-chromium: $CHROMIUM is missing and this user cannot install it (not root, no passwordless sudo). Install it with: apt-get install chromium" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available here. Install Chromium so that $CHROMIUM runs it." >&2
  exit 1
fi

# Jest may start this from several workers, and other scripts may be running apt-get: one installer
# at a time here, and apt-get itself waits for dpkg's lock instead of failing on it.
exec 9>"${TMPDIR:-/tmp}/tickcast-ensure-chromium.lock"
flock 9
if [ -x "$CHROMIUM" ]; then echo "$CHROMIUM"; exit 0; fi

export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -qq)
{
  "${APT[@]}" update && "${APT[@]}" install -y chromium
} >&2 || {
  echo "ensure-chromium: apt-get could not install chromium (see the output above)." >&2
  exit 1
}
[ -x "$CHROMIUM" ] || { echo "ensure-chromium: the chromium package was installed but $CHROMIUM is not there." >&2; exit 1; }
echo "$CHROMIUM"
