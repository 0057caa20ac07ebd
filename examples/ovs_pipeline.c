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
 * The last tests check the same pipeline in PTF's style (pktexpect/verify.h):
 * send first, verify after, expected frames derived from the sent one.
 *
 * Frames are written in the text form and checks in the expression language
 * (px_send_text, px_expect_expr: docs/text-form.md, docs/expressions.md), the
 * same texts a YAML scenario uses. Every px_assert_* frees its future.
 *
 * Needs root (veth, raw sockets) and Open vSwitch: off CI it skips when either is
 * missing; under CI it fails (px_cmocka_unavailable). Everything it creates is
 * removed in the group teardown, also when a test fails, and leftovers of a
 * killed run are removed at start. Only installed headers: build it against an
 * installed pktexpect with
 *   cc ovs_pipeline.c $(pkg-config --cflags --libs pktexpect pktexpect-topology cmocka)
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

#include <pktexpect/pktexpect.h>
#include <pktexpect/cmocka.h>
#include <pktexpect/command.h>
#include <pktexpect/topology.h>

#define NPORTS 7
/* Windows: a positive check passes as soon as its frame arrives; a negative one
 * always lasts its whole window. */
#define POSITIVE_MS 3000u
#define NEGATIVE_MS 500u
#define READY_MS 10000u /* how long the switch's ports may take to come up */

/* Addresses of the pipeline (see examples/ovs/pipeline.flows). */
#define MAC_HOST_A "02:00:00:00:01:01"
#define MAC_HOST_B "02:00:00:00:02:01"
#define MAC_TRUNK_HOST "02:00:00:00:03:01"
#define MAC_ROUTER "02:00:00:00:fe:01"
#define MAC_NEXT_HOP "02:00:00:00:04:01"
#define MAC_GROUP "01:00:5e:01:02:03"

/* Expectation filters see frames as on the wire, VLAN tags included, and a BPF
 * "udp port N" does not look past a tag: these match with or without one. */
#define TAGGED_OR_NOT(bpf) "(" bpf ") or (vlan and (" bpf "))"
#define UDP_PORT(n) TAGGED_OR_NOT("udp port " #n)

typedef struct suite {
    char sw[NPORTS + 1][16];   /* switch side of pair N (index 1..7) */
    char host[NPORTS + 1][16]; /* test side */
    char bridge[16];
    char netns[16];            /* the switch side and OVS live in this namespace */
    char ovs_script[512];
    char flows[512];
    px_ctx *ctx;
} suite;

static void unavailable(const char *why)
{
    char msg[512];
    snprintf(msg, sizeof msg, "ovs_pipeline: %s", why);
    px_cmocka_unavailable(msg, msg);
}

/* Runs a program without a shell; on failure shows what it printed. */
static int run(char *const argv[])
{
    px_buf out = PX_BUF_INIT;
    px_cmd_opts o = {.cancel_fd = -1};
    int rc = px_cmd_runv(argv, &o, &out);
    if (rc != 0)
        fprintf(stderr, "%s %s: %s (%d)\n%s", argv[0], argv[1] ? argv[1] : "",
                rc < 0 ? px_strerror(rc) : "exit status", rc, px_buf_cstr(&out));
    px_buf_free(&out);
    return rc;
}

