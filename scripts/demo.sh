#!/usr/bin/env bash
# The main job on its built-in demo topology: the scenario runner on
# examples/demo.yaml (a Linux bridge with three veth ports in a private network
# namespace: flooding, learning and a negative case). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if [ "$(id -u)" -ne 0 ]; then
  echo "make demo: the demo creates a network namespace, a bridge and veth pairs: run it as root (sudo make demo)" >&2
  exit 3
fi
if [ -x "$build/pktexpect" ] && [ -f examples/demo.yaml ]; then
  exec "$build/pktexpect" run examples/demo.yaml
fi
# Without the runner: the quickstart C suite on a veth pair it creates.
exec "$build/example_quickstart"
