/* The YAML switch suites (examples/bridge/ and examples/ovs/ YAML files) run by
 * the `pktexpect` binary, as a user would run them.
 *
 * Each test runs one scenario with its own interface prefix and checks the exit
 * status, then that nothing is left behind: no interface of the prefix, no Open
 * vSwitch process or run directory. One test breaks the OVS pipeline on purpose
 * (the ACL rule removed from a copy of the flow file) and checks that the
 * scenario fails, and still cleans up.
 *
 * Needs root (px_test_require_root), the `pktexpect` binary (PX_BUILD_DIR) and the
 * source tree (PX_SOURCE_DIR); the OVS tests need Open vSwitch (skipped off CI
 * without it, failed under CI). The Linux bridge VLAN-filtering scenario is
 * skipped on kernels built without CONFIG_BRIDGE_VLAN_FILTERING (the VM job
 * tests/vm/bridge.sh runs it on Debian's kernel then); its OVS twin
 * (examples/ovs/vlan.yaml) runs everywhere.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <pktexpect/error.h>
#include <pktexpect/topology.h>

#include "px_test.h"

extern char **environ;

typedef struct env {
    char exe[PATH_MAX];
    char src[PATH_MAX];
    bool have_ovs;
} env;

static env E;

/* Runs argv with stdout and stderr into `out`; returns the exit status, -1 when it
 * could not run or was killed by a signal. */
static int run_capture(char *const argv[], px_buf *out)
{
    FILE *tmp = tmpfile();
    if (!tmp)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fileno(tmp), 1);
    posix_spawn_file_actions_adddup2(&fa, fileno(tmp), 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    if (rc == 0) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    rewind(tmp);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, tmp)) > 0)
        px_buf_append_n(out, buf, n);
    fclose(tmp);
    if (rc != 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Entries of directory `dir` whose name starts with `prefix`, appended to `out`;
 * returns how many. */
static int entries_with_prefix(const char *dir, const char *prefix, px_buf *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, prefix, strlen(prefix))) {
            px_buf_printf(out, "%s/%s ", dir, e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

/* Live processes whose command line contains `needle`; returns how many. */
static int procs_mentioning(const char *needle, px_buf *out)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], buf[4096];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < len; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
        buf[len] = '\0';
        if (strstr(buf, needle)) {
            px_buf_printf(out, "%s: %s\n", e->d_name, buf);
            n++;
        }
    }
    closedir(d);
    return n;
}

static void ovs_reap(void)
{
    char script[PATH_MAX + 32];
    snprintf(script, sizeof script, "%s/scripts/ovs.sh", E.src);
    char *argv[] = {script, "reap", NULL};
    px_buf out = PX_BUF_INIT;
    run_capture(argv, &out);
    px_buf_free(&out);
}

static int group_setup(void **state)
{
    (void)state;
    const char *b = getenv("PX_BUILD_DIR");
    const char *s = getenv("PX_SOURCE_DIR");
    if (!b || !s) {
        fprintf(stderr, "PX_BUILD_DIR and PX_SOURCE_DIR must be set (ctest sets them)\n");
        return -1;
    }
    snprintf(E.exe, sizeof E.exe, "%s/pktexpect", b);
    snprintf(E.src, sizeof E.src, "%s", s);
    if (access(E.exe, X_OK) != 0) {
        fprintf(stderr, "%s is not built\n", E.exe);
        return -1;
    }
    char *probe[] = {"ovs-vswitchd", "--version", NULL};
    px_buf out = PX_BUF_INIT;
    E.have_ovs = run_capture(probe, &out) == 0;
    px_buf_free(&out);
    /* Leftovers of killed runs of this test (tags y, z) and of the C suites. */
    ovs_reap();
    px_topo_reap_links("pxo", "stbnyz", NULL);
    px_topo_reap_links("pxb", "lvyz", NULL);
    px_topo_reap_netns("pxo", "stbnyz", NULL);
    return 0;
}

/* Deletes this process's interfaces or namespaces (entries of `dir`) whose
 * name starts with `prefix`. */
