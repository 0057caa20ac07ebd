/* pktexpect: a port's capture thread (the port's other half, the calls from
 * other threads, is port.c; their shared state is port_internal.h).
 *
 * The capture thread owns the source and every node (an expectation's
 * registration on this port). Its loop runs in explicit phases, as libuv's and
 * redis' ae.c do:
 *   1. control: take arm requests (acknowledge each: its window starts now,
 *      its drop epoch is read now), noise filter changes, start requests;
 *   2. drain a bounded batch of frames in arrival order; each frame is dissected
 *      once, mapped onto the window clock, closes the windows whose deadline it
 *      is past, starts the windows it is at or after, and is offered to the
 *      nodes its dispatch keys select plus the unkeyed ones;
 *   3. expire: windows whose deadline the watermark passed close (the port has
 *      examined every frame up to their deadline), windows of a live port still
 *      open at deadline + grace close as "capture behind", stopped expectations
 *      close their nodes;
 *   4. reclaim closed nodes, at one point, never while a list is walked;
 *   5. sleep in ppoll on the source and an eventfd until the nearest deadline,
 *      or not at all when the batch bound left frames ready.
 * No timer thread, no busy loop.
 *
 * The watermark: on a live port, when the source is found empty at monotonic
 * time T, every frame stamped before T - settle has been examined (the settle
 * margin covers the kernel's queueing between the timestamp and the ring). On
 * an offline port it is the last frame's time, and infinity at the end.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "port_internal.h"
#include "predicate_internal.h"
#include "pktexpect/evidence.h"
#include "evidence_internal.h"

_Thread_local px__frame_id px__offering;

#define BATCH_MAX 512                    /* frames per drain before the other phases run */
#define ANCHOR_NEXT INT64_MIN            /* offline window start: the next frame's time */

/* ---- the capture thread: nodes ---- */

static void publish_stats(struct px__port_impl *P, uint64_t frames, uint64_t noise, uint64_t trunc)
{
    /* Single writer: plain load + store, no read-modify-write on the hot path. */
    if (frames)
        atomic_store_explicit(&P->st_frames, atomic_load_explicit(&P->st_frames, memory_order_relaxed) + frames,
                              memory_order_relaxed);
    if (noise)
        atomic_store_explicit(&P->st_noise, atomic_load_explicit(&P->st_noise, memory_order_relaxed) + noise,
                              memory_order_relaxed);
    if (trunc)
        atomic_store_explicit(&P->st_truncated,
                              atomic_load_explicit(&P->st_truncated, memory_order_relaxed) + trunc,
                              memory_order_relaxed);
}

/* The loss count now; read from the source at most once per phase. */
uint64_t px__port_drops_now(struct px__port_impl *P)
{
    if (!P->drops_fresh && P->src) {
        P->drops = P->src->ops->drops(P->src) + P->gaps;
        atomic_store_explicit(&P->st_drops, P->drops, memory_order_relaxed);
        P->drops_fresh = true;
    }
    return P->drops;
}

static void node_set_deadline(struct px__port_impl *P, px__node *n, int64_t deadline)
{
    if (n->closed || n->deadline != PX__NS_NEVER || deadline == PX__NS_NEVER)
        return;
    if (n->unbounded) {
        n->unbounded = false;
        P->unbounded--;
    }
    n->deadline = deadline;
    if (!px__heap_push(&P->heap, n))
        n->deadline = PX__NS_NEVER; /* out of memory: the expire scan still sees it */
}

/* The node's window starts: it enters the dispatch structures. */
static void node_activate(struct px__port_impl *P, px__node *n)
{
    n->active = true;
    if (n->deadline == PX__NS_NEVER) {
        n->unbounded = true;
        P->unbounded++;
    }
    n->port_seen_at_start = P->tot_seen;
    n->port_trunc_at_start = P->tot_trunc;
    n->port_noise_at_start = P->tot_noise;
    if (n->indexed) {
        px__kslot *s = px__key_insert(&P->keys[n->e->key.kind], n->e->key.value);
        if (s && px__vec_push(&s->nodes, n)) {
            P->keys[n->e->key.kind].nodes++;
            P->key_kinds |= PX__KEY_BIT(n->e->key.kind);
            return;
        }
        n->indexed = false; /* out of memory: visit it with every frame instead */
    }
    if (!px__vec_push(&P->fallback, n))
        n->active = false; /* cannot happen without memory; it will time out */
}

/* Closes this port's part of a node's window: counts are final, drops read. */
static void node_close(struct px__port_impl *P, px__node *n, const char *behind)
{
    if (n->closed)
        return;
    n->closed = true;
    if (n->unbounded) {
        n->unbounded = false;
        P->unbounded--;
    }
    px__heap_remove(&P->heap, n);
    if (n->indexed && n->active) {
        n->seen = P->tot_seen - n->port_seen_at_start;
        n->truncated = P->tot_trunc - n->port_trunc_at_start;
        n->noise = P->tot_noise - n->port_noise_at_start;
    }
    uint64_t drops = px__port_drops_now(P) - n->drops_at_start;
    px__vec_push(&P->closing, n); /* reclaimed at the end of the loop */
    px__exp_node_closed(n, drops, behind);
}

