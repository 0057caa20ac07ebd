/* The predicate docs cannot drift from the code:
 *  - docs/predicates.md has a heading for every name of the built-in registry,
 *    with its exact signature, a verdict rule and a value, and no heading for a
 *    name the registry does not have;
 *  - the code blocks of docs/writing-predicates.md are, in order,
 *    tests/unit/test_pred_custom_example.c and tests/plugin/ethertype_range.c;
 *  - the examples at the top of docs/expressions.md parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/expr.h"
#include "px_src.h"

/* A file of the source tree (tests/px_src.h); the test fails when it cannot be read. */
static char *slurp(const char *rel)
{
    char *s = px_src_slurp(rel);
    if (!s)
        fail_msg("cannot open %s", px_src_path(rel));
    return s;
}

/* The signature as predicates.md writes it: n, [opt], name=, preds... */
static void signature(const px_expr_def *d, px_buf *out)
{
    px_buf_printf(out, "%s(", d->name);
    for (size_t k = 0; k < d->nparams; k++) {
        const px_expr_param *p = &d->params[k];
        if (k)
            px_buf_append(out, ", ");
        if (p->flags & PX_EXPR_VARIADIC)
            px_buf_printf(out, "%s...", p->name);
        else if (p->flags & PX_EXPR_NAMED_ONLY)
            px_buf_printf(out, "%s=", p->name);
        else if (p->flags & PX_EXPR_REQUIRED)
            px_buf_printf(out, "%s", p->name);
        else
            px_buf_printf(out, "[%s]", p->name);
    }
    px_buf_append(out, ")");
}

static void test_reference_matches_registry(void **state)
{
    (void)state;
    char *doc = slurp("docs/predicates.md");
    px_registry *reg = px_registry_new();
    size_t n = px_registry_count(reg);
    unsigned *seen = calloc(n, sizeof *seen);
    assert_non_null(seen);

    size_t headings = 0;
    for (char *line = doc; line && *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > 4 && strncmp(line, "### ", 4) == 0) {
            headings++;
            /* the section: up to the next heading */
            char *next = strstr(line + 4, "\n#");
            size_t sect = next ? (size_t)(next - line) : strlen(line);
            char *section = strndup(line, sect);
            assert_non_null(section);
            if (!strstr(section, "**Verdict:**") || !strstr(section, "**Value:**"))
                fail_msg("section '%.*s' lacks **Verdict:** or **Value:**", (int)len, line);
            free(section);
            /* every `signature` on the heading line */
            char *h = strndup(line, len);
            assert_non_null(h);
            for (char *s = strchr(h, '`'); s; s = strchr(s, '`')) {
                char *e = strchr(s + 1, '`');
                if (!e)
                    fail_msg("unbalanced ` in '%s'", h);
                *e = '\0';
                const char *sig = s + 1;
                size_t i;
                for (i = 0; i < n; i++) {
                    px_buf want = PX_BUF_INIT;
                    signature(px_registry_get(reg, i), &want);
                    bool same = strcmp(px_buf_cstr(&want), sig) == 0;
                    px_buf_free(&want);
                    if (same)
                        break;
                }
                if (i == n)
                    fail_msg("docs/predicates.md documents '%s', which is not a built-in signature", sig);
                seen[i]++;
                s = e + 1;
            }
            free(h);
        }
        line = end ? end + 1 : NULL;
    }
    assert_true(headings > 0);
    for (size_t i = 0; i < n; i++) {
        if (seen[i] == 1)
            continue;
        px_buf want = PX_BUF_INIT;
        signature(px_registry_get(reg, i), &want);
        fail_msg("docs/predicates.md has %u headings for `%s` (needs exactly one)", seen[i], px_buf_cstr(&want));
    }
    free(seen);
    px_registry_free(reg);
    free(doc);
}

static void test_guide_includes_example(void **state)
{
    (void)state;
    static const char *const files[] = {"tests/unit/test_pred_custom_example.c", "tests/plugin/ethertype_range.c"};
    char *doc = slurp("docs/writing-predicates.md");
    char *at = doc;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *code = slurp(files[i]);
        char *start = strstr(at, "```c\n");
        if (!start)
            fail_msg("docs/writing-predicates.md: no code block %zu (%s)", i + 1, files[i]);
        start += 5;
        char *end = strstr(start, "```");
        assert_non_null(end);
        size_t n = (size_t)(end - start);
        if (n != strlen(code) || memcmp(start, code, n) != 0)
            fail_msg("code block %zu of docs/writing-predicates.md differs from %s", i + 1, files[i]);
        at = end + 3;
        free(code);
    }
    free(doc);
}

static void test_expression_examples_parse(void **state)
{
    (void)state;
    char *doc = slurp("docs/expressions.md");
    char *start = strstr(doc, "```\n");
    assert_non_null(start);
    start += 4;
    char *end = strstr(start, "```");
    assert_non_null(end);
    *end = '\0';
    px_registry *reg = px_registry_new();
    unsigned count = 0;
    for (char *line = strtok(start, "\n"); line; line = strtok(NULL, "\n")) {
        px_predicate *p = NULL;
        px_expr_error err;
        if (px_expr_parse(reg, line, &p, &err) != 0)
            fail_msg("docs/expressions.md example '%s' does not parse: %s", line, err.message);
        px_predicate_free(p);
        count++;
    }
    assert_true(count >= 5);
    px_registry_free(reg);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_matches_registry),
        cmocka_unit_test(test_guide_includes_example),
        cmocka_unit_test(test_expression_examples_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
