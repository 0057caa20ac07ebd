/* One-line sends and expectations (include/pktexpect/oneline.h) without
 * privileges: errors of the texts reported with their column and never lost
 * (errbuf and an ERROR future), nothing opened for a text that does not parse,
 * what the text form leaves to the sender (PX_TEXT_SRC_MAC_UNSET), and an
 * expression armed on an offline pcap port deciding PASS and FAIL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcap_stream.h"
#include "pktexpect/pktexpect.h"
#include "send_internal.h"

#define SEC 1000000000LL
#define MS 1000000LL

static px_ctx *new_ctx(void)
{
    char err[PX_ERRBUF_SIZE];
    px_ctx_opts o = {.noise_filter_off = true};
    px_ctx *ctx = px_ctx_new(&o, err);
    assert_non_null(ctx);
    return ctx;
}

/* ---- px_send_text ---- */

static void test_send_text_parse_error(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    char err[PX_ERRBUF_SIZE];
    /* column of the bad value, nothing opened on the port */
    assert_int_equal(px_send_text(ctx, "pxnone0", "Ether()/IPv4(ttl=300)/UDP()", err), PX_ERANGE);
    assert_true(strncmp(err, "col 18:", 7) == 0);
    assert_non_null(strstr(err, "ttl"));
    assert_int_equal(px_send_text(ctx, "pxnone0", "Ether()/IPv5()", err), PX_EINVAL); /* unknown layer */
    assert_true(strncmp(err, "col 9:", 6) == 0);
    assert_int_equal(px__tx_state_of(ctx, "pxnone0"), PX__TX_ABSENT);
    /* NULL errbuf and arguments */
    assert_int_equal(px_send_text(ctx, "pxnone0", "Ether()/IPv6(", NULL), PX_EPARSE);
    assert_int_equal(px_send_text(ctx, "pxnone0", NULL, err), PX_EINVAL);
    assert_int_equal(px_send_text(NULL, "pxnone0", "Ether()", err), PX_EINVAL);
    px_ctx_free(ctx);
}

static void test_text_src_mac_unset(void **state)
{
    (void)state;
    struct {
        const char *text;
        unsigned flags;
    } cases[] = {
        {"Ether()", PX_TEXT_SRC_MAC_UNSET},
        {"Ether(dst=ff:ff:ff:ff:ff:ff)/IPv4()/UDP()", PX_TEXT_SRC_MAC_UNSET},
        {"Ether/Dot1Q(vlan=5)/Ether(src=02:00:00:00:00:01)", PX_TEXT_SRC_MAC_UNSET}, /* the outer one counts */
        {"Ether(src=00:00:00:00:00:00)/IPv4()", 0},  /* given explicitly: kept */
        {"Ether(src=02:00:00:00:00:01)", 0},
        {"ffffffffffff000000000000 0800", 0},        /* plain hex: as written */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *b = NULL;
        size_t n = 0;
        unsigned flags = 99;
        char err[PX_ERRBUF_SIZE];
        if (px_frame_parse_text_ex(cases[i].text, &b, &n, &flags, err) != 0)
            fail_msg("%s: %s", cases[i].text, err);
        if (flags != cases[i].flags)
            fail_msg("%s: flags %u, want %u", cases[i].text, flags, cases[i].flags);
        free(b);
    }
}

/* ---- px_expect_expr: errors ---- */

/* The expression fails with a message containing `want` (and "col N:" when col). */
static void expect_refused(px_ctx *ctx, const char *expr, unsigned col, const char *want)
{
    char err[PX_ERRBUF_SIZE] = "x";
    px_future *f = px_expect_expr(ctx, "pxnone0", expr, NULL, err);
    assert_non_null(f);
    if (!strstr(err, want))
        fail_msg("%s: errbuf '%s' lacks '%s'", expr, err, want);
    if (col) {
        char c[16];
        snprintf(c, sizeof c, "col %u:", col);
        if (strncmp(err, c, strlen(c)) != 0)
            fail_msg("%s: errbuf '%s' does not start with '%s'", expr, err, c);
    }
    /* resolved at once, the reason kept in the future too */
    assert_true(px_future_done(f));
    assert_int_equal(px_future_verdict(f), PX_ERROR);
    px_buf r = PX_BUF_INIT;
    px_future_report(f, &r);
    if (!strstr(px_buf_cstr(&r), want))
        fail_msg("%s: report '%s' lacks '%s'", expr, px_buf_cstr(&r), want);
    px_buf_free(&r);
    if (!strstr(px_future_description(f), expr))
        fail_msg("%s: description '%s'", expr, px_future_description(f));
    px_future_free(f);
}

