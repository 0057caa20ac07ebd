/* pktexpect: frame differences under a mask (include/pktexpect/diff.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_proto.h"
#include "pktexpect/diff.h"
#include "pktexpect/error.h"

typedef struct mask_field {
    char layer[16]; /* short name: "ipv4"; "" when `index` names the layer */
    int field;      /* field index, -1: the whole layer */
    int occ;        /* occurrence, -1: every one */
    int index;      /* layer position in the frame, -1: any */
} mask_field;

typedef struct bit_range {
    uint32_t lo, hi; /* inclusive frame bit numbers */
} bit_range;

struct px_diff_mask {
    mask_field *fields;
    size_t nfields;
    bit_range *ranges;
    size_t nranges;
    bool trailer;
};

px_diff_mask *px_diff_mask_new(void) { return calloc(1, sizeof(px_diff_mask)); }

void px_diff_mask_free(px_diff_mask *m)
{
    if (!m)
        return;
    free(m->fields);
    free(m->ranges);
    free(m);
}

static int add_range(px_diff_mask *m, uint32_t lo, uint32_t hi)
{
    bit_range *r = realloc(m->ranges, (m->nranges + 1) * sizeof *r);
    if (!r)
        return PX_ENOMEM;
    m->ranges = r;
    m->ranges[m->nranges].lo = lo;
    m->ranges[m->nranges].hi = hi;
    m->nranges++;
    return 0;
}

static int parse_range(const char *s, uint32_t *lo, uint32_t *hi)
{
    char *end;
    if (*s < '0' || *s > '9')
        return PX_EPARSE;
    unsigned long a = strtoul(s, &end, 10), b = a;
    if (*end == '-') {
        if (end[1] < '0' || end[1] > '9')
            return PX_EPARSE;
        b = strtoul(end + 1, &end, 10);
    } else if (*end == '+') {
        /* FIRST+COUNT, as PTF's set_do_not_care(offset, bitwidth) */
        if (end[1] < '1' || end[1] > '9')
            return PX_EPARSE;
        unsigned long n = strtoul(end + 1, &end, 10);
        if (n > 0x20000000ul || a > 0x20000000ul)
            return PX_EPARSE;
        b = a + n - 1;
    }
    if (*end != '\0' || b < a || b > 0x1fffffff)
        return PX_EPARSE;
    *lo = (uint32_t)a;
    *hi = (uint32_t)b;
    return 0;
}

