/* The ring layouts the benchmarks compare (harness/source.h, px__ring_opts):
 * the parser of their names, and a context that takes one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "source.h"
#include "pktexpect/pktexpect.h"

static void test_parse_layouts(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    px__ring_opts o;
    assert_int_equal(px__ring_opts_parse("v2", &o, err), 0);
    assert_int_equal(o.version, 2);
    assert_int_equal(o.slot, 0);
    assert_int_equal(o.prefetch, PX__PREFETCH_HEADER);
    assert_int_equal(px__ring_opts_parse("v2:slot=256:prefetch=data", &o, err), 0);
    assert_int_equal(o.slot, 256);
    assert_int_equal(o.prefetch, PX__PREFETCH_DATA);
    assert_int_equal(px__ring_opts_parse("v2:slot=snaplen:prefetch=none", &o, err), 0);
    assert_int_equal(o.slot, PX__RING_SLOT_SNAPLEN);
    assert_int_equal(o.prefetch, PX__PREFETCH_NONE);
    assert_int_equal(px__ring_opts_parse("v3:tov=1:block=64", &o, err), 0);
    assert_int_equal(o.version, 3);
    assert_int_equal(o.block_tov_ms, 1);
    assert_int_equal(o.block_kib, 64);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    px__ring_opts o;
    static const char *const bad[] = {"", "v1", "v4", "v2:tov=1", "v3:slot=256", "v2:slot=64", "v2:slot=",
                                      "v3:block=48", "v3:tov=x", "v2:prefetch=all", "v2:what"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(px__ring_opts_parse(bad[i], &o, err), PX_EINVAL);
        assert_non_null(strstr(err, "ring layout"));
    }
}

static void test_ctx_takes_a_layout(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    px_ctx *ctx = px_ctx_new(NULL, err);
    assert_non_null(ctx);
    px__ring_opts o;
    assert_int_equal(px__ring_opts_parse("v3:tov=1", &o, err), 0);
    assert_int_equal(px__ctx_set_ring(ctx, &o), 0);
    assert_int_equal(px__ctx_set_ring(ctx, NULL), 0);
    assert_int_equal(px__ctx_set_ring(ctx, &o), 0);
    px_ctx_free(ctx); /* frees the copy (ASan) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_layouts),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_ctx_takes_a_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
