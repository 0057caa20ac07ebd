/* pktexpect: the expression language parser (hand-written recursive descent).
 *
 * Grammar (docs/expressions.md has it as EBNF):
 *     expr  = value                               (must be a predicate)
 *     value = call [cmp int] | int | mac | ip | string | frame | name | list
 *     call  = pname "(" [arg {"," arg}] ")"
 *     arg   = [pname "="] value
 *     list  = "[" [value {"," value}] "]"
 * The lexer reads "words" made of letters, digits, '_', '.', ':' (and "/len"
 * after an address) and classifies them: integer, MAC, IPv4, IPv6 or name. A
 * word starting with an upper-case letter starts a frame in the text form,
 * which runs to the end of its last layer (parentheses optional).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pred_internal.h"
#include "pktexpect/expr.h"

#define MAX_DEPTH 64

typedef struct parser {
    const px_registry *reg;
    const char *text;
    size_t pos;
    unsigned depth;
    px_expr_error *err;
    int code; /* first error, 0 while none */
} parser;

__attribute__((format(printf, 4, 5))) static void fail(parser *P, int code, size_t at, const char *fmt, ...)
{
    if (P->code)
        return;
    P->code = code;
    if (!P->err)
        return;
    P->err->column = (unsigned)(at + 1);
    int n = snprintf(P->err->message, sizeof P->err->message, "col %zu: ", at + 1);
    if (n < 0)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(P->err->message + n, sizeof P->err->message - (size_t)n, fmt, ap);
    va_end(ap);
}

static void skip_ws(parser *P)
{
    while (P->text[P->pos] == ' ' || P->text[P->pos] == '\t' || P->text[P->pos] == '\n' || P->text[P->pos] == '\r')
        P->pos++;
}

static bool is_word_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.' || c == ':'; }
static bool is_name_start(char c) { return isalpha((unsigned char)c) || c == '_'; }

/* ---- values ---- */

static void value_free(px_expr_value *v)
{
    if (!v)
        return;
    free(v->str);
    px_predicate_free(v->pred);
    for (size_t i = 0; i < v->nitems; i++)
        value_free(&v->items[i]);
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

static const char *type_name(unsigned t)
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
    }
    return "a value";
}

static void types_text(unsigned mask, char *out, size_t size)
{
    out[0] = '\0';
    bool first = true;
    for (unsigned t = 1; t <= PX_EXPR_LIST; t <<= 1) {
        if (!(mask & t))
            continue;
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", first ? "" : " or ", type_name(t));
        first = false;
    }
}

static int parse_value(parser *P, px_expr_value *v);

/* A word: letters, digits, '_', '.', ':' and, after an address, "/digits". */
static size_t word_end(const parser *P, size_t start)
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

static bool parse_u64(const char *s, size_t n, uint64_t *out)
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
        if (!parse_u64(slash + 1, n - alen - 1, &len) || len > out->len) {
            fail(P, PX_ERANGE, at, "prefix length of '%.*s' must be 0..%u", (int)n, s, out->len);
            return -1;
        }
        out->len = (uint8_t)len;
        /* Host bits must be zero, so that the prefix means what it shows. */
        for (unsigned b = out->len; b < (out->family == 6 ? 128u : 32u); b++)
            if (out->addr[b / 8] & (0x80u >> (b % 8))) {
                fail(P, PX_ERANGE, at, "prefix '%.*s' has bits set after /%u", (int)n, s, out->len);
                return -1;
            }
    }
    return 0;
