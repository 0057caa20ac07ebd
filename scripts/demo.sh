#!/usr/bin/env bash
# The main job on its built-in demo topology: the scenario runner on
# examples/demo.yaml (a Linux bridge with three veth ports in a private network
# namespace: flooding, learning and a negative case). Needs root.
#
# Builds only what the demo runs (the pktexpect program), quietly: the
# dependency check and CMake's configure step run only when the build
# directory is not configured yet (afterwards the build re-runs configure by
# itself when a CMakeLists.txt changes), and the compiler's output is shown
# only when the build fails. A rerun with nothing to rebuild takes about a
# second before the demo starts.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ ! -f "$build/CMakeCache.txt" ]; then
  # A build directory not configured yet (a fresh clone, a fresh machine):
  # install what is missing first. A configured one had it all already.
  scripts/deps.sh build
  echo "make demo: configuring $build/"
  if ! cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$log" 2>&1; then
    cat "$log" >&2
    echo "make demo: cmake could not configure $build/ (output above)" >&2
    exit 1
  fi
fi
# Nothing newer than the program among the sources, headers and build files
# (a directory's time changes when a file is added or removed): up to date,
# without asking the build system, whose no-op check alone costs a second or
# more of make and cmake processes on a busy machine.
stale=yes
if [ -x "$build/pktexpect" ] && [ "$build/pktexpect" -nt "$build/CMakeCache.txt" ] &&
   [ -z "$(find CMakeLists.txt harness predicates runner include -newer "$build/pktexpect" -print -quit)" ]; then
  stale=no
fi
if [ $stale = yes ]; then
  # --no-print-directory: make's "Entering directory" lines when the Makefile
  # generator is used under `make demo`.
  gen_args=()
  grep -q '^CMAKE_GENERATOR:INTERNAL=Unix Makefiles' "$build/CMakeCache.txt" && gen_args=(-- --no-print-directory)
  if ! cmake --build "$build" --target pktexpect -j2 "${gen_args[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    echo "make demo: the build failed (output above)" >&2
    exit 1
  fi
  touch "$build/pktexpect" # up to date now, even when nothing needed relinking
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "make demo: the demo creates a network namespace, a bridge and veth pairs: run it as root (sudo make demo)" >&2
  exit 3
fi
exec "$build/pktexpect" run examples/demo.yaml
