/* Net tests of the scenario runner: the `pktexpect` binary runs scenarios on real
 * topologies (root), and the tests check its exit codes, its reports (JUnit through
 * xmllint, TAP read back), the pcapng evidence of a failed test, and that nothing
 * is left on the machine after success, failure, a failed setup and SIGINT.
 * Every interface and namespace name is made from the prefix "pxr" and the pid,
 * handed to the scenarios with --var. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "evidence_dir.h"
#include "pktexpect/topology.h"
#include "px_test.h"

static char bin[4096], src[4096], tmp[64];
static char ns[32], ns2[32], a[16], b[16], h1[16], h2[16], h3[16];

static void cleanup(void)
{
    const char *links[] = {a, b, h1, h2, h3};
    for (size_t i = 0; i < sizeof links / sizeof *links; i++)
        px_topo_link_del(NULL, links[i], NULL);
    px_topo_netns_del(ns, NULL);
    px_topo_netns_del(ns2, NULL);
}

static bool nothing_left(void)
{
    const char *links[] = {a, b, h1, h2, h3};
    for (size_t i = 0; i < sizeof links / sizeof *links; i++)
        if (px_topo_link_exists(NULL, links[i])) {
            print_error("interface %s left behind\n", links[i]);
            return false;
        }
    if (px_topo_netns_exists(ns) || px_topo_netns_exists(ns2)) {
        print_error("namespace left behind\n");
        return false;
    }
    return true;
}

/* Children of start() that finish() has not reaped yet. */
static pid_t children[8];

static void child_forget(pid_t pid)
{
    for (size_t i = 0; i < sizeof children / sizeof *children; i++)
        if (children[i] == pid)
            children[i] = 0;
}

/* Ends the children a failed assertion left running (a `watch` without -t
 * runs until interrupted): SIGTERM first, so that a `run` tears its topology
 * down, then SIGKILL after a safety net of 20 s. */
static void end_children(void)
{
    for (size_t i = 0; i < sizeof children / sizeof *children; i++) {
        pid_t pid = children[i];
        if (!pid)
            continue;
        children[i] = 0;
        kill(pid, SIGTERM);
        int st;
        for (int t = 0; t < 400 && waitpid(pid, &st, WNOHANG) == 0; t++) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (kill(pid, SIGKILL) == 0)
            waitpid(pid, &st, 0);
    }
}

static int setup(void **state)
{
    (void)state;
    cleanup();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    end_children();
    cleanup();
    return 0;
}

/* Starts pktexpect with the given arguments (NULL-terminated), stdout and stderr
 * into tmp/out.txt and tmp/err.txt. Returns the pid. */
static pid_t start(const char *const *args)
{
    char outp[128], errp[128];
    snprintf(outp, sizeof outp, "%s/out.txt", tmp);
    snprintf(errp, sizeof errp, "%s/err.txt", tmp);
    /* Not the last child's: a test that waits for "watching" must see this one's. */
    unlink(outp);
    unlink(errp);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0)
            _exit(126);
        dup2(o, 1);
        dup2(e, 2);
        const char *argv[64];
        size_t n = 0;
        argv[n++] = bin;
        for (size_t i = 0; args[i] && n < 63; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    for (size_t i = 0; i < sizeof children / sizeof *children; i++)
        if (!children[i]) {
            children[i] = pid;
            break;
        }
    return pid;
}

