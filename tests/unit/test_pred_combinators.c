/* Combinators, counting predicates and no_other_packets over synthetic frames,
 * through the dispatch the capture thread uses. The window semantics tested here
 * are the ones docs/predicates.md states ("Combinators under timeouts"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/error.h"
#include "pktexpect/predicates.h"
#include "pktexpect/text.h"

#include "pred_drive.h"
#include "px_refused.h"

static px_predicate *udp(int dport)
{
    px_l4_spec s = PX_L4_SPEC_ANY;
    s.dport = dport;
    return px_saw_udp(&s);
}

static px_predicate *no_udp(int dport)
{
    px_l4_spec s = PX_L4_SPEC_ANY;
    s.dport = dport;
    return px_did_not_see_udp(&s);
}

static px_predicate *tcp(void)
{
    px_l4_spec s = PX_L4_SPEC_ANY;
    return px_saw_tcp(&s);
}

/* A user predicate that reports ERROR at the close (e.g. its own state broke). */
static px_verdict erroring_finish(void *state, bool timed_out, px_result *out)
{
    (void)state, (void)timed_out;
    px_result_explain(out, "broken");
    return PX_ERROR;
}
static const px_predicate_ops erroring_ops = {.name = "erroring", .on_finish = erroring_finish};

/* 1: udp 53, 2: udp 67, 3: tcp, 4: udp 53 */
static void four_frames(void)
{
    add("Ether()/IPv4()/UDP(dport=53)");
    add("Ether()/IPv4()/UDP(dport=67)");
    add("Ether()/IPv4()/TCP()");
    add("Ether()/IPv4()/UDP(dport=53)");
}

static void test_all_of(void **state)
{
    (void)state;
    four_frames();
    run r = drive(px_all_of((px_predicate *[]){udp(67), tcp()}, 2));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 3); /* each child decides on its own frame */
    expect_has(r.why, "2 of 2 passed");

    r = drive(px_all_of((px_predicate *[]){udp(67), udp(99)}, 2));
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.stopped_at, 0);
    expect_has(r.why, "1 of 2 passed");
    expect_has(r.why, "saw_udp(dport=99) FAIL");

    /* a negative child fails at the offending frame: the whole stops there */
    r = drive(px_all_of((px_predicate *[]){udp(99), no_udp(67)}, 2));
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.stopped_at, 2);
    expect_has(r.why, "did_not_see_udp(dport=67) FAIL at frame #2");

    /* positive + negative: PASS only at the close */
    r = drive(px_all_of((px_predicate *[]){udp(53), no_udp(99)}, 2));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 0);

    r = drive(px_all_of((px_predicate *[]){udp(53), px_predicate_new(&erroring_ops, NULL)}, 2));
    assert_int_equal(r.v, PX_ERROR);
    expect_has(r.why, "broken");
}

static void test_any_of(void **state)
{
    (void)state;
    four_frames();
    run r = drive(px_any_of((px_predicate *[]){udp(99), tcp()}, 2));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 3);
    r = drive(px_any_of((px_predicate *[]){udp(99), udp(98)}, 2));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "0 of 2 passed");
    /* a negative child that holds until the close makes any_of PASS there */
    r = drive(px_any_of((px_predicate *[]){udp(99), no_udp(98)}, 2));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 0);
    r = drive(px_any_of((px_predicate *[]){udp(99), px_predicate_new(&erroring_ops, NULL)}, 2));
    assert_int_equal(r.v, PX_ERROR);
    assert_refused(px_any_of(NULL, 0), "any_of: needs at least one child predicate, got NULL");
}

static void test_not(void **state)
{
    (void)state;
    four_frames();
    /* not(positive): PASS at the close when it never matched, FAIL at the match */
    run r = drive(px_not(udp(99)));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 0);
    r = drive(px_not(tcp()));
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.stopped_at, 3);
    expect_has(r.why, "saw_tcp() PASS at frame #3");
    /* not(negative): PASS as soon as the negative fails */
    r = drive(px_not(no_udp(67)));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 2);
    r = drive(px_not(px_predicate_new(&erroring_ops, NULL)));
    assert_int_equal(r.v, PX_ERROR);
    px_predicate *n = px_not(udp(1));
    assert_true(px_predicate_get_ops(n)->flags & PX_PRED_LOSS_SENSITIVE);
    px_predicate_free(n);
}

