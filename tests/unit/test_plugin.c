/* Predicate plugins on the command line (`--plugin FILE.so`, runner/plugin.c,
 * docs/writing-predicates.md "Plugins"), run as the built `pktexpect` program
 * would be (a child process), without root. The plugins are the modules
 * CMake builds from tests/plugin/ (ethertype_range.c: saw_ethertype_in).
 *
 *   validate accepts a scenario using the plugin's name with --plugin, and
 *   without it says FILE:LINE:COL and hints at --plugin (exit 2)
 *                                                    test_validate
 *   run --list loads scenarios with the plugin's names test_run_list
 *   run runs them: the plugin's predicate decides a test, PASS and FAIL; so
 *   does watch (ports of the BMv2 stand-in switch of tests/bmv2_peer.h: no root)
 *                                                    test_run
 *   check evaluates the plugin's predicate against a capture: PASS, FAIL,
 *   and inside a built-in combinator               test_check
 *   errors, each exit 2 with its reason: missing file, not a shared object,
 *   no px_plugin_init, init failed, another ABI, a built-in's name, another
 *   plugin's name; in run, validate, watch and check  test_errors
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmv2_peer.h"
#include "pktexpect/plugin.h"
#include "pcap_stream.h"
#include "px_proc.h"

#define SAFETY_S 60.0

static char dir[256], scn[512], outf[512];
static char text[65536];

static int setup(void **state)
{
    (void)state;
    return px_proc_scratch(dir, scn, outf) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return px_proc_rmtree(dir);
}

/* $PX_BUILD_DIR/plugins/lib<name>.so (static buffer per call: copy it). */
static const char *plugin(const char *name)
{
    static char path[1024];
    const char *bd = getenv("PX_BUILD_DIR");
    snprintf(path, sizeof path, "%s/plugins/lib%s.so", bd && *bd ? bd : ".", name);
    return path;
}

static void write_file(const char *path, const char *body)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(body, f);
    fclose(f);
}

/* The child's output, into `text`. */
static const char *output(void)
{
    FILE *f = fopen(outf, "r");
    text[0] = '\0';
    if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    return text;
}

#define RUN(...) px_proc_run(SAFETY_S, outf, __VA_ARGS__)

static void expect_output(const char *want)
{
    if (!strstr(output(), want))
        fail_msg("expected '%s' in:\n%s", want, text);
}

static const char SCENARIO[] = "ports: { p: eth0 }\n"
                               "tests:\n"
                               "  - name: t\n"
                               "    steps:\n"
                               "      - expect: { port: p, predicate: 'saw_ethertype_in(0x88b0, 0x88bf)' }\n";

static void test_validate(void **state)
{
    (void)state;
    char p[1024];
    snprintf(p, sizeof p, "%s", plugin("px_test_plugin"));
    write_file(scn, SCENARIO);
    assert_int_equal(RUN("validate", "--plugin", p, scn), 0);
    expect_output("ok (1 test)");
    /* Without the plugin: where, what, and what to do. */
    assert_int_equal(RUN("validate", scn), 2);
    char where[600];
    snprintf(where, sizeof where, "%s:5:", scn);
    expect_output(where);
    expect_output("unknown predicate 'saw_ethertype_in'");
    expect_output("--plugin");
    /* The plugin's parameters are checked like a built-in's, its factory's
     * refusals reported like one's. */
    write_file(scn, "ports: { p: eth0 }\ntests:\n  - name: t\n    steps:\n"
                    "      - expect: { port: p, predicate: 'saw_ethertype_in(0x88bf, 0x88b0)' }\n");
    assert_int_equal(RUN("validate", "--plugin", p, scn), 2);
    expect_output("lo (0x88bf) is above hi (0x88b0)");
    write_file(scn, "ports: { p: eth0 }\ntests:\n  - name: t\n    steps:\n"
                    "      - expect: { port: p, predicate: 'saw_ethertype_in(0x88b0)' }\n");
    assert_int_equal(RUN("validate", "--plugin", p, scn), 2);
    expect_output("hi");
}

static void test_run_list(void **state)
{
    (void)state;
    char p[1024];
    snprintf(p, sizeof p, "%s", plugin("px_test_plugin"));
    write_file(scn, SCENARIO);
    assert_int_equal(RUN("run", "--list", "--plugin", p, scn), 0);
    expect_output("s/t");
    assert_int_equal(RUN("run", "--list", scn), 2);
    expect_output("unknown predicate 'saw_ethertype_in'");
}

static void test_run(void **state)
{
    (void)state;
    char p[1024], addr[400], yaml[2048];
    snprintf(p, sizeof p, "%s", plugin("px_test_plugin"));
    snprintf(addr, sizeof addr, "ipc://%s/sw.ipc", dir);
    bmv2_peer peer;
    assert_int_equal(bmv2_peer_start(&peer, addr), 0);
    /* The switch forwards port 0 to port 1. */
    snprintf(yaml, sizeof yaml,
             "ports:\n  in: 'bmv2:%s:0'\n  out: 'bmv2:%s:1'\n"
             "tests:\n"
             "  - name: in range\n    steps:\n"
             "      - expect: { port: out, predicate: 'saw_ethertype_in(0x88b0, 0x88bf)', timeout: 10s }\n"
             "      - send: { port: in, frame: 'Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01, type=0x88b5)/Raw(\"hi\")' }\n"
             "  - name: out of range\n    steps:\n"
             "      - expect: { port: out, predicate: 'saw_ethertype_in(0x0800, 0x0800)', timeout: 300ms }\n"
             "      - send: { port: in, frame: 'Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01, type=0x88b5)/Raw(\"hi\")' }\n",
             addr, addr);
    write_file(scn, yaml);
    int rc = RUN("run", "--plugin", p, scn);
    output();
    if (rc != 1 || !strstr(text, "PASS") || !strstr(text, "no frame with an ethertype in 0x0800..0x0800"))
        fail_msg("exit %d:\n%s", rc, text);
    char *pass = strstr(text, "in range"), *fail = strstr(text, "out of range");
    assert_non_null(pass);
    assert_non_null(fail);
    /* watch: the plugin's predicate decides at the end of the window. */
    char port[500];
    snprintf(port, sizeof port, "bmv2:%s:2", addr);
    rc = RUN("watch", "-i", port, "-t", "300ms", "--plugin", p, "saw_ethertype_in(0x0800, 0x0800)");
    bmv2_peer_stop(&peer);
    output();
    if (rc != 1 || !strstr(text, "no frame with an ethertype in 0x0800..0x0800"))
        fail_msg("watch: exit %d:\n%s", rc, text);
}