bad:
    fail(P, PX_EPARSE, at, "'%.*s' is not an integer, MAC address, IP address or name", (int)n, s);
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
            fail(P, PX_EPARSE, start, "string not closed (missing '\"')");
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
            if (!isxdigit((unsigned char)hex[2]) || !isxdigit((unsigned char)hex[3]) || !parse_u64(hex, 4, &x)) {
                px_buf_free(&b);
                fail(P, PX_EPARSE, P->pos - 1, "\\x needs two hex digits");
                return -1;
            }
            out = (char)x;
            P->pos += 2;
            break;
        }
        default:
            px_buf_free(&b);
            fail(P, PX_EPARSE, P->pos - 1, "unknown escape '\\%c' (use \\\" \\\\ \\n \\t \\r \\0 \\xHH)",
                 e ? e : '0');
            return -1;
        }
        P->pos++;
        px_buf_append_n(&b, &out, 1);
    }
    if (b.oom) {
        px_buf_free(&b);
        fail(P, PX_ENOMEM, start, "out of memory");
        return -1;
    }
    v->type = PX_EXPR_STRING;
    v->len = b.len;
    v->str = b.data ? px_buf_steal(&b) : dup_n("", 0);
    if (!v->str) {
        fail(P, PX_ENOMEM, start, "out of memory");
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
                    fail(P, PX_EPARSE, start, "frame not closed (missing ')')");
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
        fail(P, PX_ENOMEM, start, "out of memory");
        return -1;
    }
    return 0;
}

/* Appends a zeroed item to a LIST value and returns it, or NULL without memory.
 * The capacity is implicit in nitems (4, 8, 16, ...: doubled when nitems reaches
 * a power of two), so px_expr_value needs no capacity field and a long argument
 * list (any_of with thousands of arguments) costs amortised O(1) per item. */
static px_expr_value *push_item(px_expr_value *list)
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
        px_expr_value *it = push_item(v);
        if (!it) {
            fail(P, PX_ENOMEM, start, "out of memory");
            return -1;
        }
        if (parse_value(P, it) < 0)
            return -1;
        if (it->type == PX_EXPR_LIST) {
            fail(P, PX_EPARSE, it->column - 1, "lists cannot be nested");
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
        fail(P, PX_EPARSE, P->pos, "expected ',' or ']' in the list opened at col %zu", start + 1);
        return -1;
    }
}

/* ---- calls ---- */

static unsigned edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
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

typedef struct wrapped {
    px_buf *out;
    size_t start, budget; /* bytes the list may take from `start` */
    size_t col;           /* column on the current line */
    size_t shown, left;   /* names written, names left out for lack of room */
    bool empty, full;
} wrapped;

/* Appends `sep` (kept on the line before) and `word` to a list wrapped at 72
 * columns with lines indented by two spaces; counts a name that does not fit. */
static void wrap_item(wrapped *w, const char *sep, const char *word, bool is_name)
{
    size_t n = strlen(word);
    /* room for the word, its separators and a final " (and NN more)" */
    if (w->full || w->out->len - w->start + strlen(sep) + 3 + n + 16 > w->budget) {
        w->full = true;
        w->left += is_name;
        return;
    }
    if (!w->empty)
        px_buf_append(w->out, sep);
    w->col += strlen(sep);
    if (w->empty || w->col + 1 + n > 72) {
        px_buf_append(w->out, "\n  ");
        w->col = 2;
    } else {
        px_buf_append(w->out, " ");
        w->col++;
    }
    px_buf_append(w->out, word);
    w->col += n;
    w->empty = false;
    w->shown += is_name;
}

/* The valid names for an "unknown predicate" message, whole and wrapped; the
 * saw_X / did_not_see_X pairs are listed once by their X. The message must fit
 * the narrowest buffer it goes through (a checker's PX_ERRBUF_SIZE in scenario
 * validation, which cut a flat list mid-word): past `budget` bytes the list
 * ends with the number of names left out. */
static void valid_names(const px_registry *reg, px_buf *out, size_t budget)
{
    wrapped w = {.out = out, .start = out->len, .budget = budget, .empty = true};
    size_t n = px_registry_count(reg);
    /* Pass 0: names not in a pair; pass 1: the X of each pair. */
    for (int pass = 0; pass < 2; pass++) {
        bool first = true;
        for (size_t i = 0; i < n; i++) {
            const char *nm = px_registry_get(reg, i)->name;
            bool saw = !strncmp(nm, "saw_", 4), dns = !strncmp(nm, "did_not_see_", 12);
            const char *x = saw ? nm + 4 : dns ? nm + 12 : nm;
            char other[160];
            snprintf(other, sizeof other, "%s%s", saw ? "did_not_see_" : "saw_", x);
            bool paired = (saw || dns) && px_registry_find(reg, other) != NULL;
            if (paired != (pass == 1) || (paired && dns))
                continue; /* a pair is listed once, at its saw_ name */
            if (pass == 1 && first)
                wrap_item(&w, ";", "saw_X and did_not_see_X for X in:", false);
            wrap_item(&w, pass == 1 && first ? "" : ",", paired ? x : nm, true);
            first = false;
        }
    }
    if (w.left)
        px_buf_printf(out, " (and %zu more)", w.left);
}

