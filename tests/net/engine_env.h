/* The fixture of the capture-engine tests on veth pairs (test_engine.c,
 * test_engine_park.c; not installed): numbered frames, a flood thread sending
 * them, a slow spy predicate that logs what it is offered, and the per-test
 * environment whose teardown undoes everything (threads, futures, contexts,
 * the veth pairs), also after a failed assertion.
 *
 * For one test program: the pairs (g_pairs) are this program's, named by
 * veth_pairs_init at the start of main. Needs root (veth pairs, raw sockets).
 */
#ifndef PX_ENGINE_ENV_H
#define PX_ENGINE_ENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pktexpect/cmocka.h"
#include "pktexpect/pktexpect.h"
#include "px_test.h"
#include "veth_pairs.h"

#define NPAIRS 4
static veth_pair g_pairs[NPAIRS]; /* named by veth_pairs_init in main */

/* ---- frames ---- */

#define ET_FLOOD 0x88b5
#define ET_MARK 0x88b6
#define ET_LATE 0x88b7
#define FRAME_LEN 60
static const uint8_t MAC_FLOOD_DST[6] = {0x02, 0x00, 0x5e, 0xaa, 0x00, 0x01};
static const uint8_t MAC_MARK_DST[6] = {0x02, 0x00, 0x5e, 0xaa, 0x00, 0x6b};
static const uint8_t MAC_SRC[6] = {0x02, 0x00, 0x5e, 0xaa, 0x00, 0x02};

static inline void make_frame(uint8_t *buf, uint16_t type, uint64_t seq)
{
    memcpy(buf, type == ET_MARK ? MAC_MARK_DST : MAC_FLOOD_DST, 6);
    memcpy(buf + 6, MAC_SRC, 6);
    buf[12] = (uint8_t)(type >> 8);
    buf[13] = (uint8_t)type;
    for (int i = 0; i < 8; i++)
        buf[14 + i] = (uint8_t)(seq >> (56 - 8 * i));
    memset(buf + 22, 0xab, FRAME_LEN - 22);
}

static inline uint16_t frame_type(const px_frame *f)
{
    return f->caplen >= 14 ? (uint16_t)((f->data[12] << 8) | f->data[13]) : 0;
}

static inline uint64_t frame_seq(const px_frame *f)
{
    uint16_t t = frame_type(f);
    if ((t != ET_FLOOD && t != ET_MARK) || f->caplen < 22)
        return UINT64_MAX;
    uint64_t s = 0;
    for (int i = 0; i < 8; i++)
        s = s << 8 | f->data[14 + i];
    return s;
}

