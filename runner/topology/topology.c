/* pktexpect: test topology over rtnetlink (libmnl). See topology.h. */
#include "pktexpect/topology.h"
#include "err_internal.h"
#include "link.h"
#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Namespaces are made with unshare(2) and mount(2): those need CAP_SYS_ADMIN. */
static const char *hint_ns(int e)
{
    return (e == EPERM || e == EACCES) ? " (needs CAP_SYS_ADMIN: run as root)" : "";
}

/* Turns -errno of an operation into a PX code with "what: reason" in errbuf. */
static int fail(char *errbuf, const px__nl_ctx *c, int neg_errno, const char *what)
{
    int e = -neg_errno;
    if (c && c->ext_msg[0])
        px__errbuf_printf(errbuf, "%s: %s (%s)%s", what, strerror(e), c->ext_msg, px__nl_hint(e));
    else
        px__errbuf_printf(errbuf, "%s: %s%s", what, strerror(e), px__nl_hint(e));
    return px__err_from_errno(e);
}

/* ---- operations; each runs in the target namespace ---- */

/* The request every link operation starts with: `type` on link `name` (by
 * name, family AF_UNSPEC); *ifm (may be NULL) for flags to change. */
static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, const char *name, struct ifinfomsg **ifm)
{
    struct nlmsghdr *nlh = px__nl_link_msg(buf, type, flags, AF_UNSPEC, 0, ifm);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    return nlh;
}

/* Sends a request and waits for its acknowledge; on error, errbuf says
 * "WHAT: reason" with WHAT from the format (the operation and its names). */
__attribute__((format(printf, 3, 4))) static int talk(struct nlmsghdr *nlh, char *errbuf, const char *fmt, ...)
{
    px__nl_ctx c = {0};
    int rc = px__nl_talk(nlh, &c);
    if (rc == 0)
        return 0;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return fail(errbuf, &c, rc, what);
}

typedef struct link_op {
    const char *a, *b;   /* names */
    const char *ns_to;   /* link_set_netns target */
    uint32_t num;        /* mtu, vid */
    bool flag1, flag2;   /* up / vlan_filtering / pvid, untagged */
} link_op;

static int set_up_here(const char *name, bool up, char *errbuf)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct ifinfomsg *ifm;
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, name, &ifm);
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = up ? IFF_UP : 0;
    return talk(nlh, errbuf, "setting '%s' %s", name, up ? "up" : "down");
}

static int op_veth_add(void *arg, char *errbuf)
{
    link_op *o = arg;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, o->a, NULL);
    struct nlattr *linfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    struct ifinfomsg pifm = {.ifi_family = AF_UNSPEC};
    /* The peer's ifinfomsg precedes its attributes inside VETH_INFO_PEER. */
    memcpy(mnl_nlmsg_get_payload_tail(nlh), &pifm, sizeof pifm);
    nlh->nlmsg_len += MNL_ALIGN(sizeof pifm);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, o->b);
    mnl_attr_nest_end(nlh, peer);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, linfo);
    int rc = talk(nlh, errbuf, "creating veth '%s' <-> '%s'", o->a, o->b);
    if (rc)
        return rc;
    rc = set_up_here(o->a, true, errbuf);
    if (rc == 0)
        rc = set_up_here(o->b, true, errbuf);
    if (rc) {
        /* Do not leave a half-made pair behind. */
        char b2[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *d = link_msg(b2, RTM_DELLINK, 0, o->a, NULL);
        px__nl_ctx c2 = {0};
        (void)px__nl_talk(d, &c2);
    }
    return rc;
}

static int op_link_del(void *arg, char *errbuf)
{
    link_op *o = arg;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, o->a, NULL);
    px__nl_ctx c = {0};
    int rc = px__nl_talk(nlh, &c);
    if (rc && rc != -ENODEV) { /* gone already: done */
        char what[96];
        snprintf(what, sizeof what, "deleting '%s'", o->a);
        return fail(errbuf, &c, rc, what);
    }
    return 0;
}

static int op_set_up(void *arg, char *errbuf)
{
    link_op *o = arg;
    return set_up_here(o->a, o->flag1, errbuf);
}

