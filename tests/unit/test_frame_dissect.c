/* Known-answer tests of the frame dissector and its accessors: hand-written bytes
 * in, fields out; truncated and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dissect.h"
#include "pktexpect/frame.h"
#include "px_frames.h"

/* Every recorded layer lies inside the captured bytes. */
static void check_bounds(const px_frame *f)
{
    assert_true(f->nlayers <= PX_FRAME_MAX_LAYERS);
    for (unsigned i = 0; i < f->nlayers; i++) {
        assert_true(f->layers[i].off <= f->caplen);
        assert_true(f->layers[i].len <= f->caplen - f->layers[i].off);
    }
    assert_true(f->padlen <= f->caplen);
}

/* Ethernet / 802.1Q (pcp 3, dei 1, vid 102) / IPv4 (dscp 46, DF, ttl 63) / UDP 1234 > 53 / "hello" / 3 bytes padding */
static const char *F_VLAN_UDP =
    "ffffffffffff 020000000001 8100 7066 0800"
    "45b8 0021 1234 4000 3f11 0000 0a000001 0a000002"
    "04d2 0035 000d 0000 68656c6c6f 000000";

static void test_vlan_ipv4_udp(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = px_unhex(F_VLAN_UDP, b, sizeof b);
    px_frame f;
    px_frame_dissect(&f, b, (uint32_t)n, 0);
    check_bounds(&f);
    assert_int_equal(f.truncated_at, PX_LAYER_NONE);
    assert_int_equal(f.wirelen, n);
    assert_int_equal(f.nlayers, 5);
    static const px_layer_kind kinds[] = {PX_LAYER_ETH, PX_LAYER_VLAN, PX_LAYER_IPV4, PX_LAYER_UDP, PX_LAYER_PAYLOAD};
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(f.layers[i].kind, kinds[i]);
        assert_int_equal(f.layers[i].encap, 0);
    }
    uint8_t mac[6];
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, src[6] = {2, 0, 0, 0, 0, 1};
    assert_true(px_frame_eth_dst(&f, mac));
    assert_memory_equal(mac, bcast, 6);
    assert_true(px_frame_eth_src(&f, mac));
    assert_memory_equal(mac, src, 6);
    uint16_t type;
    assert_true(px_frame_ethertype(&f, &type));
    assert_int_equal(type, 0x0800);
    px_vlan_tag t;
    assert_true(px_frame_vlan(&f, 0, &t));
    assert_int_equal(t.tpid, 0x8100);
    assert_int_equal(t.vid, 102);
    assert_int_equal(t.pcp, 3);
    assert_int_equal(t.dei, 1);
    assert_false(px_frame_vlan(&f, 1, &t));
    px_ipv4_hdr ip;
    assert_true(px_layer_ipv4(&f, NULL, &ip));
    assert_int_equal(ip.version, 4);
    assert_int_equal(ip.ihl, 5);
    assert_int_equal(ip.dscp, 46);
    assert_int_equal(ip.ecn, 0);
    assert_int_equal(ip.tot_len, 33);
    assert_int_equal(ip.id, 0x1234);
    assert_int_equal(ip.flags, PX_IPV4_DF);
    assert_int_equal(ip.frag_off, 0);
    assert_int_equal(ip.ttl, 63);
    assert_int_equal(ip.proto, 17);
    static const uint8_t a1[4] = {10, 0, 0, 1}, a2[4] = {10, 0, 0, 2};
    assert_memory_equal(ip.src, a1, 4);
    assert_memory_equal(ip.dst, a2, 4);
    uint8_t proto;
    assert_true(px_frame_ip_proto(&f, &proto));
    assert_int_equal(proto, 17);
    px_udp_hdr u;
    assert_true(px_layer_udp(&f, NULL, &u));
    assert_int_equal(u.sport, 1234);
    assert_int_equal(u.dport, 53);
    assert_int_equal(u.len, 13);
    uint16_t sp, dp;
    assert_true(px_frame_ports(&f, NULL, &sp, &dp));
    assert_int_equal(sp, 1234);
    assert_int_equal(dp, 53);
    uint32_t off, len;
    assert_true(px_frame_payload(&f, &off, &len));
    assert_int_equal(off, 46);
    assert_int_equal(len, 5);
    assert_memory_equal(b + off, "hello", 5);
    assert_int_equal(f.padlen, 3);
    /* checksums: the IPv4 one is 0 (wrong), UDP 0 means none */
    assert_int_equal(px_layer_checksum(&f, px_frame_find(&f, PX_LAYER_IPV4)), PX_CSUM_BAD);
    assert_int_equal(px_layer_checksum(&f, px_frame_find(&f, PX_LAYER_UDP)), PX_CSUM_NONE);
    assert_int_equal(px_layer_checksum(&f, px_frame_find(&f, PX_LAYER_ETH)), PX_CSUM_NONE);
    b[28] = 0x14; /* the correct IPv4 header checksum, 0x14de, computed offline */
    b[29] = 0xde;
    b[44] = 0x12;
    px_frame_dissect(&f, b, (uint32_t)n, 0);
    assert_int_equal(px_layer_checksum(&f, px_frame_find(&f, PX_LAYER_IPV4)), PX_CSUM_GOOD);
    assert_int_equal(px_layer_checksum(&f, px_frame_find(&f, PX_LAYER_UDP)), PX_CSUM_BAD);
    px_frame_dissect(&f, b, 48, (uint32_t)n); /* payload cut: cannot tell */
    assert_int_equal(px_layer_checksum(&f, px_frame_find(&f, PX_LAYER_UDP)), PX_CSUM_UNKNOWN);
    px_frame_dissect(&f, b, (uint32_t)n, 0);
    /* wrong-kind and absent layers */
    px_tcp_hdr tcp;
    assert_false(px_layer_tcp(&f, NULL, &tcp));
    assert_false(px_layer_tcp(&f, px_frame_find(&f, PX_LAYER_UDP), &tcp));
    uint8_t ty, co;
    assert_false(px_frame_icmpv6(&f, &ty, &co));
    assert_null(px_frame_find(&f, PX_LAYER_IPV6));
    assert_ptr_equal(px_frame_find(&f, PX_LAYER_VLAN), &f.layers[1]);
    assert_ptr_equal(px_layer_prev(&f, &f.layers[1]), &f.layers[0]);
    assert_null(px_layer_prev(&f, &f.layers[0]));
    assert_string_equal(px_layer_name(PX_LAYER_IPV4), "ipv4");
    assert_string_equal(px_layer_name((px_layer_kind)200), "none");
}