/* Offers one frame to one node (its window holds the frame). Inlined in its
 * callers: it runs for every frame and every node the frame is offered to, and
 * the call (the registers it saves) cost as much as its checks. */
static inline __attribute__((always_inline)) void node_offer(struct px__port_impl *P, px__node *n, const px_frame *f,
                                                             bool is_noise)
{
    px_exp *e = n->e;
    if (n->closed)
        return;
    /* A look-back window starts at its mark: a frame stamped before the mark but
     * read only now (the capture was behind) is not in it. */
    if (n->lookback && (P->cur_epoch == n->lb_epoch ? P->cur_rt < n->lb_start_rt : P->cur_t < n->lb_start))
        return;
    if (atomic_load_explicit(&e->stop_reason, memory_order_acquire) != PX__STOP_NONE) {
        atomic_store_explicit(&P->scan_req, true, memory_order_relaxed);
        return;
    }
    if (!n->indexed) {
        if (e->has_bpf &&
            !pcap_offline_filter(&e->bpf, &(struct pcap_pkthdr){.caplen = f->caplen, .len = f->wirelen}, f->data)) {
            n->filtered++;
            return;
        }
        if (is_noise && e->noise == PX_NOISE_PORT) {
            n->noise++;
            return;
        }
        n->seen++;
        if (f->caplen < f->wirelen)
            n->truncated++;
    }
    if (n->locked)
        pthread_mutex_lock(&e->lock);
    px__stop_reason stop = PX__STOP_NONE;
    if (e->pred && !e->finished) {
        if (px__predicate_offer(e->pred, f))
            stop = PX__STOP_PRED;
        else if (e->count_limit && ++e->offered >= e->count_limit)
            stop = PX__STOP_COUNT;
    }
    if (n->locked)
        pthread_mutex_unlock(&e->lock);
    if (stop) {
        /* This frame decided: the stop's winner copies it (px_future_frame). */
        px__exp_stop_on_frame(e, stop, n->port, f);
        node_close(P, n, NULL);
    }
}

/* ---- the capture thread: phases ---- */

static int phase_drain(px_port *p, char *msg);

/* After a drain that followed a gather: the batch it read says how busy the port
 * is (see GATHER_* in port_internal.h). */
static void adapt_gather(struct px__port_impl *P)
{
    P->gathered = false;
    /* Every drain since the gather counts: one that hit BATCH_MAX is followed by more. */
    uint64_t per_min = P->gather_read * GATHER_MIN_NS / (uint64_t)P->gather_ns; /* frames per 50 us */
    if (per_min >= GATHER_GROW)
        P->gather_ns = P->gather_ns * 2 > GATHER_MAX_NS ? GATHER_MAX_NS : P->gather_ns * 2;
    else if (per_min < GATHER_SHRINK)
        P->gather_ns = P->gather_ns / 2 < GATHER_MIN_NS ? GATHER_MIN_NS : P->gather_ns / 2;
}

/* An arm this port cannot take: the expectation stops with `msg`, then the
 * waiting px_expect is released (a parked arm was acknowledged already); the
 * node is freed here. */
static void refuse_arm(px_port *p, px__node *n, const char *msg)
{
    px__exp_stop(n->e, PX__STOP_ERROR, msg, p);
    if (!n->preacked)
        px__exp_ack(n->e);
    px__exp_node_closed(n, 0, NULL);
    px__exp_unref(n->e);
    free(n);
}

/* A grown MTU: frames in the ring are offered first, then the ring is rebuilt
 * (before the new expectations' windows start, so they see whole frames). */
static void refresh_source(px_port *p)
{
    struct px__port_impl *P = p->impl;
    const px__source_ops *ops = P->src->ops;
    if (!ops->needs_refresh || !ops->needs_refresh(P->src))
        return;
    char msg[PX_ERRBUF_SIZE];
    for (uint32_t i = 0; i < 1u << 20 && phase_drain(p, msg) > 0; i++) {
    }
    P->gaps += ops->refresh(P->src);
    pthread_mutex_lock(&P->ctl);
    P->mtu = P->src->mtu;
    pthread_mutex_unlock(&P->ctl);
}

/* Appends a node to the FIFO of nodes waiting for their window to start. */
static void pend_push(struct px__port_impl *P, px__node *n)
{
    n->next_pending = NULL;
    if (P->pend_tail)
        P->pend_tail->next_pending = n;
    else
        P->pend_head = n;
    P->pend_tail = n;
}

/* ---- marks and looking back (pktexpect/mark.h, history.h) ---- */

static void set_current(struct px__port_impl *P, int64_t t, int64_t rt, uint32_t epoch)
{
    P->cur_t = t;
    P->cur_rt = rt;
    P->cur_epoch = epoch;
}

