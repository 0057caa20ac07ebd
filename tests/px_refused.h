/* Shared by the predicate unit tests: a constructor's refusal is a predicate
 * that says why (predicates.h, px_predicate_error). Include after <cmocka.h>. */
#ifndef PX_REFUSED_H
#define PX_REFUSED_H

#include <string.h>

#include "pktexpect/predicate.h"

/* Takes predicate `p`: it must be a refusal whose message contains `text`. */
static inline void px_assert_refused_(px_predicate *p, const char *text, const char *expr, const char *file, int line)
{
    const char *why = p ? px_predicate_error(p) : "NULL (out of memory)";
    if (!p || !why || !strstr(why, text)) {
        print_error("%s: expected a refusal saying '%s', got %s\n", expr, text, why ? why : "a working predicate");
        px_predicate_free(p);
        _fail(file, line);
        return;
    }
    px_predicate_free(p);
}
#define assert_refused(p, text) px_assert_refused_((p), (text), #p, __FILE__, __LINE__)

#endif
