/* The field table (harness/frame_proto.c) drives the builder, the text form,
 * the diff and the field predicates. For every field of every protocol of the
 * table, this test checks that the four agree:
 *  - the text form sets it: "Proto(field=value)" parses and builds;
 *  - the builder writes it where the dissector reads it back: the dissected
 *    layer holds the value at the place the table gives, and the dissector's
 *    typed accessor reads the same value;
 *  - the diff names it: a frame without the value differs by "short.field",
 *    and a mask "short.field" hides that difference;
 *  - a field predicate tests it: saw_field("short.field", value) passes on the
 *    frame and fails on the frame without the value.
 * A field added to the table is covered without touching this file; the test
 * also asks for its row in docs/text-form.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame_proto.h"
#include "pred_internal.h"
#include "pktexpect/build.h"
#include "pktexpect/diff.h"
#include "pktexpect/error.h"
#include "pktexpect/expr.h"
#include "pktexpect/text.h"
#include "px_src.h"
#include "px_frames.h"
#include "px_refused.h"

/* Layers that lead the dissector to a layer of each protocol. */
static const char *prefix_of(px__pid pid)
{
    switch (pid) {
    case PX__P_ETHER: return "";
    case PX__P_HBH:
    case PX__P_ROUTING:
    case PX__P_FRAG:
    case PX__P_DSTOPTS:
    case PX__P_ICMPV6: return "Ether()/IPv6()/";
    case PX__P_TCP:
    case PX__P_UDP:
    case PX__P_ICMP:
    case PX__P_GRE: return "Ether()/IPv4()/";
    case PX__P_VXLAN: return "Ether()/IPv4()/UDP()/";
    default: return "Ether()/";
    }
}

/* Fields whose value decides what the layer is (another IP version, header
 * length or ARP address size makes it another layer, or none): they are set to
 * their usual value, and the diff and the predicate are checked against a
 * frame where they hold another one (the frame's bytes changed in place). */
static const char *const defining[] = {
    "llc.ctrl", "arp.hwlen", "arp.plen", "ipv4.version", "ipv4.ihl", "ipv6.version", "tcp.dataofs", "gre.ver",
    "ipv6hbh.len", "ipv6rt.len", "ipv6dst.len",
};

static bool is_defining(const char *path)
{
    for (size_t i = 0; i < sizeof defining / sizeof defining[0]; i++)
        if (strcmp(defining[i], path) == 0)
            return true;
    return false;
}

/* A value for field fi of pr other than its default (its usual value when
 * `usual`), written as the table prints it, so that the read-back compares
 * as text. */
static void value_for(const px__proto *pr, int fi, bool usual, const uint8_t *built_hdr, int built_off, char *out,
                      size_t outsz)
{
    const px__field *fd = &pr->fields[fi];
    uint32_t v;
    switch ((px__ftype)fd->type) {
    case PX__F_UINT:
    case PX__F_HEX:
    case PX__F_TCPFLAGS:
        v = px__field_get_uint(fd, built_hdr, built_off);
        if (!usual)
            v = (v ^ 1u) & px__field_max(fd);
        if (fd->type == PX__F_TCPFLAGS && !usual)
            v = 0x12; /* SA */
        if (fd->type == PX__F_UINT)
            snprintf(out, outsz, "%u", v);
        else if (fd->type == PX__F_HEX)
            snprintf(out, outsz, "0x%0*x", (int)((fd->width + 3) / 4), v);
        else
            snprintf(out, outsz, "%s", v == 0x12 ? "SA" : "S");
        return;
    case PX__F_MAC: snprintf(out, outsz, "02:00:00:00:00:09"); return;
    case PX__F_IPV4: snprintf(out, outsz, "10.9.9.9"); return;
    case PX__F_IPV6: snprintf(out, outsz, "2001:db8::9"); return;
    case PX__F_BYTES:
        /* IPv4 / TCP: NOPs; IPv6 options: a PadN of 2 bytes, two Pad1; routing data: any. */
        snprintf(out, outsz, "%s", fd->off == 2 ? "010200000000" : "01010101");
        return;
    }
}