int px_diff_mask_add(px_diff_mask *m, const char *spec, char errbuf[])
{
    uint32_t lo, hi;
    if (strcmp(spec, "trailer") == 0) {
        m->trailer = true;
        return 0;
    }
    if (strncmp(spec, "bits:", 5) == 0 || strncmp(spec, "bytes:", 6) == 0) {
        bool bytes = spec[1] == 'y';
        if (parse_range(spec + (bytes ? 6 : 5), &lo, &hi) != 0) {
            snprintf(errbuf, PX_ERRBUF_SIZE, "bad range '%s': expected %s:FIRST-LAST or %s:FIRST+COUNT", spec,
                     bytes ? "bytes" : "bits", bytes ? "bytes" : "bits");
            return PX_EPARSE;
        }
        return add_range(m, bytes ? lo * 8 : lo, bytes ? hi * 8 + 7 : hi);
    }
    if (strcmp(spec, "checksums") == 0) {
        /* every layer's checksum field: the entries "ipv4.chksum", "tcp.chksum", ... */
        for (int i = 0; i < PX__P_COUNT; i++) {
            const px__proto *pr = px__proto_get((px__pid)i);
            int fi = px__field_index(pr, "chksum", 6);
            if (fi < 0 || px__proto_by_short(pr->short_name, strlen(pr->short_name)) != (px__pid)i)
                continue;
            mask_field *f = realloc(m->fields, (m->nfields + 1) * sizeof *f);
            if (!f)
                return PX_ENOMEM;
            m->fields = f;
            mask_field mf = {.field = fi, .occ = -1, .index = -1};
            snprintf(mf.layer, sizeof mf.layer, "%s", pr->short_name);
            m->fields[m->nfields++] = mf;
        }
        return 0;
    }
    /* layer[occ].field */
    size_t ln = strcspn(spec, "[.");
    mask_field mf = {.field = -1, .occ = -1, .index = -1};
    px__pid pid = px__proto_by_short(spec, ln);
    if (pid == PX__P_COUNT || ln >= sizeof mf.layer) {
        /* The layers listed are the table's short names (each once; Pad is the
         * trailer, named below), so a layer added to the table is listed too. */
        int n = snprintf(errbuf, PX_ERRBUF_SIZE, "unknown layer in '%s'; layers are ", spec);
        for (int i = 0, k = 0; i < PX__P_COUNT && n > 0 && n < PX_ERRBUF_SIZE; i++) {
            const char *sn = px__proto_get((px__pid)i)->short_name;
            if (i == PX__P_PAD || px__proto_by_short(sn, strlen(sn)) != (px__pid)i)
                continue;
            n += snprintf(errbuf + n, PX_ERRBUF_SIZE - (size_t)n, "%s%s", k++ ? ", " : "", sn);
        }
        if (n > 0 && n < PX_ERRBUF_SIZE)
            snprintf(errbuf + n, PX_ERRBUF_SIZE - (size_t)n, "; or use bits:A-B, bytes:A-B, checksums, trailer");
        return PX_EINVAL;
    }
    memcpy(mf.layer, spec, ln);
    const char *p = spec + ln;
    if (*p == '[') {
        char *end;
        unsigned long k = strtoul(p + 1, &end, 10);
        if (end == p + 1 || *end != ']' || k > 255) {
            snprintf(errbuf, PX_ERRBUF_SIZE, "bad occurrence in '%s': expected %s[N]", spec, mf.layer);
            return PX_EPARSE;
        }
        mf.occ = (int)k;
        p = end + 1;
    }
    if (*p == '.') {
        const px__proto *pr = px__proto_get(pid);
        mf.field = px__field_index(pr, p + 1, strlen(p + 1));
        if (mf.field < 0) {
            int n = snprintf(errbuf, PX_ERRBUF_SIZE, "unknown field '%s' in %s; fields are ", p + 1, mf.layer);
            for (int i = 0; i < pr->nfields && n > 0 && n < PX_ERRBUF_SIZE; i++)
                n += snprintf(errbuf + n, PX_ERRBUF_SIZE - (size_t)n, "%s%s", i ? ", " : "", pr->fields[i].name);
            if (pr->nfields == 0 && n > 0 && n < PX_ERRBUF_SIZE)
                snprintf(errbuf + n, PX_ERRBUF_SIZE - (size_t)n, "none (mask '%s' as a whole)", mf.layer);
            return PX_EINVAL;
        }
    } else if (*p != '\0') {
        snprintf(errbuf, PX_ERRBUF_SIZE, "cannot read '%s': expected layer, layer.field or layer[N].field", spec);
        return PX_EPARSE;
    }
    mask_field *f = realloc(m->fields, (m->nfields + 1) * sizeof *f);
    if (!f)
        return PX_ENOMEM;
    m->fields = f;
    m->fields[m->nfields++] = mf;
    return 0;
}

int px_diff_mask_add_bits(px_diff_mask *m, uint64_t offset, uint64_t nbits, char errbuf[])
{
    if (nbits == 0 || offset > 0x1fffffff || nbits > 0x20000000 - offset) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "bad bit range: offset %llu, %llu bits (a frame has at most 2^29 bits)",
                 (unsigned long long)offset, (unsigned long long)nbits);
        return PX_ERANGE;
    }
    return add_range(m, (uint32_t)offset, (uint32_t)(offset + nbits - 1));
}

int px_diff_mask_check_len(const px_diff_mask *m, size_t len, char errbuf[])
{
    for (size_t i = 0; m && i < m->nranges; i++)
        if (m->ranges[i].hi / 8 >= len) {
            snprintf(errbuf, PX_ERRBUF_SIZE,
                     "bits %u-%u are outside the expected frame (%zu bytes: bits 0-%zu)", m->ranges[i].lo,
                     m->ranges[i].hi, len, len * 8 - 1);
            return PX_ERANGE;
        }
    return 0;
}

px_diff_mask *px_diff_mask_copy(const px_diff_mask *m)
{
    px_diff_mask *c = px_diff_mask_new();
    if (!c || !m)
        return c;
    c->trailer = m->trailer;
    if (m->nfields && !(c->fields = malloc(m->nfields * sizeof *c->fields)))
        goto oom;
    if (m->nranges && !(c->ranges = malloc(m->nranges * sizeof *c->ranges)))
        goto oom;
    if (m->nfields)
        memcpy(c->fields, m->fields, m->nfields * sizeof *c->fields);
    if (m->nranges)
        memcpy(c->ranges, m->ranges, m->nranges * sizeof *c->ranges);
    c->nfields = m->nfields;
    c->nranges = m->nranges;
    return c;
oom:
    px_diff_mask_free(c);
    return NULL;
}

