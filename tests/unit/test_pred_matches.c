/* matches(): frame equality under a mask, the closest-frame diff in the FAIL
 * explanation, padding handled by an explicit option, and its expression form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/error.h"
#include "pktexpect/expr.h"
#include "pktexpect/predicates.h"
#include "pktexpect/text.h"

#include "pred_drive.h"
#include "px_refused.h"

#define EXPECTED "Ether(dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=63)/UDP(sport=5,dport=53)"

static void test_exact_and_closest(void **state)
{
    (void)state;
    add("Ether(dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.9,ttl=1)/TCP()");       /* far */
    add("Ether(dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/UDP(sport=5,dport=53)"); /* near */
    char err[PX_ERRBUF_SIZE];
    run r = drive(px_matches(EXPECTED, NULL, false, err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "saw 2 frames, none matched");
    expect_has(r.why, "closest was frame #2");
    expect_has(r.why, "ipv4.ttl: expected 63, got 64");

    /* ttl ignored: the checksum still differs, so ignore it too */
    r = drive(px_matches(EXPECTED, "ipv4.ttl", false, err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "ipv4.chksum");
    r = drive(px_matches(EXPECTED, "ipv4.ttl, ipv4.chksum", false, err));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 2);
}

/* A field written in hex in the expected frame is shown in hex in the diff
 * (the base it was written in); one written in decimal stays decimal. The
 * layer occurrence counts ("vlan[1]" is the second tag). */
