/* Net tests of the topology module: real veth pairs, namespaces and bridges,
 * checked with independent means (ioctl, /sys, /proc, ip(8) output). Root only. */
#include <errno.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "pktexpect/topology.h"
#include "px_test.h"

typedef struct names {
    char va[16], vb[16], br[16], p1[16], p2[16];
    char ns[32], ns2[32];
} names;

static names N;

static void cleanup_all(void)
{
    px_topo_link_del(NULL, N.va, NULL);
    px_topo_link_del(NULL, N.br, NULL);
    px_topo_link_del(NULL, N.p1, NULL);
    px_topo_link_del(NULL, N.p2, NULL);
    px_topo_netns_del(N.ns, NULL);
    px_topo_netns_del(N.ns2, NULL);
}

static int setup(void **state)
{
    (void)state;
    cleanup_all();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cleanup_all();
    return 0;
}

/* Runs a shell command and returns its first output line (trimmed) in out. */
static int sh(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sh(char *out, size_t n, const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    out[0] = '\0';
    if (!fgets(out, (int)n, p))
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    int st = pclose(p);
    return st;
}

static unsigned mtu_of(const char *name)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    int rc = ioctl(s, SIOCGIFMTU, &ifr);
    close(s);
    return rc == 0 ? (unsigned)ifr.ifr_mtu : 0;
}

static short flags_of(const char *name)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
    close(s);
    return rc == 0 ? ifr.ifr_flags : -1;
}

static void test_veth_up_mtu_del(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "";
    assert_false(px_topo_link_exists(NULL, N.va));
    assert_int_equal(px_topo_veth_add(NULL, N.va, N.vb, err), 0);
    assert_true(px_topo_link_exists(NULL, N.va));
    assert_true(px_topo_link_exists(NULL, N.vb));
    assert_true(if_nametoindex(N.va) > 0);
    assert_true(flags_of(N.va) & IFF_UP);
    assert_true(flags_of(N.vb) & IFF_UP);

    /* Same name again: PX_EEXIST with a message naming it. */
    assert_int_equal(px_topo_veth_add(NULL, N.va, N.vb, err), PX_EEXIST);
    assert_non_null(strstr(err, N.va));

    assert_int_equal(px_topo_link_set_mtu(NULL, N.va, 9000, err), 0);
    assert_int_equal(mtu_of(N.va), 9000);
    assert_int_equal(px_topo_link_set_mtu(NULL, N.va, 10, err), PX_ERANGE);

    assert_int_equal(px_topo_link_set_up(NULL, N.va, false, err), 0);
    assert_false(flags_of(N.va) & IFF_UP);
    assert_int_equal(px_topo_link_set_up(NULL, N.va, true, err), 0);
    assert_true(flags_of(N.va) & IFF_UP);

    assert_int_equal(px_topo_link_del(NULL, N.va, err), 0);
    assert_false(px_topo_link_exists(NULL, N.va));
    assert_false(px_topo_link_exists(NULL, N.vb)); /* the peer went with it */
    /* Deleting again is fine. */
    assert_int_equal(px_topo_link_del(NULL, N.va, err), 0);
}

static void test_bad_names(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "";
    assert_int_equal(px_topo_veth_add(NULL, "this-name-is-too-long", N.vb, err), PX_EINVAL);
    assert_non_null(strstr(err, "invalid interface name"));
    assert_int_equal(px_topo_netns_add("a/b", err), PX_EINVAL);
    assert_int_equal(px_topo_link_set_up(NULL, N.va, true, err), PX_ENODEV);
    assert_non_null(strstr(err, N.va));
    assert_int_equal(px_topo_addr_add(NULL, "lo", "10.0.0.300/24", err), PX_EINVAL);
    assert_int_equal(px_topo_addr_add(NULL, "lo", "10.0.0.3/33", err), PX_EINVAL);
}