/* 802.1ad 5 / 802.1Q 7 / IPv6 (dscp 46, ecn 1, flow 0x12345) / hop-by-hop / fragment (first, M) / TCP SYN-ACK + MSS */
static const char *F_QINQ_V6_TCP =
    "333300000001 020000000002 88a8 0005 8100 0007 86dd"
    "6b912345 0028 00 40 20010db8000000000000000000000001 fe800000000000000000000000000002"
    "2c00 0104 00000000"
    "0600 0001 deadbeef"
    "1f90 0050 00000001 00000002 6012 ffff 0000 0000 020405b4";

static void test_qinq_ipv6_ext_tcp(void **state)
{
    (void)state;
    uint8_t b[160];
    size_t n = px_unhex(F_QINQ_V6_TCP, b, sizeof b);
    px_frame f;
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    check_bounds(&f);
    assert_int_equal(f.truncated_at, PX_LAYER_NONE);
    assert_int_equal(f.nlayers, 7); /* eth vlan vlan ipv6 ext ext tcp */
    px_vlan_tag t;
    uint16_t inner;
    assert_true(px_frame_vlan(&f, 0, &t));
    assert_int_equal(t.tpid, 0x88a8);
    assert_int_equal(t.vid, 5);
    assert_true(px_layer_vlan(&f, px_frame_find_nth(&f, PX_LAYER_VLAN, 1), &t, &inner));
    assert_int_equal(t.tpid, 0x8100);
    assert_int_equal(t.vid, 7);
    assert_int_equal(inner, 0x86dd);
    uint16_t type;
    assert_true(px_frame_ethertype(&f, &type));
    assert_int_equal(type, 0x86dd);
    px_ipv6_hdr v6;
    assert_true(px_layer_ipv6(&f, NULL, &v6));
    assert_int_equal(v6.dscp, 46);
    assert_int_equal(v6.ecn, 1);
    assert_int_equal(v6.flow, 0x12345);
    assert_int_equal(v6.payload_len, 40);
    assert_int_equal(v6.next_header, 0);
    assert_int_equal(v6.hop_limit, 64);
    assert_int_equal(v6.src[0], 0x20);
    assert_int_equal(v6.src[15], 1);
    assert_int_equal(v6.dst[0], 0xfe);
    px_ipv6_ext_hdr x;
    assert_true(px_layer_ipv6_ext(&f, NULL, &x));
    assert_int_equal(x.type, 0);
    assert_int_equal(x.next_header, 44);
    assert_int_equal(x.len, 8);
    assert_true(px_layer_ipv6_ext(&f, px_frame_find_nth(&f, PX_LAYER_IPV6_EXT, 1), &x));
    assert_int_equal(x.type, 44);
    assert_int_equal(x.next_header, 6);
    assert_int_equal(x.frag_off, 0);
    assert_true(x.mf);
    assert_int_equal(x.frag_id, 0xdeadbeef);
    uint8_t proto;
    assert_true(px_frame_ip_proto(&f, &proto));
    assert_int_equal(proto, 6);
    px_tcp_hdr tcp;
    assert_true(px_layer_tcp(&f, NULL, &tcp));
    assert_int_equal(tcp.sport, 8080);
    assert_int_equal(tcp.dport, 80);
    assert_int_equal(tcp.seq, 1);
    assert_int_equal(tcp.ack, 2);
    assert_int_equal(tcp.doff, 6);
    assert_int_equal(tcp.flags, PX_TCP_SYN | PX_TCP_ACK);
    assert_int_equal(tcp.window, 0xffff);
    assert_int_equal(px_frame_find(&f, PX_LAYER_TCP)->len, 24);
    uint32_t off, len;
    assert_false(px_frame_payload(&f, &off, &len));
    assert_int_equal(f.padlen, 0);
}

