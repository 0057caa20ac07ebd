/* pktexpect: the pcap / pcapng stream source: a recorded file, or a descriptor
 * (a pipe from `tcpdump -U -w -`, possibly over ssh) read without blocking.
 *
 * Frames keep the stream's own timestamps. Losses the stream reports (pcapng
 * interface statistics, isb_ifdrop, and per-packet epb_dropcount) count as the
 * port's drops, so a recorded capture that lost frames gives the same
 * inconclusive verdicts as a live one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx_internal.h"
#include "err_internal.h"
#include "pcap_read.h"
#include "source.h"

typedef struct pcap_source {
    px__source base;
    char name[PX__NETNS_MAX + IF_NAMESIZE];
    char *interface;          /* only this pcapng interface; NULL: all */
    px__pcap_reader *rd;
    uint64_t drops;           /* cumulative, from the stream's statistics */
    uint64_t isb_drops[64];   /* last isb_ifdrop per interface index (small files) */
    uint64_t epb_drops;
} pcap_source;

static bool wanted(pcap_source *s, const px__pcap_rec *rec)
{
    if (!s->interface)
        return true;
    return rec->iface_name && strcmp(rec->iface_name, s->interface) == 0;
}

/* Records of other interfaces or statistics read before giving the loop a turn. */
#define SKIP_MAX 256

static int psrc_next(px__source *base, px__src_frame *f, char *errbuf)
{
    pcap_source *s = (pcap_source *)base;
    for (int skipped = 0; skipped < SKIP_MAX; skipped++) {
        px__pcap_rec rec;
        char why[PX_ERRBUF_SIZE] = "";
        int rc = px__pcap_reader_next(s->rd, &rec, why);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            if (rc != PX_ECLOSED)
                snprintf(errbuf, PX_ERRBUF_SIZE, "pcap port '%s': %s", s->name, why);
            return rc;
        }
        if (s->interface && !rec.iface_name && rec.type == PX__PCAP_REC_FRAME) {
            snprintf(errbuf, PX_ERRBUF_SIZE,
                     "pcap port '%s': interface '%s' asked for, but the capture names no interfaces (classic pcap, "
                     "or pcapng without if_name)", s->name, s->interface);
            return PX_EINVAL;
        }
        if (!wanted(s, &rec) || rec.outbound)
            continue; /* a port observes what arrives on it, as a live port does */
        if (rec.type == PX__PCAP_REC_STATS) {
            /* isb_ifdrop is cumulative per interface: count what it adds. */
            if (rec.has_drops && rec.iface < 64 && rec.drops > s->isb_drops[rec.iface]) {
                s->drops += rec.drops - s->isb_drops[rec.iface];
                s->isb_drops[rec.iface] = rec.drops;
            }
            continue;
        }
        if (rec.linktype != 1) {
            snprintf(errbuf, PX_ERRBUF_SIZE, "pcap port '%s': link type %u is not Ethernet", s->name,
                     (unsigned)rec.linktype);
            return PX_ENOTSUP;
        }
        if (rec.has_drops) {
            s->drops += rec.drops;
            f->flags = PX__SRC_LOSING;
        } else {
            f->flags = 0;
        }
        f->data = (uint8_t *)rec.data;
        f->caplen = rec.caplen;
        f->wirelen = rec.wirelen;
        f->ts = rec.ts;
        return 1;
    }
    return 0; /* more may be buffered: the loop comes back without sleeping on the fd */
}

static void psrc_release(px__source *base)
{
    (void)base; /* the record stays valid until the next call */
}

static uint64_t psrc_drops(px__source *base)
{
    return ((pcap_source *)base)->drops;
}

static void psrc_close(px__source *base)
{
    pcap_source *s = (pcap_source *)base;
    if (s->rd)
        px__pcap_reader_free(s->rd);
    if (base->fd >= 0)
        close(base->fd);
    free(s->interface);
    free(s);
}

static const px__source_ops pcap_ops = {
    .kind = "pcap",
    .next = psrc_next,
    .release = psrc_release,
    .drops = psrc_drops,
    .close = psrc_close,
};

int px__source_pcap_open(const char *name, const px_pcap_port_opts *opts, px__source **out, char *errbuf)
{
    pcap_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory opening '%s'", name);
        return PX_ENOMEM;
    }
    s->base.ops = &pcap_ops;
    s->base.live = opts->local_clock;
    snprintf(s->name, sizeof s->name, "%s", name);
    if (opts->interface && !(s->interface = strdup(opts->interface))) {
        free(s);
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory opening '%s'", name);
        return PX_ENOMEM;
    }
    int fd;
    if (opts->path) {
        fd = open(opts->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    } else {
        /* A file description of our own (pipes and files), so that making it
         * non-blocking does not change the caller's; a socket cannot be reopened
         * and is shared (it becomes non-blocking for the caller too). */
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", opts->fd);
        fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            fd = fcntl(opts->fd, F_DUPFD_CLOEXEC, 3);
    }
    s->base.fd = fd;
    if (fd < 0) {
        int err = errno;
        snprintf(errbuf, PX_ERRBUF_SIZE, "pcap port '%s': cannot open %s: %s", name,
                 opts->path ? opts->path : "the descriptor", strerror(err));
        psrc_close(&s->base);
        int rc = px__err_from_errno(err);
        return rc == PX_ESYS ? PX_EIO : rc; /* a file or pipe: other failures are I/O errors */
    }
    /* Never block the capture thread on a quiet pipe. */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    s->rd = px__pcap_reader_new(fd, errbuf);
    if (!s->rd) {
        psrc_close(&s->base);
        return PX_ENOMEM;
    }
    *out = &s->base;
    return 0;
}
