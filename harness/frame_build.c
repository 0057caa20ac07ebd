/* pktexpect: the frame builder (include/pktexpect/build.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "frame_proto.h"
#include "hex.h"
#include "pktexpect/build.h"
#include "pktexpect/error.h"
#include "pktexpect/text.h"

typedef struct pkt_layer {
    px__pid pid;
    uint32_t set;               /* bit i: field i was set explicitly */
    uint8_t hlen;               /* header length (builder layout for GRE) */
    uint8_t hdr[PX__HDR_MAX];
    uint8_t *data;              /* Raw / Pad bytes (owned) */
    size_t dlen;
} pkt_layer;

struct px_pkt {
    pkt_layer *layers;
    size_t n, cap;
    size_t min_len;
};

static int fail(char *errbuf, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *errbuf, int rc, const char *fmt, ...)
{
    if (errbuf) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, PX_ERRBUF_SIZE, fmt, ap);
        va_end(ap);
    }
    return rc;
}

px_pkt *px_pkt_new(void) { return calloc(1, sizeof(px_pkt)); }

void px_pkt_free(px_pkt *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->layers[i].data);
    free(p->layers);
    free(p);
}

static pkt_layer *append(px_pkt *p, px__pid pid)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        pkt_layer *l = realloc(p->layers, cap * sizeof *l);
        if (!l)
            return NULL;
        p->layers = l;
        p->cap = cap;
    }
    pkt_layer *l = &p->layers[p->n++];
    memset(l, 0, sizeof *l);
    l->pid = pid;
    const px__proto *pr = px__proto_get(pid);
    l->hlen = pr->hlen;
    if (pr->defaults)
        memcpy(l->hdr, pr->defaults, pr->hlen);
    return l;
}

static void list_names(char *out, size_t outsz, const px__proto *pr)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < pr->nfields && n < outsz; i++)
        n += (size_t)snprintf(out + n, outsz - n, "%s%s", i ? ", " : "", pr->fields[i].name);
}

int px_pkt_push(px_pkt *p, const char *layer, char errbuf[])
{
    px__pid pid = px__proto_by_name(layer, strlen(layer));
    if (pid == PX__P_COUNT) {
        char names[256];
        size_t n = 0;
        names[0] = '\0';
        for (int i = 0; i < PX__P_COUNT && n < sizeof names; i++)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", px__proto_get((px__pid)i)->name);
        return fail(errbuf, PX_EINVAL, "unknown layer '%s'; layers are %s", layer, names);
    }
    if (pid == PX__P_RAW || pid == PX__P_PAD)
        return fail(errbuf, PX_EINVAL, "%s takes bytes: use px_pkt_push_raw / px_pkt_push_pad", layer);
    return append(p, pid) ? 0 : fail(errbuf, PX_ENOMEM, "out of memory");
}

static int push_bytes(px_pkt *p, px__pid pid, const void *bytes, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return PX_ENOMEM;
    if (bytes)
        memcpy(copy, bytes, n);
    else
        memset(copy, 0, n);
    pkt_layer *l = append(p, pid);
    if (!l) {
        free(copy);
        return PX_ENOMEM;
    }
    l->data = copy;
    l->dlen = n;
    return 0;
}

int px_pkt_push_raw(px_pkt *p, const void *bytes, size_t n) { return push_bytes(p, PX__P_RAW, bytes, n); }
int px_pkt_push_pad(px_pkt *p, const void *bytes, size_t n) { return push_bytes(p, PX__P_PAD, bytes, n); }
void px_pkt_set_min_len(px_pkt *p, size_t min_len) { p->min_len = min_len; }

/* The last layer and the index of `field` in it. */
static int find_field(px_pkt *p, const char *field, pkt_layer **lp, char *errbuf)
{
    if (p->n == 0)
        return fail(errbuf, PX_EINVAL, "no layer to set '%s' on", field);
    pkt_layer *l = &p->layers[p->n - 1];
    const px__proto *pr = px__proto_get(l->pid);
    int fi = px__field_index(pr, field, strlen(field));
    if (fi < 0) {
        char names[256];
        list_names(names, sizeof names, pr);
        if (pr->nfields == 0)
            return fail(errbuf, PX_EINVAL, "%s has no field '%s'", pr->name, field);
        return fail(errbuf, PX_EINVAL, "unknown field '%s' in %s; fields are %s", field, pr->name, names);
    }
    *lp = l;
    return fi;
}

