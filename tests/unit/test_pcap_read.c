/* px__pcap_reader: classic pcap files written by libpcap (µs and ns), hand-made
 * pcap and pcapng images in both byte orders, a pipe fed one byte at a time
 * (lock-step and from a writer thread, read end non-blocking), and the errors:
 * truncation at every offset, bad magic, bad lengths, unknown interfaces, read
 * errors. Only files made here (mkstemp under TMPDIR); no root, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pcap_read.h"

/* ---------------- helpers ---------------- */

static int tmp_file(char path[256])
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, 256, "%s/px_pcap_read_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    return fd;
}

/* A byte image in a chosen byte order. */
typedef struct img {
    uint8_t b[1 << 19];
    size_t n;
    bool be;
} img;

static void put(img *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void put_uint(img *m, uint64_t v, unsigned size)
{
    uint8_t t[8];
    for (unsigned i = 0; i < size; i++)
        t[m->be ? size - 1 - i : i] = (uint8_t)(v >> (8 * i));
    put(m, t, size);
}
static void u16(img *m, uint64_t v) { put_uint(m, v, 2); }
static void u32(img *m, uint64_t v) { put_uint(m, v, 4); }
static void u64(img *m, uint64_t v) { put_uint(m, v, 8); }

static void pad4(img *m)
{
    while (m->n % 4)
        put(m, "", 1);
}

/* pcapng block: begin writes type and a length patched by end. */
static size_t blk(img *m, uint32_t type)
{
    size_t at = m->n;
    u32(m, type);
    u32(m, 0);
    return at;
}

static void blk_end(img *m, size_t at)
{
    pad4(m);
    uint32_t len = (uint32_t)(m->n - at + 4);
    u32(m, len);
    size_t save = m->n;
    m->n = at + 4;
    u32(m, len);
    m->n = save;
}

static void opt(img *m, uint16_t code, const void *v, uint16_t len)
{
    u16(m, code);
    u16(m, len);
    put(m, v, len);
    pad4(m);
}

static void opt64(img *m, uint16_t code, uint64_t v)
{
    u16(m, code);
    u16(m, 8);
    u64(m, v);
}

static void opt_end(img *m) { u32(m, 0); }

static void shb(img *m)
{
    size_t at = blk(m, 0x0A0D0D0A);
    u32(m, 0x1A2B3C4D);
    u16(m, 1);
    u16(m, 0);
    u64(m, UINT64_MAX);
    blk_end(m, at);
}

/* IDB; name NULL, tsresol < 0 and no_off for the defaults. */
static void idb(img *m, uint16_t linktype, uint32_t snaplen, const char *name, int tsresol, bool has_off,
                int64_t tsoffset)
{
    size_t at = blk(m, 1);
    u16(m, linktype);
    u16(m, 0);
    u32(m, snaplen);
    if (name)
        opt(m, 2, name, (uint16_t)strlen(name));
    if (tsresol >= 0) {
        uint8_t v = (uint8_t)tsresol;
        opt(m, 9, &v, 1);
    }
    if (has_off)
        opt64(m, 14, (uint64_t)tsoffset);
    if (name || tsresol >= 0 || has_off)
        opt_end(m);
    blk_end(m, at);
}

/* EPB; dropcount < 0 for none. Returns the block's offset. */
static size_t epb(img *m, uint32_t ifid, uint64_t ts, const void *data, uint32_t caplen, uint32_t wirelen,
                  int64_t dropcount)
{
    size_t at = blk(m, 6);
    u32(m, ifid);
    u32(m, ts >> 32);
    u32(m, ts & 0xffffffffu);
    u32(m, caplen);
    u32(m, wirelen);
    put(m, data, caplen);
    pad4(m);
    if (dropcount >= 0) {
        u16(m, 2); /* epb_flags: inbound */
        u16(m, 4);
        u32(m, 1);
        opt64(m, 4, (uint64_t)dropcount);
        opt_end(m);
    }
    blk_end(m, at);
    return at;
}

/* SPB of a `len`-byte frame, of which the block holds `stored` (the snaplen cut). */
static size_t spb(img *m, const void *data, uint32_t len, uint32_t stored)
{
    size_t at = blk(m, 3);
    u32(m, len);
    put(m, data, stored);
    blk_end(m, at);
    return at;
}

static size_t isb(img *m, uint32_t ifid, uint64_t ts, int64_t ifdrop)
{
    size_t at = blk(m, 5);
    u32(m, ifid);
    u32(m, ts >> 32);
    u32(m, ts & 0xffffffffu);
    opt(m, 1, "ok", 2); /* opt_comment */
    if (ifdrop >= 0)
        opt64(m, 5, (uint64_t)ifdrop);
    opt_end(m);
    blk_end(m, at);
    return at;
}

/* A Name Resolution Block and a custom block: both are skipped. */
static void skipped_blocks(img *m)
{
    size_t at = blk(m, 4);
    u16(m, 1);
    u16(m, 8);
    put(m, "\x0a\x00\x00\x01" "h1\0\0", 8);
    opt_end(m);
    blk_end(m, at);
    at = blk(m, 0x40000BAD);
    u32(m, 32473);
    put(m, "xyz", 3);
    blk_end(m, at);
}

/* fd on an unlinked temporary file holding b[0, n), positioned at 0. */
static int image_fd(const void *b, size_t n)
{
    char path[256];
    int fd = tmp_file(path);
    unlink(path);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

typedef struct expect {
    px__pcap_rec_type type;
    uint32_t iface;
    const char *name;
    int64_t sec;
    long nsec;
    const char *data;
    uint32_t caplen, wirelen, linktype;
    bool has_drops;
    uint64_t drops;
} expect;

static void check_rec(const px__pcap_rec *rec, const expect *e)
{
    assert_int_equal(rec->type, e->type);
    assert_int_equal(rec->iface, e->iface);
    if (e->name) {
        assert_non_null(rec->iface_name);
        assert_string_equal(rec->iface_name, e->name);
    } else {
        assert_null(rec->iface_name);
    }
    assert_int_equal(rec->ts.tv_sec, e->sec);
    assert_int_equal(rec->ts.tv_nsec, e->nsec);
    assert_int_equal(rec->caplen, e->caplen);
    assert_int_equal(rec->wirelen, e->wirelen);
    assert_int_equal(rec->linktype, e->linktype);
    assert_int_equal(rec->has_drops, e->has_drops);
    assert_int_equal(rec->drops, e->drops);
    if (e->type == PX__PCAP_REC_STATS) {
        assert_null(rec->data);
    } else {
        assert_non_null(rec->data);
        assert_memory_equal(rec->data, e->data, e->caplen);
    }
}

/* Reads n records of an image in a file and expects them, then the clean end. */
static void read_expect(const img *m, const expect *e, size_t n, const char *format)
{
    int fd = image_fd(m->b, m->n);
    char err[PX_ERRBUF_SIZE] = "";
    px__pcap_reader *r = px__pcap_reader_new(fd, err);
    assert_non_null(r);
    assert_null(px__pcap_reader_format(r));
    px__pcap_rec rec;
    for (size_t i = 0; i < n; i++) {
        int rc = px__pcap_reader_next(r, &rec, err);
        if (rc != 1)
            fail_msg("record %zu: rc %d: %s", i, rc, err);
        check_rec(&rec, &e[i]);
    }
    assert_int_equal(px__pcap_reader_next(r, &rec, err), PX_ECLOSED);
    assert_int_equal(px__pcap_reader_next(r, &rec, err), PX_ECLOSED);
    assert_string_equal(px__pcap_reader_format(r), format);
    px__pcap_reader_free(r);
    close(fd);
}

/* Reads an image until an error; expects `code` and `msg` in the message, twice. */
static void read_error(const void *b, size_t n, int code, const char *msg)
{
    int fd = image_fd(b, n);
    char err[PX_ERRBUF_SIZE] = "";
    px__pcap_reader *r = px__pcap_reader_new(fd, err);
    assert_non_null(r);
    px__pcap_rec rec;
    int rc;
    while ((rc = px__pcap_reader_next(r, &rec, err)) == 1)
        ;
    assert_int_equal(rc, code);
    if (!strstr(err, msg))
        fail_msg("expected \"%s\" in \"%s\"", msg, err);
    char again[PX_ERRBUF_SIZE] = "";
    assert_int_equal(px__pcap_reader_next(r, &rec, again), code); /* sticky */
    assert_string_equal(again, err);
    px__pcap_reader_free(r);
    close(fd);
}

static const char F1[] = "\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x01\x08\x06frame one";
static const char F2[] = "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00frame two, a bit longer";

/* ---------------- classic pcap ---------------- */

/* Three frames with libpcap's writer; the third is cut to 20 bytes of 1500. */
static void write_libpcap(const char *path, bool nano)
{
    pcap_t *p = nano ? pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO)
                     : pcap_open_dead(DLT_EN10MB, 65535);
    assert_non_null(p);
    pcap_dumper_t *d = pcap_dump_open(p, path);
    assert_non_null(d);
    const char *frames[] = {F1, F2, F2};
    uint32_t caps[] = {sizeof F1 - 1, sizeof F2 - 1, 20}, lens[] = {sizeof F1 - 1, sizeof F2 - 1, 1500};
    for (int i = 0; i < 3; i++) {
        struct pcap_pkthdr h = {.caplen = caps[i], .len = lens[i]};
        h.ts.tv_sec = 1700000000 + i;
        h.ts.tv_usec = nano ? 123456789 + i : 654321 + i;
        pcap_dump((u_char *)d, &h, (const u_char *)frames[i]);
    }
    pcap_dump_close(d);
    pcap_close(p);
}

static void test_libpcap_files(void **state)
{
    (void)state;
    for (int nano = 0; nano < 2; nano++) {
        char path[256];
        close(tmp_file(path));
        write_libpcap(path, nano);
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        img *m = calloc(1, sizeof *m);
        assert_non_null(m);
        m->n = (size_t)read(fd, m->b, sizeof m->b);
        close(fd);
        unlink(path);
        expect e[3];
        const char *frames[] = {F1, F2, F2};
        uint32_t caps[] = {sizeof F1 - 1, sizeof F2 - 1, 20}, lens[] = {sizeof F1 - 1, sizeof F2 - 1, 1500};
        for (int i = 0; i < 3; i++)
            e[i] = (expect){PX__PCAP_REC_FRAME, 0, NULL, 1700000000 + i, nano ? 123456789 + i : (654321 + i) * 1000L,
                            frames[i], caps[i], lens[i], 1, false, 0};
        read_expect(m, e, 3, nano ? "pcap-ns" : "pcap");
        free(m);
    }
}

/* A frame longer than the first buffer (64 KiB): the buffer grows. */
static void test_libpcap_big_frame(void **state)
{
    (void)state;
    char path[256];
    close(tmp_file(path));
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
    pcap_dumper_t *d = pcap_dump_open(p, path);
    assert_non_null(d);
    static uint8_t big[200000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    struct pcap_pkthdr h = {.caplen = sizeof big, .len = sizeof big};
    for (int i = 0; i < 3; i++)
        pcap_dump((u_char *)d, &h, big);
    pcap_dump_close(d);
    pcap_close(p);
    int fd = open(path, O_RDONLY);
    px__pcap_reader *r = px__pcap_reader_new(fd, NULL);
    px__pcap_rec rec;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(px__pcap_reader_next(r, &rec, NULL), 1);
        assert_int_equal(rec.caplen, sizeof big);
        assert_memory_equal(rec.data, big, sizeof big);
    }
    assert_int_equal(px__pcap_reader_next(r, &rec, NULL), PX_ECLOSED);
    px__pcap_reader_free(r);
    close(fd);
    unlink(path);
}

static void pcap_hdr(img *m, uint32_t magic, uint32_t snaplen)
{
    u32(m, magic);
    u16(m, 2);
    u16(m, 4);
    u32(m, 0);
    u32(m, 0);
    u32(m, snaplen);
    u32(m, 1);
}

static void pcap_rec(img *m, uint32_t sec, uint32_t frac, const void *data, uint32_t caplen, uint32_t len)
{
    u32(m, sec);
    u32(m, frac);
    u32(m, caplen);
    u32(m, len);
    put(m, data, caplen);
}

/* Hand-made classic files in both byte orders and both resolutions. */
static void test_pcap_byte_orders(void **state)
{
    (void)state;
    img *m = calloc(1, sizeof *m);
    for (int be = 0; be < 2; be++)
        for (int nano = 0; nano < 2; nano++) {
            m->n = 0;
            m->be = be;
            pcap_hdr(m, nano ? 0xa1b23c4d : 0xa1b2c3d4, 96);
            pcap_rec(m, 10, nano ? 999999999 : 999999, F1, sizeof F1 - 1, 60);
            pcap_rec(m, 4000000000u, 1, F2, 10, sizeof F2 - 1);
            expect e[] = {
                {PX__PCAP_REC_FRAME, 0, NULL, 10, nano ? 999999999 : 999999000, F1, sizeof F1 - 1, 60, 1, false, 0},
                {PX__PCAP_REC_FRAME, 0, NULL, 4000000000, nano ? 1 : 1000, F2, 10, sizeof F2 - 1, 1, false, 0},
            };
            read_expect(m, e, 2, nano ? "pcap-ns" : "pcap");
        }
    free(m);
}

static void test_pcap_errors(void **state)
{
    (void)state;
    img *m = calloc(1, sizeof *m);
    pcap_hdr(m, 0xa1b2c3d4, 64);
    pcap_rec(m, 1, 0, F1, 10, 10);
    u32(m, 1);
    u32(m, 0);
    u32(m, 100);
    u32(m, 100);
    read_error(m->b, m->n, PX_EFORMAT, "pcap: record at offset 50: caplen 100 exceeds the snaplen 64");

    m->n = 0;
    pcap_hdr(m, 0xa1b2c3d4, 0x7fffffff);
    pcap_rec(m, 1, 0, F1, 10, 10);
    u32(m, 1);
    u32(m, 0);
    u32(m, 262145);
    u32(m, 262145);
    read_error(m->b, m->n, PX_EFORMAT, "pcap: record at offset 50: caplen 262145 exceeds the limit of 262144");

    m->n = 0;
    pcap_hdr(m, 0xa1b2c3d4, 0);
    m->b[4] = 3;
    read_error(m->b, m->n, PX_EFORMAT, "pcap: file header at offset 0: version 3.4 is not 2.x");

    read_error("\x00\x01\x02\x03 and more", 13, PX_EFORMAT,
               "bad magic 00 01 02 03 at offset 0: not a pcap or pcapng stream");
    read_error("", 0, PX_EFORMAT, "truncated: the stream ended inside the file header at offset 0 (0 bytes");
    free(m);
}

/* ---------------- pcapng ---------------- */

#define TS9 (1700000000ull * 1000000000ull + 123456789ull)
#define TS2_20 ((1000ull << 20) + (1ull << 19)) /* 1000.5 s in 2^-20 units */

/* Two interfaces (ns, and 2^-20 with an offset), every record type, skipped blocks,
 * then a second section in the other byte order whose one interface has no options. */
static void build_pcapng(img *m, bool be)
{
    m->n = 0;
    m->be = be;
    shb(m);
    idb(m, 1, 65535, "eth0", 9, false, 0);
    skipped_blocks(m);
    idb(m, 105, 0, "wlan1", 0x80 | 20, true, 100);
    epb(m, 0, TS9, F1, sizeof F1 - 1, sizeof F1 - 1, 7);
    epb(m, 1, TS2_20, F2, 13, 1000, -1);
    spb(m, F2, sizeof F2 - 1, sizeof F2 - 1);
    isb(m, 0, TS9 + 1000, 42);
    isb(m, 1, TS2_20, -1);
    m->be = !be;
    shb(m);
    idb(m, 1, 8, NULL, -1, false, 0);
    epb(m, 0, 5000001, F1, 4, 60, -1);
    spb(m, F1, sizeof F1 - 1, 8); /* cut to the snaplen 8 */
}

static const expect NG_EXPECT[] = {
    {PX__PCAP_REC_FRAME, 0, "eth0", 1700000000, 123456789, F1, sizeof F1 - 1, sizeof F1 - 1, 1, true, 7},
    {PX__PCAP_REC_FRAME, 1, "wlan1", 1100, 500000000, F2, 13, 1000, 105, false, 0},
    {PX__PCAP_REC_FRAME, 0, "eth0", 1100, 500000000, F2, sizeof F2 - 1, sizeof F2 - 1, 1, false, 0},
    {PX__PCAP_REC_STATS, 0, "eth0", 1700000000, 123457789, NULL, 0, 0, 1, true, 42},
    {PX__PCAP_REC_STATS, 1, "wlan1", 1100, 500000000, NULL, 0, 0, 105, false, 0},
    {PX__PCAP_REC_FRAME, 0, NULL, 5, 1000, F1, 4, 60, 1, false, 0},
    {PX__PCAP_REC_FRAME, 0, NULL, 5, 1000, F1, 8, sizeof F1 - 1, 1, false, 0},
};
#define NG_NRECS (sizeof NG_EXPECT / sizeof NG_EXPECT[0])

static void test_pcapng_both_orders(void **state)
{
    (void)state;
    img *m = calloc(1, sizeof *m);
    for (int be = 0; be < 2; be++) {
        build_pcapng(m, be);
        read_expect(m, NG_EXPECT, NG_NRECS, "pcapng");
    }
    free(m);
}

/* Names stay valid after the section that declared them is gone. */
static void test_pcapng_names_outlive_section(void **state)
{
    (void)state;
    img *m = calloc(1, sizeof *m);
    build_pcapng(m, false);
    int fd = image_fd(m->b, m->n);
    px__pcap_reader *r = px__pcap_reader_new(fd, NULL);
    px__pcap_rec rec;
    const char *names[NG_NRECS];
    for (size_t i = 0; i < NG_NRECS; i++) {
        assert_int_equal(px__pcap_reader_next(r, &rec, NULL), 1);
        names[i] = rec.iface_name;
    }
    assert_string_equal(names[0], "eth0");
    assert_string_equal(names[1], "wlan1");
    assert_ptr_equal(names[0], names[2]); /* interned */
    px__pcap_reader_free(r);
    close(fd);
    free(m);
}

/* Every prefix of a file is either a clean end on a record boundary or a
 * truncation error naming the offset of the record it cuts. */
static void test_truncated_everywhere(void **state)
{
    (void)state;
    img *m = calloc(1, sizeof *m);
    for (int kind = 0; kind < 2; kind++) {
        size_t bounds[16], nb = 0;
        m->n = 0;
        m->be = false;
        if (kind == 0) {
            pcap_hdr(m, 0xa1b2c3d4, 65535);
            bounds[nb++] = m->n;
            pcap_rec(m, 1, 2, F1, sizeof F1 - 1, sizeof F1 - 1);
            bounds[nb++] = m->n;
            pcap_rec(m, 1, 2, F2, sizeof F2 - 1, sizeof F2 - 1);
            bounds[nb++] = m->n;
        } else {
            shb(m);
            bounds[nb++] = m->n;
            idb(m, 1, 0, "eth0", 9, false, 0);
            bounds[nb++] = m->n;
            epb(m, 0, TS9, F1, sizeof F1 - 1, sizeof F1 - 1, 3);
            bounds[nb++] = m->n;
            isb(m, 0, TS9, 5);
            bounds[nb++] = m->n;
        }
        for (size_t cut = 0; cut <= m->n; cut++) {
            size_t b = 0;
            while (b < nb && bounds[b] <= cut)
                b++;
            char msg[PX_ERRBUF_SIZE];
            if (b > 0 && bounds[b - 1] == cut) { /* a boundary: clean end */
                int fd = image_fd(m->b, cut);
                px__pcap_reader *r = px__pcap_reader_new(fd, NULL);
                px__pcap_rec rec;
                int rc;
                while ((rc = px__pcap_reader_next(r, &rec, msg)) == 1)
                    ;
                assert_int_equal(rc, PX_ECLOSED);
                px__pcap_reader_free(r);
                close(fd);
            } else if (b == 0) {
                snprintf(msg, sizeof msg, "truncated: the stream ended inside the file header at offset 0 (%zu bytes",
                         cut);
                read_error(m->b, cut, PX_EFORMAT, msg);
            } else {
                snprintf(msg, sizeof msg, "truncated: the stream ended inside a record at offset %zu (%zu bytes",
                         bounds[b - 1], cut - bounds[b - 1]);
                read_error(m->b, cut, PX_EFORMAT, msg);
            }
        }
    }
    free(m);
}

static void test_pcapng_bad_blocks(void **state)
{
    (void)state;
    img *m = calloc(1, sizeof *m);
    char msg[PX_ERRBUF_SIZE];

    /* length shorter than the header: 12 for an EPB */
    shb(m);
    size_t at = m->n;
    u32(m, 6);
    u32(m, 12);
    u32(m, 12);
    snprintf(msg, sizeof msg, "pcapng: block at offset %zu: length 12 is shorter than its header (32 bytes for an "
             "enhanced packet)", at);
    read_error(m->b, m->n, PX_EFORMAT, msg);

    /* length below 12, not a multiple of 4, over 16 MiB */
    const uint32_t lens[] = {8, 22, (16u << 20) + 4};
    const char *why[] = {"length 8 is shorter than its header (12 bytes for a block)", "length 22 is not a multiple of 4",
                         "length 16777220 is over 16 MiB"};
    for (int i = 0; i < 3; i++) {
        m->n = at;
        u32(m, 0x99);
        u32(m, lens[i]);
        u32(m, 0);
        snprintf(msg, sizeof msg, "pcapng: block at offset %zu: %s", at, why[i]);
        read_error(m->b, m->n, PX_EFORMAT, msg);
    }

    /* trailing length differs */
    m->n = at;
    u32(m, 0x99);
    u32(m, 16);
    u32(m, 0);
    u32(m, 20);
    snprintf(msg, sizeof msg, "pcapng: block at offset %zu: trailing length 20 differs from the leading 16", at);
    read_error(m->b, m->n, PX_EFORMAT, msg);

    /* SHB: bad byte-order magic, bad version */
    m->n = 0;
    shb(m);
    memcpy(m->b + 8, "\x01\x02\x03\x04", 4);
    read_error(m->b, m->n, PX_EFORMAT, "pcapng: block at offset 0: byte-order magic 0x04030201 is neither");
    m->n = 0;
    shb(m);
    m->b[12] = 2;
    read_error(m->b, m->n, PX_EFORMAT, "pcapng: block at offset 0: section version 2.0 is not 1.x");

    /* an option that runs past its block; a bad if_tsresol; a dropcount of the wrong size */
    m->n = 0;
    shb(m);
    at = blk(m, 1);
    u32(m, 1);
    u32(m, 0);
    u16(m, 2);
    u16(m, 200);
    blk_end(m, at);
    snprintf(msg, sizeof msg, "pcapng: block at offset %zu: option 2 of length 200 runs past the block end", at);
    read_error(m->b, m->n, PX_EFORMAT, msg);
    m->n = 28;
    idb(m, 1, 0, NULL, 20, false, 0);
    read_error(m->b, m->n, PX_EFORMAT, "pcapng: block at offset 28: if_tsresol 0x14 is out of range");
    m->n = 28;
    idb(m, 1, 0, NULL, 0x80 | 64, false, 0);
    read_error(m->b, m->n, PX_EFORMAT, "pcapng: block at offset 28: if_tsresol 0xc0 is out of range");
    m->n = 28;
    idb(m, 1, 0, NULL, -1, false, 0);
    at = blk(m, 6);
    for (int i = 0; i < 5; i++)
        u32(m, 0);
    opt(m, 4, "1234", 4);
    blk_end(m, at);
    snprintf(msg, sizeof msg, "pcapng: block at offset %zu: option 4 has length 4, not 8", at);
    read_error(m->b, m->n, PX_EFORMAT, msg);

    /* EPB caplen past the block */
    m->n = 28;
    idb(m, 1, 0, NULL, -1, false, 0);
    at = epb(m, 0, 0, F1, 8, 8, -1);
    m->b[at + 20] = 9; /* caplen 9, 8 bytes of data */
    snprintf(msg, sizeof msg, "pcapng: block at offset %zu: caplen 9 runs past the block end (8 bytes for data)", at);
    read_error(m->b, m->n, PX_EFORMAT, msg);

    /* a timestamp beyond time_t with if_tsresol 10^0 */
    m->n = 28;
    idb(m, 1, 0, NULL, 0, false, 0);
    at = epb(m, 0, UINT64_MAX, F1, 8, 8, -1);
    snprintf(msg, sizeof msg, "pcapng: block at offset %zu: timestamp does not fit", at);
    read_error(m->b, m->n, PX_EFORMAT, msg);
    free(m);
}

static void test_pcapng_unknown_interface(void **state)
{
    (void)state;
    img *m = calloc(1, sizeof *m);
    char msg[PX_ERRBUF_SIZE];
    for (int be = 0; be < 2; be++) {
        m->n = 0;
        m->be = be;
        shb(m);
        idb(m, 1, 0, "eth0", -1, false, 0);
        epb(m, 0, 1, F1, 4, 4, -1);
        size_t at = epb(m, 2, 1, F1, 4, 4, -1);
        snprintf(msg, sizeof msg, "pcapng: block at offset %zu: interface 2 was not described (1 in this section)", at);
        read_error(m->b, m->n, PX_EFORMAT, msg);

        /* interfaces are per section */
        m->n = 0;
        shb(m);
        idb(m, 1, 0, "eth0", -1, false, 0);
        shb(m);
        at = spb(m, F1, 4, 4);
        snprintf(msg, sizeof msg, "pcapng: block at offset %zu: interface 0 was not described (0 in this section)", at);
        read_error(m->b, m->n, PX_EFORMAT, msg);

        m->n = 0;
        shb(m);
        at = isb(m, 0, 0, 1);
        snprintf(msg, sizeof msg, "pcapng: block at offset %zu: interface 0 was not described", at);
        read_error(m->b, m->n, PX_EFORMAT, msg);
    }
    free(m);
}

/* ---------------- pipes, non-blocking ---------------- */

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* One thread, lock-step: after each byte, a record comes out exactly when its
 * last byte is in, and 0 otherwise. */
static void test_pipe_lockstep(void **state)
{
    (void)state;
    img *m = calloc(1, sizeof *m);
    build_pcapng(m, true);
    int p[2];
    assert_int_equal(pipe(p), 0);
    set_nonblock(p[0]);
    px__pcap_reader *r = px__pcap_reader_new(p[0], NULL);
    px__pcap_rec rec;
    size_t got = 0, zeros = 0;
    for (size_t i = 0; i < m->n; i++) {
        assert_int_equal(write(p[1], m->b + i, 1), 1);
        int rc;
        while ((rc = px__pcap_reader_next(r, &rec, NULL)) == 1) {
            assert_true(got < NG_NRECS);
            check_rec(&rec, &NG_EXPECT[got++]);
        }
        assert_int_equal(rc, 0);
        zeros++;
    }
    assert_int_equal(got, NG_NRECS);
    assert_true(zeros >= m->n);
    close(p[1]);
    assert_int_equal(px__pcap_reader_next(r, &rec, NULL), PX_ECLOSED);
    px__pcap_reader_free(r);
    close(p[0]);
    free(m);
}

typedef struct feeder {
    int fd;
    const uint8_t *b;
    size_t n;
} feeder;

static void *feed_bytes(void *arg)
{
    feeder *f = arg;
    for (size_t i = 0; i < f->n; i++) {
        while (write(f->fd, f->b + i, 1) != 1)
            assert_int_equal(errno, EINTR);
        if (i % 8 == 0)
            sched_yield();
    }
    close(f->fd);
    return NULL;
}

/* A writer thread feeds a pcapng stream, then a classic one, one byte at a time;
 * the reader polls its non-blocking end. */
static void test_pipe_writer_thread(void **state)
{
    (void)state;
    img *m = calloc(1, sizeof *m);
    for (int kind = 0; kind < 2; kind++) {
        size_t nexp = NG_NRECS;
        const expect *exp = NG_EXPECT;
        expect pe[2] = {
            {PX__PCAP_REC_FRAME, 0, NULL, 10, 999999000, F1, sizeof F1 - 1, 60, 1, false, 0},
            {PX__PCAP_REC_FRAME, 0, NULL, 11, 1000, F2, sizeof F2 - 1, sizeof F2 - 1, 1, false, 0},
        };
        if (kind == 0) {
            build_pcapng(m, false);
        } else {
            m->n = 0;
            m->be = true;
            pcap_hdr(m, 0xa1b2c3d4, 65535);
            pcap_rec(m, 10, 999999, F1, sizeof F1 - 1, 60);
            pcap_rec(m, 11, 1, F2, sizeof F2 - 1, sizeof F2 - 1);
            exp = pe;
            nexp = 2;
        }
        int p[2];
        assert_int_equal(pipe(p), 0);
        set_nonblock(p[0]);
        px__pcap_reader *r = px__pcap_reader_new(p[0], NULL);
        px__pcap_rec rec;
        char err[PX_ERRBUF_SIZE];
        assert_int_equal(px__pcap_reader_next(r, &rec, err), 0); /* nothing written yet */
        feeder f = {p[1], m->b, m->n};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, feed_bytes, &f), 0);
        size_t got = 0;
        int rc;
        while ((rc = px__pcap_reader_next(r, &rec, err)) >= 0) {
            if (rc == 0) {
                struct pollfd pfd = {.fd = p[0], .events = POLLIN};
                assert_true(poll(&pfd, 1, -1) >= 0);
                continue;
            }
            assert_true(got < nexp);
            check_rec(&rec, &exp[got++]);
        }
        assert_int_equal(rc, PX_ECLOSED);
        assert_int_equal(got, nexp);
        assert_int_equal(pthread_join(t, NULL), 0);
        px__pcap_reader_free(r);
        close(p[0]);
    }
    free(m);
}

