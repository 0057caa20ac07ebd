/* pktexpect: summaries, field listings and hex dumps (include/pktexpect/print.h). */
#include <stdio.h>
#include <string.h>

#include "frame_proto.h"
#include "pktexpect/error.h"
#include "pktexpect/print.h"
#include "pktexpect/text.h"

static const char *ethertype_name(uint16_t t)
{
    switch (t) {
    case 0x0800: return "IPv4";
    case 0x86dd: return "IPv6";
    case 0x0806: return "ARP";
    case 0x8100: return "802.1Q";
    case 0x88a8: return "802.1Q-QinQ";
    case 0x9100: return "802.1Q-9100";
    case 0x8847: return "MPLS unicast";
    case 0x8848: return "MPLS multicast";
    case 0x6558: return "Transparent Ethernet Bridging";
    default: return "Unknown";
    }
}

static const char *icmp_name(uint8_t type)
{
    switch (type) {
    case 0: return "echo reply";
    case 3: return "unreachable";
    case 8: return "echo request";
    case 11: return "time exceeded";
    default: return NULL;
    }
}

static const char *icmpv6_name(uint8_t type)
{
    switch (type) {
    case 1: return "destination unreachable";
    case 2: return "packet too big";
    case 3: return "time exceeded";
    case 128: return "echo request";
    case 129: return "echo reply";
    case 133: return "router solicitation";
    case 134: return "router advertisement";
    case 135: return "neighbor solicitation";
    case 136: return "neighbor advertisement";
    case 143: return "multicast listener report v2";
    default: return NULL;
    }
}

/* Bytes from the start of layer i to the end of its datagram: the payload
 * length shown after a layer-4 header. */
static uint32_t payload_after(const px_frame *f, unsigned i)
{
    const px_layer *l = &f->layers[i];
    uint32_t end = l->off + l->len;
    for (unsigned j = i + 1; j < f->nlayers; j++)
        end = f->layers[j].off + f->layers[j].len;
    return end - (l->off + l->len);
}

