/* Unit tests of the scenario loader: the corpus of broken files (each with its
 * exact expected messages in a sibling .err file), the good files, variables,
 * includes, positions, limits. No privileges: nothing touches the network. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pktexpect/context.h"
#include "run.h"
#include "run_internal.h"
#include "scenario.h"

/* Works from the scenario directory so that messages carry short relative paths. */
static void go_to_data_dir(void)
{
    const char *src = getenv("PX_SOURCE_DIR");
    char path[4096];
    if (src) {
        snprintf(path, sizeof path, "%s/tests/data/scenarios", src);
    } else {
        /* Fallback: this file's directory/../data/scenarios. */
        snprintf(path, sizeof path, "%s", __FILE__);
        char *slash = strrchr(path, '/');
        if (slash)
            snprintf(slash, sizeof path - (size_t)(slash - path), "/../data/scenarios");
    }
    if (chdir(path) != 0)
        fail_msg("cannot enter %s: %s (set PX_SOURCE_DIR)", path, strerror(errno));
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_bad_corpus(void **state)
{
    (void)state;
    go_to_data_dir();
    DIR *d = opendir("bad");
    assert_non_null(d);
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".yaml"))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    assert_true(n >= 20);
    size_t mismatches = 0;
    for (size_t i = 0; i < n; i++) {
        char yaml[512], errf[512];
        snprintf(yaml, sizeof yaml, "bad/%s", names[i]);
        snprintf(errf, sizeof errf, "bad/%.*s.err", (int)(strlen(names[i]) - 5), names[i]);
        char *want = slurp(errf);
        if (!want) {
            print_error("%s: no expected-message file %s\n", yaml, errf);
            mismatches++;
            free(names[i]);
            continue;
        }
        px_buf errs = PX_BUF_INIT;
        px_scenario *s = NULL;
        int rc = px_scenario_load(yaml, px_run_checkers(), NULL, 0, &s, &errs);
        if (rc != PX_EPARSE || s != NULL || strcmp(px_buf_cstr(&errs), want) != 0) {
            print_error("%s: rc %d\n--- expected\n%s--- got\n%s", yaml, rc, want, px_buf_cstr(&errs));
            mismatches++;
        }
        px_scenario_free(s);
        px_buf_free(&errs);
        free(want);
        free(names[i]);
    }
    assert_int_equal(mismatches, 0);
}

static void test_good_files_load(void **state)
{
    (void)state;
    go_to_data_dir();
    const char *const good[] = {"good/veth_pair.yaml", "../../../examples/demo.yaml",
                                "../../../examples/vlan_bridge.yaml"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        px_buf errs = PX_BUF_INIT;
        px_scenario *s = NULL;
        int rc = px_scenario_load(good[i], px_run_checkers(), NULL, 0, &s, &errs);
        if (rc)
            print_error("%s", px_buf_cstr(&errs));
        assert_int_equal(rc, 0);
        assert_non_null(s);
        assert_true(s->ntests >= 3);
        px_scenario_free(s);
        px_buf_free(&errs);
    }
}

