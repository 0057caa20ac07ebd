/* pktexpect: the sender core: TX sockets per (context, port), frame checks, VLAN
 * push, tag trailer, sendmmsg batches, evidence of sent frames.
 * See include/pktexpect/send.h for the contract. */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bmv2.h"
#include "ctx_internal.h"
#include "dissect.h"
#include "err_internal.h"
#include "link.h"
#include "pktexpect/evidence.h"
#include "send_internal.h"

/* Frames per sendmmsg call: the kernel takes at most UIO_MAXIOV (1024). */
#define TX_BATCH 1024
#define TX_SMALL 16
#define TX_BATCH_TAGGED 16
/* How long a full device queue (ENOBUFS) is retried before giving up. */
#define TX_RETRY_NS 1000000000ull

/* The sender's per-context state, kept in the context's sender slot. The lock is
 * held for lookups and state changes only, never across a system call that can
 * block (socket creation, namespace entry, link-ready wait, sends). */
typedef struct px__sender {
    pthread_mutex_t lock;     /* guards ports[], n, cap and each entry's guarded fields */
    px__txport **ports;       /* each allocated once, never moved: callers keep pointers */
    size_t n, cap;
    atomic_uint_fast64_t next_tag;
} px__sender;

/* Frees the sender at context free: no send may be running any more. */
void px__sender_ctx_free(void *p)
{
    px__sender *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        if (s->ports[i]->fd >= 0)
            close(s->ports[i]->fd);
        pthread_cond_destroy(&s->ports[i]->opened);
        free(s->ports[i]);
    }
    free(s->ports);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static px__sender *sender_get(px_ctx *ctx)
{
    pthread_mutex_t *lock = px__ctx_lock(ctx);
    pthread_mutex_lock(lock);
    void **slot = px__ctx_sender_slot(ctx);
    px__sender *s = *slot;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (s) {
            pthread_mutex_init(&s->lock, NULL);
            uint64_t seed = 0;
            if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
                seed = px__now_ns(CLOCK_REALTIME) ^ ((uint64_t)(uintptr_t)s << 16);
            atomic_init(&s->next_tag, seed);
            *slot = s;
        }
    }
    pthread_mutex_unlock(lock);
    return s;
}

uint64_t px_send_tag_new(px_ctx *ctx)
{
    px__sender *s = ctx ? sender_get(ctx) : NULL;
    if (!s)
        return px__now_ns(CLOCK_REALTIME) | 1u;
    uint64_t t;
    do
        t = atomic_fetch_add(&s->next_tag, 1);
    while (t == 0);
    return t;
}

uint64_t px__tx_first_tag(px_ctx *ctx, const px_send_opts *opts)
{
    if (!opts || !opts->tagged)
        return 0;
    uint64_t t = opts->tag ? opts->tag : px_send_tag_new(ctx);
    if (opts->tag_out)
        *opts->tag_out = t;
    return t;
}

/* px__err_from_errno, except that a send on a port whose interface was there
 * when it was opened says it disappeared (PX_EGONE), not that it never was. */
static int err_from_errno(int e)
{
    int rc = px__err_from_errno(e);
    return rc == PX_ENODEV ? PX_EGONE : rc;
}
/* A freshly created or freshly raised interface transmits only once the kernel's
 * link watch has marked it operational and attached its queueing discipline;
 * until then frames are dropped without an error. So before the first send on a
 * port, wait (at most TX_READY_WAIT_NS) until it is ready (px__link_wait_ready).
 * An interface that is down is not waited for: the send then fails with PX_EDOWN. */
#define TX_READY_WAIT_NS 2000000000ull

/* A TX socket created in the port's namespace (not bound yet). */
static int open_tx_socket(const char *name, const char *netns, char *errbuf)
{
    char why[PX_ERRBUF_SIZE] = "";
    int fd = -1;
    int rc = px__packet_socket(netns, &fd, why);
    if (rc != 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE,
                     rc == PX_EPERM ? "sending on '%s' needs CAP_NET_RAW: run as root or give the binary "
                                      "cap_net_raw,cap_net_admin+eip with setcap"
                                    : "sending on '%s': %s",
                     name, why);
        return rc;
    }
    return fd;
}

