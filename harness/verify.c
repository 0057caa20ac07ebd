/* pktexpect: the verification layer (pktexpect/verify.h). Verifications are
 * ordinary expectations armed with opts.since = the context's verification
 * mark, whose predicate is wrapped so that claimed frames are skipped:
 *  - pos: one inner predicate per port slot (one slot over all ports for
 *    "any"); a slot is done when its inner predicate stops on a frame, which
 *    the wrapper then claims; the expectation stops when every slot is done;
 *  - neg: FAIL on the first unclaimed frame accepted by `match` (NULL: any).
 * Claims live in a period (begin / mark / no_other_packets start a new one),
 * reference-counted because wrappers on capture threads read them; a period's
 * own lock guards its claims and nothing else, so a capture thread never waits
 * for a caller that holds the context's verification lock (px_expect's arm
 * handshake runs under it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx_internal.h"
#include "pred_internal.h"
#include "pktexpect/expect.h"
#include "pktexpect/mark.h"
#include "pktexpect/predicates.h"
#include "pktexpect/text.h"
#include "pktexpect/verify.h"

/* A frame is its port and its number there (px__offering): unique, unlike a
 * timestamp (pcap streams may repeat them). */
typedef struct claim {
    const px_port *port;   /* NULL: an empty slot */
    uint64_t seq;
} claim;

typedef struct period {
    atomic_int refs;
    pthread_mutex_t lock; /* the claims */
    claim *v;             /* open addressing, cap a power of two, at most half full */
    size_t n, cap;
} period;

typedef struct vstate {
    pthread_mutex_t lock; /* mark, ports, cur */
    px_mark *mark;
    char **ports;
    size_t nports;
    period *cur;
} vstate;

/* ---- periods and claims ---- */

