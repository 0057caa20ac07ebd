/* The predicate plugin of the tests (pktexpect/plugin.h), built by CMake as
 * several MODULE libraries from this one file:
 *
 *   px_test_plugin          registers saw_ethertype_in(lo, hi)
 *   px_test_plugin_fail     its px_plugin_init fails, with a message
 *   px_test_plugin_clash    registers saw_udp, a built-in's name
 *   px_test_plugin_noinit   has no px_plugin_init
 *   px_test_plugin_abi      declares another plugin ABI
 *
 * saw_ethertype_in(lo, hi): PASS on the first frame whose ethertype (after
 * the VLAN tags) is in lo..hi, FAIL when the window closes without one. */
#include <stdio.h>
#include <stdlib.h>

#include <pktexpect/expr.h>
#include <pktexpect/frame.h>
#include <pktexpect/plugin.h>
#include <pktexpect/predicate.h>

#ifdef PX_TEST_PLUGIN_ABI
const unsigned px_plugin_abi = PX_PLUGIN_ABI + 1000;
#else
PX_PLUGIN_DECLARE_ABI;
#endif

typedef struct range_state {
    unsigned lo, hi;
    bool seen;
} range_state;

static void range_on_packet(void *state, const px_frame *f)
{
    range_state *st = state;
    uint16_t type;
    if (px_frame_ethertype(f, &type) && type >= st->lo && type <= st->hi)
        st->seen = true;
}

static bool range_stop(void *state, const px_frame *f)
{
    (void)f;
    return ((range_state *)state)->seen;
}

static px_verdict range_on_finish(void *state, bool timed_out, px_result *out)
{
    (void)timed_out;
    range_state *st = state;
    if (st->seen) {
        px_result_explain(out, "saw a frame with an ethertype in 0x%04x..0x%04x", st->lo, st->hi);
        return PX_PASS;
    }
    px_result_explain(out, "no frame with an ethertype in 0x%04x..0x%04x", st->lo, st->hi);
    return PX_FAIL;
}

static void range_describe(const void *state, px_buf *out)
{
    const range_state *st = state;
    px_buf_printf(out, "saw_ethertype_in(0x%04x, 0x%04x)", st->lo, st->hi);
}

static const px_predicate_ops range_ops = {
    .name = "saw_ethertype_in",
    .on_packet = range_on_packet,
    .stop_condition = range_stop,
    .on_finish = range_on_finish,
    .describe = range_describe,
    .destroy = free,
};

static px_predicate *range_factory(px_expr_args *args, void *user, char *errbuf)
{
    (void)user;
    range_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    st->lo = (unsigned)px_expr_arg_int(args, "lo", 0);
    st->hi = (unsigned)px_expr_arg_int(args, "hi", 0);
    if (st->lo > st->hi) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "lo (0x%04x) is above hi (0x%04x)", st->lo, st->hi);
        free(st);
        return NULL;
    }
    px_predicate *p = px_predicate_new(&range_ops, st);
    if (!p)
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
    return p;
}

static const px_expr_param range_params[] = {
    {"lo", PX_EXPR_INT, PX_EXPR_REQUIRED, 0, 0xffff, "lowest ethertype"},
    {"hi", PX_EXPR_INT, PX_EXPR_REQUIRED, 0, 0xffff, "highest ethertype"},
};

static const px_expr_def range_def = {
#ifdef PX_TEST_PLUGIN_CLASH
    .name = "saw_udp",
#else
    .name = "saw_ethertype_in",
#endif
    .summary = "a frame whose ethertype is in lo..hi",
    .params = range_params,
    .nparams = 2,
    .factory = range_factory,
};

#ifdef PX_TEST_PLUGIN_NOINIT
/* Something else of the plugin's, so that the definition is used. */
const px_expr_def *px_test_plugin_def(void);
const px_expr_def *px_test_plugin_def(void) { return &range_def; }
#else
int px_plugin_init(px_registry *reg, char *errbuf)
{
#ifdef PX_TEST_PLUGIN_FAIL
    (void)reg;
    (void)range_def;
    snprintf(errbuf, PX_ERRBUF_SIZE, "the test plugin refuses to load");
    return PX_EINVAL;
#else
    return px_registry_add(reg, &range_def, errbuf);
#endif
}
#endif
