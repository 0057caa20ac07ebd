/* pktexpect runner: YAML scenario loader and validator. See scenario.h and
 * docs/scenarios.md. Reads with the libyaml document API, then walks the node
 * graph into plain structs; nothing here touches the network. */
#include "scenario.h"
#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "../harness/hex.h"
#include "pktexpect/predicates.h"

#define MAX_ERRORS 50
#define MAX_FILE_BYTES (4u << 20)
/* The scenario and all its includes together: includes may repeat a file
 * (diamonds), and each repetition is read and parsed again. */
#define MAX_TOTAL_BYTES (16u << 20)
#define MAX_INCLUDE_DEPTH 8
/* Files loaded in all (the scenario and every include, a file included twice
 * counted twice): bounds a tree of includes that fans out at each level. */
#define MAX_INCLUDED_FILES 256
/* Nesting of YAML collections. libyaml's scanner is quadratic in the nesting
 * depth (every token walks the stack of possible simple keys), so depth is
 * checked with a token scan that stops as soon as it is exceeded. */
#define MAX_NESTING 64
/* One scalar after ${var} expansion, and all expansions of a scenario together. */
#define MAX_EXPANDED_BYTES (64u << 10)
#define MAX_EXPANDED_TOTAL (16u << 20)
/* A frame to send: the snap length every capture uses. */
#define MAX_FRAME_BYTES 65535
/* Names from the file quoted in messages (keys, step kinds): never more than
 * this many characters, printable only, so a wrong include cannot echo a file. */
#define MAX_QUOTED_NAME 32
/* Aliases can make a small document expand hugely; bound the nodes visited. */
#define NODE_BUDGET 100000
#define IFNAME_MAX 15
#define DEFAULT_TIMEOUT_MS 1000
#define MAX_TEST_PORTS 64

typedef struct doc {
    yaml_document_t d;
    const char *file; /* in the scenario's pool */
    bool top;
} doc;

typedef struct var {
    char *name, *value;
} var;

typedef struct loader {
    px_scenario *s;
    px_buf *errs;
    int nerrs;
    bool oom;
    bool grow_failed;
    bool budget_hit;
    long budget;
    size_t bytes_read;      /* all files read, against MAX_TOTAL_BYTES */
    size_t expanded_total;  /* all ${var} expansions, against MAX_EXPANDED_TOTAL */
    const px_scn_checkers *chk;
    var *vars;
    size_t nvars;
    doc *docs;
    size_t ndocs;
    /* implicit ports with an ambiguous name (same interface name in two namespaces) */
    char **ambiguous;
    size_t nambiguous;
} loader;

/* ---------------------------------------------------------------- helpers */

/* Capacity of an array of n elements grown by grow(): 0, then 4, 8, 16, ...
 * Kept implicit (a function of n) so that every array stays a (pointer, count)
 * pair; a count that went down (an entry dropped) never exceeds the capacity. */
static size_t grow_cap(size_t n)
{
    size_t c = 4;
    while (c < n)
        c *= 2;
    return n ? c : 0;
}

/* Makes room for element n (zeroed), doubling the capacity when full; on failure
 * returns `arr` unchanged and sets L->grow_failed (and L->oom). Used through PUSH,
 * which yields the new slot or NULL. */
static void *grow(void *arr, size_t n, size_t size, loader *L)
{
    L->grow_failed = true;
    if (n >= (size_t)INT_MAX / size / 2) {
        L->oom = true;
        return arr;
    }
    char *p = arr;
    if (n + 1 > grow_cap(n)) {
        p = realloc(arr, grow_cap(n + 1) * size);
        if (!p) {
            L->oom = true;
            return arr;
        }
    }
    memset(p + n * size, 0, size);
    L->grow_failed = false;
    return p;
}

#define PUSH(L, arr, n) ((arr) = grow((arr), (n), sizeof *(arr), (L)), (L)->grow_failed ? NULL : &(arr)[(n)++])

static char *xstrdup(loader *L, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        L->oom = true;
    return d;
}

