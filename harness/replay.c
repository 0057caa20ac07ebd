/* pktexpect: replay of pcap / pcapng files (px_replay, see include/pktexpect/send.h).
 *
 * Reading: libpcap (pcap_open_offline reads pcap and pcapng) unless a port map is
 * given for a pcapng file: libpcap does not tell which interface a pcapng frame
 * belongs to, so that case uses the small pcapng reader below (Section Header,
 * Interface Description, Enhanced and Simple Packet Blocks; other blocks skipped;
 * both byte orders; every length checked against the block before it is used).
 *
 * Sending: frames go out in sendmmsg batches of consecutive frames for the same
 * port. With a speed, frame i is due at start + (ts_i - ts_0) / speed and the
 * thread sleeps to that absolute time, like px_send_paced; the sleeps, and the
 * reads of a pipe or FIFO, are cut short by the context's cancel descriptor
 * (pace.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pace.h"
#include "pktexpect/error.h"
#include "send_internal.h"

#define REPLAY_BATCH 256
/* Largest pcapng block we accept (a 256 KiB frame plus headers fits easily). */
#define MAX_BLOCK (1u << 20)
#define MAX_IFACES 1024

/* ---------------- reading ---------------- */

typedef struct rec {
    const uint8_t *data;
    uint32_t caplen, len;
    uint64_t ts_ns;
    uint32_t ifid;
} rec;

typedef struct ng_iface {
    uint16_t linktype;
    uint64_t units; /* timestamp units per second */
} ng_iface;

typedef struct reader {
    const char *path;
    pcap_t *pcap;          /* libpcap reader, or */
    FILE *fp;              /* own pcapng reader */
    bool swapped;
    uint8_t *blk;
    ng_iface *ifaces;
    size_t nifaces;
    uint64_t nblocks;
} reader;

static uint16_t ng16(const reader *r, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return r->swapped ? __builtin_bswap16(v) : v;
}

static uint32_t ng32(const reader *r, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return r->swapped ? __builtin_bswap32(v) : v;
}

/* "replay 'path': <message>" into errbuf; returns PX_EFORMAT. */
__attribute__((format(printf, 3, 4))) static int fmt_err(char *errbuf, const char *path, const char *fmt, ...)
{
    if (errbuf) {
        int n = snprintf(errbuf, PX_ERRBUF_SIZE, "replay '%s': ", path);
        if (n > 0 && n < PX_ERRBUF_SIZE) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(errbuf + n, (size_t)(PX_ERRBUF_SIZE - n), fmt, ap);
            va_end(ap);
        }
    }
    return PX_EFORMAT;
}

static uint64_t to_ns(uint64_t ts, uint64_t units)
{
    if (units == 1000000000u)
        return ts;
    uint64_t sec = ts / units, rem = ts % units;
    if (units <= 1000000000u)
        return sec * 1000000000u + rem * 1000000000u / units;
    return sec * 1000000000u + (uint64_t)((double)rem * 1e9 / (double)units);
}

/* Interface options: if_tsresol (9) decides the timestamp unit. */
static void ng_parse_idb_opts(const reader *r, const uint8_t *p, size_t n, ng_iface *ifc)
{
    ifc->units = 1000000; /* default: microseconds */
    size_t off = 0;
    while (n - off >= 4) {
        uint16_t code = ng16(r, p + off), len = ng16(r, p + off + 2);
        off += 4;
        size_t padded = ((size_t)len + 3u) & ~(size_t)3u;
        if (code == 0 || padded > n - off)
            return;
        if (code == 9 && len == 1) {
            uint8_t v = p[off];
            uint8_t e = v & 0x7f;
            if (v & 0x80)
                ifc->units = e < 64 ? (uint64_t)1 << e : 0;
            else {
                uint64_t u = 1;
                for (uint8_t i = 0; i < e && u <= UINT64_MAX / 10; i++)
                    u *= 10;
                ifc->units = e <= 19 ? u : 0;
            }
            if (ifc->units == 0)
                ifc->units = 1000000;
        }
        off += padded;
    }
}

