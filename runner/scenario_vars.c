/* pktexpect runner: ${variables} of scenario files. Values come from
 * `variables:` mappings (an includer's override its includes'), --var and the
 * built-in ${scenario_dir}; values may use variables; ${name:q} quotes the
 * value for /bin/sh. See scenario_int.h. */
#include "scenario_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

var *px__scn_var_find(loader *L, const char *name, size_t len)
{
    for (size_t i = 0; i < L->nvars; i++)
        if (strlen(L->vars[i].name) == len && !strncmp(L->vars[i].name, name, len))
            return &L->vars[i];
    return NULL;
}

void px__scn_var_set(loader *L, const char *name, const char *value)
{
    var *v = px__scn_var_find(L, name, strlen(name));
    if (v) {
        char *nv = px__scn_strdup(L, value);
        if (nv) {
            free(v->value);
            v->value = nv;
        }
        return;
    }
    v = PUSH(L, L->vars, L->nvars);
    if (v) {
        v->name = px__scn_strdup(L, name);
        v->value = px__scn_strdup(L, value);
        if (!v->name || !v->value) {
            free(v->name);
            free(v->value);
            L->nvars--;
        }
    }
}

bool px__scn_var_name_ok(const char *s, size_t len)
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

/* One expansion of a scalar: where errors point, and the chain of variables
 * whose values are being expanded (for the cycle check and the messages). */
typedef struct expansion {
    loader *L;
    const doc *d;
    const yaml_node_t *n;
    const var *chain[MAX_VAR_DEPTH];
    int depth;
    bool changed;
} expansion;

/* " (in the value of ${a}, used by ${b})": where a nested reference was found. */
static void chain_text(const expansion *X, char *out, size_t cap)
{
    out[0] = '\0';
    size_t n = 0;
    for (int i = X->depth; i-- > 0 && n < cap;) {
        int w = snprintf(out + n, cap - n, "%s${%.32s}", i == X->depth - 1 ? " (in the value of " : ", used by ",
                         X->chain[i]->name);
        n += w > 0 ? (size_t)w : 0;
    }
    if (X->depth && n < cap)
        snprintf(out + n, cap - n, ")");
}

/* Appends `s` to out with its variables expanded, the values of variables too
 * (recursively, `${name:q}` quoting the expanded value). false after logging an
 * error; an out longer than MAX_EXPANDED_BYTES returns true early (the caller
 * reports it). */
static bool expand_into(expansion *X, const char *s, px_buf *out)
{
    loader *L = X->L;
    const char *p = s;
    char where[256];
    while (*p) {
        if (out->len > MAX_EXPANDED_BYTES)
            return true;
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            px_buf_append(out, "${");
            p += 3;
            X->changed = true;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            px_buf_append_n(out, p, 1);
            p++;
            continue;
        }
        chain_text(X, where, sizeof where);
        const char *close = strchr(p + 2, '}');
        if (!close) {
            px__scn_err_node(L, X->d, X->n,
                             "unterminated '${' in '%.64s%s'%s: expected ${name} (write $${ for a literal ${)", s,
                             strlen(s) > 64 ? "..." : "", where);
            return false;
        }
        size_t nl = (size_t)(close - (p + 2));
        bool quote = nl > 2 && !strncmp(close - 2, ":q", 2);
        if (quote)
            nl -= 2;
        if (!px__scn_var_name_ok(p + 2, nl)) {
            px__scn_err_node(L, X->d, X->n,
                             "'%.*s' is not a variable name%s: expected letters, digits, '_' or '-' (and ':q' to "
                             "quote for the shell)",
                             (int)(nl < 64 ? nl : 64), p + 2, where);
            return false;
        }
        var *v = px__scn_var_find(L, p + 2, nl);
        if (!v) {
            px__scn_err_node(L, X->d, X->n, "unknown variable '${%.*s}'%s: define it under 'variables:' or with --var",
                             (int)(nl < 64 ? nl : 64), p + 2, where);
            return false;
        }
        for (int i = 0; i < X->depth; i++) {
            if (X->chain[i] != v)
                continue;
            px_buf c = PX_BUF_INIT;
            for (int j = i; j < X->depth; j++)
                px_buf_printf(&c, "${%.32s} -> ", X->chain[j]->name);
            px__scn_err_node(L, X->d, X->n, "variable cycle: %s${%.32s}: a variable's value cannot use itself",
                             px_buf_cstr(&c), v->name);
            px_buf_free(&c);
            return false;
        }
        X->changed = true;
        p = close + 1;
        if (!strstr(v->value, "${")) { /* a plain value, the common case */
            if (strlen(v->value) > MAX_EXPANDED_BYTES) {
                out->len = MAX_EXPANDED_BYTES + 1;
                return true;
            }
            if (quote)
                shell_quote(out, v->value);
            else
                px_buf_append(out, v->value);
            continue;
        }
        if (X->depth == MAX_VAR_DEPTH) {
            px__scn_err_node(L, X->d, X->n, "variables use variables more than %d levels deep%s", MAX_VAR_DEPTH,
                             where);
            return false;
        }
        if (++L->var_refs > MAX_VAR_REFS) {
            px__scn_err_node(L, X->d, X->n, "more than %u variables expanded inside variables' values in all",
                             MAX_VAR_REFS);
            return false;
        }
        X->chain[X->depth++] = v;
        bool ok;
        if (quote) {
            px_buf inner = PX_BUF_INIT;
            ok = expand_into(X, v->value, &inner);
            if (ok && inner.len <= MAX_EXPANDED_BYTES)
                shell_quote(out, px_buf_cstr(&inner));
            else if (ok)
                out->len = MAX_EXPANDED_BYTES + 1;
            if (inner.oom)
                out->oom = true;
            px_buf_free(&inner);
        } else {
            ok = expand_into(X, v->value, out);
        }
        X->depth--;
        if (!ok)
            return false;
    }
    return true;
}

/* Expands ${name} and ${name:q} (the value quoted for the shell) in a scalar
 * ("$${" is a literal "${"); a variable's value is expanded the same way, so
 * variables may use variables (a cycle is an error). Returns a new string, or
 * NULL after logging an error. *changed tells whether anything was replaced.
 * Each result is at most MAX_EXPANDED_BYTES, all results together
 * MAX_EXPANDED_TOTAL: a large variable used many times would otherwise multiply
 * its size. */
char *px__scn_expand(loader *L, const doc *d, const yaml_node_t *n, bool *changed)
{
    const char *s = px__scn_scalar(n);
    size_t len = n->data.scalar.length;
    if (memchr(s, '\0', len)) {
        px__scn_err_node(L, d, n, "NUL character in a scalar");
        return NULL;
    }
    if (changed)
        *changed = false;
    if (!strstr(s, "${"))
        return px__scn_strdup(L, s);
    px_buf out = PX_BUF_INIT;
    expansion X = {.L = L, .d = d, .n = n};
    bool ok = expand_into(&X, s, &out);
    if (changed)
        *changed = X.changed;
    if (ok && out.len > MAX_EXPANDED_BYTES) {
        px__scn_err_node(L, d, n, "value longer than %u bytes once variables are expanded", MAX_EXPANDED_BYTES);
        ok = false;
    } else if (ok && (L->expanded_total += out.len) > MAX_EXPANDED_TOTAL) {
        px__scn_err_node(L, d, n, "variables expand to more than %u bytes in all", MAX_EXPANDED_TOTAL);
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
        r = px__scn_strdup(L, "");
    return r;
}
