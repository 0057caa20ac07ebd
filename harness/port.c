/* pktexpect: a port: references, control messages from other threads (arms,
 * noise filter, start, shutdown), statistics, and its creation. The capture
 * thread that owns the source and the nodes is in port_loop.c; the state both
 * share is in port_internal.h.
 *
 * Parked arms. While the thread sleeps in ppoll it is "parked": it touches no
 * state until it has taken the control lock again. An arm that finds the port
 * parked is acknowledged by the arming thread itself, under that lock: it reads
 * the drop counter and the clocks as take_arms would (DESIGN 2.1: capture active,
 * window start and drop epoch recorded) and queues the node for the thread to
 * index when it wakes, before it reads any frame (phase_control runs first;
 * frames stamped before the start are left out by their timestamps, as for any
 * arm). This saves px_expect the round trip with the sleeping thread (two
 * wake-ups, most of an arm's time: bench/README.md). Not when the ring must be
 * rebuilt for a grown MTU: that stays on the thread. Nor is the thread woken:
 * a frame wakes it anyway, and it takes control messages before reading
 * frames; only the new deadline may be earlier than the thread's own wake-up
 * time, and then the arm sets a timerfd the thread polls (a system call that
 * wakes nobody now) to that deadline, where an eventfd write would wake the
 * thread at once, often onto the arming thread's CPU.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bmv2.h"
#include "port_internal.h"

/* ---- references and control from other threads ---- */

