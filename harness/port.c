/* pktexpect: a port: its AF_PACKET receive ring and its capture thread.
 *
 * Why not libpcap's capture: libpcap 1.10 either uses TPACKET_V3 blocks (large
 * capacity, but the reader wakes once per block: milliseconds of latency) or, in
 * immediate mode, TPACKET_V2 slots sized from the snap length as soon as the
 * interface has any offload on (veth does): 1,023 frames in 64 MiB. This ring is
 * TPACKET_V2 (one wake-up per frame when idle, batches under load) with slots
 * sized from the interface MTU, so 64 MiB holds ~41,000 full-size frames. A frame
 * longer than a slot (GRO/GSO super-frames) keeps its first bytes and is counted
 * as truncated. libpcap still compiles and runs the BPF filters.
 *
 * The capture thread sleeps in ppoll() on the socket and an eventfd, with a
 * timeout equal to the nearest expectation deadline: no timer thread, no polling.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx_internal.h"
#include "pktexpect/topology.h"
#include "pktexpect/evidence.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef TP_STATUS_VLAN_TPID_VALID
#define TP_STATUS_VLAN_TPID_VALID (1 << 6)
#endif

#define VLAN_TAG_LEN 4
/* Room for the Ethernet header and up to four VLAN tags left inline. */
#define L2_OVERHEAD (14 + 4 * VLAN_TAG_LEN)
#define RING_BLOCK_SIZE (4u << 20)

static int errno_to_px(int err)
{
    switch (err) {
    case EPERM:
    case EACCES: return PX_EPERM;
    case ENODEV:
    case ENXIO: return PX_ENODEV;
    case ENETDOWN: return PX_EDOWN;
    case ENOMEM:
    case ENOBUFS: return PX_ENOMEM;
    default: return PX_ESYS;
    }
}

static int if_query(int fd, const char *name, unsigned long req, struct ifreq *ifr)
{
    memset(ifr, 0, sizeof *ifr);
    snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", name);
    return ioctl(fd, req, ifr);
}

int px__port_split(const char *port, char netns[PX__NETNS_MAX], char ifname[IF_NAMESIZE], char *errbuf)
{
    const char *slash = strchr(port, '/');
    size_t nslen = slash ? (size_t)(slash - port) : 0;
    const char *ifn = slash ? slash + 1 : port;
    if (nslen >= PX__NETNS_MAX || (slash && nslen == 0)) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "port '%s': the namespace name before '/' must have 1 to %d characters",
                 port, PX__NETNS_MAX - 1);
        return PX_EINVAL;
    }
    if (!*ifn || strlen(ifn) >= IF_NAMESIZE || strchr(ifn, '/')) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "port '%s': the interface name must have 1 to %d characters", port,
                 IF_NAMESIZE - 1);
        return PX_EINVAL;
    }
    memcpy(netns, port, nslen);
    netns[nslen] = '\0';
    snprintf(ifname, IF_NAMESIZE, "%s", ifn);
    return 0;
}

/* Runs in the target namespace (or in place): PX_E* code with text in errbuf. */
static int packet_socket_here(void *arg, char *errbuf)
{
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        if (err == EPERM || err == EACCES)
            snprintf(errbuf, PX_ERRBUF_SIZE,
                     "raw sockets need CAP_NET_RAW: run as root or give the binary "
                     "cap_net_raw,cap_net_admin+eip with setcap");
        else
            snprintf(errbuf, PX_ERRBUF_SIZE, "socket(AF_PACKET): %s", strerror(err));
        return errno_to_px(err);
    }
    *(int *)arg = fd;
    return 0;
}

