/* pktexpect quickstart: inject a VLAN-tagged frame on one end of a veth pair;
 * within 500 ms the other end must see VLAN 102, and nothing comes back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <pktexpect/pktexpect.h>
#include <pktexpect/cmocka.h>
#include <pktexpect/text.h>

static void vlan_frame_crosses_the_pair(void **state)
{
    px_cmocka_env *env = *state; /* a context and a veth pair env->a <-> env->b */
    uint8_t *frame;
    size_t len;
    char err[PX_ERRBUF_SIZE];
    assert_int_equal(px_frame_parse_text("Ether(dst=ff:ff:ff:ff:ff:ff,src=02:00:00:00:00:01)"
                                         "/Dot1Q(vlan=102)/IPv4(src=10.0.0.1,dst=10.0.0.2)"
                                         "/UDP(dport=53)/Raw(\"hi\")",
                                         &frame, &len, err),
                     0);

    /* Arm first: when px_expect returns, the capture is active. No sleep needed. */
    px_expect_opts window = {.timeout_ms = 500};
    px_future *seen = px_expect(env->ctx, env->b, px_saw_vlan_tag(102, -1), &window);
    px_future *quiet = px_expect(env->ctx, env->a, px_timed_out(), &window);

    assert_int_equal(px_send(env->ctx, env->a, frame, len, err), 0);
    free(frame);

    px_assert_pass(seen);  /* passes as soon as the frame arrives; frees seen */
    px_assert_pass(quiet); /* passes when its 500 ms window closes empty */
}

int main(void)
{
    px_cmocka_require_root("quickstart"); /* veth pairs need root */
    /* Each test gets a fresh context and veth pair, removed after it. */
    const struct CMUnitTest tests[] = {cmocka_unit_test_setup_teardown(
        vlan_frame_crosses_the_pair, px_cmocka_veth_test_setup, px_cmocka_veth_test_teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
