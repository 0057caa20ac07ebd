#!/usr/bin/env bash
# Runs every benchmark of bench/ (what `make bench` runs) and leaves the figures in
# bench/results/*.json, a summary in bench/results/latest.md, the issue's targets
# met or not in bench/results/targets.md, the machine in
# bench/results/machine.txt and the plots bench/*.svg.
#
# Usage: scripts/bench.sh BUILD_DIR [--quick]
#   --quick   one short run of each, to check that everything works: its figures
#             and plots go to BUILD_DIR/bench-quick, not into bench/
#
# Needs root: every benchmark creates its own veth pairs ("pxk<pid><a|b><n>") and
# removes them; this script also removes the leftovers of a benchmark that was
# killed. Needs tcpdump, trafgen (netsniff-ng), tcpreplay, python3-scapy and gnuplot
# (scripts/deps.sh bench).
# Takes about 17 minutes on a 2-core machine (11 of them the ring layouts:
# PX_BENCH_RINGS="" skips those); run it on an otherwise idle machine.
set -euo pipefail

usage() { echo "usage: scripts/bench.sh BUILD_DIR [--quick]" >&2; exit 2; }
[ $# -ge 1 ] || usage
build=$(cd "$1" && pwd)
shift
quick=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    *) usage ;;
  esac
done

src=$(cd "$(dirname "$0")/.." && pwd)
# PX_BENCH_RESULTS set: figures and plots go there instead (e.g. a trial run).
results="${PX_BENCH_RESULTS:-$src/bench/results}"
plots="$src/bench"
[ -z "${PX_BENCH_RESULTS:-}" ] || plots="$results"
if [ ${#quick[@]} -gt 0 ]; then
  results="$build/bench-quick"
  plots="$results"
fi
mkdir -p "$results"

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/bench.sh: the benchmarks need root (veth pairs, raw sockets): run it with sudo" >&2
  exit 1
fi

# The Python that has scapy (Debian's python3-scapy is for the system python3).
PX_PYTHON=""
for py in python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import scapy.all' >/dev/null 2>&1; then
    PX_PYTHON=$(command -v "$py"); break
  fi
done
if [ -z "$PX_PYTHON" ]; then
  echo "scripts/bench.sh: no python3 with scapy (install python3-scapy: scripts/deps.sh bench)" >&2
  exit 1
fi
export PX_PYTHON PX_BENCH_DIR="$src/bench" PX_BENCH_RESULTS="$results"

# Removes the veth pairs of benchmark processes that no longer run.
remove_stale_links() {
  local name id
  for name in $(ip -o link show 2>/dev/null | sed -n 's/^[0-9]*: \(pxk[0-9]\{5\}[ab][0-9]*\)[@:].*/\1/p'); do
    id=${name:3:5}
    if ! kill -0 "$((10#$id))" 2>/dev/null; then
      ip link del "$name" 2>/dev/null || true
    fi
  done
}
trap remove_stale_links EXIT
remove_stale_links

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "kernel: $(uname -sr)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "uptime before: $(uptime)"
  echo "busiest processes before (top -bn1):"
  top -bn1 2>/dev/null | sed -n '7,12p' | sed 's/^/  /' || true
  echo "tcpdump: $(tcpdump --version 2>&1 | head -1)"
  echo "libpcap: $(tcpdump --version 2>&1 | sed -n 's/^libpcap version //p' | head -1)"
  echo "scapy: $("$PX_PYTHON" -c 'import scapy; print(scapy.VERSION)' 2>/dev/null)"
  echo "python: $("$PX_PYTHON" --version 2>&1)"
  echo "command: scripts/bench.sh BUILD_DIR ${quick[*]:-}"
} >"$results/machine.txt"
cat "$results/machine.txt"

status=0
run_bench() { # name args...
  local name=$1; shift
  local exe="$build/bench/$name"
  if [ ! -x "$exe" ]; then
    echo "scripts/bench.sh: $exe not built: skipped" >&2
    return
  fi
  echo
  echo "### $name $*"
  local t0=$SECONDS rc=0
  "$exe" "$@" || rc=$?
  remove_stale_links
  echo "($name: exit $rc, $((SECONDS - t0)) s)"
  [ "$rc" -eq 0 ] || status=1
}

# Ours, then every other bench_* executable (bench_frames, bench_send, ...).
ours=(bench_capture bench_latency bench_negative bench_scale)
for b in "${ours[@]}"; do run_bench "$b" "${quick[@]}"; done
# Ring layouts against the default, back to back in every repetition
# (bench/README.md, "Ring options"); PX_BENCH_RINGS="" skips them.
rings=${PX_BENCH_RINGS-v2:prefetch=none,v2:prefetch=data,v2:slot=snaplen,v2:slot=256,v3:tov=1,v3:tov=1:block=64}
if [ -n "$rings" ]; then
  run_bench bench_capture --ring "$rings" --mix-k 16 --indexed-k 16 --no-scapy --no-none "${quick[@]}"
  run_bench bench_latency --ring "$rings" --no-scapy "${quick[@]}"
fi
for exe in "$build"/bench/bench_*; do
  [ -x "$exe" ] && [ -f "$exe" ] || continue
  name=$(basename "$exe")
  case " ${ours[*]} " in *" $name "*) continue ;; esac
  out="$results/$name.txt"
  marker="$results/.started-$name"
  touch "$marker"
  echo
  echo "### $name"
  t0=$SECONDS; rc=0
  "$exe" | tee "$out" || rc=$?
  remove_stale_links
  echo "($name: exit $rc, $((SECONDS - t0)) s)"
  [ "$rc" -eq 0 ] || status=1
  # A benchmark that printed its JSON lines instead of writing results/*.json:
  # keep them in results/<name>.json.
  if [ -z "$(find "$results" -maxdepth 1 -name '*.json' -newer "$marker")" ] && grep -q '^{' "$out"; then
    grep '^{' "$out" >>"$results/$name.json"
  fi
  rm -f "$marker"
done

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results/machine.txt"
echo "uptime after: $(uptime)" >>"$results/machine.txt"
"$PX_PYTHON" "$src/bench/summarize.py" "$results" >"$results/latest.md"
"$PX_PYTHON" "$src/bench/summarize.py" --targets "$results" >"$results/targets.md"
[ -z "$rings" ] || "$PX_PYTHON" "$src/bench/summarize.py" --rings "$results" >"$results/rings.md"
echo
cat "$results/targets.md"
if command -v gnuplot >/dev/null 2>&1; then
  gnuplot -e "results='$results'; out='$plots'" "$src/bench/plots.gp"
else
  echo "scripts/bench.sh: gnuplot missing: no plots (scripts/deps.sh bench)" >&2
  status=1
fi
echo
echo "figures: $results/latest.md; plots: $plots/latency_cdf.svg, $plots/capture_sweep.svg"
exit $status
