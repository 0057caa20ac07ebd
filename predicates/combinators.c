/* pktexpect: combinators (all_of, any_of, not, sequence), counting predicates
 * (exactly, at_least, at_most, between, count, count comparisons) and
 * no_other_packets.
 *
 * Children are driven through the public dispatch (px_predicate_offer /
 * px_predicate_finish), exactly as the harness drives a top-level predicate:
 * a child that stops gets no more frames and is finished at once with
 * timed_out = false (the frame that stopped it is its last one); children still
 * running when the parent finishes are finished with the parent's timed_out.
 * Every child is finished at most once. The exact rules are in
 * docs/predicates.md ("Combinators under timeouts").
 */
#include <stdlib.h>
#include <string.h>

#include "pred_internal.h"
#include "pktexpect/predicates.h"

typedef struct child {
    px_predicate *p;
    bool finished;
    px_verdict v;
    px_result r;
    uint64_t at; /* frame index (1-based) at which it stopped, 0 = at the close */
} child;

typedef struct multi_st {
    size_t n;
    uint64_t seen;
    size_t cur;   /* sequence: the step receiving frames */
    bool failed;  /* sequence: a step failed */
    child c[];
} multi_st;

static void finish_child(child *c, bool timed_out)
{
    if (c->finished)
        return;
    memset(&c->r, 0, sizeof c->r);
    c->v = px_predicate_finish(c->p, timed_out, &c->r);
    c->finished = true;
}

/* Offers f to a running child; finishes it when it stops. */
static void offer_child(child *c, const px_frame *f, uint64_t index)
{
    if (c->finished)
        return;
    if (px_predicate_offer(c->p, f)) {
        c->at = index;
        finish_child(c, false);
    }
}

static void multi_destroy(void *state)
{
    multi_st *st = state;
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++) {
        px_predicate_free(st->c[i].p);
        px_buf_free(&st->c[i].r.explanation);
    }
    free(st);
}

static void describe_list(const multi_st *st, const char *name, px_buf *out)
{
    px_buf_printf(out, "%s(", name);
    for (size_t i = 0; i < st->n; i++) {
        if (i)
            px_buf_append(out, ", ");
        px_predicate_describe(st->c[i].p, out);
    }
    px_buf_append(out, ")");
}

static void explain_child(px_result *out, const child *c)
{
    px_predicate_describe(c->p, &out->explanation);
    px_result_explain(out, " %s", px_verdict_name(c->v));
    if (c->at)
        px_result_explain(out, " at frame #%llu", (unsigned long long)c->at);
    px_result_explain(out, ": %s", px_buf_cstr(&c->r.explanation));
}

/* ---- all_of / any_of ---- */

static void multi_on_packet(void *state, const px_frame *f)
{
    multi_st *st = state;
    st->seen++;
    for (size_t i = 0; i < st->n; i++)
        offer_child(&st->c[i], f, st->seen);
}

static bool all_of_stop(void *state, const px_frame *f)
{
    (void)f;
    const multi_st *st = state;
    bool all = true;
    for (size_t i = 0; i < st->n; i++) {
        if (!st->c[i].finished)
            all = false;
        else if (st->c[i].v != PX_PASS)
            return true; /* decided: cannot PASS any more */
    }
    return all;
}

static bool any_of_stop(void *state, const px_frame *f)
{
    (void)f;
    const multi_st *st = state;
    bool all = true;
    for (size_t i = 0; i < st->n; i++) {
        if (!st->c[i].finished)
            all = false;
        else if (st->c[i].v == PX_PASS)
            return true;
    }
    return all;
}

/* Finishes every child and explains the ones whose verdict is `show` (all when PX_PENDING). */
static void finish_all(multi_st *st, bool timed_out, px_result *out, px_verdict show)
{
    for (size_t i = 0; i < st->n; i++)
        finish_child(&st->c[i], timed_out);
    bool first = true;
    for (size_t i = 0; i < st->n; i++) {
        if (show != PX_PENDING && st->c[i].v != show)
            continue;
        if (!first)
            px_result_explain(out, "; ");
        explain_child(out, &st->c[i]);
        first = false;
    }
}

