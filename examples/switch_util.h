/* Helpers shared by the switch suites in examples/ (bridge_suite.c, ovs_pipeline.c).
 *
 * - sw_send_udp(): writes Ethernet [/ 802.1Q] / IPv4 / UDP / payload in the frame
 *   text form, builds it with px_frame_parse_text (lengths and checksums filled
 *   in) and injects it with px_send.
 * - sw_check(): waits on a future and fails the cmocka test with the future's own
 *   report (what it expected, what it saw, counters) when the verdict differs.
 * - sw_tagged_or_not(): a BPF filter text that matches with or without a VLAN tag.
 * - sw_on() / sw_nowhere_but(): arm a check on one host port / a negative check on
 *   every host port but some.
 * - sw_run(): runs a helper program (scripts/ovs.sh) without a shell.
 * - sw_reap_links(): removes interfaces an earlier run of a suite left behind
 *   after it was killed (names "<prefix><pid>..." whose process is gone).
 * - sw_reap_netns(): the same for network namespaces.
 * - sw_no_ipv6() / sw_netns_no_ipv6(): turn IPv6 off on a test interface / in a
 *   namespace, so the kernel does not emit router solicitations or MLD reports
 *   into the switch under test.
 *
 * Everything here is static inline: each suite is one translation unit.
 * Not thread-safe (suites call these from cmocka's single thread).
 */
#ifndef PX_EXAMPLES_SWITCH_UTIL_H
#define PX_EXAMPLES_SWITCH_UTIL_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <pktexpect/buf.h>
#include <pktexpect/context.h>
#include <pktexpect/expect.h>
#include <pktexpect/future.h>
#include <pktexpect/predicates.h>
#include <pktexpect/send.h>
#include <pktexpect/text.h>
#include <pktexpect/topology.h>

extern char **environ;

/** Frame parameters for sw_send_udp. vlan < 0: untagged. */
typedef struct sw_udp {
    const char *dst, *src;     /**< MAC addresses "02:00:00:00:00:01" */
    int vlan;                  /**< VID 0..4095, or -1 for no tag */
    const char *ip_src, *ip_dst;
    uint8_t ttl;
    uint16_t sport, dport;
    const char *payload;       /**< text payload without quotes, may be NULL */
} sw_udp;

/** Writes the frame in the text form shared by C, YAML and the CLI, e.g.
 *  Ether(dst=..., src=...)/Dot1Q(vlan=200)/IPv4(src=..., dst=..., ttl=64)/UDP(sport=1, dport=2)/Raw("x") */
static inline void sw_udp_text(const sw_udp *u, char *out, size_t cap)
{
    char tag[32] = "";
    if (u->vlan >= 0)
        snprintf(tag, sizeof tag, "/Dot1Q(vlan=%d)", u->vlan);
    snprintf(out, cap, "Ether(dst=%s, src=%s)%s/IPv4(src=%s, dst=%s, ttl=%u)/UDP(sport=%u, dport=%u)/Raw(\"%s\")",
             u->dst, u->src, tag, u->ip_src, u->ip_dst, (unsigned)u->ttl, (unsigned)u->sport, (unsigned)u->dport,
             u->payload ? u->payload : "");
}

/** Builds the frame from its text form and injects it on `port`; fails the
 *  current test when the text does not parse or the send fails. */
#define sw_send_udp(ctx, port, u) sw_send_udp_at((ctx), (port), (u), __FILE__, __LINE__)
static inline void sw_send_udp_at(px_ctx *ctx, const char *port, const sw_udp *u, const char *file, int line)
{
    char text[512], err[PX_ERRBUF_SIZE] = "";
    sw_udp_text(u, text, sizeof text);
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = px_frame_parse_text(text, &bytes, &len, err);
    if (rc == 0)
        rc = px_send(ctx, port, bytes, len, err);
    free(bytes);
    if (rc != 0) {
        print_error("%s:%d: sending %s on %s: %s (%s)\n", file, line, text, port, px_strerror(rc), err);
        _fail(file, line);
    }
}

/** Waits for `f` and fails the current test (with the future's report) unless its
 *  verdict is `want`. Frees the future in every case. */
#define sw_check(f, want) sw_check_at((f), (want), __FILE__, __LINE__)
static inline void sw_check_at(px_future *f, px_verdict want, const char *file, int line)
{
    if (!f) {
        print_error("%s:%d: no future: a predicate constructor or px_expect returned NULL\n", file, line);
        _fail(file, line);
        return;
    }
    px_verdict got = px_future_wait(f);
    if (got != want) {
        px_buf b = PX_BUF_INIT;
        px_future_report(f, &b);
        print_error("%s:%d: expected %s, got %s\n%s\n", file, line, px_verdict_name(want),
                    px_verdict_name(got), px_buf_cstr(&b));
        px_buf_free(&b);
        px_future_free(f);
        _fail(file, line);
        return;
    }
    px_future_free(f);
}

/** Expectation filters run on frames as seen on the wire, VLAN tags included, and
 *  a BPF "udp port 1" does not look past a tag: this matches `expr` with or
 *  without one 802.1Q tag. */
typedef struct sw_filter {
    char s[192];
} sw_filter;
static inline sw_filter sw_tagged_or_not(const char *expr)
{
    sw_filter f;
    snprintf(f.s, sizeof f.s, "(%s) or (vlan and (%s))", expr, expr);
    return f;
}

