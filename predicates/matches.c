/* pktexpect: matches(expected, ignore=[...], allow_padding=) -- a captured frame
 * equal to an expected one, field by field, under a mask (what packet test
 * frameworks call verify_packet).
 *
 * The expected frame (text form or plain hex, optionally derived by edits:
 * set=[ipv4.ttl-=1], px_frame_derive; or bytes and a mask built in C) is built
 * and dissected once, at construction; each captured frame is compared with the frames engineer's diff
 * (include/pktexpect/diff.h), whose score also picks the closest frame for the
 * FAIL explanation ("closest was frame #2: ipv4.ttl: expected 63, got 64").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_proto.h"
#include "pred_internal.h"
#include "pktexpect/diff.h"
#include "pktexpect/build.h"
#include "pktexpect/error.h"
#include "pktexpect/text.h"

typedef struct {
    px__ftest head;
    uint8_t *bytes;     /* the expected frame, owned */
    size_t len;
    px_frame expected;  /* view over bytes */
    px_diff_mask *mask;
    char *text;         /* as given, for describe */
    char *set;          /* edits applied to the expected frame, as given (NULL: none) */
    char *ignore;       /* comma-separated, as given (NULL: none) */
    bool allow_padding;
} matches_st;

/* Differences shown in an explanation at most. */
#define MAX_SHOWN 8

/* End of a balanced "(...)" starting at `p` (on the '('), strings skipped; the
 * position after the ')' or of the NUL. */
static const char *skip_parens(const char *p)
{
    int depth = 0;
    bool in_str = false;
    for (; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_str = false;
        } else if (*p == '"') {
            in_str = true;
        } else if (*p == '(') {
            depth++;
        } else if (*p == ')' && --depth == 0) {
            return p + 1;
        }
    }
    return p;
}

/* True when the expected frame's text gave field `label` of a diff ("ipv4.id",
 * "vlan[1].vid": layer short name, occurrence, field) in hex ("id=0x1234"). A
 * diff then shows that field in hex too, in the base the user wrote it. */
static bool written_in_hex(const char *text, const char *label)
{
    const char *dot = strchr(label, '.');
    size_t ln = strcspn(label, "[.");
    if (!dot)
        return false;
    unsigned occ = label[ln] == '[' ? (unsigned)strtoul(label + ln + 1, NULL, 10) : 0, seen = 0;
    const char *field = dot + 1;
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t nl = 0;
        while (isalnum((unsigned char)p[nl]) || p[nl] == '_')
            nl++;
        px__pid pid = px__proto_by_name(p, nl);
        const char *q = p + nl, *args = NULL;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '(') {
            args = q + 1;
            q = skip_parens(q);
        }
        const px__proto *pr = pid < PX__P_COUNT ? px__proto_get(pid) : NULL;
        if (pr && strlen(pr->short_name) == ln && !strncmp(pr->short_name, label, ln) && seen++ == occ) {
            const px__field *fd = NULL;
            for (int i = 0; i < pr->nfields && !fd; i++)
                if (!strcmp(pr->fields[i].name, field))
                    fd = &pr->fields[i];
            if (!fd || !args)
                return false;
            /* key=value pairs up to the layer's ')' (q - 1) */
            for (const char *a = args; a < q - 1;) {
                while (*a == ' ' || *a == '\t' || *a == ',')
                    a++;
                size_t kn = 0;
                while (isalnum((unsigned char)a[kn]) || a[kn] == '_')
                    kn++;
                const char *v = a + kn;
                while (*v == ' ' || *v == '\t')
                    v++;
                if (kn && *v == '=') {
                    v++;
                    while (*v == ' ' || *v == '\t')
                        v++;
                    bool key = (strlen(fd->name) == kn && !strncmp(fd->name, a, kn)) ||
                               (fd->alias && strlen(fd->alias) == kn && !strncmp(fd->alias, a, kn));
                    if (key)
                        return v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
                }
                /* to the next top-level ',' of the layer */
                const char *e = v;
                while (e < q - 1 && *e != ',') {
                    if (*e == '(' || *e == '"') {
                        e = *e == '(' ? skip_parens(e) : strchr(e + 1, '"');
                        if (!e)
                            return false;
                        if (*e == '"')
                            e++;
                        continue;
                    }
                    e++;
                }
                if (e <= a)
                    break;
                a = e;
            }
            return false;
        }
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q != '/')
            return false;
        p = q + 1;
    }
}

/* Rewrites a decimal value in hex ("4660" -> "0x1234"); anything else as is. */
static void decimal_to_hex(char *v, size_t size)
{
    if (!*v || strspn(v, "0123456789") != strlen(v))
        return;
    unsigned long long n = strtoull(v, NULL, 10);
    snprintf(v, size, "0x%llx", n);
}

