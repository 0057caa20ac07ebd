/* pktexpect: one-line sends and expectations from text (docs/c-api.md).
 *
 *     char err[PX_ERRBUF_SIZE];
 *     px_future *f = px_expect_expr(ctx, "p2", "saw_vlan_tag(102)", NULL, err);
 *     px_send_text(ctx, "p1", "Ether(dst=ff:ff:ff:ff:ff:ff)/Dot1Q(vlan=102)/IPv4()/UDP()", err);
 *     assert(px_future_wait(f) == PX_PASS);
 *
 * The texts are the frame text form (docs/text-form.md) and the predicate
 * expression language (docs/expressions.md), the same as in YAML scenarios and
 * on the command line. No error is lost: a text that does not parse, or an
 * argument a predicate refuses (saw_vlan_tag(5000)), is reported with its column
 * in errbuf, and an expectation that could not be armed still gives a future,
 * resolved ERROR with the same message in its explanation.
 *
 * Thread-safety: like px_send and px_expect, any thread, concurrently on the same
 * context. A registry passed to px_expect_expr_reg is only read.
 */
#ifndef PKTEXPECT_ONELINE_H
#define PKTEXPECT_ONELINE_H

#include "context.h"
#include "expect.h"
#include "expr.h"
#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/** Builds the text-form frame `text` and sends it on `port` (as px_send). When the
 *  text leaves the Ethernet source out (`Ether(dst=...)`, `Ether()`), the port's
 *  MAC address is written there, as scapy's sendp does: a bridge or switch drops
 *  frames from 00:00:00:00:00:00. A source given explicitly is kept, even
 *  00:00:00:00:00:00. Returns 0, PX_EPARSE / PX_ERANGE / PX_EINVAL with "col N: ..."
 *  in errbuf when the text does not parse (nothing is sent, the port is not opened),
 *  or px_send's errors. errbuf (PX_ERRBUF_SIZE bytes) may be NULL. */
int px_send_text(px_ctx *ctx, const char *port, const char *text, char *errbuf);

/** Parses the predicate expression `expr` (built-in names) and arms it on `port`
 *  with `opts` (may be NULL), as px_expect. Returns the future (caller frees with
 *  px_future_free); NULL only when ctx, port or expr is NULL or memory runs out.
 *  When the expression does not parse or a predicate refuses an argument, errbuf
 *  gets "col N: ..." and the future is already resolved ERROR with that message in
 *  its explanation (nothing is armed, the port is not opened); otherwise errbuf
 *  is set to "". errbuf (PX_ERRBUF_SIZE bytes) may be NULL. */
px_future *px_expect_expr(px_ctx *ctx, const char *port, const char *expr, const px_expect_opts *opts,
                          char *errbuf);

/** px_expect_expr with the names of `reg` (NULL: the built-ins), e.g. a registry
 *  holding your own predicates (px_registry_add). `reg` is only read during the
 *  call. */
px_future *px_expect_expr_reg(px_ctx *ctx, const px_registry *reg, const char *port, const char *expr,
                              const px_expect_opts *opts, char *errbuf);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
