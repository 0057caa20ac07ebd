/* pktexpect: marks, to look back at frames that arrived before px_expect.
 *
 * DESIGN 2.1: an expectation's window starts when px_expect returns, unless the
 * caller explicitly asks to look back from an earlier mark. A mark taken on some
 * ports records, on each, where it was taken (its position in the port's frame
 * stream and its drop epoch), and from then on the port keeps its frames. An
 * expectation armed with `opts.since = mark` has a window that starts at the mark:
 * it is offered every frame of its ports since the mark, in arrival order (those
 * that came before px_expect first, then the live ones), and its drop epoch is the
 * mark's, so a drop since the mark makes a loss-sensitive verdict ERROR. Nothing
 * is consumed: any number of expectations may look back from the same mark.
 *
 *     px_mark *m = px_mark_take(ctx, (const char *[]){"p1", "p2"}, 2, err);
 *     px_send_text(ctx, "p0", "Ether()/IPv4(dst=10.0.0.2)/UDP()", err);  // send first
 *     px_future *f = px_expect(ctx, "p1", px_saw_ipv4(...), &(px_expect_opts){.since = m});
 *     ...
 *     px_mark_free(m);
 *
 * Order: each port offers its own frames in arrival order, history first; a
 * multi-port expectation gets each port's history when that port takes the
 * arm, so across ports the order of frames from before px_expect is not their
 * arrival order (as for live frames, DESIGN promises order per port only).
 *
 * The deadline is still px_expect's return + timeout. Memory: while a mark is
 * taken a port keeps its frames since the oldest mark (bounded by
 * px_ctx_opts.history_mib; past it a look-back from a forgotten mark resolves
 * ERROR, saying so). Free marks you no longer need. pktexpect/verify.h builds
 * PTF's verify-after-send vocabulary on marks.
 */
#ifndef PKTEXPECT_MARK_H
#define PKTEXPECT_MARK_H

#include <stddef.h>

#include "context.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

typedef struct px_mark px_mark;

/** Takes a mark on each of `ports` (opened on first use, like px_expect) and
 *  returns when every port has acknowledged it: frames that arrive afterwards can
 *  be looked back at. Returns the mark (caller frees with px_mark_free), or NULL
 *  with the reason in errbuf (PX_ERRBUF_SIZE bytes, may be NULL): a port that
 *  cannot be opened, no ports, out of memory. Thread-safety: any thread. */
px_mark *px_mark_take(px_ctx *ctx, const char *const *ports, size_t nports, char *errbuf);

/** Releases the mark: its ports forget the frames no other mark needs. Call it
 *  when no px_expect using it is running (expectations already armed with it do
 *  not need it any more). May be called after px_ctx_free. NULL is a no-op. */
void px_mark_free(px_mark *m);

/** The number of ports of the mark (0 for NULL). */
size_t px_mark_nports(const px_mark *m);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
