/* The capture engine's semantics, deterministically and without root: ports
 * fed from pcap / pcapng streams that the test writes into pipes with crafted
 * timestamps (px_port_open_pcap). The same promises are tested on veth as root
 * in tests/net/test_core.c and tests/net/test_engine.c.
 *
 *   DESIGN 2.1 armed on return, window from the acknowledgement  test_window_starts_at_arm,
 *                                                                 test_paused_start_anchors_at_first_frame
 *   DESIGN 2.3 on_finish once, after the last frame              (every test: one verdict per future)
 *   DESIGN 2.4 count limit                                        test_count_limit_with_drops_is_error
 *   DESIGN 2.5 windows by frame time, late frames never decide,  test_late_frame_never_decides,
 *              one deadline, multi-port closure                   test_multi_port_waits_for_every_port,
 *                                                                 test_multi_port_unknown_deadline_holds_frames,
 *                                                                 test_clock_step_back_neither_hides_nor_admits
 *   DESIGN 2.6 drops between arm and decision make ERROR          test_count_limit_with_drops_is_error,
 *                                                                 test_stop_condition_with_drops_positive_stays_pass,
 *                                                                 test_losses_before_the_window_do_not_count
 *   DESIGN 2.9 errors never hang                                  test_malformed_stream_is_error, test_eof_closes
 *   DESIGN 2.11 bounded lag: a capture behind resolves ERROR     test_capture_behind_is_error
 *   Window clock of live ports across wall-clock steps           test_clock_map_step
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctx_internal.h"
#include "pktexpect/pktexpect.h"
#include "pcap_stream.h"
#include "stream_port.h"

#define SEC 1000000000LL
#define MS 1000000LL

/* ---- writing streams (pcapng blocks: pcap_stream.h) ---- */

/* Classic pcap, nanosecond magic. */
static void pcap_header(int fd) { pcap_write_header(fd); }

/* A pcap record: the eth60 frame of ethertype `type`, stamped `ns`. */
static void pcap_frame(int fd, int64_t ns, uint16_t type)
{
    uint8_t f[60];
    eth60(f, type);
    pcap_write_record(fd, ns, f, sizeof f);
}

/* ---- fixtures ---- */

static px_ctx *new_ctx(void)
{
    char err[PX_ERRBUF_SIZE];
    px_ctx_opts o = {.noise_filter_off = true};
    px_ctx *ctx = px_ctx_new(&o, err);
    assert_non_null(ctx);
    return ctx;
}

static px_future *expect_ms(px_ctx *ctx, const char *port, px_predicate *p, uint32_t ms, uint32_t count)
{
    px_expect_opts o = {.timeout_ms = ms, .count = count};
    px_future *f = px_expect(ctx, port, p, &o);
    assert_non_null(f);
    return f;
}

/* ---- tests ---- */

static void test_window_starts_at_arm(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    int w = stream_port_open(ctx, "a", false);
    pcap_header(w);
    pcap_frame(w, 100 * SEC, 0x88b5); /* before the arm: must not count */
    stream_wait_frames(ctx, "a", 1);
    px_future *f = expect_ms(ctx, "a", px_packet_count(), 100, 0);
    pcap_frame(w, 100 * SEC + 10 * MS, 0x88b5);
    pcap_frame(w, 100 * SEC + 100 * MS, 0x88b5); /* at the deadline: in */
    pcap_frame(w, 100 * SEC + 100 * MS + 1, 0x88b5); /* past it: closes the window */
    assert_int_equal(stream_wait_done(f), PX_PASS);
    assert_int_equal(px_future_value(f), 2);
    px_counters c;
    px_future_counters(f, &c);
    assert_int_equal(c.seen, 2);
    px_future_free(f);
    close(w);
    px_ctx_free(ctx);
}

