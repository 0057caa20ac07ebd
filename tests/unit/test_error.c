/* Error table: enum, names and messages come from one X-macro and agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "err_internal.h"
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

/* One map for capture, send and topology: the same errno, the same code. */
static void test_errno_map(void **state)
{
    (void)state;
    static const struct {
        int errnum, code;
    } rows[] = {
        {EPERM, PX_EPERM},     {EACCES, PX_EPERM},     {ENODEV, PX_ENODEV},   {ENXIO, PX_ENODEV},
        {ENOENT, PX_ENODEV},   {ENETDOWN, PX_EDOWN},   {ENOMEM, PX_ENOMEM},   {ENOBUFS, PX_ENOMEM},
        {EMSGSIZE, PX_EMTU},   {EEXIST, PX_EEXIST},    {EBUSY, PX_EEXIST},    {EINVAL, PX_EINVAL},
        {ERANGE, PX_EINVAL},   {EOPNOTSUPP, PX_ENOTSUP}, {EIO, PX_ESYS},      {EBADF, PX_ESYS},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int got = px__err_from_errno(rows[i].errnum);
        if (got != rows[i].code)
            fail_msg("%s gives %s, expected %s", strerror(rows[i].errnum), px_err_name(got), px_err_name(rows[i].code));
    }
    /* never success, not even for errno 0; never PX_EGONE (a caller's refinement) */
    assert_int_equal(px__err_from_errno(0), PX_ESYS);
    for (int e = 0; e < 200; e++) {
        assert_true(px__err_from_errno(e) < 0);
        assert_int_not_equal(px__err_from_errno(e), PX_EGONE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_messages),
        cmocka_unit_test(test_unknown_code),
        cmocka_unit_test(test_errno_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
