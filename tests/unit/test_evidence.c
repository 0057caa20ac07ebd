/* Unit tests of the evidence recorder (pcapng writer): what it writes is read back
 * by libpcap (bytes, lengths, nanosecond timestamps) and by tshark (interface
 * names and directions), the two readers users will point at it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pktexpect/context.h"
#include "pktexpect/evidence.h"
#include "pktexpect/expect.h"
#include "pktexpect/future.h"
#include "pktexpect/predicates.h"
#include "evidence_internal.h"

typedef struct fixture {
    char path[256];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->path, sizeof fx->path, "%s/px_evidence_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(fx->path);
    assert_true(fd >= 0);
    close(fd);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    unlink(fx->path);
    free(fx);
    return 0;
}

static void fill(uint8_t *b, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(seed + i * 7u);
}

static void test_roundtrip_libpcap(void **state)
{
    fixture *fx = *state;
    char err[PX_ERRBUF_SIZE];
    px_evidence *ev = px_evidence_open(fx->path, err);
    assert_non_null(ev);

    /* lengths chosen to exercise the 32-bit padding: 60 (aligned), 61, 63, 1514 */
    const uint32_t lens[] = {60, 61, 63, 1514};
    uint8_t buf[1514];
    for (unsigned i = 0; i < 4; i++) {
        fill(buf, lens[i], (uint8_t)i);
        struct timespec ts = {.tv_sec = 1700000000 + i, .tv_nsec = 123456789 + i};
        assert_int_equal(px_evidence_write(ev, i % 2 ? "p2" : "p1", i % 2 ? PX_DIR_OUT : PX_DIR_IN, &ts, buf,
                                           lens[i], lens[i] + (i == 3 ? 100 : 0)),
                         0);
    }
    assert_int_equal(px_evidence_frames(ev), 4);
    assert_int_equal(px_evidence_close(ev), 0);

    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(fx->path, PCAP_TSTAMP_PRECISION_NANO, perr);
    assert_non_null(p);
    assert_int_equal(pcap_datalink(p), DLT_EN10MB);
    struct pcap_pkthdr *h;
    const u_char *data;
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(pcap_next_ex(p, &h, &data), 1);
        assert_int_equal(h->caplen, lens[i]);
        assert_int_equal(h->len, lens[i] + (i == 3 ? 100 : 0));
        assert_int_equal(h->ts.tv_sec, 1700000000 + i);
        assert_int_equal(h->ts.tv_usec, 123456789 + i); /* nanoseconds with PRECISION_NANO */
        fill(buf, lens[i], (uint8_t)i);
        assert_memory_equal(data, buf, lens[i]);
    }
    assert_int_equal(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
    pcap_close(p);
}

static void test_tshark_names_and_directions(void **state)
{
    fixture *fx = *state;
    if (system("command -v tshark >/dev/null 2>&1") != 0) {
        fprintf(stderr, "tshark not installed (scripts/deps.sh test): skipping the tshark check\n");
        skip();
    }
    px_evidence *ev = px_evidence_open(fx->path, NULL);
    assert_non_null(ev);
    uint8_t buf[64];
    fill(buf, sizeof buf, 9);
    assert_int_equal(px_evidence_write(ev, "pxa", PX_DIR_IN, NULL, buf, sizeof buf, sizeof buf), 0);
    assert_int_equal(px_evidence_write(ev, "pxb", PX_DIR_OUT, NULL, buf, sizeof buf, sizeof buf), 0);
    assert_int_equal(px_evidence_write(ev, "pxa", PX_DIR_OUT, NULL, buf, sizeof buf, sizeof buf), 0);
    assert_int_equal(px_evidence_close(ev), 0);

    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "tshark -r '%s' -T fields -e frame.interface_name -e frame.packet_flags_direction 2>/dev/null",
             fx->path);
    FILE *out = popen(cmd, "r");
    assert_non_null(out);
    /* one line per frame: interface name, direction (1 = inbound, 2 = outbound;
     * tshark prints it in hex, with a width that depends on its version) */
    const char *want_name[] = {"pxa", "pxb", "pxa"};
    const unsigned want_dir[] = {1, 2, 2};
    char line[128];
    int n = 0;
    while (fgets(line, sizeof line, out)) {
        char name[32];
        unsigned dir = 0;
        assert_true(n < 3);
        assert_int_equal(sscanf(line, "%31s %x", name, &dir), 2);
        assert_string_equal(name, want_name[n]);
        assert_int_equal(dir, want_dir[n]);
        n++;
    }
    assert_int_equal(pclose(out), 0);
    assert_int_equal(n, 3);
}