static int finish(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    child_forget(pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int pktexpect(const char *const *args)
{
    return finish(start(args));
}

static char *slurp(const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        return strdup("");
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

static const char *xpath(const char *file, const char *expr)
{
    static char out[8192];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "xmllint --xpath '%s' '%s/%s' 2>&1", expr, tmp, file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    if (n && out[n - 1] == '\n')
        out[n - 1] = '\0';
    return out;
}

static void var(char *out, size_t n, const char *name, const char *value)
{
    snprintf(out, n, "%s=%s", name, value);
}

/* The --var values of the scenarios under tests/data/scenarios/net/: ns=, a=, b=
 * of this process. */
static void vars_ns_a_b(char v[3][64])
{
    var(v[0], 64, "ns", ns);
    var(v[1], 64, "a", a);
    var(v[2], 64, "b", b);
}

/* Waits (bounded, 10 s) until the last child started says "watching" on
 * stderr: its capture is armed. */
static bool wait_watching(void)
{
    bool armed = false;
    for (int i = 0; i < 200 && !armed; i++) {
        char *err = slurp("err.txt");
        armed = strstr(err, "watching") != NULL;
        free(err);
        if (!armed) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return armed;
}

static void test_demo_passes_with_reports_and_shards(void **state)
{
    (void)state;
    char demo[4200], v[4][64], junit[128];
    snprintf(demo, sizeof demo, "%s/examples/demo.yaml", src);
    var(v[0], 64, "ns", ns);
    var(v[1], 64, "h1", h1);
    var(v[2], 64, "h2", h2);
    var(v[3], 64, "h3", h3);
    snprintf(junit, sizeof junit, "%s/all.xml", tmp);
    const char *args[] = {"run", "--tap", "--junit", junit, "--var", v[0], "--var", v[1], "--var", v[2],
                          "--var", v[3], demo, NULL};
    int rc = pktexpect(args);
    char *out = slurp("out.txt"), *err = slurp("err.txt");
    if (rc != 0)
        print_error("stdout:\n%s\nstderr:\n%s\n", out, err);
    assert_int_equal(rc, 0);
    /* TAP read back: version, plan, three passing tests in order. */
    const char *want[] = {"TAP version 13", "1..3", "ok 1 - demo: broadcast is flooded to every other port",
                          "ok 2 - demo: learned unicast goes only to the learned port",
                          "ok 3 - demo: a frame never comes back to its ingress port"};
    char *save = NULL, *line = strtok_r(out, "\n", &save);
    for (size_t i = 0; i < 5; i++, line = strtok_r(NULL, "\n", &save)) {
        assert_non_null(line);
        assert_string_equal(line, want[i]);
    }
    assert_null(line);
    free(out);
    free(err);
    assert_string_equal(xpath("all.xml", "concat(/testsuites/@tests, \",\", /testsuites/@failures, \",\", "
                                          "/testsuites/@errors, \",\", count(//testcase))"),
                        "3,0,0,3");
    assert_true(nothing_left());

    /* The same suite in two shards, merged. */
    char j1[128], j2[128], jm[128];
    snprintf(j1, sizeof j1, "%s/s1.xml", tmp);
    snprintf(j2, sizeof j2, "%s/s2.xml", tmp);
    snprintf(jm, sizeof jm, "%s/merged.xml", tmp);
    for (int k = 1; k <= 2; k++) {
        const char *sargs[] = {"run", "--shard", k == 1 ? "1/2" : "2/2", "--junit", k == 1 ? j1 : j2, "--var", v[0],
                               "--var", v[1], "--var", v[2], "--var", v[3], demo, NULL};
        assert_int_equal(pktexpect(sargs), 0);
    }
    assert_string_equal(xpath("s1.xml", "count(//testcase)"), "2");
    assert_string_equal(xpath("s2.xml", "count(//testcase)"), "1");
    const char *margs[] = {"junit-merge", jm, j1, j2, NULL};
    assert_int_equal(pktexpect(margs), 0);
    assert_string_equal(xpath("merged.xml", "concat(/testsuites/@tests, \",\", count(//testcase), \",\", "
                                             "count(//testcase[@name=\"learned unicast goes only to the learned "
                                             "port\"]))"),
                        "3,3,1");
    assert_true(nothing_left());
}

/* Finds in a pcapng file a frame with `dir` (via its length and bytes) whose IPv4
 * TTL is `ttl`; returns how many frames the file has. */
static int pcap_frames(const char *path, int ttl, int *with_ttl)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, eb);
    if (!p) {
        print_error("%s: %s\n", path, eb);
        return -1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    int n = 0;
    *with_ttl = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        n++;
        if (h->caplen >= 34 && d[12] == 0x08 && d[13] == 0x00 && d[22] == ttl && d[23] == 17)
            (*with_ttl)++;
    }
    pcap_close(p);
    return n;
}

static void test_failure_has_diff_and_evidence(void **state)
{
    (void)state;
    char file[4200], v[3][64], junit[128], pdir[128];
    snprintf(file, sizeof file, "%s/tests/data/scenarios/net/failing.yaml", src);
    vars_ns_a_b(v);
    snprintf(junit, sizeof junit, "%s/fail.xml", tmp);
    snprintf(pdir, sizeof pdir, "%s/evidence", tmp);
    const char *args[] = {"run",   "--junit", junit, "--pcap-dir", pdir, "--var", v[0], "--var", v[1],
                          "--var", v[2],      file,  NULL};
    int rc = pktexpect(args);
    char *out = slurp("out.txt"), *err = slurp("err.txt");
    if (rc != 1)
        print_error("stdout:\n%s\nstderr:\n%s\n", out, err);
    assert_int_equal(rc, 1);
    /* Console: the failing test with its field diff, the passing one. */
    assert_non_null(strstr(out, "[1/2] FAIL  failing: ttl is decremented"));
    assert_non_null(strstr(out, "ipv4.ttl: expected 63, got 64"));
    assert_non_null(strstr(out, "[2/2] PASS  failing: the frame does arrive"));
    assert_non_null(strstr(out, "2 tests: 1 passed, 1 failed, 0 errors, 0 skipped"));
    free(out);
    free(err);
    /* JUnit: one failure whose text carries the diff, system-out the frames. */
    assert_string_equal(xpath("fail.xml", "concat(/testsuites/@tests, \",\", /testsuites/@failures)"), "2,1");
    assert_non_null(strstr(xpath("fail.xml", "string(//testcase[failure]/failure)"), "ipv4.ttl: expected 63, got 64"));
    const char *sysout = xpath("fail.xml", "string(//testcase[failure]/system-out)");
    char want_tx[64];
    snprintf(want_tx, sizeof want_tx, "%s TX Ether(", a);
    assert_non_null(strstr(sysout, want_tx));
    /* Evidence: kept for the failed test only, holding the frame sent (TX on a)
     * and the frame seen (RX on b), both with TTL 64. */
    char pf[512], pp[512];
    char *nf = px_evdir_name("failing", "ttl is decremented"), *np = px_evdir_name("failing", "the frame does arrive");
    snprintf(pf, sizeof pf, "%s/%s", pdir, nf);
    snprintf(pp, sizeof pp, "%s/%s", pdir, np);
    free(nf);
    free(np);
    assert_int_equal(access(pp, F_OK), -1);
    int ttl64 = 0;
    int n = pcap_frames(pf, 64, &ttl64);
    assert_true(n >= 2);
    assert_int_equal(ttl64, 2);
    assert_true(nothing_left());
}

/* Evidence on a full file system: the run says which test's file could not be
 * written and why, and never claims it (no "evidence:" line, no empty file). */
static void test_evidence_on_full_disk(void **state)
{
    (void)state;
    char mnt[128], fill[160], pdir[160];
    snprintf(mnt, sizeof mnt, "%s/full", tmp);
    snprintf(fill, sizeof fill, "%s/fill", mnt);
    snprintf(pdir, sizeof pdir, "%s/evidence", mnt);
    assert_int_equal(mkdir(mnt, 0755), 0);
    if (mount("pxr-full", mnt, "tmpfs", 0, "size=64k") != 0) {
        rmdir(mnt);
        skip();
    }
    int fd = open(fill, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    static char block[4096];
    while (write(fd, block, sizeof block) > 0)
        ;
    close(fd);
    char file[4200], v[3][64];
    snprintf(file, sizeof file, "%s/tests/data/scenarios/net/failing.yaml", src);
    vars_ns_a_b(v);
    const char *args[] = {"run", "--pcap-dir", pdir, "--var", v[0], "--var", v[1], "--var", v[2], file, NULL};
    int rc = pktexpect(args);
    char *out = slurp("out.txt"), *err = slurp("err.txt");
    bool left = access(pdir, F_OK) == 0;
    umount2(mnt, MNT_DETACH);
    rmdir(mnt);
    if (rc != 1)
        print_error("stdout:\n%s\nstderr:\n%s\n", out, err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "[1/2] FAIL  failing: ttl is decremented"));
    assert_null(strstr(out, "evidence: /"));
    assert_non_null(strstr(out, "evidence: not kept: cannot write '"));
    assert_non_null(strstr(err, "failing: ttl is decremented: cannot write the evidence file '"));
    char why[128];
    snprintf(why, sizeof why, "write failed: %s", strerror(ENOSPC));
    assert_non_null(strstr(err, why));
    assert_false(left); /* created by the run, nothing kept in it: removed */
    free(out);
    free(err);
    assert_true(nothing_left());
}

/* Test names that differ only in punctuation keep separate evidence (the passing
 * one no longer deletes the failing one's), and a very long name still passes. */
static void test_evidence_names(void **state)
{
    (void)state;
    char longname[261];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    static const char steps_pass[] =
        "    steps:\n"
        "      - expect: { port: \"${b}\", predicate: \"saw_src_mac(02:00:00:00:00:01)\" }\n"
        "      - send: { port: \"${a}\", frame: \"Ether(src=02:00:00:00:00:01, dst=02:00:00:00:00:02)/IPv4()/UDP()\" }\n";
    char file[256], pdir[160];
    snprintf(file, sizeof file, "%s/names.yaml", tmp);
    snprintf(pdir, sizeof pdir, "%s/evidence-names", tmp);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f,
            "name: names\n"
            "topology:\n"
            "  namespaces: [ \"${ns}\" ]\n"
            "  veths:\n"
            "    - { name: \"${a}\", peer: \"${b}\", peer_netns: \"${ns}\" }\n"
            "defaults: { timeout: 300ms }\n"
            "tests:\n"
            "  - name: x y\n"
            "    steps:\n"
            "      - expect: { port: \"${b}\", predicate: \"saw_src_mac(02:00:00:00:00:09)\" }\n"
            "  - name: x_y\n%s"
            "  - name: %s\n%s",
            steps_pass, longname, steps_pass);
    assert_int_equal(fclose(f), 0);
    char v[3][64];
    vars_ns_a_b(v);
    const char *args[] = {"run", "--pcap-dir", pdir, "--var", v[0], "--var", v[1], "--var", v[2], file, NULL};
    int rc = pktexpect(args);
    char *out = slurp("out.txt"), *err = slurp("err.txt");
    if (rc != 1)
        print_error("stdout:\n%s\nstderr:\n%s\n", out, err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "[1/3] FAIL  names: x y"));
    assert_non_null(strstr(out, "[2/3] PASS  names: x_y"));
    assert_non_null(strstr(out, "[3/3] PASS  names: nnnn"));
    free(out);
    free(err);
    char *kept = px_evdir_name("names", "x y"), *gone = px_evdir_name("names", "x_y");
    char pk[512], pg[512];
    snprintf(pk, sizeof pk, "%s/%s", pdir, kept);
    snprintf(pg, sizeof pg, "%s/%s", pdir, gone);
    free(kept);
    free(gone);
    assert_int_equal(access(pk, F_OK), 0);
    assert_int_equal(access(pg, F_OK), -1);
    assert_true(nothing_left());
}

