/* pktexpect: bpf("...") -- a libpcap filter expression as a per-frame predicate.
 *
 * The filter is compiled once, at construction, for Ethernet (DLT_EN10MB) with
 * a dead pcap handle, then run per frame with pcap_offline_filter(). The compiled
 * program is owned by the predicate; no pcap handle is kept.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pred_internal.h"
#include "pktexpect/error.h"

typedef struct {
    px__ftest head;
    struct bpf_program prog;
    char *filter;
} bpf_st;

static unsigned bpf_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const bpf_st *st = (const bpf_st *)self;
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.caplen = f->caplen;
    h.len = f->wirelen < f->caplen ? f->caplen : f->wirelen;
    if (pcap_offline_filter(&st->prog, &h, f->data) != 0)
        return 0;
    if (why) {
        if (why->len)
            px_buf_append(why, "; ");
        px_buf_append(why, "the filter rejects it");
    }
    return 1;
}

static void bpf_args(const px__ftest *self, px_buf *out)
{
    const bpf_st *st = (const bpf_st *)self;
    px__quote(out, st->filter, strlen(st->filter));
}

static void bpf_cleanup(px__ftest *self)
{
    bpf_st *st = (bpf_st *)self;
    pcap_freecode(&st->prog);
    free(st->filter);
}

/* No key: a filter expression pins nothing px_key can express exactly. */
static const px__ftest_vt bpf_vt = {bpf_test, bpf_args, bpf_cleanup, NULL};

px_predicate *px_bpf(const char *filter, char *errbuf)
{
    if (!filter) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "bpf: no filter given");
        return NULL;
    }
    bpf_st *st = calloc(1, sizeof *st);
    char *copy = strdup(filter);
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
    if (!st || !copy || !dead) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "bpf: out of memory");
        free(st);
        free(copy);
        if (dead)
            pcap_close(dead);
        return NULL;
    }
    if (pcap_compile(dead, &st->prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "bpf filter \"%s\" does not compile: %s", filter, pcap_geterr(dead));
        pcap_close(dead);
        free(st);
        free(copy);
        return NULL;
    }
    pcap_close(dead);
    px__ftest_init(&st->head, &bpf_vt, "bpf");
    st->filter = copy;
    return px__ftest_wrap(&st->head, false);
}
