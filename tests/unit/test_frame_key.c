/* Dispatch keys: px_frame_key() agrees with the keys predicates declare.
 *
 * The contract (include/pktexpect/predicate.h, px_key): a frame that does not
 * carry a predicate's key would neither change its outcome nor stop it, so the
 * harness may skip it. This test proves it on a corpus of frames (IPv4/IPv6,
 * UDP/TCP, VLAN and QinQ, VXLAN and GRE tunnels with inner UDP/TCP, IP in IP,
 * MPLS, ARP, 802.3, fragments, and every truncation of a few of them), for every
 * keyed predicate with several argument sets:
 *  - single frames: whenever offering a frame stops the predicate or changes its
 *    verdict at the close (against a fresh instance offered nothing), the frame
 *    carries the key;
 *  - pairs: after any first frame, a second frame without the key changes
 *    neither the stop decision nor the verdict (all_of keeps state across frames);
 *  - each keyed predicate reacts to at least one corpus frame (the check is not
 *    vacuous).
 * It also checks that the predicates that must not declare a key declare none,
 * and the explanations of keyed predicates. */
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

/* ---- the corpus ---- */

static const char *const texts[] = {
    "Ether/IPv4(dst=10.0.0.2)/UDP(dport=53)/Raw(\"q\")",
    "Ether/IPv4/UDP(sport=53,dport=1000)",
    "Ether/IPv4(proto=17)/Raw(hex=00350035)", /* says UDP, too short for a UDP header */
    "Ether/IPv4/TCP(dport=80,flags=S)",
    "Ether/IPv4/TCP(sport=80,dport=53,flags=SA)",
    "Ether/IPv4(frag=5,proto=17)/Raw(hex=00000035000c0000)", /* later fragment: no L4 header */
    "Ether/IPv4(flags=1,proto=6)/TCP(dport=80)",             /* first fragment: L4 header */
    "Ether/IPv4/ICMP",
    "Ether/IPv6/UDP(dport=53)",
    "Ether/IPv6(dst=2001:db8::2)/TCP(dport=80)",
    "Ether/IPv6/IPv6HopByHop/UDP(dport=53)",
    "Ether/IPv6/IPv6HopByHop/IPv6Frag(m=1,id=7)/UDP(dport=53)/Raw(hex=00010203)",
    "Ether/IPv6/IPv6Frag(offset=3,id=7)/Raw(hex=0035003500080000)",
    "Ether/IPv6/ICMPv6",
    "Ether/Dot1Q(vlan=102)/IPv4/UDP(dport=53)",
    "Ether/Dot1Q(vlan=102,pcp=3)/IPv6/TCP(dport=80)",
    "Ether/Dot1AD(vlan=100)/Dot1Q(vlan=102,pcp=5)/IPv6/TCP(dport=443,flags=S)",
    "Ether/Dot1Q(vlan=200)/Dot1Q(vlan=102)/IPv4/UDP(dport=53)",
    "Ether/Dot1Q(vlan=102)/ARP(op=2)/Pad(min=60)",
    "Ether/IPv4/UDP/VXLAN(vni=5000)/Ether(dst=02:00:00:00:00:0a)/Dot1Q(vlan=102)/IPv4/UDP(dport=53)/Raw(\"inner\")",
    "Ether/IPv6/UDP/VXLAN(vni=7)/Ether/IPv4/TCP(dport=80)",
    "Ether/IPv4/UDP/VXLAN(vni=8)/Ether/IPv6/UDP(dport=53)",
    "Ether/IPv4/GRE/IPv4/UDP(dport=53)",
    "Ether/IPv4/GRE(key=42)/Ether/Dot1Q(vlan=102)/IPv6/TCP(dport=80)",
    "Ether/IPv6/GRE/IPv4/TCP(dport=53)",
    "Ether/IPv4/GRE/IPv4/UDP/VXLAN/Ether/IPv4/UDP(dport=53)",
    "Ether/IPv4/IPv4/UDP(dport=53)",
    "Ether/IPv6/IPv4/TCP(dport=80)",
    "Ether/IPv4/IPv6/UDP(dport=53)",
    "Ether/MPLS(label=100)/MPLS(label=200)/IPv4(ttl=63)/ICMP(id=1,seq=1)",
    "Ether/MPLS(label=100)/IPv4/UDP(dport=53)",
    "Ether/MPLS/IPv6/TCP(dport=80)",
    "Ether(dst=ff:ff:ff:ff:ff:ff)/ARP(op=1)/Pad(min=60)",
    "Ether(dst=02:00:00:00:00:02)/IPv4/UDP(dport=67)",
    "Ether(dst=01:00:5e:00:00:01)/IPv4/UDP(dport=53)",
    "Ether(dst=02:00:00:00:00:02,type=0x0800)/Raw(hex=45)", /* says IPv4, header cut */
    "Ether(type=0x88b5)/Raw(\"hi\")",
    "Ether/LLC/Raw(\"stp\")",
};
#define NTEXTS (sizeof texts / sizeof texts[0])

