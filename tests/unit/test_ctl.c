/* Control-plane batches (pktexpect/command.h, px_ctl_run) and the scenario's
 * `cli` step, with a shell script standing in for a target's CLI (no privileges):
 *   a CLI that prints "Error: ..." and exits 0 fails, the line shown  test_ctl_error_line_fails
 *   a clean batch passes, the batch arrives on stdin as given        test_ctl_clean_batch
 *   a non-zero exit fails; own patterns replace the defaults         test_ctl_exit_and_patterns
 *   a CLI that times out: ERROR with its output                      test_ctl_timeout_shows_output
 *   the `cli` step of a scenario: FAIL with the line and the output,
 *   PASS on a clean batch, input_file relative to the scenario,
 *   ERROR when it cannot be read                                     test_cli_step
 *   a setup command that times out shows its output                  test_setup_timeout_shows_output
 *   px_cmd_runv: arguments reach the program as given, no shell;
 *   its status and output; a missing program is 127 and says so      test_cmd_runv
 *   px_cmd_wait_ok: succeeds once the command does; says how the
 *   last try ended when it never does                                test_cmd_wait_ok */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pktexpect/command.h"
#include "run.h"

static char tmpdir[256], cli_sh[300], got_path[300];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *b = calloc(1, 1 << 20);
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

static int make_tmp(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/pxr-ctl-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(cli_sh, sizeof cli_sh, "%s/cli.sh", tmpdir);
    snprintf(got_path, sizeof got_path, "%s/got.txt", tmpdir);
    /* A stand-in for simple_switch_CLI: records its stdin, answers each line,
     * rejects the lines that name table "nosuch", and exits 0 whatever happened. */
    char script[1024];
    snprintf(script, sizeof script,
             "#!/bin/sh\n"
             ": > '%s'\n"
             "while IFS= read -r line; do\n"
             "  printf '%%s\\n' \"$line\" >> '%s'\n"
             "  case \"$line\" in\n"
             "    *nosuch*) echo 'RuntimeCmd: Error: Invalid table name' ;;\n"
             "    *) echo \"RuntimeCmd: Adding entry: $line\" ;;\n"
             "  esac\n"
             "done\n"
             "exit 0\n",
             got_path, got_path);
    write_file(cli_sh, script);
    return chmod(cli_sh, 0755);
}

