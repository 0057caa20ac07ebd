/* pktexpect: the frame dissector and its accessors (see include/pktexpect/frame.h).
 *
 * One pass over the bytes, no allocation, no copy. Every read is preceded by a
 * range test written as `need <= end - off` with `off <= end` already known, so
 * the test itself cannot overflow. `end` starts at caplen and shrinks to the end
 * of an IP datagram (or 802.3 length) so padding is never taken for payload.
 */
#include <string.h>

#include "pktexpect/frame.h"
#include "dissect.h"

enum {
    ETH_HLEN = 14,
    VLAN_HLEN = 4,
    IPV4_MIN = 20,
    IPV6_HLEN = 40,
    TCP_MIN = 20,
    UDP_HLEN = 8,
    ICMP_HLEN = 8,
    MPLS_HLEN = 4,
    GRE_MIN = 4,
    VXLAN_HLEN = 8,
    VXLAN_PORT = 4789,
};

typedef struct dissector {
    px_frame *f;
    const uint8_t *p;
    uint32_t end;       /* bytes beyond this offset are not part of the current datagram */
    bool outer_bounded; /* the outermost datagram's end is known (padlen recorded if any) */
} dissector;

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The per-frame path (push, bound, payload, the outer Ethernet header, its type
 * field's dispatch, IPv4 and the layer 4 dispatch) is forced inline: the
 * dissector runs once per captured frame on the capture thread, and an
 * Ethernet/IPv4/TCP or UDP frame is then dissected without a call (the generic
 * version made one per layer and helper). What a tunnel starts again (Ethernet,
 * IPv4 after MPLS or IP-in-IP, ...) and the rarer headers go through the
 * out-of-line functions, which also break the recursion. */
#define DIS_INLINE static inline __attribute__((always_inline))

/* True when `need` bytes starting at `off` are inside the current datagram. */
static inline bool fits(const dissector *d, uint32_t off, uint32_t need)
{
    return off <= d->end && need <= d->end - off;
}

static void stop(dissector *d, px_layer_kind kind) { d->f->truncated_at = (uint8_t)kind; }

/* Records a layer; false (frame marked truncated at `kind`) when the header does
 * not fit or the layer table is full. Forced inline: it runs for every layer of
 * every frame, and most callers pass a constant kind and length.
 *
 * `encap` needs no clamp to the uint8_t: the dissector raises it by one only
 * after recording the layer that carries the next level (IP, MPLS, GRE, VXLAN),
 * so encap < nlayers <= PX_FRAME_MAX_LAYERS at every push. */
DIS_INLINE bool push(dissector *d, px_layer_kind kind, uint32_t off, uint32_t len, unsigned encap)
{
    px_frame *f = d->f;
    unsigned n = f->nlayers;
    if (!fits(d, off, len) || n >= PX_FRAME_MAX_LAYERS) {
        stop(d, kind);
        return false;
    }
    if (!f->first_of[kind])
        f->first_of[kind] = (uint8_t)(n + 1);
    px_layer *l = &f->layers[n];
    l->off = off;
    l->len = len;
    l->kind = (uint8_t)kind;
    l->encap = (uint8_t)encap;
    f->nlayers = (uint8_t)(n + 1);
    return true;
}
_Static_assert(PX_FRAME_MAX_LAYERS < 255, "layer indexes + 1 and encap levels fit a uint8_t");

/* Shrinks the datagram end to off + len when that is shorter (trailing padding).
 * The first datagram with a length is the outermost one, whatever its encap
 * level (IP over MPLS is encap 1 with nothing bounded before it): only what
 * follows it is Ethernet padding; a tunnel's inner datagram ending early is not. */
DIS_INLINE void bound(dissector *d, uint32_t off, uint32_t len, unsigned encap)
{
    (void)encap;
    bool outer = !d->outer_bounded;
    d->outer_bounded = true;
    if (off <= d->end && len < d->end - off) {
        d->end = off + len;
        if (outer)
            d->f->padlen = d->f->caplen - d->end;
    }
}

DIS_INLINE void payload(dissector *d, uint32_t off, unsigned encap)
{
    if (off < d->end)
        (void)push(d, PX_LAYER_PAYLOAD, off, d->end - off, encap);
}

static void dis_eth(dissector *d, uint32_t off, unsigned encap);
DIS_INLINE void dis_ethertype(dissector *d, uint16_t type, uint32_t off, unsigned encap);
static void dis_ipv4(dissector *d, uint32_t off, unsigned encap);
DIS_INLINE void dis_ipv4_hdr(dissector *d, uint32_t off, unsigned encap);
static void dis_ipv6(dissector *d, uint32_t off, unsigned encap);

/* The TPIDs here are also the VLAN cases of dis_ethertype's switch. */
DIS_INLINE bool is_vlan_tpid(uint16_t type) { return type == 0x8100 || type == 0x88a8 || type == 0x9100; }

bool px__is_vlan_tpid(uint16_t type) { return is_vlan_tpid(type); }

unsigned px__eth_vlan_walk(const uint8_t *b, size_t len, size_t *type_off)
{
    unsigned n = 0;
    size_t off = 12;
    if (len >= 14) {
        /* off + 6 <= len: the tag's TPID and TCI, then the next type field */
        while (is_vlan_tpid(rd16(b + off)) && len - off >= 6) {
            n++;
            off += 4;
        }
    }
    if (type_off)
        *type_off = off;
    return n;
}

static void dis_llc(dissector *d, uint32_t off, unsigned encap)
{
    if (!fits(d, off, 3)) {
        stop(d, PX_LAYER_LLC);
        return;
    }
    /* U-format frames have a one-byte control field (low bits 11), I and S two. */
    uint32_t len = (d->p[off + 2] & 3) == 3 ? 3 : 4;
    if (push(d, PX_LAYER_LLC, off, len, encap))
        payload(d, off + len, encap);
}

/* Records the Ethernet header at `off`. An 802.3 frame (length field) ends here
 * with its LLC header; otherwise true with the type field in *type for
 * dis_ethertype. */
DIS_INLINE bool eth_hdr(dissector *d, uint32_t off, unsigned encap, uint16_t *type)
{
    if (!push(d, PX_LAYER_ETH, off, ETH_HLEN, encap))
        return false;
    uint16_t t = rd16(d->p + off + 12);
    if (encap == 0) /* the outer frame's type field until a VLAN tag replaces it */
        d->f->ethertype = t;
    if (t <= 1500) {
        bound(d, off + ETH_HLEN, t, encap);
        dis_llc(d, off + ETH_HLEN, encap);
        return false;
    }
    *type = t;
    return true;
}

/* dis_ethertype out of line, for the frames inside a tunnel (GRE, VXLAN): the
 * inlined copy is px_frame_dissect's, for the outer frame. */
__attribute__((noinline)) static void dis_ethertype_tunnel(dissector *d, uint16_t type, uint32_t off, unsigned encap)
{
    dis_ethertype(d, type, off, encap);
}

static void dis_eth(dissector *d, uint32_t off, unsigned encap)
{
    uint16_t type;
    if (eth_hdr(d, off, encap, &type))
        dis_ethertype_tunnel(d, type, off + ETH_HLEN, encap);
}

static void dis_mpls(dissector *d, uint32_t off, unsigned encap)
{
    for (;;) {
        if (!push(d, PX_LAYER_MPLS, off, MPLS_HLEN, encap))
            return;
        bool bottom = d->p[off + 2] & 1;
        off += MPLS_HLEN;
        if (bottom)
            break;
    }
    /* No protocol field after the stack: guess by the IP version nibble. */
    if (fits(d, off, 1)) {
        unsigned v = d->p[off] >> 4;
        if (v == 4) {
            dis_ipv4(d, off, encap + 1);
            return;
        }
        if (v == 6) {
            dis_ipv6(d, off, encap + 1);
            return;
        }
    }
    payload(d, off, encap);
}

/* The layer after a type field `type` at `off`: VLAN tags first (one loop turn
 * per tag, the TPIDs of is_vlan_tpid), then one dispatch on the last type. */
DIS_INLINE void dis_ethertype(dissector *d, uint16_t type, uint32_t off, unsigned encap)
{
    for (;;) {
        switch (type) {
        case 0x0800: dis_ipv4_hdr(d, off, encap); return;
        case 0x86dd: dis_ipv6(d, off, encap); return;
        case 0x8100:
        case 0x88a8:
        case 0x9100:
            if (!push(d, PX_LAYER_VLAN, off, VLAN_HLEN, encap))
                return; /* a tag that did not fit leaves its TPID as the ethertype */
            type = rd16(d->p + off + 2);
            if (encap == 0) /* only the outer Ethernet header enters here at level 0 */
                d->f->ethertype = type;
            off += VLAN_HLEN;
            continue;
        case 0x0806: {
            if (!fits(d, off, 8)) {
                stop(d, PX_LAYER_ARP);
                return;
            }
            uint32_t len = 8 + 2u * ((uint32_t)d->p[off + 4] + d->p[off + 5]);
            /* ARP has no length field and nothing after it: what follows is padding. */
            if (push(d, PX_LAYER_ARP, off, len, encap))
                bound(d, off, len, encap);
            return;
        }
        case 0x8847:
        case 0x8848: dis_mpls(d, off, encap); return;
        default: payload(d, off, encap); return;
        }
    }
}

static void dis_gre(dissector *d, uint32_t off, unsigned encap)
{
    if (!fits(d, off, GRE_MIN)) {
        stop(d, PX_LAYER_GRE);
        return;
    }
    uint16_t flags = rd16(d->p + off);
    uint16_t proto = rd16(d->p + off + 2);
    uint32_t len = GRE_MIN;
    if (flags & 0xc000) /* checksum or routing present: checksum + offset word */
        len += 4;
    if (flags & 0x2000)
        len += 4;
    if (flags & 0x1000)
        len += 4;
    if ((flags & 7) == 1 && (flags & 0x0080)) /* enhanced GRE (PPTP) acknowledgement */
        len += 4;
    if (!push(d, PX_LAYER_GRE, off, len, encap))
        return;
    off += len;
    if ((flags & 0x4000) || (flags & 7) != 0) { /* source routing or unknown version */
        payload(d, off, encap);
        return;
    }
    if (proto == 0x6558)
        dis_eth(d, off, encap + 1);
    else if (proto == 0x0800 || proto == 0x86dd || proto == 0x8847 || proto == 0x8848 || is_vlan_tpid(proto))
        dis_ethertype_tunnel(d, proto, off, encap + 1);
    else
        payload(d, off, encap);
}

/* Layer 4 (or a tunnel) after an IP header whose protocol field is `proto`. */
DIS_INLINE void dis_ip_proto(dissector *d, uint8_t proto, uint32_t off, unsigned encap)
{
    switch (proto) {
    case 6: {
        if (!fits(d, off, TCP_MIN)) {
            stop(d, PX_LAYER_TCP);
            return;
        }
        uint32_t len = (uint32_t)(d->p[off + 12] >> 4) * 4;
        if (len < TCP_MIN) {
            stop(d, PX_LAYER_TCP);
            return;
        }
        if (push(d, PX_LAYER_TCP, off, len, encap))
            payload(d, off + len, encap);
        return;
    }
    case 17: {
        if (!push(d, PX_LAYER_UDP, off, UDP_HLEN, encap))
            return;
        uint16_t ulen = rd16(d->p + off + 4);
        if (ulen >= UDP_HLEN)
            bound(d, off, ulen, encap);
        uint16_t dport = rd16(d->p + off + 2);
        off += UDP_HLEN;
        if (dport == VXLAN_PORT) {
            if (push(d, PX_LAYER_VXLAN, off, VXLAN_HLEN, encap))
                dis_eth(d, off + VXLAN_HLEN, encap + 1);
            return;
        }
        payload(d, off, encap);
        return;
    }
    case 1:
    case 58: {
        px_layer_kind k = proto == 1 ? PX_LAYER_ICMP : PX_LAYER_ICMPV6;
        if (push(d, k, off, ICMP_HLEN, encap))
            payload(d, off + ICMP_HLEN, encap);
        return;
    }
    case 47: dis_gre(d, off, encap); return;
    case 4: dis_ipv4(d, off, encap + 1); return;
    case 41: dis_ipv6(d, off, encap + 1); return;
    default: payload(d, off, encap); return;
    }
}

/* An IPv4 header: inlined after a type field, called through dis_ipv4 after an
 * IP protocol field or MPLS. */
DIS_INLINE void dis_ipv4_hdr(dissector *d, uint32_t off, unsigned encap)
{
    if (!fits(d, off, IPV4_MIN)) {
        stop(d, PX_LAYER_IPV4);
        return;
    }
    const uint8_t *h = d->p + off;
    uint32_t hlen = (uint32_t)(h[0] & 15) * 4;
    uint16_t tot = rd16(h + 2);
    if ((h[0] >> 4) != 4 || hlen < IPV4_MIN || tot < hlen) {
        stop(d, PX_LAYER_IPV4); /* malformed: nothing after this can be trusted */
        return;
    }
    if (!push(d, PX_LAYER_IPV4, off, hlen, encap))
        return;
    bound(d, off, tot, encap);
    uint16_t frag = rd16(h + 6) & 0x1fff;
    if (frag != 0) { /* non-first fragment: no layer 4 header here */
        payload(d, off + hlen, encap);
        return;
    }
    dis_ip_proto(d, h[9], off + hlen, encap);
}

static void dis_ipv4(dissector *d, uint32_t off, unsigned encap) { dis_ipv4_hdr(d, off, encap); }

static bool is_ipv6_ext(uint8_t nh) { return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51; }

static void dis_ipv6(dissector *d, uint32_t off, unsigned encap)
{
    if (!fits(d, off, IPV6_HLEN) || (d->p[off] >> 4) != 6) {
        stop(d, PX_LAYER_IPV6);
        return;
    }
    if (!push(d, PX_LAYER_IPV6, off, IPV6_HLEN, encap))
        return;
    uint16_t plen = rd16(d->p + off + 4);
    if (plen != 0) /* 0 with a jumbo option: the length comes from the link */
        bound(d, off + IPV6_HLEN, plen, encap);
    uint8_t nh = d->p[off + 6];
    off += IPV6_HLEN;
    while (is_ipv6_ext(nh)) {
        if (!fits(d, off, 8)) {
            stop(d, PX_LAYER_IPV6_EXT);
            return;
        }
        const uint8_t *h = d->p + off;
        uint32_t len = nh == 44 ? 8u : nh == 51 ? ((uint32_t)h[1] + 2) * 4 : ((uint32_t)h[1] + 1) * 8;
        if (!push(d, PX_LAYER_IPV6_EXT, off, len, encap))
            return;
        bool later_fragment = nh == 44 && (rd16(h + 2) >> 3) != 0;
        nh = h[0];
        off += len;
        if (later_fragment) {
            payload(d, off, encap);
            return;
        }
    }
    if (nh == 59) { /* no next header */
        payload(d, off, encap);
        return;
    }
    dis_ip_proto(d, nh, off, encap);
}

void px_frame_dissect(px_frame *f, const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    f->data = data;
    f->caplen = data ? caplen : 0;
    f->wirelen = wirelen < f->caplen ? f->caplen : wirelen;
    f->ts.tv_sec = 0;
    f->ts.tv_nsec = 0;
    f->port = NULL;
    f->dir = PX_DIR_IN;
    f->nlayers = 0;
    f->truncated_at = PX_LAYER_NONE;
    f->padlen = 0;
    f->flags = 0;
    memset(f->first_of, 0, sizeof f->first_of);
    /* The outer frame's type field after its VLAN tags (what px_frame_ethertype
     * returns), set by eth_hdr and dis_ethertype at encap level 0 as they record
     * the Ethernet header and each tag; stays 0 without an Ethernet header. */
    f->ethertype = 0;
    dissector d = {.f = f, .p = data, .end = f->caplen, .outer_bounded = false};
    uint16_t type;
    if (eth_hdr(&d, 0, 0, &type))
        dis_ethertype(&d, type, ETH_HLEN, 0);
    /* Bytes are missing after a complete last header (capture cut exactly there). */
    if (f->truncated_at == PX_LAYER_NONE && f->caplen < f->wirelen &&
        (f->nlayers == 0 || f->layers[f->nlayers - 1].kind != PX_LAYER_PAYLOAD))
        f->truncated_at = PX_LAYER_PAYLOAD;
}

/* ---- lookup ---- */

const px_layer *px_frame_find_nth(const px_frame *f, px_layer_kind kind, unsigned n)
{
    if ((unsigned)kind >= PX_LAYER__COUNT)
        return NULL;
    unsigned first = f->first_of[kind];
    if (!first)
        return NULL;
    if (n == 0)
        return &f->layers[first - 1];
    for (unsigned i = first - 1; i < f->nlayers && i < PX_FRAME_MAX_LAYERS; i++)
        if (f->layers[i].kind == kind && n-- == 0)
            return &f->layers[i];
    return NULL;
}

const px_layer *px_frame_find(const px_frame *f, px_layer_kind kind) { return px_frame_find_nth(f, kind, 0); }

const px_layer *px_layer_prev(const px_frame *f, const px_layer *l)
{
    if (!l || l <= f->layers || l >= f->layers + f->nlayers)
        return NULL;
    return l - 1;
}

const char *px_layer_name(px_layer_kind kind)
{
    static const char *const names[PX_LAYER__COUNT] = {
        [PX_LAYER_NONE] = "none",     [PX_LAYER_ETH] = "eth",       [PX_LAYER_LLC] = "llc",
        [PX_LAYER_VLAN] = "vlan",     [PX_LAYER_ARP] = "arp",       [PX_LAYER_IPV4] = "ipv4",
        [PX_LAYER_IPV6] = "ipv6",     [PX_LAYER_IPV6_EXT] = "ipv6ext", [PX_LAYER_TCP] = "tcp",
        [PX_LAYER_UDP] = "udp",       [PX_LAYER_ICMP] = "icmp",     [PX_LAYER_ICMPV6] = "icmpv6",
        [PX_LAYER_MPLS] = "mpls",     [PX_LAYER_GRE] = "gre",       [PX_LAYER_VXLAN] = "vxlan",
        [PX_LAYER_PAYLOAD] = "payload",
    };
    if ((unsigned)kind >= PX_LAYER__COUNT)
        return "none";
    return names[kind];
}

/* Resolves `l` (NULL: first of `kind`) and returns its header bytes, or NULL. The
 * dissector guaranteed off + len <= caplen for every recorded layer. */
static const uint8_t *hdr(const px_frame *f, const px_layer **l, px_layer_kind kind)
{
    if (!*l)
        *l = px_frame_find(f, kind);
    if (!*l || (*l)->kind != kind)
        return NULL;
    return f->data + (*l)->off;
}

/* ---- accessors of the core contract ---- */

bool px_frame_eth_src(const px_frame *f, uint8_t mac[6])
{
    const px_layer *l = NULL;
    const uint8_t *h = hdr(f, &l, PX_LAYER_ETH);
    if (!h)
        return false;
    memcpy(mac, h + 6, 6);
    return true;
}

bool px_frame_eth_dst(const px_frame *f, uint8_t mac[6])
{
    const px_layer *l = NULL;
    const uint8_t *h = hdr(f, &l, PX_LAYER_ETH);
    if (!h)
        return false;
    memcpy(mac, h, 6);
    return true;
}

bool px_frame_ethertype(const px_frame *f, uint16_t *type)
{
    if (!f->first_of[PX_LAYER_ETH])
        return false;
    *type = f->ethertype; /* outer_ethertype(), at dissection */
    return true;
}

bool px_frame_vlan(const px_frame *f, unsigned n, px_vlan_tag *out)
{
    const px_layer *l = px_frame_find_nth(f, PX_LAYER_VLAN, n);
    if (!l || l->encap != 0)
        return false;
    return px_layer_vlan(f, l, out, NULL);
}

bool px_frame_icmpv6(const px_frame *f, uint8_t *type, uint8_t *code)
{
    const px_layer *l = NULL;
    const uint8_t *h = hdr(f, &l, PX_LAYER_ICMPV6);
    if (!h)
        return false;
    *type = h[0];
    *code = h[1];
    return true;
}

/* The protocol field announcing the layer after `l` (IPv4 protocol, IPv6 or
 * extension next header). */
static uint8_t ip_next(const px_frame *f, const px_layer *l)
{
    const uint8_t *h = f->data + l->off;
    return l->kind == PX_LAYER_IPV4 ? h[9] : l->kind == PX_LAYER_IPV6 ? h[6] : h[0];
}

bool px_frame_ip_proto(const px_frame *f, uint8_t *proto)
{
    for (unsigned i = 0; i < f->nlayers; i++) {
        const px_layer *l = &f->layers[i];
        if (l->kind != PX_LAYER_IPV4 && l->kind != PX_LAYER_IPV6)
            continue;
        while (l + 1 < f->layers + f->nlayers && l[1].kind == PX_LAYER_IPV6_EXT)
            l++;
        *proto = ip_next(f, l);
        return true;
    }
    return false;
}

/* ---- typed accessors ---- */

bool px_layer_eth(const px_frame *f, const px_layer *l, px_eth_hdr *out)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_ETH);
    if (!h)
        return false;
    memcpy(out->dst, h, 6);
    memcpy(out->src, h + 6, 6);
    out->type = rd16(h + 12);
    return true;
}