/* A capture of three frames: IPv4, 0x88b5, IPv4. */
static void write_capture(const char *path)
{
    static const uint16_t types[] = {0x0800, 0x88b5, 0x0800};
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    for (size_t i = 0; i < 3; i++) {
        uint8_t f[60];
        eth60(f, types[i]);
        struct pcap_pkthdr h = {.caplen = 60, .len = 60};
        h.ts.tv_sec = 1700000000;
        h.ts.tv_usec = (suseconds_t)(i * 1000);
        pcap_dump((u_char *)d, &h, f);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static void test_check(void **state)
{
    (void)state;
    char p[1024], cap[600];
    snprintf(p, sizeof p, "%s", plugin("px_test_plugin"));
    snprintf(cap, sizeof cap, "%s/c.pcap", dir);
    write_capture(cap);
    assert_int_equal(RUN("check", "--plugin", p, "--pcap", cap, "saw_ethertype_in(0x88b0, 0x88bf)"), 0);
    expect_output("1 of 1 predicates passed");
    assert_int_equal(RUN("check", "--plugin", p, "--pcap", cap, "saw_ethertype_in(0x86dd, 0x86dd)"), 1);
    expect_output("no frame with an ethertype in 0x86dd..0x86dd");
    expect_output("0 of 1 predicates passed");
    /* With the built-ins, in their combinators. */
    assert_int_equal(RUN("check", "--plugin", p, "--pcap", cap,
                         "all_of(saw_ethertype_in(0x88b0, 0x88bf), saw_ethertype(0x0800))",
                         "not(saw_ethertype_in(0x86dd, 0x86dd))"),
                     0);
    expect_output("2 of 2 predicates passed");
    /* Without the plugin the name is unknown: 2, with the hint. */
    assert_int_equal(RUN("check", "--pcap", cap, "saw_ethertype_in(0x88b0, 0x88bf)"), 2);
    expect_output("unknown predicate 'saw_ethertype_in'");
    expect_output("--plugin");
}

static void test_errors(void **state)
{
    (void)state;
    char p[1024], missing[600], notso[600], copy[600], cap[600], cmd[2200];
    snprintf(p, sizeof p, "%s", plugin("px_test_plugin"));
    snprintf(missing, sizeof missing, "%s/none.so", dir);
    snprintf(notso, sizeof notso, "%s/text.so", dir);
    snprintf(copy, sizeof copy, "%s/copy.so", dir);
    snprintf(cap, sizeof cap, "%s/c.pcap", dir);
    write_file(notso, "not a shared object\n");
    write_file(scn, SCENARIO);
    write_capture(cap);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", p, copy);
    assert_int_equal(system(cmd), 0);

    assert_int_equal(RUN("validate", "--plugin", missing, scn), 2);
    expect_output("pktexpect validate: plugin '");
    expect_output("none.so': No such file or directory");
    assert_int_equal(RUN("validate", "--plugin", notso, scn), 2);
    expect_output("text.so': cannot load it as a shared object: ");
    expect_output("text.so: "); /* dlerror's text names the file */
    assert_int_equal(RUN("validate", "--plugin", plugin("px_test_plugin_noinit"), scn), 2);
    expect_output("no function px_plugin_init");
    assert_int_equal(RUN("validate", "--plugin", plugin("px_test_plugin_fail"), scn), 2);
    expect_output("px_plugin_init failed: the test plugin refuses to load");
    assert_int_equal(RUN("validate", "--plugin", plugin("px_test_plugin_abi"), scn), 2);
    char abi_msg[128];
    snprintf(abi_msg, sizeof abi_msg, "built for plugin ABI %u, this pktexpect loads ABI %u: rebuild it", PX_PLUGIN_ABI + 1000u,
             PX_PLUGIN_ABI);
    expect_output(abi_msg);
    assert_int_equal(RUN("validate", "--plugin", plugin("px_test_plugin_clash"), scn), 2);
    expect_output("predicate 'saw_udp' clashes with the built-in predicate of that name");
    assert_int_equal(RUN("validate", "--plugin", p, "--plugin", copy, scn), 2);
    char want[1200];
    snprintf(want, sizeof want, "copy.so': predicate 'saw_ethertype_in' clashes with the predicate of plugin '%s'", p);
    expect_output(want);
    /* Every command that parses predicates loads them the same way. */
    assert_int_equal(RUN("run", "--plugin", plugin("px_test_plugin_fail"), scn), 2);
    expect_output("pktexpect run: plugin '");
    assert_int_equal(RUN("check", "--plugin", missing, "--pcap", cap, "received_packet()"), 2);
    expect_output("pktexpect check: plugin '");
    assert_int_equal(RUN("watch", "-i", "lo", "--plugin", plugin("px_test_plugin_abi"), "received_packet()"), 2);
    expect_output("pktexpect watch: plugin '");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