static size_t count_verdict(const multi_st *st, px_verdict v)
{
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++)
        k += st->c[i].finished && st->c[i].v == v;
    return k;
}

static px_verdict all_of_finish(void *state, bool timed_out, px_result *out)
{
    multi_st *st = state;
    for (size_t i = 0; i < st->n; i++)
        finish_child(&st->c[i], timed_out);
    size_t pass = count_verdict(st, PX_PASS), fail = count_verdict(st, PX_FAIL);
    px_verdict v = fail ? PX_FAIL : pass == st->n ? PX_PASS : PX_ERROR;
    px_result_explain(out, "%zu of %zu passed", pass, st->n);
    px_result_explain(out, v == PX_PASS ? ": " : "; ");
    finish_all(st, timed_out, out, v == PX_PASS ? PX_PENDING : v);
    return v;
}

static px_verdict any_of_finish(void *state, bool timed_out, px_result *out)
{
    multi_st *st = state;
    for (size_t i = 0; i < st->n; i++)
        finish_child(&st->c[i], timed_out);
    size_t pass = count_verdict(st, PX_PASS), err = count_verdict(st, PX_ERROR);
    px_verdict v = pass ? PX_PASS : err ? PX_ERROR : PX_FAIL;
    px_result_explain(out, "%zu of %zu passed: ", pass, st->n);
    finish_all(st, timed_out, out, v == PX_FAIL ? PX_PENDING : v);
    return v;
}

/* all_of's dispatch key: the key every child declares, when they all declare the
 * same one. Then a frame without it changes no child (each key is exact), so
 * all_of's stop and verdict, functions of its children's states, stay as they
 * were. The key of only some children would not do: each child decides on its
 * own frames, so all_of(saw_udp(dport=53), saw_vlan_tag(10)) PASSes on a VLAN 10
 * frame without UDP plus a later DNS frame, and a negative child FAILs the
 * whole on a frame that lacks the other children's key. */
static bool all_of_key(const void *state, px_key *out)
{
    const multi_st *st = state;
    px_key first, k;
    if (st->n == 0 || !px_predicate_key(st->c[0].p, &first))
        return false;
    for (size_t i = 1; i < st->n; i++)
        if (!px_predicate_key(st->c[i].p, &k) || k.kind != first.kind || k.value != first.value)
            return false;
    *out = first;
    return true;
}

static void all_of_describe(const void *state, px_buf *out) { describe_list(state, "all_of", out); }
static void any_of_describe(const void *state, px_buf *out) { describe_list(state, "any_of", out); }

/* ---- sequence ---- */

static void seq_on_packet(void *state, const px_frame *f)
{
    multi_st *st = state;
    st->seen++;
    if (st->failed || st->cur >= st->n)
        return;
    child *c = &st->c[st->cur];
    offer_child(c, f, st->seen);
    if (c->finished) {
        if (c->v == PX_PASS)
            st->cur++;
        else
            st->failed = true;
    }
}

static bool seq_stop(void *state, const px_frame *f)
{
    (void)f;
    const multi_st *st = state;
    return st->failed || st->cur >= st->n;
}

static px_verdict seq_finish(void *state, bool timed_out, px_result *out)
{
    multi_st *st = state;
    /* Steps still waiting get the close: a negative step PASSes here and hands
     * over to the next, which then sees no frame. */
    while (!st->failed && st->cur < st->n) {
        child *c = &st->c[st->cur];
        finish_child(c, timed_out);
        if (c->v == PX_PASS)
            st->cur++;
        else
            st->failed = true;
    }
    if (!st->failed) {
        px_result_explain(out, "all %zu steps passed in order: ", st->n);
        for (size_t i = 0; i < st->n; i++) {
            if (i)
                px_result_explain(out, "; ");
            explain_child(out, &st->c[i]);
        }
        return PX_PASS;
    }
    const child *c = &st->c[st->cur];
    px_result_explain(out, "step %zu of %zu did not pass after %llu frame%s (%zu step%s passed before it): ",
                      st->cur + 1, st->n, (unsigned long long)st->seen, st->seen == 1 ? "" : "s", st->cur,
                      st->cur == 1 ? "" : "s");
    explain_child(out, c);
    return c->v == PX_ERROR ? PX_ERROR : PX_FAIL;
}