bool px_layer_llc(const px_frame *f, const px_layer *l, px_llc_hdr *out)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_LLC);
    if (!h)
        return false;
    out->dsap = h[0];
    out->ssap = h[1];
    out->ctrl = l->len == 4 ? rd16(h + 2) : h[2];
    return true;
}

bool px_layer_vlan(const px_frame *f, const px_layer *l, px_vlan_tag *out, uint16_t *inner_type)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_VLAN);
    if (!h)
        return false;
    /* The TPID is the type field just before the tag: the last two bytes of the
     * previous header (Ethernet or another tag). */
    uint16_t tci = rd16(h);
    out->tpid = l->off >= 2 ? rd16(h - 2) : 0;
    out->pcp = (uint8_t)(tci >> 13);
    out->dei = (uint8_t)((tci >> 12) & 1);
    out->vid = tci & 0x0fff;
    if (inner_type)
        *inner_type = rd16(h + 2);
    return true;
}

bool px_layer_arp(const px_frame *f, const px_layer *l, px_arp_hdr *out)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_ARP);
    if (!h)
        return false;
    memset(out, 0, sizeof *out);
    out->htype = rd16(h);
    out->ptype = rd16(h + 2);
    out->hlen = h[4];
    out->plen = h[5];
    out->op = rd16(h + 6);
    out->eth_ipv4 = out->hlen == 6 && out->plen == 4; /* then l->len == 28 */
    if (out->eth_ipv4) {
        memcpy(out->sha, h + 8, 6);
        memcpy(out->spa, h + 14, 4);
        memcpy(out->tha, h + 18, 6);
        memcpy(out->tpa, h + 24, 4);
    }
    return true;
}