static void test_includes_variables_and_structure(void **state)
{
    (void)state;
    go_to_data_dir();
    px_buf errs = PX_BUF_INIT;
    px_scenario *s = NULL;
    assert_int_equal(px_scenario_load("good/veth_pair.yaml", px_run_checkers(), NULL, 0, &s, &errs), 0);
    assert_string_equal(s->name, "veth-pair");
    /* Included tests come first; the includer's own variables override the include's. */
    assert_int_equal(s->ntests, 3);
    assert_string_equal(s->tests[0].name, "frame crosses from a to b");
    assert_string_equal(s->tests[0].pos.file, "good/inc/l2_tests.yaml");
    assert_int_equal(s->tests[0].pos.line, 6);
    const px_step *ex = &s->tests[0].steps[0];
    assert_int_equal(ex->kind, PX_STEP_EXPECT);
    assert_string_equal(ex->ports[0], "pxr-gb");
    assert_string_equal(ex->predicate, "saw_src_mac(02:00:00:00:00:aa)");
    assert_int_equal(ex->timeout_ms, 2000);
    const px_step *tx = &s->tests[0].steps[1];
    assert_int_equal(tx->kind, PX_STEP_SEND);
    assert_non_null(tx->bytes); /* built by the frame text form */
    assert_true(tx->nbytes >= 42);
    assert_memory_equal(tx->bytes + 6, "\x02\x00\x00\x00\x00\xaa", 6);
    assert_true(s->tests[0].steps[2].kind == PX_STEP_WAIT && s->tests[0].steps[2].nnames == 1);

    /* Topology, ports, defaults. */
    assert_int_equal(s->nnamespaces, 1);
    assert_int_equal(s->nveths, 1);
    assert_string_equal(s->veths[0].peer_netns, "pxr-gns");
    assert_null(s->veths[0].netns);
    assert_int_equal(s->veths[0].mtu, 9000);
    assert_int_equal(s->naddrs, 1);
    assert_int_equal(s->nsetup, 1);
    assert_int_equal(s->nteardown, 1);
    assert_string_equal(s->teardown[0].netns, "pxr-gns");
    const px_scn_port *up = px_scenario_port(s, "uplink");
    assert_non_null(up);
    assert_string_equal(up->ifname, "pxr-gb");
    assert_string_equal(up->netns, "pxr-gns");
    const px_scn_port *gb = px_scenario_port(s, "pxr-gb");
    assert_non_null(gb);
    assert_string_equal(gb->netns, "pxr-gns");
    assert_null(px_scenario_port(s, "nope"));
    assert_int_equal(s->timeout_ms, 250);
    assert_false(s->noise_filter);
    assert_true(s->record);

    const px_scn_test *own = &s->tests[1];
    assert_int_equal(own->nsteps, 5);
    assert_int_equal(own->steps[0].count, 3);
    assert_string_equal(own->steps[0].filter, "ether src 02:00:00:00:00:01");
    assert_int_equal(own->steps[0].noise_filter, 1);
    assert_int_equal(own->steps[1].send_count, 5);
    assert_true(own->steps[1].rate_pps == 1000.0);
    assert_int_equal(own->steps[1].vlan, 7);
    assert_int_equal(own->steps[1].nbytes, 16);
    assert_int_equal(own->steps[2].sleep_ms, 20);
    assert_int_equal(own->steps[3].cmd.exit_code, 4);
    assert_int_equal(own->steps[3].cmd.timeout_ms, 5000);
    assert_true(own->steps[4].wait_all);
    assert_string_equal(s->tests[2].skip, "needs hardware");
    px_scenario_free(s);
    px_buf_free(&errs);

    /* --var overrides the file. */
    px_scn_var v = {"mac", "02:00:00:00:00:bb"};
    assert_int_equal(px_scenario_load("good/veth_pair.yaml", px_run_checkers(), &v, 1, &s, &errs), 0);
    assert_string_equal(s->tests[0].steps[0].predicate, "saw_src_mac(02:00:00:00:00:bb)");
    px_scenario_free(s);
    px_buf_free(&errs);
}

static int load_str(const char *text, px_scenario **s, px_buf *errs)
{
    px_buf_clear(errs);
    return px_scenario_load_string("t.yaml", text, strlen(text), px_run_checkers(), NULL, 0, s, errs);
}

