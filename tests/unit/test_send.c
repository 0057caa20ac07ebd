/* Unit tests of the send side that need no privileges: the tag trailer (layout,
 * placement, checksum fix-up, lookup), the saw_tag predicate fed with synthetic
 * frames, the replay file checks that fail before any frame is sent, the frame
 * checks and their messages, the batched evidence of sent frames, and
 * close-on-exec on the evidence file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pktexpect/evidence.h"
#include "pktexpect/pktexpect.h"
#include "pktexpect/send.h"
#include "send_internal.h"

/* ---- frame building with an independent checksum (not the code under test) ---- */

static uint32_t sum16(const uint8_t *b, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (n % 2)
        acc += (uint32_t)b[n - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)acc;
}

/* Full L4 checksum over the pseudo-header and segment; 0 when it verifies. */
static uint16_t l4_verify(const uint8_t *f, size_t l3, bool v6, size_t l4, size_t l4len, uint8_t proto)
{
    uint32_t acc = 0;
    if (v6) {
        acc = sum16(f + l3 + 8, 32, acc);
    } else {
        acc = sum16(f + l3 + 12, 8, acc);
    }
    acc += proto;
    acc += (uint32_t)l4len;
    acc = sum16(f + l4, l4len, acc);
    return (uint16_t)~fold(acc);
}

static void set_csum(uint8_t *f, size_t l3, bool v6, size_t l4, size_t l4len, uint8_t proto, size_t csum_at)
{
    f[csum_at] = f[csum_at + 1] = 0;
    uint16_t c = l4_verify(f, l3, v6, l4, l4len, proto);
    if (c == 0 && proto == 17)
        c = 0xffff;
    f[csum_at] = (uint8_t)(c >> 8);
    f[csum_at + 1] = (uint8_t)c;
}

/* Ethernet [+ VLAN] + IPv4 or IPv6 + UDP or TCP + `pay` payload bytes. Returns the
 * frame length; *l3, *l4 the header offsets. */
static size_t build(uint8_t *f, bool vlan, bool v6, uint8_t proto, size_t pay, size_t *l3o, size_t *l4o)
{
    memset(f, 0, 2048);
    memset(f, 0xff, 6);
    const uint8_t src[6] = {2, 0, 0, 0, 0, 1};
    memcpy(f + 6, src, 6);
    size_t off = 12;
    if (vlan) {
        f[off] = 0x81, f[off + 1] = 0x00, f[off + 2] = 0x00, f[off + 3] = 102;
        off += 4;
    }
    f[off] = v6 ? 0x86 : 0x08, f[off + 1] = v6 ? 0xdd : 0x00;
    size_t l3 = off + 2;
    size_t l4len = (proto == 17 ? 8u : 20u) + pay;
    size_t l4 = l3 + (v6 ? 40u : 20u);
    if (v6) {
        f[l3] = 0x60;
        f[l3 + 4] = (uint8_t)(l4len >> 8), f[l3 + 5] = (uint8_t)l4len;
        f[l3 + 6] = proto;
        f[l3 + 7] = 64;
        f[l3 + 8 + 15] = 1;
        f[l3 + 24 + 15] = 2;
    } else {
        size_t tot = 20 + l4len;
        f[l3] = 0x45;
        f[l3 + 2] = (uint8_t)(tot >> 8), f[l3 + 3] = (uint8_t)tot;
        f[l3 + 8] = 64;
        f[l3 + 9] = proto;
        const uint8_t ips[8] = {10, 0, 0, 1, 10, 0, 0, 2};
        memcpy(f + l3 + 12, ips, 8);
    }
    for (size_t i = 0; i < pay; i++)
        f[l4 + (proto == 17 ? 8 : 20) + i] = (uint8_t)(i * 13 + 5);
    f[l4] = 0x30, f[l4 + 1] = 0x39, f[l4 + 2] = 0x00, f[l4 + 3] = 0x35;
    size_t csum_at;
    if (proto == 17) {
        f[l4 + 4] = (uint8_t)(l4len >> 8), f[l4 + 5] = (uint8_t)l4len;
        csum_at = l4 + 6;
    } else {
        f[l4 + 12] = 5 << 4;
        csum_at = l4 + 16;
    }
    set_csum(f, l3, v6, l4, l4len, proto, csum_at);
    *l3o = l3;
    *l4o = l4;
    return l4 + l4len;
}

