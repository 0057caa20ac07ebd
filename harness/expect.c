/* pktexpect: expectations and their futures.
 *
 * An expectation is registered on the lists of its ports' capture threads. The
 * thread that sees a frame offers it under the expectation's lock (so a multi-port
 * predicate never runs on two threads at once); the thread whose deadline passes
 * first finishes it. Finishing happens exactly once, under the lock: on_finish,
 * the drop rule, the predicate freed, waiters woken. The capture threads drop their
 * references when they next walk their lists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx_internal.h"

void px__timespec_add_ms(struct timespec *t, uint32_t ms)
{
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

int64_t px__timespec_diff_ns(const struct timespec *a, const struct timespec *b)
{
    return (int64_t)(a->tv_sec - b->tv_sec) * 1000000000LL + (a->tv_nsec - b->tv_nsec);
}

void px__exp_ref(px_exp *e)
{
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
}

void px__exp_unref(px_exp *e)
{
    if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (e->pred)
        px_predicate_free(e->pred);
    if (e->has_bpf)
        pcap_freecode(&e->bpf);
    px_buf_free(&e->result.explanation);
    free(e->description);
    free(e->name);
    pthread_cond_destroy(&e->done);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

static uint64_t port_drops(px_port *p)
{
    return atomic_load_explicit(&p->st_drops, memory_order_relaxed);
}

/* Resolves under e->lock. */
static void exp_resolve_locked(px_exp *e, px_verdict v)
{
    e->verdict = v;
    e->finished = true;
    pthread_cond_broadcast(&e->done);
    for (px__wait_link *l = e->waiters; l; l = l->next) {
        pthread_mutex_lock(&l->w->lock);
        l->w->fired = true;
        pthread_cond_signal(&l->w->cond);
        pthread_mutex_unlock(&l->w->lock);
    }
}

static void exp_finish_locked(px_exp *e, px__finish_reason why, const char *msg)
{
    if (e->finished)
        return;
    uint64_t drops = 0;
    for (size_t i = 0; i < e->nports; i++)
        drops += port_drops(e->ports[i]) - e->drops_at_arm[i];
    e->counters.drops = drops;

    px_verdict v = PX_ERROR;
    if (e->pred) {
        px_result r = {0};
        v = px_predicate_finish(e->pred, why == PX__FIN_TIMEOUT, &r);
        e->result.value = r.value;
        e->result.has_value = r.has_value;
        px_buf *x = &e->result.explanation;
        switch (why) {
        case PX__FIN_CANCEL:
        case PX__FIN_ERROR:
            px_buf_append(x, msg ? msg : "expectation stopped");
            if (r.explanation.len)
                px_buf_printf(x, " (the predicate had: %s: %s)", px_verdict_name(v),
                              px_buf_cstr(&r.explanation));
            v = PX_ERROR;
            break;
        default:
            if (drops > 0 && (e->loss_sensitive || v == PX_FAIL)) {
                px_buf_printf(x,
                              "inconclusive: the capture dropped %llu frame%s during the window, "
                              "so the predicate's %s cannot be trusted (%s); give the port a larger "
                              "ring (px_ctx_opts.ring_mib) or send more slowly",
                              (unsigned long long)drops, drops == 1 ? "" : "s", px_verdict_name(v),
                              r.explanation.len ? px_buf_cstr(&r.explanation) : "no detail");
                v = PX_ERROR;
            } else {
                px_buf_append(x, px_buf_cstr(&r.explanation));
            }
        }
        px_buf_free(&r.explanation);
        px_predicate_free(e->pred);
        e->pred = NULL;
    } else {
        px_buf_append(&e->result.explanation, msg ? msg : "expectation stopped");
    }
    exp_resolve_locked(e, v);
}

void px__exp_finish(px_exp *e, px__finish_reason why, const char *msg)
{
    pthread_mutex_lock(&e->lock);
    exp_finish_locked(e, why, msg);
    pthread_mutex_unlock(&e->lock);
}

bool px__exp_offer(px_exp *e, const px_frame *f, bool is_noise)
{
    /* Frames that arrived before the expectation was armed are not offered. */
    if (px__timespec_diff_ns(&f->ts, &e->armed_rt) < 0)
        return false;
    pthread_mutex_lock(&e->lock);
    bool fin = e->finished;
    if (!fin) {
        /* The filter first, so that "ignored as noise" counts only frames the
         * expectation would otherwise have been offered. */
        if (e->has_bpf && !pcap_offline_filter(&e->bpf,
                                               &(struct pcap_pkthdr){.caplen = f->caplen, .len = f->wirelen},
                                               f->data)) {
            e->counters.filtered++;
        } else if (is_noise && e->noise == PX_NOISE_PORT) {
            e->counters.noise++;
        } else {
            e->counters.seen++;
            if (f->caplen < f->wirelen)
                e->counters.truncated++;
            bool stop = px_predicate_offer(e->pred, f);
            if (stop)
                exp_finish_locked(e, PX__FIN_STOP, NULL);
            else if (e->count_limit && e->counters.seen >= e->count_limit)
                exp_finish_locked(e, PX__FIN_COUNT, NULL);
            fin = e->finished;
        }
    }
    pthread_mutex_unlock(&e->lock);
    return fin;
}