static void verr(loader *L, const char *file, int line, int col, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
static void verr(loader *L, const char *file, int line, int col, const char *fmt, va_list ap)
{
    L->nerrs++;
    if (L->nerrs > MAX_ERRORS)
        return;
    if (L->nerrs == MAX_ERRORS) {
        px_buf_printf(L->errs, "%s: too many errors, stopping\n", file);
        return;
    }
    if (line > 0)
        px_buf_printf(L->errs, "%s:%d:%d: ", file, line, col);
    else
        px_buf_printf(L->errs, "%s: ", file);
    px_buf_vprintf(L->errs, fmt, ap);
    px_buf_append(L->errs, "\n");
}

static void err_at(loader *L, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void err_at(loader *L, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(L, file, line, col, fmt, ap);
    va_end(ap);
}

static px_scn_pos pos_of(const doc *d, const yaml_node_t *n)
{
    px_scn_pos p = {d->file, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
    return p;
}

static void err_node(loader *L, const doc *d, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void err_node(loader *L, const doc *d, const yaml_node_t *n, const char *fmt, ...)
{
    px_scn_pos p = pos_of(d, n);
    va_list ap;
    va_start(ap, fmt);
    verr(L, p.file, p.line, p.col, fmt, ap);
    va_end(ap);
}

static yaml_node_t *node(doc *d, int index)
{
    return yaml_document_get_node(&d->d, index);
}

/* Every node visit costs one unit of the budget; false once exhausted. */
static bool spend(loader *L, const doc *d, const yaml_node_t *n)
{
    if (--L->budget >= 0)
        return true;
    if (!L->budget_hit) {
        /* Reported even past the error cap: it explains why the walk stopped. */
        L->budget_hit = true;
        L->nerrs++;
        px_scn_pos p = pos_of(d, n);
        px_buf_printf(L->errs, "%s:%d:%d: document too large: more than %d nodes once aliases are expanded\n",
                      p.file, p.line, p.col, NODE_BUDGET);
    }
    return false;
}

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = scalar(n);
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* A name taken from the file, fit to quote in a message: at most
 * MAX_QUOTED_NAME characters, anything not printable ASCII shown as '?', and
 * "..." when cut. Writes into out (MAX_QUOTED_NAME + 4 bytes) and returns it. */
static const char *quoted_name(const char *s, char out[MAX_QUOTED_NAME + 4])
{
    size_t i = 0;
    for (; s[i] && i < MAX_QUOTED_NAME; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s[i]) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
    return out;
}

/* Identity of a file read: includes are compared by device and inode, not by
 * the spelling of their path ("f.yaml", "./f.yaml", "d/../f.yaml"). */
typedef struct file_id {
    dev_t dev;
    ino_t ino;
} file_id;

/* Opens `path` for reading without blocking (a FIFO would block in open) and
 * refuses anything but a regular file (a FIFO or a device may never end), before
 * any read. Returns the descriptor (caller closes) or -1 with `*why` set. */
static int open_regular(const char *path, struct stat *st, const char **why)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    if (fstat(fd, st) != 0) {
        *why = strerror(errno);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        *why = S_ISDIR(st->st_mode) ? "a directory, not a regular file" : "not a regular file";
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads up to `max` bytes from fd; returns the count, or -1 (errno set). */
static ssize_t read_upto(int fd, void *buf, size_t max)
{
    size_t n = 0;
    while (n < max) {
        ssize_t r = read(fd, (char *)buf + n, max - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    return (ssize_t)n;
}

/* ------------------------------------------------------------ variables */

static var *var_find(loader *L, const char *name, size_t len)
{
    for (size_t i = 0; i < L->nvars; i++)
        if (strlen(L->vars[i].name) == len && !strncmp(L->vars[i].name, name, len))
            return &L->vars[i];
    return NULL;
}

static void var_set(loader *L, const char *name, const char *value)
{
    var *v = var_find(L, name, strlen(name));
    if (v) {
        char *nv = xstrdup(L, value);
        if (nv) {
            free(v->value);
            v->value = nv;
        }
        return;
    }
    v = PUSH(L, L->vars, L->nvars);
    if (v) {
        v->name = xstrdup(L, name);
        v->value = xstrdup(L, value);
        if (!v->name || !v->value) {
            free(v->name);
            free(v->value);
            L->nvars--;
        }
    }
}

static bool var_name_ok(const char *s, size_t len)
{
    if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

/* Appends `v` quoted for /bin/sh: in single quotes, each ' written as '\''. */
static void shell_quote(px_buf *out, const char *v)
{
    px_buf_append(out, "'");
    for (const char *q; (q = strchr(v, '\'')); v = q + 1) {
        px_buf_append_n(out, v, (size_t)(q - v));
        px_buf_append(out, "'\\''");
    }
    px_buf_append(out, v);
    px_buf_append(out, "'");
}

/* Expands ${name} and ${name:q} (the value quoted for the shell) in a scalar
 * ("$${" is a literal "${"). Returns a new string, or NULL after logging an
 * error. *changed tells whether anything was replaced. Each result is at most
 * MAX_EXPANDED_BYTES, all results together MAX_EXPANDED_TOTAL: a large variable
 * used many times would otherwise multiply its size. */
static char *expand(loader *L, const doc *d, const yaml_node_t *n, bool *changed)
{
    const char *s = scalar(n);
    size_t len = n->data.scalar.length;
    if (memchr(s, '\0', len)) {
        err_node(L, d, n, "NUL character in a scalar");
        return NULL;
    }
    if (changed)
        *changed = false;
    if (!strstr(s, "${"))
        return xstrdup(L, s);
    px_buf out = PX_BUF_INIT;
    const char *p = s;
    bool ok = true;
    while (*p) {
        if (out.len > MAX_EXPANDED_BYTES)
            break;
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            px_buf_append(&out, "${");
            p += 3;
            if (changed)
                *changed = true;
            continue;
        }
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p + 2, '}');
            if (!close) {
                err_node(L, d, n, "unterminated '${' in '%.64s%s': expected ${name} (write $${ for a literal ${)", s,
                         strlen(s) > 64 ? "..." : "");
                ok = false;
                break;
            }
            size_t nl = (size_t)(close - (p + 2));
            bool quote = nl > 2 && !strncmp(close - 2, ":q", 2);
            if (quote)
                nl -= 2;
            if (!var_name_ok(p + 2, nl)) {
                err_node(L, d, n,
                         "'%.*s' is not a variable name: expected letters, digits, '_' or '-' (and ':q' to quote "
                         "for the shell)",
                         (int)(nl < 64 ? nl : 64), p + 2);
                ok = false;
                break;
            }
            var *v = var_find(L, p + 2, nl);
            if (!v) {
                err_node(L, d, n, "unknown variable '${%.*s}': define it under 'variables:' or with --var", (int)nl,
                         p + 2);
                ok = false;
                break;
            }
            if (strlen(v->value) > MAX_EXPANDED_BYTES) {
                out.len = MAX_EXPANDED_BYTES + 1;
                break;
            }
            if (quote)
                shell_quote(&out, v->value);
            else
                px_buf_append(&out, v->value);
            if (changed)
                *changed = true;
            p = close + 1;
            continue;
        }
        px_buf_append_n(&out, p, 1);
        p++;
    }
    if (ok && out.len > MAX_EXPANDED_BYTES) {
        err_node(L, d, n, "value longer than %u bytes once variables are expanded", MAX_EXPANDED_BYTES);
        ok = false;
    } else if (ok && (L->expanded_total += out.len) > MAX_EXPANDED_TOTAL) {
        err_node(L, d, n, "variables expand to more than %u bytes in all", MAX_EXPANDED_TOTAL);
        ok = false;
    }
    if (out.oom)
        L->oom = true;
    if (!ok || out.oom) {
        px_buf_free(&out);
        return NULL;
    }
    char *r = px_buf_steal(&out);
    if (!r)
        r = xstrdup(L, "");
    return r;
}

/* ------------------------------------------------------------ typed getters */

static bool want_type(loader *L, const doc *d, const yaml_node_t *n, yaml_node_type_t t, const char *what)
{
    if (n->type == t)
        return true;
    const char *w = t == YAML_SCALAR_NODE ? "a scalar" : t == YAML_SEQUENCE_NODE ? "a list" : "a mapping";
    err_node(L, d, n, "%s: expected %s, got %s", what, w, kind_name(n));
    return false;
}

static char *get_str(loader *L, const doc *d, const yaml_node_t *n, const char *what)
{
    if (!want_type(L, d, n, YAML_SCALAR_NODE, what))
        return NULL;
    return expand(L, d, n, NULL);
}

/* A non-empty string. */
static char *get_nonempty(loader *L, const doc *d, const yaml_node_t *n, const char *what)
{
    char *s = get_str(L, d, n, what);
    if (s && !*s) {
        err_node(L, d, n, "%s: expected a non-empty string", what);
        free(s);
        return NULL;
    }
    return s;
}

static bool get_u32(loader *L, const doc *d, const yaml_node_t *n, const char *what, uint32_t min, uint32_t max,
                    uint32_t *out)
{
    char *s = get_str(L, d, n, what);
    if (!s)
        return false;
    char *end;
    errno = 0;
    bool ok = isdigit((unsigned char)s[0]);
    unsigned long long v = ok ? strtoull(s, &end, 0) : 0;
    if (!ok || errno || *end || v < min || v > max) {
        err_node(L, d, n, "%s: expected an integer from %u to %u, got '%s'", what, (unsigned)min, (unsigned)max, s);
        free(s);
        return false;
    }
    free(s);
    *out = (uint32_t)v;
    return true;
}

static bool get_bool(loader *L, const doc *d, const yaml_node_t *n, const char *what, bool *out)
{
    char *s = get_str(L, d, n, what);
    if (!s)
        return false;
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
            *out = !strcasecmp(s, yes[i]);
            free(s);
            return true;
        }
    }
    err_node(L, d, n, "%s: expected true or false, got '%s'", what, s);
    free(s);
    return false;
}

int px_parse_duration_ms(const char *text, uint32_t *ms)
{
    /* The command line's parser (runner/duration.h): one grammar for both. */
    uint64_t ns;
    int rc = px_duration_parse(text ? text : "", PX_DURATION_NS_PER_MS, PX_DURATION_24H_NS, &ns);
    if (rc)
        return rc;
    *ms = (uint32_t)((ns + PX_DURATION_NS_PER_MS / 2) / PX_DURATION_NS_PER_MS);
    return 0;
}

static bool get_duration(loader *L, const doc *d, const yaml_node_t *n, const char *what, uint32_t *out)
{
    char *s = get_str(L, d, n, what);
    if (!s)
        return false;
    int rc = px_parse_duration_ms(s, out);
    if (rc == PX_ERANGE)
        err_node(L, d, n, "%s: '%s' is longer than 24 hours", what, s);
    else if (rc)
        err_node(L, d, n, "%s: expected a duration like 500ms, 2s or 1m (a bare integer is milliseconds), got '%s'",
                 what, s);
    free(s);
    return rc == 0;
}

static bool ifname_ok(loader *L, const doc *d, const yaml_node_t *n, const char *what, const char *s)
{
    /* '%' too: the kernel takes "name%d" as a template and picks the name itself,
     * so the interface created would not be the one named (nor deleted after). */
    if (!*s || strlen(s) > IFNAME_MAX || strpbrk(s, "/: \t%") || !strcmp(s, ".") || !strcmp(s, "..")) {
        err_node(L, d, n,
                 "%s: '%.*s%s' is not an interface name: expected 1 to %d characters without '/', ':', '%%' or "
                 "spaces",
                 what, MAX_QUOTED_NAME, s, strlen(s) > MAX_QUOTED_NAME ? "..." : "", IFNAME_MAX);
        return false;
    }
    return true;
}

static char *get_ifname(loader *L, const doc *d, const yaml_node_t *n, const char *what)
{
    char *s = get_str(L, d, n, what);
    if (s && !ifname_ok(L, d, n, what, s)) {
        free(s);
        return NULL;
    }
    return s;
}

static char *get_nsname(loader *L, const doc *d, const yaml_node_t *n, const char *what)
{
    char *s = get_str(L, d, n, what);
    if (s && (!*s || strlen(s) > 200 || strchr(s, '/') || strpbrk(s, " \t") || !strcmp(s, ".") ||
              !strcmp(s, ".."))) {
        err_node(L, d, n, "%s: '%s' is not a namespace name: expected 1 to 200 characters without '/' or spaces", what,
                 s);
        free(s);
        return NULL;
    }
    return s;
}

/* Reads the keys of a mapping into vals[] (parallel to keys[], NULL-terminated).
 * Unknown and duplicate keys are errors. Returns false if n is not a mapping. */
static bool get_fields(loader *L, doc *d, yaml_node_t *n, const char *what, const char *const *keys,
                       yaml_node_t **vals)
{
    size_t nk = 0;
    while (keys[nk])
        vals[nk++] = NULL;
    if (!want_type(L, d, n, YAML_MAPPING_NODE, what))
        return false;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(d, p->key), *v = node(d, p->value);
        if (!k || !v || !spend(L, d, k))
            return false;
        if (k->type != YAML_SCALAR_NODE) {
            err_node(L, d, k, "%s: expected a plain key, got %s", what, kind_name(k));
            continue;
        }
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], scalar(k)))
            i++;
        char qn[MAX_QUOTED_NAME + 4];
        if (!keys[i]) {
            px_buf list = PX_BUF_INIT;
            for (size_t j = 0; keys[j]; j++)
                px_buf_printf(&list, "%s%s", j ? ", " : "", keys[j]);
            err_node(L, d, k, "unknown key '%s' in %s (expected one of: %s)", quoted_name(scalar(k), qn), what,
                     px_buf_cstr(&list));
            px_buf_free(&list);
            continue;
        }
        if (vals[i]) {
            err_node(L, d, k, "duplicate key '%s' in %s", quoted_name(scalar(k), qn), what);
            continue;
        }
        vals[i] = v;
    }
    return true;
}