static void seq_describe(const void *state, px_buf *out) { describe_list(state, "sequence", out); }

/* Two ops per combinator: loss-sensitive when a child is. */
#define MULTI_OPS(id, nm, onp, stp, fin, dsc, ky)                                                              \
    static const px_predicate_ops id##_ops[2] = {                                                              \
        {.name = nm, .on_packet = onp, .stop_condition = stp, .on_finish = fin, .describe = dsc,               \
         .destroy = multi_destroy, .key = ky},                                                                 \
        {.name = nm, .on_packet = onp, .stop_condition = stp, .on_finish = fin, .describe = dsc,               \
         .destroy = multi_destroy, .flags = PX_PRED_LOSS_SENSITIVE, .key = ky},                                \
    };

/* any_of and sequence declare no key: by design, not by proof (see
 * docs/writing-predicates.md). */
MULTI_OPS(all_of, "all_of", multi_on_packet, all_of_stop, all_of_finish, all_of_describe, all_of_key)
MULTI_OPS(any_of, "any_of", multi_on_packet, any_of_stop, any_of_finish, any_of_describe, NULL)
MULTI_OPS(sequence, "sequence", seq_on_packet, seq_stop, seq_finish, seq_describe, NULL)

static void free_children(px_predicate *const *children, size_t n)
{
    for (size_t i = 0; children && i < n; i++)
        px_predicate_free(children[i]);
}

/* Frees children[0..n) except `keep`. */
static void free_children_but(px_predicate *const *children, size_t n, const px_predicate *keep)
{
    for (size_t i = 0; children && i < n; i++)
        if (children[i] != keep)
            px_predicate_free(children[i]);
}

static px_predicate *multi_new(const px_predicate_ops ops[2], px_predicate *const *children, size_t n)
{
    if (!children || n == 0)
        return px__pred_refused(ops[0].name, "needs at least one child predicate, got %s",
                                children ? "none" : "NULL");
    bool sensitive = false, ok = true;
    for (size_t i = 0; i < n; i++) {
        if (!children[i])
            ok = false;
        else if (px_predicate_get_ops(children[i])->flags & PX_PRED_LOSS_SENSITIVE)
            sensitive = true;
    }
    /* A refused child: its reason is the combinator's (a NULL child, out of
     * memory, still makes NULL). */
    px_predicate *refused = ok ? px__pred_first_refused(children, n) : NULL;
    if (refused) {
        free_children_but(children, n, refused);
        return refused;
    }
    multi_st *st = ok ? calloc(1, sizeof *st + n * sizeof st->c[0]) : NULL;
    if (!st) {
        free_children(children, n);
        return NULL;
    }
    st->n = n;
    for (size_t i = 0; i < n; i++)
        st->c[i].p = children[i];
    return px_predicate_new(&ops[sensitive], st);
}

px_predicate *px_all_of(px_predicate *const *children, size_t n) { return multi_new(all_of_ops, children, n); }
px_predicate *px_any_of(px_predicate *const *children, size_t n) { return multi_new(any_of_ops, children, n); }
px_predicate *px_sequence(px_predicate *const *children, size_t n) { return multi_new(sequence_ops, children, n); }

/* ---- not ---- */

typedef struct not_st {
    child c;
    uint64_t seen;
} not_st;

static void not_on_packet(void *state, const px_frame *f)
{
    not_st *st = state;
    st->seen++;
    offer_child(&st->c, f, st->seen);
}