static void unknown_name(parser *P, size_t at, const char *name)
{
    const char *best = NULL;
    unsigned bestd = 4;
    size_t nlen = strlen(name);
    for (size_t i = 0; i < px_registry_count(P->reg); i++) {
        const char *cand = px_registry_get(P->reg, i)->name;
        /* A name that starts with what was typed is the best guess ("saw_vlan"). */
        unsigned d = nlen >= 3 && strncmp(cand, name, nlen) == 0 ? 0 : edit_distance(name, cand);
        if (d < bestd) {
            bestd = d;
            best = cand;
        }
    }
    px_buf msg = PX_BUF_INIT;
    px_buf_printf(&msg, "unknown predicate '%.40s%s'", name, nlen > 40 ? "..." : "");
    if (best)
        px_buf_printf(&msg, " (did you mean '%s'?)", best);
    px_buf_append(&msg, "; valid names:");
    /* 488: what a PX_ERRBUF_SIZE checker keeps (500), less the "col N: " prefix. */
    size_t used = msg.len;
    valid_names(P->reg, &msg, used < 488 ? 488 - used : 0);
    fail(P, PX_EPARSE, at, "%s", px_buf_cstr(&msg));
    px_buf_free(&msg);
}

static void param_names(const px_expr_def *def, px_buf *out)
{
    for (size_t i = 0; i < def->nparams; i++)
        px_buf_printf(out, "%s%s", i ? ", " : "", def->params[i].name);
    if (def->nparams == 0)
        px_buf_append(out, "(none)");
}

/* Checks an INT value against a parameter's range: 2^63-1 at most unless the
 * parameter is PX_EXPR_U64, then its min..max when it has one. */
static int check_int(parser *P, const px_expr_def *def, const px_expr_param *prm, const px_expr_value *v)
{
    if (prm->flags & PX_EXPR_U64)
        return 0;
    if (v->u > INT64_MAX) {
        fail(P, PX_ERANGE, v->column - 1, "argument '%s' of %s must be at most 2^63-1, got %llu", prm->name,
             def->name, (unsigned long long)v->u);
        return -1;
    }
    if ((prm->min || prm->max) && (v->i < prm->min || v->i > prm->max)) {
        fail(P, PX_ERANGE, v->column - 1, "argument '%s' of %s must be %lld..%lld, got %lld", prm->name, def->name,
             (long long)prm->min, (long long)prm->max, (long long)v->i);
        return -1;
    }
    return 0;
}

/* Checks a value (or each item of a list) against a parameter. */
static int check_value(parser *P, const px_expr_def *def, const px_expr_param *prm, const px_expr_value *v)
{
    unsigned t = (unsigned)v->type;
    if (!(prm->types & t)) {
        char want[160];
        types_text(prm->types, want, sizeof want);
        fail(P, PX_EINVAL, v->column - 1, "argument '%s' of %s must be %s, not %s", prm->name, def->name, want,
             type_name(t));
        return -1;
    }
    if (t == PX_EXPR_LIST) {
        for (size_t i = 0; i < v->nitems; i++) {
            if (!(prm->types & ~(unsigned)PX_EXPR_LIST & (unsigned)v->items[i].type)) {
                char want[160];
                types_text(prm->types & ~(unsigned)PX_EXPR_LIST, want, sizeof want);
                fail(P, PX_EINVAL, v->items[i].column - 1, "items of '%s' of %s must be %s, not %s", prm->name,
                     def->name, want, type_name(v->items[i].type));
                return -1;
            }
            if (v->items[i].type == PX_EXPR_INT && check_int(P, def, prm, &v->items[i]) != 0)
                return -1;
        }
    }
    if (t == PX_EXPR_INT && check_int(P, def, prm, v) != 0)
        return -1;
    return 0;
}

