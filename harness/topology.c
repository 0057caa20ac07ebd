/* pktexpect: test topology over rtnetlink (libmnl). See topology.h. */
#include "pktexpect/topology.h"
#include "err_internal.h"
#include "link.h"

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

#define NETNS_RUN_DIR "/run/netns"
/* Large enough for an RTM_NEWLINK reply with all its statistics. */
#define NL_RECV_SIZE 32768

static void set_err(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char *errbuf, const char *fmt, ...)
{
    if (!errbuf)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, PX_ERRBUF_SIZE, fmt, ap);
    va_end(ap);
}

static const char *hint_for(int e)
{
    return (e == EPERM || e == EACCES) ? " (needs CAP_NET_ADMIN: run as root)" : "";
}

/* Namespaces are made with unshare(2) and mount(2): those need CAP_SYS_ADMIN. */
static const char *hint_ns(int e)
{
    return (e == EPERM || e == EACCES) ? " (needs CAP_SYS_ADMIN: run as root)" : "";
}

static bool ifname_ok(const char *name, char *errbuf)
{
    if (!name || !*name || strlen(name) >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' ')) {
        set_err(errbuf, "invalid interface name '%s': 1 to %d characters, no '/' or space", name ? name : "(null)",
                IFNAMSIZ - 1);
        return false;
    }
    return true;
}

static bool nsname_ok(const char *name, char *errbuf)
{
    if (!name || !*name || strlen(name) > 200 || strchr(name, '/') || !strcmp(name, ".") ||
        !strcmp(name, "..")) {
        set_err(errbuf, "invalid namespace name '%s'", name ? name : "(null)");
        return false;
    }
    return true;
}

/* ---- one netlink request/acknowledge exchange ---- */

typedef struct nl_ctx {
    char ext_msg[200];   /* extended-ack message of the kernel, if any */
    mnl_cb_t data_cb;    /* for replies carrying data (RTM_GETLINK) */
    void *data;
} nl_ctx;

static int ext_attr_cb(const struct nlattr *attr, void *data)
{
    nl_ctx *c = data;
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
        snprintf(c->ext_msg, sizeof c->ext_msg, "%s", mnl_attr_get_str(attr));
    return MNL_CB_OK;
}

/* NLMSG_ERROR: 0 is the acknowledge, otherwise keep the kernel's extended message. */
static int err_cb(const struct nlmsghdr *nlh, void *data)
{
    nl_ctx *c = data;
    const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
    size_t plen = mnl_nlmsg_get_payload_len(nlh);
    if (plen < sizeof *err) {
        errno = EBADMSG;
        return MNL_CB_ERROR;
    }
    if (err->error == 0)
        return MNL_CB_STOP;
    if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
        size_t off = sizeof *err;
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
            size_t inner = err->msg.nlmsg_len;
            if (inner < sizeof(struct nlmsghdr) || inner - sizeof(struct nlmsghdr) > plen - off)
                goto out;
            off += inner - sizeof(struct nlmsghdr);
        }
        if (off < plen)
            mnl_attr_parse_payload((const char *)err + off, plen - off, ext_attr_cb, c);
    }
out:
    errno = -err->error;
    return MNL_CB_ERROR;
}

/* Data messages go to the caller's callback with the caller's pointer; the
 * control callbacks get the nl_ctx itself. */
static int data_trampoline(const struct nlmsghdr *nlh, void *data)
{
    nl_ctx *c = data;
    return c->data_cb ? c->data_cb(nlh, c->data) : MNL_CB_OK;
}

/* Sends `nlh` (NLM_F_ACK is added) and reads until the acknowledge. Returns 0 or
 * -errno; the kernel's extended message lands in c->ext_msg. */
static int nl_talk(struct nlmsghdr *nlh, nl_ctx *c)
{
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl)
        return -errno;
    int one = 1, rc = 0;
    (void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof one);
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        rc = -errno;
        goto done;
    }
    unsigned portid = mnl_socket_get_portid(nl);
    nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = (unsigned)time(NULL);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        rc = -errno;
        goto done;
    }
    mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_ERROR] = err_cb};
    char *buf = malloc(NL_RECV_SIZE);
    if (!buf) {
        rc = -ENOMEM;
        goto done;
    }
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, NL_RECV_SIZE);
        if (n < 0) {
            rc = -errno;
            break;
        }
        int r = mnl_cb_run2(buf, (size_t)n, nlh->nlmsg_seq, portid, data_trampoline, c, ctl, NLMSG_MIN_TYPE);
        if (r == MNL_CB_ERROR) {
            rc = errno ? -errno : -EIO;
            break;
        }
        if (r == MNL_CB_STOP)
            break;
    }
    free(buf);
