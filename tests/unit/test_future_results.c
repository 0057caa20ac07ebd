/* Results you can use and completion without blocking (docs/c-api.md), without
 * root: ports fed from pcap streams written into pipes (px_port_open_pcap,
 * paused until the expectations are armed), so which frame decides and when a
 * future resolves are under the test's control.
 *
 *   px_future_frame / px_future_port   the frame that decided (match, offender, count
 *                                       limit), its bytes, port, time; none for
 *                                       verdicts decided at the deadline
 *   px_future_resolved_at              set at resolution only
 *   px_future_on_done                  once, on the resolving thread or at once;
 *                                       may free its own future; dropped by free
 *   px_future_fd                       readable exactly at resolution, in epoll
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "pktexpect/pktexpect.h"
#include "pcap_stream.h"

#define SEC 1000000000LL
#define MS 1000000LL

/* ---- streams ---- */

/* A record: the eth60 frame of ethertype `type` with `mark` as its first
 * payload byte (tells frames apart), stamped `ns`. */
static void frame_at(int fd, int64_t ns, uint16_t type, uint8_t mark)
{
    uint8_t f[60];
    eth60(f, type);
    f[14] = mark;
    pcap_write_record(fd, ns, f, sizeof f);
}

/* Opens port `name`, paused, on a new pipe; returns the write end with the pcap
 * header written. */
static int open_paused(px_ctx *ctx, const char *name)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    char err[PX_ERRBUF_SIZE] = "";
    px_pcap_port_opts o = {.fd = p[0], .paused = true};
    if (px_port_open_pcap(ctx, name, &o, err) != 0)
        fail_msg("px_port_open_pcap: %s", err);
    close(p[0]);
    pcap_write_header(p[1]);
    return p[1];
}

/* Per test: a context and port "a", paused, whose stream the test writes. */
typedef struct fx {
    px_ctx *ctx;
    int w; /* the stream's write end; -1 once ended */
} fx;

static int fx_setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    char err[PX_ERRBUF_SIZE];
    x->ctx = px_ctx_new(&(px_ctx_opts){.noise_filter_off = true}, err);
    assert_non_null(x->ctx);
    x->w = open_paused(x->ctx, "a");
    *state = x;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *x = *state;
    if (x->w >= 0)
        close(x->w);
    px_ctx_free(x->ctx);
    free(x);
    return 0;
}

/* Ends port a's stream: windows still open close at its end. */
static void end_stream(fx *x)
{
    close(x->w);
    x->w = -1;
}

static px_future *arm(px_ctx *ctx, const char *port, px_predicate *p)
{
    px_expect_opts o = {.timeout_ms = 1000};
    px_future *f = px_expect(ctx, port, p, &o);
    assert_non_null(f);
    return f;
}

static px_verdict wait_done(px_future *f)
{
    px_verdict v = px_future_wait_for(f, 10000); /* a safety net only */
    if (v == PX_PENDING)
        fail_msg("future still pending: %s", px_future_description(f));
    return v;
}

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * SEC + t->tv_nsec;
}

static int64_t now_rt(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return ts_ns(&t);
}

/* ---- the frame that decided ---- */

static void test_frame_of_positive_match(void **state)
{
    fx *x = *state;
    px_ctx *ctx = x->ctx;
    int w = x->w;
    px_future *f = arm(ctx, "a", px_saw_ethertype(0x88b5));
    px_frame fr;
    struct timespec at;
    assert_false(px_future_frame(f, &fr)); /* pending */
    assert_false(px_future_resolved_at(f, &at));
    int64_t before = now_rt();
    assert_int_equal(px_port_start(ctx, "a"), 0);
    frame_at(w, 10 * SEC, 0x0800, 1);
    frame_at(w, 10 * SEC + 100 * MS, 0x88b5, 2);
    frame_at(w, 10 * SEC + 200 * MS, 0x88b5, 3);
    end_stream(x);
    assert_int_equal(wait_done(f), PX_PASS);
    int64_t after = now_rt();

    assert_true(px_future_frame(f, &fr));
    assert_int_equal(fr.caplen, 60);
    assert_int_equal(fr.wirelen, 60);
    assert_int_equal(fr.data[14], 2); /* the match, not the frame before or after */
    assert_int_equal(ts_ns(&fr.ts), 10 * SEC + 100 * MS);
    assert_string_equal(fr.port, "a");
    uint16_t type = 0;
    assert_true(px_frame_ethertype(&fr, &type)); /* a dissected view */
    assert_int_equal(type, 0x88b5);
    assert_string_equal(px_future_port(f), "a");
    assert_true(px_future_resolved_at(f, &at));
    assert_true(ts_ns(&at) >= before && ts_ns(&at) <= after);
    px_future_free(f);
}

