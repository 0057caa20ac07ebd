/* Unit tests of the reporters: console lines, TAP read back line by line, JUnit
 * XML checked by xmllint (well-formed, counts and contents through XPath), and the
 * merge of shard reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd_junit_merge.h"
#include "report.h"
#include "pktexpect/error.h"
#include "px_proc.h"

static char tmpdir[256];

static int make_tmp(void **state)
{
    (void)state;
    return px_proc_tmpdir(tmpdir) ? 0 : -1;
}

static int rm_tmp(void **state)
{
    (void)state;
    return px_proc_rmtree(tmpdir);
}

/* Runs a command, returns its whole stdout (static buffer) and exit status. */
static const char *run(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *run(int *status, const char *fmt, ...)
{
    static char out[16384];
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    /* xmllint --xpath ends its answer with one newline of its own. */
    if (n > 0 && out[n - 1] == '\n' && strstr(cmd, "--xpath"))
        out[n - 1] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

static void fill(px_report *rep, const char *suite)
{
    px_test_result pass = {.suite = suite, .name = "passes", .file = "s.yaml", .line = 3, .status = PX_T_PASS,
                           .seconds = 0.25, .output = "p1 TX Ether()/IPv4()\n"};
    px_test_result fail = {.suite = suite,
                           .name = "fails <badly> & \"loudly\"",
                           .file = "s.yaml",
                           .line = 9,
                           .status = PX_T_FAIL,
                           .seconds = 1.0,
                           .message = "s.yaml:10: expect ttl: FAIL: ipv4.ttl: expected 63, got 64",
                           .details = "closest frame #1:\n  ipv4.ttl: expected 63, got 64\ncontrol \x01 char",
                           .output = "p2 RX Ether()/IPv4(ttl=64)\n",
                           .pcap = "out/s-fails.pcapng"};
    px_test_result err = {.suite = suite, .name = "errs # hash", .status = PX_T_ERROR, .seconds = 0.5,
                          .message = "opening port 'p9': no such interface"};
    px_test_result skip = {.suite = suite, .name = "skipped", .status = PX_T_SKIP, .message = "needs hardware"};
    assert_int_equal(px_report_add(rep, &pass), 0);
    assert_int_equal(px_report_add(rep, &fail), 0);
    assert_int_equal(px_report_add(rep, &err), 0);
    assert_int_equal(px_report_add(rep, &skip), 0);
}

static void test_junit_well_formed_and_complete(void **state)
{
    (void)state;
    px_report rep = {0};
    fill(&rep, "suite-a");
    char path[128];
    snprintf(path, sizeof path, "%s/a.xml", tmpdir);
    px_buf err = PX_BUF_INIT;
    assert_int_equal(px_report_write_junit_file(&rep, path, &err), 0);
    int st;
    const char *out = run(&st, "xmllint --noout '%s' 2>&1", path);
    assert_int_equal(st, 0);
    assert_string_equal(out, "");
    out = run(&st, "xmllint --xpath 'string(/testsuites/@tests)' '%s'", path);
    assert_string_equal(out, "4");
    out = run(&st, "xmllint --xpath 'concat(/testsuites/testsuite/@failures, \",\", /testsuites/testsuite/@errors, "
                   "\",\", /testsuites/testsuite/@skipped)' '%s'",
              path);
    assert_string_equal(out, "1,1,1");
    out = run(&st, "xmllint --xpath 'string(//testcase[failure]/@name)' '%s'", path);
    assert_string_equal(out, "fails <badly> & \"loudly\"");
    out = run(&st, "xmllint --xpath 'string(//testcase[failure]/failure/@message)' '%s'", path);
    assert_string_equal(out, "s.yaml:10: expect ttl: FAIL: ipv4.ttl: expected 63, got 64");
    out = run(&st, "xmllint --xpath 'string(//testcase[failure]/failure)' '%s'", path);
    assert_non_null(strstr(out, "ipv4.ttl: expected 63, got 64"));
    assert_non_null(strstr(out, "control \\x01 char"));
    assert_non_null(strstr(out, "evidence: out/s-fails.pcapng"));
    out = run(&st, "xmllint --xpath 'string(//testcase[failure]/system-out)' '%s'", path);
    assert_string_equal(out, "p2 RX Ether()/IPv4(ttl=64)\n");
    out = run(&st, "xmllint --xpath 'string(//testcase[error]/error/@message)' '%s'", path);
    assert_string_equal(out, "opening port 'p9': no such interface");
    out = run(&st, "xmllint --xpath 'string(//testcase[skipped]/skipped/@message)' '%s'", path);
    assert_string_equal(out, "needs hardware");
    out = run(&st, "xmllint --xpath 'string(//testcase[@name=\"passes\"]/@line)' '%s'", path);
    assert_string_equal(out, "3");
    px_buf_free(&err);
    px_report_free(&rep);
}

static void test_junit_merge_of_shards(void **state)
{
    (void)state;
    px_report a = {0}, b = {0};
    fill(&a, "shard-one");
    fill(&b, "shard-two");
    char pa[128], pb[128], pm[128], bad[128];
    snprintf(pa, sizeof pa, "%s/1.xml", tmpdir);
    snprintf(pb, sizeof pb, "%s/2.xml", tmpdir);
    snprintf(pm, sizeof pm, "%s/merged.xml", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.xml", tmpdir);
    px_buf err = PX_BUF_INIT;
    assert_int_equal(px_report_write_junit_file(&a, pa, &err), 0);
    assert_int_equal(px_report_write_junit_file(&b, pb, &err), 0);
    const char *in[] = {pa, pb};
    assert_int_equal(px_junit_merge(pm, in, 2, NULL, &err), 0);
    int st;
    const char *out = run(&st, "xmllint --noout '%s' 2>&1", pm);
    assert_int_equal(st, 0);
    out = run(&st, "xmllint --xpath 'concat(/testsuites/@tests, \",\", /testsuites/@failures, \",\", "
                   "/testsuites/@errors, \",\", /testsuites/@skipped, \",\", count(//testsuite), \",\", "
                   "count(//testcase))' '%s'",
              pm);
    assert_string_equal(out, "8,2,2,2,2,8");
    out = run(&st, "xmllint --xpath 'string(/testsuites/testsuite[2]/@name)' '%s'", pm);
    assert_string_equal(out, "shard-two");

    /* Not a JUnit file. */
    FILE *f = fopen(bad, "w");
    fputs("hello\n", f);
    fclose(f);
    const char *in2[] = {pa, bad};
    px_buf_clear(&err);
    assert_int_equal(px_junit_merge(pm, in2, 2, NULL, &err), PX_EFORMAT);
    assert_non_null(strstr(px_buf_cstr(&err), "is not a JUnit file"));
    const char *in3[] = {"/nonexistent/x.xml"};
    assert_int_equal(px_junit_merge(pm, in3, 1, NULL, &err), PX_EIO);
    px_buf_free(&err);
    px_report_free(&a);
    px_report_free(&b);
}

static char *capture(void (*fn)(FILE *, const px_report *), const px_report *rep)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(f, rep);
    fclose(f);
    return buf;
}

static void tap_all(FILE *f, const px_report *rep)
{
    px_report_tap_plan(f, rep->n);
    for (size_t i = 0; i < rep->n; i++)
        px_report_tap_test(f, &rep->r[i], i + 1);
}

static void test_tap_read_back(void **state)
{
    (void)state;
    px_report rep = {0};
    fill(&rep, "s");
    char *tap = capture(tap_all, &rep);
    /* Read back: the plan, then one result line per test with its number. */
    const char *expect_lines[] = {
        "TAP version 13",
        "1..4",
        "ok 1 - s: passes",
        "not ok 2 - s: fails <badly> & \"loudly\"",
        "  ---",
        "  severity: fail",
        "  message: |",
        "    s.yaml:10: expect ttl: FAIL: ipv4.ttl: expected 63, got 64",
        "  details: |",
        "    closest frame #1:",
        "      ipv4.ttl: expected 63, got 64",
        "    control \x01 char",
        "  at: \"s.yaml:9\"",
        "  evidence: \"out/s-fails.pcapng\"",
        "  duration_s: 1.000",
        "  ...",
        "not ok 3 - s: errs _ hash",
        "  ---",
        "  severity: error",
        "  message: |",
        "    opening port 'p9': no such interface",
        "  duration_s: 0.500",
        "  ...",
        "ok 4 - s: skipped # SKIP needs hardware",
    };
    char *save = NULL, *line = strtok_r(tap, "\n", &save);
    size_t i = 0;
    for (; line; line = strtok_r(NULL, "\n", &save), i++) {
        assert_true(i < sizeof expect_lines / sizeof *expect_lines);
        assert_string_equal(line, expect_lines[i]);
    }
    assert_int_equal(i, sizeof expect_lines / sizeof *expect_lines);
    free(tap);
    px_report_free(&rep);
}

static void console_all(FILE *f, const px_report *rep)
{
    for (size_t i = 0; i < rep->n; i++)
        px_report_console_test(f, &rep->r[i], i + 1, rep->n, false);
    px_report_console_summary(f, rep, 1.75, false);
}

static void console_colour(FILE *f, const px_report *rep)
{
    px_report_console_test(f, &rep->r[0], 1, rep->n, true);
}

static void test_console(void **state)
{
    (void)state;
    px_report rep = {0};
    fill(&rep, "s");
    char *c = capture(console_all, &rep);
    assert_non_null(strstr(c, "[1/4] PASS  s: passes (0.25 s)\n[2/4] FAIL  s: fails <badly> & \"loudly\" (1.00 s)\n"
                              "      s.yaml:10: expect ttl: FAIL: ipv4.ttl: expected 63, got 64\n"
                              "      closest frame #1:\n        ipv4.ttl: expected 63, got 64\n"));
    assert_non_null(strstr(c, "      evidence: out/s-fails.pcapng\n"));
    assert_non_null(strstr(c, "[4/4] SKIP  s: skipped (0.00 s)\n      needs hardware\n"));
    assert_non_null(strstr(c, "4 tests: 1 passed, 1 failed, 1 errors, 1 skipped in 1.75 s\n"));
    assert_null(strchr(c, '\033')); /* no colours unless asked */
    free(c);
    c = capture(console_colour, &rep);
    assert_non_null(strstr(c, "\033[32mPASS \033[0m"));
    free(c);
    px_report_free(&rep);
}

/* A JUnit file that cannot be written whole (here: a file size limit, as a full
 * disk would) says why and leaves the previous report as it was: no 0-byte or
 * partial file, no temporary file left behind. */
static void test_junit_write_failure_keeps_previous(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/kept.xml", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("previous\n", f);
    fclose(f);
    px_report rep = {0};
    fill(&rep, "suite");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {.rlim_cur = 64, .rlim_max = 64};
        signal(SIGXFSZ, SIG_IGN); /* the write fails with EFBIG instead of killing */
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(10);
        px_buf err = PX_BUF_INIT;
        int rc = px_report_write_junit_file(&rep, path, &err);
        if (rc != PX_EIO)
            _exit(11);
        if (!strstr(px_buf_cstr(&err), "kept.xml") || !strstr(px_buf_cstr(&err), strerror(EFBIG)))
            _exit(12);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    int status;
    assert_string_equal(run(&status, "cat '%s'", path), "previous\n");
    assert_string_equal(run(&status, "ls '%s' | grep -c 'kept.xml'", tmpdir), "1\n");
    px_report_free(&rep);
}

static size_t occurrences(const char *text, const char *needle)
{
    size_t n = 0, k = strlen(needle);
    for (size_t i = 0; text[i]; i++)
        n += strncmp(text + i, needle, k) == 0;
    return n;
}

static const px_test_result *one_result;

static void console_one(FILE *f, const px_report *rep)
{
    (void)rep;
    px_report_console_test(f, one_result, 1, 1, false);
}

/* A failed expectation as the runner reports it: the one-line message (for JUnit
 * and TAP) and a report in the details headed by the same place. The console
 * prints the predicate and the explanation once, and no blank or
 * whitespace-only line before "at". A message the details do not head (here, a
 * failed exec) is still printed. */
static void test_console_failure_once(void **state)
{
    (void)state;
    px_test_result t = {
        .suite = "s",
        .name = "neg",
        .file = "s.yaml",
        .line = 4,
        .status = PX_T_FAIL,
        .message = "s.yaml:6: expect did_not_see_udp(dport=53): FAIL: expected no frame with UDP dport=53; frame #1 "
                   "matched: 60 bytes on p2: ...",
        .details = "s.yaml:6: expect did_not_see_udp(dport=53) on p2 within 300 ms: FAIL\n"
                   "  expected no frame with UDP dport=53; frame #1 matched: 60 bytes on p2: ...\n"
                   "  frames: 1 offered, 0 rejected by filter, 0 ignored as noise, 0 dropped by capture, 0 "
                   "truncated\n\n"
                   "s.yaml:7: expect timed_out() on p2 within 300 ms: FAIL\n"
                   "  expected no frame; frame #1 was: 60 bytes on p2: ...\n"
                   "  frames: 1 offered, 0 rejected by filter, 0 ignored as noise, 0 dropped by capture, 0 "
                   "truncated\n\n",
    };
    one_result = &t;
    char *c = capture(console_one, NULL);
    assert_int_equal(occurrences(c, "did_not_see_udp(dport=53)"), 1);
    assert_int_equal(occurrences(c, "expected no frame with UDP dport=53"), 1);
    assert_non_null(strstr(c, "        frames: 1 offered, 0 rejected by filter, 0 ignored as noise, 0 dropped by "
                              "capture, 0 truncated\n      s.yaml:7: expect timed_out()"));
    assert_non_null(strstr(c, "0 truncated\n      at s.yaml:4\n"));
    for (const char *line = c; *line; line = strchr(line, '\n') + 1) {
        size_t n = strcspn(line, "\n");
        if (strspn(line, " ") >= n)
            fail_msg("blank line in:\n%s", c);
    }
    free(c);

    t.message = "s.yaml:9: exec 'false' exited with 1, expected 0";
    t.details = "exec 'false' output:\n\n";
    c = capture(console_one, NULL);
    assert_non_null(strstr(c, "      s.yaml:9: exec 'false' exited with 1, expected 0\n      exec 'false' output:\n"
                              "      at s.yaml:4\n"));
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_junit_well_formed_and_complete),
        cmocka_unit_test(test_junit_merge_of_shards),
        cmocka_unit_test(test_tap_read_back),
        cmocka_unit_test(test_console),
        cmocka_unit_test(test_junit_write_failure_keeps_previous),
        cmocka_unit_test(test_console_failure_once),
    };
    return cmocka_run_group_tests(tests, make_tmp, rm_tmp);
}