/* Why a look-back from `m` is impossible on this port, or NULL. */
static const char *lookback_refusal(px_port *p, const px__pmark *m, char *buf, size_t len)
{
    struct px__port_impl *P = p->impl;
    if (m->seq >= P->hist.base)
        return NULL;
    snprintf(buf, len,
             "cannot look back from the mark on '%s': %llu frames since it were forgotten, over the port's history "
             "limit of %zu MiB (px_ctx_opts.history_mib; take marks closer to the checks that use them)",
             p->name, (unsigned long long)(P->hist.base - m->seq), P->hist.limit >> 20);
    return buf;
}

/* Offers a look-back node the frames of the history since its mark, in arrival
 * order, as they were offered live (noise flag, timestamps); the live frames
 * that follow come through the dispatch. */
static void replay(px_port *p, px__node *n)
{
    struct px__port_impl *P = p->impl;
    const px__history *h = &P->hist;
    for (uint64_t s = n->since->seq; s < h->base + h->n && !n->closed; s++) {
        const px__hist_rec *r = &h->rec[s - h->base];
        px_frame f;
        px_frame_dissect(&f, px__hist_data(h, r), r->caplen, r->wirelen);
        f.ts = r->ts;
        f.port = p->name;
        f.dir = PX_DIR_IN;
        f.flags |= r->flags & PX_FRAME_CSUM_NOT_READY;
        set_current(P, r->t, P->src->live ? px__ts_ns(&r->ts) : INT64_MIN, r->epoch);
        px__offering = (px__frame_id){p, s};
        node_offer(P, n, &f, r->noise);
    }
}

/* Keeps a frame for the marks of the port. */
static void record(struct px__port_impl *P, const px_frame *f, bool is_noise)
{
    px__hist_rec r = {.caplen = f->caplen, .wirelen = f->wirelen, .ts = f->ts, .t = P->cur_t,
                      .epoch = P->cur_epoch, .flags = f->flags, .noise = is_noise};
    if (P->hist.base + P->hist.n != P->frame_seq)
        px__hist_reset(&P->hist, P->frame_seq); /* cannot happen: the history is contiguous */
    (void)px__hist_add(&P->hist, f->data, &r, P->oldest_mark);
}

static uint64_t oldest_mark(struct px__port_impl *P)
{
    uint64_t s = UINT64_MAX;
    for (size_t i = 0; i < P->nmarks; i++)
        if (P->marks[i]->seq < s)
            s = P->marks[i]->seq;
    return s;
}

/* Takes and releases marks: the acknowledgements, under ctl, wake the callers. */
static void take_marks(px_port *p, px__pmark *take, px__pmark *release)
{
    struct px__port_impl *P = p->impl;
    if (take) {
        P->drops_fresh = false;
        uint64_t drops = px__port_drops_now(P);
        int64_t now = px__mono_ns();
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        for (px__pmark *m = take; m; m = m->next_req) {
            if (P->nmarks == P->mcap) {
                size_t cap = P->mcap ? P->mcap * 2 : 8;
                px__pmark **v = realloc(P->marks, cap * sizeof *v);
                if (!v)
                    continue; /* out of memory: not acknowledged, the taker gets an error */
                P->marks = v;
                P->mcap = cap;
            }
            if (P->nmarks == 0)
                px__hist_reset(&P->hist, P->frame_seq);
            m->seq = P->frame_seq;
            m->drops = drops;
            m->start = !P->offline ? now : P->have_frame ? P->last_t : ANCHOR_NEXT;
            m->start_rt = P->offline ? INT64_MIN : px__ts_ns(&rt);
            m->epoch = P->clk.epoch;
            P->marks[P->nmarks++] = m;
        }
    }
    for (px__pmark *m = release; m; m = m->next_req) {
        for (size_t i = 0; i < P->nmarks; i++)
            if (P->marks[i] == m) {
                P->marks[i] = P->marks[--P->nmarks];
                break;
            }
    }
    if (release) {
        if (P->nmarks == 0)
            px__hist_free(&P->hist);
        else
            px__hist_trim(&P->hist, oldest_mark(P));
    }
    P->oldest_mark = oldest_mark(P);
    pthread_mutex_lock(&P->ctl);
    for (px__pmark *m = take; m; m = m->next_req) {
        for (size_t i = 0; i < P->nmarks; i++)
            m->acked |= P->marks[i] == m;
        m->answered = true;
    }
    for (px__pmark *m = release; m; m = m->next_req)
        m->released = true;
    if (take || release)
        pthread_cond_broadcast(&P->ctl_cond);
    pthread_mutex_unlock(&P->ctl);
}

/* A look-back arm, acknowledged: its window started at its mark, so it is
 * offered the history first and is in the dispatch from now on. */
