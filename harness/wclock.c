/* pktexpect: the window clock (see px__clock_map in ctx_internal.h). */
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

void px__clock_sample(px__clock_map *m, int64_t realtime_ns, int64_t mono_ns)
{
    int64_t off = realtime_ns - mono_ns;
    int64_t d = off - m->off;
    if (d > PX__CLOCK_STEP_NS || d < -PX__CLOCK_STEP_NS) {
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

