/* pktexpect internal: the protocol and field table (harness/frame_proto.h). */
#include <stdio.h>
#include <string.h>

#include "frame_proto.h"
#include "pktexpect/text.h"

#define U(n, o, nb, sh, w) {n, NULL, o, nb, sh, w, PX__F_UINT, 0}
#define UA(n, o, nb, sh, w) {n, NULL, o, nb, sh, w, PX__F_UINT, PX__FF_AUTO}
#define X(n, o, nb, sh, w) {n, NULL, o, nb, sh, w, PX__F_HEX, 0}
#define XA(n, o, nb, sh, w) {n, NULL, o, nb, sh, w, PX__F_HEX, PX__FF_AUTO}
#define MAC(n, o) {n, NULL, o, 6, 0, 0, PX__F_MAC, 0}
#define IP4(n, o) {n, NULL, o, 4, 0, 0, PX__F_IPV4, 0}
#define IP6(n, o) {n, NULL, o, 16, 0, 0, PX__F_IPV6, 0}
#define BYTES(n, o) {n, NULL, o, 0, 0, 0, PX__F_BYTES, 0}

static const px__field f_ether[] = {MAC("dst", 0), MAC("src", 6), XA("type", 12, 2, 0, 16)};
static const uint8_t d_ether[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x88, 0xb5};

static const px__field f_llc[] = {X("dsap", 0, 1, 0, 8), X("ssap", 1, 1, 0, 8), X("ctrl", 2, 1, 0, 8)};
static const uint8_t d_llc[3] = {0x42, 0x42, 0x03};

static const px__field f_dot1q[] = {
    {"vlan", "vid", 0, 2, 0, 12, PX__F_UINT, 0}, U("pcp", 0, 1, 5, 3), U("dei", 0, 1, 4, 1),
    XA("type", 2, 2, 0, 16)};
static const uint8_t d_dot1q[4] = {0x00, 0x01, 0x88, 0xb5};

static const px__field f_arp[] = {
    U("hwtype", 0, 2, 0, 16), X("ptype", 2, 2, 0, 16), U("hwlen", 4, 1, 0, 8), U("plen", 5, 1, 0, 8),
    U("op", 6, 2, 0, 16),     MAC("hwsrc", 8),         IP4("psrc", 14),        MAC("hwdst", 18),
    IP4("pdst", 24)};
static const uint8_t d_arp[28] = {0, 1, 0x08, 0, 6, 4, 0, 1};

static const px__field f_ipv4[] = {
    U("version", 0, 1, 4, 4), UA("ihl", 0, 1, 0, 4), U("dscp", 1, 1, 2, 6), U("ecn", 1, 1, 0, 2),
    UA("len", 2, 2, 0, 16),   U("id", 4, 2, 0, 16),  U("flags", 6, 1, 5, 3), U("frag", 6, 2, 0, 13),
    U("ttl", 8, 1, 0, 8),     UA("proto", 9, 1, 0, 8), XA("chksum", 10, 2, 0, 16), IP4("src", 12),
    IP4("dst", 16),           BYTES("options", 20)};
static const uint8_t d_ipv4[20] = {0x45, 0, 0, 20, 0, 1, 0, 0, 64, 0, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1};

static const px__field f_ipv6[] = {
    U("version", 0, 1, 4, 4), U("dscp", 0, 2, 6, 6), U("ecn", 0, 2, 4, 2),
    {"fl", NULL, 1, 3, 0, 20, PX__F_UINT, PX__FF_SHOW_HEX},
    UA("plen", 4, 2, 0, 16),  UA("nh", 6, 1, 0, 8),  U("hlim", 7, 1, 0, 8), IP6("src", 8),
    IP6("dst", 24)};
static const uint8_t d_ipv6[40] = {0x60, 0, 0, 0, 0, 0, 59, 64, [23] = 1, [39] = 1};