done:
    mnl_socket_close(nl);
    return rc;
}

/* Turns -errno of an operation into a PX code with "what: reason" in errbuf. */
static int fail(char *errbuf, const nl_ctx *c, int neg_errno, const char *what)
{
    int e = -neg_errno;
    if (c && c->ext_msg[0])
        set_err(errbuf, "%s: %s (%s)%s", what, strerror(e), c->ext_msg, hint_for(e));
    else
        set_err(errbuf, "%s: %s%s", what, strerror(e), hint_for(e));
    return px__err_from_errno(e);
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, unsigned char family, int index,
                                 struct ifinfomsg **ifm_out)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
    ifm->ifi_family = family;
    ifm->ifi_index = index;
    if (ifm_out)
        *ifm_out = ifm;
    return nlh;
}

/* ---- running an operation inside a namespace ---- */

typedef struct ns_job {
    const char *netns;
    int (*fn)(void *arg, char *errbuf);
    void *arg;
    char *errbuf;
    int rc;
} ns_job;

static int enter_netns(const char *netns, char *errbuf)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", NETNS_RUN_DIR, netns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        set_err(errbuf, "namespace '%s': %s", netns, e == ENOENT ? "does not exist" : strerror(e));
        return px__err_from_errno(e);
    }
    int rc = 0;
    if (setns(fd, CLONE_NEWNET) < 0) {
        int e = errno;
        set_err(errbuf, "entering namespace '%s': %s%s", netns, strerror(e), hint_for(e));
        rc = px__err_from_errno(e);
    }
    close(fd);
    return rc;
}

static void *ns_thread(void *p)
{
    ns_job *j = p;
    j->rc = enter_netns(j->netns, j->errbuf);
    if (j->rc == 0)
        j->rc = j->fn(j->arg, j->errbuf);
    return NULL;
}

int px_topo_netns_run(const char *netns, int (*fn)(void *arg, char *errbuf), void *arg, char *errbuf)
{
    if (!fn)
        return PX_EINVAL;
    if (!netns)
        return fn(arg, errbuf);
    if (!nsname_ok(netns, errbuf))
        return PX_EINVAL;
    ns_job j = {netns, fn, arg, errbuf, 0};
    pthread_t t;
    int e = pthread_create(&t, NULL, ns_thread, &j);
    if (e) {
        set_err(errbuf, "starting a thread for namespace '%s': %s", netns, strerror(e));
        return PX_ESYS;
    }
    pthread_join(t, NULL);
    return j.rc;
}

/* ---- link lookup ---- */

typedef struct link_info {
    int index;
    unsigned flags;     /* IFF_* */
    char kind[32];
    char qdisc[32];     /* "noop" until the link watch has attached the real one */
} link_info;

/* Copies a string attribute into a fixed buffer, cut to fit. */
static void attr_strcpy(const struct nlattr *attr, char *out, size_t size)
{
    if (mnl_attr_validate(attr, MNL_TYPE_STRING) != 0)
        return;
    size_t n = mnl_attr_get_payload_len(attr);
    if (n >= size)
        n = size - 1;
    memcpy(out, mnl_attr_get_payload(attr), n);
    out[n] = '\0';
}

static int linkinfo_attr_cb(const struct nlattr *attr, void *data)
{
    link_info *li = data;
    if (mnl_attr_get_type(attr) == IFLA_INFO_KIND)
        attr_strcpy(attr, li->kind, sizeof li->kind);
    return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
    link_info *li = data;
    if (mnl_attr_get_type(attr) == IFLA_LINKINFO && mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
        mnl_attr_parse_nested(attr, linkinfo_attr_cb, data);
    if (mnl_attr_get_type(attr) == IFLA_QDISC)
        attr_strcpy(attr, li->qdisc, sizeof li->qdisc);
    return MNL_CB_OK;
}

static int link_data_cb(const struct nlmsghdr *nlh, void *data)
{
    link_info *li = data;
    if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
        return MNL_CB_OK;
    const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
    li->index = ifm->ifi_index;
    li->flags = ifm->ifi_flags;
    mnl_attr_parse(nlh, sizeof *ifm, link_attr_cb, li);
    return MNL_CB_OK;
}

/* Looks a link up by name in the current namespace. Returns 0 or -errno. */
static int link_get(const char *name, link_info *li)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    memset(li, 0, sizeof *li);
    struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, 0, AF_UNSPEC, 0, NULL);
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    nl_ctx c = {.data_cb = link_data_cb, .data = li};
    int rc = nl_talk(nlh, &c);
    if (rc == 0 && li->index <= 0)
        rc = -ENODEV;
    return rc;
}