static void arm_lookback(px_port *p, px__node *n)
{
    struct px__port_impl *P = p->impl;
    const px__pmark *m = n->since;
    n->lookback = true;
    n->indexed = false;
    n->drops_at_start = m->drops;
    n->lb_start = m->start == ANCHOR_NEXT ? INT64_MIN : m->start;
    n->lb_start_rt = m->start_rt;
    n->lb_epoch = m->epoch;
    node_activate(P, n);
    if (n->start != ANCHOR_NEXT) {
        px__exp_anchor(n->e, n->start, p);
        node_set_deadline(P, n, atomic_load_explicit(&n->e->deadline, memory_order_acquire));
    } else {
        /* An offline stream with no frame yet: the deadline is anchored by the
         * next frame (activate_until), the window is open already. */
        pend_push(P, n);
    }
    replay(p, n);
    n->since = NULL; /* the mark may be freed once px_expect returns */
}

static void take_arms(px_port *p, px__node *arms)
{
    struct px__port_impl *P = p->impl;
    if (!arms)
        return;
    /* Arms acknowledged while the thread was parked first: their starts are
     * earlier than this one's, and the pending FIFO stays in start order. */
    px__node *parked = NULL, **pt = &parked, *rest = NULL, **rt_ = &rest;
    for (px__node *n = arms, *next; n; n = next) {
        next = n->next_arm;
        n->next_arm = NULL;
        px__node ***tail = n->preacked ? &pt : &rt_;
        **tail = n;
        *tail = &n->next_arm;
    }
    *pt = rest;
    arms = parked;
    uint64_t drops = 0;
    int64_t now = 0;
    struct timespec rt = {0, 0};
    if (rest) {
        refresh_source(p);
        P->drops_fresh = false;
        drops = px__port_drops_now(P);
        now = px__mono_ns();
        clock_gettime(CLOCK_REALTIME, &rt);
    }
    while (arms) {
        px__node *n = arms;
        arms = n->next_arm;
        n->heap_pos = SIZE_MAX;
        n->deadline = PX__NS_NEVER;
        char why[PX_ERRBUF_SIZE];
        if (n->since && lookback_refusal(p, n->since, why, sizeof why)) {
            refuse_arm(p, n, why);
            continue;
        }
        if (!px__vec_push(&P->all, n)) {
            refuse_arm(p, n, "out of memory arming the expectation");
            continue;
        }
        if (!n->preacked) {
            /* The window starts at this acknowledgement (DESIGN 2.1). */
            n->drops_at_start = drops;
            n->start = !P->offline ? now : P->have_frame ? P->last_t : ANCHOR_NEXT;
            n->start_rt = px__ts_ns(&rt);
            n->epoch = P->clk.epoch;
        }
        if (n->since) {
            arm_lookback(p, n);
            px__exp_ack(n->e);
            continue;
        }
        pend_push(P, n);
        if (n->start != ANCHOR_NEXT) {
            if (!n->preacked)
                px__exp_anchor(n->e, n->start, p);
            /* In the deadline heap from now on, started or not: a window the
             * capture has not even reached by deadline + grace is behind too. */
            node_set_deadline(P, n, atomic_load_explicit(&n->e->deadline, memory_order_acquire));
        }
        if (!n->preacked)
            px__exp_ack(n->e);
    }
}

static void phase_control(px_port *p)
{
    struct px__port_impl *P = p->impl;
    if (!atomic_load_explicit(&P->ctl_pending, memory_order_acquire))
        return;
    pthread_mutex_lock(&P->ctl);
    atomic_store_explicit(&P->ctl_pending, false, memory_order_relaxed);
    px__node *arms = P->arms_head;
    P->arms_head = P->arms_tail = NULL;
    if (P->noise_changed) {
        P->noise_fn = P->noise_new_fn;
        P->noise_user = P->noise_new_user;
        P->noise_changed = false;
    }
    if (P->start_req)
        P->paused = false;
    px__pmark *take = P->mark_req, *release = P->unmark_req;
    P->mark_req = P->unmark_req = NULL;
    pthread_mutex_unlock(&P->ctl);
    /* Marks before arms: an arm that looks back from a mark follows its take. */
    if (take)
        take_marks(p, take, NULL);
    take_arms(p, arms);
    if (release)
        take_marks(p, NULL, release);
}

/* Scan requested by another thread (px__port_kick): deadlines that became
 * known when the last port of a multi-port expectation anchored, expectations
 * stopped elsewhere. */
static void take_scan_request(struct px__port_impl *P)
{
    if (!atomic_exchange_explicit(&P->scan_req, false, memory_order_acq_rel))
        return;
    for (size_t i = 0; i < P->all.n; i++) {
        px__node *n = P->all.v[i];
        if (n->closed)
            continue;
        if (atomic_load_explicit(&n->e->stop_reason, memory_order_acquire) != PX__STOP_NONE)
            node_close(P, n, NULL);
        else if (n->deadline == PX__NS_NEVER)
            node_set_deadline(P, n, atomic_load_explicit(&n->e->deadline, memory_order_acquire));
    }
}

