#!/usr/bin/env bash
# A private Open vSwitch instance for tests: its own database, sockets, pid files
# and logs in one directory, the userspace datapath (datapath_type=netdev, no
# kernel module), no systemd, and no contact with a system-wide OVS.
#
# Usage: scripts/ovs.sh COMMAND [ARGS]
# The instance directory is $PX_OVS_DIR, else ${TMPDIR:-/tmp}/pktexpect-ovs.$PX_OVS_NAME
# (a name lets several instances run side by side), else ${TMPDIR:-/tmp}/pktexpect-ovs.
#   start                         create the database, start ovsdb-server and ovs-vswitchd
#   stop                          stop both (by this directory's pid files only) and
#                                 remove the directory; no-op when nothing runs
#   status                        exit 0 when both daemons of this directory run
#   env                           print `export` lines for ovs-vsctl/ovs-ofctl/ovs-appctl:
#                                 eval "$(scripts/ovs.sh env)"
#   bridge BR PORT[=OFPORT]...    (re)create bridge BR (netdev datapath, fail_mode
#                                 secure, no flows) with the given interfaces as ports,
#                                 pinned to OpenFlow port numbers when =OFPORT is given
#   flows BR FILE                 replace BR's groups and flows with FILE's (OpenFlow 1.3):
#                                 lines "group_id=..." go to add-groups, others to add-flows
#   reap                          stop every instance under ${TMPDIR:-/tmp}/pktexpect-ovs*
#                                 whose owner process (the one that started it) is gone
#   vsctl|ofctl|appctl ARGS...    run that tool against this instance
#
# The owner of an instance is $PX_OVS_OWNER (a pid) when set, else the parent of
# this script; `reap` uses it to clean what a crashed test left behind.
#
# With $PX_OVS_NETNS set at `start`, ovs-vswitchd runs inside that network
# namespace (it must exist, e.g. `ip netns add`), and so do its bridge devices and
# ports: the switch-side interfaces must be in that namespace. Use one per
# instance: the userspace datapath makes a device named "ovs-netdev", so two
# instances in one namespace collide.
set -euo pipefail

die() { echo "ovs.sh: $*" >&2; exit 1; }