/* ---- operations; each runs in the target namespace ---- */

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
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, AF_UNSPEC, 0, &ifm);
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = up ? IFF_UP : 0;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    nl_ctx c = {0};
    int rc = nl_talk(nlh, &c);
    if (rc) {
        char what[96];
        snprintf(what, sizeof what, "setting '%s' %s", name, up ? "up" : "down");
        return fail(errbuf, &c, rc, what);
    }
    return 0;
}

static int op_veth_add(void *arg, char *errbuf)
{
    link_op *o = arg;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0, NULL);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, o->a);
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
    nl_ctx c = {0};
    int rc = nl_talk(nlh, &c);
    if (rc) {
        char what[96];
        snprintf(what, sizeof what, "creating veth '%s' <-> '%s'", o->a, o->b);
        return fail(errbuf, &c, rc, what);
    }
    rc = set_up_here(o->a, true, errbuf);
    if (rc == 0)
        rc = set_up_here(o->b, true, errbuf);
    if (rc) {
        /* Do not leave a half-made pair behind. */
        char b2[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *d = link_msg(b2, RTM_DELLINK, 0, AF_UNSPEC, 0, NULL);
        mnl_attr_put_strz(d, IFLA_IFNAME, o->a);
        nl_ctx c2 = {0};
        (void)nl_talk(d, &c2);
    }
    return rc;
}

static int op_link_del(void *arg, char *errbuf)
{
    link_op *o = arg;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, AF_UNSPEC, 0, NULL);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, o->a);
    nl_ctx c = {0};
    int rc = nl_talk(nlh, &c);
    if (rc == -ENODEV)
        return 0;
    if (rc) {
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
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, AF_UNSPEC, 0, NULL);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, o->a);
    mnl_attr_put_u32(nlh, IFLA_MTU, o->num);
    nl_ctx c = {0};
    int rc = nl_talk(nlh, &c);
    if (rc) {
        char what[96];
        snprintf(what, sizeof what, "setting MTU %u on '%s'", (unsigned)o->num, o->a);
        return fail(errbuf, &c, rc, what);
    }
    return 0;
}

/* num = file descriptor of the target namespace, opened by the caller's thread. */
static int op_set_netns(void *arg, char *errbuf)
{
    link_op *o = arg;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, AF_UNSPEC, 0, NULL);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, o->a);
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, o->num);
    nl_ctx c = {0};
    int rc = nl_talk(nlh, &c);
    if (rc) {
        char what[128];
        snprintf(what, sizeof what, "moving '%s' into namespace '%s'", o->a, o->ns_to ? o->ns_to : "(caller's)");
        return fail(errbuf, &c, rc, what);
    }
    return 0;
}

static int op_bridge_add(void *arg, char *errbuf)
{
    link_op *o = arg;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0, NULL);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, o->a);
    struct nlattr *linfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
    /* Only when asked: kernels without VLAN filtering reject the attribute even as 0. */
    if (o->flag1) {
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        mnl_attr_put_u8(nlh, IFLA_BR_VLAN_FILTERING, 1);
        mnl_attr_nest_end(nlh, data);
    }
    mnl_attr_nest_end(nlh, linfo);
    nl_ctx c = {0};
    int rc = nl_talk(nlh, &c);
    if (rc) {
        char what[96];
        snprintf(what, sizeof what, "creating bridge '%s'", o->a);
        rc = fail(errbuf, &c, rc, what);
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
        link_info li;
        int rc = link_get(o->b, &li);
        if (rc) {
            snprintf(what, sizeof what, "bridge '%s'", o->b);
            return fail(errbuf, NULL, rc, what);
        }
        master = (uint32_t)li.index;
    }
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, AF_UNSPEC, 0, NULL);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, o->a);
    mnl_attr_put_u32(nlh, IFLA_MASTER, master);
    nl_ctx c = {0};
    int rc = nl_talk(nlh, &c);
    if (rc) {
        if (o->b)
            snprintf(what, sizeof what, "adding '%s' to bridge '%s'", o->a, o->b);
        else
            snprintf(what, sizeof what, "releasing '%s' from its master", o->a);
        return fail(errbuf, &c, rc, what);
    }
    return 0;
}

