/* The README's C example is examples/quickstart.c, and docs/c-api.md's is
 * examples/c_api.c, which the tests build and run: check each page shows its
 * file unchanged, so the examples cannot rot. */
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

/* docs/c-api.md shows examples/c_api.c unchanged (built and run as example/c_api). */
static void test_c_api_shows_example(void **state)
{
    (void)state;
    char *page = px_src_slurp("docs/c-api.md");
    char *example = px_src_slurp("examples/c_api.c");
    assert_non_null(page);
    assert_non_null(example);
    assert_non_null(strstr(page, example));
    /* every function the one-liner header declares has its own section */
    const char *names[] = {"int px_send_text(", "px_future *px_expect_expr(", "px_future *px_expect_expr_reg(",
                           "int px_port_mac(", "int px_frame_parse_text_ex(", "px_predicate *px_checksums_ok("};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strstr(page, names[i]))
            fail_msg("docs/c-api.md does not document %s", names[i]);
    free(page);
    free(example);
}

/* The verification layer's section shows examples/ptf_verify.c and documents
 * every function of pktexpect/verify.h and pktexpect/mark.h. */
static void test_c_api_shows_verify(void **state)
{
    (void)state;
    char *page = px_src_slurp("docs/c-api.md");
    char *example = px_src_slurp("examples/ptf_verify.c");
    assert_non_null(page);
    assert_non_null(example);
    assert_non_null(strstr(page, example));
    const char *names[] = {"int px_verify_begin(", "int px_verify_mark(", "px_future *px_verify_packet(",
                           "px_future *px_verify_packet_pred(", "px_future *px_verify_packet_any(",
                           "px_future *px_verify_packet_each(", "px_future *px_verify_no_packet(",
                           "px_future *px_verify_no_packet_any(", "px_future *px_verify_no_other_packets(", "px_future *px_verify_no_other_packets_except(",
                           "px_mark *px_mark_take(", "void px_mark_free(", "size_t px_mark_nports("};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strstr(page, names[i]))
            fail_msg("docs/c-api.md does not document %s", names[i]);
    free(page);
    free(example);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_readme_shows_quickstart),
                                       cmocka_unit_test(test_c_api_shows_example),
                                       cmocka_unit_test(test_c_api_shows_verify)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
