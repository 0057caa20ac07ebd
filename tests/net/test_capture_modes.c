/* PX_CAPTURE_THROUGHPUT (context.h) on a real veth pair: the block ring hands
 * frames over late (up to a block timeout, or two, after they arrived), and the
 * semantics must not notice. A long block timeout (400 ms) against a short
 * window (200 ms) makes the difference certain rather than timing-dependent:
 * a frame sent right after the arm is in the window, but the kernel shows it
 * only after the deadline; a negative check must still see it (FAIL), and a
 * frame sent before the arm must still be left out. Needs root; the pair
 * "pxm<pid>a/b" is removed at the start (a leftover) and in the teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/cmocka.h"
#include "pktexpect/oneline.h"
#include "pktexpect/pktexpect.h"
#include "veth_pairs.h"

#define BLOCK_TIMEOUT_MS 400
#define WINDOW_MS 200

static veth_pair pair[1];

typedef struct env {
    px_ctx *ctx;
} env;

static int setup(void **state)
{
    if (veth_pairs_add(pair, 1) != 0)
        return -1;
    env *e = calloc(1, sizeof *e);
    char err[PX_ERRBUF_SIZE] = "";
    px_ctx_opts o = {.capture = PX_CAPTURE_THROUGHPUT, .block_timeout_ms = BLOCK_TIMEOUT_MS};
    if (!e || !(e->ctx = px_ctx_new(&o, err))) {
        print_error("context: %s\n", err);
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
    if (e) {
        px_ctx_free(e->ctx);
        free(e);
    }
    return veth_pairs_del(pair, 1) == 0 ? 0 : -1;
}

static px_future *expect(env *e, const char *expr, uint32_t timeout_ms)
{
    char err[PX_ERRBUF_SIZE];
    px_expect_opts o = {.timeout_ms = timeout_ms};
    px_future *f = px_expect_expr(e->ctx, pair[0].b, expr, &o, err);
    assert_non_null(f);
    return f;
}

static void send_text(env *e, const char *text)
{
    char err[PX_ERRBUF_SIZE];
    if (px_send_text(e->ctx, pair[0].a, text, err) != 0)
        fail_msg("'%s': %s", text, err);
}

#define UDP(port) \
    "Ether(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2)/UDP(sport=999,dport=" #port ")"

/* The offender arrives in the window but reaches the reader after the deadline:
 * with a window closed at "deadline + 5 ms" it would be missed (false PASS). */
static void test_negative_sees_a_frame_handed_over_late(void **state)
{
    env *e = *state;
    px_future *neg = expect(e, "did_not_see_udp(dport=53)", WINDOW_MS);
    send_text(e, UDP(53));
    px_assert_fail(neg);
}

/* Counting closes at the deadline with every frame of the window, none before. */
static void test_count_takes_the_window_exactly(void **state)
{
    env *e = *state;
    send_text(e, UDP(54)); /* before the arm: in the kernel's open block, not in the window */
    sleep_ms(20);
    px_future *cnt = expect(e, "count(saw_udp(dport=54))", WINDOW_MS);
    px_future *seen = expect(e, "saw_udp(dport=55)", 3000);
    for (int i = 0; i < 3; i++)
        send_text(e, UDP(54));
    send_text(e, UDP(55));
    px_assert_pass(seen);
    px_assert_pass_keep(cnt);
    px_assert_value(cnt, 3);
}

int main(void)
{
    veth_pairs_init("test_capture_modes", pair, 1, "pxm");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negative_sees_a_frame_handed_over_late),
        cmocka_unit_test(test_count_takes_the_window_exactly),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
