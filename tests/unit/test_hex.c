/* The one hex byte parser (harness/hex.h) behind the text form, the scenario
 * loader's hex: and payload(hex=...). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hex.h"
#include "pktexpect/error.h"

static int dec(const char *s, uint8_t *out, size_t cap, size_t *n, size_t *bad)
{
    return px__hex_decode(s, strlen(s), out, cap, n, bad);
}

static void test_forms(void **state)
{
    (void)state;
    uint8_t b[16];
    size_t n = 99, bad = 99;
    assert_int_equal(dec("0a0B0c", b, sizeof b, &n, &bad), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(b, "\x0a\x0b\x0c", 3);
    assert_int_equal(dec("0XfF:01 02-0a.b0\t\n7e", b, sizeof b, &n, &bad), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(b, "\xff\x01\x02\x0a\xb0\x7e", 6);
    assert_int_equal(dec("", b, sizeof b, &n, &bad), 0);
    assert_int_equal(n, 0); /* empty is the caller's call */
    assert_int_equal(dec(" : ", b, sizeof b, &n, &bad), 0);
    assert_int_equal(n, 0);
}

static void test_errors(void **state)
{
    (void)state;
    uint8_t b[4];
    size_t n = 0, bad = 99;
    assert_int_equal(dec("abc", b, sizeof b, &n, &bad), PX_EPARSE);
    assert_int_equal(bad, 3); /* the missing second digit */
    assert_int_equal(dec("a:b", b, sizeof b, &n, &bad), PX_EPARSE);
    assert_int_equal(bad, 1); /* no separator inside a byte */
    assert_int_equal(dec("00 zz", b, sizeof b, &n, &bad), PX_EPARSE);
    assert_int_equal(bad, 3);
    assert_int_equal(dec("0x", b, sizeof b, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(dec("0102030405", b, sizeof b, &n, &bad), PX_ERANGE);
    assert_int_equal(dec("01020304", b, sizeof b, &n, &bad), 0);
    assert_int_equal(n, 4);
}

/* Reads s[0, len) only: a string that is not NUL-terminated is fine. */
static void test_bounded_by_len(void **state)
{
    (void)state;
    const char s[] = {'4', '7', '4', '5', '5'};
    uint8_t b[4];
    size_t n = 0, bad = 0;
    assert_int_equal(px__hex_decode(s, 4, b, sizeof b, &n, &bad), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(b, "GE", 2);
    assert_int_equal(px__hex_decode(s, 5, b, sizeof b, &n, &bad), PX_EPARSE);
    assert_int_equal(bad, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bounded_by_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