/* The layer of `pid` at position `at` of b's frame, or a test failure. */
static const px_layer *layer_at(const px_built *b, unsigned at, px__pid pid, const char *text)
{
    if (at >= b->f.nlayers || !px__layer_is(&b->f, &b->f.layers[at], pid))
        fail_msg("%s: layer %u is not %s", text, at, px__proto_get(pid)->name);
    return &b->f.layers[at];
}

static bool diff_names(const px_built *e, const px_built *g, const char *path, const char *mask_spec)
{
    px_diff_mask *m = NULL;
    char err[PX_ERRBUF_SIZE];
    if (mask_spec) {
        m = px_diff_mask_new();
        assert_non_null(m);
        if (px_diff_mask_add(m, mask_spec, err) != 0)
            fail_msg("the diff does not take the mask %s: %s", mask_spec, err);
    }
    px_diff d = PX_DIFF_INIT;
    assert_int_equal(px_frame_diff(&e->f, &g->f, m, &d), 0);
    bool named = false;
    for (size_t i = 0; i < d.n; i++)
        named |= strcmp(d.items[i].field, path) == 0;
    px_diff_free(&d);
    px_diff_mask_free(m);
    return named;
}

static int pred_on(const char *path, const char *value, const px_frame *f)
{
    char err[PX_ERRBUF_SIZE];
    px_predicate *p = px_saw_field(path, value, err);
    if (!p)
        fail_msg("no field predicate for %s=%s: %s", path, value, err);
    int r = px__frame_test(p, f);
    px_predicate_free(p);
    return r;
}

/* What the dissector's typed accessors (include/pktexpect/frame.h) read for
 * `path` in layer l: 1 and *v for a number, 2 and addr for an address, 0 when
 * no accessor exposes that field (ipv4.options, ipv6.version, ...). An oracle
 * apart from the table: the table's offsets must agree with the dissector's. */