static bool not_stop(void *state, const px_frame *f)
{
    (void)f;
    return ((const not_st *)state)->c.finished;
}

static px_verdict not_finish(void *state, bool timed_out, px_result *out)
{
    not_st *st = state;
    finish_child(&st->c, timed_out);
    px_result_explain(out, "the inner predicate ");
    explain_child(out, &st->c);
    if (st->c.r.has_value)
        px_result_set_value(out, st->c.r.value);
    return st->c.v == PX_PASS ? PX_FAIL : st->c.v == PX_FAIL ? PX_PASS : PX_ERROR;
}

static void not_describe(const void *state, px_buf *out)
{
    px_buf_append(out, "not(");
    px_predicate_describe(((const not_st *)state)->c.p, out);
    px_buf_append(out, ")");
}

static void not_destroy(void *state)
{
    not_st *st = state;
    if (!st)
        return;
    px_predicate_free(st->c.p);
    px_buf_free(&st->c.r.explanation);
    free(st);
}

/* not(p) PASSes on the absence of what p waits for: always loss-sensitive. */
static const px_predicate_ops not_ops = {
    .name = "not",
    .on_packet = not_on_packet,
    .stop_condition = not_stop,
    .on_finish = not_finish,
    .describe = not_describe,
    .destroy = not_destroy,
    .flags = PX_PRED_LOSS_SENSITIVE,
};

px_predicate *px_not(px_predicate *p)
{
    if (!p || px__pred_first_refused(&p, 1))
        return p; /* NULL (out of memory) or refused: the child's reason */
    not_st *st = calloc(1, sizeof *st);
    if (!st) {
        px_predicate_free(p);
        return NULL;
    }
    st->c.p = p;
    return px_predicate_new(&not_ops, st);
}

/* ---- per-frame evaluation ---- */

int px__frame_test(const px_predicate *p, const px_frame *f)
{
    const px_predicate_ops *ops = px_predicate_get_ops(p);
    const void *state = px_predicate_state(p);
    if (px__ftest_is(p)) {
        const px__ftest *st = state;
        return st->vt->test(st, f, NULL) == 0;
    }
    if (ops == &not_ops) {
        int r = px__frame_test(((const not_st *)state)->c.p, f);
        return r < 0 ? r : !r;
    }
    bool all = ops == &all_of_ops[0] || ops == &all_of_ops[1];
    bool any = ops == &any_of_ops[0] || ops == &any_of_ops[1];
    if (!all && !any)
        return -1;
    const multi_st *st = state;
    int result = all ? 1 : 0;
    for (size_t i = 0; i < st->n; i++) {
        int r = px__frame_test(st->c[i].p, f);
        if (r < 0)
            return r;
        if (all && !r)
            result = 0;
        if (any && r)
            result = 1;
    }
    return result;
}

bool px_predicate_is_per_frame(const px_predicate *p)
{
    if (!p)
        return false;
    const px_predicate_ops *ops = px_predicate_get_ops(p);
    const void *state = px_predicate_state(p);
    if (px__ftest_is(p))
        return true;
    if (ops == &not_ops)
        return px_predicate_is_per_frame(((const not_st *)state)->c.p);
    if (ops != &all_of_ops[0] && ops != &all_of_ops[1] && ops != &any_of_ops[0] && ops != &any_of_ops[1])
        return false;
    const multi_st *st = state;
    for (size_t i = 0; i < st->n; i++)
        if (!px_predicate_is_per_frame(st->c[i].p))
            return false;
    return true;
}

/* ---- counting ---- */

typedef enum count_form { F_EXACTLY, F_AT_LEAST, F_AT_MOST, F_BETWEEN, F_COUNT, F_NOT_EQUAL } count_form;

