/* Field predicates, payload_contains and bpf over synthetic frames, fed through
 * the same dispatch the capture thread uses (px_predicate_offer / _finish).
 * Frames are built with the text form, predicates with their C constructors
 * (the expression language has its own test, test_expr.c). */
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
#include "pred_internal.h"
#include "px_refused.h"

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t MCAST_BIT[6] = {0x01, 0, 0, 0, 0, 0};

static void test_ethertype(void **state)
{
    (void)state;
    add("Ether()/IPv4()/UDP()");
    add("Ether(type=0x88b5)/Raw(\"x\")");
    run r = drive(px_did_not_see_ethertype(0x88b5));
    assert_int_equal(r.v, PX_FAIL);
    assert_int_equal(r.stopped_at, 2);
    expect_has(r.why, "frame #2");
    r = drive(px_did_not_see_ethertype(0x86dd));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 0);
}

static void test_mac_masked(void **state)
{
    (void)state;
    add("Ether(dst=02:00:00:00:00:02)/IPv4()");
    add("Ether(dst=01:00:5e:00:00:01)/IPv4()");
    /* any multicast destination: the I/G bit */
    run r = drive(px_saw_dst_mac_masked(MCAST_BIT, MCAST_BIT));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 2);
    r = drive(px_saw_dst_mac_masked(BCAST, NULL));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "eth.dst: expected ff:ff:ff:ff:ff:ff, got 02:00:00:00:00:02");
    /* an exact MAC is a dispatch key; offered every frame, it counts those with it */
    expect_has(r.why, "saw 2 frames (0 with dst mac ff:ff:ff:ff:ff:ff), none matched");
    r = drive(px_saw_dst_mac_masked(MCAST_BIT, MCAST_BIT));
    assert_int_equal(r.v, PX_PASS);
    r = drive(px_saw_src_mac_masked(BCAST, NULL));
    expect_has(r.why, "saw 2 frames, none matched");
    r = drive(px_did_not_see_src_mac_masked(BCAST, NULL));
    assert_int_equal(r.v, PX_PASS);
}

static void test_vlan(void **state)
{
    (void)state;
    add("Ether()/IPv4()");
    add("Ether()/Dot1Q(vlan=100,pcp=3)/Dot1Q(vlan=200,dei=1)/IPv4()");
    px_vlan_spec s = PX_VLAN_SPEC_ANY;
    s.vid = 100;
    s.pcp = 3;
    run r = drive(px_saw_vlan(&s));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 2);

    s = (px_vlan_spec)PX_VLAN_SPEC_ANY;
    s.vid = 200;
    s.depth = 1;
    s.dei = 1;
    assert_int_equal(drive(px_saw_vlan(&s)).v, PX_PASS);

    s = (px_vlan_spec)PX_VLAN_SPEC_ANY;
    s.vid = 200; /* outer tag is 100 */
    r = drive(px_saw_vlan(&s));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "closest was frame #2: vlan.vid: expected 200, got 100");

    s = (px_vlan_spec)PX_VLAN_SPEC_ANY;
    s.untagged = true;
    r = drive(px_saw_vlan(&s));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 1);
    r = drive(px_did_not_see_vlan(&s));
    assert_int_equal(r.v, PX_FAIL);

    s = (px_vlan_spec)PX_VLAN_SPEC_ANY;
    s.vid = 4096;
    assert_refused(px_saw_vlan(&s), "saw_vlan_tag: vid must be 0..4095 or -1 (any), got 4096");
    s.vid = 1;
    s.pcp = 8;
    assert_refused(px_saw_vlan(&s), "saw_vlan_tag: pcp must be 0..7 or -1 (any), got 8");
}

static void test_ipv4(void **state)
{
    (void)state;
    add("Ether()/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/UDP(dport=53)");
    add("Ether()/IPv4(src=10.1.2.3,dst=192.168.1.7,ttl=63,dscp=46)/TCP()");
    px_ip_spec s = PX_IP_SPEC_ANY;
    s.dst = (px_ip_prefix){4, 16, {192, 168}};
    s.dscp = 46;
    s.proto = 6;
    run r = drive(px_saw_ipv4(&s));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 2);

    s = (px_ip_spec)PX_IP_SPEC_ANY;
    s.src = (px_ip_prefix){4, 8, {10}};
    s.ttl = 62;
    r = drive(px_saw_ipv4(&s));
    assert_int_equal(r.v, PX_FAIL);
    /* frame 2 misses by 1 (ttl 63), frame 1 by 1 too (64): the first closest is kept */
    expect_has(r.why, "ipv4.ttl: expected 62, got 64");

    s = (px_ip_spec)PX_IP_SPEC_ANY;
    s.src = (px_ip_prefix){4, 32, {10, 0, 0, 1}};
    r = drive(px_did_not_see_ipv4(&s));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "frame #1 matched");
    expect_has(r.why, "10.0.0.1.53 > 10.0.0.2.53: UDP");

    s = (px_ip_spec)PX_IP_SPEC_ANY;
    s.src = (px_ip_prefix){6, 64, {0}};
    assert_refused(px_saw_ipv4(&s), "saw_ipv4: src length: an IPv4 prefix needs family 4 or 0 (any), got 6");
    s = (px_ip_spec)PX_IP_SPEC_ANY;
    s.dscp = 64;
    assert_refused(px_saw_ipv4(&s), "saw_ipv4: dscp must be 0..63 or -1 (any), got 64");
}

