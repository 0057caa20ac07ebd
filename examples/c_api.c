/* pktexpect one-liners (docs/c-api.md): arm an expectation written in the
 * expression language, send a frame written in the text form, and see how an
 * error in either is reported. Runs on a veth pair env->a <-> env->b. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <pktexpect/pktexpect.h>
#include <pktexpect/cmocka.h>

static void udp_crosses_with_good_checksums(void **state)
{
    px_cmocka_env *env = *state;
    char err[PX_ERRBUF_SIZE];

    /* Only the DNS frames of this test, within 500 ms. */
    px_expect_opts o = {.timeout_ms = 500, .filter = "udp port 53"};
    px_future *f = px_expect_expr(env->ctx, env->b, "all_of(saw_ipv4(ttl=64), checksums_ok())", &o, err);

    /* No Ether src: the frame leaves with env->a's MAC address. */
    const char *frame = "Ether(dst=ff:ff:ff:ff:ff:ff)/IPv4(dst=10.0.0.2)/UDP(dport=53)";
    assert_int_equal(px_send_text(env->ctx, env->a, frame, err), 0);
    px_assert_pass(f); /* waits, and frees f whatever the verdict */
}

static void errors_are_not_lost(void **state)
{
    px_cmocka_env *env = *state;
    char err[PX_ERRBUF_SIZE];

    /* A refused argument: the column and the reason in err, and a future already ERROR. */
    px_future *f = px_expect_expr(env->ctx, env->b, "saw_vlan_tag(5000)", NULL, err);
    assert_string_equal(err, "col 14: argument 'vid' of saw_vlan_tag must be 0..4095, got 5000");
    assert_int_equal(px_future_verdict(f), PX_ERROR);
    px_future_free(f);

    /* A frame that does not parse is not sent. */
    assert_int_equal(px_send_text(env->ctx, env->a, "Ether()/IPv4(ttl=300)", err), PX_ERANGE);
    assert_string_equal(err, "col 18: ttl=300 out of range 0..255");
}

int main(void)
{
    px_cmocka_require_root("c_api"); /* veth pairs need root */
    /* One context and veth pair for the group: each test leaves nothing armed.
     * px_cmocka_veth_test_setup / _teardown would give each test its own. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(udp_crosses_with_good_checksums),
        cmocka_unit_test(errors_are_not_lost),
    };
    return cmocka_run_group_tests(tests, px_cmocka_veth_group_setup, px_cmocka_veth_group_teardown);
}