static inline uint64_t now_ns(clockid_t clk)
{
    struct timespec t;
    clock_gettime(clk, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* ---- the flood: a thread sending numbered frames on a port ---- */

typedef struct flood {
    px_ctx *ctx;
    const char *port;
    unsigned burst;        /* frames per px_send_burst */
    unsigned pause_us;     /* sleep between bursts (0: none) */
    unsigned marker_every; /* every Nth frame is an ET_MARK frame (0: none) */
    uint32_t max_ms;       /* stops by itself after this long */
    atomic_bool stop;
    atomic_bool done;
    atomic_uint_fast64_t sent;
    int err;
    char errbuf[PX_ERRBUF_SIZE];
} flood;

static inline void *flood_main(void *arg)
{
    flood *fl = arg;
    uint8_t *buf = calloc(fl->burst, FRAME_LEN);
    px_tx_frame *tx = calloc(fl->burst, sizeof *tx);
    uint64_t seq = 0, t_end = now_ns(CLOCK_MONOTONIC) + (uint64_t)fl->max_ms * 1000000ull;
    while (buf && tx && !atomic_load(&fl->stop) && now_ns(CLOCK_MONOTONIC) < t_end) {
        for (unsigned i = 0; i < fl->burst; i++, seq++) {
            bool mark = fl->marker_every && seq % fl->marker_every == fl->marker_every / 2;
            make_frame(buf + (size_t)i * FRAME_LEN, mark ? ET_MARK : ET_FLOOD, seq);
            tx[i] = (px_tx_frame){buf + (size_t)i * FRAME_LEN, FRAME_LEN};
        }
        size_t sent = 0;
        int rc = px_send_burst(fl->ctx, fl->port, tx, fl->burst, NULL, &sent, fl->errbuf);
        atomic_fetch_add(&fl->sent, sent);
        if (rc != 0) {
            fl->err = rc;
            break;
        }
        if (fl->pause_us) {
            struct timespec d = {0, (long)fl->pause_us * 1000L};
            nanosleep(&d, NULL);
        }
    }
    free(buf);
    free(tx);
    atomic_store(&fl->done, true);
    return NULL;
}

/* ---- a slow predicate that logs what it is offered (the spy) ---- */

typedef struct spy_entry {
    uint64_t seq;   /* UINT64_MAX: not a flood frame */
    uint64_t ts_ns; /* kernel receive time, CLOCK_REALTIME */
    uint16_t type;
} spy_entry;

typedef struct spy {
    uint64_t busy_ns; /* busy time per frame */
    size_t n, cap;
    spy_entry *log;
} spy;

static inline void spy_on_packet(void *st, const px_frame *f)
{
    spy *s = st;
    if (s->n < s->cap)
        s->log[s->n++] = (spy_entry){frame_seq(f), (uint64_t)f->ts.tv_sec * 1000000000ull + (uint64_t)f->ts.tv_nsec,
                                     frame_type(f)};
    uint64_t until = now_ns(CLOCK_MONOTONIC) + s->busy_ns;
    while (now_ns(CLOCK_MONOTONIC) < until)
        ;
}
static inline px_verdict spy_finish(void *st, bool timed_out, px_result *r)
{
    (void)timed_out;
    px_result_set_value(r, (int64_t)((spy *)st)->n);
    return PX_PASS;
}
static inline void spy_keep(void *st) { (void)st; } /* the fixture owns the state */
static const px_predicate_ops spy_ops = {.name = "slow_spy", .on_packet = spy_on_packet, .on_finish = spy_finish,
                                         .destroy = spy_keep};

static inline spy *spy_new(uint64_t busy_ns, size_t cap)
{
    spy *s = calloc(1, sizeof *s);
    s->busy_ns = busy_ns;
    s->cap = cap;
    s->log = calloc(cap, sizeof *s->log);
    return s;
}

/* ---- fixture: veth pairs, contexts, threads; teardown undoes all of it ---- */

typedef struct env {
    int npairs;
    px_ctx *ctx;  /* the context under test */
    px_ctx *sctx; /* a second context used only to send */
    flood fl;
    pthread_t flood_th;
    bool flood_running;
    pthread_t aux_th;
    bool aux_running;
    spy *spy;
    px_future *keep[16]; /* futures of the test: the teardown frees them, also after a failure */
    px_mark *marks[2];   /* marks of the test: the teardown frees them */
} env;

static inline int setup_n(void **state, int n)
{
    if (veth_pairs_add(g_pairs, n) != 0)
        return -1;
    env *e = calloc(1, sizeof *e);
    e->npairs = n;
    *state = e;
    return 0;
}
static inline int setup1(void **state) { return setup_n(state, 1); }
static inline int setup2(void **state) { return setup_n(state, 2); }

static inline void flood_start(env *e, px_ctx *ctx, const char *port, unsigned burst, unsigned pause_us,
                        unsigned marker_every, uint32_t max_ms)
{
    e->fl.ctx = ctx;
    e->fl.port = port;
    e->fl.burst = burst;
    e->fl.pause_us = pause_us;
    e->fl.marker_every = marker_every;
    e->fl.max_ms = max_ms;
    atomic_init(&e->fl.stop, false);
    atomic_init(&e->fl.done, false);
    atomic_init(&e->fl.sent, 0);
    assert_int_equal(pthread_create(&e->flood_th, NULL, flood_main, &e->fl), 0);
    e->flood_running = true;
}

static inline void flood_stop(env *e)
{
    if (!e->flood_running)
        return;
    atomic_store(&e->fl.stop, true);
    pthread_join(e->flood_th, NULL);
    e->flood_running = false;
}

/* Waits (bounded) until the flood has sent `n` frames; false if it never did. */
static inline bool flood_wait_sent(env *e, uint64_t n, unsigned max_ms)
{
    for (unsigned t = 0; t < max_ms; t += 5) {
        if (atomic_load(&e->fl.sent) >= n)
            return true;
        if (atomic_load(&e->fl.done))
            return false;
        sleep_ms(5);
    }
    return false;
}

static inline int teardown(void **state)
{
    env *e = *state;
    if (!e)
        return 0;
    flood_stop(e);
    if (e->aux_running)
        pthread_join(e->aux_th, NULL);
    for (size_t i = 0; i < sizeof e->keep / sizeof e->keep[0]; i++)
        px_future_free(e->keep[i]);
    for (size_t i = 0; i < sizeof e->marks / sizeof e->marks[0]; i++)
        px_mark_free(e->marks[i]);
    px_ctx_free(e->ctx);
    px_ctx_free(e->sctx);
    if (e->spy) {
        free(e->spy->log);
        free(e->spy);
    }
    int rc = veth_pairs_del(g_pairs, e->npairs);
    free(e);
    *state = NULL;
    return rc;
}

static inline px_ctx *ctx_new(uint32_t ring_mib)
{
    char err[PX_ERRBUF_SIZE];
    px_ctx *c = px_ctx_new(&(px_ctx_opts){.ring_mib = ring_mib}, err);
    if (!c)
        print_error("px_ctx_new: %s\n", err);
    assert_non_null(c);
    return c;
}

static inline void open_port(px_ctx *ctx, const char *port)
{
    char err[PX_ERRBUF_SIZE];
    int rc = px_port_open(ctx, port, err);
    if (rc != 0)
        print_error("px_port_open(%s): %s\n", port, err);
    assert_int_equal(rc, 0);
}

static inline void send_one(px_ctx *ctx, const char *port, uint16_t type, uint64_t seq)
{
    uint8_t frame[FRAME_LEN];
    char err[PX_ERRBUF_SIZE];
    make_frame(frame, type, seq);
    int rc = px_send(ctx, port, frame, sizeof frame, err);
    if (rc != 0)
        print_error("px_send(%s): %s\n", port, err);
    assert_int_equal(rc, 0);
}

static inline bool contains(const char *s, const char *needle)
{
    return s && strstr(s, needle) != NULL;
}

/* Opens port b of pair 0 in a new context with a `ring_mib` MiB ring and arms
 * the slow spy on it (300 us a frame, a log of `cap` frames) for `timeout_ms`.
 * Fills e->ctx, e->spy and e->keep[0] (the spy's future); the teardown frees
 * them. */
static inline void spy_on_port(env *e, uint32_t ring_mib, size_t cap, uint32_t timeout_ms)
{
    const veth_pair *p = &g_pairs[0];
    e->ctx = ctx_new(ring_mib);
    open_port(e->ctx, p->b);
    e->spy = spy_new(300000, cap);
    e->keep[0] =
        px_expect(e->ctx, p->b, px_predicate_new(&spy_ops, e->spy), &(px_expect_opts){.timeout_ms = timeout_ms});
}

#endif