int px_pkt_set_uint(px_pkt *p, const char *field, uint32_t value, char errbuf[])
{
    pkt_layer *l;
    int fi = find_field(p, field, &l, errbuf);
    if (fi < 0)
        return fi;
    const px__field *fd = &px__proto_get(l->pid)->fields[fi];
    if (fd->type != PX__F_UINT && fd->type != PX__F_HEX && fd->type != PX__F_TCPFLAGS)
        return fail(errbuf, PX_EINVAL, "field '%s' is not a number", fd->name);
    if (value > px__field_max(fd))
        return fail(errbuf, PX_ERANGE, "%s=%u out of range 0..%u", fd->name, value, px__field_max(fd));
    px__field_put_uint(fd, l->hdr, fd->off, value);
    l->set |= 1u << fi;
    return 0;
}

int px_pkt_set_bytes(px_pkt *p, const char *field, const uint8_t *bytes, size_t n, char errbuf[])
{
    pkt_layer *l;
    int fi = find_field(p, field, &l, errbuf);
    if (fi < 0)
        return fi;
    const px__proto *pr = px__proto_get(l->pid);
    const px__field *fd = &pr->fields[fi];
    if (fd->type == PX__F_BYTES) {
        size_t padded = (fd->off + n + pr->align - 1) / pr->align * pr->align;
        if (padded > PX__HDR_MAX || (pr->kind == PX_LAYER_IPV4 || pr->kind == PX_LAYER_TCP ? padded > 60 : false))
            return fail(errbuf, PX_ERANGE, "%s: %zu bytes of %s do not fit in the header", pr->name, n, fd->name);
        memset(l->hdr + fd->off, 0, PX__HDR_MAX - fd->off); /* zero bytes pad (IPv6 Pad1, IPv4/TCP EOL) */
        memcpy(l->hdr + fd->off, bytes, n);
        l->hlen = (uint8_t)padded;
    } else if (fd->type == PX__F_MAC || fd->type == PX__F_IPV4 || fd->type == PX__F_IPV6) {
        if (n != fd->nbytes)
            return fail(errbuf, PX_EINVAL, "field '%s' takes %u bytes, not %zu", fd->name, fd->nbytes, n);
        memcpy(l->hdr + fd->off, bytes, n);
    } else {
        return fail(errbuf, PX_EINVAL, "field '%s' is a number", fd->name);
    }
    l->set |= 1u << fi;
    return 0;
}

/* Hex bytes "0a0b0c", "0x0a0b", "0a:0b 0c": the one hex parser, hex.h. */
int px__parse_hex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    return px__hex_decode(s, strlen(s), out, cap, n, NULL);
}

static int parse_uint(const char *s, uint64_t *v)
{
    if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ')
        return PX_EPARSE;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 0);
    if (*end != '\0')
        return PX_EPARSE;
    if (errno == ERANGE || x > 0xffffffffull)
        return PX_ERANGE;
    *v = x;
    return 0;
}

static int parse_tcpflags(const char *s, uint64_t *v)
{
    if (parse_uint(s, v) == 0)
        return 0;
    static const char letters[] = "FSRPAUEC";
    uint64_t x = 0;
    for (; *s; s++) {
        const char *c = strchr(letters, *s);
        if (!c || *s == '\0')
            return PX_EPARSE;
        x |= 1u << (c - letters);
    }
    *v = x;
    return 0;
}

