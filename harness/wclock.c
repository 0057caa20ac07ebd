/* pktexpect: the window clock (see px__clock_map in ctx_internal.h). */
#include <stdint.h>

#include "ctx_internal.h"


int64_t px__ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

int64_t px__mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return px__ts_ns(&t);
}

int64_t px__clock_pair(int64_t *realtime_ns, int64_t *uncertainty_ns)
{
    int64_t best_gap = INT64_MAX, best_mono = 0, best_rt = 0;
    for (int i = 0; i < PX__CLOCK_PAIR_TRIES; i++) {
        struct timespec a, r, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_REALTIME, &r);
        clock_gettime(CLOCK_MONOTONIC, &b);
        int64_t gap = px__ts_ns(&b) - px__ts_ns(&a);
        if (gap < best_gap) {
            best_gap = gap;
            best_mono = px__ts_ns(&a) + gap / 2;
            best_rt = px__ts_ns(&r);
        }
        if (gap <= PX__CLOCK_PAIR_NS)
            break;
    }
    *realtime_ns = best_rt;
    *uncertainty_ns = best_gap;
    return best_mono;
}

void px__clock_sample(px__clock_map *m, int64_t realtime_ns, int64_t mono_ns, int64_t uncertainty_ns)
{
    if (uncertainty_ns > PX__CLOCK_STEP_NS && m->epoch != 0)
        return; /* read too far apart to tell a step from the delay: keep the offset */
    int64_t off = realtime_ns - mono_ns;
    int64_t d = off - m->off, step = PX__CLOCK_STEP_NS + uncertainty_ns;
    if (d > step || d < -step) {
        m->off_prev = m->off; /* a step: frames stamped before it keep the old offset */
        m->epoch++;
    }
    else if (m->off_prev == m->off)
        m->off_prev = off;
    m->off = off;
}

int64_t px__clock_map_frame(px__clock_map *m, int64_t rt, int64_t now, int64_t floor)
{
    int64_t t = rt - m->off;
    if ((t > now || t < floor) && m->off_prev != m->off) {
        int64_t t2 = rt - m->off_prev;
        if (t2 <= now && t2 >= floor)
            t = t2;
    }
    if (t > now)
        t = now;
    if (t < m->last)
        t = m->last;
    m->last = t;
    return t;
}

