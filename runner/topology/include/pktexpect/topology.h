/* pktexpect: test topology over rtnetlink (libmnl).
 *
 * Creates and removes veth pairs, network namespaces, Linux bridges, addresses
 * and link state without shelling out to ip(8). Used by the scenario runner, the
 * cmocka helpers and the net tests.
 *
 * This is its own library, libpktexpect-topology (pkg-config
 * pktexpect-topology, CMake pktexpect::topology), beside the core libpktexpect,
 * which does not need it.
 *
 * All functions return 0 or a negative PX_E* code with detail in errbuf (may be
 * NULL; PX_ERRBUF_SIZE bytes). They need CAP_NET_ADMIN (PX_EPERM otherwise).
 * Names are interface / namespace names; a NULL `netns` means the caller's
 * current namespace, otherwise the named namespace under /run/netns.
 *
 * Namespaces are made the way iproute2 makes them (`ip netns add`): a file
 * /run/netns/NAME onto which a helper thread that unshared its network namespace
 * bind-mounts its /proc/thread-self/ns/net, so `ip netns` lists them and
 * `ip netns exec NAME ...` works on them.
 *
 * Thread-safety: each call opens its own netlink socket; calls that enter a
 * namespace do so on a short-lived helper thread, so the caller's thread never
 * changes namespace and any thread may call them concurrently.
 */
#ifndef PKTEXPECT_TOPOLOGY_H
#define PKTEXPECT_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

#include "pktexpect/error.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/** Creates veth pair a <-> b, both up, IPv6 DAD noise left as the kernel does it.
 *  PX_EEXIST when one of the names is taken. */
int px_topo_veth_add(const char *netns, const char *a, const char *b, char *errbuf);
/** Deletes a link (a veth deletes its peer too). A missing link is not an error. */
int px_topo_link_del(const char *netns, const char *name, char *errbuf);
int px_topo_link_set_up(const char *netns, const char *name, bool up, char *errbuf);
int px_topo_link_set_mtu(const char *netns, const char *name, uint32_t mtu, char *errbuf);
/** Moves a link into namespace `to_netns` (NULL: the caller's own namespace, e.g.
 *  back out of `netns`). The link keeps its name and goes down, as the kernel does it. */
int px_topo_link_set_netns(const char *netns, const char *name, const char *to_netns, char *errbuf);
/** True when the link is up, has carrier and its queueing discipline is attached,
 *  i.e. frames sent on it now are transmitted (a fresh veth drops them silently
 *  for a few milliseconds after it is raised). */
bool px_topo_link_ready(const char *netns, const char *name);
/** True when the link exists. */
bool px_topo_link_exists(const char *netns, const char *name);

/** Creates namespace `name` (PX_EEXIST when it exists) and brings its loopback up. */
int px_topo_netns_add(const char *name, char *errbuf);
/** Deletes a namespace (and so every link in it). A missing one is not an error. */
int px_topo_netns_del(const char *name, char *errbuf);
/** True when /run/netns/NAME exists. */
bool px_topo_netns_exists(const char *name);

/** Runs fn(arg, errbuf) on a helper thread that has entered namespace `netns`
 *  (NULL: the caller's namespace, fn runs on the calling thread) and returns what
 *  fn returned, or a negative PX_E* when the namespace cannot be entered.
 *  Everything fn creates (sockets, capture handles) stays bound to that namespace
 *  after the thread ends, so a port inside a namespace can be opened this way.
 *  errbuf is passed through to fn (may be NULL). */
int px_topo_netns_run(const char *netns, int (*fn)(void *arg, char *errbuf), void *arg, char *errbuf);

/** Creates a Linux bridge, up, with VLAN filtering on or off. PX_ENOTSUP with
 *  vlan_filtering on a kernel built without CONFIG_BRIDGE_VLAN_FILTERING. */
int px_topo_bridge_add(const char *netns, const char *name, bool vlan_filtering, char *errbuf);
/** Enslaves `port` to `bridge` (NULL bridge: releases it from its master). */
int px_topo_link_set_master(const char *netns, const char *port, const char *bridge, char *errbuf);
/** Adds VLAN `vid` (1..4094) on a bridge port, optionally as PVID and/or
 *  egress-untagged. `port` may be the bridge itself (the `self` entry that decides
 *  what the bridge's own interface sees). */
int px_topo_bridge_vlan_add(const char *netns, const char *port, uint16_t vid, bool pvid, bool untagged,
                            char *errbuf);
int px_topo_bridge_vlan_del(const char *netns, const char *port, uint16_t vid, char *errbuf);
/** Adds an address in CIDR form ("10.0.0.1/24", "2001:db8::1/64"). IPv6 addresses
 *  are added without duplicate address detection (usable at once). */
int px_topo_addr_add(const char *netns, const char *name, const char *cidr, char *errbuf);

/* ---- around a test topology ----
 *
 * Names: a suite names what it creates "<prefix><pid><tag>...", e.g.
 * "pxb01234ls1" (prefix "pxb", pid 1234, tag 'l'), with px_topo_name. When a
 * run is killed before its teardown, its links and namespaces stay; the next
 * run removes them at its start with px_topo_reap_links / px_topo_reap_netns,
 * which only touch names of that exact form whose process is gone. */

/** Writes "<prefix><pid mod 100000, 5 digits><suffix>" into `out` (16 bytes,
 *  IFNAMSIZ), prefix and suffix cut to 4 characters each: a name unique to the
 *  running process that the reap functions recognise. Thread-safety: any. */
void px_topo_name(char out[16], const char *prefix, const char *suffix);
/** Deletes the links of the caller's namespace named "<prefix><5 digits><c>..."
 *  (the px_topo_name form) with <c> one of the characters of `tags`, whose
 *  digits are the pid of a process that no longer exists (never this
 *  process's). Returns how many it deleted, or the first error (PX_EINVAL for
 *  an empty prefix or tags). */
int px_topo_reap_links(const char *prefix, const char *tags, char *errbuf);
/** The same for network namespaces (/run/netns/NAME), with what is in them. */
int px_topo_reap_netns(const char *prefix, const char *tags, char *errbuf);

/** Turns IPv6 off on link `name` (disable_ipv6), so the kernel sends no router
 *  solicitations, MLD reports or DAD probes from it into a switch under test.
 *  PX_ENODEV when there is no such link. A kernel without IPv6 is not an error. */
int px_topo_link_no_ipv6(const char *netns, const char *name, char *errbuf);
/** Turns IPv6 off for namespace `netns` (its "default" and "all" settings), so
 *  links created in it or moved into it from now on stay quiet too. */
int px_topo_netns_no_ipv6(const char *netns, char *errbuf);

/** Readiness wait: returns 0 as soon as px_topo_link_ready(netns, name) is
 *  true, at most after `timeout_ms`. Otherwise PX_ETIMEDOUT (PX_ENODEV when the
 *  link does not exist) with errbuf saying what is missing: "interface 'p1' is
 *  not ready after 2000 ms: it has no carrier (is its peer up, in the same
 *  namespace?)". For a command that must succeed first (a daemon that takes a
 *  moment to start), see px_cmd_wait_ok in pktexpect/command.h. */
int px_topo_link_wait_ready(const char *netns, const char *name, uint32_t timeout_ms, char *errbuf);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
