/* Marks, looking back, and the verification layer (pktexpect/mark.h,
 * pktexpect/verify.h), deterministically and without root: ports fed from pcap
 * streams written into pipes with crafted timestamps. The same on veth, with a
 * real send, in tests/net/test_verify.c.
 *
 *   DESIGN 2.1 "unless the caller explicitly asks to look back from an earlier
 *   mark": test_lookback_sees_frames_since_the_mark, test_lookback_window_starts_at_the_mark,
 *   test_lookback_before_the_first_frame
 *   DESIGN 2.2 observation, not consumption: test_lookback_does_not_consume
 *   DESIGN 2.6 drops since the mark: test_lookback_drops_since_the_mark_are_error
 *   Bounded history, never a silent loss: test_history_limit_is_error
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pktexpect/pktexpect.h"
#include "pcap_stream.h"
#include "stream_port.h"

#define SEC 1000000000LL
#define MS 1000000LL

static px_ctx *new_ctx(uint32_t history_mib)
{
    char err[PX_ERRBUF_SIZE];
    px_ctx_opts o = {.noise_filter_off = true, .history_mib = history_mib};
    px_ctx *ctx = px_ctx_new(&o, err);
    assert_non_null(ctx);
    return ctx;
}

/* Opens port `name` on a new pipe carrying a classic pcap stream; returns the write end. */
static int open_port(px_ctx *ctx, const char *name)
{
    int w = stream_port_open(ctx, name, false);
    pcap_write_header(w);
    return w;
}

/* The same with a pcapng stream (for its statistics blocks: drops). */
static int open_pcapng_port(px_ctx *ctx, const char *name)
{
    int w = stream_port_open(ctx, name, false);
    pcapng_write_shb(w);
    pcapng_write_idb(w, name);
    return w;
}

static void frame(int fd, int64_t ns, uint16_t type)
{
    uint8_t f[60];
    eth60(f, type);
    pcap_write_record(fd, ns, f, sizeof f);
}

/* The eth60 frame of `type` in hex, as px_verify_packet takes it. */
static const char *hex60(uint16_t type, char out[121])
{
    uint8_t f[60];
    eth60(f, type);
    for (int i = 0; i < 60; i++)
        snprintf(out + 2 * i, 3, "%02x", f[i]);
    return out;
}

static void expect_in(const char *text, const char *needle)
{
    if (!text || !strstr(text, needle))
        fail_msg("expected \"%s\" in: %s", needle, text ? text : "(null)");
}

static px_mark *mark_on(px_ctx *ctx, const char *port)
{
    char err[PX_ERRBUF_SIZE] = "";
    const char *ports[1] = {port};
    px_mark *m = px_mark_take(ctx, ports, 1, err);
    if (!m)
        fail_msg("px_mark_take: %s", err);
    return m;
}

/* ---- marks ---- */

static void test_lookback_sees_frames_since_the_mark(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int w = open_port(ctx, "a");
    frame(w, 10 * SEC, 0x0800);
    stream_wait_frames(ctx, "a", 1);
    px_mark *m = mark_on(ctx, "a");
    frame(w, 11 * SEC, 0x88b5); /* sent before the expectation is armed */
    stream_wait_frames(ctx, "a", 2);
    px_expect_opts o = {.timeout_ms = 100, .since = m};
    px_future *f = px_expect(ctx, "a", px_saw_ethertype(0x88b5), &o);
    /* Decided from the history before px_expect returned. */
    assert_true(px_future_done(f));
    assert_int_equal(px_future_verdict(f), PX_PASS);
    px_frame d;
    assert_true(px_future_frame(f, &d));
    assert_int_equal(d.ts.tv_sec, 11);
    /* Without the mark the same expectation does not see it. */
    px_future *g = px_expect(ctx, "a", px_saw_ethertype(0x88b5), &(px_expect_opts){.timeout_ms = 100});
    frame(w, 12 * SEC, 0x0800); /* past both deadlines */
    assert_int_equal(stream_wait_done(g), PX_FAIL);
    px_future_free(f);
    px_future_free(g);
    px_mark_free(m);
    close(w);
    px_ctx_free(ctx);
}