static int dissector_value(const px_frame *f, const px_layer *l, const char *path, uint64_t *v, uint8_t *addr)
{
    const char *dot = strchr(path, '.');
    const char *fn = dot + 1;
#define IS(s) (strcmp(fn, s) == 0)
#define NUM(s, x) if (IS(s)) { *v = (x); return 1; }
#define ADDR(s, a, n) if (IS(s)) { memcpy(addr, a, n); return 2; }
    if (!strncmp(path, "eth.", 4)) {
        px_eth_hdr h;
        assert_true(px_layer_eth(f, l, &h));
        ADDR("dst", h.dst, 6) ADDR("src", h.src, 6) NUM("type", h.type)
    } else if (!strncmp(path, "llc.", 4)) {
        px_llc_hdr h;
        assert_true(px_layer_llc(f, l, &h));
        NUM("dsap", h.dsap) NUM("ssap", h.ssap) NUM("ctrl", h.ctrl)
    } else if (!strncmp(path, "vlan.", 5)) {
        px_vlan_tag t;
        uint16_t inner;
        assert_true(px_layer_vlan(f, l, &t, &inner));
        NUM("vlan", t.vid) NUM("pcp", t.pcp) NUM("dei", t.dei) NUM("type", inner)
    } else if (!strncmp(path, "arp.", 4)) {
        px_arp_hdr h;
        assert_true(px_layer_arp(f, l, &h));
        NUM("hwtype", h.htype) NUM("ptype", h.ptype) NUM("hwlen", h.hlen) NUM("plen", h.plen) NUM("op", h.op)
        ADDR("hwsrc", h.sha, 6) ADDR("psrc", h.spa, 4) ADDR("hwdst", h.tha, 6) ADDR("pdst", h.tpa, 4)
    } else if (!strncmp(path, "ipv4.", 5)) {
        px_ipv4_hdr h;
        assert_true(px_layer_ipv4(f, l, &h));
        NUM("version", h.version) NUM("ihl", h.ihl) NUM("dscp", h.dscp) NUM("ecn", h.ecn) NUM("len", h.tot_len)
        NUM("id", h.id) NUM("flags", h.flags) NUM("frag", h.frag_off) NUM("ttl", h.ttl) NUM("proto", h.proto)
        NUM("chksum", h.chksum) ADDR("src", h.src, 4) ADDR("dst", h.dst, 4)
    } else if (!strncmp(path, "ipv6.", 5)) {
        px_ipv6_hdr h;
        assert_true(px_layer_ipv6(f, l, &h));
        NUM("dscp", h.dscp) NUM("ecn", h.ecn) NUM("fl", h.flow) NUM("plen", h.payload_len) NUM("nh", h.next_header)
        NUM("hlim", h.hop_limit) ADDR("src", h.src, 16) ADDR("dst", h.dst, 16)
    } else if (!strncmp(path, "ipv6", 4)) { /* extension headers */
        px_ipv6_ext_hdr h;
        assert_true(px_layer_ipv6_ext(f, l, &h));
        NUM("nh", h.next_header) NUM("len", h.len / 8 - 1) NUM("segleft", h.segments_left)
        NUM("offset", h.frag_off) NUM("m", h.mf) NUM("id", h.frag_id)
        if (h.type == 43) NUM("type", h.routing_type)
    } else if (!strncmp(path, "tcp.", 4)) {
        px_tcp_hdr h;
        assert_true(px_layer_tcp(f, l, &h));
        NUM("sport", h.sport) NUM("dport", h.dport) NUM("seq", h.seq) NUM("ack", h.ack) NUM("dataofs", h.doff)
        NUM("flags", h.flags) NUM("window", h.window) NUM("chksum", h.chksum) NUM("urgptr", h.urg)
    } else if (!strncmp(path, "udp.", 4)) {
        px_udp_hdr h;
        assert_true(px_layer_udp(f, l, &h));
        NUM("sport", h.sport) NUM("dport", h.dport) NUM("len", h.len) NUM("chksum", h.chksum)
    } else if (!strncmp(path, "icmp", 4)) {
        px_icmp_hdr h;
        assert_true(px_layer_icmp(f, l, &h));
        NUM("type", h.type) NUM("code", h.code) NUM("chksum", h.chksum) NUM("id", h.rest >> 16)
        NUM("seq", h.rest & 0xffff)
    } else if (!strncmp(path, "mpls.", 5)) {
        px_mpls_hdr h;
        assert_true(px_layer_mpls(f, l, &h));
        NUM("label", h.label) NUM("tc", h.tc) NUM("s", h.s) NUM("ttl", h.ttl)
    } else if (!strncmp(path, "gre.", 4)) {
        px_gre_hdr h;
        assert_true(px_layer_gre(f, l, &h));
        NUM("c", h.has_chksum) NUM("k", h.has_key) NUM("s", h.has_seq) NUM("ver", h.version) NUM("proto", h.proto)
        NUM("chksum", h.chksum) NUM("key", h.key) NUM("seq", h.seq)
    } else if (!strncmp(path, "vxlan.", 6)) {
        px_vxlan_hdr h;
        assert_true(px_layer_vxlan(f, l, &h));
        NUM("flags", h.flags) NUM("vni", h.vni)
    }
#undef IS
#undef NUM
#undef ADDR
    return 0;
}

