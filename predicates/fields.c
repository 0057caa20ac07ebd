/* pktexpect: field predicates (saw_... / did_not_see_...) and payload_contains.
 *
 * Each is a per-frame test (see pred_internal.h) over the dissector's typed
 * accessors; the accessors do the bounds checks, so nothing here reads frame
 * bytes directly except payload_contains, which searches inside the range that
 * px_frame_payload() reported. saw_field (any field of the table) is in
 * field_any.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_proto.h"
#include "pred_internal.h"
#include "pktexpect/build.h"
#include "pktexpect/error.h"
#include "pktexpect/predicates.h"

/* ---- helpers ---- */

/* One integer condition: want < 0 means "any". Returns the number of misses. */
/* The miss_* tests run for every frame offered: the comparison is inline, the
 * explanation (only with `why`, at most a few times per window) is not. */
static unsigned why_int(px_buf *why, const char *field, int64_t want, int64_t got, bool hex);
static inline unsigned miss_int(px_buf *why, const char *field, int64_t want, int64_t got, bool hex)
{
    if (want < 0 || want == got)
        return 0;
    return why ? why_int(why, field, want, got, hex) : 1;
}

static unsigned why_int(px_buf *why, const char *field, int64_t want, int64_t got, bool hex)
{
    if (why) {
        px__why_sep(why);
        if (hex)
            px_buf_printf(why, "%s: expected 0x%llx, got 0x%llx", field, (unsigned long long)want,
                          (unsigned long long)got);
        else
            px_buf_printf(why, "%s: expected %lld, got %lld", field, (long long)want, (long long)got);
    }
    return 1;
}


static void arg_int(px_buf *out, bool *first, const char *name, int64_t v, bool hex)
{
    if (v < 0)
        return;
    px_buf_printf(out, "%s%s=", *first ? "" : ", ", name);
    if (hex)
        px_buf_printf(out, "0x%llx", (unsigned long long)v);
    else
        px_buf_printf(out, "%lld", (long long)v);
    *first = false;
}

static void mac_format(const uint8_t m[6], px_buf *out) { px__mac_format(m, out); }

/* The first layer of `kind` at encapsulation depth `encap`, or NULL. Inline,
 * with the first layer of its kind read from first_of as px_frame_find() does:
 * the tests below run for every frame offered. */
static inline const px_layer *find_at(const px_frame *f, px_layer_kind kind, int encap)
{
    const px_layer *l = px__key_layer(f, kind); /* the first of its kind: one load */
    if (!l)
        return NULL;
    if (l->encap == encap) /* the usual case: the first one is at that depth */
        return l;
    for (const px_layer *end = f->layers + f->nlayers; l < end; l++)
        if (l->kind == kind && l->encap == encap)
            return l;
    return NULL;
}

/* The n-th layer of `kind` of the outer frame (encap 0). */
static const px_layer *find_outer_nth(const px_frame *f, px_layer_kind kind, int n)
{
    for (unsigned i = 0; i < f->nlayers && i < PX_FRAME_MAX_LAYERS; i++) {
        if (f->layers[i].encap != 0)
            break;
        if (f->layers[i].kind == kind && n-- == 0)
            return &f->layers[i];
    }
    return NULL;
}

/* True when v (< 0: any) is a value of field `path` of the field table
 * (harness/frame_proto.c). The spec predicates name their conditions by these
 * paths in messages ("ipv4.ttl: expected 63, got 64") and take their ranges from
 * the table, so they cannot drift from the builder, the text form and the diff:
 * a path the table does not know rejects every value. */
static bool fits(const char *path, int64_t v)
{
    px__pid pid;
    int fi;
    if (px__field_by_path(path, &pid, &fi) != 0)
        return false;
    return v < 0 || (uint64_t)v <= px__field_max(&px__proto_get(pid)->fields[fi]);
}

/* The first argument a constructor refuses, for px__pred_refused. */
typedef struct refusal {
    char msg[PX_ERRBUF_SIZE];
} refusal;

/* Argument `arg` checked as field `path` (fits): false with the reason in r
 * (the first refusal is kept: chain the checks with &&). */
static bool arg_fits(refusal *r, const char *arg, const char *path, int64_t v)
{
    if (fits(path, v))
        return true;
    px__pid pid;
    int fi;
    if (px__field_by_path(path, &pid, &fi) != 0)
        snprintf(r->msg, sizeof r->msg, "%s: field %s is not in the field table", arg, path);
    else
        snprintf(r->msg, sizeof r->msg, "%s must be 0..%llu or -1 (any), got %lld", arg,
                 (unsigned long long)px__field_max(&px__proto_get(pid)->fields[fi]), (long long)v);
    return false;
}

/* Argument `arg` in [lo, hi]. */
static bool arg_range(refusal *r, const char *arg, int64_t v, int64_t lo, int64_t hi)
{
    if (v >= lo && v <= hi)
        return true;
    snprintf(r->msg, sizeof r->msg, "%s must be %lld..%lld, got %lld", arg, (long long)lo, (long long)hi, (long long)v);
    return false;
}