/* Next frame of the own pcapng reader: 1, 0 at the end, or a negative PX_E*. */
static int ng_next(reader *r, rec *out, char *errbuf)
{
    for (;;) {
        uint8_t hdr[12];
        size_t got = fread(hdr, 1, 8, r->fp);
        if (got == 0 && feof(r->fp))
            return 0;
        if (got != 8)
            return fmt_err(errbuf, r->path, "truncated file: %s", "a block header is cut short");
        uint32_t type;
        memcpy(&type, hdr, 4);
        if (type == 0x0A0D0D0Au) {
            /* Section Header: the byte-order magic decides how to read the rest. */
            if (fread(hdr + 8, 1, 4, r->fp) != 4)
                return fmt_err(errbuf, r->path, "truncated file: %s", "a section header is cut short");
            uint32_t magic;
            memcpy(&magic, hdr + 8, 4);
            if (magic == 0x1A2B3C4Du)
                r->swapped = false;
            else if (magic == 0x4D3C2B1Au)
                r->swapped = true;
            else
                return fmt_err(errbuf, r->path, "%s", "bad pcapng byte-order magic");
            r->nifaces = 0; /* interface ids are per section */
        } else if (r->nblocks == 0) {
            return fmt_err(errbuf, r->path, "%s", "not a pcapng file (no Section Header Block first)");
        }
        uint32_t blen = ng32(r, hdr + 4);
        if (blen < 12 || blen % 4 != 0 || blen > MAX_BLOCK || (type == 0x0A0D0D0Au && blen < 28))
            return fmt_err(errbuf, r->path, "%s", "corrupt block length");
        size_t have = type == 0x0A0D0D0Au ? 12 : 8;
        memcpy(r->blk, hdr, have);
        if (fread(r->blk + have, 1, blen - have, r->fp) != blen - have)
            return fmt_err(errbuf, r->path, "truncated file: %s", "the last block is cut short");
        r->nblocks++;
        if (ng32(r, r->blk + blen - 4) != blen)
            return fmt_err(errbuf, r->path, "%s", "corrupt block (trailing length differs)");
        type = ng32(r, r->blk);
        const uint8_t *body = r->blk + 8;
        size_t body_len = blen - 12;

        if (type == 1) { /* Interface Description */
            if (body_len < 8)
                return fmt_err(errbuf, r->path, "%s", "corrupt interface description block");
            if (r->nifaces >= MAX_IFACES)
                return fmt_err(errbuf, r->path, "%s", "more than 1024 interfaces");
            ng_iface *ifc = &r->ifaces[r->nifaces++];
            ifc->linktype = ng16(r, body);
            ng_parse_idb_opts(r, body + 8, body_len - 8, ifc);
        } else if (type == 6) { /* Enhanced Packet */
            if (body_len < 20)
                return fmt_err(errbuf, r->path, "%s", "corrupt enhanced packet block");
            uint32_t ifid = ng32(r, body);
            uint32_t caplen = ng32(r, body + 12);
            if (ifid >= r->nifaces)
                return fmt_err(errbuf, r->path, "%s", "a frame names an undeclared interface");
            if (caplen > body_len - 20)
                return fmt_err(errbuf, r->path, "%s", "corrupt enhanced packet block (capture length)");
            if (r->ifaces[ifid].linktype != DLT_EN10MB) {
                return fmt_err(errbuf, r->path,
                               "interface link type %u is not Ethernet: only Ethernet frames can be replayed",
                               r->ifaces[ifid].linktype);
            }
            uint64_t ts = (uint64_t)ng32(r, body + 4) << 32 | ng32(r, body + 8);
            out->ifid = ifid;
            out->ts_ns = to_ns(ts, r->ifaces[ifid].units);
            out->caplen = caplen;
            out->len = ng32(r, body + 16);
            out->data = body + 20;
            return 1;
        } else if (type == 3) { /* Simple Packet: interface 0, no timestamp */
            if (body_len < 4 || r->nifaces == 0)
                return fmt_err(errbuf, r->path, "%s", "corrupt simple packet block");
            if (r->ifaces[0].linktype != DLT_EN10MB)
                return fmt_err(errbuf, r->path, "%s", "interface 0 is not Ethernet");
            uint32_t len = ng32(r, body);
            out->ifid = 0;
            out->ts_ns = 0;
            out->len = len;
            out->caplen = len < body_len - 4 ? len : (uint32_t)(body_len - 4);
            out->data = body + 4;
            return 1;
        }
        /* anything else (statistics, name resolution, custom): skipped */
    }
}

