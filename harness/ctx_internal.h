/* pktexpect: private structures shared by the context, port, expectation and
 * future modules, and the hooks other harness modules (sender, evidence) use.
 * Not installed.
 *
 * Who owns what (the capture engine's lifecycle, DESIGN section 3):
 *  - A port (port.c) is reference-counted: the context's registry holds one
 *    reference, every expectation armed on it one, every caller between
 *    px__port_acquire and px__port_unref one. Its capture thread is joined by
 *    whoever takes it out of the registry (close, reopen, context free), never
 *    by a reference drop, so no thread ever joins itself.
 *  - An expectation (expect.c) is its future: one reference for the user's
 *    handle, one per port node. A node (px__node) belongs to the capture thread
 *    of its port from the arm message on; only that thread reads or frees it.
 *  - Callbacks of a single-port expectation run on its port's capture thread
 *    without a lock; a multi-port expectation serialises them with e->lock.
 */
#ifndef PX_CTX_INTERNAL_H
#define PX_CTX_INTERNAL_H

#include <net/if.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "pktexpect/context.h"
#include "pktexpect/expect.h"
#include "pktexpect/future.h"
#include "pktexpect/mark.h"

struct px_evidence;
typedef struct px_port px_port;
typedef struct px_exp px_exp;
typedef struct px__node px__node;

/* Times on a window clock, in ns: CLOCK_MONOTONIC for live ports, the stream's
 * own time for offline ones. */
#define PX__NS_NEVER INT64_MAX

/* Why an expectation stops before its window closes. 0: it is running. */
typedef enum px__stop_reason {
    PX__STOP_NONE = 0,
    PX__STOP_PRED,      /* stop_condition returned true */
    PX__STOP_COUNT,     /* count limit reached */
    PX__STOP_CANCEL,    /* px_future_cancel / px_future_free */
    PX__STOP_ERROR,     /* port died, port closed, context closed: see stop_msg */
} px__stop_reason;

/* A waiter of px_future_wait_any: one per call, linked into every future it waits on. */
typedef struct px__waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool fired;
} px__waiter;

typedef struct px__wait_link {
    px__waiter *w;
    struct px__wait_link *next; /* in an expectation's list (guarded by its lock) */
} px__wait_link;

#define PX__MAX_PORTS_PER_EXP 64

/* An expectation and its future are one object: the future is the user's handle. */
struct px_exp {
    atomic_int refs;                 /* the future's + one per node */
    pthread_mutex_t lock;            /* guards the result, waiters, the arm acks; serialises
                                        predicate callbacks of multi-port expectations */
    pthread_cond_t done;             /* broadcast on resolution and on arm acks (CLOCK_MONOTONIC) */
    px_predicate *pred;              /* freed at finish */
    bool finished;                   /* set once, under lock */
    px_verdict verdict;
    px_result result;                /* value + explanation */
    px_counters counters;            /* summed over the nodes as they close */
    char *description;
    char *name;
    bool loss_sensitive;
    bool since_mark;                 /* armed with opts.since: the window and the drop epoch
                                        start at the mark (set before the arm, then read only) */
    uint32_t timeout_ms;
    uint32_t count_limit;
    uint64_t offered;                /* frames offered, for the count limit (single-port: the
                                        port's thread; multi-port: under lock) */
    px_noise_mode noise;
    struct bpf_program bpf;
    bool has_bpf;
    bool has_key;
    px_key key;
    size_t nports;
    px_port *ports[PX__MAX_PORTS_PER_EXP]; /* one reference each */

    /* Arming: acks counted under lock (a refused arm stops the expectation with
     * its reason); the window's one deadline is set once every port has fixed its
     * start (the last one to do so computes it). */
    size_t acks;
    atomic_int unanchored;           /* ports whose window start is not fixed yet */
    _Atomic int64_t start_max;
    _Atomic int64_t deadline;        /* window clock; PX__NS_NEVER until known */

    /* Closing: each port closes its node (window examined, drops read); the last
     * one decides the verdict. */
    atomic_int open_nodes;
    _Atomic int stop_reason;         /* px__stop_reason, first setter wins */
    char stop_msg[256];              /* written by the stop_reason winner before the kick */
    char *behind_msg;                /* under lock: a port closed its window late */
    int64_t late_ns;                 /* under lock: the earliest frame after the deadline came
                                        this long after it (0: none seen before the close) */
    char late_port[80];              /* under lock: the port of that frame */
    px__wait_link *waiters;