static void test_ipv6(void **state)
{
    (void)state;
    add("Ether()/IPv4()/UDP()");
    add("Ether()/IPv6(src=2001:db8::1,dst=2001:db8:1::2,hlim=5)/IPv6Frag()/UDP(dport=7)");
    px_ip_spec s = PX_IP_SPEC_ANY;
    s.dst = (px_ip_prefix){6, 48, {0x20, 0x01, 0x0d, 0xb8, 0, 1}};
    s.proto = 17; /* after the fragment header */
    s.ttl = 5;
    run r = drive(px_saw_ipv6(&s));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 2);
    s.ttl = 6;
    r = drive(px_saw_ipv6(&s));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "ipv6.hlim: expected 6, got 5");
    expect_has(r.why, "closest was frame #2");
}

static void test_tcp_udp(void **state)
{
    (void)state;
    add("Ether()/IPv4()/TCP(sport=1234,dport=80,flags=\"SA\")");
    add("Ether()/IPv4()/UDP(sport=68,dport=67)");
    px_l4_spec s = PX_L4_SPEC_ANY;
    s.dport = 80;
    s.flags = 0x12;
    assert_int_equal(drive(px_saw_tcp(&s)).v, PX_PASS);
    s.flags = 0x02; /* SYN only: exact by default */
    run r = drive(px_saw_tcp(&s));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "tcp.flags: expected 0x2, got 0x12");
    s.flags_mask = 0x02; /* SYN set, whatever else */
    assert_int_equal(drive(px_saw_tcp(&s)).v, PX_PASS);

    s = (px_l4_spec)PX_L4_SPEC_ANY;
    s.sport = 68;
    s.dport = 67;
    r = drive(px_saw_udp(&s));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 2);
    assert_int_equal(drive(px_did_not_see_udp(&s)).v, PX_FAIL);
    s.flags = 1;
    assert_refused(px_saw_udp(&s), "saw_udp: flags and flags_mask are for TCP only"); /* UDP has no flags */
}

static void test_icmp(void **state)
{
    (void)state;
    add("Ether()/IPv4()/ICMP(type=8)");
    add("Ether()/IPv6()/ICMPv6(type=135)");
    assert_int_equal(drive(px_saw_icmp(8, 0)).v, PX_PASS);
    run r = drive(px_saw_icmp(0, -1));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "icmp.type: expected 0, got 8");
    assert_int_equal(drive(px_saw_icmpv6(135, -1)).v, PX_PASS);
    assert_int_equal(drive(px_did_not_see_icmpv6(136, -1)).v, PX_PASS);
    assert_refused(px_saw_icmp(256, 0), "saw_icmp: type must be 0..255 or -1 (any), got 256");
}

static void test_mpls_vxlan(void **state)
{
    (void)state;
    add("Ether()/MPLS(label=100,ttl=9)/MPLS(label=200)/IPv4()");
    add("Ether()/IPv4()/UDP()/VXLAN(vni=5000)/Ether()/IPv4(dst=10.9.9.9)/UDP()");
    px_mpls_spec m = PX_MPLS_SPEC_ANY;
    m.label = 100;
    m.ttl = 9;
    m.s = 0;
    assert_int_equal(drive(px_saw_mpls(&m)).v, PX_PASS);
    m = (px_mpls_spec)PX_MPLS_SPEC_ANY;
    m.label = 200;
    m.depth = 1;
    m.s = 1;
    assert_int_equal(drive(px_saw_mpls(&m)).v, PX_PASS);
    m.depth = 0;
    run r = drive(px_saw_mpls(&m));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "mpls.label: expected 200, got 100");
    m.label = 0x100000;
    assert_refused(px_saw_mpls(&m), "saw_mpls: label must be 0..1048575 or -1 (any), got 1048576");

    r = drive(px_saw_vxlan(5000));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 2);
    assert_int_equal(drive(px_did_not_see_vxlan(5001)).v, PX_PASS);
    assert_refused(px_saw_vxlan(0x1000000), "saw_vxlan: vni must be 0..16777215 or -1 (any), got 16777216");

    /* encap=1: the IPv4 header inside the tunnel */
    px_ip_spec s = PX_IP_SPEC_ANY;
    s.dst = (px_ip_prefix){4, 32, {10, 9, 9, 9}};
    assert_int_equal(drive(px_saw_ipv4(&s)).v, PX_FAIL);
    s.encap = 1;
    assert_int_equal(drive(px_saw_ipv4(&s)).v, PX_PASS);
}

