/* pktexpect: the live capture source, an AF_PACKET TPACKET_V2 receive ring.
 *
 * Why not libpcap's capture: libpcap 1.10 either uses TPACKET_V3 blocks (large
 * capacity, but the reader wakes once per block: milliseconds of latency) or, in
 * immediate mode, TPACKET_V2 slots sized from the snap length as soon as the
 * interface has any offload on (veth does): 1,023 frames in 64 MiB. This ring is
 * TPACKET_V2 (one wake-up per frame when idle, batches under load) with slots
 * sized from the interface MTU, so 64 MiB holds ~41,000 full-size frames. A frame
 * longer than a slot (GRO/GSO super-frames) keeps its first bytes and is counted
 * as truncated. When the MTU grows the ring is rebuilt with larger slots (see
 * ring_refresh). libpcap still compiles and runs the BPF filters.
 *
 * Other layouts (px__ring_opts: other slot sizes, TPACKET_V3 blocks with a block
 * timeout, what is prefetched) exist for the benchmarks that compare them
 * (bench/README.md, "Ring options"); the default is the one above.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx_internal.h"
#include "err_internal.h"
#include "link.h"
#include "source.h"
#include "netns.h"

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
#define RELEASE_BATCH 64

typedef struct ring_source {
    px__source base;
    px__ring_opts opts;
    char name[PX__NETNS_MAX + IF_NAMESIZE];
    char ifname[IF_NAMESIZE];
    uint32_t ring_mib;
    uint8_t *ring;
    size_t ring_len;
    uint32_t frame_size, frames_per_block, block_size, frame_nr, pos;
    /* The reader's walk without divisions: the current slot and its index in its
     * block; slots read but not handed back yet (at most RELEASE_BATCH, all of
     * them whenever the ring is found empty), from the oldest, rel. */
    uint8_t *cur, *rel;
    uint32_t cur_k, rel_k, held;
    uint32_t ring_mtu;     /* the MTU the slots were sized for */
    uint64_t drops;        /* cumulative, from PACKET_STATISTICS (which resets on read) */
    uint64_t released, released_at_read; /* slots read in all; at the last PACKET_STATISTICS */
    /* TPACKET_V3: the block being read (NULL: none yet) and its frames left. */
    uint32_t blk, blk_nr, blk_left;
    uint8_t *pkt;
    bool blk_losing;
} ring_source;

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
        return px__err_from_errno(err);
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
    int rc = netns && *netns ? px__netns_run(netns, packet_socket_here, fd, errbuf)
                             : packet_socket_here(fd, errbuf);
    if (rc != 0 && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

/* Sizes and maps the ring for the current MTU. */
static int ring_map(ring_source *r, char *errbuf)
{
    bool v3 = r->opts.version == 3;
    /* Slot: aligned header + sockaddr, MAC offset slack, the reserve, then the frame. */
    uint32_t hdr = TPACKET_ALIGN(TPACKET_ALIGN((uint32_t)(v3 ? TPACKET3_HDRLEN : TPACKET2_HDRLEN)) + 16 +
                                 VLAN_TAG_LEN);
    uint32_t frame_size = TPACKET_ALIGN(hdr + r->base.mtu + L2_OVERHEAD);
    if (!v3 && r->opts.slot == PX__RING_SLOT_SNAPLEN)
        frame_size = TPACKET_ALIGN(hdr + 65535 + L2_OVERHEAD);
    else if (!v3 && r->opts.slot)
        frame_size = TPACKET_ALIGN(r->opts.slot > hdr + 64 ? r->opts.slot : hdr + 64);
    uint32_t block = v3 && r->opts.block_kib ? r->opts.block_kib << 10 : RING_BLOCK_SIZE;
    while (block < frame_size)
        block *= 2;
    uint64_t ring_bytes = (uint64_t)(r->opts.mib ? r->opts.mib : r->ring_mib ? r->ring_mib : 64) << 20;
    /* V3: the reader holds a whole block while it reads it; with one block the
     * kernel would have nowhere to write meanwhile. At least 4 blocks. */
    while (v3 && ring_bytes / block < 4 && block / 2 >= frame_size && block / 2 >= 4096)
        block /= 2;
    uint32_t blocks = (uint32_t)(ring_bytes / block);
    if (blocks < 1)
        blocks = 1;
    struct tpacket_req3 req = {
        .tp_block_size = block,
        .tp_block_nr = blocks,
        .tp_frame_size = frame_size,
        .tp_frame_nr = (block / frame_size) * blocks,
        .tp_retire_blk_tov = r->opts.block_tov_ms,
    };
    if (setsockopt(r->base.fd, SOL_PACKET, PACKET_RX_RING, &req,
                   v3 ? sizeof req : sizeof(struct tpacket_req)) < 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': cannot allocate a %u MiB receive ring: %s", r->name,
                 (unsigned)(ring_bytes >> 20), strerror(errno));
        return px__err_from_errno(errno);
    }
    r->frame_size = frame_size;
    r->frames_per_block = block / frame_size;
    r->block_size = block;
    r->frame_nr = req.tp_frame_nr;
    r->pos = 0;
    r->held = 0;
    r->ring_len = (size_t)block * blocks;
    r->ring_mtu = !v3 && r->opts.slot ? UINT32_MAX : r->base.mtu; /* fixed slots: never rebuilt */
    r->blk = 0;
    r->blk_nr = blocks;
    r->blk_left = 0;
    r->pkt = NULL;
    r->ring = mmap(NULL, r->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, r->base.fd, 0);
    if (r->ring == MAP_FAILED)
        r->ring = mmap(NULL, r->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->base.fd, 0);
    if (r->ring == MAP_FAILED) {
        r->ring = NULL;
        snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': mmap of the ring: %s", r->name, strerror(errno));
        return px__err_from_errno(errno);
    }
    r->cur = r->rel = r->ring;
    r->cur_k = r->rel_k = 0;
    return 0;
}