static const px__field f_opts[] = {UA("nh", 0, 1, 0, 8), UA("len", 1, 1, 0, 8), BYTES("options", 2)};
static const uint8_t d_opts[8] = {59, 0, 1, 4, 0, 0, 0, 0}; /* one PadN option */

static const px__field f_routing[] = {UA("nh", 0, 1, 0, 8), UA("len", 1, 1, 0, 8), U("type", 2, 1, 0, 8),
                                      U("segleft", 3, 1, 0, 8), BYTES("data", 4)};
static const uint8_t d_routing[8] = {59, 0, 0, 0};

static const px__field f_frag[] = {UA("nh", 0, 1, 0, 8), U("res", 1, 1, 0, 8), U("offset", 2, 2, 3, 13),
                                   U("m", 3, 1, 0, 1), U("id", 4, 4, 0, 32)};
static const uint8_t d_frag[8] = {59, 0, 0, 0, 0, 0, 0, 1};

static const px__field f_tcp[] = {
    U("sport", 0, 2, 0, 16),     U("dport", 2, 2, 0, 16),  U("seq", 4, 4, 0, 32),
    U("ack", 8, 4, 0, 32),       UA("dataofs", 12, 1, 4, 4), U("reserved", 12, 1, 0, 4),
    {"flags", NULL, 13, 1, 0, 8, PX__F_TCPFLAGS, 0},       U("window", 14, 2, 0, 16),
    XA("chksum", 16, 2, 0, 16),  U("urgptr", 18, 2, 0, 16), BYTES("options", 20)};
static const uint8_t d_tcp[20] = {0, 20, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0x00};

static const px__field f_udp[] = {U("sport", 0, 2, 0, 16), U("dport", 2, 2, 0, 16), UA("len", 4, 2, 0, 16),
                                  XA("chksum", 6, 2, 0, 16)};
static const uint8_t d_udp[8] = {0, 53, 0, 53, 0, 8};

static const px__field f_icmp[] = {U("type", 0, 1, 0, 8), U("code", 1, 1, 0, 8), XA("chksum", 2, 2, 0, 16),
                                   U("id", 4, 2, 0, 16), U("seq", 6, 2, 0, 16)};
static const uint8_t d_icmp[8] = {8};
static const uint8_t d_icmpv6[8] = {128};

static const px__field f_mpls[] = {U("label", 0, 3, 4, 20), U("tc", 2, 1, 1, 3), UA("s", 2, 1, 0, 1),
                                   U("ttl", 3, 1, 0, 8)};
static const uint8_t d_mpls[4] = {0, 0x01, 0x01, 64}; /* label 16, bottom of stack */

/* GRE is kept in the builder as the full 16-byte layout (checksum+reserved, key,
 * sequence); the wire form leaves out the words whose flag is clear. */
static const px__field f_gre[] = {
    UA("c", 0, 1, 7, 1),  UA("k", 0, 1, 5, 1), UA("s", 0, 1, 4, 1), U("ver", 1, 1, 0, 3),
    XA("proto", 2, 2, 0, 16),
    {"chksum", NULL, 4, 2, 0, 16, PX__F_HEX, PX__FF_AUTO | PX__FF_GRE},
    {"key", NULL, 8, 4, 0, 32, PX__F_UINT, PX__FF_GRE},
    {"seq", NULL, 12, 4, 0, 32, PX__F_UINT, PX__FF_GRE}};
static const uint8_t d_gre[16] = {0, 0, 0x88, 0xb5};

static const px__field f_vxlan[] = {X("flags", 0, 1, 0, 8), U("vni", 4, 3, 0, 24)};
static const uint8_t d_vxlan[8] = {0x08};

#define P(name, sname, kind, hlen, align, d, f) {name, sname, kind, hlen, align, d, f, sizeof f / sizeof f[0]}

