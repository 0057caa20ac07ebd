/* Open vSwitch OpenFlow pipeline, tested with pktexpect from C (cmocka).
 *
 * Topology: seven veth pairs. One end of each (sN) is a port of an Open vSwitch
 * bridge with the userspace datapath, pinned to OpenFlow port N; the test
 * captures and injects on the other end (tN). The switch ends and ovs-vswitchd
 * live in a network namespace of their own; the test's ends stay in the test's. scripts/ovs.sh runs a private OVS
 * (own database, sockets and pid files) and loads examples/ovs/pipeline.flows:
 *
 *   t1 --- 1 [ ACL -> mirror -> forward ] 3 --- t3   trunk (802.1Q)
 *   t2 --- 2 [                          ] 4 --- t4   next-hop router
 *                                       5 --- t5   monitor
 *                                     6,7 --- t6, t7 multicast group 1
 *
 * Every behaviour is checked positively (the frame leaves where it should, as it
 * should) and negatively (it leaves nowhere else; the dropped flow appears on no
 * port; the monitor gets exactly one copy). Expectations are armed before the
 * frame is sent, so no sleep is needed; each negative check costs one window and
 * all checks of a test run in parallel (px_future_wait_all).
 *
 * Needs root (veth, raw sockets) and Open vSwitch: off CI it skips when either is
 * missing; under CI it fails. Everything it creates is removed in the group
 * teardown, also when a test fails, and leftovers of a killed run are removed at
 * start.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <pktexpect/context.h>
#include <pktexpect/expect.h>
#include <pktexpect/predicates.h>
#include <pktexpect/send.h>
#include <pktexpect/topology.h>

#include "../tests/px_test.h"
#include "switch_util.h"

#define NPORTS 7
/* Windows: a positive check passes as soon as its frame arrives; a negative one
 * always lasts its whole window. */
#define POSITIVE_MS 3000u
#define NEGATIVE_MS 500u

/* Addresses of the pipeline (see examples/ovs/pipeline.flows). */
#define MAC_HOST_A "02:00:00:00:01:01"
#define MAC_HOST_B "02:00:00:00:02:01"
#define MAC_TRUNK_HOST "02:00:00:00:03:01"
#define MAC_ROUTER "02:00:00:00:fe:01"
#define MAC_NEXT_HOP "02:00:00:00:04:01"
#define MAC_GROUP "01:00:5e:01:02:03"

typedef struct suite {
    char sw[NPORTS + 1][16];   /* switch side of pair N (index 1..7) */
    char host[NPORTS + 1][16]; /* test side */
    char bridge[16];
    char netns[16];            /* the switch side and OVS live in this namespace */
    char ovs_script[512];
    char flows[512];
    px_ctx *ctx;
} suite;

static void die_or_skip(const char *why)
{
    char msg[512];
    snprintf(msg, sizeof msg, "ovs_pipeline: %s", why);
    px_test_unavailable(msg, msg);
}

static int ovs(suite *s, const char *cmd, const char *a1, const char *a2)
{
    char *argv[] = {s->ovs_script, (char *)cmd, (char *)a1, (char *)a2, NULL};
    return sw_run(argv);
}

static void remove_all(suite *s)
{
    if (s->ctx) {
        px_ctx_free(s->ctx);
        s->ctx = NULL;
    }
    ovs(s, "stop", NULL, NULL);
    for (int i = 1; i <= NPORTS; i++)
        px_topo_link_del(NULL, s->host[i], NULL); /* takes its peer along */
    px_topo_netns_del(s->netns, NULL);          /* and whatever is left in there */
}