/* flag1 = add (else delete), flag2 unused; num = vid | pvid << 16 | untagged << 17 */
static int op_bridge_vlan(void *arg, char *errbuf)
{
    link_op *o = arg;
    char what[128];
    uint16_t vid = (uint16_t)(o->num & 0xfff);
    snprintf(what, sizeof what, "%s VLAN %u %s '%s'", o->flag1 ? "adding" : "deleting", (unsigned)vid,
             o->flag1 ? "on" : "from", o->a);
    link_info li;
    int rc = link_get(o->a, &li);
    if (rc)
        return fail(errbuf, NULL, rc, what);
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh =
        link_msg(buf, o->flag1 ? RTM_SETLINK : RTM_DELLINK, 0, AF_BRIDGE, li.index, NULL);
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
    nl_ctx c = {0};
    rc = nl_talk(nlh, &c);
    if (rc)
        return fail(errbuf, &c, rc, what);
    return 0;
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
        set_err(errbuf, "%s: expected an address in CIDR form like 10.0.0.1/24 or 2001:db8::1/64", what);
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
        set_err(errbuf, "%s: '%s' is not an IPv4 or IPv6 address", what, ip);
        return PX_EINVAL;
    }
    unsigned plen = maxlen;
    if (slash) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || v > maxlen) {
            set_err(errbuf, "%s: prefix length must be 0..%u", what, maxlen);
            return PX_EINVAL;
        }
        plen = (unsigned)v;
    }
    link_info li;
    int rc = link_get(o->a, &li);
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
    nl_ctx c = {0};
    rc = nl_talk(nlh, &c);
    if (rc)
        return fail(errbuf, &c, rc, what);
    return 0;
}

static int op_exists(void *arg, char *errbuf)
{
    (void)errbuf;
    link_op *o = arg;
    link_info li;
    return link_get(o->a, &li) == 0 ? 1 : 0;
}

/* Up, carrier on (IFF_RUNNING) and a queueing discipline attached: the kernel
 * sets IFF_RUNNING a moment before the link watch replaces "noop" (which drops
 * every frame silently), so both are checked. */