static void test_late_frame_never_decides(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    int w = stream_port_open(ctx, "a", false);
    pcap_header(w);
    pcap_frame(w, 5 * SEC, 0x0800);
    stream_wait_frames(ctx, "a", 1);
    px_future *pos = expect_ms(ctx, "a", px_saw_ethertype(0x88b5), 100, 0);
    px_future *neg = expect_ms(ctx, "a", px_did_not_see_ethertype(0x88b5), 100, 0);
    /* The only matching frame comes 200 ms into the stream: after the deadline. */
    pcap_frame(w, 5 * SEC + 200 * MS, 0x88b5);
    assert_int_equal(stream_wait_done(pos), PX_FAIL);
    assert_int_equal(stream_wait_done(neg), PX_PASS);
    /* The FAIL says the frame came late rather than not at all. */
    const char *why = px_future_explanation(pos);
    if (!strstr(why, "the next frame on 'a' came 100.0 ms after the deadline"))
        fail_msg("explanation: %s", why);
    px_future_free(pos);
    px_future_free(neg);
    close(w);
    px_ctx_free(ctx);
}

static void test_paused_start_anchors_at_first_frame(void **state)
{
    (void)state;
    char path[] = "/tmp/pxengXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    pcap_header(fd);
    pcap_frame(fd, 50 * SEC, 0x88b5);
    pcap_frame(fd, 50 * SEC + 30 * MS, 0x88b5);
    pcap_frame(fd, 50 * SEC + 80 * MS, 0x88b6);
    pcap_frame(fd, 51 * SEC, 0x88b5);
    close(fd);
    px_ctx *ctx = new_ctx();
    char err[PX_ERRBUF_SIZE] = "";
    px_pcap_port_opts o = {.path = path, .paused = true};
    assert_int_equal(px_port_open_pcap(ctx, "rec", &o, err), 0);
    px_future *count = expect_ms(ctx, "rec", px_packet_count(), 100, 0);
    px_future *neg = expect_ms(ctx, "rec", px_did_not_see_ethertype(0x88b6), 100, 0);
    px_future *whole = expect_ms(ctx, "rec", px_packet_count(), 5000, 0);
    assert_int_equal(px_future_wait_for(count, 50), PX_PENDING); /* nothing read while paused */
    assert_int_equal(px_port_start(ctx, "rec"), 0);
    assert_int_equal(stream_wait_done(count), PX_PASS);
    assert_int_equal(px_future_value(count), 3);
    assert_int_equal(stream_wait_done(neg), PX_FAIL);
    /* The end of the stream closes the 5 s window at once (stream time). */
    assert_int_equal(stream_wait_done(whole), PX_PASS);
    assert_int_equal(px_future_value(whole), 4);
    px_future_free(count);
    px_future_free(neg);
    px_future_free(whole);
    px_ctx_free(ctx);
    unlink(path);
}

/* Port b has read nothing when the expectation is armed: its window starts at
 * its first frame, so the deadline is unknown until then. Port a must not
 * count its frame at 10.5 s meanwhile: once b anchors at 10.0 s the deadline
 * is 10.1 s. (The frames are written before b starts: deterministic.) */
static void test_multi_port_unknown_deadline_holds_frames(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    int wa = stream_port_open(ctx, "a", false);
    int p[2];
    assert_int_equal(pipe(p), 0);
    px_pcap_port_opts ob = {.fd = p[0], .paused = true};
    char err[PX_ERRBUF_SIZE] = "";
    assert_int_equal(px_port_open_pcap(ctx, "b", &ob, err), 0);
    close(p[0]);
    int wb = p[1];
    pcap_header(wa);
    pcap_frame(wa, 10 * SEC, 0x0800);
    stream_wait_frames(ctx, "a", 1);
    const char *ports[] = {"a", "b"};
    px_expect_opts o = {.timeout_ms = 100};
    px_future *f = px_expect_any(ctx, ports, 2, px_packet_count(), &o);
    assert_non_null(f);
    pcap_frame(wa, 10 * SEC + 20 * MS, 0x88b5);
    pcap_frame(wa, 10 * SEC + 500 * MS, 0x88b5); /* after the deadline b will fix */
    pcap_header(wb);
    pcap_frame(wb, 10 * SEC, 0x88b5);
    pcap_frame(wb, 10 * SEC + 101 * MS, 0x88b5);
    usleep(50 * 1000); /* let port a read what it may before b starts */
    assert_int_equal(px_future_wait_for(f, 0), PX_PENDING);
    assert_int_equal(px_port_start(ctx, "b"), 0);
    assert_int_equal(stream_wait_done(f), PX_PASS);
    assert_int_equal(px_future_value(f), 2); /* a at 10.02 s, b at 10.0 s */
    px_future_free(f);
    close(wa);
    close(wb);
    px_ctx_free(ctx);
}

