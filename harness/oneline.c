/* pktexpect: one-line sends and expectations from text (include/pktexpect/oneline.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx_internal.h"
#include "pktexpect/oneline.h"
#include "pktexpect/send.h"
#include "pktexpect/text.h"

int px_send_text(px_ctx *ctx, const char *port, const char *text, char *errbuf)
{
    char local[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = local;
    errbuf[0] = '\0';
    if (!ctx || !port || !text) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "px_send_text: no context, port or text given");
        return PX_EINVAL;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    unsigned flags = 0;
    int rc = px_frame_parse_text_ex(text, &bytes, &len, &flags, errbuf);
    if (rc != 0)
        return rc;
    if (flags & PX_TEXT_SRC_MAC_UNSET)
        rc = px_port_mac(ctx, port, bytes + 6, errbuf);
    if (rc == 0)
        rc = px_send(ctx, port, bytes, len, errbuf);
    free(bytes);
    return rc;
}

/* Stands for an expression that did not parse, so the ERROR future describes
 * what was asked. State: the expression text (owned). */
static px_verdict unparsed_finish(void *state, bool timed_out, px_result *out)
{
    (void)state, (void)timed_out, (void)out;
    return PX_ERROR;
}

static void unparsed_describe(const void *state, px_buf *out) { px_buf_printf(out, "%s", (const char *)state); }

static const px_predicate_ops unparsed_ops = {
    .name = "unparsed",
    .on_finish = unparsed_finish,
    .describe = unparsed_describe,
    .destroy = free,
};

px_future *px_expect_expr_reg(px_ctx *ctx, const px_registry *reg, const char *port, const char *expr,
                              const px_expect_opts *opts, char *errbuf)
{
    char local[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = local;
    errbuf[0] = '\0';
    if (!ctx || !port || !expr) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "px_expect_expr: no context, port or expression given");
        return NULL;
    }
    px_predicate *pred = NULL;
    px_expr_error *e = malloc(sizeof *e); /* 2 KiB: not on the caller's stack */
    if (!e) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    int rc = px_expr_parse(reg, expr, &pred, e);
    if (rc == 0) {
        free(e);
        return px_expect(ctx, port, pred, opts);
    }
    /* The parser's messages start with "col N: " already, except a few global ones. */
    if (e->column && strncmp(e->message, "col ", 4) != 0)
        snprintf(errbuf, PX_ERRBUF_SIZE, "col %u: %.480s", e->column, e->message);
    else
        snprintf(errbuf, PX_ERRBUF_SIZE, "%.500s", e->message[0] ? e->message : px_strerror(rc));
    free(e);
    char *text = strdup(expr);
    px_predicate *stand_in = text ? px_predicate_new(&unparsed_ops, text) : NULL;
    if (!stand_in)
        return NULL;
    char msg[PX_ERRBUF_SIZE + 32];
    snprintf(msg, sizeof msg, "expression does not parse: %s", errbuf);
    return px__expect_error(ctx, port, stand_in, opts, msg);
}

px_future *px_expect_expr(px_ctx *ctx, const char *port, const char *expr, const px_expect_opts *opts,
                          char *errbuf)
{
    return px_expect_expr_reg(ctx, NULL, port, expr, opts, errbuf);
}
