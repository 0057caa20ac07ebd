/* Signals, --deadline and child processes of the `pktexpect` program, with no
 * privileges: the built program runs as a child process (tests/px_proc.h) on
 * scenarios whose steps are `exec` commands (no ports, no topology) and with
 * command lines refused before any port opens.
 * Timing is never asserted beyond generous safety nets that only catch a hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/file.h>

#include "pktexpect/context.h"
#include "pktexpect/send.h"
#include "px_proc.h"

static char dir[256], scn[512], out[512], mark[512];

static int setup(void **state)
{
    (void)state;
    if (!px_proc_scratch(dir, scn, out))
        return -1;
    snprintf(mark, sizeof mark, "%s/started", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return px_proc_rmtree(dir);
}

/* A scenario whose first test runs `exec` (after touching the start marker) and
 * whose teardown touches DIR/torn_down. */
static void write_exec_scenario(const char *exec)
{
    char y[2048];
    snprintf(y, sizeof y,
             "name: sig\n"
             "topology:\n"
             "  teardown:\n"
             "    - \"touch %s/torn_down\"\n"
             "tests:\n"
             "  - name: long\n"
             "    steps:\n"
             "      - exec: \"touch %s; %s\"\n"
             "  - name: next\n"
             "    steps:\n"
             "      - exec: \"true\"\n",
             dir, mark, exec);
    assert_true(px_proc_write(scn, y));
}

static void interrupt_run(int sig, int want_exit)
{
    write_exec_scenario("sleep 60");
    unlink(mark);
    pid_t pid = px_proc_start(out, "run", scn, (const char *)NULL);
    assert_true(pid > 0);
    assert_true(px_proc_wait_file(mark, 20)); /* the exec step is running */
    kill(pid, sig);
    int rc = px_proc_wait(pid, 20); /* safety net; the command sleeps 60 s */
    const char *text = px_proc_slurp(out);
    assert_true(px_proc_exited(rc, want_exit, out));
    assert_null(strstr(text, "PASS"));
    assert_non_null(strstr(text, "ERROR sig: long"));
    assert_non_null(strstr(text, "interrupted"));
    char td[600];
    snprintf(td, sizeof td, "%s/torn_down", dir);
    assert_int_equal(access(td, F_OK), 0); /* teardown ran */
}

static void test_run_exec_sigint(void **state)
{
    (void)state;
    interrupt_run(SIGINT, 130);
}

static void test_run_exec_sigterm(void **state)
{
    (void)state;
    interrupt_run(SIGTERM, 143);
}

/* --deadline ends an exec step (it used to wait for the command). */
static void test_deadline_exec(void **state)
{
    (void)state;
    write_exec_scenario("sleep 60");
    int rc = px_proc_run(30, out, "run", "--deadline", "1", scn);
    const char *text = px_proc_slurp(out);
    assert_true(px_proc_exited(rc, 1, out));
    assert_null(strstr(text, "PASS"));
    assert_non_null(strstr(text, "global deadline reached"));
    assert_non_null(strstr(text, "not run: global deadline reached")); /* the second test */
}

/* A command's background child is ended with the step, not left running. */
static void test_exec_background_child_ended(void **state)
{
    (void)state;
    char pidfile[600], y[2048];
    snprintf(pidfile, sizeof pidfile, "%s/bg.pid", dir);
    snprintf(y, sizeof y,
             "tests:\n"
             "  - name: bg\n"
             "    steps:\n"
             "      - exec: { run: \"sleep 60 & echo $! > %s\", timeout: 5s }\n",
             pidfile);
    assert_true(px_proc_write(scn, y));
    int rc = px_proc_run(40, out, "run", scn);
    assert_true(rc >= 0); /* not hung */
    long bg = strtol(px_proc_slurp(pidfile), NULL, 10);
    assert_true(bg > 1);
    bool alive = kill((pid_t)bg, 0) == 0;
    if (alive)
        kill((pid_t)bg, SIGKILL);
    assert_false(alive);
}

/* Absurd rates and speeds are refused with exit 2 before any port is opened, and
 * the library refuses them too (no out-of-range double is ever cast). */
static void test_absurd_rate_speed(void **state)
{
    (void)state;
    int rc = px_proc_run(20, out, "send", "-i", "lo", "--rate", "1e-300", "--count", "3", "Ether()/IPv4()");
    assert_int_equal(rc, 2);
    assert_non_null(strstr(px_proc_slurp(out), "--rate '1e-300'"));
    rc = px_proc_run(20, out, "send", "-i", "lo", "--rate", "1e300", "--count", "3", "Ether()/IPv4()");
    assert_int_equal(rc, 2);
    rc = px_proc_run(20, out, "replay", "-i", "lo", "--speed", "1e-300", scn);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(px_proc_slurp(out), "out of range"));

    char eb[PX_ERRBUF_SIZE] = "";
    px_ctx *ctx = px_ctx_new(NULL, eb);
    assert_non_null(ctx);
    uint8_t f[60] = {0};
    px_tx_frame fr = {f, sizeof f};
    px_pace_opts po = {.count = 3, .rate_fps = 1e-300};
    assert_int_equal(px_send_paced(ctx, "lo", &fr, 1, NULL, &po, NULL, eb), PX_ERANGE);
    po = (px_pace_opts){.count = 3, .rate_bps = 1e300};
    assert_int_equal(px_send_paced(ctx, "lo", &fr, 1, NULL, &po, NULL, eb), PX_ERANGE);
    px_replay_opts ro = {.speed = 1e-300};
    assert_int_equal(px_replay(ctx, "lo", scn, &ro, NULL, eb), PX_ERANGE);
    px_ctx_free(ctx);
}