static void missing(loader *L, const doc *d, const yaml_node_t *n, const char *what, const char *key)
{
    err_node(L, d, n, "%s is missing '%s'", what, key);
}

/* A scalar or a list of scalars -> array of strings (each checked by `check`). */
static bool get_str_list(loader *L, doc *d, yaml_node_t *n, const char *what,
                         char *(*get)(loader *, const doc *, const yaml_node_t *, const char *), char ***out,
                         size_t *nout)
{
    if (n->type == YAML_SCALAR_NODE) {
        char *s = get(L, d, n, what);
        if (!s)
            return false;
        char **slot = PUSH(L, *out, *nout);
        if (!slot) {
            free(s);
            return false;
        }
        *slot = s;
        return true;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        err_node(L, d, n, "%s: expected a name or a list of names, got %s", what, kind_name(n));
        return false;
    }
    bool ok = true;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = node(d, *it);
        if (!e || !spend(L, d, e))
            return false;
        char *s = get(L, d, e, what);
        if (!s) {
            ok = false;
            continue;
        }
        char **slot = PUSH(L, *out, *nout);
        if (!slot) {
            free(s);
            return false;
        }
        *slot = s;
    }
    if (*nout == 0) {
        err_node(L, d, n, "%s: expected at least one name", what);
        return false;
    }
    return ok;
}

/* ------------------------------------------------------------- topology */

static bool ns_declared(const px_scenario *s, const char *ns)
{
    if (!ns)
        return true;
    for (size_t i = 0; i < s->nnamespaces; i++)
        if (!strcmp(s->namespaces[i], ns))
            return true;
    return false;
}

static void check_ns(loader *L, const doc *d, const yaml_node_t *n, const char *ns)
{
    if (ns && !ns_declared(L->s, ns))
        err_node(L, d, n, "unknown namespace '%s': declare it under topology.namespaces", ns);
}

static bool streq_null(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Is there an interface `name` the topology creates in namespace `ns`? */
static bool topo_has_if(const px_scenario *s, const char *name, const char *ns, bool bridges_too)
{
    for (size_t i = 0; i < s->nveths; i++) {
        const px_scn_veth *v = &s->veths[i];
        if ((!strcmp(v->name, name) && streq_null(v->netns, ns)) ||
            (!strcmp(v->peer, name) && streq_null(v->peer_netns, ns)))
            return true;
    }
    if (bridges_too)
        for (size_t i = 0; i < s->nbridges; i++)
            if (!strcmp(s->bridges[i].name, name) && streq_null(s->bridges[i].netns, ns))
                return true;
    return false;
}

static bool get_cmd(loader *L, doc *d, yaml_node_t *n, const char *what, bool allow_exit, px_scn_cmd *c)
{
    c->pos = pos_of(d, n);
    if (n->type == YAML_SCALAR_NODE) {
        c->run = get_nonempty(L, d, n, what);
        return c->run != NULL;
    }
    static const char *const keys_exec[] = {"run", "netns", "exit", "timeout", NULL};
    static const char *const keys_cmd[] = {"run", "netns", "timeout", NULL};
    yaml_node_t *v[5];
    if (!get_fields(L, d, n, what, allow_exit ? keys_exec : keys_cmd, v)) {
        return false;
    }
    bool ok = true;
    if (!v[0]) {
        missing(L, d, n, what, "run");
        ok = false;
    } else if (!(c->run = get_nonempty(L, d, v[0], "run")))
        ok = false;
    if (v[1]) {
        if (!(c->netns = get_nsname(L, d, v[1], "netns")))
            ok = false;
        else
            check_ns(L, d, v[1], c->netns);
    }
    yaml_node_t *vt = allow_exit ? v[3] : v[2];
    if (allow_exit && v[2]) {
        uint32_t e;
        if (get_u32(L, d, v[2], "exit", 0, 255, &e))
            c->exit_code = (int)e;
        else
            ok = false;
    }
    if (vt && !get_duration(L, d, vt, "timeout", &c->timeout_ms))
        ok = false;
    return ok;
}

static void get_cmds(loader *L, doc *d, yaml_node_t *n, const char *what, px_scn_cmd **out, size_t *nout)
{
    if (n->type == YAML_SCALAR_NODE) {
        px_scn_cmd *c = PUSH(L, *out, *nout);
        if (c)
            get_cmd(L, d, n, what, false, c);
        return;
    }
    if (!want_type(L, d, n, YAML_SEQUENCE_NODE, what))
        return;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = node(d, *it);
        if (!e || !spend(L, d, e))
            return;
        px_scn_cmd *c = PUSH(L, *out, *nout);
        if (!c)
            return;
        get_cmd(L, d, e, what, false, c);
    }
}

static void get_bvlans(loader *L, doc *d, yaml_node_t *n, px_scn_bvlan **out, size_t *nout)
{
    if (!want_type(L, d, n, YAML_SEQUENCE_NODE, "vlans"))
        return;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = node(d, *it);
        if (!e || !spend(L, d, e))
            return;
        px_scn_bvlan bv = {0};
        uint32_t vid;
        if (e->type == YAML_SCALAR_NODE) {
            if (!get_u32(L, d, e, "VLAN", 1, 4094, &vid))
                continue;
        } else {
            static const char *const keys[] = {"vid", "pvid", "untagged", NULL};
            yaml_node_t *v[3];
            if (!get_fields(L, d, e, "a VLAN entry", keys, v))
                continue;
            if (!v[0]) {
                missing(L, d, e, "a VLAN entry", "vid");
                continue;
            }
            if (!get_u32(L, d, v[0], "vid", 1, 4094, &vid))
                continue;
            if (v[1] && !get_bool(L, d, v[1], "pvid", &bv.pvid))
                continue;
            if (v[2] && !get_bool(L, d, v[2], "untagged", &bv.untagged))
                continue;
        }
        bv.vid = (uint16_t)vid;
        px_scn_bvlan *slot = PUSH(L, *out, *nout);
        if (slot)
            *slot = bv;
    }
}