/* A blocking pipe cut inside a record: the truncation error, after the records. */
static void test_pipe_truncated(void **state)
{
    (void)state;
    img *m = calloc(1, sizeof *m);
    build_pcapng(m, false);
    int p[2];
    assert_int_equal(pipe(p), 0);
    size_t cut = 500;
    assert_int_equal(write(p[1], m->b, cut), (ssize_t)cut);
    close(p[1]);
    px__pcap_reader *r = px__pcap_reader_new(p[0], NULL);
    px__pcap_rec rec;
    char err[PX_ERRBUF_SIZE];
    int rc, n = 0;
    while ((rc = px__pcap_reader_next(r, &rec, err)) == 1)
        n++;
    assert_int_equal(rc, PX_EFORMAT);
    assert_non_null(strstr(err, "truncated: the stream ended inside a record at offset"));
    assert_true(n > 0);
    px__pcap_reader_free(r);
    close(p[0]);
    free(m);
}

/* ---------------- misc ---------------- */

static void test_read_error_and_bad_fd(void **state)
{
    (void)state;
    char err[PX_ERRBUF_SIZE] = "";
    assert_null(px__pcap_reader_new(-1, err));
    assert_non_null(strstr(err, "bad file descriptor"));
    const char *tmp = getenv("TMPDIR");
    int fd = open(tmp && *tmp ? tmp : "/tmp", O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    px__pcap_reader *r = px__pcap_reader_new(fd, err);
    px__pcap_rec rec;
    assert_int_equal(px__pcap_reader_next(r, &rec, err), PX_EIO);
    assert_non_null(strstr(err, "read error at offset 0: "));
    assert_int_equal(px__pcap_reader_next(r, &rec, NULL), PX_EIO);
    px__pcap_reader_free(r);
    px__pcap_reader_free(NULL);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libpcap_files),
        cmocka_unit_test(test_libpcap_big_frame),
        cmocka_unit_test(test_pcap_byte_orders),
        cmocka_unit_test(test_pcap_errors),
        cmocka_unit_test(test_pcapng_both_orders),
        cmocka_unit_test(test_pcapng_names_outlive_section),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_pcapng_bad_blocks),
        cmocka_unit_test(test_pcapng_unknown_interface),
        cmocka_unit_test(test_pipe_lockstep),
        cmocka_unit_test(test_pipe_writer_thread),
        cmocka_unit_test(test_pipe_truncated),
        cmocka_unit_test(test_read_error_and_bad_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
