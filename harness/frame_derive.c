/* pktexpect: frames derived from another by field edits (px_frame_derive,
 * include/pktexpect/build.h): what PTF tests write as
 * `exp = pkt.copy(); exp[IP].ttl -= 1`.
 *
 * The frame is copied, dissected, and each edit writes one field in place, at
 * the position the field table (frame_proto.h) gives for the dissected layer, so
 * edits use the names of diffs and masks and never change a header's length.
 * VLAN push / pop move the bytes after the MAC addresses by 4. Values are read
 * by the builder's own parser (a one-layer px_pkt), so "ttl=256" fails here with
 * the message the text form gives. Last, every checksum the dissector can
 * verify is rewritten, innermost first (an outer UDP or GRE checksum covers the
 * inner headers), except those an edit set.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "frame_proto.h"
#include "pktexpect/build.h"
#include "pktexpect/error.h"

/* Longest single edit kept for messages and parsing. */
#define EDIT_MAX 256
/* Checksum fields set explicitly, by layer and occurrence. */
#define EXPLICIT_MAX 32

typedef struct derive {
    uint8_t *buf;
    size_t len;
    px_frame f; /* view over buf, redissected after every structural edit */
    unsigned nedit;
    const char *edit; /* the current edit, for messages */
    struct {
        px__pid pid;
        unsigned occ;
    } expl[EXPLICIT_MAX];
    unsigned nexpl;
    char *errbuf;
} derive;

__attribute__((format(printf, 3, 4))) static int fail(derive *d, int rc, const char *fmt, ...)
{
    int n = snprintf(d->errbuf, PX_ERRBUF_SIZE, "edit %u (%s): ", d->nedit, d->edit);
    if (n < 0 || n >= PX_ERRBUF_SIZE)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->errbuf + n, PX_ERRBUF_SIZE - (size_t)n, fmt, ap);
    va_end(ap);
    return rc;
}

static void redissect(derive *d) { px_frame_dissect(&d->f, d->buf, (uint32_t)d->len, (uint32_t)d->len); }

/* Edit distance (Levenshtein) of a[0, la) and b[0, lb), for the "did you mean"
 * of messages here and in the expression language; 99 for names over 40. */