static void test_bad_input(void **state)
{
    fixture *fx = *state;
    char err[PX_ERRBUF_SIZE] = "";
    assert_null(px_evidence_open("/nonexistent-dir-px/x.pcapng", err));
    assert_non_null(strstr(err, "cannot create"));
    assert_null(px_evidence_open(NULL, err));

    px_evidence *ev = px_evidence_open(fx->path, err);
    assert_non_null(ev);
    uint8_t b[14] = {0};
    assert_int_equal(px_evidence_write(ev, "p1", PX_DIR_IN, NULL, b, 0, 0), PX_EINVAL);
    assert_int_equal(px_evidence_write(ev, "", PX_DIR_IN, NULL, b, 14, 14), PX_EINVAL);
    assert_int_equal(px_evidence_write(ev, NULL, PX_DIR_IN, NULL, b, 14, 14), PX_EINVAL);
    assert_int_equal(px_evidence_write(NULL, "p1", PX_DIR_IN, NULL, b, 14, 14), PX_EINVAL);
    assert_int_equal(px__evidence_write_frame(ev, NULL, PX_DIR_IN, NULL), PX_EINVAL);
    assert_int_equal(px_evidence_frames(ev), 0);
    assert_int_equal(px_evidence_close(ev), 0);
    assert_int_equal(px_evidence_close(NULL), 0);
}

/* A full disk: the blocks sit in the stdio buffer until the close, which must say
 * that it failed and why (the runner prints it instead of claiming the file). */
static void test_full_disk_says_why(void **state)
{
    (void)state;
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        skip();
    char err[PX_ERRBUF_SIZE] = "";
    px_evidence *ev = px_evidence_open_fd(fd, err);
    assert_non_null(ev);
    uint8_t b[60];
    fill(b, sizeof b, 1);
    int rc = px_evidence_write(ev, "p1", PX_DIR_IN, NULL, b, sizeof b, sizeof b);
    assert_true(rc == 0 || rc == PX_EIO); /* 0 while buffered */
    assert_int_equal(px_evidence_close_err(ev, err), PX_EIO);
    assert_non_null(strstr(err, "write failed: "));
    assert_non_null(strstr(err, strerror(ENOSPC)));

    /* Once the buffer is full the writes themselves fail, sticky, with the reason. */
    fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    ev = px_evidence_open_fd(fd, err);
    assert_non_null(ev);
    uint8_t big[9000];
    fill(big, sizeof big, 2);
    rc = 0;
    for (int i = 0; i < 64 && rc == 0; i++)
        rc = px_evidence_write(ev, "p1", PX_DIR_IN, NULL, big, sizeof big, sizeof big);
    assert_int_equal(rc, PX_EIO);
    assert_int_equal(px_evidence_write(ev, "p1", PX_DIR_IN, NULL, b, sizeof b, sizeof b), PX_EIO);
    err[0] = '\0';
    assert_int_equal(px_evidence_close_err(ev, err), PX_EIO);
    assert_non_null(strstr(err, "write failed: "));
    assert_non_null(strstr(err, strerror(ENOSPC)));
    assert_null(px_evidence_open_fd(-1, err));
}