static void test_lookback_window_starts_at_the_mark(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int w = open_port(ctx, "a");
    frame(w, 10 * SEC, 0x88b5); /* before the mark: not in the window */
    stream_wait_frames(ctx, "a", 1);
    px_mark *m = mark_on(ctx, "a");
    frame(w, 11 * SEC, 0x88b5);
    frame(w, 11 * SEC + 1 * MS, 0x0800);
    stream_wait_frames(ctx, "a", 3);
    px_expect_opts o = {.timeout_ms = 100, .since = m};
    px_future *cnt = px_expect(ctx, "a", px_packet_count(), &o);
    px_future *neg = px_expect(ctx, "a", px_did_not_see_ethertype(0x88b5), &o);
    frame(w, 11 * SEC + 50 * MS, 0x0800); /* live, in the window */
    frame(w, 12 * SEC, 0x0800);           /* past the deadline (the arm + 100 ms) */
    assert_int_equal(stream_wait_done(cnt), PX_PASS);
    assert_int_equal(px_future_value(cnt), 3);
    assert_int_equal(stream_wait_done(neg), PX_FAIL); /* its offender came after the mark, before the arm */
    px_future_free(cnt);
    px_future_free(neg);
    px_mark_free(m);
    close(w);
    px_ctx_free(ctx);
}

static void test_lookback_before_the_first_frame(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int w = open_port(ctx, "a");
    px_mark *m = mark_on(ctx, "a"); /* the stream has no frame yet */
    frame(w, 10 * SEC, 0x88b5);
    stream_wait_frames(ctx, "a", 1);
    px_future *f = px_expect(ctx, "a", px_saw_ethertype(0x88b5), &(px_expect_opts){.timeout_ms = 100, .since = m});
    assert_int_equal(stream_wait_done(f), PX_PASS);
    px_future_free(f);
    px_mark_free(m);
    close(w);
    px_ctx_free(ctx);
}

static void test_lookback_does_not_consume(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int w = open_port(ctx, "a");
    px_mark *m1 = mark_on(ctx, "a");
    frame(w, 10 * SEC, 0x88b5);
    stream_wait_frames(ctx, "a", 1);
    px_mark *m2 = mark_on(ctx, "a");
    frame(w, 11 * SEC, 0x88b6);
    stream_wait_frames(ctx, "a", 2);
    px_expect_opts o = {.timeout_ms = 100, .since = m1};
    px_future *f1 = px_expect(ctx, "a", px_saw_ethertype(0x88b5), &o);
    px_future *f2 = px_expect(ctx, "a", px_saw_ethertype(0x88b5), &o);
    assert_int_equal(stream_wait_done(f1), PX_PASS);
    assert_int_equal(stream_wait_done(f2), PX_PASS);
    /* Releasing the older mark keeps what the younger one needs. */
    px_mark_free(m1);
    px_future *f3 = px_expect(ctx, "a", px_saw_ethertype(0x88b6), &(px_expect_opts){.timeout_ms = 100, .since = m2});
    assert_int_equal(stream_wait_done(f3), PX_PASS);
    px_future *f4 = px_expect(ctx, "a", px_did_not_see_ethertype(0x88b5), &(px_expect_opts){.timeout_ms = 100, .since = m2});
    frame(w, 12 * SEC, 0x0800);
    assert_int_equal(stream_wait_done(f4), PX_PASS); /* 0x88b5 came before m2 */
    px_future_free(f1);
    px_future_free(f2);
    px_future_free(f3);
    px_future_free(f4);
    px_mark_free(m2);
    close(w);
    px_ctx_free(ctx);
}

static void test_lookback_drops_since_the_mark_are_error(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int w = open_pcapng_port(ctx, "a");
    pcapng_write_epb(w, 0, 20 * SEC, 0x0800, 0);
    stream_wait_frames(ctx, "a", 1);
    px_mark *m = mark_on(ctx, "a");
    pcapng_write_isb(w, 0, 20 * SEC + 1 * MS, 3); /* lost after the mark, before the arm */
    pcapng_write_epb(w, 0, 20 * SEC + 2 * MS, 0x0800, 0);
    stream_wait_frames(ctx, "a", 2);
    px_future *neg = px_expect(ctx, "a", px_did_not_see_ethertype(0x88b5), &(px_expect_opts){.timeout_ms = 100, .since = m});
    pcapng_write_epb(w, 0, 21 * SEC, 0x0800, 0);
    assert_int_equal(stream_wait_done(neg), PX_ERROR);
    expect_in(px_future_explanation(neg), "dropped 3 frames");
    px_future_free(neg);
    px_mark_free(m);
    close(w);
    px_ctx_free(ctx);
}