typedef struct count_st {
    px_predicate *p; /* NULL: every frame */
    /* p's test when p is a saw_.../did_not_see_... (px__ftest_is), else NULL:
     * its misses say both whether the frame counts and how close it came, in
     * one call per frame (px__frame_test would ask which kind p is first). */
    const px__ftest *ft;
    count_form form;
    uint64_t lo, hi; /* inclusive range; F_NOT_EQUAL: count != lo */
    uint64_t seen, matched;
    /* The child's dispatch key, which the count declares too: a frame without it
     * fails the child's test, so it changes neither `matched` nor the verdict
     * (only `seen`, which the explanation words accordingly). */
    bool has_key;
    px_key key;
    uint64_t seen_key;
    /* The closest frame that failed a per-frame child (fewest misses), kept as
     * the child alone would keep it: a count that saw too few explains why the
     * others did not match, as matches(...) or saw_...(...) alone do. */
    unsigned best_miss;
    uint64_t best_index; /* 1-based, 0 = none */
    px_buf best_why;
} count_st;

static void count_on_packet(void *state, const px_frame *f)
{
    count_st *st = state;
    const px__ftest *t = st->ft;
    st->seen++;
    /* A per-frame child with no misses matched (px__frame_test's answer). */
    unsigned miss = t ? t->vt->test(t, f, NULL) : !st->p || px__frame_test(st->p, f) == 1 ? 0 : 1;
    /* The key is exact: a frame the child passes carries it (as in ftest.c). */
    if (st->has_key && (miss == 0 || px__frame_has_key(f, st->key)))
        st->seen_key++;
    if (miss == 0) {
        st->matched++;
        return;
    }
    if (!t)
        return;
    /* Formats only a new closest frame, as the stream behaviour does (ftest.c). */
    if (st->best_index == 0 || miss < st->best_miss) {
        st->best_miss = miss;
        st->best_index = st->seen;
        px_buf_clear(&st->best_why);
        t->vt->test(t, f, &st->best_why);
        px_buf_append(&st->best_why, " (frame: ");
        px__frame_summary(f, &st->best_why);
        px_buf_append(&st->best_why, ")");
    }
}

static bool count_key(const void *state, px_key *out)
{
    const count_st *st = state;
    if (st->has_key)
        *out = st->key;
    return st->has_key;
}

/* Stops only when the verdict can no longer become PASS (over the upper bound). */
static bool count_stop(void *state, const px_frame *f)
{
    (void)f;
    const count_st *st = state;
    return st->form != F_NOT_EQUAL && st->form != F_COUNT && st->matched > st->hi;
}

static void count_describe(const void *state, px_buf *out)
{
    const count_st *st = state;
    static const char *const names[] = {"exactly", "at_least", "at_most", "between", "count", "count"};
    px_buf_printf(out, "%s(", names[st->form]);
    switch (st->form) {
    case F_EXACTLY:
    case F_AT_LEAST: px_buf_printf(out, "%llu", (unsigned long long)st->lo); break;
    case F_AT_MOST: px_buf_printf(out, "%llu", (unsigned long long)st->hi); break;
    case F_BETWEEN: px_buf_printf(out, "%llu, %llu", (unsigned long long)st->lo, (unsigned long long)st->hi); break;
    case F_COUNT:
    case F_NOT_EQUAL: break;
    }
    if (st->p) {
        if (st->form != F_COUNT && st->form != F_NOT_EQUAL)
            px_buf_append(out, ", ");
        px_predicate_describe(st->p, out);
    }
    px_buf_append(out, ")");
    if (st->form == F_NOT_EQUAL)
        px_buf_printf(out, " != %llu", (unsigned long long)st->lo);
}