/* A pipe or FIFO is read through a stdio cookie whose reads wait in poll(2) with
 * the context's cancel descriptor (px__read_fd), so a writer that never writes
 * (or never opens the FIFO) cannot hold the replay past a cancel. */
typedef struct fifo_cookie {
    px_ctx *ctx;
    int fd;
} fifo_cookie;

static ssize_t fifo_read(void *c, char *buf, size_t len)
{
    fifo_cookie *fc = c;
    return px__read_fd(fc->ctx, fc->fd, buf, len);
}

static int fifo_close(void *c)
{
    fifo_cookie *fc = c;
    int rc = close(fc->fd);
    free(fc);
    return rc;
}

/* Opens `path` for reading: a regular file as usual; a FIFO (opened non-blocking,
 * so that opening does not wait for a writer) or another non-seekable file through
 * the cancellable cookie. NULL with errno on failure. */
static FILE *open_input(px_ctx *ctx, const char *path)
{
    /* "e" / O_CLOEXEC: close-on-exec, as every descriptor of the library */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        FILE *fp = fdopen(fd, "rb");
        if (!fp)
            close(fd);
        return fp;
    }
    fifo_cookie *fc = malloc(sizeof *fc);
    if (!fc) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    *fc = (fifo_cookie){ctx, fd};
    cookie_io_functions_t io = {.read = fifo_read, .close = fifo_close};
    FILE *fp = fopencookie(fc, "rb", io);
    if (!fp) {
        close(fd);
        free(fc);
    }
    return fp;
}

static int cancelled(char *errbuf, const char *path)
{
    if (errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "replay '%s': cancelled while waiting for the file's data", path);
    return PX_ECANCELED;
}

static int reader_open(px_ctx *ctx, reader *r, const char *path, bool need_ifid, char *errbuf)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    FILE *fp = open_input(ctx, path);
    if (!fp) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "replay: cannot open '%s': %s", path, strerror(errno));
        return PX_EIO;
    }
    /* Only a port map needs to know the format first (a pipe cannot be rewound:
     * it is read by libpcap, which tells pcap from pcapng itself). */
    if (need_ifid) {
        uint32_t magic = 0;
        size_t got = fread(&magic, 1, 4, fp);
        if (fseek(fp, 0, SEEK_SET) != 0) {
            fclose(fp);
            if (px__cancelled(ctx))
                return cancelled(errbuf, path);
            return fmt_err(errbuf, path, "%s", "a replay with a port map needs a regular file, not a pipe");
        }
        if (got == 4 && magic == 0x0A0D0D0Au) {
            r->fp = fp;
            r->blk = malloc(MAX_BLOCK);
            r->ifaces = calloc(MAX_IFACES, sizeof *r->ifaces);
            if (!r->blk || !r->ifaces) {
                if (errbuf)
                    snprintf(errbuf, PX_ERRBUF_SIZE, "replay: out of memory");
                return PX_ENOMEM;
            }
            return 0;
        }
    }
    /* libpcap reads the file through our stream (pcap_open_offline would fopen it
     * without close-on-exec); pcap_close closes it, a failed open leaves it to us. */
    char perr[PCAP_ERRBUF_SIZE];
    r->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!r->pcap) {
        fclose(fp);
        if (px__cancelled(ctx))
            return cancelled(errbuf, path);
        return fmt_err(errbuf, path, "not a pcap or pcapng file that libpcap reads: %s", perr);
    }
    int dlt = pcap_datalink(r->pcap);
    if (dlt != DLT_EN10MB) {
        const char *name = pcap_datalink_val_to_name(dlt);
        return fmt_err(errbuf, path, "link type %s (%d) is not Ethernet: only Ethernet frames can be replayed",
                       name ? name : "unknown", dlt);
    }
    return 0;
}

