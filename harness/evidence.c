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
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

static size_t pad4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

static void put(px_evidence *ev, const void *p, size_t n)
{
    if (ev->failed || n == 0)
        return;
    if (fwrite(p, 1, n, ev->fp) != n)
        ev->failed = true;
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

px_evidence *px_evidence_open(const char *path, char *errbuf)
{
    if (!path || !*path) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "evidence: no file name given");
        return NULL;
    }
    px_evidence *ev = calloc(1, sizeof *ev);
    if (!ev) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "evidence: out of memory");
        return NULL;
    }
    ev->fp = fopen(path, "wb");
    if (!ev->fp) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "evidence: cannot create '%s': %s", path, strerror(errno));
        free(ev);
        return NULL;
    }
    pthread_mutex_init(&ev->lock, NULL);
    write_shb(ev);
    if (ev->failed) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "evidence: cannot write '%s': %s", path, strerror(errno));
        fclose(ev->fp);
        pthread_mutex_destroy(&ev->lock);
        free(ev);
        return NULL;
    }
    return ev;
}

int px_evidence_write(px_evidence *ev, const char *port, px_direction dir, const struct timespec *ts,
                      const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    if (!ev || !port || !data || caplen == 0)
        return PX_EINVAL;
    size_t name_len = strnlen(port, MAX_PORT_NAME + 1);
    if (name_len == 0 || name_len > MAX_PORT_NAME || caplen > SNAPLEN)
        return PX_EINVAL;
    if (wirelen < caplen)
        wirelen = caplen;

    struct timespec now;
    if (!ts) {
        clock_gettime(CLOCK_REALTIME, &now);
        ts = &now;
    }
    /* Nanoseconds since the epoch; negative times are clamped to 0. */
    uint64_t t = ts->tv_sec < 0 ? 0 : (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
    const uint32_t flags = dir == PX_DIR_OUT ? EPB_FLAG_OUTBOUND : EPB_FLAG_INBOUND;
    const uint32_t total = (uint32_t)(4 + 4 + 4 + 4 + 4 + 4 + 4 + pad4(caplen) + opt_size(4) + 4 + 4);

    int rc = 0;
    pthread_mutex_lock(&ev->lock);
    long id = iface_id(ev, port, name_len);
    if (id < 0) {
        rc = PX_ENOMEM;
    } else {
        put32(ev, BT_EPB);
        put32(ev, total);
        put32(ev, (uint32_t)id);
        put32(ev, (uint32_t)(t >> 32));
        put32(ev, (uint32_t)t);
        put32(ev, caplen);
        put32(ev, wirelen);
        put(ev, data, caplen);
        put_zeros(ev, pad4(caplen) - caplen);
        put_opt(ev, OPT_EPB_FLAGS, &flags, 4);
        put_opt(ev, OPT_ENDOFOPT, NULL, 0);
        put32(ev, total);
        if (ev->failed)
            rc = PX_EIO;
        else
            ev->frames++;
    }
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
        ev->failed = true;
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
    if (!ev)
        return 0;
    bool failed = ev->failed;
    if (fclose(ev->fp) != 0)
        failed = true;
    for (size_t i = 0; i < ev->nports; i++)
        free(ev->ports[i]);
    free(ev->ports);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
    return failed ? PX_EIO : 0;
}