static void test_multi_port_waits_for_every_port(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    int wa = stream_port_open(ctx, "a", false), wb = stream_port_open(ctx, "b", false);
    pcap_header(wa);
    pcap_header(wb);
    pcap_frame(wa, 10 * SEC, 0x0800);
    pcap_frame(wb, 10 * SEC, 0x0800);
    stream_wait_frames(ctx, "a", 1);
    stream_wait_frames(ctx, "b", 1);
    const char *ports[] = {"a", "b"};
    px_expect_opts o = {.timeout_ms = 100};
    px_future *f = px_expect_any(ctx, ports, 2, px_packet_count(), &o);
    pcap_frame(wa, 10 * SEC + 20 * MS, 0x88b5);
    pcap_frame(wa, 10 * SEC + 500 * MS, 0x88b5); /* port a is past the deadline */
    stream_wait_frames(ctx, "a", 3);
    /* Port b has not examined its frames up to the deadline: no verdict yet. */
    assert_int_equal(px_future_wait_for(f, 100), PX_PENDING);
    pcap_frame(wb, 10 * SEC + 90 * MS, 0x88b5);
    pcap_frame(wb, 10 * SEC + 101 * MS, 0x88b5);
    assert_int_equal(stream_wait_done(f), PX_PASS);
    assert_int_equal(px_future_value(f), 2);
    px_future_free(f);
    close(wa);
    close(wb);
    px_ctx_free(ctx);
}

static void test_clock_step_back_neither_hides_nor_admits(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    int w = stream_port_open(ctx, "a", false);
    pcap_header(w);
    pcap_frame(w, 100000 * SEC, 0x0800);
    stream_wait_frames(ctx, "a", 1);
    px_future *f = expect_ms(ctx, "a", px_packet_count(), 100, 0);
    /* The recording host's clock stepped back an hour: the frame still arrived
     * after the arm (arrival order) and counts. */
    pcap_frame(w, 100000 * SEC - 3600 * SEC, 0x88b5);
    pcap_frame(w, 100000 * SEC + 50 * MS, 0x88b5);
    pcap_frame(w, 100000 * SEC + 150 * MS, 0x88b5); /* late: not counted */
    assert_int_equal(stream_wait_done(f), PX_PASS);
    assert_int_equal(px_future_value(f), 2);
    px_future_free(f);
    close(w);
    px_ctx_free(ctx);
}