int px_diff_mask_format(const px_diff_mask *m, px_buf *out)
{
    size_t k = 0;
    for (size_t i = 0; m && i < m->nfields; i++) {
        const mask_field *mf = &m->fields[i];
        if (!mf->layer[0])
            continue; /* by position (px_diff_mask_add_unset): no text for it */
        px_buf_printf(out, "%s%s", k++ ? ", " : "", mf->layer);
        if (mf->occ >= 0)
            px_buf_printf(out, "[%d]", mf->occ);
        if (mf->field >= 0) {
            const px__proto *pr = px__proto_get(px__proto_by_short(mf->layer, strlen(mf->layer)));
            px_buf_printf(out, ".%s", pr->fields[mf->field].name);
        }
    }
    for (size_t i = 0; m && i < m->nranges; i++)
        px_buf_printf(out, "%sbits:%u-%u", k++ ? ", " : "", m->ranges[i].lo, m->ranges[i].hi);
    if (m && m->trailer)
        px_buf_printf(out, "%strailer", k++ ? ", " : "");
    return out->oom ? PX_ENOMEM : 0;
}

int px_diff_mask_add_unset(px_diff_mask *m, const struct px_pkt *p)
{
    for (size_t i = 0; i < px__pkt_nlayers(p); i++) {
        px__pid pid;
        uint32_t set;
        px__pkt_layer_info(p, i, &pid, &set);
        const px__proto *pr = px__proto_get(pid);
        for (int fi = 0; fi < pr->nfields; fi++) {
            if (set & (1u << fi))
                continue;
            mask_field *f = realloc(m->fields, (m->nfields + 1) * sizeof *f);
            if (!f)
                return PX_ENOMEM;
            m->fields = f;
            m->fields[m->nfields++] = (mask_field){.layer = "", .field = fi, .occ = -1, .index = (int)i};
        }
    }
    return 0;
}

int px_diff_mask_add_list(px_diff_mask *m, const char *list, char errbuf[])
{
    const char *p = list;
    for (;;) {
        p += strspn(p, ", \t\n[]");
        if (*p == '\0')
            return 0;
        /* An item ends at a separator or at a ']' closing the list; a '[' inside
         * an item opens an occurrence ("ipv4[1].ttl") that its ']' closes. */
        size_t n = 0;
        bool open = false;
        while (p[n] && p[n] != ',' && p[n] != ' ' && p[n] != '\t' && p[n] != '\n') {
            if (p[n] == '[')
                open = true;
            else if (p[n] == ']' && !open)
                break;
            else if (p[n] == ']')
                open = false;
            n++;
        }
        char item[128];
        if (n >= sizeof item) {
            snprintf(errbuf, PX_ERRBUF_SIZE, "mask entry too long: '%.40s...'", p);
            return PX_EINVAL;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        int rc = px_diff_mask_add(m, item, errbuf);
        if (rc != 0)
            return rc;
        p += n;
    }
}

/* ---- comparing ---- */

static int add_item(px_diff *d, const char *field, const char *exp, const char *got)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        px_diff_item *it = realloc(d->items, cap * sizeof *it);
        if (!it)
            return PX_ENOMEM;
        d->items = it;
        d->cap = cap;
    }
    px_diff_item *it = &d->items[d->n++];
    snprintf(it->field, sizeof it->field, "%s", field);
    snprintf(it->expected, sizeof it->expected, "%s", exp);
    snprintf(it->got, sizeof it->got, "%s", got);
    return 0;
}

static bool field_masked(const px_diff_mask *m, const char *layer, int fi, unsigned occ, unsigned index)
{
    for (size_t i = 0; m && i < m->nfields; i++) {
        const mask_field *mf = &m->fields[i];
        if (mf->index >= 0) {
            if ((unsigned)mf->index == index && mf->field == fi)
                return true;
            continue;
        }
        if (strcmp(mf->layer, layer) == 0 && (mf->field < 0 || mf->field == fi) && (mf->occ < 0 || (unsigned)mf->occ == occ))
            return true;
    }
    return false;
}

static void hex_of(const uint8_t *p, size_t n, char *out, size_t outsz)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && k + 3 < outsz; i++, k += 2)
        snprintf(out + k, outsz - k, "%02x", p[i]);
    if (k + 3 >= outsz && n * 2 > k && outsz > 4)
        memcpy(out + outsz - 4, "...", 4);
}

