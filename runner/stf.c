/* pktexpect runner: the STF parser (stf.h). */
#include "stf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pktexpect/error.h"

#define MAX_ERRORS 20
#define MAX_QUOTED 32

typedef struct parser {
    const char *file;
    px_buf *errors;
    int nerrors;
    bool oom;
    int line;
    const char *bol; /* beginning of the current line */
} parser;

static void err_at(parser *P, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void err_at(parser *P, const char *at, const char *fmt, ...)
{
    if (P->nerrors++ >= MAX_ERRORS)
        return;
    px_buf_printf(P->errors, "%s:%d:%d: ", P->file, P->line, (int)(at - P->bol) + 1);
    va_list ap;
    va_start(ap, fmt);
    px_buf_vprintf(P->errors, fmt, ap);
    va_end(ap);
    px_buf_append(P->errors, "\n");
}

/* A word of the file for a message: at most MAX_QUOTED printable characters. */
static const char *quoted(const char *w, size_t n, char out[MAX_QUOTED + 4])
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < MAX_QUOTED; i++)
        out[k++] = isprint((unsigned char)w[i]) ? w[i] : '?';
    if (n > MAX_QUOTED) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

static const char *skip_ws(const char *p, const char *eol)
{
    while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

static const char *word_end(const char *p, const char *eol)
{
    while (p < eol && !(*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

static char *dup_n(parser *P, const char *s, size_t n)
{
    char *d = strndup(s, n);
    if (!d)
        P->oom = true;
    return d;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* PORT: a decimal number. */
static bool get_port(parser *P, const char **pp, const char *eol, unsigned *port)
{
    const char *p = skip_ws(*pp, eol), *e = word_end(p, eol);
    if (p == e) {
        err_at(P, p, "expected a port number");
        return false;
    }
    unsigned long v = 0;
    for (const char *q = p; q < e; q++) {
        if (!isdigit((unsigned char)*q) || (v = v * 10 + (unsigned long)(*q - '0')) > 65535) {
            char qn[MAX_QUOTED + 4];
            err_at(P, p, "expected a port number (0 to 65535), got '%s'", quoted(p, (size_t)(e - p), qn));
            return false;
        }
    }
    *port = (unsigned)v;
    *pp = e;
    return true;
}

/* The data of a packet (hex digits) or an expect (hex digits and `*`, an
 * optional final `$`), spaces allowed anywhere between nibbles. */
static bool get_data(parser *P, const char *p, const char *eol, px_stf_stmt *st, bool expect)
{
    size_t cap = (size_t)(eol - p);
    uint8_t *nib = malloc(cap + 1), *care = malloc(cap + 1);
    if (!nib || !care) {
        free(nib);
        free(care);
        P->oom = true;
        return false;
    }
    size_t n = 0;
    bool ok = true;
    for (; p < eol; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\r')
            continue;
        if (expect && *p == '$') {
            const char *rest = skip_ws(p + 1, eol);
            if (rest != eol) {
                err_at(P, p, "'$' (exact length) must end the expected data");
                ok = false;
            }
            st->exact = true;
            break;
        }
        int v = hexval(*p);
        if (v < 0 && !(expect && *p == '*')) {
            err_at(P, p, "expected a hex digit%s, got '%c'", expect ? ", '*' or a final '$'" : "",
                   isprint((unsigned char)*p) ? *p : '?');
            ok = false;
            break;
        }
        nib[n] = (uint8_t)(v < 0 ? 0 : v);
        care[n] = v >= 0;
        n++;
    }
    if (ok && n > 2 * (size_t)PX_STF_FRAME_MAX) {
        err_at(P, eol, "%zu bytes of data, more than the %d a frame can have", n / 2, PX_STF_FRAME_MAX);
        ok = false;
    }
    if (ok && !expect) {
        if (n % 2 || n < 28) {
            err_at(P, eol, n % 2 ? "a packet needs whole bytes (an even number of hex digits), got %zu digits"
                                 : "a packet needs at least 14 bytes (an Ethernet header), got %zu digits",
                   n);
            ok = false;
        } else {
            st->nbytes = n / 2;
            st->bytes = nib; /* packed in place: byte i from nibbles 2i, 2i+1 */
            for (size_t i = 0; i < st->nbytes; i++)
                st->bytes[i] = (uint8_t)(nib[2 * i] << 4 | nib[2 * i + 1]);
            nib = NULL;
        }
    } else if (ok) {
        st->nibbles = nib;
        st->care = care;
        st->nnibbles = n;
        nib = care = NULL;
    }
    free(nib);
    free(care);
    return ok;
}

/* NAME:VALUE */
static bool get_kv(parser *P, const char *w, const char *e, px_stf_kv *kv, const char *what)
{
    const char *colon = memchr(w, ':', (size_t)(e - w));
    if (!colon || colon == w || colon + 1 == e) {
        char qn[MAX_QUOTED + 4];
        err_at(P, w, "expected %s NAME:VALUE, got '%s'", what, quoted(w, (size_t)(e - w), qn));
        return false;
    }
    kv->name = dup_n(P, w, (size_t)(colon - w));
    kv->value = dup_n(P, colon + 1, (size_t)(e - colon - 1));
    kv->col = (int)(w - P->bol) + 1;
    return kv->name && kv->value;
}

/* ACTION(PARAM:VALUE, ...) from p to the end of the line. */
static bool get_action(parser *P, const char *p, const char *eol, px_stf_stmt *st)
{
    const char *open = memchr(p, '(', (size_t)(eol - p));
    const char *close = open ? memchr(open, ')', (size_t)(eol - open)) : NULL;
    if (!open || open == p || !close) {
        err_at(P, p, "expected an action ACTION(PARAM:VALUE, ...)");
        return false;
    }
    if (skip_ws(close + 1, eol) != eol) {
        err_at(P, skip_ws(close + 1, eol), "nothing may follow the action");
        return false;
    }
    st->action = dup_n(P, p, (size_t)(open - p));
    st->action_col = (int)(p - P->bol) + 1;
    if (!st->action)
        return false;
    for (const char *q = p; q < open; q++)
        if (*q == ' ' || *q == '\t') {
            err_at(P, q, "no space may come between the action's name and '('");
            return false;
        }
    const char *a = skip_ws(open + 1, close);
    while (a < close) {
        const char *e = a;
        while (e < close && *e != ',' && *e != ' ' && *e != '\t')
            e++;
        if (st->nargs == PX_STF_KEYS_MAX) {
            err_at(P, a, "more than %d action parameters", PX_STF_KEYS_MAX);
            return false;
        }
        if (!get_kv(P, a, e, &st->args[st->nargs], "an action parameter"))
            return false;
        st->nargs++;
        a = skip_ws(e, close);
        if (a < close && *a == ',')
            a = skip_ws(a + 1, close);
        else if (a < close) {
            err_at(P, a, "expected ',' or ')' after an action parameter");
            return false;
        }
    }
    return true;
}

/* add TABLE [PRIO] KEY:VALUE ... ACTION(...) / setdefault TABLE ACTION(...) */
static bool get_table_cmd(parser *P, const char *p, const char *eol, px_stf_stmt *st)
{
    p = skip_ws(p, eol);
    const char *e = word_end(p, eol);
    if (p == e || memchr(p, '(', (size_t)(e - p))) {
        err_at(P, p, "expected a table name");
        return false;
    }
    st->table = dup_n(P, p, (size_t)(e - p));
    st->table_col = (int)(p - P->bol) + 1;
    st->priority = -1;
    st->keys = calloc(PX_STF_KEYS_MAX, sizeof *st->keys);
    st->args = calloc(PX_STF_KEYS_MAX, sizeof *st->args);
    if (!st->table || !st->keys || !st->args) {
        P->oom = true;
        return false;
    }
    for (p = skip_ws(e, eol); p < eol; p = skip_ws(e, eol)) {
        e = word_end(p, eol);
        if (memchr(p, '(', (size_t)(e - p)))
            return get_action(P, p, eol, st);
        if (st->kind == PX_STF_SETDEFAULT) {
            err_at(P, p, "setdefault takes a table and an action ACTION(...), no keys");
            return false;
        }
        if (!memchr(p, ':', (size_t)(e - p)) && st->nkeys == 0 && st->priority < 0) {
            /* a priority: a decimal number before the keys (read by hand: the
             * text need not be NUL-terminated) */
            long v = 0;
            const char *q = p;
            while (q < e && isdigit((unsigned char)*q) && v <= 0x7fffffff)
                v = v * 10 + (*q++ - '0');
            if (q != e || v > 0x7fffffff) {
                char qn[MAX_QUOTED + 4];
                err_at(P, p, "expected a priority (a number) or a key NAME:VALUE, got '%s'",
                       quoted(p, (size_t)(e - p), qn));
                return false;
            }
            st->priority = v;
            continue;
        }
        if (st->nkeys == PX_STF_KEYS_MAX) {
            err_at(P, p, "more than %d keys", PX_STF_KEYS_MAX);
            return false;
        }
        if (!get_kv(P, p, e, &st->keys[st->nkeys], "a key"))
            return false;
        st->nkeys++;
    }
    err_at(P, eol, "expected an action ACTION(PARAM:VALUE, ...) at the end of the line");
    return false;
}

/* p4c's commands that this subset does not run: named, so the message says what
 * is missing rather than "unknown". */
static const char *const unsupported[] = {
    "remove",        "check_counter", "packet_in",       "expect_in",      "register_write",
    "register_read", "counter_read",  "meter_set_rates", "setdefault_ext", "add_ext",
};

/* p4c's multicast and mirroring commands: BMv2 CLI commands already, passed on
 * as written (as p4c's BMv2 runner does), once their numbers are checked. */
static const struct {
    const char *w;
    int min, max; /* numeric arguments */
} passthrough[] = {
    {"mirroring_add", 2, 2},  {"mirroring_add_mc", 2, 2}, {"mc_mgrp_create", 1, 1},
    {"mc_node_create", 2, 64}, {"mc_node_associate", 2, 2},
};

static void get_passthrough(parser *P, const char *p, const char *eol, px_stf_stmt *st, int min, int max)
{
    const char *w = p;
    int n = 0;
    for (const char *a = skip_ws(word_end(p, eol), eol); a < eol; a = skip_ws(word_end(a, eol), eol)) {
        const char *e = word_end(a, eol);
        for (const char *q = a; q < e; q++)
            if (!isdigit((unsigned char)*q) || e - a > 10) {
                char qn[MAX_QUOTED + 4];
                err_at(P, a, "expected a number, got '%s'", quoted(a, (size_t)(e - a), qn));
                return;
            }
        n++;
    }
    if (n < min || n > max) {
        char qn[MAX_QUOTED + 4];
        err_at(P, w, min == max ? "'%s' takes %d numbers, got %d" : "'%s' takes %d or more numbers, got %d",
               quoted(w, (size_t)(word_end(w, eol) - w), qn), min, n);
        return;
    }
    const char *end = eol;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    st->table = dup_n(P, p, (size_t)(end - p)); /* the whole command */
}

static void parse_line(parser *P, px_stf *s, const char *p, const char *eol)
{
    p = skip_ws(p, eol);
    if (p == eol)
        return;
    const char *e = word_end(p, eol);
    size_t wl = (size_t)(e - p);
    static const struct {
        const char *w;
        px_stf_kind k;
    } cmds[] = {{"packet", PX_STF_PACKET},
                {"expect", PX_STF_EXPECT},
                {"wait", PX_STF_WAIT},
                {"add", PX_STF_ADD},
                {"setdefault", PX_STF_SETDEFAULT}};
    size_t k = 0;
    while (k < sizeof cmds / sizeof cmds[0] && !(strlen(cmds[k].w) == wl && !strncmp(cmds[k].w, p, wl)))
        k++;
    size_t pt = 0;
    while (pt < sizeof passthrough / sizeof passthrough[0] &&
           !(strlen(passthrough[pt].w) == wl && !strncmp(passthrough[pt].w, p, wl)))
        pt++;
    if (k == sizeof cmds / sizeof cmds[0] && pt == sizeof passthrough / sizeof passthrough[0]) {
        char qn[MAX_QUOTED + 4];
        bool known = false;
        for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0] && !known; i++)
            known = strlen(unsupported[i]) == wl && !strncmp(unsupported[i], p, wl);
        if (known)
            err_at(P, p, "unsupported STF command '%s' (docs/stf.md lists the supported subset)",
                   quoted(p, wl, qn));
        else
            err_at(P, p, "unknown STF command '%s' (expected packet, expect, wait, add, setdefault, "
                   "mirroring_add, mirroring_add_mc, mc_mgrp_create, mc_node_create or mc_node_associate)",
                   quoted(p, wl, qn));
        return;
    }
    if (s->n == PX_STF_STMTS_MAX) {
        err_at(P, p, "more than %d statements", PX_STF_STMTS_MAX);
        return;
    }
    px_stf_stmt *nv = realloc(s->s, (s->n + 1) * sizeof *nv);
    if (!nv) {
        P->oom = true;
        return;
    }
    s->s = nv;
    px_stf_stmt *st = &s->s[s->n++];
    memset(st, 0, sizeof *st);
    st->kind = k < sizeof cmds / sizeof cmds[0] ? cmds[k].k : PX_STF_TARGET;
    st->line = P->line;
    st->col = (int)(p - P->bol) + 1;
    switch (st->kind) {
    case PX_STF_PACKET:
    case PX_STF_EXPECT:
        if (get_port(P, &e, eol, &st->port))
            get_data(P, e, eol, st, st->kind == PX_STF_EXPECT);
        break;
    case PX_STF_WAIT:
        if (skip_ws(e, eol) != eol)
            err_at(P, skip_ws(e, eol), "wait takes no argument");
        break;
    case PX_STF_ADD:
    case PX_STF_SETDEFAULT:
        get_table_cmd(P, e, eol, st);
        break;
    case PX_STF_TARGET:
        get_passthrough(P, p, eol, st, passthrough[pt].min, passthrough[pt].max);
        break;
    }
}

static void free_kvs(px_stf_kv *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

void px_stf_free(px_stf *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        px_stf_stmt *st = &s->s[i];
        free(st->bytes);
        free(st->nibbles);
        free(st->care);
        free(st->table);
        free(st->action);
        free_kvs(st->keys, st->nkeys);
        free_kvs(st->args, st->nargs);
    }
    free(s->s);
    free(s->file);
    free(s);
}

int px_stf_parse(const char *file, const char *text, size_t len, px_stf **out, px_buf *errors)
{
    *out = NULL;
    px_stf *s = calloc(1, sizeof *s);
    if (!s || !(s->file = strdup(file))) {
        free(s);
        return PX_ENOMEM;
    }
    parser P = {.file = file, .errors = errors};
    const char *end = text + len;
    for (const char *p = text; p < end && !P.oom;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        P.line++;
        P.bol = p;
        const char *hash = memchr(p, '#', (size_t)(eol - p));
        const char *nul = memchr(p, '\0', (size_t)(eol - p));
        if (nul) {
            err_at(&P, nul, "a NUL byte in the file");
            break;
        }
        parse_line(&P, s, p, hash ? hash : eol);
        p = nl ? nl + 1 : end;
    }
    if (P.oom || P.nerrors) {
        px_stf_free(s);
        return P.oom ? PX_ENOMEM : PX_EPARSE;
    }
    *out = s;
    return 0;
}

int px__read_file_bounded(const char *path, size_t max, char **text, size_t *len, px_buf *errors)
{
    *text = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not hang; a non-regular file is refused. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0) {
        px_buf_printf(errors, "%s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return PX_EIO;
    }
    if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max) {
        if (S_ISREG(sb.st_mode))
            px_buf_printf(errors, "%s: larger than %zu bytes\n", path, max);
        else
            px_buf_printf(errors, "%s: not a regular file\n", path);
        close(fd);
        return PX_EIO;
    }
    char *buf = malloc((size_t)sb.st_size + 1);
    size_t n = 0;
    ssize_t r = 0;
    while (buf && n < (size_t)sb.st_size && (r = read(fd, buf + n, (size_t)sb.st_size - n)) > 0)
        n += (size_t)r;
    int e = errno;
    close(fd);
    if (!buf)
        return PX_ENOMEM;
    if (r < 0) {
        px_buf_printf(errors, "%s: %s\n", path, strerror(e));
        free(buf);
        return PX_EIO;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

int px_stf_load(const char *path, px_stf **out, px_buf *errors)
{
    *out = NULL;
    char *buf;
    size_t n;
    int rc = px__read_file_bounded(path, PX_STF_FILE_MAX, &buf, &n, errors);
    if (rc)
        return rc;
    rc = px_stf_parse(path, buf, n, out, errors);
    free(buf);
    return rc;
}

bool px_stf_match(const px_stf_stmt *e, const uint8_t *data, size_t len, size_t *first_diff)
{
    size_t i = 0;
    for (; i < e->nnibbles; i++) {
        if (i / 2 >= len)
            break; /* the frame is shorter than the expected data */
        uint8_t got = (uint8_t)(i % 2 ? data[i / 2] & 0xf : data[i / 2] >> 4);
        if (e->care[i] && got != e->nibbles[i]) {
            *first_diff = i / 2;
            return false;
        }
    }
    size_t want_len = (e->nnibbles + 1) / 2;
    if (len < want_len || (e->exact && len != want_len)) {
        *first_diff = len < want_len ? len : want_len;
        return false;
    }
    return true;
}