/* Whether a live frame stamped `rt` (window time `t`) is at or after n's start:
 * on the kernel's clock itself unless the wall clock stepped since the ack. */
static bool at_or_after_start(struct px__port_impl *P, const px__node *n, int64_t t, int64_t rt)
{
    if (rt != INT64_MIN && n->epoch == P->clk.epoch)
        return rt >= n->start_rt;
    return n->start != ANCHOR_NEXT && n->start <= t;
}

/* Starts the windows of nodes whose start is at or before a frame (t, rt; rt
 * INT64_MIN when not a live frame) or, with no frame, the watermark t. */
static void activate_until(struct px__port_impl *P, int64_t t, int64_t rt, bool anchor)
{
    while (P->pend_head && ((anchor && P->pend_head->start == ANCHOR_NEXT) ||
                            at_or_after_start(P, P->pend_head, t, rt))) {
        px__node *n = P->pend_head;
        P->pend_head = n->next_pending;
        if (!P->pend_head)
            P->pend_tail = NULL;
        if (n->closed)
            continue;
        if (n->start == ANCHOR_NEXT) {
            /* An offline window opens at its first frame: losses the stream
             * reported before it are not in the window. */
            n->start = t;
            P->drops_fresh = false;
            if (!n->lookback) /* a look-back's drop epoch is its mark's */
                n->drops_at_start = px__port_drops_now(P);
            px__exp_anchor(n->e, t, n->port);
        }
        if (!n->active)
            node_activate(P, n);
        node_set_deadline(P, n, atomic_load_explicit(&n->e->deadline, memory_order_acquire));
    }
}

/* Closes the windows whose deadline lies before `t` (a frame at `t` is past them). */
static void close_before(struct px__port_impl *P, int64_t t)
{
    px__node *n;
    while ((n = px__heap_min(&P->heap)) && n->deadline < t) {
        n->late_ns = t - n->deadline; /* told in a FAIL's explanation: "came late" */
        node_close(P, n, NULL);
    }
}

/* A stream's frame at `t` lies past what is known of a window whose deadline
 * is not known yet: a port of its expectation has not read its first frame,
 * and the deadline will be the latest start + the timeout. Such a frame waits
 * (the drain holds it) until that port anchors: offering it now could count a
 * frame after the deadline. Live windows all start at their acknowledgement,
 * so their deadlines are known when px_expect returns. */
static bool past_unknown_deadline(struct px__port_impl *P, int64_t t)
{
    if (!P->unbounded)
        return false;
    for (size_t i = 0; i < P->all.n; i++) {
        px__node *n = P->all.v[i];
        if (!n->unbounded || n->closed)
            continue;
        int64_t lower = atomic_load_explicit(&n->e->start_max, memory_order_acquire);
        if (lower == INT64_MIN || t - lower > (int64_t)n->e->timeout_ms * 1000000LL)
            return true;
    }
    return false;
}

static void dispatch(struct px__port_impl *P, const px_frame *f, bool is_noise)
{
    if (!is_noise) {
        /* Only the kinds that have nodes (a bit each in key_kinds), in increasing
         * order: the order of the offers. The key reads and the lookup are
         * inline: this runs for every frame. */
        for (unsigned kinds = P->key_kinds; kinds; kinds &= kinds - 1) {
            px_key_kind k = (px_key_kind)__builtin_ctz(kinds);
            uint64_t v;
            px__kslot *s;
            if (!px__frame_key(f, k, &v) || !(s = px__key_find(&P->keys[k], v)))
                continue;
            for (size_t i = 0; i < s->nodes.n; i++)
                node_offer(P, s->nodes.v[i], f, false);
        }
    }
    for (size_t i = 0; i < P->fallback.n; i++)
        node_offer(P, P->fallback.v[i], f, is_noise);
}

/* Drains up to BATCH_MAX frames. Returns 1 when frames may remain, 0 when the
 * source is empty, or a negative PX_E* when it ended or failed (msg set). */
