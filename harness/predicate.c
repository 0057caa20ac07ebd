/* pktexpect: predicate instances and the dispatch every caller shares. */
#include "pktexpect/predicate.h"

#include <stdarg.h>
#include <stdlib.h>

#include "predicate_internal.h"

const char *px_verdict_name(px_verdict v)
{
    switch (v) {
    case PX_PASS: return "PASS";
    case PX_FAIL: return "FAIL";
    case PX_ERROR: return "ERROR";
    case PX_PENDING: break;
    }
    return "PENDING";
}

void px_result_set_value(px_result *r, int64_t value)
{
    if (!r)
        return;
    r->value = value;
    r->has_value = true;
}

void px_result_explain(px_result *r, const char *fmt, ...)
{
    if (!r)
        return;
    va_list ap;
    va_start(ap, fmt);
    px_buf_vprintf(&r->explanation, fmt, ap);
    va_end(ap);
}

px_predicate *px_predicate_new(const px_predicate_ops *ops, void *state)
{
    if (!ops || !ops->on_finish) {
        if (ops && ops->destroy && state)
            ops->destroy(state);
        return NULL;
    }
    px_predicate *p = malloc(sizeof *p);
    if (!p) {
        if (ops->destroy && state)
            ops->destroy(state);
        return NULL;
    }
    p->ops = ops;
    p->state = state;
    return p;
}

void px_predicate_free(px_predicate *p)
{
    if (!p)
        return;
    if (p->ops->destroy && p->state)
        p->ops->destroy(p->state);
    free(p);
}

const px_predicate_ops *px_predicate_get_ops(const px_predicate *p)
{
    return p ? p->ops : NULL;
}

void *px_predicate_state(const px_predicate *p)
{
    return p ? p->state : NULL;
}

bool px_predicate_offer(px_predicate *p, const px_frame *f) { return px__predicate_offer(p, f); }

px_verdict px_predicate_finish(px_predicate *p, bool timed_out, px_result *out)
{
    px_verdict v = p->ops->on_finish(p->state, timed_out, out);
    if (v != PX_PASS && v != PX_FAIL && v != PX_ERROR) {
        px_result_explain(out, "%spredicate '%s' returned no verdict from on_finish",
                          out->explanation.len ? "; " : "", p->ops->name ? p->ops->name : "?");
        v = PX_ERROR;
    }
    return v;
}

bool px_predicate_key(const px_predicate *p, px_key *out)
{
    if (!p || !p->ops->key || !out)
        return false;
    *out = (px_key){0};
    return p->ops->key(p->state, out) && out->kind > PX_KEY_NONE && out->kind < PX_KEY__COUNT;
}

void px_predicate_describe(const px_predicate *p, px_buf *out)
{
    if (!p)
        return;
    if (p->ops->describe)
        p->ops->describe(p->state, out);
    else
        px_buf_append(out, p->ops->name ? p->ops->name : "predicate");
}