/* IPv4 / UDP 4789 / VXLAN vni 0x123456 / Ethernet / IPv4 ttl 5 / UDP 1 > 2 */
static const char *F_VXLAN =
    "020000000001 020000000002 0800"
    "4500 004e 0000 0000 4011 0000 c0000201 c0000202"
    "c000 12b5 003a 0000"
    "08000000 12345600"
    "02000000000a 02000000000b 0800"
    "4500 001c 0000 0000 0511 0000 0a000001 0a000002"
    "0001 0002 0008 0000";

static void test_vxlan_inner(void **state)
{
    (void)state;
    uint8_t b[160];
    size_t n = px_unhex(F_VXLAN, b, sizeof b);
    px_frame f;
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    check_bounds(&f);
    assert_int_equal(f.truncated_at, PX_LAYER_NONE);
    assert_int_equal(f.nlayers, 7);
    px_vxlan_hdr v;
    assert_true(px_layer_vxlan(&f, NULL, &v));
    assert_int_equal(v.flags, 0x08);
    assert_int_equal(v.vni, 0x123456);
    const px_layer *ieth = px_frame_find_nth(&f, PX_LAYER_ETH, 1);
    assert_non_null(ieth);
    assert_int_equal(ieth->encap, 1);
    assert_int_equal(ieth->off, 50);
    px_eth_hdr e;
    assert_true(px_layer_eth(&f, ieth, &e));
    assert_int_equal(e.dst[5], 0x0a);
    assert_int_equal(e.type, 0x0800);
    const px_layer *iip = px_frame_find_nth(&f, PX_LAYER_IPV4, 1);
    assert_non_null(iip);
    assert_int_equal(iip->encap, 1);
    px_ipv4_hdr ip;
    assert_true(px_layer_ipv4(&f, iip, &ip));
    assert_int_equal(ip.ttl, 5);
    assert_true(px_layer_ipv4(&f, NULL, &ip));
    assert_int_equal(ip.ttl, 64);
    uint16_t sp, dp;
    assert_true(px_frame_ports(&f, px_frame_find_nth(&f, PX_LAYER_UDP, 1), &sp, &dp));
    assert_int_equal(sp, 1);
    assert_int_equal(dp, 2);
    assert_true(px_frame_ports(&f, NULL, &sp, &dp));
    assert_int_equal(dp, 4789);
    assert_null(px_frame_find_nth(&f, PX_LAYER_IPV4, 2));
}