static void remove_prefixed(const char *dir, const char *prefix, bool netns)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, prefix, strlen(prefix))) {
            if (netns)
                px_topo_netns_del(e->d_name, NULL);
            else
                px_topo_link_del(NULL, e->d_name, NULL);
        }
    closedir(d);
}

/* After each test, also when an assertion failed: what its run left (the
 * interfaces and namespaces of this process's prefixes, the OVS instances of
 * the run, whose owner is gone by now) is removed, so that a failure leaves
 * nothing for the next run to find. */
static int remove_leftovers(void **state)
{
    (void)state;
    ovs_reap();
    static const char *const tags[][2] = {{"pxb", "y"}, {"pxo", "y"}, {"pxo", "z"}};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        char p[16];
        px_test_ifname(p, tags[i][0], tags[i][1]);
        remove_prefixed("/sys/class/net", p, false);
        remove_prefixed("/run/netns", p, true);
    }
    return 0;
}

/* Runs `pktexpect run` on `file` with prefix `p`, only the tests matching `only`
 * (NULL: all); returns the exit status and leaves the output in `out`. */
static int run_scenario(const char *file, const char *p, const char *src, const char *only, px_buf *out)
{
    char path[PATH_MAX + 64], var_p[64], var_src[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/%s", E.src, file);
    snprintf(var_p, sizeof var_p, "p=%s", p);
    snprintf(var_src, sizeof var_src, "src=%s", src);
    char *argv[10] = {E.exe, "run", "--var", var_p, "--var", var_src};
    int n = 6;
    if (only) {
        argv[n++] = "--filter";
        argv[n++] = (char *)only;
    }
    argv[n++] = path;
    argv[n] = NULL;
    return run_capture(argv, out);
}

/* Fails the test when anything of prefix `p` is left: interfaces, namespaces, OVS
 * processes. */
static void assert_nothing_left(const char *p)
{
    px_buf what = PX_BUF_INIT;
    int links = entries_with_prefix("/sys/class/net", p, &what);
    links += entries_with_prefix("/run/netns", p, &what);
    char needle[64];
    snprintf(needle, sizeof needle, "pktexpect-ovs.%s", p);
    int procs = procs_mentioning(needle, &what);
    if (links || procs) {
        print_error("left behind by the run of prefix %s: %s\n", p, px_buf_cstr(&what));
        px_buf_free(&what);
        fail();
    }
    px_buf_free(&what);
}

static void expect_exit(int got, int want, const px_buf *out)
{
    if (got != want) {
        print_error("pktexpect exited with %d, expected %d; its output:\n%s\n", got, want, px_buf_cstr(out));
        fail();
    }
}

static void need_ovs(void)
{
    if (E.have_ovs)
        return;
    if (px_cmocka_ci())
        fail_msg("Open vSwitch is not installed (scripts/deps.sh ovs) and CI is set");
    skip();
}

static void test_bridge_learning_yaml(void **state)
{
    (void)state;
    char p[16];
    px_test_ifname(p, "pxb", "y");
    px_buf out = PX_BUF_INIT;
    int rc = run_scenario("examples/bridge/learning.yaml", p, E.src, NULL, &out);
    expect_exit(rc, 0, &out);
    px_buf_free(&out);
    assert_nothing_left(p);
}

static void test_bridge_vlan_yaml(void **state)
{
    (void)state;
    char p[16], probe[16];
    px_test_ifname(p, "pxb", "y");
    px_test_ifname(probe, "pxb", "yprb");
    char err[PX_ERRBUF_SIZE];
    int rc = px_topo_bridge_add(NULL, probe, true, err);
    px_topo_link_del(NULL, probe, NULL);
    if (rc == PX_ENOTSUP) {
        fprintf(stderr, "SKIP: %s; the VM job tests/vm/bridge.sh runs this scenario on Debian's "
                        "kernel (ctest -R vm/bridge)\n", err);
        skip();
    }
    assert_int_equal(rc, 0);
    px_buf out = PX_BUF_INIT;
    rc = run_scenario("examples/bridge/vlan.yaml", p, E.src, NULL, &out);
    expect_exit(rc, 0, &out);
    px_buf_free(&out);
    assert_nothing_left(p);
}

static void test_ovs_pipeline_yaml(void **state)
{
    (void)state;
    need_ovs();
    char p[16];
    px_test_ifname(p, "pxo", "y");
    px_buf out = PX_BUF_INIT;
    int rc = run_scenario("examples/ovs/pipeline.yaml", p, E.src, NULL, &out);
    expect_exit(rc, 0, &out);
    px_buf_free(&out);
    assert_nothing_left(p);
}

static void test_ovs_vlan_yaml(void **state)
{
    (void)state;
    need_ovs();
    char p[16];
    px_test_ifname(p, "pxo", "y");
    px_buf out = PX_BUF_INIT;
    int rc = run_scenario("examples/ovs/vlan.yaml", p, E.src, NULL, &out);
    expect_exit(rc, 0, &out);
    px_buf_free(&out);
    assert_nothing_left(p);
}

/* Copies `from` to `to` without the lines that contain `drop_line`. */
static int copy_without(const char *from, const char *to, const char *drop_line)
{
    FILE *in = fopen(from, "r");
    if (!in)
        return -1;
    FILE *o = fopen(to, "w");
    if (!o) {
        fclose(in);
        return -1;
    }
    char line[1024];
    while (fgets(line, sizeof line, in))
        if (!strstr(line, drop_line))
            fputs(line, o);
    fclose(in);
    return fclose(o) == 0 ? 0 : -1;
}

/* A broken pipeline (no ACL rule) makes the scenario's ACL test fail, and the run
 * still removes everything it made. Only that test runs (--filter): the others
 * are covered above. */
static void test_ovs_pipeline_yaml_catches_a_broken_pipeline(void **state)
{
    (void)state;
    need_ovs();
    char dir[] = P_tmpdir "/pxo-broken-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[PATH_MAX + 64], real[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/scripts", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/examples", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/examples/ovs", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(real, sizeof real, "%s/scripts/ovs.sh", E.src);
    snprintf(path, sizeof path, "%s/scripts/ovs.sh", dir);
    assert_int_equal(symlink(real, path), 0);
    snprintf(real, sizeof real, "%s/examples/ovs/pipeline.flows", E.src);
    snprintf(path, sizeof path, "%s/examples/ovs/pipeline.flows", dir);
    assert_int_equal(copy_without(real, path, "tp_src=5000"), 0);

    char p[16];
    px_test_ifname(p, "pxo", "z");
    px_buf out = PX_BUF_INIT;
    int rc = run_scenario("examples/ovs/pipeline.yaml", p, dir, "*ACL*", &out);

    /* Remove the copy before asserting, so a failure leaves nothing either. */
    snprintf(path, sizeof path, "%s/examples/ovs/pipeline.flows", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/scripts/ovs.sh", dir);
    unlink(path);
    static const char *const sub[] = {"examples/ovs", "examples", "scripts", ""};
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, sub[i]);
        rmdir(path);
    }

    expect_exit(rc, 1, &out);
    if (!strstr(px_buf_cstr(&out), "dropped_nowhere")) {
        print_error("the failing check should be dropped_nowhere (the ACL test); output:\n%s\n", px_buf_cstr(&out));
        px_buf_free(&out);
        fail();
    }
    px_buf_free(&out);
    assert_nothing_left(p);
}

int main(void)
{
    px_test_require_root("test_switch_suites");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_bridge_learning_yaml, remove_leftovers),
        cmocka_unit_test_teardown(test_bridge_vlan_yaml, remove_leftovers),
        cmocka_unit_test_teardown(test_ovs_pipeline_yaml, remove_leftovers),
        cmocka_unit_test_teardown(test_ovs_vlan_yaml, remove_leftovers),
        cmocka_unit_test_teardown(test_ovs_pipeline_yaml_catches_a_broken_pipeline, remove_leftovers),
    };
    return cmocka_run_group_tests_name("switch_suites", tests, group_setup, NULL);
}