static int reader_next(reader *r, rec *out, char *errbuf)
{
    if (r->fp)
        return ng_next(r, out, errbuf);
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(r->pcap, &h, &data);
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    if (rc != 1)
        return fmt_err(errbuf, r->path, "damaged file: %s", pcap_geterr(r->pcap));
    out->data = data;
    out->caplen = h->caplen;
    out->len = h->len;
    out->ifid = 0;
    /* with PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds */
    out->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
    return 1;
}

static void reader_close(reader *r)
{
    if (r->pcap)
        pcap_close(r->pcap);
    if (r->fp)
        fclose(r->fp);
    free(r->blk);
    free(r->ifaces);
}

/* ---------------- sending ---------------- */

typedef struct pending {
    const char *port;       /* port of the frames in the batch, NULL = empty */
    uint8_t *arena;
    size_t arena_len, arena_cap;
    size_t off[REPLAY_BATCH];
    size_t len[REPLAY_BATCH];
    size_t n;
    uint64_t first_index;   /* index in the file of the batch's first frame */
} pending;

static int flush(px_ctx *ctx, const char *path, pending *p, px_replay_report *rep, char *errbuf)
{
    if (p->n == 0)
        return 0;
    char inner[PX_ERRBUF_SIZE] = "";
    px__txport *tp;
    uint32_t mtu;
    int rc = px__tx_resolve(ctx, p->port, &tp, &mtu, inner);
    size_t done = 0; /* frames sent; on an error, the index in the batch of the frame at fault */
    /* Check frame by frame first, so that an error names the frame in the file. */
    for (size_t i = 0; rc == 0 && i < p->n; i++) {
        rc = px__tx_check(p->port, mtu, p->arena + p->off[i], p->len[i], NULL, SIZE_MAX, inner);
        if (rc < 0)
            done = i;
    }
    if (rc == 0) {
        px_tx_frame fr[REPLAY_BATCH];
        for (size_t i = 0; i < p->n; i++)
            fr[i] = (px_tx_frame){p->arena + p->off[i], p->len[i]};
        rc = px__tx_burst(ctx, tp, mtu, fr, p->n, NULL, 0, &done, inner);
        for (size_t i = 0; i < done; i++)
            rep->bytes += p->len[i];
        rep->sent += done;
    }
    if (rc < 0 && errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "replay '%s', frame %llu of the file: %s", path,
                 (unsigned long long)(p->first_index + done), inner);
    p->n = 0;
    p->arena_len = 0;
    return rc;
}

static int append(pending *p, const char *port, const rec *r, uint64_t index)
{
    if (p->arena_len + r->caplen > p->arena_cap) {
        size_t cap = p->arena_cap ? p->arena_cap : 65536;
        while (cap < p->arena_len + r->caplen)
            cap *= 2;
        uint8_t *a = realloc(p->arena, cap);
        if (!a)
            return PX_ENOMEM;
        p->arena = a;
        p->arena_cap = cap;
    }
    if (p->n == 0) {
        p->first_index = index;
        p->port = port;
    }
    memcpy(p->arena + p->arena_len, r->data, r->caplen);
    p->off[p->n] = p->arena_len;
    p->len[p->n] = r->caplen;
    p->arena_len += r->caplen;
    p->n++;
    return 0;
}