static void test_inline_cases(void **state)
{
    (void)state;
    px_buf errs = PX_BUF_INIT;
    px_scenario *s = NULL;
    /* Literal ${ through $${, and an exec step with the shell's own variables. */
    assert_int_equal(load_str("tests:\n  - name: t\n    steps:\n      - exec: 'for i in 1; do echo $${i}; done'\n", &s,
                              &errs),
                     0);
    assert_string_equal(s->tests[0].steps[0].cmd.run, "for i in 1; do echo ${i}; done");
    px_scenario_free(s);

    /* Default scenario name from the file name. */
    assert_int_equal(load_str("tests: []\n", &s, &errs), 0);
    assert_string_equal(s->name, "t");
    assert_int_equal(s->timeout_ms, 1000);
    assert_true(s->noise_filter);
    px_scenario_free(s);

    /* Several errors are all reported, in order. */
    assert_int_equal(load_str("defaults: { timeout: 0 }\ntests:\n  - steps: []\n", &s, &errs), PX_EPARSE);
    assert_null(s);
    assert_string_equal(px_buf_cstr(&errs), "t.yaml:1:22: timeout: expected a duration above 0\n"
                                            "t.yaml:3:5: a test is missing 'name'\n"
                                            "t.yaml:3:12: test '?' has no steps\n");

    /* The capture mode (px_ctx_opts.capture) and its block timeout. */
    px_buf_clear(&errs);
    assert_int_equal(load_str("defaults: { capture: throughput, block_timeout: 20ms }\ntests: []\n", &s, &errs), 0);
    assert_int_equal(s->capture, PX_CAPTURE_THROUGHPUT);
    assert_int_equal(s->block_timeout_ms, 20);
    px_scenario_free(s);
    assert_int_equal(load_str("tests: []\n", &s, &errs), 0);
    assert_int_equal(s->capture, PX_CAPTURE_LATENCY);
    px_scenario_free(s);
    assert_int_equal(load_str("defaults: { capture: fast, block_timeout: 11s }\ntests: []\n", &s, &errs), PX_EPARSE);
    assert_string_equal(px_buf_cstr(&errs), "t.yaml:1:22: capture: expected latency or throughput\n"
                                            "t.yaml:1:43: block_timeout: expected a duration from 1ms to 10000ms\n");
    px_buf_clear(&errs);

    /* Interface names shared between namespaces make the implicit port ambiguous. */
    assert_int_equal(load_str("topology:\n  namespaces: [n1]\n  veths:\n    - {name: a1, peer: b1}\n"
                              "    - {name: a1, netns: n1, peer: b2}\n"
                              "tests:\n  - name: t\n    steps: [ {expect: {port: a1, predicate: 'received_packet()'}} ]\n",
                              &s, &errs),
                     PX_EPARSE);
    assert_non_null(strstr(px_buf_cstr(&errs), "t.yaml:8:30: port 'a1' is ambiguous"));

    /* Without checkers nothing parses expressions. */
    px_buf_clear(&errs);
    const char *bad = "tests:\n  - name: t\n    steps: [ {exec: 'true'} ]\n";
    assert_int_equal(px_scenario_load_string("t.yaml", bad, strlen(bad), NULL, NULL, 0, &s, &errs), 0);
    px_scenario_free(s);

    /* A missing file. */
    px_buf_clear(&errs);
    assert_int_equal(px_scenario_load("/nonexistent/x.yaml", NULL, NULL, 0, &s, &errs), PX_EIO);
    assert_string_equal(px_buf_cstr(&errs), "/nonexistent/x.yaml: cannot open: No such file or directory\n");
    px_buf_free(&errs);
}

/* A send step's VLAN push: a VID, or a mapping that also gives the priority and
 * the TPID (the runner hands all three to px_send_opts). */