/* scripts/ovs.sh <cmd> [a1 [a2]] */
static int ovs(suite *s, const char *cmd, const char *a1, const char *a2)
{
    char *argv[] = {s->ovs_script, (char *)cmd, (char *)a1, (char *)a2, NULL};
    return run(argv);
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
        unavailable("scripts/ovs.sh or examples/ovs/pipeline.flows not found: set PX_SOURCE_DIR");
    char *probe[] = {"ovs-vswitchd", "--version", NULL};
    px_buf version = PX_BUF_INIT;
    int have_ovs = px_cmd_runv(probe, NULL, &version) == 0;
    px_buf_free(&version);
    if (!have_ovs)
        unavailable("Open vSwitch is not installed (scripts/deps.sh ovs)");

    for (int i = 1; i <= NPORTS; i++) {
        char suf[16];
        snprintf(suf, sizeof suf, "s%d", i);
        px_topo_name(s.sw[i], "pxo", suf);
        snprintf(suf, sizeof suf, "t%d", i);
        px_topo_name(s.host[i], "pxo", suf);
    }
    px_topo_name(s.bridge, "pxo", "br");
    px_topo_name(s.netns, "pxo", "ns");
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
    px_topo_reap_links("pxo", "stbn", NULL);
    px_topo_reap_netns("pxo", "stbn", NULL);
    remove_all(&s);

    /* IPv6 off in the switch's namespace and on our ends: no router
     * solicitations or MLD reports into the pipeline. */
    if (px_topo_netns_add(s.netns, err) != 0 || px_topo_netns_no_ipv6(s.netns, err) != 0) {
        fprintf(stderr, "namespace %s: %s\n", s.netns, err);
        goto fail;
    }
    for (int i = 1; i <= NPORTS; i++) {
        if (px_topo_veth_add(NULL, s.sw[i], s.host[i], err) != 0 ||
            px_topo_link_set_netns(NULL, s.sw[i], s.netns, err) != 0 ||
            px_topo_link_set_up(s.netns, s.sw[i], true, err) != 0 ||
            px_topo_link_no_ipv6(NULL, s.host[i], err) != 0) {
            fprintf(stderr, "veth %s/%s: %s\n", s.sw[i], s.host[i], err);
            goto fail;
        }
    }
    if (ovs(&s, "start", NULL, NULL) != 0)
        goto fail;
    {
        char ports[NPORTS + 1][40];
        char *argv[NPORTS + 4] = {s.ovs_script, "bridge", s.bridge};
        for (int i = 1; i <= NPORTS; i++) {
            snprintf(ports[i], sizeof ports[i], "%s=%d", s.sw[i], i);
            argv[2 + i] = ports[i];
        }
        argv[NPORTS + 3] = NULL;
        if (run(argv) != 0)
            goto fail;
    }
    if (ovs(&s, "flows", s.bridge, s.flows) != 0)
        goto fail;
    /* Our ends carry frames once the switch's ends are up: wait for it, bounded,
     * with a message that says which port never came up. */
    for (int i = 1; i <= NPORTS; i++) {
        if (px_topo_link_wait_ready(NULL, s.host[i], READY_MS, err) != 0) {
            fprintf(stderr, "%s\n", err);
            goto fail;
        }
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

/* Arms expression `expr` on host port N, offered only frames that pass
 * `filter`, for `ms`. A text that does not parse gives a future already ERROR,
 * which the assertion then reports. */
static px_future *on(suite *s, int port, const char *expr, const char *filter, uint32_t ms, const char *name)
{
    px_expect_opts o = {.timeout_ms = ms, .filter = filter, .name = name};
    return px_expect_expr(s->ctx, s->host[port], expr, &o, NULL);
}

#define BIT(n) (1u << (n))

/* One negative check over every host port except those in `skip` (BIT(n) per
 * port): no frame passing `filter` arrives there. One window for them all. */
static px_future *nowhere_but(suite *s, unsigned skip, const char *filter, const char *name)
{
    const char *names[NPORTS];
    size_t n = 0;
    for (int i = 1; i <= NPORTS; i++)
        if (!(skip & BIT(i)))
            names[n++] = s->host[i];
    px_expect_opts o = {.timeout_ms = NEGATIVE_MS, .filter = filter, .name = name};
    return px_expect_any(s->ctx, names, n, px_timed_out(), &o);
}

/* Sends a frame written in the text form on host port N (fails the test,
 * saying why, when it cannot). */
#define send_on(s, port, frame) px_assert_send_text((s)->ctx, (s)->host[port], (frame))

/* ---- tests ---- */

/* Untagged frames from port 1 leave the trunk (port 3) tagged with VLAN 100, and
 * leave no other port but the monitor. */
static void test_push_vlan_on_ingress_port_1(void **state)
{
    suite *s = *state;
    px_future *f[3];
    f[0] = on(s, 3, "saw_vlan_tag(100)", UDP_PORT(7100), POSITIVE_MS, "trunk gets VLAN 100");
    f[1] = on(s, 5, "exactly(1)", UDP_PORT(7100), NEGATIVE_MS, "monitor gets one copy");
    f[2] = nowhere_but(s, BIT(3) | BIT(5), UDP_PORT(7100), "nowhere else");
    send_on(s, 1, "Ether(dst=" MAC_HOST_B ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=192.0.2.2)"
                  "/UDP(sport=7100, dport=7101)/Raw(\"push\")");
    for (int i = 0; i < 3; i++)
        px_assert_pass(f[i]);
}

/* VLAN 200 from the trunk leaves port 2 untagged; it is not mirrored. */
static void test_pop_vlan_towards_port_2(void **state)
{
    suite *s = *state;
    px_future *f[2];
    f[0] = on(s, 2, "saw_vlan_tag(untagged=true)", UDP_PORT(7200), POSITIVE_MS, "port 2 gets it untagged");
    f[1] = nowhere_but(s, BIT(2), UDP_PORT(7200), "nowhere else, not even the monitor");
    send_on(s, 3, "Ether(dst=" MAC_HOST_B ", src=" MAC_TRUNK_HOST ")/Dot1Q(vlan=200)"
                  "/IPv4(src=192.0.2.3, dst=192.0.2.2)/UDP(sport=7200, dport=7201)/Raw(\"pop\")");
    px_assert_pass(f[0]);
    px_assert_pass(f[1]);
}

/* A VLAN the pipeline has no rule for (300) is dropped: it appears on no port. */
static void test_unknown_vlan_from_trunk_is_dropped(void **state)
{
    suite *s = *state;
    px_future *f = nowhere_but(s, BIT(3), UDP_PORT(7300), "VLAN 300 appears nowhere");
    send_on(s, 3, "Ether(dst=" MAC_HOST_B ", src=" MAC_TRUNK_HOST ")/Dot1Q(vlan=300)"
                  "/IPv4(src=192.0.2.3, dst=192.0.2.2)/UDP(sport=7300, dport=7301)/Raw(\"drop\")");
    px_assert_pass(f);
}

/* The router hop: IPv4 to 198.51.100.0/24 sent to the router MAC leaves port 4 with
 * the router MAC as source, the next hop as destination and TTL 64 - 1. */
#define ROUTED "all_of(saw_src_mac(" MAC_ROUTER "), saw_dst_mac(" MAC_NEXT_HOP "), saw_ipv4(ttl=63))"

static void test_router_hop_rewrites_mac_and_decrements_ttl(void **state)
{
    suite *s = *state;
    px_future *f[3];
    f[0] = on(s, 4, ROUTED, UDP_PORT(7400), POSITIVE_MS, "next hop gets the rewritten frame");
    /* A count of exactly one frame that satisfies all three fields at once. */
    f[1] = on(s, 4, "exactly(1, " ROUTED ")", UDP_PORT(7400), NEGATIVE_MS, "exactly once");
    f[2] = nowhere_but(s, BIT(4) | BIT(5), UDP_PORT(7400), "nowhere else");
    send_on(s, 1, "Ether(dst=" MAC_ROUTER ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=198.51.100.7, ttl=64)"
                  "/UDP(sport=7400, dport=7401)/Raw(\"hop\")");
    for (int i = 0; i < 3; i++)
        px_assert_pass(f[i]);
}