static void test_setup_failure_tears_down(void **state)
{
    (void)state;
    char file[4200], v[3][64];
    snprintf(file, sizeof file, "%s/tests/data/scenarios/net/setup_fails.yaml", src);
    vars_ns_a_b(v);
    const char *args[] = {"run", "--var", v[0], "--var", v[1], "--var", v[2], file, NULL};
    int rc = pktexpect(args);
    char *out = slurp("out.txt"), *err = slurp("err.txt");
    assert_int_equal(rc, 3);
    assert_non_null(strstr(err, "setup command 'echo boom >&2; exit 7' exited with 7; its output:\nboom\n"));
    assert_non_null(strstr(out, "ERROR setup-fails: never runs"));
    free(out);
    free(err);
    assert_true(nothing_left());
}

static void test_sigint_tears_down(void **state)
{
    (void)state;
    char file[4200], v[3][64];
    snprintf(file, sizeof file, "%s/tests/data/scenarios/net/hang.yaml", src);
    vars_ns_a_b(v);
    const char *args[] = {"run", "--var", v[0], "--var", v[1], "--var", v[2], file, NULL};
    pid_t pid = start(args);
    /* Wait (bounded) until the topology is up, then interrupt. */
    bool up = false;
    for (int i = 0; i < 200 && !up; i++) {
        up = px_topo_link_exists(NULL, a) && px_topo_link_exists(ns, b);
        if (!up) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    assert_true(up);
    struct timespec ts = {0, 300 * 1000 * 1000}; /* let the test arm its expectation */
    nanosleep(&ts, NULL);
    kill(pid, SIGINT);
    int rc = finish(pid);
    char *out = slurp("out.txt"), *err = slurp("err.txt");
    if (rc != 130)
        print_error("stdout:\n%s\nstderr:\n%s\n", out, err);
    assert_int_equal(rc, 130);
    assert_non_null(strstr(out, "ERROR hang: waits a minute"));
    assert_non_null(strstr(err, "interrupted; topology torn down"));
    free(out);
    free(err);
    assert_true(nothing_left());
}

static void test_deadline_bounds_the_run(void **state)
{
    (void)state;
    char file[4200], v[3][64];
    snprintf(file, sizeof file, "%s/tests/data/scenarios/net/hang.yaml", src);
    vars_ns_a_b(v);
    const char *args[] = {"run", "--deadline", "1", "--var", v[0], "--var", v[1], "--var", v[2], file, NULL};
    int rc = pktexpect(args);
    char *out = slurp("out.txt");
    if (rc != 1)
        print_error("stdout:\n%s\n", out);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "ERROR hang: waits a minute"));
    assert_non_null(strstr(out, "global deadline reached"));
    free(out);
    assert_true(nothing_left());
}