static int op_set_mtu(void *arg, char *errbuf)
{
    link_op *o = arg;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, o->a, NULL);
    mnl_attr_put_u32(nlh, IFLA_MTU, o->num);
    return talk(nlh, errbuf, "setting MTU %u on '%s'", (unsigned)o->num, o->a);
}

/* num = file descriptor of the target namespace, opened by the caller's thread. */
static int op_set_netns(void *arg, char *errbuf)
{
    link_op *o = arg;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, o->a, NULL);
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, o->num);
    return talk(nlh, errbuf, "moving '%s' into namespace '%s'", o->a, o->ns_to ? o->ns_to : "(caller's)");
}

static int op_bridge_add(void *arg, char *errbuf)
{
    link_op *o = arg;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, o->a, NULL);
    struct nlattr *linfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
    /* Only when asked: kernels without VLAN filtering reject the attribute even as 0. */
    if (o->flag1) {
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        mnl_attr_put_u8(nlh, IFLA_BR_VLAN_FILTERING, 1);
        mnl_attr_nest_end(nlh, data);
    }
    mnl_attr_nest_end(nlh, linfo);
    int rc = talk(nlh, errbuf, "creating bridge '%s'", o->a);
    if (rc) {
        if (rc == PX_ENOTSUP && o->flag1 && errbuf) {
            size_t n = strlen(errbuf);
            snprintf(errbuf + n, PX_ERRBUF_SIZE - n,
                     ": this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)");
        }
        return rc;
    }
    return set_up_here(o->a, true, errbuf);
}

static int op_set_master(void *arg, char *errbuf)
{
    link_op *o = arg;
    char what[128];
    uint32_t master = 0;
    if (o->b) {
        px__link_info li;
        int rc = px__link_get(o->b, &li);
        if (rc) {
            snprintf(what, sizeof what, "bridge '%s'", o->b);
            return fail(errbuf, NULL, rc, what);
        }
        master = (uint32_t)li.index;
    }
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, o->a, NULL);
    mnl_attr_put_u32(nlh, IFLA_MASTER, master);
    if (o->b)
        return talk(nlh, errbuf, "adding '%s' to bridge '%s'", o->a, o->b);
    return talk(nlh, errbuf, "releasing '%s' from its master", o->a);
}

/* flag1 = add (else delete), flag2 unused; num = vid | pvid << 16 | untagged << 17 */
static int op_bridge_vlan(void *arg, char *errbuf)
{
    link_op *o = arg;
    char what[128];
    uint16_t vid = (uint16_t)(o->num & 0xfff);
    snprintf(what, sizeof what, "%s VLAN %u %s '%s'", o->flag1 ? "adding" : "deleting", (unsigned)vid,
             o->flag1 ? "on" : "from", o->a);
    px__link_info li;
    int rc = px__link_get(o->a, &li);
    if (rc)
        return fail(errbuf, NULL, rc, what);
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh =
        px__nl_link_msg(buf, o->flag1 ? RTM_SETLINK : RTM_DELLINK, 0, AF_BRIDGE, li.index, NULL);
    struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
    /* On the bridge device itself the entry is the bridge's own ("self"). */
    if (!strcmp(li.kind, "bridge"))
        mnl_attr_put_u16(nlh, IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF);
    struct bridge_vlan_info vi = {.vid = vid};
    if (o->num & (1u << 16))
        vi.flags |= BRIDGE_VLAN_INFO_PVID;
    if (o->num & (1u << 17))
        vi.flags |= BRIDGE_VLAN_INFO_UNTAGGED;
    mnl_attr_put(nlh, IFLA_BRIDGE_VLAN_INFO, sizeof vi, &vi);
    mnl_attr_nest_end(nlh, spec);
    return talk(nlh, errbuf, "%s", what);
}

