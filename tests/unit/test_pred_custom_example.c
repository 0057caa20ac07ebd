/* Example: a predicate of your own, usable from C and from the expression
 * language. docs/writing-predicates.md shows this file verbatim (a test checks
 * that the two agree), and it runs as a unit test.
 *
 * ttl_at_least(min): every IPv4 frame of the window has a TTL of at least `min`.
 * It FAILs on the first frame below (and stops there), PASSes when the window
 * closes, and its value is the lowest TTL seen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pktexpect/expr.h>
#include <pktexpect/predicate.h>
#include <pktexpect/text.h>

/* 1. The state: everything the predicate remembers between frames. */
typedef struct ttl_state {
    unsigned min;      /* argument */
    unsigned lowest;   /* lowest TTL seen, 256 while none */
    uint64_t frames;   /* IPv4 frames seen */
    bool failed;
} ttl_state;

/* 2. The callbacks. on_packet updates the state; stop_condition reads it (it runs
 *    after on_packet for the same frame); on_finish decides, exactly once. */
static void ttl_on_packet(void *state, const px_frame *f)
{
    ttl_state *st = state;
    px_ipv4_hdr ip;
    if (!px_layer_ipv4(f, NULL, &ip)) /* bounds-checked accessor: no IPv4, no read */
        return;
    st->frames++;
    if (ip.ttl < st->lowest)
        st->lowest = ip.ttl;
    if (ip.ttl < st->min)
        st->failed = true;
}

static bool ttl_stop(void *state, const px_frame *f)
{
    (void)f;
    const ttl_state *st = state;
    return st->failed; /* a FAIL cannot change any more: stop early */
}

static px_verdict ttl_on_finish(void *state, bool timed_out, px_result *out)
{
    (void)timed_out;
    ttl_state *st = state;
    if (st->frames)
        px_result_set_value(out, st->lowest);
    if (st->failed) {
        px_result_explain(out, "expected every IPv4 TTL >= %u, got %u", st->min, st->lowest);
        return PX_FAIL;
    }
    px_result_explain(out, "%llu IPv4 frames, lowest TTL %u", (unsigned long long)st->frames,
                      st->frames ? st->lowest : 0);
    return PX_PASS;
}

/* The description is in the expression language, so messages can be pasted back. */
static void ttl_describe(const void *state, px_buf *out)
{
    const ttl_state *st = state;
    px_buf_printf(out, "ttl_at_least(%u)", st->min);
}

/* 3. The ops: static, designated initialisers. It PASSes on an absence (no low
 *    TTL), so capture drops in its window must make it ERROR: loss-sensitive. */
static const px_predicate_ops ttl_ops = {
    .name = "ttl_at_least",
    .on_packet = ttl_on_packet,
    .stop_condition = ttl_stop,
    .on_finish = ttl_on_finish,
    .describe = ttl_describe,
    .destroy = free,
    .flags = PX_PRED_LOSS_SENSITIVE,
};

/* 4. The C constructor. px_predicate_new takes the state (frees it on failure). */
static px_predicate *ttl_at_least(unsigned min)
{
    ttl_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->min = min;
    st->lowest = 256;
    return px_predicate_new(&ttl_ops, st);
}

/* 5. The name in the language: parameters (checked by the parser, with ranges)
 *    and a factory that receives them already checked. */
static const px_expr_param ttl_params[] = {
    {"min", PX_EXPR_INT, PX_EXPR_REQUIRED, 0, 255, "lowest TTL allowed"},
};

static px_predicate *ttl_factory(px_expr_args *args, void *user, char *errbuf)
{
    (void)user;
    px_predicate *p = ttl_at_least((unsigned)px_expr_arg_int(args, "min", 0));
    if (!p)
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
    return p;
}

static const px_expr_def ttl_def = {
    .name = "ttl_at_least",
    .summary = "every IPv4 frame has a TTL of at least min",
    .params = ttl_params,
    .nparams = 1,
    .factory = ttl_factory,
};

/* ---- the tests: frames go through the same dispatch the capture thread uses ---- */

static px_verdict feed(px_predicate *p, const char *const *frames, size_t n, int64_t *value)
{
    bool stopped = false;
    for (size_t i = 0; i < n && !stopped; i++) {
        uint8_t *bytes;
        size_t len;
        char err[PX_ERRBUF_SIZE];
        assert_int_equal(px_frame_parse_text(frames[i], &bytes, &len, err), 0);
        px_frame f;
        px_frame_dissect(&f, bytes, (uint32_t)len, (uint32_t)len);
        stopped = px_predicate_offer(p, &f);
        free(bytes);
    }
    px_result res = {0};
    px_verdict v = px_predicate_finish(p, !stopped, &res);
    *value = res.has_value ? res.value : -1;
    px_buf_free(&res.explanation);
    px_predicate_free(p);
    return v;
}

static const char *const FRAMES[] = {
    "Ether()/IPv4(ttl=64)/UDP(dport=53)",
    "Ether()/IPv6()/UDP()",
    "Ether()/IPv4(ttl=3)/UDP(dport=53)",
};

static void test_from_c(void **state)
{
    (void)state;
    int64_t lowest;
    assert_int_equal(feed(ttl_at_least(3), FRAMES, 3, &lowest), PX_PASS);
    assert_int_equal(lowest, 3);
    assert_int_equal(feed(ttl_at_least(4), FRAMES, 3, &lowest), PX_FAIL);
}

static void test_from_the_language(void **state)
{
    (void)state;
    px_registry *reg = px_registry_new(); /* the built-ins ... */
    char errbuf[PX_ERRBUF_SIZE];
    assert_int_equal(px_registry_add(reg, &ttl_def, errbuf), 0); /* ... and ours */

    px_predicate *p = NULL;
    px_expr_error err;
    assert_int_equal(px_expr_parse(reg, "all_of(ttl_at_least(2), saw_udp(dport=53))", &p, &err), 0);
    int64_t value;
    assert_int_equal(feed(p, FRAMES, 3, &value), PX_PASS);

    /* arguments are checked before any frame arrives */
    assert_int_equal(px_expr_parse(reg, "ttl_at_least(300)", &p, &err), PX_ERANGE);
    assert_non_null(strstr(err.message, "must be 0..255"));
    px_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_c),
        cmocka_unit_test(test_from_the_language),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
