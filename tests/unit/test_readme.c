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

#include "px_src.h"

static void test_readme_shows_quickstart(void **state)
{
    (void)state;
    char *readme = px_src_slurp("README.md");
    char *example = px_src_slurp("examples/quickstart.c");
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