static const px__proto protos[PX__P_COUNT] = {
    [PX__P_ETHER] = P("Ether", "eth", PX_LAYER_ETH, 14, 1, d_ether, f_ether),
    [PX__P_LLC] = P("LLC", "llc", PX_LAYER_LLC, 3, 1, d_llc, f_llc),
    [PX__P_DOT1Q] = P("Dot1Q", "vlan", PX_LAYER_VLAN, 4, 1, d_dot1q, f_dot1q),
    [PX__P_DOT1AD] = P("Dot1AD", "vlan", PX_LAYER_VLAN, 4, 1, d_dot1q, f_dot1q),
    [PX__P_ARP] = P("ARP", "arp", PX_LAYER_ARP, 28, 1, d_arp, f_arp),
    [PX__P_IPV4] = P("IPv4", "ipv4", PX_LAYER_IPV4, 20, 4, d_ipv4, f_ipv4),
    [PX__P_IPV6] = P("IPv6", "ipv6", PX_LAYER_IPV6, 40, 1, d_ipv6, f_ipv6),
    [PX__P_HBH] = P("IPv6HopByHop", "ipv6hbh", PX_LAYER_IPV6_EXT, 8, 8, d_opts, f_opts),
    [PX__P_ROUTING] = P("IPv6Routing", "ipv6rt", PX_LAYER_IPV6_EXT, 8, 8, d_routing, f_routing),
    [PX__P_FRAG] = P("IPv6Frag", "ipv6frag", PX_LAYER_IPV6_EXT, 8, 8, d_frag, f_frag),
    [PX__P_DSTOPTS] = P("IPv6DestOpts", "ipv6dst", PX_LAYER_IPV6_EXT, 8, 8, d_opts, f_opts),
    [PX__P_TCP] = P("TCP", "tcp", PX_LAYER_TCP, 20, 4, d_tcp, f_tcp),
    [PX__P_UDP] = P("UDP", "udp", PX_LAYER_UDP, 8, 1, d_udp, f_udp),
    [PX__P_ICMP] = P("ICMP", "icmp", PX_LAYER_ICMP, 8, 1, d_icmp, f_icmp),
    [PX__P_ICMPV6] = P("ICMPv6", "icmpv6", PX_LAYER_ICMPV6, 8, 1, d_icmpv6, f_icmp),
    [PX__P_MPLS] = P("MPLS", "mpls", PX_LAYER_MPLS, 4, 1, d_mpls, f_mpls),
    [PX__P_GRE] = P("GRE", "gre", PX_LAYER_GRE, 16, 1, d_gre, f_gre),
    [PX__P_VXLAN] = P("VXLAN", "vxlan", PX_LAYER_VXLAN, 8, 1, d_vxlan, f_vxlan),
    [PX__P_RAW] = {"Raw", "payload", PX_LAYER_PAYLOAD, 0, 1, NULL, NULL, 0},
    [PX__P_PAD] = {"Pad", "pad", PX_LAYER_NONE, 0, 1, NULL, NULL, 0},
};

const px__proto *px__proto_get(px__pid id) { return (unsigned)id < PX__P_COUNT ? &protos[id] : NULL; }

static bool name_is(const char *want, const char *s, size_t len)
{
    return want && strlen(want) == len && memcmp(want, s, len) == 0;
}

px__pid px__proto_by_name(const char *name, size_t len)
{
    for (int i = 0; i < PX__P_COUNT; i++)
        if (name_is(protos[i].name, name, len))
            return (px__pid)i;
    return PX__P_COUNT;
}

int px__field_index(const px__proto *p, const char *name, size_t len)
{
    for (int i = 0; i < p->nfields; i++)
        if (name_is(p->fields[i].name, name, len) || name_is(p->fields[i].alias, name, len))
            return i;
    return -1;
}

px__pid px__proto_by_short(const char *name, size_t len)
{
    for (int i = 0; i < PX__P_COUNT; i++)
        if (name_is(protos[i].short_name, name, len))
            return (px__pid)i;
    return PX__P_COUNT;
}