static void test_history_limit_is_error(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(1); /* 1 MiB of history */
    int w = open_port(ctx, "a");
    px_mark *m = mark_on(ctx, "a");
    const int n = 30000; /* 1.8 MB of 60-byte frames */
    for (int i = 0; i < n; i++)
        frame(w, 10 * SEC + i * 1000LL, 0x0800);
    stream_wait_frames(ctx, "a", (uint64_t)n);
    px_future *f = px_expect(ctx, "a", px_packet_count(), &(px_expect_opts){.timeout_ms = 100, .since = m});
    assert_int_equal(stream_wait_done(f), PX_ERROR);
    expect_in(px_future_explanation(f), "cannot look back from the mark on 'a'");
    expect_in(px_future_explanation(f), "history limit of 1 MiB");
    /* A fresh mark works again. */
    px_mark *m2 = mark_on(ctx, "a");
    frame(w, 11 * SEC, 0x88b5);
    stream_wait_frames(ctx, "a", (uint64_t)n + 1);
    px_future *g = px_expect(ctx, "a", px_saw_ethertype(0x88b5), &(px_expect_opts){.timeout_ms = 100, .since = m2});
    assert_int_equal(stream_wait_done(g), PX_PASS);
    px_future_free(f);
    px_future_free(g);
    px_mark_free(m);
    px_mark_free(m2);
    close(w);
    px_ctx_free(ctx);
}

static void test_mark_errors(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int wa = open_port(ctx, "a");
    int wb = open_port(ctx, "b");
    char err[PX_ERRBUF_SIZE] = "";
    assert_null(px_mark_take(ctx, NULL, 0, err));
    expect_in(err, "at least one port");
    px_mark *m = mark_on(ctx, "a");
    assert_int_equal(px_mark_nports(m), 1);
    px_future *f = px_expect(ctx, "b", px_received_packet(), &(px_expect_opts){.timeout_ms = 100, .since = m});
    assert_int_equal(stream_wait_done(f), PX_ERROR);
    expect_in(px_future_explanation(f), "cannot look back on 'b': the mark was not taken on it");
    px_future_free(f);
    /* A mark outlives its context. */
    px_ctx_free(ctx);
    px_mark_free(m);
    close(wa);
    close(wb);
}

/* ---- the verification layer ---- */

static void test_verify_after_send(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int wa = open_port(ctx, "a"), wb = open_port(ctx, "b");
    char err[PX_ERRBUF_SIZE] = "", hx[121], hy[121];
    const char *ports[2] = {"a", "b"};
    assert_int_equal(px_verify_begin(ctx, ports, 2, err), 0);
    frame(wb, 10 * SEC, 0x88b5); /* the switch forwarded it before we verify */
    stream_wait_frames(ctx, "b", 1);
    px_future *f = px_verify_packet(ctx, "b", hex60(0x88b5, hx), NULL);
    assert_true(px_future_done(f)); /* already there: decided on return */
    assert_int_equal(px_future_verdict(f), PX_PASS);
    assert_string_equal(px_future_port(f), "b");
    /* Claimed: the same check again needs a second frame. */
    px_future *again = px_verify_packet(ctx, "b", hx, &(px_verify_opts){.timeout_ms = 50});
    frame(wb, 10 * SEC + 10 * MS, 0x88b5);
    assert_int_equal(stream_wait_done(again), PX_PASS);
    px_frame d;
    assert_true(px_future_frame(again, &d));
    assert_int_equal(d.ts.tv_nsec, 10 * MS);
    /* Nothing else came: a third one FAILs, with the closest frame. */
    px_future *third = px_verify_packet(ctx, "b", hex60(0x88b6, hy), &(px_verify_opts){.timeout_ms = 50});
    frame(wb, 11 * SEC, 0x0800);
    assert_int_equal(stream_wait_done(third), PX_FAIL);
    px_future_free(f);
    px_future_free(again);
    px_future_free(third);
    close(wa);
    close(wb);
    px_ctx_free(ctx);
}

