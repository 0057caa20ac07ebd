/* pktexpect: capture sources, the one small vtable behind a port.
 *
 * A port's capture thread reads frames from exactly one source: the AF_PACKET
 * ring of a live interface (source_ring.c), or a pcap / pcapng stream read from
 * a file or a descriptor (source_pcap.c), or a BMv2 switch's nanomsg packet
 * socket (source_bmv2.c). As libpcap has savefiles and
 * packetdrill has netdev_ops, the thread does not care which.
 *
 * Clocks. A "live" source stamps frames on this machine's wall clock
 * (CLOCK_REALTIME, as the kernel does); the port maps them onto
 * CLOCK_MONOTONIC, where windows and deadlines live. An offline source carries
 * its own time (a recorded file): windows are then measured in the stream's
 * time and close when the stream has moved past them or ended.
 *
 * Thread-safety: every operation runs on the port's capture thread, except
 * open (on the thread too, before the loop starts). Not installed. */
#ifndef PX_SOURCE_H
#define PX_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* px__src_frame.flags */
#define PX__SRC_LOSING 0x1u        /* the source lost frames before this one */
#define PX__SRC_CSUM_NOT_READY 0x2u /* L4 checksum left to the NIC (locally sent frame) */

typedef struct px__src_frame {
    uint8_t *data;        /* first byte of the Ethernet header; valid until release */
    uint32_t caplen, wirelen;
    struct timespec ts;   /* the source's timestamp (see the file comment) */
    uint32_t flags;       /* PX__SRC_* */
} px__src_frame;

typedef struct px__source px__source;

typedef struct px__source_ops {
    const char *kind; /* "ring", "pcap" */
    /* The next frame, if one is ready: 1 with *f filled, 0 when none is ready now,
     * or a negative PX_E* when the source has ended (PX_ECLOSED: clean end of an
     * offline stream) or failed (message in errbuf). */
    int (*next)(px__source *s, px__src_frame *f, char *errbuf);
    /* Gives the frame returned by the last next() back to the source. */
    void (*release)(px__source *s);
    /* Reads the source's loss counter now; returns the cumulative number of frames
     * lost since the source was opened. */
    uint64_t (*drops)(px__source *s);
    /* Optional: true when no frame can have been lost since the last drops()
     * call, known without a system call (else the caller calls drops()). */
    bool (*drops_unchanged)(px__source *s);
    /* Optional: frames ready but not yet read (for "capture behind" messages). */
    uint64_t (*backlog)(px__source *s);
    /* Optional: the descriptor reported an error (POLLERR/POLLHUP): says what
     * happened in errbuf and returns the PX_E* code the port dies with. */
    int (*on_poll_error)(px__source *s, char *errbuf);
    /* Optional: called before an expectation is acknowledged: true when the
     * interface changed so that the source must be rebuilt (its MTU grew past
     * the ring's slots). The port then drains the source and calls refresh,
     * which rebuilds it and returns how many frames may have been lost doing
     * so (counted as drops). */
    bool (*needs_refresh)(px__source *s);
    uint64_t (*refresh)(px__source *s);
    void (*close)(px__source *s);
} px__source_ops;

struct px__source {
    const px__source_ops *ops;
    int fd;          /* polled for POLLIN; -1: never readable (a paused source) */
    bool live;       /* timestamps on this machine's CLOCK_REALTIME */
    int ifindex;     /* live interfaces; 0 otherwise */
    uint32_t mtu;    /* live interfaces; 0 otherwise */
};

/* The ring's layout, for the benchmarks that compare layouts (bench/README.md,
 * "Ring options"); not a user option. All zero: the default (TPACKET_V2, slots
 * sized from the MTU, the next slot's header prefetched). */
#define PX__RING_SLOT_SNAPLEN UINT32_MAX /* slots for 65535-byte frames, as libpcap's immediate mode */
typedef enum { PX__PREFETCH_HEADER, PX__PREFETCH_NONE, PX__PREFETCH_DATA } px__ring_prefetch;
typedef struct px__ring_opts {
    int version;             /* 0 or 2: TPACKET_V2 slots; 3: TPACKET_V3 blocks */
    uint32_t slot;           /* V2: 0 sized from the MTU, PX__RING_SLOT_SNAPLEN, or a slot size in
                              * bytes (frames longer than its room are truncated; no MTU refresh) */
    uint32_t block_tov_ms;   /* V3: the block timeout (tp_retire_blk_tov); 0: the kernel's choice */
    uint32_t block_kib;      /* V3: the block size in KiB (0: 4096) */
    px__ring_prefetch prefetch; /* what of the next slot (V3: the next frame) is prefetched */
    uint32_t mib;            /* the ring's size in MiB; 0: the context's (px_ctx_opts.ring_mib) */
} px__ring_opts;

/* How long after its kernel timestamp a frame may still be invisible to next():
 * with TPACKET_V2 slots, the kernel's queueing (PX__SETTLE_NS); with TPACKET_V3
 * blocks, also the block timeout, which the kernel may take up to twice (it
 * retires a block that stayed current for a whole timer period) and rounds up
 * to its timer tick (up to 10 ms). A port's window closes when its watermark,
 * "now - settle" at an empty read, passes the deadline. */
#define PX__SETTLE_NS (5 * 1000000LL)
int64_t px__ring_settle_ns(const px__ring_opts *opts);

/* Parses a layout: "v2" (the default), "v3", followed by ":key=value" parts:
 * slot=mtu|snaplen|BYTES (V2), tov=MS, block=KIB (V3), prefetch=header|none|data,
 * mib=MIB (both).
 * E.g. "v2:slot=256", "v3:tov=1:block=64". 0 or PX_EINVAL with errbuf. */
int px__ring_opts_parse(const char *spec, px__ring_opts *out, char *errbuf);

/* Benchmarks only (context.c): the ring layout of the ports the context opens
 * from now on (NULL: the default). Call before opening ports; not thread-safe.
 * 0 or PX_ENOMEM. */
struct px_ctx;
int px__ctx_set_ring(struct px_ctx *ctx, const px__ring_opts *opts);

/* Opens the ring source of interface `ifname` in namespace `netns` ("" for the
 * caller's) with a ring of `ring_mib` MiB (0: 64) laid out as `opts` says (NULL:
 * the default). `name` is the port's name for messages. On failure returns a
 * negative PX_E* with a message saying what to do in errbuf. `stop` is polled
 * while waiting for the link to be ready. */
int px__source_ring_open(const char *name, const char *netns, const char *ifname, uint32_t ring_mib,
                         const px__ring_opts *opts, const volatile _Atomic bool *stop, px__source **out,
                         char *errbuf);

struct px_pcap_port_opts;
/* Opens a pcap / pcapng stream source (see px_port_open_pcap). */
int px__source_pcap_open(const char *name, const struct px_pcap_port_opts *opts, px__source **out, char *errbuf);

/* Opens the source of BMv2 port `name` ("bmv2:ADDR:N", bmv2.h): frames the
 * switch sends out of port N, through the context's hub of ADDR. */
int px__source_bmv2_open(struct px_ctx *ctx, const char *name, px__source **out, char *errbuf);

#endif
