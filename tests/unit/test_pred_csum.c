/* checksums_ok() (predicates/csum.c): every checksum of every frame offered
 * verifies; the first bad one FAILs with the frame, the layer and the expected
 * and actual values; checksums the kernel had not computed yet and bytes not
 * captured are not called bad; no frame at all is no PASS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/expr.h"
#include "pred_drive.h"

#define RH_UDP(chk)                                                                                                 \
    "Ether()/IPv6(src=2001:db8::1,dst=2001:db8::2)/IPv6Routing(segleft=1,data=0000000020010db8000000000000000000000099)" \
    "/UDP(sport=1000,dport=53" chk ")/Raw(\"x\")"

static void test_all_good(void **state)
{
    (void)state;
    add("Ether/IPv4(ttl=63)/UDP(sport=1,dport=2)/Raw(\"a\")");
    add(RH_UDP(""));
    add("Ether/IPv4/ICMP(type=8)/Raw(\"ping\")");
    add("Ether/IPv4/UDP/VXLAN(vni=5)/Ether/IPv6/TCP(sport=1,dport=2)");
    add("Ether/ARP(psrc=10.0.0.1,pdst=10.0.0.2)"); /* nothing to check */
    add("Ether/IPv4/UDP(chksum=0)/Raw(\"none\")"); /* UDP over IPv4 without a checksum */
    run r = drive(px_checksums_ok());
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 0);
    assert_true(r.has_value);
    assert_int_equal(r.value, 6);
    expect_has(r.why, "every checksum is right: 6 frames, 9 checksums verified");
}

static void test_first_bad_fails(void **state)
{
    (void)state;
    add("Ether/IPv4/UDP(sport=1,dport=2)");
    add(RH_UDP(",chksum=0x284a")); /* over the IPv6 destination, not the final one */
    add("Ether/IPv4(chksum=0x0001)/UDP");
    run r = drive(px_checksums_ok());
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.stopped_at, 2);
    expect_has(r.why, "frame #2: udp checksum: expected 0x27b3, got 0x284a; the frame: ");
}

static void test_inner_layer_named(void **state)
{
    (void)state;
    add("Ether/IPv4/UDP/VXLAN(vni=5)/Ether/IPv4(ttl=5,chksum=0x1234)/UDP(sport=1,dport=2)");
    run r = drive(px_checksums_ok());
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "frame #1: ipv4[1] checksum: expected 0x");
    expect_has(r.why, ", got 0x1234");
}

static void test_no_frame_fails(void **state)
{
    (void)state;
    run r = drive(px_checksums_ok());
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "no frame in the window");
}

/* Captured before the kernel computed it (TP_STATUS_CSUMNOTREADY): the TCP/UDP
 * checksum is a partial sum, not a bad one; the IPv4 header is still checked. */
static void test_checksum_not_ready(void **state)
{
    (void)state;
    add("Ether/IPv4/UDP(sport=1,dport=2,chksum=0x1234)/Raw(\"x\")");
    F[0].f.flags |= PX_FRAME_CSUM_NOT_READY;
    run r = drive(px_checksums_ok());
    assert_int_equal(r.v, PX_PASS);
    expect_has(r.why, "1 frame, 1 checksum verified, 1 not computed yet (offloaded, not checked)");
    teardown(NULL);

    add("Ether/IPv4(chksum=0x0001)/UDP(sport=1,dport=2)");
    F[0].f.flags |= PX_FRAME_CSUM_NOT_READY;
    r = drive(px_checksums_ok());
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "frame #1: ipv4 checksum: expected 0x");
}

/* Bytes the capture cut: the L4 checksum cannot be checked, and is not bad. */
static void test_snapped_not_bad(void **state)
{
    (void)state;
    add("Ether/IPv4/UDP(sport=1,dport=2)/Raw(\"0123456789\")");
    px_frame_dissect(&F[0].f, F[0].bytes, (uint32_t)F[0].len - 4, (uint32_t)F[0].len);
    run r = drive(px_checksums_ok());
    assert_int_equal(r.v, PX_PASS);
    expect_has(r.why, "1 over bytes not captured (not checked)");
}

/* In the expression language, beside a field check. */
static void test_expression(void **state)
{
    (void)state;
    px_predicate *p = NULL;
    px_expr_error e;
    const char *expr = "all_of(saw_ipv4(ttl=63), checksums_ok())";
    assert_int_equal(px_expr_parse(NULL, expr, &p, &e), 0);
    add("Ether/IPv4(ttl=63)/TCP(sport=1,dport=2)");
    run r = drive(p);
    assert_int_equal(r.v, PX_PASS);
    teardown(NULL);

    assert_int_equal(px_expr_parse(NULL, expr, &p, &e), 0);
    add("Ether/IPv4(ttl=63)/TCP(sport=1,dport=2,chksum=0x0001)");
    r = drive(p);
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "tcp checksum: expected 0x");
    teardown(NULL);

    /* it takes no argument */
    assert_int_equal(px_expr_parse(NULL, "checksums_ok(1)", &p, &e), PX_EPARSE);
    assert_null(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_all_good, teardown),
        cmocka_unit_test_teardown(test_first_bad_fails, teardown),
        cmocka_unit_test_teardown(test_inner_layer_named, teardown),
        cmocka_unit_test_teardown(test_no_frame_fails, teardown),
        cmocka_unit_test_teardown(test_checksum_not_ready, teardown),
        cmocka_unit_test_teardown(test_snapped_not_bad, teardown),
        cmocka_unit_test_teardown(test_expression, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
