/* `pktexpect run` report and evidence plumbing that needs no privileges: the
 * scenarios here use only `exec` steps (no ports, no topology), so the CLI runs
 * them as any user. Each run is a forked child (its own stdout, e.g. /dev/full).
 *   TAP or console report to a full device: exit 3 with the reason  test_report_stream_errors
 *   --pcap-dir created by the run and left empty is removed         test_pcap_dir_removed_when_empty
 *   JUnit that cannot be written: the reason, no partial file        test_junit_write_errors */
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "px_proc.h"

static char tmpdir[256], scn_pass[300], scn_fail[300];
static char err_text[8192];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int make_tmp(void **state)
{
    (void)state;
    if (!px_proc_tmpdir(tmpdir))
        return -1;
    snprintf(scn_pass, sizeof scn_pass, "%s/quiet.yaml", tmpdir);
    snprintf(scn_fail, sizeof scn_fail, "%s/loud.yaml", tmpdir);
    write_file(scn_pass, "name: quiet\ntests:\n  - name: runs true\n    steps:\n      - exec: \"true\"\n");
    write_file(scn_fail, "name: loud\ntests:\n  - name: runs false\n    steps:\n      - exec: \"false\"\n");
    return 0;
}

static int rm_tmp(void **state)
{
    (void)state;
    return px_proc_rmtree(tmpdir);
}

/* Runs `pktexpect ARGS...` (NULL-terminated) in a child whose stdout is
 * `out_path` (opened for writing) and stderr a file read back into err_text. */
static int cli(const char *out_path, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"pktexpect";
    va_list ap;
    va_start(ap, out_path);
    for (const char *a = va_arg(ap, const char *); a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    char errp[320];
    snprintf(errp, sizeof errp, "%s/stderr.txt", tmpdir);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        alarm(60); /* safety net: a hang fails the test instead of blocking ctest */
        int rc = px_cli_main(argc, argv, NULL);
        fflush(NULL);
        _exit(rc);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    FILE *f = fopen(errp, "r");
    size_t n = f ? fread(err_text, 1, sizeof err_text - 1, f) : 0;
    err_text[n] = '\0';
    if (f)
        fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_report_stream_errors(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    char out[320];
    snprintf(out, sizeof out, "%s/out.txt", tmpdir);
    /* The same runs on a working stdout pass. */
    assert_int_equal(cli(out, "run", "--tap", scn_pass, NULL), 0);
    assert_int_equal(cli(out, "run", scn_pass, NULL), 0);

    assert_int_equal(cli("/dev/full", "run", "--tap", scn_pass, NULL), 3);
    assert_non_null(strstr(err_text, "cannot write the TAP report: "));
    assert_non_null(strstr(err_text, strerror(ENOSPC)));
    assert_int_equal(cli("/dev/full", "run", scn_pass, NULL), 3);
    assert_non_null(strstr(err_text, "cannot write the console report: "));
    /* A failed test keeps its exit code 1; the write error is still said. */
    assert_int_equal(cli("/dev/full", "run", "--tap", scn_fail, NULL), 1);
    assert_non_null(strstr(err_text, strerror(ENOSPC)));
}

static void test_pcap_dir_removed_when_empty(void **state)
{
    (void)state;
    char out[320], dir[320];
    snprintf(out, sizeof out, "%s/out.txt", tmpdir);
    snprintf(dir, sizeof dir, "%s/evidence", tmpdir);
    assert_int_equal(cli(out, "run", "--pcap-dir", dir, scn_pass, NULL), 0);
    assert_int_equal(access(dir, F_OK), -1);
    assert_int_equal(cli(out, "run", "--pcap-dir", dir, scn_fail, NULL), 1);
    assert_int_equal(access(dir, F_OK), -1); /* no ports: nothing recorded, nothing kept */
    /* A directory that was there before is the user's: it stays. */
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(cli(out, "run", "--pcap-dir", dir, scn_pass, NULL), 0);
    assert_int_equal(access(dir, F_OK), 0);
    assert_int_equal(rmdir(dir), 0);
    /* One that cannot be created: exit 3 with the reason. */
    snprintf(dir, sizeof dir, "%s/no/such/evidence", tmpdir);
    assert_int_equal(cli(out, "run", "--pcap-dir", dir, scn_pass, NULL), 3);
    assert_non_null(strstr(err_text, strerror(ENOENT)));
}

static void test_junit_write_errors(void **state)
{
    (void)state;
    char out[320], junit[320], link[320], victim[320];
    snprintf(out, sizeof out, "%s/out.txt", tmpdir);
    snprintf(junit, sizeof junit, "%s/no/such/dir/r.xml", tmpdir);
    assert_int_equal(cli(out, "run", "--junit", junit, scn_pass, NULL), 3);
    assert_non_null(strstr(err_text, "r.xml"));
    assert_non_null(strstr(err_text, strerror(ENOENT)));

    if (access("/dev/full", W_OK) == 0) {
        assert_int_equal(cli(out, "run", "--junit", "/dev/full", scn_pass, NULL), 3);
        assert_non_null(strstr(err_text, strerror(ENOSPC)));
    }

    /* A link planted at the report's name is refused, its target untouched. */
    snprintf(link, sizeof link, "%s/link.xml", tmpdir);
    snprintf(victim, sizeof victim, "%s/victim.txt", tmpdir);
    write_file(victim, "precious\n");
    assert_int_equal(symlink(victim, link), 0);
    assert_int_equal(cli(out, "run", "--junit", link, scn_pass, NULL), 3);
    assert_non_null(strstr(err_text, "symbolic link"));
    struct stat st;
    assert_int_equal(stat(victim, &st), 0);
    assert_int_equal(st.st_size, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_stream_errors),
        cmocka_unit_test(test_pcap_dir_removed_when_empty),
        cmocka_unit_test(test_junit_write_errors),
    };
    return cmocka_run_group_tests(tests, make_tmp, rm_tmp);
}
