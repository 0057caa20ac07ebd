/* pktexpect internal: entering a network namespace and asking rtnetlink about a
 * link. The core library needs these for `NETNS/IFNAME` ports (opening a socket
 * inside a namespace, waiting until a link transmits); the topology library
 * (runner/topology) builds its operations on the same plumbing. Both libraries
 * compile this module in (hidden), so the core does not link the topology.
 *
 * Thread-safety: every call opens its own netlink socket; px__netns_run enters
 * the namespace on a short-lived helper thread, never on the caller's. */
#ifndef PX_NETNS_H
#define PX_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>

#include "pktexpect/error.h"

/** Where named namespaces live, as iproute2 makes them. */
#define PX__NETNS_RUN_DIR "/run/netns"

/** Runs fn(arg, errbuf) on a helper thread that has entered namespace `netns`
 *  (NULL: fn runs on the calling thread, in its namespace). Returns what fn
 *  returned, or a negative PX_E* when the namespace cannot be entered. */
int px__netns_run(const char *netns, int (*fn)(void *arg, char *errbuf), void *arg, char *errbuf);

/** True when the link is up, has carrier and a queueing discipline attached. */
bool px__link_ready(const char *netns, const char *name);

/** Name checks; on false errbuf (may be NULL) says why. */
bool px__ifname_ok(const char *name, char *errbuf);
bool px__netns_name_ok(const char *name, char *errbuf);

/** " (needs CAP_NET_ADMIN: run as root)" for EPERM/EACCES, "" otherwise. */
const char *px__nl_hint(int e);

/* ---- one netlink request/acknowledge exchange ---- */

typedef struct px__nl_ctx {
    char ext_msg[200];   /* extended-ack message of the kernel, if any */
    mnl_cb_t data_cb;    /* for replies carrying data (RTM_GETLINK) */
    void *data;
} px__nl_ctx;

/** Sends `nlh` (NLM_F_ACK is added) and reads until the acknowledge. Returns 0 or
 *  -errno; the kernel's extended message lands in c->ext_msg. */
int px__nl_talk(struct nlmsghdr *nlh, px__nl_ctx *c);

/** Puts an ifinfomsg request header into buf (MNL_SOCKET_BUFFER_SIZE bytes). */
struct nlmsghdr *px__nl_link_msg(char *buf, uint16_t type, uint16_t flags, unsigned char family, int index,
                                 struct ifinfomsg **ifm_out);

typedef struct px__link_info {
    int index;
    unsigned flags;     /* IFF_* */
    char kind[32];
    char qdisc[32];     /* "noop" until the link watch has attached the real one */
} px__link_info;

/** Looks a link up by name in the current namespace. Returns 0 or -errno. */
int px__link_get(const char *name, px__link_info *li);

#endif