static int op_addr_add(void *arg, char *errbuf)
{
    link_op *o = arg;
    char what[128];
    snprintf(what, sizeof what, "adding address %s to '%s'", o->b, o->a);
    char ip[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(o->b, '/');
    size_t iplen = slash ? (size_t)(slash - o->b) : strlen(o->b);
    if (iplen == 0 || iplen >= sizeof ip) {
        px__errbuf_printf(errbuf, "%s: expected an address in CIDR form like 10.0.0.1/24 or 2001:db8::1/64", what);
        return PX_EINVAL;
    }
    memcpy(ip, o->b, iplen);
    ip[iplen] = '\0';
    unsigned char addr[16];
    int family;
    unsigned maxlen;
    if (inet_pton(AF_INET, ip, addr) == 1) {
        family = AF_INET;
        maxlen = 32;
    } else if (inet_pton(AF_INET6, ip, addr) == 1) {
        family = AF_INET6;
        maxlen = 128;
    } else {
        px__errbuf_printf(errbuf, "%s: '%s' is not an IPv4 or IPv6 address", what, ip);
        return PX_EINVAL;
    }
    unsigned plen = maxlen;
    if (slash) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || v > maxlen) {
            px__errbuf_printf(errbuf, "%s: prefix length must be 0..%u", what, maxlen);
            return PX_EINVAL;
        }
        plen = (unsigned)v;
    }
    px__link_info li;
    int rc = px__link_get(o->a, &li);
    if (rc)
        return fail(errbuf, NULL, rc, what);
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWADDR;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
    ifa->ifa_family = (unsigned char)family;
    ifa->ifa_prefixlen = (unsigned char)plen;
    ifa->ifa_index = (unsigned)li.index;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    size_t alen = family == AF_INET ? 4 : 16;
    mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
    mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
    if (family == AF_INET6) {
        ifa->ifa_flags = IFA_F_NODAD;
        mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
    }
    return talk(nlh, errbuf, "%s", what);
}

static int op_exists(void *arg, char *errbuf)
{
    (void)errbuf;
    link_op *o = arg;
    px__link_info li;
    return px__link_get(o->a, &li) == 0 ? 1 : 0;
}

/* ---- public API ---- */

/* A new veth pair carries nothing until the kernel's link watch has attached its
 * queueing disciplines, which it may delay by up to a second; frames sent before
 * are dropped silently. Waits (bounded) so callers get links that work. */
#define READY_WAIT_NS 3000000000LL
static void wait_links_ready(const char *netns, const char *a, const char *b)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!px__link_wait_ready(netns, a, READY_WAIT_NS, NULL))
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t spent = (now.tv_sec - t0.tv_sec) * 1000000000LL + (now.tv_nsec - t0.tv_nsec);
    if (spent < READY_WAIT_NS)
        (void)px__link_wait_ready(netns, b, (uint64_t)(READY_WAIT_NS - spent), NULL);
}

/* The core needs these two for NETNS/IFNAME ports; they live in harness/netns.c. */
bool px_topo_link_ready(const char *netns, const char *name)
{
    return px__link_ready(netns, name);
}

int px_topo_netns_run(const char *netns, int (*fn)(void *arg, char *errbuf), void *arg, char *errbuf)
{
    return px__netns_run(netns, fn, arg, errbuf);
}


int px_topo_veth_add(const char *netns, const char *a, const char *b, char *errbuf)
{
    if (!px__ifname_ok(a, errbuf) || !px__ifname_ok(b, errbuf))
        return PX_EINVAL;
    link_op o = {.a = a, .b = b};
    int rc = px_topo_netns_run(netns, op_veth_add, &o, errbuf);
    if (rc == 0)
        wait_links_ready(netns, a, b);
    return rc;
}

int px_topo_link_del(const char *netns, const char *name, char *errbuf)
{
    if (!px__ifname_ok(name, errbuf))
        return PX_EINVAL;
    link_op o = {.a = name};
    int rc = px_topo_netns_run(netns, op_link_del, &o, errbuf);
    /* Deleting from a namespace that is gone already: the link went with it. */
    return rc == PX_ENODEV && netns && !px_topo_netns_exists(netns) ? 0 : rc;
}

int px_topo_link_set_up(const char *netns, const char *name, bool up, char *errbuf)
{
    if (!px__ifname_ok(name, errbuf))
        return PX_EINVAL;
    link_op o = {.a = name, .flag1 = up};
    return px_topo_netns_run(netns, op_set_up, &o, errbuf);
}