static void test_count_limit_with_drops_is_error(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    int w = stream_port_open(ctx, "a", false);
    pcapng_write_shb(w);
    pcapng_write_idb(w, "a");
    pcapng_write_epb(w, 0, 20 * SEC, 0x0800, 0);
    stream_wait_frames(ctx, "a", 1);
    px_future *neg = expect_ms(ctx, "a", px_did_not_see_ethertype(0x88b6), 1000, 3);
    px_future *cnt = expect_ms(ctx, "a", px_packet_count(), 1000, 3);
    pcapng_write_epb(w, 0, 20 * SEC + 1 * MS, 0x0800, 0);
    pcapng_write_isb(w, 0, 20 * SEC + 2 * MS, 2); /* the frame it looks for may be among these */
    pcapng_write_epb(w, 0, 20 * SEC + 3 * MS, 0x0800, 0);
    pcapng_write_epb(w, 0, 20 * SEC + 4 * MS, 0x0800, 0); /* the count limit ends both here */
    assert_int_equal(stream_wait_done(neg), PX_ERROR);
    assert_non_null(strstr(px_future_explanation(neg), "dropped 2 frames"));
    assert_int_equal(stream_wait_done(cnt), PX_ERROR);
    px_counters c;
    px_future_counters(neg, &c);
    assert_int_equal(c.drops, 2);
    assert_int_equal(c.seen, 3);
    px_future_free(neg);
    px_future_free(cnt);
    close(w);
    px_ctx_free(ctx);
}

static void test_stop_condition_with_drops_positive_stays_pass(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    int w = stream_port_open(ctx, "a", false);
    pcapng_write_shb(w);
    pcapng_write_idb(w, "a");
    pcapng_write_epb(w, 0, 20 * SEC, 0x0800, 0);
    stream_wait_frames(ctx, "a", 1);
    px_future *pos = expect_ms(ctx, "a", px_saw_ethertype(0x88b5), 1000, 0);
    px_future *neg = expect_ms(ctx, "a", px_did_not_see_ethertype(0x88b5), 1000, 0);
    pcapng_write_isb(w, 0, 20 * SEC + 1 * MS, 7);
    pcapng_write_epb(w, 0, 20 * SEC + 3 * MS, 0x88b5, 0);
    assert_int_equal(stream_wait_done(pos), PX_PASS); /* a frame that was seen is proof */
    assert_int_equal(stream_wait_done(neg), PX_ERROR); /* its FAIL is not trusted */
    px_future_free(pos);
    px_future_free(neg);
    close(w);
    px_ctx_free(ctx);
}

static void test_losses_before_the_window_do_not_count(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    int w = stream_port_open(ctx, "a", false);
    /* Armed before the stream's first frame: the window opens at that frame. */
    px_future *neg = expect_ms(ctx, "a", px_did_not_see_ethertype(0x88b6), 100, 0);
    pcapng_write_shb(w);
    pcapng_write_idb(w, "a");
    pcapng_write_isb(w, 0, 29 * SEC, 7); /* lost before the first frame */
    pcapng_write_epb(w, 0, 30 * SEC, 0x0800, 0);
    pcapng_write_epb(w, 0, 30 * SEC + 50 * MS, 0x0800, 0);
    pcapng_write_epb(w, 0, 30 * SEC + 200 * MS, 0x0800, 0);
    assert_int_equal(stream_wait_done(neg), PX_PASS);
    px_counters c;
    px_future_counters(neg, &c);
    assert_int_equal(c.drops, 0);
    assert_int_equal(c.seen, 2);
    px_future_free(neg);
    close(w);
    px_ctx_free(ctx);
}

static void test_eof_closes(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    int w = stream_port_open(ctx, "a", false);
    pcap_header(w);
    pcap_frame(w, 3 * SEC, 0x0800);
    stream_wait_frames(ctx, "a", 1);
    px_future *f = expect_ms(ctx, "a", px_timed_out(), 60000, 0);
    close(w); /* the stream ends: nothing more can arrive */
    assert_int_equal(stream_wait_done(f), PX_PASS);
    /* A port whose stream ended still takes expectations: they close at once. */
    px_future *g = expect_ms(ctx, "a", px_received_packet(), 60000, 0);
    assert_int_equal(stream_wait_done(g), PX_FAIL);
    px_future_free(f);
    px_future_free(g);
    px_ctx_free(ctx);
}

