/* Predicates from the expression language on a real veth pair: a representative
 * subset (fields with a VLAN tag, matches with its closest-frame diff, bpf,
 * not, sequence, counting, no_other_packets) armed with px_expect and driven by
 * the capture thread. Needs root; the veth pair is named "pxp<pid>a/b" and is
 * removed at the start (a leftover of a crashed run) and in the teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/cmocka.h"
#include "pktexpect/expr.h"
#include "pktexpect/pktexpect.h"
#include "pktexpect/text.h"
#include "px_test.h"

typedef struct env {
    px_ctx *ctx;
    px_registry *reg;
    char a[16], b[16]; /* send on a, expect on b */
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    px_test_ifname(e->a, "pxp", "a");
    px_test_ifname(e->b, "pxp", "b");
    char err[PX_ERRBUF_SIZE];
    px_topo_link_del(NULL, e->a, NULL);
    if (px_topo_veth_add(NULL, e->a, e->b, err) != 0) {
        print_error("veth %s/%s: %s\n", e->a, e->b, err);
        free(e);
        return -1;
    }
    e->ctx = px_ctx_new(NULL, err);
    e->reg = px_registry_new();
    if (!e->ctx || !e->reg) {
        print_error("context: %s\n", err);
        px_ctx_free(e->ctx);
        px_registry_free(e->reg);
        px_topo_link_del(NULL, e->a, NULL);
        free(e);
        return -1;
    }
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    if (!e)
        return 0;
    px_ctx_free(e->ctx);
    px_registry_free(e->reg);
    int rc = px_topo_link_del(NULL, e->a, NULL);
    free(e);
    return rc == 0 ? 0 : -1;
}

/* Arms the expression on port b. */
static px_future *expect(env *e, const char *expr, uint32_t timeout_ms)
{
    px_predicate *p = NULL;
    px_expr_error err;
    if (px_expr_parse(e->reg, expr, &p, &err) != 0)
        fail_msg("'%s': %s", expr, err.message);
    px_expect_opts o = {.timeout_ms = timeout_ms};
    px_future *f = px_expect(e->ctx, e->b, p, &o);
    assert_non_null(f);
    return f;
}

/* Sends a frame written in the text form on port a. */
static void send_text(env *e, const char *text)
{
    uint8_t *bytes;
    size_t len;
    char err[PX_ERRBUF_SIZE];
    if (px_frame_parse_text(text, &bytes, &len, err) != 0)
        fail_msg("'%s': %s", text, err);
    int rc = px_send(e->ctx, e->a, bytes, len, err);
    free(bytes);
    if (rc != 0)
        fail_msg("px_send: %s", err);
}

#define UDP53 "Ether(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/UDP(sport=999,dport=53)/Raw(\"query\")"
#define UDP67 "Ether(src=02:00:00:00:00:01,dst=ff:ff:ff:ff:ff:ff)/IPv4(src=0.0.0.0,dst=255.255.255.255)/UDP(sport=68,dport=67)"

static void test_fields_on_a_tagged_frame(void **state)
{
    env *e = *state;
    px_future *f = expect(e,
                          "all_of(saw_vlan_tag(102, pcp=3), saw_dst_mac(ff:ff:ff:ff:ff:ff), "
                          "saw_ipv4(dst=10.0.0.0/24, ttl=64), saw_udp(dport=53), payload_contains(\"hi\"))",
                          3000);
    send_text(e, "Ether(dst=ff:ff:ff:ff:ff:ff)/Dot1Q(vlan=102,pcp=3)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/"
                 "UDP(dport=53)/Raw(\"hi\")");
    px_assert_pass(f);
}

static void test_matches_and_closest_diff(void **state)
{
    env *e = *state;
    px_future *ok = expect(e, "matches(" UDP53 ", allow_padding=true)", 3000);
    px_future *bad = expect(e, "matches(" UDP53 ", ignore=[ipv4.chksum])", 300);
    send_text(e, UDP67);
    send_text(e, "Ether(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=63)/"
                 "UDP(sport=999,dport=53)/Raw(\"query\")");
    send_text(e, UDP53);
    px_assert_pass(ok);
    /* "bad" saw the exact frame too: it PASSes ... */
    px_assert_pass(bad);

    /* ... and without it, FAILs showing the closest frame and its diff */
    px_future *miss = expect(e, "matches(" UDP53 ", ignore=[ipv4.chksum])", 300);
    send_text(e, UDP67);
    send_text(e, "Ether(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=63)/"
                 "UDP(sport=999,dport=53)/Raw(\"query\")");
    px_assert_fail_keep(miss);
    const char *why = px_future_explanation(miss);
    if (!strstr(why, "closest was frame #2") || !strstr(why, "ipv4.ttl: expected 64, got 63"))
        fail_msg("explanation lacks the closest frame diff: %s", why);
    px_future_free(miss);
}

static void test_bpf_and_not(void **state)
{
    env *e = *state;
    px_future *dhcp = expect(e, "bpf(\"udp port 67 or ether proto 0x7788\")", 3000);
    px_future *no_tcp = expect(e, "not(bpf(\"tcp\"))", 300);
    send_text(e, UDP67);
    px_assert_pass(dhcp);
    px_assert_pass(no_tcp); /* at the close of its window */
}

static void test_sequence_and_counts(void **state)
{
    env *e = *state;
    px_future *seq = expect(e, "sequence(saw_udp(dport=67), saw_udp(dport=53))", 3000);
    px_future *cnt = expect(e, "count(saw_udp(dport=53)) == 3", 500);
    px_future *value = expect(e, "count(any_of(saw_udp(dport=53), saw_udp(dport=67)))", 500);
    px_future *only = expect(e, "no_other_packets(saw_udp())", 500);
    send_text(e, UDP53); /* before the first step: does not count for the sequence */
    send_text(e, UDP67);
    send_text(e, UDP53);
    send_text(e, UDP53);
    px_assert_pass(seq);
    px_assert_pass_keep(cnt);
    px_assert_value(cnt, 3);
    px_assert_value(value, 4);
    px_assert_pass(only);

    /* a negative sees its offender on the wire and stops there; it is keyed by
     * UDP destination port, so frame numbers count the frames with dport 67 */
    px_future *neg = expect(e, "did_not_see_udp(dport=67)", 3000);
    send_text(e, UDP53);
    send_text(e, UDP67);
    px_assert_fail_keep(neg);
    if (!strstr(px_future_explanation(neg), "frame #1 matched"))
        fail_msg("%s", px_future_explanation(neg));
    px_future_free(neg);
}

int main(void)
{
    px_test_require_root("test_pred_veth");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_on_a_tagged_frame),
        cmocka_unit_test(test_matches_and_closest_diff),
        cmocka_unit_test(test_bpf_and_not),
        cmocka_unit_test(test_sequence_and_counts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
