/* pktexpect: entering network namespaces and asking rtnetlink about a link.
 * See netns.h. The topology library (runner/topology) builds on the same code. */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "err_internal.h"

/* Large enough for an RTM_NEWLINK reply with all its statistics. */
#define NL_RECV_SIZE 32768

const char *px__nl_hint(int e)
{
    return (e == EPERM || e == EACCES) ? " (needs CAP_NET_ADMIN: run as root)" : "";
}

bool px__ifname_ok(const char *name, char *errbuf)
{
    if (!name || !*name || strlen(name) >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' ')) {
        px__errbuf_printf(errbuf, "invalid interface name '%s': 1 to %d characters, no '/' or space", name ? name : "(null)",
                IFNAMSIZ - 1);
        return false;
    }
    return true;
}

bool px__netns_name_ok(const char *name, char *errbuf)
{
    if (!name || !*name || strlen(name) > 200 || strchr(name, '/') || !strcmp(name, ".") ||
        !strcmp(name, "..")) {
        px__errbuf_printf(errbuf, "invalid namespace name '%s'", name ? name : "(null)");
        return false;
    }
    return true;
}

/* ---- one netlink request/acknowledge exchange ---- */

static int ext_attr_cb(const struct nlattr *attr, void *data)
{
    px__nl_ctx *c = data;
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
        snprintf(c->ext_msg, sizeof c->ext_msg, "%s", mnl_attr_get_str(attr));
    return MNL_CB_OK;
}

/* NLMSG_ERROR: 0 is the acknowledge, otherwise keep the kernel's extended message. */
static int err_cb(const struct nlmsghdr *nlh, void *data)
{
    px__nl_ctx *c = data;
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
 * control callbacks get the px__nl_ctx itself. */
static int data_trampoline(const struct nlmsghdr *nlh, void *data)
{
    px__nl_ctx *c = data;
    return c->data_cb ? c->data_cb(nlh, c->data) : MNL_CB_OK;
}

/* Sends `nlh` (NLM_F_ACK is added) and reads until the acknowledge. Returns 0 or
 * -errno; the kernel's extended message lands in c->ext_msg. */
int px__nl_talk(struct nlmsghdr *nlh, px__nl_ctx *c)
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

struct nlmsghdr *px__nl_link_msg(char *buf, uint16_t type, uint16_t flags, unsigned char family, int index,
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
    snprintf(path, sizeof path, "%s/%s", PX__NETNS_RUN_DIR, netns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        px__errbuf_printf(errbuf, "namespace '%s': %s", netns, e == ENOENT ? "does not exist" : strerror(e));
        return px__err_from_errno(e);
    }
    int rc = 0;
    if (setns(fd, CLONE_NEWNET) < 0) {
        int e = errno;
        px__errbuf_printf(errbuf, "entering namespace '%s': %s%s", netns, strerror(e), px__nl_hint(e));
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

int px__netns_run(const char *netns, int (*fn)(void *arg, char *errbuf), void *arg, char *errbuf)
{
    if (!fn)
        return PX_EINVAL;
    if (!netns)
        return fn(arg, errbuf);
    if (!px__netns_name_ok(netns, errbuf))
        return PX_EINVAL;
    ns_job j = {netns, fn, arg, errbuf, 0};
    pthread_t t;
    int e = pthread_create(&t, NULL, ns_thread, &j);
    if (e) {
        px__errbuf_printf(errbuf, "starting a thread for namespace '%s': %s", netns, strerror(e));
        return PX_ESYS;
    }
    pthread_join(t, NULL);
    return j.rc;
}

/* ---- link lookup ---- */

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
    px__link_info *li = data;
    if (mnl_attr_get_type(attr) == IFLA_INFO_KIND)
        attr_strcpy(attr, li->kind, sizeof li->kind);
    return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
    px__link_info *li = data;
    if (mnl_attr_get_type(attr) == IFLA_LINKINFO && mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
        mnl_attr_parse_nested(attr, linkinfo_attr_cb, data);
    if (mnl_attr_get_type(attr) == IFLA_QDISC)
        attr_strcpy(attr, li->qdisc, sizeof li->qdisc);
    return MNL_CB_OK;
}

static int link_data_cb(const struct nlmsghdr *nlh, void *data)
{
    px__link_info *li = data;
    if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
        return MNL_CB_OK;
    const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
    li->index = ifm->ifi_index;
    li->flags = ifm->ifi_flags;
    mnl_attr_parse(nlh, sizeof *ifm, link_attr_cb, li);
    return MNL_CB_OK;
}

/* Looks a link up by name in the current namespace. Returns 0 or -errno. */
int px__link_get(const char *name, px__link_info *li)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    memset(li, 0, sizeof *li);
    struct nlmsghdr *nlh = px__nl_link_msg(buf, RTM_GETLINK, 0, AF_UNSPEC, 0, NULL);
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    px__nl_ctx c = {.data_cb = link_data_cb, .data = li};
    int rc = px__nl_talk(nlh, &c);
    if (rc == 0 && li->index <= 0)
        rc = -ENODEV;
    return rc;
}

/* Up, carrier on (IFF_RUNNING) and a queueing discipline attached: the kernel
 * sets IFF_RUNNING a moment before the link watch replaces "noop" (which drops
 * every frame silently), so both are checked. */
static int op_ready(void *arg, char *errbuf)
{
    (void)errbuf;
    const char *name = arg;
    px__link_info li;
    if (px__link_get(name, &li) != 0)
        return 0;
    return (li.flags & IFF_UP) && (li.flags & IFF_RUNNING) && strcmp(li.qdisc, "noop") != 0 ? 1 : 0;
}

bool px__link_ready(const char *netns, const char *name)
{
    if (!px__ifname_ok(name, NULL))
        return false;
    return px__netns_run(netns, op_ready, (void *)name, NULL) == 1;
}