static void test_trailer_layout_and_checksums(void **state)
{
    (void)state;
    /* every combination, with odd and even payload lengths so that the trailer
     * starts at both parities of the checksum's 16-bit words */
    for (int vlan = 0; vlan < 2; vlan++)
        for (int v6 = 0; v6 < 2; v6++)
            for (int p = 0; p < 2; p++)
                for (size_t pay = 24; pay < 40; pay += 5) {
                    uint8_t f[2048];
                    size_t l3, l4;
                    uint8_t proto = p ? 6 : 17;
                    size_t len = build(f, vlan, v6, proto, pay, &l3, &l4);
                    assert_int_equal(l4_verify(f, l3, v6, l4, len - l4, proto), 0);
                    uint8_t before[2048];
                    memcpy(before, f, len);
                    assert_int_equal(px__tag_check(f, len, NULL), 0);
                    px__tag_write(f, len, 0x0123456789abcdefull, 1700000000123456789ull);
                    /* the trailer is the last 24 bytes, in the documented layout */
                    const uint8_t want[24] = {'P', 'X', 'T', 'A', 'G', 0, 'v', '1', 0x01, 0x23, 0x45, 0x67,
                                              0x89, 0xab, 0xcd, 0xef, 0x17, 0x97, 0x9c, 0xfe, 0x3d, 0x85,
                                              0xcd, 0x15};
                    assert_memory_equal(f + len - 24, want, 24);
                    /* the L4 checksum still verifies */
                    assert_int_equal(l4_verify(f, l3, v6, l4, len - l4, proto), 0);
                    /* headers untouched except the checksum */
                    size_t csum_at = l4 + (proto == 17 ? 6 : 16);
                    for (size_t i = 0; i < len - 24; i++)
                        if (i != csum_at && i != csum_at + 1)
                            assert_int_equal(f[i], before[i]);
                    uint64_t tag = 0, ns = 0;
                    assert_true(px_tag_find(f, len, &tag, &ns));
                    assert_int_equal(tag, 0x0123456789abcdefull);
                    assert_int_equal(ns, 1700000000123456789ull);
                }
}

static void test_udp_zero_checksum_stays_zero(void **state)
{
    (void)state;
    uint8_t f[2048];
    size_t l3, l4;
    size_t len = build(f, false, false, 17, 30, &l3, &l4);
    f[l4 + 6] = f[l4 + 7] = 0; /* "no checksum" */
    px__tag_write(f, len, 7, 9);
    assert_int_equal(f[l4 + 6], 0);
    assert_int_equal(f[l4 + 7], 0);
}

static void test_trailer_needs_payload(void **state)
{
    (void)state;
    uint8_t f[2048];
    size_t l3, l4;
    char err[PX_ERRBUF_SIZE];
    size_t len = build(f, false, false, 17, 23, &l3, &l4);
    assert_int_equal(px__tag_check(f, len, err), PX_EINVAL);
    assert_non_null(strstr(err, "23 payload bytes"));
    /* a padded IPv4 frame: the trailer goes at the end of the IP packet, not in the padding */
    len = build(f, false, false, 17, 24, &l3, &l4);
    memset(f + len, 0, 10);
    assert_int_equal(px__tag_check(f, len + 10, NULL), 0);
    px__tag_write(f, len + 10, 42, 1);
    assert_memory_equal(f + len - 24, "PXTAG\0v1", 8);
    uint64_t tag = 0;
    assert_true(px_tag_find(f, len + 10, &tag, NULL)); /* found by the scan */
    assert_int_equal(tag, 42);
    /* an IPv4 total length beyond the frame is refused, not read past */
    f[l3 + 2] = 0xff;
    assert_int_equal(px__tag_check(f, len, err), PX_EINVAL);
    /* a non-IP frame: anything after the ethertype is payload */
    uint8_t raw[40] = {0};
    raw[12] = 0x88, raw[13] = 0xb5;
    assert_int_equal(px__tag_check(raw, 38, NULL), 0);
    assert_int_equal(px__tag_check(raw, 37, NULL), PX_EINVAL);
    assert_int_equal(px__tag_check(raw, 10, NULL), PX_EINVAL);
}