/* Frames cut at every length (caplen < wirelen), headers included. */
static const char *const cut_texts[] = {
    "Ether/Dot1AD(vlan=100)/Dot1Q(vlan=102)/IPv4/UDP(dport=53)/Raw(\"x\")",
    "Ether/IPv6/IPv6HopByHop/TCP(dport=80)",
    "Ether/IPv4/UDP/VXLAN(vni=1)/Ether/IPv4/UDP(dport=53)",
    "Ether/MPLS/IPv4/TCP(dport=53)",
};
#define NCUTS (sizeof cut_texts / sizeof cut_texts[0])

#define MAX_FRAMES 1024

typedef struct corpus {
    px_frame f[MAX_FRAMES];
    uint8_t *owned[NTEXTS + NCUTS];
    size_t n, nowned, nwhole; /* f[0..nwhole): whole frames */
} corpus;

static corpus C;

static uint8_t *build(const char *text, size_t *len)
{
    char err[PX_ERRBUF_SIZE] = "";
    uint8_t *b = NULL;
    if (px_frame_parse_text(text, &b, len, err) != 0)
        fail_msg("text form '%s': %s", text, err);
    C.owned[C.nowned++] = b;
    return b;
}

static int corpus_setup(void **state)
{
    (void)state;
    size_t len;
    for (size_t i = 0; i < NTEXTS; i++) {
        uint8_t *b = build(texts[i], &len);
        px_frame_dissect(&C.f[C.n++], b, (uint32_t)len, (uint32_t)len);
    }
    C.nwhole = C.n;
    for (size_t i = 0; i < NCUTS; i++) {
        uint8_t *b = build(cut_texts[i], &len);
        for (size_t cut = 0; cut < len && C.n < MAX_FRAMES; cut++)
            px_frame_dissect(&C.f[C.n++], b, (uint32_t)cut, (uint32_t)len);
    }
    return 0;
}

static int corpus_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < C.nowned; i++)
        free(C.owned[i]);
    memset(&C, 0, sizeof C);
    return 0;
}

/* ---- driving ---- */

static px_predicate *parse(const char *text)
{
    px_predicate *p = NULL;
    px_expr_error err;
    if (px_expr_parse(NULL, text, &p, &err) != 0)
        fail_msg("expression '%s': %s", text, err.message);
    return p;
}

typedef struct outcome {
    bool stopped;
    px_verdict v;
    bool has_value;
    int64_t value;
} outcome;

/* Offers frames a[0..n) (until one stops it) to a fresh instance, then finishes it
 * as the harness would: timed_out when nothing stopped it. */
static outcome run(const char *expr, const px_frame *const *a, size_t n)
{
    px_predicate *p = parse(expr);
    outcome o = {false, PX_PENDING, false, 0};
    for (size_t i = 0; i < n && !o.stopped; i++)
        o.stopped = px_predicate_offer(p, a[i]);
    px_result r = {0};
    o.v = px_predicate_finish(p, !o.stopped, &r);
    o.has_value = r.has_value;
    o.value = r.value;
    px_buf_free(&r.explanation);
    px_predicate_free(p);
    return o;
}

static bool carries(const px_frame *f, const px_key *k)
{
    uint64_t v;
    return px_frame_key(f, k->kind, &v) && v == k->value;
}

static bool same(outcome a, outcome b)
{
    return a.stopped == b.stopped && a.v == b.v && a.has_value == b.has_value && a.value == b.value;
}

/* The keyed predicates and the key each must declare. */
typedef struct keyed {
    const char *expr;
    px_key_kind kind;
    uint64_t value;
} keyed;

