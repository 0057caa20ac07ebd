#!/usr/bin/env bash
# Runs every test of pktexpect: the normal build (gcc, -Werror) with all tests,
# unit tests under ASan+UBSan, threading tests under TSan, bounded libFuzzer runs.
# Net tests need root: under CI they fail without it, elsewhere they skip.
#
# Environment: PX_FUZZ_SECONDS (default 30 per fuzz target), PX_JOBS (default 2),
#              PX_TEST_QUICK=1 (normal build only).
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=${PX_JOBS:-2}
fuzz_seconds=${PX_FUZZ_SECONDS:-30}
passed=0
failed=0
failures=()

step() { printf '\n==== %s ====\n' "$*"; }
record() { # name, status
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

configure_build() { # dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir.configure.log" 2>&1 &&
    cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1
  local rc=$?
  if [ $rc -ne 0 ]; then
    tail -n 40 "$dir.configure.log" "$dir.build.log" 2>/dev/null
  fi
  return $rc
}

run_ctest() { # dir, label regex (empty: all), name
  local dir=$1 label=$2 name=$3
  local args=(--test-dir "$dir" --output-on-failure --no-tests=error)
  [ -n "$label" ] && args+=(-L "$label")
  ctest "${args[@]}"
  record "$name" $?
}

mkdir -p build-test
step "build (gcc, -Werror)"
configure_build build-test/default -DCMAKE_C_COMPILER=gcc
record "build default" $?
step "all tests (unit, net, examples)"
run_ctest build-test/default "" "ctest default"

# The switch suites must pass many times in a row (no flakes): 20 in CI, or
# PX_SOAK=N; off CI without PX_SOAK the single run above is enough.
soak=${PX_SOAK:-}
if [ -z "$soak" ] && [ -n "${CI:-}" ] && [ "${CI}" != 0 ] && [ "${CI}" != false ]; then soak=20; fi
if [ -n "$soak" ] && [ "$soak" != 0 ]; then
  step "switch suites, $soak times in a row"
  scripts/switch-soak.sh build-test/default "$soak"
  record "switch soak x$soak" $?
  # The Linux bridge suites again, in a VM booting Debian's kernel: it has bridge
  # VLAN filtering, which the host's kernel may lack (its VLAN tests then skip).
  step "Linux bridge suites in a VM with Debian's kernel, $soak times in a row"
  PX_VM_TIMEOUT=$((300 + 60 * soak)) scripts/vm.sh build-test/default tests/vm/bridge.sh "$soak"
  record "vm bridge x$soak" $?
fi

step "install (cmake --install) and build the quickstart against the installed library"
prefix=$(mktemp -d)
if cmake --install build-test/default --prefix "$prefix" >/dev/null &&
   PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
     sh -c 'cc -std=c11 -Wall -Wextra -Werror -o "$1/quickstart" examples/quickstart.c \
            $(pkg-config --cflags --libs pktexpect-topology pktexpect cmocka) && LD_LIBRARY_PATH="$1/lib" "$1/quickstart"' _ "$prefix"; then
  echo "installed headers, libraries and pktexpect.pc build and run the quickstart"
  record "install (pkg-config)" 0
else
  record "install (pkg-config)" 1
fi
# The same with CMake's find_package(pktexpect) and the exported targets.
consumer="$prefix/consumer"
mkdir -p "$consumer" && cp examples/quickstart.c "$consumer/" &&
  cat > "$consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(quickstart C)
find_package(pktexpect 0.1 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
add_executable(quickstart quickstart.c)
target_compile_options(quickstart PRIVATE -std=c11 -Wall -Wextra -Werror)
target_link_libraries(quickstart PRIVATE pktexpect::topology pktexpect::pktexpect PkgConfig::CMOCKA)
CMAKE
if cmake -S "$consumer" -B "$consumer/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null &&
   cmake --build "$consumer/build" >/dev/null && LD_LIBRARY_PATH="$prefix/lib" "$consumer/build/quickstart"; then
  echo "find_package(pktexpect) builds and runs the quickstart"
  record "install (find_package)" 0
else
  record "install (find_package)" 1
fi
rm -rf "$prefix"

# The README's first command, exactly as written, twice: the second run must
# only run the demo (no configure, no build output), and both must pass.
step "the README's first command: make demo, twice"
if [ "$(id -u)" -ne 0 ]; then
  if [ -n "${CI:-}" ] && [ "${CI}" != 0 ] && [ "${CI}" != false ]; then
    echo "make demo needs root (veth, namespaces): CI runs as root"
    record "make demo" 1
  else
    echo "SKIP: make demo needs root (veth, namespaces); run the tests as root to include it"
  fi
else
  demo_ok=0
  for round in 1 2; do
    out=$(make --no-print-directory demo 2>&1)
    rc=$?
    printf '%s\n' "$out" | sed "s/^/  [round $round] /"
    if [ $rc -ne 0 ] || ! printf '%s\n' "$out" | grep -q '^3 tests: 3 passed, 0 failed'; then
      echo "make demo (round $round) failed: exit $rc"
      demo_ok=1
    fi
    if [ $round = 2 ] && printf '%s\n' "$out" | grep -Eqv '^\[[0-9]+/3\] PASS |^3 tests: '; then
      echo "make demo printed more than the demo's report on a rerun with nothing to build"
      demo_ok=1
    fi
  done
  record "make demo" $demo_ok
fi

if [ "${PX_TEST_QUICK:-0}" != 1 ]; then
  step "build ASan+UBSan (clang)"
  configure_build build-test/asan -DCMAKE_C_COMPILER=clang -DPX_SANITIZE=address,undefined -DPX_BENCH=OFF
  record "build asan" $?
  step "unit tests and the core net tests under ASan+UBSan (leaks included)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_ctest build-test/asan "^unit$" "ctest asan unit"
  ctest --test-dir build-test/asan --output-on-failure -R '^net/test_(core|engine|engine_park|thread_ports|capture_fidelity|send|pred_veth|topology|runner|verify)$'
  record "ctest asan net" $?
  unset ASAN_OPTIONS UBSAN_OPTIONS

  step "build TSan (clang)"
  configure_build build-test/tsan -DCMAKE_C_COMPILER=clang -DPX_SANITIZE=thread -DPX_BENCH=OFF
  record "build tsan" $?
  step "threading tests under TSan"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:die_after_fork=0 run_ctest build-test/tsan "^thread$" "ctest tsan"

  step "fuzz targets (libFuzzer + ASan, ${fuzz_seconds}s each)"
  configure_build build-test/fuzz -DCMAKE_C_COMPILER=clang -DPX_FUZZ=ON -DPX_SANITIZE=address,undefined -DPX_BENCH=OFF
  record "build fuzz" $?
  for src in tests/fuzz/fuzz_*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .c)
    corpus=tests/fuzz/corpus/${name#fuzz_}
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
    echo "-- $name"
    ASAN_OPTIONS=detect_leaks=1 build-test/fuzz/"$name" -max_total_time="$fuzz_seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 "$work" 2>&1 | tail -n 12
    record "$name" "${PIPESTATUS[0]}"
    rm -rf "$work"
  done
fi

echo
if [ $failed -gt 0 ]; then
  printf 'failed step: %s\n' "${failures[@]}"
fi
echo "pktexpect: $passed passed, $failed failed"
[ $failed -eq 0 ]
