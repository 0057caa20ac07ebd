/* Example plugin: a predicate of your own, loaded by `pktexpect --plugin`.
 * docs/writing-predicates.md shows this file verbatim (a test checks that the
 * two agree); the tests build it and use it from YAML and the command line.
 *
 * saw_ethertype_in(lo, hi): PASS on the first frame whose ethertype (after the
 * VLAN tags) is in lo..hi, FAIL when the window closes without one.
 *
 *   cc -shared -fPIC -fvisibility=hidden -o libethertype_range.so ethertype_range.c \
 *      $(pkg-config --cflags --libs pktexpect)
 *   pktexpect check --plugin ./libethertype_range.so --pcap capture.pcap 'saw_ethertype_in(0x88b0, 0x88bf)'
 */
#include <stdio.h>
#include <stdlib.h>

#include <pktexpect/expr.h>
#include <pktexpect/frame.h>
#include <pktexpect/plugin.h>
#include <pktexpect/predicate.h>

/* 1. The interface version this plugin is built for (the loader checks it). */
PX_PLUGIN_DECLARE_ABI;

/* 2. The predicate: state, callbacks, ops (docs/writing-predicates.md). */
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
    return ((range_state *)state)->seen; /* a PASS cannot change any more */
}

static px_verdict range_on_finish(void *state, bool timed_out, px_result *out)
{
    (void)timed_out;
    range_state *st = state;
    px_result_explain(out, "%s frame with an ethertype in 0x%04x..0x%04x", st->seen ? "saw a" : "no", st->lo,
                      st->hi);
    return st->seen ? PX_PASS : PX_FAIL;
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

/* 3. Its name in the language: parameters (checked by the parser) and a
 *    factory that gets them checked. Static: they must live as long as the
 *    plugin is loaded. */
static const px_expr_param range_params[] = {
    {"lo", PX_EXPR_INT, PX_EXPR_REQUIRED, 0, 0xffff, "lowest ethertype"},
    {"hi", PX_EXPR_INT, PX_EXPR_REQUIRED, 0, 0xffff, "highest ethertype"},
};

static px_predicate *range_factory(px_expr_args *args, void *user, char *errbuf)
{
    (void)user;
    unsigned lo = (unsigned)px_expr_arg_int(args, "lo", 0), hi = (unsigned)px_expr_arg_int(args, "hi", 0);
    if (lo > hi) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "lo (0x%04x) is above hi (0x%04x)", lo, hi);
        return NULL;
    }
    range_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    st->lo = lo;
    st->hi = hi;
    px_predicate *p = px_predicate_new(&range_ops, st); /* frees st when it fails */
    if (!p)
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
    return p;
}

static const px_expr_def range_def = {
    .name = "saw_ethertype_in",
    .summary = "a frame whose ethertype is in lo..hi",
    .params = range_params,
    .nparams = 2,
    .factory = range_factory,
};

/* 4. The entry point: register the names (px_registry_add reports a bad
 *    definition; the loader refuses a name that is taken). */
int px_plugin_init(px_registry *reg, char *errbuf)
{
    return px_registry_add(reg, &range_def, errbuf);
}