static void test_keep_topology_and_invalid_input(void **state)
{
    (void)state;
    char file[4200], v[3][64];
    snprintf(file, sizeof file, "%s/tests/data/scenarios/net/failing.yaml", src);
    vars_ns_a_b(v);
    const char *args[] = {"run", "--keep-topology", "--filter", "*arrive", "--var", v[0], "--var", v[1], "--var",
                          v[2], file, NULL};
    assert_int_equal(pktexpect(args), 0);
    assert_true(px_topo_link_exists(NULL, a));
    assert_true(px_topo_link_exists(ns, b));
    cleanup();
    assert_true(nothing_left());

    /* Invalid input: exit 2, nothing created. */
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/tests/data/scenarios/bad/unknown_port.yaml", src);
    const char *bargs[] = {"run", bad, NULL};
    assert_int_equal(pktexpect(bargs), 2);
    char *err = slurp("err.txt");
    assert_non_null(strstr(err, "unknown_port.yaml:6:33: unknown port 'pxr-c' (known ports: pxr-a, pxr-b;"));
    free(err);
    assert_false(px_topo_link_exists(NULL, "pxr-a"));
    const char *shard[] = {"run", "--shard", "3/2", file, NULL};
    assert_int_equal(pktexpect(shard), 2);
}

static void test_watch_prints_frames_in_a_namespace(void **state)
{
    (void)state;
    char eb[PX_ERRBUF_SIZE] = "";
    assert_int_equal(px_topo_netns_add(ns, eb), 0);
    assert_int_equal(px_topo_veth_add(NULL, a, b, eb), 0);
    assert_int_equal(px_topo_link_set_netns(NULL, b, ns, eb), 0);
    assert_int_equal(px_topo_link_set_up(ns, b, true, eb), 0);
    const char *args[] = {"watch", "-n", ns, "-i", b, "-c", "1", "-t", "10s", "saw_src_mac(02:00:00:00:00:07)", NULL};
    pid_t pid = start(args);
    /* It says "watching" once the capture is armed; then send one frame on a. */
    assert_true(wait_watching());
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    assert_true(fd >= 0);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(a)};
    static const uint8_t frame[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x07, 0x88, 0xb5,
                                    'w',  'a',  't',  'c',  'h'};
    assert_int_equal(sendto(fd, frame, sizeof frame, 0, (struct sockaddr *)&sll, sizeof sll), (ssize_t)sizeof frame);
    close(fd);
    int rc = finish(pid);
    char *out = slurp("out.txt");
    if (rc != 0)
        print_error("stdout:\n%s\n", out);
    assert_int_equal(rc, 0);
    char want[64];
    snprintf(want, sizeof want, " %s Ether(", b);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "src=02:00:00:00:00:07"));
    assert_non_null(strstr(out, "verdict:  PASS"));
    /* The core's port "NETNS/IFNAME" did the capture (no thread entered ns). */
    snprintf(want, sizeof want, " on %s/%s ", ns, b);
    assert_non_null(strstr(out, want));
    free(out);

    /* A port that does not exist: exit 3. */
    const char *bad[] = {"watch", "-i", "pxrnosuch0", "-t", "1s", "received_packet()", NULL};
    assert_int_equal(pktexpect(bad), 3);
}

