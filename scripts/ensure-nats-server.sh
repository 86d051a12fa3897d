#!/usr/bin/env bash
# Makes sure nats-server (with JetStream) is installed, for the NATS integration tests and bench.
# Idempotent: exits 0 at once when it is already there. Otherwise installs the Debian package
# `nats-server` (see scripts/lib/apt-install.sh). Prints the binary's path on success; exits 1 with a
# message saying why when it cannot install.
set -euo pipefail
. "$(dirname "$0")/lib/apt-install.sh"

find_binary() {
  command -v nats-server 2>/dev/null && return 0
  for candidate in /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server; do
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if find_binary; then exit 0; fi
apt_install ensure-nats-server find_binary nats-server
