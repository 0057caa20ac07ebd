/* The expression language: parsing, round trips through describe, evaluation of
 * parsed predicates on synthetic frames, every kind of parse-time error (with its
 * column), and the registry of user predicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/error.h"
#include "pktexpect/expr.h"
#include "pktexpect/text.h"

static px_registry *REG;

static int setup(void **state)
{
    (void)state;
    REG = px_registry_new();
    return REG ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    px_registry_free(REG);
    return 0;
}

static void expect_has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' does not contain '%s'", text, needle);
}

static px_predicate *parse_ok(const char *text)
{
    px_predicate *p = NULL;
    px_expr_error err;
    int rc = px_expr_parse(REG, text, &p, &err);
    if (rc != 0)
        fail_msg("'%s' does not parse: %s", text, err.message);
    assert_non_null(p);
    return p;
}

static char *describe(const px_predicate *p)
{
    px_buf b = PX_BUF_INIT;
    px_predicate_describe(p, &b);
    return px_buf_steal(&b);
}

/* Parses `text`; its description must be `canon`, and parsing `canon` again must
 * describe the same (the description is itself valid input). */
static void round_trip(const char *text, const char *canon)
{
    px_predicate *p = parse_ok(text);
    char *d = describe(p);
    if (strcmp(d, canon) != 0)
        fail_msg("'%s' describes as '%s', expected '%s'", text, d, canon);
    px_predicate *q = parse_ok(d);
    char *d2 = describe(q);
    assert_string_equal(d, d2);
    free(d);
    free(d2);
    px_predicate_free(p);
    px_predicate_free(q);
}

static void test_round_trips(void **state)
{
    (void)state;
    round_trip("saw_vlan_tag(102)", "saw_vlan_tag(102)");
    /* One count vocabulary: the first names are aliases of the combinators. */
    round_trip("packet_count()", "count()");
    round_trip("packet_count_was(3)", "exactly(3)");
    round_trip("packet_count_was_less_than(3)", "at_most(2)");
    round_trip("saw_vlan_tag( vid = 102 , pcp=3, tpid=0x88a8, depth=1)",
               "saw_vlan_tag(102, pcp=3, tpid=0x88a8, depth=1)");
    round_trip("did_not_see_vlan_tag(untagged=true)", "did_not_see_vlan_tag(untagged=true)");
    round_trip("all_of(saw_dst_mac(ff:ff:ff:ff:ff:ff), saw_ipv4(dst=10.0.0.2))",
               "all_of(saw_dst_mac(ff:ff:ff:ff:ff:ff), saw_ipv4(dst=10.0.0.2))");
    round_trip("saw_src_mac(01:00:00:00:00:00, mask=01:00:00:00:00:00)",
               "saw_src_mac(01:00:00:00:00:00, mask=01:00:00:00:00:00)");
    round_trip("saw_ipv4(src=10.0.0.0/8, ttl=63, dscp=46, proto=17)",
               "saw_ipv4(src=10.0.0.0/8, proto=17, ttl=63, dscp=46)");
    round_trip("saw_ipv6(dst=2001:DB8::/32, ttl=255)", "saw_ipv6(dst=2001:db8::/32, ttl=255)");
    round_trip("saw_tcp(dport=443, flags=\"SA\")", "saw_tcp(dport=443, flags=\"SA\")");
    round_trip("saw_tcp(flags=\"s\", flags_mask=\"S\")", "saw_tcp(flags=\"S\", flags_mask=\"S\")");
    round_trip("saw_tcp(flags=0x11, flags_mask=255)", "saw_tcp(flags=\"FA\", flags_mask=\"FSRPAUEC\")");
    round_trip("saw_tcp(flags=\"\")", "saw_tcp(flags=\"\")");
    round_trip("saw_udp(sport=68, dport=67, encap=1)", "saw_udp(sport=68, dport=67, encap=1)");
    round_trip("saw_icmp(8)", "saw_icmp(type=8)");
    round_trip("did_not_see_icmpv6(135, 0)", "did_not_see_icmpv6(type=135, code=0)");
    round_trip("saw_mpls(100, s=1, depth=1)", "saw_mpls(label=100, s=1, depth=1)");
    round_trip("saw_vxlan(0x1388)", "saw_vxlan(vni=5000)");
    round_trip("payload_contains(\"GET /\\x00\\\"\")", "payload_contains(hex=\"474554202f0022\")");
    round_trip("payload_contains(\"\\x0b\\xFf\")", "payload_contains(hex=\"0bff\")");
    round_trip("payload_contains(\"say \\\"hi\\\"\")", "payload_contains(\"say \\\"hi\\\"\")");
    round_trip("payload_contains(hex=\"de:ad be ef\")", "payload_contains(hex=\"deadbeef\")");
    round_trip("bpf(\"udp port 67 or ether proto 0x7788\")", "bpf(\"udp port 67 or ether proto 0x7788\")");
    round_trip("not(sequence(saw_udp(), any_of(saw_tcp(), saw_ethertype(0x88b5))))",
               "not(sequence(saw_udp(), any_of(saw_tcp(), saw_ethertype(0x88b5))))");
    round_trip("exactly(2, saw_udp(dport=53))", "exactly(2, saw_udp(dport=53))");
    round_trip("between(1, 3)", "between(1, 3)");
    round_trip("count()", "count()");
    round_trip("no_other_packets(saw_udp())", "no_other_packets(saw_udp())");
    /* comparisons map to the counting predicates */
    round_trip("count() == 3", "exactly(3)");
    round_trip("count(saw_udp()) >= 2", "at_least(2, saw_udp())");
    round_trip("count(saw_udp())>2", "at_least(3, saw_udp())");
    round_trip("count() <= 1", "at_most(1)");
    round_trip("count() < 1", "at_most(0)");
    round_trip("count(saw_tcp()) != 0", "count(saw_tcp()) != 0");
    round_trip("all_of(count(saw_udp()) == 1, saw_tcp())", "all_of(exactly(1, saw_udp()), saw_tcp())");
}