static int phase_drain(px_port *p, char *msg)
{
    struct px__port_impl *P = p->impl;
    if (P->paused || P->eof)
        return 0;
    px__source *src = P->src;
    px_evidence *ev = px__ctx_evidence(p->ctx);
    int64_t now;
    if (src->live) {
        int64_t rt_now, uncertainty;
        now = px__clock_pair(&rt_now, &uncertainty);
        px__clock_sample(&P->clk, rt_now, now, uncertainty);
    } else {
        now = px__mono_ns();
    }
    uint64_t frames = 0, noise = 0, trunc = 0;
    bool losing = false;
    int rc = 1;
    /* A verdict is due at deadline + grace even while frames keep coming: the
     * batch also ends when the nearest one is due (checked every few frames). */
    int64_t grace = (int64_t)P->grace_ms * 1000000LL;
    while (frames < BATCH_MAX) {
        px__node *first;
        if ((frames & 15) == 15 && src->live && (first = px__heap_min(&P->heap)) && px__mono_ns() >= first->deadline + grace)
            break;
        px__src_frame sf;
        if (P->held) {
            sf = P->held_sf;
            P->held = false;
            rc = 1;
        } else {
            rc = src->ops->next(src, &sf, msg);
            if (rc <= 0)
                break;
        }
        px_frame f;
        px_frame_dissect(&f, sf.data, sf.caplen, sf.wirelen);
        f.ts = sf.ts;
        f.port = p->name;
        f.dir = PX_DIR_IN;
        if (sf.flags & PX__SRC_CSUM_NOT_READY)
            f.flags |= PX_FRAME_CSUM_NOT_READY;
        losing |= (sf.flags & PX__SRC_LOSING) != 0;
        int64_t t;
        if (src->live) {
            t = px__clock_map_frame(&P->clk, px__ts_ns(&sf.ts), now, P->floor);
        } else {
            t = px__ts_ns(&sf.ts);
            if (P->have_frame && t < P->last_t)
                t = P->last_t; /* a stream whose clock went back: keep arrival order */
        }
        /* A deadline made known by another port's thread before this frame
         * arrived must bound the windows it is offered to: the request is
         * looked at after the frame was read, so a kick that happened before
         * the frame was sent is always seen here (one load per frame). */
        if (atomic_load_explicit(&P->scan_req, memory_order_acquire))
            take_scan_request(P);
        /* Windows first (started at or before t, ended before t), then the totals
         * the keyed windows count from, then the frame. */
        activate_until(P, t, src->live ? px__ts_ns(&sf.ts) : INT64_MIN, true);
        close_before(P, t);
        if (!src->live && past_unknown_deadline(P, t)) {
            P->held = true; /* the stream's record stays valid until the next next() */
            P->held_sf = sf;
            rc = 0;
            break;
        }
        P->last_t = t;
        P->have_frame = true;
        set_current(P, t, src->live ? px__ts_ns(&sf.ts) : INT64_MIN, P->clk.epoch);
        frames++;
        if (ev)
            px__evidence_write_frame(ev, p->name, PX_DIR_IN, &f);
        bool is_noise = P->noise_fn && P->noise_fn(&f, P->noise_user);
        if (is_noise) {
            noise++;
            P->tot_noise++;
        } else {
            P->tot_seen++;
            if (f.caplen < f.wirelen) {
                trunc++;
                P->tot_trunc++;
            }
        }
        /* Marks taken: the verification layer identifies this frame by its
         * number (a thread-local store: only when someone may read it). */
        if (P->nmarks)
            px__offering = (px__frame_id){p, P->frame_seq};
        dispatch(P, &f, is_noise);
        if (P->nmarks)
            record(P, &f, is_noise);
        P->frame_seq++;
        src->ops->release(src);
    }
    publish_stats(P, frames, noise, trunc);
    P->last_drain = frames;
    P->gather_read += frames;
    if (!src->live)
        P->drops_fresh = false; /* a stream reports its losses as records: read them again */
    if (losing) {
        /* The kernel says it dropped: read its counter now (once per batch), so
         * the statistics and the next decisions see it. */
        P->drops_fresh = false;
        (void)px__port_drops_now(P);
    }
    if (rc == 0) {
        /* Empty: every frame stamped before now - settle has been examined. */
        P->wm = src->live ? now - P->settle : P->last_t;
        P->floor = P->wm;
    } else if (rc < 0) {
        if (!src->live && rc == PX_ECLOSED) {
            P->eof = true;
            P->wm = PX__NS_NEVER;
            return 0;
        }
        return rc;
    }
    return rc > 0 ? 1 : 0;
}

/* The explanation of a window closed because the capture is behind; `frames`
 * is the source's backlog (read once per phase: on a ring it is a scan). */
static const char *behind_text(struct px__port_impl *P, px_port *p, px__node *n, uint64_t frames, char *buf,
                               size_t len)
{
    snprintf(buf, len,
             "inconclusive: the capture on '%s' was behind: at the deadline + %u ms grace it had examined frames "
             "only up to %lld ms before the deadline, with %llu frame%s unread; the verdict is not decided from "
             "frames it could not examine in time (slow predicates or too much traffic for one core)",
             p->name, P->grace_ms, (long long)((n->deadline - (P->last_t > P->wm ? P->last_t : P->wm)) / 1000000LL),
             (unsigned long long)frames, frames == 1 ? "" : "s");
    return buf;
}