/* Index and MTU of `ifname`, asked through `fd` (so in the socket's namespace).
 * The MTU is read on every resolve, so a changed MTU is seen at once. */
static int tx_query(int fd, const char *port, const char *ifname, int *ifindex, uint32_t *mtu, char *errbuf)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "no network interface '%s' to send on (check the name with `ip link`)",
                     port);
        return PX_ENODEV;
    }
    *ifindex = ifr.ifr_ifindex;
    *mtu = ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? (uint32_t)ifr.ifr_mtu : 1500;
    return 0;
}

/* The current (not retired) entry of `port`, or NULL. Caller holds s->lock. */
static px__txport *find_current(px__sender *s, const char *port)
{
    for (size_t i = 0; i < s->n; i++)
        if (!s->ports[i]->retired && strcmp(s->ports[i]->name, port) == 0)
            return s->ports[i];
    return NULL;
}

/* Appends a fresh entry for `port` in state OPENING (the caller becomes its
 * opener). Caller holds s->lock. NULL when out of memory. */
static px__txport *add_opening(px__sender *s, const char *port)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        px__txport **p = realloc(s->ports, cap * sizeof *p);
        if (!p)
            return NULL;
        s->ports = p;
        s->cap = cap;
    }
    px__txport *tp = calloc(1, sizeof *tp);
    if (!tp)
        return NULL;
    snprintf(tp->name, sizeof tp->name, "%s", port);
    tp->fd = -1;
    tp->state = PX__TX_OPENING;
    pthread_cond_init(&tp->opened, NULL);
    s->ports[s->n++] = tp;
    return tp;
}

/* The slow part of a first use, run by the opener without the sender lock: a
 * socket in the port's namespace, the interface's index and MTU, bind, and the
 * wait until the link transmits. On success tp->fd and tp->ifindex are set
 * (published to others by the READY state, under the lock). */
static int open_entry(px__txport *tp, const char *netns, const char *ifname, uint32_t *mtu, char *errbuf)
{
    int fd = open_tx_socket(tp->name, netns, errbuf);
    if (fd < 0)
        return fd;
    int ifindex = 0;
    int rc = tx_query(fd, tp->name, ifname, &ifindex, mtu, errbuf);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = 0, .sll_ifindex = ifindex};
    if (rc == 0 && bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        int e = errno;
        snprintf(errbuf, PX_ERRBUF_SIZE, "sending on '%s': bind: %s", tp->name, strerror(e));
        rc = err_from_errno(e);
    }
    if (rc != 0) {
        close(fd);
        return rc;
    }
    (void)px__link_wait_ready(netns, ifname, TX_READY_WAIT_NS, NULL);
    tp->fd = fd;
    tp->ifindex = ifindex;
    return 0;
}

/* Ends the opening of `tp` with `rc` and wakes the senders waiting for it.
 * Caller holds s->lock. */
static void publish_open(px__txport *tp, int rc, const char *errbuf)
{
    tp->state = rc == 0 ? PX__TX_READY : PX__TX_FAILED;
    tp->open_rc = rc;
    snprintf(tp->open_err, sizeof tp->open_err, "%s", rc == 0 ? "" : errbuf);
    pthread_cond_broadcast(&tp->opened);
}

/* BMv2 has no MTU of its own: frames up to 65535 bytes. */
#define BMV2_MTU (65535u - 14u)

/* px__tx_resolve for a "bmv2:ADDR:N" port: an entry on the context's hub of
 * ADDR (opened and waited for by px__bmv2_hub_get, which serialises first uses
 * itself); an entry whose switch went away is retired for one on a new hub. */