/* MPLS 100 (tc 5, ttl 64) / MPLS 200 (bottom, ttl 63) / IPv6 with no next header */
static const char *F_MPLS =
    "020000000001 020000000002 8847 00064a40 000c813f"
    "60000000 0000 3b 40 00000000000000000000000000000000 00000000000000000000000000000000";

static void test_mpls_stack(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = px_unhex(F_MPLS, b, sizeof b);
    px_frame f;
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    check_bounds(&f);
    assert_int_equal(f.nlayers, 4);
    px_mpls_hdr m;
    assert_true(px_layer_mpls(&f, NULL, &m));
    assert_int_equal(m.label, 100);
    assert_int_equal(m.tc, 5);
    assert_int_equal(m.s, 0);
    assert_int_equal(m.ttl, 64);
    assert_true(px_layer_mpls(&f, px_frame_find_nth(&f, PX_LAYER_MPLS, 1), &m));
    assert_int_equal(m.label, 200);
    assert_int_equal(m.tc, 0);
    assert_int_equal(m.s, 1);
    assert_int_equal(m.ttl, 63);
    const px_layer *v6 = px_frame_find(&f, PX_LAYER_IPV6);
    assert_non_null(v6);
    assert_int_equal(v6->encap, 1);
    uint16_t type;
    assert_true(px_frame_ethertype(&f, &type));
    assert_int_equal(type, 0x8847);
    /* After the bottom label, an unknown version nibble is payload. */
    b[22] = 0x00;
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    assert_int_equal(f.layers[f.nlayers - 1].kind, PX_LAYER_PAYLOAD);
    assert_null(px_frame_find(&f, PX_LAYER_IPV6));
}

/* IPv4 / GRE (C, K, S; transparent Ethernet) / Ethernet / ARP request */
static const char *F_GRE =
    "020000000001 020000000002 0800"
    "4500 004e 0000 0000 402f 0000 0a000001 0a000002"
    "b000 6558 00000000 0000002a 00000007"
    "ffffffffffff 020000000009 0806"
    "0001 0800 06 04 0001 020000000009 0a000009 000000000000 0a000001";

static void test_gre_arp(void **state)
{
    (void)state;
    uint8_t b[160];
    size_t n = px_unhex(F_GRE, b, sizeof b);
    px_frame f;
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    check_bounds(&f);
    assert_int_equal(f.truncated_at, PX_LAYER_NONE);
    assert_int_equal(f.nlayers, 5);
    px_gre_hdr g;
    assert_true(px_layer_gre(&f, NULL, &g));
    assert_true(g.has_chksum);
    assert_true(g.has_key);
    assert_true(g.has_seq);
    assert_int_equal(g.version, 0);
    assert_int_equal(g.proto, 0x6558);
    assert_int_equal(g.key, 42);
    assert_int_equal(g.seq, 7);
    assert_int_equal(px_frame_find(&f, PX_LAYER_GRE)->len, 16);
    const px_layer *arp = px_frame_find(&f, PX_LAYER_ARP);
    assert_non_null(arp);
    assert_int_equal(arp->encap, 1);
    px_arp_hdr a;
    assert_true(px_layer_arp(&f, arp, &a));
    assert_true(a.eth_ipv4);
    assert_int_equal(a.op, 1);
    assert_int_equal(a.spa[3], 9);
    assert_int_equal(a.tpa[3], 1);
    assert_int_equal(a.sha[5], 9);
    /* Key only: 8-byte header, IPv4 inside. */
    static const char *key_only = "020000000001 020000000002 0800 4500 0034 0000 0000 402f 0000 0a000001 0a000002"
                                  "2000 0800 00000005 4500 0014 0000 0000 40fd 0000 0a000003 0a000004";
    n = px_unhex(key_only, b, sizeof b);
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    check_bounds(&f);
    assert_true(px_layer_gre(&f, NULL, &g));
    assert_false(g.has_chksum);
    assert_true(g.has_key);
    assert_int_equal(g.key, 5);
    assert_int_equal(px_frame_find(&f, PX_LAYER_GRE)->len, 8);
    const px_layer *inner = px_frame_find_nth(&f, PX_LAYER_IPV4, 1);
    assert_non_null(inner);
    assert_int_equal(inner->encap, 1);
}