int px__field_by_path(const char *path, px__pid *pid, int *fi)
{
    const char *dot = strchr(path, '.');
    if (!dot)
        return -1;
    px__pid p = px__proto_by_short(path, (size_t)(dot - path));
    if (p == PX__P_COUNT)
        return -1;
    int i = px__field_index(&protos[p], dot + 1, strlen(dot + 1));
    if (i < 0)
        return -1;
    *pid = p;
    *fi = i;
    return 0;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

px__pid px__proto_of_layer(const px_frame *f, const px_layer *l)
{
    const uint8_t *h = f->data + l->off;
    switch ((px_layer_kind)l->kind) {
    case PX_LAYER_ETH: return PX__P_ETHER;
    case PX_LAYER_LLC: return l->len == 3 ? PX__P_LLC : PX__P_RAW;
    case PX_LAYER_VLAN: {
        px_vlan_tag t;
        (void)px_layer_vlan(f, l, &t, NULL);
        return t.tpid == 0x88a8 ? PX__P_DOT1AD : PX__P_DOT1Q;
    }
    case PX_LAYER_ARP: return l->len == 28 && h[4] == 6 && h[5] == 4 ? PX__P_ARP : PX__P_RAW;
    case PX_LAYER_IPV4: return l->len <= 60 ? PX__P_IPV4 : PX__P_RAW;
    case PX_LAYER_IPV6: return PX__P_IPV6;
    case PX_LAYER_IPV6_EXT: {
        px_ipv6_ext_hdr e;
        if (!px_layer_ipv6_ext(f, l, &e) || l->len > PX__HDR_MAX)
            return PX__P_RAW;
        return e.type == 0 ? PX__P_HBH : e.type == 43 ? PX__P_ROUTING : e.type == 44 ? PX__P_FRAG
             : e.type == 60 ? PX__P_DSTOPTS : PX__P_RAW;
    }
    case PX_LAYER_TCP: return l->len <= 60 ? PX__P_TCP : PX__P_RAW;
    case PX_LAYER_UDP: return PX__P_UDP;
    case PX_LAYER_ICMP: return PX__P_ICMP;
    case PX_LAYER_ICMPV6: return PX__P_ICMPV6;
    case PX_LAYER_MPLS: return PX__P_MPLS;
    case PX_LAYER_GRE: {
        uint16_t fl = rd16(h);
        /* Only flags C, K, S and version 0 are expressible. */
        return (fl & ~(uint16_t)0xb000) == 0 ? PX__P_GRE : PX__P_RAW;
    }
    case PX_LAYER_VXLAN: return PX__P_VXLAN;
    default: return PX__P_RAW;
    }
}

bool px__layer_is(const px_frame *f, const px_layer *l, px__pid pid)
{
    if ((unsigned)pid >= PX__P_COUNT || (px_layer_kind)l->kind != protos[pid].kind)
        return false;
    px__pid lp = px__proto_of_layer(f, l);
    return lp == pid || (lp != PX__P_RAW && strcmp(protos[lp].short_name, protos[pid].short_name) == 0);
}

int px__field_wire_off(const px__proto *p, int fi, const uint8_t *h, uint32_t hlen)
{
    const px__field *fd = &p->fields[fi];
    int off = fd->off;
    if (fd->flags & PX__FF_GRE) {
        if (hlen < 4)
            return -1;
        bool c = h[0] & 0x80, k = h[0] & 0x20, s = h[0] & 0x10;
        off = 4;
        if (fd->off == 4 && !c)
            return -1;
        if (fd->off >= 8) {
            off += c ? 4 : 0;
            if (fd->off == 8 && !k)
                return -1;
            if (fd->off == 12) {
                off += k ? 4 : 0;
                if (!s)
                    return -1;
            }
        }
    }
    uint32_t need = fd->type == PX__F_BYTES ? 0 : fd->nbytes;
    if ((uint32_t)off > hlen || need > hlen - (uint32_t)off)
        return -1;
    return off;
}

uint32_t px__field_max(const px__field *fd) { return fd->width >= 32 ? 0xffffffffu : (1u << fd->width) - 1; }

uint32_t px__field_get_uint(const px__field *fd, const uint8_t *h, int off)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < fd->nbytes; i++)
        v = v << 8 | h[off + (int)i];
    return (v >> fd->shift) & px__field_max(fd);
}