static int tx_resolve_bmv2(px__sender *s, px_ctx *ctx, const char *port, px__txport **out, uint32_t *mtu,
                           char *errbuf)
{
    pthread_mutex_lock(&s->lock);
    px__txport *tp = find_current(s, port);
    if (tp && !px__bmv2_hub_dead(tp->bmv2)) {
        pthread_mutex_unlock(&s->lock);
        *out = tp;
        *mtu = BMV2_MTU;
        return 0;
    }
    pthread_mutex_unlock(&s->lock);
    px__bmv2_hub *h;
    int num;
    int rc = px__bmv2_hub_get(ctx, port, &h, &num, errbuf);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&s->lock);
    tp = find_current(s, port);
    if (tp && tp->bmv2 != h) {
        tp->retired = true;
        tp = NULL;
    }
    if (!tp && (tp = add_opening(s, port))) {
        tp->bmv2 = h;
        tp->bmv2_port = num;
        publish_open(tp, 0, "");
    }
    pthread_mutex_unlock(&s->lock);
    if (!tp) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "send: out of memory");
        return PX_ENOMEM;
    }
    *out = tp;
    *mtu = BMV2_MTU;
    return 0;
}

/* Finds (or makes) the TX socket of `port`. Sending needs no capture: the port is
 * not opened for capture here, which keeps the first send fast. The lock is held
 * for the lookup only: the opener of an entry works unlocked, senders to the
 * same port wait on its condition variable, senders to other ports go on. */
int px__tx_resolve(px_ctx *ctx, const char *port, px__txport **out, uint32_t *mtu, char *errbuf)
{
    if (!ctx || !port || !*port) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "send: no context or no port name given");
        return PX_EINVAL;
    }
    char netns[PX__NETNS_MAX], ifname[IF_NAMESIZE], local[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = local;
    int rc = px__bmv2_is_name(port) ? 0 : px__port_split(port, netns, ifname, errbuf);
    if (rc < 0)
        return rc;
    px__sender *s = sender_get(ctx);
    if (!s) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "send: out of memory");
        return PX_ENOMEM;
    }
    if (px__bmv2_is_name(port))
        return tx_resolve_bmv2(s, ctx, port, out, mtu, errbuf);

    pthread_mutex_lock(&s->lock);
    px__txport *tp;
    for (;;) {
        tp = find_current(s, port);
        if (tp && tp->state == PX__TX_OPENING) {
            /* Another thread opens it: wait for that port only, then take its result. */
            while (tp->state == PX__TX_OPENING)
                pthread_cond_wait(&tp->opened, &s->lock);
            if (tp->state == PX__TX_FAILED) {
                rc = tp->open_rc;
                snprintf(errbuf, PX_ERRBUF_SIZE, "%s", tp->open_err);
                pthread_mutex_unlock(&s->lock);
                return rc;
            }
            continue;
        }
        if (tp && tp->state == PX__TX_READY) {
            pthread_mutex_unlock(&s->lock);
            int ifindex = 0;
            if (tx_query(tp->fd, port, ifname, &ifindex, mtu, NULL) == 0 && ifindex == tp->ifindex) {
                *out = tp;
                return 0;
            }
            /* The interface was re-created under the same name (or is gone): a new
             * entry replaces this one. Its socket is closed only at context free, so
             * a concurrent sender still holding it gets an error, never a reused fd. */
            pthread_mutex_lock(&s->lock);
            tp->retired = true;
            continue; /* the first thread here makes the new entry, the others wait on it */
        }
        break; /* no entry, or a failed one: this thread opens it */
    }
    if (tp)
        tp->state = PX__TX_OPENING;
    else if (!(tp = add_opening(s, port))) {
        pthread_mutex_unlock(&s->lock);
        snprintf(errbuf, PX_ERRBUF_SIZE, "send: out of memory");
        return PX_ENOMEM;
    }
    pthread_mutex_unlock(&s->lock);

    errbuf[0] = '\0';
    rc = open_entry(tp, netns, ifname, mtu, errbuf);

    pthread_mutex_lock(&s->lock);
    publish_open(tp, rc, errbuf);
    pthread_mutex_unlock(&s->lock);
    if (rc == 0)
        *out = tp;
    return rc;
}