static void test_tag_find_bounds(void **state)
{
    (void)state;
    uint8_t b[64] = {0};
    assert_false(px_tag_find(NULL, 64, NULL, NULL));
    assert_false(px_tag_find(b, 23, NULL, NULL));
    assert_false(px_tag_find(b, sizeof b, NULL, NULL));
    /* a magic too close to the end to hold a whole trailer is not a tag */
    memcpy(b + 50, "PXTAG\0v1", 8);
    assert_false(px_tag_find(b, sizeof b, NULL, NULL));
    memcpy(b, "PXTAG\0v1", 8);
    b[15] = 5;
    uint64_t tag = 0;
    assert_true(px_tag_find(b, sizeof b, &tag, NULL));
    assert_int_equal(tag, 5);
}

/* saw_tag through the same dispatch the capture thread uses. */
static void test_saw_tag_predicate(void **state)
{
    (void)state;
    uint8_t f[2048], g[2048];
    size_t l3, l4;
    size_t len = build(f, false, false, 17, 40, &l3, &l4);
    memcpy(g, f, len);
    px__tag_write(f, len, 1000, 5000000000ull); /* sent at t = 5 s */
    px__tag_write(g, len, 999, 5000000000ull);

    px_predicate *p = px_saw_tag(1000);
    assert_non_null(p);
    px_frame fr;
    px_frame_dissect(&fr, g, (uint32_t)len, (uint32_t)len);
    fr.ts.tv_sec = 5;
    fr.ts.tv_nsec = 100;
    assert_false(px_predicate_offer(p, &fr)); /* another tag */
    px_frame_dissect(&fr, f, (uint32_t)len, (uint32_t)len);
    fr.ts.tv_sec = 5;
    fr.ts.tv_nsec = 1500; /* arrived 1500 ns after it was sent */
    assert_true(px_predicate_offer(p, &fr));
    px_result r = {0};
    assert_int_equal(px_predicate_finish(p, false, &r), PX_PASS);
    assert_true(r.has_value);
    assert_int_equal(r.value, 1500);
    px_buf_free(&r.explanation);
    px_predicate_free(p);

    p = px_saw_tag(1000);
    px_frame_dissect(&fr, g, (uint32_t)len, (uint32_t)len);
    assert_false(px_predicate_offer(p, &fr));
    px_result r2 = {0};
    assert_int_equal(px_predicate_finish(p, true, &r2), PX_FAIL);
    assert_non_null(strstr(px_buf_cstr(&r2.explanation), "1 carried other tags"));
    px_buf_free(&r2.explanation);
    px_predicate_free(p);
}

/* ---- replay: file checks that fail before any frame goes out ---- */

static void tmpname(char *out, size_t n, const char *what)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, n, "%s/px_send_%s_%d", tmp && *tmp ? tmp : "/tmp", what, (int)getpid());
}

static void test_replay_bad_files(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    px_ctx *ctx = px_ctx_new(NULL, err);
    assert_non_null(ctx);

    assert_int_equal(px_replay(ctx, "nope0", "/nonexistent-px/f.pcap", NULL, NULL, err), PX_EIO);
    assert_non_null(strstr(err, "cannot open"));

    /* not a capture file */
    char path[256];
    tmpname(path, sizeof path, "garbage");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("this is not a pcap file at all, just some text\n", fp);
    fclose(fp);
    assert_int_equal(px_replay(ctx, "nope0", path, NULL, NULL, err), PX_EFORMAT);

    /* a pcap whose link type is not Ethernet */
    pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    uint8_t pkt[40] = {0x45};
    struct pcap_pkthdr h = {.caplen = sizeof pkt, .len = sizeof pkt};
    pcap_dump((u_char *)d, &h, pkt);
    pcap_dump_close(d);
    pcap_close(dead);
    px_replay_report rep;
    assert_int_equal(px_replay(ctx, "nope0", path, NULL, &rep, err), PX_EFORMAT);
    assert_non_null(strstr(err, "not Ethernet"));
    assert_int_equal(rep.sent, 0);

    /* bad arguments */
    assert_int_equal(px_replay(ctx, NULL, path, NULL, NULL, err), PX_EINVAL);
    px_replay_opts o = {.speed = -1};
    assert_int_equal(px_replay(ctx, "nope0", path, &o, NULL, err), PX_EINVAL);

    /* a pcapng with a corrupt block, read by the own reader (port map) */
    fp = fopen(path, "wb");
    assert_non_null(fp);
    const uint32_t shb[7] = {0x0A0D0D0Au, 28, 0x1A2B3C4Du, 1, 0xffffffffu, 0xffffffffu, 28};
    fwrite(shb, 1, sizeof shb, fp);
    const uint32_t bad[2] = {6, 7}; /* length not a multiple of 4 */
    fwrite(bad, 1, sizeof bad, fp);
    fclose(fp);
    const char *map[] = {"nope0"};
    px_replay_opts om = {.port_map = map, .nport_map = 1};
    assert_int_equal(px_replay(ctx, NULL, path, &om, &rep, err), PX_EFORMAT);
    assert_non_null(strstr(err, "corrupt block length"));
    unlink(path);
    px_ctx_free(ctx);
}

