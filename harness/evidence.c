/* pktexpect: the evidence recorder (pcapng writer). See include/pktexpect/evidence.h.
 *
 * Block layouts follow the pcapng specification (IETF draft
 * draft-ietf-opsawg-pcapng): every block is
 *   u32 type | u32 total length | body | options | u32 total length
 * with the body and each option value padded to 32 bits. We write in host byte
 * order; the byte-order magic of the Section Header tells readers which one.
 */
#include "pktexpect/evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence_internal.h"
#include "send_internal.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define LINKTYPE_ETHERNET 1u
#define SNAPLEN 262144u

#define OPT_ENDOFOPT 0
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2
#define OPT_IF_TSRESOL 9
#define OPT_EPB_FLAGS 2

/* epb_flags bits 0-1: 01 inbound, 10 outbound. */
#define EPB_FLAG_INBOUND 1u
#define EPB_FLAG_OUTBOUND 2u

/* Longest port name we record (Linux IFNAMSIZ is 16; keep room for others). */
#define MAX_PORT_NAME 64

struct px_evidence {
    pthread_mutex_t lock;
    FILE *fp;
    char **ports;     /* interface id i -> port name (owned) */
    size_t nports;
    size_t cap;
    uint64_t frames;
    bool failed;      /* a write failed: sticky PX_EIO */
    int err;          /* errno of the first failure (0: none seen) */
    const char *what; /* what failed first: "write" (a flush too) or "close" */
};

/* Marks the recorder failed, keeping the first reason. */
static void fail(px_evidence *ev, const char *what, int e)
{
    if (!ev->failed || !ev->err) {
        ev->err = e ? e : EIO;
        ev->what = what;
    }
    ev->failed = true;
}

static size_t pad4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

static void put(px_evidence *ev, const void *p, size_t n)
{
    if (ev->failed || n == 0)
        return;
    errno = 0;
    if (fwrite(p, 1, n, ev->fp) != n)
        fail(ev, "write", errno);
}

static void put32(px_evidence *ev, uint32_t v)
{
    put(ev, &v, sizeof v);
}

static void put_zeros(px_evidence *ev, size_t n)
{
    static const uint8_t zeros[4];
    put(ev, zeros, n);
}

/* One option: code, length, value padded to 32 bits. */
static void put_opt(px_evidence *ev, uint16_t code, const void *val, uint16_t len)
{
    uint16_t hdr[2] = {code, len};
    put(ev, hdr, sizeof hdr);
    put(ev, val, len);
    put_zeros(ev, pad4(len) - len);
}

static size_t opt_size(size_t len)
{
    return 4u + pad4(len);
}

static void write_shb(px_evidence *ev)
{
    static const char appl[] = "pktexpect";
    const size_t appl_len = sizeof appl - 1;
    const uint32_t total = (uint32_t)(4 + 4 + 4 + 2 + 2 + 8 + opt_size(appl_len) + 4 + 4);
    const uint16_t version[2] = {1, 0};
    const int64_t section_len = -1;

    put32(ev, BT_SHB);
    put32(ev, total);
    put32(ev, BYTE_ORDER_MAGIC);
    put(ev, version, sizeof version);
    put(ev, &section_len, sizeof section_len);
    put_opt(ev, OPT_SHB_USERAPPL, appl, (uint16_t)appl_len);
    put_opt(ev, OPT_ENDOFOPT, NULL, 0);
    put32(ev, total);
}

static void write_idb(px_evidence *ev, const char *name, size_t name_len)
{
    const uint8_t tsresol = 9; /* 10^-9 s */
    const uint32_t total = (uint32_t)(4 + 4 + 2 + 2 + 4 + opt_size(name_len) + opt_size(1) + 4 + 4);
    const uint16_t linktype[2] = {LINKTYPE_ETHERNET, 0};

    put32(ev, BT_IDB);
    put32(ev, total);
    put(ev, linktype, sizeof linktype);
    put32(ev, SNAPLEN);
    put_opt(ev, OPT_IF_NAME, name, (uint16_t)name_len);
    put_opt(ev, OPT_IF_TSRESOL, &tsresol, 1);
    put_opt(ev, OPT_ENDOFOPT, NULL, 0);
    put32(ev, total);
}

