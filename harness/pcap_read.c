/* pktexpect: incremental pcap / pcapng reader (see pcap_read.h).
 *
 * Bytes are buffered in buf[start, end); buf[start] is at stream offset `off`,
 * always the start of the record (or block) being parsed. fill() makes n bytes
 * available from `start` or says why it cannot; a parser asks for the fixed
 * header first, checks the length it finds there against the limits, then asks
 * for the whole record, so nothing is read past what fill() made available.
 * Lengths are compared as "n > avail - used" after checking used <= avail, so no
 * sum can overflow (the tcpdump way).
 */
#include "pcap_read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Malformed input. PX_EFORMAT ("unsupported or malformed file") would fit as well. */
#define BAD PX_EFORMAT

#define MAX_CAPLEN (256u * 1024u)   /* classic pcap record payload */
#define MAX_BLOCK (16u << 20)       /* pcapng block, and so the buffer */
#define MIN_BUF (64u * 1024u)
#define MAX_IFACES 65536u
#define MAX_NAMES 4096u

#define PCAP_US 0xa1b2c3d4u
#define PCAP_NS 0xa1b23c4du
#define NG_SHB 0x0A0D0D0Au
#define NG_BOM 0x1A2B3C4Du

_Static_assert(sizeof(time_t) >= 8, "timestamps need a 64-bit time_t");

enum fmt { FMT_NONE, FMT_PCAP, FMT_PCAP_NS, FMT_PCAPNG };

typedef struct iface {
    uint32_t linktype, snaplen;
    uint64_t units;    /* timestamp units per second (if_tsresol) */
    int64_t tsoffset;  /* seconds (if_tsoffset) */
    const char *name;  /* interned, or NULL */
} iface;

typedef struct name {  /* interned interface name: lives until the reader is freed */
    struct name *next;
    char s[];
} name;

struct px__pcap_reader {
    int fd;
    enum fmt fmt;
    bool swap, eof;
    int err;                    /* sticky: 0, PX_ECLOSED or an error */
    uint8_t *buf;
    size_t cap, start, end;
    uint64_t off;               /* stream offset of buf[start] */
    uint32_t snaplen, linktype; /* classic pcap */
    iface *ifs;                 /* pcapng: interfaces of the current section */
    size_t nifs, capifs;
    name *names;
    unsigned nnames;
    struct timespec last_ts;
    char msg[PX_ERRBUF_SIZE];
};

/* Records the sticky error `code` and its message, prefixed with "<what> at offset N: "
 * when `what` is given; copies the message into errbuf. Returns code. */
__attribute__((format(printf, 5, 6))) static int fail(px__pcap_reader *r, char *errbuf, int code, const char *what,
                                                      const char *fmt, ...)
{
    int k = what ? snprintf(r->msg, sizeof r->msg, "%s at offset %" PRIu64 ": ", what, r->off) : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg + k, sizeof r->msg - (size_t)k, fmt, ap);
    va_end(ap);
    r->err = code;
    if (errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "%s", r->msg);
    return code;
}
#define NG_BAD(...) fail(r, errbuf, BAD, "pcapng: block", __VA_ARGS__)

/* rd16, rd32, rd64: an integer of the file at p, in host order. */
#define RD(bits)                                                                 \
    static uint##bits##_t rd##bits(const px__pcap_reader *r, const uint8_t *p)   \
    {                                                                            \
        uint##bits##_t v;                                                        \
        memcpy(&v, p, sizeof v);                                                 \
        return r->swap ? __builtin_bswap##bits(v) : v;                           \
    }
RD(16)
RD(32)
RD(64)

/* Makes n (<= MAX_BLOCK) bytes available at buf + start. 1: they are; 0: the fd has
 * no more now; PX_ECLOSED at a clean end; another negative code on an error. */
