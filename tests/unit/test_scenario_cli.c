/* Unit tests of the command line that need no privileges: --help everywhere,
 * validate, run --list with --filter and --shard, bad options (exit 2). The CLI
 * runs in-process; its stdout/stderr are captured through temporary files. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "px_cli.h"

static void test_help_everywhere(void **state)
{
    (void)state;
    assert_int_equal(cli("--help", NULL), 0);
    assert_non_null(strstr(out_text, "usage: pktexpect COMMAND"));
    const char *cmds[] = {"run", "validate", "watch", "junit-merge", "send", "replay"};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(cli(cmds[i], "--help", NULL), 0);
        char want[64];
        snprintf(want, sizeof want, "usage: pktexpect %s", cmds[i]);
        assert_non_null(strstr(out_text, want));
    }
    assert_int_equal(cli(NULL), 2);
    assert_int_equal(cli("frobnicate", NULL), 2);
    assert_non_null(strstr(err_text, "unknown command 'frobnicate'"));
}

static void test_validate(void **state)
{
    (void)state;
    assert_int_equal(cli("validate", path("examples/demo.yaml"), NULL), 0);
    assert_non_null(strstr(out_text, "demo.yaml: ok (3 tests)"));
    assert_int_equal(cli("validate", path("examples/demo.yaml"), path("tests/data/scenarios/bad/unknown_port.yaml"),
                         NULL),
                     2);
    assert_non_null(strstr(err_text, "unknown_port.yaml:6:33: unknown port 'pxr-c' (known ports: pxr-a, pxr-b; an "
                                     "existing interface must be declared under 'ports:')\n"));
    assert_non_null(strstr(out_text, "demo.yaml: ok"));
    /* --var fills a variable the file lacks. */
    assert_int_equal(cli("validate", path("tests/data/scenarios/net/failing.yaml"), NULL), 2);
    assert_non_null(strstr(err_text, "unknown variable '${ns}'"));
    assert_int_equal(cli("validate", "--var", "ns=n", "--var", "a=x", "--var", "b=y",
                         path("tests/data/scenarios/net/failing.yaml"), NULL),
                     0);
    assert_int_equal(cli("validate", "--var", "novalue", path("examples/demo.yaml"), NULL), 2);
    assert_int_equal(cli("validate", NULL), 2);
}

/* The P4 router example is checked where BMv2 is missing (CI): validate neither
 * runs the setup nor reads the program, so a path that does not exist is fine. */
static void test_validate_p4_router_example(void **state)
{
    (void)state;
    assert_int_equal(cli("validate", "--var", "json=/nonexistent/simple_router.json", path("examples/p4/router.yaml"),
                         NULL),
                     0);
    assert_non_null(strstr(out_text, "router.yaml: ok (6 tests)"));
    assert_int_equal(cli("validate", path("examples/p4/router.yaml"), NULL), 0);
    /* its twin over BMv2's nanomsg packet interface: bmv2: ports, no veth */
    assert_int_equal(cli("validate", "--var", "json=/nonexistent/simple_router.json",
                         path("examples/p4/router_nanomsg.yaml"), NULL),
                     0);
    assert_non_null(strstr(out_text, "router_nanomsg.yaml: ok (4 tests)"));
}

/* Writes `text` to a new scenario file in a fresh temporary directory; returns
 * its path (static buffer). */
static const char *scenario_file(const char *text)
{
    static char dir[64], file[96];
    snprintf(dir, sizeof dir, "/tmp/pxr-cli-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/s.yaml", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return file;
}

static void remove_scenario_file(const char *file)
{
    unlink(file);
    char dir[96];
    snprintf(dir, sizeof dir, "%s", file);
    *strrchr(dir, '/') = '\0';
    char other[128];
    snprintf(other, sizeof other, "%s/j.xml", dir);
    unlink(other);
    rmdir(dir);
}

/* After a FAIL the remaining steps run (only an ERROR stops them, as
 * docs/scenarios.md says); the steps an ERROR left out are listed in the JUnit
 * system-out. Needs no port: exec steps only. */
static void test_steps_after_fail_and_error(void **state)
{
    (void)state;
    const char *file = scenario_file("tests:\n"
                                     "  - name: fail goes on\n"
                                     "    steps:\n"
                                     "      - exec: \"false\"\n"
                                     "      - exec: \"echo ran-after-fail\"\n"
                                     "  - name: error stops\n"
                                     "    steps:\n"
                                     "      - exec: { run: \"sleep 5\", timeout: 100ms }\n"
                                     "      - exec: \"echo ran-after-error\"\n"
                                     "      - wait: all\n");
    char junit[128];
    snprintf(junit, sizeof junit, "%.*s/j.xml", (int)(strrchr(file, '/') - file), file);
    int rc = cli("run", "--no-color", "--junit", junit, file, NULL);
    char xml[8192] = "";
    FILE *f = fopen(junit, "r");
    assert_non_null(f);
    size_t n = fread(xml, 1, sizeof xml - 1, f);
    xml[n] = '\0';
    fclose(f);
    remove_scenario_file(file);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out_text, "[1/2] FAIL"));
    assert_non_null(strstr(out_text, "[2/2] ERROR"));
    if (!strstr(xml, "exec echo ran-after-fail: exit 0\nran-after-fail\n"))
        fail_msg("the step after the FAIL did not run:\n%s", xml);
    assert_null(strstr(xml, "ran-after-error"));
    if (!strstr(xml, "skipped exec step at ") || !strstr(xml, "s.yaml:9 (not run after the ERROR)\n") ||
        !strstr(xml, "skipped wait step at ") || !strstr(xml, "s.yaml:10 (not run after the ERROR)\n"))
        fail_msg("skipped steps not listed:\n%s", xml);
}

