/* pktexpect: the expression language's lexer and values: words, integers,
 * MAC and IP addresses, strings, frames in the text form, lists, and the
 * dispatch on a value's first character (px__expr_parse_value). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_internal.h"

#define MAX_DEPTH 64

/* ---- values ---- */

void px__expr_value_free(px_expr_value *v)
{
    if (!v)
        return;
    free(v->str);
    px_predicate_free(v->pred);
    for (size_t i = 0; i < v->nitems; i++)
        px__expr_value_free(&v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

const char *px__expr_type_name(unsigned t)
{
    switch (t) {
    case PX_EXPR_INT: return "an integer";
    case PX_EXPR_BOOL: return "true or false";
    case PX_EXPR_STRING: return "a string";
    case PX_EXPR_MAC: return "a MAC address";
    case PX_EXPR_IP: return "an IP address or prefix";
    case PX_EXPR_PRED: return "a predicate";
    case PX_EXPR_FRAME: return "a frame";
    case PX_EXPR_NAME: return "a name";
    case PX_EXPR_LIST: return "a list";
    case PX_EXPR_EDIT: return "an edit (ipv4.ttl-=1, +vlan(102))";
    }
    return "a value";
}

/* A word: letters, digits, '_', '.', ':' and, after an address, "/digits". */
size_t px__expr_word_end(const parser *P, size_t start)
{
    size_t e = start;
    bool addr = false;
    while (is_word_char(P->text[e])) {
        if (P->text[e] == '.' || P->text[e] == ':')
            addr = true;
        e++;
    }
    if (addr && P->text[e] == '/' && isdigit((unsigned char)P->text[e + 1])) {
        e++;
        while (isdigit((unsigned char)P->text[e]))
            e++;
    }
    return e;
}

bool px__expr_parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    size_t i = 0;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i >= n)
        return false;
    for (; i < n; i++) {
        int d;
        char c = s[i];
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return false;
        v = v * base + (uint64_t)d;
    }
    *out = v;
    return true;
}

static bool parse_mac(const char *s, size_t n, uint8_t mac[6])
{
    size_t i = 0;
    for (int k = 0; k < 6; k++) {
        unsigned v = 0, digits = 0;
        while (i < n && isxdigit((unsigned char)s[i]) && digits < 2) {
            char c = s[i++];
            v = v * 16 + (unsigned)(isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10);
            digits++;
        }
        if (digits == 0)
            return false;
        mac[k] = (uint8_t)v;
        if (k < 5) {
            if (i >= n || s[i] != ':')
                return false;
            i++;
        }
    }
    return i == n;
}

/* An address with an optional /len. */
static int parse_ip(parser *P, const char *s, size_t n, size_t at, px_ip_prefix *out)
{
    char buf[64];
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    if (alen >= sizeof buf)
        goto bad;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = 4;
        out->len = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = 6;
        out->len = 128;
    } else {
        goto bad;
    }
    if (slash) {
        uint64_t len;
        if (!px__expr_parse_u64(slash + 1, n - alen - 1, &len) || len > out->len) {
            px__expr_fail(P, PX_ERANGE, at, "prefix length of '%.*s' must be 0..%u", (int)n, s, out->len);
            return -1;
        }
        out->len = (uint8_t)len;
        /* Host bits must be zero, so that the prefix means what it shows. */
        for (unsigned b = out->len; b < (out->family == 6 ? 128u : 32u); b++)
            if (out->addr[b / 8] & (0x80u >> (b % 8))) {
                px__expr_fail(P, PX_ERANGE, at, "prefix '%.*s' has bits set after /%u", (int)n, s, out->len);
                return -1;
            }
    }
    return 0;
bad:
    px__expr_fail(P, PX_EPARSE, at, "'%.*s' is not an integer, MAC address, IP address or name", (int)n, s);
    return -1;
}