/* `send --netns` injects from inside a namespace: a frame sent on b (in ns)
 * arrives on a, where `watch` (without -t: "until interrupted") sees it. */
static void test_send_in_a_namespace(void **state)
{
    (void)state;
    char eb[PX_ERRBUF_SIZE] = "";
    assert_int_equal(px_topo_netns_add(ns, eb), 0);
    assert_int_equal(px_topo_veth_add(NULL, a, b, eb), 0);
    assert_int_equal(px_topo_link_set_netns(NULL, b, ns, eb), 0);
    assert_int_equal(px_topo_link_set_up(ns, b, true, eb), 0);
    assert_int_equal(px_topo_link_set_up(NULL, a, true, eb), 0);
    const char *args[] = {"watch", "--port", a, "-c", "1", "saw_src_mac(02:00:00:00:00:08)", NULL};
    pid_t pid = start(args);
    assert_true(wait_watching());
    /* start() writes into the same files: the watcher's are read after it ends. */
    char sendout[128];
    snprintf(sendout, sizeof sendout, "%s/send.txt", tmp);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' send --netns %s -i %s 'Ether(src=02:00:00:00:00:08)/Raw(\"netns\")' >'%s' 2>&1",
             bin, ns, b, sendout);
    int src_rc = system(cmd);
    /* The watcher ends with its first frame; a safety net, not a timing bound. */
    int st = 0, rc = -1;
    for (int i = 0; i < 600 && rc < 0; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            child_forget(pid);
            rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        } else {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (rc < 0) {
        kill(pid, SIGINT);
        rc = finish(pid);
    }
    char *out = slurp("out.txt");
    if (rc != 0 || src_rc != 0)
        print_error("send: %d, watch: %d; watch's stdout:\n%s\n", src_rc, rc, out);
    assert_int_equal(src_rc, 0);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "src=02:00:00:00:00:08"));
    assert_non_null(strstr(out, "until interrupted, count 1"));
    assert_non_null(strstr(out, "verdict:  PASS"));
    free(out);
}

/* Writes `text` to tmp/NAME and returns the path in `out`. */
static void write_scenario(char *out, size_t n, const char *name, const char *text)
{
    snprintf(out, n, "%s/%s", tmp, name);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Two namespaces each with an interface of the same name, used in one test and
 * in one expectation: the runner opens the library's NETNS/IFNAME ports, so the
 * two are distinct ports of one context. */
static void test_same_ifname_in_two_namespaces(void **state)
{
    (void)state;
    char file[256];
    write_scenario(file, sizeof file, "twons.yaml",
                   "name: twons\n"
                   "topology:\n"
                   "  namespaces: [ \"${ns}\", \"${ns2}\" ]\n"
                   "  veths:\n"
                   "    - { name: \"${a}\", peer: \"${h1}\", peer_netns: \"${ns}\" }\n"
                   "    - { name: \"${b}\", peer: \"${h1}\", peer_netns: \"${ns2}\" }\n"
                   "ports:\n"
                   "  left: { interface: \"${h1}\", netns: \"${ns}\" }\n"
                   "  right: { interface: \"${h1}\", netns: \"${ns2}\" }\n"
                   "tests:\n"
                   "  - name: each namespace sees its own frame\n"
                   "    steps:\n"
                   "      - expect: { port: left, predicate: \"saw_src_mac(02:00:00:00:00:0a)\" }\n"
                   "      - expect: { port: right, predicate: \"saw_src_mac(02:00:00:00:00:0b)\" }\n"
                   "      - expect: { port: left, timeout: 500ms, predicate: \"did_not_see_src_mac(02:00:00:00:00:0b)\" }\n"
                   "      - expect:\n"
                   "          any: [ left, right ]\n"
                   "          timeout: 500ms\n"
                   "          filter: \"ether src 02:00:00:00:00:0a or ether src 02:00:00:00:00:0b\"\n"
                   "          predicate: \"packet_count_was(2)\"\n"
                   "      - send: { port: \"${a}\", frame: \"Ether(src=02:00:00:00:00:0a)/IPv4()/UDP()\" }\n"
                   "      - send: { port: \"${b}\", frame: \"Ether(src=02:00:00:00:00:0b)/IPv4()/UDP()\" }\n");
    char v[5][64];
    var(v[0], 64, "ns", ns);
    var(v[1], 64, "ns2", ns2);
    var(v[2], 64, "a", a);
    var(v[3], 64, "b", b);
    var(v[4], 64, "h1", h1);
    const char *args[] = {"run", "--var", v[0], "--var", v[1], "--var", v[2], "--var", v[3], "--var", v[4], file, NULL};
    int rc = pktexpect(args);
    char *out = slurp("out.txt"), *err = slurp("err.txt");
    if (rc != 0)
        print_error("stdout:\n%s\nstderr:\n%s\n", out, err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "PASS  twons: each namespace sees its own frame"));
    free(out);
    free(err);
    assert_true(nothing_left());
}

/* Through a Linux bridge: a frame whose text leaves the Ethernet source out is
 * sent with the port's MAC and forwarded; one sent from 00:00:00:00:00:00 (given
 * explicitly, so kept) is dropped by the bridge, and the FAIL says why. */