static void test_netns_iproute2_compatible(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "", out[256];
    assert_false(px_topo_netns_exists(N.ns));
    assert_int_equal(px_topo_netns_add(N.ns, err), 0);
    assert_true(px_topo_netns_exists(N.ns));
    assert_int_equal(px_topo_netns_add(N.ns, err), PX_EEXIST);

    /* ip(8) sees it and can run in it; its loopback is up. */
    assert_int_equal(sh(out, sizeof out, "ip netns list | grep -c '^%s\\b'", N.ns), 0);
    assert_string_equal(out, "1");
    assert_int_equal(sh(out, sizeof out, "ip netns exec %s cat /sys/class/net/lo/operstate", N.ns), 0);
    assert_string_equal(out, "unknown");

    /* It is a different namespace from ours. */
    char here[128], there[128];
    assert_int_equal(sh(here, sizeof here, "readlink /proc/self/ns/net"), 0);
    assert_int_equal(sh(there, sizeof there, "ip netns exec %s readlink /proc/self/ns/net", N.ns), 0);
    assert_string_not_equal(here, there);

    /* The calling thread never changed namespace. */
    char mine[128];
    ssize_t n = readlink("/proc/thread-self/ns/net", mine, sizeof mine - 1);
    assert_true(n > 0);
    mine[n] = '\0';
    assert_string_equal(mine, here);

    assert_int_equal(px_topo_netns_del(N.ns, err), 0);
    assert_false(px_topo_netns_exists(N.ns));
    assert_int_equal(px_topo_netns_del(N.ns, err), 0);
    assert_int_not_equal(sh(out, sizeof out, "ip netns list | grep -q '^%s\\b'", N.ns), 0);
}

static void test_move_into_netns_and_operate_there(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "", out[256];
    assert_int_equal(px_topo_netns_add(N.ns, err), 0);
    assert_int_equal(px_topo_veth_add(NULL, N.va, N.vb, err), 0);
    assert_int_equal(px_topo_link_set_netns(NULL, N.vb, N.ns, err), 0);
    assert_false(px_topo_link_exists(NULL, N.vb));
    assert_true(px_topo_link_exists(N.ns, N.vb));
    assert_true(px_topo_link_exists(NULL, N.va));

    assert_int_equal(px_topo_link_set_up(N.ns, N.vb, true, err), 0);
    assert_int_equal(px_topo_link_set_mtu(N.ns, N.vb, 1400, err), 0);
    assert_int_equal(px_topo_addr_add(N.ns, N.vb, "192.0.2.1/24", err), 0);
    assert_int_equal(px_topo_addr_add(N.ns, N.vb, "2001:db8::1/64", err), 0);
    assert_int_equal(sh(out, sizeof out, "ip netns exec %s cat /sys/class/net/%s/mtu", N.ns, N.vb), 0);
    assert_string_equal(out, "1400");
    assert_int_equal(sh(out, sizeof out, "ip -n %s -o -4 addr show dev %s | grep -o '192.0.2.1/24'", N.ns, N.vb),
                     0);
    assert_string_equal(out, "192.0.2.1/24");
    assert_int_equal(
        sh(out, sizeof out, "ip -n %s -o -6 addr show dev %s | grep -o '2001:db8::1/64'", N.ns, N.vb), 0);
    assert_string_equal(out, "2001:db8::1/64");
    /* Adding the same address twice is reported. */
    assert_int_equal(px_topo_addr_add(N.ns, N.vb, "192.0.2.1/24", err), PX_EEXIST);

    /* A namespace that does not exist. */
    assert_int_equal(px_topo_link_set_up(N.ns2, N.vb, true, err), PX_ENODEV);
    assert_non_null(strstr(err, "does not exist"));

    /* Back to the initial namespace. */
    assert_int_equal(px_topo_link_set_netns(N.ns, N.vb, NULL, err), 0);
    assert_true(px_topo_link_exists(NULL, N.vb));
    assert_false(px_topo_link_exists(N.ns, N.vb));

    assert_int_equal(px_topo_link_del(NULL, N.va, err), 0);
    assert_int_equal(px_topo_netns_del(N.ns, err), 0);
}

