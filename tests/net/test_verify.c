/* The verification layer on a veth pair (pktexpect/verify.h): PTF's order,
 * send first and verify after, with no queue to overflow. Needs root. The same
 * semantics without root, on pcap streams: tests/unit/test_lookback.c.
 *
 *   verify after send (look back from the mark, DESIGN 2.1)   test_send_then_verify
 *   derived expected frames, frames sent without a source MAC  test_derived_and_sourceless
 *   a 1000-frame burst verified frame by frame after the send test_burst_verified_after_send
 *   no other packets since the mark, claims, new periods       test_no_other_packets
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/pktexpect.h"
#include "veth_pairs.h"

static veth_pair pair[1];

typedef struct env {
    px_ctx *ctx;
} env;

static int setup(void **state)
{
    if (veth_pairs_add(pair, 1) != 0)
        return -1;
    char err[PX_ERRBUF_SIZE];
    env *e = calloc(1, sizeof *e);
    e->ctx = e ? px_ctx_new(NULL, err) : NULL;
    const char *ports[2] = {pair[0].a, pair[0].b};
    if (!e || !e->ctx || px_verify_begin(e->ctx, ports, 2, err) != 0) {
        print_error("setup: %s\n", err);
        if (e)
            px_ctx_free(e->ctx);
        free(e);
        veth_pairs_del(pair, 1);
        return -1;
    }
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    if (e)
        px_ctx_free(e->ctx);
    free(e);
    return veth_pairs_del(pair, 1) == 0 ? 0 : -1;
}

/* Waits, checks the verdict (printing the report when it differs), frees. */
static void check(px_future *f, px_verdict want)
{
    assert_non_null(f);
    px_verdict got = px_future_wait(f);
    if (got != want) {
        px_buf b = PX_BUF_INIT;
        px_future_report(f, &b);
        print_error("expected %s, got %s\n%s\n", px_verdict_name(want), px_verdict_name(got), px_buf_cstr(&b));
        px_buf_free(&b);
    }
    px_future_free(f);
    assert_int_equal(got, want);
}

static void send_text(px_ctx *ctx, const char *port, const char *text)
{
    char err[PX_ERRBUF_SIZE];
    if (px_send_text(ctx, port, text, err) != 0)
        fail_msg("px_send_text(%s): %s", text, err);
}

static void test_send_then_verify(void **state)
{
    env *e = *state;
    const char *pkt = "Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01)/IPv4(src=10.9.0.1, dst=10.9.0.2)/"
                      "UDP(sport=1, dport=2)/Raw(\"ptf\")";
    /* PTF's three lines: send_packet, verify_packet, verify_no_other_packets. */
    send_text(e->ctx, pair[0].a, pkt);
    check(px_verify_packet(e->ctx, pair[0].b, pkt, NULL), PX_PASS);
    check(px_verify_no_other_packets(e->ctx, NULL), PX_PASS);
}

/* PTF's exp = pkt.copy(); exp[IP].ttl -= 1, and a frame sent without a source MAC. */
static void test_derived_and_sourceless(void **state)
{
    env *e = *state;
    /* What a router would emit for the frame below: TTL 63. */
    send_text(e->ctx, pair[0].a,
              "Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01)/IPv4(src=10.9.0.1, dst=10.9.0.2, ttl=63)/UDP()");
    const char *sent = "Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01)/IPv4(src=10.9.0.1, dst=10.9.0.2, ttl=64)/UDP()";
    check(px_verify_packet(e->ctx, pair[0].b, sent, &(px_verify_opts){.set = "ipv4.ttl-=1"}), PX_PASS);
    /* The sender writes the port's MAC where the text leaves the source out;
     * the same text as the expected frame matches whatever source that is. */
    const char *nosrc = "Ether(dst=02:00:00:00:00:02)/IPv4(src=10.9.0.1, dst=10.9.0.2)/UDP(dport=7)";
    send_text(e->ctx, pair[0].a, nosrc);
    check(px_verify_packet(e->ctx, pair[0].b, nosrc, NULL), PX_PASS);
    /* A bad edit is an ERROR saying which. */
    px_future *f = px_verify_packet(e->ctx, pair[0].b, sent, &(px_verify_opts){.set = "ipv4.tll-=1"});
    assert_int_equal(px_future_wait(f), PX_ERROR);
    if (!strstr(px_future_explanation(f), "did you mean ipv4.ttl?"))
        fail_msg("explanation: %s", px_future_explanation(f));
    px_future_free(f);
    check(px_verify_no_other_packets(e->ctx, NULL), PX_PASS);
}

static void test_burst_verified_after_send(void **state)
{
    env *e = *state;
    enum { N = 1000 };
    char text[256];
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text,
                 "Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01)/IPv4(src=10.9.0.1, dst=10.9.0.2)/"
                 "UDP(sport=%d, dport=9)",
                 1000 + i);
        send_text(e->ctx, pair[0].a, text);
    }
    /* Every frame of the burst, verified after the whole burst was sent: PTF's
     * default queue of 100 frames per port would have dropped most of them. */
    int passed = 0;
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text,
                 "Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01)/IPv4(src=10.9.0.1, dst=10.9.0.2)/"
                 "UDP(sport=%d, dport=9)",
                 1000 + i);
        px_future *f = px_verify_packet(e->ctx, pair[0].b, text, NULL);
        if (px_future_wait(f) == PX_PASS)
            passed++;
        else
            print_error("frame %d: %s\n", i, px_future_explanation(f));
        px_future_free(f);
    }
    assert_int_equal(passed, N);
    check(px_verify_no_other_packets(e->ctx, NULL), PX_PASS);
}

static void test_no_other_packets(void **state)
{
    env *e = *state;
    const char *one = "Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01)/IPv4(src=10.9.0.1, dst=10.9.0.2)/UDP()";
    send_text(e->ctx, pair[0].a, one);
    send_text(e->ctx, pair[0].a, one);
    check(px_verify_packet(e->ctx, pair[0].b, one, NULL), PX_PASS);
    /* The second copy is nobody's: FAIL, naming the port. */
    px_future *f = px_verify_no_other_packets(e->ctx, NULL);
    assert_int_equal(px_future_wait(f), PX_FAIL);
    char want[64];
    snprintf(want, sizeof want, "on '%s' came:", pair[0].b);
    if (!strstr(px_future_explanation(f), want))
        fail_msg("explanation: %s", px_future_explanation(f));
    px_future_free(f);
    /* A new period starts at each no_other_packets check. */
    check(px_verify_no_other_packets(e->ctx, NULL), PX_PASS);
    check(px_verify_no_packet(e->ctx, pair[0].b, one, NULL), PX_PASS);
}

int main(void)
{
    veth_pairs_init("test_verify", pair, 1, "pxv");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_send_then_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_derived_and_sourceless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_verified_after_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_other_packets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