/* Writes every page of a new ring once, before the socket is bound (nothing can
 * be in it yet: the kernel hands the ring out zeroed, every slot TP_STATUS_KERNEL).
 * On the benchmark VM the first user write to each page of a fresh ring stalls
 * for microseconds (no guest page fault is counted: it happens below the guest),
 * ~80 ms over a 64 MiB ring; later writes are cheap. Left to the capture loop,
 * that cost fell on the first pass over the ring (~3 us per frame for its first
 * ~40,000 frames): the ring filled and ~5% of a 1 M-frame burst was dropped.
 * Not after a refresh: the socket is bound then and frames may be in the ring. */
static void ring_prefault(ring_source *r)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        page = 4096;
    for (size_t o = 0; o < r->ring_len; o += (size_t)page)
        __atomic_store_n(&r->ring[o], 0, __ATOMIC_RELAXED);
}

static void ring_unmap(ring_source *r)
{
    if (r->ring) {
        munmap(r->ring, r->ring_len);
        r->ring = NULL;
        struct tpacket_req none = {0};
        (void)setsockopt(r->base.fd, SOL_PACKET, PACKET_RX_RING, &none, sizeof none);
    }
}

static inline struct tpacket2_hdr *slot(ring_source *r, uint32_t i)
{
    uint32_t b = i / r->frames_per_block, k = i % r->frames_per_block;
    return (struct tpacket2_hdr *)(r->ring + (size_t)b * r->block_size + (size_t)k * r->frame_size);
}

/* Puts a VLAN tag the kernel moved into metadata back into the frame, in place:
 * the MAC addresses move 4 bytes into the reserved headroom. */
static inline uint8_t *restore_vlan(uint32_t status, uint16_t tci, uint16_t tpid_in, uint8_t *mac,
                                    uint32_t *caplen, uint32_t *wirelen)
{
    uint16_t tpid = (status & TP_STATUS_VLAN_TPID_VALID) && tpid_in ? tpid_in : ETH_P_8021Q;
    if (*caplen < 12)
        return mac;
    uint8_t *m = mac - VLAN_TAG_LEN;
    memmove(m, mac, 12);
    m[12] = (uint8_t)(tpid >> 8);
    m[13] = (uint8_t)tpid;
    m[14] = (uint8_t)(tci >> 8);
    m[15] = (uint8_t)tci;
    *caplen += VLAN_TAG_LEN;
    *wirelen += VLAN_TAG_LEN;
    return m;
}

/* The slot after `p` (index *k in its block), wrapping at the ring's end. */
static inline uint8_t *slot_after(const ring_source *r, uint8_t *p, uint32_t *k)
{
    if (++*k < r->frames_per_block)
        return p + r->frame_size;
    *k = 0;
    uint8_t *block = p - (size_t)(r->frames_per_block - 1) * r->frame_size + r->block_size;
    return block == r->ring + r->ring_len ? r->ring : block;
}