px__tx_state px__tx_state_of(px_ctx *ctx, const char *port)
{
    px__sender *s = ctx && port ? sender_get(ctx) : NULL;
    if (!s)
        return PX__TX_ABSENT;
    pthread_mutex_lock(&s->lock);
    px__txport *tp = find_current(s, port);
    px__tx_state st = tp ? tp->state : PX__TX_ABSENT;
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* Copies `src` into dst[0, cap), truncated, NUL-terminated. */
static void append_text(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int check_opts(const px_send_opts *o, char *errbuf)
{
    if (o && o->push_vlan && (o->vlan_id > 4095 || o->vlan_pcp > 7)) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "send: VLAN %u priority %u out of range (VID 0..4095, PCP 0..7)",
                     o->vlan_id, o->vlan_pcp);
        return PX_ERANGE;
    }
    return 0;
}

/* "frame" or "frame IDX of the burst": built only for an error message, never
 * per frame on the fast path. */
static const char *frame_name(char buf[48], size_t idx)
{
    if (idx == SIZE_MAX)
        return "frame";
    snprintf(buf, 48, "frame %zu of the burst", idx);
    return buf;
}

/* Checks one frame against the port and the options. `idx` names it in messages
 * (SIZE_MAX: a single frame). No formatting unless the frame is refused. */
int px__tx_check(const char *port, uint32_t mtu, const uint8_t *b, size_t len, const px_send_opts *o, size_t idx,
                 char *errbuf)
{
    char which[48];
    if (!b || len == 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "send on '%s': %s is empty", port, frame_name(which, idx));
        return PX_EINVAL;
    }
    if (len < 14) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "send on '%s': %s has %zu bytes, less than an Ethernet header (14)",
                     port, frame_name(which, idx), len);
        return PX_EINVAL;
    }
    bool push = o && o->push_vlan;
    size_t out_len = len + (push ? 4u : 0u);
    /* Linux (AF_PACKET and veth alike) lets a tagged frame exceed MTU + 14 by one
     * tag, 4 bytes, however many tags it carries: check the same rule here, so the
     * caller gets this message instead of EMSGSIZE or a silent drop. Untagged
     * frames within MTU + 14 need no walk over their tags. */
    if (out_len > (size_t)mtu + 14u) {
        unsigned tags = px__eth_vlan_walk(b, len, NULL) + (push ? 1u : 0u);
        size_t vlan_room = tags ? 4u : 0u;
        size_t max = (size_t)mtu + 14u + vlan_room;
        if (out_len > max) {
            if (errbuf)
                snprintf(errbuf, PX_ERRBUF_SIZE,
                         "send on '%s': %s has %zu bytes, more than the port allows: MTU %u + 14 (Ethernet) + %zu "
                         "(VLAN tag) = %zu%s",
                         port, frame_name(which, idx), out_len, mtu, vlan_room, max,
                         tags > 1 ? "; Linux allows one tag beyond the MTU: raise the MTU for stacked tags" : "");
            return PX_EMTU;
        }
    }
    if (o && o->tagged) {
        char why[PX_ERRBUF_SIZE];
        int rc = px__tag_check(b, len, why);
        if (rc < 0) {
            if (errbuf) {
                int n = snprintf(errbuf, PX_ERRBUF_SIZE, "send on '%s': %s: ", port, frame_name(which, idx));
                if (n > 0 && n < PX_ERRBUF_SIZE)
                    append_text(errbuf + n, (size_t)(PX_ERRBUF_SIZE - n), why);
            }
            return rc;
        }
    }
    return 0;
}

/* Copies `b` into `dst` with the options applied (except the tag); returns the
 * new length. */
