/* Derived expected frames and masks, as PTF tests write them: px_frame_derive
 * (exp = pkt.copy(); exp[IP].ttl -= 1), masks by field name and by bit range
 * (Mask.set_do_not_care_scapy / set_do_not_care), px_matches_frame, and
 * matches(FRAME, set=[...], ignore=[...]) in the expression language. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "px_refused.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/build.h"
#include "pktexpect/diff.h"
#include "pktexpect/error.h"
#include "pktexpect/expr.h"
#include "pktexpect/predicates.h"
#include "pktexpect/text.h"

#include "pred_drive.h"

/* The bytes of a text-form frame (caller frees). */
static uint8_t *build(const char *text, size_t *len)
{
    uint8_t *b = NULL;
    char err[PX_ERRBUF_SIZE] = "";
    if (px_frame_parse_text(text, &b, len, err) != 0)
        fail_msg("text form '%s': %s", text, err);
    return b;
}

/* Derives `from` by `edits` and checks the result is the frame `want` built
 * directly (so lengths and checksums too), and that every checksum verifies. */
static void check_derive(const char *from, const char *edits, const char *want)
{
    size_t flen, wlen, dlen;
    uint8_t *f = build(from, &flen), *w = build(want, &wlen), *d = NULL;
    char err[PX_ERRBUF_SIZE] = "";
    if (px_frame_derive(f, flen, edits, &d, &dlen, err) != 0)
        fail_msg("%s with '%s': %s", from, edits, err);
    if (dlen != wlen || memcmp(d, w, wlen) != 0) {
        px_frame fw, fd;
        px_frame_dissect(&fw, w, (uint32_t)wlen, (uint32_t)wlen);
        px_frame_dissect(&fd, d, (uint32_t)dlen, (uint32_t)dlen);
        px_diff diff = PX_DIFF_INIT;
        px_buf out = PX_BUF_INIT;
        px_frame_diff(&fw, &fd, NULL, &diff);
        px_diff_format(&diff, 0, &out);
        fail_msg("%s with '%s' is not %s:\n%s", from, edits, want, px_buf_cstr(&out));
    }
    px_frame fd;
    px_frame_dissect(&fd, d, (uint32_t)dlen, (uint32_t)dlen);
    for (unsigned i = 0; i < fd.nlayers; i++)
        assert_int_not_equal(px_layer_checksum(&fd, &fd.layers[i]), PX_CSUM_BAD);
    /* the original is untouched */
    uint8_t *again = build(from, &wlen);
    assert_memory_equal(f, again, flen);
    free(again);
    free(f);
    free(w);
    free(d);
}

/* The error of deriving `from` by `edits`. */
static int derive_err(const char *from, const char *edits, char err[PX_ERRBUF_SIZE])
{
    size_t flen, dlen = 0;
    uint8_t *f = build(from, &flen), *d = NULL;
    err[0] = '\0';
    int rc = px_frame_derive(f, flen, edits, &d, &dlen, err);
    assert_int_not_equal(rc, 0);
    assert_null(d);
    free(f);
    return rc;
}

#define UDP4 "Ether(dst=02:00:00:00:00:01)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/UDP(sport=1000,dport=53)/Raw(\"hi\")"