static void get_topology(loader *L, doc *d, yaml_node_t *n)
{
    px_scenario *s = L->s;
    static const char *const keys[] = {"namespaces", "veths", "bridges", "addresses", "setup", "teardown", NULL};
    yaml_node_t *v[6];
    if (!get_fields(L, d, n, "topology", keys, v))
        return;
    if (v[0])
        get_str_list(L, d, v[0], "namespaces", get_nsname, &s->namespaces, &s->nnamespaces);
    for (size_t i = 0; i < s->nnamespaces; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->namespaces[i], s->namespaces[j]))
                err_node(L, d, v[0], "namespace '%s' is listed twice", s->namespaces[i]);

    if (v[1] && want_type(L, d, v[1], YAML_SEQUENCE_NODE, "veths")) {
        for (yaml_node_item_t *it = v[1]->data.sequence.items.start; it < v[1]->data.sequence.items.top; it++) {
            yaml_node_t *e = node(d, *it);
            if (!e || !spend(L, d, e))
                return;
            static const char *const vk[] = {"name", "peer", "netns", "peer_netns", "mtu", NULL};
            yaml_node_t *f[5];
            if (!get_fields(L, d, e, "a veth", vk, f))
                continue;
            px_scn_veth *ve = PUSH(L, s->veths, s->nveths);
            if (!ve)
                return;
            ve->pos = pos_of(d, e);
            if (!f[0])
                missing(L, d, e, "a veth", "name");
            else
                ve->name = get_ifname(L, d, f[0], "name");
            if (!f[1])
                missing(L, d, e, "a veth", "peer");
            else
                ve->peer = get_ifname(L, d, f[1], "peer");
            if (f[2] && (ve->netns = get_nsname(L, d, f[2], "netns")))
                check_ns(L, d, f[2], ve->netns);
            if (f[3] && (ve->peer_netns = get_nsname(L, d, f[3], "peer_netns")))
                check_ns(L, d, f[3], ve->peer_netns);
            if (f[4])
                get_u32(L, d, f[4], "mtu", 68, 65535, &ve->mtu);
            if (!ve->name || !ve->peer) {
                free(ve->name);
                free(ve->peer);
                free(ve->netns);
                free(ve->peer_netns);
                s->nveths--;
                continue;
            }
            if (!strcmp(ve->name, ve->peer) && streq_null(ve->netns, ve->peer_netns))
                err_node(L, d, e, "a veth needs two different names, got '%s' twice", ve->name);
            /* Names must be unique per namespace. */
            for (size_t j = 0; j + 1 < s->nveths; j++) {
                const char *nm[2] = {ve->name, ve->peer};
                const char *ns[2] = {ve->netns, ve->peer_netns};
                for (int k = 0; k < 2; k++)
                    if ((!strcmp(s->veths[j].name, nm[k]) && streq_null(s->veths[j].netns, ns[k])) ||
                        (!strcmp(s->veths[j].peer, nm[k]) && streq_null(s->veths[j].peer_netns, ns[k])))
                        err_node(L, d, e, "interface '%s' is already defined at line %d", nm[k], s->veths[j].pos.line);
            }
        }
    }

    if (v[2] && want_type(L, d, v[2], YAML_SEQUENCE_NODE, "bridges")) {
        for (yaml_node_item_t *it = v[2]->data.sequence.items.start; it < v[2]->data.sequence.items.top; it++) {
            yaml_node_t *e = node(d, *it);
            if (!e || !spend(L, d, e))
                return;
            static const char *const bk[] = {"name", "netns", "vlan_filtering", "mtu", "ports", "vlans", NULL};
            yaml_node_t *f[6];
            if (!get_fields(L, d, e, "a bridge", bk, f))
                continue;
            if (!f[0]) {
                missing(L, d, e, "a bridge", "name");
                continue;
            }
            char *name = get_ifname(L, d, f[0], "name");
            if (!name)
                continue;
            px_scn_bridge *b = PUSH(L, s->bridges, s->nbridges);
            if (!b) {
                free(name);
                return;
            }
            b->name = name;
            b->pos = pos_of(d, e);
            if (f[1] && (b->netns = get_nsname(L, d, f[1], "netns")))
                check_ns(L, d, f[1], b->netns);
            if (topo_has_if(s, b->name, b->netns, false))
                err_node(L, d, f[0], "interface '%s' is already defined as a veth", b->name);
            for (size_t j = 0; j + 1 < s->nbridges; j++)
                if (!strcmp(s->bridges[j].name, b->name) && streq_null(s->bridges[j].netns, b->netns))
                    err_node(L, d, f[0], "bridge '%s' is already defined at line %d", b->name, s->bridges[j].pos.line);
            if (f[2])
                get_bool(L, d, f[2], "vlan_filtering", &b->vlan_filtering);
            if (f[3])
                get_u32(L, d, f[3], "mtu", 68, 65535, &b->mtu);
            if (f[5]) {
                get_bvlans(L, d, f[5], &b->vlans, &b->nvlans);
                if (b->nvlans && !b->vlan_filtering)
                    err_node(L, d, f[5], "bridge '%s' has VLANs but not 'vlan_filtering: true'", b->name);
            }
            if (f[4] && want_type(L, d, f[4], YAML_SEQUENCE_NODE, "ports")) {
                for (yaml_node_item_t *pi = f[4]->data.sequence.items.start; pi < f[4]->data.sequence.items.top;
                     pi++) {
                    yaml_node_t *pe = node(d, *pi);
                    if (!pe || !spend(L, d, pe))
                        return;
                    yaml_node_t *pname = pe, *pvlans = NULL;
                    if (pe->type == YAML_MAPPING_NODE) {
                        static const char *const pk[] = {"name", "vlans", NULL};
                        yaml_node_t *pf[2];
                        if (!get_fields(L, d, pe, "a bridge port", pk, pf))
                            continue;
                        if (!pf[0]) {
                            missing(L, d, pe, "a bridge port", "name");
                            continue;
                        }
                        pname = pf[0];
                        pvlans = pf[1];
                    }
                    char *pn = get_ifname(L, d, pname, "bridge port");
                    if (!pn)
                        continue;
                    px_scn_bport *bp = PUSH(L, b->ports, b->nports);
                    if (!bp) {
                        free(pn);
                        return;
                    }
                    bp->name = pn;
                    bp->pos = pos_of(d, pname);
                    if (!topo_has_if(s, pn, b->netns, false))
                        err_node(L, d, pname, "bridge port '%s' is not a veth end in %s%s%s", pn,
                                 b->netns ? "namespace '" : "the runner's namespace", b->netns ? b->netns : "",
                                 b->netns ? "'" : "");
                    if (pvlans) {
                        get_bvlans(L, d, pvlans, &bp->vlans, &bp->nvlans);
                        if (bp->nvlans && !b->vlan_filtering)
                            err_node(L, d, pvlans, "bridge '%s' has VLANs but not 'vlan_filtering: true'", b->name);
                    }
                    for (size_t j = 0; j + 1 < b->nports; j++)
                        if (!strcmp(b->ports[j].name, pn))
                            err_node(L, d, pname, "bridge port '%s' is listed twice", pn);
                }
            }
        }
    }

    if (v[3] && want_type(L, d, v[3], YAML_SEQUENCE_NODE, "addresses")) {
        for (yaml_node_item_t *it = v[3]->data.sequence.items.start; it < v[3]->data.sequence.items.top; it++) {
            yaml_node_t *e = node(d, *it);
            if (!e || !spend(L, d, e))
                return;
            static const char *const ak[] = {"dev", "netns", "address", NULL};
            yaml_node_t *f[3];
            if (!get_fields(L, d, e, "an address", ak, f))
                continue;
            if (!f[0] || !f[2]) {
                missing(L, d, e, "an address", !f[0] ? "dev" : "address");
                continue;
            }
            px_scn_addr *a = PUSH(L, s->addrs, s->naddrs);
            if (!a)
                return;
            a->pos = pos_of(d, e);
            a->dev = get_ifname(L, d, f[0], "dev");
            if (f[1] && (a->netns = get_nsname(L, d, f[1], "netns")))
                check_ns(L, d, f[1], a->netns);
            a->cidr = get_nonempty(L, d, f[2], "address");
            if (a->dev && !topo_has_if(s, a->dev, a->netns, true))
                err_node(L, d, f[0], "'%s' is not an interface of the topology in %s%s%s", a->dev,
                         a->netns ? "namespace '" : "the runner's namespace", a->netns ? a->netns : "",
                         a->netns ? "'" : "");
            if (a->cidr) {
                const char *slash = strchr(a->cidr, '/');
                bool ok = slash && slash[1] && strspn(slash + 1, "0123456789") == strlen(slash + 1) &&
                          strlen(slash + 1) <= 3;
                if (!ok)
                    err_node(L, d, f[2], "address: expected CIDR form like 10.0.0.1/24 or 2001:db8::1/64, got '%s'",
                             a->cidr);
            }
        }
    }
    if (v[4])
        get_cmds(L, d, v[4], "setup", &s->setup, &s->nsetup);
    if (v[5])
        get_cmds(L, d, v[5], "teardown", &s->teardown, &s->nteardown);
}

/* ---------------------------------------------------------------- ports */

static void add_port(loader *L, const char *name, const char *ifname, const char *ns, px_scn_pos pos)
{
    px_scenario *s = L->s;
    for (size_t i = 0; i < s->nports; i++) {
        if (!strcmp(s->ports[i].name, name)) {
            if (!streq_null(s->ports[i].netns, ns)) {
                char **a = PUSH(L, L->ambiguous, L->nambiguous);
                if (a)
                    *a = xstrdup(L, name);
            }
            return;
        }
    }
    px_scn_port *p = PUSH(L, s->ports, s->nports);
    if (!p)
        return;
    p->name = xstrdup(L, name);
    p->ifname = xstrdup(L, ifname);
    p->netns = xstrdup(L, ns);
    p->pos = pos;
}

static void get_ports(loader *L, doc *d, yaml_node_t *n)
{
    if (!want_type(L, d, n, YAML_MAPPING_NODE, "ports"))
        return;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(d, p->key), *v = node(d, p->value);
        if (!k || !v || !spend(L, d, k))
            return;
        char *name = get_nonempty(L, d, k, "port name");
        if (!name)
            continue;
        char *ifname = NULL, *ns = NULL;
        if (v->type == YAML_SCALAR_NODE) {
            ifname = get_ifname(L, d, v, "port interface");
        } else {
            static const char *const keys[] = {"interface", "netns", NULL};
            yaml_node_t *f[2];
            if (get_fields(L, d, v, "a port", keys, f)) {
                if (!f[0])
                    missing(L, d, v, "a port", "interface");
                else
                    ifname = get_ifname(L, d, f[0], "interface");
                if (f[1])
                    ns = get_nsname(L, d, f[1], "netns");
            }
        }
        for (size_t i = 0; ifname && i < L->s->nports; i++)
            if (!strcmp(L->s->ports[i].name, name))
                err_node(L, d, k, "port '%s' is defined twice", name);
        if (ifname)
            add_port(L, name, ifname, ns, pos_of(d, k));
        free(name);
        free(ifname);
        free(ns);
    }
}

static void implicit_ports(loader *L)
{
    px_scenario *s = L->s;
    for (size_t i = 0; i < s->nveths; i++) {
        add_port(L, s->veths[i].name, s->veths[i].name, s->veths[i].netns, s->veths[i].pos);
        add_port(L, s->veths[i].peer, s->veths[i].peer, s->veths[i].peer_netns, s->veths[i].pos);
    }
    for (size_t i = 0; i < s->nbridges; i++)
        add_port(L, s->bridges[i].name, s->bridges[i].name, s->bridges[i].netns, s->bridges[i].pos);
}

