/* pktexpect runner: the verification steps (verify, verify_no_packet,
 * no_other_packets) on the test's context, through pktexpect/verify.h. A test
 * with such steps takes its verification mark on every port it uses when it
 * starts, so a verify step after a send looks back at what came since. Their
 * futures are kept and waited like expect steps' (run_steps.c), and reported
 * in the words of the step (px__verify_head), not as expectations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/verify.h"
#include "run_internal.h"

static const char *verify_word(px_step_kind k)
{
    return k == PX_STEP_VERIFY ? "verify" : k == PX_STEP_VERIFY_NONE ? "verify_no_packet" : "no_other_packets";
}

static void join_ports(px_buf *out, char *const *ports, size_t n)
{
    for (size_t i = 0; i < n; i++)
        px_buf_printf(out, "%s%s", i ? ", " : "", ports[i]);
}

/* A timeout as a scenario writes it: "2s", "100ms". */
static void put_duration(px_buf *out, uint32_t ms)
{
    if (ms && ms % 1000 == 0)
        px_buf_printf(out, "%us", (unsigned)(ms / 1000));
    else
        px_buf_printf(out, "%ums", (unsigned)ms);
}

/* no_other_packets: the ports it checks (the test's, less `except`). */
static void no_other_words(px_buf *out, const px_step *st, const char *const *tports, size_t ntports)
{
    size_t shown = 0;
    px_buf_append(out, "on ");
    for (size_t i = 0; i < ntports; i++) {
        bool excepted = false;
        for (size_t j = 0; j < st->nnames && !excepted; j++)
            excepted = !strcmp(tports[i], st->names[j]);
        if (!excepted)
            px_buf_printf(out, "%s%s", shown++ ? ", " : "", tports[i]);
    }
    if (!shown)
        px_buf_append(out, "no port");
    if (st->nnames) {
        px_buf_append(out, " (except ");
        join_ports(out, st->names, st->nnames);
        px_buf_append(out, ")");
    }
}

/* verify, verify_no_packet: where, then the expected frame as the step gives it. */
static void verify_words(px_buf *out, const px_step *st, const char *port)
{
    if (port) {
        px_buf_append(out, port);
    } else {
        if (st->each || st->nports > 1)
            px_buf_append(out, st->each ? "each of " : "any of ");
        join_ports(out, st->ports, st->nports);
    }
    if (!st->frame)
        return; /* verify_no_packet without a frame: no frame at all */
    px_buf_printf(out, ": %s", st->frame);
    if (st->set)
        px_buf_printf(out, ", set=[%s]", st->set);
    if (st->ignore)
        px_buf_printf(out, ", ignore=[%s]", st->ignore);
    if (st->allow_padding)
        px_buf_append(out, ", allow_padding=true");
}

void px__verify_head(const px_step *st, const char *const *tports, size_t ntports, const char *port,
                     uint32_t timeout_ms, bool long_form, px_buf *out)
{
    px_buf_printf(out, "%s ", verify_word(st->kind));
    if (st->name) {
        px_buf_append(out, st->name);
        if (!long_form) {
            if (port)
                px_buf_printf(out, " on %s", port);
            return;
        }
        px_buf_append(out, " (");
    }
    if (st->kind == PX_STEP_NO_OTHER)
        no_other_words(out, st, tports, ntports);
    else
        verify_words(out, st, port);
    px_buf_append(out, " within ");
    put_duration(out, timeout_ms);
    if (st->name)
        px_buf_append(out, ")");
}

/* The window the step's check has: its own timeout or the context's default
 * (run.c), scaled by --timeout-scale as both are. */
static uint32_t verify_timeout(const px__test_run *T, const px_step *st)
{
    uint32_t def = st->kind == PX_STEP_VERIFY ? PX_DEFAULT_VERIFY_TIMEOUT_MS : PX_DEFAULT_VERIFY_NEGATIVE_MS;
    return px__run_scaled(T->R->o, st->timeout_ms ? st->timeout_ms : def);
}

void px__test_verify_head(const px__test_run *T, const px_step *st, const char *port, bool long_form, px_buf *out)
{
    const char *tports[PX_RUN_EXPECT_PORTS_MAX];
    size_t n = st->kind == PX_STEP_NO_OTHER ? px__test_ports(T->t, tports, PX_RUN_EXPECT_PORTS_MAX) : 0;
    px__verify_head(st, tports, n, port, verify_timeout(T, st), long_form, out);
}

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
        /* `except:` a port the test does not verify excepts nothing: the
         * library refuses ports outside its mark, so leave those out. */
        const char *tports[PX_RUN_EXPECT_PORTS_MAX];
        char *except[PX_RUN_EXPECT_PORTS_MAX];
        size_t nt = px__test_ports(T->t, tports, PX_RUN_EXPECT_PORTS_MAX), ne = 0;
        for (size_t j = 0; j < st->nnames && ne < PX_RUN_EXPECT_PORTS_MAX; j++)
            for (size_t i = 0; i < nt; i++)
                if (!strcmp(tports[i], st->names[j])) {
                    except[ne++] = st->names[j];
                    break;
                }
        size_t n = lib_ports(T, except, ne, pn, ports);
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
    if (o->verbose) {
        px_buf head = PX_BUF_INIT;
        px__test_verify_head(T, st, NULL, true, &head);
        px__run_say(o, "  %s\n", px_buf_cstr(&head));
        px_buf_free(&head);
    }
}
