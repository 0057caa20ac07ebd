/* pktexpect: the expression parser's internals, shared by expr.c (the entry
 * point, errors, argument access), expr_value.c (the lexer and the values:
 * integers, addresses, strings, frames, lists) and expr_call.c (calls: argument
 * checks, the factory that builds the predicate, count comparisons, the "did
 * you mean" message). Internal to the core.
 */
#ifndef PX_EXPR_INTERNAL_H
#define PX_EXPR_INTERNAL_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pred_internal.h"
#include "pktexpect/expr.h"

/* One parse; lives on px_expr_parse's stack. `parser` is its short name in
 * the expr*.c files. */
typedef struct px__expr_parser {
    const px_registry *reg;
    const char *text;
    size_t pos;
    unsigned depth;
    px_expr_error *err;
    int code; /* first error, 0 while none */
} parser;

/* Records the first error only (code and "col N: " message); later calls are ignored. */
__attribute__((format(printf, 4, 5))) void px__expr_fail(parser *P, int code, size_t at, const char *fmt, ...);

static inline void skip_ws(parser *P)
{
    while (P->text[P->pos] == ' ' || P->text[P->pos] == '\t' || P->text[P->pos] == '\n' || P->text[P->pos] == '\r')
        P->pos++;
}

static inline bool is_word_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.' || c == ':'; }
static inline bool is_name_start(char c) { return isalpha((unsigned char)c) || c == '_'; }

/* expr_value.c */
int px__expr_parse_value(parser *P, px_expr_value *v);
void px__expr_value_free(px_expr_value *v);
const char *px__expr_type_name(unsigned t);
/* A word: letters, digits, '_', '.', ':' and, after an address, "/digits". */
size_t px__expr_word_end(const parser *P, size_t start);
bool px__expr_parse_u64(const char *s, size_t n, uint64_t *out);
/* Appends a zeroed item to a LIST value and returns it, or NULL without memory. */
px_expr_value *px__expr_push_item(px_expr_value *list);

/* expr_call.c */
/* Parses "name(args)" with P->pos on the name; the call's predicate goes to v. */
int px__expr_parse_call(parser *P, px_expr_value *v, size_t name_at, size_t name_end);
/* "count(...) <op> n" after a call. */
int px__expr_parse_comparison(parser *P, px_expr_value *v, size_t call_at, bool is_count);

#endif