static void check_field(px__pid pid, int fi, unsigned *checked, unsigned *exposed)
{
    const px__proto *pr = px__proto_get(pid);
    const px__field *fd = &pr->fields[fi];
    const char *prefix = prefix_of(pid);
    char path[64], text[256], ref_text[256], value[96], other[96], got[160];
    snprintf(path, sizeof path, "%s.%s", pr->short_name, fd->name);
    unsigned at = 0;
    for (const char *s = prefix; *s; s++)
        at += *s == '/';

    /* The reference frame: the layer as the builder makes it by default. */
    px_built ref;
    snprintf(ref_text, sizeof ref_text, "%s%s()", prefix, pr->name);
    px_build(&ref, ref_text);
    const px_layer *rl = layer_at(&ref, at, pid, ref_text);
    int roff = px__field_wire_off(pr, fi, ref.bytes + rl->off, rl->len);
    /* A GRE optional word is absent by default: its value then starts from 0. */
    uint8_t zero[PX__HDR_MAX] = {0};
    const uint8_t *rh = roff >= 0 ? ref.bytes + rl->off : zero;
    bool usual = is_defining(path);
    value_for(pr, fi, usual, rh, roff >= 0 ? roff : 0, value, sizeof value);
    /* Another value: the reference's (0 for an absent GRE word). */
    if (roff < 0 || !px__field_format(pr, fi, rh, rl->len, other, sizeof other))
        value_for(pr, fi, true, zero, 0, other, sizeof other);
    if (strcmp(other, "''") == 0) /* no options: the table prints '', the text form takes "" */
        other[0] = '\0';

    /* 1. The text form sets it. */
    px_built b;
    snprintf(text, sizeof text, "%s%s(%s=%s)", prefix, pr->name, fd->name, value);
    px_build(&b, text);

    /* 2. The builder writes it where the dissector reads it back. */
    const px_layer *l = layer_at(&b, at, pid, text);
    if (!px__field_format(pr, fi, b.bytes + l->off, l->len, got, sizeof got))
        fail_msg("%s: %s is absent from the dissected layer", text, path);
    if (strcmp(got, value) != 0)
        fail_msg("%s: %s reads back as %s", text, path, got);
    /* ... and the dissector's own accessor reads the same there. */
    uint64_t dv;
    uint8_t da[16];
    int kind = dissector_value(&b.f, l, path, &dv, da);
    int woff = px__field_wire_off(pr, fi, b.bytes + l->off, l->len);
    if (kind == 1 && dv != px__field_get_uint(fd, b.bytes + l->off, woff))
        fail_msg("%s: the dissector reads %s as %llu", text, path, (unsigned long long)dv);
    if (kind == 2 && memcmp(da, b.bytes + l->off + woff, fd->nbytes) != 0)
        fail_msg("%s: the dissector reads another %s", text, path);
    *exposed += kind != 0;

    /* The frame the diff and the predicate compare with: the reference, or for
     * a defining field this frame with another value written in place. */
    px_built *cmp = &ref;
    px_built alt = {0};
    if (usual) {
        alt.len = b.len;
        alt.bytes = malloc(b.len);
        assert_non_null(alt.bytes);
        memcpy(alt.bytes, b.bytes, b.len);
        int off = px__field_wire_off(pr, fi, alt.bytes + l->off, l->len);
        assert_true(off >= 0);
        px__field_put_uint(fd, alt.bytes + l->off, off, px__field_get_uint(fd, alt.bytes + l->off, off) ^ 1u);
        px_frame_dissect(&alt.f, alt.bytes, (uint32_t)alt.len, (uint32_t)alt.len);
        cmp = &alt;
    }

    /* 3. The diff names it, and its mask hides it. */
    if (!usual) {
        if (!diff_names(cmp, &b, path, NULL))
            fail_msg("%s: the diff from %s does not name %s", text, ref_text, path);
        if (diff_names(cmp, &b, path, path))
            fail_msg("%s: the mask %s does not hide it", text, path);
    } else {
        /* Another value makes it another layer: the mask is what names it. */
        px_diff_mask *m = px_diff_mask_new();
        char err[PX_ERRBUF_SIZE];
        assert_non_null(m);
        if (px_diff_mask_add(m, path, err) != 0)
            fail_msg("the diff does not take the mask %s: %s", path, err);
        px_diff_mask_free(m);
        assert_false(diff_names(&ref, &b, path, NULL)); /* the usual value set explicitly: no difference */
    }

    /* 4. A field predicate tests it. */
    if (pred_on(path, value, &b.f) != 1)
        fail_msg("saw_field(%s, %s) does not pass on %s", path, value, text);
    if (pred_on(path, value, &cmp->f) != 0)
        fail_msg("saw_field(%s, %s) passes on the frame without it", path, value);
    if (!usual && pred_on(path, other, &b.f) != 0)
        fail_msg("saw_field(%s, %s) passes on %s", path, other, text);
    /* The predicate says what the diff says: "ipv6.fl: expected 0x00001, got 0x00000". */
    if (!usual) {
        char err[PX_ERRBUF_SIZE];
        px_predicate *p = px_saw_field(path, value, err);
        assert_non_null(p);
        const px__ftest *st = px_predicate_state(p);
        px_buf why = PX_BUF_INIT, lines = PX_BUF_INIT;
        assert_int_equal(st->vt->test(st, &cmp->f, &why), 1);
        px_diff d = PX_DIFF_INIT;
        assert_int_equal(px_frame_diff(&b.f, &cmp->f, NULL, &d), 0);
        assert_int_equal(px_diff_format(&d, 0, &lines), 0);
        px_buf_append(&why, "\n");
        const char *all = px_buf_cstr(&lines), *line = strstr(all, px_buf_cstr(&why));
        if (!line || (line != all && line[-1] != '\n'))
            fail_msg("saw_field says '%s', the diff says:\n%s", px_buf_cstr(&why), all);
        px_diff_free(&d);
        px_buf_free(&why);
        px_buf_free(&lines);
        px_predicate_free(p);
    }

    free(b.bytes);
    free(ref.bytes);
    free(alt.bytes);
    (*checked)++;
}