static int group_setup(void **state)
{
    static suite s;
    char err[PX_ERRBUF_SIZE];
    const char *src = getenv("PX_SOURCE_DIR");
    if (!src)
        src = ".";
    snprintf(s.ovs_script, sizeof s.ovs_script, "%s/scripts/ovs.sh", src);
    snprintf(s.flows, sizeof s.flows, "%s/examples/ovs/pipeline.flows", src);
    if (access(s.ovs_script, X_OK) != 0 || access(s.flows, R_OK) != 0)
        die_or_skip("scripts/ovs.sh or examples/ovs/pipeline.flows not found: set PX_SOURCE_DIR");
    char *probe[] = {"ovs-vswitchd", "--version", NULL};
    if (sw_run_opt(probe, true) != 0)
        die_or_skip("Open vSwitch is not installed (scripts/deps.sh ovs)");

    for (int i = 1; i <= NPORTS; i++) {
        char suf[16];
        snprintf(suf, sizeof suf, "s%d", i);
        px_test_ifname(s.sw[i], "pxo", suf);
        snprintf(suf, sizeof suf, "t%d", i);
        px_test_ifname(s.host[i], "pxo", suf);
    }
    px_test_ifname(s.bridge, "pxo", "br");
    px_test_ifname(s.netns, "pxo", "ns");
    /* scripts/ovs.sh keeps this instance in its own directory named after the
     * bridge, and runs ovs-vswitchd in our namespace: an OVS userspace datapath
     * makes devices of fixed names, so each instance needs a namespace of its own. */
    unsetenv("PX_OVS_DIR");
    setenv("PX_OVS_NAME", s.bridge, 1);
    setenv("PX_OVS_NETNS", s.netns, 1);
    char owner[16];
    snprintf(owner, sizeof owner, "%ld", (long)getpid());
    setenv("PX_OVS_OWNER", owner, 1);

    /* Leftovers of runs that were killed: their OVS instances and interfaces. */
    ovs(&s, "reap", NULL, NULL);
    sw_reap_links("pxo", "stbn");
    sw_reap_netns("pxo", "stbn");
    remove_all(&s);

    if (px_topo_netns_add(s.netns, err) != 0 || sw_netns_no_ipv6(s.netns, err) != 0) {
        fprintf(stderr, "namespace %s: %s\n", s.netns, err);
        goto fail;
    }
    for (int i = 1; i <= NPORTS; i++) {
        if (px_topo_veth_add(NULL, s.sw[i], s.host[i], err) != 0 ||
            px_topo_link_set_netns(NULL, s.sw[i], s.netns, err) != 0 ||
            px_topo_link_set_up(s.netns, s.sw[i], true, err) != 0) {
            fprintf(stderr, "veth %s/%s: %s\n", s.sw[i], s.host[i], err);
            goto fail;
        }
        sw_no_ipv6(s.host[i]);
    }
    if (ovs(&s, "start", NULL, NULL) != 0) {
        fprintf(stderr, "scripts/ovs.sh start failed\n");
        goto fail;
    }
    {
        char ports[NPORTS + 1][40];
        char *argv[NPORTS + 4] = {s.ovs_script, "bridge", s.bridge};
        for (int i = 1; i <= NPORTS; i++) {
            snprintf(ports[i], sizeof ports[i], "%s=%d", s.sw[i], i);
            argv[2 + i] = ports[i];
        }
        argv[NPORTS + 3] = NULL;
        if (sw_run(argv) != 0) {
            fprintf(stderr, "scripts/ovs.sh bridge failed\n");
            goto fail;
        }
    }
    if (ovs(&s, "flows", s.bridge, s.flows) != 0) {
        fprintf(stderr, "scripts/ovs.sh flows failed\n");
        goto fail;
    }
    px_ctx_opts opts = {.default_timeout_ms = POSITIVE_MS};
    s.ctx = px_ctx_new(&opts, err);
    if (!s.ctx) {
        fprintf(stderr, "px_ctx_new: %s\n", err);
        goto fail;
    }
    for (int i = 1; i <= NPORTS; i++) {
        if (px_port_open(s.ctx, s.host[i], err) != 0) {
            fprintf(stderr, "px_port_open(%s): %s\n", s.host[i], err);
            goto fail;
        }
    }
    *state = &s;
    return 0;
fail:
    remove_all(&s);
    return -1;
}

static int group_teardown(void **state)
{
    suite *s = *state;
    if (s)
        remove_all(s);
    return 0;
}

/* ---- helpers ---- */

static void send_udp(suite *s, int port, const sw_udp *u)
{
    sw_send_udp(s->ctx, s->host[port], u);
}