static const keyed KEYED[] = {
    {"saw_ethertype(0x0800)", PX_KEY_ETHERTYPE, 0x0800},
    {"saw_ethertype(0x86dd)", PX_KEY_ETHERTYPE, 0x86dd},
    {"did_not_see_ethertype(0x0806)", PX_KEY_ETHERTYPE, 0x0806},
    {"saw_ethertype(0x88b5)", PX_KEY_ETHERTYPE, 0x88b5},
    {"saw_vlan_tag(102)", PX_KEY_VLAN_VID, 102},
    {"saw_vlan_tag(102, pcp=3)", PX_KEY_VLAN_VID, 102},
    {"did_not_see_vlan_tag(100)", PX_KEY_VLAN_VID, 100},
    {"saw_vlan_tag(100, tpid=0x88a8)", PX_KEY_VLAN_VID, 100},
    {"saw_dst_mac(ff:ff:ff:ff:ff:ff)", PX_KEY_DST_MAC, 0xffffffffffffull},
    {"did_not_see_dst_mac(02:00:00:00:00:02)", PX_KEY_DST_MAC, 0x020000000002ull},
    {"saw_ipv4()", PX_KEY_ETHERTYPE, 0x0800},
    {"saw_ipv4(dst=10.0.0.2)", PX_KEY_ETHERTYPE, 0x0800},
    {"saw_ipv4(proto=17)", PX_KEY_IP_PROTO, 17},
    {"did_not_see_ipv4(proto=6)", PX_KEY_IP_PROTO, 6},
    {"saw_ipv4(proto=4)", PX_KEY_IP_PROTO, 4},
    {"saw_ipv4(proto=41)", PX_KEY_IP_PROTO, 41},
    {"saw_ipv4(proto=47, ttl=64)", PX_KEY_IP_PROTO, 47},
    {"saw_ipv6()", PX_KEY_ETHERTYPE, 0x86dd},
    {"saw_ipv6(proto=17)", PX_KEY_IP_PROTO, 17},
    {"did_not_see_ipv6(proto=6)", PX_KEY_IP_PROTO, 6},
    {"saw_ipv6(proto=253)", PX_KEY_IP_PROTO, 253}, /* after a later fragment */
    {"saw_ipv6(proto=4)", PX_KEY_IP_PROTO, 4},
    {"saw_udp()", PX_KEY_IP_PROTO, 17},
    {"did_not_see_udp()", PX_KEY_IP_PROTO, 17},
    {"saw_udp(dport=53)", PX_KEY_UDP_DPORT, 53},
    {"saw_udp(sport=53, dport=1000)", PX_KEY_UDP_DPORT, 1000},
    {"did_not_see_udp(dport=53)", PX_KEY_UDP_DPORT, 53},
    {"saw_udp(dport=4789)", PX_KEY_UDP_DPORT, 4789},
    {"saw_tcp()", PX_KEY_IP_PROTO, 6},
    {"saw_tcp(dport=80)", PX_KEY_TCP_DPORT, 80},
    {"saw_tcp(dport=53)", PX_KEY_TCP_DPORT, 53},
    {"saw_tcp(dport=443, flags=\"S\")", PX_KEY_TCP_DPORT, 443},
    {"did_not_see_tcp(dport=80)", PX_KEY_TCP_DPORT, 80},
    {"all_of(saw_udp(dport=53), did_not_see_udp(dport=53, sport=0))", PX_KEY_UDP_DPORT, 53},
    {"all_of(saw_ipv4(proto=17), did_not_see_ipv6(proto=17), saw_udp())", PX_KEY_IP_PROTO, 17},
    {"all_of(saw_ethertype(0x0800), saw_ipv4(dst=10.0.0.2))", PX_KEY_ETHERTYPE, 0x0800},
    {"all_of(saw_vlan_tag(102), all_of(did_not_see_vlan_tag(102, pcp=7)))", PX_KEY_VLAN_VID, 102},
    /* counts take their child's key: a frame without it fails the child's test */
    {"exactly(1, saw_udp(dport=53))", PX_KEY_UDP_DPORT, 53},
    {"at_least(1, saw_udp(dport=53))", PX_KEY_UDP_DPORT, 53},
    {"at_most(0, saw_ethertype(0x0800))", PX_KEY_ETHERTYPE, 0x0800},
    {"count(saw_udp(dport=53))", PX_KEY_UDP_DPORT, 53},
    {"between(1, 2, saw_vlan_tag(102))", PX_KEY_VLAN_VID, 102},
    {"saw_field(udp.dport, 53)", PX_KEY_UDP_DPORT, 53},
    {"did_not_see_field(udp.dport, 4789)", PX_KEY_UDP_DPORT, 4789},
    {"saw_field(tcp.dport, 80)", PX_KEY_TCP_DPORT, 80},
    {"saw_field(eth.dst, ff:ff:ff:ff:ff:ff)", PX_KEY_DST_MAC, 0xffffffffffffull},
};
#define NKEYED (sizeof KEYED / sizeof KEYED[0])