static int fill(px__pcap_reader *r, size_t n, char *errbuf)
{
    while (r->end - r->start < n) {
        if (r->eof) {
            size_t have = r->end - r->start;
            if (have == 0 && r->fmt != FMT_NONE)
                return r->err = PX_ECLOSED;
            return fail(r, errbuf, BAD, NULL, "truncated: the stream ended inside %s at offset %" PRIu64
                        " (%zu bytes of it arrived)", r->fmt == FMT_NONE ? "the file header" : "a record",
                        r->off, have);
        }
        if (r->end == r->cap) {
            if (r->start > 0) { /* slide the partial record to the front */
                memmove(r->buf, r->buf + r->start, r->end - r->start);
                r->end -= r->start;
                r->start = 0;
            } else {
                size_t ncap = r->cap < MIN_BUF ? MIN_BUF : r->cap * 2;
                if (ncap > MAX_BLOCK)
                    ncap = MAX_BLOCK;
                uint8_t *nb = realloc(r->buf, ncap);
                if (!nb)
                    return fail(r, errbuf, PX_ENOMEM, NULL, "out of memory for a %zu-byte read buffer", ncap);
                r->buf = nb;
                r->cap = ncap;
            }
        }
        ssize_t k = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (k > 0)
            r->end += (size_t)k;
        else if (k == 0)
            r->eof = true;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        else if (errno != EINTR)
            return fail(r, errbuf, PX_EIO, NULL, "read error at offset %" PRIu64 ": %s",
                        r->off + (r->end - r->start), strerror(errno));
    }
    return 1;
}

/* Raw timestamp in `units` per second, plus `offset` seconds, into *ts. */
static int to_timespec(uint64_t raw, uint64_t units, int64_t offset, struct timespec *ts)
{
    uint64_t sec = raw / units, frac = raw % units;
    __extension__ typedef unsigned __int128 u128;
    if (sec > (uint64_t)INT64_MAX)
        return -1;
    int64_t s;
    if (__builtin_add_overflow((int64_t)sec, offset, &s))
        return -1;
    ts->tv_sec = (time_t)s;
    ts->tv_nsec = (long)((u128)frac * 1000000000u / units);
    return 0;
}

/* ---------------- classic pcap ---------------- */

static int pcap_header(px__pcap_reader *r, uint32_t magic, char *errbuf)
{
    int rc = fill(r, 24, errbuf);
    if (rc != 1)
        return rc;
    const uint8_t *p = r->buf + r->start;
    r->swap = magic == __builtin_bswap32(PCAP_US) || magic == __builtin_bswap32(PCAP_NS);
    uint16_t major = rd16(r, p + 4), minor = rd16(r, p + 6);
    if (major != 2)
        return fail(r, errbuf, BAD, "pcap: file header", "version %u.%u is not 2.x", major, minor);
    r->snaplen = rd32(r, p + 16);
    r->linktype = rd32(r, p + 20) & 0xffffu; /* the upper bits carry FCS information */
    r->fmt = (rd32(r, p) == PCAP_NS) ? FMT_PCAP_NS : FMT_PCAP;
    r->start += 24;
    r->off += 24;
    return 1;
}

static int pcap_record(px__pcap_reader *r, px__pcap_rec *rec, char *errbuf)
{
    int rc = fill(r, 16, errbuf);
    if (rc != 1)
        return rc;
    const uint8_t *p = r->buf + r->start;
    uint32_t caplen = rd32(r, p + 8);
    uint32_t limit = r->snaplen != 0 && r->snaplen < MAX_CAPLEN ? r->snaplen : MAX_CAPLEN;
    if (caplen > limit)
        return fail(r, errbuf, BAD, "pcap: record", "caplen %" PRIu32 " exceeds the %s %" PRIu32,
                    caplen, limit == r->snaplen ? "snaplen" : "limit of", limit);
    if ((rc = fill(r, 16 + (size_t)caplen, errbuf)) != 1)
        return rc;
    p = r->buf + r->start;
    uint64_t units = r->fmt == FMT_PCAP_NS ? 1000000000u : 1000000u;
    uint32_t frac = rd32(r, p + 4);
    to_timespec((uint64_t)rd32(r, p) * units + frac, units, 0, &rec->ts); /* cannot fail */
    rec->type = PX__PCAP_REC_FRAME;
    rec->linktype = r->linktype;
    rec->caplen = caplen;
    rec->wirelen = rd32(r, p + 12);
    rec->data = p + 16;
    r->start += 16 + (size_t)caplen;
    r->off += 16 + (uint64_t)caplen;
    return 1;
}

/* ---------------- pcapng ---------------- */

