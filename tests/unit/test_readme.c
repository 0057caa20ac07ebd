/* The README's C example is examples/quickstart.c, which the tests build and run:
 * check the page shows the file unchanged, so the example cannot rot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *rel)
{
    const char *dir = getenv("PX_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static void test_readme_shows_quickstart(void **state)
{
    (void)state;
    char *readme = slurp("README.md");
    char *example = slurp("examples/quickstart.c");
    assert_non_null(readme);
    assert_non_null(example);
    assert_non_null(strstr(readme, example));
    /* and the page starts with exactly the two commands */
    assert_non_null(strstr(readme, "```sh\nmake demo "));
    assert_non_null(strstr(readme, "\nmake test "));
    free(readme);
    free(example);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_readme_shows_quickstart)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
