/* pktexpect: private structures shared by the context, port, expectation and
 * future modules, and the hooks other harness modules (sender, evidence) use.
 * Not installed. */
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

struct px_evidence;
typedef struct px_port px_port;
typedef struct px_exp px_exp;

/* Why an expectation finished; decides how the verdict is reported. */
typedef enum px__finish_reason {
    PX__FIN_STOP,       /* stop_condition returned true */
    PX__FIN_COUNT,      /* count limit reached */
    PX__FIN_TIMEOUT,    /* window closed */
    PX__FIN_CANCEL,     /* px_future_cancel / px_future_free */
    PX__FIN_ERROR,      /* port error, context closed, setup error: see message */
} px__finish_reason;

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
    atomic_int refs;                 /* the future's + one per port list holding it */
    pthread_mutex_t lock;            /* guards everything below and the predicate */
    pthread_cond_t done;             /* broadcast on resolution (CLOCK_MONOTONIC) */
    px_predicate *pred;              /* NULL once finished (freed at finish) */
    bool finished;                   /* set once, under lock */
    px_verdict verdict;
    px_result result;                /* value + explanation */
    px_counters counters;
    char *description;               /* "saw_vlan_tag(102) on p1 within 1000 ms" */
    char *name;
    bool loss_sensitive;
    /* arming */
    struct timespec armed_rt;        /* CLOCK_REALTIME at arm: older frames are not offered */
    struct timespec deadline;        /* CLOCK_MONOTONIC */
    uint32_t count_limit;
    px_noise_mode noise;
    struct bpf_program bpf;
    bool has_bpf;
    size_t nports;
    px_port *ports[PX__MAX_PORTS_PER_EXP];
    uint64_t drops_at_arm[PX__MAX_PORTS_PER_EXP];
    px__wait_link *waiters;
};

/* A registration of an expectation on a port's lists. */
typedef struct px__exp_node {
    px_exp *exp;
    struct px__exp_node *next;
} px__exp_node;

#define PX__NETNS_MAX 64

struct px_port {
    px_ctx *ctx;
    char name[PX__NETNS_MAX + IF_NAMESIZE]; /* as the user wrote it: "p1" or "ns1/p1" */
    char netns[PX__NETNS_MAX];              /* "" for the caller's namespace */
    char ifname[IF_NAMESIZE];
    int ifindex;
    uint32_t mtu;
    int fd;                          /* AF_PACKET socket with the RX ring */
    int efd;                         /* eventfd: wakes the capture thread */
    uint8_t *ring;
    size_t ring_len;
    uint32_t frame_size, frames_per_block, block_size, frame_nr, pos;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;

    /* Control from other threads, guarded by ctl_lock; `ctl_pending` tells the
     * capture thread (checked once per frame) that there is something to merge. */
    pthread_mutex_t ctl_lock;
    atomic_bool ctl_pending;
    px__exp_node *pending;           /* newly armed, not yet in `active` */
    bool noise_changed;
    px_noise_fn noise_new_fn;
    void *noise_new_user;
    bool dead;                       /* capture stopped for good (see dead_msg) */
    int dead_err;
    char dead_msg[PX_ERRBUF_SIZE];

    /* Owned by the capture thread. */
    px__exp_node *active;
    px_noise_fn noise_fn;
    void *noise_user;

    /* Statistics, written by the capture thread. */
    atomic_uint_fast64_t st_frames, st_drops, st_noise, st_truncated;
};

struct px_ctx {
    pthread_mutex_t lock;            /* guards ports[], closed, the sender slot */
    px_ctx_opts opts;
    px_port **ports;
    size_t nports, cap;
    bool closed;
    void *sender;                    /* the sender's per-context state (send.c) */
    _Atomic(struct px_evidence *) evidence;
};

/* ---- hooks for other harness modules ---- */

/* The context lock and the sender slot: the sender keeps its per-context state
 * there (guard with the lock); px_ctx_free calls px__sender_ctx_free(slot) when
 * the slot is not NULL. */
pthread_mutex_t *px__ctx_lock(px_ctx *ctx);
void **px__ctx_sender_slot(px_ctx *ctx);
void px__sender_ctx_free(void *sender);

/* The evidence recorder of the context, or NULL when recording is off. */
struct px_evidence *px__ctx_evidence(px_ctx *ctx);

/* A port name is "IFNAME", or "NETNS/IFNAME" for an interface inside the named
 * network namespace (as `ip netns` names them). Splits it; PX_EINVAL with errbuf. */
int px__port_split(const char *port, char netns[PX__NETNS_MAX], char ifname[IF_NAMESIZE], char *errbuf);
/* A new AF_PACKET socket (SOCK_RAW, protocol 0: receives nothing until bound)
 * created inside `netns` ("" or NULL: the caller's). Everything done with it
 * afterwards (ioctl, bind, send) applies to that namespace. */
int px__packet_socket(const char *netns, int *fd, char *errbuf);

/* ---- between context.c, port.c and expect.c ---- */

/* Finds or opens a port; the context lock is taken inside. */
int px__port_get(px_ctx *ctx, const char *ifname, px_port **out, char *errbuf);
int px__port_open(px_ctx *ctx, const char *ifname, px_port **out, char *errbuf);
void px__port_destroy(px_port *port, const char *why);
/* Registers an armed expectation on a port; PX_EGONE etc. with errbuf if the port is dead. */
int px__port_arm(px_port *port, px_exp *e, char *errbuf);
void px__port_kick(px_port *port);
bool px__port_is_dead(px_port *port);
/* Hands a new noise filter to the capture thread. */
void px__port_set_noise(px_port *port, px_noise_fn fn, void *user);

/* Offers one dissected frame to an expectation (noise already decided);
 * returns true when it finished. Takes e->lock. */
bool px__exp_offer(px_exp *e, const px_frame *f, bool is_noise);
/* Finishes an expectation once (no-op if finished); takes e->lock. */
void px__exp_finish(px_exp *e, px__finish_reason why, const char *msg);
void px__exp_unref(px_exp *e);
void px__exp_ref(px_exp *e);

void px__timespec_add_ms(struct timespec *t, uint32_t ms);
/* a - b in nanoseconds */
int64_t px__timespec_diff_ns(const struct timespec *a, const struct timespec *b);

#endif
