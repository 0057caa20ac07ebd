/* Frame diffs with masks, and the printers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pktexpect/build.h"
#include "pktexpect/diff.h"
#include "pktexpect/error.h"
#include "pktexpect/print.h"
#include "pktexpect/text.h"
#include "px_frames.h"

static char *diff_text(const char *exp, const char *got, const char *mask_list, unsigned *score)
{
    px_built e, g;
    px_build(&e, exp);
    px_build(&g, got);
    px_diff_mask *m = NULL;
    char err[PX_ERRBUF_SIZE];
    if (mask_list) {
        m = px_diff_mask_new();
        assert_non_null(m);
        if (px_diff_mask_add_list(m, mask_list, err) != 0)
            fail_msg("mask %s: %s", mask_list, err);
    }
    px_diff d = PX_DIFF_INIT;
    assert_int_equal(px_frame_diff(&e.f, &g.f, m, &d), 0);
    px_buf out = PX_BUF_INIT;
    assert_int_equal(px_diff_format(&d, 0, &out), 0);
    *score = d.score;
    assert_true((d.score == 0) == (d.n == 0)); /* no frame here is PX_FRAME_CSUM_NOT_READY */
    px_diff_free(&d);
    px_diff_mask_free(m);
    free(e.bytes);
    free(g.bytes);
    char *s = px_buf_steal(&out);
    return s ? s : strdup("");
}

static void test_field_differences(void **state)
{
    (void)state;
    unsigned score;
    char *s = diff_text("Ether/IPv4(ttl=63)/UDP(dport=53)/Raw(\"hi\")", "Ether/IPv4(ttl=64)/UDP(dport=53)/Raw(\"hi\")", NULL,
                        &score);
    /* the TTL and, because of it, the header checksum */
    assert_non_null(strstr(s, "ipv4.ttl: expected 63, got 64\n"));
    assert_non_null(strstr(s, "ipv4.chksum: expected 0x"));
    assert_int_equal(score, 2);
    free(s);
    s = diff_text("Ether/IPv4(ttl=63)/UDP/Raw(\"hi\")", "Ether/IPv4(ttl=64)/UDP/Raw(\"hi\")", "ipv4.ttl, ipv4.chksum", &score);
    assert_string_equal(s, "");
    assert_int_equal(score, 0);
    free(s);
    /* the whole layer, and a bit range covering the TTL byte (frame byte 22) + checksum */
    s = diff_text("Ether/IPv4(ttl=63)/UDP", "Ether/IPv4(ttl=64)/UDP", "ipv4", &score);
    assert_int_equal(score, 0);
    free(s);
    s = diff_text("Ether/IPv4(ttl=63)/UDP", "Ether/IPv4(ttl=64)/UDP", "bits:176-183 bytes:24-25", &score);
    assert_int_equal(score, 0);
    free(s);
    /* inner layers are numbered */
    s = diff_text("Ether/IPv4/UDP/VXLAN(vni=5)/Ether/IPv4(ttl=9)", "Ether/IPv4/UDP/VXLAN(vni=6)/Ether/IPv4(ttl=8)",
                  "udp.chksum, ipv4[1].chksum", &score);
    assert_non_null(strstr(s, "vxlan.vni: expected 5, got 6\n"));
    assert_non_null(strstr(s, "ipv4[1].ttl: expected 9, got 8\n"));
    assert_null(strstr(s, "chksum"));
    assert_int_equal(score, 2);
    free(s);
}

