/* Signals and --deadline during sends, with raw sockets (root): `pktexpect send`
 * paced, `pktexpect replay --speed` or of a FIFO nobody writes, and a `run` step
 * that sends for a long time. Everything goes out on the loopback
 * interface: no interface is created, so runs of this test do not collide.
 * (`run` takes only regular files for `pcap:`; `replay` takes a FIFO.) The
 * program runs as a child process (tests/px_proc.h); timing is never asserted
 * beyond safety nets that catch a hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "px_proc.h"
#include "px_test.h"

static char dir[256], scn[512], out[512];

static int setup(void **state)
{
    (void)state;
    return px_proc_scratch(dir, scn, out) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return px_proc_rmtree(dir);
}

static void pause_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Starts `pktexpect ARGS`, signals it after a second, expects `want` soon. */
static void signal_after_1s(int sig, int want, pid_t pid)
{
    assert_true(pid > 0);
    pause_s(1.0);
    kill(pid, sig);
    int rc = px_proc_wait(pid, 20); /* the operations below last 100 s */
    assert_true(px_proc_exited(rc, want, out));
}

static void test_send_paced_sigint(void **state)
{
    (void)state;
    pid_t pid = px_proc_start(out, "send", "-i", "lo", "--rate", "1", "--count", "100",
                              "Ether(dst=02:00:00:00:00:02)/IPv4()/UDP()", (const char *)NULL);
    signal_after_1s(SIGINT, 130, pid);
    assert_non_null(strstr(px_proc_slurp(out), "cancelled after"));
}

/* A classic pcap of two frames 100 s apart. */
static void write_pcap(const char *path)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t gh[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
    fwrite(gh, sizeof gh, 1, f);
    uint8_t frame[60] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5};
    for (uint32_t i = 0; i < 2; i++) {
        uint32_t rh[4] = {1000 + 100 * i, 0, sizeof frame, sizeof frame};
        fwrite(rh, sizeof rh, 1, f);
        fwrite(frame, sizeof frame, 1, f);
    }
    assert_int_equal(fclose(f), 0);
}

static void test_replay_speed_sigterm(void **state)
{
    (void)state;
    char pcap[600];
    snprintf(pcap, sizeof pcap, "%s/two.pcap", dir);
    write_pcap(pcap);
    pid_t pid = px_proc_start(out, "replay", "-i", "lo", "--speed", "1", pcap, (const char *)NULL);
    signal_after_1s(SIGTERM, 143, pid);
}

static void write_send_scenario(const char *send)
{
    char y[2048];
    snprintf(y, sizeof y,
             "name: sig\n"
             "ports:\n"
             "  l: lo\n"
             "tests:\n"
             "  - name: long send\n"
             "    steps:\n"
             "      - send: %s\n",
             send);
    assert_true(px_proc_write(scn, y));
}

/* Ctrl-C during a 100 s paced send step: exit 130, the test ERROR, not PASS. */
static void test_run_send_step_sigint(void **state)
{
    (void)state;
    write_send_scenario("{ port: l, frame: \"Ether(dst=02:00:00:00:00:02)/IPv4()/UDP()\", count: 100000, rate: 1000 }");
    pid_t pid = px_proc_start(out, "run", scn, (const char *)NULL);
    signal_after_1s(SIGINT, 130, pid);
    const char *text = px_proc_slurp(out);
    assert_null(strstr(text, "PASS"));
    assert_non_null(strstr(text, "ERROR sig: long send"));
    assert_non_null(strstr(text, "interrupted"));
}

/* --deadline during the same send step: the test is ERROR, exit 1. */
static void test_run_send_step_deadline(void **state)
{
    (void)state;
    write_send_scenario("{ port: l, frame: \"Ether(dst=02:00:00:00:00:02)/IPv4()/UDP()\", count: 100000, rate: 1000 }");
    int rc = px_proc_run(30, out, "run", "--deadline", "1", scn);
    const char *text = px_proc_slurp(out);
    assert_true(px_proc_exited(rc, 1, out));
    assert_null(strstr(text, "PASS"));
    assert_non_null(strstr(text, "global deadline reached"));
}

/* `replay` of a FIFO nobody writes (the wait for its data is cancellable too). */
static void test_replay_fifo_sigint(void **state)
{
    (void)state;
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/in.pcap", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = px_proc_start(out, "replay", "-i", "lo", fifo, (const char *)NULL);
    signal_after_1s(SIGINT, 130, pid);
    assert_non_null(strstr(px_proc_slurp(out), "cancelled"));
}

int main(void)
{
    px_test_require_root("test_signals (raw sockets on the loopback interface)");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_send_paced_sigint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_speed_sigterm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_send_step_sigint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_send_step_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_fifo_sigint, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