static void test_keys_declared(void **state)
{
    (void)state;
    for (size_t i = 0; i < NKEYED; i++) {
        px_predicate *p = parse(KEYED[i].expr);
        px_key k;
        if (!px_predicate_key(p, &k))
            fail_msg("%s declares no key", KEYED[i].expr);
        if (k.kind != KEYED[i].kind || k.value != KEYED[i].value)
            fail_msg("%s declares key %d = %llu, expected %d = %llu", KEYED[i].expr, (int)k.kind,
                     (unsigned long long)k.value, (int)KEYED[i].kind, (unsigned long long)KEYED[i].value);
        px_predicate_free(p);
    }
}

/* A frame that changes the outcome on its own carries the key. */
static void test_single_frames(void **state)
{
    (void)state;
    for (size_t i = 0; i < NKEYED; i++) {
        const px_key k = {KEYED[i].kind, KEYED[i].value};
        outcome none = run(KEYED[i].expr, NULL, 0);
        size_t reacted = 0;
        for (size_t j = 0; j < C.n; j++) {
            const px_frame *a[1] = {&C.f[j]};
            outcome o = run(KEYED[i].expr, a, 1);
            if (same(o, none))
                continue;
            reacted++;
            if (!carries(&C.f[j], &k))
                fail_msg("%s reacts to frame %zu (%s, caplen %u) which lacks its key", KEYED[i].expr, j,
                         j < NTEXTS ? texts[j] : "a cut frame", C.f[j].caplen);
        }
        if (reacted == 0)
            fail_msg("%s reacts to no frame of the corpus: the check proves nothing", KEYED[i].expr);
    }
}

/* After any first frame, a second frame without the key changes nothing. */
static void test_pairs(void **state)
{
    (void)state;
    for (size_t i = 0; i < NKEYED; i++) {
        const px_key k = {KEYED[i].kind, KEYED[i].value};
        for (size_t a = 0; a < C.nwhole; a++) {
            const px_frame *one[1] = {&C.f[a]};
            outcome first = run(KEYED[i].expr, one, 1);
            if (first.stopped)
                continue; /* the second frame would not be offered */
            for (size_t b = 0; b < C.nwhole; b++) {
                if (carries(&C.f[b], &k))
                    continue;
                const px_frame *two[2] = {&C.f[a], &C.f[b]};
                if (!same(run(KEYED[i].expr, two, 2), first))
                    fail_msg("%s: frame %zu (%s) without the key changed the outcome after frame %zu (%s)",
                             KEYED[i].expr, b, texts[b], a, texts[a]);
            }
        }
    }
}

/* Predicates that must not declare a key, and why in short. */
static void test_no_key(void **state)
{
    (void)state;
    static const char *const none[] = {
        "received_packet()", "timed_out()", "packet_count()", "packet_count_was(2)",
        "packet_count_was_less_than(3)", "saw_tag(7)",
        "not(saw_udp(dport=53))",           /* PASSes on silence */
        "any_of(saw_udp(dport=53), saw_udp(dport=53))",
        "sequence(saw_udp(dport=53), saw_udp(dport=53))",
        "count(saw_udp(dport=53, encap=1))", /* the child declares none */
        "no_other_packets(saw_udp(dport=53))", "no_other_packets()",
        "bpf(\"udp dst port 53\")",
        "matches(\"Ether/IPv4/UDP(dport=53)\")", "matches(Ether()/IPv4()/UDP(dport=53), ignore=[udp.sport])",
        "saw_src_mac(02:00:00:00:00:01)",   /* no source MAC key */
        "saw_dst_mac(01:00:00:00:00:00, mask=01:00:00:00:00:00)", /* masked: many values */
        "saw_vlan_tag(untagged=true)",      /* matches frames without the key */
        "saw_vlan_tag(102, depth=1)",       /* the inner tag: the key reads the outer one */
        "saw_vlan_tag(pcp=3)",              /* any VID */
        "saw_ipv4(proto=17, encap=1)",      /* inner header: the key reads the outer one */
        "saw_ipv6(encap=1)",
        "saw_udp(dport=53, encap=1)", "saw_tcp(encap=1)", "did_not_see_udp(dport=53, encap=1)",
        "saw_icmp()", "saw_icmpv6(128)",    /* may be inside a tunnel */
        "saw_mpls(100)", "saw_vxlan(5000)", "payload_contains(\"hi\")",
        "all_of(saw_udp(dport=53), saw_vlan_tag(102))",        /* children decide on their own frames */
        "all_of(saw_udp(dport=53), did_not_see_vlan_tag(102))", /* a negative child fails on any frame */
        "all_of(saw_udp(dport=53), saw_udp(dport=54))",
        "all_of(saw_udp(dport=53), saw_icmp())",
        "saw_field(vlan.vid, 102)",         /* the first tag may be an inner one */
        "saw_field(eth.type, 0x0800)", "saw_field(ipv4.proto, 17)", "saw_field(udp.sport, 53)",
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        px_predicate *p = parse(none[i]);
        px_key k;
        if (px_predicate_key(p, &k))
            fail_msg("%s declares key %d = %llu; it must declare none", none[i], (int)k.kind,
                     (unsigned long long)k.value);
        px_predicate_free(p);
    }
}