/* ---- arming ---- */

static px_exp *exp_new(px_ctx *ctx, px_predicate *pred, const px_expect_opts *opts)
{
    px_exp *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    atomic_init(&e->refs, 1);
    pthread_mutex_init(&e->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->done, &ca);
    pthread_condattr_destroy(&ca);
    e->pred = pred;
    e->loss_sensitive = (px_predicate_get_ops(pred)->flags & PX_PRED_LOSS_SENSITIVE) != 0;
    uint32_t timeout = opts && opts->timeout_ms ? opts->timeout_ms : px_ctx_default_timeout_ms(ctx);
    e->count_limit = opts ? opts->count : 0;
    e->noise = opts ? opts->noise : PX_NOISE_PORT;
    if (opts && opts->name)
        e->name = strdup(opts->name);

    px_buf d = PX_BUF_INIT;
    px_predicate_describe(pred, &d);
    px_buf_printf(&d, " within %u ms", timeout);
    if (e->count_limit)
        px_buf_printf(&d, ", count %u", e->count_limit);
    if (opts && opts->filter)
        px_buf_printf(&d, ", filter \"%s\"", opts->filter);
    e->description = px_buf_steal(&d);

    clock_gettime(CLOCK_MONOTONIC, &e->deadline);
    px__timespec_add_ms(&e->deadline, timeout);
    return e;
}

/* Resolves a future that never got armed. */
static void exp_fail_setup(px_exp *e, const char *msg)
{
    px__exp_finish(e, PX__FIN_ERROR, msg);
}

static int exp_compile_filter(px_exp *e, const char *filter, char *errbuf)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
    if (!dead) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "cannot compile BPF filter: out of memory");
        return PX_ENOMEM;
    }
    int rc = 0;
    if (pcap_compile(dead, &e->bpf, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "BPF filter \"%s\" does not compile: %s", filter, pcap_geterr(dead));
        rc = PX_EBPF;
    } else {
        e->has_bpf = true;
    }
    pcap_close(dead);
    return rc;
}

static void append_port_names(px_exp *e, const char *const *ports, size_t n)
{
    px_buf d = PX_BUF_INIT;
    /* "<predicate> on p1, p2 within ..." : insert the ports before " within". */
    const char *within = strstr(e->description, " within ");
    size_t head = within ? (size_t)(within - e->description) : strlen(e->description);
    px_buf_append_n(&d, e->description, head);
    px_buf_append(&d, " on ");
    for (size_t i = 0; i < n; i++)
        px_buf_printf(&d, "%s%s", i ? ", " : "", ports[i]);
    px_buf_append(&d, e->description + head);
    free(e->description);
    e->description = px_buf_steal(&d);
}

px_future *px_expect_any(px_ctx *ctx, const char *const *ports, size_t nports, px_predicate *pred,
                         const px_expect_opts *opts)
{
    if (!pred)
        return NULL;
    if (!ctx) {
        px_predicate_free(pred);
        return NULL;
    }
    px_exp *e = exp_new(ctx, pred, opts);
    if (!e) {
        px_predicate_free(pred);
        return NULL;
    }
    char err[PX_ERRBUF_SIZE] = "";
    if (!ports || nports == 0 || nports > PX__MAX_PORTS_PER_EXP) {
        exp_fail_setup(e, nports ? "too many ports for one expectation (at most 64)"
                                 : "an expectation needs at least one port");
        return (px_future *)e;
    }
    for (size_t i = 0; i < nports; i++) {
        if (!ports[i] || !*ports[i]) {
            exp_fail_setup(e, "port name is NULL or empty");
            return (px_future *)e;
        }
    }
    append_port_names(e, ports, nports);
    if (opts && opts->filter && exp_compile_filter(e, opts->filter, err) != 0) {
        exp_fail_setup(e, err);
        return (px_future *)e;
    }
    /* Open every port first (this may block for a few ms each), then register. */
    for (size_t i = 0; i < nports; i++) {
        px_port *p = NULL;
        if (px__port_get(ctx, ports[i], &p, err) != 0) {
            exp_fail_setup(e, err);
            return (px_future *)e;
        }
        bool dup = false;
        for (size_t j = 0; j < e->nports; j++)
            dup |= e->ports[j] == p;
        if (!dup)
            e->ports[e->nports++] = p;
    }
    for (size_t i = 0; i < e->nports; i++)
        e->drops_at_arm[i] = port_drops(e->ports[i]);
    clock_gettime(CLOCK_REALTIME, &e->armed_rt);
    for (size_t i = 0; i < e->nports; i++) {
        if (px__port_arm(e->ports[i], e, err) != 0) {
            /* Already registered ports drop it when they see it finished. */
            exp_fail_setup(e, err);
            for (size_t j = 0; j < i; j++)
                px__port_kick(e->ports[j]);
            return (px_future *)e;
        }
    }
    return (px_future *)e;
}

