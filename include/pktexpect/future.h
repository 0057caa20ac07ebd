/* pktexpect: futures, the handles of armed expectations.
 *
 * A future resolves exactly once, to PASS, FAIL or ERROR, with an optional int64
 * value and an explanation. It is resolved by a capture thread (a frame finished
 * the expectation, or its deadline passed) or by the harness (error, cancel,
 * context closed). Every expectation has a deadline, so every wait returns.
 *
 * Ownership: px_expect() returns a future the caller frees with px_future_free();
 * freeing a pending future cancels it first. Accessors of a resolved future return
 * stable data until it is freed (the deciding frame's copy and the px_future_fd
 * descriptor included: the future owns them).
 *
 * Thread-safety: all functions may be called from any thread, concurrently on the
 * same future (except px_future_free, which must be the last call). Do not wait on
 * or cancel a future from inside a predicate callback or a px_future_on_done
 * callback (both run on a capture thread).
 */
#ifndef PKTEXPECT_FUTURE_H
#define PKTEXPECT_FUTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "frame.h"
#include "predicate.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

typedef struct px_future px_future;

/** Counters of one expectation's window. */
typedef struct px_counters {
    uint64_t seen;      /**< frames offered to the predicate (after noise and BPF filter) */
    uint64_t filtered;  /**< frames the expectation's BPF filter rejected */
    uint64_t noise;     /**< frames ignored by the noise filter */
    uint64_t drops;     /**< capture drops on its ports during its window */
    uint64_t truncated; /**< offered frames that were longer than a ring slot */
} px_counters;

/** Waits until resolved; returns the verdict. */
px_verdict px_future_wait(px_future *f);
/** Waits at most `ms` milliseconds; returns PX_PENDING if still unresolved. */
px_verdict px_future_wait_for(px_future *f, uint32_t ms);
/** Waits for all `n` futures (NULL entries ignored). `timeout_ms` < 0 waits as long as
 *  they take (each has its own deadline). Returns 0 when all resolved, PX_ETIMEDOUT
 *  otherwise. The cost is the longest window, not the sum: they run concurrently. */
int px_future_wait_all(px_future *const *fs, size_t n, int32_t timeout_ms);
/** Waits until one of `n` futures resolves; returns its index, or -1 on timeout
 *  (`timeout_ms` < 0: no timeout) or when n is 0 / all entries are NULL. */
int px_future_wait_any(px_future *const *fs, size_t n, int32_t timeout_ms);

/** True once resolved. Never blocks. */
bool px_future_done(px_future *f);
/** Cancels a pending expectation: it resolves ERROR ("cancelled") and this returns
 *  once it has. No effect on a resolved future. */
void px_future_cancel(px_future *f);

/** The verdict now (PX_PENDING while unresolved). */
px_verdict px_future_verdict(px_future *f);
/** Value set by the predicate; 0 when none (see px_future_has_value). */
int64_t px_future_value(px_future *f);
bool px_future_has_value(px_future *f);
/** Explanation of the verdict; "" while pending. Owned by the future. */
const char *px_future_explanation(px_future *f);
/** What was expected: "saw_vlan_tag(102) on p1 within 1000 ms". Owned by the future. */
const char *px_future_description(px_future *f);
/** The expectation's name (opts.name), or NULL. Owned by the future. */
const char *px_future_name(px_future *f);
/** Counters; final once resolved. */
void px_future_counters(px_future *f, px_counters *out);
/** One paragraph with everything a failure message needs: description, verdict,
 *  explanation and counters. Appended to `out`. */
void px_future_report(px_future *f, px_buf *out);

/* ---- Results you can use (docs/c-api.md) ---- */

/** The frame that decided the future: the frame on which the expectation ended
 *  before its deadline (its predicate stopped on it: a positive predicate's match,
 *  a negative one's offender; or the opts.count-th frame). `*out` gets a dissected
 *  view of a copy owned by the future (data, caplen, wirelen, ts: the capture
 *  timestamp, port: the port it arrived on), valid until px_future_free. Returns
 *  false (and leaves *out alone) while pending and when no frame decided: windows
 *  decided at their deadline or at the end of a stream, errors, cancels. A frame
 *  that decided is kept whatever the verdict became (capture drops may turn a
 *  negative's FAIL into ERROR). The bytes are copied once, when the expectation
 *  ends, never per frame. Thread-safety: any thread. */
bool px_future_frame(px_future *f, px_frame *out);
/** The port of the frame that decided (px_future_frame's port): for px_expect_any,
 *  the port that matched. NULL when no frame decided. Owned by the future. */
const char *px_future_port(px_future *f);
/** When the future resolved, CLOCK_REALTIME (the clock of live frames' `ts`).
 *  Returns false while pending. */
bool px_future_resolved_at(px_future *f, struct timespec *out);

/* ---- Completion without blocking (docs/c-api.md) ---- */

/** Called once when the future resolves, with the future and `user`. */
typedef void (*px_future_done_fn)(px_future *f, void *user);

/** Registers `cb`, run exactly once: on the thread that resolves the future (a
 *  port's capture thread, after it released the future's lock) or, when the future
 *  is resolved already, at once on the caller's thread before this returns. The
 *  callback must be short and must not block: it must not wait on, cancel or free
 *  pending futures, arm expectations or free the context (a capture thread would
 *  wait for itself). It may read its future and free it (px_future_free on a
 *  resolved future does not block): the future is then gone when the callback
 *  returns. px_future_free on a pending future drops the callback unrun, and once
 *  px_future_free has returned the callback is not running (unless called from
 *  inside it). One callback per future: PX_EEXIST when one was registered already,
 *  PX_EINVAL when f or cb is NULL; 0 otherwise. Thread-safety: any thread. */
int px_future_on_done(px_future *f, px_future_done_fn cb, void *user);

/** A descriptor that becomes readable when the future resolves, for poll, epoll,
 *  select or libuv's uv_poll: an eventfd (EFD_CLOEXEC | EFD_NONBLOCK) created on
 *  the first call (later calls return the same one), readable at once when the
 *  future is resolved already. It stays readable until read; reading it is never
 *  needed. Owned by the future: closed by px_future_free (remove it from your
 *  event loop first). Returns the descriptor, or a negative PX_E* (PX_EINVAL for
 *  NULL, PX_ESYS when no eventfd can be created). Thread-safety: any thread. */
int px_future_fd(px_future *f);

/** Frees the future (cancelling it first if pending). NULL is a no-op. Also
 *  closes its px_future_fd descriptor and frees its px_future_frame copy. */
void px_future_free(px_future *f);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