/* Why all_of cannot take the key of one child: a frame without it decides. */
static void test_all_of_counterexamples(void **state)
{
    (void)state;
    const px_frame *vlan_arp = &C.f[18], *dns = &C.f[0];
    const px_key udp53 = {PX_KEY_UDP_DPORT, 53};
    assert_false(carries(vlan_arp, &udp53));
    assert_true(carries(dns, &udp53));
    const px_frame *both[2] = {vlan_arp, dns}, *dns_only[1] = {dns};
    /* positive children: the VLAN frame is needed for PASS */
    outcome with = run("all_of(saw_udp(dport=53), saw_vlan_tag(102))", both, 2);
    outcome without = run("all_of(saw_udp(dport=53), saw_vlan_tag(102))", dns_only, 1);
    assert_int_equal(with.v, PX_PASS);
    assert_int_equal(without.v, PX_FAIL);
    /* a negative child: the VLAN frame FAILs the whole and stops it */
    const px_frame *vlan_only[1] = {vlan_arp};
    outcome neg = run("all_of(saw_udp(dport=53), did_not_see_vlan_tag(102))", vlan_only, 1);
    assert_true(neg.stopped);
    assert_int_equal(neg.v, PX_FAIL);
}

/* ---- explanations ---- */

static char *explain(const char *expr, const px_frame *const *a, size_t n, px_verdict *v)
{
    px_predicate *p = parse(expr);
    bool stopped = false;
    for (size_t i = 0; i < n && !stopped; i++)
        stopped = px_predicate_offer(p, a[i]);
    px_result r = {0};
    *v = px_predicate_finish(p, !stopped, &r);
    px_predicate_free(p);
    char *s = px_buf_steal(&r.explanation);
    return s ? s : strdup("");
}

static void expect_has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' does not contain '%s'", text, needle);
}

static void test_explanations(void **state)
{
    (void)state;
    px_verdict v;
    /* dispatched by key: no frame carried it */
    char *s = explain("saw_udp(dport=53)", NULL, 0, &v);
    assert_int_equal(v, PX_FAIL);
    expect_has(s, "saw 0 frames with udp dport 53, none matched");
    free(s);
    /* offered only frames with the key (as the harness does): "with" */
    const px_frame *by_key[2] = {&C.f[0], &C.f[14]}; /* both udp dport 53 */
    s = explain("saw_udp(dport=53, sport=9)", by_key, 2, &v);
    assert_int_equal(v, PX_FAIL);
    expect_has(s, "saw 2 frames with udp dport 53, none matched");
    expect_has(s, "closest was frame #1");
    free(s);
    /* offered everything (count limit, BPF filter): the frames with the key apart */
    const px_frame *mixed[3] = {&C.f[3], &C.f[0], &C.f[32]};
    s = explain("saw_udp(dport=53, sport=9)", mixed, 3, &v);
    assert_int_equal(v, PX_FAIL);
    expect_has(s, "saw 3 frames (1 with udp dport 53), none matched");
    free(s);
    s = explain("did_not_see_vlan_tag(7)", mixed, 3, &v);
    assert_int_equal(v, PX_PASS);
    expect_has(s, "none of the 3 frames (0 with vlan 7) matched");
    free(s);
    s = explain("did_not_see_dst_mac(02:00:00:00:00:09)", NULL, 0, &v);
    assert_int_equal(v, PX_PASS);
    expect_has(s, "none of the 0 frames with dst mac 02:00:00:00:00:09 matched");
    free(s);
    /* no key: unchanged wording */
    s = explain("saw_icmp(8)", mixed, 3, &v);
    expect_has(s, "saw 3 frames, none matched");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_declared),
        cmocka_unit_test(test_single_frames),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_no_key),
        cmocka_unit_test(test_all_of_counterexamples),
        cmocka_unit_test(test_explanations),
    };
    return cmocka_run_group_tests(tests, corpus_setup, corpus_teardown);
}