static int map_factory_error(const char *msg)
{
    if (strstr(msg, "does not compile"))
        return PX_EBPF;
    if (strstr(msg, "out of memory"))
        return PX_ENOMEM;
    return PX_EINVAL;
}

/* Parses "name(args)" with P->pos on the name; the call's predicate goes to v. */
static int parse_call(parser *P, px_expr_value *v, size_t name_at, size_t name_end)
{
    char name[64];
    size_t nlen = name_end - name_at;
    if (nlen >= sizeof name) {
        fail(P, PX_EPARSE, name_at, "predicate name too long");
        return -1;
    }
    memcpy(name, P->text + name_at, nlen);
    name[nlen] = '\0';
    const px_expr_def *def = px_registry_find(P->reg, name);
    if (!def) {
        unknown_name(P, name_at, name);
        return -1;
    }
    P->pos = name_end;
    skip_ws(P);
    P->pos++; /* '(' (checked by the caller) */

    px_expr_value **vals = calloc(def->nparams ? def->nparams : 1, sizeof *vals);
    px_expr_value *store = calloc(def->nparams ? def->nparams : 1, sizeof *store);
    int rc = -1;
    if (!vals || !store) {
        fail(P, PX_ENOMEM, name_at, "out of memory");
        goto out;
    }
    size_t next_pos = 0; /* index of the next parameter a positional argument may fill */
    skip_ws(P);
    bool first = true;
    while (P->text[P->pos] != ')') {
        if (P->text[P->pos] == '\0') {
            fail(P, PX_EPARSE, P->pos, "expected %s in the arguments of %s, got the end of the text",
                 first ? "an argument or ')'" : "',' or ')'", def->name);
            goto out;
        }
        if (!first) {
            if (P->text[P->pos] != ',') {
                fail(P, PX_EPARSE, P->pos, "expected ',' or ')' in the arguments of %s", def->name);
                goto out;
            }
            P->pos++;
            skip_ws(P);
        }
        first = false;
        size_t arg_at = P->pos;
        /* name=value? */
        size_t e = arg_at;
        while (isalnum((unsigned char)P->text[e]) || P->text[e] == '_')
            e++;
        size_t after = e;
        while (P->text[after] == ' ' || P->text[after] == '\t')
            after++;
        const px_expr_param *prm = NULL;
        size_t k = 0;
        if (e > arg_at && is_name_start(P->text[arg_at]) && P->text[after] == '=' && P->text[after + 1] != '=') {
            for (k = 0; k < def->nparams; k++)
                if (strlen(def->params[k].name) == e - arg_at &&
                    memcmp(def->params[k].name, P->text + arg_at, e - arg_at) == 0)
                    break;
            if (k == def->nparams) {
                px_buf pn = PX_BUF_INIT;
                param_names(def, &pn);
                fail(P, PX_EPARSE, arg_at, "unknown argument '%.*s' of %s; arguments are: %s", (int)(e - arg_at),
                     P->text + arg_at, def->name, px_buf_cstr(&pn));
                px_buf_free(&pn);
                goto out;
            }
            prm = &def->params[k];
            if (vals[k]) {
                fail(P, PX_EPARSE, arg_at, "argument '%s' of %s given twice", prm->name, def->name);
                goto out;
            }
            P->pos = after + 1;
            skip_ws(P);
            if (parse_value(P, &store[k]) < 0)
                goto out;
        } else {
            while (next_pos < def->nparams && (def->params[next_pos].flags & PX_EXPR_NAMED_ONLY))
                next_pos++;
            if (next_pos >= def->nparams) {
                px_buf pn = PX_BUF_INIT;
                param_names(def, &pn);
                fail(P, PX_EPARSE, arg_at, "too many positional arguments for %s; arguments are: %s", def->name,
                     px_buf_cstr(&pn));
                px_buf_free(&pn);
                goto out;
            }
            k = next_pos;
            prm = &def->params[k];
            if (prm->flags & PX_EXPR_VARIADIC) {
                px_expr_value *list = &store[k];
                if (!vals[k]) {
                    list->type = PX_EXPR_LIST;
                    list->column = (unsigned)arg_at + 1;
                }
                px_expr_value *it = push_item(list);
                if (!it) {
                    fail(P, PX_ENOMEM, arg_at, "out of memory");
                    goto out;
                }
                vals[k] = list;
                if (parse_value(P, it) < 0)
                    goto out;
                if (check_value(P, def, prm, it) < 0)
                    goto out;
                skip_ws(P);
                continue;
            }
            next_pos++;
            if (vals[k]) {
                fail(P, PX_EPARSE, arg_at, "argument '%s' of %s given twice", prm->name, def->name);
                goto out;
            }
            if (parse_value(P, &store[k]) < 0)
                goto out;
        }
        vals[k] = &store[k];
        if (check_value(P, def, prm, vals[k]) < 0)
            goto out;
        skip_ws(P);
    }
    for (size_t i = 0; i < def->nparams; i++)
        if ((def->params[i].flags & PX_EXPR_REQUIRED) && !vals[i]) {
            fail(P, PX_EPARSE, P->pos, "%s needs argument '%s' (%s)", def->name, def->params[i].name,
                 def->params[i].help ? def->params[i].help : "required");
            goto out;
        }
    P->pos++; /* ')' */
    {
        char errbuf[PX_ERRBUF_SIZE] = "";
        px_expr_args args = {def, vals};
        px_predicate *p = def->factory(&args, def->user, errbuf);
        if (!p) {
            fail(P, errbuf[0] ? map_factory_error(errbuf) : PX_EINVAL, name_at, "%s: %s", def->name,
                 errbuf[0] ? errbuf : "arguments rejected");
            goto out;
        }
        v->type = PX_EXPR_PRED;
        v->pred = p;
    }
    rc = 0;
out:
    if (store)
        for (size_t i = 0; i < def->nparams; i++)
            value_free(&store[i]);
    free(store);
    free(vals);
    return rc;
}

