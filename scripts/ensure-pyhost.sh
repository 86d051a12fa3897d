#!/usr/bin/env bash
# Makes sure a Python can run the OpenAlgo feed host's tests (contrib/openalgo): pyzmq for the
# control socket and the stand-in adapter's PUB, argon2-cffi for the stand-in's `api_keys` hashes
# (OpenAlgo's own). Idempotent: exits 0 at once when one imports both. Otherwise installs Debian's
# `python3-zmq` and `python3-argon2` for /usr/bin/python3 (see scripts/lib/apt-install.sh).
# Prints the interpreter's path on success; exits 1 with a message saying why when it cannot.
set -euo pipefail
. "$(dirname "$0")/lib/apt-install.sh"

found() { python_with 'import zmq, argon2, sqlite3'; }

if found; then exit 0; fi
apt_install ensure-pyhost found python3-zmq python3-argon2