/* ---- ethertype ---- */

typedef struct {
    px__ftest head;
    uint16_t type;
} ethertype_st;

#define ETH_TYPE "eth.type"

static unsigned ethertype_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const ethertype_st *st = (const ethertype_st *)self;
    uint16_t t;
    if (!px_frame_ethertype(f, &t))
        return px__why_no_layer(why, "Ethernet header", 1);
    return miss_int(why, ETH_TYPE, st->type, t, true);
}

static void ethertype_args(const px__ftest *self, px_buf *out)
{
    px_buf_printf(out, "0x%04x", ((const ethertype_st *)self)->type);
}

/* Exact: the test is px_frame_ethertype() == type, the key's very accessor. */
static bool ethertype_key(const px__ftest *self, px_key *out)
{
    return px__key_set(out, PX_KEY_ETHERTYPE, ((const ethertype_st *)self)->type);
}

static const px__ftest_vt ethertype_vt = {ethertype_test, ethertype_args, NULL, ethertype_key};

static px_predicate *ethertype_new(uint16_t type, bool neg)
{
    refusal r;
    if (!arg_fits(&r, "ethertype", ETH_TYPE, type))
        return px__pred_refused(neg ? "did_not_see_ethertype" : "saw_ethertype", "%s", r.msg);
    ethertype_st *st = px__ftest_alloc(sizeof *st, &ethertype_vt, neg ? "did_not_see_ethertype" : "saw_ethertype");
    if (!st)
        return NULL;
    st->type = type;
    return px__ftest_wrap(&st->head, neg);
}

px_predicate *px__saw_ethertype(uint16_t type) { return ethertype_new(type, false); }
px_predicate *px_did_not_see_ethertype(uint16_t type) { return ethertype_new(type, true); }

/* ---- MAC addresses ---- */

typedef struct {
    px__ftest head;
    bool dst;
    uint8_t mac[6], mask[6];
} mac_st;

static const char *const mac_paths[2] = {"eth.src", "eth.dst"};

static unsigned mac_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const mac_st *st = (const mac_st *)self;
    uint8_t m[6];
    if (!(st->dst ? px_frame_eth_dst(f, m) : px_frame_eth_src(f, m)))
        return px__why_no_layer(why, "Ethernet header", 1);
    for (int i = 0; i < 6; i++) {
        if ((m[i] & st->mask[i]) != (st->mac[i] & st->mask[i])) {
            if (why) {
                px__why_sep(why);
                px_buf_printf(why, "%s: expected ", mac_paths[st->dst]);
                mac_format(st->mac, why);
                static const uint8_t ones[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
                if (memcmp(st->mask, ones, 6) != 0) {
                    px_buf_append(why, " mask ");
                    mac_format(st->mask, why);
                }
                px_buf_append(why, ", got ");
                mac_format(m, why);
            }
            return 1;
        }
    }
    return 0;
}