static void test_send_vlan_push(void **state)
{
    (void)state;
    px_buf errs = PX_BUF_INIT;
    px_scenario *s = NULL;
    const char *head = "ports: { p1: lo }\ntests:\n  - name: t\n    steps:\n";
    char text[512];
    snprintf(text, sizeof text,
             "%s      - send: { port: p1, hex: \"ffffffffffff0200000000010800\", vlan: 9 }\n"
             "      - send: { port: p1, hex: \"ffffffffffff0200000000010800\", vlan: { vid: 7, pcp: 5, tpid: 0x88a8 } }\n"
             "      - send: { port: p1, hex: \"ffffffffffff0200000000010800\" }\n",
             head);
    if (load_str(text, &s, &errs) != 0)
        fail_msg("%s", px_buf_cstr(&errs));
    const px_step *st = s->tests[0].steps;
    assert_int_equal(st[0].vlan, 9);
    assert_int_equal(st[0].vlan_pcp, 0);
    assert_int_equal(st[0].vlan_tpid, 0);
    assert_int_equal(st[1].vlan, 7);
    assert_int_equal(st[1].vlan_pcp, 5);
    assert_int_equal(st[1].vlan_tpid, 0x88a8);
    assert_int_equal(st[2].vlan, -1);
    px_scenario_free(s);

    snprintf(text, sizeof text,
             "%s      - send: { port: p1, hex: \"ffffffffffff0200000000010800\", vlan: { vid: 7, pcp: 8 } }\n"
             "      - send: { port: p1, hex: \"ffffffffffff0200000000010800\", vlan: { pcp: 1 } }\n",
             head);
    assert_int_equal(load_str(text, &s, &errs), PX_EPARSE);
    assert_null(s);
    assert_non_null(strstr(px_buf_cstr(&errs), "pcp: expected an integer from 0 to 7, got '8'"));
    assert_non_null(strstr(px_buf_cstr(&errs), "a vlan push is missing 'vid'"));
    px_buf_free(&errs);
}

/* Ports of several namespaces, the same interface name in two of them included,
 * in one test and in one expect step (the library's NETNS/IFNAME ports). */
static void test_ports_across_namespaces(void **state)
{
    (void)state;
    px_buf errs = PX_BUF_INIT;
    px_scenario *s = NULL;
    int rc = load_str("topology:\n  namespaces: [n1, n2]\n  veths:\n"
                      "    - {name: a1, peer: e0, peer_netns: n1}\n"
                      "    - {name: a2, peer: e0, peer_netns: n2}\n"
                      "ports:\n  left: {interface: e0, netns: n1}\n  right: {interface: e0, netns: n2}\n"
                      "tests:\n  - name: t\n    steps:\n"
                      "      - expect: {any: [left, right], predicate: 'received_packet()'}\n"
                      "      - send: {port: left, hex: 'ffffffffffff0200000000010800'}\n"
                      "      - send: {port: right, hex: 'ffffffffffff0200000000010800'}\n",
                      &s, &errs);
    if (rc != 0)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_int_equal(s->tests[0].steps[0].nports, 2);
    px_scenario_free(s);
    px_buf_free(&errs);
}

/* An expect step on several ports says which it means: `any:` (one expectation
 * over them) or `each:` (one per port); a bare `ports:` is refused at its
 * line:column with both spellings, and so is giving two of port/any/each. */