static int op_ready(void *arg, char *errbuf)
{
    (void)errbuf;
    link_op *o = arg;
    link_info li;
    if (link_get(o->a, &li) != 0)
        return 0;
    return (li.flags & IFF_UP) && (li.flags & IFF_RUNNING) && strcmp(li.qdisc, "noop") != 0 ? 1 : 0;
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

bool px_topo_link_ready(const char *netns, const char *name)
{
    if (!ifname_ok(name, NULL))
        return false;
    link_op o = {.a = name};
    return px_topo_netns_run(netns, op_ready, &o, NULL) == 1;
}


int px_topo_veth_add(const char *netns, const char *a, const char *b, char *errbuf)
{
    if (!ifname_ok(a, errbuf) || !ifname_ok(b, errbuf))
        return PX_EINVAL;
    link_op o = {.a = a, .b = b};
    int rc = px_topo_netns_run(netns, op_veth_add, &o, errbuf);
    if (rc == 0)
        wait_links_ready(netns, a, b);
    return rc;
}

int px_topo_link_del(const char *netns, const char *name, char *errbuf)
{
    if (!ifname_ok(name, errbuf))
        return PX_EINVAL;
    link_op o = {.a = name};
    int rc = px_topo_netns_run(netns, op_link_del, &o, errbuf);
    /* Deleting from a namespace that is gone already: the link went with it. */
    return rc == PX_ENODEV && netns && !px_topo_netns_exists(netns) ? 0 : rc;
}

int px_topo_link_set_up(const char *netns, const char *name, bool up, char *errbuf)
{
    if (!ifname_ok(name, errbuf))
        return PX_EINVAL;
    link_op o = {.a = name, .flag1 = up};
    return px_topo_netns_run(netns, op_set_up, &o, errbuf);
}

int px_topo_link_set_mtu(const char *netns, const char *name, uint32_t mtu, char *errbuf)
{
    if (!ifname_ok(name, errbuf))
        return PX_EINVAL;
    if (mtu < 68) {
        set_err(errbuf, "MTU %u on '%s': must be at least 68", (unsigned)mtu, name);
        return PX_ERANGE;
    }
    link_op o = {.a = name, .num = mtu};
    return px_topo_netns_run(netns, op_set_mtu, &o, errbuf);
}

int px_topo_link_set_netns(const char *netns, const char *name, const char *to_netns, char *errbuf)
{
    if (!ifname_ok(name, errbuf) || (to_netns && !nsname_ok(to_netns, errbuf)))
        return PX_EINVAL;
    /* Open the target here, on the caller's thread: NULL is the caller's own namespace. */
    char path[PATH_MAX];
    if (to_netns)
        snprintf(path, sizeof path, "%s/%s", NETNS_RUN_DIR, to_netns);
    else
        snprintf(path, sizeof path, "/proc/thread-self/ns/net");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        set_err(errbuf, "moving '%s': namespace '%s': %s", name, to_netns ? to_netns : "(caller's)",
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
    if (!ifname_ok(name, NULL))
        return false;
    link_op o = {.a = name};
    return px_topo_netns_run(netns, op_exists, &o, NULL) == 1;
}

int px_topo_bridge_add(const char *netns, const char *name, bool vlan_filtering, char *errbuf)
{
    if (!ifname_ok(name, errbuf))
        return PX_EINVAL;
    link_op o = {.a = name, .flag1 = vlan_filtering};
    return px_topo_netns_run(netns, op_bridge_add, &o, errbuf);
}

int px_topo_link_set_master(const char *netns, const char *port, const char *bridge, char *errbuf)
{
    if (!ifname_ok(port, errbuf) || (bridge && !ifname_ok(bridge, errbuf)))
        return PX_EINVAL;
    link_op o = {.a = port, .b = bridge};
    return px_topo_netns_run(netns, op_set_master, &o, errbuf);
}

static int bridge_vlan(const char *netns, const char *port, uint16_t vid, bool add, bool pvid, bool untagged,
                       char *errbuf)
{
    if (!ifname_ok(port, errbuf))
        return PX_EINVAL;
    if (vid < 1 || vid > 4094) {
        set_err(errbuf, "VLAN %u on '%s': must be 1..4094", (unsigned)vid, port);
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
    if (!ifname_ok(name, errbuf))
        return PX_EINVAL;
    if (!cidr) {
        set_err(errbuf, "adding an address to '%s': no address given", name);
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
    if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST) {
        int e = errno;
        set_err(errbuf, "creating %s: %s%s", NETNS_RUN_DIR, strerror(e), hint_ns(e));
        return px__err_from_errno(e);
    }
    for (int tries = 0; tries < 2; tries++) {
        if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
            return 0;
        int e = errno;
        if (e != EINVAL || tries) {
            set_err(errbuf, "making %s a shared mount: %s%s", NETNS_RUN_DIR, strerror(e), hint_ns(e));
            return px__err_from_errno(e);
        }
        /* Not a mount point yet: bind it onto itself, then try again. */
        if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0) {
            e = errno;
            set_err(errbuf, "bind-mounting %s: %s%s", NETNS_RUN_DIR, strerror(e), hint_ns(e));
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
        set_err(j->errbuf, "creating a network namespace: %s%s", strerror(e), hint_ns(e));
        j->rc = px__err_from_errno(e);
        return NULL;
    }
    if (mount("/proc/thread-self/ns/net", j->path, "none", MS_BIND, NULL) < 0) {
        int e = errno;
        set_err(j->errbuf, "bind-mounting the new namespace on %s: %s%s", j->path, strerror(e), hint_ns(e));
        j->rc = px__err_from_errno(e);
        return NULL;
    }
    /* A fresh namespace has its loopback down; tests expect it up. */
    j->rc = set_up_here("lo", true, j->errbuf);
    return NULL;
}

int px_topo_netns_add(const char *name, char *errbuf)
{
    if (!nsname_ok(name, errbuf))
        return PX_EINVAL;
    int rc = prepare_run_dir(errbuf);
    if (rc)
        return rc;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", NETNS_RUN_DIR, name);
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        set_err(errbuf, "creating namespace '%s': %s%s", name, e == EEXIST ? "it exists already" : strerror(e),
                hint_ns(e));
        return px__err_from_errno(e);
    }
    close(fd);
    ns_add_job j = {path, errbuf, 0};
    pthread_t t;
    int e = pthread_create(&t, NULL, ns_add_thread, &j);
    if (e) {
        set_err(errbuf, "starting a thread for namespace '%s': %s", name, strerror(e));
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
    if (!nsname_ok(name, errbuf))
        return PX_EINVAL;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", NETNS_RUN_DIR, name);
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
        int e = errno;
        set_err(errbuf, "unmounting namespace '%s': %s%s", name, strerror(e), hint_ns(e));
        return px__err_from_errno(e);
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        int e = errno;
        set_err(errbuf, "removing namespace '%s': %s%s", name, strerror(e), hint_ns(e));
        return px__err_from_errno(e);
    }
    return 0;
}

bool px_topo_netns_exists(const char *name)
{
    if (!nsname_ok(name, NULL))
        return false;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", NETNS_RUN_DIR, name);
    struct stat st;
    return stat(path, &st) == 0;
}
