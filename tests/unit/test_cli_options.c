/* The command-line surface, without privileges (runner/cli_opt.c, runner/cli.c,
 * runner/cmd_send.c, runner/duration.c; docs/cli.md):
 *
 *   options anywhere, `--` ends them, one parser for every command
 *                                                   test_options_anywhere,
 *                                                   test_parser_forms
 *   --filter: repeatable (any), no match is exit 2 with the test names
 *                                                   test_filter
 *   watch -F with an invalid BPF filter: exit 2     test_bad_bpf
 *   one duration parser: units, overflow, errors    test_duration_parse,
 *                                                   test_duration_options
 *   help: exit codes, --version; --port in send and watch; watch/send/replay --netns
 *                                                   test_help_and_names, test_netns
 *   one set of exit codes (run.h) for every command test_exit_codes_shared
 *
 * The CLI runs in-process; stdout and stderr go to temporary files for the call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "px_cli.h"
#include "cli_opt.h"
#include "duration.h"
#include "run.h"
#include "pktexpect/error.h"
#include "scenario.h"

static const char LEARN[] = "demo/learned unicast goes only to the learned port\n";

static void test_options_anywhere(void **state)
{
    (void)state;
    const char *demo = path("examples/demo.yaml");
    char dir[] = "/tmp/pxclioptXXXXXX";
    assert_non_null(mkdtemp(dir));
    char junit[64], ev[64];
    snprintf(junit, sizeof junit, "%s/report.xml", dir);
    snprintf(ev, sizeof ev, "%s/evidence/", dir);
    /* The README's command, as written (with --list, so nothing runs). */
    assert_int_equal(cli("run", demo, "--junit", junit, "--pcap-dir", ev, "--list", NULL), 0);
    assert_non_null(strstr(out_text, LEARN));
    assert_int_equal(cli("run", demo, "--list", "-f", "*learn*", NULL), 0);
    assert_string_equal(out_text, LEARN);
    assert_int_equal(cli("run", demo, "--list", "--filter=*learn*", NULL), 0);
    assert_string_equal(out_text, LEARN);
    /* validate: --var after the file. */
    const char *failing = path("tests/data/scenarios/net/failing.yaml");
    assert_int_equal(cli("validate", failing, "--var", "ns=n", "--var", "a=x", "--var", "b=y", NULL), 0);
    /* watch: an option after the predicate is read (here, an invalid one). */
    assert_int_equal(cli("watch", "received_packet()", "-i", "lo", "-t", "never", NULL), 2);
    assert_non_null(strstr(err_text, "pktexpect watch: --timeout 'never'"));
    /* check: options after the predicates. */
    assert_int_equal(cli("check", "saw_vlan_tag(1)", "--pcap", path("no-such-capture.pcap"), NULL), 3);
    /* `--` ends the options: what follows is a file, even "--list". */
    assert_int_equal(cli("validate", "--", "--list", NULL), 2);
    assert_non_null(strstr(err_text, "--list"));
    assert_null(strstr(err_text, "unknown option"));
    assert_int_equal(cli("run", "--list", "--", demo, NULL), 0);
    rmdir(dir);
}