/* Next option of the list p[0, n) from *i: 1 with code, value and length; 0 at
 * opt_endofopt or the end; negative when the option runs past the block. */
static int next_opt(px__pcap_reader *r, const uint8_t *p, size_t n, size_t *i, uint16_t *code,
                    const uint8_t **v, uint16_t *len, char *errbuf)
{
    if (*i > n || n - *i < 4 || (*code = rd16(r, p + *i)) == 0)
        return 0;
    *len = rd16(r, p + *i + 2);
    *i += 4;
    if (*len > n - *i)
        return NG_BAD("option %u of length %u runs past the block end", *code, *len);
    *v = p + *i;
    *i += ((size_t)*len + 3u) & ~(size_t)3u; /* may pass n for the last option: *i > n ends */
    return 1;
}

/* A fixed-size option has the wrong length. */
static int bad_opt_len(px__pcap_reader *r, uint16_t code, uint16_t len, unsigned want, char *errbuf)
{
    return NG_BAD("option %u has length %u, not %u", code, len, want);
}

/* Interned copy of an interface name: lives until the reader is freed. */
static int intern_name(px__pcap_reader *r, const uint8_t *v, uint16_t len, const char **out, char *errbuf)
{
    size_t n = strnlen((const char *)v, len);
    for (name *nm = r->names; nm; nm = nm->next)
        if (strlen(nm->s) == n && memcmp(nm->s, v, n) == 0) {
            *out = nm->s;
            return 0;
        }
    if (r->nnames >= MAX_NAMES)
        return NG_BAD("more than %u distinct interface names", MAX_NAMES);
    name *nm = malloc(sizeof *nm + n + 1);
    if (!nm)
        return fail(r, errbuf, PX_ENOMEM, NULL, "out of memory for an interface name");
    memcpy(nm->s, v, n);
    nm->s[n] = '\0';
    nm->next = r->names;
    r->names = nm;
    r->nnames++;
    *out = nm->s;
    return 0;
}

static int ng_idb(px__pcap_reader *r, const uint8_t *body, size_t n, char *errbuf)
{
    if (r->nifs == r->capifs) {
        if (r->nifs >= MAX_IFACES)
            return NG_BAD("more than %u interfaces in a section", MAX_IFACES);
        size_t ncap = r->capifs ? r->capifs * 2 : 4;
        iface *ni = realloc(r->ifs, ncap * sizeof *ni);
        if (!ni)
            return fail(r, errbuf, PX_ENOMEM, NULL, "out of memory for interfaces");
        r->ifs = ni;
        r->capifs = ncap;
    }
    int rc;
    iface ifc = {.linktype = rd16(r, body), .snaplen = rd32(r, body + 4), .units = 1000000u};
    uint16_t code = 0, len = 0;
    const uint8_t *v = NULL;
    size_t oi = 0;
    while ((rc = next_opt(r, body + 8, n - 8, &oi, &code, &v, &len, errbuf)) == 1) {
        if (code == 2 && intern_name(r, v, len, &ifc.name, errbuf) < 0) /* if_name */
            return r->err;
        if (code == 9) { /* if_tsresol: 10^-e, or 2^-e with the top bit set */
            if (len != 1)
                return bad_opt_len(r, code, len, 1, errbuf);
            unsigned e = v[0] & 0x7fu;
            if ((v[0] & 0x80u) ? e > 63 : e > 19)
                return NG_BAD("if_tsresol 0x%02x is out of range", v[0]);
            ifc.units = 1;
            for (unsigned k = 0; k < e; k++)
                ifc.units *= (v[0] & 0x80u) ? 2u : 10u;
        }
        if (code == 14) { /* if_tsoffset: seconds */
            if (len != 8)
                return bad_opt_len(r, code, len, 8, errbuf);
            ifc.tsoffset = (int64_t)rd64(r, v);
        }
    }
    if (rc < 0)
        return rc;
    r->ifs[r->nifs++] = ifc;
    return 2;
}