/* Argument checks that come before any port is touched. */
static void test_send_bad_arguments(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE];
    px_ctx *ctx = px_ctx_new(NULL, err);
    assert_non_null(ctx);
    uint8_t f[60] = {0};
    px_tx_frame fr = {f, sizeof f};
    assert_int_equal(px_send(NULL, "p1", f, sizeof f, err), PX_EINVAL);
    assert_int_equal(px_send(ctx, NULL, f, sizeof f, err), PX_EINVAL);
    assert_int_equal(px_send(ctx, "", f, sizeof f, err), PX_EINVAL);
    size_t sent = 7;
    assert_int_equal(px_send_burst(NULL, "p1", &fr, 1, NULL, &sent, err), PX_EINVAL);
    assert_int_equal(sent, 0);
    assert_int_equal(px_send_ports(ctx, NULL, 0, f, sizeof f, NULL, err), PX_EINVAL);

    px_pace_report rep;
    px_pace_opts none = {.rate_fps = 10};
    assert_int_equal(px_send_paced(ctx, "p1", &fr, 1, NULL, &none, &rep, err), PX_EINVAL);
    assert_non_null(strstr(err, "count"));
    px_pace_opts both = {.count = 1, .rate_fps = 10, .rate_bps = 10};
    assert_int_equal(px_send_paced(ctx, "p1", &fr, 1, NULL, &both, &rep, err), PX_EINVAL);
    px_pace_opts neg = {.count = 1, .rate_fps = -1};
    assert_int_equal(px_send_paced(ctx, "p1", &fr, 1, NULL, &neg, &rep, err), PX_EINVAL);
    px_pace_opts nan = {.count = 1, .rate_bps = NAN};
    assert_int_equal(px_send_paced(ctx, "p1", &fr, 1, NULL, &nan, &rep, err), PX_EINVAL);
    px_pace_opts ok = {.count = 1};
    assert_int_equal(px_send_paced(ctx, "p1", NULL, 0, NULL, &ok, &rep, err), PX_EINVAL);
    assert_int_equal(rep.sent, 0);

    /* tags: unique, never 0 */
    uint64_t t1 = px_send_tag_new(ctx), t2 = px_send_tag_new(ctx);
    assert_true(t1 != t2);
    assert_true(t1 != 0 && t2 != 0);
    px_ctx_free(ctx);
}

/* The own pcapng reader (used with a port map) on damaged files: a valid file from
 * the evidence recorder, then deterministic byte mutations and truncations. Every
 * interface is mapped to NULL (skip), so no port is needed: the reader runs alone
 * and must return 0 or a clean error, never read out of bounds (ASan build). */