static size_t apply_push(uint8_t *dst, const uint8_t *b, size_t len, const px_send_opts *o)
{
    if (!o->push_vlan) {
        memcpy(dst, b, len);
        return len;
    }
    uint16_t tpid = o->vlan_tpid ? o->vlan_tpid : 0x8100;
    uint16_t tci = (uint16_t)((o->vlan_pcp & 7u) << 13 | (o->vlan_id & 0x0fffu));
    memcpy(dst, b, 12);
    dst[12] = (uint8_t)(tpid >> 8);
    dst[13] = (uint8_t)tpid;
    dst[14] = (uint8_t)(tci >> 8);
    dst[15] = (uint8_t)tci;
    memcpy(dst + 16, b + 12, len - 12);
    return len + 4;
}

/* Sends msgs[0, k) with sendmmsg, retrying partial sends, EINTR and a full
 * device queue. Returns how many went out; *err = the errno that stopped it. */
static size_t send_batch(int fd, struct mmsghdr *msgs, size_t k, int *err)
{
    size_t done = 0;
    uint64_t retry_until = 0;
    *err = 0;
    while (done < k) {
        int r = sendmmsg(fd, msgs + done, (unsigned)(k - done), 0);
        if (r > 0) {
            done += (size_t)r;
            retry_until = 0;
            continue;
        }
        int e = r < 0 ? errno : EIO;
        if (e == EINTR)
            continue;
        if (e == ENOBUFS || e == EAGAIN) {
            uint64_t now = px__now_ns(CLOCK_MONOTONIC);
            if (retry_until == 0)
                retry_until = now + TX_RETRY_NS;
            if (now < retry_until) {
                /* the device queue drains at line rate: wait a little, no spin */
                struct timespec pause = {0, 20000};
                nanosleep(&pause, NULL);
                continue;
            }
        }
        *err = e;
        break;
    }
    return done;
}

