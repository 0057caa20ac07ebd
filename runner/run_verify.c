/* pktexpect runner: the verification steps (verify, verify_no_packet,
 * no_other_packets) on the test's context, through pktexpect/verify.h. A test
 * with such steps takes its verification mark on every port it uses when it
 * starts, so a verify step after a send looks back at what came since. Their
 * futures are kept and reported like expect steps' (run_steps.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/verify.h"
#include "run_internal.h"

bool px__test_verifies(const px_scn_test *t)
{
    for (size_t i = 0; i < t->nsteps; i++) {
        px_step_kind k = t->steps[i].kind;
        if (k == PX_STEP_VERIFY || k == PX_STEP_VERIFY_NONE || k == PX_STEP_NO_OTHER)
            return true;
    }
    return false;
}

/* The library names of scenario ports (at most PX_RUN_EXPECT_PORTS_MAX). */
static size_t lib_ports(px__test_run *T, char *const *scn, size_t n, port_name *pn, const char **out)
{
    size_t k = 0;
    for (size_t j = 0; j < n && k < PX_RUN_EXPECT_PORTS_MAX; j++, k++)
        out[k] = px__test_lib_port(T, scn[j], &pn[k]);
    return k;
}

int px__test_verify_begin(px__test_run *T, const char *const *ports, size_t np)
{
    port_name *pn = calloc(np ? np : 1, sizeof *pn);
    const char **lp = calloc(np ? np : 1, sizeof *lp);
    int rc = PX_ENOMEM;
    char eb[PX_ERRBUF_SIZE] = "out of memory";
    if (pn && lp) {
        for (size_t i = 0; i < np; i++)
            lp[i] = px__test_lib_port(T, ports[i], &pn[i]);
        rc = np ? px_verify_begin(T->ctx, lp, np, eb) : 0;
    }
    if (rc)
        px__test_problem(T, PX_T_ERROR, "taking the verification mark on the test's ports: %s", eb);
    free(pn);
    free(lp);
    return rc;
}

void px__test_verify_step(px__test_run *T, const px_step *st)
{
    const px_run_opts *o = T->R->o;
    bool negative = st->kind != PX_STEP_VERIFY;
    px_verify_opts vo = {
        .timeout_ms = st->timeout_ms ? px__run_scaled(o, st->timeout_ms) : 0, /* 0: the context's (scaled) */
        .set = st->set,
        .ignore = st->ignore,
        .allow_padding = st->allow_padding,
        .name = st->name,
    };
    port_name pn[PX_RUN_EXPECT_PORTS_MAX];
    const char *ports[PX_RUN_EXPECT_PORTS_MAX];
    if (st->kind == PX_STEP_NO_OTHER) {
        size_t n = lib_ports(T, st->names, st->nnames, pn, ports);
        (void)px__test_keep_armed(T, st, px_verify_no_other_packets_except(T->ctx, n ? ports : NULL, n, &vo), 1,
                                  NULL);
    } else if (st->each) {
        /* One future per port, reported per port as an expect step's `each:`. */
        size_t first = T->narm;
        for (size_t j = 0; j < st->nports && j < PX_RUN_EXPECT_PORTS_MAX; j++) {
            const char *p = px__test_lib_port(T, st->ports[j], &pn[0]);
            px_future *f = negative ? px_verify_no_packet(T->ctx, p, st->frame, &vo)
                                    : px_verify_packet(T->ctx, p, st->frame, &vo);
            if (!px__test_keep_armed(T, st, f, 0, st->ports[j]))
                break;
        }
        if (T->narm > first)
            T->arm[first].members = T->narm - first;
    } else {
        size_t n = lib_ports(T, st->ports, st->nports, pn, ports);
        px_future *f = negative ? px_verify_no_packet_any(T->ctx, ports, n, st->frame, &vo)
                                : px_verify_packet_any(T->ctx, ports, n, st->frame, &vo);
        (void)px__test_keep_armed(T, st, f, 1, NULL);
    }
    if (o->verbose)
        px__run_say(o, "  %s%s%s\n", st->predicate, st->nports ? " on " : "", st->nports ? st->ports[0] : "");
}