static void mac_args(const px__ftest *self, px_buf *out)
{
    const mac_st *st = (const mac_st *)self;
    static const uint8_t ones[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    mac_format(st->mac, out);
    if (memcmp(st->mask, ones, 6) != 0) {
        px_buf_append(out, ", mask=");
        mac_format(st->mask, out);
    }
}

/* Exact for the destination MAC without a mask: px_frame_eth_dst() equal to it.
 * A mask (e.g. "any multicast") matches many values: no key. */
static bool mac_key(const px__ftest *self, px_key *out)
{
    const mac_st *st = (const mac_st *)self;
    uint64_t v = 0;
    for (int i = 0; i < 6; i++) {
        if (st->mask[i] != 0xff)
            return false;
        v = v << 8 | st->mac[i];
    }
    return st->dst && px__key_set(out, PX_KEY_DST_MAC, v);
}

static const px__ftest_vt mac_vt = {mac_test, mac_args, NULL, mac_key};

static px_predicate *mac_new(bool dst, const uint8_t mac[6], const uint8_t mask[6], bool neg)
{
    static const char *const names[2][2] = {{"saw_src_mac", "did_not_see_src_mac"},
                                            {"saw_dst_mac", "did_not_see_dst_mac"}};
    refusal r;
    if (!mac)
        return px__pred_refused(names[dst][neg], "no MAC address given (NULL)");
    if (!arg_fits(&r, "mac", mac_paths[dst], -1))
        return px__pred_refused(names[dst][neg], "%s", r.msg);
    mac_st *st = px__ftest_alloc(sizeof *st, &mac_vt, names[dst][neg]);
    if (!st)
        return NULL;
    st->dst = dst;
    memcpy(st->mac, mac, 6);
    if (mask)
        memcpy(st->mask, mask, 6);
    else
        memset(st->mask, 0xff, 6);
    return px__ftest_wrap(&st->head, neg);
}

px_predicate *px_saw_src_mac_masked(const uint8_t mac[6], const uint8_t mask[6]) { return mac_new(false, mac, mask, false); }
px_predicate *px_saw_dst_mac_masked(const uint8_t mac[6], const uint8_t mask[6]) { return mac_new(true, mac, mask, false); }
px_predicate *px_did_not_see_src_mac_masked(const uint8_t mac[6], const uint8_t mask[6]) { return mac_new(false, mac, mask, true); }
px_predicate *px_did_not_see_dst_mac_masked(const uint8_t mac[6], const uint8_t mask[6]) { return mac_new(true, mac, mask, true); }

/* ---- VLAN ---- */

typedef struct {
    px__ftest head;
    px_vlan_spec s;
} vlan_st;

/* vid, pcp, dei. The TPID is no field of a tag in the table: it is the type field
 * of the header before (eth.type, or vlan.type of the outer tag). */
static const char *const vlan_paths[] = {"vlan.vid", "vlan.pcp", "vlan.dei"};

static unsigned vlan_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const px_vlan_spec *s = &((const vlan_st *)self)->s;
    if (s->untagged) {
        if (!find_outer_nth(f, PX_LAYER_VLAN, 0))
            return 0;
        px_vlan_tag t;
        if (why && px_frame_vlan(f, 0, &t)) {
            px__why_sep(why);
            px_buf_printf(why, "vlan: expected untagged, got vid %u", t.vid);
        }
        return 1;
    }
    const px_layer *l = find_outer_nth(f, PX_LAYER_VLAN, s->depth);
    px_vlan_tag t;
    if (!l || !px_layer_vlan(f, l, &t, NULL))
        return px__why_no_layer(why, s->depth == 0 ? "VLAN tag" : "VLAN tag at this depth", 4);
    unsigned m = 0;
    m += miss_int(why, vlan_paths[0], s->vid, t.vid, false);
    m += miss_int(why, vlan_paths[1], s->pcp, t.pcp, false);
    m += miss_int(why, vlan_paths[2], s->dei, t.dei, false);
    m += miss_int(why, "vlan.tpid", s->tpid, t.tpid, true);
    return m;
}

static void vlan_args(const px__ftest *self, px_buf *out)
{
    const px_vlan_spec *s = &((const vlan_st *)self)->s;
    bool first = true;
    if (s->untagged) {
        px_buf_append(out, "untagged=true");
        return;
    }
    if (s->vid >= 0) {
        px_buf_printf(out, "%d", s->vid);
        first = false;
    }
    arg_int(out, &first, "pcp", s->pcp, false);
    arg_int(out, &first, "dei", s->dei, false);
    arg_int(out, &first, "tpid", s->tpid, true);
    if (s->depth)
        arg_int(out, &first, "depth", s->depth, false);
}

/* Exact for a VID of the outermost tag: find_outer_nth(VLAN, 0) is the tag
 * px_frame_vlan(f, 0) reads. Untagged, an inner depth or any VID: no key. */
static bool vlan_key(const px__ftest *self, px_key *out)
{
    const px_vlan_spec *s = &((const vlan_st *)self)->s;
    if (s->untagged || s->depth != 0 || s->vid < 0)
        return false;
    return px__key_set(out, PX_KEY_VLAN_VID, (uint64_t)s->vid);
}

static const px__ftest_vt vlan_vt = {vlan_test, vlan_args, NULL, vlan_key};

static px_predicate *vlan_new(const px_vlan_spec *s, bool neg)
{
    const char *name = neg ? "did_not_see_vlan_tag" : "saw_vlan_tag";
    refusal r;
    if (!s)
        return px__pred_refused(name, "no spec given (NULL)");
    if (!arg_fits(&r, "vid", vlan_paths[0], s->vid) || !arg_fits(&r, "pcp", vlan_paths[1], s->pcp) ||
        !arg_fits(&r, "dei", vlan_paths[2], s->dei) || !arg_range(&r, "tpid", s->tpid < 0 ? 0 : s->tpid, 0, 0xffff) ||
        !arg_range(&r, "depth", s->depth, 0, PX_FRAME_MAX_LAYERS - 1))
        return px__pred_refused(name, "%s", r.msg);
    vlan_st *st = px__ftest_alloc(sizeof *st, &vlan_vt, name);
    if (!st)
        return NULL;
    st->s = *s;
    return px__ftest_wrap(&st->head, neg);
}

px_predicate *px_saw_vlan(const px_vlan_spec *spec) { return vlan_new(spec, false); }
px_predicate *px_did_not_see_vlan(const px_vlan_spec *spec) { return vlan_new(spec, true); }

/* ---- IPv4 / IPv6 ---- */

/* An IPv4 prefix as a mask and the masked address, in host order: "any" (family
 * 0) and /0 are mask 0, which every address matches. */
typedef struct {
    uint32_t mask, value;
} ip4_prefix;

