/* pktexpect runner: STF table statements into BMv2 CLI commands (stf_p4.h),
 * over libjansson. */
#include "stf_p4.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/error.h"

struct px_p4json {
    json_t *root;
};

int px_p4json_parse(const char *name, const char *text, size_t len, px_p4json **out, px_buf *err)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        px_buf_printf(err, "%s:%d:%d: not a BMv2 JSON file: %s\n", name, je.line, je.column, je.text);
        return PX_EPARSE;
    }
    if (!json_is_object(root) || !json_is_array(json_object_get(root, "pipelines")) ||
        !json_is_array(json_object_get(root, "actions"))) {
        px_buf_printf(err, "%s: not a BMv2 JSON file: no 'pipelines' and 'actions' arrays\n", name);
        json_decref(root);
        return PX_EPARSE;
    }
    px_p4json *p = calloc(1, sizeof *p);
    if (!p) {
        json_decref(root);
        return PX_ENOMEM;
    }
    p->root = root;
    *out = p;
    return 0;
}

int px_p4json_load(const char *path, px_p4json **out, px_buf *err)
{
    *out = NULL;
    char *text;
    size_t len;
    int rc = px__read_file_bounded(path, PX_P4JSON_FILE_MAX, &text, &len, err);
    if (rc)
        return rc;
    rc = px_p4json_parse(path, text, len, out, err);
    free(text);
    return rc;
}

void px_p4json_free(px_p4json *p)
{
    if (!p)
        return;
    json_decref(p->root);
    free(p);
}

/* ------------------------------------------------------------ names */

/* p4c's STF runner accepts a name given without its control's prefix: `want`
 * names `full` when equal, when `full` ends with ".want", or when `want` ends
 * with ".full" (a longer path than the JSON keeps). */
static bool name_matches(const char *full, const char *want)
{
    size_t fl = strlen(full), wl = strlen(want);
    if (fl == wl)
        return !strcmp(full, want);
    if (fl > wl)
        return full[fl - wl - 1] == '.' && !strcmp(full + fl - wl, want);
    return want[wl - fl - 1] == '.' && !strcmp(want + wl - fl, full);
}

static const char *str_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

typedef struct translation {
    const px_stf *stf;
    const px_stf_stmt *st;
    px_buf *err;
} translation;