static period *period_new(void)
{
    period *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    atomic_init(&p->refs, 1);
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

static void period_unref(period *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    free(p->v);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static size_t claim_slot(const claim *v, size_t cap, const px_port *port, uint64_t seq)
{
    uint64_t h = (seq ^ ((uint64_t)(uintptr_t)port >> 4)) * 0x9e3779b97f4a7c15ULL;
    size_t i = (size_t)(h >> 32) & (cap - 1);
    while (v[i].port && !(v[i].port == port && v[i].seq == seq))
        i = (i + 1) & (cap - 1);
    return i;
}

/* Whether frame `id` was claimed in this period. */
static bool claimed_id(period *p, px__frame_id id)
{
    pthread_mutex_lock(&p->lock);
    bool hit = p->cap && p->v[claim_slot(p->v, p->cap, id.port, id.seq)].port != NULL;
    pthread_mutex_unlock(&p->lock);
    return hit;
}

/* Whether the frame being offered (px__offering) was claimed in this period. */
static bool claimed(period *p)
{
    return claimed_id(p, px__offering);
}

static void claim_frame(period *p)
{
    px__frame_id id = px__offering;
    pthread_mutex_lock(&p->lock);
    if ((p->n + 1) * 2 > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        claim *v = calloc(cap, sizeof *v);
        if (v) {
            for (size_t i = 0; i < p->cap; i++)
                if (p->v[i].port)
                    v[claim_slot(v, cap, p->v[i].port, p->v[i].seq)] = p->v[i];
            free(p->v);
            p->v = v;
            p->cap = cap;
        }
    }
    /* Out of memory: the frame stays matchable (a second check may PASS on it,
     * never a false FAIL). */
    if ((p->n + 1) * 2 <= p->cap) {
        size_t i = claim_slot(p->v, p->cap, id.port, id.seq);
        if (!p->v[i].port) {
            p->v[i] = (claim){id.port, id.seq};
            p->n++;
        }
    }
    pthread_mutex_unlock(&p->lock);
}

/* ---- the positive wrapper ---- */

typedef struct pos_st {
    period *per;
    size_t n;               /* slots */
    char **port;            /* each: the slot's port; NULL: one slot for every port */
    px_predicate **inner;
    bool *done;
    uint64_t skipped;       /* claimed frames not offered */
    char matched[PX__NETNS_MAX + IF_NAMESIZE];
} pos_st;

static long pos_slot(const pos_st *st, const px_frame *f)
{
    if (!st->port)
        return 0;
    for (size_t i = 0; i < st->n; i++)
        if (f->port && strcmp(st->port[i], f->port) == 0)
            return (long)i;
    return -1;
}

static bool pos_stop(void *state, const px_frame *f)
{
    pos_st *st = state;
    long i = pos_slot(st, f);
    if (i < 0 || st->done[i])
        return false;
    if (claimed(st->per)) {
        st->skipped++;
        return false;
    }
    if (!px_predicate_offer(st->inner[i], f))
        return false;
    st->done[i] = true;
    claim_frame(st->per);
    snprintf(st->matched, sizeof st->matched, "%s", f->port ? f->port : "");
    for (size_t k = 0; k < st->n; k++)
        if (!st->done[k])
            return false;
    return true;
}

static px_verdict pos_finish(void *state, bool timed_out, px_result *out)
{
    pos_st *st = state;
    px_verdict worst = PX_PASS;
    size_t got = 0;
    for (size_t i = 0; i < st->n; i++) {
        px_result r = {0};
        px_verdict v = px_predicate_finish(st->inner[i], timed_out && !st->done[i], &r);
        if (!st->done[i] && v == PX_PASS)
            v = PX_FAIL; /* never matched: a predicate passing at the close is not a match */
        got += st->done[i];
        if (v == PX_ERROR || (v == PX_FAIL && worst == PX_PASS))
            worst = v;
        if (st->n > 1 || v != PX_PASS) {
            if (out->explanation.len)
                px_result_explain(out, "; ");
            if (st->port)
                px_result_explain(out, "on '%s': ", st->port[i]);
            px_result_explain(out, "%s", px_buf_cstr(&r.explanation));
        } else {
            px_result_explain(out, "on '%s': %s", st->matched, px_buf_cstr(&r.explanation));
        }
        px_buf_free(&r.explanation);
    }
    px_result_set_value(out, (int64_t)got);
    if (worst != PX_PASS && st->skipped)
        px_result_explain(out, " (%llu frame%s since the mark not looked at: claimed by earlier verifications)",
                          (unsigned long long)st->skipped, st->skipped == 1 ? "" : "s");
    return worst;
}

static void pos_describe(const void *state, px_buf *out)
{
    const pos_st *st = state;
    px_buf_append(out, st->port ? "verify_packet_each(" : "verify_packet(");
    px_predicate_describe(st->inner[0], out);
    px_buf_append(out, ")");
}

static void pos_destroy(void *state)
{
    pos_st *st = state;
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++) {
        px_predicate_free(st->inner[i]);
        if (st->port)
            free(st->port[i]);
    }
    free(st->port);
    free(st->inner);
    free(st->done);
    period_unref(st->per);
    free(st);
}

static const px_predicate_ops pos_ops = {
    .name = "verify_packet",
    .stop_condition = pos_stop,
    .on_finish = pos_finish,
    .describe = pos_describe,
    .destroy = pos_destroy,
};

/* ---- the negative wrapper ---- */

/* A negative verification decides at the close of its window (DESIGN 2.3): a
 * frame that looks like an offender may still be claimed by a positive
 * verification armed together with it, so offenders are candidates until then. */
#define NEG_SHOWN 8 /* candidates whose summary is kept */

typedef struct cand {
    px__frame_id id;
    char port[PX__NETNS_MAX + IF_NAMESIZE];
    char *summary;          /* NULL past the first NEG_SHOWN */
} cand;

typedef struct neg_st {
    period *per;
    px_predicate *match;    /* per-frame; NULL: every frame */
    bool other;             /* no_other_packets: says "other" */
    uint64_t seen;
    cand *c;
    size_t n, cap;
} neg_st;

static void neg_on_packet(void *state, const px_frame *f)
{
    neg_st *st = state;
    if (claimed(st->per))
        return;
    st->seen++;
    if (st->match && px__frame_test(st->match, f) != 1)
        return;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 8;
        cand *v = realloc(st->c, cap * sizeof *v);
        if (!v)
            return; /* out of memory: a FAIL needs only one kept candidate */
        st->c = v;
        st->cap = cap;
    }
    cand *c = &st->c[st->n++];
    c->id = px__offering;
    snprintf(c->port, sizeof c->port, "%s", f->port ? f->port : "");
    c->summary = NULL;
    if (st->n <= NEG_SHOWN) {
        px_buf b = PX_BUF_INIT;
        px__frame_summary(f, &b);
        c->summary = px_buf_steal(&b);
    }
}

