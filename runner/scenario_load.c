/* pktexpect runner: YAML scenario loader. See scenario.h and docs/scenarios.md.
 * Reads the scenario and its includes (bounded regular files, bounded nesting
 * and include depth) with the libyaml document API, then has the schema
 * (scenario_schema.c, scenario_steps.c) walk the node graph into plain
 * structs; nothing here touches the network. The loader's shared helpers
 * (errors, arrays, the node budget) are here too. */
#include "scenario_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

/* Capacity of an array of n elements grown by px__scn_grow(): 0, then 4, 8, 16, ...
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
void *px__scn_grow(void *arr, size_t n, size_t size, loader *L)
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

char *px__scn_strdup(loader *L, const char *s)
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

void px__scn_err_at(loader *L, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(L, file, line, col, fmt, ap);
    va_end(ap);
}

px_scn_pos px__scn_pos_of(const doc *d, const yaml_node_t *n)
{
    px_scn_pos p = {d->file, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
    return p;
}

void px__scn_err_node(loader *L, const doc *d, const yaml_node_t *n, const char *fmt, ...)
{
    px_scn_pos p = px__scn_pos_of(d, n);
    va_list ap;
    va_start(ap, fmt);
    verr(L, p.file, p.line, p.col, fmt, ap);
    va_end(ap);
}

yaml_node_t *px__scn_node(doc *d, int index)
{
    return yaml_document_get_node(&d->d, index);
}

/* Every node visit costs one unit of the budget; false once exhausted. */
bool px__scn_spend(loader *L, const doc *d, const yaml_node_t *n)
{
    if (--L->budget >= 0)
        return true;
    if (!L->budget_hit) {
        /* Reported even past the error cap: it explains why the walk stopped. */
        L->budget_hit = true;
        L->nerrs++;
        px_scn_pos p = px__scn_pos_of(d, n);
        px_buf_printf(L->errs, "%s:%d:%d: document too large: more than %d nodes once aliases are expanded\n", p.file,
                      p.line, p.col, NODE_BUDGET);
    }
    return false;
}

const char *px__scn_kind_name(const yaml_node_t *n)
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

const char *px__scn_scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

bool px__scn_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = px__scn_scalar(n);
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* A name taken from the file, fit to quote in a message: at most
 * MAX_QUOTED_NAME characters, anything not printable ASCII shown as '?', and
 * "..." when cut. Writes into out (MAX_QUOTED_NAME + 4 bytes) and returns it. */
const char *px__scn_quoted_name(const char *s, char out[MAX_QUOTED_NAME + 4])
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

/* Opens `path` for reading without blocking (a FIFO would block in open) and
 * refuses anything but a regular file (a FIFO or a device may never end), before
 * any read. Returns the descriptor (caller closes) or -1 with `*why` set. */
int px__scn_open_regular(const char *path, struct stat *st, const char **why)
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
ssize_t px__scn_read_upto(int fd, void *buf, size_t max)
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

/* ---------------------------------------------------------------- files */