static void test_sequence(void **state)
{
    (void)state;
    four_frames();
    run r = drive(px_sequence((px_predicate *[]){udp(53), tcp(), udp(53)}, 3));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 4);
    expect_has(r.why, "all 3 steps passed in order");
    /* the order matters: tcp (frame 3) then udp 67 (frame 2 only) never happens */
    r = drive(px_sequence((px_predicate *[]){tcp(), udp(67)}, 2));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "step 2 of 2 did not pass");
    /* one frame satisfies one step only: two udp 67 steps need two frames */
    r = drive(px_sequence((px_predicate *[]){udp(67), udp(67)}, 2));
    assert_int_equal(r.v, PX_FAIL);
    /* a negative last step: after udp 67, no udp 53 until the close -> frame 4 breaks it */
    r = drive(px_sequence((px_predicate *[]){udp(67), no_udp(53)}, 2));
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.stopped_at, 4);
    /* ... while udp 53 before the first step does not count */
    r = drive(px_sequence((px_predicate *[]){tcp(), no_udp(67)}, 2));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 0);
}

static void test_counts(void **state)
{
    (void)state;
    four_frames();
    run r = drive(px_exactly(2, udp(53)));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 0); /* decided at the close */
    assert_true(r.has_value);
    assert_int_equal(r.value, 2);
    expect_has(r.why, "saw 2 of 4 frames");

    r = drive(px_exactly(1, udp(53)));
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.stopped_at, 4); /* over the bound: cannot PASS any more */
    assert_int_equal(r.value, 2);

    assert_int_equal(drive(px_at_least(3, NULL)).v, PX_PASS);
    r = drive(px_at_least(5, NULL));
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.value, 4);
    assert_int_equal(drive(px_at_most(0, tcp())).v, PX_FAIL);
    assert_int_equal(drive(px_at_most(1, tcp())).v, PX_PASS);
    assert_int_equal(drive(px_between(2, 3, px_not(tcp()))).v, PX_PASS);
    assert_int_equal(drive(px_between(0, 1, px_any_of((px_predicate *[]){udp(53), udp(67)}, 2))).v, PX_FAIL);
    r = drive(px_count(px_all_of((px_predicate *[]){udp(-1), px_not(udp(53))}, 2)));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.value, 1); /* per frame: a UDP frame that is not to port 53 */
    assert_int_equal(drive(px_count_not(4, NULL)).v, PX_FAIL);
    assert_int_equal(drive(px_count_not(3, NULL)).v, PX_PASS);

    /* counting needs a per-frame predicate; sequence is not one */
    assert_refused(px_exactly(1, px_sequence((px_predicate *[]){udp(1), udp(2)}, 2)),
                   "exactly: p must be a per-frame predicate");
    assert_refused(px_between(3, 2, NULL), "between: lo must not be above hi, got 3 > 2");
    px_predicate *c = px_count(NULL);
    assert_true(px_predicate_get_ops(c)->flags & PX_PRED_LOSS_SENSITIVE);
    px_predicate_free(c);
}

/* A count that saw too few explains itself as its child alone would: the closest
 * frame and its differences, not only "saw 0 of 1 frame". The noun agrees with
 * the number ("1 matching frame"). */
static void test_counts_explain_the_closest_frame(void **state)
{
    (void)state;
    add("Ether()/IPv6()/UDP(dport=53)");
    add("Ether()/IPv6(fl=0x12)/UDP(dport=53)");
    char err[PX_ERRBUF_SIZE] = "";
    run r = drive(px_exactly(1, px_matches("Ether()/IPv6(fl=0x12345)/UDP(dport=53)", NULL, false, err)));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "expected exactly 1 matching frame;");
    expect_has(r.why, "saw 0 of 2 frames");
    expect_has(r.why, "closest was frame #1: ipv6.fl: expected 0x12345, got 0x00000");
    r = drive(px_at_least(1, udp(67)));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "expected at least 1 matching frame;");
    expect_has(r.why, "closest was frame #1: udp.dport: expected 67, got 53");
    r = drive(px_exactly(2, udp(-1)));
    assert_int_equal(r.v, PX_PASS);
    expect_has(r.why, "expected exactly 2 matching frames;");
    assert_null(strstr(r.why, "closest"));
    r = drive(px_at_most(1, NULL));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "expected at most 1 frame;");
}

