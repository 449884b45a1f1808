# Shared by scripts/glyphic-up and scripts/test: locating the tree, making
# sure packages are installed, building.
# shellcheck shell=bash

GL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# gl_need_packages ALLOW: installs missing packages when ALLOW is 1 (as root,
# or with sudo), otherwise explains what is missing and fails.
gl_need_packages() {
  if "$GL_ROOT/scripts/install-deps" --check >/dev/null 2>&1; then
    return 0
  fi
  if [ "$1" = 1 ] && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1; }; then
    "$GL_ROOT/scripts/install-deps"
    return
  fi
  "$GL_ROOT/scripts/install-deps" --check || true
  echo "run scripts/install-deps (as root), or allow installing (drop --no-install)" >&2
  return 1
}

# gl_build DIR [cmake args...]: configures (once) and builds the tree into DIR.
gl_build() {
  local dir=$1
  shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$GL_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  fi
  cmake --build "$dir" -j "$(nproc)" -- --no-print-directory >/dev/null
}

gl_pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -1)
  [ -n "$d" ] || { echo "PostgreSQL server binaries not found (scripts/install-deps)" >&2; return 1; }
  echo "$d"
}