static void test_structure_and_bytes(void **state)
{
    (void)state;
    unsigned score;
    /* different layer kinds: a layer line, then bytes */
    char *s = diff_text("Ether/IPv4/UDP", "Ether/IPv6/UDP", "eth.type", &score);
    assert_non_null(strstr(s, "layer 1: expected ipv4, got ipv6\n"));
    assert_true(score >= 16);
    free(s);
    /* payload bytes by offset */
    s = diff_text("Ether/IPv4/UDP/Raw(\"hello\")", "Ether/IPv4/UDP/Raw(\"hallo\")", "udp.chksum", &score);
    assert_string_equal(s, "byte 43: expected 65, got 61\n");
    assert_int_equal(score, 1);
    free(s);
    /* padding: compared unless "trailer" is masked */
    s = diff_text("Ether/IPv4/UDP/Pad(min=60)", "Ether/IPv4/UDP/Pad(hex=000000000000000000000000000000000001)", NULL, &score);
    assert_string_equal(s, "byte 59: expected 00, got 01\n");
    free(s);
    s = diff_text("Ether/IPv4/UDP", "Ether/IPv4/UDP/Pad(min=60)", NULL, &score);
    assert_string_equal(s, "length: expected 42, got 60\n");
    assert_int_equal(score, 18);
    free(s);
    s = diff_text("Ether/IPv4/UDP", "Ether/IPv4/UDP/Pad(min=60)", "trailer", &score);
    assert_int_equal(score, 0);
    free(s);
    /* IP over MPLS: the bytes after the datagram are padding there too, compared as
     * padding unless "trailer" is masked */
    s = diff_text("Ether/MPLS(label=5)/IPv4/UDP/Pad(min=60)",
                  "Ether/MPLS(label=5)/IPv4/UDP/Pad(hex=0000000000000000000000000001)", NULL, &score);
    assert_string_equal(s, "byte 59: expected 00, got 01\n");
    free(s);
    s = diff_text("Ether/MPLS(label=5)/IPv4/UDP", "Ether/MPLS(label=5)/IPv4/UDP/Pad(min=60)", "trailer", &score);
    assert_string_equal(s, "");
    assert_int_equal(score, 0);
    free(s);
    /* a missing layer */
    s = diff_text("Ether/IPv4/UDP", "Ether/IPv4(proto=17)", "ipv4.len ipv4.chksum trailer", &score);
    assert_non_null(strstr(s, "layer 2: expected udp, got none\n"));
    free(s);
    /* closer frames score lower */
    unsigned near, far;
    free(diff_text("Ether/IPv4(ttl=63)/UDP", "Ether/IPv4(ttl=62)/UDP", NULL, &near));
    free(diff_text("Ether/IPv4(ttl=63)/UDP", "Ether/IPv6/TCP", NULL, &far));
    assert_true(near < far);
}

static void test_mask_errors(void **state)
{
    (void)state;
    px_diff_mask *m = px_diff_mask_new();
    char err[PX_ERRBUF_SIZE];
    assert_int_equal(px_diff_mask_add(m, "ipv4.tll", err), PX_EINVAL);
    assert_non_null(strstr(err, "unknown field 'tll' in ipv4; fields are version, ihl"));
    assert_int_equal(px_diff_mask_add(m, "ipv5.ttl", err), PX_EINVAL);
    assert_non_null(strstr(err, "unknown layer"));
    assert_int_equal(px_diff_mask_add(m, "bits:9-3", err), PX_EPARSE);
    assert_int_equal(px_diff_mask_add(m, "ipv4[x].ttl", err), PX_EPARSE);
    assert_int_equal(px_diff_mask_add(m, "vlan.vid", err), 0);
    assert_int_equal(px_diff_mask_add_list(m, "[ipv4.id, udp.chksum, trailer]", err), 0);
    assert_int_equal(px_diff_mask_add_list(m, "[ipv4[1].ttl,vlan[0]]", err), 0);
    assert_int_equal(px_diff_mask_add_list(m, "ipv4[1].ttl ipv4.tll", err), PX_EINVAL);
    px_diff_mask_free(m);
}

/* Only what the expected text sets is compared. */
static void test_mask_unset_fields(void **state)
{
    (void)state;
    const char *exp = "Ether/IPv4(ttl=63)/UDP(dport=53)";
    char err[PX_ERRBUF_SIZE];
    px_pkt *p;
    assert_int_equal(px_pkt_parse_text(exp, &p, err), 0);
    px_diff_mask *m = px_diff_mask_new();
    assert_int_equal(px_diff_mask_add_unset(m, p), 0);
    assert_int_equal(px_diff_mask_add(m, "trailer", err), 0);
    px_pkt_free(p);
    px_built e, same, other, wrong;
    px_build(&e, exp);
    px_build(&same, "Ether(src=02:00:00:00:00:07)/IPv4(src=10.0.0.1,ttl=63,id=9)/UDP(sport=9,dport=53)/Pad(min=60)");
    px_build(&other, "Ether/IPv4(ttl=64)/UDP(dport=53)");
    px_build(&wrong, "Ether/IPv4(ttl=63)/TCP(dport=53)");
    px_diff d = PX_DIFF_INIT;
    assert_int_equal(px_frame_diff(&e.f, &same.f, m, &d), 0);
    assert_int_equal(d.score, 0);
    px_diff_free(&d);
    assert_int_equal(px_frame_diff(&e.f, &other.f, m, &d), 0);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.items[0].field, "ipv4.ttl");
    assert_string_equal(d.items[0].expected, "63");
    assert_string_equal(d.items[0].got, "64");
    px_diff_free(&d);
    assert_int_equal(px_frame_diff(&e.f, &wrong.f, m, &d), 0);
    assert_true(d.score >= 16);
    px_diff_free(&d);
    px_diff_mask_free(m);
    free(e.bytes);
    free(same.bytes);
    free(other.bytes);
    free(wrong.bytes);
}