static void test_no_other_packets(void **state)
{
    (void)state;
    four_frames();
    run r = drive(px_no_other_packets(NULL));
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.stopped_at, 1);
    r = drive(px_no_other_packets(px_any_of((px_predicate *[]){udp(-1), tcp()}, 2)));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 0);
    r = drive(px_no_other_packets(udp(-1)));
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.stopped_at, 3);
    expect_has(r.why, "frame #3 was");
    expect_has(r.why, "127.0.0.1.20 > 127.0.0.1.80: Flags [S]"); /* the TCP frame */
}

static void test_no_frames_at_all(void **state)
{
    (void)state;
    /* an empty window: positives FAIL, negatives and not(positive) PASS, counts are 0 */
    assert_int_equal(drive(udp(1)).v, PX_FAIL);
    assert_int_equal(drive(no_udp(1)).v, PX_PASS);
    assert_int_equal(drive(px_not(udp(1))).v, PX_PASS);
    run r = drive(px_count(NULL));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.value, 0);
    assert_int_equal(drive(px_sequence((px_predicate *[]){no_udp(1), no_udp(2)}, 2)).v, PX_PASS);
    assert_int_equal(drive(px_no_other_packets(NULL)).v, PX_PASS);
}

/* The count limit ends an expectation with timed_out = false and no stop:
 * verdicts are the same as at the close of the window. */
static px_verdict finish_after_all(px_predicate *p)
{
    for (size_t i = 0; i < NF; i++)
        assert_false(px_predicate_offer(p, &F[i].f));
    px_result res = {0};
    px_verdict v = px_predicate_finish(p, false, &res);
    px_buf_free(&res.explanation);
    px_predicate_free(p);
    return v;
}

static void test_count_limit_end(void **state)
{
    (void)state;
    four_frames();
    assert_int_equal(finish_after_all(udp(99)), PX_FAIL);
    assert_int_equal(finish_after_all(no_udp(99)), PX_PASS);
    assert_int_equal(finish_after_all(px_not(udp(99))), PX_PASS);
    assert_int_equal(finish_after_all(px_exactly(2, udp(53))), PX_PASS);
    assert_int_equal(finish_after_all(px_all_of((px_predicate *[]){udp(99), no_udp(98)}, 2)), PX_FAIL);
    assert_int_equal(finish_after_all(px_sequence((px_predicate *[]){udp(99), no_udp(98)}, 2)), PX_FAIL);
}

static void test_loss_sensitivity(void **state)
{
    (void)state;
    px_predicate *plain = px_all_of((px_predicate *[]){udp(1), tcp()}, 2);
    px_predicate *neg = px_any_of((px_predicate *[]){udp(1), no_udp(2)}, 2);
    px_predicate *seq = px_sequence((px_predicate *[]){udp(1), px_exactly(1, NULL)}, 2);
    assert_false(px_predicate_get_ops(plain)->flags & PX_PRED_LOSS_SENSITIVE);
    assert_true(px_predicate_get_ops(neg)->flags & PX_PRED_LOSS_SENSITIVE);
    assert_true(px_predicate_get_ops(seq)->flags & PX_PRED_LOSS_SENSITIVE);
    px_predicate_free(plain);
    px_predicate_free(neg);
    px_predicate_free(seq);
}

static void test_describe(void **state)
{
    (void)state;
    px_predicate *p = px_all_of(
        (px_predicate *[]){px_sequence((px_predicate *[]){udp(53), px_not(tcp())}, 2), px_between(1, 2, udp(67)),
                           px_count_not(3, NULL), px_no_other_packets(udp(-1))},
        4);
    px_buf d = PX_BUF_INIT;
    px_predicate_describe(p, &d);
    assert_string_equal(px_buf_cstr(&d), "all_of(sequence(saw_udp(dport=53), not(saw_tcp())), "
                                         "between(1, 2, saw_udp(dport=67)), count() != 3, "
                                         "no_other_packets(saw_udp()))");
    px_buf_free(&d);
    px_predicate_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_all_of, teardown),
        cmocka_unit_test_teardown(test_any_of, teardown),
        cmocka_unit_test_teardown(test_not, teardown),
        cmocka_unit_test_teardown(test_sequence, teardown),
        cmocka_unit_test_teardown(test_counts, teardown),
        cmocka_unit_test_teardown(test_counts_explain_the_closest_frame, teardown),
        cmocka_unit_test_teardown(test_no_other_packets, teardown),
        cmocka_unit_test_teardown(test_no_frames_at_all, teardown),
        cmocka_unit_test_teardown(test_count_limit_end, teardown),
        cmocka_unit_test_teardown(test_loss_sensitivity, teardown),
        cmocka_unit_test_teardown(test_describe, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
