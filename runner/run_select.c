/* pktexpect runner: which tests a run selects (filters, shards; run.h). */
#include <fnmatch.h>

#include "run.h"

static bool selected_by_filter(const px_run_opts *o, const px_scenario *s, const px_scn_test *t)
{
    if (!o->nfilters)
        return true;
    px_buf full = PX_BUF_INIT;
    px_buf_printf(&full, "%s/%s", s->name, t->name);
    bool m = false;
    for (size_t i = 0; i < o->nfilters && !m; i++)
        m = fnmatch(o->filters[i], px_buf_cstr(&full), 0) == 0 || fnmatch(o->filters[i], t->name, 0) == 0;
    px_buf_free(&full);
    return m;
}

size_t px_run_select(px_scenario *const *scns, size_t nscn, const px_run_opts *o, size_t (*idx)[2], size_t cap)
{
    size_t k = 0, n = 0;
    for (size_t i = 0; i < nscn; i++) {
        for (size_t j = 0; j < scns[i]->ntests; j++) {
            if (!selected_by_filter(o, scns[i], &scns[i]->tests[j]))
                continue;
            size_t g = k++;
            if (o->shard_n && g % o->shard_n != o->shard_k - 1)
                continue;
            if (idx && n < cap) {
                idx[n][0] = i;
                idx[n][1] = j;
            }
            n++;
        }
    }
    return n;
}
