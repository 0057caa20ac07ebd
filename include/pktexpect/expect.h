/* pktexpect: arming expectations.
 *
 * px_expect(ctx, "p1", predicate, &opts) arms an expectation and returns its
 * future. Semantics (DESIGN section 2), each tested:
 *  - Armed on return: the capture of every port is active and every frame that
 *    arrives afterwards is offered; frames that arrived before are not.
 *  - Observation, not consumption: every expectation of a port sees every frame.
 *  - on_packet before stop_condition, on_finish exactly once.
 *  - count = N finishes after N offered frames with timed_out = false.
 *  - One deadline per expectation, whatever the number of ports.
 *  - Drops in the window make loss-sensitive verdicts (and every FAIL) ERROR.
 *  - Errors never hang: a bad port or filter gives a future already resolved ERROR.
 */
#ifndef PKTEXPECT_EXPECT_H
#define PKTEXPECT_EXPECT_H

#include <stdint.h>

#include "context.h"
#include "future.h"
#include "mark.h"
#include "predicate.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

typedef enum px_noise_mode {
    PX_NOISE_PORT = 0, /**< use the port's noise filter (default) */
    PX_NOISE_OFF,      /**< offer noise frames too */
} px_noise_mode;

typedef struct px_expect_opts {
    uint32_t timeout_ms;  /**< window; 0 -> the context default (5 s unless set) */
    uint32_t count;       /**< finish after this many offered frames; 0 = unlimited */
    const char *filter;   /**< BPF filter expression (libpcap syntax), NULL = none; copied */
    const char *name;     /**< name for messages, NULL = none; copied */
    px_noise_mode noise;
    /** Look back from this mark (pktexpect/mark.h): the window starts at the mark
     *  on each port instead of at px_expect's return, and frames since then are
     *  offered first. NULL: no look-back. Every port of the expectation must be
     *  one of the mark's; the mark must stay alive until px_expect returns. */
    const px_mark *since;
} px_expect_opts;

/** Arms `pred` on one port (opened on first use). Takes ownership of `pred` in
 *  every case. Returns a future (caller frees with px_future_free), already
 *  resolved ERROR when the port cannot be opened or the filter does not compile;
 *  NULL only when ctx or pred is NULL or memory runs out. `opts` may be NULL. */
px_future *px_expect(px_ctx *ctx, const char *port, px_predicate *pred, const px_expect_opts *opts);

/** Same over several ports: frames of all of them are offered, in arrival order per
 *  port, with one deadline. */
px_future *px_expect_any(px_ctx *ctx, const char *const *ports, size_t nports, px_predicate *pred,
                         const px_expect_opts *opts);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
