/* The first built-in predicates over synthetic frames, fed through the same
 * dispatch (px_predicate_offer / px_predicate_finish) the capture thread uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pktexpect/predicates.h"
#include "px_refused.h"

static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t MAC_B[6] = {0x02, 0, 0, 0, 0, 0x0b};

/* dst, src, optional VLAN tag (vid < 0: none), ethertype, padding to 60 */
static px_frame frame_of(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], int vid, int pcp, uint16_t type)
{
    size_t o = 0;
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    o = 12;
    if (vid >= 0) {
        uint16_t tci = (uint16_t)((pcp << 13) | vid);
        buf[o++] = 0x81;
        buf[o++] = 0x00;
        buf[o++] = (uint8_t)(tci >> 8);
        buf[o++] = (uint8_t)tci;
    }
    buf[o++] = (uint8_t)(type >> 8);
    buf[o++] = (uint8_t)type;
    memset(buf + o, 0, 60 - o);
    px_frame f;
    px_frame_dissect(&f, buf, 60, 60);
    return f;
}

typedef struct run {
    px_verdict v;
    bool stopped;
    int64_t value;
    bool has_value;
    char why[256];
} run;

/* Offers frames until stop or the end, then finishes (timed out unless stopped). */
static run run_frames(px_predicate *p, const px_frame *fs, size_t n)
{
    run r = {0};
    for (size_t i = 0; i < n && !r.stopped; i++)
        r.stopped = px_predicate_offer(p, &fs[i]);
    px_result res = {0};
    r.v = px_predicate_finish(p, !r.stopped, &res);
    r.value = res.value;
    r.has_value = res.has_value;
    snprintf(r.why, sizeof r.why, "%s", px_buf_cstr(&res.explanation));
    px_buf_free(&res.explanation);
    px_predicate_free(p);
    return r;
}

static void test_positive_mac_and_type(void **state)
{
    (void)state;
    uint8_t b1[64], b2[64];
    px_frame fs[2] = {frame_of(b1, MAC_B, MAC_A, -1, 0, 0x0800), frame_of(b2, MAC_A, MAC_B, -1, 0, 0x88b5)};
    run r = run_frames(px_saw_src_mac(MAC_B), fs, 2);
    assert_int_equal(r.v, PX_PASS);
    assert_true(r.stopped);
    r = run_frames(px_saw_dst_mac(MAC_B), fs, 2);
    assert_int_equal(r.v, PX_PASS);
    r = run_frames(px_saw_ethertype(0x88b5), fs, 2);
    assert_int_equal(r.v, PX_PASS);
    r = run_frames(px_saw_ethertype(0x86dd), fs, 2);
    assert_int_equal(r.v, PX_FAIL);
    assert_false(r.stopped);
    /* The condition in words; the call itself is the report's headline, once. */
    assert_non_null(strstr(r.why, "expected a frame with ethertype 0x86dd;"));
    assert_null(strstr(r.why, "saw_ethertype("));
    assert_non_null(strstr(r.why, "saw 2 frames"));
    assert_non_null(strstr(r.why, "eth.type: expected 0x86dd, got 0x800")); /* closest frame */
    r = run_frames(px_received_packet(), fs, 0);
    assert_int_equal(r.v, PX_FAIL);
    r = run_frames(px_received_packet(), fs, 1);
    assert_int_equal(r.v, PX_PASS);
}

static void test_vlan(void **state)
{
    (void)state;
    uint8_t b1[64], b2[64];
    px_frame fs[2] = {frame_of(b1, MAC_A, MAC_B, 101, 0, 0x0800), frame_of(b2, MAC_A, MAC_B, 102, 5, 0x0800)};
    assert_int_equal(run_frames(px_saw_vlan_tag(102, -1), fs, 2).v, PX_PASS);
    assert_int_equal(run_frames(px_saw_vlan_tag(102, 5), fs, 2).v, PX_PASS);
    assert_int_equal(run_frames(px_saw_vlan_tag(102, 4), fs, 2).v, PX_FAIL);
    assert_int_equal(run_frames(px_did_not_see_vlan_tag(103), fs, 2).v, PX_PASS);
    run r = run_frames(px_did_not_see_vlan_tag(101), fs, 2);
    assert_int_equal(r.v, PX_FAIL);
    assert_true(r.stopped); /* stops early on the offending frame */
    /* the ethertype after the tag */
    assert_int_equal(run_frames(px_saw_ethertype(0x0800), fs, 2).v, PX_PASS);
    assert_refused(px_saw_vlan_tag(4096, -1), "saw_vlan_tag: vid must be 0..4095, got 4096");
    assert_refused(px_saw_vlan_tag(1, 8), "saw_vlan_tag: pcp must be 0..7 or -1 (any), got 8");
    assert_refused(px_did_not_see_vlan_tag(-1), "did_not_see_vlan_tag: vid must be 0..4095, got -1");
}

static void test_negative_macs(void **state)
{
    (void)state;
    uint8_t b1[64];
    px_frame fs[1] = {frame_of(b1, MAC_A, MAC_B, -1, 0, 0x0800)};
    assert_int_equal(run_frames(px_did_not_see_src_mac(MAC_A), fs, 1).v, PX_PASS);
    assert_int_equal(run_frames(px_did_not_see_src_mac(MAC_B), fs, 1).v, PX_FAIL);
    assert_int_equal(run_frames(px_did_not_see_dst_mac(MAC_A), fs, 1).v, PX_FAIL);
    assert_int_equal(run_frames(px_timed_out(), fs, 0).v, PX_PASS);
    assert_int_equal(run_frames(px_timed_out(), fs, 1).v, PX_FAIL);
}