static unsigned matches_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const matches_st *st = (const matches_st *)self;
    px_diff d = PX_DIFF_INIT;
    px_frame prefix;
    if (st->allow_padding && f->caplen > st->len) {
        /* Padding: compare the captured frame cut to the expected length, so that
         * the bytes after it are neither a length nor a layer difference (e.g. an
         * ARP frame padded to 60 bytes dissects its padding as payload). */
        prefix = *f;
        px_frame_dissect(&prefix, f->data, (uint32_t)st->len, (uint32_t)st->len);
        prefix.ts = f->ts;
        prefix.port = f->port;
        prefix.dir = f->dir;
        prefix.flags = f->flags; /* PX_FRAME_CSUM_NOT_READY: see px_frame_diff */
        f = &prefix;
    }
    if (px_frame_diff(&st->expected, f, st->mask, &d) != 0) {
        px_diff_free(&d);
        if (why)
            px_buf_append(why, "out of memory while comparing");
        return UINT32_MAX;
    }
    /* The score counts differences only: an L4 checksum not computed yet
     * (PX_FRAME_CSUM_NOT_READY) is listed with a note but scores nothing. */
    unsigned score = d.score;
    if (why && score) {
        for (size_t i = 0; i < d.n; i++) {
            px_diff_item *it = &d.items[i];
            if (written_in_hex(st->text, it->field)) {
                decimal_to_hex(it->expected, sizeof it->expected);
                decimal_to_hex(it->got, sizeof it->got);
            }
        }
        px_buf lines = PX_BUF_INIT;
        px_diff_format(&d, MAX_SHOWN, &lines);
        /* one line per difference -> "a; b; c" for a one-line explanation */
        const char *s = px_buf_cstr(&lines);
        size_t n = strlen(s);
        while (n && s[n - 1] == '\n')
            n--;
        if (why->len)
            px_buf_append(why, "; ");
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '\n')
                px_buf_append(why, "; ");
            else
                px_buf_append_n(why, &s[i], 1);
        }
        px_buf_free(&lines);
    }
    px_diff_free(&d);
    return score;
}

static bool bare_name(const char *s, size_t n)
{
    if (n == 0 || !isalpha((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.'))
            return false;
    return true;
}

static void matches_args(const px__ftest *self, px_buf *out)
{
    const matches_st *st = (const matches_st *)self;
    /* A frame in the text form reads back bare (Ether/IPv4/UDP, parentheses
     * optional); hex, or a single bare word, stays a string. */
    if (isupper((unsigned char)st->text[0]) && strpbrk(st->text, "(/"))
        px_buf_append(out, st->text);
    else
        px__quote(out, st->text, strlen(st->text));
    if (st->set) {
        /* edits as given, one item each (a ',' inside +vlan(...) stays) */
        px_buf_append(out, ", set=[");
        const char *s = st->set;
        bool first = true;
        while (*s) {
            s += strspn(s, ", \t\n");
            size_t n = 0;
            int depth = 0;
            while (s[n] && (depth > 0 || s[n] != ',')) {
                depth += s[n] == '(' ? 1 : s[n] == ')' ? -1 : 0;
                n++;
            }
            size_t k = n;
            while (k && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '\n'))
                k--;
            if (k) {
                px_buf_printf(out, "%s%.*s", first ? "" : ", ", (int)k, s);
                first = false;
            }
            s += n;
        }
        px_buf_append(out, "]");
    }
    if (st->ignore) {
        px_buf_append(out, ", ignore=[");
        const char *s = st->ignore;
        bool first = true;
        while (*s) {
            while (*s == ',' || *s == ' ' || *s == '\t')
                s++;
            size_t n = strcspn(s, ", \t");
            if (n == 0)
                break;
            if (!first)
                px_buf_append(out, ", ");
            if (bare_name(s, n))
                px_buf_append_n(out, s, n);
            else
                px__quote(out, s, n);
            first = false;
            s += n;
        }
        px_buf_append(out, "]");
    }
    if (st->allow_padding)
        px_buf_append(out, ", allow_padding=true");
}

static void matches_cleanup(px__ftest *self)
{
    matches_st *st = (matches_st *)self;
    free(st->bytes);
    px_diff_mask_free(st->mask);
    free(st->text);
    free(st->set);
    free(st->ignore);
}

/* No key: masks (ignore=, bit ranges, allow_padding) can hide any field a key reads. */
static const px__ftest_vt matches_vt = {matches_test, matches_args, matches_cleanup, NULL};

/* Takes bytes, mask, text, set and ignore (owned, also on failure). */
static px_predicate *make(uint8_t *bytes, size_t len, px_diff_mask *mask, char *text, char *set, char *ignore,
                          bool allow_padding, char *errbuf)
{
    int rc = 0;
    matches_st *st = calloc(1, sizeof *st);
    if (!st || !text) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
        rc = PX_ENOMEM;
    }
    if (rc == 0 && len > UINT32_MAX) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "expected frame too long");
        rc = PX_ERANGE;
    }
    /* A range past the expected frame is a mistake, unless allow_padding
     * (then it names bytes that the trailer ignores anyway). */
    if (rc == 0 && !allow_padding)
        rc = px_diff_mask_check_len(mask, len, errbuf);
    if (rc == 0 && allow_padding)
        rc = px_diff_mask_add(mask, "trailer", errbuf);
    if (rc != 0) {
        free(bytes);
        px_diff_mask_free(mask);
        free(text);
        free(set);
        free(ignore);
        free(st);
        /* A refused frame or mask keeps its reason in the predicate (predicates.h). */
        return rc == PX_ENOMEM ? NULL : px__pred_refused("matches", "%s", errbuf);
    }
    px__ftest_init(&st->head, &matches_vt, "matches");
    st->allow_padding = allow_padding;
    st->bytes = bytes;
    st->len = len;
    st->mask = mask;
    st->text = text;
    st->set = set;
    st->ignore = ignore;
    px_frame_dissect(&st->expected, st->bytes, (uint32_t)st->len, (uint32_t)st->len);
    return px__ftest_wrap(&st->head, false);
}