/* An interface that exists (the loopback always does) but that the scenario does
 * not declare: the message says how to declare it. An unknown predicate lists
 * every valid name whole (not cut at the error buffer's end), wrapped. */
static void test_validate_hints(void **state)
{
    (void)state;
    const char *file = scenario_file("tests:\n"
                                     "  - name: t\n"
                                     "    steps:\n"
                                     "      - expect: { port: lo, predicate: \"timed_out()\" }\n"
                                     "      - expect: { port: lo, predicate: \"saw_nothing(1)\" }\n");
    assert_int_equal(cli("validate", file, NULL), 2);
    remove_scenario_file(file);
    assert_non_null(strstr(err_text, ":4:25: unknown port 'lo' (known ports: none): interface 'lo' exists but the "
                                     "scenario does not declare it; add it under 'ports:', e.g. ports: { lo: lo }\n"));
    const char *v = strstr(err_text, "unknown predicate 'saw_nothing'; valid names:\n  all_of, any_of,");
    assert_non_null(v);
    /* whole names to the last one, no line over 80 columns */
    assert_non_null(strstr(v, "\n  saw_X and did_not_see_X for X in: "));
    assert_non_null(strstr(v, "udp, vlan_tag, vxlan\n"));
    assert_non_null(strstr(v, "packet_count_was_less_than,"));
    for (const char *l = v; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] ? 1 : 0))
        assert_true(strcspn(l, "\n") <= 80);
}

static void test_list_filter_shard(void **state)
{
    (void)state;
    const char *demo = path("examples/demo.yaml"), *good = path("tests/data/scenarios/good/veth_pair.yaml");
    assert_int_equal(cli("run", "--list", demo, good, NULL), 0);
    assert_string_equal(out_text, "demo/broadcast is flooded to every other port\n"
                                  "demo/learned unicast goes only to the learned port\n"
                                  "demo/a frame never comes back to its ingress port\n"
                                  "veth-pair/frame crosses from a to b\n"
                                  "veth-pair/own test\n"
                                  "veth-pair/skipped\n");
    assert_int_equal(cli("run", "--list", "--filter", "*learn*", demo, good, NULL), 0);
    assert_string_equal(out_text, "demo/learned unicast goes only to the learned port\n");
    assert_int_equal(cli("run", "--list", "-f", "veth-pair/*", demo, good, NULL), 0);
    assert_string_equal(out_text, "veth-pair/frame crosses from a to b\nveth-pair/own test\nveth-pair/skipped\n");
    /* Shards partition the selection: every test in exactly one shard. */
    char all[4096] = "";
    for (int k = 1; k <= 4; k++) {
        char sh[8];
        snprintf(sh, sizeof sh, "%d/4", k);
        assert_int_equal(cli("run", "--list", "--shard", sh, demo, good, NULL), 0);
        strncat(all, out_text, sizeof all - strlen(all) - 1);
    }
    assert_int_equal(strlen(all), strlen("demo/broadcast is flooded to every other port\n"
                                         "demo/learned unicast goes only to the learned port\n"
                                         "demo/a frame never comes back to its ingress port\n"
                                         "veth-pair/frame crosses from a to b\n"
                                         "veth-pair/own test\n"
                                         "veth-pair/skipped\n"));
    assert_int_equal(cli("run", "--list", "--shard", "2/4", demo, good, NULL), 0);
    assert_string_equal(out_text, "demo/learned unicast goes only to the learned port\nveth-pair/skipped\n");
}

static void test_bad_options(void **state)
{
    (void)state;
    const char *demo = path("examples/demo.yaml");
    assert_int_equal(cli("run", "--shard", "0/2", demo, NULL), 2);
    assert_non_null(strstr(err_text, "--shard '0/2': expected K/N with 1 <= K <= N"));
    assert_int_equal(cli("run", "--shard", "3/2", demo, NULL), 2);
    assert_int_equal(cli("run", "--timeout-scale", "-1", demo, NULL), 2);
    assert_int_equal(cli("run", "--deadline", "soon", demo, NULL), 2);
    assert_int_equal(cli("run", "--bogus", demo, NULL), 2);
    assert_int_equal(cli("run", NULL), 2);
    assert_int_equal(cli("run", demo, demo, NULL), 2); /* two scenarios named demo */
    assert_non_null(strstr(err_text, "two scenarios are named 'demo'"));
    assert_int_equal(cli("watch", "received_packet()", NULL), 2);
    assert_non_null(strstr(err_text, "-i PORT is required"));
    assert_int_equal(cli("watch", "-i", "lo", "saw_vlan_tag(", NULL), 2);
    assert_non_null(strstr(err_text, "invalid predicate"));
    assert_int_equal(cli("watch", "-i", "lo", "-t", "never", "received_packet()", NULL), 2);
    assert_int_equal(cli("junit-merge", "only-one-arg", NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_everywhere),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_validate_p4_router_example),
        cmocka_unit_test(test_validate_hints),
        cmocka_unit_test(test_steps_after_fail_and_error),
        cmocka_unit_test(test_list_filter_shard),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