/* Arms `pred` on host port N, seeing only frames that pass `filter`. */
static px_future *on(suite *s, int port, px_predicate *pred, const char *filter, uint32_t ms,
                     const char *name)
{
    sw_ports p = {s->ctx, NPORTS, s->host};
    return sw_on(&p, port, pred, filter, ms, name);
}

/* Negative check over every host port except those in `skip`. */
static px_future *nowhere_but(suite *s, unsigned skip, const char *filter, const char *name)
{
    sw_ports p = {s->ctx, NPORTS, s->host};
    return sw_nowhere_but(&p, skip, filter, NEGATIVE_MS, name);
}

/* ---- tests ---- */

/* Untagged frames from port 1 leave the trunk (port 3) tagged with VLAN 100, and
 * leave no other port but the monitor. */
static void test_push_vlan_on_ingress_port_1(void **state)
{
    suite *s = *state;
    sw_filter F = sw_tagged_or_not("udp port 7100");
    const char *flt = F.s;
    px_future *f[3];
    f[0] = on(s, 3, sw_vlan(100, false), flt, POSITIVE_MS, "trunk gets VLAN 100");
    f[1] = on(s, 5, px_exactly(1, NULL), flt, NEGATIVE_MS, "monitor gets one copy");
    f[2] = nowhere_but(s, SW_BIT(3) | SW_BIT(5), flt, "nowhere else");
    sw_udp u = {.dst = MAC_HOST_B, .src = MAC_HOST_A, .vlan = -1, .ip_src = "192.0.2.1",
                .ip_dst = "192.0.2.2", .ttl = 64, .sport = 7100, .dport = 7101, .payload = "push"};
    send_udp(s, 1, &u);
    sw_check(f[0], PX_PASS);
    sw_check(f[1], PX_PASS);
    sw_check(f[2], PX_PASS);
}

/* VLAN 200 from the trunk leaves port 2 untagged; it is not mirrored. */
static void test_pop_vlan_towards_port_2(void **state)
{
    suite *s = *state;
    sw_filter F = sw_tagged_or_not("udp port 7200");
    const char *flt = F.s;
    px_future *f[2];
    f[0] = on(s, 2, sw_vlan(-1, true), flt, POSITIVE_MS, "port 2 gets it untagged");
    f[1] = nowhere_but(s, SW_BIT(2), flt, "nowhere else, not even the monitor");
    sw_udp u = {.dst = MAC_HOST_B, .src = MAC_TRUNK_HOST, .vlan = 200, .ip_src = "192.0.2.3",
                .ip_dst = "192.0.2.2", .ttl = 64, .sport = 7200, .dport = 7201, .payload = "pop"};
    send_udp(s, 3, &u);
    sw_check(f[0], PX_PASS);
    sw_check(f[1], PX_PASS);
}

/* A VLAN the pipeline has no rule for (300) is dropped: it appears on no port. */
static void test_unknown_vlan_from_trunk_is_dropped(void **state)
{
    suite *s = *state;
    sw_filter F = sw_tagged_or_not("udp port 7300");
    const char *flt = F.s;
    px_future *f = nowhere_but(s, SW_BIT(3), flt, "VLAN 300 appears nowhere");
    sw_udp u = {.dst = MAC_HOST_B, .src = MAC_TRUNK_HOST, .vlan = 300, .ip_src = "192.0.2.3",
                .ip_dst = "192.0.2.2", .ttl = 64, .sport = 7300, .dport = 7301, .payload = "drop"};
    send_udp(s, 3, &u);
    sw_check(f, PX_PASS);
}

/* The router hop: IPv4 to 198.51.100.0/24 sent to the router MAC leaves port 4 with
 * the router MAC as source, the next hop as destination and TTL 64 - 1. */