static px_verdict neg_finish(void *state, bool timed_out, px_result *out)
{
    (void)timed_out;
    neg_st *st = state;
    /* The first candidate no positive verification claimed meanwhile. */
    const cand *off = NULL;
    uint64_t left = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (claimed_id(st->per, st->c[i].id))
            continue;
        left++;
        if (!off)
            off = &st->c[i];
    }
    px_result_set_value(out, (int64_t)left);
    if (off) {
        px_result_explain(out, "expected no %sframe since the mark; on '%s' came: %s", st->other ? "other " : "",
                          off->port, off->summary ? off->summary : "(a frame)");
        if (left > 1)
            px_result_explain(out, " (and %llu more)", (unsigned long long)(left - 1));
        return PX_FAIL;
    }
    px_result_explain(out, "%llu unclaimed frame%s since the mark, none %s", (unsigned long long)(st->seen - st->n),
                      st->seen - st->n == 1 ? "" : "s", st->match ? "matching" : "at all");
    return PX_PASS;
}

static void neg_describe(const void *state, px_buf *out)
{
    const neg_st *st = state;
    if (st->other) {
        px_buf_append(out, "verify_no_other_packets()");
        return;
    }
    px_buf_append(out, "verify_no_packet(");
    if (st->match)
        px_predicate_describe(st->match, out);
    px_buf_append(out, ")");
}

static void neg_destroy(void *state)
{
    neg_st *st = state;
    if (!st)
        return;
    px_predicate_free(st->match);
    for (size_t i = 0; i < st->n; i++)
        free(st->c[i].summary);
    free(st->c);
    period_unref(st->per);
    free(st);
}

static const px_predicate_ops neg_ops = {
    .name = "verify_no_packet",
    .on_packet = neg_on_packet,
    .on_finish = neg_finish,
    .describe = neg_describe,
    .destroy = neg_destroy,
    .flags = PX_PRED_LOSS_SENSITIVE,
};

/* ---- describing what could not be armed ---- */

typedef struct bad_st {
    char *what;
} bad_st;

static px_verdict bad_finish(void *state, bool timed_out, px_result *out)
{
    (void)state;
    (void)timed_out;
    (void)out;
    return PX_ERROR;
}

static void bad_describe(const void *state, px_buf *out)
{
    px_buf_append(out, ((const bad_st *)state)->what);
}

static void bad_destroy(void *state)
{
    bad_st *st = state;
    if (st)
        free(st->what);
    free(st);
}

static const px_predicate_ops bad_ops = {
    .name = "verify", .on_finish = bad_finish, .describe = bad_describe, .destroy = bad_destroy};

/* A future already resolved ERROR with `msg`, described as `what`. */
/* The window of a verification: its own timeout, else the context's default for
 * its kind (a negative check watches for verify_negative_ms). */
static uint32_t window_ms(const px_ctx *ctx, const px_verify_opts *vo, bool negative)
{
    if (vo && vo->timeout_ms)
        return vo->timeout_ms;
    return negative ? ctx->opts.verify_negative_ms : ctx->opts.verify_timeout_ms;
}

/* A future that resolves ERROR at once with `msg`; its label carries the window
 * the verification would have had. */
static px_future *error_future(px_ctx *ctx, const char *port, const char *what, const px_verify_opts *vo,
                               bool negative, const char *msg)
{
    bad_st *st = calloc(1, sizeof *st);
    if (st)
        st->what = strdup(what);
    px_predicate *p = st && st->what ? px_predicate_new(&bad_ops, st) : NULL;
    if (!p) {
        bad_destroy(st);
        return NULL;
    }
    px_expect_opts o = {.timeout_ms = window_ms(ctx, vo, negative), .name = vo ? vo->name : NULL};
    return px__expect_error(ctx, port, p, &o, msg);
}

/* ---- the context's state ---- */