static void phase_expire(px_port *p)
{
    struct px__port_impl *P = p->impl;
    if (P->eof) {
        /* The stream ended: windows still waiting for a frame start at its end. */
        for (px__node *n = P->pend_head; n; n = n->next_pending)
            if (n->start == ANCHOR_NEXT) {
                n->start = P->have_frame ? P->last_t : 0;
                px__exp_anchor(n->e, n->start, p);
            }
    }
    if (P->wm != INT64_MIN)
        activate_until(P, P->wm, INT64_MIN, false);
    take_scan_request(P);
    /* Windows the watermark passed: every frame up to their deadline was examined. */
    px__node *n;
    while ((n = px__heap_min(&P->heap)) && n->deadline <= P->wm)
        node_close(P, n, NULL);
    /* Live windows still open at deadline + grace: the capture is behind. */
    if (P->src->live) {
        int64_t now = px__mono_ns(), grace = (int64_t)P->grace_ms * 1000000LL;
        char buf[512];
        uint64_t backlog = UINT64_MAX;
        while ((n = px__heap_min(&P->heap)) && n->deadline + grace <= now) {
            if (backlog == UINT64_MAX)
                backlog = P->src->ops->backlog ? P->src->ops->backlog(P->src) : 0;
            node_close(P, n, behind_text(P, p, n, backlog, buf, sizeof buf));
        }
    }
}

static void node_unlink(struct px__port_impl *P, px__node *n)
{
    if (n->active) {
        if (n->indexed) {
            px__kslot *s = px__key_find(&P->keys[n->e->key.kind], n->e->key.value);
            if (s) {
                px__vec_remove(&s->nodes, n);
                if (--P->keys[n->e->key.kind].nodes == 0)
                    P->key_kinds &= ~PX__KEY_BIT(n->e->key.kind);
            }
        } else {
            px__vec_remove(&P->fallback, n);
        }
    }
    px__vec_remove(&P->all, n);
}

static void phase_reclaim(struct px__port_impl *P)
{
    if (!P->closing.n)
        return;
    /* Nodes still in the pending FIFO are skipped there once closed; unlink the
     * FIFO entries first so nothing points at freed memory. */
    px__node **pp = &P->pend_head;
    P->pend_tail = NULL;
    while (*pp) {
        if ((*pp)->closed) {
            *pp = (*pp)->next_pending;
        } else {
            P->pend_tail = *pp;
            pp = &(*pp)->next_pending;
        }
    }
    for (size_t i = 0; i < P->closing.n; i++) {
        px__node *n = P->closing.v[i];
        node_unlink(P, n);
        px__exp_unref(n->e);
        free(n);
    }
    P->closing.n = 0;
}

/* Nearest time the thread must wake for, as a ppoll timeout (NULL: none). */
static struct timespec *sleep_for(struct px__port_impl *P, struct timespec *ts)
{
    px__node *n = px__heap_min(&P->heap);
    if (!P->src->live || (!n && !P->pend_head))
        return NULL;
    /* The watermark passes a deadline (or a pending start) P->settle after it. */
    int64_t wake = n ? n->deadline : INT64_MAX;
    if (P->pend_head && P->pend_head->start < wake)
        wake = P->pend_head->start;
    wake += P->settle + 1;
    int64_t ns = wake - px__mono_ns();
    if (ns < 0)
        ns = 0;
    ts->tv_sec = ns / 1000000000LL;
    ts->tv_nsec = ns % 1000000000LL;
    return ts;
}

/* Stops the port for good: every expectation on it resolves ERROR with `msg`,
 * arms that arrive later are refused with it. */
static void port_die(px_port *p, int err, const char *msg)
{
    struct px__port_impl *P = p->impl;
    pthread_mutex_lock(&P->ctl);
    P->state = PORT_DEAD;
    P->dead_err = err;
    snprintf(P->dead_msg, sizeof P->dead_msg, "%s", msg);
    px__node *arms = P->arms_head;
    P->arms_head = P->arms_tail = NULL;
    P->mark_req = P->unmark_req = NULL; /* their takers see the port dead */
    P->nmarks = 0;
    pthread_cond_broadcast(&P->ctl_cond);
    pthread_mutex_unlock(&P->ctl);
    while (arms) {
        px__node *n = arms;
        arms = n->next_arm;
        refuse_arm(p, n, msg);
    }
    for (size_t i = 0; i < P->all.n; i++) {
        px__node *n = P->all.v[i];
        if (!n->closed) {
            px__exp_stop(n->e, PX__STOP_ERROR, msg, p);
            node_close(P, n, NULL);
        }
    }
    phase_reclaim(P);
}

static void port_thread_cleanup(struct px__port_impl *P)
{
    if (P->src)
        P->src->ops->close(P->src);
    P->src = NULL;
    free(P->all.v);
    free(P->fallback.v);
    free(P->closing.v);
    free(P->heap.v);
    free(P->marks);
    px__hist_free(&P->hist);
    for (int k = 0; k < PX_KEY__COUNT; k++)
        px__keymap_free(&P->keys[k]);
}

static int port_open_source(px_port *p, char *errbuf)
{
    struct px__port_impl *P = p->impl;
    if (P->is_pcap)
        return px__source_pcap_open(p->name, &P->pcap, &P->src, errbuf);
    if (P->is_bmv2)
        return px__source_bmv2_open(p->ctx, p->name, &P->src, errbuf);
    return px__source_ring_open(p->name, P->netns, P->ifname, P->ring_mib, &P->ring, &P->stop, &P->src, errbuf);
}

