/* pktexpect: a port's frame history, kept while a mark is taken on the port
 * (pktexpect/mark.h): expectations armed with opts.since look back at it.
 * Internal to the core; every function runs on the port's capture thread,
 * which owns the history (no lock).
 *
 * Records are numbered by the port's frame sequence (every frame the capture
 * thread drained, noise included); the history holds a contiguous range
 * [base, base + n) of them. Its bytes are bounded (limit): when a frame would
 * exceed it, the oldest half is evicted and marks before `base` can no longer
 * be looked back from (an expectation that tries resolves ERROR; nothing is
 * lost silently).
 */
#ifndef PX_HISTORY_H
#define PX_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct px__hist_rec {
    size_t off;              /* into bytes */
    uint32_t caplen, wirelen;
    struct timespec ts;      /* the frame's own timestamp */
    int64_t t;               /* window clock */
    uint32_t epoch;          /* the port's clock epoch when it was read (live) */
    uint32_t flags;          /* px_frame flags (checksum not ready) */
    bool noise;
} px__hist_rec;

typedef struct px__history {
    px__hist_rec *rec;
    size_t n, cap;           /* records rec[0 .. n) are sequence numbers base .. base + n */
    uint64_t base;
    uint8_t *bytes;
    size_t len, bcap;
    size_t limit;            /* bytes; 0: unlimited */
    uint64_t evicted;        /* frames evicted for the limit since the history began */
} px__history;

/* Starts (or restarts) an empty history at sequence number `seq`. */
void px__hist_reset(px__history *h, uint64_t seq);
/* Appends frame number h->base + h->n; frames before `keep_from` (the oldest
 * mark) are dropped first when the limit is reached. The limit counts the
 * frames' bytes and their records. False when out of memory (then the history
 * is reset past the frame, as if evicted). */
bool px__hist_add(px__history *h, const uint8_t *data, const px__hist_rec *r, uint64_t keep_from);
/* Forgets the frames before sequence number `seq` (no mark needs them). */
void px__hist_trim(px__history *h, uint64_t seq);
/* Frees the memory; the history is empty afterwards. */
void px__hist_free(px__history *h);

static inline const uint8_t *px__hist_data(const px__history *h, const px__hist_rec *r)
{
    return h->bytes + r->off;
}

#endif