static vstate *vs_get(px_ctx *ctx, bool create)
{
    pthread_mutex_lock(&ctx->lock);
    vstate *vs = ctx->verify;
    if (!vs && create) {
        vs = calloc(1, sizeof *vs);
        if (vs) {
            pthread_mutex_init(&vs->lock, NULL);
            ctx->verify = vs;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    return vs;
}

void px__verify_ctx_free(void *state)
{
    vstate *vs = state;
    if (!vs)
        return;
    px_mark_free(vs->mark);
    for (size_t i = 0; i < vs->nports; i++)
        free(vs->ports[i]);
    free(vs->ports);
    period_unref(vs->cur);
    pthread_mutex_destroy(&vs->lock);
    free(vs);
}

/* Under vs->lock: a new mark and period on the verified ports. */
static int vs_new_period(vstate *vs, px_ctx *ctx, px_mark **old, char *errbuf)
{
    period *per = period_new();
    int rc = PX_ENOMEM;
    px_mark *m = per ? px__mark_take(ctx, (const char *const *)vs->ports, vs->nports, &rc, errbuf) : NULL;
    if (!m) {
        if (!per)
            snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
        period_unref(per);
        return rc;
    }
    *old = vs->mark;
    vs->mark = m;
    period_unref(vs->cur);
    vs->cur = per;
    return 0;
}

int px_verify_begin(px_ctx *ctx, const char *const *ports, size_t nports, char *errbuf)
{
    char err[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = err;
    if (!ctx || !ports || nports == 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "px_verify_begin needs a context and at least one port");
        return PX_EINVAL;
    }
    vstate *vs = vs_get(ctx, true);
    char **copy = calloc(nports, sizeof *copy);
    if (!vs || !copy) {
        free(copy);
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
        return PX_ENOMEM;
    }
    for (size_t i = 0; i < nports; i++) {
        copy[i] = ports[i] ? strdup(ports[i]) : NULL;
        if (!copy[i]) {
            for (size_t j = 0; j < i; j++)
                free(copy[j]);
            free(copy);
            snprintf(errbuf, PX_ERRBUF_SIZE, ports[i] ? "out of memory" : "port name is NULL");
            return ports[i] ? PX_ENOMEM : PX_EINVAL;
        }
    }
    pthread_mutex_lock(&vs->lock);
    char **old_ports = vs->ports;
    size_t old_n = vs->nports;
    vs->ports = copy;
    vs->nports = nports;
    px_mark *old = NULL;
    int rc = vs_new_period(vs, ctx, &old, errbuf);
    if (rc != 0) {
        vs->ports = old_ports;
        vs->nports = old_n;
        old_ports = copy;
        old_n = nports;
    }
    pthread_mutex_unlock(&vs->lock);
    px_mark_free(old);
    for (size_t i = 0; i < old_n; i++)
        free(old_ports[i]);
    free(old_ports);
    return rc;
}

int px_verify_mark(px_ctx *ctx, char *errbuf)
{
    char err[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = err;
    vstate *vs = ctx ? vs_get(ctx, false) : NULL;
    if (!vs) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "px_verify_mark before px_verify_begin: no port is verified");
        return PX_EINVAL;
    }
    pthread_mutex_lock(&vs->lock);
    px_mark *old = NULL;
    int rc = vs->nports ? vs_new_period(vs, ctx, &old, errbuf) : PX_EINVAL;
    pthread_mutex_unlock(&vs->lock);
    px_mark_free(old);
    return rc;
}

/* Under vs->lock: "" when every port is verified, else the message. */
static bool vs_covers(const vstate *vs, const char *const *ports, size_t n, char *msg)
{
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; ports[i] && j < vs->nports && !found; j++)
            found = strcmp(vs->ports[j], ports[i]) == 0;
        if (!found) {
            snprintf(msg, PX_ERRBUF_SIZE,
                     "port '%s' is not verified: name it in px_verify_begin before sending (frames that came "
                     "before cannot be looked at)",
                     ports[i] ? ports[i] : "(null)");
            return false;
        }
    }
    return true;
}

/* Arms `wrapped` (built by make() under vs->lock with the current period) on
 * `ports`, looking back from the mark. `inner` is freed on every error. */
typedef px_predicate *(*wrap_fn)(period *per, void *arg);

