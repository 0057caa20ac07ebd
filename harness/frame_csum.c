/* pktexpect: checksum verification of dissected layers (px_layer_checksum in
 * include/pktexpect/frame.h). Reads only what the dissector proved captured, plus
 * the ranges checked here against caplen. */
#include "pktexpect/frame.h"

#include "csum.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

uint32_t px__csum_add(uint32_t acc, const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 1 < n; i += 2)
        acc += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (i < n)
        acc += (uint32_t)p[i] << 8;
    return acc;
}

uint16_t px__csum_fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)acc;
}

const uint8_t *px__rh_final_dst(const uint8_t *rh, size_t len)
{
    if (len < 8 + 16 || rh[3] == 0)
        return NULL;
    size_t naddr = (len - 8) / 16;
    switch (rh[2]) {
    case 0: /* RFC 2460 type 0 (deprecated) and RFC 6275 type 2: addresses from byte 8 */
    case 2: return rh + 8 + (naddr - 1) * 16;
    case 4: return rh + 8; /* SRH: Segment List[0] is the last segment */
    default: return NULL;
    }
}

static uint32_t sum16(const uint8_t *p, uint32_t n, uint32_t acc) { return px__csum_add(acc, p, n); }

/* A correct one's complement checksum makes the covered words sum to 0xffff. */
static px_csum_status verdict(uint32_t acc)
{
    return px__csum_fold(acc) == 0xffff ? PX_CSUM_GOOD : PX_CSUM_BAD;
}

/* The nearest IPv4/IPv6 layer before `l` and the end offset of its datagram;
 * false when none, or when the datagram is a fragment. For IPv6, *final_dst is
 * the pseudo-header's destination: the IPv6 header's, or the final one of a
 * Routing header with segments left between the two. */
static bool enclosing_ip(const px_frame *f, const px_layer *l, const px_layer **ip, uint32_t *end,
                         const uint8_t **final_dst)
{
    const uint8_t *rh_dst = NULL;
    for (size_t i = (size_t)(l - f->layers); i-- > 0;) {
        const px_layer *p = &f->layers[i];
        const uint8_t *h = f->data + p->off;
        if (p->kind == PX_LAYER_IPV6_EXT) {
            if (i == 0)
                return false;
            const px_layer *q = p - 1; /* the header announcing this one */
            uint8_t type = q->kind == PX_LAYER_IPV6 ? f->data[q->off + 6] : f->data[q->off];
            if (type == 44)
                return false;
            if (type == 43) {
                const uint8_t *d = px__rh_final_dst(h, p->len);
                if (d)
                    rh_dst = d;
            }
            continue;
        }
        if (p->kind == PX_LAYER_IPV4) {
            if ((rd16(h + 6) & 0x3fff) != 0) /* MF or an offset */
                return false;
            *ip = p;
            *end = p->off + rd16(h + 2);
            return true;
        }
        if (p->kind == PX_LAYER_IPV6) {
            *ip = p;
            *end = p->off + 40 + rd16(h + 4);
            *final_dst = rh_dst ? rh_dst : h + 24;
            return true;
        }
        if (p->kind != PX_LAYER_IPV6_EXT)
            return false;
    }
    return false;
}

/* Offset of the checksum field in a layer's header, by kind. */
static uint32_t csum_field(uint8_t kind)
{
    switch ((px_layer_kind)kind) {
    case PX_LAYER_IPV4: return 10;
    case PX_LAYER_TCP: return 16;
    case PX_LAYER_UDP: return 6;
    case PX_LAYER_GRE: return 4;
    default: return 2; /* ICMP, ICMPv6 */
    }
}

/* The verdict; with GOOD or BAD, *acc is the one's complement sum of everything
 * the checksum covers, its field included. */
static px_csum_status layer_sum(const px_frame *f, const px_layer *l, uint32_t *acc_out)
{
    if (!l || l < f->layers || l >= f->layers + f->nlayers)
        return PX_CSUM_NONE;
    const uint8_t *h = f->data + l->off;
    if (l->kind == PX_LAYER_IPV4) {
        *acc_out = sum16(h, l->len, 0);
        return verdict(*acc_out);
    }
    uint8_t proto;
    switch ((px_layer_kind)l->kind) {
    case PX_LAYER_TCP: proto = 6; break;
    case PX_LAYER_UDP: proto = 17; break;
    case PX_LAYER_ICMP: proto = 1; break;
    case PX_LAYER_ICMPV6: proto = 58; break;
    case PX_LAYER_GRE:
        if (!(h[0] & 0x80))
            return PX_CSUM_NONE;
        proto = 47;
        break;
    default: return PX_CSUM_NONE;
    }
    const px_layer *ip;
    uint32_t end;
    const uint8_t *dst6 = NULL;
    if (!enclosing_ip(f, l, &ip, &end, &dst6))
        return PX_CSUM_NONE;
    if (proto == 17 && ip->kind == PX_LAYER_IPV4 && rd16(h + 6) == 0)
        return PX_CSUM_NONE; /* UDP over IPv4 without a checksum */
    if (end < l->off + l->len)
        return PX_CSUM_BAD; /* the datagram says it ends inside this header (no sum) */
    if (end > f->caplen)
        return PX_CSUM_UNKNOWN;
    uint32_t len = end - l->off;
    if (proto == 1 || proto == 47) { /* no pseudo-header */
        *acc_out = sum16(h, len, 0);
        return verdict(*acc_out);
    }
    bool v6 = ip->kind == PX_LAYER_IPV6;
    const uint8_t *iph = f->data + ip->off;
    uint32_t acc = v6 ? sum16(dst6, 16, sum16(iph + 8, 16, 0)) : sum16(iph + 12, 8, 0);
    acc += (len >> 16) + (len & 0xffff) + proto;
    *acc_out = sum16(h, len, acc);
    return verdict(*acc_out);
}

px_csum_status px_layer_checksum(const px_frame *f, const px_layer *l)
{
    uint32_t acc = 0;
    return layer_sum(f, l, &acc);
}

px_csum_status px__layer_checksum_values(const px_frame *f, const px_layer *l, uint16_t *got, uint16_t *want)
{
    uint32_t acc = UINT32_MAX; /* stays so when the datagram ends inside the header */
    px_csum_status st = layer_sum(f, l, &acc);
    if (st != PX_CSUM_GOOD && st != PX_CSUM_BAD)
        return st;
    const uint8_t *h = f->data + l->off;
    *got = rd16(h + csum_field(l->kind));
    if (acc == UINT32_MAX) {
        *want = *got;
        return st;
    }
    /* Take the field out of the sum (adding its complement), then complement. */
    uint16_t without = px__csum_fold(px__csum_fold(acc) + (uint32_t)(uint16_t)~*got);
    *want = (uint16_t)~without;
    if (l->kind == PX_LAYER_UDP && *want == 0)
        *want = 0xffff; /* 0 means "no checksum" in UDP */
    return st;
}
