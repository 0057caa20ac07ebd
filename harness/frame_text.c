/* pktexpect: the frame text form, parser and printer (include/pktexpect/text.h).
 *
 * Grammar (docs/text-form.md):
 *   frame := hex | layer ( '/' layer )*
 *   layer := Name [ '(' [ arg ( ',' arg )* ] ')' ]
 *   arg   := field '=' value | value        (a bare value only for Raw and Pad)
 *   value := '"' chars with \" \\ \n \t \r \0 \xHH escapes '"' | chars up to ',' or ')'
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_proto.h"
#include "pktexpect/build.h"
#include "pktexpect/error.h"
#include "pktexpect/text.h"

/* Layers one text may hold. Twice what a dissected frame keeps
 * (PX_FRAME_MAX_LAYERS), far above any real stack; without a bound, building
 * a text of 100 000 layers took seconds (layers look back at the ones before). */
#define MAX_TEXT_LAYERS 64

typedef struct parser {
    const char *text;
    size_t pos;
    char *val;     /* scratch for one value, strlen(text) + 1 bytes */
    size_t vlen;   /* bytes in val (a quoted string may hold NULs) */
    char *errbuf;
} parser;

static int perr(parser *ps, size_t col_pos, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int perr(parser *ps, size_t col_pos, int rc, const char *fmt, ...)
{
    if (ps->errbuf) {
        int n = snprintf(ps->errbuf, PX_ERRBUF_SIZE, "col %zu: ", col_pos + 1);
        va_list ap;
        va_start(ap, fmt);
        if (n > 0 && n < PX_ERRBUF_SIZE)
            vsnprintf(ps->errbuf + n, PX_ERRBUF_SIZE - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static void skip_ws(parser *ps)
{
    while (ps->text[ps->pos] == ' ' || ps->text[ps->pos] == '\t' || ps->text[ps->pos] == '\n' ||
           ps->text[ps->pos] == '\r')
        ps->pos++;
}

static size_t ident(parser *ps)
{
    size_t start = ps->pos;
    while (isalnum((unsigned char)ps->text[ps->pos]) || ps->text[ps->pos] == '_')
        ps->pos++;
    return ps->pos - start;
}

/* Reads one value into ps->val: a quoted string (escapes decoded) or a bare token
 * up to ',' or ')' with surrounding blanks removed. Sets *quoted. */
static int value(parser *ps, bool *quoted)
{
    const char *t = ps->text;
    size_t n = 0;
    skip_ws(ps);
    *quoted = t[ps->pos] == '"';
    if (*quoted) {
        size_t open = ps->pos++;
        for (;;) {
            char c = t[ps->pos];
            if (c == '\0')
                return perr(ps, open, PX_EPARSE, "unterminated string");
            ps->pos++;
            if (c == '"')
                break;
            if (c == '\\') {
                char e = t[ps->pos];
                if (e == '\0')
                    return perr(ps, ps->pos, PX_EPARSE, "unterminated string");
                ps->pos++;
                switch (e) {
                case 'n': c = '\n'; break;
                case 't': c = '\t'; break;
                case 'r': c = '\r'; break;
                case '0': c = '\0'; break;
                case '"':
                case '\\': c = e; break;
                case 'x': {
                    int hi = px__hexval(t[ps->pos]);
                    int lo = hi < 0 ? -1 : px__hexval(t[ps->pos + 1]);
                    if (hi < 0 || lo < 0)
                        return perr(ps, ps->pos, PX_EPARSE, "expected two hex digits after \\x");
                    c = (char)(hi << 4 | lo);
                    ps->pos += 2;
                    break;
                }
                default: return perr(ps, ps->pos - 1, PX_EPARSE, "unknown escape '\\%c'", e);
                }
            }
            ps->val[n++] = c;
        }
        skip_ws(ps);
    } else {
        while (t[ps->pos] && t[ps->pos] != ',' && t[ps->pos] != ')' && t[ps->pos] != '(' && t[ps->pos] != '/')
            ps->val[n++] = t[ps->pos++];
        while (n > 0 && isspace((unsigned char)ps->val[n - 1]))
            n--;
    }
    ps->val[n] = '\0';
    ps->vlen = n;
    return 0;
}

static int bytes_arg(parser *ps, size_t vpos, bool quoted, uint8_t **out, size_t *n)
{
    if (quoted) {
        *out = (uint8_t *)ps->val;
        *n = ps->vlen;
        return 0;
    }
    size_t cap = ps->vlen / 2 + 1;
    uint8_t *b = malloc(cap);
    if (!b)
        return perr(ps, vpos, PX_ENOMEM, "out of memory");
    int rc = px__parse_hex(ps->val, b, cap, n);
    if (rc != 0) {
        free(b);
        return perr(ps, vpos, PX_EPARSE, "expected hex bytes like 0x0102ff, got '%s'", ps->val);
    }
    *out = b;
    return 0;
}

/* Raw("text") Raw(hex=...) Raw() / Pad(n) Pad(hex=...) Pad(min=60) */
static int bytes_layer(parser *ps, px_pkt *p, px__pid pid, size_t name_pos)
{
    const char *lname = pid == PX__P_RAW ? "Raw" : "Pad";
    skip_ws(ps);
    if (ps->text[ps->pos] != '(')
        return pid == PX__P_RAW ? px_pkt_push_raw(p, "", 0) : px_pkt_push_pad(p, NULL, 0);
    ps->pos++;
    skip_ws(ps);
    if (ps->text[ps->pos] == ')') {
        ps->pos++;
        return pid == PX__P_RAW ? px_pkt_push_raw(p, "", 0) : px_pkt_push_pad(p, NULL, 0);
    }
    size_t kpos = ps->pos;
    size_t klen = ident(ps);
    skip_ws(ps);
    const char *key = "";
    if (klen > 0 && ps->text[ps->pos] == '=') {
        key = ps->text + kpos;
        ps->pos++;
    } else {
        ps->pos = kpos;
        klen = 0;
    }
    size_t vpos = ps->pos;
    bool quoted;
    int rc = value(ps, &quoted);
    if (rc != 0)
        return rc;
    uint8_t *b = NULL;
    size_t n = 0;
    bool is_hex = klen == 3 && memcmp(key, "hex", 3) == 0;
    bool is_load = klen == 4 && memcmp(key, "load", 4) == 0;
    bool is_min = klen == 3 && memcmp(key, "min", 3) == 0;
    if (pid == PX__P_RAW) {
        if (klen > 0 && !is_hex && !is_load)
            return perr(ps, kpos, PX_EPARSE, "unknown field '%.*s' in Raw; use Raw(\"text\") or Raw(hex=...)",
                        (int)klen, key);
        if (!quoted && !is_hex)
            return perr(ps, vpos, PX_EPARSE, "expected a quoted string or hex=... in Raw");
        rc = bytes_arg(ps, vpos, quoted && !is_hex, &b, &n);
        if (rc != 0)
            return rc;
        rc = px_pkt_push_raw(p, b, n);
    } else if (is_hex) {
        rc = bytes_arg(ps, vpos, false, &b, &n);
        if (rc != 0)
            return rc;
        rc = px_pkt_push_pad(p, b, n);
    } else if (klen == 0 || is_min) {
        char *end;
        unsigned long v = strtoul(ps->val, &end, 0);
        if (quoted || ps->val[0] == '\0' || *end != '\0' || ps->val[0] == '-')
            return perr(ps, vpos, PX_EPARSE, "expected a byte count in Pad, got '%s'", ps->val);
        if (v > 65535)
            return perr(ps, vpos, PX_ERANGE, "%s %lu out of range 0..65535", is_min ? "min" : "Pad", v);
        if (is_min)
            px_pkt_set_min_len(p, v);
        else
            rc = px_pkt_push_pad(p, NULL, v);
    } else {
        return perr(ps, kpos, PX_EPARSE, "unknown field '%.*s' in Pad; use Pad(n), Pad(hex=...) or Pad(min=60)",
                    (int)klen, key);
    }
    if (b && b != (uint8_t *)ps->val)
        free(b);
    if (rc != 0)
        return perr(ps, name_pos, rc, "out of memory");
    skip_ws(ps);
    if (ps->text[ps->pos] != ')')
        return perr(ps, ps->pos, PX_EPARSE, "expected ')' to close %s", lname);
    ps->pos++;
    return 0;
}

static int header_layer(parser *ps, px_pkt *p, const char *name, size_t name_pos)
{
    char err[PX_ERRBUF_SIZE];
    int rc = px_pkt_push(p, name, err);
    if (rc != 0)
        return perr(ps, name_pos, rc, "%s", err);
    skip_ws(ps);
    if (ps->text[ps->pos] != '(')
        return 0;
    ps->pos++;
    skip_ws(ps);
    if (ps->text[ps->pos] == ')') {
        ps->pos++;
        return 0;
    }
    /* A field given twice in one layer (by its name or its alias) is an error:
     * the last value silently winning hides typos like IPv4(ttl=1,ttl=2). */
    const px__proto *pr = px__proto_get(px__proto_by_name(name, strlen(name)));
    bool given[256] = {false};
    for (;;) {
        skip_ws(ps);
        size_t kpos = ps->pos;
        size_t klen = ident(ps);
        if (klen == 0)
            return perr(ps, kpos, PX_EPARSE, "expected a field name in %s", name);
        char field[64];
        snprintf(field, sizeof field, "%.*s", (int)(klen < 63 ? klen : 63), ps->text + kpos);
        int fi = pr ? px__field_index(pr, field, strlen(field)) : -1;
        if (fi >= 0 && given[fi])
            return perr(ps, kpos, PX_EPARSE, "field '%s' given twice in %s", field, name);
        skip_ws(ps);
        if (ps->text[ps->pos] != '=') {
            /* Report an unknown name before the missing '='. */
            if (fi < 0) {
                rc = px_pkt_set(p, field, "0", err);
                return perr(ps, kpos, rc, "%s", err);
            }
            return perr(ps, ps->pos, PX_EPARSE, "expected '=' after '%s'", field);
        }
        ps->pos++;
        skip_ws(ps);
        size_t vpos = ps->pos;
        bool quoted;
        rc = value(ps, &quoted);
        if (rc != 0)
            return rc;
        if (strlen(ps->val) != ps->vlen)
            return perr(ps, vpos, PX_EPARSE, "NUL byte in the value of '%s'", field);
        rc = px_pkt_set(p, field, ps->val, err);
        if (rc != 0)
            return perr(ps, strstr(err, "unknown field") ? kpos : vpos, rc, "%s", err);
        if (fi >= 0)
            given[fi] = true;
        skip_ws(ps);
        if (ps->text[ps->pos] == ',') {
            ps->pos++;
            continue;
        }
        if (ps->text[ps->pos] == ')') {
            ps->pos++;
            return 0;
        }
        return perr(ps, ps->pos, PX_EPARSE, "expected ',' or ')' in %s", name);
    }
}

/* Plain hex: only hex digits, blanks, ':' / '-' separators, an optional 0x. */
static bool looks_hex(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    bool digit = false;
    for (; *s; s++) {
        if (px__hexval(*s) >= 0)
            digit = true;
        else if (!isspace((unsigned char)*s) && *s != ':' && *s != '-')
            return false;
    }
    return digit;
}

static int parse_hex_frame(parser *ps, px_pkt *p)
{
    const char *s = ps->text;
    while (isspace((unsigned char)*s))
        s++;
    size_t cap = strlen(s) / 2 + 1, n = 0;
    uint8_t *b = malloc(cap);
    if (!b)
        return perr(ps, 0, PX_ENOMEM, "out of memory");
    int rc = px__parse_hex(s, b, cap, &n);
    if (rc != 0) {
        free(b);
        /* find the offending column: the first digit that has no partner */
        return perr(ps, (size_t)(s - ps->text), PX_EPARSE, "hex frame needs an even number of hex digits per byte");
    }
    rc = px_pkt_push_raw(p, b, n);
    free(b);
    return rc != 0 ? perr(ps, 0, rc, "out of memory") : 0;
}

int px_pkt_parse_text(const char *text, px_pkt **out, char errbuf[])
{
    parser ps = {.text = text, .pos = 0, .errbuf = errbuf};
    px_pkt *p = px_pkt_new();
    ps.val = malloc(strlen(text) + 1);
    int rc = 0;
    if (!p || !ps.val) {
        rc = perr(&ps, 0, PX_ENOMEM, "out of memory");
        goto done;
    }
    if (looks_hex(text)) {
        rc = parse_hex_frame(&ps, p);
        goto done;
    }
    for (unsigned nlayers = 0;; nlayers++) {
        skip_ws(&ps);
        size_t npos = ps.pos;
        if (nlayers == MAX_TEXT_LAYERS) {
            rc = perr(&ps, npos, PX_EPARSE, "more than %d layers", MAX_TEXT_LAYERS);
            goto done;
        }
        size_t nlen = ident(&ps);
        if (nlen == 0) {
            rc = perr(&ps, npos, PX_EPARSE, "expected a layer name (Ether, Dot1Q, IPv4, UDP, Raw, ...)");
            goto done;
        }
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(nlen < 63 ? nlen : 63), text + npos);
        px__pid pid = px__proto_by_name(name, strlen(name));
        if (pid == PX__P_RAW || pid == PX__P_PAD)
            rc = bytes_layer(&ps, p, pid, npos);
        else
            rc = header_layer(&ps, p, name, npos);
        if (rc != 0)
            goto done;
        skip_ws(&ps);
        if (text[ps.pos] == '\0')
            break;
        if (text[ps.pos] != '/') {
            rc = perr(&ps, ps.pos, PX_EPARSE, "expected '/' between layers or the end of the text");
            goto done;
        }
        ps.pos++;
    }
done:
    free(ps.val);
    if (rc != 0) {
        px_pkt_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int px_frame_parse_text(const char *text, uint8_t **bytes, size_t *len, char errbuf[])
{
    return px_frame_parse_text_ex(text, bytes, len, NULL, errbuf);
}

int px_frame_parse_text_ex(const char *text, uint8_t **bytes, size_t *len, unsigned *flags, char errbuf[])
{
    px_pkt *p;
    int rc = px_pkt_parse_text(text, &p, errbuf);
    if (rc != 0)
        return rc;
    if (flags) {
        *flags = 0;
        px__pid pid;
        uint32_t set;
        px__pkt_layer_info(p, 0, &pid, &set);
        int src = px__field_index(px__proto_get(PX__P_ETHER), "src", 3);
        if (pid == PX__P_ETHER && src >= 0 && !(set & (1u << src)))
            *flags |= PX_TEXT_SRC_MAC_UNSET;
    }
    rc = px_pkt_build(p, bytes, len, errbuf);
    px_pkt_free(p);
    if (rc != 0 && errbuf && strncmp(errbuf, "col ", 4) != 0) {
        /* A text that parses but builds nothing (only Pad modifiers, say) is
         * wrong as a whole: say so at column 1 like every other text error. */
        char why[PX_ERRBUF_SIZE];
        snprintf(why, sizeof why, "%s", errbuf);
        snprintf(errbuf, PX_ERRBUF_SIZE, "col 1: %s", why);
    }
    return rc;
}

/* ---- printing a frame in the text form ---- */

static void append_hex(px_buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        px_buf_printf(b, "%02x", p[i]);
}

static void append_bytes_layer(px_buf *b, const char *name, const uint8_t *p, size_t n)
{
    bool text = n > 0;
    for (size_t i = 0; i < n && text; i++)
        text = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\';
    if (text) {
        px_buf_printf(b, "%s(\"", name);
        px_buf_append_n(b, (const char *)p, n);
        px_buf_append(b, "\")");
    } else {
        px_buf_printf(b, "%s(hex=", name);
        append_hex(b, p, n);
        px_buf_append(b, ")");
    }
}

/* Writes the text of `f`, printing the auto fields marked in forced[i] (or all
 * auto fields when `all_auto`). */
static void gen_text(const px_frame *f, const uint32_t *forced, bool all_auto, px_buf *b)
{
    uint32_t covered = 0;
    for (unsigned i = 0; i < f->nlayers; i++) {
        const px_layer *l = &f->layers[i];
        const uint8_t *h = f->data + l->off;
        px__pid pid = px__proto_of_layer(f, l);
        const px__proto *pr = px__proto_get(pid);
        if (i > 0)
            px_buf_append(b, "/");
        covered = l->off + l->len;
        if (pid == PX__P_RAW) {
            append_bytes_layer(b, "Raw", h, l->len);
            continue;
        }
        px_buf_append(b, pr->name);
        bool open = false;
        for (int fi = 0; fi < pr->nfields; fi++) {
            const px__field *fd = &pr->fields[fi];
            char got[160], def[160];
            if (!px__field_format(pr, fi, h, l->len, got, sizeof got))
                continue;
            bool is_auto = fd->flags & PX__FF_AUTO;
            if (is_auto && !all_auto && !(forced[i] & (1u << fi)))
                continue;
            if (!is_auto && px__field_format(pr, fi, pr->defaults, pr->hlen, def, sizeof def) && strcmp(got, def) == 0)
                continue;
            if (fd->type == PX__F_BYTES && got[0] == '\'')
                snprintf(got, sizeof got, "\"\"");
            px_buf_printf(b, "%s%s=%s", open ? "," : "(", fd->name, got);
            open = true;
        }
        /* GRE: the C flag has no field of its own to imply it. */
        if (pid == PX__P_GRE && (h[0] & 0x80) && !all_auto && !(forced[i] & 1u)) {
            px_buf_printf(b, "%sc=1", open ? "," : "(");
            open = true;
        }
        if (open)
            px_buf_append(b, ")");
    }
    uint32_t content_end = f->caplen - f->padlen;
    if (covered < content_end) {
        if (f->nlayers > 0)
            px_buf_append(b, "/");
        append_bytes_layer(b, "Raw", f->data + covered, content_end - covered);
    }
    if (f->padlen > 0) {
        const uint8_t *pad = f->data + content_end;
        bool zero = true;
        for (uint32_t i = 0; i < f->padlen && zero; i++)
            zero = pad[i] == 0;
        if (zero) {
            px_buf_printf(b, "/Pad(%u)", f->padlen);
        } else {
            px_buf_append(b, "/Pad(hex=");
            append_hex(b, pad, f->padlen);
            px_buf_append(b, ")");
        }
    }
}

/* Marks in forced[] the auto fields where `got` (rebuilt) differs from `f`
 * among the leading layers both frames share. Returns how many were new. */
static unsigned mark_mismatches(const px_frame *f, const px_frame *got, uint32_t *forced)
{
    unsigned marked = 0;
    for (unsigned i = 0; i < f->nlayers && i < got->nlayers; i++) {
        const px_layer *a = &f->layers[i], *g = &got->layers[i];
        if (a->kind != g->kind || a->off != g->off)
            break;
        px__pid pid = px__proto_of_layer(f, a);
        if (pid != px__proto_of_layer(got, g))
            break;
        const px__proto *pr = px__proto_get(pid);
        for (int fi = 0; fi < pr->nfields; fi++) {
            if (!(pr->fields[fi].flags & PX__FF_AUTO) || (forced[i] & (1u << fi)))
                continue;
            char x[160], y[160];
            bool hx = px__field_format(pr, fi, f->data + a->off, a->len, x, sizeof x);
            bool hy = px__field_format(pr, fi, got->data + g->off, g->len, y, sizeof y);
            if (hx != hy || (hx && strcmp(x, y) != 0)) {
                forced[i] |= 1u << fi;
                marked++;
            }
        }
        if (a->len != g->len)
            break;
    }
    return marked;
}

int px_frame_to_text(const px_frame *f, px_buf *out)
{
    uint32_t forced[PX_FRAME_MAX_LAYERS] = {0};
    bool all_auto = false;
    px_buf b = PX_BUF_INIT;
    int rc = 0;
    /* Not even an Ethernet header: plain hex says it best. */
    for (int attempt = 0; attempt < 6 && f->nlayers > 0; attempt++) {
        px_buf_clear(&b);
        gen_text(f, forced, all_auto, &b);
        if (b.oom) {
            rc = PX_ENOMEM;
            break;
        }
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (px_frame_parse_text(px_buf_cstr(&b), &bytes, &len, NULL) != 0) {
            free(bytes);
            break;
        }
        if (len == f->caplen && memcmp(bytes, f->data, len) == 0) {
            free(bytes);
            px_buf_append(out, px_buf_cstr(&b));
            px_buf_free(&b);
            return out->oom ? PX_ENOMEM : 0;
        }
        px_frame got;
        px_frame_dissect(&got, bytes, (uint32_t)len, (uint32_t)len);
        unsigned marked = mark_mismatches(f, &got, forced);
        free(bytes);
        if (marked == 0) {
            if (all_auto)
                break;
            all_auto = true;
        }
    }
    px_buf_free(&b);
    if (rc != 0)
        return rc;
    /* Not expressible field by field: plain hex always round-trips. */
    if (f->caplen == 0) {
        px_buf_append(out, "Raw()");
    } else {
        for (uint32_t i = 0; i < f->caplen; i++)
            px_buf_printf(out, "%02x", f->data[i]);
    }
    return out->oom ? PX_ENOMEM : 0;
}
