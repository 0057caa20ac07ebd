/* Threading: 10 negative checks on 10 ports cost one window; 8 ports x 8
 * expectations with frames sent from several threads (run under TSan in CI).
 * Needs root; every interface it makes is named after the pid and removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pktexpect/cmocka.h"
#include "pktexpect/pktexpect.h"
#include "px_test.h"

#define NPAIRS 10

typedef struct topo {
    char a[NPAIRS][16]; /* send side */
    char b[NPAIRS][16]; /* expect side */
} topo;

static void topo_down(topo *t)
{
    for (int i = 0; i < NPAIRS; i++)
        px_topo_link_del(NULL, t->a[i], NULL);
}

static int setup(void **state)
{
    topo *t = calloc(1, sizeof *t);
    char err[PX_ERRBUF_SIZE];
    for (int i = 0; i < NPAIRS; i++) {
        char sa[4], sb[4];
        snprintf(sa, sizeof sa, "a%d", i);
        snprintf(sb, sizeof sb, "b%d", i);
        px_test_ifname(t->a[i], "pxt", sa);
        px_test_ifname(t->b[i], "pxt", sb);
    }
    topo_down(t);
    for (int i = 0; i < NPAIRS; i++) {
        if (px_topo_veth_add(NULL, t->a[i], t->b[i], err) != 0) {
            print_error("veth: %s\n", err);
            topo_down(t);
            free(t);
            return -1;
        }
    }
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    topo_down(*state);
    free(*state);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 2.5 one deadline per expectation: waiting on all costs the longest window. */
static void test_ten_negative_checks_one_window(void **state)
{
    topo *t = *state;
    px_ctx *ctx = px_ctx_new(NULL, NULL);
    for (int i = 0; i < NPAIRS; i++)
        assert_int_equal(px_port_open(ctx, t->b[i], NULL), 0);
    const uint32_t window = 500;
    px_future *fs[NPAIRS];
    double t0 = now_s();
    for (int i = 0; i < NPAIRS; i++)
        fs[i] = px_expect(ctx, t->b[i], px_did_not_see_dst_mac((uint8_t[6]){2, 0, 0, 0, 0, 1}),
                          &(px_expect_opts){.timeout_ms = window});
    assert_int_equal(px_future_wait_all(fs, NPAIRS, -1), 0);
    double elapsed = now_s() - t0;
    for (int i = 0; i < NPAIRS; i++) {
        px_assert_pass(fs[i]);
    }
    /* Sequential checks would take 10 windows; allow generous slack, not a micro-timing. */
    assert_true(elapsed < 3.0 * window / 1000.0);
    px_ctx_free(ctx);
}

#define NPORTS 8
#define NEXP 8
#define NSENDERS 4
#define FRAMES_PER_SENDER_PORT 50

typedef struct sender_arg {
    px_ctx *ctx;
    topo *t;
    int id;
} sender_arg;

static void *sender_main(void *p)
{
    sender_arg *s = p;
    uint8_t frame[60] = {0};
    memset(frame, 0xff, 6);
    const uint8_t src[6] = {0x02, 0, 0x5e, 0x77, 0, (uint8_t)s->id};
    memcpy(frame + 6, src, 6);
    frame[12] = 0x88;
    frame[13] = 0xb5;
    for (int n = 0; n < FRAMES_PER_SENDER_PORT; n++)
        for (int i = 0; i < NPORTS; i++)
            if (px_send(s->ctx, s->t->a[i], frame, sizeof frame, NULL) != 0)
                return (void *)1;
    return NULL;
}

static void test_stress_ports_expectations_senders(void **state)
{
    topo *t = *state;
    px_ctx *ctx = px_ctx_new(NULL, NULL);
    px_future *counts[NPORTS][NEXP];
    /* Every port open before the first window starts: opening one (its ring
     * written before use, the link-ready wait) takes a good part of a second on
     * a loaded machine, and eight in a row outlasted the first port's 3 s
     * windows before any frame was sent. First use has its own tests. */
    for (int i = 0; i < NPORTS; i++) {
        char err[PX_ERRBUF_SIZE] = "";
        if (px_port_open(ctx, t->b[i], err) != 0)
            fail_msg("px_port_open(%s): %s", t->b[i], err);
    }
    for (int i = 0; i < NPORTS; i++) {
        for (int k = 0; k < NEXP; k++) {
            px_predicate *p = k % 2 ? px_packet_count() : px_saw_src_mac((uint8_t[6]){2, 0, 0x5e, 0x77, 0, (uint8_t)(k % NSENDERS)});
            counts[i][k] = px_expect(ctx, t->b[i], p,
                                     &(px_expect_opts){.timeout_ms = 3000, .filter = "ether proto 0x88b5"});
        }
    }
    pthread_t th[NSENDERS];
    sender_arg args[NSENDERS];
    for (int s = 0; s < NSENDERS; s++) {
        args[s] = (sender_arg){ctx, t, s};
        pthread_create(&th[s], NULL, sender_main, &args[s]);
    }
    for (int s = 0; s < NSENDERS; s++) {
        void *rv;
        pthread_join(th[s], &rv);
        assert_null(rv);
    }
    for (int i = 0; i < NPORTS; i++) {
        for (int k = 0; k < NEXP; k++) {
            if (k % 2)
                px_assert_value(counts[i][k], NSENDERS * FRAMES_PER_SENDER_PORT);
            else
                px_assert_pass(counts[i][k]);
        }
    }
    /* Cancel and close while expectations are pending, from another thread's view. */
    px_future *pending[NPORTS];
    for (int i = 0; i < NPORTS; i++)
        pending[i] = px_expect(ctx, t->b[i], px_timed_out(), &(px_expect_opts){.timeout_ms = 20000});
    px_future_cancel(pending[0]);
    px_ctx_free(ctx);
    for (int i = 0; i < NPORTS; i++) {
        px_assert_error(pending[i]);
    }
}

int main(void)
{
    px_test_require_root("test_thread_stress");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ten_negative_checks_one_window),
        cmocka_unit_test(test_stress_ports_expectations_senders),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