/* The IPv6 flow label is written and read in hex (fl=0x12345; tcpdump's
 * "flowlabel 0x12345"): a diff shows it so, not as 74565. Decimal fields stay so. */
static void test_conventionally_hex_fields(void **state)
{
    (void)state;
    unsigned score;
    char *t = diff_text("Ether()/IPv6(fl=0x12345, hlim=63)/UDP()", "Ether()/IPv6(hlim=64)/UDP()", NULL, &score);
    if (!strstr(t, "ipv6.fl: expected 0x12345, got 0x00000\n"))
        fail_msg("no hex flow label in:\n%s", t);
    if (!strstr(t, "ipv6.hlim: expected 63, got 64\n"))
        fail_msg("hop limit not decimal in:\n%s", t);
    free(t);
}

static void test_print(void **state)
{
    (void)state;
    px_built b;
    px_build(&b, "Ether(src=02:00:00:00:00:01)/Dot1Q(vlan=102,pcp=3)/IPv4(src=10.0.0.1,dst=10.0.0.2)/"
                 "UDP(sport=1234,dport=53)/Raw(\"hello\")");
    px_buf out = PX_BUF_INIT;
    assert_int_equal(px_frame_summary(&b.f, &out), 0);
    assert_string_equal(px_buf_cstr(&out),
                        "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype 802.1Q (0x8100), length 51: vlan 102, p 3, "
                        "ethertype IPv4 (0x0800), IP (ttl 64, id 1) 10.0.0.1.1234 > 10.0.0.2.53: UDP, length 5");
    px_frame_summary(&b.f, &out); /* appends */
    assert_int_equal(out.len, 2 * strlen("02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype 802.1Q (0x8100), length 51: "
                                         "vlan 102, p 3, ethertype IPv4 (0x0800), IP (ttl 64, id 1) 10.0.0.1.1234 > "
                                         "10.0.0.2.53: UDP, length 5"));
    px_buf_clear(&out);
    assert_int_equal(px_frame_fields(&b.f, &out), 0);
    assert_non_null(strstr(px_buf_cstr(&out), "vlan: vlan=102 pcp=3 dei=0 type=0x0800\n"));
    assert_non_null(strstr(px_buf_cstr(&out), " ttl=64 proto=17 "));
    assert_non_null(strstr(px_buf_cstr(&out), "payload: 5 bytes at offset 46\n"));
    px_buf_clear(&out);
    assert_int_equal(px_hexdump(b.bytes, 18, &out), 0);
    assert_string_equal(px_buf_cstr(&out), "0000  ff ff ff ff ff ff 02 00  00 00 00 01 81 00 60 66  |..............`f|\n"
                                           "0010  08 00                                             |..|\n");
    free(b.bytes);
    /* TCP, tunnels and truncation */
    px_build(&b, "Ether/IPv4/TCP(flags=SA,ack=5)");
    px_buf_clear(&out);
    px_frame_summary(&b.f, &out);
    assert_non_null(strstr(px_buf_cstr(&out), "127.0.0.1.20 > 127.0.0.1.80: Flags [S.], seq 0, ack 5, win 8192, length 0"));
    b.f.caplen = 30;
    px_frame_dissect(&b.f, b.bytes, 30, (uint32_t)b.len);
    px_buf_clear(&out);
    px_frame_summary(&b.f, &out);
    assert_non_null(strstr(px_buf_cstr(&out), "[|ipv4]"));
    free(b.bytes);
    px_build(&b, "Ether/IPv4/GRE(key=5)/Ether/ARP(pdst=10.0.0.2,psrc=10.0.0.1)");
    px_buf_clear(&out);
    px_frame_summary(&b.f, &out);
    assert_non_null(strstr(px_buf_cstr(&out), "GREv0, key=0x5, proto Transparent Ethernet Bridging (0x6558)"));
    assert_non_null(strstr(px_buf_cstr(&out), "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28"));
    px_buf_clear(&out);
    px_frame_fields(&b.f, &out);
    assert_non_null(strstr(px_buf_cstr(&out), "\n  arp: "));
    free(b.bytes);
    px_buf_free(&out);
}