static void test_payload(void **state)
{
    (void)state;
    add("Ether()/IPv4()/UDP()/Raw(\"hello world\")");
    add("Ether()/IPv4()/UDP()/Raw(hex=\"00ff10\")");
    run r = drive(px_payload_contains((const uint8_t *)"world", 5));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 1);
    const uint8_t bin[] = {0xff, 0x10};
    r = drive(px_payload_contains(bin, 2));
    assert_int_equal(r.stopped_at, 2);
    r = drive(px_did_not_see_payload((const uint8_t *)"worlds", 6));
    assert_int_equal(r.v, PX_PASS);
    r = drive(px_payload_contains((const uint8_t *)"worlds", 6));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "does not contain");
    assert_refused(px_payload_contains(bin, 0), "payload_contains: needle must be at least 1 byte, got 0 bytes");
}

static void test_bpf(void **state)
{
    (void)state;
    add("Ether()/IPv4()/UDP(sport=68,dport=67)");
    add("Ether(type=0x7799)/Raw(\"x\")");
    char err[PX_ERRBUF_SIZE] = "";
    run r = drive(px_bpf("ether proto 0x7788 or ether proto 0x7799", err));
    assert_int_equal(r.v, PX_PASS);
    assert_int_equal(r.stopped_at, 2);
    r = drive(px_bpf("udp port 67", err));
    assert_int_equal(r.stopped_at, 1);
    r = drive(px_bpf("tcp", err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "the filter rejects it");
    assert_refused(px_bpf("udp prot 67", err), "bpf: filter \"udp prot 67\" does not compile: ");
    expect_has(err, "does not compile");
}

static void test_truncated_frame(void **state)
{
    (void)state;
    /* An IPv4 header cut short: the predicates see no IPv4 layer, never read past caplen. */
    static const uint8_t cut[] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 20, 0, 1};
    px_frame f;
    px_frame_dissect(&f, cut, sizeof cut, sizeof cut);
    px_ip_spec s = PX_IP_SPEC_ANY;
    px_predicate *p = px_saw_ipv4(&s);
    assert_false(px_predicate_offer(p, &f));
    px_result res = {0};
    assert_int_equal(px_predicate_finish(p, true, &res), PX_FAIL);
    expect_has(px_buf_cstr(&res.explanation), "no IPv4 header");
    px_buf_free(&res.explanation);
    px_predicate_free(p);
}

/* The misses of a test without an explanation (what ranks the closest frame)
 * and with one (what it says), for predicate p on frame i: they must agree, and
 * the explanation names one condition per miss ("; " between them). */
static unsigned misses(px_predicate *p, size_t i)
{
    const px__ftest *st = px_predicate_state(p);
    px_buf why = PX_BUF_INIT;
    unsigned quiet = st->vt->test(st, &F[i].f, NULL), told = st->vt->test(st, &F[i].f, &why);
    assert_int_equal(quiet, told);
    unsigned parts = 0;
    for (const char *c = px_buf_cstr(&why); (c = strstr(c, "; ")) != NULL; c += 2)
        parts++;
    if (quiet == 0)
        assert_int_equal(why.len, 0);
    else if (!strstr(px_buf_cstr(&why), "no ")) /* a missing layer is one phrase */
        assert_int_equal(parts + 1, quiet);
    px_buf_free(&why);
    return quiet;
}

/* IPv4 and TCP / UDP tests count their misses on a fast path (prefixes as masks,
 * header fields in place) and explain them on another: same counts, prefixes of
 * every length included (a mask that ends inside a byte). */