typedef struct tframe {
    uint8_t *bytes;
    size_t len;
    px_frame f;
} tframe;

/* Runs a parsed expression over frames given in the text form. */
static px_verdict eval(const char *expr, const char *const *frames, size_t n, int64_t *value)
{
    px_predicate *p = parse_ok(expr);
    bool stopped = false;
    for (size_t i = 0; i < n && !stopped; i++) {
        tframe t;
        char err[PX_ERRBUF_SIZE];
        if (px_frame_parse_text(frames[i], &t.bytes, &t.len, err) != 0)
            fail_msg("%s: %s", frames[i], err);
        px_frame_dissect(&t.f, t.bytes, (uint32_t)t.len, (uint32_t)t.len);
        stopped = px_predicate_offer(p, &t.f);
        free(t.bytes);
    }
    px_result res = {0};
    px_verdict v = px_predicate_finish(p, !stopped, &res);
    if (value)
        *value = res.has_value ? res.value : -1;
    px_buf_free(&res.explanation);
    px_predicate_free(p);
    return v;
}

static void test_evaluation(void **state)
{
    (void)state;
    const char *fr[] = {
        "Ether(dst=ff:ff:ff:ff:ff:ff)/Dot1Q(vlan=102)/IPv4(src=10.0.0.1,dst=10.0.0.2)/UDP(dport=53)/Raw(\"hi\")",
        "Ether()/IPv4()/TCP(flags=\"S\")",
        "Ether()/IPv4()/UDP(dport=53)",
    };
    int64_t v;
    assert_int_equal(eval("all_of(saw_dst_mac(ff:ff:ff:ff:ff:ff), saw_vlan_tag(102), saw_ipv4(dst=10.0.0.0/24))",
                          fr, 3, NULL),
                     PX_PASS);
    assert_int_equal(eval("count(saw_udp(dport=53)) == 2", fr, 3, &v), PX_PASS);
    assert_int_equal(v, 2);
    assert_int_equal(eval("count(saw_udp(dport=53)) > 2", fr, 3, &v), PX_FAIL);
    assert_int_equal(eval("count()", fr, 3, &v), PX_PASS);
    assert_int_equal(v, 3);
    assert_int_equal(eval("sequence(payload_contains(\"hi\"), saw_tcp(flags=\"S\"))", fr, 3, NULL), PX_PASS);
    assert_int_equal(eval("not(bpf(\"tcp[tcpflags] & tcp-syn != 0\"))", fr, 3, NULL), PX_FAIL);
    assert_int_equal(eval("did_not_see_ipv6()", fr, 3, NULL), PX_PASS);
    assert_int_equal(eval("packet_count_was(3)", fr, 3, NULL), PX_PASS);
    assert_int_equal(eval("saw_tag(42)", fr, 3, NULL), PX_FAIL); /* no tag trailer in these frames */
    /* Tags use all 64 bits (px_send_tag_new starts at a random one). */
    const char *tagged[] = {"Ether()/IPv4()/UDP(dport=9)/Raw(\"PXTAG\\x00v1\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff"
                            "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\")"};
    assert_int_equal(eval("saw_tag(0xffffffffffffffff)", tagged, 1, NULL), PX_PASS);
    assert_int_equal(eval("saw_tag(18446744073709551615)", tagged, 1, NULL), PX_PASS);
    assert_int_equal(eval("saw_tag(0xfffffffffffffffe)", tagged, 1, NULL), PX_FAIL);
    assert_int_equal(eval("timed_out()", fr, 0, NULL), PX_PASS);
    assert_int_equal(eval("received_packet()", fr, 1, NULL), PX_PASS);
}