static void test_router_hop_rewrites_mac_and_decrements_ttl(void **state)
{
    suite *s = *state;
    sw_filter F = sw_tagged_or_not("udp port 7400");
    const char *flt = F.s;
    px_ip_spec ip = PX_IP_SPEC_ANY;
    ip.ttl = 63;
    px_predicate *all[3] = {sw_src_mac(MAC_ROUTER), sw_dst_mac(MAC_NEXT_HOP), px_saw_ipv4(&ip)};
    px_future *f[3];
    /* A count of exactly one frame that satisfies all three fields at once. */
    px_predicate *each[3] = {sw_src_mac(MAC_ROUTER), sw_dst_mac(MAC_NEXT_HOP), px_saw_ipv4(&ip)};
    f[0] = on(s, 4, px_all_of(all, 3), flt, POSITIVE_MS, "next hop gets the rewritten frame");
    f[1] = on(s, 4, px_exactly(1, px_all_of(each, 3)), flt, NEGATIVE_MS, "exactly once");
    f[2] = nowhere_but(s, SW_BIT(4) | SW_BIT(5), flt, "nowhere else");
    sw_udp u = {.dst = MAC_ROUTER, .src = MAC_HOST_A, .vlan = -1, .ip_src = "192.0.2.1",
                .ip_dst = "198.51.100.7", .ttl = 64, .sport = 7400, .dport = 7401, .payload = "hop"};
    send_udp(s, 1, &u);
    sw_check(f[0], PX_PASS);
    sw_check(f[1], PX_PASS);
    sw_check(f[2], PX_PASS);
}

/* Negative router checks: outside the prefix the frame is not routed (it takes the
 * VLAN push rule instead), and a TTL that would reach 0 is not forwarded at all. */
static void test_router_hop_negative(void **state)
{
    suite *s = *state;
    sw_filter off = sw_tagged_or_not("udp port 7410"), ttl1 = sw_tagged_or_not("udp port 7420");
    px_future *f[3];
    f[0] = nowhere_but(s, SW_BIT(3) | SW_BIT(5), off.s, "203.0.113.7 is not routed");
    f[1] = on(s, 3, sw_vlan(100, false), off.s, POSITIVE_MS, "it is switched instead");
    f[2] = nowhere_but(s, SW_BIT(5), ttl1.s, "TTL 1 is not forwarded");
    sw_udp u = {.dst = MAC_ROUTER, .src = MAC_HOST_A, .vlan = -1, .ip_src = "192.0.2.1",
                .ip_dst = "203.0.113.7", .ttl = 64, .sport = 7410, .dport = 7411, .payload = "off"};
    send_udp(s, 1, &u);
    u.ip_dst = "198.51.100.7";
    u.ttl = 1;
    u.sport = 7420;
    u.dport = 7421;
    send_udp(s, 1, &u);
    sw_check(f[0], PX_PASS);
    sw_check(f[1], PX_PASS);
    sw_check(f[2], PX_PASS);
}

/* The ACL drops one 5-tuple: that flow appears on no port at all (not even the
 * monitor, which mirrors after the ACL), while a flow differing in the source port
 * only is routed. */
static void test_acl_drops_one_5_tuple(void **state)
{
    suite *s = *state;
    sw_filter dropped = sw_tagged_or_not("udp src port 5000 and udp dst port 53");
    sw_filter other = sw_tagged_or_not("udp src port 5001 and udp dst port 53");
    px_future *f[2];
    f[0] = nowhere_but(s, SW_BIT(1), dropped.s, "dropped flow appears nowhere");
    f[1] = on(s, 4, px_received_packet(), other.s, POSITIVE_MS,
              "its neighbour flow is routed");
    sw_udp u = {.dst = MAC_ROUTER, .src = MAC_HOST_A, .vlan = -1, .ip_src = "192.0.2.1",
                .ip_dst = "198.51.100.7", .ttl = 64, .sport = 5000, .dport = 53, .payload = "acl"};
    send_udp(s, 1, &u);
    u.sport = 5001;
    send_udp(s, 1, &u);
    sw_check(f[0], PX_PASS);
    sw_check(f[1], PX_PASS);
}

/* The monitor port gets exactly one copy of each frame entering port 1, unchanged
 * (untagged, original MACs), however the frame is forwarded. */