int px__packet_socket(const char *netns, int *fd, char *errbuf)
{
    char local[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = local;
    *fd = -1;
    int rc = netns && *netns ? px_topo_netns_run(netns, packet_socket_here, fd, errbuf)
                             : packet_socket_here(fd, errbuf);
    if (rc != 0 && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

/* Opens the socket, sizes and maps the ring, binds to the interface. */
static int port_setup_socket(px_port *p, uint32_t ring_mib, char *errbuf)
{
    char why[PX_ERRBUF_SIZE] = "";
    int rc = px__packet_socket(p->netns, &p->fd, why);
    if (rc != 0) {
        if (rc == PX_EPERM)
            snprintf(errbuf, PX_ERRBUF_SIZE,
                     "capture on '%s' needs CAP_NET_RAW: run as root or give the binary "
                     "cap_net_raw,cap_net_admin+eip with setcap", p->name);
        else
            snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': %s", p->name, why);
        return rc;
    }
    struct ifreq ifr;
    if (if_query(p->fd, p->ifname, SIOCGIFINDEX, &ifr) < 0) {
        if (*p->netns)
            snprintf(errbuf, PX_ERRBUF_SIZE, "no network interface '%s' in namespace '%s' (check with `ip -n %s link`)",
                     p->ifname, p->netns, p->netns);
        else
            snprintf(errbuf, PX_ERRBUF_SIZE, "no network interface '%s' (check the name with `ip link`)", p->name);
        return PX_ENODEV;
    }
    p->ifindex = ifr.ifr_ifindex;
    if (if_query(p->fd, p->ifname, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
        if (*p->netns)
            snprintf(errbuf, PX_ERRBUF_SIZE, "interface '%s' is down: bring it up with `ip -n %s link set %s up`",
                     p->name, p->netns, p->ifname);
        else
            snprintf(errbuf, PX_ERRBUF_SIZE, "interface '%s' is down: bring it up with `ip link set %s up`", p->name,
                     p->ifname);
        return PX_EDOWN;
    }
    p->mtu = if_query(p->fd, p->ifname, SIOCGIFMTU, &ifr) == 0 ? (uint32_t)ifr.ifr_mtu : 1500;

    int v = TPACKET_V2;
    unsigned reserve = VLAN_TAG_LEN; /* headroom to put a stripped VLAN tag back in place */
    int one = 1;
    if (setsockopt(p->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0 ||
        setsockopt(p->fd, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof reserve) < 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': TPACKET_V2 not available: %s", p->name, strerror(errno));
        return PX_ENOTSUP;
    }
    /* Our own sends are not captured; other sockets' outgoing frames neither
     * (a port observes what arrives on it). Older kernels lack the option. */
    (void)setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);

    /* Slot: aligned header + sockaddr, MAC offset slack, the reserve, then the frame. */
    uint32_t hdr = TPACKET_ALIGN(TPACKET_ALIGN((uint32_t)TPACKET2_HDRLEN) + 16 + reserve);
    uint32_t frame_size = TPACKET_ALIGN(hdr + p->mtu + L2_OVERHEAD);
    uint32_t block = RING_BLOCK_SIZE;
    while (block < frame_size)
        block *= 2;
    uint64_t ring_bytes = (uint64_t)(ring_mib ? ring_mib : 64) << 20;
    uint32_t blocks = (uint32_t)(ring_bytes / block);
    if (blocks < 1)
        blocks = 1;
    struct tpacket_req req = {
        .tp_block_size = block,
        .tp_block_nr = blocks,
        .tp_frame_size = frame_size,
        .tp_frame_nr = (block / frame_size) * blocks,
    };
    if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': cannot allocate a %u MiB receive ring: %s", p->name,
                 (unsigned)(ring_bytes >> 20), strerror(errno));
        return errno_to_px(errno);
    }
    p->frame_size = frame_size;
    p->frames_per_block = block / frame_size;
    p->block_size = block;
    p->frame_nr = req.tp_frame_nr;
    p->ring_len = (size_t)block * blocks;
    p->ring = mmap(NULL, p->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, p->fd, 0);
    if (p->ring == MAP_FAILED)
        p->ring = mmap(NULL, p->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
    if (p->ring == MAP_FAILED) {
        p->ring = NULL;
        snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': mmap of the ring: %s", p->name, strerror(errno));
        return errno_to_px(errno);
    }
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = p->ifindex,
    };
    if (bind(p->fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        int err = errno;
        if (err == ENODEV)
            snprintf(errbuf, PX_ERRBUF_SIZE, "no network interface '%s' (it disappeared while opening)", p->name);
        else
            snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': bind: %s", p->name, strerror(err));
        return errno_to_px(err);
    }
    return 0;
}

static inline struct tpacket2_hdr *slot(px_port *p, uint32_t i)
{
    uint32_t b = i / p->frames_per_block, k = i % p->frames_per_block;
    return (struct tpacket2_hdr *)(p->ring + (size_t)b * p->block_size + (size_t)k * p->frame_size);
}

/* Reads the kernel's drop counter (it resets on read) into the port total. */
static void port_read_drops(px_port *p)
{
    struct tpacket_stats st;
    socklen_t len = sizeof st;
    if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0 && st.tp_drops)
        atomic_fetch_add_explicit(&p->st_drops, st.tp_drops, memory_order_relaxed);
}

/* ---- the capture thread's own lists ---- */

/* Moves pending registrations and filter changes into the thread's own state. */
static void port_merge_control(px_port *p)
{
    pthread_mutex_lock(&p->ctl_lock);
    atomic_store_explicit(&p->ctl_pending, false, memory_order_relaxed);
    while (p->pending) {
        px__exp_node *n = p->pending;
        p->pending = n->next;
        n->next = p->active;
        p->active = n;
    }
    if (p->noise_changed) {
        p->noise_fn = p->noise_new_fn;
        p->noise_user = p->noise_new_user;
        p->noise_changed = false;
    }
    pthread_mutex_unlock(&p->ctl_lock);
}

/* Drops finished expectations from the active list. */
static void port_prune(px_port *p)
{
    px__exp_node **pp = &p->active;
    while (*pp) {
        px__exp_node *n = *pp;
        pthread_mutex_lock(&n->exp->lock);
        bool fin = n->exp->finished;
        pthread_mutex_unlock(&n->exp->lock);
        if (fin) {
            *pp = n->next;
            px__exp_unref(n->exp);
            free(n);
        } else {
            pp = &n->next;
        }
    }
}

/* Puts a VLAN tag the kernel moved into metadata back into the frame, in place:
 * the MAC addresses move 4 bytes into the reserved headroom. */
static inline const uint8_t *restore_vlan(struct tpacket2_hdr *h, uint8_t *mac, uint32_t *caplen, uint32_t *wirelen)
{
    uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) && h->tp_vlan_tpid ? h->tp_vlan_tpid : ETH_P_8021Q;
    if (*caplen < 12)
        return mac;
    uint8_t *m = mac - VLAN_TAG_LEN;
    memmove(m, mac, 12);
    m[12] = (uint8_t)(tpid >> 8);
    m[13] = (uint8_t)tpid;
    m[14] = (uint8_t)(h->tp_vlan_tci >> 8);
    m[15] = (uint8_t)h->tp_vlan_tci;
    *caplen += VLAN_TAG_LEN;
    *wirelen += VLAN_TAG_LEN;
    return m;
}

/* Offers every frame that is ready in the ring; returns how many were read. */
static unsigned port_drain(px_port *p)
{
    unsigned n = 0;
    bool drops_read = false;
    px_evidence *ev = px__ctx_evidence(p->ctx);
    for (;;) {
        struct tpacket2_hdr *h = slot(p, p->pos);
        uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
        if (!(status & TP_STATUS_USER))
            break;
        if (atomic_load_explicit(&p->ctl_pending, memory_order_acquire))
            port_merge_control(p);
        /* The kernel flags every frame while it is dropping; one read of its
         * counter per batch is enough (a syscall per frame would add to the loss). */
        if ((status & TP_STATUS_LOSING) && !drops_read) {
            port_read_drops(p);
            drops_read = true;
        }

        uint8_t *mac = (uint8_t *)h + h->tp_mac;
        uint32_t caplen = h->tp_snaplen, wirelen = h->tp_len;
        const uint8_t *data = mac;
        if (status & TP_STATUS_VLAN_VALID)
            data = restore_vlan(h, mac, &caplen, &wirelen);

        px_frame f;
        px_frame_dissect(&f, data, caplen, wirelen);
        f.ts.tv_sec = h->tp_sec;
        f.ts.tv_nsec = h->tp_nsec;
        f.port = p->name;
        f.dir = PX_DIR_IN;
        atomic_fetch_add_explicit(&p->st_frames, 1, memory_order_relaxed);
        if (caplen < wirelen)
            atomic_fetch_add_explicit(&p->st_truncated, 1, memory_order_relaxed);
        if (ev)
            px__evidence_write_frame(ev, p->name, PX_DIR_IN, &f);

        bool noise = p->noise_fn && p->noise_fn(&f, p->noise_user);
        if (noise)
            atomic_fetch_add_explicit(&p->st_noise, 1, memory_order_relaxed);
        bool any_finished = false;
        for (px__exp_node *e = p->active; e; e = e->next)
            any_finished |= px__exp_offer(e->exp, &f, noise);
        if (any_finished)
            port_prune(p);

        __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        p->pos = p->pos + 1 == p->frame_nr ? 0 : p->pos + 1;
        n++;
    }
    return n;
}

/* Finishes expectations whose deadline passed; returns the nearest remaining one. */
static bool port_expire(px_port *p, struct timespec *nearest)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    bool have = false, expired = false;
    for (px__exp_node *n = p->active; n; n = n->next) {
        px_exp *e = n->exp;
        /* deadline is immutable after arming: read without the lock */
        if (px__timespec_diff_ns(&e->deadline, &now) <= 0) {
            if (!expired) {
                /* Frames that reached the ring before the deadline count. */
                port_drain(p);
                port_read_drops(p);
                expired = true;
            }
            px__exp_finish(e, PX__FIN_TIMEOUT, NULL);
        } else if (!have || px__timespec_diff_ns(&e->deadline, nearest) < 0) {
            *nearest = e->deadline;
            have = true;
        }
    }
    if (expired)
        port_prune(p);
    return have;
}