/* A FAIL of a negative shows the offending frame and the port it arrived on
 * (a multi-port expectation needs it), and words the condition positively
 * instead of repeating the call ("no frame matching did_not_see_...(...)"). */
static void test_negative_failures_show_the_frame(void **state)
{
    (void)state;
    uint8_t b1[64];
    px_frame fs[1] = {frame_of(b1, MAC_A, MAC_B, -1, 0, 0x0800)};
    fs[0].port = "p2";
    run r = run_frames(px_did_not_see_src_mac(MAC_B), fs, 1);
    assert_int_equal(r.v, PX_FAIL);
    assert_non_null(strstr(r.why, "expected no frame from src MAC 02:00:00:00:00:0b; frame #1 matched: 60 bytes on p2: "));
    assert_null(strstr(r.why, "did_not_see_src_mac"));
    r = run_frames(px_timed_out(), fs, 1);
    assert_int_equal(r.v, PX_FAIL);
    assert_non_null(strstr(r.why, "frame #1 was: 60 bytes on p2: 02:00:00:00:00:0b > 02:00:00:00:00:0a, ethertype IPv4 (0x0800)"));
    r = run_frames(px_no_other_packets(NULL), fs, 1);
    assert_int_equal(r.v, PX_FAIL);
    assert_non_null(strstr(r.why, "frame #1 was: 60 bytes on p2: "));
    /* A synthetic frame has no port: nothing invented. */
    fs[0].port = NULL;
    r = run_frames(px_timed_out(), fs, 1);
    assert_non_null(strstr(r.why, "frame #1 was: 60 bytes 02:00:00:00:00:0b"));
}

static void test_counts(void **state)
{
    (void)state;
    uint8_t b[5][64];
    px_frame fs[5];
    for (int i = 0; i < 5; i++)
        fs[i] = frame_of(b[i], MAC_A, MAC_B, -1, 0, 0x0800);
    run r = run_frames(px_packet_count(), fs, 5);
    assert_int_equal(r.v, PX_PASS);
    assert_true(r.has_value);
    assert_int_equal(r.value, 5);
    r = run_frames(px_packet_count_was(3), fs, 3);
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.value, 3);
    r = run_frames(px_packet_count_was(3), fs, 5);
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.value, 4); /* stopped at the first frame too many */
    r = run_frames(px_packet_count_was_less_than(3), fs, 2);
    assert_int_equal(r.v, PX_PASS);
    r = run_frames(px_packet_count_was_less_than(3), fs, 5);
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.value, 3);
    assert_non_null(strstr(r.why, "expected at most 2 frames")); /* an alias of at_most(2) */
    assert_refused(px_packet_count_was_less_than(0), "n must be at least 1"); /* could never PASS */
}

/* The field predicates judge one frame alone, so counts and combinators take them. */
static void test_usable_in_counts(void **state)
{
    (void)state;
    uint8_t b1[64], b2[64];
    px_frame fs[2] = {frame_of(b1, MAC_A, MAC_B, 102, 0, 0x0800), frame_of(b2, MAC_B, MAC_A, -1, 0, 0x0800)};
    px_predicate *q = px_saw_src_mac(MAC_B);
    assert_true(px_predicate_is_per_frame(q));
    px_predicate_free(q);
    px_predicate *p = px_exactly(1, px_saw_dst_mac(MAC_A));
    assert_non_null(p);
    assert_int_equal(run_frames(p, fs, 2).v, PX_PASS);
    p = px_exactly(2, px_saw_vlan_tag(102, -1));
    assert_non_null(p);
    assert_int_equal(run_frames(p, fs, 2).v, PX_FAIL);
}

static void test_describe_and_flags(void **state)
{
    (void)state;
    px_predicate *p = px_saw_vlan_tag(102, 3);
    px_buf b = PX_BUF_INIT;
    px_predicate_describe(p, &b);
    assert_string_equal(px_buf_cstr(&b), "saw_vlan_tag(102, pcp=3)");
    assert_int_equal(px_predicate_get_ops(p)->flags & PX_PRED_LOSS_SENSITIVE, 0);
    px_predicate_free(p);
    px_buf_clear(&b);
    p = px_did_not_see_dst_mac(MAC_A);
    px_predicate_describe(p, &b);
    assert_string_equal(px_buf_cstr(&b), "did_not_see_dst_mac(02:00:00:00:00:0a)");
    assert_true(px_predicate_get_ops(p)->flags & PX_PRED_LOSS_SENSITIVE);
    px_predicate_free(p);
    px_buf_free(&b);
}

/* A predicate whose on_finish gives no verdict is reported as ERROR. */
static px_verdict bad_finish(void *s, bool t, px_result *r)
{
    (void)s, (void)t, (void)r;
    return PX_PENDING;
}
static const px_predicate_ops bad_ops = {.name = "bad", .on_finish = bad_finish};

static void test_bad_predicate(void **state)
{
    (void)state;
    assert_null(px_predicate_new(&(px_predicate_ops){.name = "no_finish"}, NULL));
    run r = run_frames(px_predicate_new(&bad_ops, NULL), NULL, 0);
    assert_int_equal(r.v, PX_ERROR);
    assert_non_null(strstr(r.why, "no verdict"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positive_mac_and_type), cmocka_unit_test(test_vlan),
        cmocka_unit_test(test_negative_macs),         cmocka_unit_test(test_counts),
        cmocka_unit_test(test_negative_failures_show_the_frame),
        cmocka_unit_test(test_describe_and_flags),    cmocka_unit_test(test_usable_in_counts),    cmocka_unit_test(test_bad_predicate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