void *px__port_thread(void *arg)
{
    px_port *p = arg;
    struct px__port_impl *P = p->impl;
    char msg[PX_ERRBUF_SIZE] = "";
    int rc = port_open_source(p, msg);
    if (rc != 0) {
        port_die(p, rc, msg);
        port_thread_cleanup(P);
        return NULL;
    }
    pthread_mutex_lock(&P->ctl);
    P->state = PORT_RUNNING;
    P->ifindex = P->src->ifindex;
    P->mtu = P->src->mtu;
    P->offline = !P->src->live;
    P->paused = P->is_pcap && P->pcap.paused && !P->start_req;
    pthread_cond_broadcast(&P->ctl_cond);
    pthread_mutex_unlock(&P->ctl);
    P->floor = P->wm = P->src->live ? px__mono_ns() : INT64_MIN;
    P->clk.last = P->floor;
    P->gather_ns = GATHER_MIN_NS;

    struct pollfd pfd[3] = {{.fd = P->src->fd, .events = POLLIN},
                            {.fd = P->efd, .events = POLLIN},
                            {.fd = P->tfd, .events = POLLIN}};
    int die_err = 0;
    while (!atomic_load_explicit(&P->stop, memory_order_acquire)) {
        phase_control(p);
        P->drops_fresh = false;
        int more = phase_drain(p, msg);
        if (more < 0) {
            die_err = more;
            break;
        }
        phase_expire(p);
        phase_reclaim(P);
        if (more > 0 && !atomic_load_explicit(&P->ctl_pending, memory_order_acquire))
            continue; /* frames are waiting: no sleep */
        struct timespec ts, *tp = more > 0 ? &(struct timespec){0, 0} : sleep_for(P, &ts);
        pfd[0].fd = P->paused || P->eof || P->held ? -1 : P->src->fd;
        if (P->gathered)
            adapt_gather(P);
        if (more == 0 && P->src->live && P->last_drain >= 2 &&
            (!tp || tp->tv_sec > 0 || tp->tv_nsec > P->gather_ns)) {
            /* Frames came faster than they were read: under load, a poll on the
             * ring returns at once for every frame or two. Sleep gather_ns on
             * the eventfd alone (arms and stops still wake the thread at once)
             * and read what came meanwhile as one batch. An idle port (one frame
             * at a time) keeps waking for each frame. */
            ts = (struct timespec){0, P->gather_ns};
            tp = &ts;
            pfd[0].fd = -1;
            P->gathered = true;
            P->gather_read = 0;
        } else if (more == 0 && P->last_drain <= 1) {
            /* Idle again (a frame at a time or none): the next burst starts
             * with the shortest gather, whatever the last flood reached. */
            P->gather_ns = GATHER_MIN_NS;
        }
        /* Parked (see the file comment) unless a control message is waiting. A
         * paused or ended stream has no live clock to start windows on. */
        bool park = P->src->live && !P->paused && !atomic_load_explicit(&P->ctl_pending, memory_order_acquire);
        if (park) {
            pthread_mutex_lock(&P->ctl);
            P->parked = true;
            P->gathering = pfd[0].fd < 0;
            P->parked_until = tp ? px__mono_ns() + tp->tv_sec * 1000000000LL + tp->tv_nsec : INT64_MAX;
            pthread_mutex_unlock(&P->ctl);
        }
        int n = ppoll(pfd, 3, tp, NULL);
        bool fired = n > 0 && (pfd[2].revents & POLLIN);
        if (park || fired) {
            pthread_mutex_lock(&P->ctl);
            P->parked = false;
            if (fired) {
                uint64_t v;
                ssize_t r = read(P->tfd, &v, sizeof v); /* expired: disarmed until set again */
                (void)r;
                P->timer_at = INT64_MAX;
            }
            pthread_mutex_unlock(&P->ctl);
        }
        if (n < 0 && errno != EINTR) {
            snprintf(msg, sizeof msg, "capture on '%s' stopped: poll failed: %s", p->name, strerror(errno));
            die_err = PX_ESYS;
            break;
        }
        if (n > 0 && (pfd[1].revents & POLLIN)) {
            uint64_t v;
            ssize_t r = read(P->efd, &v, sizeof v);
            (void)r;
        }
        if (n > 0 && P->src->live && (pfd[0].revents & (POLLERR | POLLNVAL))) {
            (void)phase_drain(p, msg);
            phase_expire(p);
            die_err = P->src->ops->on_poll_error ? P->src->ops->on_poll_error(P->src, msg) : PX_EIO;
            break;
        }
    }
    if (!die_err) {
        pthread_mutex_lock(&P->ctl);
        snprintf(msg, sizeof msg, "%s", P->stop_why[0] ? P->stop_why : "port closed");
        pthread_mutex_unlock(&P->ctl);
        die_err = PX_ECLOSED;
    }
    port_die(p, die_err, msg);
    port_thread_cleanup(P);
    return NULL;
}
