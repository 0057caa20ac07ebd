/* Core harness semantics on a real veth pair (DESIGN section 2, items 1-6, 9).
 * Needs root; every interface it makes is named after the pid and removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pcap/pcap.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pktexpect/cmocka.h"
#include "pktexpect/pktexpect.h"
#include "px_test.h"

/* A minimal Ethernet frame: dst, src, ethertype 0x88b5 (local experimental), payload. */
static size_t make_frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = (uint8_t)(type >> 8);
    buf[13] = (uint8_t)type;
    memset(buf + 14, 0xab, 46);
    return 60;
}

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void mac_for(uint8_t mac[6], unsigned i)
{
    const uint8_t m[6] = {0x02, 0x00, 0x5e, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
    memcpy(mac, m, 6);
}

static void send_from(px_cmocka_env *env, unsigned i)
{
    uint8_t src[6], frame[64];
    mac_for(src, i);
    size_t len = make_frame(frame, BCAST, src, 0x88b5);
    char err[PX_ERRBUF_SIZE];
    int rc = px_send(env->ctx, env->a, frame, len, err);
    if (rc != 0)
        print_error("px_send: %s\n", err);
    assert_int_equal(rc, 0);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 2.1 Armed on return: no sleep between expect and send, 1,000 times. */
static void test_armed_on_return(void **state)
{
    px_cmocka_env *env = *state;
    unsigned misses = 0;
    for (unsigned i = 0; i < 1000; i++) {
        uint8_t src[6];
        mac_for(src, i);
        px_expect_opts o = {.timeout_ms = 2000};
        px_future *f = px_expect(env->ctx, env->b, px_saw_src_mac(src), &o);
        send_from(env, i);
        if (px_future_wait(f) != PX_PASS) {
            misses++;
            px__cmocka_report(f, "missed");
        }
        px_future_free(f);
    }
    assert_int_equal(misses, 0);
}

/* Frames that arrived before px_expect are not offered, even when they still
 * wait in the ring: a slow predicate keeps the capture thread busy while 50
 * frames queue up, then a negative expectation is armed for the same frames. */
static void sleepy_on_packet(void *st, const px_frame *f)
{
    (void)st, (void)f;
    struct timespec d = {0, 2000000};
    nanosleep(&d, NULL);
}
static px_verdict sleepy_finish(void *st, bool timed_out, px_result *r)
{
    (void)st, (void)timed_out, (void)r;
    return PX_PASS;
}
static const px_predicate_ops sleepy_ops = {.name = "sleepy", .on_packet = sleepy_on_packet,
                                            .on_finish = sleepy_finish};

static void test_earlier_frames_not_offered(void **state)
{
    px_cmocka_env *env = *state;
    uint8_t src[6];
    mac_for(src, 0x090909);
    px_future *busy = px_expect(env->ctx, env->b, px_predicate_new(&sleepy_ops, NULL),
                                &(px_expect_opts){.timeout_ms = 400, .filter = "ether src 02:00:5e:09:09:09"});
    for (int i = 0; i < 50; i++)
        send_from(env, 0x090909);
    /* ~100 ms of frames are still queued in the ring now */
    px_future *f = px_expect(env->ctx, env->b, px_did_not_see_src_mac(src), &(px_expect_opts){.timeout_ms = 300});
    px_assert_pass(f);
    px_assert_pass(busy);
}

/* 2.2 Observation, not consumption. */
static void test_two_expectations_same_frame(void **state)
{
    px_cmocka_env *env = *state;
    uint8_t src[6];
    mac_for(src, 0x777);
    px_expect_opts o = {.timeout_ms = 2000};
    px_future *f1 = px_expect(env->ctx, env->b, px_saw_src_mac(src), &o);
    px_future *f2 = px_expect(env->ctx, env->b, px_saw_src_mac(src), &o);
    send_from(env, 0x777);
    px_assert_pass(f1);
    px_assert_pass(f2);
}

/* 2.3 on_packet before stop_condition, on_finish once: a predicate that counts in
 * on_packet and stops at N must see its own count in stop_condition. */
typedef struct order_state {
    int on_packet_calls, stop_calls, finish_calls, stop_at;
    int out_of_order;
    bool finished_timed_out;
} order_state;

static void order_on_packet(void *st, const px_frame *f)
{
    (void)f;
    order_state *s = st;
    if (s->on_packet_calls != s->stop_calls)
        s->out_of_order++;
    s->on_packet_calls++;
}
static bool order_stop(void *st, const px_frame *f)
{
    (void)f;
    order_state *s = st;
    s->stop_calls++;
    if (s->stop_calls != s->on_packet_calls)
        s->out_of_order++;
    return s->on_packet_calls >= s->stop_at;
}
static px_verdict order_finish(void *st, bool timed_out, px_result *r)
{
    order_state *s = st;
    s->finish_calls++;
    s->finished_timed_out = timed_out;
    px_result_set_value(r, s->on_packet_calls);
    px_result_explain(r, "on_packet %d, stop %d, out of order %d", s->on_packet_calls, s->stop_calls,
                      s->out_of_order);
    return s->out_of_order == 0 && s->finish_calls == 1 ? PX_PASS : PX_FAIL;
}
/* The state outlives the predicate so the test can read it after finishing. */
static void order_destroy(void *st) { (void)st; }
static const px_predicate_ops order_ops = {.name = "order_probe",
                                           .on_packet = order_on_packet,
                                           .stop_condition = order_stop,
                                           .on_finish = order_finish,
                                           .destroy = order_destroy};

static void test_callback_order(void **state)
{
    px_cmocka_env *env = *state;
    order_state s = {.stop_at = 5};
    px_expect_opts o = {.timeout_ms = 3000, .filter = "ether proto 0x88b5"};
    px_future *f = px_expect(env->ctx, env->b, px_predicate_new(&order_ops, &s), &o);
    for (unsigned i = 0; i < 8; i++)
        send_from(env, 0x100 + i);
    px_assert_pass_keep(f);
    px_assert_value(f, 5);
    assert_int_equal(s.finish_calls, 1);
    assert_false(s.finished_timed_out);
}

/* 2.4 count limit: finishes after N offered frames with timed_out = false. */
static void test_count_limit(void **state)
{
    px_cmocka_env *env = *state;
    order_state s = {.stop_at = 1000};
    px_expect_opts o = {.timeout_ms = 5000, .count = 3, .filter = "ether proto 0x88b5"};
    double t0 = now_s();
    px_future *f = px_expect(env->ctx, env->b, px_predicate_new(&order_ops, &s), &o);
    for (unsigned i = 0; i < 3; i++)
        send_from(env, 0x200 + i);
    px_assert_pass_keep(f);
    px_assert_value_keep(f, 3);
    assert_false(s.finished_timed_out);
    /* finished by the count, not by the 5 s window */
    assert_true(now_s() - t0 < 4.0);
    px_counters c;
    px_future_counters(f, &c);
    assert_int_equal(c.seen, 3);
    px_future_free(f);

    px_future *g = px_expect(env->ctx, env->b, px_packet_count(), &(px_expect_opts){.count = 2, .timeout_ms = 3000,
                                                                                    .filter = "ether proto 0x88b5"});
    send_from(env, 0x210);
    send_from(env, 0x211);
    px_assert_value(g, 2);
}

/* Timeout path: on_finish(timed_out = true). */
static void test_timeout_path(void **state)
{
    px_cmocka_env *env = *state;
    order_state s = {.stop_at = 1000};
    px_expect_opts o = {.timeout_ms = 150, .filter = "ether proto 0x88b6"};
    px_future *f = px_expect(env->ctx, env->b, px_predicate_new(&order_ops, &s), &o);
    px_assert_pass(f);
    assert_true(s.finished_timed_out);
    assert_int_equal(s.finish_calls, 1);

    px_future *g = px_expect(env->ctx, env->b, px_received_packet(), &o);
    px_assert_fail_keep(g);
    assert_non_null(strstr(px_future_explanation(g), "no frame"));
    px_future_free(g);
}

/* VLAN tags stripped by the kernel are put back (DESIGN 2.7). */
static void test_vlan_restored(void **state)
{
    px_cmocka_env *env = *state;
    uint8_t frame[64];
    const uint8_t src[6] = {0x02, 0, 0x5e, 0, 0x10, 0x02};
    memcpy(frame, BCAST, 6);
    memcpy(frame + 6, src, 6);
    const uint8_t tag[] = {0x81, 0x00, 0x60 | 0x00, 102, 0x88, 0xb5}; /* PCP 3, VID 102 */
    memcpy(frame + 12, tag, sizeof tag);
    memset(frame + 18, 0x5a, 46);
    px_future *f = px_expect(env->ctx, env->b, px_saw_vlan_tag(102, 3), &(px_expect_opts){.timeout_ms = 2000});
    px_future *g = px_expect(env->ctx, env->b, px_saw_ethertype(0x88b5), &(px_expect_opts){.timeout_ms = 2000});
    assert_int_equal(px_send(env->ctx, env->a, frame, 64, NULL), 0);
    px_assert_pass(f);
    px_assert_pass(g);
}

/* BPF filter applied per frame; bad filter gives ERROR. */
static void test_bpf_filter(void **state)
{
    px_cmocka_env *env = *state;
    px_future *f = px_expect(env->ctx, env->b, px_packet_count(),
                             &(px_expect_opts){.timeout_ms = 300, .filter = "ether proto 0x88b5 and ether src 02:00:5e:00:03:01"});
    send_from(env, 0x300);
    send_from(env, 0x301);
    send_from(env, 0x301);
    send_from(env, 0x302);
    px_assert_value_keep(f, 2);
    px_counters c;
    px_future_counters(f, &c);
    assert_true(c.filtered >= 2);
    px_future_free(f);

    px_future *bad = px_expect(env->ctx, env->b, px_received_packet(), &(px_expect_opts){.filter = "udp prot 53"});
    assert_true(px_future_done(bad));
    px_assert_error_keep(bad);
    assert_non_null(strstr(px_future_explanation(bad), "does not compile"));
    px_future_free(bad);
}

/* 2.8 noise: an IPv6 neighbour solicitation is ignored and counted. */
static size_t make_ns(uint8_t *p)
{
    static const uint8_t ns[] = {
        0x33, 0x33, 0xff, 0x00, 0x00, 0x01, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x99, 0x86, 0xdd, /* eth */
        0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x3a, 0xff,                                     /* ipv6 */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                                     /* src :: */
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x00, 0x00, 0x01,                /* dst */
        0x87, 0x00, 0x00, 0x00, 0, 0, 0, 0,                                                 /* icmpv6 NS */
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
    memcpy(p, ns, sizeof ns);
    return sizeof ns;
}

static void test_noise_filter(void **state)
{
    px_cmocka_env *env = *state;
    uint8_t frame[128];
    size_t len = make_ns(frame);
    px_future *quiet = px_expect(env->ctx, env->b, px_packet_count(),
                                 &(px_expect_opts){.timeout_ms = 300, .filter = "ether src 02:00:5e:00:00:99"});
    px_future *all = px_expect(env->ctx, env->b, px_packet_count(),
                               &(px_expect_opts){.timeout_ms = 300, .filter = "ether src 02:00:5e:00:00:99",
                                                 .noise = PX_NOISE_OFF});
    assert_int_equal(px_send(env->ctx, env->a, frame, len, NULL), 0);
    px_assert_value_keep(quiet, 0);
    px_assert_value(all, 1);
    px_counters c;
    px_future_counters(quiet, &c);
    assert_int_equal(c.noise, 1);
    px_future_free(quiet);

    /* Without a noise filter on the port, the same frame is offered. */
    assert_int_equal(px_port_set_noise_filter(env->ctx, env->b, NULL, NULL), 0);
    px_future *raw = px_expect(env->ctx, env->b, px_packet_count(),
                               &(px_expect_opts){.timeout_ms = 300, .filter = "ether src 02:00:5e:00:00:99"});
    assert_int_equal(px_send(env->ctx, env->a, frame, len, NULL), 0);
    px_assert_value(raw, 1);
    assert_int_equal(px_port_set_noise_filter(env->ctx, env->b, px_noise_default, NULL), 0);
}

/* wait_any returns the first resolved; cancel resolves ERROR. */
static void test_wait_any_and_cancel(void **state)
{
    px_cmocka_env *env = *state;
    px_future *fs[3];
    fs[0] = px_expect(env->ctx, env->b, px_timed_out(),
                      &(px_expect_opts){.timeout_ms = 3000, .filter = "ether proto 0x1234"});
    fs[1] = px_expect(env->ctx, env->b, px_saw_src_mac((uint8_t[6]){2, 0, 0x5e, 0, 4, 0}),
                      &(px_expect_opts){.timeout_ms = 3000});
    fs[2] = NULL;
    assert_int_equal(px_future_wait_any(fs, 3, 50), -1);
    send_from(env, 0x400);
    assert_int_equal(px_future_wait_any(fs, 3, -1), 1);
    px_assert_pass(fs[1]);
    assert_false(px_future_done(fs[0]));
    px_future_cancel(fs[0]);
    assert_true(px_future_done(fs[0]));
    px_assert_error_keep(fs[0]);
    assert_non_null(strstr(px_future_explanation(fs[0]), "cancelled"));
    px_future_free(fs[0]);
}

/* Multi-port: one expectation over both ends, one deadline. */
static void test_expect_any(void **state)
{
    px_cmocka_env *env = *state;
    const char *ports[] = {env->a, env->b};
    px_future *f = px_expect_any(env->ctx, ports, 2, px_packet_count(),
                                 &(px_expect_opts){.timeout_ms = 400, .filter = "ether proto 0x88b5"});
    send_from(env, 0x500); /* arrives on b */
    uint8_t frame[64];
    size_t len = make_frame(frame, BCAST, (uint8_t[6]){2, 0, 0x5e, 0, 5, 1}, 0x88b5);
    assert_int_equal(px_send(env->ctx, env->b, frame, len, NULL), 0); /* arrives on a */
    px_assert_value_keep(f, 2);
    assert_non_null(strstr(px_future_description(f), env->a));
    px_future_free(f);
}

/* Drops in the window make a count verdict ERROR (2.6): a tiny ring and a slow
 * predicate overflow on purpose. */
static void slow_on_packet(void *st, const px_frame *f)
{
    (void)f;
    (*(uint64_t *)st)++;
    struct timespec d = {0, 200000};
    nanosleep(&d, NULL);
}
static px_verdict slow_finish(void *st, bool timed_out, px_result *r)
{
    (void)timed_out;
    px_result_set_value(r, (int64_t)*(uint64_t *)st);
    return *(uint64_t *)st == 20000 ? PX_PASS : PX_FAIL;
}
static const px_predicate_ops slow_ops = {.name = "slow_count", .on_packet = slow_on_packet,
                                          .on_finish = slow_finish, .destroy = free,
                                          .flags = PX_PRED_LOSS_SENSITIVE};

static void test_drops_make_error(void **state)
{
    px_cmocka_env *env = *state;
    char err[PX_ERRBUF_SIZE];
    px_ctx *ctx = px_ctx_new(&(px_ctx_opts){.ring_mib = 1}, err);
    assert_non_null(ctx);
    uint64_t *n = calloc(1, sizeof *n);
    px_future *f = px_expect(ctx, env->b, px_predicate_new(&slow_ops, n),
                             &(px_expect_opts){.timeout_ms = 2000, .filter = "ether proto 0x88b5"});
    uint8_t frame[64];
    size_t len = make_frame(frame, BCAST, (uint8_t[6]){2, 0, 0x5e, 0, 6, 0}, 0x88b5);
    for (int i = 0; i < 20000; i++)
        px_send(ctx, env->a, frame, len, NULL);
    px_assert_error_keep(f);
    px_counters c;
    px_future_counters(f, &c);
    assert_true(c.drops > 0);
    assert_non_null(strstr(px_future_explanation(f), "dropped"));
    px_future_free(f);
    px_ctx_free(ctx);
}

/* Bad input: unknown interface, interface down, closing with pending futures. */
static void test_bad_ports_and_close(void **state)
{
    px_cmocka_env *env = *state;
    char err[PX_ERRBUF_SIZE];
    px_future *f = px_expect(env->ctx, "pxnosuch0", px_received_packet(), NULL);
    assert_true(px_future_done(f));
    px_assert_error_keep(f);
    assert_non_null(strstr(px_future_explanation(f), "pxnosuch0"));
    px_future_free(f);
    assert_int_equal(px_port_open(env->ctx, "pxnosuch0", err), PX_ENODEV);

    px_ctx *ctx = px_ctx_new(NULL, err);
    px_future *p = px_expect(ctx, env->b, px_timed_out(), &(px_expect_opts){.timeout_ms = 60000});
    assert_false(px_future_done(p));
    px_ctx_free(ctx);
    assert_true(px_future_done(p));
    px_assert_error_keep(p);
    assert_non_null(strstr(px_future_explanation(p), "context closed"));
    px_future_free(p);

    assert_null(px_expect(NULL, env->b, px_received_packet(), NULL));
    assert_null(px_expect(env->ctx, env->b, NULL, NULL));
}

/* No CAP_NET_RAW: a child process that gave up root gets a message saying what to do. */
static void test_no_privileges(void **state)
{
    px_cmocka_env *env = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(2);
        char err[PX_ERRBUF_SIZE];
        px_ctx *ctx = px_ctx_new(NULL, err);
        int rc = px_port_open(ctx, env->b, err);
        px_future *f = px_expect(ctx, env->b, px_received_packet(), NULL);
        bool ok = rc == PX_EPERM && strstr(err, "CAP_NET_RAW") && strstr(err, "setcap") &&
                  px_future_verdict(f) == PX_ERROR && strstr(px_future_explanation(f), "CAP_NET_RAW");
        px_future_free(f);
        px_ctx_free(ctx);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* What test_interface_deleted ("pxd" pair) and test_port_in_namespace ("pxn"
 * pair and namespace) make besides the group's pair: removed after the test,
 * also when one of its assertions failed. */
static int del_own_links(void **state)
{
    (void)state;
    char name[16];
    px_test_ifname(name, "pxd", "a");
    px_topo_link_del(NULL, name, NULL);
    px_test_ifname(name, "pxn", "a");
    px_topo_link_del(NULL, name, NULL);
    px_test_ifname(name, "pxn", "");
    px_topo_netns_del(name, NULL);
    return 0;
}

/* A fresh veth pair pxd...a / pxd...b (names in a, b) and a 30 s timed_out()
 * expectation waiting on b. */
static px_future *wait_on_fresh_veth(px_cmocka_env *env, char a[16], char b[16])
{
    char err[PX_ERRBUF_SIZE];
    px_test_ifname(a, "pxd", "a");
    px_test_ifname(b, "pxd", "b");
    px_topo_link_del(NULL, a, NULL);
    assert_int_equal(px_topo_veth_add(NULL, a, b, err), 0);
    px_future *f = px_expect(env->ctx, b, px_timed_out(), &(px_expect_opts){.timeout_ms = 30000});
    assert_false(px_future_done(f));
    return f;
}

/* An interface deleted mid-wait: ERROR within 1 s, not at the deadline. */
static void test_interface_deleted(void **state)
{
    px_cmocka_env *env = *state;
    char a[16], b[16], err[PX_ERRBUF_SIZE];
    px_future *f = wait_on_fresh_veth(env, a, b);
    double t0 = now_s();
    assert_int_equal(px_topo_link_del(NULL, a, err), 0);
    assert_int_equal(px_future_wait_for(f, 1000), PX_ERROR);
    assert_true(now_s() - t0 < 1.5);
    if (!strstr(px_future_explanation(f), "disappeared"))
        fail_msg("explanation: %s", px_future_explanation(f));
    px_future_free(f);
    /* the port is re-opened on the next use, which now fails cleanly */
    px_future *g = px_expect(env->ctx, b, px_timed_out(), NULL);
    px_assert_error(g);

    /* An interface that is down gives an error that says how to bring it up. */
    assert_int_equal(px_topo_veth_add(NULL, a, b, err), 0);
    assert_int_equal(px_topo_link_set_up(NULL, b, false, err), 0);
    assert_int_equal(px_port_open(env->ctx, b, err), PX_EDOWN);
    assert_non_null(strstr(err, "ip link set"));
}

/* An interface taken down mid-wait (not deleted): ERROR that says so, and not
 * that it disappeared (the deletion check waits a moment for a deletion that
 * takes the interface down first). */
static void test_interface_down_mid_wait(void **state)
{
    px_cmocka_env *env = *state;
    char a[16], b[16], err[PX_ERRBUF_SIZE];
    px_future *f = wait_on_fresh_veth(env, a, b);
    assert_int_equal(px_topo_link_set_up(NULL, b, false, err), 0);
    assert_int_equal(px_future_wait_for(f, 5000), PX_ERROR); /* a safety net: within ~0.2 s */
    if (!strstr(px_future_explanation(f), "went down"))
        fail_msg("explanation: %s", px_future_explanation(f));
    px_future_free(f);
}

/* A port inside a network namespace is named "NETNS/IFNAME". */
static void test_port_in_namespace(void **state)
{
    px_cmocka_env *env = *state;
    char ns[16], a[16], b[16], port[40], err[PX_ERRBUF_SIZE];
    px_test_ifname(ns, "pxn", "");
    px_test_ifname(a, "pxn", "a");
    px_test_ifname(b, "pxn", "b");
    px_topo_netns_del(ns, NULL);
    px_topo_link_del(NULL, a, NULL);
    assert_int_equal(px_topo_netns_add(ns, err), 0);
    assert_int_equal(px_topo_veth_add(NULL, a, b, err), 0);
    assert_int_equal(px_topo_link_set_netns(NULL, b, ns, err), 0);
    assert_int_equal(px_topo_link_set_up(ns, b, true, err), 0);
    snprintf(port, sizeof port, "%s/%s", ns, b);
    px_future *f = px_expect(env->ctx, port, px_saw_src_mac((uint8_t[6]){2, 0, 0x5e, 0, 8, 1}),
                             &(px_expect_opts){.timeout_ms = 2000});
    uint8_t frame[64];
    size_t len = make_frame(frame, BCAST, (uint8_t[6]){2, 0, 0x5e, 0, 8, 1}, 0x88b5);
    assert_int_equal(px_send(env->ctx, a, frame, len, err), 0);
    px_assert_pass(f);
    /* the same name outside the namespace does not exist */
    assert_int_equal(px_port_open(env->ctx, b, err), PX_ENODEV);
    px_future *g = px_expect(env->ctx, "pxnosuchns/eth0", px_received_packet(), NULL);
    px_assert_error(g);
}

/* DESIGN 2.10: the context records what it sent and saw into a pcapng file. */
static void test_evidence_recording(void **state)
{
    px_cmocka_env *env = *state;
    char path[] = "/tmp/pxevXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[PX_ERRBUF_SIZE];
    px_ctx *ctx = px_ctx_new(NULL, err);
    assert_int_equal(px_ctx_record(ctx, path, err), 0);
    assert_int_equal(px_ctx_record(ctx, path, err), PX_EEXIST);
    uint8_t frame[64];
    size_t len = make_frame(frame, BCAST, (uint8_t[6]){2, 0, 0x5e, 0, 7, 1}, 0x88b5);
    px_future *f = px_expect(ctx, env->b, px_saw_src_mac((uint8_t[6]){2, 0, 0x5e, 0, 7, 1}),
                             &(px_expect_opts){.timeout_ms = 2000});
    assert_int_equal(px_send(ctx, env->a, frame, len, err), 0);
    px_assert_pass(f);
    px_ctx_free(ctx);

    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, perr);
    assert_non_null(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    int tx_rx = 0;
    while (pcap_next_ex(pc, &h, &data) == 1)
        if (h->caplen == len && memcmp(data, frame, len) == 0)
            tx_rx++;
    pcap_close(pc);
    unlink(path);
    assert_int_equal(tx_rx, 2); /* sent on a, seen on b */
}

int main(void)
{
    px_test_require_root("test_core");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_armed_on_return),
        cmocka_unit_test(test_earlier_frames_not_offered),
        cmocka_unit_test(test_two_expectations_same_frame),
        cmocka_unit_test(test_callback_order),
        cmocka_unit_test(test_count_limit),
        cmocka_unit_test(test_timeout_path),
        cmocka_unit_test(test_vlan_restored),
        cmocka_unit_test(test_bpf_filter),
        cmocka_unit_test(test_noise_filter),
        cmocka_unit_test(test_wait_any_and_cancel),
        cmocka_unit_test(test_expect_any),
        cmocka_unit_test(test_drops_make_error),
        cmocka_unit_test(test_bad_ports_and_close),
        cmocka_unit_test(test_no_privileges),
        cmocka_unit_test_teardown(test_interface_deleted, del_own_links),
        cmocka_unit_test_teardown(test_interface_down_mid_wait, del_own_links),
        cmocka_unit_test(test_evidence_recording),
        cmocka_unit_test_teardown(test_port_in_namespace, del_own_links),
    };
    return cmocka_run_group_tests(tests, px_cmocka_veth_setup, px_cmocka_veth_teardown);
}
