# The core and runner net tests on a second kernel: Debian's, in the VM of scripts/vm.sh.
# The host runs them on its own kernel; this catches what depends on the kernel's
# version or configuration (ring options, offloads, netlink attributes, timestamps).
# Fails on any failure, and on any skip but the one allowed below.
#
# Run: scripts/vm.sh BUILD_DIR tests/vm/core.sh
#
# vm-binaries: net_test_core net_test_topology net_test_pred_veth net_test_send net_test_thread_stress net_test_runner example_quickstart pktexpect
# vm-files: examples/quickstart.c examples/demo.yaml tests/data/scenarios
# vm-modules: llc stp bridge veth
# vm-tools: ip bridge xmllint cat
# (coreutils' cat: busybox's, run by `ip netns exec` under popen, made the shell
# exit 141, SIGPIPE, in 6 of 15 runs of test_topology; coreutils' cat in 0 of 15)

# Reads its pcapng evidence back with tshark, which the VM does not carry.
allowed_skip="test_evidence_of_sent_frames"

now() { sed 's/^\([0-9]*\)\.\([0-9]*\).*/\1\2/' /proc/uptime; }

failed=0
for t in net_test_core net_test_topology net_test_pred_veth net_test_send net_test_thread_stress net_test_runner example_quickstart; do
  start=$(now)
  if ./build/$t > /tmp/out.txt 2>&1; then r=ok; else r=FAILED; failed=$((failed + 1)); fi
  skipped=$(sed -n 's/^\[  SKIPPED \] \(test_[a-z0-9_]*\)$/\1/p' /tmp/out.txt | sort -u | grep -v -x "$allowed_skip")
  if [ -n "$skipped" ]; then r="FAILED (skipped: $skipped)"; failed=$((failed + 1)); fi
  [ "$r" = ok ] || cat /tmp/out.txt
  echo "$t: $r ($(( ($(now) - start) * 10 )) ms)"
done
echo "vm core: $failed failed"
[ "$failed" -eq 0 ]