static px_verdict count_finish(void *state, bool timed_out, px_result *out)
{
    count_st *st = state;
    px_result_set_value(out, (int64_t)(st->matched > INT64_MAX ? INT64_MAX : st->matched));
    bool ok = st->form == F_NOT_EQUAL ? st->matched != st->lo : st->matched >= st->lo && st->matched <= st->hi;
    /* "exactly 1 matching frame", "at least 2 frames": the noun agrees with the
     * number it follows (the upper bound for between). */
    uint64_t n = st->form == F_AT_MOST || st->form == F_BETWEEN ? st->hi : st->lo;
    bool one = n == 1 && st->form != F_NOT_EQUAL && st->form != F_COUNT;
    const char *what = st->p ? (one ? "matching frame" : "matching frames") : (one ? "frame" : "frames");
    switch (st->form) {
    case F_EXACTLY: px_result_explain(out, "expected exactly %llu %s", (unsigned long long)st->lo, what); break;
    case F_AT_LEAST: px_result_explain(out, "expected at least %llu %s", (unsigned long long)st->lo, what); break;
    case F_AT_MOST: px_result_explain(out, "expected at most %llu %s", (unsigned long long)st->hi, what); break;
    case F_BETWEEN:
        px_result_explain(out, "expected between %llu and %llu %s", (unsigned long long)st->lo,
                          (unsigned long long)st->hi, what);
        break;
    case F_COUNT: px_result_explain(out, "counted %s", what); break;
    case F_NOT_EQUAL: px_result_explain(out, "expected a number of %s other than %llu", what, (unsigned long long)st->lo); break;
    }
    /* The child is not repeated: the expectation's headline (or the combinator
     * above) already names this count with its child. */
    px_result_explain(out, "; saw %llu of %llu frame%s", (unsigned long long)st->matched,
                      (unsigned long long)st->seen, st->seen == 1 ? "" : "s");
    if (st->has_key && st->seen_key == st->seen) {
        px_result_explain(out, " with ");
        px__key_format(&st->key, &out->explanation);
    } else if (st->has_key) {
        px_result_explain(out, " (%llu with ", (unsigned long long)st->seen_key);
        px__key_format(&st->key, &out->explanation);
        px_result_explain(out, ")");
    }
    px_result_explain(out, "%s", timed_out ? " in the window" : " before the expectation ended");
    if (!ok && st->matched < st->lo && st->best_index)
        px_result_explain(out, "; closest was frame #%llu: %s", (unsigned long long)st->best_index,
                          px_buf_cstr(&st->best_why));
    return ok ? PX_PASS : PX_FAIL;
}

static void count_destroy(void *state)
{
    count_st *st = state;
    if (!st)
        return;
    px_predicate_free(st->p);
    px_buf_free(&st->best_why);
    free(st);
}

static const px_predicate_ops count_ops = {
    .name = "count",
    .on_packet = count_on_packet,
    .stop_condition = count_stop,
    .on_finish = count_finish,
    .describe = count_describe,
    .destroy = count_destroy,
    .flags = PX_PRED_LOSS_SENSITIVE,
    .key = count_key,
};

static const char *const count_names[] = {"exactly", "at_least", "at_most", "between", "count", "count_not"};

/* The reason a counting or no_other_packets predicate refuses child p (NULL: it
 * takes it): its own refusal, or not being per-frame. Frees p when refused. */
static px_predicate *refuse_child(const char *name, px_predicate *p)
{
    if (!p || px__pred_first_refused(&p, 1))
        return p;
    px_buf d = PX_BUF_INIT;
    px_predicate_describe(p, &d);
    px_predicate *r = px__pred_refused(name, "p must be a per-frame predicate (saw_..., did_not_see_..., bpf, "
                                             "matches, and all_of/any_of/not of them), got %s",
                                       px_buf_cstr(&d));
    px_buf_free(&d);
    px_predicate_free(p);
    return r;
}

static px_predicate *count_new(count_form form, uint64_t lo, uint64_t hi, px_predicate *p)
{
    if (p && (px__pred_first_refused(&p, 1) || !px_predicate_is_per_frame(p)))
        return refuse_child(count_names[form], p);
    if (lo > hi) {
        px_predicate_free(p);
        return px__pred_refused(count_names[form], "lo must not be above hi, got %llu > %llu", (unsigned long long)lo,
                                (unsigned long long)hi);
    }
    count_st *st = calloc(1, sizeof *st);
    if (!st) {
        px_predicate_free(p);
        return NULL;
    }
    st->p = p;
    st->ft = p && px__ftest_is(p) ? px_predicate_state(p) : NULL;
    st->form = form;
    st->lo = lo;
    st->hi = hi;
    st->has_key = p && px_predicate_key(p, &st->key);
    return px_predicate_new(&count_ops, st);
}

