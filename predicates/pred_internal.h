/* pktexpect: internals shared by the predicate library (not installed).
 *
 * Per-frame tests. Most built-in predicates are a test of one frame wrapped in a
 * stream behaviour ("saw": PASS on the first frame that passes the test;
 * "did_not_see": FAIL on the first one, PASS at the close). The test is kept
 * separate so that the counting predicates and no_other_packets() can ask
 * "does this frame satisfy p?" of any per-frame predicate, combinators of them
 * included (px__frame_test).
 */
#ifndef PX_PRED_INTERNAL_H
#define PX_PRED_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame_key.h"
#include "pktexpect/buf.h"
#include "pktexpect/predicate.h"
#include "pktexpect/predicates.h"

/** The predicate a constructor returns for an argument it refuses: its verdict
 *  is ERROR (at its first frame, or when its window closes) with the explanation
 *  "NAME: reason" (printf-style), which px_predicate_error() returns too. NULL
 *  only when out of memory. */
px_predicate *px__pred_refused(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** The first refused predicate of ps[0..n) (NULL entries skipped), or NULL: a
 *  combinator given one returns it as its own result (the others freed). */
px_predicate *px__pred_first_refused(px_predicate *const *ps, size_t n);

typedef struct px__ftest px__ftest;

/** What a per-frame test does. */
typedef struct px__ftest_vt {
    /** Returns the number of conditions the frame misses (0 = it matches). When
     *  `why` is not NULL, appends one "field: expected X, got Y" per miss,
     *  separated by "; ". A frame without the layer misses every condition + 1. */
    unsigned (*test)(const px__ftest *self, const px_frame *f, px_buf *why);
    /** Appends the arguments in the expression language ("src=10.0.0.0/8, ttl=63"). */
    void (*describe_args)(const px__ftest *self, px_buf *out);
    /** Releases what the test owns beyond the struct itself (may be NULL). */
    void (*cleanup)(px__ftest *self);
    /** The dispatch key (see px_key in predicate.h), or NULL / false for none.
     *  Exact: every frame the test passes carries it, so a frame without it can
     *  neither stop the stream behaviour nor change its verdict. Asked once, by
     *  px__ftest_wrap, after the arguments are set. */
    bool (*key)(const px__ftest *self, px_key *out);
} px__ftest_vt;

/** Common head of every per-frame predicate's state; the specific fields follow
 *  in a struct whose first member is this one. */
struct px__ftest {
    const px__ftest_vt *vt;
    const char *name;        /**< name in the language: "saw_ipv4", "did_not_see_ipv4" */
    uint64_t seen;           /**< frames offered */
    uint64_t hit_index;      /**< 1-based index of the first matching frame, 0 = none */
    px_buf hit_summary;      /**< summary of that frame */
    unsigned best_miss;      /**< fewest misses of a non-matching frame so far */
    uint64_t best_index;     /**< 1-based index of that closest frame, 0 = none */
    px_buf best_why;         /**< its differences */
    bool has_key;            /**< the test declares `key` (set by px__ftest_wrap) */
    px_key key;
    uint64_t seen_key;       /**< frames offered that carry `key` (== seen when the
                                  harness dispatches by key) */
};

/** Wraps `st` (allocated by the caller with malloc, head initialised by
 *  px__ftest_init) into a predicate: positive ("saw") or negative ops. */
px_predicate *px__ftest_wrap(px__ftest *st, bool negative);
void px__ftest_init(px__ftest *st, const px__ftest_vt *vt, const char *name);
/** calloc(size) + px__ftest_init; NULL without memory. The caller frees it with
 *  the predicate px__ftest_wrap makes of it. */
void *px__ftest_alloc(size_t size, const px__ftest_vt *vt, const char *name);
/** "; " between the misses of one explanation. */
void px__why_sep(px_buf *why);
/** A missing layer ("no IPv4 header"): counts as nconds + 1 misses. */
unsigned px__why_no_layer(px_buf *why, const char *what, unsigned nconds);

/* Dispatch keys (px__ftest_vt.key). Each is declared only where it is exact: the
 * test reads the very layer px_frame_key() reads for that kind, and cannot pass
 * on a frame whose key has another value or is missing. Layers of the outer
 * frame (encap 0) come first in a frame's layer list and are reached from the
 * outer Ethernet header without a tunnel, so "the first IPv4 layer at encap 0"
 * is the first IP layer of the frame, "the first UDP layer at encap 0" its first
 * UDP layer, and so on. Tests of other depths (encap > 0, inner VLAN tags),
 * masked MACs and "any value" arguments declare none. */

static inline bool px__key_set(px_key *out, px_key_kind kind, uint64_t value)
{
    out->kind = kind;
    out->value = value;
    return true;
}

/** True when `f` carries key `k` (px_frame_key), for the per-frame counts of
 *  frames with a predicate's key. Inline (frame_key.h): this runs for every
 *  frame offered. The ethertype, the key of every IP predicate, first, without
 *  the switch. */
static inline bool px__frame_has_key(const px_frame *f, px_key k)
{
    uint64_t v;
    if (k.kind == PX_KEY_ETHERTYPE)
        return f->first_of[PX_LAYER_ETH] && f->ethertype == k.value;
    return px__frame_key(f, k.kind, &v) && v == k.value;
}

/** Appends a key as words for explanations: "udp dport 53", "ethertype 0x0800",
 *  "vlan 102", "ip proto 17", "tcp dport 80", "dst mac ff:ff:ff:ff:ff:ff". */
void px__key_format(const px_key *k, px_buf *out);

/** True when `p` is a per-frame predicate built by px__ftest_wrap. */
bool px__ftest_is(const px_predicate *p);

/** 1 when frame `f` satisfies per-frame predicate `p`, 0 when it does not, -1 when
 *  p is not a per-frame predicate. Does not change p's stream state. */
int px__frame_test(const px_predicate *p, const px_frame *f);

/** saw_ethertype as a per-frame predicate (px_saw_ethertype is the core's own). */
px_predicate *px__saw_ethertype(uint16_t type);

/** One-line summary of a frame for explanations: the wire length, the port it
 *  arrived on when the frame has one, then px_frame_summary's line:
 *  "60 bytes on p2: 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype IPv4
 *  (0x0800), length 60: IP (ttl 64, id 1) 10.0.0.1.1000 > 10.0.0.2.53: UDP, length 18". */
void px__frame_summary(const px_frame *f, px_buf *out);
/* Appends a MAC address as px_format_mac writes it ("02:00:00:00:00:0a"). */
void px__mac_format(const uint8_t m[6], px_buf *out);

/** Appends `s` (n bytes) as a quoted expression-language string. */
void px__quote(px_buf *out, const char *s, size_t n);

/** Formats an address prefix ("10.0.0.0/8", "2001:db8::1"; /len omitted when full). */
void px__prefix_format(const px_ip_prefix *pfx, px_buf *out);

/** The built-in "count" factory (registry.c): the parser recognises it to
 *  accept comparisons "count(p) >= 2". */
struct px_expr_args;
px_predicate *px__count_factory(struct px_expr_args *args, void *user, char *errbuf);

/** Takes the inner predicate out of a count(p) made by px_count (NULL for count()). */
px_predicate *px__count_take_inner(px_predicate *count);

#endif