static void test_expect_expr_errors_not_lost(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    /* out-of-range constructor arguments: which argument, the range, the value */
    expect_refused(ctx, "saw_vlan_tag(5000)", 14, "argument 'vid' of saw_vlan_tag must be 0..4095, got 5000");
    expect_refused(ctx, "saw_vlan_tag(102, pcp=9)", 23, "'pcp' of saw_vlan_tag must be 0..7, got 9");
    expect_refused(ctx, "all_of(saw_udp(dport=53), saw_ipv4(ttl=256))", 40, "must be 0..255, got 256");
    expect_refused(ctx, "saw_ipv4(dst=10.0.0.0/33)", 0, "col ");
    /* what a constructor refuses after the checks of the grammar */
    expect_refused(ctx, "saw_vlan_tag(untagged=true, pcp=3)", 1, "untagged=true cannot be combined");
    expect_refused(ctx, "saw_ipv4(dst=2001:db8::1)", 1, "IPv4");
    /* syntax and names */
    expect_refused(ctx, "saw_vlan_tag(102", 0, "col ");
    expect_refused(ctx, "saw_vlan(102)", 1, "unknown predicate 'saw_vlan'");
    /* nothing was opened for any of them */
    px_port_stats st;
    assert_true(px_port_get_stats(ctx, "pxnone0", &st) != 0);
    /* NULL arguments */
    char err[PX_ERRBUF_SIZE];
    assert_null(px_expect_expr(ctx, "pxnone0", NULL, NULL, err));
    assert_null(px_expect_expr(NULL, "pxnone0", "received_packet()", NULL, err));
    assert_non_null(strstr(err, "no context"));
    px_ctx_free(ctx);
}

/* ---- px_expect_expr on an offline port ---- */

static void test_expect_expr_decides(void **state)
{
    (void)state;
    px_ctx *ctx = new_ctx();
    int p[2];
    assert_int_equal(pipe(p), 0);
    char err[PX_ERRBUF_SIZE] = "";
    px_pcap_port_opts po = {.fd = p[0], .paused = true};
    if (px_port_open_pcap(ctx, "a", &po, err) != 0)
        fail_msg("px_port_open_pcap: %s", err);
    close(p[0]);
    px_expect_opts o = {.timeout_ms = 100};
    px_future *yes = px_expect_expr(ctx, "a", "saw_ethertype(0x88b5)", &o, err);
    assert_string_equal(err, "");
    px_future *no = px_expect_expr(ctx, "a", "count(saw_ethertype(0x0800)) >= 1", &o, err);
    assert_string_equal(err, "");
    px_registry *reg = px_registry_new();
    px_future *custom = px_expect_expr_reg(ctx, reg, "a", "did_not_see_ethertype(0x86dd)", &o, err);
    px_registry_free(reg); /* only read during the call */
    assert_string_equal(err, "");
    assert_int_equal(px_port_start(ctx, "a"), 0);
    pcapng_write_shb(p[1]);
    pcapng_write_idb(p[1], "a");
    pcapng_write_epb(p[1], 0, 10 * SEC, 0x88b5, 0);
    pcapng_write_epb(p[1], 0, 10 * SEC + 500 * MS, 0x88b5, 0); /* past every window */
    close(p[1]);
    assert_int_equal(px_future_wait_for(yes, 10000), PX_PASS);
    assert_int_equal(px_future_wait_for(no, 10000), PX_FAIL);
    assert_int_equal(px_future_wait_for(custom, 10000), PX_PASS);
    px_future_free(yes);
    px_future_free(no);
    px_future_free(custom);
    px_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_text_parse_error),
        cmocka_unit_test(test_text_src_mac_unset),
        cmocka_unit_test(test_expect_expr_errors_not_lost),
        cmocka_unit_test(test_expect_expr_decides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