void px__port_ref(px_port *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

static void port_free(px_port *p)
{
    struct px__port_impl *P = p->impl;
    if (P) {
        if (P->efd >= 0)
            close(P->efd);
        if (P->tfd >= 0)
            close(P->tfd);
        free((char *)P->pcap.path);
        free((char *)P->pcap.interface);
        pthread_mutex_destroy(&P->ctl);
        pthread_cond_destroy(&P->ctl_cond);
        free(P);
    }
    free(p);
}

void px__port_unref(px_port *p)
{
    if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        port_free(p);
}

void px__port_kick(px_port *p, bool scan)
{
    struct px__port_impl *P = p->impl;
    if (scan)
        atomic_store_explicit(&P->scan_req, true, memory_order_release);
    uint64_t one = 1;
    ssize_t r = write(P->efd, &one, sizeof one); /* the eventfd lives as long as the port */
    (void)r;
}


/* Under P->ctl, the thread parked: makes sure it wakes by `wake` (monotonic ns).
 * False when that needs a kick (the timer could not be set). */
static bool wake_parked_by(struct px__port_impl *P, int64_t wake)
{
    if (wake >= P->parked_until || wake >= P->timer_at)
        return true;
    struct itimerspec its = {.it_value = {.tv_sec = wake / 1000000000LL, .tv_nsec = wake % 1000000000LL}};
    if (timerfd_settime(P->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
        return false;
    P->timer_at = wake;
    return true;
}

/* Under P->ctl, the thread parked: the acknowledgement take_arms would give.
 * *kick: the thread must be woken now. */
static bool arm_parked(px_port *p, px__node *n, bool *kick)
{
    struct px__port_impl *P = p->impl;
    const px__source_ops *ops = P->src->ops;
    if (ops->needs_refresh && ops->needs_refresh(P->src))
        return false; /* the thread drains and rebuilds the ring first */
    /* The drop epoch: the count the thread read last, when the source proves
     * that nothing can have been lost since (no system call), else read now. */
    if (!ops->drops_unchanged || !ops->drops_unchanged(P->src)) {
        P->drops_fresh = false;
        (void)px__port_drops_now(P);
    }
    n->drops_at_start = P->drops;
    struct timespec rt;
    n->start = px__mono_ns();
    clock_gettime(CLOCK_REALTIME, &rt);
    n->start_rt = px__ts_ns(&rt);
    n->epoch = P->clk.epoch;
    n->preacked = true;
    /* Anchored before the thread can see the node, so that it finds the deadline
     * (a single-port expectation's anchor kicks no port). Unknown yet: the last
     * port of the expectation to anchor it kicks this one. */
    px__exp_anchor(n->e, n->start, p);
    int64_t deadline = atomic_load_explicit(&n->e->deadline, memory_order_acquire);
    /* A thread letting frames gather under load is woken all the same: the
     * frames sent after this arm are then read without waiting for the rest of
     * its pause (loaded send-to-verdict p50: 18 us with the kick, 32 - 50 without). */
    *kick = P->gathering || (deadline != PX__NS_NEVER && !wake_parked_by(P, deadline + P->settle + 1));
    return true;
}

int px__port_post_arm(px_port *p, px__node *n, char *errbuf)
{
    struct px__port_impl *P = p->impl;
    pthread_mutex_lock(&P->ctl);
    if (P->state == PORT_DEAD) {
        int err = P->dead_err;
        snprintf(errbuf, PX_ERRBUF_SIZE, "%s", P->dead_msg);
        pthread_mutex_unlock(&P->ctl);
        return err;
    }
    bool kick = true;
    /* A look-back arm replays the port's history: only its thread can. */
    bool acked = P->parked && P->state == PORT_RUNNING && !n->since && arm_parked(p, n, &kick);
    n->next_arm = NULL;
    if (P->arms_tail)
        P->arms_tail->next_arm = n;
    else
        P->arms_head = n;
    P->arms_tail = n;
    atomic_store_explicit(&P->ctl_pending, true, memory_order_release);
    pthread_mutex_unlock(&P->ctl);
    if (kick)
        px__port_kick(p, false);
    return acked ? 1 : 0;
}

/* ---- marks (pktexpect/mark.h): a handshake like an arm's ---- */

static void push_req(px__pmark **head, px__pmark *m)
{
    m->next_req = NULL;
    while (*head)
        head = &(*head)->next_req;
    *head = m;
}

int px__port_take_mark(px_port *p, px__pmark *m, char *errbuf)
{
    struct px__port_impl *P = p->impl;
    pthread_mutex_lock(&P->ctl);
    while (P->state == PORT_OPENING)
        pthread_cond_wait(&P->ctl_cond, &P->ctl);
    if (P->state == PORT_RUNNING) {
        push_req(&P->mark_req, m);
        atomic_store_explicit(&P->ctl_pending, true, memory_order_release);
        pthread_mutex_unlock(&P->ctl);
        px__port_kick(p, false);
        pthread_mutex_lock(&P->ctl);
        while (!m->answered && P->state != PORT_DEAD)
            pthread_cond_wait(&P->ctl_cond, &P->ctl);
    }
    int rc = 0;
    if (!m->acked && m->answered) {
        rc = PX_ENOMEM;
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory taking a mark on '%s'", p->name);
    } else if (!m->acked) {
        rc = P->dead_err ? P->dead_err : PX_ECLOSED;
        snprintf(errbuf, PX_ERRBUF_SIZE, "%s", P->dead_msg[0] ? P->dead_msg : "port closed");
    }
    pthread_mutex_unlock(&P->ctl);
    return rc;
}

void px__port_release_mark(px_port *p, px__pmark *m)
{
    struct px__port_impl *P = p->impl;
    pthread_mutex_lock(&P->ctl);
    /* A dead port's thread reads no mark any more (port_die dropped them). */
    if (m->acked && P->state != PORT_DEAD) {
        push_req(&P->unmark_req, m);
        atomic_store_explicit(&P->ctl_pending, true, memory_order_release);
        pthread_mutex_unlock(&P->ctl);
        px__port_kick(p, false);
        pthread_mutex_lock(&P->ctl);
        while (!m->released && P->state != PORT_DEAD)
            pthread_cond_wait(&P->ctl_cond, &P->ctl);
    }
    pthread_mutex_unlock(&P->ctl);
}

void px__port_set_noise(px_port *p, px_noise_fn fn, void *user)
{
    struct px__port_impl *P = p->impl;
    pthread_mutex_lock(&P->ctl);
    P->noise_new_fn = fn;
    P->noise_new_user = user;
    P->noise_changed = true;
    atomic_store_explicit(&P->ctl_pending, true, memory_order_release);
    pthread_mutex_unlock(&P->ctl);
    px__port_kick(p, false);
}

void px__port_start(px_port *p)
{
    struct px__port_impl *P = p->impl;
    pthread_mutex_lock(&P->ctl);
    P->start_req = true;
    atomic_store_explicit(&P->ctl_pending, true, memory_order_release);
    pthread_mutex_unlock(&P->ctl);
    px__port_kick(p, false);
}

int px__port_wait_open(px_port *p, char *errbuf)
{
    struct px__port_impl *P = p->impl;
    pthread_mutex_lock(&P->ctl);
    while (P->state == PORT_OPENING)
        pthread_cond_wait(&P->ctl_cond, &P->ctl);
    int rc = P->state == PORT_DEAD ? P->dead_err : 0;
    if (rc && errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "%s", P->dead_msg);
    pthread_mutex_unlock(&P->ctl);
    return rc;
}

bool px__port_is_dead(px_port *p)
{
    struct px__port_impl *P = p->impl;
    pthread_mutex_lock(&P->ctl);
    bool dead = P->state == PORT_DEAD;
    pthread_mutex_unlock(&P->ctl);
    return dead;
}

bool px__port_offline(px_port *p)
{
    struct px__port_impl *P = p->impl;
    pthread_mutex_lock(&P->ctl);
    bool off = P->offline;
    pthread_mutex_unlock(&P->ctl);
    return off;
}

void px__port_stats(px_port *p, px_port_stats *out)
{
    struct px__port_impl *P = p->impl;
    out->frames = atomic_load_explicit(&P->st_frames, memory_order_relaxed);
    out->drops = atomic_load_explicit(&P->st_drops, memory_order_relaxed);
    out->noise = atomic_load_explicit(&P->st_noise, memory_order_relaxed);
    out->truncated = atomic_load_explicit(&P->st_truncated, memory_order_relaxed);
}

int px__port_info(px_port *p, int *ifindex, uint32_t *mtu)
{
    struct px__port_impl *P = p->impl;
    pthread_mutex_lock(&P->ctl);
    int rc = P->state != PORT_RUNNING ? PX_ENODEV : P->offline || P->is_pcap || P->is_bmv2 ? PX_ENOTSUP : 0;
    if (rc == 0) {
        if (ifindex)
            *ifindex = P->ifindex;
        if (mtu)
            *mtu = P->mtu;
    }
    pthread_mutex_unlock(&P->ctl);
    return rc;
}

void px__port_shutdown(px_port *p, const char *why)
{
    struct px__port_impl *P = p->impl;
    pthread_mutex_lock(&P->ctl);
    if (!P->stop_why[0])
        snprintf(P->stop_why, sizeof P->stop_why, "%s", why);
    bool join = P->thread_started && !P->joined;
    P->joined = true;
    pthread_mutex_unlock(&P->ctl);
    atomic_store_explicit(&P->stop, true, memory_order_release);
    px__port_kick(p, false);
    if (join)
        pthread_join(P->thread, NULL);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int px__port_create(px_ctx *ctx, const px__port_spec *spec, px_port **out, char *errbuf)
{
    px_port *p = calloc(1, sizeof *p);
    struct px__port_impl *P = calloc(1, sizeof *P);
    if (!p || !P) {
        free(p);
        free(P);
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory opening '%s'", spec->name);
        return PX_ENOMEM;
    }
    p->impl = P;
    p->ctx = ctx;
    atomic_init(&p->refs, 1);
    P->efd = P->tfd = -1;
    P->timer_at = INT64_MAX;
    snprintf(p->name, sizeof p->name, "%s", spec->name);
    pthread_mutex_init(&P->ctl, NULL);
    pthread_cond_init(&P->ctl_cond, NULL);
    P->ring_mib = ctx->opts.ring_mib;
    if (ctx->ring)
        P->ring = *ctx->ring;
    P->hist.limit = (size_t)ctx->opts.history_mib << 20;
    P->grace_ms = ctx->opts.lag_grace_ms ? ctx->opts.lag_grace_ms : PX_DEFAULT_LAG_GRACE_MS;
    P->is_bmv2 = !spec->pcap && px__bmv2_is_name(spec->name);
    P->settle = spec->pcap || P->is_bmv2 ? SETTLE_NS : px__ring_settle_ns(&P->ring);
    /* Blocks (PX_CAPTURE_THROUGHPUT): the verdict cannot be due before the
     * watermark can pass the deadline. */
    if (P->settle > SETTLE_NS && (int64_t)P->grace_ms * 1000000LL < P->settle + SETTLE_NS)
        P->grace_ms = (uint32_t)((P->settle + SETTLE_NS) / 1000000LL);
    if (!ctx->opts.noise_filter_off)
        P->noise_fn = px_noise_default;
    int rc = 0;
    if (spec->pcap) {
        P->is_pcap = true;
        P->pcap = *spec->pcap;
        P->pcap.path = dup_or_null(spec->pcap->path);
        P->pcap.interface = dup_or_null(spec->pcap->interface);
        /* The caller's descriptor is only borrowed: px_port_open_pcap waits for the
         * open, in which the source takes a file description of its own. */
    } else if (P->is_bmv2) {
        char addr[PX__BMV2_ADDR_MAX];
        int num;
        rc = px__bmv2_parse(spec->name, addr, &num, errbuf); /* a bad name fails here, not on the thread */
    } else {
        rc = px__port_split(spec->name, P->netns, P->ifname, errbuf);
    }
    if (rc == 0) {
        P->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        P->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (P->efd < 0 || P->tfd < 0) {
            snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': eventfd / timerfd: %s", spec->name,
                     strerror(errno));
            rc = PX_ESYS;
        }
    }
    if (rc == 0) {
        int err = pthread_create(&P->thread, NULL, px__port_thread, p);
        if (err) {
            snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': cannot start thread: %s", spec->name, strerror(err));
            rc = PX_ESYS;
        } else {
            P->thread_started = true;
        }
    }
    if (rc != 0) {
        port_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