static void test_verify_no_other_packets(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int wa = open_port(ctx, "a"), wb = open_port(ctx, "b");
    char err[PX_ERRBUF_SIZE] = "", hx[121];
    const char *ports[2] = {"a", "b"};
    assert_int_equal(px_verify_begin(ctx, ports, 2, err), 0);
    frame(wb, 10 * SEC, 0x88b5);
    frame(wa, 10 * SEC + 1 * MS, 0x88b6); /* flooded where it should not go */
    stream_wait_frames(ctx, "a", 1);
    stream_wait_frames(ctx, "b", 1);
    px_future *ok = px_verify_packet(ctx, "b", hex60(0x88b5, hx), NULL);
    assert_int_equal(stream_wait_done(ok), PX_PASS);
    px_future *other = px_verify_no_other_packets(ctx, &(px_verify_opts){.timeout_ms = 50});
    frame(wa, 11 * SEC, 0x0800); /* past the deadline on both ports: a negative decides at the close */
    frame(wb, 11 * SEC, 0x0800);
    assert_int_equal(stream_wait_done(other), PX_FAIL);
    expect_in(px_future_explanation(other), "expected no other frame since the mark; on 'a' came:");
    /* A new period started at `other`: what came before is not looked at again
     * (the 11 s frames are in it; a fresh mark leaves them out too). */
    assert_int_equal(px_verify_mark(ctx, err), 0);
    px_future *clean = px_verify_no_other_packets(ctx, &(px_verify_opts){.timeout_ms = 50});
    frame(wa, 12 * SEC, 0x0800); /* past the deadline on both ports: closes the window */
    frame(wb, 12 * SEC, 0x0800);
    assert_int_equal(stream_wait_done(clean), PX_PASS);
    /* Ports the test does not care about can be left out (after a fresh mark:
     * the closing frames above belong to the period `clean` started). */
    assert_int_equal(px_verify_mark(ctx, err), 0);
    frame(wa, 13 * SEC, 0x88b6);
    stream_wait_frames(ctx, "a", 4);
    const char *skip_a[1] = {"a"};
    px_future *not_a = px_verify_no_other_packets_except(ctx, skip_a, 1, &(px_verify_opts){.timeout_ms = 50});
    frame(wb, 14 * SEC, 0x0800); /* past the deadline: closes b's window */
    assert_int_equal(stream_wait_done(not_a), PX_PASS);
    px_future *bad = px_verify_no_other_packets_except(ctx, (const char *[]){"z"}, 1, NULL);
    assert_int_equal(stream_wait_done(bad), PX_ERROR);
    expect_in(px_future_explanation(bad), "port 'z' is not verified");
    /* Refused at once, it still names the window the check would have had (the
     * context's negative one), not the expectations' default. */
    expect_in(px_future_description(bad), "within 100 ms"); /* PX_DEFAULT_VERIFY_NEGATIVE_MS */
    px_future_free(not_a);
    px_future_free(bad);
    px_future_free(ok);
    px_future_free(other);
    px_future_free(clean);
    close(wa);
    close(wb);
    px_ctx_free(ctx);
}