bool px_layer_ipv4(const px_frame *f, const px_layer *l, px_ipv4_hdr *out)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_IPV4);
    if (!h)
        return false;
    out->version = h[0] >> 4;
    out->ihl = h[0] & 15;
    out->dscp = h[1] >> 2;
    out->ecn = h[1] & 3;
    out->tot_len = rd16(h + 2);
    out->id = rd16(h + 4);
    out->flags = h[6] >> 5;
    out->frag_off = rd16(h + 6) & 0x1fff;
    out->ttl = h[8];
    out->proto = h[9];
    out->chksum = rd16(h + 10);
    memcpy(out->src, h + 12, 4);
    memcpy(out->dst, h + 16, 4);
    return true;
}

bool px_layer_ipv6(const px_frame *f, const px_layer *l, px_ipv6_hdr *out)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_IPV6);
    if (!h)
        return false;
    uint8_t tc = (uint8_t)((h[0] & 15) << 4 | h[1] >> 4);
    out->dscp = tc >> 2;
    out->ecn = tc & 3;
    out->flow = rd24(h + 1) & 0xfffff;
    out->payload_len = rd16(h + 4);
    out->next_header = h[6];
    out->hop_limit = h[7];
    memcpy(out->src, h + 8, 16);
    memcpy(out->dst, h + 24, 16);
    return true;
}

