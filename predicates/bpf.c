/* pktexpect: bpf("...") -- a libpcap filter expression as a per-frame predicate.
 *
 * The filter is compiled once, at construction, for Ethernet (DLT_EN10MB) with
 * a dead pcap handle, then run per frame with pcap_offline_filter(). The compiled
 * program is owned by the predicate; no pcap handle is kept. Filter texts are
 * bounded (PX_BPF_MAX_CHARS, PX_BPF_MAX_OPS) before they reach the compiler.
 */
#include <ctype.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Refuses a filter text over PX_BPF_MAX_CHARS or PX_BPF_MAX_OPS boolean
 * operators, before pcap_compile sees it. */
static int bpf_bounded(const char *filter, char *errbuf)
{
    size_t len = strlen(filter);
    if (len > PX_BPF_MAX_CHARS) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "longer than %d characters (%zu)", PX_BPF_MAX_CHARS, len);
        return PX_ERANGE;
    }
    int ops = 0;
    for (const char *p = filter; *p;) {
        if (isalnum((unsigned char)*p) || *p == '_') {
            /* One word: a keyword, a number, an address (with '.', ':' or '-'). */
            const char *w = p;
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == ':' || *p == '-')
                p++;
            size_t wl = (size_t)(p - w);
            if ((wl == 2 && !strncasecmp(w, "or", 2)) || (wl == 3 && !strncasecmp(w, "and", 3)) ||
                (wl == 3 && !strncasecmp(w, "not", 3)))
                ops++;
            continue;
        }
        if ((p[0] == '|' && p[1] == '|') || (p[0] == '&' && p[1] == '&')) {
            ops++;
            p += 2;
            continue;
        }
        if (p[0] == '!' && p[1] != '=')
            ops++;
        p++;
    }
    if (ops > PX_BPF_MAX_OPS) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "more than %d 'and', 'or' and 'not' (%d)", PX_BPF_MAX_OPS, ops);
        return PX_ERANGE;
    }
    return 0;
}

int px_bpf_check(const char *filter, char *errbuf)
{
    if (!filter) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "no filter given");
        return PX_EINVAL;
    }
    int rc = bpf_bounded(filter, errbuf);
    if (rc)
        return rc;
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    if (!dead) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
        return PX_ENOMEM;
    }
    struct bpf_program prog;
    if (pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "not a valid BPF filter: %s", pcap_geterr(dead));
        rc = PX_EPARSE;
    } else {
        pcap_freecode(&prog);
    }
    pcap_close(dead);
    return rc;
}

px_predicate *px_bpf(const char *filter, char *errbuf)
{
    if (!filter) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "bpf: no filter given");
        return px__pred_refused("bpf", "no filter given");
    }
    char why[PX_ERRBUF_SIZE];
    if (bpf_bounded(filter, why)) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "bpf filter: %s", why);
        return px__pred_refused("bpf", "filter: %s", why);
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
        snprintf(why, sizeof why, "filter \"%s\" does not compile: %s", filter, pcap_geterr(dead));
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "bpf %s", why);
        pcap_close(dead);
        free(st);
        free(copy);
        return px__pred_refused("bpf", "%s", why);
    }
    pcap_close(dead);
    px__ftest_init(&st->head, &bpf_vt, "bpf");
    st->filter = copy;
    return px__ftest_wrap(&st->head, false);
}