static void test_each_field_family(void **state)
{
    (void)state;
    check_derive(UDP4, "eth.src=02:00:00:00:00:02, eth.dst=02:00:00:00:00:99",
                 "Ether(dst=02:00:00:00:00:99,src=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/"
                 "UDP(sport=1000,dport=53)/Raw(\"hi\")");
    check_derive(UDP4, "ipv4.ttl=63, ipv4.src=192.168.1.1, ipv4.dst=192.168.1.2, ipv4.dscp=46, ipv4.ecn=1",
                 "Ether(dst=02:00:00:00:00:01)/IPv4(src=192.168.1.1,dst=192.168.1.2,ttl=63,dscp=46,ecn=1)/"
                 "UDP(sport=1000,dport=53)/Raw(\"hi\")");
    check_derive(UDP4, "udp.sport=7, udp.dport=0x1234",
                 "Ether(dst=02:00:00:00:00:01)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/UDP(sport=7,dport=4660)/"
                 "Raw(\"hi\")");
    check_derive("Ether()/IPv6(src=2001:db8::1,dst=2001:db8::2,hlim=64)/TCP(sport=1,dport=80,flags=S)",
                 "ipv6.hlim-=1, ipv6.src=2001:db8::a, ipv6.dst=fe80::1, tcp.sport=443, tcp.dport=8080, tcp.flags=SA",
                 "Ether()/IPv6(src=2001:db8::a,dst=fe80::1,hlim=63)/TCP(sport=443,dport=8080,flags=SA)");
    /* tos and tc: the whole traffic-class byte (dscp << 2 | ecn) */
    check_derive(UDP4, "ipv4.tos=0xb9",
                 "Ether(dst=02:00:00:00:00:01)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64,dscp=46,ecn=1)/"
                 "UDP(sport=1000,dport=53)/Raw(\"hi\")");
    check_derive("Ether()/IPv6(fl=0x12345)/UDP()", "ipv6.tc=0xb8, ipv6.tc-=0x08", "Ether()/IPv6(fl=0x12345,dscp=44)/UDP()");
    check_derive("Ether()/Dot1Q(vlan=5)/IPv4()/TCP()", "vlan.vid=7, vlan.pcp=3, vlan.dei=1",
                 "Ether()/Dot1Q(vlan=7,pcp=3,dei=1)/IPv4()/TCP()");
    /* the second tag is vlan[1] */
    check_derive("Ether()/Dot1AD(vlan=100)/Dot1Q(vlan=5)/IPv4()/UDP()", "vlan[1].vid=6",
                 "Ether()/Dot1AD(vlan=100)/Dot1Q(vlan=6)/IPv4()/UDP()");
    check_derive("Ether()/MPLS(label=100,ttl=64)/IPv4()/UDP()", "mpls.label=200, mpls.ttl-=1, mpls.tc=2",
                 "Ether()/MPLS(label=200,ttl=63,tc=2)/IPv4()/UDP()");
    check_derive("Ether()/IPv4()/ICMP(type=8,id=1,seq=2)", "icmp.type=0, ipv4.ttl+=1",
                 "Ether()/IPv4(ttl=65)/ICMP(type=0,id=1,seq=2)");
    /* an inner header: the outer UDP checksum covers it and is recomputed too */
    check_derive("Ether()/IPv4()/UDP(sport=5)/VXLAN(vni=5)/Ether()/IPv4(ttl=10)/UDP()/Raw(\"x\")",
                 "ipv4[1].ttl-=1, vxlan.vni=6",
                 "Ether()/IPv4()/UDP(sport=5)/VXLAN(vni=6)/Ether()/IPv4(ttl=9)/UDP()/Raw(\"x\")");
    /* no edits: a copy */
    check_derive(UDP4, "", UDP4);
}

static void test_ttl_decrement_like_ptf(void **state)
{
    (void)state;
    check_derive(UDP4, "ipv4.ttl-=1",
                 "Ether(dst=02:00:00:00:00:01)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=63)/UDP(sport=1000,dport=53)/"
                 "Raw(\"hi\")");
    check_derive(UDP4, "ipv4.ttl -= 1, ipv4.ttl-=1",
                 "Ether(dst=02:00:00:00:00:01)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=62)/UDP(sport=1000,dport=53)/"
                 "Raw(\"hi\")");
}

