#!/usr/bin/env bash
# Makes sure nats-server (with JetStream) is installed, for the NATS integration tests and bench.
# Idempotent: exits 0 at once when it is already there. Otherwise installs the Debian package
# `nats-server` (needs root, or sudo without a password, and the Debian package archive).
# Prints the binary's path on success. Exit 1 with a message saying why when it cannot install.
set -euo pipefail

find_binary() {
  command -v nats-server 2>/dev/null && return 0
  for candidate in /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server; do
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if find_binary; then exit 0; fi

if [ "$(id -u)" = 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "ensure-nats-server: nats-server is not installed and this user cannot install it (not root, no passwordless sudo). Install it with: apt-get install nats-server" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-nats-server: nats-server is not installed and apt-get is not available here. Install nats-server (2.9 or later) and put it on PATH." >&2
  exit 1
fi

# Test files run in parallel: one installer at a time, and the later ones find it done.
exec 9>"${TMPDIR:-/tmp}/tickcast-ensure-nats-server.lock"
flock 9
if find_binary; then exit 0; fi

export DEBIAN_FRONTEND=noninteractive
# apt-get waits for dpkg's lock (another script may be installing something else) instead of failing.
APT=("${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -qq)
{
  "${APT[@]}" update && "${APT[@]}" install -y --no-install-recommends nats-server
} >&2 || {
  echo "ensure-nats-server: apt-get could not install nats-server (see the output above)." >&2
  exit 1
}
find_binary || { echo "ensure-nats-server: nats-server was installed but is not found on PATH or in /usr/sbin." >&2; exit 1; }