typedef struct {
    px__ftest head;
    int version;
    px_ip_spec s;
    ip4_prefix src4, dst4; /* version 4: s.src and s.dst, for ip4_misses */
    bool ints;             /* one of proto, ttl, dscp, ecn is not "any" */
} ip_st;

static inline bool prefix_match(const px_ip_prefix *p, const uint8_t *addr)
{
    unsigned bytes = p->len / 8u, bits = p->len % 8u;
    /* A loop, not memcmp: at most 16 bytes, on every frame (a call costs more). */
    for (unsigned i = 0; i < bytes; i++)
        if (p->addr[i] != addr[i])
            return false;
    if (bits) {
        uint8_t mask = (uint8_t)(0xffu << (8u - bits));
        if ((p->addr[bytes] & mask) != (addr[bytes] & mask))
            return false;
    }
    return true;
}

static unsigned why_prefix(px_buf *why, const char *field, const px_ip_prefix *p, const uint8_t *addr);
static inline unsigned miss_prefix(px_buf *why, const char *field, const px_ip_prefix *p, const uint8_t *addr)
{
    if (p->family == 0 || prefix_match(p, addr))
        return 0;
    return why ? why_prefix(why, field, p, addr) : 1;
}

static unsigned why_prefix(px_buf *why, const char *field, const px_ip_prefix *p, const uint8_t *addr)
{
    if (why) {
        px_ip_prefix got = {p->family, (uint8_t)(p->family == 6 ? 128 : 32), {0}};
        memcpy(got.addr, addr, p->family == 6 ? 16 : 4);
        px__why_sep(why);
        px_buf_printf(why, "%s: expected ", field);
        px__prefix_format(p, why);
        px_buf_append(why, ", got ");
        px__prefix_format(&got, why);
    }
    return 1;
}

/* The protocol after the IPv6 extension headers that follow layer l. */
static uint8_t ipv6_final_proto(const px_frame *f, const px_layer *l, uint8_t nh)
{
    for (const px_layer *x = l + 1; x < f->layers + f->nlayers && x->kind == PX_LAYER_IPV6_EXT; x++) {
        px_ipv6_ext_hdr e;
        if (!px_layer_ipv6_ext(f, x, &e))
            break;
        nh = e.next_header;
    }
    return nh;
}

/* src, dst, proto, ttl, dscp, ecn of px_ip_spec, as the field table names them. */
static const char *const ip_paths[2][6] = {
    {"ipv4.src", "ipv4.dst", "ipv4.proto", "ipv4.ttl", "ipv4.dscp", "ipv4.ecn"},
    {"ipv6.src", "ipv6.dst", "ipv6.nh", "ipv6.hlim", "ipv6.dscp", "ipv6.ecn"},
};

/* The misses of an IP header's fields (the count ftest ranks frames by), each
 * explained in `why` when it is not NULL. */
static unsigned ip_misses(const ip_st *st, px_buf *why, const uint8_t *src, const uint8_t *dst, int proto, int ttl,
                          int dscp, int ecn)
{
    const px_ip_spec *s = &st->s;
    /* Constant names: the text is built only on a miss with `why`. */
    const char *const *n = ip_paths[st->version == 6];
    unsigned m = 0;
    m += miss_prefix(why, n[0], &s->src, src);
    m += miss_prefix(why, n[1], &s->dst, dst);
    m += miss_int(why, n[2], s->proto, proto, false);
    m += miss_int(why, n[3], s->ttl, ttl, false);
    m += miss_int(why, n[4], s->dscp, dscp, false);
    m += miss_int(why, n[5], s->ecn, ecn, false);
    return m;
}

static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ip_misses of IPv4 header h without explanations, the same count, with the
 * prefixes as masks (ip4_prefix): one AND and one compare each instead of a
 * byte loop. Every frame offered to an IPv4 test comes here. */
static inline unsigned ip4_misses(const ip_st *st, const uint8_t *h)
{
    const px_ip_spec *s = &st->s;
    unsigned m = (rd32(h + 12) & st->src4.mask) != st->src4.value;
    m += (rd32(h + 16) & st->dst4.mask) != st->dst4.value;
    if (!st->ints) /* most specs: addresses only */
        return m;
    m += miss_int(NULL, NULL, s->proto, h[9], false);
    m += miss_int(NULL, NULL, s->ttl, h[8], false);
    m += miss_int(NULL, NULL, s->dscp, h[1] >> 2, false);
    m += miss_int(NULL, NULL, s->ecn, h[1] & 3, false);
    return m;
}

/* ip4_test with explanations (a few frames per window). */
static __attribute__((cold, noinline)) unsigned ip4_explain(const ip_st *st, const px_frame *f, px_buf *why)
{
    const px_layer *l = find_at(f, PX_LAYER_IPV4, st->s.encap);
    if (!l)
        return px__why_no_layer(why, "IPv4 header", 6);
    const uint8_t *h = f->data + l->off;
    return ip_misses(st, why, h + 12, h + 16, h[9], h[8], h[1] >> 2, h[1] & 3);
}