static void test_vlan_push_pop(void **state)
{
    (void)state;
    check_derive("Ether()/IPv4()/UDP()/Raw(\"abc\")", "+vlan(102)", "Ether()/Dot1Q(vlan=102)/IPv4()/UDP()/Raw(\"abc\")");
    check_derive("Ether()/Dot1Q(vlan=102)/IPv4()/UDP()", "+vlan(200, pcp=5, tpid=0x88a8)",
                 "Ether()/Dot1AD(vlan=200,pcp=5)/Dot1Q(vlan=102)/IPv4()/UDP()");
    check_derive("Ether()/Dot1Q(vlan=102)/IPv4()/UDP()/Raw(\"abc\")", "-vlan", "Ether()/IPv4()/UDP()/Raw(\"abc\")");
    check_derive("Ether()/Dot1AD(vlan=200)/Dot1Q(vlan=102)/ARP()", "-vlan, vlan.vid=7", "Ether()/Dot1Q(vlan=7)/ARP()");
    /* a switch rewriting the tag and routing */
    check_derive("Ether(src=02:00:00:00:00:01)/Dot1Q(vlan=10)/IPv4(ttl=64)/TCP()",
                 "-vlan, +vlan(20), eth.src=02:00:00:00:00:aa, ipv4.ttl-=1",
                 "Ether(src=02:00:00:00:00:aa)/Dot1Q(vlan=20)/IPv4(ttl=63)/TCP()");
}

static void test_explicit_checksum_kept(void **state)
{
    (void)state;
    size_t flen, dlen;
    uint8_t *f = build(UDP4, &flen), *d = NULL;
    char err[PX_ERRBUF_SIZE];
    assert_int_equal(px_frame_derive(f, flen, "ipv4.ttl=63, ipv4.chksum=0x1234, udp.chksum=0", &d, &dlen, err), 0);
    px_frame fd;
    px_frame_dissect(&fd, d, (uint32_t)dlen, (uint32_t)dlen);
    px_ipv4_hdr ip;
    assert_true(px_layer_ipv4(&fd, NULL, &ip));
    assert_int_equal(ip.chksum, 0x1234);
    assert_int_equal(ip.ttl, 63);
    px_udp_hdr udp;
    assert_true(px_layer_udp(&fd, NULL, &udp));
    assert_int_equal(udp.chksum, 0);
    free(d);
    free(f);
}