static void test_miss_counts(void **state)
{
    (void)state;
    add("Ether()/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/UDP(sport=68,dport=53)");
    add("Ether()/IPv4(src=10.1.2.3,dst=192.168.1.7,ttl=63,dscp=46,ecn=1)/TCP(sport=1234,dport=80,flags=\"SA\")");
    add("Ether()/IPv6()/UDP()");
    px_ip_spec s = PX_IP_SPEC_ANY;
    s.src = (px_ip_prefix){4, 8, {10}};
    s.dst = (px_ip_prefix){4, 16, {192, 168}};
    s.proto = 6, s.ttl = 62, s.dscp = 46, s.ecn = 1;
    px_predicate *p = px_saw_ipv4(&s);
    assert_int_equal(misses(p, 0), 5); /* dst, proto 17, ttl 64, dscp 0, ecn 0 */
    assert_int_equal(misses(p, 1), 1); /* ttl 63 */
    assert_int_equal(misses(p, 2), 7); /* no IPv4 header: 6 conditions + 1 */
    px_predicate_free(p);
    /* 10.0.0.1 and 10.1.2.3 against 10.0.0.0/len, 11.0.0.0/len, 10.0.0.3/len */
    static const uint8_t addrs[3][4] = {{10, 0, 0, 0}, {11, 0, 0, 0}, {10, 0, 0, 3}};
    for (unsigned a = 0; a < 3; a++)
        for (unsigned len = 0; len <= 32; len++) {
            s = (px_ip_spec)PX_IP_SPEC_ANY;
            s.src = (px_ip_prefix){4, (uint8_t)len, {addrs[a][0], addrs[a][1], addrs[a][2], addrs[a][3]}};
            p = px_saw_ipv4(&s);
            for (size_t i = 0; i < 2; i++) {
                uint32_t got = i == 0 ? 0x0a000001u : 0x0a010203u;
                uint32_t want = (uint32_t)addrs[a][0] << 24 | (uint32_t)addrs[a][1] << 16 |
                                (uint32_t)addrs[a][2] << 8 | addrs[a][3];
                uint32_t mask = len ? 0xffffffffu << (32 - len) : 0;
                assert_int_equal(misses(p, i), ((got ^ want) & mask) != 0);
            }
            px_predicate_free(p);
        }
    px_l4_spec l = PX_L4_SPEC_ANY;
    l.sport = 1234, l.dport = 81, l.flags = 0x02;
    p = px_saw_tcp(&l);
    assert_int_equal(misses(p, 0), 4); /* no TCP header: 3 conditions + 1 */
    assert_int_equal(misses(p, 1), 2); /* dport 80, flags 0x12 */
    l.flags_mask = 0x02;
    px_predicate_free(p);
    p = px_saw_tcp(&l);
    assert_int_equal(misses(p, 1), 1); /* dport only */
    px_predicate_free(p);
    l = (px_l4_spec)PX_L4_SPEC_ANY;
    l.sport = 67, l.dport = 53;
    p = px_did_not_see_udp(&l);
    assert_int_equal(misses(p, 0), 1); /* sport 68 */
    assert_int_equal(misses(p, 1), 3); /* no UDP header: 2 conditions + 1 */
    assert_int_equal(misses(p, 2), 1); /* the default ports, 53 > 53: sport */
    px_predicate_free(p);
}

static void test_per_frame_and_flags(void **state)
{
    (void)state;
    px_predicate *pos = px_saw_vxlan(1), *neg = px_did_not_see_vxlan(1);
    assert_true(px_predicate_is_per_frame(pos));
    assert_false(px_predicate_get_ops(pos)->flags & PX_PRED_LOSS_SENSITIVE);
    assert_true(px_predicate_get_ops(neg)->flags & PX_PRED_LOSS_SENSITIVE);
    px_buf d = PX_BUF_INIT;
    px_predicate_describe(neg, &d);
    assert_string_equal(px_buf_cstr(&d), "did_not_see_vxlan(vni=1)");
    px_buf_free(&d);
    px_predicate_free(pos);
    px_predicate_free(neg);
    px_predicate *rp = px_received_packet(); /* a stream predicate of the core */
    assert_false(px_predicate_is_per_frame(rp));
    px_predicate_free(rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ethertype, teardown),
        cmocka_unit_test_teardown(test_mac_masked, teardown),
        cmocka_unit_test_teardown(test_vlan, teardown),
        cmocka_unit_test_teardown(test_ipv4, teardown),
        cmocka_unit_test_teardown(test_ipv6, teardown),
        cmocka_unit_test_teardown(test_tcp_udp, teardown),
        cmocka_unit_test_teardown(test_icmp, teardown),
        cmocka_unit_test_teardown(test_mpls_vxlan, teardown),
        cmocka_unit_test_teardown(test_payload, teardown),
        cmocka_unit_test_teardown(test_bpf, teardown),
        cmocka_unit_test_teardown(test_truncated_frame, teardown),
        cmocka_unit_test_teardown(test_miss_counts, teardown),
        cmocka_unit_test_teardown(test_per_frame_and_flags, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
