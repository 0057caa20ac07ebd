/* Constructors that refuse an argument keep the reason (predicates.h): they
 * return a predicate whose px_predicate_error() says why, and an expectation
 * armed with it is resolved ERROR on return with that message as its explanation. One case
 * per family of refused arguments, each armed on a port fed from a pcap stream
 * (no root) whose end closes the windows; and combinators given a refused child
 * carry the child's reason.
 *
 *   a refusal reaches px_predicate_error and the future's explanation  test_refusals_reach_the_future
 *   all_of / any_of / sequence / not / counts / no_other_packets
 *   given a refused child carry its message                             test_combinators_propagate
 *   working predicates and NULL (out of memory)                         test_working_and_null
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

#include "pcap_stream.h"
#include "pktexpect/pktexpect.h"
#include "px_refused.h"

static const uint8_t MAC[6] = {2, 0, 0, 0, 0, 1};

/* One refused argument of each family, and the message it must give. */
typedef struct refusal_case {
    const char *family;
    px_predicate *(*make)(void);
    const char *message;
} refusal_case;

static px_predicate *vlan_tag(void) { return px_saw_vlan_tag(5000, -1); }
static px_predicate *vlan_spec(void)
{
    px_vlan_spec s = PX_VLAN_SPEC_ANY;
    s.depth = -2;
    return px_did_not_see_vlan(&s);
}
static px_predicate *mac_null(void) { return px_saw_dst_mac(NULL); }
static px_predicate *ip(void)
{
    px_ip_spec s = PX_IP_SPEC_ANY;
    s.ttl = 256;
    return px_saw_ipv6(&s);
}
static px_predicate *l4(void)
{
    px_l4_spec s = PX_L4_SPEC_ANY;
    s.dport = 70000;
    return px_saw_tcp(&s);
}
static px_predicate *icmp(void) { return px_did_not_see_icmpv6(-1, 300); }
static px_predicate *mpls(void)
{
    px_mpls_spec s = PX_MPLS_SPEC_ANY;
    s.tc = 8;
    return px_saw_mpls(&s);
}
static px_predicate *vxlan(void) { return px_saw_vxlan(1 << 24); }
static px_predicate *field(void) { return px_saw_field("ipv4.tll", "63", NULL); }
static px_predicate *payload(void) { return px_did_not_see_payload(NULL, 3); }
static px_predicate *bpf(void) { return px_bpf("udp prot 67", NULL); }
static px_predicate *matches(void) { return px_matches("Ether()", "ipv4.tll", false, NULL); }
static px_predicate *count_less(void) { return px_packet_count_was_less_than(0); }
static px_predicate *between(void) { return px_between(3, 2, NULL); }
static px_predicate *not_per_frame(void) { return px_at_least(1, px_timed_out()); }
static px_predicate *no_children(void) { return px_all_of((px_predicate *[]){NULL}, 0); }

static const refusal_case cases[] = {
    {"saw_vlan_tag", vlan_tag, "saw_vlan_tag: vid must be 0..4095, got 5000"},
    {"vlan spec", vlan_spec, "did_not_see_vlan_tag: depth must be 0.."},
    {"MAC", mac_null, "saw_dst_mac: no MAC address given (NULL)"},
    {"IP spec", ip, "saw_ipv6: ttl must be 0..255 or -1 (any), got 256"},
    {"L4 spec", l4, "saw_tcp: dport must be 0..65535 or -1 (any), got 70000"},
    {"ICMP", icmp, "did_not_see_icmpv6: code must be 0..255 or -1 (any), got 300"},
    {"MPLS spec", mpls, "saw_mpls: tc must be 0..7 or -1 (any), got 8"},
    {"VXLAN", vxlan, "saw_vxlan: vni must be 0..16777215 or -1 (any), got 16777216"},
    {"field", field, "saw_field: unknown field 'ipv4.tll'"},
    {"payload", payload, "did_not_see_payload: needle must be at least 1 byte, got NULL"},
    {"bpf", bpf, "bpf: filter \"udp prot 67\" does not compile: "},
    {"matches", matches, "matches: "},
    {"count alias", count_less, "packet_count_was_less_than: n must be at least 1"},
    {"count range", between, "between: lo must not be above hi, got 3 > 2"},
    {"count child", not_per_frame, "at_least: p must be a per-frame predicate"},
    {"combinator children", no_children, "all_of: needs at least one child predicate, got none"},
};
#define NCASES (sizeof cases / sizeof cases[0])

