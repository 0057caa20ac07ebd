#!/usr/bin/env bash
# Runs a job of pktexpect's tests inside a throwaway virtual machine that boots
# Debian's own kernel under qemu: for kernel features the host's kernel lacks
# (Linux bridge VLAN filtering, first), and to run the suites on a second kernel.
# The VM has its own network stack and runs the job as root, so the host needs no
# root and none of the job's interfaces ever exist on the host.
#
# Usage: scripts/vm.sh BUILD_DIR JOB [ARGS...]
#   JOB   a POSIX sh script (tests/vm/*.sh, run by busybox sh) whose header names
#         what it needs, one list per line:
#           # vm-binaries: pktexpect example_bridge_suite   (executables of BUILD_DIR)
#           # vm-files: examples/bridge                     (files or folders of the source tree)
#           # vm-modules: llc stp bridge veth               (kernel modules, in load order)
#           # vm-tools: ip bridge                           (host commands, found in PATH)
#         Inside the VM it runs (by dash, as /bin/sh) in the copy of the source
#         tree, with the binaries in ./build, the tools in /usr/bin ahead of
#         busybox's /bin in PATH, and CI passed through from the host.
#   ARGS  words passed to the job.
# Prints the VM's console; exits with the job's status, 2 when the VM could not be
# set up, 124 when it did not finish within PX_VM_TIMEOUT, 77 (skip) when qemu,
# busybox or cpio is missing and CI is not set (under CI that is a failure).
#
# Environment:
#   PX_VM_KERNEL_DEB  a Debian linux-image .deb to boot (default: the one that
#                     linux-image-cloud-amd64 names, fetched with apt-get download)
#   PX_VM_CACHE       where the kernel package is kept (default BUILD_DIR/vm)
#   PX_VM_TIMEOUT     seconds before the VM is stopped (default 600)
#   PX_VM_MEMORY      MiB of memory (default 2048)
# Needs qemu-system-x86, busybox-static and cpio (scripts/deps.sh vm); amd64 only.
set -euo pipefail

die() { echo "vm.sh: $*" >&2; exit 2; }

[ $# -ge 2 ] || die "usage: scripts/vm.sh BUILD_DIR JOB [ARGS...]"
src="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "$1" 2>/dev/null && pwd)" || die "no build directory '$1'"
job="$2"
shift 2
[ -f "$job" ] || die "no job script '$job'"
cache="${PX_VM_CACHE:-$build/vm}"
timeout_s="${PX_VM_TIMEOUT:-600}"
memory="${PX_VM_MEMORY:-2048}"

[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] || die "only amd64 hosts are supported (qemu-system-x86_64 with Debian's amd64 kernel)"
for tool in qemu-system-x86_64 busybox cpio dash; do
  if ! command -v "$tool" >/dev/null; then
    case "${CI:-}" in
      '' | 0 | false) echo "SKIP: vm.sh: $tool is not installed (scripts/deps.sh vm installs it)" >&2; exit 77 ;;
      *) die "$tool is not installed (scripts/deps.sh vm) and CI is set" ;;
    esac
  fi
done

