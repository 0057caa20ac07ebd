/* Net tests of `pktexpect stf` (root, veth): a Linux bridge is the "target", its
 * three ports the far ends of veth pairs h0-s0, h1-s1, h2-s2; STF ports 0, 1, 2
 * are h0, h1, h2 (one given in PTF's -i form). A frame to an unknown MAC sent
 * on port 0 is flooded to ports 1 and 2.
 *   packet 0 / expect 1 / expect 2 (a '*' nibble, a '$' length): PASS,
 *   with a JUnit report                                       test_stf_passes
 *   a wrong expect: FAIL with the line, the byte and the hex diff  test_stf_wrong_expect_diff
 *   the flooded copy on a port with no expect: FAIL "unexpected packet"
 *                                                             test_stf_unexpected_packet */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pktexpect/topology.h"
#include "px_test.h"

static char bin[4096], tmp[64];
static char br[16], h[3][16], s[3][16];

static void cleanup(void)
{
    for (int i = 0; i < 3; i++)
        px_topo_link_del(NULL, h[i], NULL);
    px_topo_link_del(NULL, br, NULL);
}

static void no_ipv6(const char *ifname)
{
    char p[128];
    snprintf(p, sizeof p, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs("1", f);
        fclose(f);
    }
}

static int setup(void **state)
{
    (void)state;
    cleanup();
    char eb[PX_ERRBUF_SIZE];
    if (px_topo_bridge_add(NULL, br, false, eb) != 0) {
        print_error("bridge %s: %s\n", br, eb);
        return -1;
    }
    no_ipv6(br);
    for (int i = 0; i < 3; i++) {
        if (px_topo_veth_add(NULL, h[i], s[i], eb) != 0 || px_topo_link_set_master(NULL, s[i], br, eb) != 0) {
            print_error("veth %s/%s: %s\n", h[i], s[i], eb);
            cleanup();
            return -1;
        }
        /* No IPv6 chatter of the kernel through the bridge (the noise filter
         * would ignore it, but the test need not rely on that). */
        no_ipv6(h[i]);
        no_ipv6(s[i]);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cleanup();
    return 0;
}

static void write_file(const char *name, const char *text)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char out_text[65536];

/* Runs `pktexpect stf` on tmp/NAME with the port map, and the extra arguments;
 * stdout and stderr together into out_text. */
static int run_stf(const char *name, const char *extra)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' stf --timeout 1s --port-map 0=%s,1=%s -i 2@%s %s '%s/%s' > '%s/out.txt' 2>&1", bin,
             h[0], h[1], h[2], extra, tmp, name, tmp);
    int st = system(cmd);
    char p[128];
    snprintf(p, sizeof p, "%s/out.txt", tmp);
    FILE *f = fopen(p, "r");
    size_t n = f ? fread(out_text, 1, sizeof out_text - 1, f) : 0;
    out_text[n] = '\0';
    if (f)
        fclose(f);
    print_message("%s", out_text);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Ethernet to an unknown unicast MAC, IPv4/UDP: 42 bytes. The IPv4 checksum is
 * right: with br_netfilter loaded, the bridge drops IPv4 headers that are not. */
#define FRAME "02000000aa02 02000000aa01 0800 4500001c00010000401166ce0a0000010a000002 04d2 0035 0008 0000"

static void test_stf_passes(void **state)
{
    (void)state;
    write_file("flood.stf", "# flooded to both other ports\n"
                            "packet 0 " FRAME "\n"
                            "expect 1 02000000aa02 02000000aa01 0800 45\n"
                            "expect 2 02000000aa02 02000000aa01 0800 4500001c0001000040116***0a0000010a000002 "
                            "04d2 0035 0008 00** $\n");
    char extra[256];
    snprintf(extra, sizeof extra, "--junit '%s/report.xml'", tmp);
    assert_int_equal(run_stf("flood.stf", extra), 0);
    assert_non_null(strstr(out_text, "1 test: 1 passed"));
    char p[128];
    snprintf(p, sizeof p, "%s/report.xml", tmp);
    assert_int_equal(access(p, R_OK), 0);
}

static void test_stf_wrong_expect_diff(void **state)
{
    (void)state;
    write_file("wrong.stf", "packet 0 " FRAME "\n"
                            "expect 1 02000000aa02 02000000aa01 0800 45 00 001c 0001 0000 3f\n" /* TTL 63, got 64 */
                            "expect 2 02000000aa02\n");
    assert_int_equal(run_stf("wrong.stf", ""), 1);
    assert_non_null(strstr(out_text, "FAIL"));
    assert_non_null(strstr(out_text, "packet 1 on port 1 differs from the expect at"));
    assert_non_null(strstr(out_text, "wrong.stf:2, at byte 22"));
    assert_non_null(strstr(out_text, "0010 expected: 00 1c 00 01 00 00 3f .."));
    assert_non_null(strstr(out_text, "received: 00 1c 00 01 00 00 40 11"));
    assert_non_null(strstr(out_text, "^^"));
}

static void test_stf_unexpected_packet(void **state)
{
    (void)state;
    write_file("extra.stf", "packet 0 " FRAME "\nexpect 1 02000000aa02\n");
    assert_int_equal(run_stf("extra.stf", "--tap"), 1);
    assert_non_null(strstr(out_text, "not ok 1"));
    assert_non_null(strstr(out_text, "unexpected packet on port 2 (after the 0 expected)"));
}

int main(void)
{
    px_test_require_root("test_stf");
    const char *bd = getenv("PX_BUILD_DIR");
    if (!bd) {
        fprintf(stderr, "test_stf: set PX_BUILD_DIR (ctest does)\n");
        return 1;
    }
    snprintf(bin, sizeof bin, "%s/pktexpect", bd);
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "test_stf: %s is missing: build the pktexpect target\n", bin);
        return 1;
    }
    snprintf(tmp, sizeof tmp, "/tmp/pxr-stf-XXXXXX");
    if (!mkdtemp(tmp))
        return 1;
    px_test_ifname(br, "pxf", "br");
    for (int i = 0; i < 3; i++) {
        char sfx[4];
        snprintf(sfx, sizeof sfx, "h%d", i);
        px_test_ifname(h[i], "pxf", sfx);
        snprintf(sfx, sizeof sfx, "s%d", i);
        px_test_ifname(s[i], "pxf", sfx);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stf_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stf_wrong_expect_diff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stf_unexpected_packet, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
