# The Linux bridge suites, C and YAML, learning and VLAN filtering, N times in a
# row inside the VM of scripts/vm.sh (a kernel with CONFIG_BRIDGE_VLAN_FILTERING),
# then one run against a misconfigured bridge that must fail, so a pass above
# means the bridge was checked. Stops at the first failure, skip or leftover.
#
# Run: scripts/vm.sh BUILD_DIR tests/vm/bridge.sh [N]      (N defaults to 1)
#
# vm-binaries: pktexpect example_bridge_suite
# vm-files: examples/bridge examples/vlan_bridge.yaml
# vm-modules: llc stp bridge veth

n=${1:-1}
scenarios="examples/bridge/learning.yaml examples/bridge/vlan.yaml examples/vlan_bridge.yaml"
out=/tmp/out.txt

fail() {
  cat "$out"
  echo "bridge.sh: $*"
  exit 1
}

# Interfaces and namespaces of the suites (pxb: bridge suites, pxvlan: vlan_bridge.yaml).
leftovers() {
  { ls /sys/class/net; ls /run/netns; } 2>/dev/null | grep -E '^px(b|vlan)' | tr '\n' ' '
}

# Hundredths of a second since boot.
now() { sed 's/^\([0-9]*\)\.\([0-9]*\).*/\1\2/' /proc/uptime; }

i=1
total=0
while [ "$i" -le "$n" ]; do
  start=$(now)
  ./build/example_bridge_suite > "$out" 2>&1 || fail "iteration $i: example_bridge_suite failed"
  ! grep -q "SKIP" "$out" || fail "iteration $i: example_bridge_suite skipped tests"
  for s in $scenarios; do
    ./build/pktexpect run --no-color --var p=pxb0 "$s" > "$out" 2>&1 || fail "iteration $i: $s failed"
    ! grep -Eq ' [1-9][0-9]* skipped' "$out" || fail "iteration $i: $s skipped tests"
  done
  left=$(leftovers)
  [ -z "$left" ] || fail "iteration $i left behind: $left"
  cs=$(( $(now) - start ))
  total=$(( total + cs ))
  echo "iteration $i/$n: $(( cs * 10 )) ms"
  i=$(( i + 1 ))
done
echo "bridge.sh: mean $(( total * 10 / n )) ms per iteration"

# The trunk loses VLAN 20: exactly the test of VLAN 20 crossing from the trunk
# must fail, the others must still pass.
sed 's/{name: "${p}s3", vlans: \[10, 20\]}/{name: "${p}s3", vlans: [10]}/' examples/bridge/vlan.yaml > /tmp/broken.yaml
! cmp -s examples/bridge/vlan.yaml /tmp/broken.yaml || fail "the misconfiguration did not apply to examples/bridge/vlan.yaml"
if ./build/pktexpect run --no-color --var p=pxb0 /tmp/broken.yaml > "$out" 2>&1; then
  fail "a trunk without VLAN 20 passed examples/bridge/vlan.yaml"
fi
grep -q "FAIL.*VLAN 20 from the trunk leaves the VLAN 20 access port untagged" "$out" ||
  fail "a trunk without VLAN 20 did not fail the VLAN 20 test"
grep -q "4 passed, 1 failed" "$out" || fail "a trunk without VLAN 20 failed more than the VLAN 20 test"
[ -z "$(leftovers)" ] || fail "the failing run left behind: $(leftovers)"
echo "bridge.sh: a trunk without VLAN 20 fails exactly the VLAN 20 test"
echo "vm bridge: $n passed, 0 failed"