    /* Results and completion (under lock). The deciding frame is copied by the
     * winner of the stop (px__exp_stop_on_frame), once per expectation. */
    px_frame decider;                /* view of decider_data; port points into a port name */
    uint8_t *decider_data;           /* NULL: no frame decided */
    struct timespec resolved_at;     /* CLOCK_REALTIME, set at resolution */
    px_future_done_fn on_done;       /* registered, not yet run */
    void *on_done_user;
    bool on_done_set;                /* one callback per future */
    bool on_done_running;            /* taken at resolution, running after the unlock */
    pthread_t on_done_thread;        /* the thread running it (px_future_free from inside it) */
    px_future_done_fn firing;        /* what that thread runs (written under lock before) */
    void *firing_user;
    int efd;                         /* px_future_fd's eventfd, -1 until requested */
};

/* A mark on one port (pktexpect/mark.h): where a look-back starts. Owned by its
 * px_mark; the port's capture thread reads it from the take request until it
 * has acknowledged the release (or died). */
typedef struct px__pmark {
    px_port *port;                   /* the px_mark's reference */
    /* written by the capture thread before it sets `acked` (under P->ctl) */
    uint64_t seq;                    /* the port's frame number the mark starts at */
    int64_t start, start_rt;         /* window clock / CLOCK_REALTIME at the ack (as a node's) */
    uint32_t epoch;
    uint64_t drops;                  /* the drop epoch */
    bool answered, acked, released;  /* under P->ctl: the thread looked at the take (acked: taken) */
    struct px__pmark *next_req;      /* the port's take / release queues (P->ctl) */
} px__pmark;

struct px_mark {
    px_ctx *ctx;
    size_t n;
    px__pmark *pm[];                 /* one per port, each owned */
};

/* One expectation's registration on one port: owned by that port's capture thread. */
struct px__node {
    px_exp *e;
    px_port *port;
    int64_t start;                   /* window start on this port (window clock) */
    int64_t start_rt;                /* live: CLOCK_REALTIME at the acknowledgement; frames are
                                        compared with it on the kernel's own clock while the
                                        wall clock has not stepped since (clock epoch) */
    uint32_t epoch;
    int64_t deadline;                /* cached from e->deadline */
    int64_t late_ns;                 /* the frame that closed the window came this long after
                                        the deadline (0: closed by the watermark) */
    uint64_t drops_at_start;
    bool active;                     /* its window has started: in the dispatch structures */
    bool closed;
    bool indexed;                    /* reached through the key index (counts from port totals) */
    bool unbounded;                  /* active with its deadline not known yet (counted in its port) */
    bool locked;                     /* multi-port: callbacks under e->lock */
    size_t heap_pos;                 /* in the deadline heap, SIZE_MAX when not there */
    bool preacked;                   /* acknowledged by px_expect's thread on a parked port
                                        (start and drop epoch set then; see port.c) */
    const px__pmark *since;          /* look back from this mark (opts.since): read only while
                                        the arm is taken, the mark outlives px_expect */
    bool lookback;                   /* armed with a mark: frames from lb_* on are in the window */
    int64_t lb_start, lb_start_rt;   /* the mark's start (window clock, CLOCK_REALTIME) */
    uint32_t lb_epoch;
    /* counts of this port's part of the window */
    uint64_t seen, filtered, noise, truncated;
    uint64_t port_seen_at_start, port_trunc_at_start, port_noise_at_start;
    px__node *next_arm;              /* the port's arm queue */
    px__node *next_pending;          /* the port's FIFO of nodes waiting for their start */
};

#define PX__NETNS_MAX 64

/* The control block of a port (port.c). Opaque outside port.c but for the name. */
struct px_port {
    atomic_int refs;
    px_ctx *ctx;
    char name[PX__NETNS_MAX + IF_NAMESIZE]; /* as the user wrote it: "p1" or "ns1/p1" */
    struct px__port_impl *impl;             /* port.c's state */
};