/* Stops the port for good: every expectation on it resolves ERROR with `msg`. */
static void port_die(px_port *p, int err, const char *msg)
{
    pthread_mutex_lock(&p->ctl_lock);
    p->dead = true;
    p->dead_err = err;
    snprintf(p->dead_msg, sizeof p->dead_msg, "%s", msg);
    pthread_mutex_unlock(&p->ctl_lock);
    port_merge_control(p);
    for (px__exp_node *n = p->active; n; n = n->next)
        px__exp_finish(n->exp, PX__FIN_ERROR, msg);
    port_prune(p);
}

/* The socket reported an error: the interface went down or disappeared. */
static void port_on_socket_error(px_port *p)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    char msg[PX_ERRBUF_SIZE];
    struct ifreq ifr;
    if (if_query(p->fd, p->ifname, SIOCGIFINDEX, &ifr) < 0 || ifr.ifr_ifindex != p->ifindex) {
        snprintf(msg, sizeof msg,
                 "capture on '%s' stopped: the interface disappeared (deleted while the expectation waited)",
                 p->name);
        port_die(p, PX_EGONE, msg);
    } else if (err == ENETDOWN) {
        snprintf(msg, sizeof msg, "capture on '%s' stopped: the interface went down", p->name);
        port_die(p, PX_EDOWN, msg);
    } else {
        snprintf(msg, sizeof msg, "capture on '%s' stopped: socket error: %s", p->name,
                 err ? strerror(err) : "unknown");
        port_die(p, PX_EIO, msg);
    }
}