/* Frames captured before their L4 checksum was computed (PX_FRAME_CSUM_NOT_READY):
 * their TCP / UDP checksum is listed with a note and scores nothing. */
static void diff_flagged(const char *exp, const char *got, uint32_t exp_flags, uint32_t got_flags, px_diff *d)
{
    px_built e, g;
    px_build(&e, exp);
    px_build(&g, got);
    e.f.flags = exp_flags;
    g.f.flags = got_flags;
    assert_int_equal(px_frame_diff(&e.f, &g.f, NULL, d), 0);
    free(e.bytes);
    free(g.bytes);
}

static void test_csum_not_ready(void **state)
{
    (void)state;
    px_diff d = PX_DIFF_INIT;
    px_buf out = PX_BUF_INIT;
    /* a partial sum in the captured frame: equal under the diff, with a note */
    diff_flagged("Ether/IPv4/UDP(dport=53)/Raw(\"q\")", "Ether/IPv4/UDP(dport=53,chksum=0x1234)/Raw(\"q\")", 0,
                 PX_FRAME_CSUM_NOT_READY, &d);
    assert_int_equal(d.score, 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(px_diff_format(&d, 0, &out), 0);
    assert_non_null(strstr(px_buf_cstr(&out), "udp.chksum: expected 0x"));
    assert_non_null(strstr(px_buf_cstr(&out), ", got 0x1234 (checksum not computed: offloaded)\n"));
    px_buf_free(&out);
    px_diff_free(&d);
    /* TCP, the flag on the expected side (two captures compared) */
    diff_flagged("Ether/IPv6/TCP(dport=80,chksum=0x0001)", "Ether/IPv6/TCP(dport=80)", PX_FRAME_CSUM_NOT_READY, 0, &d);
    assert_int_equal(d.score, 0);
    assert_int_equal(px_diff_format(&d, 0, &out), 0);
    assert_non_null(strstr(px_buf_cstr(&out), "(checksum not computed: offloaded), got 0x"));
    px_buf_free(&out);
    px_diff_free(&d);
    /* other differences still count; the IPv4 header checksum is never offloaded */
    diff_flagged("Ether/IPv4(ttl=63)/TCP(chksum=0x1111)", "Ether/IPv4(ttl=64)/TCP(chksum=0x2222)", 0,
                 PX_FRAME_CSUM_NOT_READY, &d);
    assert_int_equal(d.score, 2); /* ipv4.ttl, ipv4.chksum */
    assert_int_equal(d.n, 3);
    assert_int_equal(px_diff_format(&d, 0, &out), 0);
    assert_non_null(strstr(px_buf_cstr(&out), "ipv4.chksum: expected"));
    assert_null(strstr(px_buf_cstr(&out), "ipv4.chksum: expected 0x1111"));
    assert_non_null(strstr(px_buf_cstr(&out), "tcp.chksum: expected 0x1111, got 0x2222 (checksum not computed: offloaded)"));
    px_buf_free(&out);
    px_diff_free(&d);
    /* tunnels: the inner checksum too (the kernel does not say which one it left) */
    diff_flagged("Ether/IPv4/UDP/VXLAN/Ether/IPv4/TCP(chksum=0x1)", "Ether/IPv4/UDP/VXLAN/Ether/IPv4/TCP(chksum=0x2)", 0,
                 PX_FRAME_CSUM_NOT_READY, &d);
    assert_int_equal(d.score, 0);
    px_diff_free(&d);
    /* without the flag the same checksum is a difference */
    diff_flagged("Ether/IPv4/UDP(dport=53)", "Ether/IPv4/UDP(dport=53,chksum=0x1234)", 0, 0, &d);
    assert_int_equal(d.score, 1);
    assert_int_equal(px_diff_format(&d, 0, &out), 0);
    assert_null(strstr(px_buf_cstr(&out), "offloaded"));
    px_buf_free(&out);
    px_diff_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_differences),
        cmocka_unit_test(test_structure_and_bytes),
        cmocka_unit_test(test_mask_errors),
        cmocka_unit_test(test_mask_unset_fields),
        cmocka_unit_test(test_conventionally_hex_fields),
        cmocka_unit_test(test_print),
        cmocka_unit_test(test_csum_not_ready),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