static void test_bridge_master_in_netns(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "", out[512], want[64];
    assert_int_equal(px_topo_netns_add(N.ns, err), 0);
    assert_int_equal(px_topo_bridge_add(N.ns, N.br, false, err), 0);
    assert_int_equal(px_topo_veth_add(N.ns, N.p1, N.p2, err), 0);
    assert_int_equal(px_topo_link_set_master(N.ns, N.p1, N.br, err), 0);
    assert_int_equal(sh(out, sizeof out, "ip -n %s -o link show %s | grep -o 'master [^ ]*'", N.ns, N.p1), 0);
    snprintf(want, sizeof want, "master %s", N.br);
    assert_string_equal(out, want);
    assert_int_equal(sh(out, sizeof out, "ip -n %s -o link show %s | grep -o '[<,]UP[,>]'", N.ns, N.br), 0);
    assert_int_equal(strlen(out), 4);
    /* It is a bridge (the kernel gives it a bridge/ directory in sysfs). */
    assert_int_equal(sh(out, sizeof out, "ip netns exec %s cat /sys/class/net/%s/bridge/stp_state", N.ns, N.br), 0);
    assert_string_equal(out, "0");

    assert_int_equal(px_topo_link_set_master(N.ns, N.p1, NULL, err), 0);
    assert_int_not_equal(sh(out, sizeof out, "ip -n %s -o link show %s | grep -q master", N.ns, N.p1), 0);
    assert_int_equal(px_topo_link_set_master(N.ns, N.p1, "pxnosuchbr", err), PX_ENODEV);

    /* Deleting the namespace takes its links with it. */
    assert_int_equal(px_topo_netns_del(N.ns, err), 0);
    assert_false(px_topo_netns_exists(N.ns));
}

static void test_bridge_vlans_in_netns(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "", out[512];
    assert_int_equal(px_topo_netns_add(N.ns, err), 0);
    int rc = px_topo_bridge_add(N.ns, N.br, true, err);
    if (rc == PX_ENOTSUP) {
        /* Only acceptable when the kernel itself refuses it, which ip(8) confirms. */
        assert_non_null(strstr(err, "CONFIG_BRIDGE_VLAN_FILTERING"));
        assert_int_not_equal(
            sh(out, sizeof out, "ip -n %s link add %s type bridge vlan_filtering 1 2>&1", N.ns, N.br), 0);
        assert_false(px_topo_link_exists(N.ns, N.br));
        print_message("SKIP: kernel without bridge VLAN filtering: %s\n", err);
        skip();
    }
    assert_int_equal(rc, 0);
    assert_int_equal(px_topo_veth_add(N.ns, N.p1, N.p2, err), 0);
    assert_int_equal(px_topo_link_set_master(N.ns, N.p1, N.br, err), 0);
    assert_int_equal(sh(out, sizeof out, "ip netns exec %s cat /sys/class/net/%s/bridge/vlan_filtering", N.ns, N.br),
                     0);
    assert_string_equal(out, "1");

    assert_int_equal(px_topo_bridge_vlan_add(N.ns, N.p1, 102, false, false, err), 0);
    assert_int_equal(px_topo_bridge_vlan_add(N.ns, N.p1, 200, true, true, err), 0);
    assert_int_equal(px_topo_bridge_vlan_add(N.ns, N.br, 102, false, false, err), 0);
    assert_int_equal(sh(out, sizeof out, "bridge -n %s -j vlan show dev %s", N.ns, N.p1), 0);
    assert_non_null(strstr(out, "\"vlan\":102"));
    assert_non_null(strstr(out, "\"vlan\":200,\"flags\":[\"PVID\",\"Egress Untagged\"]"));
    assert_int_equal(sh(out, sizeof out, "bridge -n %s -j vlan show dev %s", N.ns, N.br), 0);
    assert_non_null(strstr(out, "\"vlan\":102"));

    assert_int_equal(px_topo_bridge_vlan_del(N.ns, N.p1, 102, err), 0);
    assert_int_equal(sh(out, sizeof out, "bridge -n %s -j vlan show dev %s", N.ns, N.p1), 0);
    assert_null(strstr(out, "\"vlan\":102"));
    assert_int_equal(px_topo_bridge_vlan_add(N.ns, N.p1, 4095, false, false, err), PX_ERANGE);
    assert_int_equal(px_topo_netns_del(N.ns, err), 0);
}