static void test_source_mac_through_a_bridge(void **state)
{
    (void)state;
    char file[256];
    write_scenario(file, sizeof file, "srcmac.yaml",
                   "name: srcmac\n"
                   "topology:\n"
                   "  veths:\n"
                   "    - { name: \"${a}\", peer: \"${h1}\" }\n"
                   "    - { name: \"${b}\", peer: \"${h2}\" }\n"
                   "  bridges:\n"
                   "    - { name: \"${h3}\", ports: [ \"${h1}\", \"${h2}\" ] }\n"
                   "ports:\n"
                   "  left: \"${a}\"\n"
                   "  right: \"${b}\"\n"
                   "tests:\n"
                   "  - name: no source given\n"
                   "    steps:\n"
                   "      - expect: { port: right, timeout: 3s, filter: \"udp port 4242\", predicate: \"received_packet()\" }\n"
                   "      - send: { port: left, frame: \"Ether(dst=ff:ff:ff:ff:ff:ff)/IPv4()/UDP(dport=4242)\" }\n"
                   "  - name: zero source given\n"
                   "    steps:\n"
                   "      - expect: { port: right, timeout: 1s, filter: \"udp port 4243\", predicate: \"received_packet()\" }\n"
                   "      - send: { port: left, frame: \"Ether(dst=ff:ff:ff:ff:ff:ff,src=00:00:00:00:00:00)/IPv4()/UDP(dport=4243)\" }\n");
    char v[5][64];
    var(v[0], 64, "a", a);
    var(v[1], 64, "b", b);
    var(v[2], 64, "h1", h1);
    var(v[3], 64, "h2", h2);
    var(v[4], 64, "h3", h3);
    const char *args[] = {"run", "--var", v[0], "--var", v[1], "--var", v[2], "--var", v[3], "--var", v[4], file, NULL};
    int rc = pktexpect(args);
    char *out = slurp("out.txt"), *err = slurp("err.txt");
    if (!strstr(out, "PASS  srcmac: no source given") || !strstr(out, "FAIL  srcmac: zero source given") ||
        !strstr(out, "has the zero source MAC 00:00:00:00:00:00"))
        print_error("exit %d\nstdout:\n%s\nstderr:\n%s\n", rc, out, err);
    assert_non_null(strstr(out, "PASS  srcmac: no source given"));
    assert_non_null(strstr(out, "FAIL  srcmac: zero source given"));
    assert_non_null(strstr(out, "has the zero source MAC 00:00:00:00:00:00"));
    /* the note belongs to the FAIL only */
    assert_null(strstr(strstr(out, "zero source MAC") + 1, "zero source MAC"));
    free(out);
    free(err);
    assert_true(nothing_left());
}

/* Two veth pairs; a frame sent on `a` arrives on `h1` only. `any: [right, left]`
 * PASSes and the report names left, the port that matched; `each: [left, right]`
 * FAILs and the TAP and JUnit reports name right, the port that did not get it. */
static void test_any_and_each_on_veth(void **state)
{
    (void)state;
    char file[256], junit[256];
    snprintf(junit, sizeof junit, "%s/multi.xml", tmp);
    write_scenario(file, sizeof file, "multi.yaml",
                   "name: multi\n"
                   "topology:\n"
                   "  veths:\n"
                   "    - { name: \"${a}\", peer: \"${h1}\" }\n"
                   "    - { name: \"${b}\", peer: \"${h2}\" }\n"
                   "ports:\n"
                   "  in: \"${a}\"\n"
                   "  left: \"${h1}\"\n"
                   "  right: \"${h2}\"\n"
                   "tests:\n"
                   "  - name: any\n"
                   "    steps:\n"
                   "      - expect: { name: reach, any: [right, left], timeout: 3s, filter: \"udp port 4250\", "
                   "predicate: \"received_packet()\" }\n"
                   "      - send: { port: in, frame: \"Ether(dst=ff:ff:ff:ff:ff:ff)/IPv4()/UDP(dport=4250)\" }\n"
                   "  - name: each\n"
                   "    steps:\n"
                   "      - expect: { name: flood, each: [left, right], timeout: 1s, filter: \"udp port 4251\", "
                   "predicate: \"received_packet()\" }\n"
                   "      - send: { port: in, frame: \"Ether(dst=ff:ff:ff:ff:ff:ff)/IPv4()/UDP(dport=4251)\" }\n");
    char v[4][64];
    var(v[0], 64, "a", a);
    var(v[1], 64, "b", b);
    var(v[2], 64, "h1", h1);
    var(v[3], 64, "h2", h2);
    const char *args[] = {"run", "--tap", "--junit", junit, "--var", v[0], "--var", v[1], "--var", v[2],
                          "--var", v[3], file, NULL};
    int rc = pktexpect(args);
    char *out = slurp("out.txt"), *err = slurp("err.txt"), *xml = slurp("multi.xml");
    if (rc != 1 || !strstr(out, "ok 1 - multi: any") || !strstr(out, "not ok 2 - multi: each") ||
        !strstr(out, "expect flood: FAIL on right (FAIL)") || !strstr(out, "on right: FAIL") || !xml ||
        !strstr(xml, "expect reach: PASS on left ") || !strstr(xml, "expect flood on left: PASS") ||
        !strstr(xml, "FAIL on right (FAIL)"))
        fail_msg("exit %d\nstdout:\n%s\nstderr:\n%s\njunit:\n%s\n", rc, out, err, xml ? xml : "(none)");
    free(out);
    free(err);
    free(xml);
    assert_true(nothing_left());
}