/* A descriptor the caller created (the runner's O_EXCL files) is a normal recorder. */
static void test_open_fd(void **state)
{
    fixture *fx = *state;
    int fd = open(fx->path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_true(fd >= 0);
    px_evidence *ev = px_evidence_open_fd(fd, NULL);
    assert_non_null(ev);
    uint8_t b[60];
    fill(b, sizeof b, 5);
    assert_int_equal(px_evidence_write(ev, "p1", PX_DIR_OUT, NULL, b, sizeof b, sizeof b), 0);
    char err[PX_ERRBUF_SIZE] = "";
    assert_int_equal(px_evidence_close_err(ev, err), 0);
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(fx->path, eb);
    assert_non_null(p);
    struct pcap_pkthdr *h;
    const u_char *d;
    assert_int_equal(pcap_next_ex(p, &h, &d), 1);
    assert_int_equal(h->caplen, sizeof b);
    assert_memory_equal(d, b, sizeof b);
    pcap_close(p);
}

/* px_ctx_record_into: the context records the frames its ports see into the
 * caller's recorder and leaves it open at px_ctx_free, so the caller learns from
 * px_evidence_close_err whether the file was written whole. */
static void test_ctx_record_into(void **state)
{
    fixture *fx = *state;
    /* A stream of two frames for a pcap port. */
    char src[] = "/tmp/px_evidence_srcXXXXXX";
    int sfd = mkstemp(src);
    assert_true(sfd >= 0);
    px_evidence *sev = px_evidence_open_fd(sfd, NULL);
    assert_non_null(sev);
    uint8_t b[60];
    fill(b, sizeof b, 9);
    assert_int_equal(px_evidence_write(sev, "in", PX_DIR_IN, NULL, b, sizeof b, sizeof b), 0);
    assert_int_equal(px_evidence_write(sev, "in", PX_DIR_IN, NULL, b, sizeof b, sizeof b), 0);
    assert_int_equal(px_evidence_close(sev), 0);

    char err[PX_ERRBUF_SIZE] = "";
    px_ctx *ctx = px_ctx_new(NULL, err);
    assert_non_null(ctx);
    px_evidence *ev = px_evidence_open(fx->path, err);
    assert_non_null(ev);
    assert_int_equal(px_ctx_record_into(ctx, NULL, err), PX_EINVAL);
    assert_int_equal(px_ctx_record_into(ctx, ev, err), 0);
    assert_int_equal(px_ctx_record_into(ctx, ev, err), PX_EEXIST);
    assert_int_equal(px_ctx_record(ctx, fx->path, err), PX_EEXIST);
    px_pcap_port_opts o = {.path = src, .paused = true};
    assert_int_equal(px_port_open_pcap(ctx, "rec", &o, err), 0);
    px_expect_opts eo = {.timeout_ms = 10000, .count = 2};
    px_future *f = px_expect(ctx, "rec", px_packet_count(), &eo);
    assert_non_null(f);
    assert_int_equal(px_port_start(ctx, "rec"), 0);
    assert_int_equal(px_future_wait(f), PX_PASS);
    px_future_free(f);
    px_ctx_free(ctx);
    /* Still open and ours: both frames in it, and more can be written. */
    assert_int_equal(px_evidence_frames(ev), 2);
    assert_int_equal(px_evidence_write(ev, "rec", PX_DIR_OUT, NULL, b, sizeof b, sizeof b), 0);
    assert_int_equal(px_evidence_close_err(ev, err), 0);
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(fx->path, eb);
    assert_non_null(p);
    struct pcap_pkthdr *h;
    const u_char *d;
    int n = 0;
    while (pcap_next_ex(p, &h, &d) == 1)
        n++;
    pcap_close(p);
    assert_int_equal(n, 3);
    unlink(src);
}

/* A dissected frame recorded through the internal entry the capture threads use. */
static void test_write_frame(void **state)
{
    fixture *fx = *state;
    px_evidence *ev = px_evidence_open(fx->path, NULL);
    assert_non_null(ev);
    uint8_t b[42];
    fill(b, sizeof b, 3);
    px_frame f;
    memset(&f, 0, sizeof f);
    f.data = b;
    f.caplen = sizeof b;
    f.wirelen = 60;
    f.port = "pxc";
    f.ts.tv_sec = 5;
    assert_int_equal(px__evidence_write_frame(ev, NULL, PX_DIR_IN, &f), 0);
    assert_int_equal(px_evidence_flush(ev), 0);

    /* readable by another reader while still open, after a flush */
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(fx->path, perr);
    assert_non_null(p);
    struct pcap_pkthdr *h;
    const u_char *data;
    assert_int_equal(pcap_next_ex(p, &h, &data), 1);
    assert_int_equal(h->caplen, 42);
    assert_int_equal(h->len, 60);
    assert_int_equal(h->ts.tv_sec, 5);
    pcap_close(p);
    assert_int_equal(px_evidence_close(ev), 0);
}

/* Several threads (like capture threads of several ports plus a sender) write at
 * once: every block stays whole and every frame is in the file. */
#define THREADS 4
#define PER_THREAD 2000

typedef struct writer_arg {
    px_evidence *ev;
    int idx;
    int failures;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *a = p;
    char port[8];
    snprintf(port, sizeof port, "w%d", a->idx);
    uint8_t buf[128];
    for (int i = 0; i < PER_THREAD; i++) {
        uint32_t len = 60u + (uint32_t)((i + a->idx) % 64);
        memset(buf, a->idx, len);
        if (px_evidence_write(a->ev, port, (px_direction)(i & 1), NULL, buf, len, len) != 0)
            a->failures++;
    }
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    fixture *fx = *state;
    px_evidence *ev = px_evidence_open(fx->path, NULL);
    assert_non_null(ev);
    pthread_t th[THREADS];
    writer_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (writer_arg){.ev = ev, .idx = i, .failures = 0};
        assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    assert_int_equal(px_evidence_frames(ev), THREADS * PER_THREAD);
    assert_int_equal(px_evidence_close(ev), 0);

    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(fx->path, perr);
    assert_non_null(p);
    struct pcap_pkthdr *h;
    const u_char *data;
    int n = 0, rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        /* every frame is filled with its writer's index: a torn block would mix them */
        for (uint32_t i = 1; i < h->caplen; i++)
            assert_int_equal(data[i], data[0]);
        n++;
    }
    assert_int_equal(rc, PCAP_ERROR_BREAK);
    assert_int_equal(n, THREADS * PER_THREAD);
    pcap_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_libpcap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tshark_names_and_directions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_frame, setup, teardown),
        cmocka_unit_test(test_full_disk_says_why),
        cmocka_unit_test_setup_teardown(test_open_fd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctx_record_into, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