/* Negative router checks: outside the prefix the frame is not routed (it takes the
 * VLAN push rule instead), and a TTL that would reach 0 is not forwarded at all. */
static void test_router_hop_negative(void **state)
{
    suite *s = *state;
    px_future *f[3];
    f[0] = nowhere_but(s, BIT(3) | BIT(5), UDP_PORT(7410), "203.0.113.7 is not routed");
    f[1] = on(s, 3, "saw_vlan_tag(100)", UDP_PORT(7410), POSITIVE_MS, "it is switched instead");
    f[2] = nowhere_but(s, BIT(5), UDP_PORT(7420), "TTL 1 is not forwarded");
    send_on(s, 1, "Ether(dst=" MAC_ROUTER ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=203.0.113.7)"
                  "/UDP(sport=7410, dport=7411)/Raw(\"off\")");
    send_on(s, 1, "Ether(dst=" MAC_ROUTER ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=198.51.100.7, ttl=1)"
                  "/UDP(sport=7420, dport=7421)/Raw(\"off\")");
    for (int i = 0; i < 3; i++)
        px_assert_pass(f[i]);
}

/* The ACL drops one 5-tuple: that flow appears on no port at all (not even the
 * monitor, which mirrors after the ACL), while a flow differing in the source port
 * only is routed. */
