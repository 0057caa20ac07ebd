/* pktexpect: the predicate vtable (DESIGN section 4).
 *
 * A predicate watches the frames offered to one expectation and finally gives a
 * verdict. For every frame, in arrival order, the harness calls
 *     on_packet(state, frame)        -- update state
 *     stop_condition(state, frame)   -- true: finish now (after on_packet, never before)
 * and exactly once, after the last frame:
 *     on_finish(state, timed_out, result) -- the only place a verdict is decided.
 * A negative predicate ("did not see X") decides in on_finish when the window
 * closes (timed_out = true), never from stop_condition.
 *
 * The callbacks of one predicate never run on two threads at once (multi-port
 * expectations serialise them with the expectation's lock), so state needs no lock.
 *
 * Writing one: a static px_predicate_ops with designated initialisers plus a state
 * struct, wrapped with px_predicate_new(). See docs/writing-predicates.md.
 */
#ifndef PKTEXPECT_PREDICATE_H
#define PKTEXPECT_PREDICATE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/** Verdict of an expectation. PX_PENDING only for futures not yet resolved. */
typedef enum px_verdict { PX_PENDING = 0, PX_PASS, PX_FAIL, PX_ERROR } px_verdict;

/** "PASS", "FAIL", "ERROR", "PENDING". Static storage. */
const char *px_verdict_name(px_verdict v);

/** Where on_finish writes its value and explanation (owned by the harness). */
typedef struct px_result {
    int64_t value;       /**< meaningful when has_value */
    bool has_value;
    px_buf explanation;  /**< human text: why PASS / FAIL / ERROR */
} px_result;

/** Sets the result's value. */
void px_result_set_value(px_result *r, int64_t value);
/** Appends to the explanation (printf-style). */
void px_result_explain(px_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Flags of a predicate kind. */
enum {
    /** The verdict depends on the absence or the number of frames (negative and
     *  count predicates): capture drops in the window make it ERROR. */
    PX_PRED_LOSS_SENSITIVE = 1u << 0,
};

/** A dispatch key: a cheap property of a frame that a predicate needs before it
 *  can react to the frame at all. A port indexes its expectations by key, so a
 *  frame only visits the expectations whose key it carries (plus those without a
 *  key): hundreds of expectations cost little more per frame than one.
 *
 *  Contract of a predicate that declares a key: a frame that does not carry the
 *  key (px_frame_key() gives another value, or false) would not change its state
 *  and would not stop it, so skipping it changes nothing but the predicate's own
 *  frame numbering. The harness still counts such frames in px_counters.seen.
 *  Expectations with a BPF filter or a count limit are never indexed. */
typedef enum px_key_kind {
    PX_KEY_NONE = 0,
    PX_KEY_ETHERTYPE, /**< px_frame_ethertype(): after all VLAN tags of the outer frame */
    PX_KEY_VLAN_VID,  /**< VID of the outermost VLAN tag */
    PX_KEY_IP_PROTO,  /**< protocol of the outermost IPv4 header / next header of the outermost IPv6 */
    PX_KEY_UDP_DPORT, /**< destination port of the first UDP layer */
    PX_KEY_TCP_DPORT, /**< destination port of the first TCP layer */
    PX_KEY_DST_MAC,   /**< outer destination MAC, as a 48-bit big-endian integer */
    PX_KEY__COUNT
} px_key_kind;

typedef struct px_key {
    px_key_kind kind;
    uint64_t value;
} px_key;

/** The value of key `kind` in frame `f`: true and *value set when the frame has it.
 *  Thread-safety: any thread (reads the frame only). */
bool px_frame_key(const px_frame *f, px_key_kind kind, uint64_t *value);

typedef struct px_predicate_ops {
    const char *name;                                       /* "saw_vlan_tag" */
    void (*on_packet)(void *state, const px_frame *f);      /* update state   */
    bool (*stop_condition)(void *state, const px_frame *f); /* true: finish   */
    px_verdict (*on_finish)(void *state, bool timed_out, px_result *out);
    void (*describe)(const void *state, px_buf *out);       /* for messages   */
    void (*destroy)(void *state);
    unsigned flags;                                         /* PX_PRED_* */
    /** Optional: the dispatch key every frame it reacts to carries (see px_key);
     *  false or NULL: offer every frame. Called once, when armed. */
    bool (*key)(const void *state, px_key *out);
} px_predicate_ops;

/** An instance: ops plus state. Opaque. */
typedef struct px_predicate px_predicate;

/** Wraps `state` (owned from now on: ops->destroy frees it, also when this fails)
 *  into a predicate. `ops` must outlive the predicate (normally static) and have
 *  on_finish set. Returns NULL when out of memory or ops is invalid.
 *  Thread-safety: any thread. */
px_predicate *px_predicate_new(const px_predicate_ops *ops, void *state);

/** Frees a predicate that was never handed to px_expect (px_expect takes ownership). */
void px_predicate_free(px_predicate *p);

/** Why a predicate cannot work: the message of a built-in constructor that
 *  refused an argument ("saw_vlan_tag: vid must be 0..4095, got 5000"; such a
 *  predicate resolves its expectation ERROR with this message, see
 *  predicates.h), "out of memory ..." for NULL (what a constructor returns when
 *  memory runs out), NULL for a predicate that works. Owned by the predicate.
 *  Thread-safety: any thread (reads the predicate only). */
const char *px_predicate_error(const px_predicate *p);

/** The predicate's ops and state, borrowed: the state is owned by the predicate
 *  and valid until it is freed. */
const px_predicate_ops *px_predicate_get_ops(const px_predicate *p);
void *px_predicate_state(const px_predicate *p);

/* ---- Dispatch: how the harness drives a predicate. Combinators call these on
 * their children; unit tests call them to feed synthetic frames through the very
 * same path the capture thread uses. Not thread-safe for one predicate. */

/** on_packet then stop_condition; returns the stop decision. */
bool px_predicate_offer(px_predicate *p, const px_frame *f);
/** Calls on_finish; returns the verdict (PX_ERROR if on_finish returned PX_PENDING). */
px_verdict px_predicate_finish(px_predicate *p, bool timed_out, px_result *out);
/** The predicate's dispatch key (false when it declares none). */
bool px_predicate_key(const px_predicate *p, px_key *out);
/** Appends the description ("saw_vlan_tag(102)"; the ops name when describe is NULL). */
void px_predicate_describe(const px_predicate *p, px_buf *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