struct px_ctx {
    pthread_mutex_t lock;            /* guards ports[], closed, the sender slot */
    px_ctx_opts opts;
    px_port **ports;
    size_t nports, cap;
    struct px__ring_opts *ring;      /* benchmarks only (px__ctx_set_ring): owned; NULL: default */
    bool closed;
    void *sender;                    /* the sender's per-context state (send.c) */
    void *verify;                    /* the verification layer's state (verify.c): created under lock */
    void *bmv2;                      /* BMv2 nanomsg hubs (source_bmv2.c): created under lock */
    _Atomic(struct px_evidence *) evidence;
    bool evidence_borrowed;          /* px_ctx_record_into: the caller closes it */
    atomic_int cancel_fd;            /* px_ctx_set_cancel_fd; -1: none */
};

/* ---- hooks for other harness modules ---- */

/* The context lock and the sender slot: the sender keeps its per-context state
 * there (guard with the lock); px_ctx_free calls px__sender_ctx_free(slot) when
 * the slot is not NULL. */
pthread_mutex_t *px__ctx_lock(px_ctx *ctx);
void **px__ctx_sender_slot(px_ctx *ctx);
void px__sender_ctx_free(void *sender);

/* verify.c: frees the verification state (px_ctx_free, after the ports). */
void px__verify_ctx_free(void *state);

/* The evidence recorder of the context, or NULL when recording is off. */
struct px_evidence *px__ctx_evidence(px_ctx *ctx);

/* A future already resolved ERROR with `msg`, armed on no port (px_expect_expr's
 * parse errors: the message stays in the future's explanation). Takes `pred`
 * (only describes the expectation); NULL when ctx is NULL or out of memory. */
px_future *px__expect_error(px_ctx *ctx, const char *port, px_predicate *pred, const px_expect_opts *opts,
                            const char *msg);

/* A port name is "IFNAME", or "NETNS/IFNAME" for an interface inside the named
 * network namespace (as `ip netns` names them). Splits it; PX_EINVAL with errbuf. */
int px__port_split(const char *port, char netns[PX__NETNS_MAX], char ifname[IF_NAMESIZE], char *errbuf);
/* A new AF_PACKET socket (SOCK_RAW, protocol 0: receives nothing until bound)
 * created inside `netns` ("" or NULL: the caller's). Everything done with it
 * afterwards (ioctl, bind, send) applies to that namespace. */
int px__packet_socket(const char *netns, int *fd, char *errbuf);

/* ---- between context.c, port.c and expect.c ---- */

/* What a port reads from. */
typedef struct px__port_spec {
    const char *name;
    const struct px_pcap_port_opts *pcap; /* NULL: the live interface `name` */
} px__port_spec;

/* context.c: the port named `spec->name`, opened (its capture thread started) if
 * it is not open or died; returns with a reference the caller drops with
 * px__port_unref. Does not wait for the open to finish: px__port_wait_open. */
int px__port_acquire(px_ctx *ctx, const px__port_spec *spec, px_port **out, char *errbuf);

/* port.c */
int px__port_create(px_ctx *ctx, const px__port_spec *spec, px_port **out, char *errbuf);
/* Waits until the capture thread has opened its source: 0, or its error. */
int px__port_wait_open(px_port *p, char *errbuf);
bool px__port_is_dead(px_port *p);
/* Stops the capture thread (pending expectations resolve ERROR with `why`) and joins it. */
void px__port_shutdown(px_port *p, const char *why);
void px__port_ref(px_port *p);
void px__port_unref(px_port *p);
/* Queues an armed node. Returns 0 when the capture thread will acknowledge it
 * (through e->lock/e->done), 1 when it was acknowledged here already (the thread
 * was asleep with nothing left to read: its window start and drop epoch are set
 * and the expectation anchored, nothing to wait for), or PX_E* with errbuf when
 * the port's thread is gone. */
int px__port_post_arm(px_port *p, px__node *n, char *errbuf);
/* Registers a mark with the port's capture thread and waits for its
 * acknowledgement (0), or PX_E* with errbuf when the port's thread is gone. */
int px__port_take_mark(px_port *p, px__pmark *m, char *errbuf);
/* The frame a capture thread is offering right now (live or replayed from its
 * history): its port and its number on that port, counted from the port's open.
 * Thread-local, valid during the predicate callbacks the offer makes; the
 * verification layer's claims identify frames by it (verify.c). */
typedef struct px__frame_id {
    const px_port *port;
    uint64_t seq;
} px__frame_id;
extern _Thread_local px__frame_id px__offering;