int px_pkt_set(px_pkt *p, const char *field, const char *value, char errbuf[])
{
    pkt_layer *l;
    int fi = find_field(p, field, &l, errbuf);
    if (fi < 0)
        return fi;
    const px__proto *pr = px__proto_get(l->pid);
    const px__field *fd = &pr->fields[fi];
    uint8_t b[PX__HDR_MAX];
    size_t n;
    uint64_t v;
    int rc;
    switch ((px__ftype)fd->type) {
    case PX__F_UINT:
    case PX__F_HEX:
    case PX__F_TCPFLAGS:
        rc = fd->type == PX__F_TCPFLAGS ? parse_tcpflags(value, &v) : parse_uint(value, &v);
        if (rc == PX_EPARSE)
            return fail(errbuf, rc, "%s=%s: expected a number%s", fd->name, value,
                        fd->type == PX__F_TCPFLAGS ? " or flag letters from FSRPAUEC" : "");
        if (rc == 0 && v > px__field_max(fd))
            rc = PX_ERANGE;
        if (rc == PX_ERANGE)
            return fail(errbuf, rc, "%s=%s out of range 0..%u", fd->name, value, px__field_max(fd));
        return px_pkt_set_uint(p, field, (uint32_t)v, errbuf);
    case PX__F_MAC:
        if (px_parse_mac(value, b, NULL) != 0)
            return fail(errbuf, PX_EPARSE, "%s=%s: expected a MAC address like 02:00:00:00:00:01", fd->name, value);
        return px_pkt_set_bytes(p, field, b, 6, errbuf);
    case PX__F_IPV4:
        rc = px_parse_ipv4(value, b, NULL);
        if (rc != 0)
            return fail(errbuf, rc, "%s=%s: expected an IPv4 address like 10.0.0.1", fd->name, value);
        return px_pkt_set_bytes(p, field, b, 4, errbuf);
    case PX__F_IPV6:
        if (px_parse_ipv6(value, b, NULL) != 0)
            return fail(errbuf, PX_EPARSE, "%s=%s: expected an IPv6 address like 2001:db8::1", fd->name, value);
        return px_pkt_set_bytes(p, field, b, 16, errbuf);
    case PX__F_BYTES:
        rc = px__parse_hex(value, b, sizeof b, &n);
        if (rc != 0)
            return fail(errbuf, rc, "%s=%s: expected hex bytes like 0x01020304", fd->name, value);
        return px_pkt_set_bytes(p, field, b, n, errbuf);
    }
    return PX_EINVAL;
}

/* ---- building ---- */

static uint8_t ipproto_of(px__pid next, bool v6)
{
    switch (next) {
    case PX__P_TCP: return 6;
    case PX__P_UDP: return 17;
    case PX__P_ICMP: return 1;
    case PX__P_ICMPV6: return 58;
    case PX__P_GRE: return 47;
    case PX__P_IPV4: return 4;
    case PX__P_IPV6: return 41;
    case PX__P_HBH: return 0;
    case PX__P_ROUTING: return 43;
    case PX__P_FRAG: return 44;
    case PX__P_DSTOPTS: return 60;
    case PX__P_MPLS: return 137;
    case PX__P_COUNT: return v6 ? 59 : 253; /* nothing follows */
    default: return 253;                     /* RFC 3692 experimental: "some payload" */
    }
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc) { return px__csum_add(acc, p, n); }

/* The value written into a checksum field. */
static uint16_t fold(uint32_t acc) { return (uint16_t)~px__csum_fold(acc); }

/* Checksum of [off, end) of `buf` plus the pseudo-header of the IP header at
 * `ip_off` (kind IPv4 or IPv6), with upper-layer protocol `proto`; dst6 non-NULL
 * replaces the IPv6 destination (the final one of a Routing header). */
static uint16_t l4_checksum(const uint8_t *buf, px__pid ip, size_t ip_off, size_t off, size_t end, uint8_t proto,
                            const uint8_t *dst6)
{
    uint32_t acc = 0;
    size_t len = end - off;
    if (ip == PX__P_IPV4)
        acc = sum16(buf + ip_off + 12, 8, 0);
    else if (ip == PX__P_IPV6)
        acc = sum16(dst6 ? dst6 : buf + ip_off + 24, 16, sum16(buf + ip_off + 8, 16, 0));
    if (ip == PX__P_IPV4 || ip == PX__P_IPV6) {
        acc += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
        acc += proto;
    }
    return fold(sum16(buf + off, len, acc));
}