base="${TMPDIR:-/tmp}"
dir="${PX_OVS_DIR:-$base/pktexpect-ovs${PX_OVS_NAME:+.$PX_OVS_NAME}}"
case "${PX_OVS_NAME:-}" in */*) die "PX_OVS_NAME must not contain '/'" ;; esac

find_schema() {
  local c
  for c in "${OVS_PKGDATADIR:-}" /usr/share/openvswitch /usr/local/share/openvswitch; do
    [ -n "$c" ] && [ -r "$c/vswitch.ovsschema" ] && { echo "$c/vswitch.ovsschema"; return 0; }
  done
  die "vswitch.ovsschema not found: install Open vSwitch (scripts/deps.sh ovs)"
}

# The namespace the instance in $1 runs in ("" = the caller's).
ns_of() { cat "$1/netns" 2>/dev/null || true; }

# Runs a command in the namespace of the instance in $1 ("" = here).
in_ns() {
  local ns="$1"; shift
  if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# Points the OVS tools at the instance in $1.
use_dir() {
  export OVS_RUNDIR="$1" OVS_DBDIR="$1" OVS_LOGDIR="$1" OVS_SYSCONFDIR="$1"
  export DB_SOCK="$1/db.sock"
}

# Prints the pid recorded in pid file $1 if that process is alive and its command
# line names the same pid file (so a recycled pid is never signalled).
live_pid() {
  local pidfile="$1" pid
  [ -r "$pidfile" ] || return 1
  pid="$(tr -dc '0-9' < "$pidfile")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "--pidfile=$pidfile" || return 1
  echo "$pid"
}

# True when pid $1 has exited (a zombie waiting for its reaper counts as exited).
gone() {
  local state
  state="$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}

stop_one() {
  local pidfile="$1" pid i
  pid="$(live_pid "$pidfile")" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do
    gone "$pid" && return 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do
    gone "$pid" && return 0
    sleep 0.05
  done
  echo "ovs.sh: pid $pid ($pidfile) does not exit" >&2
  return 1
}

# The bridge port of a netdev bridge is a persistent tap device: it outlives
# ovs-vswitchd unless the bridge is deleted first.
del_bridges() {
  local d="$1" br
  if live_pid "$d/ovs-vswitchd.pid" >/dev/null && live_pid "$d/ovsdb-server.pid" >/dev/null; then
    for br in $(ovs-vsctl --db="unix:$d/db.sock" --timeout=5 list-br 2>/dev/null); do
      ovs-vsctl --db="unix:$d/db.sock" --timeout=5 --if-exists del-br "$br" >/dev/null 2>&1 || true
    done
  fi
  # Whatever is left (vswitchd crashed or was killed): remove the taps it made.
  local ns
  ns="$(ns_of "$d")"
  if [ -n "$ns" ] && [ ! -e "/run/netns/$ns" ]; then return 0; fi
  if [ -r "$d/bridges" ]; then
    while read -r br; do
      [ -n "$br" ] || continue
      in_ns "$ns" sh -c 'test -e "/sys/class/net/$1/tun_flags" && ip link del dev "$1"' sh "$br" \
        2>/dev/null || true
    done < "$d/bridges"
  fi
}

do_stop() {
  local d="$1"
  [ -d "$d" ] || return 0
  # Only directories this script made are removed.
  [ -e "$d/.pktexpect-ovs" ] || die "$d was not created by ovs.sh; not touching it"
  use_dir "$d"
  del_bridges "$d"
  stop_one "$d/ovs-vswitchd.pid"
  stop_one "$d/ovsdb-server.pid"
  del_bridges "$d"
  rm -rf -- "$d"
}

do_status() {
  live_pid "$dir/ovsdb-server.pid" >/dev/null && live_pid "$dir/ovs-vswitchd.pid" >/dev/null
}

do_start() {
  local schema owner
  schema="$(find_schema)"
  for t in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl; do
    command -v "$t" >/dev/null || die "$t not found: install Open vSwitch (scripts/deps.sh ovs)"
  done
  if do_status; then echo "ovs.sh: already running in $dir"; return 0; fi
  do_stop "$dir"
  owner="${PX_OVS_OWNER:-$PPID}"
  local ns="${PX_OVS_NETNS:-}"
  if [ -n "$ns" ] && [ ! -e "/run/netns/$ns" ]; then
    die "network namespace '$ns' (PX_OVS_NETNS) does not exist: create it first (ip netns add $ns)"
  fi
  mkdir -p -- "$dir"
  printf '%s\n' "$ns" > "$dir/netns"
  # The owner first: `reap` considers a directory only once the marker exists.
  echo "$owner" > "$dir/owner"
  : > "$dir/.pktexpect-ovs"
  use_dir "$dir"
  ovsdb-tool create "$dir/conf.db" "$schema"
  ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" \
    --pidfile="$dir/ovsdb-server.pid" --detach --no-chdir -vconsole:off \
    --log-file="$dir/ovsdb-server.log" ||
    { do_stop "$dir"; die "ovsdb-server did not start (see its log above)"; }
  ovs-vsctl --db="unix:$dir/db.sock" --no-wait init
  in_ns "$ns" ovs-vswitchd "unix:$dir/db.sock" --pidfile="$dir/ovs-vswitchd.pid" --detach --no-chdir -vconsole:off \
    --log-file="$dir/ovs-vswitchd.log" ||
    { tail -n 20 "$dir/ovs-vswitchd.log" >&2 || true; do_stop "$dir"; die "ovs-vswitchd did not start"; }
  # Without --no-wait, ovs-vsctl returns once vswitchd has applied the change:
  # after this, vswitchd is up and has read the database.
  ovs-vsctl --db="unix:$dir/db.sock" --timeout=20 set Open_vSwitch . "external_ids:pktexpect-owner=$owner" ||
    { tail -n 20 "$dir/ovs-vswitchd.log" >&2 || true; do_stop "$dir"; die "ovs-vswitchd does not answer"; }
}

do_bridge() {
  local br="$1"; shift
  local args=(--db="unix:$dir/db.sock" --timeout=20 -- --if-exists del-br "$br"
    -- add-br "$br" -- set bridge "$br" datapath_type=netdev fail_mode=secure
       protocols=OpenFlow10,OpenFlow13 other_config:disable-in-band=true)
  local p name ofport ns
  ns="$(ns_of "$dir")"
  for p in "$@"; do
    name="${p%%=*}"
    in_ns "$ns" test -e "/sys/class/net/$name" ||
      die "no interface '$name' for bridge $br${ns:+ in namespace $ns}"
    args+=(-- add-port "$br" "$name")
    if [ "$p" != "$name" ]; then
      ofport="${p#*=}"
      args+=(-- set interface "$name" "ofport_request=$ofport")
    fi
  done
  use_dir "$dir"
  grep -qxF -- "$br" "$dir/bridges" 2>/dev/null || echo "$br" >> "$dir/bridges"
  ovs-vsctl "${args[@]}"
  # A netdev bridge's own port is a tap device; keep it down so it sends nothing.
  in_ns "$ns" ip link set dev "$br" down 2>/dev/null || true
}

do_flows() {
  local br="$1" file="$2"
  [ -r "$file" ] || die "cannot read flow file $file"
  use_dir "$dir"
  local groups flows
  groups="$(mktemp)"; flows="$(mktemp)"
  # Strip comments and blank lines; "group_id=" lines are groups.
  sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$file" | grep -E '^[[:space:]]*group_id=' > "$groups" || true
  sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$file" | grep -vE '^[[:space:]]*group_id=' > "$flows" || true
  local rc=0
  ovs-ofctl -O OpenFlow13 del-flows "$br" &&
    ovs-ofctl -O OpenFlow13 del-groups "$br" &&
    { [ ! -s "$groups" ] || ovs-ofctl -O OpenFlow13 add-groups "$br" "$groups"; } &&
    { [ ! -s "$flows" ] || ovs-ofctl -O OpenFlow13 add-flows "$br" "$flows"; } || rc=$?
  rm -f -- "$groups" "$flows"
  return "$rc"
}

do_reap() {
  local d owner
  for d in "$base"/pktexpect-ovs*; do
    [ -e "$d/.pktexpect-ovs" ] || continue
    owner="$(tr -dc '0-9' < "$d/owner" 2>/dev/null || true)"
    if [ -z "$owner" ] || [ ! -d "/proc/$owner" ]; then
      echo "ovs.sh: reaping $d (owner ${owner:-unknown} is gone)" >&2
      do_stop "$d"
    fi
  done
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  start) do_start ;;
  stop) do_stop "$dir" ;;
  status) do_status ;;
  env)
    printf 'export OVS_RUNDIR=%q OVS_DBDIR=%q OVS_LOGDIR=%q OVS_SYSCONFDIR=%q DB_SOCK=%q\n' \
      "$dir" "$dir" "$dir" "$dir" "$dir/db.sock" ;;
  bridge) [ $# -ge 1 ] || die "usage: ovs.sh bridge BR PORT[=OFPORT]..."; do_bridge "$@" ;;
  flows) [ $# -eq 2 ] || die "usage: ovs.sh flows BR FILE"; do_flows "$@" ;;
  reap) do_reap ;;
  vsctl) use_dir "$dir"; exec ovs-vsctl --db="unix:$dir/db.sock" "$@" ;;
  ofctl) use_dir "$dir"; exec ovs-ofctl -O OpenFlow13 "$@" ;;
  appctl) use_dir "$dir"; exec ovs-appctl "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
