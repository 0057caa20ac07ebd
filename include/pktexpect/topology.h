/* pktexpect: test topology over rtnetlink (libmnl).
 *
 * Creates and removes veth pairs, network namespaces, Linux bridges, addresses
 * and link state without shelling out to ip(8). Used by the scenario runner, the
 * cmocka helpers and the net tests.
 *
 * All functions return 0 or a negative PX_E* code with detail in errbuf (may be
 * NULL; PX_ERRBUF_SIZE bytes). They need CAP_NET_ADMIN (PX_EPERM otherwise).
 * Names are interface / namespace names; a NULL `netns` means the caller's
 * current namespace, otherwise the named namespace under /run/netns.
 *
 * Thread-safety: each call opens its own netlink socket; calls that enter a
 * namespace do so on a short-lived helper thread, so any thread may call them.
 */
#ifndef PKTEXPECT_TOPOLOGY_H
#define PKTEXPECT_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/** Creates veth pair a <-> b, both up, IPv6 DAD noise left as the kernel does it. */
int px_topo_veth_add(const char *netns, const char *a, const char *b, char *errbuf);
/** Deletes a link (a veth deletes its peer too). A missing link is not an error. */
int px_topo_link_del(const char *netns, const char *name, char *errbuf);
int px_topo_link_set_up(const char *netns, const char *name, bool up, char *errbuf);
int px_topo_link_set_mtu(const char *netns, const char *name, uint32_t mtu, char *errbuf);
/** Moves a link into namespace `to_netns`. */
int px_topo_link_set_netns(const char *netns, const char *name, const char *to_netns, char *errbuf);
/** True when the link exists. */
bool px_topo_link_exists(const char *netns, const char *name);

int px_topo_netns_add(const char *name, char *errbuf);
/** Deletes a namespace (and so every link in it). A missing one is not an error. */
int px_topo_netns_del(const char *name, char *errbuf);

int px_topo_bridge_add(const char *netns, const char *name, bool vlan_filtering, char *errbuf);
int px_topo_link_set_master(const char *netns, const char *port, const char *bridge, char *errbuf);
/** Adds VLAN `vid` on a bridge port, optionally as PVID and/or egress-untagged. */
int px_topo_bridge_vlan_add(const char *netns, const char *port, uint16_t vid, bool pvid, bool untagged,
                            char *errbuf);
int px_topo_bridge_vlan_del(const char *netns, const char *port, uint16_t vid, char *errbuf);
/** Adds an address in CIDR form ("10.0.0.1/24", "2001:db8::1/64"). */
int px_topo_addr_add(const char *netns, const char *name, const char *cidr, char *errbuf);

#endif