static void *port_thread(void *arg)
{
    px_port *p = arg;
    struct pollfd pfd[2] = {{.fd = p->fd, .events = POLLIN}, {.fd = p->efd, .events = POLLIN}};
    while (!atomic_load_explicit(&p->stop, memory_order_acquire)) {
        port_merge_control(p);
        port_drain(p);
        port_prune(p);
        struct timespec nearest, now, tmo, *tp = NULL;
        if (port_expire(p, &nearest)) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            int64_t ns = px__timespec_diff_ns(&nearest, &now);
            if (ns < 0)
                ns = 0;
            tmo.tv_sec = ns / 1000000000LL;
            tmo.tv_nsec = ns % 1000000000LL;
            tp = &tmo;
        }
        if (p->dead) {
            /* Nothing will ever arrive: sleep until told to stop or arm (refused). */
            pfd[0].events = 0;
        }
        int rc = ppoll(pfd, 2, tp, NULL);
        if (rc < 0 && errno != EINTR)
            break;
        if (pfd[1].revents & POLLIN) {
            uint64_t v;
            ssize_t r = read(p->efd, &v, sizeof v);
            (void)r;
        }
        if (!p->dead && (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))) {
            port_drain(p);
            port_on_socket_error(p);
        }
    }
    return NULL;
}

/* ---- open, arm, destroy ---- */

void px__port_kick(px_port *p)
{
    uint64_t one = 1;
    ssize_t r = write(p->efd, &one, sizeof one);
    (void)r;
}

int px__port_arm(px_port *p, px_exp *e, char *errbuf)
{
    px__exp_node *n = malloc(sizeof *n);
    if (!n) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory arming on '%s'", p->name);
        return PX_ENOMEM;
    }
    pthread_mutex_lock(&p->ctl_lock);
    if (p->dead) {
        int err = p->dead_err;
        snprintf(errbuf, PX_ERRBUF_SIZE, "%s", p->dead_msg);
        pthread_mutex_unlock(&p->ctl_lock);
        free(n);
        return err;
    }
    px__exp_ref(e);
    n->exp = e;
    n->next = p->pending;
    p->pending = n;
    atomic_store_explicit(&p->ctl_pending, true, memory_order_release);
    pthread_mutex_unlock(&p->ctl_lock);
    px__port_kick(p); /* the thread must recompute its sleep for the new deadline */
    return 0;
}