static void test_expect_any_each(void **state)
{
    (void)state;
    px_buf errs = PX_BUF_INIT;
    px_scenario *s = NULL;
    const char *head = "ports: { a: lo, b: lo, c: lo }\ntests:\n  - name: t\n    steps:\n";
    char text[1024];
    snprintf(text, sizeof text,
             "%s      - expect: {any: [a, b, c], predicate: 'received_packet()'}\n"
             "      - expect: {each: [a, b], predicate: 'received_packet()'}\n"
             "      - expect: {each: c, predicate: 'received_packet()'}\n"
             "      - expect: {port: a, predicate: 'received_packet()'}\n",
             head);
    if (load_str(text, &s, &errs) != 0)
        fail_msg("%s", px_buf_cstr(&errs));
    const px_step *st = s->tests[0].steps;
    assert_int_equal(st[0].nports, 3);
    assert_false(st[0].each);
    assert_string_equal(st[0].ports[2], "c");
    assert_int_equal(st[1].nports, 2);
    assert_true(st[1].each);
    assert_string_equal(st[1].ports[1], "b");
    assert_int_equal(st[2].nports, 1);
    assert_true(st[2].each);
    assert_int_equal(st[3].nports, 1);
    assert_false(st[3].each);
    px_scenario_free(s);

    /* The ambiguous spelling: the error at the list, with the hint. */
    snprintf(text, sizeof text, "%s      - expect: {ports: [a, b], predicate: 'received_packet()'}\n", head);
    assert_int_equal(load_str(text, &s, &errs), PX_EPARSE);
    assert_null(s);
    assert_string_equal(px_buf_cstr(&errs), "t.yaml:5:25: 'ports' is ambiguous: write 'any: [...]' (one of the "
                                            "ports) or 'each: [...]' (every port)\n");

    /* Two spellings at once, a list under port, none, unknown ports in both forms. */
    snprintf(text, sizeof text,
             "%s      - expect: {any: [a], each: [b], predicate: 'received_packet()'}\n"
             "      - expect: {port: [a, b], predicate: 'received_packet()'}\n"
             "      - expect: {predicate: 'received_packet()'}\n"
             "      - expect: {any: [a, x], predicate: 'received_packet()'}\n"
             "      - expect: {each: [y, b], predicate: 'received_packet()'}\n",
             head);
    assert_int_equal(load_str(text, &s, &errs), PX_EPARSE);
    const char *e = px_buf_cstr(&errs);
    if (!strstr(e, "t.yaml:5:34: an expect step: give one of 'port', 'any' and 'each', not 'any' and 'each'\n") ||
        !strstr(e, "t.yaml:6:24: port: expected a port name, got a list (use 'any' or 'each' for a list)\n") ||
        !strstr(e, "t.yaml:7:17: an expect step is missing 'port' (or 'any: [...]' / 'each: [...]')\n") ||
        !strstr(e, "t.yaml:8:27: unknown port 'x'") || !strstr(e, "t.yaml:9:25: unknown port 'y'"))
        fail_msg("%s", e);
    px_buf_free(&errs);
}

static void test_alias_bomb_is_bounded(void **state)
{
    (void)state;
    /* 1000 aliases of a test whose steps are 1000 aliases of one step: a million
     * steps once expanded, from a few kilobytes. The walk must stop early. */
    px_buf text = PX_BUF_INIT;
    px_buf_append(&text, "tests:\n  - &t\n    name: t\n    steps: [");
    for (int i = 0; i < 1000; i++)
        px_buf_append(&text, i ? ", *s" : "&s {sleep: 1ms}");
    px_buf_append(&text, "]\n");
    for (int i = 0; i < 1000; i++)
        px_buf_append(&text, "  - *t\n");
    px_buf errs = PX_BUF_INIT;
    px_scenario *s = NULL;
    int rc = px_scenario_load_string("bomb.yaml", px_buf_cstr(&text), text.len, NULL, NULL, 0, &s, &errs);
    assert_int_equal(rc, PX_EPARSE);
    assert_null(s);
    assert_non_null(strstr(px_buf_cstr(&errs), "document too large: more than 100000 nodes"));
    px_buf_free(&errs);
    px_buf_free(&text);
}