static void test_acl_drops_one_5_tuple(void **state)
{
    suite *s = *state;
    px_future *f[2];
    f[0] = nowhere_but(s, BIT(1), TAGGED_OR_NOT("udp src port 5000 and udp dst port 53"),
                       "dropped flow appears nowhere");
    f[1] = on(s, 4, "received_packet()", TAGGED_OR_NOT("udp src port 5001 and udp dst port 53"), POSITIVE_MS,
              "its neighbour flow is routed");
    send_on(s, 1, "Ether(dst=" MAC_ROUTER ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=198.51.100.7)"
                  "/UDP(sport=5000, dport=53)/Raw(\"acl\")");
    send_on(s, 1, "Ether(dst=" MAC_ROUTER ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=198.51.100.7)"
                  "/UDP(sport=5001, dport=53)/Raw(\"acl\")");
    px_assert_pass(f[0]);
    px_assert_pass(f[1]);
}

/* The monitor port gets exactly one copy of each frame entering port 1, unchanged
 * (untagged, original MACs), however the frame is forwarded. */
static void test_mirror_gets_exactly_one_copy(void **state)
{
    suite *s = *state;
    px_future *f[2];
    f[0] = on(s, 5, "exactly(3, all_of(saw_src_mac(" MAC_HOST_A "), saw_vlan_tag(untagged=true)))", UDP_PORT(7500),
              NEGATIVE_MS, "three frames, three copies");
    f[1] = on(s, 5, "no_other_packets(saw_src_mac(" MAC_HOST_A "))", UDP_PORT(7500), NEGATIVE_MS,
              "copies are unchanged");
    /* switched (VLAN push), routed, multicast */
    send_on(s, 1, "Ether(dst=" MAC_HOST_B ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=192.0.2.2)"
                  "/UDP(sport=7500, dport=7501)/Raw(\"m1\")");
    send_on(s, 1, "Ether(dst=" MAC_ROUTER ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=198.51.100.9)"
                  "/UDP(sport=7500, dport=7501)/Raw(\"m1\")");
    send_on(s, 1, "Ether(dst=" MAC_GROUP ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=239.1.2.3)"
                  "/UDP(sport=7500, dport=7501)/Raw(\"m1\")");
    px_assert_pass(f[0]);
    px_assert_pass(f[1]);
}

/* Multicast group 1: each member port gets exactly one copy; non-members none. */
static void test_multicast_to_group_ports(void **state)
{
    suite *s = *state;
    px_future *f[4];
    f[0] = on(s, 6, "exactly(1)", UDP_PORT(7600), NEGATIVE_MS, "member 6 gets one copy");
    f[1] = on(s, 7, "exactly(1)", UDP_PORT(7600), NEGATIVE_MS, "member 7 gets one copy");
    f[2] = on(s, 5, "exactly(1)", UDP_PORT(7600), NEGATIVE_MS, "the monitor gets one copy");
    f[3] = nowhere_but(s, BIT(5) | BIT(6) | BIT(7), UDP_PORT(7600), "non-members get nothing");
    send_on(s, 1, "Ether(dst=" MAC_GROUP ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=239.1.2.3, ttl=8)"
                  "/UDP(sport=7600, dport=7601)/Raw(\"group\")");
    for (int i = 0; i < 4; i++)
        px_assert_pass(f[i]);
}

/* The same pipeline checked in PTF's style (pktexpect/verify.h): send first,
 * verify after, with the expected frames derived from the sent one (PTF's
 * exp = pkt.copy(); exp[IP].ttl -= 1), and nothing else on any port. */
static int verify_all_ports(suite *s)
{
    const char *hosts[NPORTS];
    for (int i = 1; i <= NPORTS; i++)
        hosts[i - 1] = s->host[i];
    return px_verify_begin(s->ctx, hosts, NPORTS, NULL);
}