static void test_verify_each_any_and_no_packet(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int wa = open_port(ctx, "a"), wb = open_port(ctx, "b"), wc = open_port(ctx, "c");
    char err[PX_ERRBUF_SIZE] = "", hx[121];
    const char *ports[3] = {"a", "b", "c"};
    frame(wc, 9 * SEC, 0x0800); /* every stream has a clock before the windows open */
    stream_wait_frames(ctx, "c", 1);
    assert_int_equal(px_verify_begin(ctx, ports, 3, err), 0);
    frame(wa, 10 * SEC, 0x88b5);
    frame(wb, 10 * SEC, 0x88b5);
    stream_wait_frames(ctx, "a", 1);
    stream_wait_frames(ctx, "b", 1);
    hex60(0x88b5, hx);
    px_future *each = px_verify_packet_each(ctx, ports, 2, hx, NULL);
    assert_int_equal(stream_wait_done(each), PX_PASS);
    assert_int_equal(px_future_value(each), 2);
    px_future *each3 = px_verify_packet_each(ctx, ports, 3, hx, &(px_verify_opts){.timeout_ms = 50});
    px_future *none_c = px_verify_no_packet(ctx, "c", hx, NULL);
    frame(wa, 11 * SEC, 0x0800);
    frame(wb, 11 * SEC, 0x0800);
    frame(wc, 11 * SEC, 0x0800);
    assert_int_equal(stream_wait_done(each3), PX_FAIL);
    expect_in(px_future_explanation(each3), "on 'c': ");
    assert_int_equal(stream_wait_done(none_c), PX_PASS);
    /* any: the port that got it is named. */
    frame(wc, 12 * SEC, 0x88b5);
    stream_wait_frames(ctx, "c", 3);
    const char *bc[2] = {"b", "c"};
    px_future *any = px_verify_packet_any(ctx, bc, 2, hx, NULL);
    assert_int_equal(stream_wait_done(any), PX_PASS);
    assert_string_equal(px_future_port(any), "c");
    px_future *no_c = px_verify_no_packet(ctx, "c", hx, &(px_verify_opts){.timeout_ms = 50});
    px_future *no_a = px_verify_no_packet(ctx, "a", NULL, &(px_verify_opts){.timeout_ms = 50});
    frame(wa, 13 * SEC, 0x0800); /* past both windows */
    frame(wc, 13 * SEC, 0x0800);
    assert_int_equal(stream_wait_done(no_c), PX_PASS); /* c's frame is claimed by `any` */
    assert_int_equal(stream_wait_done(no_a), PX_FAIL); /* a's 0x0800 is nobody's */
    expect_in(px_future_explanation(no_a), "on 'a' came:");
    px_future_free(each);
    px_future_free(each3);
    px_future_free(none_c);
    px_future_free(any);
    px_future_free(no_c);
    px_future_free(no_a);
    close(wa);
    close(wb);
    close(wc);
    px_ctx_free(ctx);
}

static void test_claims_tell_identical_frames_apart(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int w = open_port(ctx, "a");
    char err[PX_ERRBUF_SIZE] = "", hx[121];
    frame(w, 9 * SEC, 0x0800);
    stream_wait_frames(ctx, "a", 1);
    assert_int_equal(px_verify_begin(ctx, (const char *[]){"a"}, 1, err), 0);
    /* Three copies with the same timestamp (a pcap stream may repeat them). */
    for (int i = 0; i < 3; i++)
        frame(w, 10 * SEC, 0x88b5);
    stream_wait_frames(ctx, "a", 4);
    px_future *one = px_verify_packet(ctx, "a", hex60(0x88b5, hx), NULL);
    px_future *two = px_verify_packet(ctx, "a", hx, NULL);
    assert_int_equal(stream_wait_done(one), PX_PASS);
    assert_int_equal(stream_wait_done(two), PX_PASS);
    px_frame f1, f2;
    assert_true(px_future_frame(one, &f1));
    assert_true(px_future_frame(two, &f2));
    assert_int_equal(f1.ts.tv_sec, f2.ts.tv_sec); /* same stamp, two different frames */
    /* The third copy is nobody's: never hidden by the claims of the first two. */
    px_future *other = px_verify_no_other_packets(ctx, &(px_verify_opts){.timeout_ms = 50});
    frame(w, 11 * SEC, 0x0800);
    assert_int_equal(stream_wait_done(other), PX_FAIL);
    expect_in(px_future_explanation(other), "on 'a' came:");
    px_future_free(one);
    px_future_free(two);
    px_future_free(other);
    close(w);
    px_ctx_free(ctx);
}

static void test_negative_armed_with_positive(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int w = open_port(ctx, "a");
    char err[PX_ERRBUF_SIZE] = "", hx[121];
    frame(w, 9 * SEC, 0x0800);
    stream_wait_frames(ctx, "a", 1);
    assert_int_equal(px_verify_begin(ctx, (const char *[]){"a"}, 1, err), 0);
    /* Armed together, before the frame: the positive check claims it, so the
     * negative one (which decides at its close) does not count it. */
    px_future *pos = px_verify_packet(ctx, "a", hex60(0x88b5, hx), NULL);
    px_future *neg = px_verify_no_other_packets(ctx, &(px_verify_opts){.timeout_ms = 50});
    frame(w, 9 * SEC + 10 * MS, 0x88b5);
    frame(w, 10 * SEC, 0x0800); /* past the negative window */
    assert_int_equal(stream_wait_done(pos), PX_PASS);
    assert_int_equal(stream_wait_done(neg), PX_PASS);
    px_future_free(pos);
    px_future_free(neg);
    close(w);
    px_ctx_free(ctx);
}