bool px_layer_ipv6_ext(const px_frame *f, const px_layer *l, px_ipv6_ext_hdr *out)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_IPV6_EXT);
    const px_layer *prev = px_layer_prev(f, l);
    if (!h || !prev)
        return false;
    memset(out, 0, sizeof *out);
    out->type = ip_next(f, prev);
    out->next_header = h[0];
    out->len = l->len;
    if (out->type == 43) {
        out->routing_type = h[2];
        out->segments_left = h[3];
    } else if (out->type == 44) {
        out->frag_off = rd16(h + 2) >> 3;
        out->mf = h[3] & 1;
        out->frag_id = rd32(h + 4);
    }
    return true;
}

bool px_layer_tcp(const px_frame *f, const px_layer *l, px_tcp_hdr *out)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_TCP);
    if (!h)
        return false;
    out->sport = rd16(h);
    out->dport = rd16(h + 2);
    out->seq = rd32(h + 4);
    out->ack = rd32(h + 8);
    out->doff = h[12] >> 4;
    out->flags = h[13];
    out->window = rd16(h + 14);
    out->chksum = rd16(h + 16);
    out->urg = rd16(h + 18);
    return true;
}

bool px_layer_udp(const px_frame *f, const px_layer *l, px_udp_hdr *out)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_UDP);
    if (!h)
        return false;
    out->sport = rd16(h);
    out->dport = rd16(h + 2);
    out->len = rd16(h + 4);
    out->chksum = rd16(h + 6);
    return true;
}

