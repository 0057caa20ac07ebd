/* The veth fixtures of pktexpect/cmocka.h, as a suite uses them. Root only.
 *
 *   per test: each test gets its own context and a new pair; what a test
 *   left armed is resolved ERROR ("context closed") by its teardown, before
 *   the next test starts                                     per_test group
 *   per group: every test of the group shares one context and one pair
 *                                                            per_group group
 *   both in one suite: a per-test env beside the group's, names apart,
 *   the group's left as it was                               mixed group
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "pktexpect/pktexpect.h"
#include "px_test.h"

/* What the first test of a group saw, for the second. */
static struct {
    px_ctx *ctx;
    unsigned ifindex;
    char a[16];
    px_future *left_armed;
} first;

/* ---- per test ---- */

static void per_test_first(void **state)
{
    px_cmocka_env *env = *state;
    assert_true(px_topo_link_exists(NULL, env->a));
    assert_true(px_topo_link_exists(NULL, env->b));
    first.ctx = env->ctx;
    first.ifindex = if_nametoindex(env->a);
    snprintf(first.a, sizeof first.a, "%s", env->a);
    /* Left armed on purpose, with a window longer than the whole suite. */
    first.left_armed = px_expect(env->ctx, env->b, px_received_packet(), &(px_expect_opts){.timeout_ms = 600000});
    assert_non_null(first.left_armed);
    assert_int_equal(px_future_verdict(first.left_armed), PX_PENDING);
}

static void per_test_second(void **state)
{
    px_cmocka_env *env = *state;
    /* The first test's teardown closed its context: what it left armed is
     * over, and says why. */
    assert_int_equal(px_future_wait_for(first.left_armed, 10000), PX_ERROR); /* not its 600 s window */
    assert_non_null(strstr(px_future_explanation(first.left_armed), "context closed"));
    px_future_free(first.left_armed);
    first.left_armed = NULL;
    /* A new pair (same name, new interface) and a context that works. */
    assert_string_equal(env->a, first.a);
    assert_int_not_equal(if_nametoindex(env->a), first.ifindex);
    px_future *f = px_expect_expr(env->ctx, env->b, "saw_ethertype(0x88b5)", &(px_expect_opts){.timeout_ms = 5000},
                                  NULL);
    char err[PX_ERRBUF_SIZE];
    assert_int_equal(px_send_text(env->ctx, env->a, "Ether(dst=ff:ff:ff:ff:ff:ff, type=0x88b5)/Raw(\"x\")", err), 0);
    px_assert_pass(f);
}

/* ---- per group ---- */

static void per_group_first(void **state)
{
    px_cmocka_env *env = *state;
    first.ctx = env->ctx;
    first.ifindex = if_nametoindex(env->a);
    assert_int_not_equal(first.ifindex, 0);
}

static void per_group_second(void **state)
{
    px_cmocka_env *env = *state;
    assert_ptr_equal(env->ctx, first.ctx);
    assert_int_equal(if_nametoindex(env->a), first.ifindex);
}

/* ---- both ---- */

static px_cmocka_env *group_env;

static int mixed_group_setup(void **state)
{
    int rc = px_cmocka_veth_group_setup(state);
    group_env = *state;
    return rc;
}

static void mixed_test(void **state)
{
    px_cmocka_env *env = *state;
    assert_ptr_not_equal(env, group_env);
    assert_ptr_not_equal(env->ctx, group_env->ctx);
    assert_string_not_equal(env->a, group_env->a);
    assert_true(px_topo_link_exists(NULL, env->a));
    assert_true(px_topo_link_exists(NULL, group_env->a));
    snprintf(first.a, sizeof first.a, "%s", env->a);
}

static void mixed_after(void **state)
{
    px_cmocka_env *env = *state;
    assert_ptr_equal(env, group_env); /* the group's state again */
    assert_false(px_topo_link_exists(NULL, first.a)); /* the test's pair is gone */
    assert_true(px_topo_link_exists(NULL, env->a));
}

static int mixed_group_teardown(void **state)
{
    int rc = px_cmocka_veth_group_teardown(state);
    return rc != 0 || px_topo_link_exists(NULL, first.a) ? -1 : 0;
}

int main(void)
{
    px_test_require_root("test_cmocka_fixtures");
    const struct CMUnitTest per_test[] = {
        cmocka_unit_test_setup_teardown(per_test_first, px_cmocka_veth_test_setup, px_cmocka_veth_test_teardown),
        cmocka_unit_test_setup_teardown(per_test_second, px_cmocka_veth_test_setup, px_cmocka_veth_test_teardown),
    };
    const struct CMUnitTest per_group[] = {
        cmocka_unit_test(per_group_first),
        cmocka_unit_test(per_group_second),
    };
    const struct CMUnitTest mixed[] = {
        cmocka_unit_test_setup_teardown(mixed_test, px_cmocka_veth_test_setup, px_cmocka_veth_test_teardown),
        cmocka_unit_test(mixed_after),
    };
    int failed = cmocka_run_group_tests_name("per_test", per_test, NULL, NULL);
    failed += cmocka_run_group_tests_name("per_group", per_group, px_cmocka_veth_group_setup,
                                          px_cmocka_veth_group_teardown);
    failed += cmocka_run_group_tests_name("mixed", mixed, mixed_group_setup, mixed_group_teardown);
    return failed ? 1 : 0;
}