static void test_lookback_drops_before_the_first_frame(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int w = open_pcapng_port(ctx, "a");
    px_mark *m = mark_on(ctx, "a"); /* the stream has no frame yet */
    pcapng_write_isb(w, 0, 20 * SEC, 4); /* lost after the mark */
    pcapng_write_epb(w, 0, 20 * SEC + 1 * MS, 0x0800, 0);
    stream_wait_frames(ctx, "a", 1);
    px_future *neg = px_expect(ctx, "a", px_did_not_see_ethertype(0x88b5), &(px_expect_opts){.timeout_ms = 100, .since = m});
    pcapng_write_epb(w, 0, 21 * SEC, 0x0800, 0);
    assert_int_equal(stream_wait_done(neg), PX_ERROR);
    expect_in(px_future_explanation(neg), "dropped 4 frames");
    px_future_free(neg);
    px_mark_free(m);
    close(w);
    px_ctx_free(ctx);
}

static void test_verify_errors(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx(0);
    int wa = open_port(ctx, "a"), wb = open_port(ctx, "b");
    char err[PX_ERRBUF_SIZE] = "";
    /* A begin that failed leaves nothing verified. */
    assert_int_not_equal(px_verify_begin(ctx, (const char *[]){"nosuchport0"}, 1, err), 0);
    px_future *f = px_verify_no_other_packets(ctx, NULL);
    assert_int_equal(stream_wait_done(f), PX_ERROR);
    expect_in(px_future_explanation(f), "no port is verified");
    px_future_free(f);
    f = px_verify_packet(ctx, "a", "Ether()", NULL);
    assert_int_equal(stream_wait_done(f), PX_ERROR);
    expect_in(px_future_explanation(f), "no port is verified: call px_verify_begin");
    px_future_free(f);
    assert_int_equal(px_verify_mark(ctx, err), PX_EINVAL);
    const char *ports[1] = {"a"};
    assert_int_equal(px_verify_begin(ctx, ports, 1, err), 0);
    f = px_verify_packet(ctx, "b", "Ether()", NULL);
    assert_int_equal(stream_wait_done(f), PX_ERROR);
    expect_in(px_future_explanation(f), "port 'b' is not verified");
    expect_in(px_future_description(f), "within 2000 ms"); /* PX_DEFAULT_VERIFY_TIMEOUT_MS */
    px_future_free(f);
    f = px_verify_no_packet(ctx, "b", NULL, NULL);
    assert_int_equal(stream_wait_done(f), PX_ERROR);
    expect_in(px_future_explanation(f), "port 'b' is not verified");
    expect_in(px_future_description(f), "within 100 ms");
    px_future_free(f);
    f = px_verify_packet(ctx, "a", "Ether()/IPv4(ttl=300)", NULL);
    assert_int_equal(stream_wait_done(f), PX_ERROR);
    expect_in(px_future_explanation(f), "expected frame: ");
    expect_in(px_future_explanation(f), "ttl=300");
    px_future_free(f);
    f = px_verify_packet_each(ctx, (const char *[]){"a", "a"}, 2, "Ether()", NULL);
    assert_int_equal(stream_wait_done(f), PX_ERROR);
    expect_in(px_future_explanation(f), "port 'a' is named twice");
    px_future_free(f);
    assert_int_equal(px_verify_mark(ctx, err), 0);
    assert_int_equal(px_verify_begin(ctx, NULL, 0, err), PX_EINVAL);
    close(wa);
    close(wb);
    px_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookback_sees_frames_since_the_mark),
        cmocka_unit_test(test_lookback_window_starts_at_the_mark),
        cmocka_unit_test(test_lookback_before_the_first_frame),
        cmocka_unit_test(test_lookback_does_not_consume),
        cmocka_unit_test(test_lookback_drops_since_the_mark_are_error),
        cmocka_unit_test(test_history_limit_is_error),
        cmocka_unit_test(test_mark_errors),
        cmocka_unit_test(test_verify_after_send),
        cmocka_unit_test(test_verify_no_other_packets),
        cmocka_unit_test(test_verify_each_any_and_no_packet),
        cmocka_unit_test(test_claims_tell_identical_frames_apart),
        cmocka_unit_test(test_negative_armed_with_positive),
        cmocka_unit_test(test_lookback_drops_before_the_first_frame),
        cmocka_unit_test(test_verify_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