void px__field_put_uint(const px__field *fd, uint8_t *h, int off, uint32_t v)
{
    uint32_t cur = 0;
    for (unsigned i = 0; i < fd->nbytes; i++)
        cur = cur << 8 | h[off + (int)i];
    uint32_t m = px__field_max(fd) << fd->shift;
    cur = (cur & ~m) | ((v << fd->shift) & m);
    for (int i = fd->nbytes - 1; i >= 0; i--) {
        h[off + i] = (uint8_t)cur;
        cur >>= 8;
    }
}

static void tcpflags_format(unsigned v, char *out, size_t outsz)
{
    static const char letters[] = "FSRPAUEC";
    size_t n = 0;
    for (unsigned b = 0; b < 8 && n + 1 < outsz; b++)
        if (v & (1u << b))
            out[n++] = letters[b];
    out[n] = '\0';
    if (n == 0)
        snprintf(out, outsz, "0");
}

bool px__field_format(const px__proto *p, int fi, const uint8_t *h, uint32_t hlen, char *out, size_t outsz)
{
    const px__field *fd = &p->fields[fi];
    int off = px__field_wire_off(p, fi, h, hlen);
    if (off < 0)
        return false;
    char tmp[64];
    switch ((px__ftype)fd->type) {
    case PX__F_UINT: snprintf(out, outsz, "%u", px__field_get_uint(fd, h, off)); break;
    case PX__F_HEX: {
        unsigned digits = (fd->width + 3) / 4;
        snprintf(out, outsz, "0x%0*x", (int)digits, px__field_get_uint(fd, h, off));
        break;
    }
    case PX__F_TCPFLAGS: tcpflags_format(px__field_get_uint(fd, h, off), out, outsz); break;
    case PX__F_MAC: px_format_mac(h + off, tmp); snprintf(out, outsz, "%s", tmp); break;
    case PX__F_IPV4: px_format_ipv4(h + off, tmp); snprintf(out, outsz, "%s", tmp); break;
    case PX__F_IPV6: px_format_ipv6(h + off, tmp); snprintf(out, outsz, "%s", tmp); break;
    case PX__F_BYTES: {
        size_t n = 0;
        if ((uint32_t)off >= hlen) {
            snprintf(out, outsz, "''");
            break;
        }
        for (uint32_t i = (uint32_t)off; i < hlen && n + 3 < outsz; i++, n += 2)
            snprintf(out + n, outsz - n, "%02x", h[i]);
        break;
    }
    }
    return true;
}

bool px__field_show(const px__proto *p, int fi, const uint8_t *h, uint32_t hlen, char *out, size_t outsz)
{
    const px__field *fd = &p->fields[fi];
    int off = px__field_wire_off(p, fi, h, hlen);
    if (off >= 0 && fd->type == PX__F_UINT && (fd->flags & PX__FF_SHOW_HEX)) {
        snprintf(out, outsz, "0x%0*x", (int)((fd->width + 3) / 4), px__field_get_uint(fd, h, off));
        return true;
    }
    return px__field_format(p, fi, h, hlen, out, outsz);
}

uint16_t px__ethertype_of(px__pid next)
{
    switch (next) {
    case PX__P_ETHER: return 0x6558;
    case PX__P_DOT1Q: return 0x8100;
    case PX__P_DOT1AD: return 0x88a8;
    case PX__P_ARP: return 0x0806;
    case PX__P_IPV4: return 0x0800;
    case PX__P_IPV6: return 0x86dd;
    case PX__P_MPLS: return 0x8847;
    default: return 0x88b5; /* IEEE local experimental: "some payload" */
    }
}