px_future *px_expect(px_ctx *ctx, const char *port, px_predicate *pred, const px_expect_opts *opts)
{
    const char *ports[1] = {port};
    return px_expect_any(ctx, ports, 1, pred, opts);
}

/* ---- futures ---- */

#define EXP(f) ((px_exp *)(f))

static void deadline_after_ms(struct timespec *t, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    px__timespec_add_ms(t, ms);
}

/* Waits under e->lock until finished or `until` (NULL: forever). */
static px_verdict exp_wait_locked(px_exp *e, const struct timespec *until)
{
    while (!e->finished) {
        int rc = until ? pthread_cond_timedwait(&e->done, &e->lock, until) : pthread_cond_wait(&e->done, &e->lock);
        if (rc == ETIMEDOUT)
            break;
    }
    return e->finished ? e->verdict : PX_PENDING;
}

px_verdict px_future_wait(px_future *f)
{
    if (!f)
        return PX_ERROR;
    px_exp *e = EXP(f);
    pthread_mutex_lock(&e->lock);
    px_verdict v = exp_wait_locked(e, NULL);
    pthread_mutex_unlock(&e->lock);
    return v;
}

px_verdict px_future_wait_for(px_future *f, uint32_t ms)
{
    if (!f)
        return PX_ERROR;
    struct timespec until;
    deadline_after_ms(&until, ms);
    px_exp *e = EXP(f);
    pthread_mutex_lock(&e->lock);
    px_verdict v = exp_wait_locked(e, &until);
    pthread_mutex_unlock(&e->lock);
    return v;
}

int px_future_wait_all(px_future *const *fs, size_t n, int32_t timeout_ms)
{
    struct timespec until;
    if (timeout_ms >= 0)
        deadline_after_ms(&until, (uint32_t)timeout_ms);
    for (size_t i = 0; i < n; i++) {
        if (!fs || !fs[i])
            continue;
        px_exp *e = EXP(fs[i]);
        pthread_mutex_lock(&e->lock);
        px_verdict v = exp_wait_locked(e, timeout_ms >= 0 ? &until : NULL);
        pthread_mutex_unlock(&e->lock);
        if (v == PX_PENDING)
            return PX_ETIMEDOUT;
    }
    return 0;
}

static void waiter_detach(px_exp *e, px__wait_link *link)
{
    for (px__wait_link **pp = &e->waiters; *pp; pp = &(*pp)->next) {
        if (*pp == link) {
            *pp = link->next;
            return;
        }
    }
}

int px_future_wait_any(px_future *const *fs, size_t n, int32_t timeout_ms)
{
    if (!fs || n == 0)
        return -1;
    px__wait_link *links = calloc(n, sizeof *links);
    if (!links)
        return -1;
    px__waiter w = {.fired = false};
    pthread_mutex_init(&w.lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cond, &ca);
    pthread_condattr_destroy(&ca);

    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (!fs[i])
            continue;
        any = true;
        px_exp *e = EXP(fs[i]);
        links[i].w = &w;
        pthread_mutex_lock(&e->lock);
        links[i].next = e->waiters;
        e->waiters = &links[i];
        if (e->finished) {
            pthread_mutex_lock(&w.lock);
            w.fired = true;
            pthread_mutex_unlock(&w.lock);
        }
        pthread_mutex_unlock(&e->lock);
    }
    if (any) {
        struct timespec until;
        if (timeout_ms >= 0)
            deadline_after_ms(&until, (uint32_t)timeout_ms);
        pthread_mutex_lock(&w.lock);
        while (!w.fired) {
            int rc = timeout_ms >= 0 ? pthread_cond_timedwait(&w.cond, &w.lock, &until)
                                     : pthread_cond_wait(&w.cond, &w.lock);
            if (rc == ETIMEDOUT)
                break;
        }
        pthread_mutex_unlock(&w.lock);
    }
    int found = -1;
    for (size_t i = 0; i < n; i++) {
        if (!fs[i])
            continue;
        px_exp *e = EXP(fs[i]);
        pthread_mutex_lock(&e->lock);
        waiter_detach(e, &links[i]);
        if (e->finished && found < 0)
            found = (int)i;
        pthread_mutex_unlock(&e->lock);
    }
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    free(links);
    return found;
}