/* mark.c: px_mark_take that also gives its error code (*rc, 0 on success). */
px_mark *px__mark_take(px_ctx *ctx, const char *const *ports, size_t nports, int *rc, char *errbuf);
/* mark.c: the part of mark `m` on port `p`, or NULL. */
const px__pmark *px__mark_on(const px_mark *m, const px_port *p);
/* Unregisters it and waits until the thread no longer reads it; afterwards the
 * caller may free it. */
void px__port_release_mark(px_port *p, px__pmark *m);
/* Wakes the thread: a stop_reason changed or the deadline became known. */
void px__port_kick(px_port *p, bool scan);
void px__port_set_noise(px_port *p, px_noise_fn fn, void *user);
void px__port_start(px_port *p);
bool px__port_offline(px_port *p);
void px__port_stats(px_port *p, px_port_stats *out);
int px__port_info(px_port *p, int *ifindex, uint32_t *mtu);

/* expect.c, called by capture threads */
/* Marks the expectation stopped (first reason wins) and kicks its other ports. */
void px__exp_stop(px_exp *e, px__stop_reason why, const char *msg, px_port *from);
/* px__exp_stop for a stop on frame `f` (predicate stopped, count reached): the
 * winner keeps a copy of the frame (px_future_frame). */
void px__exp_stop_on_frame(px_exp *e, px__stop_reason why, px_port *from, const px_frame *f);
/* A node's port part of the window is over: adds its counts, and when it was the
 * last open node, decides the verdict. Called on the node's capture thread. */
void px__exp_node_closed(px__node *n, uint64_t drops, const char *behind_msg);
/* The port acknowledged the arm, or refused it (after stopping the expectation). */
void px__exp_ack(px_exp *e);
/* A port fixed its window start: the last one computes the deadline. */
void px__exp_anchor(px_exp *e, int64_t start, px_port *from);
void px__exp_unref(px_exp *e);
void px__exp_ref(px_exp *e);

void px__timespec_add_ms(struct timespec *t, uint32_t ms);
/* a - b in nanoseconds */
int64_t px__timespec_diff_ns(const struct timespec *a, const struct timespec *b);
int64_t px__ts_ns(const struct timespec *t);
int64_t px__mono_ns(void);

/* ---- the window clock of live ports (port.c) ----
 * The kernel stamps frames on CLOCK_REALTIME; windows live on CLOCK_MONOTONIC.
 * The map keeps the offset between them, sampled once per batch, and the one
 * before the last step of the wall clock: a frame stamped before a step is
 * mapped with the old offset, so a step neither hides nor admits frames. Mapped
 * times never decrease (arrival order) and never lie in the future. */
typedef struct px__clock_map {
    int64_t off;       /* realtime - monotonic now */
    int64_t off_prev;  /* before the last step */
    int64_t last;      /* last mapped time */
    uint32_t epoch;    /* counts the steps seen */
} px__clock_map;
#define PX__CLOCK_STEP_NS 1000000LL /* offset changes above 1 ms are steps, not slew */
#define PX__CLOCK_PAIR_NS 20000LL   /* a pair read within 20 us is taken at once */
#define PX__CLOCK_PAIR_TRIES 4
/* Reads CLOCK_REALTIME (*realtime_ns) and CLOCK_MONOTONIC (returned) as one
 * instant: the realtime read between two monotonic ones, the tightest of a few
 * tries; *uncertainty_ns is the gap between the monotonic reads. A pair read
 * apart (the thread preempted between the reads: milliseconds on a busy or
 * emulated machine) would otherwise look like a step of the wall clock, and
 * frames would be placed on the window clock off by that delay. */
int64_t px__clock_pair(int64_t *realtime_ns, int64_t *uncertainty_ns);
/* Samples the offset (call once per batch with a px__clock_pair). A change
 * beyond PX__CLOCK_STEP_NS plus the pair's uncertainty is a step; a pair more
 * uncertain than PX__CLOCK_STEP_NS is ignored once an offset is known. */
void px__clock_sample(px__clock_map *m, int64_t realtime_ns, int64_t mono_ns, int64_t uncertainty_ns);
/* Maps a frame stamped `rt` read at `now` (monotonic); `floor` is the earliest
 * plausible arrival (the last time the source was seen empty, minus the settle
 * margin). */
int64_t px__clock_map_frame(px__clock_map *m, int64_t rt, int64_t now, int64_t floor);

#endif