static int parse_string(parser *P, px_expr_value *v)
{
    size_t start = P->pos;
    P->pos++; /* opening quote */
    px_buf b = PX_BUF_INIT;
    for (;;) {
        char c = P->text[P->pos];
        if (c == '\0') {
            px_buf_free(&b);
            px__expr_fail(P, PX_EPARSE, start, "string not closed (missing '\"')");
            return -1;
        }
        P->pos++;
        if (c == '"')
            break;
        if (c != '\\') {
            px_buf_append_n(&b, &c, 1);
            continue;
        }
        char e = P->text[P->pos];
        char out;
        switch (e) {
        case '"': out = '"'; break;
        case '\\': out = '\\'; break;
        case 'n': out = '\n'; break;
        case 't': out = '\t'; break;
        case 'r': out = '\r'; break;
        case '0': out = '\0'; break;
        case 'x': {
            char hex[5] = {'0', 'x', P->text[P->pos + 1], 0, 0};
            uint64_t x;
            if (hex[2])
                hex[3] = P->text[P->pos + 2];
            if (!isxdigit((unsigned char)hex[2]) || !isxdigit((unsigned char)hex[3]) ||
                !px__expr_parse_u64(hex, 4, &x)) {
                px_buf_free(&b);
                px__expr_fail(P, PX_EPARSE, P->pos - 1, "\\x needs two hex digits");
                return -1;
            }
            out = (char)x;
            P->pos += 2;
            break;
        }
        default:
            px_buf_free(&b);
            px__expr_fail(P, PX_EPARSE, P->pos - 1, "unknown escape '\\%c' (use \\\" \\\\ \\n \\t \\r \\0 \\xHH)",
                 e ? e : '0');
            return -1;
        }
        P->pos++;
        px_buf_append_n(&b, &out, 1);
    }
    if (b.oom) {
        px_buf_free(&b);
        px__expr_fail(P, PX_ENOMEM, start, "out of memory");
        return -1;
    }
    v->type = PX_EXPR_STRING;
    v->len = b.len;
    v->str = b.data ? px_buf_steal(&b) : dup_n("", 0);
    if (!v->str) {
        px__expr_fail(P, PX_ENOMEM, start, "out of memory");
        return -1;
    }
    return 0;
}

/* Frame text form: Layer(...)/Layer/..., kept as text for the factory. As in
 * the text form itself (docs/text-form.md), a layer's parentheses may be left
 * out and blanks may surround '/' and '('; the frame ends after its last layer. */
static int parse_frame(parser *P, px_expr_value *v)
{
    size_t start = P->pos;
    for (;;) {
        while (isalnum((unsigned char)P->text[P->pos]) || P->text[P->pos] == '_')
            P->pos++;
        size_t end = P->pos;
        skip_ws(P);
        if (P->text[P->pos] == '(') {
            int depth = 0;
            bool in_str = false;
            do {
                char c = P->text[P->pos];
                if (c == '\0') {
                    px__expr_fail(P, PX_EPARSE, start, "frame not closed (missing ')')");
                    return -1;
                }
                if (in_str) {
                    if (c == '\\' && P->text[P->pos + 1])
                        P->pos++;
                    else if (c == '"')
                        in_str = false;
                } else if (c == '"') {
                    in_str = true;
                } else if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                }
                P->pos++;
            } while (depth > 0);
            end = P->pos;
            skip_ws(P);
        }
        if (P->text[P->pos] == '/') {
            P->pos++;
            skip_ws(P);
            if (isalpha((unsigned char)P->text[P->pos]))
                continue;
        }
        P->pos = end; /* blanks after the frame belong to what follows */
        break;
    }
    v->type = PX_EXPR_FRAME;
    v->len = P->pos - start;
    v->str = dup_n(P->text + start, v->len);
    if (!v->str) {
        px__expr_fail(P, PX_ENOMEM, start, "out of memory");
        return -1;
    }
    return 0;
}