/* "count(...) <op> n" after a call. */
static int parse_comparison(parser *P, px_expr_value *v, size_t call_at, bool is_count)
{
    skip_ws(P);
    const char *s = P->text + P->pos;
    const char *ops[] = {"==", "!=", "<=", ">=", "<", ">"};
    size_t op = 6;
    for (size_t i = 0; i < 6; i++)
        if (strncmp(s, ops[i], strlen(ops[i])) == 0) {
            op = i;
            break;
        }
    if (op == 6)
        return 0;
    size_t op_at = P->pos;
    if (!is_count) {
        fail(P, PX_EPARSE, op_at, "only count(...) can be compared with '%s'", ops[op]);
        return -1;
    }
    P->pos += strlen(ops[op]);
    skip_ws(P);
    size_t n_at = P->pos, e = word_end(P, n_at);
    uint64_t n;
    if (e == n_at || !parse_u64(P->text + n_at, e - n_at, &n) || n > INT64_MAX) {
        fail(P, PX_EPARSE, n_at, "expected a non-negative integer after '%s'", ops[op]);
        return -1;
    }
    P->pos = e;
    /* Take the inner predicate back out of the count() we just built. */
    px_predicate *inner = px__count_take_inner(v->pred);
    px_predicate_free(v->pred);
    v->pred = NULL;
    px_predicate *p = NULL;
    switch (op) {
    case 0: p = px_exactly(n, inner); break;
    case 1: p = px_count_not(n, inner); break;
    case 2: p = px_at_most(n, inner); break;
    case 3: p = px_at_least(n, inner); break;
    case 4:
        if (n == 0) {
            px_predicate_free(inner);
            fail(P, PX_ERANGE, n_at, "count() < 0 can never be true");
            return -1;
        }
        p = px_at_most(n - 1, inner);
        break;
    case 5: p = px_at_least(n + 1, inner); break;
    }
    if (!p) {
        fail(P, PX_ENOMEM, call_at, "out of memory");
        return -1;
    }
    v->pred = p;
    return 0;
}