/* Checks every frame before anything is sent. */
static int check_all(const px__txport *tp, uint32_t mtu, const px_tx_frame *frames, size_t n,
                     const px_send_opts *opts, char *errbuf)
{
    int rc = check_opts(opts, errbuf);
    if (rc < 0)
        return rc;
    if (!frames && n > 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "send on '%s': no frames given", tp->name);
        return PX_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        rc = px__tx_check(tp->name, mtu, frames[i].bytes, frames[i].len, opts, n == 1 ? SIZE_MAX : i, errbuf);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Makes the scratch buffer (owned by the calling px__tx_burst) big enough for
 * the k frames with a VLAN tag each. false when out of memory. */
static bool grow_scratch(uint8_t **scratch, size_t *cap, const px_tx_frame *f, size_t k)
{
    size_t need = 0;
    for (size_t j = 0; j < k; j++)
        need += f[j].len + 4;
    if (need <= *cap)
        return true;
    uint8_t *p = realloc(*scratch, need);
    if (!p)
        return false;
    *scratch = p;
    *cap = need;
    return true;
}

/* Points iov[0, k) at the frames, as given or (modify) copied into `scratch`
 * with the VLAN pushed. */
static void fill_iov(struct iovec *iov, const px_tx_frame *f, size_t k, bool modify, uint8_t *scratch,
                     const px_send_opts *opts)
{
    size_t pos = 0;
    for (size_t j = 0; j < k; j++) {
        if (modify) {
            size_t l = apply_push(scratch + pos, f[j].bytes, f[j].len, opts);
            iov[j].iov_base = scratch + pos;
            iov[j].iov_len = l;
            pos += l;
        } else {
            iov[j].iov_base = (void *)(uintptr_t)f[j].bytes; /* sendmsg does not write it */
            iov[j].iov_len = f[j].len;
        }
    }
}

/* The error message of a batch the kernel refused part of. */
static int batch_error(const px__txport *tp, int e, size_t total, size_t n, char *errbuf)
{
    int rc = err_from_errno(e);
    char name[IF_NAMESIZE];
    if (rc == PX_EDOWN && !if_indextoname((unsigned)tp->ifindex, name))
        rc = PX_EGONE; /* "down" because it is being deleted */
    if (errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "send on '%s': %s (%zu of %zu frames went out)%s", tp->name, strerror(e),
                 total, n,
                 rc == PX_EGONE ? ": the interface disappeared" : rc == PX_EDOWN ? ": bring the interface up" : "");
    return rc;
}

/* Sends in batches of up to TX_BATCH frames, one sendmmsg per batch as far as the
 * kernel takes them. Per frame, the fast path (no VLAN push, no tag, no evidence)
 * only fills one iovec: the message headers are set up once per call, no copy,
 * no lock, no allocation, no formatting; the evidence, when on, takes its lock
 * once per batch. Only the scratch copies for VLAN push / tags grow with the batch. */
int px__tx_burst(px_ctx *ctx, px__txport *tp, uint32_t mtu, const px_tx_frame *frames, size_t n,
                 const px_send_opts *opts, uint64_t tag_base, size_t *sent, char *errbuf)
{
    size_t total = 0;
    if (sent)
        *sent = 0;
    int rc = check_all(tp, mtu, frames, n, opts, errbuf);
    if (rc < 0)
        return rc;
    const bool modify = opts && (opts->push_vlan || opts->tagged);
    /* Tagged frames carry the time just before their batch goes out: smaller
     * batches keep that stamp within a few microseconds of the real send. */
    const size_t batch_cap = opts && opts->tagged ? TX_BATCH_TAGGED : TX_BATCH;
    const size_t batch_max = n < batch_cap ? n : batch_cap;
    /* Small batches (single sends, paced runs) use the stack: no allocation per call. */
    struct mmsghdr small_msgs[TX_SMALL];
    struct iovec small_iov[TX_SMALL];
    const bool small = batch_max <= TX_SMALL;
    struct mmsghdr *msgs = small ? small_msgs : malloc(batch_max * sizeof *msgs);
    struct iovec *iov = small ? small_iov : malloc(batch_max * sizeof *iov);
    uint8_t *scratch = NULL;
    size_t scratch_cap = 0;
    if (!msgs || !iov) {
        rc = PX_ENOMEM;
        goto out;
    }
    for (size_t j = 0; j < batch_max; j++)
        msgs[j] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[j], .msg_iovlen = 1}};
    px_evidence *ev = px__ctx_evidence(ctx);

    for (size_t base = 0; base < n; base += batch_max) {
        size_t k = n - base < batch_max ? n - base : batch_max;
        if (modify && !grow_scratch(&scratch, &scratch_cap, frames + base, k)) {
            rc = PX_ENOMEM;
            goto out;
        }
        fill_iov(iov, frames + base, k, modify, scratch, opts);
        struct timespec now_rt = {0, 0};
        if (ev || (opts && opts->tagged))
            clock_gettime(CLOCK_REALTIME, &now_rt);
        if (opts && opts->tagged) {
            uint64_t ns = (uint64_t)now_rt.tv_sec * 1000000000u + (uint64_t)now_rt.tv_nsec;
            for (size_t j = 0; j < k; j++)
                px__tag_write(iov[j].iov_base, iov[j].iov_len, tag_base + base + j, ns);
        }
        int e = 0, brc = 0;
        char berr[PX_ERRBUF_SIZE];
        size_t done = tp->bmv2 ? px__bmv2_send(tp->bmv2, tp->name, tp->bmv2_port, iov, k, &brc, berr)
                               : send_batch(tp->fd, msgs, k, &e);
        if (ev && done)
            px__evidence_write_out(ev, tp->name, &now_rt, iov, done);
        total += done;
        if (done < k) {
            if (tp->bmv2) {
                rc = brc;
                if (errbuf)
                    snprintf(errbuf, PX_ERRBUF_SIZE, "%s", berr);
            } else {
                rc = batch_error(tp, e, total, n, errbuf);
            }
            goto out;
        }
    }
    rc = 0;
out:
    if (rc == PX_ENOMEM && errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "send on '%s': out of memory", tp->name);
    free(scratch);
    if (!small) {
        free(iov);
        free(msgs);
    }
    if (sent)
        *sent = total;
    return rc;
}

