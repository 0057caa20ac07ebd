/* pktexpect: calls of the expression language: "name(args)" with named,
 * positional and variadic arguments checked against the registry's
 * definitions, the factory that builds the predicate, "count(...) <op> n",
 * and the "unknown predicate" message with its suggestion and valid names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_internal.h"
#include "frame_proto.h"

static void types_text(unsigned mask, char *out, size_t size)
{
    out[0] = '\0';
    bool first = true;
    for (unsigned t = 1; t <= PX_EXPR_EDIT; t <<= 1) {
        if (!(mask & t))
            continue;
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", first ? "" : " or ", px__expr_type_name(t));
        first = false;
    }
}

/* ---- calls ---- */

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
        unsigned d = nlen >= 3 && strncmp(cand, name, nlen) == 0
                         ? 0
                         : px__edit_distance(name, strlen(name), cand, strlen(cand));
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
    px__expr_fail(P, PX_EPARSE, at, "%s", px_buf_cstr(&msg));
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
        px__expr_fail(P, PX_ERANGE, v->column - 1, "argument '%s' of %s must be at most 2^63-1, got %llu", prm->name,
             def->name, (unsigned long long)v->u);
        return -1;
    }
    if ((prm->min || prm->max) && (v->i < prm->min || v->i > prm->max)) {
        px__expr_fail(P, PX_ERANGE, v->column - 1, "argument '%s' of %s must be %lld..%lld, got %lld", prm->name,
                      def->name,
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
        px__expr_fail(P, PX_EINVAL, v->column - 1, "argument '%s' of %s must be %s, not %s", prm->name, def->name, want,
             px__expr_type_name(t));
        return -1;
    }
    if (t == PX_EXPR_LIST) {
        for (size_t i = 0; i < v->nitems; i++) {
            if (!(prm->types & ~(unsigned)PX_EXPR_LIST & (unsigned)v->items[i].type)) {
                char want[160];
                types_text(prm->types & ~(unsigned)PX_EXPR_LIST, want, sizeof want);
                px__expr_fail(P, PX_EINVAL, v->items[i].column - 1, "items of '%s' of %s must be %s, not %s", prm->name,
                     def->name, want, px__expr_type_name(v->items[i].type));
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
int px__expr_parse_call(parser *P, px_expr_value *v, size_t name_at, size_t name_end)
{
    char name[64];
    size_t nlen = name_end - name_at;
    if (nlen >= sizeof name) {
        px__expr_fail(P, PX_EPARSE, name_at, "predicate name too long");
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
        px__expr_fail(P, PX_ENOMEM, name_at, "out of memory");
        goto out;
    }
    size_t next_pos = 0; /* index of the next parameter a positional argument may fill */
    skip_ws(P);
    bool first = true;
    while (P->text[P->pos] != ')') {
        if (P->text[P->pos] == '\0') {
            px__expr_fail(P, PX_EPARSE, P->pos, "expected %s in the arguments of %s, got the end of the text",
                 first ? "an argument or ')'" : "',' or ')'", def->name);
            goto out;
        }
        if (!first) {
            if (P->text[P->pos] != ',') {
                px__expr_fail(P, PX_EPARSE, P->pos, "expected ',' or ')' in the arguments of %s", def->name);
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
                px__expr_fail(P, PX_EPARSE, arg_at, "unknown argument '%.*s' of %s; arguments are: %s",
                              (int)(e - arg_at),
                     P->text + arg_at, def->name, px_buf_cstr(&pn));
                px_buf_free(&pn);
                goto out;
            }
            prm = &def->params[k];
            if (vals[k]) {
                px__expr_fail(P, PX_EPARSE, arg_at, "argument '%s' of %s given twice", prm->name, def->name);
                goto out;
            }
            P->pos = after + 1;
            skip_ws(P);
            if (px__expr_parse_value(P, &store[k]) < 0)
                goto out;
        } else {
            while (next_pos < def->nparams && (def->params[next_pos].flags & PX_EXPR_NAMED_ONLY))
                next_pos++;
            if (next_pos >= def->nparams) {
                px_buf pn = PX_BUF_INIT;
                param_names(def, &pn);
                px__expr_fail(P, PX_EPARSE, arg_at, "too many positional arguments for %s; arguments are: %s",
                              def->name,
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
                px_expr_value *it = px__expr_push_item(list);
                if (!it) {
                    px__expr_fail(P, PX_ENOMEM, arg_at, "out of memory");
                    goto out;
                }
                vals[k] = list;
                if (px__expr_parse_value(P, it) < 0)
                    goto out;
                if (check_value(P, def, prm, it) < 0)
                    goto out;
                skip_ws(P);
                continue;
            }
            next_pos++;
            if (vals[k]) {
                px__expr_fail(P, PX_EPARSE, arg_at, "argument '%s' of %s given twice", prm->name, def->name);
                goto out;
            }
            if (px__expr_parse_value(P, &store[k]) < 0)
                goto out;
        }
        vals[k] = &store[k];
        if (check_value(P, def, prm, vals[k]) < 0)
            goto out;
        skip_ws(P);
    }
    for (size_t i = 0; i < def->nparams; i++)
        if ((def->params[i].flags & PX_EXPR_REQUIRED) && !vals[i]) {
            px__expr_fail(P, PX_EPARSE, P->pos, "%s needs argument '%s' (%s)", def->name, def->params[i].name,
                 def->params[i].help ? def->params[i].help : "required");
            goto out;
        }
    P->pos++; /* ')' */
    {
        char errbuf[PX_ERRBUF_SIZE] = "";
        px_expr_args args = {def, vals};
        px_predicate *p = def->factory(&args, def->user, errbuf);
        /* A constructor that refused its arguments returns a predicate saying
         * why (predicates.h): here that is a parse error at the call. */
        const char *refused = p ? px_predicate_error(p) : NULL;
        if (refused) {
            size_t nl = strlen(def->name);
            if (!strncmp(refused, def->name, nl) && !strncmp(refused + nl, ": ", 2))
                refused += nl + 2; /* the message below names the call */
            if (!errbuf[0])
                snprintf(errbuf, sizeof errbuf, "%s", refused);
            px_predicate_free(p);
            p = NULL;
        }
        if (!p) {
            px__expr_fail(P, errbuf[0] ? map_factory_error(errbuf) : PX_EINVAL, name_at, "%s: %s", def->name,
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
            px__expr_value_free(&store[i]);
    free(store);
    free(vals);
    return rc;
}

/* "count(...) <op> n" after a call. */
int px__expr_parse_comparison(parser *P, px_expr_value *v, size_t call_at, bool is_count)
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
        px__expr_fail(P, PX_EPARSE, op_at, "only count(...) can be compared with '%s'", ops[op]);
        return -1;
    }
    P->pos += strlen(ops[op]);
    skip_ws(P);
    size_t n_at = P->pos, e = px__expr_word_end(P, n_at);
    uint64_t n;
    if (e == n_at || !px__expr_parse_u64(P->text + n_at, e - n_at, &n) || n > INT64_MAX) {
        px__expr_fail(P, PX_EPARSE, n_at, "expected a non-negative integer after '%s'", ops[op]);
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
            px__expr_fail(P, PX_ERANGE, n_at, "count() < 0 can never be true");
            return -1;
        }
        p = px_at_most(n - 1, inner);
        break;
    case 5: p = px_at_least(n + 1, inner); break;
    }
    const char *refused = p ? px_predicate_error(p) : NULL;
    if (!p || refused) {
        px__expr_fail(P, p ? PX_EINVAL : PX_ENOMEM, call_at, "%s", p ? refused : "out of memory");
        px_predicate_free(p);
        return -1;
    }
    v->pred = p;
    return 0;
}
