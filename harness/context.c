/* pktexpect: the context: options, the port registry, shutdown.
 *
 * The registry maps port names to reference-counted ports. Opening happens on
 * the new port's own capture thread, outside the context lock: a slow open (a
 * large ring, a link that is not ready yet) blocks only the callers that need
 * that port, and several new ports open in parallel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmv2.h"
#include "ctx_internal.h"
#include "source.h"
#include "pktexpect/evidence.h"

#define PX_DEFAULT_TIMEOUT_MS 5000 /* as in the Python design pktexpect comes from */

px_ctx *px_ctx_new(const px_ctx_opts *opts, char *errbuf)
{
    px_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory creating a context");
        return NULL;
    }
    if (opts)
        ctx->opts = *opts;
    if (ctx->opts.capture != PX_CAPTURE_LATENCY && ctx->opts.capture != PX_CAPTURE_THROUGHPUT) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "unknown capture mode %d (PX_CAPTURE_LATENCY or PX_CAPTURE_THROUGHPUT)",
                     (int)ctx->opts.capture);
        free(ctx);
        return NULL;
    }
    if (ctx->opts.block_timeout_ms > PX_MAX_BLOCK_TIMEOUT_MS) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "block timeout %u ms is over the %u ms limit", ctx->opts.block_timeout_ms,
                     (unsigned)PX_MAX_BLOCK_TIMEOUT_MS);
        free(ctx);
        return NULL;
    }
    if (ctx->opts.capture == PX_CAPTURE_THROUGHPUT) {
        /* TPACKET_V3 blocks, as tcpdump reads (bench/README.md, "Ring options"). */
        px__ring_opts ro = {.version = 3,
                            .block_tov_ms = ctx->opts.block_timeout_ms ? ctx->opts.block_timeout_ms : 1};
        if (px__ctx_set_ring(ctx, &ro) != 0) {
            if (errbuf)
                snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory creating a context");
            free(ctx);
            return NULL;
        }
    }
    if (!ctx->opts.default_timeout_ms)
        ctx->opts.default_timeout_ms = PX_DEFAULT_TIMEOUT_MS;
    if (!ctx->opts.history_mib)
        ctx->opts.history_mib = PX_DEFAULT_HISTORY_MIB;
    if (!ctx->opts.verify_timeout_ms)
        ctx->opts.verify_timeout_ms = PX_DEFAULT_VERIFY_TIMEOUT_MS;
    if (!ctx->opts.verify_negative_ms)
        ctx->opts.verify_negative_ms = PX_DEFAULT_VERIFY_NEGATIVE_MS;
    pthread_mutex_init(&ctx->lock, NULL);
    atomic_init(&ctx->evidence, NULL);
    atomic_init(&ctx->cancel_fd, -1);
    return ctx;
}

int px__ctx_set_ring(px_ctx *ctx, const px__ring_opts *opts)
{
    px__ring_opts *copy = NULL;
    if (opts && !(copy = malloc(sizeof *copy)))
        return PX_ENOMEM;
    if (copy)
        *copy = *opts;
    free(ctx->ring);
    ctx->ring = copy;
    return 0;
}

uint32_t px_ctx_default_timeout_ms(const px_ctx *ctx)
{
    return ctx ? ctx->opts.default_timeout_ms : PX_DEFAULT_TIMEOUT_MS;
}

/* Stops the port's thread, joins it, drops the registry's reference. */
static void port_retire(px_port *p, const char *why)
{
    px__port_shutdown(p, why);
    px__port_unref(p);
}

void px_ctx_free(px_ctx *ctx)
{
    if (!ctx)
        return;
    pthread_mutex_lock(&ctx->lock);
    ctx->closed = true;
    px_port **ports = ctx->ports;
    size_t n = ctx->nports;
    ctx->ports = NULL;
    ctx->nports = ctx->cap = 0;
    pthread_mutex_unlock(&ctx->lock);
    for (size_t i = 0; i < n; i++)
        port_retire(ports[i], "context closed while the expectation was pending");
    free(ports);
    if (ctx->sender)
        px__sender_ctx_free(ctx->sender);
    px__verify_ctx_free(ctx->verify); /* its marks: the ports are closed, nothing waits */
    px__bmv2_ctx_free(ctx->bmv2); /* after the ports and the sender that use its sockets */
    px_evidence *ev = atomic_load(&ctx->evidence);
    if (ev && !ctx->evidence_borrowed)
        px_evidence_close(ev);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx->ring);
    free(ctx);
}