const px_scn_port *px_scenario_port(const px_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->nports; i++)
        if (!strcmp(s->ports[i].name, name))
            return &s->ports[i];
    return NULL;
}

static void check_port_ref(loader *L, const doc *d, const yaml_node_t *n, const char *name)
{
    for (size_t i = 0; i < L->nambiguous; i++)
        if (L->ambiguous[i] && !strcmp(L->ambiguous[i], name)) {
            err_node(L, d, n,
                     "port '%s' is ambiguous: interfaces of that name exist in several namespaces; name them under "
                     "'ports:'",
                     name);
            return;
        }
    if (px_scenario_port(L->s, name))
        return;
    px_buf list = PX_BUF_INIT;
    for (size_t i = 0; i < L->s->nports; i++)
        px_buf_printf(&list, "%s%s", i ? ", " : "", L->s->ports[i].name);
    /* An interface that exists here but that the scenario neither creates nor
     * declares is the usual case (eth1 of a test machine): say how to use it. */
    if (strlen(name) < IF_NAMESIZE && if_nametoindex(name) != 0)
        err_node(L, d, n,
                 "unknown port '%s' (known ports: %s): interface '%s' exists but the scenario does not declare it; "
                 "add it under 'ports:', e.g. ports: { %s: %s }",
                 name, L->s->nports ? px_buf_cstr(&list) : "none", name, name, name);
    else
        err_node(L, d, n, "unknown port '%s' (known ports: %s; an existing interface must be declared under 'ports:')",
                 name, L->s->nports ? px_buf_cstr(&list) : "none");
    px_buf_free(&list);
}

/* --------------------------------------------------------------- steps */

/* Reports a checker error at the right column of the scalar when it can. */
static void err_checker(loader *L, const doc *d, const yaml_node_t *n, bool changed, const char *what,
                        const char *msg)
{
    px_scn_pos p = pos_of(d, n);
    int col = 0;
    const char *rest = msg;
    if (!strncmp(msg, "col ", 4)) {
        char *end;
        long c = strtol(msg + 4, &end, 10);
        if (end != msg + 4 && *end == ':' && c > 0 && c < 100000) {
            col = (int)c;
            rest = end + 1;
            while (*rest == ' ')
                rest++;
        }
    }
    bool single_line = n->start_mark.line == n->end_mark.line;
    yaml_scalar_style_t st = n->data.scalar.style;
    if (col && !changed && single_line &&
        (st == YAML_PLAIN_SCALAR_STYLE || st == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
         st == YAML_DOUBLE_QUOTED_SCALAR_STYLE)) {
        err_at(L, p.file, p.line, p.col + col - 1 + (st == YAML_PLAIN_SCALAR_STYLE ? 0 : 1), "%s: %s", what, rest);
    } else if (col) {
        err_at(L, p.file, p.line, p.col, "%s: %s (column %d of the text)", what, rest, col);
    } else {
        err_at(L, p.file, p.line, p.col, "%s: %s", what, rest);
    }
}

static void get_step_ports(loader *L, doc *d, yaml_node_t *e, yaml_node_t *port, yaml_node_t *ports,
                           const char *what, px_step *st)
{
    if (port && ports) {
        err_node(L, d, ports, "%s: give 'port' or 'ports', not both", what);
        return;
    }
    if (!port && !ports) {
        missing(L, d, e, what, "port");
        return;
    }
    yaml_node_t *pn = port ? port : ports;
    if (port && port->type != YAML_SCALAR_NODE) {
        err_node(L, d, port, "port: expected a port name, got %s (use 'ports' for a list)", kind_name(port));
        return;
    }
    size_t before = st->nports;
    get_str_list(L, d, pn, port ? "port" : "ports", get_nonempty, &st->ports, &st->nports);
    /* Check each name at its own list item, for the message's position. */
    if (pn->type == YAML_SCALAR_NODE) {
        if (st->nports > before)
            check_port_ref(L, d, pn, st->ports[before]);
        return;
    }
    size_t nitems = (size_t)(pn->data.sequence.items.top - pn->data.sequence.items.start);
    if (st->nports - before != nitems)
        return; /* some items were rejected already */
    for (size_t i = 0; i < nitems; i++) {
        yaml_node_t *x = node(d, pn->data.sequence.items.start[i]);
        if (x)
            check_port_ref(L, d, x, st->ports[before + i]);
    }
}

/* A `filter:` is compiled here as the run will compile it (Ethernet, snap
 * length 65535), so that validate refuses what run could only turn into ERROR. */
static void check_filter(loader *L, const doc *d, const yaml_node_t *n, const char *filter)
{
    char eb[PX_ERRBUF_SIZE] = "";
    int rc = px_bpf_check(filter, eb);
    if (rc == PX_ENOMEM)
        L->oom = true;
    else if (rc)
        err_node(L, d, n, "filter: %s", eb);
}

static void get_expect(loader *L, doc *d, yaml_node_t *e, px_step *st)
{
    static const char *const keys[] = {"port", "ports", "predicate", "timeout", "count", "filter", "name", "noise_filter",
                                       NULL};
    yaml_node_t *f[8];
    st->noise_filter = -1;
    if (!get_fields(L, d, e, "an expect step", keys, f))
        return;
    get_step_ports(L, d, e, f[0], f[1], "an expect step", st);
    if (!f[2]) {
        missing(L, d, e, "an expect step", "predicate");
    } else if (want_type(L, d, f[2], YAML_SCALAR_NODE, "predicate")) {
        bool changed = false;
        st->predicate = expand(L, d, f[2], &changed);
        st->predicate_pos = pos_of(d, f[2]);
        if (st->predicate && !*st->predicate)
            err_node(L, d, f[2], "predicate: expected an expression like saw_vlan_tag(102)");
        else if (st->predicate && L->chk && L->chk->check_predicate) {
            char eb[PX_ERRBUF_SIZE] = "";
            if (L->chk->check_predicate(st->predicate, eb) < 0)
                err_checker(L, d, f[2], changed, "invalid predicate", eb[0] ? eb : "does not parse");
        }
    }
    if (f[3])
        get_duration(L, d, f[3], "timeout", &st->timeout_ms);
    if (f[4])
        get_u32(L, d, f[4], "count", 1, 100000000, &st->count);
    if (f[5] && (st->filter = get_nonempty(L, d, f[5], "filter")))
        check_filter(L, d, f[5], st->filter);
    if (f[6]) {
        st->name = get_nonempty(L, d, f[6], "name");
        if (st->name && (!strcmp(st->name, "all") || strpbrk(st->name, " \t,")))
            err_node(L, d, f[6], "name: '%s' is reserved or has spaces or commas", st->name);
    }
    if (f[7]) {
        bool b;
        if (get_bool(L, d, f[7], "noise_filter", &b))
            st->noise_filter = b;
    }
}