bool px_future_done(px_future *f)
{
    if (!f)
        return true;
    px_exp *e = EXP(f);
    pthread_mutex_lock(&e->lock);
    bool done = e->finished;
    pthread_mutex_unlock(&e->lock);
    return done;
}

void px_future_cancel(px_future *f)
{
    if (!f)
        return;
    px_exp *e = EXP(f);
    pthread_mutex_lock(&e->lock);
    bool was_pending = !e->finished;
    if (was_pending) {
        char msg[128];
        snprintf(msg, sizeof msg, "cancelled after %llu frame%s", (unsigned long long)e->counters.seen,
                 e->counters.seen == 1 ? "" : "s");
        exp_finish_locked(e, PX__FIN_CANCEL, msg);
    }
    pthread_mutex_unlock(&e->lock);
    /* Let the capture threads drop it from their lists now rather than at the next frame. */
    if (was_pending)
        for (size_t i = 0; i < e->nports; i++)
            px__port_kick(e->ports[i]);
}

px_verdict px_future_verdict(px_future *f)
{
    if (!f)
        return PX_ERROR;
    px_exp *e = EXP(f);
    pthread_mutex_lock(&e->lock);
    px_verdict v = e->finished ? e->verdict : PX_PENDING;
    pthread_mutex_unlock(&e->lock);
    return v;
}

int64_t px_future_value(px_future *f)
{
    if (!f)
        return 0;
    px_exp *e = EXP(f);
    pthread_mutex_lock(&e->lock);
    int64_t v = e->finished && e->result.has_value ? e->result.value : 0;
    pthread_mutex_unlock(&e->lock);
    return v;
}

bool px_future_has_value(px_future *f)
{
    if (!f)
        return false;
    px_exp *e = EXP(f);
    pthread_mutex_lock(&e->lock);
    bool has = e->finished && e->result.has_value;
    pthread_mutex_unlock(&e->lock);
    return has;
}

const char *px_future_explanation(px_future *f)
{
    if (!f)
        return "";
    px_exp *e = EXP(f);
    /* The explanation is written once, before `finished` is set, and never again. */
    pthread_mutex_lock(&e->lock);
    const char *s = e->finished ? px_buf_cstr(&e->result.explanation) : "";
    pthread_mutex_unlock(&e->lock);
    return s;
}

const char *px_future_description(px_future *f)
{
    return f ? EXP(f)->description : "";
}

const char *px_future_name(px_future *f)
{
    return f ? EXP(f)->name : NULL;
}

void px_future_counters(px_future *f, px_counters *out)
{
    if (!out)
        return;
    if (!f) {
        *out = (px_counters){0};
        return;
    }
    px_exp *e = EXP(f);
    pthread_mutex_lock(&e->lock);
    *out = e->counters;
    if (!e->finished) {
        uint64_t drops = 0;
        for (size_t i = 0; i < e->nports; i++)
            drops += port_drops(e->ports[i]) - e->drops_at_arm[i];
        out->drops = drops;
    }
    pthread_mutex_unlock(&e->lock);
}

void px_future_report(px_future *f, px_buf *out)
{
    if (!f || !out)
        return;
    px_counters c;
    px_future_counters(f, &c);
    px_verdict v = px_future_verdict(f);
    const char *name = px_future_name(f);
    px_buf_printf(out, "%s%s%sexpected: %s\n", name ? "[" : "", name ? name : "", name ? "] " : "",
                  px_future_description(f));
    px_buf_printf(out, "verdict:  %s", px_verdict_name(v));
    if (px_future_has_value(f))
        px_buf_printf(out, " (value %lld)", (long long)px_future_value(f));
    px_buf_printf(out, "\nwhy:      %s\n", v == PX_PENDING ? "still pending" : px_future_explanation(f));
    px_buf_printf(out, "frames:   %llu offered, %llu rejected by filter, %llu ignored as noise, "
                       "%llu dropped by capture, %llu truncated\n",
                  (unsigned long long)c.seen, (unsigned long long)c.filtered, (unsigned long long)c.noise,
                  (unsigned long long)c.drops, (unsigned long long)c.truncated);
}

void px_future_free(px_future *f)
{
    if (!f)
        return;
    px_future_cancel(f);
    px__exp_unref(EXP(f));
}