int px_frame_summary(const px_frame *f, px_buf *out)
{
    char a[46], b[46];
    const uint8_t *ip_src = NULL, *ip_dst = NULL;
    bool v6 = false;
    if (f->nlayers == 0)
        px_buf_printf(out, "%u bytes", f->caplen);
    for (unsigned i = 0; i < f->nlayers; i++) {
        const px_layer *l = &f->layers[i];
        const uint8_t *h = f->data + l->off;
        switch ((px_layer_kind)l->kind) {
        case PX_LAYER_ETH: {
            px_eth_hdr e;
            (void)px_layer_eth(f, l, &e);
            px_format_mac(e.src, a);
            px_format_mac(e.dst, b);
            uint32_t len = l->encap == 0 ? f->wirelen : f->caplen - l->off;
            if (e.type <= 1500)
                px_buf_printf(out, "%s > %s, 802.3, length %u: ", a, b, len);
            else
                px_buf_printf(out, "%s > %s, ethertype %s (0x%04x), length %u: ", a, b, ethertype_name(e.type),
                              e.type, len);
            break;
        }
        case PX_LAYER_LLC: {
            px_llc_hdr c;
            (void)px_layer_llc(f, l, &c);
            px_buf_printf(out, "LLC, dsap 0x%02x, ssap 0x%02x, ctrl 0x%02x", c.dsap, c.ssap, c.ctrl);
            break;
        }
        case PX_LAYER_VLAN: {
            px_vlan_tag t;
            uint16_t inner;
            (void)px_layer_vlan(f, l, &t, &inner);
            px_buf_printf(out, "vlan %u, p %u%s, ethertype %s (0x%04x), ", t.vid, t.pcp, t.dei ? ", DEI" : "",
                          ethertype_name(inner), inner);
            break;
        }
        case PX_LAYER_ARP: {
            px_arp_hdr r;
            (void)px_layer_arp(f, l, &r);
            if (!r.eth_ipv4) {
                px_buf_printf(out, "ARP, hw type %u, proto 0x%04x, op %u", r.htype, r.ptype, r.op);
                break;
            }
            px_format_ipv4(r.tpa, a);
            px_format_ipv4(r.spa, b);
            if (r.op == 1) {
                px_buf_printf(out, "ARP, Request who-has %s tell %s, length %u", a, b, l->len);
            } else {
                char mac[18];
                px_format_mac(r.sha, mac);
                px_buf_printf(out, "ARP, %s %s is-at %s, length %u", r.op == 2 ? "Reply" : "op", b, mac, l->len);
            }
            break;
        }
        case PX_LAYER_IPV4:
        case PX_LAYER_IPV6: {
            v6 = l->kind == PX_LAYER_IPV6;
            ip_src = h + (v6 ? 8 : 12);
            ip_dst = h + (v6 ? 24 : 16);
            bool l4 = i + 1 < f->nlayers && (f->layers[i + 1].kind == PX_LAYER_TCP ||
                                             f->layers[i + 1].kind == PX_LAYER_UDP ||
                                             f->layers[i + 1].kind == PX_LAYER_IPV6_EXT);
            if (v6) {
                px_format_ipv6(ip_src, a);
                px_format_ipv6(ip_dst, b);
                px_buf_printf(out, "IP6 (hlim %u) ", h[7]);
            } else {
                px_format_ipv4(ip_src, a);
                px_format_ipv4(ip_dst, b);
                uint16_t frag = (uint16_t)((h[6] & 0x1f) << 8 | h[7]);
                px_buf_printf(out, "IP (ttl %u, id %u%s) ", h[8], (unsigned)(h[4] << 8 | h[5]),
                              frag || (h[6] & 0x20) ? ", fragment" : "");
            }
            if (!l4)
                px_buf_printf(out, "%s > %s: ", a, b);
            break;
        }
        case PX_LAYER_IPV6_EXT: {
            px_ipv6_ext_hdr x;
            (void)px_layer_ipv6_ext(f, l, &x);
            static const struct { uint8_t t; const char *n; } names[] = {
                {0, "HBH"}, {43, "routing"}, {44, "frag"}, {60, "DSTOPT"}, {51, "AH"}};
            const char *n = "ext";
            for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
                if (names[k].t == x.type)
                    n = names[k].n;
            px_buf_printf(out, "%s ", n);
            bool last_ext = i + 1 >= f->nlayers || f->layers[i + 1].kind != PX_LAYER_IPV6_EXT;
            bool l4 = i + 1 < f->nlayers && (f->layers[i + 1].kind == PX_LAYER_TCP || f->layers[i + 1].kind == PX_LAYER_UDP);
            if (last_ext && !l4 && ip_src) {
                px_format_ipv6(ip_src, a);
                px_format_ipv6(ip_dst, b);
                px_buf_printf(out, "%s > %s: ", a, b);
            }
            break;
        }
        case PX_LAYER_TCP:
        case PX_LAYER_UDP: {
            uint16_t sp, dp;
            (void)px_frame_ports(f, l, &sp, &dp);
            if (ip_src) {
                if (v6) {
                    px_format_ipv6(ip_src, a);
                    px_format_ipv6(ip_dst, b);
                } else {
                    px_format_ipv4(ip_src, a);
                    px_format_ipv4(ip_dst, b);
                }
                px_buf_printf(out, "%s.%u > %s.%u: ", a, sp, b, dp);
            } else {
                px_buf_printf(out, "%u > %u: ", sp, dp);
            }
            if (l->kind == PX_LAYER_UDP) {
                px_buf_printf(out, "UDP, length %u", payload_after(f, i));
                if (i + 1 < f->nlayers && f->layers[i + 1].kind == PX_LAYER_VXLAN)
                    px_buf_append(out, ": ");
            } else {
                px_tcp_hdr t;
                (void)px_layer_tcp(f, l, &t);
                char fl[10] = "none";
                size_t n = 0;
                static const struct { uint8_t bit; char c; } tf[] = {
                    {PX_TCP_FIN, 'F'}, {PX_TCP_SYN, 'S'}, {PX_TCP_RST, 'R'}, {PX_TCP_PSH, 'P'},
                    {PX_TCP_URG, 'U'}, {PX_TCP_ECE, 'E'}, {PX_TCP_CWR, 'W'}, {PX_TCP_ACK, '.'}};
                for (size_t k = 0; k < sizeof tf / sizeof tf[0]; k++)
                    if (t.flags & tf[k].bit)
                        fl[n++] = tf[k].c;
                if (n > 0)
                    fl[n] = '\0';
                px_buf_printf(out, "Flags [%s], seq %u", fl, t.seq);
                if (t.flags & PX_TCP_ACK)
                    px_buf_printf(out, ", ack %u", t.ack);
                px_buf_printf(out, ", win %u, length %u", t.window, payload_after(f, i));
            }
            break;
        }
        case PX_LAYER_ICMP:
        case PX_LAYER_ICMPV6: {
            px_icmp_hdr c;
            (void)px_layer_icmp(f, l, &c);
            bool v4 = l->kind == PX_LAYER_ICMP;
            const char *n = v4 ? icmp_name(c.type) : icmpv6_name(c.type);
            px_buf_append(out, v4 ? "ICMP " : "ICMP6, ");
            if (n)
                px_buf_append(out, n);
            else
                px_buf_printf(out, "type %u, code %u", c.type, c.code);
            if (c.type == (v4 ? 8 : 128) || c.type == (v4 ? 0 : 129))
                px_buf_printf(out, ", id %u, seq %u", c.rest >> 16, c.rest & 0xffff);
            px_buf_printf(out, ", length %u", l->len + payload_after(f, i));
            break;
        }
        case PX_LAYER_MPLS: {
            px_mpls_hdr m;
            (void)px_layer_mpls(f, l, &m);
            px_buf_printf(out, "MPLS (label %u, tc %u%s, ttl %u) ", m.label, m.tc, m.s ? ", [S]" : "", m.ttl);
            break;
        }
        case PX_LAYER_GRE: {
            px_gre_hdr g;
            (void)px_layer_gre(f, l, &g);
            px_buf_printf(out, "GREv%u", g.version);
            if (g.has_key)
                px_buf_printf(out, ", key=0x%x", g.key);
            if (g.has_seq)
                px_buf_printf(out, ", seq %u", g.seq);
            px_buf_printf(out, ", proto %s (0x%04x), length %u: ", ethertype_name(g.proto), g.proto,
                          l->len + payload_after(f, i));
            break;
        }
        case PX_LAYER_VXLAN: {
            px_vxlan_hdr x;
            (void)px_layer_vxlan(f, l, &x);
            px_buf_printf(out, "VXLAN, flags [%s] (0x%02x), vni %u: ", x.flags & 8 ? "I" : ".", x.flags, x.vni);
            break;
        }
        case PX_LAYER_PAYLOAD: {
            bool after_l4 = i > 0 && (f->layers[i - 1].kind == PX_LAYER_TCP || f->layers[i - 1].kind == PX_LAYER_UDP ||
                                      f->layers[i - 1].kind == PX_LAYER_ICMP || f->layers[i - 1].kind == PX_LAYER_ICMPV6 ||
                                      f->layers[i - 1].kind == PX_LAYER_ARP || f->layers[i - 1].kind == PX_LAYER_LLC);
            if (!after_l4)
                px_buf_printf(out, "payload %u bytes", l->len);
            break;
        }
        default: break;
        }
    }
    if (f->truncated_at != PX_LAYER_NONE)
        px_buf_printf(out, " [|%s]", px_layer_name((px_layer_kind)f->truncated_at));
    /* Trim the separators left by a last layer that announced a next one. */
    while (out->len > 0 && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == ':' ||
                            out->data[out->len - 1] == ','))
        out->data[--out->len] = '\0';
    return out->oom ? PX_ENOMEM : 0;
}

