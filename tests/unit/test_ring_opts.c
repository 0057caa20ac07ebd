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
    assert_int_equal(o.mib, 0);
    assert_int_equal(px__ring_opts_parse("v2:mib=8", &o, err), 0);
    assert_int_equal(o.mib, 8);
    assert_int_equal(px__ring_opts_parse("v3:tov=1:mib=2", &o, err), 0);
    assert_int_equal(o.mib, 2);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    px__ring_opts o;
    static const char *const bad[] = {"", "v1", "v4", "v2:tov=1", "v3:slot=256", "v2:slot=64", "v2:slot=",
                                      "v3:block=48", "v3:tov=x", "v2:prefetch=all", "v2:what",
                                      "v2:mib=0", "v2:mib=4097", "v3:mib="};
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

/* PX_CAPTURE_THROUGHPUT (context.h): the block layout, whose windows close
 * later (the settle margin covers twice the block timeout, rounded up to the
 * kernel's tick), and the options it refuses. */
static void test_capture_modes(void **state)
{
    (void)state;
    assert_int_equal(px__ring_settle_ns(NULL), PX__SETTLE_NS);
    px__ring_opts v2 = {.version = 2};
    assert_int_equal(px__ring_settle_ns(&v2), PX__SETTLE_NS);
    px__ring_opts v3 = {.version = 3, .block_tov_ms = 500};
    assert_true(px__ring_settle_ns(&v3) >= PX__SETTLE_NS + 2 * 500 * 1000000LL);
    v3.block_tov_ms = 0; /* the kernel's choice: 8 ms at most */
    assert_true(px__ring_settle_ns(&v3) >= PX__SETTLE_NS + 2 * 8 * 1000000LL);

    char err[PX_ERRBUF_SIZE] = "";
    px_ctx_opts o = {.capture = (px_capture_mode)7};
    assert_null(px_ctx_new(&o, err));
    assert_non_null(strstr(err, "unknown capture mode 7"));
    o = (px_ctx_opts){.capture = PX_CAPTURE_THROUGHPUT, .block_timeout_ms = PX_MAX_BLOCK_TIMEOUT_MS + 1};
    assert_null(px_ctx_new(&o, err));
    assert_non_null(strstr(err, "block timeout"));
    o.block_timeout_ms = 0;
    px_ctx *ctx = px_ctx_new(&o, err);
    assert_non_null(ctx);
    px_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_layouts),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_ctx_takes_a_layout),
        cmocka_unit_test(test_capture_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
