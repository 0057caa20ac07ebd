/* pktexpect: futures, the handles of armed expectations.
 *
 * A future resolves exactly once, to PASS, FAIL or ERROR, with an optional int64
 * value and an explanation. It is resolved by a capture thread (a frame finished
 * the expectation, or its deadline passed) or by the harness (error, cancel,
 * context closed). Every expectation has a deadline, so every wait returns.
 *
 * Ownership: px_expect() returns a future the caller frees with px_future_free();
 * freeing a pending future cancels it first. Accessors of a resolved future return
 * stable data until it is freed.
 *
 * Thread-safety: all functions may be called from any thread, concurrently on the
 * same future (except px_future_free, which must be the last call). Do not wait on
 * or cancel a future from inside a predicate callback.
 */
#ifndef PKTEXPECT_FUTURE_H
#define PKTEXPECT_FUTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/** Frees the future (cancelling it first if pending). NULL is a no-op. */
void px_future_free(px_future *f);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