/* Index of the port named `name`, or -1. Under ctx->lock. */
static long port_index(px_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->nports; i++)
        if (strcmp(ctx->ports[i]->name, name) == 0)
            return (long)i;
    return -1;
}

static void port_remove_at(px_ctx *ctx, size_t i)
{
    ctx->ports[i] = ctx->ports[--ctx->nports];
}

int px__port_acquire(px_ctx *ctx, const px__port_spec *spec, px_port **out, char *errbuf)
{
    char local[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = local;
    if (!ctx || !spec || !spec->name || !*spec->name) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "port name is NULL or empty");
        return PX_EINVAL;
    }
    px_port *stale = NULL;
    int rc = 0;
    pthread_mutex_lock(&ctx->lock);
    if (ctx->closed) {
        pthread_mutex_unlock(&ctx->lock);
        snprintf(errbuf, PX_ERRBUF_SIZE, "context closed");
        return PX_ECLOSED;
    }
    long i = port_index(ctx, spec->name);
    if (i >= 0 && !px__port_is_dead(ctx->ports[i])) {
        if (spec->pcap) {
            rc = PX_EEXIST;
            snprintf(errbuf, PX_ERRBUF_SIZE, "port '%s' is already open", spec->name);
        } else {
            *out = ctx->ports[i];
            px__port_ref(*out);
        }
        pthread_mutex_unlock(&ctx->lock);
        return rc;
    }
    if (i >= 0) {
        /* The interface went away or down earlier: try it afresh. */
        stale = ctx->ports[i];
        port_remove_at(ctx, (size_t)i);
    }
    if (ctx->nports == ctx->cap) {
        size_t cap = ctx->cap ? ctx->cap * 2 : 8;
        px_port **np = realloc(ctx->ports, cap * sizeof *np);
        if (!np) {
            rc = PX_ENOMEM;
            snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory opening '%s'", spec->name);
        } else {
            ctx->ports = np;
            ctx->cap = cap;
        }
    }
    px_port *p = NULL;
    if (rc == 0)
        rc = px__port_create(ctx, spec, &p, errbuf); /* starts the thread; it opens */
    if (rc == 0) {
        ctx->ports[ctx->nports++] = p;
        px__port_ref(p);
        *out = p;
    }
    pthread_mutex_unlock(&ctx->lock);
    if (stale)
        port_retire(stale, "port reopened");
    return rc;
}

/* Acquires the port and waits for its open; with a reference on success. */
static int port_get_open(px_ctx *ctx, const px__port_spec *spec, px_port **out, char *errbuf)
{
    px_port *p;
    int rc = px__port_acquire(ctx, spec, &p, errbuf);
    if (rc != 0)
        return rc;
    rc = px__port_wait_open(p, errbuf);
    if (rc != 0) {
        px__port_unref(p);
        return rc;
    }
    *out = p;
    return 0;
}

int px_port_open(px_ctx *ctx, const char *ifname, char *errbuf)
{
    px_port *p;
    int rc = port_get_open(ctx, &(px__port_spec){.name = ifname}, &p, errbuf);
    if (rc == 0)
        px__port_unref(p);
    return rc;
}

int px_port_open_pcap(px_ctx *ctx, const char *name, const px_pcap_port_opts *opts, char *errbuf)
{
    char local[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = local;
    if (!opts) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "px_port_open_pcap needs options (a path or a descriptor)");
        return PX_EINVAL;
    }
    px_port *p;
    int rc = port_get_open(ctx, &(px__port_spec){.name = name, .pcap = opts}, &p, errbuf);
    if (rc == 0)
        px__port_unref(p);
    return rc;
}

/* Looks an open port up without opening it; with a reference. */
static px_port *port_lookup(px_ctx *ctx, const char *ifname)
{
    pthread_mutex_lock(&ctx->lock);
    long i = port_index(ctx, ifname);
    px_port *p = i >= 0 ? ctx->ports[i] : NULL;
    if (p)
        px__port_ref(p);
    pthread_mutex_unlock(&ctx->lock);
    return p;
}

int px_port_start(px_ctx *ctx, const char *name)
{
    if (!ctx || !name)
        return PX_EINVAL;
    px_port *p = port_lookup(ctx, name);
    if (!p)
        return PX_ENODEV;
    px__port_start(p);
    px__port_unref(p);
    return 0;
}