static void test_pcapng_reader_damaged(void **state)
{
    (void)state;
    char path[256], bad[256];
    tmpname(path, sizeof path, "ng");
    tmpname(bad, sizeof bad, "ngbad");
    px_evidence *ev = px_evidence_open(path, NULL);
    assert_non_null(ev);
    uint8_t f[200];
    for (unsigned i = 0; i < 12; i++) {
        memset(f, (int)i, sizeof f);
        assert_int_equal(px_evidence_write(ev, i % 2 ? "x" : "y", PX_DIR_IN, NULL, f, 60 + i * 11, 60 + i * 11), 0);
    }
    assert_int_equal(px_evidence_close(ev), 0);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t orig[8192];
    size_t n = fread(orig, 1, sizeof orig, fp);
    fclose(fp);
    assert_true(n > 1000 && n < sizeof orig);

    char err[PX_ERRBUF_SIZE];
    px_ctx *ctx = px_ctx_new(NULL, err);
    assert_non_null(ctx);
    const char *map[2] = {NULL, NULL};
    px_replay_opts o = {.port_map = map, .nport_map = 2};
    px_replay_report rep;
    assert_int_equal(px_replay(ctx, NULL, path, &o, &rep, err), 0);
    assert_int_equal(rep.skipped, 12);

    uint32_t seed = 12345;
    uint8_t buf[8192];
    for (int round = 0; round < 1000; round++) {
        memcpy(buf, orig, n);
        size_t len = n;
        seed = seed * 1103515245u + 12345u;
        if (round % 3 == 0) {
            len = seed % n; /* truncation anywhere */
        } else {
            for (int k = 0; k < 1 + (int)(seed % 4); k++) { /* a few random bytes */
                seed = seed * 1103515245u + 12345u;
                buf[(seed >> 8) % n] = (uint8_t)(seed >> 24);
            }
        }
        fp = fopen(bad, "wb");
        assert_non_null(fp);
        fwrite(buf, 1, len, fp);
        fclose(fp);
        int rc = px_replay(ctx, NULL, bad, &o, &rep, err);
        if (rc != 0 && rc != PX_EFORMAT && rc != PX_EINVAL)
            fail_msg("round %d: unexpected %d (%s)", round, rc, err);
        assert_int_equal(rep.sent, 0);
    }
    unlink(bad);
    unlink(path);
    px_ctx_free(ctx);
}

/* Temporary file name for this process: "<TMPDIR>/px_unit_send_<pid>_<what>". */
static void tmp_name(char *out, size_t size, const char *what)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, size, "%s/px_unit_send_%d_%s", tmp && *tmp ? tmp : "/tmp", (int)getpid(), what);
}

/* The descriptor of this process open on `path` (found in /proc/self/fd), or -1. */
static int fd_of(const char *path)
{
    char want[PATH_MAX];
    if (!realpath(path, want))
        return -1;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int found = -1;
    struct dirent *de;
    while (found < 0 && (de = readdir(d)) != NULL) {
        char link[64], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            if (strcmp(target, want) == 0)
                found = atoi(de->d_name);
        }
    }
    closedir(d);
    return found;
}

/* The evidence file is close-on-exec from its creation: a child that another
 * thread forks and execs (a scenario's `run` step, tcpdump) never inherits it. */
static void test_evidence_fd_cloexec(void **state)
{
    (void)state;
    char path[256], err[PX_ERRBUF_SIZE];
    tmp_name(path, sizeof path, "cloexec.pcapng");
    px_evidence *ev = px_evidence_open(path, err);
    assert_non_null(ev);
    int fd = fd_of(path);
    assert_true(fd >= 0);
    int flags = fcntl(fd, F_GETFD);
    assert_true(flags >= 0);
    assert_true(flags & FD_CLOEXEC);
    assert_int_equal(px_evidence_close(ev), 0);
    unlink(path);
}

/* The sender's batched evidence (one lock per batch) writes the same bytes as one
 * px_evidence_write per frame, and libpcap reads it back: lengths 61, 62, 64
 * (every padding), one timestamp, outbound. */
static void test_evidence_batch_same_bytes(void **state)
{
    (void)state;
    char pa[256], pb[256], err[PX_ERRBUF_SIZE];
    tmp_name(pa, sizeof pa, "one.pcapng");
    tmp_name(pb, sizeof pb, "batch.pcapng");
    uint8_t frames[3][64];
    const size_t lens[3] = {61, 62, 64};
    struct iovec iov[3];
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 64; j++)
            frames[i][j] = (uint8_t)(i * 64 + j);
        iov[i] = (struct iovec){frames[i], lens[i]};
    }
    const struct timespec ts = {1700000000, 123456789};
    px_evidence *a = px_evidence_open(pa, err), *b = px_evidence_open(pb, err);
    assert_non_null(a);
    assert_non_null(b);
    for (int i = 0; i < 3; i++)
        assert_int_equal(px_evidence_write(a, "p1", PX_DIR_OUT, &ts, frames[i], (uint32_t)lens[i], (uint32_t)lens[i]),
                         0);
    assert_int_equal(px__evidence_write_out(b, "p1", &ts, iov, 3), 0);
    assert_int_equal(px_evidence_frames(b), 3);
    assert_int_equal(px_evidence_close(a), 0);
    assert_int_equal(px_evidence_close(b), 0);

    FILE *fa = fopen(pa, "rb"), *fb = fopen(pb, "rb");
    assert_non_null(fa);
    assert_non_null(fb);
    static uint8_t ba[4096], bb[4096];
    size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
    fclose(fa);
    fclose(fb);
    assert_true(na > 0);
    assert_int_equal(na, nb);
    assert_memory_equal(ba, bb, na);

    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(pb, PCAP_TSTAMP_PRECISION_NANO, perr);
    assert_non_null(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pcap_next_ex(pc, &h, &data), 1);
        assert_int_equal(h->caplen, lens[i]);
        assert_int_equal(h->ts.tv_sec, ts.tv_sec);
        assert_int_equal(h->ts.tv_usec, ts.tv_nsec); /* nanosecond precision */
        assert_memory_equal(data, frames[i], lens[i]);
    }
    assert_int_equal(pcap_next_ex(pc, &h, &data), PCAP_ERROR_BREAK);
    pcap_close(pc);
    unlink(pa);
    unlink(pb);
}