static void test_malformed_stream_is_error(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    int w = stream_port_open(ctx, "a", false);
    pcap_header(w);
    pcap_frame(w, 3 * SEC, 0x0800);
    stream_wait_frames(ctx, "a", 1);
    px_future *f = expect_ms(ctx, "a", px_timed_out(), 60000, 0);
    uint8_t bad[16] = {0};
    put32(bad + 8, 0x7fffffff); /* caplen far over the snap length */
    put32(bad + 12, 60);
    write_all(w, bad, sizeof bad);
    assert_int_equal(stream_wait_done(f), PX_ERROR);
    assert_non_null(strstr(px_future_explanation(f), "pcap port 'a'"));
    px_future_free(f);
    close(w);
    /* A port that died is opened afresh on next use: a missing stream here. */
    px_ctx_free(ctx);
}

/* A slow predicate: keeps the capture thread busy ~2 ms per frame. */
static void slow_on_packet(void *st, const px_frame *f)
{
    (void)st;
    (void)f;
    struct timespec t = {0, 2 * 1000000L};
    nanosleep(&t, NULL);
}
static px_verdict slow_finish(void *st, bool timed_out, px_result *out)
{
    (void)st;
    (void)timed_out;
    (void)out;
    return PX_PASS;
}
static const px_predicate_ops slow_ops = {.name = "slow", .on_packet = slow_on_packet, .on_finish = slow_finish};

static void test_capture_behind_is_error(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    px_ctx_opts co = {.noise_filter_off = true, .lag_grace_ms = 20};
    px_ctx *ctx = px_ctx_new(&co, err);
    int w = stream_port_open(ctx, "a", true); /* a live stream on this machine's clock */
    pcap_header(w);
    px_future *slow = expect_ms(ctx, "a", px_predicate_new(&slow_ops, NULL), 30000, 0);
    px_future *f = expect_ms(ctx, "a", px_saw_ethertype(0x88b6), 100, 0);
    /* 300 frames stamped now, the matching one last: examining them takes ~600 ms,
     * far past the deadline + grace. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t t0 = (int64_t)now.tv_sec * SEC + now.tv_nsec;
    for (int i = 0; i < 299; i++)
        pcap_frame(w, t0 + i * 1000, 0x0800);
    pcap_frame(w, t0 + 299 * 1000, 0x88b6);
    px_verdict v = stream_wait_done(f);
    assert_int_equal(v, PX_ERROR);
    assert_non_null(strstr(px_future_explanation(f), "behind"));
    px_future_cancel(slow);
    px_future_free(slow);
    px_future_free(f);
    close(w);
    px_ctx_free(ctx);
}

static void test_clock_map_step(void **state)
{
    (void)state;
    px__clock_map m = {0};
    int64_t mono = 100000 * SEC, rt = 5000 * SEC;
    px__clock_sample(&m, rt, mono, 0);
    m.off_prev = m.off;
    m.last = mono - SEC;
    /* A frame stamped 1 ms ago maps to 1 ms ago. */
    assert_true(px__clock_map_frame(&m, rt - MS, mono, mono - SEC) == mono - MS);
    /* The wall clock steps back an hour; frames stamped before the step keep the
     * old offset (they are not pushed an hour into the future, nor clamped to now
     * when they are plausible). */
    int64_t mono2 = mono + 10 * MS, rt_stepped = rt + 10 * MS - 3600 * SEC;
    px__clock_sample(&m, rt_stepped, mono2, 0);
    assert_true(px__clock_map_frame(&m, rt + 5 * MS, mono2, mono) == mono + 5 * MS);
    /* and frames stamped after the step use the new one. */
    assert_true(px__clock_map_frame(&m, rt_stepped - 1 * MS, mono2, mono) == mono2 - 1 * MS);
    /* Forward step: a pre-step frame is not hidden before the floor. */
    px__clock_map k = {0};
    px__clock_sample(&k, rt, mono, 0);
    k.off_prev = k.off;
    k.last = mono - SEC;
    px__clock_sample(&k, rt + 10 * MS + 3600 * SEC, mono + 10 * MS, 0);
    assert_true(px__clock_map_frame(&k, rt + 2 * MS, mono + 10 * MS, mono) == mono + 2 * MS);
    /* Mapped times never go back. */
    assert_true(px__clock_map_frame(&k, rt + 1 * MS, mono + 10 * MS, mono) == mono + 2 * MS);
}