/* The header's bytes in place: the dissector recorded an IPv4 layer only with
 * its 20 fixed bytes captured. Without `why` (every frame offered), a function
 * that calls nothing. */
static unsigned ip4_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const ip_st *st = (const ip_st *)self;
    if (why)
        return ip4_explain(st, f, why);
    const px_layer *l = find_at(f, PX_LAYER_IPV4, st->s.encap);
    if (!l)
        return 6 + 1; /* px__why_no_layer: every condition + 1 */
    return ip4_misses(st, f->data + l->off);
}

static unsigned ip6_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const ip_st *st = (const ip_st *)self;
    const px_layer *l = find_at(f, PX_LAYER_IPV6, st->s.encap);
    px_ipv6_hdr h;
    if (!l || !px_layer_ipv6(f, l, &h))
        return px__why_no_layer(why, "IPv6 header", 6);
    return ip_misses(st, why, h.src, h.dst, ipv6_final_proto(f, l, h.next_header), h.hop_limit, h.dscp, h.ecn);
}

static void ip_args(const px__ftest *self, px_buf *out)
{
    const px_ip_spec *s = &((const ip_st *)self)->s;
    bool first = true;
    if (s->src.family) {
        px_buf_append(out, "src=");
        px__prefix_format(&s->src, out);
        first = false;
    }
    if (s->dst.family) {
        px_buf_append(out, first ? "dst=" : ", dst=");
        px__prefix_format(&s->dst, out);
        first = false;
    }
    arg_int(out, &first, "proto", s->proto, false);
    arg_int(out, &first, "ttl", s->ttl, false);
    arg_int(out, &first, "dscp", s->dscp, false);
    arg_int(out, &first, "ecn", s->ecn, false);
    if (s->encap)
        arg_int(out, &first, "encap", s->encap, false);
}

/* Outer frame only (encap 0): its IP header is the first IP layer, the one
 * px_frame_ip_proto() reads (protocol, or IPv6 next header after the extension
 * headers, as ip_test). A pinned protocol gives PX_KEY_IP_PROTO; otherwise the
 * ethertype that led the dissector to that header (0x0800 / 0x86dd after the
 * outer VLAN tags, what px_frame_ethertype() reads). */
static bool ip_key(const px__ftest *self, px_key *out)
{
    const ip_st *st = (const ip_st *)self;
    if (st->s.encap != 0)
        return false;
    if (st->s.proto >= 0)
        return px__key_set(out, PX_KEY_IP_PROTO, (uint64_t)st->s.proto);
    return px__key_set(out, PX_KEY_ETHERTYPE, st->version == 6 ? 0x86dd : 0x0800);
}

static const px__ftest_vt ip4_vt = {ip4_test, ip_args, NULL, ip_key};
static const px__ftest_vt ip6_vt = {ip6_test, ip_args, NULL, ip_key};

static ip4_prefix ip4_prefix_of(const px_ip_prefix *p)
{
    if (p->family == 0 || p->len == 0)
        return (ip4_prefix){0, 0};
    uint32_t mask = 0xffffffffu << (32u - p->len);
    return (ip4_prefix){mask, rd32(p->addr) & mask};
}

static bool prefix_ok(refusal *r, const char *arg, const px_ip_prefix *p, int version)
{
    if (p->family == 0)
        return true;
    if (p->family != version) {
        snprintf(r->msg, sizeof r->msg, "%s: an IPv%d prefix needs family %d or 0 (any), got %u", arg, version, version,
                 (unsigned)p->family);
        return false;
    }
    return arg_range(r, arg, p->len, 0, version == 6 ? 128 : 32);
}

static px_predicate *ip_new(int version, const px_ip_spec *s, bool neg)
{
    static const char *const names[2][2] = {{"saw_ipv4", "did_not_see_ipv4"}, {"saw_ipv6", "did_not_see_ipv6"}};
    const char *const *n = ip_paths[version == 6];
    refusal r;
    if (!s)
        return px__pred_refused(names[version == 6][neg], "no spec given (NULL)");
    if (!prefix_ok(&r, "src length", &s->src, version) || !prefix_ok(&r, "dst length", &s->dst, version) ||
        !arg_fits(&r, "src", n[0], -1) || !arg_fits(&r, "dst", n[1], -1) || !arg_fits(&r, "proto", n[2], s->proto) ||
        !arg_fits(&r, "ttl", n[3], s->ttl) || !arg_fits(&r, "dscp", n[4], s->dscp) ||
        !arg_fits(&r, "ecn", n[5], s->ecn) || !arg_range(&r, "encap", s->encap, 0, 7))
        return px__pred_refused(names[version == 6][neg], "%s", r.msg);
    ip_st *st = px__ftest_alloc(sizeof *st, version == 6 ? &ip6_vt : &ip4_vt, names[version == 6][neg]);
    if (!st)
        return NULL;
    st->version = version;
    st->s = *s;
    st->ints = s->proto >= 0 || s->ttl >= 0 || s->dscp >= 0 || s->ecn >= 0;
    if (version == 4) {
        st->src4 = ip4_prefix_of(&s->src);
        st->dst4 = ip4_prefix_of(&s->dst);
    }
    return px__ftest_wrap(&st->head, neg);
}