/* Hands every slot read so far back to the kernel, oldest first. */
static void ring_flush(ring_source *r)
{
    if (r->opts.version == 3)
        return; /* blocks go back as their last frame is released */
    uint8_t *p = r->rel;
    uint32_t k = r->rel_k;
    for (uint32_t n = r->held; n; n--) {
        __atomic_store_n(&((struct tpacket2_hdr *)p)->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        p = slot_after(r, p, &k);
    }
    r->rel = p;
    r->rel_k = k;
    r->held = 0;
}

static int ring_next(px__source *s, px__src_frame *f, char *errbuf)
{
    (void)errbuf;
    ring_source *r = (ring_source *)s;
    struct tpacket2_hdr *h = (struct tpacket2_hdr *)r->cur;
    uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (!(status & TP_STATUS_USER)) {
        if (r->held)
            ring_flush(r); /* caught up: nothing is held back while the thread waits */
        return 0;
    }
    /* The next slot is where the kernel writes after this one: start loading it. */
    if (r->opts.prefetch != PX__PREFETCH_NONE) {
        uint32_t k = r->cur_k;
        uint8_t *next = slot_after(r, r->cur, &k);
        __builtin_prefetch(next);
        if (r->opts.prefetch == PX__PREFETCH_DATA)
            __builtin_prefetch(next + h->tp_mac); /* the same offset, but for a different link header */
    }
    uint8_t *mac = (uint8_t *)h + h->tp_mac;
    f->caplen = h->tp_snaplen;
    f->wirelen = h->tp_len;
    f->data = (status & TP_STATUS_VLAN_VALID)
                  ? restore_vlan(status, h->tp_vlan_tci, h->tp_vlan_tpid, mac, &f->caplen, &f->wirelen)
                  : mac;
    f->ts.tv_sec = h->tp_sec;
    f->ts.tv_nsec = h->tp_nsec;
    f->flags = ((status & TP_STATUS_LOSING) ? PX__SRC_LOSING : 0u) |
               ((status & TP_STATUS_CSUMNOTREADY) ? PX__SRC_CSUM_NOT_READY : 0u);
    return 1;
}

int64_t px__ring_settle_ns(const px__ring_opts *opts)
{
    if (!opts || opts->version != 3)
        return PX__SETTLE_NS;
    /* tov 0: the kernel derives it from the link speed, 8 ms at the most. */
    int64_t tov_ms = opts->block_tov_ms ? opts->block_tov_ms : 8;
    return PX__SETTLE_NS + 2 * (tov_ms + 10) * 1000000LL;
}

static void ring_release(px__source *s)
{
    ring_source *r = (ring_source *)s;
    r->released++;
    r->cur = slot_after(r, r->cur, &r->cur_k);
    r->pos = r->pos + 1 == r->frame_nr ? 0 : r->pos + 1;
    if (++r->held >= RELEASE_BATCH)
        ring_flush(r);
}

/* ---- TPACKET_V3: blocks of packed frames, handed back whole ---- */

static inline struct tpacket_block_desc *block_at(ring_source *r, uint32_t b)
{
    return (struct tpacket_block_desc *)(r->ring + (size_t)b * r->block_size);
}

static int ring3_next(px__source *s, px__src_frame *f, char *errbuf)
{
    (void)errbuf;
    ring_source *r = (ring_source *)s;
    while (!r->pkt) {
        struct tpacket_block_desc *bd = block_at(r, r->blk);
        uint32_t st = __atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
        if (!(st & TP_STATUS_USER))
            return 0;
        r->blk_losing = (st & TP_STATUS_LOSING) != 0;
        r->blk_left = bd->hdr.bh1.num_pkts;
        if (r->blk_left) {
            r->pkt = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
            break;
        }
        __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        r->blk = r->blk + 1 == r->blk_nr ? 0 : r->blk + 1;
    }
    struct tpacket3_hdr *h = (struct tpacket3_hdr *)r->pkt;
    if (r->opts.prefetch != PX__PREFETCH_NONE && r->blk_left > 1) {
        uint8_t *next = r->pkt + h->tp_next_offset;
        __builtin_prefetch(next);
        if (r->opts.prefetch == PX__PREFETCH_DATA)
            __builtin_prefetch(next + h->tp_mac);
    }
    uint8_t *mac = r->pkt + h->tp_mac;
    f->caplen = h->tp_snaplen;
    f->wirelen = h->tp_len;
    f->data = (h->tp_status & TP_STATUS_VLAN_VALID)
                  ? restore_vlan(h->tp_status, h->hv1.tp_vlan_tci, h->hv1.tp_vlan_tpid, mac, &f->caplen,
                                 &f->wirelen)
                  : mac;
    f->ts.tv_sec = h->tp_sec;
    f->ts.tv_nsec = h->tp_nsec;
    f->flags = (r->blk_losing ? PX__SRC_LOSING : 0u) |
               ((h->tp_status & TP_STATUS_CSUMNOTREADY) ? PX__SRC_CSUM_NOT_READY : 0u);
    return 1;
}

static void ring3_release(px__source *s)
{
    ring_source *r = (ring_source *)s;
    if (--r->blk_left) {
        r->pkt += ((struct tpacket3_hdr *)r->pkt)->tp_next_offset;
        return;
    }
    __atomic_store_n(&block_at(r, r->blk)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    r->blk = r->blk + 1 == r->blk_nr ? 0 : r->blk + 1;
    r->pkt = NULL;
}

static uint64_t ring3_backlog(px__source *s)
{
    ring_source *r = (ring_source *)s;
    uint64_t n = r->pkt ? r->blk_left : 0;
    for (uint32_t i = 0, b = r->pkt ? r->blk + 1 : r->blk; i < r->blk_nr; i++, b++) {
        if (b == r->blk_nr)
            b = 0;
        if (r->pkt && b == r->blk)
            break;
        struct tpacket_block_desc *bd = block_at(r, b);
        if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
            break;
        n += bd->hdr.bh1.num_pkts;
    }
    return n;
}

static uint64_t ring_drops(px__source *s)
{
    ring_source *r = (ring_source *)s;
    struct tpacket_stats st;
    socklen_t len = sizeof st;
    if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
        r->drops += st.tp_drops;
    r->released_at_read = r->released;
    return r->drops;
}

/* The kernel drops a frame only when the ring is full (the slot at its head
 * still belongs to the reader). When the ring is empty now with nothing held
 * back, every frame the kernel stored since the last PACKET_STATISTICS read has
 * been read since, and so has every frame that was in the ring at that read: at
 * any moment in between the ring held at most twice the frames read since.
 * Fewer than half the ring: it was never full, nothing was lost. */
static bool ring_drops_unchanged(px__source *s)
{
    ring_source *r = (ring_source *)s;
    if (r->held || (__atomic_load_n(&((struct tpacket2_hdr *)r->cur)->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
        return false;
    return 2 * (r->released - r->released_at_read) < r->frame_nr;
}

static uint64_t ring_backlog(px__source *s)
{
    ring_source *r = (ring_source *)s;
    uint64_t n = 0;
    for (uint32_t i = r->pos; n < r->frame_nr; i = i + 1 == r->frame_nr ? 0 : i + 1, n++)
        if (!(__atomic_load_n(&slot(r, i)->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
            break;
    return n;
}

/* The interface is gone (deleted, or replaced by another of the same name). */
static bool ring_if_gone(ring_source *r)
{
    struct ifreq ifr;
    return if_query(r->base.fd, r->ifname, SIOCGIFINDEX, &ifr) < 0 || ifr.ifr_ifindex != r->base.ifindex;
}

/* How long an interface that went down is watched for its deletion: the kernel
 * takes a deleted interface down first, and the socket's error can be read
 * before the interface is gone (on a slow machine, milliseconds before). */
#define GONE_WAIT_MS 200

static int ring_on_poll_error(px__source *s, char *errbuf)
{
    ring_source *r = (ring_source *)s;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    bool gone = ring_if_gone(r);
    for (int i = 0; !gone && err == ENETDOWN && i < GONE_WAIT_MS / 10; i++) {
        struct timespec d = {0, 10 * 1000000L};
        nanosleep(&d, NULL);
        gone = ring_if_gone(r);
    }
    if (gone) {
        snprintf(errbuf, PX_ERRBUF_SIZE,
                 "capture on '%s' stopped: the interface disappeared (deleted while the expectation waited)",
                 r->name);
        return PX_EGONE;
    }
    if (err == ENETDOWN) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s' stopped: the interface went down", r->name);
        return PX_EDOWN;
    }
    snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s' stopped: socket error: %s", r->name,
             err ? strerror(err) : "unknown");
    return PX_EIO;
}

/* An MTU raised after the port opened would truncate frames silently: the slots
 * were sized for the old one. The port calls this before acknowledging an
 * expectation, after draining the ring; the ring is rebuilt with larger slots.
 * Frames that arrive during the swap (microseconds) cannot be accounted for: the
 * swap counts as one possible loss, so loss-sensitive verdicts spanning it say so. */
static uint32_t current_mtu(ring_source *r)
{
    struct ifreq ifr;
    return if_query(r->base.fd, r->ifname, SIOCGIFMTU, &ifr) < 0 ? 0 : (uint32_t)ifr.ifr_mtu;
}

static bool ring_needs_refresh(px__source *s)
{
    ring_source *r = (ring_source *)s;
    return current_mtu(r) > r->ring_mtu;
}

static uint64_t ring_refresh(px__source *s)
{
    ring_source *r = (ring_source *)s;
    uint32_t mtu = current_mtu(r);
    if (mtu <= r->ring_mtu)
        return 0;
    char err[PX_ERRBUF_SIZE];
    uint32_t old = s->mtu;
    ring_flush(r);
    ring_unmap(r);
    s->mtu = mtu;
    if (ring_map(r, err) != 0) { /* keep capturing with the old slot size */
        s->mtu = old;
        (void)ring_map(r, err);
    }
    return 1;
}

static void ring_close(px__source *s)
{
    ring_source *r = (ring_source *)s;
    ring_unmap(r);
    if (s->fd >= 0)
        close(s->fd);
    free(r);
}

static const px__source_ops ring_ops = {
    .kind = "ring",
    .next = ring_next,
    .release = ring_release,
    .drops = ring_drops,
    .drops_unchanged = ring_drops_unchanged,
    .backlog = ring_backlog,
    .on_poll_error = ring_on_poll_error,
    .needs_refresh = ring_needs_refresh,
    .refresh = ring_refresh,
    .close = ring_close,
};

static const px__source_ops ring3_ops = {
    .kind = "ring",
    .next = ring3_next,
    .release = ring3_release,
    .drops = ring_drops,
    .backlog = ring3_backlog,
    .on_poll_error = ring_on_poll_error,
    .needs_refresh = ring_needs_refresh,
    .refresh = ring_refresh,
    .close = ring_close,
};

int px__ring_opts_parse(const char *spec, px__ring_opts *out, char *errbuf)
{
    px__ring_opts o = {0};
    char buf[128];
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    char *save = NULL, *part = strtok_r(buf, ":", &save);
    if (!part || (strcmp(part, "v2") != 0 && strcmp(part, "v3") != 0)) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "ring layout '%s': starts with v2 or v3", spec ? spec : "");
        return PX_EINVAL;
    }
    o.version = part[1] - '0';
    while ((part = strtok_r(NULL, ":", &save))) {
        char *eq = strchr(part, '='), *end = NULL;
        const char *val = eq ? eq + 1 : "";
        if (eq)
            *eq = '\0';
        unsigned long n = strtoul(val, &end, 10);
        bool num = *val && end && !*end && n < (1ul << 22);
        if (strcmp(part, "slot") == 0 && o.version == 2 && strcmp(val, "mtu") == 0)
            o.slot = 0;
        else if (strcmp(part, "slot") == 0 && o.version == 2 && strcmp(val, "snaplen") == 0)
            o.slot = PX__RING_SLOT_SNAPLEN;
        else if (strcmp(part, "slot") == 0 && o.version == 2 && num && n >= 128)
            o.slot = (uint32_t)n;
        else if (strcmp(part, "tov") == 0 && o.version == 3 && num)
            o.block_tov_ms = (uint32_t)n;
        else if (strcmp(part, "block") == 0 && o.version == 3 && num && n >= 4 && (n & (n - 1)) == 0)
            o.block_kib = (uint32_t)n;
        else if (strcmp(part, "mib") == 0 && num && n >= 1 && n <= 4096)
            o.mib = (uint32_t)n;
        else if (strcmp(part, "prefetch") == 0 && strcmp(val, "header") == 0)
            o.prefetch = PX__PREFETCH_HEADER;
        else if (strcmp(part, "prefetch") == 0 && strcmp(val, "none") == 0)
            o.prefetch = PX__PREFETCH_NONE;
        else if (strcmp(part, "prefetch") == 0 && strcmp(val, "data") == 0)
            o.prefetch = PX__PREFETCH_DATA;
        else {
            snprintf(errbuf, PX_ERRBUF_SIZE,
                     "ring layout '%s': unknown part '%s' (v2: slot=mtu|snaplen|BYTES >= 128; v3: tov=MS, "
                     "block=KIB, a power of 2 >= 4; both: prefetch=header|none|data, mib=1..4096)", spec, part);
            return PX_EINVAL;
        }
    }
    *out = o;
    return 0;
}

/* A freshly created veth (or any link just raised) carries nothing until the
 * kernel's link watch has run, which it may delay by up to a second. Waiting
 * here, before the port counts as open, keeps that delay out of every window
 * (windows start when the capture thread acknowledges them, after the open).
 * Bounded: a link without carrier stays usable for capture. */
#define PORT_READY_WAIT_NS 2000000000ull

/* Socket, interface checks, ring, bind. */
static int ring_setup(ring_source *r, const char *netns, char *errbuf)
{
    char why[PX_ERRBUF_SIZE] = "";
    int rc = px__packet_socket(netns, &r->base.fd, why);
    if (rc != 0) {
        if (rc == PX_EPERM)
            snprintf(errbuf, PX_ERRBUF_SIZE,
                     "capture on '%s' needs CAP_NET_RAW: run as root or give the binary "
                     "cap_net_raw,cap_net_admin+eip with setcap", r->name);
        else
            snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': %s", r->name, why);
        return rc;
    }
    int fd = r->base.fd;
    struct ifreq ifr;
    if (if_query(fd, r->ifname, SIOCGIFINDEX, &ifr) < 0) {
        if (*netns)
            snprintf(errbuf, PX_ERRBUF_SIZE, "no network interface '%s' in namespace '%s' (check with `ip -n %s link`)",
                     r->ifname, netns, netns);
        else
            snprintf(errbuf, PX_ERRBUF_SIZE, "no network interface '%s' (check the name with `ip link`)", r->name);
        return PX_ENODEV;
    }
    r->base.ifindex = ifr.ifr_ifindex;
    if (if_query(fd, r->ifname, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
        if (*netns)
            snprintf(errbuf, PX_ERRBUF_SIZE, "interface '%s' is down: bring it up with `ip -n %s link set %s up`",
                     r->name, netns, r->ifname);
        else
            snprintf(errbuf, PX_ERRBUF_SIZE, "interface '%s' is down: bring it up with `ip link set %s up`", r->name,
                     r->ifname);
        return PX_EDOWN;
    }
    r->base.mtu = if_query(fd, r->ifname, SIOCGIFMTU, &ifr) == 0 ? (uint32_t)ifr.ifr_mtu : 1500;

    int v = r->opts.version == 3 ? TPACKET_V3 : TPACKET_V2;
    unsigned reserve = VLAN_TAG_LEN; /* headroom to put a stripped VLAN tag back in place */
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof reserve) < 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': TPACKET_V%d not available: %s", r->name, v, strerror(errno));
        return PX_ENOTSUP;
    }
    /* Our own sends are not captured; other sockets' outgoing frames neither
     * (a port observes what arrives on it). Older kernels lack the option. */
    (void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    rc = ring_map(r, errbuf);
    if (rc != 0)
        return rc;
    ring_prefault(r);
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = r->base.ifindex,
    };
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        int err = errno;
        if (err == ENODEV)
            snprintf(errbuf, PX_ERRBUF_SIZE, "no network interface '%s' (it disappeared while opening)", r->name);
        else
            snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': bind: %s", r->name, strerror(err));
        return px__err_from_errno(err);
    }
    (void)ring_drops(&r->base); /* start the loss count at zero */
    r->drops = 0;
    return 0;
}

int px__source_ring_open(const char *name, const char *netns, const char *ifname, uint32_t ring_mib,
                         const px__ring_opts *opts, const volatile _Atomic bool *stop, px__source **out,
                         char *errbuf)
{
    ring_source *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory opening '%s'", name);
        return PX_ENOMEM;
    }
    if (opts)
        r->opts = *opts;
    r->base.ops = r->opts.version == 3 ? &ring3_ops : &ring_ops;
    r->base.fd = -1;
    r->base.live = true;
    r->ring_mib = ring_mib;
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->ifname, sizeof r->ifname, "%s", ifname);
    int rc = ring_setup(r, netns, errbuf);
    if (rc != 0) {
        ring_close(&r->base);
        return rc;
    }
    (void)px__link_wait_ready(netns, ifname, PORT_READY_WAIT_NS, stop);
    *out = &r->base;
    return 0;
}
