/* Unit tests of `pktexpect junit-merge` (runner/cmd_junit_merge.c):
 *   suites of the same name from several shards become one      test_same_suite_merged
 *   FIFO, device, directory, oversized, binary inputs refused
 *   at once, nothing written                                    test_inputs_refused
 *   an interruption stops it and writes nothing                 test_interrupted
 *   exit codes: 0, 2 input refused, 3 OUT unwritable, 130       test_cli_exit_codes
 * Merged files are checked with xmllint (well-formed, counts, order). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd_junit_merge.h"
#include "pktexpect/error.h"
#include "report.h"
#include "px_proc.h"

static char tmpdir[256];

static int make_tmp(void **state)
{
    (void)state;
    /* Safety net: a read that blocks (FIFO) fails the run instead of hanging it. */
    alarm(120);
    return px_proc_tmpdir(tmpdir) ? 0 : -1;
}

static int rm_tmp(void **state)
{
    (void)state;
    return px_proc_rmtree(tmpdir);
}

static const char *at(const char *name)
{
    static char p[4][320];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", tmpdir, name);
    return p[i];
}

/* xmllint's answer for an XPath expression on `file`. */
static const char *xpath(const char *file, const char *expr)
{
    static char out[4096];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "xmllint --xpath '%s' '%s' 2>&1", expr, file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    if (n && out[n - 1] == '\n')
        out[n - 1] = '\0';
    return out;
}

static void add(px_report *rep, const char *suite, const char *name, px_tstatus st, double s)
{
    px_test_result r = {.suite = suite, .name = name, .status = st, .seconds = s,
                        .message = st == PX_T_PASS ? NULL : "why"};
    assert_int_equal(px_report_add(rep, &r), 0);
}

/* Two shards of scenario "demo" (and one other scenario), as --shard writes them. */
static void write_shards(void)
{
    px_report a = {0}, b = {0};
    add(&a, "demo", "first", PX_T_PASS, 0.5);
    add(&a, "demo", "third", PX_T_FAIL, 1.0);
    add(&b, "demo", "second", PX_T_ERROR, 0.25);
    add(&b, "demo", "fourth", PX_T_SKIP, 0);
    add(&b, "other & co", "alone", PX_T_PASS, 0.125);
    px_buf err = PX_BUF_INIT;
    assert_int_equal(px_report_write_junit_file(&a, at("s1.xml"), &err), 0);
    assert_int_equal(px_report_write_junit_file(&b, at("s2.xml"), &err), 0);
    px_buf_free(&err);
    px_report_free(&a);
    px_report_free(&b);
}

static void test_same_suite_merged(void **state)
{
    (void)state;
    write_shards();
    const char *in[] = {at("s1.xml"), at("s2.xml")};
    px_buf err = PX_BUF_INIT;
    const char *out = at("all.xml");
    int rc = px_junit_merge(out, in, 2, NULL, &err);
    if (rc)
        print_error("%s\n", px_buf_cstr(&err));
    assert_int_equal(rc, 0);
    assert_string_equal(xpath(out, "count(//testsuite)"), "2");
    assert_string_equal(xpath(out, "concat(/testsuites/@tests, \",\", /testsuites/@failures, \",\", "
                                   "/testsuites/@errors, \",\", /testsuites/@skipped, \",\", /testsuites/@time)"),
                        "5,1,1,1,1.875");
    assert_string_equal(xpath(out, "concat(//testsuite[1]/@name, \",\", //testsuite[1]/@tests, \",\", "
                                   "//testsuite[1]/@failures, \",\", //testsuite[1]/@errors, \",\", "
                                   "//testsuite[1]/@skipped, \",\", //testsuite[1]/@time)"),
                        "demo,4,1,1,1,1.750");
    /* Test cases in input order: shard 1's, then shard 2's. */
    assert_string_equal(xpath(out, "concat(//testsuite[1]/testcase[1]/@name, \",\", "
                                   "//testsuite[1]/testcase[2]/@name, \",\", //testsuite[1]/testcase[3]/@name, "
                                   "\",\", //testsuite[1]/testcase[4]/@name)"),
                        "first,third,second,fourth");
    assert_string_equal(xpath(out, "concat(//testsuite[2]/@name, \",\", count(//testsuite[2]/testcase))"),
                        "other & co,1");
    assert_string_equal(xpath(out, "count(//testcase[failure])"), "1");
    assert_string_equal(xpath(out, "count(//testcase[error])"), "1");
    assert_string_equal(xpath(out, "count(//testcase[skipped])"), "1");

    /* Merging merged files again gives the same suites; OUT may be an input. */
    const char *again[] = {out, at("s1.xml")};
    assert_int_equal(px_junit_merge(out, again, 2, NULL, &err), 0);
    assert_string_equal(xpath(out, "concat(count(//testsuite), \",\", //testsuite[1]/@tests, \",\", "
                                   "count(//testsuite[1]/testcase))"),
                        "2,6,6");
    px_buf_free(&err);
}

