/* PTF's checks in pktexpect (docs/c-api.md, "Verify after send"): send first,
 * verify after, nothing else anywhere. Runs on a veth pair env->a <-> env->b. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pktexpect/pktexpect.h>
#include <pktexpect/cmocka.h>

#define PKT "Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01)/IPv4(src=10.0.0.1, dst=10.0.0.2, ttl=64)/UDP(sport=1234, dport=53)"

/* Each test looks back from its own start: frames of earlier tests are not its own. */
static int verify_setup(void **state)
{
    px_cmocka_env *env = *state;
    return px_verify_begin(env->ctx, (const char *[]){env->a, env->b}, 2, NULL);
}

/* send_packet(self, 0, pkt); verify_packet(self, pkt, 1); verify_no_other_packets(self) */
static void forwarded_and_nothing_else(void **state)
{
    px_cmocka_env *env = *state;
    assert_int_equal(px_send_text(env->ctx, env->a, PKT, NULL), 0);
    px_assert_pass(px_verify_packet(env->ctx, env->b, PKT, NULL));
    px_assert_pass(px_verify_no_other_packets(env->ctx, NULL));
}

/* A mask (PTF's Mask.set_do_not_care_scapy), and a failure that explains itself. */
static void masks_and_explanations(void **state)
{
    px_cmocka_env *env = *state;
    assert_int_equal(px_send_text(env->ctx, env->a, PKT, NULL), 0);

    /* A router decrements the TTL: the exact check FAILs and says why, with the
     * closest frame field by field ("ipv4.ttl: expected 63, got 64"). */
    const char *routed = "Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01)/IPv4(src=10.0.0.1, dst=10.0.0.2, ttl=63)/"
                         "UDP(sport=1234, dport=53)";
    px_verify_opts quick = {.timeout_ms = 200};
    px_future *f = px_verify_packet(env->ctx, env->b, routed, &quick);
    assert_int_equal(px_future_wait(f), PX_FAIL);
    print_message("%s\n", px_future_explanation(f));
    px_future_free(f);

    /* Masked, it PASSes, and tells the port and the frame that decided. */
    px_verify_opts masked = {.ignore = "ipv4.ttl, ipv4.chksum"};
    f = px_verify_packet(env->ctx, env->b, routed, &masked);
    assert_int_equal(px_future_wait(f), PX_PASS);
    assert_string_equal(px_future_port(f), env->b);
    px_future_free(f);
}

int main(void)
{
    px_cmocka_require_root("ptf_verify"); /* veth pairs need root */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(forwarded_and_nothing_else, verify_setup),
        cmocka_unit_test_setup(masks_and_explanations, verify_setup),
    };
    return cmocka_run_group_tests(tests, px_cmocka_veth_setup, px_cmocka_veth_teardown);
}