static int parse_value(parser *P, px_expr_value *v)
{
    skip_ws(P);
    memset(v, 0, sizeof *v);
    size_t at = P->pos;
    v->column = (unsigned)at + 1;
    char c = P->text[at];
    if (++P->depth > MAX_DEPTH) {
        fail(P, PX_ERANGE, at, "nested more than %d levels deep", MAX_DEPTH);
        return -1;
    }
    int rc = -1;
    if (c == '"') {
        rc = parse_string(P, v);
    } else if (c == '[') {
        rc = parse_list(P, v);
    } else if (is_word_char(c)) {
        size_t e = word_end(P, at);
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
        if (isupper((unsigned char)c) && plain_name) {
            rc = parse_frame(P, v);
        } else if (is_name_start(c) && plain_name && P->text[after] == '(') {
            rc = parse_call(P, v, at, e);
            if (rc == 0) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)n, w);
                const px_expr_def *d = px_registry_find(P->reg, name);
                rc = parse_comparison(P, v, at, d && d->factory == px__count_factory);
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
            if (!parse_u64(w, n, &x)) {
                fail(P, PX_EPARSE, at, "'%.*s' is not an integer (decimal or 0x hex, up to 2^64-1)", (int)n, w);
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
                    fail(P, PX_ENOMEM, at, "out of memory");
            }
        } else {
            fail(P, PX_EPARSE, at, "cannot read '%.*s'", (int)n, w);
        }
    } else if (c == '\0') {
        fail(P, PX_EPARSE, at, "expected a value, got the end of the text");
    } else {
        fail(P, PX_EPARSE, at, "expected a value, got '%c'", c);
    }
    P->depth--;
    if (rc < 0)
        value_free(v);
    return rc;
}

int px_expr_parse(const px_registry *reg, const char *text, px_predicate **out, px_expr_error *err)
{
    if (out)
        *out = NULL;
    if (err) {
        err->column = 0;
        err->message[0] = '\0';
    }
    px_registry *own = NULL;
    if (!reg) {
        own = px_registry_new();
        reg = own;
    }
    parser P = {.reg = reg, .text = text, .err = err};
    if (!reg) {
        fail(&P, PX_ENOMEM, 0, "out of memory");
        return P.code;
    }
    if (!text || !out) {
        fail(&P, PX_EINVAL, 0, "no text or no output given");
        px_registry_free(own);
        return P.code;
    }
    px_expr_value v;
    if (parse_value(&P, &v) == 0) {
        skip_ws(&P);
        if (v.type != PX_EXPR_PRED)
            fail(&P, PX_EPARSE, v.column - 1, "expected a predicate such as saw_udp(dport=53), got %s",
                 type_name(v.type));
        else if (P.text[P.pos] != '\0')
            fail(&P, PX_EPARSE, P.pos, "unexpected '%c' after the end of the expression", P.text[P.pos]);
        else
            *out = px_expr_take_pred(&v);
        value_free(&v);
    }
    px_registry_free(own);
    return P.code;
}

/* ---- argument access for factories ---- */

px_expr_value *px_expr_arg(px_expr_args *args, const char *name)
{
    if (!args || !name)
        return NULL;
    for (size_t i = 0; i < args->def->nparams; i++)
        if (strcmp(args->def->params[i].name, name) == 0)
            return args->vals[i];
    return NULL;
}

px_predicate *px_expr_take_pred(px_expr_value *v)
{
    if (!v)
        return NULL;
    px_predicate *p = v->pred;
    v->pred = NULL;
    return p;
}

int64_t px_expr_arg_int(px_expr_args *args, const char *name, int64_t dflt)
{
    const px_expr_value *v = px_expr_arg(args, name);
    return v && (v->type == PX_EXPR_INT || v->type == PX_EXPR_BOOL) ? v->i : dflt;
}

uint64_t px_expr_arg_u64(px_expr_args *args, const char *name, uint64_t dflt)
{
    const px_expr_value *v = px_expr_arg(args, name);
    return v && v->type == PX_EXPR_INT ? v->u : dflt;
}