/* A `pcap:` to replay: a regular file that starts as a pcap or pcapng capture. */
static void check_pcap(loader *L, const doc *d, const yaml_node_t *n, const char *path)
{
    struct stat st;
    const char *why;
    int fd = open_regular(path, &st, &why);
    if (fd < 0) {
        err_node(L, d, n, "pcap: cannot read '%s': %s", path, why);
        return;
    }
    unsigned char m[4];
    ssize_t r = read_upto(fd, m, sizeof m);
    close(fd);
    static const unsigned char magics[][4] = {
        {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, /* pcap, microseconds */
        {0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}, /* pcap, nanoseconds */
        {0x0a, 0x0d, 0x0d, 0x0a},                           /* pcapng section header */
    };
    for (size_t i = 0; r == 4 && i < sizeof magics / sizeof magics[0]; i++)
        if (!memcmp(m, magics[i], 4))
            return;
    err_node(L, d, n, "pcap: '%s' is not a pcap or pcapng capture", path);
}

/* `vlan: VID` or `vlan: { vid: VID, pcp: 0..7, tpid: 0x88a8 }`. */
static void get_push_vlan(loader *L, doc *d, yaml_node_t *n, px_step *st)
{
    uint32_t vid, pcp = 0, tpid = 0;
    if (n->type == YAML_SCALAR_NODE) {
        if (get_u32(L, d, n, "vlan", 0, 4095, &vid))
            st->vlan = (int)vid;
        return;
    }
    static const char *const keys[] = {"vid", "pcp", "tpid", NULL};
    yaml_node_t *v[3];
    if (!get_fields(L, d, n, "a vlan push", keys, v))
        return;
    if (!v[0]) {
        missing(L, d, n, "a vlan push", "vid");
        return;
    }
    if (get_u32(L, d, v[0], "vid", 0, 4095, &vid) && (!v[1] || get_u32(L, d, v[1], "pcp", 0, 7, &pcp)) &&
        (!v[2] || get_u32(L, d, v[2], "tpid", 0x600, 0xffff, &tpid))) {
        st->vlan = (int)vid;
        st->vlan_pcp = (uint8_t)pcp;
        st->vlan_tpid = (uint16_t)tpid;
    }
}

static void get_send(loader *L, doc *d, yaml_node_t *e, px_step *st)
{
    static const char *const keys[] = {"port", "ports", "frame", "hex", "pcap", "count", "rate", "vlan", NULL};
    yaml_node_t *f[8];
    st->vlan = -1;
    st->send_count = 1;
    if (!get_fields(L, d, e, "a send step", keys, f))
        return;
    get_step_ports(L, d, e, f[0], f[1], "a send step", st);
    int nsrc = !!f[2] + !!f[3] + !!f[4];
    if (nsrc != 1) {
        err_node(L, d, nsrc ? (f[2] ? f[2] : f[3]) : e, "a send step needs exactly one of 'frame', 'hex' or 'pcap'");
    } else if (f[2] && want_type(L, d, f[2], YAML_SCALAR_NODE, "frame")) {
        bool changed = false;
        st->frame = expand(L, d, f[2], &changed);
        st->frame_pos = pos_of(d, f[2]);
        if (st->frame && L->chk && L->chk->parse_frame) {
            char eb[PX_ERRBUF_SIZE] = "";
            if (L->chk->parse_frame(st->frame, &st->bytes, &st->nbytes, eb) < 0) {
                err_checker(L, d, f[2], changed, "invalid frame", eb[0] ? eb : "does not parse");
                st->bytes = NULL;
                st->nbytes = 0;
            } else if (st->nbytes > MAX_FRAME_BYTES) {
                err_node(L, d, f[2], "frame: %zu bytes, more than the %d a frame can have", st->nbytes,
                         MAX_FRAME_BYTES);
            }
        }
    } else if (f[3] && want_type(L, d, f[3], YAML_SCALAR_NODE, "hex")) {
        bool changed = false;
        char *hex = expand(L, d, f[3], &changed);
        if (hex) {
            char eb[PX_ERRBUF_SIZE] = "";
            if (px_parse_hex_bytes(hex, &st->bytes, &st->nbytes, eb) < 0)
                err_checker(L, d, f[3], changed, "invalid hex", eb);
            else if (st->nbytes < 14)
                err_node(L, d, f[3], "hex: a frame needs at least 14 bytes (an Ethernet header), got %zu",
                         st->nbytes);
            else if (st->nbytes > MAX_FRAME_BYTES)
                err_node(L, d, f[3], "hex: %zu bytes, more than the %d a frame can have", st->nbytes,
                         MAX_FRAME_BYTES);
            free(hex);
        }
    } else if (f[4]) {
        char *p = get_nonempty(L, d, f[4], "pcap");
        if (p) {
            const char *dir_end = strrchr(d->file, '/');
            if (p[0] != '/' && dir_end) {
                px_buf b = PX_BUF_INIT;
                px_buf_printf(&b, "%.*s/%s", (int)(dir_end - d->file), d->file, p);
                free(p);
                p = px_buf_steal(&b);
                if (!p)
                    L->oom = true;
            }
            if (p)
                check_pcap(L, d, f[4], p);
            st->pcap = p;
        }
    }
    if (f[5])
        get_u32(L, d, f[5], "count", 1, 100000000, &st->send_count);
    if (f[6]) {
        char *r = get_str(L, d, f[6], "rate");
        if (r) {
            char *end;
            errno = 0;
            double v = strtod(r, &end);
            if (errno || end == r || *end || !(v >= 0.001) || v > 1e8) /* px_send_paced's bounds (send.h) */
                err_node(L, d, f[6], "rate: expected frames per second, a number from 0.001 to 100000000, got '%s'",
                         r);
            else
                st->rate_pps = v;
            free(r);
        }
    }
    if (f[7])
        get_push_vlan(L, d, f[7], st);
}

static bool expect_named(const px_scn_test *t, const char *name)
{
    for (size_t i = 0; i < t->nsteps; i++)
        if (t->steps[i].kind == PX_STEP_EXPECT && t->steps[i].name && !strcmp(t->steps[i].name, name))
            return true;
    return false;
}

static void get_wait(loader *L, doc *d, yaml_node_t *v, px_scn_test *t, px_step *st)
{
    if (v->type == YAML_SCALAR_NODE && !strcmp(scalar(v), "all")) {
        st->wait_all = true;
        return;
    }
    if (v->type == YAML_SCALAR_NODE && is_null(v)) {
        st->wait_all = true;
        return;
    }
    if (!get_str_list(L, d, v, "wait", get_nonempty, &st->names, &st->nnames))
        return;
    for (size_t i = 0; i < st->nnames; i++)
        if (!expect_named(t, st->names[i]))
            err_node(L, d, v, "wait: no expect step named '%s' before this step in test '%s'", st->names[i],
                     t->name ? t->name : "?");
}

static const char *const step_kinds[] = {"expect", "send", "wait", "sleep", "exec", NULL};

static void get_test(loader *L, doc *d, yaml_node_t *n)
{
    static const char *const keys[] = {"name", "steps", "skip", NULL};
    yaml_node_t *f[3];
    if (!get_fields(L, d, n, "a test", keys, f))
        return;
    px_scn_test *t = PUSH(L, L->s->tests, L->s->ntests);
    if (!t)
        return;
    t->pos = pos_of(d, n);
    if (!f[0])
        missing(L, d, n, "a test", "name");
    else if ((t->name = get_nonempty(L, d, f[0], "name"))) {
        for (size_t i = 0; i + 1 < L->s->ntests; i++)
            if (L->s->tests[i].name && !strcmp(L->s->tests[i].name, t->name))
                err_node(L, d, f[0], "test '%s' is already defined at %s:%d", t->name, L->s->tests[i].pos.file,
                         L->s->tests[i].pos.line);
    }
    if (f[2]) {
        if (f[2]->type == YAML_SCALAR_NODE &&
            (!strcasecmp(scalar(f[2]), "false") || !strcasecmp(scalar(f[2]), "no")))
            ;
        else if (f[2]->type == YAML_SCALAR_NODE &&
                 (!strcasecmp(scalar(f[2]), "true") || !strcasecmp(scalar(f[2]), "yes")))
            t->skip = xstrdup(L, "skipped");
        else
            t->skip = get_nonempty(L, d, f[2], "skip");
    }
    if (!f[1]) {
        missing(L, d, n, "a test", "steps");
        return;
    }
    if (!want_type(L, d, f[1], YAML_SEQUENCE_NODE, "steps"))
        return;
    for (yaml_node_item_t *it = f[1]->data.sequence.items.start; it < f[1]->data.sequence.items.top; it++) {
        yaml_node_t *e = node(d, *it);
        if (!e || !spend(L, d, e))
            return;
        if (e->type != YAML_MAPPING_NODE || e->data.mapping.pairs.top - e->data.mapping.pairs.start != 1) {
            err_node(L, d, e, "a step is a mapping with one key: expect, send, wait, sleep or exec");
            continue;
        }
        yaml_node_t *k = node(d, e->data.mapping.pairs.start->key), *v = node(d, e->data.mapping.pairs.start->value);
        if (!k || !v)
            continue;
        int kind = -1;
        for (int i = 0; step_kinds[i]; i++)
            if (k->type == YAML_SCALAR_NODE && !strcmp(scalar(k), step_kinds[i]))
                kind = i;
        if (kind < 0) {
            char qn[MAX_QUOTED_NAME + 4];
            err_node(L, d, k, "unknown step '%s' (expected one of: expect, send, wait, sleep, exec)",
                     k->type == YAML_SCALAR_NODE ? quoted_name(scalar(k), qn) : kind_name(k));
            continue;
        }
        /* PUSH may move t->steps: take the slot, then fill it. */
        px_step *st = PUSH(L, t->steps, t->nsteps);
        if (!st)
            return;
        st->kind = (px_step_kind)kind;
        st->pos = pos_of(d, k);
        st->vlan = -1;
        st->noise_filter = -1;
        switch (st->kind) {
        case PX_STEP_EXPECT:
            get_expect(L, d, v, st);
            if (st->name) {
                for (size_t i = 0; i + 1 < t->nsteps; i++)
                    if (t->steps[i].kind == PX_STEP_EXPECT && t->steps[i].name &&
                        !strcmp(t->steps[i].name, st->name))
                        err_node(L, d, v, "expectation name '%s' is used twice in test '%s'", st->name,
                                 t->name ? t->name : "?");
            }
            break;
        case PX_STEP_SEND:
            get_send(L, d, v, st);
            break;
        case PX_STEP_WAIT:
            get_wait(L, d, v, t, st);
            break;
        case PX_STEP_SLEEP:
            get_duration(L, d, v, "sleep", &st->sleep_ms);
            break;
        case PX_STEP_EXEC:
            get_cmd(L, d, v, "exec", true, &st->cmd);
            break;
        }
    }
    /* The runner opens at most MAX_TEST_PORTS ports per test. */
    const px_scn_port *used[MAX_TEST_PORTS];
    size_t nused = 0;
    for (size_t i = 0; i < t->nsteps; i++) {
        for (size_t j = 0; j < t->steps[i].nports; j++) {
            const px_scn_port *p = px_scenario_port(L->s, t->steps[i].ports[j]);
            size_t k = 0;
            while (p && k < nused && used[k] != p)
                k++;
            if (!p || k < nused)
                continue;
            if (nused == MAX_TEST_PORTS) {
                err_node(L, d, f[0] ? f[0] : n, "test '%s' uses more than %d ports", t->name ? t->name : "?",
                         MAX_TEST_PORTS);
                goto names_checked;
            }
            used[nused++] = p;
        }
    }
names_checked:
    if (f[1]->data.sequence.items.top == f[1]->data.sequence.items.start && !t->skip)
        err_node(L, d, f[1], "test '%s' has no steps", t->name ? t->name : "?");
}

static void get_defaults(loader *L, doc *d, yaml_node_t *n)
{
    static const char *const keys[] = {"timeout", "noise_filter", "record", NULL};
    yaml_node_t *f[3];
    if (!get_fields(L, d, n, "defaults", keys, f))
        return;
    if (f[0] && get_duration(L, d, f[0], "timeout", &L->s->timeout_ms) && L->s->timeout_ms == 0)
        err_node(L, d, f[0], "timeout: expected a duration above 0");
    if (f[1])
        get_bool(L, d, f[1], "noise_filter", &L->s->noise_filter);
    if (f[2])
        get_bool(L, d, f[2], "record", &L->s->record);
}

/* ---------------------------------------------------------------- files */

static const char *intern_file(loader *L, const char *path)
{
    for (size_t i = 0; i < L->s->nfiles; i++)
        if (!strcmp(L->s->files[i], path))
            return L->s->files[i];
    char *c = xstrdup(L, path);
    if (!c)
        return NULL;
    char **slot = PUSH(L, L->s->files, L->s->nfiles);
    if (!slot) {
        free(c);
        return NULL;
    }
    *slot = c;
    return c;
}

static char *read_file(loader *L, const char *path, size_t *len, file_id *id)
{
    struct stat st;
    const char *why;
    int fd = open_regular(path, &st, &why);
    if (fd < 0) {
        err_at(L, path, 0, 0, "cannot open: %s", why);
        return NULL;
    }
    if (st.st_size > (off_t)MAX_FILE_BYTES) {
        err_at(L, path, 0, 0, "file larger than %u bytes (%lld bytes)", MAX_FILE_BYTES, (long long)st.st_size);
        close(fd);
        return NULL;
    }
    if (id) {
        id->dev = st.st_dev;
        id->ino = st.st_ino;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    if (!buf) {
        close(fd);
        L->oom = true;
        return NULL;
    }
    /* The size may change under us: the bound is on what is read. */
    ssize_t n = read_upto(fd, buf, MAX_FILE_BYTES + 1);
    int e = errno;
    close(fd);
    if (n < 0 || (size_t)n > MAX_FILE_BYTES) {
        if (n < 0)
            err_at(L, path, 0, 0, "cannot read: %s", strerror(e));
        else
            err_at(L, path, 0, 0, "file larger than %u bytes", MAX_FILE_BYTES);
        free(buf);
        return NULL;
    }
    if ((L->bytes_read += (size_t)n) > MAX_TOTAL_BYTES) {
        err_at(L, path, 0, 0, "the scenario and its includes are larger than %u bytes in all", MAX_TOTAL_BYTES);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* Checks the nesting of collections with libyaml's scanner, which stops at the
 * first token past MAX_NESTING (before the parser, whose cost grows with the
 * square of the depth, sees the document). Reports file:line:col and returns
 * false when too deep; a syntax error is left to the parser to report. */
static bool nesting_ok(loader *L, const char *file, const char *text, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        L->oom = true;
        return false;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int depth = 0;
    bool ok = true;
    for (;;) {
        yaml_token_t t;
        if (!yaml_parser_scan(&p, &t))
            break;
        yaml_token_type_t type = t.type;
        yaml_mark_t m = t.start_mark;
        yaml_token_delete(&t);
        if (type == YAML_STREAM_END_TOKEN)
            break;
        if (type == YAML_FLOW_SEQUENCE_START_TOKEN || type == YAML_FLOW_MAPPING_START_TOKEN ||
            type == YAML_BLOCK_SEQUENCE_START_TOKEN || type == YAML_BLOCK_MAPPING_START_TOKEN) {
            if (++depth > MAX_NESTING) {
                err_at(L, file, (int)m.line + 1, (int)m.column + 1,
                       "nested too deeply: more than %d levels of lists and mappings", MAX_NESTING);
                ok = false;
                break;
            }
        } else if (type == YAML_FLOW_SEQUENCE_END_TOKEN || type == YAML_FLOW_MAPPING_END_TOKEN ||
                   type == YAML_BLOCK_END_TOKEN) {
            depth--;
        }
    }
    yaml_parser_delete(&p);
    return ok;
}

static const char *const top_keys[] = {"name", "include", "variables", "topology", "ports", "defaults", "tests", NULL};
static const char *const inc_keys[] = {"include", "variables", "tests", NULL};

/* Parses one file (and, recursively, its includes) into L->docs; collects
 * variables (an includer's own variables override those of its includes). */
static void load_doc(loader *L, const char *path, const char *text, size_t len, bool top, int depth,
                     file_id chain[])
{
    const char *file = intern_file(L, path);
    if (!file)
        return;
    if (!nesting_ok(L, file, text, len))
        return;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        L->oom = true;
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    doc *d = PUSH(L, L->docs, L->ndocs);
    if (!d) {
        yaml_parser_delete(&parser);
        return;
    }
    d->file = file;
    d->top = top;
    if (!yaml_parser_load(&parser, &d->d)) {
        err_at(L, file, (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1,
               "invalid YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
               parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        L->ndocs--;
        return;
    }
    yaml_parser_delete(&parser);
    size_t di = L->ndocs - 1; /* L->docs may move during includes */
    yaml_node_t *root = yaml_document_get_root_node(&L->docs[di].d);
    if (!root) {
        err_at(L, file, 1, 1, "empty scenario: expected a mapping with 'tests' (and usually 'topology')");
        return;
    }
    if (root->type != YAML_MAPPING_NODE) {
        err_node(L, &L->docs[di], root, "a scenario is a mapping with keys such as 'topology' and 'tests', got %s",
                 kind_name(root));
        return;
    }
    yaml_node_t *f[7];
    const char *const *keys = top ? top_keys : inc_keys;
    if (!get_fields(L, &L->docs[di], root, top ? "the scenario" : "an included file", keys, f))
        return;
    yaml_node_t *inc = top ? f[1] : f[0];
    yaml_node_t *vars = top ? f[2] : f[1];
    if (inc) {
        char **incs = NULL;
        size_t ninc = 0;
        get_str_list(L, &L->docs[di], inc, "include", get_nonempty, &incs, &ninc);
        for (size_t i = 0; i < ninc; i++) {
            px_buf p = PX_BUF_INIT;
            const char *slash = strrchr(file, '/');
            if (incs[i][0] != '/' && slash)
                px_buf_printf(&p, "%.*s/%s", (int)(slash - file), file, incs[i]);
            else
                px_buf_append(&p, incs[i]);
            const char *ip = px_buf_cstr(&p);
            if (depth + 1 >= MAX_INCLUDE_DEPTH) {
                err_node(L, &L->docs[di], inc, "include: more than %d levels of includes", MAX_INCLUDE_DEPTH);
            } else if (L->ndocs >= MAX_INCLUDED_FILES) {
                err_node(L, &L->docs[di], inc, "include: more than %d files in all", MAX_INCLUDED_FILES);
            } else {
                size_t ilen = 0;
                file_id id;
                char *itext = read_file(L, ip, &ilen, &id);
                bool cycle = false;
                for (int j = 0; itext && j < depth + 1 && !cycle; j++)
                    cycle = chain[j].dev == id.dev && chain[j].ino == id.ino;
                if (cycle) {
                    char qn[MAX_QUOTED_NAME + 4];
                    err_node(L, &L->docs[di], inc, "include: '%s' includes itself (include cycle)",
                             quoted_name(incs[i], qn));
                } else if (itext) {
                    chain[depth + 1] = id;
                    load_doc(L, ip, itext, ilen, false, depth + 1, chain);
                }
                free(itext);
            }
            px_buf_free(&p);
            free(incs[i]);
        }
        free(incs);
    }
    if (vars && want_type(L, &L->docs[di], vars, YAML_MAPPING_NODE, "variables")) {
        doc *dd = &L->docs[di];
        for (yaml_node_pair_t *p = vars->data.mapping.pairs.start; p < vars->data.mapping.pairs.top; p++) {
            yaml_node_t *k = node(dd, p->key), *v = node(dd, p->value);
            if (!k || !v || !spend(L, dd, k))
                return;
            if (k->type != YAML_SCALAR_NODE || !var_name_ok(scalar(k), strlen(scalar(k)))) {
                err_node(L, dd, k, "variable name: expected letters, digits, '_' or '-', starting with a letter");
                continue;
            }
            if (v->type != YAML_SCALAR_NODE) {
                char qn[MAX_QUOTED_NAME + 4];
                err_node(L, dd, v, "variable '%s': expected a scalar, got %s", quoted_name(scalar(k), qn),
                         kind_name(v));
                continue;
            }
            /* Values are taken literally (not expanded), so order never matters. */
            var_set(L, scalar(k), scalar(v));
        }
    }
}

/* Converts the parts of each document, includes first (their tests come first). */
static void convert(loader *L)
{
    /* The top document was pushed first but its topology must be known before any
     * test refers to ports: do the top-level structure first, then tests in order. */
    doc *top = &L->docs[0];
    yaml_node_t *root = yaml_document_get_root_node(&top->d);
    if (!root || root->type != YAML_MAPPING_NODE)
        return;
    yaml_node_t *f[7];
    /* Errors of the keys were reported while loading: collect quietly. */
    px_buf *save = L->errs;
    px_buf scratch = PX_BUF_INIT;
    int saved_n = L->nerrs;
    L->errs = &scratch;
    get_fields(L, top, root, "the scenario", top_keys, f);
    L->errs = save;
    L->nerrs = saved_n;
    px_buf_free(&scratch);

    if (f[0]) {
        free(L->s->name);
        L->s->name = get_nonempty(L, top, f[0], "name");
    }
    if (f[3])
        get_topology(L, top, f[3]);
    if (f[4])
        get_ports(L, top, f[4]);
    implicit_ports(L);
    if (f[5])
        get_defaults(L, top, f[5]);

    /* Tests: included documents (pushed after the top one) in load order, then the top's. */
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < L->ndocs; i++) {
            doc *d = &L->docs[i];
            if ((pass == 0) == d->top)
                continue;
            yaml_node_t *r = yaml_document_get_root_node(&d->d);
            if (!r || r->type != YAML_MAPPING_NODE)
                continue;
            for (yaml_node_pair_t *p = r->data.mapping.pairs.start; p < r->data.mapping.pairs.top; p++) {
                yaml_node_t *k = node(d, p->key), *v = node(d, p->value);
                if (!k || !v || k->type != YAML_SCALAR_NODE || strcmp(scalar(k), "tests"))
                    continue;
                if (!want_type(L, d, v, YAML_SEQUENCE_NODE, "tests"))
                    continue;
                for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
                    yaml_node_t *e = node(d, *it);
                    if (!e || !spend(L, d, e) || L->oom)
                        return;
                    get_test(L, d, e);
                }
            }
        }
    }
}

static void free_cmd(px_scn_cmd *c)
{
    free(c->run);
    free(c->netns);
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void px_scenario_free(px_scenario *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->path);
    free_strs(s->namespaces, s->nnamespaces);
    for (size_t i = 0; i < s->nveths; i++) {
        free(s->veths[i].name);
        free(s->veths[i].peer);
        free(s->veths[i].netns);
        free(s->veths[i].peer_netns);
    }
    free(s->veths);
    for (size_t i = 0; i < s->nbridges; i++) {
        px_scn_bridge *b = &s->bridges[i];
        free(b->name);
        free(b->netns);
        for (size_t j = 0; j < b->nports; j++) {
            free(b->ports[j].name);
            free(b->ports[j].vlans);
        }
        free(b->ports);
        free(b->vlans);
    }
    free(s->bridges);
    for (size_t i = 0; i < s->naddrs; i++) {
        free(s->addrs[i].dev);
        free(s->addrs[i].netns);
        free(s->addrs[i].cidr);
    }
    free(s->addrs);
    for (size_t i = 0; i < s->nsetup; i++)
        free_cmd(&s->setup[i]);
    free(s->setup);
    for (size_t i = 0; i < s->nteardown; i++)
        free_cmd(&s->teardown[i]);
    free(s->teardown);
    for (size_t i = 0; i < s->nports; i++) {
        free(s->ports[i].name);
        free(s->ports[i].ifname);
        free(s->ports[i].netns);
    }
    free(s->ports);
    for (size_t i = 0; i < s->ntests; i++) {
        px_scn_test *t = &s->tests[i];
        for (size_t j = 0; j < t->nsteps; j++) {
            px_step *st = &t->steps[j];
            free_strs(st->ports, st->nports);
            free(st->name);
            free(st->predicate);
            free(st->filter);
            free(st->frame);
            free(st->bytes);
            free(st->pcap);
            free_strs(st->names, st->nnames);
            free_cmd(&st->cmd);
        }
        free(t->steps);
        free(t->name);
        free(t->skip);
    }
    free(s->tests);
    free_strs(s->files, s->nfiles);
    free(s);
}

static char *default_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n > 5 && !strcmp(b + n - 5, ".yaml"))
        n -= 5;
    else if (n > 4 && !strcmp(b + n - 4, ".yml"))
        n -= 4;
    return strndup(b, n);
}

/* Loads `text`, read from `path` (identity `top`) or given by the caller. */
static int load_text(const char *path, const char *text, size_t len, file_id top, const px_scn_checkers *checkers,
                     const px_scn_var *vars, size_t nvars, px_scenario **out, px_buf *errors)
{
    loader L = {.errs = errors, .chk = checkers, .budget = NODE_BUDGET, .bytes_read = len};
    L.s = calloc(1, sizeof *L.s);
    if (!L.s)
        return PX_ENOMEM;
    L.s->timeout_ms = DEFAULT_TIMEOUT_MS;
    L.s->noise_filter = true;
    L.s->path = strdup(path);
    L.s->name = default_name(path);
    if (!L.s->path || !L.s->name)
        L.oom = true;

    file_id chain[MAX_INCLUDE_DEPTH + 1] = {top};
    load_doc(&L, path, text, len, true, 0, chain);
    for (size_t i = 0; i < nvars; i++) {
        if (!vars[i].name || !var_name_ok(vars[i].name, strlen(vars[i].name)))
            err_at(&L, path, 0, 0, "--var '%s': expected NAME=VALUE with a name of letters, digits, '_' or '-'",
                   vars[i].name ? vars[i].name : "");
        else
            var_set(&L, vars[i].name, vars[i].value ? vars[i].value : "");
    }
    if (L.nerrs == 0 && L.ndocs > 0 && !L.oom)
        convert(&L);

    for (size_t i = 0; i < L.ndocs; i++)
        yaml_document_delete(&L.docs[i].d);
    free(L.docs);
    for (size_t i = 0; i < L.nvars; i++) {
        free(L.vars[i].name);
        free(L.vars[i].value);
    }
    free(L.vars);
    free_strs(L.ambiguous, L.nambiguous);
    if (L.oom) {
        px_scenario_free(L.s);
        return PX_ENOMEM;
    }
    if (L.nerrs) {
        px_scenario_free(L.s);
        return PX_EPARSE;
    }
    *out = L.s;
    return 0;
}

int px_scenario_load_string(const char *path, const char *text, size_t len, const px_scn_checkers *checkers,
                            const px_scn_var *vars, size_t nvars, px_scenario **out, px_buf *errors)
{
    if (!path || !text || !out || !errors)
        return PX_EINVAL;
    *out = NULL;
    if (len > MAX_FILE_BYTES) {
        px_buf_printf(errors, "%s: scenario larger than %u bytes\n", path, MAX_FILE_BYTES);
        return PX_EPARSE;
    }
    /* When `path` names a file, an include of that file is a cycle. */
    file_id top = {0, 0};
    struct stat st;
    if (stat(path, &st) == 0) {
        top.dev = st.st_dev;
        top.ino = st.st_ino;
    }
    return load_text(path, text, len, top, checkers, vars, nvars, out, errors);
}

int px_scenario_load(const char *path, const px_scn_checkers *checkers, const px_scn_var *vars, size_t nvars,
                     px_scenario **out, px_buf *errors)
{
    if (!path || !out || !errors)
        return PX_EINVAL;
    *out = NULL;
    loader L = {.errs = errors};
    size_t len = 0;
    file_id id;
    char *text = read_file(&L, path, &len, &id);
    if (!text)
        return L.oom ? PX_ENOMEM : PX_EIO;
    int rc = load_text(path, text, len, id, checkers, vars, nvars, out, errors);
    free(text);
    return rc;
}

int px_parse_hex_bytes(const char *text, uint8_t **bytes, size_t *len, char *errbuf)
{
    size_t n = strlen(text), k = 0, bad = 0;
    uint8_t *b = malloc(n / 2 + 1);
    if (!b)
        return PX_ENOMEM;
    int rc = px__hex_decode(text, n, b, n / 2 + 1, &k, &bad);
    if (rc != 0 || k == 0) {
        if (errbuf && rc != 0)
            snprintf(errbuf, PX_ERRBUF_SIZE, "col %zu: expected two hex digits per byte", bad + 1);
        else if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "col 1: expected hex bytes");
        free(b);
        return PX_EPARSE;
    }
    *bytes = b;
    *len = k;
    return 0;
}