static void test_every_field_agrees(void **state)
{
    (void)state;
    unsigned checked = 0, total = 0, exposed = 0;
    for (int i = 0; i < PX__P_COUNT; i++) {
        const px__proto *pr = px__proto_get((px__pid)i);
        for (int fi = 0; fi < pr->nfields; fi++) {
            check_field((px__pid)i, fi, &checked, &exposed);
            total++;
        }
    }
    assert_int_equal(checked, total);
    assert_true(total > 80); /* the table is there: every protocol has its fields */
    assert_true(exposed > 80); /* nearly all are cross-checked with the dissector */
}

/* The names the predicate prints are the diff's ("ipv4.ttl: expected 63, got
 * 64"), and its errors are the text form's. */
static void test_field_predicate_words(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    uint8_t *bytes;
    size_t len;
    assert_int_equal(px_frame_parse_text("Ether()/IPv4(ttl=64)/UDP()", &bytes, &len, err), 0);
    px_frame f;
    px_frame_dissect(&f, bytes, (uint32_t)len, (uint32_t)len);

    px_predicate *p = px_saw_field("ipv4.ttl", "63", err);
    assert_non_null(p);
    const px_predicate_ops *ops = px_predicate_get_ops(p);
    void *st = (void *)px_predicate_state(p);
    ops->on_packet(st, &f);
    px_result r = {0};
    assert_int_equal(ops->on_finish(st, true, &r), PX_FAIL);
    if (!strstr(px_buf_cstr(&r.explanation), "ipv4.ttl: expected 63, got 64"))
        fail_msg("%s", px_buf_cstr(&r.explanation));
    px_buf_free(&r.explanation);
    px_buf d = PX_BUF_INIT;
    ops->describe(st, &d);
    assert_string_equal(px_buf_cstr(&d), "saw_field(ipv4.ttl, \"63\")");
    px_buf_free(&d);
    px_predicate_free(p);

    /* Flow labels are shown in hex, as the diff shows them. */
    free(bytes);
    assert_int_equal(px_frame_parse_text("Ether()/IPv6(fl=0x12345)", &bytes, &len, err), 0);
    px_frame_dissect(&f, bytes, (uint32_t)len, (uint32_t)len);
    p = px_saw_field("ipv6.fl", "0xabcde", err);
    assert_non_null(p);
    ops = px_predicate_get_ops(p);
    st = px_predicate_state(p);
    ops->on_packet(st, &f);
    px_result r2 = {0};
    assert_int_equal(ops->on_finish(st, true, &r2), PX_FAIL);
    if (!strstr(px_buf_cstr(&r2.explanation), "ipv6.fl: expected 0xabcde, got 0x12345"))
        fail_msg("%s", px_buf_cstr(&r2.explanation));
    px_buf_free(&r2.explanation);
    px_predicate_free(p);

    /* The alias the text form takes (Dot1Q(vid=...)) and a Dot1AD tag. */
    free(bytes);
    assert_int_equal(px_frame_parse_text("Ether()/Dot1AD(vlan=7)/Dot1Q(vlan=9)", &bytes, &len, err), 0);
    px_frame_dissect(&f, bytes, (uint32_t)len, (uint32_t)len);
    p = px_saw_field("vlan.vid", "7", err);
    assert_non_null(p);
    assert_int_equal(px__frame_test(p, &f), 1);
    px_predicate_free(p);
    free(bytes);

    assert_refused(px_saw_field("ipv4.tll", "63", err), "saw_field: unknown field 'ipv4.tll'");
    assert_non_null(strstr(err, "unknown field 'ipv4.tll'"));
    assert_refused(px_saw_field("ipv4.ttl", "300", err), "out of range 0..255");
    assert_non_null(strstr(err, "out of range 0..255"));
    assert_refused(px_saw_field("ipv4.src", "10.0.0", err), "saw_field: ");
    assert_non_null(strstr(err, "expected an IPv4 address"));
}