static void test_bad_input(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    assert_int_equal(derive_err(UDP4, "ipv4.ttl=63, eth.src=02:00:00:00:00:02, ipv4.tll=1", err), PX_EINVAL);
    assert_string_equal(err, "edit 3 (ipv4.tll=1): unknown field 'ipv4.tll' (did you mean ipv4.ttl?)");
    assert_int_equal(derive_err(UDP4, "ipv44.ttl=1", err), PX_EINVAL);
    expect_has(err, "edit 1 (ipv44.ttl=1): unknown layer 'ipv44' (did you mean ipv4?)");
    assert_int_equal(derive_err(UDP4, "ipv4.zzzzzz=1", err), PX_EINVAL);
    expect_has(err, "unknown field 'ipv4.zzzzzz'; fields are version, ihl");
    assert_int_equal(derive_err(UDP4, "ipv6.hlim-=1", err), PX_EINVAL);
    assert_string_equal(err, "edit 1 (ipv6.hlim-=1): the frame has no IPv6 layer");
    assert_int_equal(derive_err(UDP4, "ipv4[1].ttl=1", err), PX_EINVAL);
    expect_has(err, "the frame has 1 ipv4 layer, so no ipv4[1]");
    assert_int_equal(derive_err(UDP4, "ipv4.ttl=256", err), PX_ERANGE);
    expect_has(err, "edit 1 (ipv4.ttl=256): ipv4.ttl: ttl=256 out of range 0..255");
    assert_int_equal(derive_err(UDP4, "ipv4.ttl-=65", err), PX_ERANGE);
    expect_has(err, "ipv4.ttl is 64 in the frame: the result would be below 0");
    assert_int_equal(derive_err(UDP4, "ipv4.ttl+=192", err), PX_ERANGE);
    expect_has(err, "the result would be above 255");
    assert_int_equal(derive_err(UDP4, "eth.src=02:00:zz", err), PX_EPARSE);
    expect_has(err, "expected a MAC address");
    assert_int_equal(derive_err(UDP4, "ipv4.ttl", err), PX_EPARSE);
    expect_has(err, "edit 1 (ipv4.ttl): expected layer.field=value");
    assert_int_equal(derive_err(UDP4, "ipv4.ttl=", err), PX_EPARSE);
    expect_has(err, "no value after '='");
    assert_int_equal(derive_err(UDP4, "eth.src-=1", err), PX_EINVAL);
    expect_has(err, "eth.src is not a number");
    assert_int_equal(derive_err(UDP4, "ipv4.options=01020304", err), PX_EINVAL);
    expect_has(err, "cannot be edited");
    assert_int_equal(derive_err(UDP4, "ipv4.tos=256", err), PX_ERANGE);
    expect_has(err, "ipv4.tos=256: expected a number 0..255");
    assert_int_equal(derive_err(UDP4, "+vlan(5000)", err), PX_ERANGE);
    expect_has(err, "vid=5000: expected a number 0..4095");
    assert_int_equal(derive_err(UDP4, "+vlan(1, color=2)", err), PX_EINVAL);
    expect_has(err, "unknown argument 'color' of +vlan");
    assert_int_equal(derive_err(UDP4, "+vlan", err), PX_EPARSE);
    assert_int_equal(derive_err(UDP4, "-vlan", err), PX_EINVAL);
    expect_has(err, "the frame has no VLAN tag to pop");
    assert_int_equal(derive_err(UDP4, "+mpls(3)", err), PX_EPARSE);
    expect_has(err, "expected +vlan(VID) or -vlan");
    assert_int_equal(derive_err("Ether()/IPv4()/GRE()/IPv4()", "gre.key=5", err), PX_EINVAL);
    expect_has(err, "has no key field");

    /* a truncated frame: an error, never a read past its end */
    size_t flen, dlen;
    uint8_t *f = build(UDP4, &flen), *d = NULL;
    uint8_t *cut = malloc(20);
    memcpy(cut, f, 20);
    assert_int_equal(px_frame_derive(cut, 20, "ipv4.ttl-=1", &d, &dlen, err), PX_EINVAL);
    expect_has(err, "truncated frame: its ipv4 header does not fit in 20 bytes");
    assert_int_equal(px_frame_derive(NULL, 0, "", &d, &dlen, NULL), PX_EINVAL);
    free(cut);
    free(f);
}

/* PTF's Mask: a frame differing only in masked fields or bits PASSes; a
 * difference in an unmasked bit FAILs and the diff names it. */