static const char *intern_file(loader *L, const char *path)
{
    for (size_t i = 0; i < L->s->nfiles; i++)
        if (!strcmp(L->s->files[i], path))
            return L->s->files[i];
    char *c = px__scn_strdup(L, path);
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
    int fd = px__scn_open_regular(path, &st, &why);
    if (fd < 0) {
        px__scn_err_at(L, path, 0, 0, "cannot open: %s", why);
        return NULL;
    }
    if (st.st_size > (off_t)MAX_FILE_BYTES) {
        px__scn_err_at(L, path, 0, 0, "file larger than %u bytes (%lld bytes)", MAX_FILE_BYTES, (long long)st.st_size);
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
    ssize_t n = px__scn_read_upto(fd, buf, MAX_FILE_BYTES + 1);
    int e = errno;
    close(fd);
    if (n < 0 || (size_t)n > MAX_FILE_BYTES) {
        if (n < 0)
            px__scn_err_at(L, path, 0, 0, "cannot read: %s", strerror(e));
        else
            px__scn_err_at(L, path, 0, 0, "file larger than %u bytes", MAX_FILE_BYTES);
        free(buf);
        return NULL;
    }
    if ((L->bytes_read += (size_t)n) > MAX_TOTAL_BYTES) {
        px__scn_err_at(L, path, 0, 0, "the scenario and its includes are larger than %u bytes in all", MAX_TOTAL_BYTES);
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
                px__scn_err_at(L, file, (int)m.line + 1, (int)m.column + 1,
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

/* The top-level keys: only collected here; convert() hands each to its section. */
enum { TOP_NAME, TOP_INCLUDE, TOP_VARIABLES, TOP_TOPOLOGY, TOP_PORTS, TOP_DEFAULTS, TOP_TESTS, TOP_N };
static const px__scn_field top_fields[TOP_N] = {
    [TOP_NAME] = {.key = "name"},         [TOP_INCLUDE] = {.key = "include"}, [TOP_VARIABLES] = {.key = "variables"},
    [TOP_TOPOLOGY] = {.key = "topology"}, [TOP_PORTS] = {.key = "ports"},     [TOP_DEFAULTS] = {.key = "defaults"},
    [TOP_TESTS] = {.key = "tests"},
};
const px__scn_policy px__scn_top_policy = POLICY("the scenario", top_fields);
/* An included file brings tests and variables (and includes) only. */
static const px__scn_field inc_fields[] = {{.key = "include"}, {.key = "variables"}, {.key = "tests"}};
const px__scn_policy px__scn_include_policy = POLICY("an included file", inc_fields);

/* Parses one file (and, recursively, its includes) into L->docs; collects
 * variables (an includer's own variables override those of its includes). */
static void load_doc(loader *L, const char *path, const char *text, size_t len, bool top, int depth, file_id chain[])
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
        px__scn_err_at(L, file, (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1,
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
        px__scn_err_at(L, file, 1, 1, "empty scenario: expected a mapping with 'tests' (and usually 'topology')");
        return;
    }
    if (root->type != YAML_MAPPING_NODE) {
        px__scn_err_node(L, &L->docs[di], root,
                         "a scenario is a mapping with keys such as 'topology' and 'tests', got %s",
                         px__scn_kind_name(root));
        return;
    }
    yaml_node_t *f[TOP_N];
    if (!px__scn_keys(L, &L->docs[di], root, top ? &px__scn_top_policy : &px__scn_include_policy, f))
        return;
    yaml_node_t *inc = top ? f[TOP_INCLUDE] : f[0];
    yaml_node_t *vars = top ? f[TOP_VARIABLES] : f[1];
    if (inc) {
        char **incs = NULL;
        size_t ninc = 0;
        px__scn_get_str_list(L, &L->docs[di], inc, "include", px__scn_get_nonempty, &incs, &ninc);
        for (size_t i = 0; i < ninc; i++) {
            px_buf p = PX_BUF_INIT;
            const char *slash = strrchr(file, '/');
            if (incs[i][0] != '/' && slash)
                px_buf_printf(&p, "%.*s/%s", (int)(slash - file), file, incs[i]);
            else
                px_buf_append(&p, incs[i]);
            const char *ip = px_buf_cstr(&p);
            if (depth + 1 >= MAX_INCLUDE_DEPTH) {
                px__scn_err_node(L, &L->docs[di], inc, "include: more than %d levels of includes", MAX_INCLUDE_DEPTH);
            } else if (L->ndocs >= MAX_INCLUDED_FILES) {
                px__scn_err_node(L, &L->docs[di], inc, "include: more than %d files in all", MAX_INCLUDED_FILES);
            } else {
                size_t ilen = 0;
                file_id id;
                char *itext = read_file(L, ip, &ilen, &id);
                bool cycle = false;
                for (int j = 0; itext && j < depth + 1 && !cycle; j++)
                    cycle = chain[j].dev == id.dev && chain[j].ino == id.ino;
                if (cycle) {
                    char qn[MAX_QUOTED_NAME + 4];
                    px__scn_err_node(L, &L->docs[di], inc, "include: '%s' includes itself (include cycle)",
                                     px__scn_quoted_name(incs[i], qn));
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
    if (vars && px__scn_want_type(L, &L->docs[di], vars, YAML_MAPPING_NODE, "variables")) {
        doc *dd = &L->docs[di];
        for (yaml_node_pair_t *p = vars->data.mapping.pairs.start; p < vars->data.mapping.pairs.top; p++) {
            yaml_node_t *k = px__scn_node(dd, p->key), *v = px__scn_node(dd, p->value);
            if (!k || !v || !px__scn_spend(L, dd, k))
                return;
            if (k->type != YAML_SCALAR_NODE || !px__scn_var_name_ok(px__scn_scalar(k), strlen(px__scn_scalar(k)))) {
                px__scn_err_node(L, dd, k,
                                 "variable name: expected letters, digits, '_' or '-', starting with a letter");
                continue;
            }
            if (v->type != YAML_SCALAR_NODE) {
                char qn[MAX_QUOTED_NAME + 4];
                px__scn_err_node(L, dd, v, "variable '%s': expected a scalar, got %s",
                                 px__scn_quoted_name(px__scn_scalar(k), qn), px__scn_kind_name(v));
                continue;
            }
            /* Values are taken literally (not expanded), so order never matters. */
            px__scn_var_set(L, px__scn_scalar(k), px__scn_scalar(v));
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
    yaml_node_t *f[TOP_N];
    /* Errors of the keys were reported while loading: collect quietly. */
    px_buf *save = L->errs;
    px_buf scratch = PX_BUF_INIT;
    int saved_n = L->nerrs;
    L->errs = &scratch;
    px__scn_keys(L, top, root, &px__scn_top_policy, f);
    L->errs = save;
    L->nerrs = saved_n;
    px_buf_free(&scratch);

    if (f[TOP_NAME]) {
        free(L->s->name);
        L->s->name = px__scn_get_nonempty(L, top, f[TOP_NAME], "name");
    }
    if (f[TOP_TOPOLOGY])
        px__scn_get_topology(L, top, f[TOP_TOPOLOGY]);
    if (f[TOP_PORTS])
        px__scn_get_ports(L, top, f[TOP_PORTS]);
    px__scn_implicit_ports(L);
    if (f[TOP_DEFAULTS])
        px__scn_get_defaults(L, top, f[TOP_DEFAULTS]);

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
                yaml_node_t *k = px__scn_node(d, p->key), *v = px__scn_node(d, p->value);
                if (!k || !v || k->type != YAML_SCALAR_NODE || strcmp(px__scn_scalar(k), "tests"))
                    continue;
                if (!px__scn_want_type(L, d, v, YAML_SEQUENCE_NODE, "tests"))
                    continue;
                for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
                    yaml_node_t *e = px__scn_node(d, *it);
                    if (!e || !px__scn_spend(L, d, e) || L->oom)
                        return;
                    px__scn_get_test(L, d, e);
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

void px__scn_free_strs(char **v, size_t n)
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
    px__scn_free_strs(s->namespaces, s->nnamespaces);
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
            px__scn_free_strs(st->ports, st->nports);
            free(st->name);
            free(st->predicate);
            free(st->filter);
            free(st->frame);
            free(st->set);
            free(st->ignore);
            free(st->bytes);
            free(st->pcap);
            px__scn_free_strs(st->names, st->nnames);
            free_cmd(&st->cmd);
            free(st->input);
            free(st->input_file);
            px__scn_free_strs(st->error_patterns, st->nerror_patterns);
        }
        free(t->steps);
        free(t->name);
        free(t->skip);
    }
    free(s->tests);
    px__scn_free_strs(s->files, s->nfiles);
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

/* The absolute directory of the scenario file `path`, for ${scenario_dir}: setup
 * and exec commands run in the runner's working directory, while include: and
 * pcap: are relative to the file. Symbolic links resolved when the directory
 * exists; else made absolute from the working directory. NULL when out of memory. */
static char *scenario_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return NULL;
    char *abs = realpath(dir, NULL);
    if (abs || dir[0] == '/') {
        if (abs)
            free(dir);
        return abs ? abs : dir;
    }
    char cwd[PATH_MAX];
    px_buf b = PX_BUF_INIT;
    if (!getcwd(cwd, sizeof cwd))
        return dir;
    px_buf_append(&b, cwd);
    if (strcmp(dir, ".") != 0)
        px_buf_printf(&b, "/%s", dir);
    free(dir);
    return px_buf_steal(&b);
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

    /* Built in first, so a `variables:` entry or --var of the same name overrides it. */
    char *sd = scenario_dir(path);
    if (sd)
        px__scn_var_set(&L, "scenario_dir", sd);
    else
        L.oom = true;
    free(sd);
    file_id chain[MAX_INCLUDE_DEPTH + 1] = {top};
    load_doc(&L, path, text, len, true, 0, chain);
    for (size_t i = 0; i < nvars; i++) {
        if (!vars[i].name || !px__scn_var_name_ok(vars[i].name, strlen(vars[i].name)))
            px__scn_err_at(&L, path, 0, 0, "--var '%s': expected NAME=VALUE with a name of letters, digits, '_' or '-'",
                           vars[i].name ? vars[i].name : "");
        else
            px__scn_var_set(&L, vars[i].name, vars[i].value ? vars[i].value : "");
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
    px__scn_free_strs(L.ambiguous, L.nambiguous);
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