/* Writes the wire header of `l` (GRE compacted) into out; returns its length. */
static size_t wire_header(const pkt_layer *l, uint8_t *out)
{
    if (l->pid != PX__P_GRE) {
        memcpy(out, l->hdr, l->hlen);
        return l->hlen;
    }
    const px__proto *pr = px__proto_get(PX__P_GRE);
    uint8_t h[16];
    memcpy(h, l->hdr, 16);
    /* Flags follow the optional fields given, unless set explicitly. */
    static const int flag_of_word[3][2] = {{0, 5}, {1, 6}, {2, 7}}; /* c<-chksum, k<-key, s<-seq */
    for (int i = 0; i < 3; i++) {
        int flag = flag_of_word[i][0], word = flag_of_word[i][1];
        if (!(l->set & (1u << flag)))
            px__field_put_uint(&pr->fields[flag], h, 0, (l->set & (1u << word)) ? 1 : 0);
    }
    size_t n = 4;
    memcpy(out, h, 4);
    if (h[0] & 0x80) {
        memcpy(out + n, h + 4, 4);
        n += 4;
    }
    if (h[0] & 0x20) {
        memcpy(out + n, h + 8, 4);
        n += 4;
    }
    if (h[0] & 0x10) {
        memcpy(out + n, h + 12, 4);
        n += 4;
    }
    return n;
}

/* Sets field `name` of layer `l` at wire offset `off` in buf unless set explicitly. */
static void autofill(const pkt_layer *l, uint8_t *buf, size_t off, size_t hlen, const char *name, uint32_t v)
{
    const px__proto *pr = px__proto_get(l->pid);
    int fi = px__field_index(pr, name, strlen(name));
    if (fi < 0 || (l->set & (1u << fi)))
        return;
    int fo = px__field_wire_off(pr, fi, buf + off, (uint32_t)hlen);
    if (fo >= 0)
        px__field_put_uint(&pr->fields[fi], buf + off, fo, v);
}

static bool is_set(const pkt_layer *l, const char *name)
{
    int fi = px__field_index(px__proto_get(l->pid), name, strlen(name));
    return fi >= 0 && (l->set & (1u << fi));
}

