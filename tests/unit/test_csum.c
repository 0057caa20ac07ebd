/* The one Internet checksum (harness/csum.h): RFC 1071's worked example, odd
 * lengths, carries, and the builder and the verifier agreeing through it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "csum.h"
#include "pktexpect/build.h"
#include "pktexpect/error.h"
#include "pktexpect/frame.h"
#include "pktexpect/text.h"

static void test_rfc1071_example(void **state)
{
    (void)state;
    /* RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to 0x2ddf0, folded 0xddf2 */
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(px__csum_add(0, b, sizeof b), 0x2ddf0);
    assert_int_equal(px__csum_fold(px__csum_add(0, b, sizeof b)), 0xddf2);
    /* in two calls, split on a word boundary */
    assert_int_equal(px__csum_fold(px__csum_add(px__csum_add(0, b, 4), b + 4, 4)), 0xddf2);
}

static void test_odd_length_and_fold(void **state)
{
    (void)state;
    const uint8_t b[] = {0x12, 0x34, 0x56};
    assert_int_equal(px__csum_add(0, b, 3), 0x1234 + 0x5600); /* last byte is a high byte */
    assert_int_equal(px__csum_add(7, b, 0), 7);
    assert_int_equal(px__csum_fold(0), 0);
    assert_int_equal(px__csum_fold(0xffff), 0xffff);
    assert_int_equal(px__csum_fold(0x1ffff), 0x0001);          /* 0xffff + 1, end-around carry */
    assert_int_equal(px__csum_fold(0xffffffff), 0xffff); /* two rounds of carries */
}

/* What the builder writes, the verifier accepts: both use the one sum. */
static void test_builder_and_verifier_agree(void **state)
{
    (void)state;
    const char *texts[] = {
        "Ether()/IPv4(src=10.0.0.1,dst=10.0.0.2)/UDP(sport=1,dport=53)/Raw(\"odd\")",
        "Ether()/Dot1Q(vlan=5)/IPv4(src=10.0.0.1,dst=10.0.0.2)/TCP(sport=80,dport=1234)/Raw(\"abcd\")",
        "Ether()/IPv6(src=2001:db8::1,dst=2001:db8::2)/UDP(dport=7)/Raw(\"x\")",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char err[PX_ERRBUF_SIZE];
        px_pkt *p = NULL;
        assert_int_equal(px_pkt_parse_text(texts[i], &p, err), 0);
        uint8_t *bytes = NULL;
        size_t len = 0;
        assert_int_equal(px_pkt_build(p, &bytes, &len, err), 0);
        px_frame f;
        px_frame_dissect(&f, bytes, (uint32_t)len, (uint32_t)len);
        int checked = 0;
        for (size_t k = 0; k < f.nlayers; k++) {
            px_csum_status st = px_layer_checksum(&f, &f.layers[k]);
            if (st != PX_CSUM_NONE) {
                assert_int_equal(st, PX_CSUM_GOOD);
                checked++;
            }
        }
        assert_true(checked >= 1);
        free(bytes);
        px_pkt_free(p);
    }
}

/* RFC 8200 8.1: with a Routing header whose segments left > 0, the TCP/UDP/ICMPv6
 * pseudo-header takes the final destination (the header's last address; segment 0
 * of an SRH), not the IPv6 destination. 0x27b3 is what scapy and tshark want for
 * the first frame (the IPv6 destination would give 0x284a). */
static void test_routing_header_final_destination(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    uint8_t *b = NULL;
    size_t n = 0;
    const char *text = "Ether()/IPv6(src=2001:db8::1,dst=2001:db8::2)/IPv6Routing(segleft=1,data=0000000020010db8000000"
                       "000000000000000099)/UDP(sport=1000,dport=53)/Raw(\"x\")";
    assert_int_equal(px_frame_parse_text(text, &b, &n, err), 0);
    px_frame f;
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    const px_layer *udp = px_frame_find(&f, PX_LAYER_UDP);
    assert_non_null(udp);
    assert_int_equal(b[udp->off + 6] << 8 | b[udp->off + 7], 0x27b3);
    assert_int_equal(px_layer_checksum(&f, udp), PX_CSUM_GOOD);
    /* the checksum over the IPv6 destination is now the bad one */
    b[udp->off + 6] = 0x28;
    b[udp->off + 7] = 0x4a;
    assert_int_equal(px_layer_checksum(&f, udp), PX_CSUM_BAD);
    free(b);

    const char *good[] = {
        /* type 0 with two addresses: the last one; segments left 0: the IPv6 destination */
        "Ether/IPv6(dst=2001:db8::2)/IPv6Routing(type=0,segleft=2,data=0000000020010db800000000000000000000009820010db8"
        "000000000000000000000099)/TCP(sport=1,dport=2)",
        "Ether/IPv6(dst=2001:db8::2)/IPv6Routing(type=0,segleft=0,data=0000000020010db8000000000000000000000099)/UDP",
        /* SRH (type 4): segment 0; behind a hop-by-hop header; ICMPv6 */
        "Ether/IPv6(dst=2001:db8::2)/IPv6HopByHop/IPv6Routing(type=4,segleft=1,data=0000000020010db800000000000000000000"
        "0077)/ICMPv6(type=128)/Raw(\"p\")",
        /* an unknown routing type keeps the IPv6 destination */
        "Ether/IPv6(dst=2001:db8::2)/IPv6Routing(type=3,segleft=1,data=0000000020010db8000000000000000000000099)/UDP",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (px_frame_parse_text(good[i], &b, &n, err) != 0)
            fail_msg("%s: %s", good[i], err);
        px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
        const px_layer *l4 = &f.layers[f.nlayers - 1];
        if (l4->kind == PX_LAYER_PAYLOAD)
            l4--;
        assert_int_equal(px_layer_checksum(&f, l4), PX_CSUM_GOOD);
        free(b);
    }
    /* the final destination straight from the helper */
    const uint8_t srh[24] = {59, 2, 4, 1, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, [23] = 0x77};
    assert_ptr_equal(px__rh_final_dst(srh, sizeof srh), srh + 8);
    const uint8_t left0[24] = {59, 2, 0, 0};
    assert_null(px__rh_final_dst(left0, sizeof left0));
    assert_null(px__rh_final_dst(srh, 8)); /* no address in the header */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_odd_length_and_fold),
        cmocka_unit_test(test_builder_and_verifier_agree),
        cmocka_unit_test(test_routing_header_final_destination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