int px_frame_fields(const px_frame *f, px_buf *out)
{
    for (unsigned i = 0; i < f->nlayers; i++) {
        const px_layer *l = &f->layers[i];
        px__pid pid = px__proto_of_layer(f, l);
        const px__proto *pr = px__proto_get(pid);
        px_buf_printf(out, "%*s%s:", 2 * l->encap, "", pid == PX__P_RAW ? px_layer_name((px_layer_kind)l->kind) : pr->short_name);
        if (pid == PX__P_RAW) {
            px_buf_printf(out, " %u bytes at offset %u\n", l->len, l->off);
            continue;
        }
        for (int fi = 0; fi < pr->nfields; fi++) {
            char v[160];
            if (px__field_format(pr, fi, f->data + l->off, l->len, v, sizeof v)) {
                if (pr->fields[fi].type == PX__F_BYTES && (v[0] == '\'' || v[0] == '\0'))
                    continue;
                px_buf_printf(out, " %s=%s", pr->fields[fi].name, v);
            }
        }
        px_buf_append(out, "\n");
    }
    if (f->padlen)
        px_buf_printf(out, "padding: %u bytes\n", f->padlen);
    if (f->truncated_at != PX_LAYER_NONE)
        px_buf_printf(out, "truncated at %s\n", px_layer_name((px_layer_kind)f->truncated_at));
    return out->oom ? PX_ENOMEM : 0;
}

int px_hexdump(const uint8_t *data, size_t len, px_buf *out)
{
    for (size_t off = 0; off < len; off += 16) {
        px_buf_printf(out, "%04zx ", off);
        char ascii[17];
        for (size_t i = 0; i < 16; i++) {
            if (i == 8)
                px_buf_append(out, " ");
            if (off + i < len) {
                uint8_t c = data[off + i];
                px_buf_printf(out, " %02x", c);
                ascii[i] = c >= 0x20 && c < 0x7f ? (char)c : '.';
            } else {
                px_buf_append(out, "   ");
                ascii[i] = '\0';
            }
        }
        ascii[16] = '\0';
        px_buf_printf(out, "  |%s|\n", ascii);
    }
    return out->oom ? PX_ENOMEM : 0;
}