static int fail_at(translation *T, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(translation *T, int col, const char *fmt, ...)
{
    px_buf_printf(T->err, "%s:%d:%d: ", T->stf->file, T->st->line, col);
    va_list ap;
    va_start(ap, fmt);
    px_buf_vprintf(T->err, fmt, ap);
    va_end(ap);
    px_buf_append(T->err, "\n");
    return PX_EPARSE;
}

/* The one table of any pipeline that `want` names; NULL after a message. */
static json_t *find_table(const px_p4json *p, translation *T, const char *want)
{
    json_t *found = NULL, *pl, *t;
    size_t i, j, n = 0;
    json_array_foreach(json_object_get(p->root, "pipelines"), i, pl) {
        json_array_foreach(json_object_get(pl, "tables"), j, t) {
            const char *name = str_of(t, "name");
            if (name && name_matches(name, want)) {
                if (n++ == 0)
                    found = t;
                else if (n == 2)
                    fail_at(T, T->st->table_col, "table '%s' is ambiguous: '%s' and '%s' (give more of the name)",
                            want, str_of(found, "name"), name);
            }
        }
    }
    if (n == 0)
        fail_at(T, T->st->table_col, "no table '%s' in the BMv2 JSON", want);
    return n == 1 ? found : NULL;
}

/* The program's action that entry `ref` of a table's action list refers to: by
 * id in `action_ids` (p4c's JSON), by name in `actions` (older JSON without
 * action_ids, e.g. BMv2's own mininet/simple_router.json). */
static json_t *action_of(const px_p4json *p, json_t *ref)
{
    json_t *a;
    size_t j;
    json_array_foreach(json_object_get(p->root, "actions"), j, a) {
        if (json_is_string(ref) ? (str_of(a, "name") && strcmp(str_of(a, "name"), json_string_value(ref)) == 0)
                                : json_equal(json_object_get(a, "id"), ref))
            return a;
    }
    return NULL;
}

/* The action of table `t` that `want` names, in the table's order. */
static json_t *find_action(const px_p4json *p, translation *T, json_t *t, const char *want)
{
    json_t *found = NULL, *ref;
    json_t *list = json_object_get(t, "action_ids");
    if (!json_is_array(list))
        list = json_object_get(t, "actions");
    size_t i, n = 0;
    px_buf names = PX_BUF_INIT;
    json_array_foreach(list, i, ref) {
        json_t *a = action_of(p, ref);
        const char *name = a ? str_of(a, "name") : NULL;
        if (!name)
            continue;
        px_buf_printf(&names, "%s%s", names.len ? ", " : "", name);
        if (name_matches(name, want) && n++ == 0)
            found = a;
    }
    if (n != 1)
        fail_at(T, T->st->action_col, "%s action '%s' in table '%s' (its actions: %s)", n ? "ambiguous" : "no",
                want, str_of(t, "name"), names.len ? px_buf_cstr(&names) : "none");
    px_buf_free(&names);
    return n == 1 ? found : NULL;
}

/* The name of key element `k` (its `name`, else its `target` joined with '.')
 * into buf; true when `want` names it. */
static bool key_matches(json_t *k, const char *want, char *buf, size_t cap)
{
    const char *name = str_of(k, "name");
    json_t *target = json_object_get(k, "target");
    buf[0] = '\0';
    if (json_is_array(target)) {
        size_t i, off = 0;
        json_t *v;
        json_array_foreach(target, i, v) {
            if (json_is_string(v))
                off += (size_t)snprintf(buf + off, off < cap ? cap - off : 0, "%s%s", i ? "." : "",
                                        json_string_value(v));
        }
        if (off >= cap)
            buf[cap - 1] = '\0';
    }
    if (name && name_matches(name, want))
        return true;
    if (buf[0] && name_matches(buf, want))
        return true;
    if (name)
        snprintf(buf, cap, "%s", name);
    return false;
}

/* Bit width of a key's target field (headers[] -> header_types[]); 0 unknown. */
static unsigned key_width(const px_p4json *p, json_t *k)
{
    json_t *target = json_object_get(k, "target");
    if (!json_is_array(target) || json_array_size(target) != 2)
        return 0;
    const char *hdr = json_string_value(json_array_get(target, 0));
    const char *field = json_string_value(json_array_get(target, 1));
    if (!hdr || !field)
        return 0;
    const char *htype = NULL;
    json_t *h, *ht, *f;
    size_t i, j;
    json_array_foreach(json_object_get(p->root, "headers"), i, h) {
        if (str_of(h, "name") && !strcmp(str_of(h, "name"), hdr))
            htype = str_of(h, "header_type");
    }
    if (!htype)
        return 0;
    json_array_foreach(json_object_get(p->root, "header_types"), i, ht) {
        if (!str_of(ht, "name") || strcmp(str_of(ht, "name"), htype))
            continue;
        json_array_foreach(json_object_get(ht, "fields"), j, f) {
            const char *fname = json_string_value(json_array_get(f, 0));
            json_int_t bw = json_integer_value(json_array_get(f, 1));
            if (fname && !strcmp(fname, field) && bw > 0 && bw <= 4096)
                return (unsigned)bw;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ values */

/* A number the CLI reads: decimal, 0x hex, 0b binary; `stars` allows '*'
 * nibbles in hex. */
static bool number_ok(const char *v, bool stars)
{
    if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        if (!v[2])
            return false;
        for (const char *q = v + 2; *q; q++)
            if (!isxdigit((unsigned char)*q) && !(stars && *q == '*'))
                return false;
        return true;
    }
    if (v[0] == '0' && (v[1] == 'b' || v[1] == 'B')) {
        if (!v[2])
            return false;
        for (const char *q = v + 2; *q; q++)
            if (*q != '0' && *q != '1')
                return false;
        return true;
    }
    if (!*v)
        return false;
    for (const char *q = v; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    return true;
}

/* All ones on `bits` bits, in hex. */
static void ones(px_buf *out, unsigned bits)
{
    px_buf_append(out, "0x");
    if (bits % 4)
        px_buf_printf(out, "%x", (1u << (bits % 4)) - 1);
    for (unsigned i = 0; i < bits / 4; i++)
        px_buf_append(out, "f");
}

/* One key value, as the CLI wants it for match kind `mt`, appended to out. */
static int key_value(translation *T, const px_stf_kv *kv, const char *mt, unsigned width, px_buf *out)
{
    const char *v = kv->value;
    bool has_star = strchr(v, '*') != NULL;
    const char *sep = strstr(v, "&&&");
    if (!strcmp(mt, "exact") || !strcmp(mt, "optional")) {
        if (!number_ok(v, false))
            return fail_at(T, kv->col, "key '%s' (%s): expected a number (decimal, 0x hex or 0b binary), got '%.32s'",
                           kv->name, mt, v);
        px_buf_printf(out, " %s", v);
        return 0;
    }
    if (!strcmp(mt, "lpm")) {
        const char *slash = strchr(v, '/');
        if (slash) {
            char val[130];
            snprintf(val, sizeof val, "%.*s", (int)(slash - v), v);
            char *end;
            long len = strtol(slash + 1, &end, 10);
            if (!number_ok(val, false) || *end || end == slash + 1 || len < 0 || (width && len > (long)width))
                return fail_at(T, kv->col, "key '%s' (lpm): expected VALUE/LENGTH with LENGTH 0 to %u, got '%.32s'",
                               kv->name, width, v);
            px_buf_printf(out, " %s", v);
            return 0;
        }
        if (!number_ok(v, true))
            return fail_at(T, kv->col, "key '%s' (lpm): expected VALUE/LENGTH, got '%.32s'", kv->name, v);
        if (!width)
            return fail_at(T, kv->col, "key '%s' (lpm): its width is not in the BMv2 JSON: give VALUE/LENGTH",
                           kv->name);
        /* Trailing '*' nibbles are the part the prefix leaves out. */
        size_t n = strlen(v), stars = 0;
        while (stars < n && v[n - 1 - stars] == '*')
            stars++;
        if (memchr(v, '*', n - stars))
            return fail_at(T, kv->col, "key '%s' (lpm): '*' nibbles must all be at the end, got '%.32s'", kv->name,
                           v);
        if (4 * stars > width)
            return fail_at(T, kv->col, "key '%s' (lpm): more '*' nibbles than its %u bits", kv->name, width);
        px_buf_printf(out, " %.*s", (int)(n - stars), v);
        for (size_t i = 0; i < stars; i++)
            px_buf_append(out, "0");
        px_buf_printf(out, "/%u", width - 4 * (unsigned)stars);
        return 0;
    }
    if (!strcmp(mt, "ternary")) {
        if (sep) {
            char val[130];
            snprintf(val, sizeof val, "%.*s", (int)(sep - v), v);
            if (!number_ok(val, false) || !number_ok(sep + 3, false))
                return fail_at(T, kv->col, "key '%s' (ternary): expected VALUE&&&MASK, got '%.32s'", kv->name, v);
            px_buf_printf(out, " %s", v);
            return 0;
        }
        if (!number_ok(v, true))
            return fail_at(T, kv->col, "key '%s' (ternary): expected VALUE&&&MASK, got '%.32s'", kv->name, v);
        if (has_star) { /* 0x1*: value 0x10, mask 0xf0 */
            px_buf_append(out, " 0x");
            for (const char *q = v + 2; *q; q++)
                px_buf_printf(out, "%c", *q == '*' ? '0' : *q);
            px_buf_append(out, "&&&0x");
            for (const char *q = v + 2; *q; q++)
                px_buf_printf(out, "%c", *q == '*' ? '0' : 'f');
            return 0;
        }
        if (!width)
            return fail_at(T, kv->col, "key '%s' (ternary): its width is not in the BMv2 JSON: give VALUE&&&MASK",
                           kv->name);
        px_buf_printf(out, " %s&&&", v);
        ones(out, width);
        return 0;
    }
    if (!strcmp(mt, "range")) {
        const char *arrow = strstr(v, "->");
        char lo[130];
        snprintf(lo, sizeof lo, "%.*s", arrow ? (int)(arrow - v) : (int)strlen(v), v);
        if (!number_ok(lo, false) || (arrow && !number_ok(arrow + 2, false)))
            return fail_at(T, kv->col, "key '%s' (range): expected LOW->HIGH, got '%.32s'", kv->name, v);
        if (arrow)
            px_buf_printf(out, " %s", v);
        else
            px_buf_printf(out, " %s->%s", v, v);
        return 0;
    }
    return fail_at(T, kv->col, "key '%s': match kind '%.32s' is not supported", kv->name, mt);
}

/* The action's parameters in runtime_data order, each given once. */
static int action_params(translation *T, json_t *action, px_buf *out)
{
    const px_stf_stmt *st = T->st;
    json_t *rd = json_object_get(action, "runtime_data"), *r;
    size_t i;
    bool *used = calloc(st->nargs + 1, sizeof *used);
    if (!used)
        return PX_ENOMEM;
    int rc = 0;
    json_array_foreach(rd, i, r) {
        const char *pname = str_of(r, "name");
        size_t j = 0;
        while (j < st->nargs && !(pname && name_matches(pname, st->args[j].name)))
            j++;
        if (j == st->nargs) {
            rc = fail_at(T, st->action_col, "action '%s' needs parameter '%s'", str_of(action, "name"),
                         pname ? pname : "?");
            break;
        }
        if (!number_ok(st->args[j].value, false)) {
            rc = fail_at(T, st->args[j].col, "parameter '%s': expected a number, got '%.32s'", st->args[j].name,
                         st->args[j].value);
            break;
        }
        used[j] = true;
        px_buf_printf(out, " %s", st->args[j].value);
    }
    for (size_t j = 0; !rc && j < st->nargs; j++)
        if (!used[j])
            rc = fail_at(T, st->args[j].col, "action '%s' has no parameter '%s' (it has %zu)", str_of(action, "name"),
                         st->args[j].name, json_array_size(rd));
    free(used);
    return rc;
}

int px_stf_translate(const px_p4json *p, const px_stf *stf, const px_stf_stmt *st, px_buf *cmd, px_buf *err)
{
    translation T = {stf, st, err};
    if (st->kind == PX_STF_TARGET) {
        px_buf_printf(cmd, "%s\n", st->table);
        return 0;
    }
    json_t *t = find_table(p, &T, st->table);
    if (!t)
        return PX_EPARSE;
    json_t *a = find_action(p, &T, t, st->action);
    if (!a)
        return PX_EPARSE;
    px_buf line = PX_BUF_INIT;
    int rc = 0;
    if (st->kind == PX_STF_SETDEFAULT) {
        px_buf_printf(&line, "table_set_default %s %s", str_of(t, "name"), str_of(a, "name"));
        rc = action_params(&T, a, &line);
    } else {
        px_buf_printf(&line, "table_add %s %s", str_of(t, "name"), str_of(a, "name"));
        json_t *keys = json_object_get(t, "key"), *k;
        size_t i, nkeys = json_array_size(keys);
        bool need_prio = false;
        if (st->nkeys != nkeys) {
            px_buf names = PX_BUF_INIT;
            char kn[256];
            json_array_foreach(keys, i, k) {
                key_matches(k, "", kn, sizeof kn);
                px_buf_printf(&names, "%s%s", i ? ", " : "", kn);
            }
            rc = fail_at(&T, st->table_col, "table '%s' has %zu key%s (%s), the entry gives %zu", str_of(t, "name"),
                         nkeys, nkeys == 1 ? "" : "s", names.len ? px_buf_cstr(&names) : "none", st->nkeys);
            px_buf_free(&names);
        }
        bool *used = calloc(st->nkeys + 1, sizeof *used);
        if (!used)
            rc = PX_ENOMEM;
        json_array_foreach(keys, i, k) {
            if (rc)
                break;
            char kn[256];
            size_t j = 0;
            while (j < st->nkeys && (used[j] || !key_matches(k, st->keys[j].name, kn, sizeof kn)))
                j++;
            if (j == st->nkeys) {
                key_matches(k, "", kn, sizeof kn);
                rc = fail_at(&T, st->table_col, "table '%s': the entry gives no value for key '%s'",
                             str_of(t, "name"), kn);
                break;
            }
            used[j] = true;
            const char *mt = str_of(k, "match_type");
            mt = mt ? mt : "?";
            need_prio |= !strcmp(mt, "ternary") || !strcmp(mt, "range") || !strcmp(mt, "optional");
            if (!rc)
                rc = key_value(&T, &st->keys[j], mt, key_width(p, k), &line);
        }
        free(used);
        if (!rc) {
            px_buf_append(&line, " =>");
            rc = action_params(&T, a, &line);
        }
        if (!rc && need_prio) {
            if (st->priority < 0)
                rc = fail_at(&T, st->table_col,
                             "table '%s' has ternary, range or optional keys: the entry needs a priority "
                             "(add TABLE PRIORITY KEY:VALUE ...)",
                             str_of(t, "name"));
            else
                px_buf_printf(&line, " %ld", st->priority);
        }
    }
    if (!rc)
        px_buf_printf(cmd, "%s\n", px_buf_cstr(&line));
    px_buf_free(&line);
    return rc;
}