static int rm_tmp(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static px_cmd_opts batch(const char *text)
{
    return (px_cmd_opts){.input = text, .input_len = strlen(text), .timeout_ms = 20000, .cancel_fd = -1};
}

static void test_ctl_error_line_fails(void **state)
{
    (void)state;
    px_buf out = PX_BUF_INIT;
    px_ctl_result res;
    char eb[PX_ERRBUF_SIZE] = "";
    px_cmd_opts o = batch("table_add ok_t a 1 =>\ntable_add nosuch a 2 =>\ntable_add ok_t a 3 =>\n");
    assert_int_equal(px_ctl_run(cli_sh, &o, NULL, 0, &out, &res, eb), 1);
    assert_int_equal(res.status, 0); /* it exited 0 ... */
    assert_int_equal(res.error_lineno, 2); /* ... but said so on its second line */
    assert_string_equal(res.error_line, "RuntimeCmd: Error: Invalid table name");
    assert_non_null(strstr(eb, "Error: Invalid table name"));
    assert_non_null(strstr(px_buf_cstr(&out), "Adding entry: table_add ok_t a 3 =>"));
    px_buf_free(&out);
}

static void test_ctl_clean_batch(void **state)
{
    (void)state;
    px_buf out = PX_BUF_INIT;
    px_ctl_result res;
    char eb[PX_ERRBUF_SIZE] = "";
    /* Larger than a socket buffer, so the input is fed while the output is read. */
    px_buf in = PX_BUF_INIT;
    for (int i = 0; i < 4000; i++)
        px_buf_printf(&in, "table_add t_%d a %d => %d\n", i, i, i);
    px_cmd_opts o = batch(px_buf_cstr(&in));
    assert_int_equal(px_ctl_run(cli_sh, &o, NULL, 0, &out, &res, eb), 0);
    assert_int_equal(res.error_lineno, 0);
    char *got = slurp(got_path);
    assert_non_null(got);
    assert_string_equal(got, px_buf_cstr(&in));
    free(got);
    px_buf_free(&in);
    px_buf_free(&out);
}

static void test_ctl_exit_and_patterns(void **state)
{
    (void)state;
    px_buf out = PX_BUF_INIT;
    px_ctl_result res;
    char eb[PX_ERRBUF_SIZE] = "";
    px_cmd_opts o = batch("x\n");
    assert_int_equal(px_ctl_run("cat >/dev/null; echo fine; exit 3", &o, NULL, 0, &out, &res, eb), 1);
    assert_int_equal(res.status, 3);
    assert_non_null(strstr(eb, "exited with 3"));
    /* Own patterns: "Error:" is no longer one, "^FAILED" is. */
    const char *mine[] = {"^FAILED"};
    px_buf_clear(&out);
    assert_int_equal(px_ctl_run("echo 'Error: harmless'", &o, mine, 1, &out, &res, eb), 0);
    assert_int_equal(px_ctl_run("echo ok; echo 'FAILED: x'", &o, mine, 1, &out, &res, eb), 1);
    assert_int_equal(res.error_lineno, 2);
    const char *bad[] = {"("};
    assert_int_equal(px_ctl_run("true", &o, bad, 1, &out, &res, eb), PX_EPARSE);
    px_buf_free(&out);
}

static void test_ctl_timeout_shows_output(void **state)
{
    (void)state;
    px_buf out = PX_BUF_INIT;
    px_ctl_result res;
    char eb[PX_ERRBUF_SIZE] = "";
    px_cmd_opts o = batch("table_add a\n");
    o.timeout_ms = 1500; /* long enough for the shell's first line on a loaded machine */
    assert_int_equal(px_ctl_run("echo connecting to 9090; sleep 30", &o, NULL, 0, &out, &res, eb), PX_ETIMEDOUT);
    assert_non_null(strstr(px_buf_cstr(&out), "connecting to 9090"));
    assert_non_null(strstr(eb, "timed out"));
    px_buf_free(&out);
}

/* Runs scenario text `yaml` (written as tmpdir/NAME) with px_run; the report and
 * what the run printed come back. */
static int run_scenario(const char *name, const char *yaml, px_report *rep, char **printed)
{
    char path[320];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    write_file(path, yaml);
    px_scenario *s = NULL;
    px_buf errs = PX_BUF_INIT;
    int rc = px_scenario_load(path, px_run_checkers(), NULL, 0, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    px_buf_free(&errs);
    size_t len = 0;
    FILE *mem = open_memstream(printed, &len);
    assert_non_null(mem);
    px_run_opts o = {.timeout_scale = 1, .out = mem, .err = mem};
    rc = px_run(&s, 1, &o, rep);
    fclose(mem);
    px_scenario_free(s);
    return rc;
}

static void test_cli_step(void **state)
{
    (void)state;
    char path[320], yaml[2048];
    snprintf(path, sizeof path, "%s/tables.txt", tmpdir);
    write_file(path, "table_add ipv4_lpm set_nhop 10.0.0.0/24 => 1\ntable_add nosuch drop 1 =>\n");
    snprintf(yaml, sizeof yaml,
             "name: ctl\n"
             "tests:\n"
             "  - name: clean\n"
             "    steps:\n"
             "      - cli: { run: \"'%s'\", input: \"table_add ipv4_lpm set_nhop 10.0.0.0/24 => 1\\n\" }\n"
             "  - name: rejected\n"
             "    steps:\n"
             "      - cli: { run: \"'%s'\", input_file: tables.txt, timeout: 20s }\n"
             "  - name: no batch\n"
             "    steps:\n"
             "      - cli: { run: \"'%s'\", input_file: nosuch.txt }\n",
             cli_sh, cli_sh, cli_sh);
    px_report rep = {0};
    char *printed = NULL;
    assert_int_equal(run_scenario("ctl.yaml", yaml, &rep, &printed), PX_EXIT_FAIL);
    assert_int_equal(rep.n, 3);
    assert_int_equal(rep.r[0].status, PX_T_PASS);
    assert_int_equal(rep.r[2].status, PX_T_ERROR); /* a batch that cannot be read: not run */
    assert_non_null(strstr(rep.r[2].message, "nosuch.txt: No such file or directory"));
    assert_int_equal(rep.r[1].status, PX_T_FAIL);
    assert_non_null(strstr(rep.r[1].message, "Error: Invalid table name"));
    assert_non_null(strstr(rep.r[1].details, "Adding entry: table_add ipv4_lpm")); /* the output, shown */
    assert_non_null(strstr(printed, "RuntimeCmd: Error: Invalid table name"));
    free(printed);
    px_report_free(&rep);
}

static void test_setup_timeout_shows_output(void **state)
{
    (void)state;
    px_report rep = {0};
    char *printed = NULL;
    int rc = run_scenario("slow.yaml",
                          "name: slow\n"
                          "topology:\n"
                          "  setup:\n"
                          "    - { run: \"echo waiting for the switch; sleep 30\", timeout: 1500ms }\n"
                          "tests:\n"
                          "  - name: never\n"
                          "    steps:\n"
                          "      - exec: \"true\"\n",
                          &rep, &printed);
    assert_int_equal(rc, PX_EXIT_ENV);
    assert_non_null(strstr(printed, "timed out"));
    assert_non_null(strstr(printed, "waiting for the switch"));
    free(printed);
    px_report_free(&rep);
}

static void test_cmd_runv(void **state)
{
    (void)state;
    /* Spaces, quotes and $ reach the program as they are: no shell reads them. */
    char *argv[] = {"printf", "%s|%s\\n", "a b", "'$HOME;", NULL};
    px_buf out = PX_BUF_INIT;
    assert_int_equal(px_cmd_runv(argv, NULL, &out), 0);
    assert_string_equal(px_buf_cstr(&out), "a b|'$HOME;\n");
    px_buf_free(&out);

    char *fails[] = {"sh", "-c", "echo to stderr >&2; exit 3", NULL};
    assert_int_equal(px_cmd_runv(fails, NULL, &out), 3);
    assert_string_equal(px_buf_cstr(&out), "to stderr\n");
    px_buf_free(&out);

    char *missing[] = {"pktexpect-no-such-program", NULL};
    assert_int_equal(px_cmd_runv(missing, NULL, &out), 127);
    assert_non_null(strstr(px_buf_cstr(&out), "cannot run pktexpect-no-such-program"));
    px_buf_free(&out);

    char *empty[] = {NULL};
    assert_int_equal(px_cmd_runv(empty, NULL, &out), PX_EINVAL);
    px_buf_free(&out);
}

static void test_cmd_wait_ok(void **state)
{
    (void)state;
    /* Ready on the third try: a counter file the command bumps. */
    char count[300], cmd[700];
    snprintf(count, sizeof count, "%s/tries", tmpdir);
    snprintf(cmd, sizeof cmd, "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s'; test $n -ge 3",
             count, count);
    char err[PX_ERRBUF_SIZE] = "x";
    assert_int_equal(px_cmd_wait_ok(cmd, NULL, 30000, err), 0);
    assert_string_equal(err, "");
    char *n = slurp(count);
    assert_non_null(n);
    assert_string_equal(n, "3\n");
    free(n);

    /* Never ready: a timeout that says what the last try printed. */
    assert_int_equal(px_cmd_wait_ok("echo not yet; exit 2", NULL, 1500, err), PX_ETIMEDOUT);
    assert_non_null(strstr(err, "'echo not yet; exit 2' did not succeed within 1500 ms"));
    assert_non_null(strstr(err, "the last try to end exited 2, its output: not yet"));

    /* Cancelled by the caller's flag. */
    volatile sig_atomic_t stop = 1;
    px_cmd_opts o = {.stop = &stop, .cancel_fd = -1};
    assert_int_equal(px_cmd_wait_ok("exit 1", &o, 30000, err), PX_ECANCELED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctl_error_line_fails),     cmocka_unit_test(test_ctl_clean_batch),
        cmocka_unit_test(test_ctl_exit_and_patterns),    cmocka_unit_test(test_ctl_timeout_shows_output),
        cmocka_unit_test(test_cli_step),                 cmocka_unit_test(test_setup_timeout_shows_output),
        cmocka_unit_test(test_cmd_runv),                 cmocka_unit_test(test_cmd_wait_ok),
    };
    return cmocka_run_group_tests(tests, make_tmp, rm_tmp);
}