/* Appends a zeroed item to a LIST value and returns it, or NULL without memory.
 * The capacity is implicit in nitems (4, 8, 16, ...: doubled when nitems reaches
 * a power of two), so px_expr_value needs no capacity field and a long argument
 * list (any_of with thousands of arguments) costs amortised O(1) per item. */
px_expr_value *px__expr_push_item(px_expr_value *list)
{
    size_t n = list->nitems;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        size_t cap = n ? 2 * n : 4;
        if (cap > SIZE_MAX / sizeof *list->items)
            return NULL;
        px_expr_value *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return NULL;
        list->items = items;
    }
    px_expr_value *it = &list->items[list->nitems++];
    memset(it, 0, sizeof *it);
    return it;
}

static int parse_list(parser *P, px_expr_value *v)
{
    size_t start = P->pos;
    P->pos++; /* '[' */
    v->type = PX_EXPR_LIST;
    skip_ws(P);
    if (P->text[P->pos] == ']') {
        P->pos++;
        return 0;
    }
    for (;;) {
        px_expr_value *it = px__expr_push_item(v);
        if (!it) {
            px__expr_fail(P, PX_ENOMEM, start, "out of memory");
            return -1;
        }
        if (px__expr_parse_value(P, it) < 0)
            return -1;
        if (it->type == PX_EXPR_LIST) {
            px__expr_fail(P, PX_EPARSE, it->column - 1, "lists cannot be nested");
            return -1;
        }
        skip_ws(P);
        if (P->text[P->pos] == ',') {
            P->pos++;
            continue;
        }
        if (P->text[P->pos] == ']') {
            P->pos++;
            return 0;
        }
        px__expr_fail(P, PX_EPARSE, P->pos, "expected ',' or ']' in the list opened at col %zu", start + 1);
        return -1;
    }
}

/* Length of a frame edit at `at` (px_frame_derive): "+vlan(...)", "-vlan", or
 * layer[N].field followed by "=", "-=" or "+=" (not "=="); 0 when the text
 * there is not one. */
static size_t edit_len(const parser *P, size_t at)
{
    const char *t = P->text + at;
    size_t i = 0;
    if ((t[0] == '+' || t[0] == '-') && isalpha((unsigned char)t[1])) {
        i = 1;
    } else {
        if (!is_name_start(t[0]))
            return 0;
        while (isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '[' || t[i] == ']')
            i++;
        size_t k = i;
        while (t[k] == ' ' || t[k] == '\t')
            k++;
        bool op = (t[k] == '=' && t[k + 1] != '=') || ((t[k] == '-' || t[k] == '+') && t[k + 1] == '=');
        if (!op || !memchr(t, '.', i))
            return 0;
    }
    /* to the ',' ']' or ')' that ends the value, parentheses balanced */
    int depth = 0;
    while (t[i] && (depth > 0 || (t[i] != ',' && t[i] != ']' && t[i] != ')'))) {
        depth += t[i] == '(' ? 1 : t[i] == ')' ? -1 : 0;
        i++;
    }
    while (i && (t[i - 1] == ' ' || t[i - 1] == '\t' || t[i - 1] == '\n' || t[i - 1] == '\r'))
        i--;
    return i;
}

