/* `pktexpect check --pcap FILE 'PREDICATE'...` (runner/cmd_check.c, docs/cli.md
 * "check"), without root: the test writes small pcap and pcapng captures with
 * known timestamps, runs px_cli_check on them and checks the exit code and the
 * output (stdout and stderr are redirected into temporary files for the call).
 *
 *   exit 0 / 1 for a predicate that holds / fails      test_pass_and_fail
 *   windows in capture time: a late frame never counts test_late_frame_does_not_count
 *   --interface selects a pcapng interface             test_interface_selects
 *   invalid predicate or command line: 2               test_invalid_predicate
 *   missing file: 3                                    test_missing_file
 *   malformed file: 1, with the reader's message       test_malformed_file
 *   '-' reads standard input                           test_stdin
 *   pcapng drops inside the window: inconclusive       test_drops_make_negative_inconclusive
 *   frames recorded as sent (epb_flags outbound) are not offered
 *                                                      test_evidence_outbound_frames_not_offered
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_check.h"
#include "pcap_stream.h"
#include "px_cli.h"

#define SEC 1000000000LL
#define MS 1000000LL
#define T0 (1700000000LL * SEC) /* capture start, an arbitrary date */

/* ---- temporary files, removed by each test's teardown ---- */

typedef struct fx {
    char cap[64];      /* the capture */
    char out[64];      /* stdout of the command */
    char err[64];      /* stderr of the command */
    char *out_text, *err_text;
} fx;

static void tmpname(char dst[64], const char *tag)
{
    const char *dir = getenv("TMPDIR");
    snprintf(dst, 64, "%.30s/pxchk%sXXXXXX", dir && *dir && strlen(dir) < 30 ? dir : "/tmp", tag);
    int fd = mkstemp(dst);
    assert_true(fd >= 0);
    close(fd);
}