static void test_llc_and_padding(void **state)
{
    (void)state;
    uint8_t b[64];
    /* 802.3 length 8: LLC (STP SAPs, UI) + 5 bytes, then 4 bytes of padding */
    size_t n = px_unhex("0180c2000000 020000000003 0008 424203 0102030405 00000000", b, sizeof b);
    px_frame f;
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    check_bounds(&f);
    assert_int_equal(f.nlayers, 3);
    px_eth_hdr e;
    assert_true(px_layer_eth(&f, NULL, &e));
    assert_int_equal(e.type, 8);
    px_llc_hdr l;
    assert_true(px_layer_llc(&f, NULL, &l));
    assert_int_equal(l.dsap, 0x42);
    assert_int_equal(l.ssap, 0x42);
    assert_int_equal(l.ctrl, 3);
    uint32_t off, len;
    assert_true(px_frame_payload(&f, &off, &len));
    assert_int_equal(off, 17);
    assert_int_equal(len, 5);
    assert_int_equal(f.padlen, 4);
}

static void test_fragments_icmp_options(void **state)
{
    (void)state;
    uint8_t b[128];
    /* non-first fragment of UDP: no UDP layer */
    size_t n = px_unhex("020000000001 020000000002 0800 4500 001c 0001 20b9 4011 0000 0a000001 0a000002"
                     "0001000200080000", b, sizeof b);
    px_frame f;
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    check_bounds(&f);
    assert_null(px_frame_find(&f, PX_LAYER_UDP));
    px_ipv4_hdr ip;
    assert_true(px_layer_ipv4(&f, NULL, &ip));
    assert_int_equal(ip.flags, PX_IPV4_MF);
    assert_int_equal(ip.frag_off, 0xb9);
    assert_int_equal(f.layers[f.nlayers - 1].kind, PX_LAYER_PAYLOAD);
    /* IPv4 with 4 bytes of options, ICMP echo request id 0x1234 seq 1 */
    n = px_unhex("020000000001 020000000002 0800 4600 0020 0001 0000 4001 0000 0a000001 0a000002 01010101"
              "0800 0000 1234 0001", b, sizeof b);
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    check_bounds(&f);
    assert_int_equal(px_frame_find(&f, PX_LAYER_IPV4)->len, 24);
    px_icmp_hdr c;
    assert_true(px_layer_icmp(&f, NULL, &c));
    assert_int_equal(c.type, 8);
    assert_int_equal(c.code, 0);
    assert_int_equal(c.rest >> 16, 0x1234);
    assert_int_equal(c.rest & 0xffff, 1);
    /* ICMPv6 neighbour solicitation */
    n = px_unhex("333300000001 020000000002 86dd 60000000 0008 3a ff fe800000000000000000000000000001"
              "ff020000000000000000000000000001 8700 0000 00000000", b, sizeof b);
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    check_bounds(&f);
    uint8_t ty, co;
    assert_true(px_frame_icmpv6(&f, &ty, &co));
    assert_int_equal(ty, 135);
    assert_int_equal(co, 0);
    assert_true(px_layer_icmp(&f, px_frame_find(&f, PX_LAYER_ICMPV6), &c));
    assert_int_equal(c.type, 135);
    assert_false(px_layer_icmp(&f, NULL, &c)); /* NULL means ICMP (v4) */
}