/* The px_built-in field predicates (saw_ipv4(ttl=...), saw_vlan_tag(...), ...) name
 * each condition a frame misses by its path in the table, as the diff does:
 * every "path: expected" of their explanations resolves in the table. The
 * frame misses every condition, so every name is printed. */
static void test_spec_predicates_name_table_fields(void **state)
{
    (void)state;
    static const struct {
        const char *frame, *expr;
        unsigned names;
    } cases[] = {
        {"Ether()/IPv4()/UDP()", "saw_ethertype(0x86dd)", 1},
        {"Ether()/IPv4()/UDP()", "saw_src_mac(02:00:00:00:00:09)", 1},
        {"Ether()/IPv4()/UDP()", "saw_dst_mac(02:00:00:00:00:09)", 1},
        {"Ether()/Dot1Q(vlan=1,pcp=0,dei=0)/IPv4()", "saw_vlan_tag(2, pcp=1, dei=1)", 3},
        {"Ether()/IPv4()/UDP()", "saw_ipv4(src=10.9.9.9, dst=10.9.9.9, proto=6, ttl=1, dscp=1, ecn=1)", 6},
        {"Ether()/IPv6()/UDP()", "saw_ipv6(src=2001:db8::9, dst=2001:db8::9, proto=6, ttl=1, dscp=1, ecn=1)", 6},
        {"Ether()/IPv4()/TCP(flags=S)", "saw_tcp(sport=1, dport=2, flags=\"A\")", 3},
        {"Ether()/IPv4()/UDP()", "saw_udp(sport=1, dport=2)", 2},
        {"Ether()/IPv4()/ICMP()", "saw_icmp(1, 1)", 2},
        {"Ether()/IPv6()/ICMPv6()", "saw_icmpv6(1, 1)", 2},
        {"Ether()/MPLS()/IPv4()", "saw_mpls(5, tc=1, s=0, ttl=1)", 4},
        {"Ether()/IPv4()/UDP()/VXLAN(vni=1)/Ether()", "saw_vxlan(2)", 1},
    };
    px_registry *reg = px_registry_new();
    assert_non_null(reg);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char err[PX_ERRBUF_SIZE];
        uint8_t *bytes;
        size_t len;
        if (px_frame_parse_text(cases[c].frame, &bytes, &len, err) != 0)
            fail_msg("%s: %s", cases[c].frame, err);
        px_frame f;
        px_frame_dissect(&f, bytes, (uint32_t)len, (uint32_t)len);
        px_predicate *p = NULL;
        px_expr_error xe;
        if (px_expr_parse(reg, cases[c].expr, &p, &xe) != 0)
            fail_msg("%s does not parse: %s", cases[c].expr, xe.message);
        const px_predicate_ops *ops = px_predicate_get_ops(p);
        void *st = px_predicate_state(p);
        ops->on_packet(st, &f);
        px_result r = {0};
        assert_int_equal(ops->on_finish(st, true, &r), PX_FAIL);
        const char *why = px_buf_cstr(&r.explanation);
        unsigned names = 0;
        for (const char *e = strstr(why, ": expected "); e; e = strstr(e + 1, ": expected ")) {
            const char *b = e;
            while (b > why && b[-1] != ' ')
                b--;
            char path[64];
            snprintf(path, sizeof path, "%.*s", (int)(e - b), b);
            px__pid pid;
            int fi;
            if (px__field_by_path(path, &pid, &fi) != 0)
                fail_msg("%s names '%s', a field the table does not know: %s", cases[c].expr, path, why);
            names++;
        }
        if (names != cases[c].names)
            fail_msg("%s: %u field names in '%s', expected %u", cases[c].expr, names, why, cases[c].names);
        px_buf_free(&r.explanation);
        px_predicate_free(p);
        free(bytes);
    }
    px_registry_free(reg);
}