int px_send_ex(px_ctx *ctx, const char *port, const uint8_t *bytes, size_t len, const px_send_opts *opts,
               char *errbuf)
{
    px__txport *tp;
    uint32_t mtu;
    int rc = px__tx_resolve(ctx, port, &tp, &mtu, errbuf);
    if (rc < 0)
        return rc;
    px_tx_frame f = {bytes, len};
    return px__tx_burst(ctx, tp, mtu, &f, 1, opts, px__tx_first_tag(ctx, opts), NULL, errbuf);
}

int px_port_mac(px_ctx *ctx, const char *port, uint8_t mac[6], char *errbuf)
{
    px__txport *tp;
    uint32_t mtu;
    char netns[PX__NETNS_MAX], ifname[IF_NAMESIZE], local[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = local;
    int rc = px__tx_resolve(ctx, port, &tp, &mtu, errbuf);
    if (rc < 0)
        return rc;
    rc = px__port_split(port, netns, ifname, errbuf);
    if (rc < 0)
        return rc;
    /* Asked on every call through the port's TX socket (so in its namespace): an
     * address changed with `ip link set ... address` is seen at once. */
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (ioctl(tp->fd, SIOCGIFHWADDR, &ifr) < 0) {
        int e = errno;
        snprintf(errbuf, PX_ERRBUF_SIZE, "MAC address of '%s': %s", port, strerror(e));
        return err_from_errno(e);
    }
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}

int px_send(px_ctx *ctx, const char *port, const uint8_t *bytes, size_t len, char *errbuf)
{
    return px_send_ex(ctx, port, bytes, len, NULL, errbuf);
}

int px_send_burst(px_ctx *ctx, const char *port, const px_tx_frame *frames, size_t n, const px_send_opts *opts,
                  size_t *sent, char *errbuf)
{
    if (sent)
        *sent = 0;
    px__txport *tp;
    uint32_t mtu;
    int rc = px__tx_resolve(ctx, port, &tp, &mtu, errbuf);
    if (rc < 0)
        return rc;
    return px__tx_burst(ctx, tp, mtu, frames, n, opts, px__tx_first_tag(ctx, opts), sent, errbuf);
}

int px_send_ports(px_ctx *ctx, const char *const *ports, size_t nports, const uint8_t *bytes, size_t len,
                  const px_send_opts *opts, char *errbuf)
{
    if (!ports || nports == 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "send: no ports given");
        return PX_EINVAL;
    }
    px__txport **tps = calloc(nports, sizeof *tps);
    uint32_t *mtus = calloc(nports, sizeof *mtus);
    int rc = 0;
    if (!tps || !mtus) {
        rc = PX_ENOMEM;
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "send: out of memory");
        goto out;
    }
    rc = check_opts(opts, errbuf);
    /* Open and check everything first: nothing is sent unless every port can take it. */
    for (size_t i = 0; i < nports && rc == 0; i++) {
        rc = px__tx_resolve(ctx, ports[i], &tps[i], &mtus[i], errbuf);
        if (rc == 0)
            rc = px__tx_check(ports[i], mtus[i], bytes, len, opts, SIZE_MAX, errbuf);
    }
    if (rc < 0)
        goto out;
    uint64_t tag = px__tx_first_tag(ctx, opts);
    px_tx_frame f = {bytes, len};
    char first_err[PX_ERRBUF_SIZE] = "";
    for (size_t i = 0; i < nports; i++) {
        char e[PX_ERRBUF_SIZE];
        int r = px__tx_burst(ctx, tps[i], mtus[i], &f, 1, opts, tag, NULL, e);
        if (r < 0 && rc == 0) {
            rc = r;
            snprintf(first_err, sizeof first_err, "%s", e);
        }
    }
    if (rc < 0 && errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "%s", first_err);
out:
    free(tps);
    free(mtus);
    return rc;
}