static void test_ptf_style_router_hop(void **state)
{
    suite *s = *state;
    assert_int_equal(verify_all_ports(s), 0);
    const char *pkt = "Ether(dst=" MAC_ROUTER ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=198.51.100.7, ttl=64)"
                      "/UDP(sport=7800, dport=7801)/Raw(\"ptf\")";
    send_on(s, 1, pkt);
    /* The next hop gets it routed: new MACs, TTL - 1, checksum recomputed. */
    px_verify_opts routed = {.set = "eth.src=" MAC_ROUTER ", eth.dst=" MAC_NEXT_HOP ", ipv4.ttl-=1"};
    px_assert_pass(px_verify_packet(s->ctx, s->host[4], pkt, &routed));
    /* The monitor gets it as it entered. */
    px_assert_pass(px_verify_packet(s->ctx, s->host[5], pkt, NULL));
    px_assert_pass(px_verify_no_other_packets(s->ctx, NULL));
}

static void test_ptf_style_vlan_push_and_group(void **state)
{
    suite *s = *state;
    assert_int_equal(verify_all_ports(s), 0);
    const char *pkt = "Ether(dst=" MAC_HOST_B ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=192.0.2.2)"
                      "/UDP(sport=7810, dport=7811)/Raw(\"ptf\")";
    send_on(s, 1, pkt);
    px_assert_pass(px_verify_packet(s->ctx, s->host[3], pkt, &(px_verify_opts){.set = "+vlan(100)"}));
    /* A mask: the monitor's copy, whatever its IPv4 identification. */
    px_assert_pass(px_verify_packet(s->ctx, s->host[5], pkt, &(px_verify_opts){.ignore = "ipv4.id, ipv4.chksum"}));
    px_assert_pass(px_verify_no_other_packets(s->ctx, NULL));

    const char *group = "Ether(dst=" MAC_GROUP ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=239.1.2.3, ttl=8)"
                        "/UDP(sport=7820, dport=7821)/Raw(\"ptf\")";
    send_on(s, 1, group);
    /* PTF's verify_packets: each member, then nothing else but the monitor's copy. */
    px_assert_pass(px_verify_packet_each(s->ctx, (const char *[]){s->host[6], s->host[7]}, 2, group, NULL));
    px_assert_pass(px_verify_no_other_packets_except(s->ctx, (const char *[]){s->host[5]}, 1, NULL));
}

/* The harness is not fooled: an expectation the pipeline cannot meet FAILs (the
 * trunk never sees VLAN 101), so the PASSes above mean something. */
static void test_wrong_expectation_fails(void **state)
{
    suite *s = *state;
    px_future *f = on(s, 3, "saw_vlan_tag(101)", UDP_PORT(7700), NEGATIVE_MS, "trunk gets VLAN 101 (wrong)");
    send_on(s, 1, "Ether(dst=" MAC_HOST_B ", src=" MAC_HOST_A ")/IPv4(src=192.0.2.1, dst=192.0.2.2)"
                  "/UDP(sport=7700, dport=7701)/Raw(\"wrong\")");
    px_assert_fail(f);
}

int main(void)
{
    px_cmocka_require_root("ovs_pipeline");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_vlan_on_ingress_port_1),
        cmocka_unit_test(test_pop_vlan_towards_port_2),
        cmocka_unit_test(test_unknown_vlan_from_trunk_is_dropped),
        cmocka_unit_test(test_router_hop_rewrites_mac_and_decrements_ttl),
        cmocka_unit_test(test_router_hop_negative),
        cmocka_unit_test(test_acl_drops_one_5_tuple),
        cmocka_unit_test(test_mirror_gets_exactly_one_copy),
        cmocka_unit_test(test_multicast_to_group_ports),
        cmocka_unit_test(test_ptf_style_router_hop),
        cmocka_unit_test(test_ptf_style_vlan_push_and_group),
        cmocka_unit_test(test_wrong_expectation_fails),
    };
    return cmocka_run_group_tests_name("ovs_pipeline", tests, group_setup, group_teardown);
}