/* saw_field in the expression language: each value type of the language reaches
 * the builder as the text form writes it, and describe() parses back. */
static void test_field_predicate_in_the_language(void **state)
{
    (void)state;
    static const struct {
        const char *expr;
        int pass; /* on the frame below; -1: does not parse */
        const char *err;
    } cases[] = {
        {"saw_field(ipv4.id, 0x1234)", 1, NULL},
        {"saw_field(ipv4.id, 4661)", 0, NULL},
        {"saw_field(\"ipv4.ttl\", 63)", 1, NULL},
        {"saw_field(tcp.flags, \"SA\")", 1, NULL},
        {"saw_field(tcp.flags, \"S\")", 0, NULL},
        {"saw_field(eth.src, 02:00:00:00:00:01)", 1, NULL},
        {"saw_field(ipv4.dst, 10.0.0.2)", 1, NULL},
        {"saw_field(ipv4.dst, 10.0.0.3)", 0, NULL},
        {"did_not_see_field(vlan.vid, 7)", 1, NULL},
        {"saw_field(ipv4.options, \"0101\")", 1, NULL},
        {"saw_field(ipv4.tll, 63)", -1, "unknown field 'ipv4.tll'"},
        {"saw_field(ipv4.ttl, 256)", -1, "out of range 0..255"},
        {"saw_field(ipv4.dst, 10.0.0.0/8)", -1, "not a prefix"},
        {"saw_field(ipv4.ttl)", -1, "value"},
    };
    char err[PX_ERRBUF_SIZE];
    uint8_t *bytes;
    size_t len;
    const char *text = "Ether(src=02:00:00:00:00:01)/IPv4(id=0x1234,ttl=63,dst=10.0.0.2,options=0101)/TCP(flags=SA)";
    if (px_frame_parse_text(text, &bytes, &len, err) != 0)
        fail_msg("%s", err);
    px_frame f;
    px_frame_dissect(&f, bytes, (uint32_t)len, (uint32_t)len);
    px_registry *reg = px_registry_new();
    assert_non_null(reg);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        px_predicate *p = NULL;
        px_expr_error xe;
        int rc = px_expr_parse(reg, cases[c].expr, &p, &xe);
        if (cases[c].pass < 0) {
            assert_int_not_equal(rc, 0);
            if (!strstr(xe.message, cases[c].err))
                fail_msg("%s: '%s' lacks '%s'", cases[c].expr, xe.message, cases[c].err);
            continue;
        }
        if (rc != 0)
            fail_msg("%s does not parse: %s", cases[c].expr, xe.message);
        /* A negative predicate's per-frame test is its positive one. */
        int want = strncmp(cases[c].expr, "did_not", 7) == 0 ? !cases[c].pass : cases[c].pass;
        if (px__frame_test(p, &f) != want)
            fail_msg("%s: expected %d on %s", cases[c].expr, want, text);
        /* describe() gives a call the language parses into the same test. */
        px_buf d = PX_BUF_INIT;
        px_predicate_get_ops(p)->describe(px_predicate_state(p), &d);
        px_predicate *q = NULL;
        if (px_expr_parse(reg, px_buf_cstr(&d), &q, &xe) != 0)
            fail_msg("%s: describe gives '%s', which does not parse: %s", cases[c].expr, px_buf_cstr(&d), xe.message);
        assert_int_equal(px__frame_test(q, &f), want);
        px_predicate_free(q);
        px_buf_free(&d);
        px_predicate_free(p);
    }
    px_registry_free(reg);
    free(bytes);
}