static void test_netns_run(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "";
    assert_int_equal(px_topo_netns_add(N.ns, err), 0);
    assert_int_equal(px_topo_bridge_add(N.ns, N.br, false, err), 0);
    assert_false(px_topo_link_exists(NULL, N.br));
    assert_true(px_topo_link_exists(N.ns, N.br));
    assert_int_equal(px_topo_netns_del(N.ns, err), 0);
    assert_int_equal(px_topo_link_set_up(N.ns, N.br, true, err), PX_ENODEV);
}

/* The content of a /proc/sys file of namespace ns (NULL: ours), first line. */
static void sysctl_of(char *out, size_t n, const char *ns, const char *path)
{
    if (ns)
        sh(out, n, "ip netns exec %s cat %s", ns, path);
    else
        sh(out, n, "cat %s", path);
}

static void test_no_ipv6(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "", out[64], path[128];
    if (access("/proc/sys/net/ipv6", F_OK) != 0)
        skip(); /* a kernel without IPv6 */
    assert_int_equal(px_topo_veth_add(NULL, N.va, N.vb, err), 0);
    assert_int_equal(px_topo_link_no_ipv6(NULL, N.va, err), 0);
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", N.va);
    sysctl_of(out, sizeof out, NULL, path);
    assert_string_equal(out, "1");
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", N.vb);
    sysctl_of(out, sizeof out, NULL, path);
    assert_string_equal(out, "0"); /* only the one asked for */
    assert_int_equal(px_topo_link_no_ipv6(NULL, "pxnosuch0", err), PX_ENODEV);
    assert_non_null(strstr(err, "pxnosuch0"));

    /* A namespace's default: links created in it later are quiet too. */
    assert_int_equal(px_topo_netns_add(N.ns, err), 0);
    assert_int_equal(px_topo_netns_no_ipv6(N.ns, err), 0);
    assert_int_equal(px_topo_bridge_add(N.ns, N.br, false, err), 0);
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", N.br);
    sysctl_of(out, sizeof out, N.ns, path);
    assert_string_equal(out, "1");
    sysctl_of(out, sizeof out, NULL, "/proc/sys/net/ipv6/conf/default/disable_ipv6");
    assert_string_equal(out, "0"); /* ours untouched */
    assert_int_equal(px_topo_netns_no_ipv6(NULL, err), PX_EINVAL);
}

static void test_link_wait_ready(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "";
    assert_int_equal(px_topo_veth_add(NULL, N.va, N.vb, err), 0);
    assert_int_equal(px_topo_link_wait_ready(NULL, N.va, 10000, err), 0);
    assert_true(px_topo_link_ready(NULL, N.va));

    /* The peer down: no carrier, and the message says so. */
    assert_int_equal(px_topo_link_set_up(NULL, N.vb, false, err), 0);
    assert_int_equal(px_topo_link_wait_ready(NULL, N.va, 200, err), PX_ETIMEDOUT);
    assert_non_null(strstr(err, "no carrier"));
    assert_int_equal(px_topo_link_set_up(NULL, N.va, false, err), 0);
    assert_int_equal(px_topo_link_wait_ready(NULL, N.va, 100, err), PX_ETIMEDOUT);
    assert_non_null(strstr(err, "is down"));
    /* Both up again: ready within the (generous) bound. */
    assert_int_equal(px_topo_link_set_up(NULL, N.va, true, err), 0);
    assert_int_equal(px_topo_link_set_up(NULL, N.vb, true, err), 0);
    assert_int_equal(px_topo_link_wait_ready(NULL, N.va, 10000, err), 0);

    assert_int_equal(px_topo_link_wait_ready(NULL, "pxnosuch0", 100, err), PX_ENODEV);
    assert_non_null(strstr(err, "no such interface"));
}