static void test_refusals_reach_the_future(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "";
    px_ctx *ctx = px_ctx_new(&(px_ctx_opts){.noise_filter_off = true}, err);
    assert_non_null(ctx);
    int p[2];
    assert_int_equal(pipe(p), 0);
    px_pcap_port_opts o = {.fd = p[0], .paused = true};
    if (px_port_open_pcap(ctx, "a", &o, err) != 0)
        fail_msg("px_port_open_pcap: %s", err);
    close(p[0]);
    pcap_write_header(p[1]);

    px_future *f[NCASES];
    for (size_t i = 0; i < NCASES; i++) {
        px_predicate *pred = cases[i].make();
        const char *why = px_predicate_error(pred);
        if (!pred || !why || !strstr(why, cases[i].message))
            fail_msg("%s: px_predicate_error: %s", cases[i].family, why ? why : "(none)");
        px_expect_opts eo = {.timeout_ms = 1000};
        f[i] = px_expect(ctx, "a", pred, &eo);
        assert_non_null(f[i]);
        /* Resolved on return: nothing was armed (the port is paused, no frame came). */
        if (!px_future_done(f[i]))
            fail_msg("%s: px_expect armed a refused predicate", cases[i].family);
    }
    /* The stream ends (nothing waits for it). */
    close(p[1]);
    assert_int_equal(px_port_start(ctx, "a"), 0);
    for (size_t i = 0; i < NCASES; i++) {
        px_verdict v = px_future_wait_for(f[i], 10000); /* a safety net only */
        const char *ex = px_future_explanation(f[i]);
        if (v != PX_ERROR || !strstr(ex, cases[i].message))
            fail_msg("%s: %s %s", cases[i].family, px_verdict_name(v), ex);
        px_future_free(f[i]);
    }
    px_ctx_free(ctx);
}

/* A refused child is the combinator's result, with the child's message; the
 * other children are freed (ASan checks). */
static void test_combinators_propagate(void **state)
{
    (void)state;
    const char *vid = "saw_vlan_tag: vid must be 0..4095, got 5000";
    assert_refused(px_all_of((px_predicate *[]){px_received_packet(), px_saw_vlan_tag(5000, -1)}, 2), vid);
    assert_refused(px_any_of((px_predicate *[]){px_saw_vlan_tag(5000, -1), px_saw_ethertype(0x800)}, 2), vid);
    assert_refused(px_sequence((px_predicate *[]){px_saw_ethertype(0x800), px_saw_vlan_tag(5000, -1)}, 2), vid);
    assert_refused(px_not(px_saw_vlan_tag(5000, -1)), vid);
    assert_refused(px_exactly(2, px_saw_vlan_tag(5000, -1)), vid);
    assert_refused(px_count(px_not(px_saw_vlan_tag(5000, -1))), vid);
    assert_refused(px_no_other_packets(px_saw_vlan_tag(5000, -1)), vid);
    assert_refused(px_no_other_packets(px_timed_out()), "no_other_packets: p must be a per-frame predicate");
    /* Nested: the innermost reason comes out. */
    assert_refused(px_all_of((px_predicate *[]){px_any_of((px_predicate *[]){px_bpf("udp prot 67", NULL)}, 1)}, 1),
                   "bpf: filter \"udp prot 67\" does not compile");
}

static void test_working_and_null(void **state)
{
    (void)state;
    px_predicate *p = px_saw_vlan_tag(4095, 7);
    assert_non_null(p);
    assert_null(px_predicate_error(p));
    px_predicate_free(p);
    p = px_all_of((px_predicate *[]){px_saw_src_mac(MAC), px_saw_ethertype(0x800)}, 2);
    assert_null(px_predicate_error(p));
    px_predicate_free(p);
    /* NULL is what a constructor returns when memory runs out. */
    assert_non_null(strstr(px_predicate_error(NULL), "out of memory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals_reach_the_future),
        cmocka_unit_test(test_combinators_propagate),
        cmocka_unit_test(test_working_and_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