static int fx_setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    tmpname(x->cap, "c");
    tmpname(x->out, "o");
    tmpname(x->err, "e");
    *state = x;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *x = *state;
    unlink(x->cap);
    unlink(x->out);
    unlink(x->err);
    free(x->out_text);
    free(x->err_text);
    free(x);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *s = calloc(1, 1 << 16);
    assert_non_null(s);
    size_t n = fread(s, 1, (1 << 16) - 1, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Runs `pktexpect check ARGS...` with stdout and stderr in x->out / x->err;
 * returns the exit code and leaves the texts in x->out_text / x->err_text. */
static int run_check(fx *x, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"check";
    for (; *args && argc < 31; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    int fo = open(x->out, O_WRONLY | O_TRUNC | O_CLOEXEC), fe = open(x->err, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_true(fo >= 0 && fe >= 0);
    volatile sig_atomic_t stop = 0;
    int rc = px_cli_run_into(px_cli_check, argc, argv, &stop, fo, fe);
    close(fo);
    close(fe);
    free(x->out_text);
    free(x->err_text);
    x->out_text = slurp(x->out);
    x->err_text = slurp(x->err);
    return rc;
}

/* Fails showing the command's output unless it exited `want`. */
static void expect_exit(fx *x, const char *const *args, int want)
{
    int rc = run_check(x, args);
    if (rc != want) {
        print_error("stdout:\n%s\nstderr:\n%s\n", x->out_text, x->err_text);
        fail_msg("pktexpect check %s ...: exit %d, want %d", args[0], rc, want);
    }
}

/* ---- writing captures (pcapng blocks: pcap_stream.h) ---- */

typedef struct rec {
    int64_t ns;     /* capture time */
    uint16_t type;  /* ethertype; 0: an interface statistics block (pcapng only) */
    uint32_t iface; /* pcapng interface index */
    uint64_t drops; /* ISB: isb_ifdrop (cumulative) */
    uint32_t epb_flags; /* pcapng EPB: epb_flags option (1 inbound, 2 outbound); 0: none */
} rec;

/* Classic pcap (microseconds) written by libpcap itself (pcap_dump). */
static void write_pcap(const char *path, const rec *r, size_t n)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        uint8_t f[60];
        eth60(f, r[i].type);
        struct pcap_pkthdr h = {.caplen = 60, .len = 60};
        h.ts.tv_sec = (time_t)(r[i].ns / SEC);
        h.ts.tv_usec = (suseconds_t)(r[i].ns % SEC / 1000);
        pcap_dump((u_char *)d, &h, f);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

/* pcapng: SHB, one IDB per name (if_name, nanosecond if_tsresol), then EPBs and ISBs. */
static void write_pcapng_fd(int fd, const char *const *ifnames, size_t nifs, const rec *r, size_t n)
{
    pcapng_write_shb(fd);
    for (size_t k = 0; k < nifs; k++)
        pcapng_write_idb(fd, ifnames[k]);
    for (size_t i = 0; i < n; i++) {
        if (r[i].type)
            pcapng_write_epb(fd, r[i].iface, r[i].ns, r[i].type, r[i].epb_flags);
        else
            pcapng_write_isb(fd, r[i].iface, r[i].ns, r[i].drops);
    }
}

static void write_pcapng(const char *path, const char *const *ifnames, size_t nifs, const rec *r, size_t n)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_true(fd >= 0);
    write_pcapng_fd(fd, ifnames, nifs, r, n);
    close(fd);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- tests ---- */

/* One predicate that holds: 0; one that fails: 1 (and the report says FAIL). */
static void test_pass_and_fail(void **state)
{
    fx *x = *state;
    const rec r[] = {{T0, 0x0800, 0, 0, 0}, {T0 + 10 * MS, 0x88b5, 0, 0, 0}, {T0 + 20 * MS, 0x0800, 0, 0, 0}};
    write_pcap(x->cap, r, N(r));
    expect_exit(x, ARGS("--pcap", x->cap, "saw_ethertype(0x88b5)"), 0);
    assert_non_null(strstr(x->out_text, "1 of 1 predicates passed"));
    expect_exit(x, ARGS("--pcap", x->cap, "saw_ethertype(0x88b5)", "packet_count_was(3)",
                        "did_not_see_ethertype(0x86dd)"), 0);
    expect_exit(x, ARGS("--pcap", x->cap, "saw_ethertype(0x88b6)"), 1);
    assert_non_null(strstr(x->out_text, "FAIL"));
    assert_non_null(strstr(x->out_text, "0 of 1 predicates passed"));
    /* one of several fails: 1 */
    expect_exit(x, ARGS("-r", x->cap, "saw_ethertype(0x88b5)", "did_not_see_ethertype(0x88b5)"), 1);
    assert_non_null(strstr(x->out_text, "1 of 2 predicates passed"));
    /* --count ends each expectation after N frames */
    expect_exit(x, ARGS("--pcap", x->cap, "--count", "1", "saw_ethertype(0x88b5)"), 1);
    expect_exit(x, ARGS("--pcap", x->cap, "--count", "2", "saw_ethertype(0x88b5)"), 0);
    /* --bpf filters before the predicate */
    expect_exit(x, ARGS("--pcap", x->cap, "--bpf", "ether proto 0x88b5", "packet_count_was(1)"), 0);
}

/* Windows are in capture time, armed at the first frame: a frame after --timeout
 * of capture time does not count, however fast the file is read. */
static void test_late_frame_does_not_count(void **state)
{
    fx *x = *state;
    const rec r[] = {{T0, 0x0800, 0, 0, 0}, {T0 + 50 * MS, 0x88b5, 0, 0, 0}, {T0 + 200 * MS, 0x88b6, 0, 0, 0},
                     {T0 + 300 * MS, 0x0800, 0, 0, 0}};
    write_pcap(x->cap, r, N(r));
    expect_exit(x, ARGS("--pcap", x->cap, "--timeout", "100ms", "saw_ethertype(0x88b6)"), 1);
    expect_exit(x, ARGS("--pcap", x->cap, "--timeout", "100ms", "did_not_see_ethertype(0x88b6)"), 0);
    expect_exit(x, ARGS("--pcap", x->cap, "--timeout", "100ms", "saw_ethertype(0x88b5)", "packet_count_was(2)"), 0);
    /* the default window is the whole capture */
    expect_exit(x, ARGS("--pcap", x->cap, "saw_ethertype(0x88b6)", "packet_count_was(4)"), 0);
    expect_exit(x, ARGS("--pcap", x->cap, "--timeout", "250ms", "saw_ethertype(0x88b6)"), 0);
    /* a bad duration is an invalid command line */
    expect_exit(x, ARGS("--pcap", x->cap, "--timeout", "soon", "saw_ethertype(0x88b6)"), 2);
    assert_non_null(strstr(x->err_text, "--timeout"));
}

/* --interface NAME keeps only the frames of the pcapng interface named NAME. */
static void test_interface_selects(void **state)
{
    fx *x = *state;
    const char *names[] = {"p1", "p2"};
    const rec r[] = {{T0, 0x88b5, 0, 0, 0}, {T0 + 1 * MS, 0x88b6, 1, 0, 0}, {T0 + 2 * MS, 0x88b5, 0, 0, 0},
                     {T0 + 3 * MS, 0x88b6, 1, 0, 0}, {T0 + 4 * MS, 0x88b6, 1, 0, 0}};
    write_pcapng(x->cap, names, 2, r, N(r));
    expect_exit(x, ARGS("--pcap", x->cap, "--interface", "p2", "saw_ethertype(0x88b6)",
                        "did_not_see_ethertype(0x88b5)", "packet_count_was(3)"), 0);
    expect_exit(x, ARGS("--pcap", x->cap, "-I", "p1", "packet_count_was(2)", "did_not_see_ethertype(0x88b6)"), 0);
    expect_exit(x, ARGS("--pcap", x->cap, "--interface", "p1", "saw_ethertype(0x88b6)"), 1);
    /* without --interface: every interface */
    expect_exit(x, ARGS("--pcap", x->cap, "packet_count_was(5)"), 0);
    /* an interface the capture does not have: nothing is offered */
    expect_exit(x, ARGS("--pcap", x->cap, "--interface", "p3", "received_packet()"), 1);
}

/* An invalid predicate: exit 2 with the parser's message, before the file is read. */
static void test_invalid_predicate(void **state)
{
    fx *x = *state;
    const rec r[] = {{T0, 0x0800, 0, 0, 0}};
    write_pcap(x->cap, r, N(r));
    expect_exit(x, ARGS("--pcap", x->cap, "saw_ethertype(0x88b5"), 2);
    assert_non_null(strstr(x->err_text, "invalid predicate 'saw_ethertype(0x88b5'"));
    expect_exit(x, ARGS("--pcap", x->cap, "no_such_predicate(1)"), 2);
    assert_non_null(strstr(x->err_text, "invalid predicate"));
    assert_non_null(strstr(x->err_text, "no_such_predicate"));
    /* the command line */
    expect_exit(x, ARGS("saw_ethertype(0x88b5)"), 2);
    assert_non_null(strstr(x->err_text, "--pcap FILE is required"));
    expect_exit(x, ARGS("--pcap", x->cap), 2);
    assert_non_null(strstr(x->err_text, "at least one predicate"));
    expect_exit(x, ARGS("--pcap", x->cap, "--count", "0", "received_packet()"), 2);
    expect_exit(x, ARGS("--help"), 0);
    assert_non_null(strstr(x->out_text, "usage: pktexpect check"));
}

/* A file that does not exist: the capture cannot be read, exit 3. */
static void test_missing_file(void **state)
{
    fx *x = *state;
    unlink(x->cap);
    expect_exit(x, ARGS("--pcap", x->cap, "received_packet()"), 3);
    assert_non_null(strstr(x->err_text, "No such file"));
}

/* A malformed file opens but fails when read: the expectations resolve ERROR
 * with the reader's message, exit 1 (docs/cli.md says so). */
static void test_malformed_file(void **state)
{
    fx *x = *state;
    int fd = open(x->cap, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_true(fd >= 0);
    write_all(fd, "this is not a capture file", 26);
    close(fd);
    expect_exit(x, ARGS("--pcap", x->cap, "timed_out()"), 1);
    assert_non_null(strstr(x->out_text, "ERROR"));
    assert_non_null(strstr(x->out_text, "not a pcap or pcapng stream"));

    /* A capture cut inside a record: the frames before the cut are read, then
     * the error; even a predicate that was satisfied earlier... */
    const rec r[] = {{T0, 0x88b5, 0, 0, 0}, {T0 + 1 * MS, 0x0800, 0, 0, 0}};
    write_pcap(x->cap, r, N(r));
    assert_int_equal(truncate(x->cap, 24 + 16 + 60 + 10), 0);
    expect_exit(x, ARGS("--pcap", x->cap, "did_not_see_ethertype(0x88b6)"), 1);
    assert_non_null(strstr(x->out_text, "truncated"));
    /* ...a positive predicate decided by the first frame stays PASS */
    expect_exit(x, ARGS("--pcap", x->cap, "saw_ethertype(0x88b5)"), 0);
}

/* FILE '-' reads standard input (a pipe here, as from `tcpdump -U -w -`). */
static void test_stdin(void **state)
{
    fx *x = *state;
    const char *names[] = {"eth0"};
    const rec r[] = {{T0, 0x0800, 0, 0, 0}, {T0 + 30 * MS, 0x88b5, 0, 0, 0}, {T0 + 500 * MS, 0x88b6, 0, 0, 0}};
    const char *const *argsets[] = {ARGS("--pcap", "-", "saw_ethertype(0x88b5)", "packet_count_was(3)"),
                                    ARGS("--pcap", "-", "--timeout", "100ms", "did_not_see_ethertype(0x88b6)"),
                                    ARGS("--pcap", "-", "--timeout", "100ms", "saw_ethertype(0x88b6)")};
    const int want[] = {0, 0, 1};
    for (size_t k = 0; k < N(argsets); k++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        write_pcapng_fd(p[1], names, 1, r, N(r)); /* small: fits in the pipe */
        close(p[1]);
        int saved = dup(0);
        assert_true(saved >= 0);
        assert_int_equal(dup2(p[0], 0), 0);
        close(p[0]);
        int rc = run_check(x, argsets[k]);
        dup2(saved, 0);
        close(saved);
        if (rc != want[k]) {
            print_error("stdout:\n%s\nstderr:\n%s\n", x->out_text, x->err_text);
            fail_msg("argument set %zu: exit %d, want %d", k, rc, want[k]);
        }
    }
}

/* Drops the capture recorded (pcapng isb_ifdrop) inside the window make a
 * negative predicate inconclusive: exit 1, "dropped" in the report. Drops
 * reported after the window has closed do not. */
static void test_drops_make_negative_inconclusive(void **state)
{
    fx *x = *state;
    const char *names[] = {"p1"};
    const rec inside[] = {{T0, 0x0800, 0, 0, 0}, {T0 + 10 * MS, 0, 0, 0, 0}, {T0 + 20 * MS, 0x88b5, 0, 0, 0},
                          {T0 + 30 * MS, 0, 0, 4, 0}, {T0 + 40 * MS, 0x0800, 0, 0, 0}};
    write_pcapng(x->cap, names, 1, inside, N(inside));
    expect_exit(x, ARGS("--pcap", x->cap, "did_not_see_ethertype(0x88b6)"), 1);
    assert_non_null(strstr(x->out_text, "dropped"));
    assert_non_null(strstr(x->out_text, "ERROR"));
    /* a frame that was seen is proof: the positive predicate passes */
    expect_exit(x, ARGS("--pcap", x->cap, "saw_ethertype(0x88b5)"), 0);
    /* a count is loss-sensitive too */
    expect_exit(x, ARGS("--pcap", x->cap, "packet_count_was(3)"), 1);
    assert_non_null(strstr(x->out_text, "dropped"));

    /* The same drops reported after the 100 ms window closed (a later frame
     * closed it first): the negative predicate passes. */
    const rec after[] = {{T0, 0x0800, 0, 0, 0}, {T0 + 20 * MS, 0x88b5, 0, 0, 0}, {T0 + 150 * MS, 0x0800, 0, 0, 0},
                         {T0 + 160 * MS, 0, 0, 4, 0}, {T0 + 170 * MS, 0x0800, 0, 0, 0}};
    write_pcapng(x->cap, names, 1, after, N(after));
    expect_exit(x, ARGS("--pcap", x->cap, "--timeout", "100ms", "did_not_see_ethertype(0x88b6)"), 0);
    expect_exit(x, ARGS("--pcap", x->cap, "did_not_see_ethertype(0x88b6)"), 1); /* whole capture: inside */
    assert_non_null(strstr(x->out_text, "dropped 4 frames"));
}

/* A capture recorded by px_ctx_record (or `run --pcap-dir`) holds, per port,
 * the frames the context sent on it (epb_flags outbound) and those it saw
 * (inbound). Checked against such a file, a port sees what arrived on it, as a
 * live port does (DESIGN 2.10, context.h: outgoing frames are not captured):
 * a frame the test sent out of p1 does not break "did not see" on p1. */
static void test_evidence_outbound_frames_not_offered(void **state)
{
    fx *x = *state;
    const char *names[] = {"p1"};
    const rec r[] = {{T0, 0x0800, 0, 0, 1}, {T0 + 10 * MS, 0x88b6, 0, 0, 2}, {T0 + 20 * MS, 0x88b5, 0, 0, 1}};
    write_pcapng(x->cap, names, 1, r, N(r));
    expect_exit(x, ARGS("--pcap", x->cap, "--interface", "p1", "saw_ethertype(0x88b5)", "packet_count_was(2)",
                        "did_not_see_ethertype(0x88b6)"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pass_and_fail, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_late_frame_does_not_count, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_interface_selects, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_predicate, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_file, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stdin, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_drops_make_negative_inconclusive, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_evidence_outbound_frames_not_offered, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