px_predicate *px_exactly(uint64_t n, px_predicate *p) { return count_new(F_EXACTLY, n, n, p); }
px_predicate *px_at_least(uint64_t n, px_predicate *p) { return count_new(F_AT_LEAST, n, UINT64_MAX, p); }
px_predicate *px_at_most(uint64_t n, px_predicate *p) { return count_new(F_AT_MOST, 0, n, p); }
px_predicate *px_between(uint64_t lo, uint64_t hi, px_predicate *p) { return count_new(F_BETWEEN, lo, hi, p); }
px_predicate *px_count(px_predicate *p) { return count_new(F_COUNT, 0, UINT64_MAX, p); }
px_predicate *px_count_not(uint64_t n, px_predicate *p) { return count_new(F_NOT_EQUAL, n, n, p); }

/* ---- no_other_packets ---- */

typedef struct noother_st {
    px_predicate *allowed; /* NULL: no frame is allowed */
    uint64_t seen, offender;
    px_buf summary;
} noother_st;

static void noother_on_packet(void *state, const px_frame *f)
{
    noother_st *st = state;
    if (st->offender)
        return;
    st->seen++;
    if (!st->allowed || px__frame_test(st->allowed, f) != 1) {
        st->offender = st->seen;
        px__frame_summary(f, &st->summary);
    }
}

static bool noother_stop(void *state, const px_frame *f)
{
    (void)f;
    return ((const noother_st *)state)->offender != 0;
}

static void noother_describe(const void *state, px_buf *out)
{
    const noother_st *st = state;
    px_buf_append(out, "no_other_packets(");
    if (st->allowed)
        px_predicate_describe(st->allowed, out);
    px_buf_append(out, ")");
}

static px_verdict noother_finish(void *state, bool timed_out, px_result *out)
{
    (void)timed_out;
    noother_st *st = state;
    if (st->offender) {
        px_result_explain(out, "expected no %sframe; frame #%llu was: %s", st->allowed ? "other " : "",
                          (unsigned long long)st->offender, px_buf_cstr(&st->summary));
        return PX_FAIL;
    }
    px_result_explain(out, "%llu frame%s, none unexpected", (unsigned long long)st->seen, st->seen == 1 ? "" : "s");
    return PX_PASS;
}

static void noother_destroy(void *state)
{
    noother_st *st = state;
    if (!st)
        return;
    px_predicate_free(st->allowed);
    px_buf_free(&st->summary);
    free(st);
}

static const px_predicate_ops noother_ops = {
    .name = "no_other_packets",
    .on_packet = noother_on_packet,
    .stop_condition = noother_stop,
    .on_finish = noother_finish,
    .describe = noother_describe,
    .destroy = noother_destroy,
    .flags = PX_PRED_LOSS_SENSITIVE,
};

px_predicate *px_no_other_packets(px_predicate *allowed)
{
    if (allowed && (px__pred_first_refused(&allowed, 1) || !px_predicate_is_per_frame(allowed)))
        return refuse_child("no_other_packets", allowed);
    noother_st *st = calloc(1, sizeof *st);
    if (!st) {
        px_predicate_free(allowed);
        return NULL;
    }
    st->allowed = allowed;
    return px_predicate_new(&noother_ops, st);
}

px_predicate *px__count_take_inner(px_predicate *count)
{
    if (px_predicate_get_ops(count) != &count_ops)
        return NULL;
    count_st *st = px_predicate_state(count);
    px_predicate *p = st->p;
    st->p = NULL;
    st->ft = NULL;
    return p;
}