/* The verification steps: PTF's order (send, then verify), derived expected
 * frames, and no_other_packets catching a frame nobody verified. */
static void test_verify_steps_on_veth(void **state)
{
    (void)state;
    char file[256];
    write_scenario(file, sizeof file, "verify.yaml",
                   "name: verify\n"
                   "topology:\n"
                   "  veths:\n"
                   "    - { name: \"${a}\", peer: \"${h1}\" }\n"
                   "    - { name: \"${b}\", peer: \"${h2}\" }\n"
                   "variables:\n"
                   "  f: \"Ether(dst=02:00:00:00:00:02)/IPv4(dst=10.0.0.2, ttl=64)/UDP(dport=4260)\"\n"
                   "ports:\n"
                   "  in: \"${a}\"\n"
                   "  left: \"${h1}\"\n"
                   "  right: \"${h2}\"\n"
                   "tests:\n"
                   "  - name: ptf\n"
                   "    steps:\n"
                   "      - send: { port: in, frame: \"${f}\" }\n"
                   "      - verify: { port: left, frame: \"${f}\" }\n"
                   "      - verify_no_packet: { port: right, frame: \"${f}\" }\n"
                   "      - no_other_packets: {}\n"
                   "  - name: other\n"
                   "    steps:\n"
                   "      - send: { port: in, frame: \"${f}\" }\n"
                   "      - send: { port: in, frame: \"Ether(dst=02:00:00:00:00:02)/IPv4()/UDP(dport=4261)\" }\n"
                   "      - verify: { any: [right, left], frame: \"${f}\", name: got }\n"
                   "      - no_other_packets: { name: quiet }\n"
                   "  - name: derived\n"
                   "    steps:\n"
                   "      - send: { port: in, frame: \"Ether(dst=02:00:00:00:00:02)/IPv4(dst=10.0.0.2, ttl=63)/"
                   "UDP(dport=4260)\" }\n"
                   "      - verify: { port: left, frame: \"${f}\", set: [ipv4.ttl-=1] }\n");
    char v[4][64];
    var(v[0], 64, "a", a);
    var(v[1], 64, "b", b);
    var(v[2], 64, "h1", h1);
    var(v[3], 64, "h2", h2);
    const char *args[] = {"run", "--tap", "--verbose", "--var", v[0], "--var", v[1], "--var", v[2],
                          "--var", v[3], file, NULL};
    int rc = pktexpect(args);
    char *out = slurp("out.txt"), *err = slurp("err.txt");
    if (rc != 1 || !strstr(out, "ok 1 - verify: ptf") || !strstr(out, "not ok 2 - verify: other") ||
        !strstr(out, "ok 3 - verify: derived") || !strstr(out, "no_other_packets quiet: FAIL") ||
        !strstr(out, "expected no other frame since the mark") || strstr(out, "verify got: FAIL"))
        fail_msg("exit %d\nstdout:\n%s\nstderr:\n%s\n", rc, out, err);
    /* Each step is reported in its own words (TAP on stdout, --verbose lines on
     * stderr), never as an expect step; a name stands for the step. */
    const char *f = "Ether(dst=02:00:00:00:00:02)/IPv4(dst=10.0.0.2, ttl=64)/UDP(dport=4260)";
    char want[3][256];
    snprintf(want[0], sizeof want[0], "verify left: %s within 2s: PASS ", f);
    snprintf(want[1], sizeof want[1], "verify_no_packet right: %s within 100ms: PASS ", f);
    snprintf(want[2], sizeof want[2], "verify left: %s, set=[ipv4.ttl-=1] within 2s: PASS ", f);
    if (!strstr(err, want[0]) || !strstr(err, want[1]) || !strstr(err, want[2]) ||
        !strstr(err, "no_other_packets on in, left, right within 100ms: PASS ") ||
        !strstr(err, "verify got: PASS on left ") ||
        !strstr(out, ":24: no_other_packets quiet (on in, right, left within 100ms): FAIL") ||
        strstr(out, "expect ") || strstr(err, "expect "))
        fail_msg("stdout:\n%s\nstderr:\n%s\n", out, err);
    free(out);
    free(err);
    assert_true(nothing_left());
}

/* Counts the frames of a pcapng file that are at least `minlen` bytes, and those
 * carrying an outer tag with `tpid` and `tci`. */
static int pcap_count(const char *path, uint32_t minlen, uint16_t tpid, uint16_t tci, int *tagged)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, eb);
    if (!p) {
        print_error("%s: %s\n", path, eb);
        return -1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    int n = 0;
    *tagged = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        if (h->caplen >= minlen)
            n++;
        if (h->caplen >= 16 && (d[12] << 8 | d[13]) == tpid && (d[14] << 8 | d[15]) == tci)
            (*tagged)++;
    }
    pcap_close(p);
    return n;
}

/* A send step's VLAN push keeps its priority and TPID (the sender's push), and
 * the evidence holds what was sent, as sent, and nothing the sender refused. */
