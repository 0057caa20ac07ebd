/* pktexpect: the predicate a constructor returns for an argument it refuses
 * (predicates.h): it carries the reason, so that the reason reaches the future's
 * explanation instead of being lost in a NULL. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/error.h"
#include "pred_internal.h"

typedef struct refused_st {
    char *name; /* the constructor's name in the language: "saw_vlan_tag" */
    char *msg;  /* "saw_vlan_tag: vid must be 0..4095, got 5000" */
} refused_st;

/* Decides on the first frame: nothing it could see changes the verdict. */
static bool refused_stop(void *state, const px_frame *f)
{
    (void)state;
    (void)f;
    return true;
}

static px_verdict refused_finish(void *state, bool timed_out, px_result *out)
{
    (void)timed_out;
    px_result_explain(out, "%s", ((refused_st *)state)->msg);
    return PX_ERROR;
}

static void refused_describe(const void *state, px_buf *out)
{
    px_buf_printf(out, "%s(refused arguments)", ((const refused_st *)state)->name);
}

static void refused_destroy(void *state)
{
    refused_st *st = state;
    free(st->name);
    free(st->msg);
    free(st);
}

static const px_predicate_ops refused_ops = {
    .name = "refused",
    .stop_condition = refused_stop,
    .on_finish = refused_finish,
    .describe = refused_describe,
    .destroy = refused_destroy,
};

px_predicate *px__pred_refused(const char *name, const char *fmt, ...)
{
    refused_st *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    char why[PX_ERRBUF_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    px_buf b = PX_BUF_INIT;
    px_buf_printf(&b, "%s: %s", name, why);
    st->name = strdup(name);
    st->msg = px_buf_steal(&b);
    if (!st->name || !st->msg) {
        refused_destroy(st);
        return NULL;
    }
    return px_predicate_new(&refused_ops, st);
}

const char *px_predicate_error(const px_predicate *p)
{
    if (!p)
        return "out of memory (the constructor returned NULL)";
    if (px_predicate_get_ops(p) != &refused_ops)
        return NULL;
    return ((const refused_st *)px_predicate_state(p))->msg;
}

px_predicate *px__pred_first_refused(px_predicate *const *ps, size_t n)
{
    for (size_t i = 0; ps && i < n; i++)
        if (ps[i] && px_predicate_get_ops(ps[i]) == &refused_ops)
            return ps[i];
    return NULL;
}