/** saw_vlan: outer tag with VID `vid` (-1 any), or untagged frames when `untagged`. */
static inline px_predicate *sw_vlan(int vid, bool untagged)
{
    px_vlan_spec v = PX_VLAN_SPEC_ANY;
    v.vid = vid;
    v.untagged = untagged;
    return px_saw_vlan(&v);
}

/** saw_src_mac / saw_dst_mac from text ("02:00:00:00:00:01"); NULL when it does not
 *  parse. The masked forms (mask NULL = exact) are per-frame predicates, so they
 *  also work inside counts (px_exactly) and px_no_other_packets. */
static inline px_predicate *sw_src_mac(const char *text)
{
    uint8_t mac[6];
    return px_parse_mac(text, mac, NULL) == 0 ? px_saw_src_mac_masked(mac, NULL) : NULL;
}
static inline px_predicate *sw_dst_mac(const char *text)
{
    uint8_t mac[6];
    return px_parse_mac(text, mac, NULL) == 0 ? px_saw_dst_mac_masked(mac, NULL) : NULL;
}

/** Host ports of a suite: names indexed 1..n (index 0 unused). */
typedef struct sw_ports {
    px_ctx *ctx;
    int n;
    char (*host)[16];
} sw_ports;

#define SW_BIT(n) (1u << (n))

/** Arms `pred` on host port `port`, offered only frames that pass `filter`. */
static inline px_future *sw_on(const sw_ports *p, int port, px_predicate *pred, const char *filter,
                               uint32_t ms, const char *name)
{
    px_expect_opts o = {.timeout_ms = ms, .filter = filter, .name = name};
    return px_expect(p->ctx, p->host[port], pred, &o);
}

/** Negative check over every host port except those in `skip` (SW_BIT(n) per
 *  port): no frame passing `filter` arrives there within `ms`. One window in all. */
static inline px_future *sw_nowhere_but(const sw_ports *p, unsigned skip, const char *filter, uint32_t ms,
                                        const char *name)
{
    const char *names[32];
    size_t n = 0;
    for (int i = 1; i <= p->n && i < 32; i++)
        if (!(skip & SW_BIT(i)))
            names[n++] = p->host[i];
    px_expect_opts o = {.timeout_ms = ms, .filter = filter, .name = name};
    return px_expect_any(p->ctx, names, n, px_timed_out(), &o);
}

/** Runs argv[0] (searched in PATH) with argv and waits; with `quiet`, its standard
 *  output goes to /dev/null (errors still show). Returns its exit status, or -1
 *  when it could not run or was killed. */
static inline int sw_run_opt(char *const argv[], bool quiet)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    if (quiet)
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
static inline int sw_run(char *const argv[]) { return sw_run_opt(argv, false); }

/* Calls `del` on every entry of `dir` named "<prefix><5 digits><c>..." (the
 * px_test_ifname form), where <c> is one of `tags`, whose digits are the pid of a
 * process that no longer exists. The strict form keeps it away from names other
 * tests use. */
static inline void sw__reap(const char *dir, const char *prefix, const char *tags, void (*del)(const char *name))
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t plen = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strncmp(n, prefix, plen) != 0 || strlen(n) < plen + 6)
            continue;
        bool digits = true;
        for (size_t i = plen; i < plen + 5; i++)
            digits = digits && isdigit((unsigned char)n[i]);
        if (!digits || !strchr(tags, n[plen + 5]) || n[plen + 5] == '\0')
            continue;
        long pid = strtol(n + plen, NULL, 10);
        char proc[32];
        snprintf(proc, sizeof proc, "/proc/%ld", pid);
        struct stat st;
        if (pid > 0 && (long)getpid() % 100000 != pid && stat(proc, &st) != 0)
            del(n);
    }
    closedir(d);
}

static inline void sw__link_del(const char *name) { px_topo_link_del(NULL, name, NULL); }
static inline void sw__netns_del(const char *name) { px_topo_netns_del(name, NULL); }

/** Deletes the interfaces a killed suite of this prefix left: "<prefix><5 digits><c>..."
 *  with <c> in `tags` and digits the pid of a process that is gone. */
static inline void sw_reap_links(const char *prefix, const char *tags)
{
    sw__reap("/sys/class/net", prefix, tags, sw__link_del);
}

/** The same for network namespaces (under /run/netns). */
static inline void sw_reap_netns(const char *prefix, const char *tags)
{
    sw__reap("/run/netns", prefix, tags, sw__netns_del);
}

static inline int sw__no_ipv6_by_default(void *arg, char *errbuf)
{
    (void)arg;
    (void)errbuf;
    static const char *const knobs[] = {"/proc/sys/net/ipv6/conf/default/disable_ipv6",
                                        "/proc/sys/net/ipv6/conf/all/disable_ipv6"};
    for (size_t i = 0; i < 2; i++) {
        FILE *fp = fopen(knobs[i], "w");
        if (fp) {
            fputs("1\n", fp);
            fclose(fp);
        }
    }
    return 0;
}

/** Turns IPv6 off for every interface that appears in namespace `netns` from now
 *  on (the namespace's default), so links moved there stay quiet. */
static inline int sw_netns_no_ipv6(const char *netns, char *errbuf)
{
    return px_topo_netns_run(netns, sw__no_ipv6_by_default, NULL, errbuf);
}

/** Turns IPv6 off on `ifname` (no router solicitations, MLD or DAD from it). */
static inline void sw_no_ipv6(const char *ifname)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
    FILE *fp = fopen(path, "w");
    if (fp) {
        fputs("1\n", fp);
        fclose(fp);
    }
}

#endif