/* A pid (mod 100000) of no running process, and not ours. */
static int dead_pid(void)
{
    for (int p = 99999; p > 1; p--) {
        char proc[32];
        snprintf(proc, sizeof proc, "/proc/%d", p);
        if (p != (int)(getpid() % 100000) && access(proc, F_OK) != 0)
            return p;
    }
    return -1;
}

static void test_reap(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "", name[16];
    px_topo_name(name, "pxr", "za");
    char want[16];
    snprintf(want, sizeof want, "pxr%05dza", (int)(getpid() % 100000));
    assert_string_equal(name, want);

    int dead = dead_pid();
    assert_true(dead > 0);
    /* Left by a dead run (tag z): reaped. Left by pid 1, which runs, or with
     * another tag (q): kept. */
    char gone_a[16], gone_b[16], live_a[16], live_b[16], other_a[16], other_b[16], gone_ns[32];
    snprintf(gone_a, sizeof gone_a, "pxr%05dza", dead);
    snprintf(gone_b, sizeof gone_b, "pxr%05dzb", dead);
    snprintf(live_a, sizeof live_a, "pxr%05dza", 1);
    snprintf(live_b, sizeof live_b, "pxr%05dzb", 1);
    snprintf(other_a, sizeof other_a, "pxr%05dqa", dead);
    snprintf(other_b, sizeof other_b, "pxr%05dqb", dead);
    snprintf(gone_ns, sizeof gone_ns, "pxr%05dzn", dead);
    px_topo_link_del(NULL, live_a, NULL);
    assert_int_equal(px_topo_veth_add(NULL, gone_a, gone_b, err), 0);
    assert_int_equal(px_topo_veth_add(NULL, live_a, live_b, err), 0);
    assert_int_equal(px_topo_veth_add(NULL, other_a, other_b, err), 0);
    assert_int_equal(px_topo_netns_add(gone_ns, err), 0);

    int n = px_topo_reap_links("pxr", "z", err);
    assert_true(n >= 1);
    assert_false(px_topo_link_exists(NULL, gone_a));
    assert_false(px_topo_link_exists(NULL, gone_b));
    assert_true(px_topo_link_exists(NULL, live_a));
    assert_true(px_topo_link_exists(NULL, other_a));
    assert_true(px_topo_netns_exists(gone_ns)); /* links only */
    assert_int_equal(px_topo_reap_netns("pxr", "z", err), 1);
    assert_false(px_topo_netns_exists(gone_ns));
    assert_int_equal(px_topo_reap_links("pxr", "", err), PX_EINVAL);

    px_topo_link_del(NULL, live_a, NULL);
    px_topo_link_del(NULL, other_a, NULL);
}

int main(void)
{
    px_test_require_root("test_topology");
    px_test_ifname(N.va, "pxr", "a");
    px_test_ifname(N.vb, "pxr", "b");
    px_test_ifname(N.br, "pxr", "br");
    px_test_ifname(N.p1, "pxr", "p1");
    px_test_ifname(N.p2, "pxr", "p2");
    snprintf(N.ns, sizeof N.ns, "pxr%dns", (int)getpid());
    snprintf(N.ns2, sizeof N.ns2, "pxr%dnx", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_veth_up_mtu_del, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_netns_iproute2_compatible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_move_into_netns_and_operate_there, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bridge_master_in_netns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bridge_vlans_in_netns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_netns_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_wait_ready, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