/* A file of the source tree (tests/px_src.h); the test fails when it cannot be read. */
static char *slurp_source(const char *rel)
{
    char *s = px_src_slurp(rel);
    if (!s)
        fail_msg("cannot open %s", px_src_path(rel));
    return s;
}

/* The row docs/text-form.md must have for field fi of pr:
 * "| `name` (`alias`) | bits | [auto; ]default |". */
static void doc_row(const px__proto *pr, int fi, px_buf *out)
{
    const px__field *fd = &pr->fields[fi];
    px_buf_printf(out, "| `%s`", fd->name);
    if (fd->alias)
        px_buf_printf(out, " (`%s`)", fd->alias);
    switch ((px__ftype)fd->type) {
    case PX__F_MAC: px_buf_append(out, " | MAC"); break;
    case PX__F_IPV4: px_buf_append(out, " | IPv4"); break;
    case PX__F_IPV6: px_buf_append(out, " | IPv6"); break;
    case PX__F_BYTES: px_buf_append(out, " | hex bytes"); break;
    default: px_buf_printf(out, " | %u", fd->width); break;
    }
    char def[160];
    /* Defaults are in the builder's layout: a GRE word is absent until given. */
    if (fd->flags & PX__FF_GRE)
        snprintf(def, sizeof def, "(absent)");
    else if (!px__field_format(pr, fi, pr->defaults, pr->hlen, def, sizeof def) || strcmp(def, "''") == 0)
        snprintf(def, sizeof def, "(none)");
    px_buf_printf(out, " | %s%s |", (fd->flags & PX__FF_AUTO) ? "auto; " : "", def);
}

/* docs/text-form.md lists every layer and field of the table, in its order,
 * with its alias, size, whether the builder computes it, and its default. */
static void test_text_form_doc_lists_the_table(void **state)
{
    (void)state;
    char *doc = slurp_source("docs/text-form.md");
    char *from = strstr(doc, "## Layers and fields");
    assert_non_null(from);
    for (int i = 0; i < PX__P_COUNT; i++) {
        if (i == PX__P_RAW || i == PX__P_PAD)
            continue;
        const px__proto *pr = px__proto_get((px__pid)i);
        char heading[96];
        snprintf(heading, sizeof heading, "\n### %s  (`%s.*` in diffs, ", pr->name, pr->short_name);
        char *sect = strstr(from, heading);
        if (!sect)
            fail_msg("docs/text-form.md has no heading '%s'", heading + 1);
        sect += strlen(heading);
        char *end = strstr(sect, "\n### ");
        size_t len = end ? (size_t)(end - sect) : strlen(sect);
        char *cur = sect;
        for (int fi = 0; fi < pr->nfields; fi++) {
            px_buf row = PX_BUF_INIT;
            doc_row(pr, fi, &row);
            char *at = strstr(cur, px_buf_cstr(&row));
            if (!at || at >= sect + len)
                fail_msg("docs/text-form.md, %s: no row '%s' (in the table's order)", pr->name, px_buf_cstr(&row));
            cur = at + row.len;
            px_buf_free(&row);
        }
        /* and no other row */
        unsigned rows = 0;
        for (char *r = strstr(sect, "\n| `"); r && r < sect + len; r = strstr(r + 1, "\n| `"))
            rows++;
        if (rows != pr->nfields)
            fail_msg("docs/text-form.md, %s: %u rows for %u fields", pr->name, rows, pr->nfields);
    }
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field_agrees),
        cmocka_unit_test(test_field_predicate_words),
        cmocka_unit_test(test_spec_predicates_name_table_fields),
        cmocka_unit_test(test_field_predicate_in_the_language),
        cmocka_unit_test(test_text_form_doc_lists_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