int px_port_close(px_ctx *ctx, const char *ifname)
{
    if (!ctx || !ifname)
        return PX_EINVAL;
    pthread_mutex_lock(&ctx->lock);
    long i = port_index(ctx, ifname);
    px_port *p = NULL;
    if (i >= 0) {
        p = ctx->ports[i];
        port_remove_at(ctx, (size_t)i);
    }
    pthread_mutex_unlock(&ctx->lock);
    if (!p)
        return PX_ENODEV;
    port_retire(p, "port closed while the expectation was pending");
    return 0;
}

int px_port_set_noise_filter(px_ctx *ctx, const char *ifname, px_noise_fn fn, void *user)
{
    if (!ctx || !ifname)
        return PX_EINVAL;
    px_port *p;
    int rc = port_get_open(ctx, &(px__port_spec){.name = ifname}, &p, NULL);
    if (rc != 0)
        return rc;
    px__port_set_noise(p, fn, user);
    px__port_unref(p);
    return 0;
}

int px_port_get_stats(px_ctx *ctx, const char *ifname, px_port_stats *out)
{
    if (!ctx || !ifname || !out)
        return PX_EINVAL;
    px_port *p = port_lookup(ctx, ifname);
    if (!p)
        return PX_ENODEV;
    px__port_stats(p, out);
    px__port_unref(p);
    return 0;
}

int px_port_info(px_ctx *ctx, const char *ifname, int *ifindex, uint32_t *mtu)
{
    if (!ctx || !ifname)
        return PX_EINVAL;
    px_port *p = port_lookup(ctx, ifname);
    if (!p)
        return PX_ENODEV;
    int rc = px__port_info(p, ifindex, mtu);
    px__port_unref(p);
    return rc;
}

pthread_mutex_t *px__ctx_lock(px_ctx *ctx)
{
    return &ctx->lock;
}

void **px__ctx_sender_slot(px_ctx *ctx)
{
    return &ctx->sender;
}

struct px_evidence *px__ctx_evidence(px_ctx *ctx)
{
    return atomic_load_explicit(&ctx->evidence, memory_order_acquire);
}

/* Makes `ev` the context's recorder unless it has one (PX_EEXIST). */
static int record_install(px_ctx *ctx, px_evidence *ev, bool borrowed, char *errbuf)
{
    px_evidence *expected = NULL;
    /* Under the lock: px_ctx_free reads `evidence_borrowed` after the capture
     * threads and the sender are gone; the flag is set before anyone can see ev. */
    pthread_mutex_lock(&ctx->lock);
    bool ok = atomic_load(&ctx->evidence) == NULL;
    if (ok) {
        ctx->evidence_borrowed = borrowed;
        ok = atomic_compare_exchange_strong(&ctx->evidence, &expected, ev);
    }
    pthread_mutex_unlock(&ctx->lock);
    if (!ok) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "this context already records evidence (one file per context)");
        return PX_EEXIST;
    }
    return 0;
}

int px_ctx_record(px_ctx *ctx, const char *pcapng_path, char *errbuf)
{
    char local[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = local;
    if (!ctx || !pcapng_path || !*pcapng_path) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "px_ctx_record needs a context and a file name");
        return PX_EINVAL;
    }
    if (atomic_load(&ctx->evidence)) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "this context already records evidence (one file per context)");
        return PX_EEXIST;
    }
    px_evidence *ev = px_evidence_open(pcapng_path, errbuf);
    if (!ev)
        return PX_EIO;
    int rc = record_install(ctx, ev, false, errbuf);
    if (rc)
        px_evidence_close(ev);
    return rc;
}

int px_ctx_record_into(px_ctx *ctx, px_evidence *ev, char *errbuf)
{
    char local[PX_ERRBUF_SIZE];
    if (!errbuf)
        errbuf = local;
    if (!ctx || !ev) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "px_ctx_record_into needs a context and a recorder");
        return PX_EINVAL;
    }
    return record_install(ctx, ev, true, errbuf);
}

int px_ctx_record_flush(px_ctx *ctx)
{
    if (!ctx)
        return PX_EINVAL;
    px_evidence *ev = atomic_load(&ctx->evidence);
    return ev ? px_evidence_flush(ev) : 0;
}

void px_ctx_set_cancel_fd(px_ctx *ctx, int fd)
{
    if (ctx)
        atomic_store(&ctx->cancel_fd, fd < 0 ? -1 : fd);
}

int px__ctx_cancel_fd(px_ctx *ctx)
{
    return ctx ? atomic_load(&ctx->cancel_fd) : -1;
}