/* The parser itself: every accepted form, and its errors. */
static void test_parser_forms(void **state)
{
    (void)state;
    enum { A = 'a', B = 'b', V = 'v', L = 256, ALIAS_X };
    static const px_cli_opt opts[] = {{"alpha", 'a', true, A},      {"beta", 'b', false, B},
                                      {"verbose", 'v', false, V},   {"long-only", 0, true, L},
                                      {"long-alias", 0, true, L},   {"lx", 0, false, ALIAS_X},
                                      {NULL, 0, false, 0}};
    char *argv[] = {"cmd", "f1", "-a", "1", "-a2", "-bv", "--alpha=3", "--alpha", "4", "-", "--long-only", "5",
                    "--long-a=6", "--", "-b", "--beta", NULL};
    int argc = (int)(sizeof argv / sizeof argv[0]) - 1;
    px_cli_args a;
    px_cli_args_init(&a, "cmd", argc, argv, opts);
    const char *v;
    const int want_id[] = {A, A, B, V, A, A, L, L};
    const char *want_val[] = {"1", "2", NULL, NULL, "3", "4", "5", "6"};
    for (size_t i = 0; i < sizeof want_id / sizeof want_id[0]; i++) {
        assert_int_equal(px_cli_next(&a, &v), want_id[i]);
        if (want_val[i])
            assert_string_equal(v, want_val[i]);
        else
            assert_null(v);
    }
    assert_int_equal(px_cli_next(&a, &v), PX_CLI_END);
    assert_int_equal(a.nops, 4);
    assert_string_equal(a.ops[0], "f1");
    assert_string_equal(a.ops[1], "-");
    assert_string_equal(a.ops[2], "-b");
    assert_string_equal(a.ops[3], "--beta");

    char *bad1[] = {"cmd", "--nope", NULL}, *bad2[] = {"cmd", "-a", NULL}, *bad3[] = {"cmd", "--beta=1", NULL},
         *bad4[] = {"cmd", "--l", "x", NULL}, *bad5[] = {"cmd", "-x", NULL};
    char **bads[] = {bad1, bad2, bad3, bad4, bad5};
    for (size_t i = 0; i < 5; i++) {
        int n = 0;
        while (bads[i][n])
            n++;
        px_cli_args_init(&a, "cmd", n, bads[i], opts);
        fflush(stderr);
        int se = dup(2);
        FILE *null = fopen("/dev/null", "w");
        dup2(fileno(null), 2);
        int rc = px_cli_next(&a, &v);
        fflush(stderr);
        dup2(se, 2);
        close(se);
        fclose(null);
        assert_int_equal(rc, PX_CLI_ERROR);
    }
}

static void test_filter(void **state)
{
    (void)state;
    const char *demo = path("examples/demo.yaml"), *good = path("tests/data/scenarios/good/veth_pair.yaml");
    /* Repeated -f accumulate: a test runs if it matches any. */
    assert_int_equal(cli("run", "--list", "-f", "*learn*", "-f", "veth-pair/own*", demo, good, NULL), 0);
    assert_string_equal(out_text, "demo/learned unicast goes only to the learned port\nveth-pair/own test\n");
    /* A pattern matching nothing (a typo in CI) is an error naming the tests. */
    assert_int_equal(cli("run", "--list", "-f", "*lern*", demo, NULL), 2);
    assert_non_null(strstr(err_text, "--filter '*lern*' matches no test"));
    assert_non_null(strstr(err_text, "  demo/broadcast is flooded to every other port\n"));
    assert_int_equal(cli("run", "-f", "*learn*", "-f", "*typo*", demo, NULL), 2);
    assert_non_null(strstr(err_text, "--filter '*typo*' matches no test"));
    assert_string_equal(out_text, "");
    /* A matching filter whose shard is empty is fine. */
    assert_int_equal(cli("run", "--list", "-f", "*learn*", "--shard", "2/2", demo, NULL), 0);
    assert_string_equal(out_text, "");
}

static void test_bad_bpf(void **state)
{
    (void)state;
    assert_int_equal(cli("watch", "-i", "lo", "-F", "udp port", "received_packet()", NULL), 2);
    assert_non_null(strstr(err_text, "pktexpect watch: --bpf 'udp port'"));
    assert_int_equal(cli("check", "--pcap", "-", "-F", "not a filter", "received_packet()", NULL), 2);
    assert_non_null(strstr(err_text, "pktexpect check: --bpf 'not a filter'"));
}