/* A pair of clock reads taken apart (the reading thread preempted between
 * them) is not a step: it either stays within the step threshold plus its
 * uncertainty, or is ignored when too uncertain to tell. Before, such a pair
 * made an epoch, and the frames after it were placed by an offset off by the
 * delay: an expectation armed just before missed its frame (vm/core, an
 * emulated machine, test_armed_on_return). */
static void test_clock_sample_uncertain(void **state)
{
    (void)state;
    px__clock_map m = {0};
    int64_t mono = 100000 * SEC, rt = 5000 * SEC;
    px__clock_sample(&m, rt, mono, 0);
    uint32_t epoch = m.epoch;
    int64_t off = m.off;
    /* realtime read 3 ms after the monotonic one, and the pair says so */
    px__clock_sample(&m, rt + 13 * MS, mono + 10 * MS, 3 * MS);
    assert_int_equal(m.epoch, epoch);
    assert_true(m.off == off); /* ignored: more uncertain than a step */
    /* 0.8 ms apart with an uncertainty of 0.5 ms: within 1 ms + 0.5 ms, slew */
    px__clock_sample(&m, rt + 20 * MS + 800000, mono + 20 * MS, 500000);
    assert_int_equal(m.epoch, epoch);
    /* a real step is still one */
    px__clock_sample(&m, rt + 30 * MS - 3600 * SEC, mono + 30 * MS, 10000);
    assert_int_equal(m.epoch, epoch + 1);
    /* px__clock_pair reads an instant between its monotonic reads */
    int64_t before = px__mono_ns(), r = 0, u = -1;
    int64_t t = px__clock_pair(&r, &u);
    int64_t after = px__mono_ns();
    assert_true(before <= t && t <= after);
    assert_true(u >= 0 && r > 0);
}

/* A stream that cannot be opened: the library's one errno map, with "I/O
 * error" for what it does not name (here ENOTDIR). */
static void test_open_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/pxengXXXXXX";
    assert_non_null(mkdtemp(dir));
    char missing[64], under_file[80];
    snprintf(missing, sizeof missing, "%s/missing.pcap", dir);
    snprintf(under_file, sizeof under_file, "%s/file/x.pcap", dir);
    char file[64];
    snprintf(file, sizeof file, "%s/file", dir);
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    px_ctx *ctx = new_ctx();
    char err[PX_ERRBUF_SIZE] = "";
    px_pcap_port_opts o = {.path = missing};
    assert_int_equal(px_port_open_pcap(ctx, "a", &o, err), PX_ENODEV);
    o.path = under_file;
    assert_int_equal(px_port_open_pcap(ctx, "b", &o, err), PX_EIO);
    assert_non_null(strstr(err, "cannot open"));
    px_ctx_free(ctx);
    unlink(file);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_starts_at_arm),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_late_frame_never_decides),
        cmocka_unit_test(test_paused_start_anchors_at_first_frame),
        cmocka_unit_test(test_multi_port_waits_for_every_port),
        cmocka_unit_test(test_multi_port_unknown_deadline_holds_frames),
        cmocka_unit_test(test_clock_step_back_neither_hides_nor_admits),
        cmocka_unit_test(test_count_limit_with_drops_is_error),
        cmocka_unit_test(test_stop_condition_with_drops_positive_stays_pass),
        cmocka_unit_test(test_losses_before_the_window_do_not_count),
        cmocka_unit_test(test_eof_closes),
        cmocka_unit_test(test_malformed_stream_is_error),
        cmocka_unit_test(test_capture_behind_is_error),
        cmocka_unit_test(test_clock_map_step),
        cmocka_unit_test(test_clock_sample_uncertain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
