/* pktexpect/cmocka.h without root: the ownership rule of the assertion macros,
 * and px_assert_send_text failing a test. (px_cmocka_unavailable, through
 * px_test_unavailable: unit/test_px_test.)
 *
 * px_assert_pass / _fail / _error / _value free the future in every case, also
 * when the check fails (cmocka's _fail jumps out of the test, so nothing after
 * the assertion runs); the _keep forms never free it. Whether a future was freed
 * shows in its px_future_fd descriptor, which px_future_free closes. A failing
 * assertion ends its test, so those cases run a one-test cmocka group in a child
 * process and report through its exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pktexpect/pktexpect.h"
#include "pktexpect/cmocka.h"

static px_ctx *g_ctx;
static int g_fd = -1;

/* A future already resolved ERROR (a refused argument: nothing is armed, no
 * port is opened, so no privileges are needed), its descriptor in g_fd. */
static px_future *error_future(void)
{
    char err[PX_ERRBUF_SIZE];
    px_future *f = px_expect_expr(g_ctx, "pxnone0", "saw_vlan_tag(5000)", NULL, err);
    assert_non_null(f);
    assert_int_equal(px_future_verdict(f), PX_ERROR);
    g_fd = px_future_fd(f);
    assert_true(g_fd >= 0);
    return f;
}

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

/* ---- assertions that fail on purpose, run in a child ---- */

static void inner_pass(void **state)
{
    (void)state;
    px_assert_pass(error_future());
}
static void inner_fail(void **state)
{
    (void)state;
    px_assert_fail(error_future());
}
static void inner_value(void **state)
{
    (void)state;
    px_assert_value(error_future(), 1); /* an ERROR future has no value */
}
static void inner_pass_keep(void **state)
{
    (void)state;
    px_assert_pass_keep(error_future());
}
static void inner_value_keep(void **state)
{
    (void)state;
    px_assert_value_keep(error_future(), 1);
}

static void inner_send_bad_text(void **state)
{
    (void)state;
    px_assert_send_text(g_ctx, "pxnone0", "Ether()/IPv4(ttl=300)");
}

enum { FREED = 0, STILL_OPEN = 1, NO_FUTURE = 2 };

/* Runs `fn` as the only test of a cmocka group in a child. Returns FREED or
 * STILL_OPEN (the future's descriptor after the failed test), NO_FUTURE when
 * the test made none, or fails when the test did not fail. */
static int after_failed_assertion(CMUnitTestFunction fn)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Plain output on /dev/null: not the parent's XML report, if any. */
        unsetenv("CMOCKA_MESSAGE_OUTPUT");
        unsetenv("CMOCKA_XML_FILE");
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(20);
        char err[PX_ERRBUF_SIZE];
        g_fd = -1;
        g_ctx = px_ctx_new(NULL, err);
        if (!g_ctx)
            _exit(21);
        const struct CMUnitTest t[] = {{"inner", fn, NULL, NULL, NULL}};
        int failed = cmocka_run_group_tests_name("inner", t, NULL, NULL);
        if (failed != 1)
            _exit(22);
        if (g_fd < 0)
            _exit(NO_FUTURE);
        _exit(fd_open(g_fd) ? STILL_OPEN : FREED);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    int rc = WEXITSTATUS(st);
    if (rc != FREED && rc != STILL_OPEN && rc != NO_FUTURE)
        fail_msg("the child's inner test did not fail as it should (exit %d)", rc);
    return rc;
}

static void test_failing_assertion_frees(void **state)
{
    (void)state;
    assert_int_equal(after_failed_assertion(inner_pass), FREED);
    assert_int_equal(after_failed_assertion(inner_fail), FREED);
    assert_int_equal(after_failed_assertion(inner_value), FREED);
}

static void test_failing_keep_assertion_keeps(void **state)
{
    (void)state;
    assert_int_equal(after_failed_assertion(inner_pass_keep), STILL_OPEN);
    assert_int_equal(after_failed_assertion(inner_value_keep), STILL_OPEN);
}

static void test_passing_assertion_frees(void **state)
{
    (void)state;
    px_assert_error(error_future());
    assert_false(fd_open(g_fd));
}

static void test_passing_keep_assertion_keeps(void **state)
{
    (void)state;
    px_future *f = error_future();
    px_assert_error_keep(f);
    assert_true(fd_open(g_fd));
    assert_non_null(strstr(px_future_explanation(f), "5000")); /* still readable */
    px_future_free(f);
    assert_false(fd_open(g_fd));
}

static void test_send_text_failure_fails(void **state)
{
    (void)state;
    assert_int_equal(after_failed_assertion(inner_send_bad_text), NO_FUTURE);
}

static int setup(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    g_ctx = px_ctx_new(NULL, err);
    return g_ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    px_ctx_free(g_ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failing_assertion_frees),
        cmocka_unit_test(test_failing_keep_assertion_keeps),
        cmocka_unit_test(test_passing_assertion_frees),
        cmocka_unit_test(test_passing_keep_assertion_keeps),
        cmocka_unit_test(test_send_text_failure_fails),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