int px__expr_parse_value(parser *P, px_expr_value *v)
{
    skip_ws(P);
    memset(v, 0, sizeof *v);
    size_t at = P->pos;
    v->column = (unsigned)at + 1;
    char c = P->text[at];
    if (++P->depth > MAX_DEPTH) {
        px__expr_fail(P, PX_ERANGE, at, "nested more than %d levels deep", MAX_DEPTH);
        return -1;
    }
    int rc = -1;
    size_t elen = edit_len(P, at);
    if (elen) {
        v->type = PX_EXPR_EDIT;
        v->len = elen;
        v->str = dup_n(P->text + at, elen);
        P->pos = at + elen;
        rc = v->str ? 0 : -1;
        if (rc)
            px__expr_fail(P, PX_ENOMEM, at, "out of memory");
    } else if (c == '"') {
        rc = parse_string(P, v);
    } else if (c == '[') {
        rc = parse_list(P, v);
    } else if (is_word_char(c)) {
        size_t e = px__expr_word_end(P, at);
        size_t after = e;
        while (P->text[after] == ' ' || P->text[after] == '\t')
            after++;
        const char *w = P->text + at;
        size_t n = e - at;
        bool plain_name = true;
        for (size_t i = 0; i < n; i++)
            if (!(isalnum((unsigned char)w[i]) || w[i] == '_'))
                plain_name = false;
        /* An upper-case word starts a frame, with or without parentheses
         * (Ether/IPv4/UDP): no name of the language starts with one. */
        bool range = (n >= 5 && !memcmp(w, "bits:", 5)) || (n >= 6 && !memcmp(w, "bytes:", 6));
        if (range) {
            /* a mask range, bits:96-111 or bits:96+16: a name, not an address */
            while (isdigit((unsigned char)P->text[e]) || P->text[e] == '-' || P->text[e] == '+')
                e++;
            v->type = PX_EXPR_NAME;
            v->len = e - at;
            v->str = dup_n(w, v->len);
            P->pos = e;
            rc = v->str ? 0 : -1;
            if (rc)
                px__expr_fail(P, PX_ENOMEM, at, "out of memory");
        } else if (isupper((unsigned char)c) && plain_name) {
            rc = parse_frame(P, v);
        } else if (is_name_start(c) && plain_name && P->text[after] == '(') {
            rc = px__expr_parse_call(P, v, at, e);
            if (rc == 0) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)n, w);
                const px_expr_def *d = px_registry_find(P->reg, name);
                rc = px__expr_parse_comparison(P, v, at, d && d->factory == px__count_factory);
            }
        } else if (memchr(w, ':', n) && parse_mac(w, n, v->mac)) {
            v->type = PX_EXPR_MAC;
            P->pos = e;
            rc = 0;
        } else if (memchr(w, ':', n) || (isdigit((unsigned char)c) && memchr(w, '.', n))) {
            P->pos = e;
            v->type = PX_EXPR_IP;
            rc = parse_ip(P, w, n, at, &v->ip);
        } else if (isdigit((unsigned char)c)) {
            uint64_t x;
            if (!px__expr_parse_u64(w, n, &x)) {
                px__expr_fail(P, PX_EPARSE, at, "'%.*s' is not an integer (decimal or 0x hex, up to 2^64-1)", (int)n,
                              w);
            } else {
                /* Values above 2^63-1 are kept in u; check_value() lets them
                 * through only to PX_EXPR_U64 parameters. */
                v->type = PX_EXPR_INT;
                v->u = x;
                v->i = x > INT64_MAX ? INT64_MAX : (int64_t)x;
                P->pos = e;
                rc = 0;
            }
        } else if (is_name_start(c)) {
            P->pos = e;
            if (n == 4 && memcmp(w, "true", 4) == 0) {
                v->type = PX_EXPR_BOOL;
                v->i = 1;
                rc = 0;
            } else if (n == 5 && memcmp(w, "false", 5) == 0) {
                v->type = PX_EXPR_BOOL;
                rc = 0;
            } else {
                v->type = PX_EXPR_NAME;
                v->len = n;
                v->str = dup_n(w, n);
                rc = v->str ? 0 : -1;
                if (rc)
                    px__expr_fail(P, PX_ENOMEM, at, "out of memory");
            }
        } else {
            px__expr_fail(P, PX_EPARSE, at, "cannot read '%.*s'", (int)n, w);
        }
    } else if (c == '\0') {
        px__expr_fail(P, PX_EPARSE, at, "expected a value, got the end of the text");
    } else {
        px__expr_fail(P, PX_EPARSE, at, "expected a value, got '%c'", c);
    }
    P->depth--;
    if (rc < 0)
        px__expr_value_free(v);
    return rc;
}