int px_topo_link_set_mtu(const char *netns, const char *name, uint32_t mtu, char *errbuf)
{
    if (!px__ifname_ok(name, errbuf))
        return PX_EINVAL;
    if (mtu < 68) {
        px__errbuf_printf(errbuf, "MTU %u on '%s': must be at least 68", (unsigned)mtu, name);
        return PX_ERANGE;
    }
    link_op o = {.a = name, .num = mtu};
    return px_topo_netns_run(netns, op_set_mtu, &o, errbuf);
}

int px_topo_link_set_netns(const char *netns, const char *name, const char *to_netns, char *errbuf)
{
    if (!px__ifname_ok(name, errbuf) || (to_netns && !px__netns_name_ok(to_netns, errbuf)))
        return PX_EINVAL;
    /* Open the target here, on the caller's thread: NULL is the caller's own namespace. */
    char path[PATH_MAX];
    if (to_netns)
        snprintf(path, sizeof path, "%s/%s", PX__NETNS_RUN_DIR, to_netns);
    else
        snprintf(path, sizeof path, "/proc/thread-self/ns/net");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        px__errbuf_printf(errbuf, "moving '%s': namespace '%s': %s", name, to_netns ? to_netns : "(caller's)",
                e == ENOENT ? "does not exist" : strerror(e));
        return px__err_from_errno(e);
    }
    link_op o = {.a = name, .ns_to = to_netns, .num = (uint32_t)fd};
    int rc = px_topo_netns_run(netns, op_set_netns, &o, errbuf);
    close(fd);
    return rc;
}

bool px_topo_link_exists(const char *netns, const char *name)
{
    if (!px__ifname_ok(name, NULL))
        return false;
    link_op o = {.a = name};
    return px_topo_netns_run(netns, op_exists, &o, NULL) == 1;
}

int px_topo_bridge_add(const char *netns, const char *name, bool vlan_filtering, char *errbuf)
{
    if (!px__ifname_ok(name, errbuf))
        return PX_EINVAL;
    link_op o = {.a = name, .flag1 = vlan_filtering};
    return px_topo_netns_run(netns, op_bridge_add, &o, errbuf);
}

int px_topo_link_set_master(const char *netns, const char *port, const char *bridge, char *errbuf)
{
    if (!px__ifname_ok(port, errbuf) || (bridge && !px__ifname_ok(bridge, errbuf)))
        return PX_EINVAL;
    link_op o = {.a = port, .b = bridge};
    return px_topo_netns_run(netns, op_set_master, &o, errbuf);
}

static int bridge_vlan(const char *netns, const char *port, uint16_t vid, bool add, bool pvid, bool untagged,
                       char *errbuf)
{
    if (!px__ifname_ok(port, errbuf))
        return PX_EINVAL;
    if (vid < 1 || vid > 4094) {
        px__errbuf_printf(errbuf, "VLAN %u on '%s': must be 1..4094", (unsigned)vid, port);
        return PX_ERANGE;
    }
    link_op o = {.a = port, .flag1 = add, .num = vid | (pvid ? 1u << 16 : 0) | (untagged ? 1u << 17 : 0)};
    return px_topo_netns_run(netns, op_bridge_vlan, &o, errbuf);
}

int px_topo_bridge_vlan_add(const char *netns, const char *port, uint16_t vid, bool pvid, bool untagged,
                            char *errbuf)
{
    return bridge_vlan(netns, port, vid, true, pvid, untagged, errbuf);
}

int px_topo_bridge_vlan_del(const char *netns, const char *port, uint16_t vid, char *errbuf)
{
    return bridge_vlan(netns, port, vid, false, false, false, errbuf);
}

int px_topo_addr_add(const char *netns, const char *name, const char *cidr, char *errbuf)
{
    if (!px__ifname_ok(name, errbuf))
        return PX_EINVAL;
    if (!cidr) {
        px__errbuf_printf(errbuf, "adding an address to '%s': no address given", name);
        return PX_EINVAL;
    }
    link_op o = {.a = name, .b = cidr};
    return px_topo_netns_run(netns, op_addr_add, &o, errbuf);
}