/* One rule for frames, the text form's (docs/text-form.md): a layer's
 * parentheses may be left out, and blanks may surround '/'. */
static void test_frames_without_parentheses(void **state)
{
    (void)state;
    const char *fr[] = {"Ether()/IPv4()/UDP()"};
    assert_int_equal(eval("matches(Ether/IPv4/UDP)", fr, 1, NULL), PX_PASS);
    assert_int_equal(eval("matches(Ether()/IPv4/UDP())", fr, 1, NULL), PX_PASS);
    assert_int_equal(eval("matches( Ether / IPv4(ttl=64) / UDP , ignore=[ipv4.chksum])", fr, 1, NULL), PX_PASS);
    assert_int_equal(eval("matches(Ether/IPv4/TCP)", fr, 1, NULL), PX_FAIL);
    assert_int_equal(eval("all_of(matches(Ether/IPv4/UDP), saw_udp())", fr, 1, NULL), PX_PASS);
    assert_int_equal(eval("matches(expected=Ether/IPv4/UDP, allow_padding=true)", fr, 1, NULL), PX_PASS);
    round_trip("matches(Ether/IPv4/UDP)", "matches(Ether/IPv4/UDP)");
}

/* Parsing must fail with `code`, at `column`, with `needle` in the message. */
static void bad(const char *text, int code, unsigned column, const char *needle)
{
    px_predicate *p = (px_predicate *)&p; /* must be reset to NULL */
    px_expr_error err;
    int rc = px_expr_parse(REG, text, &p, &err);
    if (rc != code)
        fail_msg("'%s': expected %s, got %s (%s)", text, px_err_name(code), px_err_name(rc), err.message);
    assert_null(p);
    if (err.column != column)
        fail_msg("'%s': expected column %u, got %u (%s)", text, column, err.column, err.message);
    expect_has(err.message, needle);
}