/* Interface id of `port`, writing its IDB on first use. -1 when out of memory. */
static long iface_id(px_evidence *ev, const char *port, size_t len)
{
    for (size_t i = 0; i < ev->nports; i++)
        if (strcmp(ev->ports[i], port) == 0)
            return (long)i;
    if (ev->nports == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 8;
        char **p = realloc(ev->ports, cap * sizeof *p);
        if (!p)
            return -1;
        ev->ports = p;
        ev->cap = cap;
    }
    char *copy = strdup(port);
    if (!copy)
        return -1;
    ev->ports[ev->nports] = copy;
    write_idb(ev, port, len);
    return (long)ev->nports++;
}

/* Creates (truncates) `path` for writing, close-on-exec from the start (a child
 * exec'd by another thread never inherits it). NULL with errno on failure. */
static FILE *open_cloexec(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return fp;
}

/* Takes `fp` (closed on failure) and writes the Section Header Block. `what`
 * names the file in messages. */
static px_evidence *start(FILE *fp, const char *what, char *errbuf)
{
    px_evidence *ev = calloc(1, sizeof *ev);
    if (!ev) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "evidence: out of memory");
        fclose(fp);
        return NULL;
    }
    ev->fp = fp;
    pthread_mutex_init(&ev->lock, NULL);
    write_shb(ev);
    if (ev->failed) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "evidence: cannot write '%s': %s", what, strerror(ev->err));
        fclose(ev->fp);
        pthread_mutex_destroy(&ev->lock);
        free(ev);
        return NULL;
    }
    return ev;
}

px_evidence *px_evidence_open(const char *path, char *errbuf)
{
    if (!path || !*path) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "evidence: no file name given");
        return NULL;
    }
    FILE *fp = open_cloexec(path);
    if (!fp) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "evidence: cannot create '%s': %s", path, strerror(errno));
        return NULL;
    }
    return start(fp, path, errbuf);
}

px_evidence *px_evidence_open_fd(int fd, char *errbuf)
{
    if (fd < 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "evidence: invalid file descriptor");
        return NULL;
    }
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "evidence: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    return start(fp, "descriptor", errbuf);
}

/* Writes one Enhanced Packet Block: the fixed header in one piece, the data, then
 * padding, options and trailer in one piece. Caller holds ev->lock; `id` is the
 * interface id from iface_id. */
static void write_epb(px_evidence *ev, uint32_t id, uint64_t t, uint32_t flags, const uint8_t *data,
                      uint32_t caplen, uint32_t wirelen)
{
    const uint32_t total = (uint32_t)(4 + 4 + 4 + 4 + 4 + 4 + 4 + pad4(caplen) + opt_size(4) + 4 + 4);
    const uint32_t head[7] = {BT_EPB, total, id, (uint32_t)(t >> 32), (uint32_t)t, caplen, wirelen};
    /* padding (0..3 zero bytes), epb_flags option (code 2, length 4, value),
     * end of options, total length */
    uint8_t tail[3 + 4 + 4 + 4 + 4];
    size_t padn = pad4(caplen) - caplen;
    const uint16_t opt_hdr[2] = {OPT_EPB_FLAGS, 4};
    const uint16_t end_hdr[2] = {OPT_ENDOFOPT, 0};
    memset(tail, 0, padn);
    memcpy(tail + padn, opt_hdr, 4);
    memcpy(tail + padn + 4, &flags, 4);
    memcpy(tail + padn + 8, end_hdr, 4);
    memcpy(tail + padn + 12, &total, 4);
    put(ev, head, sizeof head);
    put(ev, data, caplen);
    put(ev, tail, padn + 16);
}

/* Checks the common arguments of a write; the name's length in *name_len. */
static int check_write(px_evidence *ev, const char *port, size_t *name_len)
{
    if (!ev || !port)
        return PX_EINVAL;
    *name_len = strnlen(port, MAX_PORT_NAME + 1);
    return *name_len == 0 || *name_len > MAX_PORT_NAME ? PX_EINVAL : 0;
}

