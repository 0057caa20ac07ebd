/* pktexpect: a port's state, shared by port.c (references, control messages
 * from other threads, parked arms, creation) and port_loop.c (the capture
 * thread). Internal to the core.
 *
 * Ownership and locking are written beside each group of fields: immutable
 * after create, guarded by ctl, capture thread only, atomics for statistics.
 */
#ifndef PX_PORT_INTERNAL_H
#define PX_PORT_INTERNAL_H

#include "ctx_internal.h"
#include "history.h"
#include "frame_key.h"
#include "port_index.h"
#include "source.h"

#define SETTLE_NS PX__SETTLE_NS          /* kernel timestamp -> ring visibility margin (slots) */
/* Under load the capture thread lets frames gather instead of polling the ring
 * for each one (port_loop.c). The time adapts to the rate: each wake-up costs
 * several microseconds of CPU (about 7 us on a 2-core VM: ppoll, the scheduler,
 * the idle exit), so at full rate a longer gather is the cheaper read, while at
 * moderate rates the short one keeps verdicts prompt. The rate is measured by
 * the batch a gather brought, scaled to GATHER_MIN_NS: GATHER_GROW frames or
 * more per 50 us (0.8 Mframes/s) double the next gather, up to GATHER_MAX_NS;
 * fewer than GATHER_SHRINK (0.4 Mframes/s) halve it, down to GATHER_MIN_NS. So a
 * frame waits at most 50 us (plus timer slack) for its batch on a port that has
 * not carried more than 0.8 Mframes/s, and at most 200 us at any rate. */
#define GATHER_MIN_NS 50000L
#define GATHER_MAX_NS 200000L
#define GATHER_GROW 40
#define GATHER_SHRINK 20

typedef enum { PORT_OPENING, PORT_RUNNING, PORT_DEAD } port_state;

struct px__port_impl {
    /* immutable after create */
    char netns[PX__NETNS_MAX];
    char ifname[IF_NAMESIZE];
    bool is_pcap;
    bool is_bmv2;            /* "bmv2:ADDR:N" (source_bmv2.c) */
    px_pcap_port_opts pcap;  /* strings owned (copies) */
    uint32_t ring_mib;
    px__ring_opts ring;      /* the ring's layout (benchmarks; default all zero) */
    uint32_t grace_ms;
    int64_t settle;          /* timestamp -> visible margin of the source (px__ring_settle_ns); fixed at creation */
    int efd;
    int tfd;                 /* timerfd: parked arms' deadlines (see port.c's file comment) */
    pthread_t thread;
    bool thread_started, joined;
    atomic_bool stop;

    /* guarded by ctl */
    pthread_mutex_t ctl;
    pthread_cond_t ctl_cond;
    port_state state;
    int dead_err;
    char dead_msg[PX_ERRBUF_SIZE];
    char stop_why[PX_ERRBUF_SIZE];
    px__node *arms_head, *arms_tail;
    bool noise_changed;
    px_noise_fn noise_new_fn;
    void *noise_new_user;
    bool start_req;
    bool parked;             /* the thread sleeps in ppoll; written only by the thread */
    bool gathering;          /* parked: letting frames gather under load (gather_ns) */
    int64_t parked_until;    /* parked: the ppoll timeout (monotonic ns; INT64_MAX: none) */
    int64_t timer_at;        /* what the timerfd is set to (INT64_MAX: disarmed) */
    int ifindex;
    uint32_t mtu;
    bool offline;
    px__pmark *mark_req, *unmark_req; /* marks to take / release (pktexpect/mark.h) */
    atomic_bool ctl_pending;
    atomic_bool scan_req;

    /* capture thread only */
    px__source *src;
    bool paused, eof;
    px__clock_map clk;
    int64_t wm, floor, last_t;
    bool have_frame;
    px_noise_fn noise_fn;
    void *noise_user;
    uint64_t drops, gaps;
    bool drops_fresh;
    px__nodevec all, fallback, closing;
    px__keymap keys[PX_KEY__COUNT];
    unsigned key_kinds;      /* PX__KEY_BIT(k) of every kind k whose map holds nodes */
    px__node *pend_head, *pend_tail;
    px__deadline_heap heap;
    uint32_t unbounded;      /* active open nodes whose deadline is not known yet */
    bool held;               /* stream: held_sf waits for a deadline (see past_unknown_deadline) */
    px__src_frame held_sf;
    uint64_t tot_seen, tot_trunc, tot_noise; /* non-noise frames, truncated among them, noise */
    uint64_t last_drain;     /* frames the last drain read */
    long gather_ns;          /* the next gather's length (GATHER_MIN_NS .. GATHER_MAX_NS) */
    bool gathered;           /* the last sleep was a gather: the next drain adapts gather_ns */
    uint64_t gather_read;    /* frames drained since the last gather began */
    uint64_t frame_seq;      /* frames drained so far (noise included): the next one's number */
    px__pmark **marks;       /* marks taken on this port (acknowledged, not released) */
    size_t nmarks, mcap;
    px__history hist;        /* frames since the oldest mark (kept while nmarks > 0) */
    uint64_t oldest_mark;    /* the oldest mark's frame number (UINT64_MAX: none) */
    int64_t cur_t, cur_rt;   /* the frame being offered: window time, kernel stamp (live) */
    uint32_t cur_epoch;

    /* statistics for other threads */
    _Atomic uint64_t st_frames, st_drops, st_noise, st_truncated;
};

/* The loss count now; read from the source at most once per phase (port_loop.c). */
uint64_t px__port_drops_now(struct px__port_impl *P);
/* The capture thread's body; `arg` is the px_port (port_loop.c). */
void *px__port_thread(void *arg);

#endif