static void test_malformed(void **state)
{
    (void)state;
    uint8_t b[128];
    px_frame f;
    /* IPv4 with version 5, with ihl 4, with total length < header */
    static const char *bad_ip[] = {
        "020000000001 020000000002 0800 5500 0014 0000 0000 4011 0000 0a000001 0a000002",
        "020000000001 020000000002 0800 4400 0014 0000 0000 4011 0000 0a000001 0a000002",
        "020000000001 020000000002 0800 4500 0010 0000 0000 4011 0000 0a000001 0a000002",
    };
    for (size_t i = 0; i < 3; i++) {
        size_t n = px_unhex(bad_ip[i], b, sizeof b);
        px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
        check_bounds(&f);
        assert_int_equal(f.truncated_at, PX_LAYER_IPV4);
        assert_int_equal(f.nlayers, 1);
        assert_null(px_frame_find(&f, PX_LAYER_IPV4));
    }
    /* TCP data offset 4 (< 20 bytes) */
    size_t n = px_unhex("020000000001 020000000002 0800 4500 0028 0000 0000 4006 0000 0a000001 0a000002"
                     "0001 0002 00000000 00000000 4002 0000 0000 0000", b, sizeof b);
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    check_bounds(&f);
    assert_int_equal(f.truncated_at, PX_LAYER_TCP);
    /* 40 stacked VLAN tags overflow the layer table */
    uint8_t big[14 + 40 * 4 + 2];
    memset(big, 0, sizeof big);
    big[12] = 0x81;
    for (int i = 0; i < 40; i++) {
        big[14 + 4 * i + 2] = 0x81;
        big[14 + 4 * i + 3] = 0x00;
    }
    px_frame_dissect(&f, big, sizeof big, sizeof big);
    check_bounds(&f);
    assert_int_equal(f.nlayers, PX_FRAME_MAX_LAYERS);
    assert_int_equal(f.truncated_at, PX_LAYER_VLAN);
    /* empty and tiny frames */
    px_frame_dissect(&f, b, 0, 0);
    assert_int_equal(f.nlayers, 0);
    assert_int_equal(f.truncated_at, PX_LAYER_ETH);
    px_frame_dissect(&f, NULL, 10, 10);
    assert_int_equal(f.caplen, 0);
    assert_int_equal(f.nlayers, 0);
    uint8_t mac[6];
    assert_false(px_frame_eth_src(&f, mac));
    uint16_t type;
    assert_false(px_frame_ethertype(&f, &type));
}

/* Every prefix of every frame above: never a layer outside the bytes, and a
 * truncation is reported exactly when a header was cut. */
static void test_every_prefix(void **state)
{
    (void)state;
    const char *frames[] = {F_VLAN_UDP, F_QINQ_V6_TCP, F_VXLAN, F_MPLS, F_GRE};
    for (size_t k = 0; k < sizeof frames / sizeof frames[0]; k++) {
        uint8_t full[256];
        size_t n = px_unhex(frames[k], full, sizeof full);
        px_frame whole;
        px_frame_dissect(&whole, full, (uint32_t)n, (uint32_t)n);
        for (size_t len = 0; len <= n; len++) {
            /* a heap copy of exactly len bytes, so ASan builds catch any over-read */
            uint8_t *copy = malloc(len ? len : 1);
            assert_non_null(copy);
            memcpy(copy, full, len);
            px_frame f;
            px_frame_dissect(&f, copy, (uint32_t)len, (uint32_t)n);
            check_bounds(&f);
            assert_int_equal(f.wirelen, n);
            /* a header that ends beyond len cannot be complete */
            bool cut = false;
            for (unsigned i = 0; i < whole.nlayers; i++)
                if (whole.layers[i].kind != PX_LAYER_PAYLOAD && whole.layers[i].off + whole.layers[i].len > len)
                    cut = true;
            if (cut)
                assert_int_not_equal(f.truncated_at, PX_LAYER_NONE);
            free(copy);
        }
    }
}

/* The shared VLAN walk (dissect.h) of the sender and the tag trailer: the same
 * TPIDs and the same count as the dissector's VLAN layers, bounds-checked. */
static void test_vlan_walk(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        unsigned tags;
        size_t type_off;
    } rows[] = {
        {"ffffffffffff 020000000001 0800 4500", 0, 12},
        {"ffffffffffff 020000000001 8100 0066 0800 4500", 1, 16},
        {"ffffffffffff 020000000001 88a8 0064 8100 0066 9100 0001 86dd 6000", 3, 24},
        {"ffffffffffff 020000000001 8100 0066 0800", 1, 16},   /* ends at the type */
        {"ffffffffffff 020000000001 8100 0066 08", 0, 12},     /* the next type does not fit */
        {"ffffffffffff 020000000001 8100", 0, 12},
        {"ffffffffffff 020000000001 81", 0, 12},               /* shorter than a header */
        {"ffffffffffff 020000000001 88a8 0064 8100 0066 08", 1, 16}, /* the second tag does not fit */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t b[64];
        size_t n = px_unhex(rows[i].hex, b, sizeof b), off = 99;
        unsigned tags = px__eth_vlan_walk(b, n, &off);
        if (tags != rows[i].tags || off != rows[i].type_off)
            fail_msg("row %zu: %u tags, type at %zu; expected %u, %zu", i, tags, off, rows[i].tags,
                     rows[i].type_off);
        if (n >= 14) {
            px_frame f;
            px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
            unsigned vlans = 0;
            while (px_frame_find_nth(&f, PX_LAYER_VLAN, vlans))
                vlans++;
            assert_true(vlans <= tags); /* the dissector also needs the whole tag */
        }
    }
    assert_true(px__is_vlan_tpid(0x8100) && px__is_vlan_tpid(0x88a8) && px__is_vlan_tpid(0x9100));
    assert_false(px__is_vlan_tpid(0x0800) || px__is_vlan_tpid(0x8847));
}