static void test_frame_of_negative_offender(void **state)
{
    fx *x = *state;
    px_ctx *ctx = x->ctx;
    int w = x->w;
    px_future *f = arm(ctx, "a", px_did_not_see_ethertype(0x88b5));
    assert_int_equal(px_port_start(ctx, "a"), 0);
    frame_at(w, 10 * SEC, 0x0800, 1);
    frame_at(w, 10 * SEC + 200 * MS, 0x88b5, 7);
    frame_at(w, 10 * SEC + 300 * MS, 0x88b5, 8);
    end_stream(x);
    assert_int_equal(wait_done(f), PX_FAIL);
    px_frame fr;
    assert_true(px_future_frame(f, &fr));
    assert_int_equal(fr.data[14], 7); /* the first offender */
    assert_int_equal(ts_ns(&fr.ts), 10 * SEC + 200 * MS);
    assert_string_equal(px_future_port(f), "a");
    px_future_free(f);
}

static void test_frame_of_count_limit(void **state)
{
    fx *x = *state;
    px_expect_opts o = {.timeout_ms = 1000, .count = 2};
    px_future *f = px_expect(x->ctx, "a", px_count(NULL), &o);
    assert_non_null(f);
    assert_int_equal(px_port_start(x->ctx, "a"), 0);
    frame_at(x->w, 10 * SEC, 0x0800, 1);
    frame_at(x->w, 10 * SEC + 1 * MS, 0x0800, 2);
    frame_at(x->w, 10 * SEC + 2 * MS, 0x0800, 3);
    end_stream(x);
    assert_int_equal(wait_done(f), PX_PASS);
    px_frame fr;
    assert_true(px_future_frame(f, &fr));
    assert_int_equal(fr.data[14], 2); /* the count-th frame ended it */
    px_future_free(f);
}

static void test_no_frame_when_decided_at_deadline(void **state)
{
    fx *x = *state;
    px_ctx *ctx = x->ctx;
    int w = x->w;
    px_future *pos = arm(ctx, "a", px_saw_ethertype(0x88b5));
    px_future *neg = arm(ctx, "a", px_did_not_see_ethertype(0x88b5));
    assert_int_equal(px_port_start(ctx, "a"), 0);
    frame_at(w, 10 * SEC, 0x0800, 1);
    frame_at(w, 10 * SEC + 100 * MS, 0x86dd, 2);
    frame_at(w, 20 * SEC, 0x88b5, 3); /* after the deadline: never decides */
    end_stream(x);
    assert_int_equal(wait_done(pos), PX_FAIL);
    assert_int_equal(wait_done(neg), PX_PASS);
    px_frame fr = {.caplen = 1234};
    assert_false(px_future_frame(pos, &fr));
    assert_false(px_future_frame(neg, &fr));
    assert_int_equal(fr.caplen, 1234); /* left alone */
    assert_null(px_future_port(pos));
    assert_null(px_future_port(neg));
    struct timespec at;
    assert_true(px_future_resolved_at(pos, &at));
    assert_true(px_future_resolved_at(neg, &at));
    px_future_free(pos);
    px_future_free(neg);
}

static void test_any_port_names_the_matching_port(void **state)
{
    fx *x = *state;
    px_ctx *ctx = x->ctx;
    int wa = x->w, wb = open_paused(ctx, "b");
    const char *ports[] = {"a", "b"};
    px_expect_opts o = {.timeout_ms = 1000};
    px_future *f = px_expect_any(ctx, ports, 2, px_saw_ethertype(0x88b5), &o);
    assert_non_null(f);
    assert_int_equal(px_port_start(ctx, "a"), 0);
    assert_int_equal(px_port_start(ctx, "b"), 0);
    frame_at(wa, 10 * SEC, 0x0800, 1);
    frame_at(wa, 10 * SEC + 500 * MS, 0x0800, 2);
    frame_at(wb, 10 * SEC, 0x0800, 3);
    frame_at(wb, 10 * SEC + 50 * MS, 0x88b5, 9);
    end_stream(x);
    close(wb);
    assert_int_equal(wait_done(f), PX_PASS);
    assert_string_equal(px_future_port(f), "b");
    px_frame fr;
    assert_true(px_future_frame(f, &fr));
    assert_string_equal(fr.port, "b");
    assert_int_equal(fr.data[14], 9);
    px_future_free(f);
}

static void test_error_has_no_frame(void **state)
{
    fx *x = *state;
    px_future *f = arm(x->ctx, "a", px_saw_ethertype(0x88b5));
    px_future_cancel(f);
    assert_int_equal(px_future_verdict(f), PX_ERROR);
    px_frame fr;
    assert_false(px_future_frame(f, &fr));
    assert_null(px_future_port(f));
    assert_null(px_future_port(NULL));
    assert_false(px_future_frame(NULL, &fr));
    px_future_free(f);
}