int px_replay(px_ctx *ctx, const char *port, const char *path, const px_replay_opts *opts,
              px_replay_report *report, char *errbuf)
{
    px_replay_report rep;
    memset(&rep, 0, sizeof rep);
    if (report)
        *report = rep;
    px_replay_opts o;
    memset(&o, 0, sizeof o);
    if (opts)
        o = *opts;
    if (!ctx || !path || (!port && !o.port_map)) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "replay: give a context, a file and a port (or a port map)");
        return PX_EINVAL;
    }
    if (!(o.speed >= 0) || !isfinite(o.speed)) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "replay: speed must be finite and >= 0 (0 = as fast as possible)");
        return PX_EINVAL;
    }
    if (o.speed > 0 && (o.speed < PX_REPLAY_SPEED_MIN || o.speed > PX_REPLAY_SPEED_MAX)) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "replay: speed out of range: give %g to %g (0 = as fast as possible)",
                     PX_REPLAY_SPEED_MIN, PX_REPLAY_SPEED_MAX);
        return PX_ERANGE;
    }
    reader r;
    int rc = reader_open(ctx, &r, path, o.port_map != NULL, errbuf);
    if (rc < 0) {
        reader_close(&r);
        return rc;
    }
    pending *p = calloc(1, sizeof *p);
    if (!p) {
        reader_close(&r);
        return PX_ENOMEM;
    }
    const uint64_t t0 = px__now_ns(CLOCK_MONOTONIC);
    uint64_t ts_first = 0;
    uint64_t index = 0;
    for (;; index++) {
        if (o.limit && rep.sent + p->n >= o.limit)
            break;
        rec fr = {.data = NULL};
        if ((index & 255) == 0 && px__cancelled(ctx)) { /* one poll(2) per batch, not per frame */
            rc = PX_ECANCELED;
            break;
        }
        rc = reader_next(&r, &fr, errbuf);
        if (rc < 0 && px__cancelled(ctx))
            rc = PX_ECANCELED; /* a read of a pipe was cut short */
        if (rc <= 0)
            break;
        const char *dst = port;
        if (o.port_map) {
            if (fr.ifid >= o.nport_map) {
                if (errbuf)
                    snprintf(errbuf, PX_ERRBUF_SIZE,
                             "replay '%s': frame %llu is on the file's interface %u but the port map has %zu entries",
                             path, (unsigned long long)index, fr.ifid, o.nport_map);
                rc = PX_EINVAL;
                break;
            }
            dst = o.port_map[fr.ifid];
            if (!dst) {
                rep.skipped++;
                continue;
            }
        }
        if (fr.caplen == 0) {
            if (errbuf)
                snprintf(errbuf, PX_ERRBUF_SIZE, "replay '%s': frame %llu of the file is empty", path,
                         (unsigned long long)index);
            rc = PX_EFORMAT;
            break;
        }
        if (fr.caplen < fr.len)
            rep.snapped++;
        if (o.speed > 0) {
            if (rep.sent + p->n == 0)
                ts_first = fr.ts_ns;
            uint64_t gap = fr.ts_ns > ts_first ? fr.ts_ns - ts_first : 0;
            uint64_t due = px__time_add(t0, (double)gap / o.speed);
            if (due > px__now_ns(CLOCK_MONOTONIC)) {
                rc = flush(ctx, path, p, &rep, errbuf);
                if (rc < 0)
                    break;
                if ((rc = px__sleep_until(ctx, due)) < 0)
                    break;
            }
        }
        if (p->n == REPLAY_BATCH || (p->n && strcmp(p->port, dst) != 0)) {
            rc = flush(ctx, path, p, &rep, errbuf);
            if (rc < 0)
                break;
        }
        rc = append(p, dst, &fr, index);
        if (rc < 0) {
            if (errbuf)
                snprintf(errbuf, PX_ERRBUF_SIZE, "replay: out of memory");
            break;
        }
    }
    /* Frames read before an error in the file still go out, then the error is told. */
    char ferr[PX_ERRBUF_SIZE] = "";
    int frc = rc == PX_ECANCELED ? 0 : flush(ctx, path, p, &rep, ferr);
    if (rc == PX_ECANCELED && errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "replay '%s': cancelled after %llu frames", path,
                 (unsigned long long)rep.sent);
    if (frc < 0 && rc >= 0) {
        rc = frc;
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "%s", ferr);
    }
    rep.elapsed_ns = px__now_ns(CLOCK_MONOTONIC) - t0;
    free(p->arena);
    free(p);
    reader_close(&r);
    if (report)
        *report = rep;
    return rc < 0 ? rc : 0;
}