static px_future *arm(px_ctx *ctx, const char *const *ports, size_t n, const char *what, const px_verify_opts *vo,
                      bool negative, wrap_fn make, void *arg, void (*drop)(void *arg))
{
    char msg[PX_ERRBUF_SIZE];
    vstate *vs = ctx ? vs_get(ctx, false) : NULL;
    if (!ctx) {
        drop(arg);
        return NULL;
    }
    const char *first = n ? ports[0] : NULL;
    if (!vs) {
        drop(arg);
        return error_future(ctx, first, what, vo, negative,
                            "no port is verified: call px_verify_begin(ctx, ports, n, err) before sending");
    }
    pthread_mutex_lock(&vs->lock);
    if (!vs->nports) {
        pthread_mutex_unlock(&vs->lock);
        drop(arg);
        return error_future(ctx, first, what, vo, negative,
                            "no port is verified: call px_verify_begin(ctx, ports, n, err) before sending");
    }
    if (!vs_covers(vs, ports, n, msg)) {
        pthread_mutex_unlock(&vs->lock);
        drop(arg);
        return error_future(ctx, first, what, vo, negative, msg);
    }
    atomic_fetch_add(&vs->cur->refs, 1);
    px_predicate *p = make(vs->cur, arg); /* owns the reference and arg from here */
    px_future *f = NULL;
    if (p) {
        px_expect_opts o = {
            .timeout_ms = window_ms(ctx, vo, negative), .name = vo ? vo->name : NULL, .since = vs->mark};
        f = px_expect_any(ctx, ports, n, p, &o);
    }
    pthread_mutex_unlock(&vs->lock);
    return f;
}

/* ---- positive ---- */

typedef struct pos_arg {
    size_t n;
    bool each;
    const char *const *ports;
    px_predicate **inner;
} pos_arg;

static void pos_arg_drop(void *a)
{
    pos_arg *pa = a;
    for (size_t i = 0; i < pa->n; i++)
        px_predicate_free(pa->inner[i]);
    free(pa->inner);
    pa->inner = NULL;
}

static px_predicate *make_pos(period *per, void *a)
{
    pos_arg *pa = a;
    pos_st *st = calloc(1, sizeof *st);
    if (st) {
        st->per = per;
        st->n = pa->n;
        st->inner = pa->inner;
        pa->inner = NULL;
        st->done = calloc(pa->n, sizeof *st->done);
        if (pa->each) {
            st->port = calloc(pa->n, sizeof *st->port);
            for (size_t i = 0; st->port && i < pa->n; i++)
                if (!(st->port[i] = strdup(pa->ports[i]))) {
                    st->done = (free(st->done), NULL);
                    break;
                }
        }
        if (st->done && (!pa->each || st->port))
            return px_predicate_new(&pos_ops, st);
        pos_destroy(st);
        return NULL;
    }
    period_unref(per);
    pos_arg_drop(pa);
    return NULL;
}

/* The matches() of an expected frame: `vo`'s edits and mask; a text without an
 * Ethernet source also ignores eth.src (verify.h). Refused or NULL (memory). */
static px_predicate *expected_matches(const char *expected, const px_verify_opts *vo, char *errbuf)
{
    const char *ignore = vo ? vo->ignore : NULL;
    uint8_t *b = NULL;
    size_t len = 0;
    unsigned flags = 0;
    px_buf ig = PX_BUF_INIT;
    if (px_frame_parse_text_ex(expected, &b, &len, &flags, errbuf) == 0 && (flags & PX_TEXT_SRC_MAC_UNSET)) {
        px_buf_append(&ig, "eth.src");
        if (ignore && *ignore)
            px_buf_printf(&ig, ", %s", ignore);
        ignore = px_buf_cstr(&ig);
    }
    free(b);
    px_predicate *p = px_matches_edit(expected, vo ? vo->set : NULL, ignore, vo ? vo->allow_padding : false, errbuf);
    px_buf_free(&ig);
    return p;
}

/* Builds `count` matches() of `expected`; NULL with errbuf on error. */
static px_predicate **matches_n(size_t count, const char *expected, const px_verify_opts *vo, char *errbuf)
{
    px_predicate **v = calloc(count, sizeof *v);
    for (size_t i = 0; v && i < count; i++) {
        v[i] = expected_matches(expected, vo, errbuf);
        if (!v[i] || px_predicate_error(v[i])) {
            px_predicate_free(v[i]); /* refused: its reason is in errbuf */
            for (size_t j = 0; j < i; j++)
                px_predicate_free(v[j]);
            free(v);
            return NULL;
        }
    }
    if (!v)
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
    return v;
}