/* ---- px_future_on_done ---- */

typedef struct done_rec {
    atomic_int calls;
    pthread_t thread;
    px_verdict seen;      /* the verdict read from inside the callback */
    bool free_it;         /* the callback frees its future */
} done_rec;

static void on_done(px_future *f, void *user)
{
    done_rec *r = user;
    r->thread = pthread_self();
    r->seen = px_future_verdict(f); /* reading its own future: no deadlock */
    if (r->free_it)
        px_future_free(f);
    atomic_fetch_add(&r->calls, 1);
}

/* Waits (bounded) until the callback ran. */
static void wait_calls(done_rec *r, int n)
{
    for (int i = 0; i < 10000 && atomic_load(&r->calls) < n; i++)
        usleep(1000);
    assert_int_equal(atomic_load(&r->calls), n);
}

static void test_on_done_once_on_resolving_thread(void **state)
{
    fx *x = *state;
    px_ctx *ctx = x->ctx;
    int w = x->w;
    px_future *f = arm(ctx, "a", px_saw_ethertype(0x88b5));
    done_rec r = {.calls = 0};
    assert_int_equal(px_future_on_done(f, on_done, &r), 0);
    assert_int_equal(px_future_on_done(f, on_done, &r), PX_EEXIST); /* one per future */
    assert_int_equal(atomic_load(&r.calls), 0);
    assert_int_equal(px_port_start(ctx, "a"), 0);
    frame_at(w, 10 * SEC, 0x88b5, 1);
    end_stream(x);
    wait_calls(&r, 1);
    assert_false(pthread_equal(r.thread, pthread_self())); /* the capture thread */
    assert_int_equal(r.seen, PX_PASS);
    px_future_free(f);
    assert_int_equal(atomic_load(&r.calls), 1); /* final once px_future_free returned */
}

static void test_on_done_on_resolved_future_runs_now(void **state)
{
    fx *x = *state;
    px_ctx *ctx = x->ctx;
    px_future *f = arm(ctx, "a", px_saw_ethertype(0x88b5));
    assert_int_equal(px_port_start(ctx, "a"), 0);
    end_stream(x);
    assert_int_equal(wait_done(f), PX_FAIL);
    done_rec r = {.calls = 0};
    assert_int_equal(px_future_on_done(f, on_done, &r), 0);
    assert_int_equal(atomic_load(&r.calls), 1); /* before it returned */
    assert_true(pthread_equal(r.thread, pthread_self()));
    assert_int_equal(r.seen, PX_FAIL);
    assert_int_equal(px_future_on_done(f, on_done, &r), PX_EEXIST);
    assert_int_equal(px_future_on_done(f, NULL, &r), PX_EINVAL);
    assert_int_equal(px_future_on_done(NULL, on_done, &r), PX_EINVAL);
    assert_int_equal(atomic_load(&r.calls), 1);
    px_future_free(f);
}

static void test_on_done_may_free_its_future(void **state)
{
    fx *x = *state;
    px_ctx *ctx = x->ctx;
    int w = x->w;
    /* Resolved by the capture thread, freed there. */
    px_future *f = arm(ctx, "a", px_saw_ethertype(0x88b5));
    assert_true(px_future_fd(f) >= 0); /* closed by the free inside the callback */
    done_rec r = {.calls = 0, .free_it = true};
    assert_int_equal(px_future_on_done(f, on_done, &r), 0);
    assert_int_equal(px_port_start(ctx, "a"), 0);
    frame_at(w, 10 * SEC, 0x88b5, 1);
    end_stream(x);
    wait_calls(&r, 1);
    assert_int_equal(r.seen, PX_PASS);
    /* Resolved already, freed on this thread inside px_future_on_done. */
    px_future *g = arm(ctx, "a", px_saw_ethertype(0x88b5));
    assert_int_equal(wait_done(g), PX_FAIL); /* the stream ended */
    done_rec r2 = {.calls = 0, .free_it = true};
    assert_int_equal(px_future_on_done(g, on_done, &r2), 0);
    assert_int_equal(atomic_load(&r2.calls), 1);
}

static void test_free_drops_pending_callback(void **state)
{
    fx *x = *state;
    px_future *f = arm(x->ctx, "a", px_saw_ethertype(0x88b5));
    done_rec r = {.calls = 0};
    assert_int_equal(px_future_on_done(f, on_done, &r), 0);
    px_future_free(f); /* pending: cancelled without running the callback */
    assert_int_equal(atomic_load(&r.calls), 0);
    end_stream(x);
    usleep(10000); /* a callback wrongly run late would have had time to */
    assert_int_equal(atomic_load(&r.calls), 0);
}

