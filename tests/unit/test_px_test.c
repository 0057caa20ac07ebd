/* The tests' one rule for missing requirements (tests/px_test.h): what "CI is
 * set" means, and skip (77) elsewhere versus fail (1) in CI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "px_test.h"

static void set_ci(const char *v)
{
    if (v)
        setenv("CI", v, 1);
    else
        unsetenv("CI");
}

static void test_ci_values(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        bool set;
    } rows[] = {{NULL, false}, {"", false}, {"0", false}, {"false", false},
                {"1", true},   {"true", true}, {"yes", true}, {"00", true}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        set_ci(rows[i].value);
        if (px_cmocka_ci() != rows[i].set)
            fail_msg("CI=%s: expected %s", rows[i].value ? rows[i].value : "(unset)", rows[i].set ? "set" : "not set");
    }
    set_ci(NULL);
}

/* Exit status of a child that calls px_test_unavailable with CI = ci. */
static int unavailable_status(const char *ci)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        set_ci(ci);
        if (!freopen("/dev/null", "w", stderr))
            _exit(3);
        px_test_unavailable("in CI", "elsewhere");
        _exit(4); /* not reached */
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_skip_or_fail(void **state)
{
    (void)state;
    assert_int_equal(unavailable_status(NULL), PX_TEST_SKIP);
    assert_int_equal(unavailable_status("false"), PX_TEST_SKIP);
    assert_int_equal(unavailable_status("0"), PX_TEST_SKIP);
    assert_int_equal(unavailable_status("true"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ci_values),
        cmocka_unit_test(test_skip_or_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