/* Fills rec's interface fields and its timestamp from body[4, 12) (unless `no_ts`). */
static int ng_iface_ts(px__pcap_reader *r, uint32_t id, const uint8_t *body, bool no_ts, px__pcap_rec *rec,
                       char *errbuf)
{
    if (id >= r->nifs)
        return NG_BAD("interface %" PRIu32 " was not described (%zu in this section)", id, r->nifs);
    const iface *ifc = &r->ifs[id];
    rec->iface = id;
    rec->iface_name = ifc->name;
    rec->linktype = ifc->linktype;
    rec->ts = r->last_ts;
    if (no_ts)
        return 0;
    uint64_t raw = (uint64_t)rd32(r, body + 4) << 32 | rd32(r, body + 8);
    if (to_timespec(raw, ifc->units, ifc->tsoffset, &rec->ts) != 0)
        return NG_BAD("timestamp does not fit in a timespec");
    return 0;
}

/* The record of an EPB (6), SPB (3) or ISB (5) with a body of n bytes. */
static int ng_record(px__pcap_reader *r, uint32_t type, const uint8_t *body, size_t n, px__pcap_rec *rec,
                     char *errbuf)
{
    size_t optoff = n;         /* where the options start, n for none */
    uint16_t dropcode = 4;     /* epb_dropcount */
    if (type == 6) {
        if (ng_iface_ts(r, rd32(r, body), body, false, rec, errbuf) < 0)
            return r->err;
        rec->caplen = rd32(r, body + 12);
        rec->wirelen = rd32(r, body + 16);
        if (rec->caplen > n - 20)
            return NG_BAD("caplen %" PRIu32 " runs past the block end (%zu bytes for data)", rec->caplen, n - 20);
        rec->data = body + 20;
        optoff = 20 + (((size_t)rec->caplen + 3u) & ~(size_t)3u);
    } else if (type == 3) { /* interface 0, no timestamp, caplen from the block */
        if (ng_iface_ts(r, 0, body, true, rec, errbuf) < 0)
            return r->err;
        rec->wirelen = rd32(r, body);
        rec->caplen = rec->wirelen < n - 4 ? rec->wirelen : (uint32_t)(n - 4);
        if (r->ifs[0].snaplen != 0 && rec->caplen > r->ifs[0].snaplen)
            rec->caplen = r->ifs[0].snaplen;
        rec->data = body + 4;
    } else { /* ISB */
        if (ng_iface_ts(r, rd32(r, body), body, false, rec, errbuf) < 0)
            return r->err;
        optoff = 12;
        dropcode = 5; /* isb_ifdrop */
    }
    rec->type = type == 5 ? PX__PCAP_REC_STATS : PX__PCAP_REC_FRAME;
    uint16_t code = 0, len = 0;
    const uint8_t *v = NULL;
    size_t oi = 0;
    int rc;
    if (optoff > n)
        optoff = n;
    while ((rc = next_opt(r, body + optoff, n - optoff, &oi, &code, &v, &len, errbuf)) == 1) {
        if (code == dropcode) {
            if (len != 8)
                return bad_opt_len(r, code, len, 8, errbuf);
            rec->has_drops = true;
            rec->drops = rd64(r, v);
        } else if (type == 6 && code == 2) { /* epb_flags: bits 0-1 are the direction */
            if (len != 4)
                return bad_opt_len(r, code, len, 4, errbuf);
            rec->outbound = (rd32(r, v) & 3u) == 2u;
        }
    }
    return rc < 0 ? rc : 1;
}

/* One block: 1 when it gave a record, 2 when it was consumed without one (SHB,
 * IDB, skipped types), 0 when it is not all buffered yet, negative on an error. */
