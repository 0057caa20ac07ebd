/* pktexpect: a port's frame history (history.h). Two growing arrays, records
 * and bytes; the front is trimmed by moving the rest down once it is at least
 * half of the array, so each frame is moved at most once on average. */
#include <stdlib.h>
#include <string.h>

#include "history.h"

void px__hist_reset(px__history *h, uint64_t seq)
{
    h->n = 0;
    h->len = 0;
    h->base = seq;
}

void px__hist_free(px__history *h)
{
    free(h->rec);
    free(h->bytes);
    h->rec = NULL;
    h->bytes = NULL;
    h->n = h->cap = h->len = h->bcap = 0;
}

/* Drops records [0, k) and their bytes. */
static void drop_front(px__history *h, size_t k)
{
    if (k == 0)
        return;
    if (k >= h->n) {
        h->base += h->n;
        h->n = 0;
        h->len = 0;
        return;
    }
    size_t off = h->rec[k].off;
    memmove(h->bytes, h->bytes + off, h->len - off);
    h->len -= off;
    memmove(h->rec, h->rec + k, (h->n - k) * sizeof *h->rec);
    h->n -= k;
    h->base += k;
    for (size_t i = 0; i < h->n; i++)
        h->rec[i].off -= off;
}

void px__hist_trim(px__history *h, uint64_t seq)
{
    if (seq <= h->base)
        return;
    uint64_t k = seq - h->base;
    if (k >= h->n) {
        drop_front(h, h->n);
        h->base = seq;
        return;
    }
    /* Only once the dead front is half of what is kept: amortised O(1) per frame. */
    if (k * 2 >= h->n)
        drop_front(h, (size_t)k);
}

/* Grows *p to hold `need` elements, doubling, but never far past `most`
 * elements (0: no bound) so that a limited history does not reserve twice it. */
static bool grow(void **p, size_t *cap, size_t need, size_t elem, size_t most)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    if (most && c > most && need <= most)
        c = most;
    void *q = realloc(*p, c * elem);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

/* Bytes the history holds: the frames and their records. */
static size_t used(size_t n, size_t len)
{
    return len + n * sizeof(px__hist_rec);
}

bool px__hist_add(px__history *h, const uint8_t *data, const px__hist_rec *r, uint64_t keep_from)
{
    size_t more = r->caplen + sizeof *r;
    if (h->limit && used(h->n, h->len) + more > h->limit && h->n) {
        /* Over the limit: first what no mark needs any more (trimming is lazy),
         * then the oldest half; marks before it break (counted). */
        if (keep_from > h->base)
            drop_front(h, (size_t)(keep_from - h->base < h->n ? keep_from - h->base : h->n));
        if (used(h->n, h->len) + more > h->limit && h->n) {
            size_t k = h->n / 2 ? h->n / 2 : 1;
            while (k < h->n && used(h->n - k, h->len - h->rec[k].off) + more > h->limit)
                k++;
            h->evicted += k;
            drop_front(h, k);
        }
    }
    size_t most_rec = h->limit ? h->limit / sizeof *h->rec + 1 : 0;
    if (!grow((void **)&h->rec, &h->cap, h->n + 1, sizeof *h->rec, most_rec) ||
        !grow((void **)&h->bytes, &h->bcap, h->len + r->caplen + 1, 1, h->limit ? h->limit + 65536 : 0)) {
        h->evicted += h->n + 1;
        h->base += h->n + 1;
        h->n = 0;
        h->len = 0;
        return false;
    }
    px__hist_rec *d = &h->rec[h->n++];
    *d = *r;
    d->off = h->len;
    memcpy(h->bytes + h->len, data, r->caplen);
    h->len += r->caplen;
    return true;
}
