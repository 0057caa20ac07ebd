/* Address parsers, the builder, the text form and its inverse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pktexpect/build.h"
#include "pktexpect/error.h"
#include "pktexpect/text.h"
#include "px_frames.h"

/* Test-local one's complement sum (RFC 1071). */
static uint16_t csum(const uint8_t *p, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)acc;
}

static void test_parse_mac(void **state)
{
    (void)state;
    uint8_t m[6], want[6] = {0x02, 0, 0, 0, 0xab, 0xff};
    assert_int_equal(px_parse_mac("02:00:00:00:ab:FF", m, NULL), 0);
    assert_memory_equal(m, want, 6);
    assert_int_equal(px_parse_mac("02-00-00-00-ab-ff", m, NULL), 0);
    const char *end;
    assert_int_equal(px_parse_mac("02:00:00:00:ab:ff,x", m, &end), 0);
    assert_string_equal(end, ",x");
    const char *bad[] = {"", "02:00:00:00:ab", "02:00:00:00:ab:ff:01", "02:00-00:00:ab:ff", "2:0:0:0:0:0",
                         "02:00:00:00:ab:fg", "0200.0000.abff", "02:00:00:00:ab:ff0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(px_parse_mac(bad[i], m, NULL), PX_EPARSE);
    char out[18];
    px_format_mac(want, out);
    assert_string_equal(out, "02:00:00:00:ab:ff");
}

static void test_parse_ipv4(void **state)
{
    (void)state;
    uint8_t a[4] = {9, 9, 9, 9};
    unsigned plen;
    assert_int_equal(px_parse_ipv4("10.0.0.255", a, NULL), 0);
    assert_int_equal(a[0], 10);
    assert_int_equal(a[3], 255);
    assert_int_equal(px_parse_ipv4("10.0.0.256", a, NULL), PX_ERANGE);
    assert_int_equal(a[3], 255); /* untouched on error */
    assert_int_equal(px_parse_ipv4("10.0.0", a, NULL), PX_EPARSE);
    assert_int_equal(px_parse_ipv4("10.0.0.1.2", a, NULL), PX_EPARSE);
    assert_int_equal(px_parse_ipv4("10.0.0.0001", a, NULL), PX_EPARSE);
    assert_int_equal(px_parse_ipv4("10..0.1", a, NULL), PX_EPARSE);
    assert_int_equal(px_parse_ipv4_prefix("192.168.0.0/16", a, &plen, NULL), 0);
    assert_int_equal(plen, 16);
    assert_int_equal(a[0], 192);
    assert_int_equal(px_parse_ipv4_prefix("192.168.0.1", a, &plen, NULL), 0);
    assert_int_equal(plen, 32);
    assert_int_equal(px_parse_ipv4_prefix("10.0.0.0/33", a, &plen, NULL), PX_ERANGE);
    assert_int_equal(px_parse_ipv4_prefix("10.0.0.0/", a, &plen, NULL), PX_EPARSE);
    const char *end;
    assert_int_equal(px_parse_ipv4_prefix("10.0.0.0/8)", a, &plen, &end), 0);
    assert_string_equal(end, ")");
    char out[16];
    px_format_ipv4((const uint8_t[]){192, 0, 2, 1}, out);
    assert_string_equal(out, "192.0.2.1");
}

static void test_parse_ipv6(void **state)
{
    (void)state;
    uint8_t a[16];
    unsigned plen;
    assert_int_equal(px_parse_ipv6("fe80::1", a, NULL), 0);
    assert_int_equal(a[0], 0xfe);
    assert_int_equal(a[15], 1);
    assert_int_equal(px_parse_ipv6("::ffff:10.0.0.1", a, NULL), 0);
    assert_int_equal(a[12], 10);
    assert_int_equal(px_parse_ipv6("fe80::1::2", a, NULL), PX_EPARSE);
    assert_int_equal(px_parse_ipv6("", a, NULL), PX_EPARSE);
    assert_int_equal(px_parse_ipv6("fe80::1x", a, NULL), PX_EPARSE);
    assert_int_equal(px_parse_ipv6_prefix("2001:db8::/32", a, &plen, NULL), 0);
    assert_int_equal(plen, 32);
    assert_int_equal(px_parse_ipv6_prefix("2001:db8::/129", a, &plen, NULL), PX_ERANGE);
    assert_int_equal(px_parse_ipv6_prefix("2001:db8::1", a, &plen, NULL), 0);
    assert_int_equal(plen, 128);
    const char *end;
    assert_int_equal(px_parse_ipv6("2001:db8::1,dst", a, &end), 0);
    assert_string_equal(end, ",dst");
    char out[46];
    px_format_ipv6(a, out);
    assert_string_equal(out, "2001:db8::1");
}

static const char *EXAMPLE = "Ether(dst=ff:ff:ff:ff:ff:ff,src=02:00:00:00:00:01)/Dot1Q(vlan=102,pcp=3)/"
                             "IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/UDP(sport=1234,dport=53)/Raw(\"hello\")";

/* The example of the docs, byte for byte (checksums checked separately). */
static void test_text_known_answer(void **state)
{
    (void)state;
    uint8_t want[128];
    size_t wn = px_unhex("ffffffffffff 020000000001 8100 6066 0800"
                      "4500 0021 0001 0000 4011 XXXX 0a000001 0a000002"
                      "04d2 0035 000d XXXX 68656c6c6f",
                      want, sizeof want);
    uint8_t *b;
    size_t n;
    char err[PX_ERRBUF_SIZE];
    assert_int_equal(px_frame_parse_text(EXAMPLE, &b, &n, err), 0);
    /* unhex skipped the XXXX placeholders: compare around the checksums */
    assert_int_equal(n, wn + 4);
    assert_memory_equal(b, want, 28);                  /* up to the IPv4 checksum */
    assert_memory_equal(b + 30, want + 28, 8 + 6);     /* addresses, ports, length */
    assert_memory_equal(b + 46, want + 42, 5);         /* payload */
    /* IPv4 header checksum: the header sums to 0xffff */
    assert_int_equal(csum(b + 18, 20, 0), 0xffff);
    /* UDP checksum with the pseudo-header */
    uint32_t pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 13;
    assert_int_equal(csum(b + 38, 13, pseudo), 0xffff);
    free(b);
}

static void test_builder_c_api(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    px_pkt *p = px_pkt_new();
    assert_non_null(p);
    assert_int_equal(px_pkt_push(p, "Ether", err), 0);
    assert_int_equal(px_pkt_set(p, "src", "02:00:00:00:00:01", err), 0);
    assert_int_equal(px_pkt_push(p, "Dot1Q", err), 0);
    assert_int_equal(px_pkt_set_uint(p, "vlan", 102, err), 0);
    assert_int_equal(px_pkt_set_uint(p, "pcp", 3, err), 0);
    assert_int_equal(px_pkt_push(p, "IPv4", err), 0);
    static const uint8_t s[4] = {10, 0, 0, 1}, d[4] = {10, 0, 0, 2};
    assert_int_equal(px_pkt_set_bytes(p, "src", s, 4, err), 0);
    assert_int_equal(px_pkt_set_bytes(p, "dst", d, 4, err), 0);
    assert_int_equal(px_pkt_push(p, "UDP", err), 0);
    assert_int_equal(px_pkt_set_uint(p, "sport", 1234, err), 0);
    assert_int_equal(px_pkt_set_uint(p, "dport", 53, err), 0);
    assert_int_equal(px_pkt_push_raw(p, "hello", 5), 0);
    uint8_t *a, *b;
    size_t an, bn;
    assert_int_equal(px_pkt_build(p, &a, &an, err), 0);
    assert_int_equal(px_frame_parse_text(EXAMPLE, &b, &bn, err), 0);
    assert_int_equal(an, bn);
    assert_memory_equal(a, b, an);
    free(a);
    free(b);
    /* errors */
    assert_int_equal(px_pkt_set_uint(p, "vlan", 1, err), PX_EINVAL); /* last layer is Raw */
    assert_int_equal(px_pkt_push(p, "Nope", err), PX_EINVAL);
    assert_non_null(strstr(err, "unknown layer 'Nope'"));
    assert_int_equal(px_pkt_push(p, "TCP", err), 0);
    assert_int_equal(px_pkt_set_uint(p, "dport", 65536, err), PX_ERANGE);
    assert_int_equal(px_pkt_set_bytes(p, "options", (const uint8_t *)"0123456789012345678901234567890123456789x", 41, err),
                     PX_ERANGE);
    px_pkt_free(p);
}

/* Fields set explicitly are kept even when wrong: broken frames on purpose. */
static void test_explicit_fields_kept(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    char err[PX_ERRBUF_SIZE];
    assert_int_equal(px_frame_parse_text("Ether(type=0x0800)/IPv4(chksum=0x1234,len=99,proto=6,ihl=5)/UDP(chksum=0,len=3)",
                                         &b, &n, err),
                     0);
    assert_int_equal(n, 14 + 20 + 8);
    assert_int_equal(b[14 + 10], 0x12);
    assert_int_equal(b[14 + 11], 0x34);
    assert_int_equal(b[14 + 2] << 8 | b[14 + 3], 99);
    assert_int_equal(b[14 + 9], 6);
    assert_int_equal(b[34 + 5], 3);
    assert_int_equal(b[34 + 6] | b[34 + 7], 0);
    free(b);
    /* auto: ethertypes, protocol numbers, lengths */
    assert_int_equal(px_frame_parse_text("Ether()/Dot1AD(vlan=5)/Dot1Q(vlan=6)/IPv6()/IPv6Frag()/UDP()/VXLAN()/Ether()/ARP()", &b,
                                         &n, err),
                     0);
    assert_int_equal(b[12] << 8 | b[13], 0x88a8);
    assert_int_equal(b[16] << 8 | b[17], 0x8100);
    assert_int_equal(b[20] << 8 | b[21], 0x86dd);
    assert_int_equal(b[22 + 6], 44);                       /* IPv6 next header: fragment */
    assert_int_equal(b[22 + 4] << 8 | b[22 + 5], 8 + 8 + 8 + 14 + 28);
    assert_int_equal(b[62], 17);                           /* fragment next header: UDP */
    assert_int_equal(b[70 + 2] << 8 | b[70 + 3], 4789);    /* UDP dport before VXLAN */
    assert_int_equal(b[70 + 4] << 8 | b[70 + 5], 8 + 8 + 14 + 28);
    assert_int_equal(b[78], 0x08);                         /* VXLAN I flag */
    assert_int_equal(b[86 + 12] << 8 | b[86 + 13], 0x0806);
    free(b);
    /* padding: Pad(n) and Pad(min=60) stay outside lengths */
    assert_int_equal(px_frame_parse_text("Ether()/IPv4()/Raw(hex=0102)/Pad(min=60)", &b, &n, err), 0);
    assert_int_equal(n, 60);
    assert_int_equal(b[14 + 2] << 8 | b[14 + 3], 22);
    free(b);
    assert_int_equal(px_frame_parse_text("Ether()/LLC()/Raw(\"ab\")/Pad(4)", &b, &n, err), 0);
    assert_int_equal(n, 14 + 3 + 2 + 4);
    assert_int_equal(b[12] << 8 | b[13], 5); /* 802.3 length */
    free(b);
    /* plain hex */
    assert_int_equal(px_frame_parse_text("  ff ff ff ff ff ff 02:00:00:00:00:01 88b5 ab ", &b, &n, err), 0);
    assert_int_equal(n, 15);
    assert_int_equal(b[14], 0xab);
    free(b);
}

static void expect_error(const char *text, int rc, const char *msg)
{
    uint8_t *b = NULL;
    size_t n;
    char err[PX_ERRBUF_SIZE] = "";
    int got = px_frame_parse_text(text, &b, &n, err);
    if (got != rc || !strstr(err, msg))
        fail_msg("'%s': got %d '%s', want %d '%s'", text, got, err, rc, msg);
    assert_null(b);
}

static void test_text_errors(void **state)
{
    (void)state;
    expect_error("Ether(dst=ff:ff:ff:ff:ff:ff)/Dot1Q(vlann=102)", PX_EINVAL,
                 "col 36: unknown field 'vlann' in Dot1Q; fields are vlan, pcp, dei, type");
    expect_error("Ether()/Dot1Q(vlan=4096)", PX_ERANGE, "col 20: vlan=4096 out of range 0..4095");
    expect_error("Ether()/IPv4()/UDP(dport=70000)", PX_ERANGE, "col 26: dport=70000 out of range 0..65535");
    expect_error("Ether()/IPv4(ttl=256)", PX_ERANGE, "col 18: ttl=256 out of range 0..255");
    expect_error("Ether()/IPv4(ttl=-1)", PX_EPARSE, "col 18: ttl=-1: expected a number");
    expect_error("Ether()/Foo()", PX_EINVAL, "col 9: unknown layer 'Foo'; layers are Ether, LLC, Dot1Q");
    expect_error("Ether(dst=ff:ff)", PX_EPARSE, "col 11: dst=ff:ff: expected a MAC address");
    expect_error("Ether()/IPv4(src=10.0.0.300)", PX_ERANGE, "col 18: src=10.0.0.300");
    expect_error("Ether(dst=ff:ff:ff:ff:ff:ff", PX_EPARSE, "col 28: expected ',' or ')' in Ether");
    expect_error("Ether() IPv4()", PX_EPARSE, "col 9: expected '/' between layers");
    expect_error("Ether()/", PX_EPARSE, "col 9: expected a layer name");
    expect_error("Ether()/Raw(\"abc)", PX_EPARSE, "col 13: unterminated string");
    expect_error("Ether()/Raw(hex=0g)", PX_EPARSE, "col 17: expected hex bytes");
    expect_error("Ether()/Pad(x)", PX_EPARSE, "col 13: expected a byte count");
    expect_error("Ether(ttl)", PX_EINVAL, "col 7: unknown field 'ttl' in Ether; fields are dst, src, type");
    expect_error("Ether(dst)", PX_EPARSE, "col 10: expected '=' after 'dst'");
    expect_error("TCP(flags=SX)", PX_EPARSE, "flags=SX: expected a number or flag letters");
    expect_error("", PX_EPARSE, "col 1: expected a layer name");
    expect_error("fff", PX_EPARSE, "hex frame");
    /* A field given twice in one layer, by its name or by its alias. */
    expect_error("Ether()/IPv4(ttl=1,ttl=2)", PX_EPARSE, "col 20: field 'ttl' given twice in IPv4");
    expect_error("Ether()/Dot1Q(vlan=1, vid=2)", PX_EPARSE, "col 23: field 'vid' given twice in Dot1Q");
}

/* The same field in two different layers is not a duplicate. */
static void test_text_same_field_in_two_layers(void **state)
{
    (void)state;
    uint8_t *b = NULL;
    size_t n;
    char err[PX_ERRBUF_SIZE] = "";
    assert_int_equal(px_frame_parse_text("Ether()/Dot1Q(vlan=1)/Dot1Q(vlan=2)/IPv4(ttl=1)/UDP()", &b, &n, err), 0);
    free(b);
}

/* text -> bytes -> dissect -> text -> bytes gives the same bytes; and canonical
 * texts come back unchanged. */
static const char *ROUND_TRIP[] = {
    "Ether(src=02:00:00:00:00:01)/Dot1Q(vlan=102,pcp=3)/IPv4(src=10.0.0.1,dst=10.0.0.2)/UDP(sport=1234)/Raw(\"hello\")",
    "Ether/IPv4/TCP(flags=SA,options=020405b4)",
    "Ether/Dot1AD(vlan=5)/Dot1Q(vlan=7,dei=1)/IPv6(fl=74565,src=2001:db8::1,dst=fe80::2)/IPv6HopByHop/IPv6Frag(m=1,id=9)/TCP",
    "Ether/IPv6/IPv6Routing(segleft=1,data=00000000fe800000000000000000000000000001)/IPv6DestOpts/UDP",
    "Ether/IPv4/UDP(sport=4789,dport=4789)/VXLAN(vni=42)/Ether(dst=02:00:00:00:00:0a)/IPv4(ttl=5)/ICMP",
    "Ether/MPLS(label=100,tc=5)/MPLS(label=200,ttl=63)/IPv4/UDP",
    /* padding after IP over MPLS is Pad, not a second Raw with len/chksum spelt out */
    "Ether/MPLS(label=100)/IPv4/UDP(sport=10,dport=20)/Raw(\"x\")/Pad(13)",
    "Ether/MPLS(label=100)/MPLS(label=7)/IPv6/UDP(sport=10,dport=20)/Pad(4)",
    "Ether/MPLS(label=3)/IPv6/ICMPv6(type=135)/Raw(hex=00000000fe800000000000000000000000000001)",
    "Ether/IPv4/GRE(key=42,seq=7,c=1)/Ether/ARP(op=2,psrc=10.0.0.1)",
    "Ether/IPv6/GRE/IPv4/ICMP(type=0,id=7,seq=9)",
    "Ether/LLC/Raw(\"stp\")/Pad(4)",
    "Ether/IPv4(flags=1,frag=5)/Raw(\"x\")",
    "Ether/IPv4(dscp=46,ecn=1,options=01010101)/ICMP",
    "Ether/ARP(hwsrc=02:00:00:00:00:01,psrc=10.0.0.1,pdst=10.0.0.2)/Pad(18)",
    "Ether(type=0x9100)/Dot1Q/IPv4(proto=6,chksum=0x1234)/Raw(hex=0035)",
    "Ether/IPv4/IPv6/UDP/Raw(hex=00ff)/Pad(hex=0102)",
    "Ether(type=0x0800)/Raw(hex=4500)",
    "ffffffffffff0000",
};

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ROUND_TRIP / sizeof ROUND_TRIP[0]; i++) {
        uint8_t *b, *b2;
        size_t n, n2;
        char err[PX_ERRBUF_SIZE];
        if (px_frame_parse_text(ROUND_TRIP[i], &b, &n, err) != 0)
            fail_msg("%s: %s", ROUND_TRIP[i], err);
        px_frame f;
        px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
        px_buf t = PX_BUF_INIT;
        assert_int_equal(px_frame_to_text(&f, &t), 0);
        if (px_frame_parse_text(px_buf_cstr(&t), &b2, &n2, err) != 0)
            fail_msg("%s -> %s: %s", ROUND_TRIP[i], px_buf_cstr(&t), err);
        assert_int_equal(n, n2);
        assert_memory_equal(b, b2, n);
        if (strcmp(px_buf_cstr(&t), ROUND_TRIP[i]) != 0)
            fail_msg("not canonical:\n  in:  %s\n  out: %s", ROUND_TRIP[i], px_buf_cstr(&t));
        px_buf_free(&t);
        free(b);
        free(b2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_mac),          cmocka_unit_test(test_parse_ipv4),
        cmocka_unit_test(test_parse_ipv6),         cmocka_unit_test(test_text_known_answer), cmocka_unit_test(test_text_same_field_in_two_layers),
        cmocka_unit_test(test_builder_c_api),      cmocka_unit_test(test_explicit_fields_kept),
        cmocka_unit_test(test_text_errors),        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