/* Compares a[0..na) (at frame offset aoff of the expected frame) with b[0..nb). */
static int diff_bytes(px_diff *d, const char *label, uint32_t aoff, const uint8_t *a, uint32_t na, const uint8_t *b,
                      uint32_t nb)
{
    uint32_t n = na < nb ? na : nb;
    for (uint32_t i = 0; i < n;) {
        if (a[i] == b[i]) {
            i++;
            continue;
        }
        uint32_t j = i;
        while (j < n && a[j] != b[j])
            j++;
        char name[48], x[100], y[100];
        if (j - i == 1)
            snprintf(name, sizeof name, "byte %u", aoff + i);
        else
            snprintf(name, sizeof name, "bytes %u-%u", aoff + i, aoff + j - 1);
        hex_of(a + i, j - i, x, sizeof x);
        hex_of(b + i, j - i, y, sizeof y);
        if (add_item(d, name, x, y) != 0)
            return PX_ENOMEM;
        d->score += j - i;
        i = j;
    }
    if (na != nb) {
        char name[48], x[16], y[16];
        snprintf(name, sizeof name, "%s length", label);
        snprintf(x, sizeof x, "%u", na);
        snprintf(y, sizeof y, "%u", nb);
        if (add_item(d, name, x, y) != 0)
            return PX_ENOMEM;
        d->score += na > nb ? na - nb : nb - na;
    }
    return 0;
}