/* ---- px_future_fd ---- */

static int readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    assert_true(n >= 0);
    return n > 0 && (p.revents & POLLIN);
}

static void test_fd_readable_at_resolution(void **state)
{
    fx *x = *state;
    px_ctx *ctx = x->ctx;
    int w = x->w;
    px_future *f = arm(ctx, "a", px_saw_ethertype(0x88b5));
    int fd = px_future_fd(f);
    assert_true(fd >= 0);
    assert_int_equal(px_future_fd(f), fd); /* the same one */
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(readable(fd, 0), 0);
    assert_int_equal(px_port_start(ctx, "a"), 0);
    frame_at(w, 10 * SEC, 0x0800, 1);
    assert_int_equal(readable(fd, 0), 0); /* a frame that does not decide */
    assert_false(px_future_done(f));
    frame_at(w, 10 * SEC + 10 * MS, 0x88b5, 2);
    assert_int_equal(readable(fd, 10000), 1);
    assert_true(px_future_done(f)); /* readable means resolved, no wait needed */
    assert_int_equal(px_future_verdict(f), PX_PASS);
    assert_int_equal(readable(fd, 0), 1); /* stays readable */
    px_future_free(f);

    /* Asked for after the resolution: readable at once. */
    px_future *g = arm(ctx, "a", px_saw_ethertype(0x88b5));
    px_future_cancel(g);
    int gfd = px_future_fd(g);
    assert_true(gfd >= 0);
    assert_int_equal(readable(gfd, 0), 1);
    px_future_free(g);
    assert_int_equal(px_future_fd(NULL), PX_EINVAL);
}

#define NFUT 16

/* Takes `n` readiness events from the epoll set `ep` (data: the future's index,
 * of parity `parity`), each future once, resolved when reported; removes each. */
static void collect(int ep, px_future *const *f, bool *seen, int n, uint32_t parity)
{
    struct epoll_event evs[NFUT];
    for (int got = 0; got < n;) {
        int k = epoll_wait(ep, evs, NFUT, 10000); /* a safety net only */
        assert_true(k > 0);
        for (int j = 0; j < k; j++, got++) {
            uint32_t i = evs[j].data.u32;
            assert_int_equal(i % 2, parity);
            assert_false(seen[i]);
            seen[i] = true;
            assert_true(px_future_done(f[i]));
            assert_int_equal(epoll_ctl(ep, EPOLL_CTL_DEL, px_future_fd(f[i]), NULL), 0);
        }
    }
}

static void test_fd_many_futures_in_one_epoll(void **state)
{
    fx *x = *state;
    px_ctx *ctx = x->ctx;
    int w = x->w;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    px_future *f[NFUT];
    for (int i = 0; i < NFUT; i++) {
        f[i] = arm(ctx, "a", px_saw_ethertype((uint16_t)(0x8800 + i)));
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, px_future_fd(f[i]), &ev), 0);
    }
    struct epoll_event evs[NFUT];
    assert_int_equal(epoll_wait(ep, evs, NFUT, 0), 0);
    assert_int_equal(px_port_start(ctx, "a"), 0);
    /* Frames for the even ones: exactly those become readable. */
    frame_at(w, 10 * SEC, 0x0800, 0);
    for (int i = 0; i < NFUT; i += 2)
        frame_at(w, 10 * SEC + i * MS, (uint16_t)(0x8800 + i), (uint8_t)i);
    bool seen[NFUT] = {false};
    collect(ep, f, seen, NFUT / 2, 0);
    assert_int_equal(epoll_wait(ep, evs, NFUT, 0), 0); /* the odd ones are pending */
    for (int i = 1; i < NFUT; i += 2)
        assert_false(px_future_done(f[i]));
    /* The stream ends: the odd ones FAIL, each readable once resolved. */
    end_stream(x);
    collect(ep, f, seen, NFUT / 2, 1);
    for (int i = 0; i < NFUT; i++) {
        px_frame fr;
        assert_int_equal(px_future_verdict(f[i]), i % 2 ? PX_FAIL : PX_PASS);
        assert_int_equal(px_future_frame(f[i], &fr), i % 2 == 0);
        if (i % 2 == 0)
            assert_int_equal(fr.data[14], i);
        px_future_free(f[i]);
    }
    close(ep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_frame_of_positive_match, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_frame_of_negative_offender, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_frame_of_count_limit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_no_frame_when_decided_at_deadline, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_any_port_names_the_matching_port, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_error_has_no_frame, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_on_done_once_on_resolving_thread, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_on_done_on_resolved_future_runs_now, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_on_done_may_free_its_future, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_free_drops_pending_callback, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_fd_readable_at_resolution, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_fd_many_futures_in_one_epoll, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