static px_future *verify_pos(px_ctx *ctx, const char *const *ports, size_t n, const char *expected,
                             px_predicate *pred, const px_verify_opts *vo, bool each, const char *fn)
{
    char err[PX_ERRBUF_SIZE] = "", what[256];
    snprintf(what, sizeof what, "%s(%.200s)", fn, expected ? expected : "predicate");
    if (!ctx) {
        px_predicate_free(pred);
        return NULL;
    }
    if (!ports || n == 0) {
        px_predicate_free(pred);
        return error_future(ctx, NULL, what, vo, false, "a verification needs at least one port");
    }
    for (size_t i = 0; each && i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (ports[i] && ports[j] && strcmp(ports[i], ports[j]) == 0) {
                px_predicate_free(pred);
                char msg[PX_ERRBUF_SIZE];
                snprintf(msg, sizeof msg, "port '%s' is named twice", ports[i]);
                return error_future(ctx, ports[0], what, vo, false, msg);
            }
    size_t slots = each ? n : 1;
    px_predicate **inner = pred ? calloc(1, sizeof *inner) : matches_n(slots, expected ? expected : "", vo, err);
    if (pred && inner)
        inner[0] = pred;
    if (!inner) {
        px_predicate_free(pred);
        char msg[PX_ERRBUF_SIZE + 32];
        snprintf(msg, sizeof msg, "expected frame: %s", err[0] ? err : "out of memory");
        return error_future(ctx, ports[0], what, vo, false, msg);
    }
    pos_arg pa = {.n = slots, .each = each, .ports = ports, .inner = inner};
    return arm(ctx, ports, n, what, vo, false, make_pos, &pa, pos_arg_drop);
}

px_future *px_verify_packet(px_ctx *ctx, const char *port, const char *expected, const px_verify_opts *opts)
{
    const char *ports[1] = {port};
    return verify_pos(ctx, ports, 1, expected, NULL, opts, false, "verify_packet");
}

px_future *px_verify_packet_pred(px_ctx *ctx, const char *port, px_predicate *pred, const px_verify_opts *opts)
{
    const char *ports[1] = {port};
    if (!pred)
        return ctx ? error_future(ctx, port, "verify_packet(NULL)", opts, false, "the predicate is NULL") : NULL;
    if (px_predicate_error(pred)) {
        char msg[PX_ERRBUF_SIZE];
        snprintf(msg, sizeof msg, "%s", px_predicate_error(pred));
        px_predicate_free(pred);
        return ctx ? error_future(ctx, port, "verify_packet(predicate)", opts, false, msg) : NULL;
    }
    if (!px_predicate_is_per_frame(pred)) {
        px_predicate_free(pred);
        return ctx ? error_future(ctx, port, "verify_packet(predicate)", opts, false,
                                  "px_verify_packet_pred needs a per-frame predicate (saw_..., matches, bpf, "
                                  "all_of/any_of of those)")
                   : NULL;
    }
    return verify_pos(ctx, ports, 1, NULL, pred, opts, false, "verify_packet");
}

px_future *px_verify_packet_any(px_ctx *ctx, const char *const *ports, size_t nports, const char *expected,
                                const px_verify_opts *opts)
{
    return verify_pos(ctx, ports, nports, expected, NULL, opts, false, "verify_packet_any");
}

px_future *px_verify_packet_each(px_ctx *ctx, const char *const *ports, size_t nports, const char *expected,
                                 const px_verify_opts *opts)
{
    return verify_pos(ctx, ports, nports, expected, NULL, opts, true, "verify_packet_each");
}

/* ---- negative ---- */

typedef struct neg_arg {
    px_predicate *match;
    bool other;
} neg_arg;

static void neg_arg_drop(void *a)
{
    neg_arg *na = a;
    px_predicate_free(na->match);
    na->match = NULL;
}

static px_predicate *make_neg(period *per, void *a)
{
    neg_arg *na = a;
    neg_st *st = calloc(1, sizeof *st);
    if (!st) {
        period_unref(per);
        neg_arg_drop(na);
        return NULL;
    }
    st->per = per;
    st->match = na->match;
    st->other = na->other;
    na->match = NULL;
    return px_predicate_new(&neg_ops, st);
}

px_future *px_verify_no_packet_any(px_ctx *ctx, const char *const *ports, size_t nports, const char *expected,
                                   const px_verify_opts *opts)
{
    char err[PX_ERRBUF_SIZE] = "", what[256];
    snprintf(what, sizeof what, "verify_no_packet(%.200s)", expected ? expected : "");
    if (!ctx)
        return NULL;
    if (!ports || nports == 0)
        return error_future(ctx, NULL, what, opts, true, "a verification needs at least one port");
    neg_arg na = {0};
    if (expected) {
        na.match = expected_matches(expected, opts, err);
        if (!na.match || px_predicate_error(na.match)) {
            px_predicate_free(na.match);
            if (!err[0])
                snprintf(err, sizeof err, "out of memory");
            char msg[PX_ERRBUF_SIZE + 32];
            snprintf(msg, sizeof msg, "expected frame: %s", err);
            return error_future(ctx, ports[0], what, opts, true, msg);
        }
    }
    return arm(ctx, ports, nports, what, opts, true, make_neg, &na, neg_arg_drop);
}

px_future *px_verify_no_packet(px_ctx *ctx, const char *port, const char *expected, const px_verify_opts *opts)
{
    const char *ports[1] = {port};
    return px_verify_no_packet_any(ctx, ports, 1, expected, opts);
}

px_future *px_verify_no_other_packets(px_ctx *ctx, const px_verify_opts *opts)
{
    return px_verify_no_other_packets_except(ctx, NULL, 0, opts);
}

px_future *px_verify_no_other_packets_except(px_ctx *ctx, const char *const *except, size_t nexcept,
                                             const px_verify_opts *opts)
{
    char msg[PX_ERRBUF_SIZE];
    const char *what = "verify_no_other_packets()";
    if (!ctx)
        return NULL;
    vstate *vs = vs_get(ctx, false);
    if (!vs)
        return error_future(ctx, NULL, what, opts, true,
                            "no port is verified: call px_verify_begin(ctx, ports, n, err) before sending");
    pthread_mutex_lock(&vs->lock);
    if (!vs->nports) {
        pthread_mutex_unlock(&vs->lock);
        return error_future(ctx, NULL, what, opts, true,
                            "no port is verified: call px_verify_begin(ctx, ports, n, err) before sending");
    }
    if (except && !vs_covers(vs, except, nexcept, msg)) {
        pthread_mutex_unlock(&vs->lock);
        return error_future(ctx, NULL, what, opts, true, msg);
    }
    const char **ports = calloc(vs->nports, sizeof *ports);
    size_t n = 0;
    for (size_t i = 0; ports && i < vs->nports; i++) {
        bool skip = false;
        for (size_t j = 0; j < nexcept && !skip; j++)
            skip = strcmp(vs->ports[i], except[j]) == 0;
        if (!skip)
            ports[n++] = vs->ports[i];
    }
    if (!ports || n == 0) {
        pthread_mutex_unlock(&vs->lock);
        free(ports);
        return error_future(ctx, NULL, what, opts, true, ports ? "every verified port is excepted: nothing to check"
                                                         : "out of memory");
    }
    /* The next period starts now (frames from here on are looked at again by
     * later verifications); this check looks back from the previous mark. */
    px_mark *prev_mark = vs->mark;
    period *prev = vs->cur;
    atomic_fetch_add(&prev->refs, 1);
    px_mark *old = NULL;
    int rc = vs_new_period(vs, ctx, &old, msg);
    px_future *f = NULL;
    if (rc != 0) {
        period_unref(prev);
        pthread_mutex_unlock(&vs->lock);
        free(ports);
        return error_future(ctx, NULL, what, opts, true, msg);
    }
    neg_arg na = {.other = true};
    px_predicate *p = make_neg(prev, &na);
    if (p) {
        uint32_t ms = window_ms(ctx, opts, true);
        px_expect_opts o = {.timeout_ms = ms, .name = opts ? opts->name : NULL, .since = prev_mark};
        f = px_expect_any(ctx, ports, n, p, &o);
    }
    pthread_mutex_unlock(&vs->lock);
    free(ports);
    px_mark_free(old); /* == prev_mark: armed already, not needed any more */
    return f;
}