static void test_inputs_refused(void **state)
{
    (void)state;
    write_shards();
    px_buf err = PX_BUF_INIT;
    const char *out = at("refused.xml");

    const char *zero[] = {at("s1.xml"), "/dev/zero"};
    assert_int_equal(px_junit_merge(out, zero, 2, NULL, &err), PX_EINVAL);
    assert_non_null(strstr(px_buf_cstr(&err), "'/dev/zero': it is a character device"));

    assert_int_equal(mkfifo(at("fifo"), 0600), 0);
    const char *fifo[] = {at("fifo")};
    px_buf_clear(&err);
    assert_int_equal(px_junit_merge(out, fifo, 1, NULL, &err), PX_EINVAL);
    assert_non_null(strstr(px_buf_cstr(&err), "it is a FIFO"));

    const char *dir[] = {tmpdir};
    px_buf_clear(&err);
    assert_int_equal(px_junit_merge(out, dir, 1, NULL, &err), PX_EINVAL);
    assert_non_null(strstr(px_buf_cstr(&err), "it is a directory"));

    /* Over the limit (a sparse file: no disk used). */
    int fd = open(at("huge.xml"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)PX_JUNIT_MERGE_MAX_INPUT + 1), 0);
    close(fd);
    const char *huge[] = {at("huge.xml")};
    px_buf_clear(&err);
    assert_int_equal(px_junit_merge(out, huge, 1, NULL, &err), PX_ERANGE);
    assert_non_null(strstr(px_buf_cstr(&err), "64 MiB"));

    /* NUL bytes: not a JUnit file. */
    fd = open(at("nul.xml"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "<testsuites>\0</testsuites>", 26), 26);
    close(fd);
    const char *nul[] = {at("nul.xml")};
    px_buf_clear(&err);
    assert_int_equal(px_junit_merge(out, nul, 1, NULL, &err), PX_EFORMAT);

    const char *missing[] = {at("missing.xml")};
    px_buf_clear(&err);
    assert_int_equal(px_junit_merge(out, missing, 1, NULL, &err), PX_EIO);
    assert_non_null(strstr(px_buf_cstr(&err), strerror(ENOENT)));

    assert_int_equal(access(out, F_OK), -1); /* nothing written for any of them */
    px_buf_free(&err);
}

static void test_interrupted(void **state)
{
    (void)state;
    write_shards();
    volatile sig_atomic_t stop = 1;
    const char *in[] = {at("s1.xml"), at("s2.xml")};
    px_buf err = PX_BUF_INIT;
    assert_int_equal(px_junit_merge(at("int.xml"), in, 2, &stop, &err), PX_ECANCELED);
    assert_int_equal(access(at("int.xml"), F_OK), -1);
    px_buf_free(&err);
}

/* Runs px_cli_junit_merge with stderr silenced; returns its exit code. */
static int merge_cli(const volatile sig_atomic_t *stop, const char *out, const char *in1, const char *in2)
{
    char *argv[] = {(char *)"junit-merge", (char *)out, (char *)in1, (char *)in2, NULL};
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    int rc = px_cli_junit_merge(in2 ? 4 : 3, argv, stop);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(null);
    return rc;
}

static void test_cli_exit_codes(void **state)
{
    (void)state;
    write_shards();
    assert_int_equal(merge_cli(NULL, at("cli.xml"), at("s1.xml"), at("s2.xml")), 0);
    assert_int_equal(access(at("cli.xml"), F_OK), 0);
    assert_int_equal(merge_cli(NULL, at("cli2.xml"), at("s1.xml"), "/dev/zero"), 2);
    assert_int_equal(merge_cli(NULL, at("no/such/dir/x.xml"), at("s1.xml"), NULL), 3);
    volatile sig_atomic_t stop = 1;
    assert_int_equal(merge_cli(&stop, at("cli3.xml"), at("s1.xml"), NULL), 130);
    assert_int_equal(access(at("cli3.xml"), F_OK), -1);
    char *few[] = {(char *)"junit-merge", (char *)"x.xml", NULL};
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    int rc = px_cli_junit_merge(2, few, NULL);
    dup2(saved, 2);
    close(saved);
    close(null);
    assert_int_equal(rc, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_suite_merged),
        cmocka_unit_test(test_inputs_refused),
        cmocka_unit_test(test_interrupted),
        cmocka_unit_test(test_cli_exit_codes),
    };
    return cmocka_run_group_tests(tests, make_tmp, rm_tmp);
}