static void test_errors(void **state)
{
    bad("matches(Ether/)", PX_EPARSE, 14, "");
    (void)state;
    bad("saw_vlan(102)", PX_EPARSE, 1, "unknown predicate 'saw_vlan' (did you mean 'saw_vlan_tag'?)");
    bad("saw_vlan(102)", PX_EPARSE, 1, "valid names:\n  all_of, any_of, at_least");
    /* every name whole, even after a long "did you mean": nothing left out */
    bad("saw_vlan(102)", PX_EPARSE, 1, "mpls, src_mac, tcp, udp, vlan_tag, vxlan");
    bad("all_of(saw_udp(), sav_tcp())", PX_EPARSE, 19, "did you mean 'saw_tcp'");
    bad("saw_ipv4(ttl=63, dstt=10.0.0.1)", PX_EPARSE, 18,
        "unknown argument 'dstt' of saw_ipv4; arguments are: src, dst, proto, ttl, dscp, ecn, encap");
    bad("saw_vlan_tag(4096)", PX_ERANGE, 14, "argument 'vid' of saw_vlan_tag must be 0..4095, got 4096");
    bad("packet_count_was_less_than(0)", PX_ERANGE, 28,
        "argument 'n' of packet_count_was_less_than must be 1..");
    bad("saw_udp(dport=70000)", PX_ERANGE, 15, "must be 0..65535");
    bad("saw_vlan_tag(\"102\")", PX_EINVAL, 14, "must be an integer, not a string");
    bad("saw_ipv4(src=10.0.0.1/33)", PX_ERANGE, 14, "prefix length");
    bad("saw_ipv4(src=10.0.0.1/8)", PX_ERANGE, 14, "bits set after /8");
    bad("saw_ipv4(src=2001:db8::1)", PX_EINVAL, 1, "'src' must be an IPv4 address or prefix");
    bad("saw_ipv4(src=10.0.0.300)", PX_EPARSE, 14, "is not an integer, MAC address, IP address or name");
    bad("saw_ipv4(10.0.0.1)", PX_EPARSE, 10, "too many positional arguments for saw_ipv4");
    bad("saw_vlan_tag(1, vid=2)", PX_EPARSE, 17, "argument 'vid' of saw_vlan_tag given twice");
    bad("bpf()", PX_EPARSE, 5, "bpf needs argument 'filter'");
    bad("bpf(\"udp prot 67\")", PX_EBPF, 1, "does not compile");
    bad("saw_tcp(flags=\"SX\")", PX_EINVAL, 1, "unknown TCP flag 'X'");
    bad("payload_contains()", PX_EINVAL, 1, "either text");
    bad("payload_contains(hex=\"abc\")", PX_EINVAL, 1, "pairs of hex digits");
    bad("saw_udp(", PX_EPARSE, 9, "expected an argument or ')' in the arguments of saw_udp, got the end");
    bad("saw_udp(dport=", PX_EPARSE, 15, "expected a value, got the end of the text");
    bad("saw_udp(dport=53", PX_EPARSE, 17, "expected ',' or ')'");
    bad("saw_udp() saw_tcp()", PX_EPARSE, 11, "unexpected 's' after the end");
    bad("payload_contains(\"abc)", PX_EPARSE, 18, "string not closed");
    bad("payload_contains(\"\\q\")", PX_EPARSE, 19, "unknown escape");
    bad("42", PX_EPARSE, 1, "expected a predicate");
    bad("", PX_EPARSE, 1, "expected a value");
    bad("saw_udp() == 3", PX_EPARSE, 11, "only count(...) can be compared");
    bad("count() == x", PX_EPARSE, 12, "expected a non-negative integer");
    bad("count() < 0", PX_ERANGE, 11, "can never be true");
    bad("exactly(2, sequence(saw_udp(), saw_tcp()))", PX_EINVAL, 1, "must be a test of one frame");
    bad("between(3, 2)", PX_EINVAL, 1, "lo (3) is greater than hi (2)");
    bad("saw_vxlan(99999999999999999999)", PX_EPARSE, 11, "is not an integer");
    bad("saw_tag(0x10000000000000000)", PX_EPARSE, 9, "up to 2^64-1");
    bad("exactly(0x8000000000000000, saw_udp())", PX_ERANGE, 9,
        "argument 'n' of exactly must be at most 2^63-1, got 9223372036854775808");
    bad("not(saw_udp(), saw_tcp())", PX_EPARSE, 16, "too many positional arguments for not");
    bad("all_of(1)", PX_EINVAL, 8, "argument 'preds' of all_of must be a predicate, not an integer");
    bad("saw_vlan_tag(untagged=true, vid=3)", PX_EINVAL, 1, "cannot be combined");

    /* nesting deeper than the limit is an error, not a stack overflow */
    char deep[64 * 4 + 32] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "not(");
    assert_true(strlen(deep) < sizeof deep);
    px_predicate *p = NULL;
    px_expr_error err;
    assert_int_equal(px_expr_parse(REG, deep, &p, &err), PX_ERANGE);
    expect_has(err.message, "nested more than");
    assert_int_equal(px_expr_parse(NULL, NULL, &p, NULL), PX_EINVAL);
}

