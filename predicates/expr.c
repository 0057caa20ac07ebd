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
 *
 * This file: the entry point, errors, argument access for factories; the
 * lexer and values are in expr_value.c, calls in expr_call.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_internal.h"


void px__expr_fail(parser *P, int code, size_t at, const char *fmt, ...)
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
        px__expr_fail(&P, PX_ENOMEM, 0, "out of memory");
        return P.code;
    }
    if (!text || !out) {
        px__expr_fail(&P, PX_EINVAL, 0, "no text or no output given");
        px_registry_free(own);
        return P.code;
    }
    px_expr_value v;
    if (px__expr_parse_value(&P, &v) == 0) {
        skip_ws(&P);
        if (v.type != PX_EXPR_PRED)
            px__expr_fail(&P, PX_EPARSE, v.column - 1, "expected a predicate such as saw_udp(dport=53), got %s",
                 px__expr_type_name(v.type));
        else if (P.text[P.pos] != '\0')
            px__expr_fail(&P, PX_EPARSE, P.pos, "unexpected '%c' after the end of the expression", P.text[P.pos]);
        else
            *out = px_expr_take_pred(&v);
        px__expr_value_free(&v);
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
