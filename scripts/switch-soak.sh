#!/usr/bin/env bash
# Runs the switch suites (Linux bridge and Open vSwitch, in C and in YAML) N times
# in a row and stops at the first failure or the first leftover (an interface of
# the suites' prefixes, a namespace, or an OVS instance of theirs, still there
# after a run).
#
# Usage: scripts/switch-soak.sh [BUILD_DIR] [N]     (as root; defaults: build, 20)
# Prints the time of every iteration and the mean; exits 0 only when all N passed.
#
# What runs per iteration (the same binaries ctest runs):
#   BUILD_DIR/example_bridge_suite      Linux bridge, C (cmocka)
#   BUILD_DIR/example_ovs_pipeline      Open vSwitch pipeline, C (cmocka)
#   BUILD_DIR/net_test_switch_suites    the YAML scenarios through `pktexpect run`
set -euo pipefail

src="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$src/build}"
n="${2:-20}"
build="$(cd "$build" && pwd)"

case "$n" in '' | *[!0-9]*) echo "switch-soak.sh: N must be a number, got '$n'" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "switch-soak.sh: needs root (veth pairs, raw sockets)" >&2; exit 2; }

suites=()
for s in example_bridge_suite example_ovs_pipeline net_test_switch_suites; do
  if [ -x "$build/$s" ]; then suites+=("$s"); else echo "switch-soak.sh: $build/$s not built, left out" >&2; fi
done
[ ${#suites[@]} -gt 0 ] || { echo "switch-soak.sh: nothing to run in $build" >&2; exit 2; }

export PX_SOURCE_DIR="$src" PX_BUILD_DIR="$build"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# Interfaces and namespaces of the suites' prefixes (pxo: OVS, pxb: bridge) and
# OVS instances.
leftovers() {
  local l
  l="$(ls /sys/class/net | grep -E '^px[ob][0-9]{5}' || true)"
  [ -z "$l" ] || echo "interfaces: $l"
  l="$(ls /run/netns 2>/dev/null | grep -E '^px[ob][0-9]{5}' || true)"
  [ -z "$l" ] || echo "namespaces: $l"
  l="$(ls -d "${TMPDIR:-/tmp}"/pktexpect-ovs.px[ob]* 2>/dev/null || true)"
  [ -z "$l" ] || echo "OVS run directories: $l"
}

before="$(leftovers)"
[ -z "$before" ] || echo "switch-soak.sh: already present before the first run (not counted): $before" >&2

total=0
for i in $(seq 1 "$n"); do
  start=$(date +%s%N)
  for s in "${suites[@]}"; do
    if ! "$build/$s" > "$log" 2>&1; then
      cat "$log"
      echo "switch-soak.sh: iteration $i: $s FAILED" >&2
      exit 1
    fi
    if [ "$i" -eq 1 ] && grep -q "SKIPPED" "$log"; then
      echo "switch-soak.sh: iteration $i: $s skipped some tests:" >&2
      grep "SKIP" "$log" | sort -u >&2
    fi
  done
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  total=$(( total + ms ))
  left="$(leftovers)"
  if [ -n "$left" ] && [ "$left" != "$before" ]; then
    echo "switch-soak.sh: iteration $i left something behind: $left" >&2
    exit 1
  fi
  echo "iteration $i/$n: ${ms} ms (${suites[*]})"
done
echo "switch-soak.sh: mean $(( total / n )) ms per iteration, total $(( total / 1000 )) s"
echo "soak: $n passed, 0 failed"