static void test_durations_and_hex(void **state)
{
    (void)state;
    uint32_t ms = 0;
    assert_int_equal(px_parse_duration_ms("250", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(px_parse_duration_ms("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(px_parse_duration_ms("1.5s", &ms), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(px_parse_duration_ms("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(px_parse_duration_ms("1.5", &ms), PX_EPARSE);
    assert_int_equal(px_parse_duration_ms("-1s", &ms), PX_EPARSE);
    assert_int_equal(px_parse_duration_ms("5h", &ms), PX_EPARSE);
    assert_int_equal(px_parse_duration_ms("", &ms), PX_EPARSE);
    assert_int_equal(px_parse_duration_ms("1441m", &ms), PX_ERANGE);
    assert_int_equal(px_parse_duration_ms("1e400s", &ms), PX_EPARSE);

    uint8_t *b = NULL;
    size_t n = 0;
    char eb[PX_ERRBUF_SIZE];
    assert_int_equal(px_parse_hex_bytes("ff:01 02-0a", &b, &n, eb), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(b, "\xff\x01\x02\x0a", 4);
    free(b);
    assert_int_equal(px_parse_hex_bytes("0xABcd", &b, &n, eb), 0);
    assert_int_equal(n, 2);
    free(b);
    assert_int_equal(px_parse_hex_bytes("abc", &b, &n, eb), PX_EPARSE);
    assert_string_equal(eb, "col 4: expected two hex digits per byte");
    assert_int_equal(px_parse_hex_bytes("  ", &b, &n, eb), PX_EPARSE);
}

/* The words reports give the verification steps (px__verify_head, run_verify.c):
 * the step's own, never an expect step's "expect verify(...)". */
static void test_verify_step_words(void **state)
{
    (void)state;
    px_buf errs = PX_BUF_INIT;
    px_scenario *s = NULL;
    const char *text = "ports: { p1: lo, p2: lo, p3: lo, p4: lo }\ntests:\n  - name: t\n    steps:\n"
                       "      - verify: { port: p2, frame: 'Ether()/IPv4()', set: [ipv4.ttl-=1], ignore: ipv4.chksum,"
                       " allow_padding: true }\n"
                       "      - verify: { any: [p1, p2], frame: 'Ether()', timeout: 1500ms, name: got }\n"
                       "      - verify_no_packet: { each: [p2, p3] }\n"
                       "      - verify_no_packet: { port: p3, hex: '0011' }\n"
                       "      - no_other_packets: { except: [p4, p3] }\n"
                       "      - no_other_packets: { name: quiet }\n";
    if (load_str(text, &s, &errs) != 0)
        fail_msg("%s", px_buf_cstr(&errs));
    const px_step *st = s->tests[0].steps;
    const char *tports[] = {"p1", "p2", "p3", "p4"};
    px_buf b = PX_BUF_INIT;
#define WORDS(i, port, ms, long_form, want)                                                                           \
    do {                                                                                                              \
        px_buf_clear(&b);                                                                                             \
        px__verify_head(&st[i], tports, 4, port, ms, long_form, &b);                                                  \
        assert_string_equal(px_buf_cstr(&b), want);                                                                   \
    } while (0)
    WORDS(0, NULL, 2000, false,
          "verify p2: Ether()/IPv4(), set=[ipv4.ttl-=1], ignore=[ipv4.chksum], allow_padding=true within 2s");
    WORDS(1, NULL, 1500, false, "verify got");
    WORDS(1, NULL, 1500, true, "verify got (any of p1, p2: Ether() within 1500ms)");
    WORDS(2, NULL, 100, false, "verify_no_packet each of p2, p3 within 100ms");
    WORDS(2, "p3", 100, false, "verify_no_packet p3 within 100ms");
    WORDS(3, NULL, 250, false, "verify_no_packet p3: 0011 within 250ms");
    WORDS(4, NULL, 100, false, "no_other_packets on p1, p2 (except p4, p3) within 100ms");
    WORDS(5, "p2", 100, false, "no_other_packets quiet on p2");
    WORDS(5, NULL, 100, true, "no_other_packets quiet (on p1, p2, p3, p4 within 100ms)");
    px_buf_clear(&b);
    px__verify_head(&st[4], tports + 2, 2, NULL, 100, false, &b); /* every port excepted */
    assert_string_equal(px_buf_cstr(&b), "no_other_packets on no port (except p4, p3) within 100ms");
#undef WORDS
    px_buf_free(&b);
    px_scenario_free(s);
    px_buf_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_corpus),
        cmocka_unit_test(test_good_files_load),
        cmocka_unit_test(test_includes_variables_and_structure),
        cmocka_unit_test(test_inline_cases),
        cmocka_unit_test(test_send_vlan_push),
        cmocka_unit_test(test_ports_across_namespaces),
        cmocka_unit_test(test_expect_any_each),
        cmocka_unit_test(test_alias_bomb_is_bounded),
        cmocka_unit_test(test_durations_and_hex),
        cmocka_unit_test(test_verify_step_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