px_predicate *px_saw_ipv4(const px_ip_spec *spec) { return ip_new(4, spec, false); }
px_predicate *px_did_not_see_ipv4(const px_ip_spec *spec) { return ip_new(4, spec, true); }
px_predicate *px_saw_ipv6(const px_ip_spec *spec) { return ip_new(6, spec, false); }
px_predicate *px_did_not_see_ipv6(const px_ip_spec *spec) { return ip_new(6, spec, true); }

/* ---- TCP / UDP ---- */

typedef struct {
    px__ftest head;
    bool tcp;
    px_l4_spec s;
} l4_st;

/* sport, dport, flags of px_l4_spec: UDP, TCP. */
static const char *const l4_paths[2][3] = {{"udp.sport", "udp.dport", NULL}, {"tcp.sport", "tcp.dport", "tcp.flags"}};

/* The TCP / UDP layer a test reads, or NULL. The ports and flags are read in
 * place, as px_layer_tcp / px_layer_udp read them: the dissector recorded the
 * layer only with its fixed header (TCP 20 bytes, UDP 8) captured. */
static inline const uint8_t *l4_header(const l4_st *st, const px_frame *f)
{
    const px_layer *l = find_at(f, st->tcp ? PX_LAYER_TCP : PX_LAYER_UDP, st->s.encap);
    return l ? f->data + l->off : NULL;
}

/* l4_test with explanations (a few frames per window). */
static __attribute__((cold, noinline)) unsigned l4_explain(const l4_st *st, const px_frame *f, px_buf *why)
{
    const px_l4_spec *s = &st->s;
    const uint8_t *h = l4_header(st, f);
    if (!h)
        return st->tcp ? px__why_no_layer(why, "TCP header", 3) : px__why_no_layer(why, "UDP header", 2);
    const char *const *n = l4_paths[st->tcp];
    unsigned m = 0;
    m += miss_int(why, n[0], s->sport, h[0] << 8 | h[1], false);
    m += miss_int(why, n[1], s->dport, h[2] << 8 | h[3], false);
    if (st->tcp && s->flags >= 0) {
        int mask = s->flags_mask < 0 ? 0xff : s->flags_mask;
        m += miss_int(why, n[2], s->flags & mask, h[13] & mask, true);
    }
    return m;
}

/* Without `why` (every frame offered), the same count as l4_explain, in a
 * function that calls nothing. */
static unsigned l4_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const l4_st *st = (const l4_st *)self;
    const px_l4_spec *s = &st->s;
    if (why)
        return l4_explain(st, f, why);
    const uint8_t *h = l4_header(st, f);
    if (!h)
        return st->tcp ? 3 + 1 : 2 + 1; /* px__why_no_layer: every condition + 1 */
    unsigned m = miss_int(NULL, NULL, s->sport, h[0] << 8 | h[1], false);
    m += miss_int(NULL, NULL, s->dport, h[2] << 8 | h[3], false);
    if (st->tcp && s->flags >= 0) {
        int mask = s->flags_mask < 0 ? 0xff : s->flags_mask;
        m += miss_int(NULL, NULL, s->flags & mask, h[13] & mask, true);
    }
    return m;
}

/* TCP flags as the letters tcpdump prints (F S R P A U E C), which parse back. */
static void tcp_flags_arg(px_buf *out, bool *first, const char *name, int flags)
{
    static const char letters[] = "FSRPAUEC";
    if (flags < 0)
        return;
    px_buf_printf(out, "%s%s=\"", *first ? "" : ", ", name);
    for (int b = 0; b < 8; b++)
        if (flags & (1 << b))
            px_buf_append_n(out, &letters[b], 1);
    px_buf_append(out, "\"");
    *first = false;
}

static void l4_args(const px__ftest *self, px_buf *out)
{
    const l4_st *st = (const l4_st *)self;
    bool first = true;
    arg_int(out, &first, "sport", st->s.sport, false);
    arg_int(out, &first, "dport", st->s.dport, false);
    if (st->tcp) {
        tcp_flags_arg(out, &first, "flags", st->s.flags);
        if (st->s.flags >= 0)
            tcp_flags_arg(out, &first, "flags_mask", st->s.flags_mask);
    }
    if (st->s.encap)
        arg_int(out, &first, "encap", st->s.encap, false);
}