static void test_send_vlan_push_and_evidence(void **state)
{
    (void)state;
    /* 1100 bytes: more than the veths' MTU of 1000 allows. */
    static char big[2 * 1100 + 1];
    for (size_t i = 0; i < 1100; i++)
        memcpy(big + 2 * i, i < 6 ? "ff" : i < 12 ? "02" : i == 12 ? "08" : "00", 2);
    char text[4096], file[256];
    snprintf(text, sizeof text,
             "name: vlanpush\n"
             "topology:\n"
             "  namespaces: [ \"${ns}\" ]\n"
             "  veths:\n"
             "    - { name: \"${a}\", peer: \"${b}\", peer_netns: \"${ns}\", mtu: 1000 }\n"
             "defaults: { record: true }\n"
             "tests:\n"
             "  - name: tagged\n"
             "    steps:\n"
             "      - expect: { port: \"${b}\", predicate: \"saw_vlan_tag(7, pcp=5, tpid=0x88a8)\" }\n"
             "      - send:\n"
             "          port: \"${a}\"\n"
             "          frame: \"Ether(src=02:00:00:00:00:0c)/IPv4()/UDP()\"\n"
             "          vlan: { vid: 7, pcp: 5, tpid: 0x88a8 }\n"
             "  - name: refused\n"
             "    steps:\n"
             "      - send: { port: \"${a}\", frame: \"Ether(src=02:00:00:00:00:0d)/IPv4()/UDP()\" }\n"
             "      - send: { port: \"${a}\", hex: \"%s\" }\n",
             big);
    write_scenario(file, sizeof file, "vlanpush.yaml", text);
    char v[3][64], pdir[160];
    vars_ns_a_b(v);
    snprintf(pdir, sizeof pdir, "%s/evidence-vlan", tmp);
    const char *args[] = {"run", "--pcap-dir", pdir, "--var", v[0], "--var", v[1], "--var", v[2], file, NULL};
    int rc = pktexpect(args);
    char *out = slurp("out.txt"), *err = slurp("err.txt");
    if (rc != 1)
        print_error("stdout:\n%s\nstderr:\n%s\n", out, err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "[1/2] PASS  vlanpush: tagged"));
    assert_non_null(strstr(out, "[2/2] ERROR vlanpush: refused"));
    free(out);
    free(err);
    char path[512];
    int tagged = 0;
    /* Sent (OUT on a) and seen (IN on b), both with TPID 0x88a8, PCP 5, VID 7. */
    char *name = px_evdir_name("vlanpush", "tagged");
    snprintf(path, sizeof path, "%s/%s", pdir, name);
    free(name);
    assert_true(pcap_count(path, 0, 0x88a8, 5 << 13 | 7, &tagged) >= 2);
    assert_int_equal(tagged, 2);
    /* The frame the sender refused was never sent: it is not in the evidence,
     * the one sent before it is. */
    name = px_evdir_name("vlanpush", "refused");
    snprintf(path, sizeof path, "%s/%s", pdir, name);
    free(name);
    assert_true(pcap_count(path, 0, 0, 0, &tagged) >= 1);
    assert_int_equal(pcap_count(path, 1100, 0, 0, &tagged), 0);
    assert_true(nothing_left());
}

/* SIGTERM ends a command with 143 (128 + 15), SIGINT with 130, as a shell
 * reports a process the signal killed (docs/cli.md, exit codes). */
static void test_signal_exit_codes(void **state)
{
    (void)state;
    char eb[PX_ERRBUF_SIZE] = "";
    assert_int_equal(px_topo_veth_add(NULL, a, b, eb), 0);
    assert_int_equal(px_topo_link_set_up(NULL, a, true, eb), 0);
    const int sigs[] = {SIGTERM, SIGINT}, want[] = {143, 130};
    for (int k = 0; k < 2; k++) {
        const char *args[] = {"watch", "-i", a, "did_not_see_ethertype(0x1234)", NULL};
        pid_t pid = start(args);
        assert_true(wait_watching());
        kill(pid, sigs[k]);
        assert_int_equal(finish(pid), want[k]);
    }
}

int main(void)
{
    px_test_require_root("test_runner");
    const char *bd = getenv("PX_BUILD_DIR"), *sd = getenv("PX_SOURCE_DIR");
    if (!bd || !sd) {
        fprintf(stderr, "test_runner: set PX_BUILD_DIR and PX_SOURCE_DIR (ctest does)\n");
        return 1;
    }
    snprintf(bin, sizeof bin, "%s/pktexpect", bd);
    snprintf(src, sizeof src, "%s", sd);
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "test_runner: %s is missing: build the pktexpect target\n", bin);
        return 1;
    }
    snprintf(tmp, sizeof tmp, "/tmp/pxr-runner-XXXXXX");
    if (!mkdtemp(tmp))
        return 1;
    snprintf(ns, sizeof ns, "pxr%dns", (int)getpid());
    snprintf(ns2, sizeof ns2, "pxr%dn2", (int)getpid());
    px_test_ifname(a, "pxr", "a");
    px_test_ifname(b, "pxr", "b");
    px_test_ifname(h1, "pxr", "h1");
    px_test_ifname(h2, "pxr", "h2");
    px_test_ifname(h3, "pxr", "h3");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_demo_passes_with_reports_and_shards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_has_diff_and_evidence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evidence_on_full_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evidence_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_failure_tears_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigint_tears_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_bounds_the_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_topology_and_invalid_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_prints_frames_in_a_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_in_a_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_ifname_in_two_namespaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_vlan_push_and_evidence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_mac_through_a_bridge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_and_each_on_veth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_steps_on_veth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_exit_codes, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "test_runner: could not remove %s\n", tmp);
    return rc;
}