static void test_null_registry_means_builtins(void **state)
{
    (void)state;
    px_predicate *p = NULL;
    assert_int_equal(px_expr_parse(NULL, "saw_udp(dport=53)", &p, NULL), 0);
    px_predicate_free(p);
    px_registry *empty = px_registry_new_empty();
    px_expr_error err;
    assert_int_equal(px_expr_parse(empty, "saw_udp()", &p, &err), PX_EPARSE);
    expect_has(err.message, "unknown predicate 'saw_udp'");
    px_registry_free(empty);
}

/* ---- user predicates ---- */

static px_predicate *my_factory(px_expr_args *args, void *user, char *errbuf)
{
    (void)errbuf;
    int *calls = user;
    (*calls)++;
    return px_exactly((uint64_t)px_expr_arg_int(args, "n", 1), px_expr_take_pred(px_expr_arg(args, "what")));
}

static const px_expr_param my_params[] = {
    {"n", PX_EXPR_INT, PX_EXPR_REQUIRED, 1, 10, "how many"},
    {"what", PX_EXPR_PRED, PX_EXPR_REQUIRED, 0, 0, "per-frame predicate"},
};

static void test_user_registration(void **state)
{
    (void)state;
    int calls = 0;
    px_expr_def def = {"n_times", "n frames of a kind", my_params, 2, my_factory, &calls};
    char errbuf[PX_ERRBUF_SIZE];
    assert_int_equal(px_registry_add(REG, &def, errbuf), 0);
    assert_int_equal(px_registry_add(REG, &def, errbuf), PX_EEXIST);
    expect_has(errbuf, "already registered");
    px_expr_def badname = def;
    badname.name = "Bad-Name";
    assert_int_equal(px_registry_add(REG, &badname, errbuf), PX_EINVAL);
    px_expr_def nofactory = def;
    nofactory.name = "nofactory";
    nofactory.factory = NULL;
    assert_int_equal(px_registry_add(REG, &nofactory, errbuf), PX_EINVAL);
    assert_non_null(px_registry_find(REG, "n_times"));

    round_trip("n_times(2, saw_udp())", "exactly(2, saw_udp())");
    assert_int_equal(calls, 1); /* the second parse in round_trip reads plain exactly() */
    bad("n_times(11, saw_udp())", PX_ERANGE, 9, "must be 1..10");
    bad("n_times(what=saw_udp())", PX_EPARSE, 23, "n_times needs argument 'n' (how many)");
    /* the registry is sorted and findable */
    for (size_t i = 1; i < px_registry_count(REG); i++)
        assert_true(strcmp(px_registry_get(REG, i - 1)->name, px_registry_get(REG, i)->name) < 0);
    assert_null(px_registry_get(REG, px_registry_count(REG)));
}