/* Outer frame only (encap 0): its TCP / UDP header is the first one of the
 * frame, the one px_layer_tcp/udp(f, NULL) read. A pinned destination port gives
 * PX_KEY_TCP/UDP_DPORT; otherwise PX_KEY_IP_PROTO 6 / 17: an outer TCP or UDP
 * layer exists only after the outer IP header (IPv4, or IPv6 after its extension
 * headers) announced that protocol. */
static bool l4_key(const px__ftest *self, px_key *out)
{
    const l4_st *st = (const l4_st *)self;
    if (st->s.encap != 0)
        return false;
    if (st->s.dport >= 0)
        return px__key_set(out, st->tcp ? PX_KEY_TCP_DPORT : PX_KEY_UDP_DPORT, (uint64_t)st->s.dport);
    return px__key_set(out, PX_KEY_IP_PROTO, st->tcp ? 6 : 17);
}

static const px__ftest_vt l4_vt = {l4_test, l4_args, NULL, l4_key};

static px_predicate *l4_new(bool tcp, const px_l4_spec *s, bool neg)
{
    static const char *const names[2][2] = {{"saw_udp", "did_not_see_udp"}, {"saw_tcp", "did_not_see_tcp"}};
    const char *const *n = l4_paths[tcp];
    refusal r;
    if (!s)
        return px__pred_refused(names[tcp][neg], "no spec given (NULL)");
    if (!tcp && (s->flags >= 0 || s->flags_mask >= 0))
        return px__pred_refused(names[tcp][neg], "flags and flags_mask are for TCP only (-1 for UDP), got %d and %d",
                                s->flags, s->flags_mask);
    if (!arg_fits(&r, "sport", n[0], s->sport) || !arg_fits(&r, "dport", n[1], s->dport) ||
        !arg_range(&r, "encap", s->encap, 0, 7) ||
        (tcp && (!arg_fits(&r, "flags", n[2], s->flags) || !arg_fits(&r, "flags_mask", n[2], s->flags_mask))))
        return px__pred_refused(names[tcp][neg], "%s", r.msg);
    l4_st *st = px__ftest_alloc(sizeof *st, &l4_vt, names[tcp][neg]);
    if (!st)
        return NULL;
    st->tcp = tcp;
    st->s = *s;
    return px__ftest_wrap(&st->head, neg);
}

px_predicate *px_saw_tcp(const px_l4_spec *spec) { return l4_new(true, spec, false); }
px_predicate *px_did_not_see_tcp(const px_l4_spec *spec) { return l4_new(true, spec, true); }
px_predicate *px_saw_udp(const px_l4_spec *spec) { return l4_new(false, spec, false); }
px_predicate *px_did_not_see_udp(const px_l4_spec *spec) { return l4_new(false, spec, true); }

/* ---- ICMP / ICMPv6 ---- */

typedef struct {
    px__ftest head;
    bool v6;
    int type, code;
} icmp_st;

/* type, code: ICMP, ICMPv6. */
static const char *const icmp_paths[2][2] = {{"icmp.type", "icmp.code"}, {"icmpv6.type", "icmpv6.code"}};

static unsigned icmp_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const icmp_st *st = (const icmp_st *)self;
    const px_layer *l = px_frame_find(f, st->v6 ? PX_LAYER_ICMPV6 : PX_LAYER_ICMP);
    px_icmp_hdr h;
    if (!l || !px_layer_icmp(f, l, &h))
        return px__why_no_layer(why, st->v6 ? "ICMPv6 header" : "ICMP header", 2);
    unsigned m = miss_int(why, icmp_paths[st->v6][0], st->type, h.type, false);
    return m + miss_int(why, icmp_paths[st->v6][1], st->code, h.code, false);
}

static void icmp_args(const px__ftest *self, px_buf *out)
{
    const icmp_st *st = (const icmp_st *)self;
    bool first = true;
    arg_int(out, &first, "type", st->type, false);
    arg_int(out, &first, "code", st->code, false);
}

/* No key: the first ICMP layer may be inside a tunnel (outer protocol 17, 47, ...). */
static const px__ftest_vt icmp_vt = {icmp_test, icmp_args, NULL, NULL};

static px_predicate *icmp_new(bool v6, int type, int code, bool neg)
{
    static const char *const names[2][2] = {{"saw_icmp", "did_not_see_icmp"}, {"saw_icmpv6", "did_not_see_icmpv6"}};
    refusal r;
    if (!arg_fits(&r, "type", icmp_paths[v6][0], type) || !arg_fits(&r, "code", icmp_paths[v6][1], code))
        return px__pred_refused(names[v6][neg], "%s", r.msg);
    icmp_st *st = px__ftest_alloc(sizeof *st, &icmp_vt, names[v6][neg]);
    if (!st)
        return NULL;
    st->v6 = v6;
    st->type = type < 0 ? -1 : type;
    st->code = code < 0 ? -1 : code;
    return px__ftest_wrap(&st->head, neg);
}