/* ---- namespaces, the iproute2 way ---- */

/* /run/netns must be a shared mount point so that the bind mounts made here
 * propagate to other mount namespaces (as `ip netns add` arranges it). */
static int prepare_run_dir(char *errbuf)
{
    if (mkdir(PX__NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST) {
        int e = errno;
        px__errbuf_printf(errbuf, "creating %s: %s%s", PX__NETNS_RUN_DIR, strerror(e), hint_ns(e));
        return px__err_from_errno(e);
    }
    for (int tries = 0; tries < 2; tries++) {
        if (mount("", PX__NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
            return 0;
        int e = errno;
        if (e != EINVAL || tries) {
            px__errbuf_printf(errbuf, "making %s a shared mount: %s%s", PX__NETNS_RUN_DIR, strerror(e), hint_ns(e));
            return px__err_from_errno(e);
        }
        /* Not a mount point yet: bind it onto itself, then try again. */
        if (mount(PX__NETNS_RUN_DIR, PX__NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0) {
            e = errno;
            px__errbuf_printf(errbuf, "bind-mounting %s: %s%s", PX__NETNS_RUN_DIR, strerror(e), hint_ns(e));
            return px__err_from_errno(e);
        }
    }
    return 0;
}

typedef struct ns_add_job {
    const char *path;
    char *errbuf;
    int rc;
} ns_add_job;

/* Runs on its own thread: unshare only changes this thread's namespace. */
static void *ns_add_thread(void *p)
{
    ns_add_job *j = p;
    if (unshare(CLONE_NEWNET) < 0) {
        int e = errno;
        px__errbuf_printf(j->errbuf, "creating a network namespace: %s%s", strerror(e), hint_ns(e));
        j->rc = px__err_from_errno(e);
        return NULL;
    }
    if (mount("/proc/thread-self/ns/net", j->path, "none", MS_BIND, NULL) < 0) {
        int e = errno;
        px__errbuf_printf(j->errbuf, "bind-mounting the new namespace on %s: %s%s", j->path, strerror(e), hint_ns(e));
        j->rc = px__err_from_errno(e);
        return NULL;
    }
    /* A fresh namespace has its loopback down; tests expect it up. */
    j->rc = set_up_here("lo", true, j->errbuf);
    return NULL;
}

int px_topo_netns_add(const char *name, char *errbuf)
{
    if (!px__netns_name_ok(name, errbuf))
        return PX_EINVAL;
    int rc = prepare_run_dir(errbuf);
    if (rc)
        return rc;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", PX__NETNS_RUN_DIR, name);
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        px__errbuf_printf(errbuf, "creating namespace '%s': %s%s", name, e == EEXIST ? "it exists already" : strerror(e),
                hint_ns(e));
        return px__err_from_errno(e);
    }
    close(fd);
    ns_add_job j = {path, errbuf, 0};
    pthread_t t;
    int e = pthread_create(&t, NULL, ns_add_thread, &j);
    if (e) {
        px__errbuf_printf(errbuf, "starting a thread for namespace '%s': %s", name, strerror(e));
        j.rc = PX_ESYS;
    } else {
        pthread_join(t, NULL);
    }
    if (j.rc) {
        (void)umount2(path, MNT_DETACH);
        (void)unlink(path);
    }
    return j.rc;
}

int px_topo_netns_del(const char *name, char *errbuf)
{
    if (!px__netns_name_ok(name, errbuf))
        return PX_EINVAL;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", PX__NETNS_RUN_DIR, name);
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
        int e = errno;
        px__errbuf_printf(errbuf, "unmounting namespace '%s': %s%s", name, strerror(e), hint_ns(e));
        return px__err_from_errno(e);
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        int e = errno;
        px__errbuf_printf(errbuf, "removing namespace '%s': %s%s", name, strerror(e), hint_ns(e));
        return px__err_from_errno(e);
    }
    return 0;
}

bool px_topo_netns_exists(const char *name)
{
    if (!px__netns_name_ok(name, NULL))
        return false;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", PX__NETNS_RUN_DIR, name);
    struct stat st;
    return stat(path, &st) == 0;
}