static void port_free_resources(px_port *p)
{
    if (p->ring)
        munmap(p->ring, p->ring_len);
    if (p->fd >= 0)
        close(p->fd);
    if (p->efd >= 0)
        close(p->efd);
    pthread_mutex_destroy(&p->ctl_lock);
    free(p);
}

/* A freshly created veth (or any link just raised) carries nothing until the
 * kernel's link watch has run, which it may delay by up to a second. Waiting
 * here, before the port counts as open, keeps that delay out of the windows of
 * the expectations armed on it and of the first send. Bounded: a link without
 * carrier stays usable for capture. */
#define PORT_READY_WAIT_NS 2000000000LL
static void port_wait_ready(px_port *p)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (px_topo_link_ready(*p->netns ? p->netns : NULL, p->ifname))
            return;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (px__timespec_diff_ns(&now, &t0) > PORT_READY_WAIT_NS)
            return;
        struct timespec pause = {0, 2000000};
        nanosleep(&pause, NULL);
    }
}

int px__port_open(px_ctx *ctx, const char *ifname, px_port **out, char *errbuf)
{
    char netns[PX__NETNS_MAX], ifn[IF_NAMESIZE];
    int rc = px__port_split(ifname, netns, ifn, errbuf);
    if (rc != 0)
        return rc;
    px_port *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory opening '%s'", ifname);
        return PX_ENOMEM;
    }
    p->ctx = ctx;
    p->fd = p->efd = -1;
    snprintf(p->name, sizeof p->name, "%s", ifname);
    memcpy(p->netns, netns, sizeof p->netns);
    memcpy(p->ifname, ifn, sizeof p->ifname);
    pthread_mutex_init(&p->ctl_lock, NULL);
    if (!ctx->opts.noise_filter_off)
        p->noise_fn = px_noise_default;
    rc = port_setup_socket(p, ctx->opts.ring_mib, errbuf);
    if (rc == 0)
        port_wait_ready(p);
    if (rc == 0) {
        p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->efd < 0) {
            snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': eventfd: %s", ifname, strerror(errno));
            rc = PX_ESYS;
        }
    }
    if (rc == 0) {
        int err = pthread_create(&p->thread, NULL, port_thread, p);
        if (err) {
            snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': cannot start thread: %s", ifname, strerror(err));
            rc = PX_ESYS;
        } else {
            p->thread_started = true;
        }
    }
    if (rc != 0) {
        port_free_resources(p);
        return rc;
    }
    *out = p;
    return 0;
}

void px__port_destroy(px_port *p, const char *why)
{
    if (!p)
        return;
    if (p->thread_started) {
        atomic_store_explicit(&p->stop, true, memory_order_release);
        px__port_kick(p);
        pthread_join(p->thread, NULL);
    }
    /* The thread is gone: its lists are ours now. */
    pthread_mutex_lock(&p->ctl_lock);
    p->dead = true;
    p->dead_err = PX_ECLOSED;
    snprintf(p->dead_msg, sizeof p->dead_msg, "%s", why);
    pthread_mutex_unlock(&p->ctl_lock);
    port_merge_control(p);
    while (p->active) {
        px__exp_node *n = p->active;
        p->active = n->next;
        px__exp_finish(n->exp, PX__FIN_ERROR, why);
        px__exp_unref(n->exp);
        free(n);
    }
    port_free_resources(p);
}

bool px__port_is_dead(px_port *p)
{
    pthread_mutex_lock(&p->ctl_lock);
    bool dead = p->dead;
    pthread_mutex_unlock(&p->ctl_lock);
    return dead;
}

void px__port_set_noise(px_port *p, px_noise_fn fn, void *user)
{
    pthread_mutex_lock(&p->ctl_lock);
    p->noise_new_fn = fn;
    p->noise_new_user = user;
    p->noise_changed = true;
    atomic_store_explicit(&p->ctl_pending, true, memory_order_release);
    pthread_mutex_unlock(&p->ctl_lock);
    px__port_kick(p);
}