/* The outer ethertype (px_frame_ethertype, f->ethertype) is the type field after
 * the outer VLAN tags: a tag cut short or beyond the layer table leaves the last
 * type recorded, tags inside a tunnel do not count, and nothing is kept from the
 * frame dissected before into the same px_frame. */
static void test_outer_ethertype(void **state)
{
    (void)state;
    uint8_t b[128];
    px_frame f;
    uint16_t type;
    /* a tag whose 4 bytes were not captured: its TPID is the last type seen */
    size_t n = px_unhex("020000000001 020000000002 8100 0066", b, sizeof b);
    px_frame_dissect(&f, b, (uint32_t)n, 64);
    assert_int_equal(f.truncated_at, PX_LAYER_VLAN);
    assert_int_equal(f.nlayers, 1);
    assert_true(px_frame_ethertype(&f, &type));
    assert_int_equal(type, 0x8100);
    /* GRE carrying a VLAN-tagged IPv4 datagram: the tag is encap 1, the outer
     * ethertype stays IPv4 and px_frame_vlan sees no outer tag */
    n = px_unhex("020000000001 020000000002 0800"
                 "4500 0038 0000 0000 402f 0000 0a000001 0a000002"
                 "0000 8100 0064 0800"
                 "4500 001c 0000 0000 4011 0000 0a000003 0a000004"
                 "0001 0002 0008 0000",
                 b, sizeof b);
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    check_bounds(&f);
    assert_int_equal(f.truncated_at, PX_LAYER_NONE);
    assert_int_equal(f.nlayers, 6);
    const px_layer *tag = px_frame_find(&f, PX_LAYER_VLAN);
    assert_non_null(tag);
    assert_int_equal(tag->encap, 1);
    assert_int_equal(px_frame_find_nth(&f, PX_LAYER_IPV4, 1)->encap, 1);
    px_vlan_tag t;
    assert_false(px_frame_vlan(&f, 0, &t));
    assert_true(px_frame_ethertype(&f, &type));
    assert_int_equal(type, 0x0800);
    /* more tags than the layer table holds: the type after the last tag recorded */
    uint8_t big[14 + 40 * 4 + 2];
    memset(big, 0, sizeof big);
    big[12] = 0x81;
    for (int i = 0; i < 40; i++)
        big[14 + 4 * i + 2] = 0x81;
    const int last = PX_FRAME_MAX_LAYERS - 2; /* tags 0..last fill the table after Ethernet */
    big[14 + 4 * last + 2] = 0x88;
    big[14 + 4 * last + 3] = 0xa8;
    px_frame_dissect(&f, big, sizeof big, sizeof big);
    assert_int_equal(f.nlayers, PX_FRAME_MAX_LAYERS);
    assert_int_equal(f.truncated_at, PX_LAYER_VLAN);
    assert_true(px_frame_ethertype(&f, &type));
    assert_int_equal(type, 0x88a8);
    /* reused px_frame: an untagged frame, then one without Ethernet */
    n = px_unhex("020000000001 020000000002 86dd", b, sizeof b);
    px_frame_dissect(&f, b, (uint32_t)n, (uint32_t)n);
    assert_true(px_frame_ethertype(&f, &type));
    assert_int_equal(type, 0x86dd);
    px_frame_dissect(&f, b, 13, 13);
    assert_int_equal(f.nlayers, 0);
    assert_false(px_frame_ethertype(&f, &type));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vlan_ipv4_udp),   cmocka_unit_test(test_qinq_ipv6_ext_tcp),
        cmocka_unit_test(test_vxlan_inner),     cmocka_unit_test(test_mpls_stack),
        cmocka_unit_test(test_gre_arp),         cmocka_unit_test(test_llc_and_padding),
        cmocka_unit_test(test_fragments_icmp_options), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_every_prefix),   cmocka_unit_test(test_vlan_walk),
        cmocka_unit_test(test_outer_ethertype),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