px_predicate *px_saw_icmp(int type, int code) { return icmp_new(false, type, code, false); }
px_predicate *px_did_not_see_icmp(int type, int code) { return icmp_new(false, type, code, true); }
px_predicate *px_saw_icmpv6(int type, int code) { return icmp_new(true, type, code, false); }
px_predicate *px_did_not_see_icmpv6(int type, int code) { return icmp_new(true, type, code, true); }

/* ---- MPLS ---- */

typedef struct {
    px__ftest head;
    px_mpls_spec s;
} mpls_st;

static const char *const mpls_paths[] = {"mpls.label", "mpls.tc", "mpls.s", "mpls.ttl"};

static unsigned mpls_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const px_mpls_spec *s = &((const mpls_st *)self)->s;
    const px_layer *l = find_outer_nth(f, PX_LAYER_MPLS, s->depth);
    px_mpls_hdr h;
    if (!l || !px_layer_mpls(f, l, &h))
        return px__why_no_layer(why, s->depth == 0 ? "MPLS label" : "MPLS label at this depth", 4);
    unsigned m = 0;
    m += miss_int(why, mpls_paths[0], s->label, h.label, false);
    m += miss_int(why, mpls_paths[1], s->tc, h.tc, false);
    m += miss_int(why, mpls_paths[2], s->s, h.s, false);
    m += miss_int(why, mpls_paths[3], s->ttl, h.ttl, false);
    return m;
}

static void mpls_args(const px__ftest *self, px_buf *out)
{
    const px_mpls_spec *s = &((const mpls_st *)self)->s;
    bool first = true;
    arg_int(out, &first, "label", s->label, false);
    arg_int(out, &first, "tc", s->tc, false);
    arg_int(out, &first, "s", s->s, false);
    arg_int(out, &first, "ttl", s->ttl, false);
    if (s->depth)
        arg_int(out, &first, "depth", s->depth, false);
}

/* No key: none of the px_key kinds reads MPLS (ethertype 0x8847 and 0x8848 both carry it). */
static const px__ftest_vt mpls_vt = {mpls_test, mpls_args, NULL, NULL};

static px_predicate *mpls_new(const px_mpls_spec *s, bool neg)
{
    const char *name = neg ? "did_not_see_mpls" : "saw_mpls";
    refusal r;
    if (!s)
        return px__pred_refused(name, "no spec given (NULL)");
    if (!arg_fits(&r, "label", mpls_paths[0], s->label) || !arg_fits(&r, "tc", mpls_paths[1], s->tc) ||
        !arg_fits(&r, "s", mpls_paths[2], s->s) || !arg_fits(&r, "ttl", mpls_paths[3], s->ttl) ||
        !arg_range(&r, "depth", s->depth, 0, PX_FRAME_MAX_LAYERS - 1))
        return px__pred_refused(name, "%s", r.msg);
    mpls_st *st = px__ftest_alloc(sizeof *st, &mpls_vt, name);
    if (!st)
        return NULL;
    st->s = *s;
    return px__ftest_wrap(&st->head, neg);
}

px_predicate *px_saw_mpls(const px_mpls_spec *spec) { return mpls_new(spec, false); }
px_predicate *px_did_not_see_mpls(const px_mpls_spec *spec) { return mpls_new(spec, true); }

/* ---- VXLAN ---- */

typedef struct {
    px__ftest head;
    int64_t vni;
} vxlan_st;

#define VXLAN_VNI "vxlan.vni"

static unsigned vxlan_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const vxlan_st *st = (const vxlan_st *)self;
    const px_layer *l = px_frame_find(f, PX_LAYER_VXLAN);
    px_vxlan_hdr h;
    if (!l || !px_layer_vxlan(f, l, &h))
        return px__why_no_layer(why, "VXLAN header", 1);
    return miss_int(why, VXLAN_VNI, st->vni, h.vni, false);
}

static void vxlan_args(const px__ftest *self, px_buf *out)
{
    bool first = true;
    arg_int(out, &first, "vni", ((const vxlan_st *)self)->vni, false);
}

/* No key: VXLAN may sit in an inner UDP layer (VXLAN in GRE), not the one UDP_DPORT reads. */
static const px__ftest_vt vxlan_vt = {vxlan_test, vxlan_args, NULL, NULL};

static px_predicate *vxlan_new(int64_t vni, bool neg)
{
    refusal r;
    if (!arg_fits(&r, "vni", VXLAN_VNI, vni))
        return px__pred_refused(neg ? "did_not_see_vxlan" : "saw_vxlan", "%s", r.msg);
    vxlan_st *st = px__ftest_alloc(sizeof *st, &vxlan_vt, neg ? "did_not_see_vxlan" : "saw_vxlan");
    if (!st)
        return NULL;
    st->vni = vni < 0 ? -1 : vni;
    return px__ftest_wrap(&st->head, neg);
}

px_predicate *px_saw_vxlan(int64_t vni) { return vxlan_new(vni, false); }
px_predicate *px_did_not_see_vxlan(int64_t vni) { return vxlan_new(vni, true); }