/* px__tx_check: the length rule (MTU + 14, one VLAN tag beyond it however many are
 * stacked, the pushed tag counted) and the messages naming the frame. */
static void test_tx_check_rules(void **state)
{
    (void)state;
    static uint8_t f[1600];
    memset(f, 0, sizeof f);
    f[12] = 0x88;
    f[13] = 0xb5;
    char err[PX_ERRBUF_SIZE];
    const uint32_t mtu = 1500;
    assert_int_equal(px__tx_check("p", mtu, f, 1514, NULL, SIZE_MAX, err), 0);
    assert_int_equal(px__tx_check("p", mtu, f, 1515, NULL, 7, err), PX_EMTU);
    assert_non_null(strstr(err, "frame 7 of the burst has 1515 bytes"));
    assert_int_equal(px__tx_check("p", mtu, f, 1515, NULL, SIZE_MAX, err), PX_EMTU);
    assert_non_null(strstr(err, "send on 'p': frame has 1515 bytes"));
    px_send_opts push = {.push_vlan = true, .vlan_id = 5};
    assert_int_equal(px__tx_check("p", mtu, f, 1514, &push, SIZE_MAX, err), 0);  /* 1518 with the tag */
    assert_int_equal(px__tx_check("p", mtu, f, 1515, &push, SIZE_MAX, err), PX_EMTU);
    /* a frame that carries a tag itself: 4 bytes beyond, once */
    f[12] = 0x81;
    f[13] = 0x00;
    f[16] = 0x81;
    f[17] = 0x00;
    assert_int_equal(px__tx_check("p", mtu, f, 1518, NULL, SIZE_MAX, err), 0);
    assert_int_equal(px__tx_check("p", mtu, f, 1519, NULL, SIZE_MAX, err), PX_EMTU);
    assert_non_null(strstr(err, "raise the MTU for stacked tags"));
    assert_int_equal(px__tx_check("p", mtu, f, 1516, &push, SIZE_MAX, err), PX_EMTU);
    assert_int_equal(px__tx_check("p", mtu, f, 13, NULL, 3, err), PX_EINVAL);
    assert_non_null(strstr(err, "frame 3 of the burst has 13 bytes, less than an Ethernet header"));
    assert_int_equal(px__tx_check("p", mtu, f, 0, NULL, SIZE_MAX, err), PX_EINVAL);
    assert_non_null(strstr(err, "frame is empty"));
    px_send_opts tagged = {.tagged = true};
    assert_int_equal(px__tx_check("p", mtu, f, 40, &tagged, 2, err), PX_EINVAL);
    assert_non_null(strstr(err, "send on 'p': frame 2 of the burst: tagged frame"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trailer_layout_and_checksums),
        cmocka_unit_test(test_udp_zero_checksum_stays_zero),
        cmocka_unit_test(test_trailer_needs_payload),
        cmocka_unit_test(test_tag_find_bounds),
        cmocka_unit_test(test_saw_tag_predicate),
        cmocka_unit_test(test_replay_bad_files),
        cmocka_unit_test(test_send_bad_arguments),
        cmocka_unit_test(test_pcapng_reader_damaged),
        cmocka_unit_test(test_evidence_fd_cloexec),
        cmocka_unit_test(test_evidence_batch_same_bytes),
        cmocka_unit_test(test_tx_check_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