static void test_duration_parse(void **state)
{
    (void)state;
    const uint64_t MS = PX_DURATION_NS_PER_MS, S = PX_DURATION_NS_PER_S, MAX = UINT64_MAX;
    uint64_t ns = 0;
    struct {
        const char *text;
        uint64_t bare;
        int rc;
        uint64_t ns;
    } cases[] = {
        {"250", MS, 0, 250 * MS},       {"250ms", MS, 0, 250 * MS},   {"1.5s", MS, 0, 1500 * MS},
        {"2m", MS, 0, 120 * S},         {"500us", MS, 0, 500000},     {"7ns", MS, 0, 7},
        {"30", S, 0, 30 * S},           {"0.25ms", MS, 0, 250000},    {"1.0000000000000000001s", MS, 0, S},
        {"1.5", MS, PX_EPARSE, 0},      {"-1s", MS, PX_EPARSE, 0},    {"5h", MS, PX_EPARSE, 0},
        {"", MS, PX_EPARSE, 0},         {"1e3s", MS, PX_EPARSE, 0},   {"1 s", MS, PX_EPARSE, 0},
        {"s", MS, PX_EPARSE, 0},        {"1.s", MS, PX_EPARSE, 0},    {"+1s", MS, PX_EPARSE, 0},
        {"18446744073709551615", MS, PX_ERANGE, 0},
        {"18446744073709551616", 1, PX_ERANGE, 0},
        {"18446744073709551615ns", 1, 0, MAX},
        {"99999999999999999999999m", MS, PX_ERANGE, 0},
        {"99999999999999999999999x", MS, PX_EPARSE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ns = 12345;
        int rc = px_duration_parse(cases[i].text, cases[i].bare, MAX, &ns);
        if (rc != cases[i].rc || (rc == 0 && ns != cases[i].ns))
            fail_msg("'%s': rc %d ns %llu, want rc %d ns %llu", cases[i].text, rc, (unsigned long long)ns, cases[i].rc,
                     (unsigned long long)cases[i].ns);
        if (rc)
            assert_int_equal(ns, 12345); /* untouched on error */
    }
    assert_int_equal(px_duration_parse("24h", MS, MAX, &ns), PX_EPARSE);
    assert_int_equal(px_duration_parse("1440m", MS, PX_DURATION_24H_NS, &ns), 0);
    assert_int_equal(px_duration_parse("1441m", MS, PX_DURATION_24H_NS, &ns), PX_ERANGE);
    /* The YAML loader's parser agrees on every text both accept or refuse. */
    const char *texts[] = {"250", "250ms", "1.5s", "2m", "0", "1.5", "-1s", "5h", "", "1441m", "1440m", "86400000",
                           "86400001", "1e400s", "0.5ms", "3s"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        uint32_t ms = 0;
        int y = px_parse_duration_ms(texts[i], &ms);
        int c = px_duration_parse(texts[i], MS, PX_DURATION_24H_NS, &ns);
        if (y != c || (y == 0 && (uint64_t)ms != (ns + MS / 2) / MS))
            fail_msg("'%s': YAML %d (%u ms), CLI %d (%llu ns)", texts[i], y, ms, c, (unsigned long long)ns);
    }
}

static void test_duration_options(void **state)
{
    (void)state;
    /* The overflow that used to send nothing with exit 0. */
    assert_int_equal(cli("send", "-i", "lo", "--duration", "18446744073709551615", "Ether()", NULL), 2);
    assert_non_null(strstr(err_text, "pktexpect send: --duration '18446744073709551615': longer than 24 hours"));
    assert_int_equal(cli("send", "-i", "lo", "--duration", "2x", "Ether()", NULL), 2);
    assert_non_null(strstr(err_text, "expected a duration like 500ms, 2s or 1m"));
    assert_int_equal(cli("send", "-i", "lo", "--duration", "0", "Ether()", NULL), 2);
    assert_non_null(strstr(err_text, "at least 1ms"));
    /* Units are accepted: the next problem reported is the frame. */
    assert_int_equal(cli("send", "-i", "lo", "--duration", "2s", "Nope()", NULL), 2);
    assert_non_null(strstr(err_text, "pktexpect send: frame:"));
    assert_int_equal(cli("send", "-i", "lo", "--duration", "1500us", "Nope()", NULL), 2);
    assert_non_null(strstr(err_text, "pktexpect send: frame:"));
    /* Every duration option takes the same forms. */
    const char *demo = path("examples/demo.yaml");
    assert_int_equal(cli("run", "--list", "--deadline", "30m", demo, NULL), 0);
    assert_int_equal(cli("run", "--list", "--deadline", "600", demo, NULL), 0); /* bare: seconds */
    assert_int_equal(cli("run", "--list", "--deadline", "99999999999999999999", demo, NULL), 2);
    assert_non_null(strstr(err_text, "--deadline '99999999999999999999': longer than"));
    assert_int_equal(cli("watch", "-i", "lo", "-t", "25h", "received_packet()", NULL), 2);
    assert_int_equal(cli("check", "--pcap", "-", "-t", "1441m", "received_packet()", NULL), 2);
    assert_non_null(strstr(err_text, "longer than 24 hours"));
}

static void test_help_and_names(void **state)
{
    (void)state;
    assert_int_equal(cli("--help", NULL), 0);
    const char *codes[] = {"\n  0 ", "\n  1 ", "\n  2 ", "\n  3 ", "\n  130 ", "\n  143 ", "--version"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (!strstr(out_text, codes[i]))
            fail_msg("pktexpect --help lacks '%s'", codes[i]);
    assert_int_equal(cli("--version", NULL), 0);
    assert_non_null(strstr(out_text, "pktexpect "));
    assert_int_equal(cli("--vers", NULL), 0); /* a prefix, as for every long option */
    assert_int_equal(cli("--bogus", NULL), 2);
    assert_non_null(strstr(err_text, "pktexpect: unknown option '--bogus'"));
    /* watch's default window is worded, not a number of milliseconds. */
    assert_int_equal(cli("watch", "--help", NULL), 0);
    assert_non_null(strstr(out_text, "until interrupted"));
    assert_null(strstr(out_text, "86400000"));
    /* -i is --port in send, replay and watch (watch keeps --interface as an alias). */
    const char *cmds[] = {"send", "replay", "watch"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(cli(cmds[i], "--help", NULL), 0);
        assert_non_null(strstr(out_text, "-i, --port PORT"));
    }
    assert_int_equal(cli("watch", "--port", "lo", "-t", "never", "received_packet()", NULL), 2);
    assert_non_null(strstr(err_text, "--timeout 'never'"));
    assert_int_equal(cli("watch", "--interface", "lo", "-t", "never", "received_packet()", NULL), 2);
    assert_non_null(strstr(err_text, "--timeout 'never'"));
}

/* watch, send and replay take --netns; a missing namespace is exit 3, an
 * invalid name (one the core's "NETNS/IFNAME" port names cannot hold) exit 2,
 * both before any port is opened. */
static void test_netns(void **state)
{
    (void)state;
    assert_int_equal(cli("watch", "-n", "pxcli-no-such-ns", "-i", "lo", "-t", "1s", "received_packet()", NULL), 3);
    assert_non_null(strstr(err_text, "namespace 'pxcli-no-such-ns': does not exist"));
    assert_int_equal(cli("watch", "-n", "bad/name", "-i", "lo", "-t", "1s", "received_packet()", NULL), 2);
    assert_non_null(strstr(err_text, "invalid namespace name 'bad/name'"));
    assert_int_equal(cli("send", "--netns", "pxcli-no-such-ns", "-i", "lo", "Ether()", NULL), 3);
    assert_non_null(strstr(err_text, "namespace 'pxcli-no-such-ns': does not exist"));
    assert_int_equal(cli("replay", "-n", "pxcli-no-such-ns", "-i", "lo", path("no-such.pcap"), NULL), 3);
    assert_non_null(strstr(err_text, "namespace 'pxcli-no-such-ns': does not exist"));
    assert_int_equal(cli("send", "-n", "bad/name", "-i", "lo", "Ether()", NULL), 2);
    assert_int_equal(cli("replay", "-n", "..", "-i", "lo", path("no-such.pcap"), NULL), 2);
}

/* Every command answers a bad option and --help with the same PX_EXIT_* codes. */
static void test_exit_codes_shared(void **state)
{
    (void)state;
    static const char *const cmds[] = {"run", "validate", "watch", "check", "send", "replay", "clean", "junit-merge"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        int bad = cli(cmds[i], "--no-such-option", NULL);
        if (bad != PX_EXIT_INVALID)
            fail_msg("%s --no-such-option: exit %d, expected %d", cmds[i], bad, PX_EXIT_INVALID);
        int help = cli(cmds[i], "--help", NULL);
        if (help != PX_EXIT_PASS)
            fail_msg("%s --help: exit %d, expected %d", cmds[i], help, PX_EXIT_PASS);
    }
    assert_int_equal(cli("clean", "extra", NULL), PX_EXIT_INVALID);
    assert_int_equal(cli("send", "-i", "p1", NULL), PX_EXIT_INVALID); /* no frame */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_anywhere), cmocka_unit_test(test_parser_forms),
        cmocka_unit_test(test_filter),           cmocka_unit_test(test_bad_bpf),
        cmocka_unit_test(test_duration_parse),   cmocka_unit_test(test_duration_options),
        cmocka_unit_test(test_help_and_names),   cmocka_unit_test(test_netns),
        cmocka_unit_test(test_exit_codes_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