/* A failed topology (here: its setup command, whose output says SETUP-42) is
 * printed once, not once per test (stdout and stderr together). */
static void test_topology_failure_once(void **state)
{
    (void)state;
    assert_true(px_proc_write(scn, "name: broken\n"
                                   "topology:\n"
                                   "  setup:\n"
                                   "    - \"echo SETUP-$((40+2)); exit 3\"\n"
                                   "tests:\n"
                                   "  - name: one\n"
                                   "    steps: [ { exec: \"true\" } ]\n"
                                   "  - name: two\n"
                                   "    steps: [ { exec: \"true\" } ]\n"
                                   "  - name: three\n"
                                   "    steps: [ { exec: \"true\" } ]\n"));
    int rc = px_proc_run(30, out, "run", scn);
    const char *text = px_proc_slurp(out);
    assert_int_equal(rc, 3);
    assert_int_equal(px_proc_count(text, "SETUP-42"), 1);
    assert_int_equal(px_proc_count(text, "ERROR broken:"), 3);
}

/* The state directory of these tests (PKTEXPECT_STATE_DIR, inherited by the
 * program) and a name no interface or namespace of this machine has. */
static void use_state_dir(char state[600], char name[16], const char *prefix)
{
    snprintf(state, 600, "%s/state", dir);
    assert_int_equal(mkdir(state, 0755), 0);
    char lock[700];
    snprintf(lock, sizeof lock, "%s/lock", state);
    assert_int_equal(mkdir(lock, 0755), 0);
    assert_int_equal(setenv("PKTEXPECT_STATE_DIR", state, 1), 0);
    snprintf(name, 16, "%.4s%05d", prefix, (int)(getpid() % 100000));
}

/* A name another live run holds: refused at once, with its pid and the way out;
 * nothing is created and the scenario's teardown does not run. */
static void test_topology_lock_held(void **state)
{
    (void)state;
    char st[600], ns[16], lock[800], y[2048];
    use_state_dir(st, ns, "pxlk");
    snprintf(lock, sizeof lock, "%s/lock/netns-%s", st, ns);
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    dprintf(fd, "%d\n", (int)getpid());
    snprintf(y, sizeof y,
             "name: locked\n"
             "topology:\n"
             "  namespaces: [ %s ]\n"
             "  teardown: [ \"touch %s/torn_down\" ]\n"
             "tests:\n"
             "  - name: a\n"
             "    steps: [ { exec: \"true\" } ]\n",
             ns, dir);
    assert_true(px_proc_write(scn, y));
    int rc = px_proc_run(30, out, "run", scn);
    close(fd);
    unsetenv("PKTEXPECT_STATE_DIR");
    const char *text = px_proc_slurp(out);
    char want[64];
    snprintf(want, sizeof want, "(pid %d)", (int)getpid());
    if (rc != 3 || !strstr(text, want))
        fprintf(stderr, "exit %d, output:\n%s\n", rc, text);
    assert_int_equal(rc, 3);
    assert_non_null(strstr(text, "another run holds the namespace"));
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "pktexpect clean"));
    char td[700];
    snprintf(td, sizeof td, "%s/torn_down", dir);
    assert_int_not_equal(access(td, F_OK), 0);
}

/* clean handles the state file of a dead run (its items are gone already here,
 * so no privileges are needed) and leaves a live run's. */
static void test_clean_dead_and_live(void **state)
{
    (void)state;
    char st[600], name[16], dead[800], live[800], y[512];
    use_state_dir(st, name, "pxcl");
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child); /* a pid that is dead */
    snprintf(dead, sizeof dead, "%s/run-%d.state", st, (int)child);
    snprintf(y, sizeof y, "pid %d\nscenario x.yaml\nnetns %s\nlink - %s\n", (int)child, name, name);
    assert_true(px_proc_write(dead, y));
    snprintf(live, sizeof live, "%s/run-%d.state", st, (int)getpid());
    snprintf(y, sizeof y, "pid %d\nscenario y.yaml\nnetns %s\n", (int)getpid(), name);
    assert_true(px_proc_write(live, y));
    int fd = open(live, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);

    int rc = px_proc_run(30, out, "clean", "--dry-run");
    assert_int_equal(rc, 0);
    assert_int_equal(access(dead, F_OK), 0); /* a dry run removes nothing */
    rc = px_proc_run(30, out, "clean");
    const char *text = px_proc_slurp(out);
    assert_true(px_proc_exited(rc, 0, out));
    assert_non_null(strstr(text, "gone already"));
    assert_non_null(strstr(text, "still running"));
    assert_int_not_equal(access(dead, F_OK), 0);
    assert_int_equal(access(live, F_OK), 0);
    close(fd);
    unsetenv("PKTEXPECT_STATE_DIR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_run_exec_sigint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_exec_sigterm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_background_child_ended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absurd_rate_speed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topology_failure_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topology_lock_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_dead_and_live, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