# ---- the kernel: a Debian linux-image package, unpacked (never installed) ----
mkdir -p "$cache"
deb="${PX_VM_KERNEL_DEB:-}"
if [ -z "$deb" ]; then
  pkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')"
  [ -n "$pkg" ] || die "apt does not know linux-image-cloud-amd64 (run apt-get update)"
  deb="$(ls "$cache/${pkg}"_*.deb 2>/dev/null | head -n 1 || true)"
  if [ -z "$deb" ]; then
    echo "vm.sh: fetching $pkg"
    sandbox=()
    [ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
    (cd "$cache" && apt-get -q "${sandbox[@]}" download "$pkg" >/dev/null) || die "apt-get download $pkg failed (an outdated package list? apt-get update)"
    deb="$(ls "$cache/${pkg}"_*.deb | head -n 1)"
  fi
fi
[ -f "$deb" ] || die "no kernel package '$deb'"
kdir="$cache/$(basename "$deb" .deb)"
if [ ! -e "$kdir/.unpacked" ]; then
  rm -rf "$kdir"
  dpkg-deb -x "$deb" "$kdir" || die "cannot unpack $deb"
  touch "$kdir/.unpacked"
fi
vmlinuz="$(ls "$kdir"/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)"
[ -n "$vmlinuz" ] || die "$deb holds no boot/vmlinuz-*"
kver="${vmlinuz##*/vmlinuz-}"

# ---- the job's needs, from its header ----
header() { sed -n "s/^# vm-$1:[[:space:]]*//p" "$job" | tr '\n' ' '; }
binaries="$(header binaries)"
files="$(header files)"
modules="$(header modules)"
tools="$(header tools)"

# ---- the initramfs: busybox, the binaries with their shared libraries, the files ----
root="$(mktemp -d)"
log="$(mktemp)"
trap 'rm -rf "$root" "$log"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,root,px/build,px/tests/vm,modules}

# Copies an executable and every shared library it loads, at the same paths.
copy_with_libs() { # file, destination inside the root
  install -D -m 0755 "$1" "$root/$2"
  local lib
  for lib in $(ldd "$1" 2>/dev/null | awk '/=> \// {print $3} /^[[:space:]]*\/[^ ]*ld-linux/ {print $1}'); do
    [ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
    # The project's own shared libraries are found through the binaries' RUNPATH,
    # the build directory: the VM mounts a tmpfs on /tmp, which would hide a build
    # directory under it. /lib is searched after the RUNPATH, in any case.
    case "$lib" in
      /lib/*|/usr/*) ;;
      *) [ -e "$root/lib/$(basename "$lib")" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root/lib/$(basename "$lib")" ;;
    esac
  done
}
copy_with_libs "$(command -v busybox)" /bin/busybox
# /bin/sh is dash, not busybox: busybox's shell runs its own applets ahead of PATH,
# so a test's popen("ip ...") would get busybox's ip instead of a vm-tools one.
copy_with_libs "$(command -v dash)" /bin/sh
for b in $binaries; do
  [ -x "$build/$b" ] || die "$build/$b is not built"
  copy_with_libs "$build/$b" "/px/build/$b"
done
for t in $tools; do
  path="$(command -v "$t" || true)"
  [ -n "$path" ] || die "the job needs the command $t, which is not installed"
  copy_with_libs "$path" "/usr/bin/$t"
done
for f in $files; do
  [ -e "$src/$f" ] || die "the job needs $f, which is not in the source tree"
  mkdir -p "$root/px/$(dirname "$f")"
  cp -a "$src/$f" "$root/px/$(dirname "$f")/"
done
cp "$job" "$root/px/tests/vm/job.sh"
for m in $modules; do
  ko="$(find "$kdir/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n 1)"
  [ -n "$ko" ] || die "kernel $kver has no module $m"
  case "$ko" in
    *.xz) xz -dc "$ko" > "$root/modules/$m.ko" ;;
    *.zst) zstd -qdc "$ko" > "$root/modules/$m.ko" ;;
    *) cp "$ko" "$root/modules/$m.ko" ;;
  esac
  echo "$m" >> "$root/modules/order"
done
touch "$root/modules/order"

# Arguments go into the init script single-quoted.
args=""
for a in "$@"; do args="$args '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"; done
ci="${CI:-}"
cat > "$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/bin:/bin HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /run/netns
for m in \$(cat /modules/order); do insmod /modules/\$m.ko || echo "PX-VM: insmod \$m failed"; done
ip link set lo up
echo "PX-VM: kernel \$(uname -r), \$(nproc) CPUs"
cd /px
CI='$ci' PX_VM=1 PX_SOURCE_DIR=/px PX_BUILD_DIR=/px/build /bin/sh tests/vm/job.sh$args
echo "PX-VM-EXIT \$?"
poweroff -f
EOF
chmod 0755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$root.cpio.gz"
qpid=""
tpid=""
cleanup() {
  [ -z "$qpid" ] || kill -TERM "$qpid" 2>/dev/null || true
  [ -z "$tpid" ] || kill -TERM "$tpid" 2>/dev/null || true
  rm -rf "$root" "$root.cpio.gz" "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- boot: q35 without default devices, console on the serial port ----
# Not microvm: it has no HPET or ACPI PM timer, and under emulation on a loaded
# host the kernel's PIT calibration of the TSC can fail, which hung its boot.
# qemu runs in the background so that a signal to this script stops it at once
# (the EXIT trap), and its console is shown live from the log.
# KVM where this user may use it, else emulation (qemu falls back by itself).
accel=(-accel tcg)
[ -r /dev/kvm ] && [ -w /dev/kvm ] && accel=(-accel kvm -accel tcg)
echo "vm.sh: booting $kver for $(basename "$job") (${accel[1]})"
timeout -k 10 "$timeout_s" qemu-system-x86_64 "${accel[@]}" -M q35 -cpu max -smp 2 -m "$memory" \
  -nodefaults -no-user-config -display none -serial stdio -no-reboot \
  -kernel "$vmlinuz" -initrd "$root.cpio.gz" \
  -append "console=ttyS0 pci=off panic=-1 loglevel=2" </dev/null >"$log" 2>&1 &
qpid=$!
tail -n +1 -f --pid="$qpid" "$log" | sed -u 's/\r$//' &
tpid=$!
status=0
wait "$qpid" || status=$?
qpid=""
wait "$tpid" || true
tpid=""
if [ "$status" -eq 124 ]; then
  echo "vm.sh: the VM did not finish within ${timeout_s} s (PX_VM_TIMEOUT)" >&2
  exit 124
fi
rc="$(sed -n 's/^PX-VM-EXIT \([0-9]*\).*/\1/p' "$log" | tail -n 1)"
[ -n "$rc" ] || die "the VM stopped (qemu status $status) before the job finished"
exit "$rc"
