#!/usr/bin/env bash
# Installs the Debian packages pktexpect needs, only those that are missing.
# Usage: scripts/deps.sh [build] [test] [bench] [ovs] [vm]   (default: build test)
set -euo pipefail

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build test)

want=()
for g in "${groups[@]}"; do
  case "$g" in
    build) want+=(gcc make cmake pkg-config libpcap-dev libyaml-dev libmnl-dev libnanomsg-dev libcmocka-dev libjansson-dev
                  iproute2) ;;
    # clang + compiler-rt for the sanitizer builds and libFuzzer; tshark is the dissector
    # oracle; xmllint reads JUnit reports back; openvswitch for the switch suites;
    # libnng-dev for unit/test_bmv2_nng (the BMv2 stand-in on nng, as BMv2 is built);
    # qemu, busybox and cpio for the VM jobs (scripts/vm.sh); ethtool turns the veth
    # offloads off for a software switch that reads its ports with libpcap (docs/p4.md).
    test) want+=(clang libclang-rt-dev tshark libxml2-utils valgrind openvswitch-switch tcpdump libnng-dev
                 qemu-system-x86 busybox-static cpio ethtool) ;;
    bench) want+=(tcpdump python3-scapy gnuplot-nox tcpreplay netsniff-ng) ;;
    ovs) want+=(openvswitch-switch) ;;
    vm) want+=(qemu-system-x86 busybox-static cpio) ;;
    *) echo "deps.sh: unknown group '$g' (build, test, bench, ovs, vm)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  # Any busybox will do for the VM's initramfs; do not swap a dynamic one out.
  [ "$p" = busybox-static ] && command -v busybox >/dev/null 2>&1 && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "deps.sh: missing packages: ${missing[*]}; run as root or install them." >&2; exit 1
  fi
else SUDO=""; fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
# Package scripts must not start system services (openvswitch-switch would try,
# and fail without systemd): tests start their own private instances.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
trap '[ $made_policy = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
