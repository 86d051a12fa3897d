# Sourced by scripts/ensure-*.sh: installs Debian packages for a test dependency that is missing.
#
#   apt_install NAME FOUND_CMD PACKAGE...
#
# NAME names the caller in messages; FOUND_CMD is a shell function that prints what was found and
# returns 0 once the dependency is there (checked again under the lock, and after installing).
# Needs root, or sudo without a password, and apt-get with the Debian package archive (CI runs as
# root). One installer at a time per NAME (jest starts test files in parallel), and apt-get waits
# for dpkg's lock instead of failing on it. Exits 1 with a message saying what to do when it cannot.
apt_install() {
  local name=$1 found=$2
  shift 2
  local sudo=()
  if [ "$(id -u)" = 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "$name: missing, and this user cannot install it (not root, no passwordless sudo). Install it with: apt-get install $*" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$name: missing, and apt-get is not available here. Install the equivalent of Debian's $* by hand." >&2
    exit 1
  fi
  exec 9>"${TMPDIR:-/tmp}/tickcast-$name.lock"
  flock 9
  if "$found"; then exit 0; fi
  export DEBIAN_FRONTEND=noninteractive
  local apt=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 -qq)
  {
    "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends "$@"
  } >&2 || {
    echo "$name: apt-get could not install $* (see the output above)." >&2
    exit 1
  }
  "$found" || { echo "$name: $* installed, but still not found where expected." >&2; exit 1; }
}

# Prints the first python3 (Debian's, then the one on PATH) that can run the Python statement $1,
# e.g. `python_with 'import zmq'`; returns 1 when none can. For the FOUND_CMD of the Python ensures.
python_with() {
  local py
  for py in /usr/bin/python3 "$(command -v python3 2>/dev/null || true)"; do
    if [ -n "$py" ] && [ -x "$py" ] && "$py" -c "$1" 2>/dev/null; then echo "$py"; return 0; fi
  done
  return 1
}
