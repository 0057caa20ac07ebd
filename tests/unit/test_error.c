/* Error table: enum, names and messages come from one X-macro and agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pktexpect/error.h"

static void test_names_and_messages(void **state)
{
    (void)state;
    assert_string_equal(px_err_name(PX_OK), "PX_OK");
    assert_string_equal(px_err_name(PX_ENODEV), "PX_ENODEV");
    assert_string_equal(px_err_name(PX_EBPF), "PX_EBPF");
    assert_string_equal(px_strerror(PX_EPERM), "operation needs CAP_NET_RAW / CAP_NET_ADMIN");
    assert_true(PX_ENODEV < 0);
#define CHECK(name, value, msg)                                                                                \
    assert_int_equal(name, -(value));                                                                          \
    assert_string_equal(px_err_name(name), #name);                                                             \
    assert_string_equal(px_strerror(name), msg);
    PX_ERROR_TABLE(CHECK)
#undef CHECK
}

static void test_unknown_code(void **state)
{
    (void)state;
    assert_string_equal(px_err_name(-9999), "PX_E?");
    assert_string_equal(px_strerror(12345), "unknown error code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_messages),
        cmocka_unit_test(test_unknown_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