bool px_layer_icmp(const px_frame *f, const px_layer *l, px_icmp_hdr *out)
{
    if (!l)
        l = px_frame_find(f, PX_LAYER_ICMP);
    if (!l || (l->kind != PX_LAYER_ICMP && l->kind != PX_LAYER_ICMPV6))
        return false;
    const uint8_t *h = f->data + l->off;
    out->type = h[0];
    out->code = h[1];
    out->chksum = rd16(h + 2);
    out->rest = rd32(h + 4);
    return true;
}

bool px_layer_mpls(const px_frame *f, const px_layer *l, px_mpls_hdr *out)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_MPLS);
    if (!h)
        return false;
    uint32_t v = rd32(h);
    out->label = v >> 12;
    out->tc = (uint8_t)((v >> 9) & 7);
    out->s = (uint8_t)((v >> 8) & 1);
    out->ttl = (uint8_t)v;
    return true;
}

bool px_layer_gre(const px_frame *f, const px_layer *l, px_gre_hdr *out)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_GRE);
    if (!h)
        return false;
    uint16_t flags = rd16(h);
    memset(out, 0, sizeof *out);
    out->has_chksum = flags & 0x8000;
    out->has_key = flags & 0x2000;
    out->has_seq = flags & 0x1000;
    out->version = flags & 7;
    out->proto = rd16(h + 2);
    /* The dissector sized the layer from these same flags, so the words are there. */
    uint32_t o = 4;
    if (flags & 0xc000) {
        out->chksum = rd16(h + o);
        o += 4;
    }
    if (out->has_key) {
        out->key = rd32(h + o);
        o += 4;
    }
    if (out->has_seq)
        out->seq = rd32(h + o);
    return true;
}

bool px_layer_vxlan(const px_frame *f, const px_layer *l, px_vxlan_hdr *out)
{
    const uint8_t *h = hdr(f, &l, PX_LAYER_VXLAN);
    if (!h)
        return false;
    out->flags = h[0];
    out->vni = rd24(h + 4);
    return true;
}

bool px_frame_ports(const px_frame *f, const px_layer *l, uint16_t *sport, uint16_t *dport)
{
    if (!l) {
        for (unsigned i = 0; i < f->nlayers && !l; i++)
            if (f->layers[i].kind == PX_LAYER_TCP || f->layers[i].kind == PX_LAYER_UDP)
                l = &f->layers[i];
    }
    if (!l || (l->kind != PX_LAYER_TCP && l->kind != PX_LAYER_UDP))
        return false;
    *sport = rd16(f->data + l->off);
    *dport = rd16(f->data + l->off + 2);
    return true;
}

bool px_frame_payload(const px_frame *f, uint32_t *off, uint32_t *len)
{
    if (f->nlayers == 0 || f->layers[f->nlayers - 1].kind != PX_LAYER_PAYLOAD)
        return false;
    *off = f->layers[f->nlayers - 1].off;
    *len = f->layers[f->nlayers - 1].len;
    return true;
}
