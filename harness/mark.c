/* pktexpect: marks (pktexpect/mark.h). A mark is one px__pmark per port, each
 * taken and released with a handshake with the port's capture thread (port.c,
 * port_loop.c), which keeps the port's history while marks are taken. */
#include <stdio.h>
#include <stdlib.h>

#include "ctx_internal.h"
#include "pktexpect/mark.h"

static void pmark_free(px__pmark *pm)
{
    if (!pm)
        return;
    px__port_release_mark(pm->port, pm);
    px__port_unref(pm->port);
    free(pm);
}

void px_mark_free(px_mark *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        pmark_free(m->pm[i]);
    free(m);
}

size_t px_mark_nports(const px_mark *m)
{
    return m ? m->n : 0;
}

px_mark *px_mark_take(px_ctx *ctx, const char *const *ports, size_t nports, char *errbuf)
{
    int rc;
    return px__mark_take(ctx, ports, nports, &rc, errbuf);
}

px_mark *px__mark_take(px_ctx *ctx, const char *const *ports, size_t nports, int *rcp, char *errbuf)
{
    char err[PX_ERRBUF_SIZE] = "";
    if (!errbuf)
        errbuf = err;
    *rcp = PX_EINVAL;
    if (!ctx || !ports || nports == 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "a mark needs a context and at least one port");
        return NULL;
    }
    *rcp = PX_ENOMEM;
    px_mark *m = calloc(1, sizeof *m + nports * sizeof m->pm[0]);
    if (!m) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory taking a mark");
        return NULL;
    }
    m->ctx = ctx;
    /* Acquire every port first (new ones open in parallel), then take. */
    int rc = 0;
    for (size_t i = 0; i < nports && rc == 0; i++) {
        if (!ports[i] || !*ports[i]) {
            snprintf(errbuf, PX_ERRBUF_SIZE, "port name is NULL or empty");
            rc = PX_EINVAL;
            break;
        }
        px_port *p = NULL;
        px__port_spec spec = {.name = ports[i]};
        rc = px__port_acquire(ctx, &spec, &p, errbuf);
        if (rc != 0)
            break;
        bool dup = false;
        for (size_t j = 0; j < m->n; j++)
            dup |= m->pm[j]->port == p;
        px__pmark *pm = dup ? NULL : calloc(1, sizeof *pm);
        if (!pm) {
            px__port_unref(p);
            if (dup)
                continue;
            snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory taking a mark");
            rc = PX_ENOMEM;
            break;
        }
        pm->port = p;
        m->pm[m->n++] = pm;
    }
    for (size_t i = 0; i < m->n && rc == 0; i++) {
        rc = px__port_wait_open(m->pm[i]->port, errbuf);
        if (rc == 0)
            rc = px__port_take_mark(m->pm[i]->port, m->pm[i], errbuf);
    }
    *rcp = rc;
    if (rc != 0) {
        px_mark_free(m);
        return NULL;
    }
    return m;
}

const px__pmark *px__mark_on(const px_mark *m, const px_port *p)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (m->pm[i]->port == p)
            return m->pm[i];
    return NULL;
}
