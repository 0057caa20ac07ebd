/* `pktexpect stf` without privileges: the STF parser (runner/stf.h), its
 * frame matching, and the add/setdefault translation against BMv2-format JSON
 * files in tests/data/stf/ (runner/stf_p4.h):
 *   packet/expect/wait/add/setdefault parse, comments ignored           test_parse_subset
 *   parse errors are FILE:LINE:COL, unsupported commands named          test_parse_errors
 *   expect: '*' nibbles, prefix unless '$', exact length with '$'       test_match
 *   every match kind and name form translates to the CLI's commands,
 *   multicast and mirroring commands pass as written, all sent on the
 *   target CLI's stdin by the command (a recording script)              test_translate_all_kinds
 *   unknown table, wrong key count, missing priority, unknown action or
 *   parameter: a clear error at FILE:LINE:COL                           test_translate_errors
 *   a CLI that rejects an entry fails the run                           test_cli_rejects_entry
 *   bounded inputs: a FIFO, a file over 4 MiB, a JSON that is no
 *   BMv2 JSON are refused with the reason, without a hang              test_input_bounds */
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

#include "cli.h"
#include "stf.h"
#include "stf_p4.h"

static char tmpdir[256], rec_sh[300], got_path[300], json_path[512];

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *b = calloc(1, 1 << 16);
    size_t n = fread(b, 1, (1 << 16) - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

static const char *src(void)
{
    const char *s = getenv("PX_SOURCE_DIR");
    return s ? s : ".";
}

static int setup(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/pxr-stf-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(rec_sh, sizeof rec_sh, "%s/cli.sh", tmpdir);
    snprintf(got_path, sizeof got_path, "%s/got.txt", tmpdir);
    snprintf(json_path, sizeof json_path, "%s/tests/data/stf/tables.json", src());
    /* The "target CLI": records its stdin; rejects table "MyIngress.acl" the way
     * simple_switch_CLI reports errors (on its output, exit status 0). */
    FILE *f = fopen(rec_sh, "w");
    if (!f)
        return -1;
    fprintf(f, "#!/bin/sh\ncat > '%s'\nif grep -q '^table_add MyIngress.acl' '%s' && [ -n \"$REJECT\" ]; then\n"
               "  echo 'RuntimeCmd: Error: Invalid table operation (DUPLICATE_ENTRY)'\nfi\nexit 0\n",
            got_path, got_path);
    fclose(f);
    return chmod(rec_sh, 0755);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static px_stf *parse_ok(const char *text)
{
    px_stf *s = NULL;
    px_buf err = PX_BUF_INIT;
    int rc = px_stf_parse("t.stf", text, strlen(text), &s, &err);
    if (rc)
        fail_msg("%s", px_buf_cstr(&err));
    px_buf_free(&err);
    return s;
}

/* The error lines of a text that must not parse. */
static char *parse_err(const char *text)
{
    px_stf *s = NULL;
    px_buf err = PX_BUF_INIT;
    assert_int_equal(px_stf_parse("t.stf", text, strlen(text), &s, &err), PX_EPARSE);
    assert_null(s);
    return px_buf_steal(&err);
}

static void test_parse_subset(void **state)
{
    (void)state;
    px_stf *s = parse_ok("# a comment\n"
                         "add t 7 h.f:0x01 a(x:1, y:2)  # entry\n"
                         "setdefault t b()\n"
                         "packet 0 000000000002 000000000001 0800 45\n"
                         "\n"
                         "expect 1 0000000000** 000000000001 0800 $\n"
                         "wait\n"
                         "expect 2\n");
    assert_int_equal(s->n, 6);
    assert_int_equal(s->s[0].kind, PX_STF_ADD);
    assert_string_equal(s->s[0].table, "t");
    assert_int_equal(s->s[0].priority, 7);
    assert_int_equal(s->s[0].nkeys, 1);
    assert_string_equal(s->s[0].keys[0].name, "h.f");
    assert_string_equal(s->s[0].keys[0].value, "0x01");
    assert_string_equal(s->s[0].action, "a");
    assert_int_equal(s->s[0].nargs, 2);
    assert_string_equal(s->s[0].args[1].name, "y");
    assert_int_equal(s->s[1].kind, PX_STF_SETDEFAULT);
    assert_int_equal(s->s[1].nargs, 0);
    assert_int_equal(s->s[2].kind, PX_STF_PACKET);
    assert_int_equal(s->s[2].port, 0);
    assert_int_equal(s->s[2].nbytes, 15);
    assert_int_equal(s->s[2].bytes[14], 0x45);
    assert_int_equal(s->s[3].kind, PX_STF_EXPECT);
    assert_int_equal(s->s[3].line, 6);
    assert_int_equal(s->s[3].nnibbles, 28);
    assert_true(s->s[3].exact);
    assert_int_equal(s->s[3].care[10], 0);
    assert_int_equal(s->s[4].kind, PX_STF_WAIT);
    assert_int_equal(s->s[5].nnibbles, 0);
    px_stf_free(s);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *stf, *err;
    } cases[] = {
        {"packet 0 0102\n",
         "t.stf:1:14: a packet needs at least 14 bytes (an Ethernet header), got 4 digits\n"},
        {"\n  expect 1 00zz\n",
         "t.stf:2:14: expected a hex digit, '*' or a final '$', got 'z'\n"},
        {"expect 1 00 $ 11\n",
         "t.stf:1:13: '$' (exact length) must end the expected data\n"},
        {"check_counter c(1) packets == 1\nfrobnicate\n",
         "t.stf:1:1: unsupported STF command 'check_counter' (docs/stf.md lists the supported subset)\n"
         "t.stf:2:1: unknown STF command 'frobnicate' (expected packet, expect, wait, add, setdefault, "
         "mirroring_add, mirroring_add_mc, mc_mgrp_create, mc_node_create or mc_node_associate)\n"},
        {"mc_node_create 0\nmirroring_add 5 x\n",
         "t.stf:1:1: 'mc_node_create' takes 2 or more numbers, got 1\nt.stf:2:17: expected a number, got 'x'\n"},
        {"add t k:1\n",
         "t.stf:1:10: expected an action ACTION(PARAM:VALUE, ...) at the end of the line\n"},
        {"add t k a(x:1)\n",
         "t.stf:1:7: expected a priority (a number) or a key NAME:VALUE, got 'k'\n"},
        {"packet x 00\n",
         "t.stf:1:8: expected a port number (0 to 65535), got 'x'\n"},
        {"setdefault t a(x:1\n",
         "t.stf:1:14: expected an action ACTION(PARAM:VALUE, ...)\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *e = parse_err(cases[i].stf);
        assert_string_equal(e, cases[i].err);
        free(e);
    }
}

static void test_match(void **state)
{
    (void)state;
    px_stf *s = parse_ok("expect 0 0a0b**\nexpect 0 0a0b0c $\nexpect 0 0a*c\n");
    const uint8_t f1[] = {0x0a, 0x0b, 0x0c, 0x0d}, f2[] = {0x0a, 0x0b, 0x0c}, f3[] = {0x0a, 0x0c, 0x0c};
    size_t d = 99;
    assert_true(px_stf_match(&s->s[0], f1, 4, &d)); /* a prefix, '*' anything */
    assert_true(px_stf_match(&s->s[0], f2, 3, &d));
    assert_false(px_stf_match(&s->s[0], f2, 2, &d)); /* shorter than the data */
    assert_int_equal(d, 2);
    assert_false(px_stf_match(&s->s[1], f1, 4, &d)); /* '$': exact length */
    assert_int_equal(d, 3);
    assert_true(px_stf_match(&s->s[1], f2, 3, &d));
    assert_false(px_stf_match(&s->s[0], f3, 3, &d));
    assert_int_equal(d, 1);
    assert_true(px_stf_match(&s->s[2], f3, 3, &d)); /* one nibble wild */
    px_stf_free(s);
}

/* `pktexpect stf` in-process; the recording CLI's stdin comes back in *got. */
static int run_stf(const char *stf_text, char **got)
{
    char stf_path[320];
    snprintf(stf_path, sizeof stf_path, "%s/t.stf", tmpdir);
    FILE *f = fopen(stf_path, "w");
    assert_non_null(f);
    fputs(stf_text, f);
    fclose(f);
    unlink(got_path);
    char *argv[] = {"pktexpect", "stf", "--json", json_path, "--target-cli", rec_sh, "--port-map", "0=lo,1=lo2",
                    "-i", "2@lo3", stf_path, NULL};
    int rc = px_cli_main(11, argv, NULL);
    *got = slurp(got_path);
    return rc;
}

static void test_translate_all_kinds(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/stf/tables.stf", src());
    char *stf_text = slurp(path);
    snprintf(path, sizeof path, "%s/tests/data/stf/tables.cmds", src());
    char *want = slurp(path);
    assert_non_null(stf_text);
    assert_non_null(want);
    char *got = NULL;
    assert_int_equal(run_stf(stf_text, &got), 0);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    free(want);
    free(stf_text);
}

/* The translation's message for one statement. */
static char *translate_err(const px_p4json *p, const char *line)
{
    px_stf *s = parse_ok(line);
    px_buf cmd = PX_BUF_INIT, err = PX_BUF_INIT;
    assert_int_equal(px_stf_translate(p, s, &s->s[0], &cmd, &err), PX_EPARSE);
    assert_int_equal(cmd.len, 0);
    px_stf_free(s);
    px_buf_free(&cmd);
    return px_buf_steal(&err);
}

static void test_translate_errors(void **state)
{
    (void)state;
    px_p4json *p = NULL;
    px_buf err = PX_BUF_INIT;
    assert_int_equal(px_p4json_load(json_path, &p, &err), 0);
    static const struct {
        const char *stf, *err;
    } cases[] = {
        {"add nosuch k:1 drop()\n", "t.stf:1:5: no table 'nosuch' in the BMv2 JSON\n"},
        {"add dmac dstAddr:1 ingress_port:2 forward(port:1)\n",
         "t.stf:1:5: table 'MyIngress.dmac' has 1 key (hdr.ethernet.dstAddr), the entry gives 2\n"},
        {"add acl srcAddr:1 ingress_port:2 drop()\n",
         "t.stf:1:5: table 'MyIngress.acl' has ternary, range or optional keys: the entry needs a priority (add TABLE "
         "PRIORITY KEY:VALUE ...)\n"},
        {"add dmac dstAddr:1 set_nhop(port:1)\n",
         "t.stf:1:20: no action 'set_nhop' in table 'MyIngress.dmac' (its actions: MyIngress.forward, "
         "MyIngress.drop)\n"},
        {"add dmac dstAddr:1 forward(prot:1)\n", "t.stf:1:20: action 'MyIngress.forward' needs parameter 'port'\n"},
        {"add dmac dstAddr:1 forward(port:1, x:2)\n",
         "t.stf:1:36: action 'MyIngress.forward' has no parameter 'x' (it has 1)\n"},
        {"add dmac srcAddr:1 forward(port:1)\n",
         "t.stf:1:5: table 'MyIngress.dmac': the entry gives no value for key 'hdr.ethernet.dstAddr'\n"},
        {"add ipv4_lpm dstAddr:0x0a**0001 drop()\n",
         "t.stf:1:14: key 'dstAddr' (lpm): '*' nibbles must all be at the end, got '0x0a**0001'\n"},
        {"add dmac dstAddr:0x1* forward(port:1)\n",
         "t.stf:1:10: key 'dstAddr' (exact): expected a number (decimal, 0x hex or 0b binary), got '0x1*'\n"},
        {"setdefault stats NoAction()\n",
         "t.stf:1:12: table 'stats' is ambiguous: 'MyIngress.stats' and 'MyEgress.stats' (give more of the name)\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *e = translate_err(p, cases[i].stf);
        assert_string_equal(e, cases[i].err);
        free(e);
    }
    px_p4json_free(p);
    /* Not a BMv2 JSON: the place of the error. */
    assert_int_equal(px_p4json_parse("x.json", "{\"a\": [1,}", 10, &p, &err), PX_EPARSE);
    assert_non_null(strstr(px_buf_cstr(&err), "x.json:1:"));
    px_buf_free(&err);
}

/* A BMv2 JSON whose tables list their actions by name and have no action_ids
 * (BMv2's own mininet/simple_router.json, compiled from P4_14): the names
 * resolve as with p4c's JSON. */
static void test_translate_json_without_action_ids(void **state)
{
    (void)state;
    static const char json[] =
        "{\"actions\": [{\"name\": \"set_nhop\", \"id\": 0, \"runtime_data\": [{\"name\": \"nhop_ipv4\", "
        "\"bitwidth\": 32}, {\"name\": \"port\", \"bitwidth\": 9}]}, {\"name\": \"_drop\", \"id\": 1, "
        "\"runtime_data\": []}],"
        " \"pipelines\": [{\"name\": \"ingress\", \"tables\": [{\"name\": \"ipv4_lpm\", \"match_type\": \"lpm\","
        " \"key\": [{\"match_type\": \"lpm\", \"target\": [\"ipv4\", \"dstAddr\"], \"mask\": null}],"
        " \"actions\": [\"set_nhop\", \"_drop\"]}]}]}";
    px_p4json *p = NULL;
    px_buf err = PX_BUF_INIT;
    assert_int_equal(px_p4json_parse("old.json", json, sizeof json - 1, &p, &err), 0);
    px_stf *s = parse_ok("add ipv4_lpm ipv4.dstAddr:0x0a00010a/32 set_nhop(nhop_ipv4:0x0a00010a, port:2)\n");
    px_buf cmd = PX_BUF_INIT;
    if (px_stf_translate(p, s, &s->s[0], &cmd, &err) != 0)
        fail_msg("%s", px_buf_cstr(&err));
    assert_string_equal(px_buf_cstr(&cmd), "table_add ipv4_lpm set_nhop 0x0a00010a/32 => 0x0a00010a 2\n");
    px_stf_free(s);
    /* and the list of actions in a message comes from the names */
    char *e = translate_err(p, "add ipv4_lpm ipv4.dstAddr:1/32 rewrite_mac(smac:1)\n");
    assert_string_equal(e, "t.stf:1:32: no action 'rewrite_mac' in table 'ipv4_lpm' (its actions: set_nhop, _drop)\n");
    free(e);
    px_buf_free(&cmd);
    px_buf_free(&err);
    px_p4json_free(p);
}

static void test_cli_rejects_entry(void **state)
{
    (void)state;
    char *got = NULL;
    setenv("REJECT", "1", 1);
    int rc = run_stf("add acl 1 srcAddr:0x0a000001&&&0xffffffff ingress_port:1 drop()\n", &got);
    unsetenv("REJECT");
    assert_int_equal(rc, 1);
    assert_non_null(got);
    assert_string_equal(got, "table_add MyIngress.acl MyIngress.drop 0x0a000001&&&0xffffffff 1 => 1\n");
    free(got);
    /* A statement the JSON cannot resolve: invalid (2), the CLI never runs. */
    assert_int_equal(run_stf("add nosuch k:1 drop()\n", &got), 2);
    assert_null(got);
}

static void test_input_bounds(void **state)
{
    (void)state;
    char p[320];
    px_stf *s = NULL;
    px_buf err = PX_BUF_INIT;
    snprintf(p, sizeof p, "%s/fifo.stf", tmpdir);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(px_stf_load(p, &s, &err), PX_EIO); /* opened without blocking, refused */
    assert_non_null(strstr(px_buf_cstr(&err), "not a regular file"));
    px_buf_clear(&err);
    snprintf(p, sizeof p, "%s/big.stf", tmpdir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)PX_STF_FILE_MAX + 1), 0); /* sparse: nothing written */
    fclose(f);
    assert_int_equal(px_stf_load(p, &s, &err), PX_EIO);
    assert_non_null(strstr(px_buf_cstr(&err), "larger than 4194304 bytes"));
    assert_null(s);
    px_buf_clear(&err);
    px_p4json *j = NULL;
    assert_int_equal(px_p4json_parse("x.json", "{\"tables\": []}", 14, &j, &err), PX_EPARSE);
    assert_string_equal(px_buf_cstr(&err), "x.json: not a BMv2 JSON file: no 'pipelines' and 'actions' arrays\n");
    assert_null(j);
    px_buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_subset),       cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_match),              cmocka_unit_test(test_translate_all_kinds),
        cmocka_unit_test(test_translate_errors),
        cmocka_unit_test(test_translate_json_without_action_ids),   cmocka_unit_test(test_cli_rejects_entry),
        cmocka_unit_test(test_input_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