/* A valid value of a parameter, for filling the required ones. */
static void some_value(const px_expr_param *q, px_buf *out)
{
    if (q->types & PX_EXPR_INT)
        px_buf_printf(out, "%lld", (long long)q->min);
    else if (q->types & PX_EXPR_PRED)
        px_buf_append(out, "received_packet()");
    else if (q->types & PX_EXPR_MAC)
        px_buf_append(out, "02:00:00:00:00:01");
    else if (q->types & PX_EXPR_IP)
        px_buf_append(out, "10.0.0.1");
    else if (q->types & PX_EXPR_FRAME)
        px_buf_append(out, "Ether()/IPv4()");
    else if (q->types & PX_EXPR_NAME)
        px_buf_append(out, "ipv4.ttl");
    else
        px_buf_append(out, "\"x\"");
}

/* Every ranged integer argument of every built-in: one past its range is a
 * precise error (which argument, the range, the value, the column), never a
 * constructor's bare refusal; its bounds themselves are accepted (a constructor
 * refusing them would be reported as "out of memory"). */
static void test_every_range_is_precise(void **state)
{
    (void)state;
    px_registry *reg = px_registry_new();
    assert_non_null(reg);
    unsigned checked = 0;
    for (size_t i = 0; i < px_registry_count(reg); i++) {
        const px_expr_def *d = px_registry_get(reg, i);
        for (size_t k = 0; k < d->nparams; k++) {
            const px_expr_param *p = &d->params[k];
            if (!(p->types & PX_EXPR_INT) || (p->flags & (PX_EXPR_U64 | PX_EXPR_VARIADIC)) || !(p->min || p->max) ||
                p->max == INT64_MAX)
                continue;
            px_buf t = PX_BUF_INIT, want = PX_BUF_INIT;
            px_buf_printf(&t, "%s(%s=%lld)", d->name, p->name, (long long)p->max + 1);
            px_buf_printf(&want, "col %zu: argument '%s' of %s must be %lld..%lld, got %lld", strlen(d->name) + 2 +
                          strlen(p->name) + 1, p->name, d->name, (long long)p->min, (long long)p->max,
                          (long long)p->max + 1);
            px_predicate *pred = NULL;
            px_expr_error e;
            int rc = px_expr_parse(reg, px_buf_cstr(&t), &pred, &e);
            if (rc != PX_ERANGE || strcmp(e.message, px_buf_cstr(&want)) != 0)
                fail_msg("%s: rc %d, '%s'; wanted '%s'", px_buf_cstr(&t), rc, e.message, px_buf_cstr(&want));
            /* the bounds, with every other required argument given */
            for (int b = 0; b < 2; b++) {
                px_buf_clear(&t);
                px_buf_printf(&t, "%s(%s=%lld", d->name, p->name, (long long)(b ? p->max : p->min));
                for (size_t j = 0; j < d->nparams; j++) {
                    if (j == k || !(d->params[j].flags & PX_EXPR_REQUIRED))
                        continue;
                    px_buf_printf(&t, ", %s=", d->params[j].name);
                    some_value(&d->params[j], &t);
                }
                px_buf_append(&t, ")");
                rc = px_expr_parse(reg, px_buf_cstr(&t), &pred, &e);
                if (rc == PX_ENOMEM || (rc != 0 && strstr(e.message, "arguments rejected")))
                    fail_msg("%s: an in-range value refused without a reason: %s", px_buf_cstr(&t), e.message);
                px_predicate_free(pred);
                pred = NULL;
            }
            px_buf_free(&t);
            px_buf_free(&want);
            checked++;
        }
    }
    assert_true(checked >= 30);
    px_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_range_is_precise),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_evaluation),
        cmocka_unit_test(test_frames_without_parentheses),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_null_registry_means_builtins),
        cmocka_unit_test(test_user_registration),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