int px_pkt_build(const px_pkt *p, uint8_t **bytes, size_t *len, char errbuf[])
{
    if (p->n == 0)
        return fail(errbuf, PX_EINVAL, "empty frame description");
    size_t total = 0;
    for (size_t i = 0; i < p->n; i++)
        total += p->layers[i].data ? p->layers[i].dlen : (p->layers[i].pid == PX__P_GRE ? 16 : p->layers[i].hlen);
    if (total < p->min_len)
        total = p->min_len;
    uint8_t *buf = calloc(1, total ? total : 1);
    size_t *offs = malloc(p->n * 2 * sizeof *offs);
    if (!buf || !offs) {
        free(buf);
        free(offs);
        return fail(errbuf, PX_ENOMEM, "out of memory");
    }
    size_t *hlens = offs + p->n;
    size_t pos = 0, content_end = 0;
    for (size_t i = 0; i < p->n; i++) {
        const pkt_layer *l = &p->layers[i];
        offs[i] = pos;
        if (l->data) {
            memcpy(buf + pos, l->data, l->dlen);
            hlens[i] = l->dlen;
        } else {
            hlens[i] = wire_header(l, buf + pos);
        }
        pos += hlens[i];
        if (l->pid != PX__P_PAD)
            content_end = pos;
    }
    size_t flen = pos < p->min_len ? p->min_len : pos;

    /* Innermost first: a checksum covers the inner headers already final. */
    for (size_t j = p->n; j-- > 0;) {
        const pkt_layer *l = &p->layers[j];
        px__pid next = j + 1 < p->n && p->layers[j + 1].pid != PX__P_PAD ? p->layers[j + 1].pid : PX__P_COUNT;
        size_t off = offs[j], hl = hlens[j];
        uint8_t *h = buf + off;
        size_t after = off <= content_end ? content_end - off : 0; /* this header + what it carries */
        /* the nearest IP layer before this one, for pseudo-headers */
        size_t ipj = j;
        while (ipj-- > 0 && p->layers[ipj].pid != PX__P_IPV4 && p->layers[ipj].pid != PX__P_IPV6) {
        }
        px__pid ip = ipj < j ? p->layers[ipj].pid : PX__P_COUNT;
        size_t ip_off = ipj < j ? offs[ipj] : 0;
        /* RFC 8200 8.1: with segments left, the pseudo-header takes the final
         * destination from the Routing header (the first one after the IPv6 header) */
        const uint8_t *dst6 = NULL;
        for (size_t k = ipj + 1; ip == PX__P_IPV6 && k < j && !dst6; k++)
            if (p->layers[k].pid == PX__P_ROUTING)
                dst6 = px__rh_final_dst(buf + offs[k], hlens[k]);
        switch (l->pid) {
        case PX__P_ETHER:
            autofill(l, buf, off, hl, "type", next == PX__P_LLC ? (uint32_t)(after - hl) : px__ethertype_of(next));
            break;
        case PX__P_DOT1Q:
        case PX__P_DOT1AD: autofill(l, buf, off, hl, "type", px__ethertype_of(next)); break;
        case PX__P_IPV4:
            autofill(l, buf, off, hl, "ihl", (uint32_t)(hl / 4));
            autofill(l, buf, off, hl, "len", (uint32_t)after);
            autofill(l, buf, off, hl, "proto", ipproto_of(next, false));
            if (!is_set(l, "chksum")) {
                h[10] = h[11] = 0;
                uint16_t c = fold(sum16(h, hl, 0));
                h[10] = (uint8_t)(c >> 8);
                h[11] = (uint8_t)c;
            }
            break;
        case PX__P_IPV6:
            autofill(l, buf, off, hl, "plen", (uint32_t)(after - hl));
            autofill(l, buf, off, hl, "nh", ipproto_of(next, true));
            break;
        case PX__P_HBH:
        case PX__P_ROUTING:
        case PX__P_DSTOPTS:
            autofill(l, buf, off, hl, "len", (uint32_t)(hl / 8 - 1));
            autofill(l, buf, off, hl, "nh", ipproto_of(next, true));
            break;
        case PX__P_FRAG: autofill(l, buf, off, hl, "nh", ipproto_of(next, true)); break;
        case PX__P_TCP:
            autofill(l, buf, off, hl, "dataofs", (uint32_t)(hl / 4));
            if (!is_set(l, "chksum")) {
                h[16] = h[17] = 0;
                uint16_t c = l4_checksum(buf, ip, ip_off, off, content_end, 6, dst6);
                h[16] = (uint8_t)(c >> 8);
                h[17] = (uint8_t)c;
            }
            break;
        case PX__P_UDP:
            if (next == PX__P_VXLAN) { /* the IANA port both ways, so decoders pick VXLAN over DNS */
                autofill(l, buf, off, hl, "sport", 4789);
                autofill(l, buf, off, hl, "dport", 4789);
            }
            autofill(l, buf, off, hl, "len", (uint32_t)after);
            if (!is_set(l, "chksum")) {
                h[6] = h[7] = 0;
                uint16_t c = l4_checksum(buf, ip, ip_off, off, content_end, 17, dst6);
                if (c == 0)
                    c = 0xffff; /* 0 means "no checksum" in UDP */
                h[6] = (uint8_t)(c >> 8);
                h[7] = (uint8_t)c;
            }
            break;
        case PX__P_ICMP:
        case PX__P_ICMPV6:
            if (!is_set(l, "chksum")) {
                h[2] = h[3] = 0;
                uint16_t c = l->pid == PX__P_ICMP ? fold(sum16(h, after, 0))
                                                  : l4_checksum(buf, ip, ip_off, off, content_end, 58, dst6);
                h[2] = (uint8_t)(c >> 8);
                h[3] = (uint8_t)c;
            }
            break;
        case PX__P_MPLS: autofill(l, buf, off, hl, "s", next == PX__P_MPLS ? 0 : 1); break;
        case PX__P_GRE:
            autofill(l, buf, off, hl, "proto", px__ethertype_of(next));
            if ((h[0] & 0x80) && !is_set(l, "chksum")) {
                h[4] = h[5] = 0;
                uint16_t c = fold(sum16(h, after, 0));
                h[4] = (uint8_t)(c >> 8);
                h[5] = (uint8_t)c;
            }
            break;
        default: break;
        }
    }
    free(offs);
    *bytes = buf;
    *len = flen;
    return 0;
}

/* ---- internal access for the text form and the diff ---- */

size_t px__pkt_nlayers(const px_pkt *p) { return p->n; }

void px__pkt_layer_info(const px_pkt *p, size_t i, px__pid *pid, uint32_t *set)
{
    *pid = p->layers[i].pid;
    *set = p->layers[i].set;
}