static void test_diff_in_the_base_written(void **state)
{
    (void)state;
    add("Ether()/Dot1Q(vlan=16)/Dot1Q(vlan=33)/IPv4(id=0x1235, ttl=64)/UDP(dport=53)");
    char err[PX_ERRBUF_SIZE];
    run r = drive(px_matches("Ether()/Dot1Q(vlan=16)/Dot1Q(vlan = 0x20)/IPv4(ttl=63, id=0x1234)/UDP(dport=53)",
                             "ipv4.chksum", false, err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "ipv4.id: expected 0x1234, got 0x1235");
    expect_has(r.why, "ipv4.ttl: expected 63, got 64");
    expect_has(r.why, "vlan[1].vlan: expected 0x20, got 0x21");
    r = drive(px_matches("Ether()/Dot1Q(vlan=16)/Dot1Q(vlan=32)/IPv4(id=4660, ttl=64)/UDP(dport=53)", "ipv4.chksum",
                         false, err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "ipv4.id: expected 4660, got 4661");
    expect_has(r.why, "vlan[1].vlan: expected 32, got 33");
}

static void test_padding(void **state)
{
    (void)state;
    add("Ether(dst=ff:ff:ff:ff:ff:ff,type=0x0806)/ARP()/Pad(18)"); /* padded to 60 bytes */
    add("Ether()/IPv4()/UDP()/Pad(18)");
    char err[PX_ERRBUF_SIZE];
    run r = drive(px_matches("Ether(dst=ff:ff:ff:ff:ff:ff,type=0x0806)/ARP()", NULL, false, err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "closest was frame #1");
    r = drive(px_matches("Ether(dst=ff:ff:ff:ff:ff:ff,type=0x0806)/ARP()", NULL, true, err));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 1);
    r = drive(px_matches("Ether()/IPv4()/UDP()", NULL, false, err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "length: expected 42, got 60");
    r = drive(px_matches("Ether()/IPv4()/UDP()", NULL, true, err));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 2);
    /* a frame shorter than expected is never "padding" */
    r = drive(px_matches("Ether()/IPv4()/UDP()/Raw(\"more\")", NULL, true, err));
    assert_int_equal(r.v, PX_FAIL);
}

static void test_bad_input(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "";
    assert_refused(px_matches("Ether()/IPv5()", NULL, false, err), "matches: ");
    assert_true(err[0] != '\0');
    assert_refused(px_matches("Ether()", "ipv4.tll", false, err), "matches: ");
    assert_true(err[0] != '\0');
    assert_refused(px_matches(NULL, NULL, false, NULL), "matches: no expected frame");
}

static void test_expression(void **state)
{
    (void)state;
    add("Ether(dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/UDP(sport=5,dport=53)");
    px_registry *reg = px_registry_new();
    px_predicate *p = NULL;
    px_expr_error e;
    int rc = px_expr_parse(reg,
                           "matches(" EXPECTED ", ignore=[ipv4.ttl, ipv4.chksum, \"bytes:60-61\"], "
                           "allow_padding=true)",
                           &p, &e);
    if (rc)
        fail_msg("%s", e.message);
    px_buf d = PX_BUF_INIT;
    px_predicate_describe(p, &d);
    assert_string_equal(px_buf_cstr(&d), "matches(" EXPECTED ", ignore=[ipv4.ttl, ipv4.chksum, \"bytes:60-61\"], "
                                         "allow_padding=true)");
    px_buf_free(&d);
    assert_true(px_predicate_is_per_frame(p));
    run r = drive(p);
    assert_int_equal(r.v, PX_PASS);

    /* plain hex as a string; counting over matches() */
    rc = px_expr_parse(reg, "count(matches(\"ffffffffffff020000000001 88b5 00\")) == 0", &p, &e);
    if (rc)
        fail_msg("%s", e.message);
    assert_int_equal(drive(p).v, PX_PASS);

    rc = px_expr_parse(reg, "matches(Ether()/IPv4(ttl=999))", &p, &e);
    assert_int_not_equal(rc, 0);
    assert_int_equal(e.column, 1);
    expect_has(e.message, "matches: ");
    rc = px_expr_parse(reg, "matches(Ether(), ignore=[ipv4.bogus])", &p, &e);
    assert_int_not_equal(rc, 0);
    rc = px_expr_parse(reg, "matches(Ether(), ignore=[3])", &p, &e);
    assert_int_equal(rc, PX_EINVAL);
    expect_has(e.message, "items of 'ignore' of matches must be");
    px_registry_free(reg);
}

/* A frame captured before its L4 checksum was computed matches on everything
 * else; without the flag the checksum is a difference. allow_padding keeps the flag. */
static void test_csum_not_ready(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    add("Ether(dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=63)/UDP(sport=5,dport=53,chksum=0xbeef)");
    run r = drive(px_matches(EXPECTED, NULL, false, err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "udp.chksum: expected 0x");
    F[0].f.flags = PX_FRAME_CSUM_NOT_READY;
    r = drive(px_matches(EXPECTED, NULL, false, err));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 1);
    teardown(NULL);
    /* padded, with allow_padding: the frame is cut and dissected again */
    add("Ether(dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=63)/UDP(sport=5,dport=53,chksum=0xbeef)/"
        "Pad(min=60)");
    F[0].f.flags = PX_FRAME_CSUM_NOT_READY;
    r = drive(px_matches(EXPECTED, NULL, true, err));
    assert_int_equal(r.v, PX_PASS);
    /* a real difference elsewhere: the note shows where the checksum would be */
    add("Ether(dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/UDP(sport=5,dport=53,chksum=0xbeef)");
    F[1].f.flags = PX_FRAME_CSUM_NOT_READY;
    r = drive(px_matches(EXPECTED, "ipv4.chksum", true, err));
    assert_int_equal(r.v, PX_PASS); /* frame 1 */
    r = drive(px_matches(EXPECTED, NULL, false, err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "ipv4.ttl: expected 63, got 64");
    expect_has(r.why, "got 0xbeef (checksum not computed: offloaded)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_exact_and_closest, teardown),
        cmocka_unit_test_teardown(test_diff_in_the_base_written, teardown),
        cmocka_unit_test_teardown(test_padding, teardown),
        cmocka_unit_test_teardown(test_bad_input, teardown),
        cmocka_unit_test_teardown(test_expression, teardown),
        cmocka_unit_test_teardown(test_csum_not_ready, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
