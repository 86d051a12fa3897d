#!/usr/bin/env bash
# Makes sure a Python with pyzmq is there, for the interop test against the publisher OpenAlgo's
# adapters use (pyzmq over its own libzmq build). Idempotent: exits 0 at once when one imports zmq.
# Otherwise installs Debian's `python3-zmq` for /usr/bin/python3 (see scripts/lib/apt-install.sh).
# Prints the interpreter's path on success; exits 1 with a message saying why when it cannot.
set -euo pipefail
. "$(dirname "$0")/lib/apt-install.sh"

found() { python_with 'import zmq'; }

if found; then exit 0; fi
apt_install ensure-pyzmq found python3-zmq