/* Nanoseconds since the epoch of `ts` (NULL: now); negative times are clamped to 0. */
static uint64_t ts_ns(const struct timespec *ts)
{
    struct timespec now;
    if (!ts) {
        clock_gettime(CLOCK_REALTIME, &now);
        ts = &now;
    }
    return ts->tv_sec < 0 ? 0 : (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

int px_evidence_write(px_evidence *ev, const char *port, px_direction dir, const struct timespec *ts,
                      const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    size_t name_len;
    if (check_write(ev, port, &name_len) < 0 || !data || caplen == 0 || caplen > SNAPLEN)
        return PX_EINVAL;
    if (wirelen < caplen)
        wirelen = caplen;
    const uint64_t t = ts_ns(ts);
    const uint32_t flags = dir == PX_DIR_OUT ? EPB_FLAG_OUTBOUND : EPB_FLAG_INBOUND;

    int rc = 0;
    pthread_mutex_lock(&ev->lock);
    long id = iface_id(ev, port, name_len);
    if (id < 0) {
        rc = PX_ENOMEM;
    } else {
        write_epb(ev, (uint32_t)id, t, flags, data, caplen, wirelen);
        if (ev->failed)
            rc = PX_EIO;
        else
            ev->frames++;
    }
    pthread_mutex_unlock(&ev->lock);
    return rc;
}

int px__evidence_write_out(px_evidence *ev, const char *port, const struct timespec *ts, const struct iovec *iov,
                           size_t n)
{
    size_t name_len;
    if (check_write(ev, port, &name_len) < 0 || (!iov && n > 0))
        return PX_EINVAL;
    const uint64_t t = ts_ns(ts);
    int rc = 0;
    pthread_mutex_lock(&ev->lock);
    long id = iface_id(ev, port, name_len);
    for (size_t i = 0; i < n && id >= 0; i++) {
        uint32_t len = (uint32_t)iov[i].iov_len;
        if (len == 0 || iov[i].iov_len > SNAPLEN) {
            if (rc == 0)
                rc = PX_EINVAL;
            continue;
        }
        write_epb(ev, (uint32_t)id, t, EPB_FLAG_OUTBOUND, iov[i].iov_base, len, len);
        if (!ev->failed)
            ev->frames++;
    }
    if (id < 0)
        rc = PX_ENOMEM;
    else if (ev->failed)
        rc = PX_EIO;
    pthread_mutex_unlock(&ev->lock);
    return rc;
}

int px__evidence_write_frame(px_evidence *ev, const char *port, px_direction dir, const px_frame *f)
{
    if (!f)
        return PX_EINVAL;
    return px_evidence_write(ev, port ? port : f->port, dir, &f->ts, f->data, f->caplen, f->wirelen);
}

int px_evidence_flush(px_evidence *ev)
{
    if (!ev)
        return PX_EINVAL;
    pthread_mutex_lock(&ev->lock);
    if (!ev->failed && fflush(ev->fp) != 0)
        fail(ev, "write", errno);
    int rc = ev->failed ? PX_EIO : 0;
    pthread_mutex_unlock(&ev->lock);
    return rc;
}

uint64_t px_evidence_frames(px_evidence *ev)
{
    if (!ev)
        return 0;
    pthread_mutex_lock(&ev->lock);
    uint64_t n = ev->frames;
    pthread_mutex_unlock(&ev->lock);
    return n;
}

int px_evidence_close(px_evidence *ev)
{
    return px_evidence_close_err(ev, NULL);
}

int px_evidence_close_err(px_evidence *ev, char *errbuf)
{
    if (!ev)
        return 0;
    /* fclose flushes first: with a full disk the buffered blocks fail here, so
     * its errno is the reason when no earlier write failed. */
    if (!ev->failed && fflush(ev->fp) != 0)
        fail(ev, "write", errno);
    if (fclose(ev->fp) != 0)
        fail(ev, "close", errno);
    bool failed = ev->failed;
    if (failed && errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "%s failed: %s", ev->what, strerror(ev->err));
    for (size_t i = 0; i < ev->nports; i++)
        free(ev->ports[i]);
    free(ev->ports);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
    return failed ? PX_EIO : 0;
}