static void test_mirror_gets_exactly_one_copy(void **state)
{
    suite *s = *state;
    sw_filter F = sw_tagged_or_not("udp port 7500");
    const char *flt = F.s;
    px_predicate *same[2] = {sw_src_mac(MAC_HOST_A), sw_vlan(-1, true)};
    px_future *f[2];
    f[0] = on(s, 5, px_exactly(3, px_all_of(same, 2)), flt, NEGATIVE_MS, "three frames, three copies");
    f[1] = on(s, 5, px_no_other_packets(sw_src_mac(MAC_HOST_A)), flt, NEGATIVE_MS, "copies are unchanged");
    sw_udp u = {.dst = MAC_HOST_B, .src = MAC_HOST_A, .vlan = -1, .ip_src = "192.0.2.1",
                .ip_dst = "192.0.2.2", .ttl = 64, .sport = 7500, .dport = 7501, .payload = "m1"};
    send_udp(s, 1, &u); /* switched (VLAN push) */
    u.dst = MAC_ROUTER;
    u.ip_dst = "198.51.100.9";
    send_udp(s, 1, &u); /* routed */
    u.dst = MAC_GROUP;
    u.ip_dst = "239.1.2.3";
    send_udp(s, 1, &u); /* multicast */
    sw_check(f[0], PX_PASS);
    sw_check(f[1], PX_PASS);
}

/* Multicast group 1: each member port gets exactly one copy; non-members none. */
static void test_multicast_to_group_ports(void **state)
{
    suite *s = *state;
    sw_filter F = sw_tagged_or_not("udp port 7600");
    const char *flt = F.s;
    px_future *f[4];
    f[0] = on(s, 6, px_exactly(1, NULL), flt, NEGATIVE_MS, "member 6 gets one copy");
    f[1] = on(s, 7, px_exactly(1, NULL), flt, NEGATIVE_MS, "member 7 gets one copy");
    f[2] = on(s, 5, px_exactly(1, NULL), flt, NEGATIVE_MS, "the monitor gets one copy");
    f[3] = nowhere_but(s, SW_BIT(5) | SW_BIT(6) | SW_BIT(7), flt, "non-members get nothing");
    sw_udp u = {.dst = MAC_GROUP, .src = MAC_HOST_A, .vlan = -1, .ip_src = "192.0.2.1",
                .ip_dst = "239.1.2.3", .ttl = 8, .sport = 7600, .dport = 7601, .payload = "group"};
    send_udp(s, 1, &u);
    for (int i = 0; i < 4; i++)
        sw_check(f[i], PX_PASS);
}

/* The harness is not fooled: an expectation the pipeline cannot meet FAILs (the
 * trunk never sees VLAN 101), so the PASSes above mean something. */
static void test_wrong_expectation_fails(void **state)
{
    suite *s = *state;
    sw_filter F = sw_tagged_or_not("udp port 7700");
    const char *flt = F.s;
    px_future *f = on(s, 3, sw_vlan(101, false), flt, NEGATIVE_MS, "trunk gets VLAN 101 (wrong)");
    sw_udp u = {.dst = MAC_HOST_B, .src = MAC_HOST_A, .vlan = -1, .ip_src = "192.0.2.1",
                .ip_dst = "192.0.2.2", .ttl = 64, .sport = 7700, .dport = 7701, .payload = "wrong"};
    send_udp(s, 1, &u);
    sw_check(f, PX_FAIL);
}

int main(void)
{
    px_test_require_root("ovs_pipeline");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_vlan_on_ingress_port_1),
        cmocka_unit_test(test_pop_vlan_towards_port_2),
        cmocka_unit_test(test_unknown_vlan_from_trunk_is_dropped),
        cmocka_unit_test(test_router_hop_rewrites_mac_and_decrements_ttl),
        cmocka_unit_test(test_router_hop_negative),
        cmocka_unit_test(test_acl_drops_one_5_tuple),
        cmocka_unit_test(test_mirror_gets_exactly_one_copy),
        cmocka_unit_test(test_multicast_to_group_ports),
        cmocka_unit_test(test_wrong_expectation_fails),
    };
    return cmocka_run_group_tests_name("ovs_pipeline", tests, group_setup, group_teardown);
}