static void test_mask_by_field_and_bits(void **state)
{
    (void)state;
    add("Ether(dst=02:00:00:00:00:01)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=17)/UDP(sport=1000,dport=53)/Raw(\"hi\")");
    size_t elen;
    uint8_t *exp = build(UDP4, &elen);
    char err[PX_ERRBUF_SIZE];

    px_diff_mask *m = px_diff_mask_new();
    run r = drive(px_matches_frame(exp, elen, m, false, err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "ipv4.ttl: expected 64, got 17");

    /* set_do_not_care_scapy(IP, "ttl") and the checksums */
    assert_int_equal(px_diff_mask_add_list(m, "ipv4.ttl, checksums", err), 0);
    r = drive(px_matches_frame(exp, elen, m, false, err));
    assert_int_equal(r.v, PX_PASS);
    px_diff_mask_free(m);

    /* set_do_not_care(offset, bits): the TTL byte (22) and the IPv4 checksum
     * (bytes 24-25), but not the UDP checksum */
    m = px_diff_mask_new();
    assert_int_equal(px_diff_mask_add_bits(m, 22 * 8, 8, err), 0);
    assert_int_equal(px_diff_mask_add_bits(m, 24 * 8, 16, err), 0);
    r = drive(px_matches_frame(exp, elen, m, false, err));
    assert_int_equal(r.v, PX_PASS); /* the UDP checksum does not cover the TTL */
    px_diff_mask_free(m);

    /* one bit short of the TTL byte: the unmasked bit is a difference */
    m = px_diff_mask_new();
    assert_int_equal(px_diff_mask_add_bits(m, 22 * 8, 7, err), 0);
    assert_int_equal(px_diff_mask_add(m, "ipv4.chksum", err), 0);
    r = drive(px_matches_frame(exp, elen, m, false, err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "ipv4.ttl: expected 0, got 1"); /* the one bit compared */
    if (strstr(r.why, "ipv4.chksum:"))
        fail_msg("%s", r.why);

    /* the describe() of a C mask reads back */
    px_predicate *p = px_matches_frame(exp, elen, m, true, err);
    px_buf dsc = PX_BUF_INIT;
    px_predicate_describe(p, &dsc);
    assert_string_equal(px_buf_cstr(&dsc), "matches(Ether(dst=02:00:00:00:00:01)/IPv4(src=10.0.0.1,dst=10.0.0.2)/"
                                           "UDP(sport=1000)/Raw(\"hi\"), ignore=[ipv4.chksum, \"bits:176-182\"], "
                                           "allow_padding=true)");
    px_buf_free(&dsc);
    px_predicate_free(p);

    /* a range past the expected frame, or empty */
    assert_int_equal(px_diff_mask_add_bits(m, elen * 8 - 4, 8, err), 0);
    assert_refused(px_matches_frame(exp, elen, m, false, err), "are outside the expected frame");
    expect_has(err, "are outside the expected frame");
    assert_int_equal(px_diff_mask_add_bits(m, 0, 0, err), PX_ERANGE);
    expect_has(err, "bad bit range");
    assert_int_equal(px_diff_mask_add_bits(m, UINT64_MAX, 2, err), PX_ERANGE);
    px_diff_mask_free(m);

    /* the text masks: bits:FIRST+COUNT is bits:FIRST-LAST */
    r = drive(px_matches(UDP4, "bits:176+8, bytes:24+2", false, err));
    assert_int_equal(r.v, PX_PASS);
    r = drive(px_matches(UDP4, "bits:176-183, bytes:24-25", false, err));
    assert_int_equal(r.v, PX_PASS);
    assert_refused(px_matches(UDP4, "bits:176+0", false, err), "bits:FIRST+COUNT");
    expect_has(err, "bits:FIRST+COUNT");
    assert_refused(px_matches(UDP4, "bits:1000-1007", false, err), "are outside the expected frame");
    expect_has(err, "bits 1000-1007 are outside the expected frame");
    free(exp);
}

static void test_matches_edit(void **state)
{
    (void)state;
    /* the captured frame: the sent one routed (TTL - 1, new MACs) */
    add("Ether(dst=02:00:00:00:00:99,src=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=63)/"
        "UDP(sport=1000,dport=53)/Raw(\"hi\")");
    char err[PX_ERRBUF_SIZE];
    run r = drive(px_matches_edit(UDP4, "ipv4.ttl-=1, eth.src=02:00:00:00:00:02, eth.dst=02:00:00:00:00:99", NULL,
                                  false, err));
    assert_int_equal(r.v, PX_PASS);
    r = drive(px_matches_edit(UDP4, "eth.src=02:00:00:00:00:02, eth.dst=02:00:00:00:00:99", NULL, false, err));
    assert_int_equal(r.v, PX_FAIL);
    expect_has(r.why, "ipv4.ttl: expected 64, got 63");
    assert_refused(px_matches_edit(UDP4, "ipv4.tll-=1", NULL, false, err), "did you mean ipv4.ttl?");
    assert_string_equal(err, "set: edit 1 (ipv4.tll-=1): unknown field 'ipv4.tll' (did you mean ipv4.ttl?)");
}

static void test_expression(void **state)
{
    (void)state;
    add("Ether(dst=02:00:00:00:00:99,src=02:00:00:00:00:02)/Dot1Q(vlan=102)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=63,"
        "id=7)/UDP(sport=1000,dport=53)/Raw(\"hi\")/Pad(10)");
    px_registry *reg = px_registry_new();
    px_predicate *p = NULL;
    px_expr_error e;
    const char *text = "matches(" UDP4 ", set=[ipv4.ttl-=1, eth.src=02:00:00:00:00:02, +vlan(102, pcp=0), "
                       "eth.dst = 02:00:00:00:00:99], ignore=[ipv4.id, checksums, bits:0-0, bytes:0+1], "
                       "allow_padding=true)";
    int rc = px_expr_parse(reg, text, &p, &e);
    if (rc)
        fail_msg("%s", e.message);
    px_buf d = PX_BUF_INIT;
    px_predicate_describe(p, &d);
    assert_string_equal(px_buf_cstr(&d), "matches(" UDP4 ", set=[ipv4.ttl-=1, eth.src=02:00:00:00:00:02, "
                                         "+vlan(102, pcp=0), eth.dst = 02:00:00:00:00:99], ignore=[ipv4.id, "
                                         "checksums, \"bits:0-0\", \"bytes:0+1\"], allow_padding=true)");
    /* the description reads back */
    px_predicate *p2 = NULL;
    rc = px_expr_parse(reg, px_buf_cstr(&d), &p2, &e);
    if (rc)
        fail_msg("%s", e.message);
    px_predicate_free(p2);
    px_buf_free(&d);
    run r = drive(p);
    assert_int_equal(r.v, PX_PASS);

    /* without the tag push the layers differ */
    rc = px_expr_parse(reg, "matches(" UDP4 ", set=[ipv4.ttl-=1], ignore=[eth], allow_padding=true)", &p, &e);
    assert_int_equal(rc, 0);
    r = drive(p);
    assert_int_equal(r.v, PX_FAIL);

    /* set as one string, -vlan */
    rc = px_expr_parse(reg, "matches(Ether()/Dot1Q(vlan=5)/IPv4()/UDP(), set=\"-vlan, ipv4.ttl-=1\")", &p, &e);
    if (rc)
        fail_msg("%s", e.message);
    px_predicate_free(p);

    /* errors */
    rc = px_expr_parse(reg, "matches(" UDP4 ", set=[ipv6.hlim-=1])", &p, &e);
    assert_int_not_equal(rc, 0);
    expect_has(e.message, "set: edit 1 (ipv6.hlim-=1): the frame has no IPv6 layer");
    rc = px_expr_parse(reg, "matches(" UDP4 ", ignore=[ipv4.ttl-=1])", &p, &e);
    assert_int_equal(rc, PX_EINVAL);
    expect_has(e.message, "items of 'ignore' of matches must be");
    rc = px_expr_parse(reg, "matches(" UDP4 ", set=[3])", &p, &e);
    assert_int_equal(rc, PX_EINVAL);
    expect_has(e.message, "an edit");
    rc = px_expr_parse(reg, "saw_ipv4(ipv4.ttl=3)", &p, &e);
    assert_int_not_equal(rc, 0);
    px_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_field_family),
        cmocka_unit_test(test_ttl_decrement_like_ptf),
        cmocka_unit_test(test_vlan_push_pop),
        cmocka_unit_test(test_explicit_checksum_kept),
        cmocka_unit_test_teardown(test_bad_input, teardown),
        cmocka_unit_test_teardown(test_mask_by_field_and_bits, teardown),
        cmocka_unit_test_teardown(test_matches_edit, teardown),
        cmocka_unit_test_teardown(test_expression, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
