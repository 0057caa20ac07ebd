/* pktexpect runner: ${variables} of scenario files. Values come from
 * `variables:` mappings (an includer's override its includes') and --var;
 * ${name:q} quotes the value for /bin/sh. See scenario_int.h. */
#include "scenario_int.h"

#include <ctype.h>
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

/* Expands ${name} and ${name:q} (the value quoted for the shell) in a scalar
 * ("$${" is a literal "${"). Returns a new string, or NULL after logging an
 * error. *changed tells whether anything was replaced. Each result is at most
 * MAX_EXPANDED_BYTES, all results together MAX_EXPANDED_TOTAL: a large variable
 * used many times would otherwise multiply its size. */
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
                px__scn_err_node(L, d, n,
                                 "unterminated '${' in '%.64s%s': expected ${name} (write $${ for a literal ${)", s,
                                 strlen(s) > 64 ? "..." : "");
                ok = false;
                break;
            }
            size_t nl = (size_t)(close - (p + 2));
            bool quote = nl > 2 && !strncmp(close - 2, ":q", 2);
            if (quote)
                nl -= 2;
            if (!px__scn_var_name_ok(p + 2, nl)) {
                px__scn_err_node(
                    L, d, n,
                    "'%.*s' is not a variable name: expected letters, digits, '_' or '-' (and ':q' to quote "
                    "for the shell)",
                    (int)(nl < 64 ? nl : 64), p + 2);
                ok = false;
                break;
            }
            var *v = px__scn_var_find(L, p + 2, nl);
            if (!v) {
                px__scn_err_node(L, d, n, "unknown variable '${%.*s}': define it under 'variables:' or with --var",
                                 (int)nl, p + 2);
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