static uint8_t *masked_copy(const px_frame *f, const px_diff_mask *m)
{
    uint8_t *c = malloc(f->caplen ? f->caplen : 1);
    if (!c)
        return NULL;
    if (f->caplen)
        memcpy(c, f->data, f->caplen);
    for (size_t i = 0; m && i < m->nranges; i++)
        for (uint32_t bit = m->ranges[i].lo; bit <= m->ranges[i].hi && bit / 8 < f->caplen; bit++)
            c[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    return c;
}

/* Said where a diff would show the L4 checksum of a frame whose checksum was not
 * computed yet (PX_FRAME_CSUM_NOT_READY): it holds a partial sum, not an error. */
#define CSUM_OFFLOADED_NOTE "(checksum not computed: offloaded)"

/* True when field `fd` of a `pid` layer is a TCP / UDP checksum that frame `f`
 * carries unfinished. Every TCP / UDP layer of the frame counts: the kernel does
 * not say which one (outer or inner) the offload would have filled. */
static bool csum_offloaded(const px_frame *f, px__pid pid, const px__field *fd)
{
    return (f->flags & PX_FRAME_CSUM_NOT_READY) && (pid == PX__P_TCP || pid == PX__P_UDP) &&
           strcmp(fd->name, "chksum") == 0;
}

/* Appends the note to a formatted value (cut to the buffer if need be). */
static void add_note(char *v, size_t size)
{
    size_t n = strlen(v);
    if (n + 1 < size)
        snprintf(v + n, size - n, " %s", CSUM_OFFLOADED_NOTE);
}

/* Short name used for counting occurrences; Dot1Q and Dot1AD are both "vlan". */
static const char *short_of(const px_layer *l, px__pid pid)
{
    return pid == PX__P_RAW ? px_layer_name((px_layer_kind)l->kind) : px__proto_get(pid)->short_name;
}

static int compare_layers(const px_frame *e, const px_frame *g, const px_diff_mask *m, px_diff *d)
{
    unsigned occ[PX_LAYER__COUNT + PX__P_COUNT] = {0};
    unsigned n = e->nlayers < g->nlayers ? e->nlayers : g->nlayers;
    for (unsigned i = 0; i < n; i++) {
        const px_layer *le = &e->layers[i], *lg = &g->layers[i];
        px__pid pe = px__proto_of_layer(e, le), pg = px__proto_of_layer(g, lg);
        const char *se = short_of(le, pe), *sg = short_of(lg, pg);
        if (le->kind != lg->kind || strcmp(se, sg) != 0) {
            char name[48];
            snprintf(name, sizeof name, "layer %u", i);
            if (add_item(d, name, se, sg) != 0)
                return PX_ENOMEM;
            d->score += 16;
            /* Nothing lines up any more: compare what is left byte by byte. */
            uint32_t ee = e->caplen - e->padlen, ge = g->caplen - g->padlen;
            return diff_bytes(d, "rest", le->off, e->data + le->off, ee - le->off, g->data + lg->off,
                              lg->off <= ge ? ge - lg->off : 0);
        }
        unsigned slot = pe == PX__P_DOT1AD ? (unsigned)PX__P_DOT1Q
                      : pe == PX__P_RAW ? (unsigned)PX__P_COUNT + le->kind : (unsigned)pe;
        unsigned k = occ[slot]++;
        char label[32];
        if (k == 0)
            snprintf(label, sizeof label, "%s", se);
        else
            snprintf(label, sizeof label, "%s[%u]", se, k);
        if (pe == PX__P_RAW) {
            if (field_masked(m, "payload", -1, k, i) || field_masked(m, se, -1, k, i))
                continue;
            if (diff_bytes(d, label, le->off, e->data + le->off, le->len, g->data + lg->off, lg->len) != 0)
                return PX_ENOMEM;
            continue;
        }
        const px__proto *pr = px__proto_get(pe);
        for (int fi = 0; fi < pr->nfields; fi++) {
            if (field_masked(m, se, fi, k, i))
                continue;
            char x[100], y[100];
            bool hx = px__field_show(pr, fi, e->data + le->off, le->len, x, sizeof x);
            bool hy = px__field_show(pr, fi, g->data + lg->off, lg->len, y, sizeof y);
            if (!hx)
                snprintf(x, sizeof x, "(absent)");
            if (!hy)
                snprintf(y, sizeof y, "(absent)");
            if (hx == hy && strcmp(x, y) == 0)
                continue;
            /* An unfinished checksum: listed with a note, not counted as a difference. */
            bool oe = csum_offloaded(e, pe, &pr->fields[fi]), og = csum_offloaded(g, pg, &pr->fields[fi]);
            if (oe)
                add_note(x, sizeof x);
            if (og)
                add_note(y, sizeof y);
            char name[64];
            snprintf(name, sizeof name, "%s.%s", label, pr->fields[fi].name);
            if (add_item(d, name, x, y) != 0)
                return PX_ENOMEM;
            if (!oe && !og)
                d->score++;
        }
    }
    for (unsigned i = n; i < e->nlayers || i < g->nlayers; i++) {
        const char *x = i < e->nlayers ? short_of(&e->layers[i], px__proto_of_layer(e, &e->layers[i])) : "none";
        const char *y = i < g->nlayers ? short_of(&g->layers[i], px__proto_of_layer(g, &g->layers[i])) : "none";
        if ((strcmp(x, "payload") == 0 || strcmp(y, "payload") == 0) && field_masked(m, "payload", -1, 0, i))
            continue;
        char name[48];
        snprintf(name, sizeof name, "layer %u", i);
        if (add_item(d, name, x, y) != 0)
            return PX_ENOMEM;
        d->score += 16;
    }
    return 0;
}

int px_frame_diff(const px_frame *expected, const px_frame *got, const px_diff_mask *mask, px_diff *out)
{
    memset(out, 0, sizeof *out);
    uint8_t *eb = masked_copy(expected, mask), *gb = masked_copy(got, mask);
    int rc = PX_ENOMEM;
    if (!eb || !gb)
        goto done;
    px_frame e = *expected, g = *got;
    e.data = eb;
    g.data = gb;
    rc = compare_layers(&e, &g, mask, out);
    if (rc != 0 || (mask && mask->trailer))
        goto done;
    /* The trailer: the captured frame's length and, when the contents end at the
     * same place, its padding bytes. */
    uint32_t ee = e.caplen - e.padlen;
    uint32_t ge = g.caplen - g.padlen;
    if (e.caplen != g.caplen) {
        char x[16], y[16];
        snprintf(x, sizeof x, "%u", e.caplen);
        snprintf(y, sizeof y, "%u", g.caplen);
        rc = add_item(out, "length", x, y);
        out->score += e.caplen > g.caplen ? e.caplen - g.caplen : g.caplen - e.caplen;
    } else if (ee == ge) {
        rc = diff_bytes(out, "padding", ee, eb + ee, e.caplen - ee, gb + ee, g.caplen - ge);
    }
done:
    free(eb);
    free(gb);
    if (rc != 0)
        px_diff_free(out);
    return rc;
}

int px_diff_format(const px_diff *d, size_t max_items, px_buf *out)
{
    size_t n = max_items && d->n > max_items ? max_items : d->n;
    for (size_t i = 0; i < n; i++)
        px_buf_printf(out, "%s: expected %s, got %s\n", d->items[i].field, d->items[i].expected, d->items[i].got);
    if (n < d->n)
        px_buf_printf(out, "... %zu more differences\n", d->n - n);
    return out->oom ? PX_ENOMEM : 0;
}

void px_diff_free(px_diff *d)
{
    free(d->items);
    d->items = NULL;
    d->n = d->cap = 0;
    d->score = 0;
}
