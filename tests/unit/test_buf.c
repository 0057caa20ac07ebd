/* px_buf: appends, formatting, steal, clear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pktexpect/buf.h"

static void test_append_and_printf(void **state)
{
    (void)state;
    px_buf b = PX_BUF_INIT;
    assert_string_equal(px_buf_cstr(&b), "");
    px_buf_append(&b, "ipv4.ttl: ");
    px_buf_printf(&b, "expected %d, got %d", 63, 64);
    assert_string_equal(px_buf_cstr(&b), "ipv4.ttl: expected 63, got 64");
    assert_int_equal(b.len, strlen("ipv4.ttl: expected 63, got 64"));
    px_buf_append_n(&b, "xyz", 1);
    assert_string_equal(px_buf_cstr(&b), "ipv4.ttl: expected 63, got 64x");
    px_buf_clear(&b);
    assert_string_equal(px_buf_cstr(&b), "");
    for (int i = 0; i < 1000; i++)
        px_buf_printf(&b, "%04d", i);
    assert_int_equal(b.len, 4000);
    assert_memory_equal(b.data + 3996, "0999", 4);
    assert_false(b.oom);
    px_buf_free(&b);
    assert_null(b.data);
}

static void test_steal(void **state)
{
    (void)state;
    px_buf b = PX_BUF_INIT;
    char *empty = px_buf_steal(&b);
    assert_string_equal(empty, "");
    free(empty);
    px_buf_append(&b, "frame");
    char *s = px_buf_steal(&b);
    assert_string_equal(s, "frame");
    assert_int_equal(b.len, 0);
    free(s);
    px_buf_append(NULL, "ignored");
    px_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_printf),
        cmocka_unit_test(test_steal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
