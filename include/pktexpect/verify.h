/* pktexpect: verification with PTF's vocabulary and pktexpect's semantics.
 *
 * PTF checks a switch in three lines: send_packet(self, 0, pkt);
 * verify_packet(self, exp_pkt, 1); verify_no_other_packets(self). Here:
 *
 *     px_verify_begin(ctx, ports, 3, err);                        // once, before sending
 *     px_send_text(ctx, "p0", pkt, err);
 *     px_assert_pass(px_verify_packet(ctx, "p1", exp_pkt, NULL));
 *     px_assert_pass(px_verify_no_other_packets(ctx, NULL));
 *
 * Verify after send, without a queue. px_verify_begin takes a mark on the
 * verified ports (pktexpect/mark.h): from then on every frame of those ports is
 * kept (bounded only by px_ctx_opts.history_mib, never a small queue), and each
 * verification is an expectation that looks back from the mark: it is offered
 * every frame since the mark, then the live ones until its deadline (the call +
 * timeout). A frame that is already there resolves a positive verification at
 * once. Nothing is consumed and no frame is dropped silently: a drop since the
 * mark makes a negative verification (and every FAIL) ERROR, as for any
 * expectation.
 *
 * Negative verifications (no packet, no other packets) decide at the close of
 * their window, never on the first frame: a positive verification armed with
 * them may still claim that frame.
 *
 * Claims. A frame that decided a positive verification is claimed: later
 * verifications do not match it again (two identical sends need two frames, as
 * with PTF) and px_verify_no_other_packets does not count it. The period of
 * marks and claims starts at px_verify_begin, px_verify_mark and each
 * px_verify_no_other_packets (which moves the mark to its own start).
 *
 * Expected frames are the text form or hex, as for matches(). A text that
 * leaves the Ethernet source out (`Ether(dst=...)`) matches any source: the
 * sender writes the port's MAC there (px_send_text), which the test does not
 * name.
 *
 * Every function returns a future (caller frees with px_future_free; the
 * px_assert_* macros of pktexpect/cmocka.h do it for you) that resolves with
 * pktexpect's explanation: the closest frame and a field-by-field diff for
 * FAIL, the port that matched (px_future_port) and the deciding frame
 * (px_future_frame) for PASS. Errors (no px_verify_begin, a port that is not
 * verified, an expected frame that does not parse) give a future already
 * resolved ERROR saying so; NULL only when ctx is NULL or memory runs out.
 *
 * Timeouts: positive verifications wait px_ctx_opts.verify_timeout_ms (PTF's
 * default_timeout, 2 s), negative ones px_ctx_opts.verify_negative_ms (PTF's
 * default_negative_timeout, 100 ms), unless opts->timeout_ms says otherwise.
 * Verifications armed together share their windows: waiting on ten negative
 * checks costs one negative window.
 *
 * Thread-safety: any thread; verifications of one context may run concurrently.
 */
#ifndef PKTEXPECT_VERIFY_H
#define PKTEXPECT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context.h"
#include "future.h"
#include "predicate.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

typedef struct px_verify_opts {
    uint32_t timeout_ms;  /**< 0: the context's verify timeout (positive) or negative window */
    const char *set;      /**< edits that derive the expected frame from `expected`
                               (px_frame_derive, pktexpect/build.h: "ipv4.ttl-=1,
                               eth.dst=02:00:00:00:00:09"), PTF's exp = pkt.copy(); NULL: none */
    const char *ignore;   /**< what is not compared (matches() syntax, pktexpect/diff.h:
                               "ipv4.ttl, ipv4.chksum, bits:96+16"); NULL: everything is */
    bool allow_padding;   /**< bytes after the expected frame's end are padding */
    const char *name;     /**< name for messages; NULL: none */
} px_verify_opts;

/** Starts verifying `ports` (opened on first use): takes the mark the
 *  verifications look back from and forgets earlier claims. Call it before the
 *  first send of a test (cmocka: in the per-test setup). Calling it again
 *  replaces the set of ports. 0, or PX_E* with the reason in errbuf (may be NULL). */
int px_verify_begin(px_ctx *ctx, const char *const *ports, size_t nports, char *errbuf);

/** Moves the mark of every verified port to now and forgets the claims: what
 *  came before is not looked at any more. 0, or PX_E* (PX_EINVAL without
 *  px_verify_begin) with errbuf. */
int px_verify_mark(px_ctx *ctx, char *errbuf);

/** PTF verify_packet: a frame equal to `expected` (text form or hex; opts->ignore,
 *  opts->allow_padding as matches()) on `port` since the mark. */
px_future *px_verify_packet(px_ctx *ctx, const char *port, const char *expected, const px_verify_opts *opts);

/** The same with any per-frame predicate (takes ownership of `pred`, e.g. a
 *  px_matches built with a mask, or saw_ipv4(ttl=63)): PASS on the first unclaimed
 *  frame it accepts. */
px_future *px_verify_packet_pred(px_ctx *ctx, const char *port, px_predicate *pred, const px_verify_opts *opts);

/** PTF verify_packet_any_port: the frame on any one of `ports`; px_future_port
 *  names the port that got it. */
px_future *px_verify_packet_any(px_ctx *ctx, const char *const *ports, size_t nports, const char *expected,
                                const px_verify_opts *opts);

/** The frame on each of `ports` (one window; FAIL names every port that did not
 *  get it, with its closest frame). PTF's verify_packets(pkt, ports) is this
 *  followed by px_verify_no_other_packets. Value: the number of ports that got it. */
px_future *px_verify_packet_each(px_ctx *ctx, const char *const *ports, size_t nports, const char *expected,
                                 const px_verify_opts *opts);

/** PTF verify_no_packet: no unclaimed frame equal to `expected` (NULL: no frame
 *  at all) on `port` since the mark, within the negative window. */
px_future *px_verify_no_packet(px_ctx *ctx, const char *port, const char *expected, const px_verify_opts *opts);

/** PTF verify_no_packet_any: the same on every one of `ports`, one window. */
px_future *px_verify_no_packet_any(px_ctx *ctx, const char *const *ports, size_t nports, const char *expected,
                                   const px_verify_opts *opts);

/** PTF verify_no_other_packets: no frame other than the claimed ones on any
 *  verified port since the mark, within the negative window; FAIL names the first
 *  other frame and its port. Starts a new period: the mark moves to this call. */
px_future *px_verify_no_other_packets(px_ctx *ctx, const px_verify_opts *opts);

/** The same on every verified port but `except` (nexcept names; ports that are
 *  not verified are an error): for ports whose traffic the test does not care
 *  about. Also starts a new period on every verified port. */
px_future *px_verify_no_other_packets_except(px_ctx *ctx, const char *const *except, size_t nexcept,
                                             const px_verify_opts *opts);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