static char *dup_opt(const char *s, bool *oom)
{
    if (!s || !*s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

px_predicate *px_matches_edit(const char *expected, const char *set, const char *ignore, bool allow_padding,
                              char *errbuf)
{
    char local[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = local;
    errbuf[0] = '\0';
    if (!expected) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "matches: no expected frame");
        return px__pred_refused("matches", "no expected frame");
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    px_diff_mask *mask = NULL;
    int rc = px_frame_parse_text(expected, &bytes, &len, errbuf);
    if (rc == 0 && set && *set) {
        uint8_t *derived;
        size_t dlen;
        char eb[PX_ERRBUF_SIZE];
        rc = px_frame_derive(bytes, len, set, &derived, &dlen, eb);
        if (rc == 0) {
            free(bytes);
            bytes = derived;
            len = dlen;
        } else {
            snprintf(errbuf, PX_ERRBUF_SIZE, "set: %s", eb);
        }
    }
    if (rc == 0 && !(mask = px_diff_mask_new())) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
        rc = PX_ENOMEM;
    }
    if (rc == 0 && ignore && *ignore)
        rc = px_diff_mask_add_list(mask, ignore, errbuf);
    if (rc != 0) {
        free(bytes);
        px_diff_mask_free(mask);
        /* A refused text or mask keeps its reason in the predicate (predicates.h). */
        return rc == PX_ENOMEM ? NULL : px__pred_refused("matches", "%s", errbuf);
    }
    bool oom = false;
    char *t = strdup(expected), *s = dup_opt(set, &oom), *i = dup_opt(ignore, &oom);
    if (oom) {
        free(t);
        t = NULL; /* make() reports it */
    }
    return make(bytes, len, mask, t, s, i, allow_padding, errbuf);
}

px_predicate *px_matches(const char *expected, const char *ignore, bool allow_padding, char *errbuf)
{
    return px_matches_edit(expected, NULL, ignore, allow_padding, errbuf);
}

px_predicate *px_matches_frame(const uint8_t *expected, size_t len, const px_diff_mask *mask, bool allow_padding,
                               char *errbuf)
{
    char local[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = local;
    errbuf[0] = '\0';
    if (!expected || len == 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "matches: no expected frame");
        return px__pred_refused("matches", "no expected frame");
    }
    uint8_t *bytes = malloc(len);
    px_diff_mask *m = px_diff_mask_copy(mask);
    px_buf text = PX_BUF_INIT, ign = PX_BUF_INIT;
    px_frame f;
    if (bytes) {
        memcpy(bytes, expected, len);
        /* the text form for describe(), so that the message reads back */
        px_frame_dissect(&f, bytes, (uint32_t)(len > UINT32_MAX ? UINT32_MAX : len),
                         (uint32_t)(len > UINT32_MAX ? UINT32_MAX : len));
        px_frame_to_text(&f, &text);
    }
    px_diff_mask_format(m, &ign);
    bool oom = !bytes || !m || text.oom || ign.oom;
    char *t = oom ? NULL : px_buf_steal(&text);
    char *i = !oom && ign.len ? px_buf_steal(&ign) : NULL;
    px_buf_free(&text);
    px_buf_free(&ign);
    return make(bytes, len, m ? m : px_diff_mask_new(), t, NULL, i, allow_padding, errbuf);
}