static int ng_block(px__pcap_reader *r, px__pcap_rec *rec, char *errbuf)
{
    static const struct { uint32_t type, min; const char *what; } fixed[] = {
        {NG_SHB, 16, "a section header"}, {1, 8, "an interface description"}, {3, 4, "a simple packet"},
        {5, 12, "an interface statistics block"}, {6, 20, "an enhanced packet"},
    };
    int rc = fill(r, 8, errbuf);
    if (rc != 1)
        return rc;
    uint32_t type;
    memcpy(&type, r->buf + r->start, 4); /* the SHB type reads the same in both orders */
    if (type == NG_SHB) {
        if ((rc = fill(r, 12, errbuf)) != 1)
            return rc;
        uint32_t bom;
        memcpy(&bom, r->buf + r->start + 8, 4);
        if (bom != NG_BOM && bom != __builtin_bswap32(NG_BOM))
            return NG_BAD("byte-order magic 0x%08" PRIx32 " is neither 0x1a2b3c4d nor 0x4d3c2b1a", bom);
        r->swap = bom != NG_BOM;
    }
    type = rd32(r, r->buf + r->start);
    uint32_t blen = rd32(r, r->buf + r->start + 4), min = 12;
    const char *what = "a block";
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
        if (fixed[k].type == type) {
            min = 12 + fixed[k].min;
            what = fixed[k].what;
        }
    if (blen < min)
        return NG_BAD("length %" PRIu32 " is shorter than its header (%" PRIu32 " bytes for %s)", blen, min, what);
    if (blen % 4 != 0 || blen > MAX_BLOCK)
        return NG_BAD("length %" PRIu32 " is %s", blen, blen > MAX_BLOCK ? "over 16 MiB" : "not a multiple of 4");
    if ((rc = fill(r, blen, errbuf)) != 1)
        return rc;
    const uint8_t *b = r->buf + r->start;
    if (rd32(r, b + blen - 4) != blen)
        return NG_BAD("trailing length %" PRIu32 " differs from the leading %" PRIu32, rd32(r, b + blen - 4), blen);
    rc = 2;
    if (type == NG_SHB) {
        if (rd16(r, b + 12) != 1)
            return NG_BAD("section version %u.%u is not 1.x", rd16(r, b + 12), rd16(r, b + 14));
        r->nifs = 0; /* interface numbers are per section */
        r->fmt = FMT_PCAPNG;
    } else if (type == 1) {
        rc = ng_idb(r, b + 8, blen - 12, errbuf);
    } else if (type == 3 || type == 5 || type == 6) {
        rc = ng_record(r, type, b + 8, blen - 12, rec, errbuf);
    } /* other block types are skipped */
    if (rc > 0) {
        r->start += blen;
        r->off += blen;
    }
    return rc;
}

/* ---------------- API ---------------- */

px__pcap_reader *px__pcap_reader_new(int fd, char *errbuf)
{
    px__pcap_reader *r = fd >= 0 ? calloc(1, sizeof *r) : NULL;
    if (r)
        r->fd = fd;
    else if (errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "pcap reader: %s", fd < 0 ? "bad file descriptor" : "out of memory");
    return r;
}

int px__pcap_reader_next(px__pcap_reader *r, px__pcap_rec *rec, char *errbuf)
{
    if (r->err) {
        if (errbuf && r->err != PX_ECLOSED)
            snprintf(errbuf, PX_ERRBUF_SIZE, "%s", r->msg);
        return r->err;
    }
    memset(rec, 0, sizeof *rec);
    int rc;
    if (r->fmt == FMT_NONE) {
        if ((rc = fill(r, 4, errbuf)) != 1)
            return rc;
        uint32_t magic;
        memcpy(&magic, r->buf + r->start, 4);
        if (magic == PCAP_US || magic == PCAP_NS || magic == __builtin_bswap32(PCAP_US) ||
            magic == __builtin_bswap32(PCAP_NS)) {
            if ((rc = pcap_header(r, magic, errbuf)) != 1)
                return rc;
        } else if (magic != NG_SHB) {
            const uint8_t *m = r->buf + r->start;
            return fail(r, errbuf, BAD, NULL, "bad magic %02x %02x %02x %02x at offset 0: not a pcap or pcapng stream",
                        m[0], m[1], m[2], m[3]);
        }
    }
    if (r->fmt == FMT_PCAP || r->fmt == FMT_PCAP_NS)
        rc = pcap_record(r, rec, errbuf);
    else
        while ((rc = ng_block(r, rec, errbuf)) == 2)
            ; /* a block without a record: on to the next */
    if (rc == 1)
        r->last_ts = rec->ts;
    return rc;
}

const char *px__pcap_reader_format(const px__pcap_reader *r)
{
    static const char *const names[] = {NULL, "pcap", "pcap-ns", "pcapng"};
    return names[r->fmt];
}

void px__pcap_reader_free(px__pcap_reader *r)
{
    if (!r)
        return;
    while (r->names) {
        name *next = r->names->next;
        free(r->names);
        r->names = next;
    }
    free(r->ifs);
    free(r->buf);
    free(r);
}