unsigned px__edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    if (la > 40 || lb > 40)
        return 99;
    unsigned d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            unsigned c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            unsigned del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = c < del ? (c < ins ? c : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

/* The known layer short name closest to `name` (at most 2 edits away), or NULL. */
static const char *near_layer(const char *name, size_t n)
{
    const char *best = NULL;
    unsigned bd = 3;
    for (int i = 0; i < PX__P_COUNT; i++) {
        const char *sn = px__proto_get((px__pid)i)->short_name;
        unsigned dd = px__edit_distance(name, n, sn, strlen(sn));
        if (dd < bd) {
            bd = dd;
            best = sn;
        }
    }
    return best;
}

static const char *near_field(const px__proto *pr, const char *name, size_t n)
{
    const char *best = NULL;
    unsigned bd = 3;
    for (int i = 0; i < pr->nfields; i++) {
        unsigned dd = px__edit_distance(name, n, pr->fields[i].name, strlen(pr->fields[i].name));
        if (dd < bd) {
            bd = dd;
            best = pr->fields[i].name;
        }
    }
    return best;
}

/* Parses an unsigned integer "102" / "0x8100" that must be all of s. */
static bool parse_num(const char *s, unsigned long long max, unsigned long long *v)
{
    char *end;
    if (*s < '0' || *s > '9')
        return false;
    *v = strtoull(s, &end, 0);
    return *end == '\0' && *v <= max;
}

/* +vlan(VID[, pcp=P][, dei=D][, tpid=T]): a tag pushed right after the outer
 * Ethernet addresses, as a switch pushes one. */
static int push_vlan(derive *d, const char *args)
{
    unsigned long long vid = 0, pcp = 0, dei = 0, tpid = 0x8100;
    bool have_vid = false;
    if (*args != '(')
        return fail(d, PX_EPARSE, "expected +vlan(VID[, pcp=P, dei=D, tpid=T])");
    char tmp[EDIT_MAX];
    size_t n = strlen(args + 1);
    if (n == 0 || args[n] != ')' || n >= sizeof tmp)
        return fail(d, PX_EPARSE, "expected +vlan(VID[, pcp=P, dei=D, tpid=T])");
    memcpy(tmp, args + 1, n - 1);
    tmp[n - 1] = '\0';
    for (char *save = NULL, *it = strtok_r(tmp, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        while (*it == ' ' || *it == '\t')
            it++;
        size_t e = strlen(it);
        while (e && (it[e - 1] == ' ' || it[e - 1] == '\t'))
            it[--e] = '\0';
        char *eq = strchr(it, '=');
        const char *key = "vid", *val = it;
        if (eq) {
            *eq = '\0';
            key = it;
            val = eq + 1;
            while (*val == ' ' || *val == '\t')
                val++;
            for (char *k = eq; k > it && (k[-1] == ' ' || k[-1] == '\t');)
                *--k = '\0';
        }
        unsigned long long *dst = NULL, max = 0;
        if (!strcmp(key, "vid") || !strcmp(key, "vlan")) {
            dst = &vid, max = 4095, have_vid = true;
        } else if (!strcmp(key, "pcp")) {
            dst = &pcp, max = 7;
        } else if (!strcmp(key, "dei")) {
            dst = &dei, max = 1;
        } else if (!strcmp(key, "tpid")) {
            dst = &tpid, max = 0xffff;
        } else {
            return fail(d, PX_EINVAL, "unknown argument '%s' of +vlan; arguments are vid, pcp, dei, tpid", key);
        }
        if (!parse_num(val, max, dst))
            return fail(d, PX_ERANGE, "%s=%s: expected a number 0..%llu", key, val, max);
    }
    if (!have_vid)
        return fail(d, PX_EPARSE, "+vlan needs a VLAN ID: +vlan(102)");
    if (d->f.nlayers == 0 || d->f.layers[0].kind != PX_LAYER_ETH)
        return fail(d, PX_EINVAL, "the frame has no Ethernet header to push a VLAN tag after");
    if (d->len > UINT32_MAX - 4)
        return fail(d, PX_ERANGE, "the frame is too long");
    uint8_t *nb = realloc(d->buf, d->len + 4);
    if (!nb)
        return fail(d, PX_ENOMEM, "out of memory");
    d->buf = nb;
    memmove(nb + 16, nb + 12, d->len - 12);
    uint16_t tci = (uint16_t)(pcp << 13 | dei << 12 | vid);
    nb[12] = (uint8_t)(tpid >> 8);
    nb[13] = (uint8_t)tpid;
    nb[14] = (uint8_t)(tci >> 8);
    nb[15] = (uint8_t)tci;
    d->len += 4;
    redissect(d);
    return 0;
}

/* -vlan: the outermost tag removed (its inner type moves up to the Ethernet
 * header). */
static int pop_vlan(derive *d)
{
    if (d->f.nlayers < 2 || d->f.layers[0].kind != PX_LAYER_ETH || d->f.layers[1].kind != PX_LAYER_VLAN)
        return fail(d, PX_EINVAL, "the frame has no VLAN tag to pop");
    memmove(d->buf + 12, d->buf + 16, d->len - 16);
    d->len -= 4;
    redissect(d);
    return 0;
}

/* The value text `val` of field fi of protocol pid, parsed by the builder into
 * the wire layout of a one-layer frame (out, *olen). */
static int parse_value(derive *d, px__pid pid, int fi, const char *val, uint8_t **out, size_t *olen)
{
    const px__proto *pr = px__proto_get(pid);
    char eb[PX_ERRBUF_SIZE];
    px_pkt *p = px_pkt_new();
    if (!p)
        return fail(d, PX_ENOMEM, "out of memory");
    int rc = px_pkt_push(p, pr->name, eb);
    if (rc == 0)
        rc = px_pkt_set(p, pr->fields[fi].name, val, eb);
    if (rc == 0)
        rc = px_pkt_build(p, out, olen, eb);
    px_pkt_free(p);
    if (rc != 0)
        return fail(d, rc, "%s.%s: %s", pr->short_name, pr->fields[fi].name, eb);
    return 0;
}

/* path OP value, OP one of "=", "-=", "+=". */
static int set_field(derive *d, const char *e)
{
    size_t pn = strcspn(e, "=-+ \t");
    const char *op = e + pn;
    while (*op == ' ' || *op == '\t')
        op++;
    int rel = 0;
    if (op[0] == '-' && op[1] == '=')
        rel = -1;
    else if (op[0] == '+' && op[1] == '=')
        rel = 1;
    else if (op[0] != '=')
        return fail(d, PX_EPARSE, "expected layer.field=value, layer.field-=N or layer.field+=N");
    const char *val = op + (rel ? 2 : 1);
    while (*val == ' ' || *val == '\t')
        val++;
    if (!*val)
        return fail(d, PX_EPARSE, "no value after '%.*s'", rel ? 2 : 1, op);

    /* layer[occ].field */
    size_t ln = strcspn(e, "[.=-+ \t");
    px__pid pid = px__proto_by_short(e, ln);
    if (pid == PX__P_COUNT || pid == PX__P_RAW || pid == PX__P_PAD) {
        const char *near = near_layer(e, ln);
        return fail(d, PX_EINVAL, "unknown layer '%.*s'%s%s%s", (int)ln, e, near ? " (did you mean " : "",
                    near ? near : "", near ? "?)" : "");
    }
    const px__proto *pr = px__proto_get(pid);
    const char *p = e + ln;
    unsigned long occ = 0;
    if (*p == '[') {
        char *end;
        occ = strtoul(p + 1, &end, 10);
        if (end == p + 1 || *end != ']' || occ > PX_FRAME_MAX_LAYERS)
            return fail(d, PX_EPARSE, "bad occurrence: expected %s[N].field", pr->short_name);
        p = end + 1;
    }
    if (*p != '.')
        return fail(d, PX_EPARSE, "expected layer.field before the '='");
    p++;
    size_t fn = (size_t)(e + pn - p);
    int fi = px__field_index(pr, p, fn);
    /* The whole traffic-class byte, which the field table splits into dscp and
     * ecn: what people used to scapy's IP.tos write. Integer only. */
    static const px__field tos = {"tos", NULL, 1, 1, 0, 8, PX__F_UINT, 0};
    static const px__field tc = {"tc", NULL, 0, 2, 4, 8, PX__F_UINT, 0};
    const px__field *pseudo = NULL;
    if (fi < 0 && pid == PX__P_IPV4 && fn == 3 && !strncmp(p, "tos", 3))
        pseudo = &tos;
    else if (fi < 0 && pid == PX__P_IPV6 && fn == 2 && !strncmp(p, "tc", 2))
        pseudo = &tc;
    if (fi < 0 && !pseudo) {
        const char *near = near_field(pr, p, fn);
        if (near)
            return fail(d, PX_EINVAL, "unknown field '%s.%.*s' (did you mean %s.%s?)", pr->short_name, (int)fn, p,
                        pr->short_name, near);
        int n = snprintf(d->errbuf, PX_ERRBUF_SIZE, "edit %u (%s): unknown field '%s.%.*s'; fields are ", d->nedit,
                         d->edit, pr->short_name, (int)fn, p);
        for (int i = 0; i < pr->nfields && n > 0 && n < PX_ERRBUF_SIZE; i++)
            n += snprintf(d->errbuf + n, PX_ERRBUF_SIZE - (size_t)n, "%s%s", i ? ", " : "", pr->fields[i].name);
        return PX_EINVAL;
    }
    const px__field *fd = pseudo ? pseudo : &pr->fields[fi];
    if (fd->type == PX__F_BYTES)
        return fail(d, PX_EINVAL, "%s.%s cannot be edited: a derived frame keeps every header's length",
                    pr->short_name, fd->name);
    bool is_int = fd->type == PX__F_UINT || fd->type == PX__F_HEX || fd->type == PX__F_TCPFLAGS;
    if (rel && !is_int)
        return fail(d, PX_EINVAL, "%s.%s is not a number: only numbers take -= and +=", pr->short_name, fd->name);

    /* the occ-th layer of that name in the frame */
    const px_layer *l = NULL;
    unsigned seen = 0;
    for (unsigned i = 0; i < d->f.nlayers && !l; i++)
        if (px__layer_is(&d->f, &d->f.layers[i], pid) && seen++ == occ)
            l = &d->f.layers[i];
    if (!l) {
        if (seen == 0)
            return fail(d, PX_EINVAL, "the frame has no %s layer", pr->name);
        return fail(d, PX_EINVAL, "the frame has %u %s layer%s, so no %s[%lu]", seen, pr->short_name,
                    seen == 1 ? "" : "s", pr->short_name, occ);
    }
    uint8_t *h = d->buf + l->off;
    int off = pseudo ? fd->off : px__field_wire_off(pr, fi, h, l->len);
    if (off < 0)
        return fail(d, PX_EINVAL, "the frame's %s header has no %s field (its flag is clear)", pr->name, fd->name);

    if (rel) {
        unsigned long long delta;
        if (!parse_num(val, UINT32_MAX, &delta))
            return fail(d, PX_EPARSE, "expected a number after '%s'", rel < 0 ? "-=" : "+=");
        uint64_t cur = px__field_get_uint(fd, h, off), max = px__field_max(fd);
        if (rel < 0 && delta > cur)
            return fail(d, PX_ERANGE, "%s.%s is %llu in the frame: the result would be below 0", pr->short_name,
                        fd->name, (unsigned long long)cur);
        if (rel > 0 && cur + delta > max)
            return fail(d, PX_ERANGE, "%s.%s is %llu in the frame: the result would be above %llu", pr->short_name,
                        fd->name, (unsigned long long)cur, (unsigned long long)max);
        px__field_put_uint(fd, h, off, (uint32_t)(rel < 0 ? cur - delta : cur + delta));
    } else if (pseudo) {
        unsigned long long v;
        if (!parse_num(val, 255, &v))
            return fail(d, PX_ERANGE, "%s.%s=%s: expected a number 0..255", pr->short_name, fd->name, val);
        px__field_put_uint(fd, h, off, (uint32_t)v);
    } else {
        uint8_t *one = NULL;
        size_t olen = 0;
        int rc = parse_value(d, pid, fi, val, &one, &olen);
        if (rc != 0)
            return rc;
        int ooff = px__field_wire_off(pr, fi, one, (uint32_t)olen);
        if (ooff < 0) { /* cannot happen: the field was set in that layer */
            free(one);
            return fail(d, PX_EINVAL, "%s.%s: no such field in a %s header", pr->short_name, fd->name, pr->name);
        }
        if (is_int)
            px__field_put_uint(fd, h, off, px__field_get_uint(fd, one, ooff));
        else
            memcpy(h + off, one + ooff, fd->nbytes);
        free(one);
    }
    if (!strcmp(fd->name, "chksum")) {
        if (d->nexpl == EXPLICIT_MAX)
            return fail(d, PX_ERANGE, "more than %d checksum edits", EXPLICIT_MAX);
        d->expl[d->nexpl].pid = pid;
        d->expl[d->nexpl].occ = (unsigned)occ;
        d->nexpl++;
    }
    /* A type, protocol or flag field may change what follows. */
    redissect(d);
    return 0;
}

static bool explicit_csum(const derive *d, px__pid pid, unsigned occ)
{
    const char *sn = px__proto_get(pid)->short_name;
    for (unsigned i = 0; i < d->nexpl; i++)
        if (d->expl[i].occ == occ && !strcmp(px__proto_get(d->expl[i].pid)->short_name, sn))
            return true;
    return false;
}

/* Rewrites every checksum that verification can compute, innermost first. */
static void fix_checksums(derive *d)
{
    const px_frame *f = &d->f;
    for (unsigned i = f->nlayers; i-- > 0;) {
        const px_layer *l = &f->layers[i];
        uint16_t got, want;
        px_csum_status st = px__layer_checksum_values(f, l, &got, &want);
        if ((st != PX_CSUM_GOOD && st != PX_CSUM_BAD) || got == want)
            continue;
        px__pid pid = px__proto_of_layer(f, l);
        const px__proto *pr = px__proto_get(pid);
        unsigned occ = 0;
        for (unsigned j = 0; j < i; j++)
            occ += px__layer_is(f, &f->layers[j], pid);
        int fi = px__field_index(pr, "chksum", 6);
        if (fi < 0 || explicit_csum(d, pid, occ))
            continue;
        int off = px__field_wire_off(pr, fi, d->buf + l->off, l->len);
        if (off >= 0)
            px__field_put_uint(&pr->fields[fi], d->buf + l->off, off, want);
    }
}

int px_frame_derive(const uint8_t *frame, size_t len, const char *edits, uint8_t **out, size_t *out_len,
                    char errbuf[])
{
    char local[PX_ERRBUF_SIZE];
    derive d = {.errbuf = errbuf ? errbuf : local, .edit = ""};
    d.errbuf[0] = '\0';
    if (!frame || len == 0 || !out || !out_len) {
        snprintf(d.errbuf, PX_ERRBUF_SIZE, "no frame to derive from");
        return PX_EINVAL;
    }
    if (len > UINT32_MAX - 4) {
        snprintf(d.errbuf, PX_ERRBUF_SIZE, "frame too long (%zu bytes)", len);
        return PX_ERANGE;
    }
    if (!(d.buf = malloc(len))) {
        snprintf(d.errbuf, PX_ERRBUF_SIZE, "out of memory");
        return PX_ENOMEM;
    }
    memcpy(d.buf, frame, len);
    d.len = len;
    redissect(&d);
    if (d.f.truncated_at != PX_LAYER_NONE) {
        snprintf(d.errbuf, PX_ERRBUF_SIZE, "cannot derive from a truncated frame: its %s header does not fit in %zu bytes",
                 px_layer_name((px_layer_kind)d.f.truncated_at), len);
        free(d.buf);
        return PX_EINVAL;
    }
    int rc = 0;
    const char *p = edits ? edits : "";
    while (rc == 0) {
        p += strspn(p, ", \t\n");
        if (!*p)
            break;
        /* one edit: to the next ',' outside parentheses */
        size_t n = 0;
        int depth = 0;
        while (p[n] && (depth > 0 || p[n] != ',')) {
            depth += p[n] == '(' ? 1 : p[n] == ')' ? -1 : 0;
            n++;
        }
        char e[EDIT_MAX];
        d.nedit++;
        size_t k = n;
        while (k && (p[k - 1] == ' ' || p[k - 1] == '\t' || p[k - 1] == '\n'))
            k--;
        if (k >= sizeof e) {
            snprintf(d.errbuf, PX_ERRBUF_SIZE, "edit %u (%.40s...): too long", d.nedit, p);
            rc = PX_EINVAL;
            break;
        }
        memcpy(e, p, k);
        e[k] = '\0';
        d.edit = e;
        if (e[0] == '+' && !strncmp(e + 1, "vlan", 4))
            rc = push_vlan(&d, e + 5 + strspn(e + 5, " \t"));
        else if (!strcmp(e, "-vlan"))
            rc = pop_vlan(&d);
        else if (e[0] == '+' || e[0] == '-')
            rc = fail(&d, PX_EPARSE, "expected +vlan(VID) or -vlan");
        else
            rc = set_field(&d, e);
        d.edit = "";
        p += n;
    }
    if (rc != 0) {
        free(d.buf);
        return rc;
    }
    fix_checksums(&d);
    *out = d.buf;
    *out_len = d.len;
    return 0;
}
