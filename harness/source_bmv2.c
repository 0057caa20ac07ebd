/* pktexpect: ports on BMv2's nanomsg packet interface (protocol: bmv2.h).
 *
 * Threading. The switch takes one peer per address, so all the ports of one
 * address share one PAIR socket per context, a "hub". Each hub has one reader
 * thread, the only thread that receives on the socket: it takes each
 * PACKET_OUT message, stamps it and appends it to the queue of the port whose
 * number it carries, then writes that port's eventfd. The eventfd is the
 * port's source descriptor, so each port's own capture thread sleeps and
 * wakes as it does on a ring, and reads its queue through the source vtable.
 * (One capture thread owning the socket for all its ports would break the
 * engine's one-thread-per-port model: windows, parked arms and lag are per
 * port.) Senders of any thread send on the socket directly (nanomsg sockets
 * are thread-safe); nothing is sent by the reader but its liveness checks.
 *
 * Timestamps. A frame is stamped with CLOCK_REALTIME by the reader thread
 * when it queues it for the port, under the queue's lock, right after
 * nanomsg delivered it: the time the frame came out of the switch's port as
 * pktexpect saw it (BMv2's own processing and the socket's transit come
 * before it, as a link's do before a ring's kernel stamp). Because the stamp
 * is taken under the lock the capture thread reads the queue with, a queue
 * found empty at time T has no frame stamped before T still to come: windows,
 * deadlines, lag, counts and evidence work as on a live interface.
 *
 * Losses. A queue holds at most QUEUE_MAX frames; a frame that finds it full
 * is dropped and counted as the port's drops (verdicts that depend on absence
 * or counts become ERROR, as with a full ring). Frames for port numbers that
 * no port of this context captures are discarded, as a switch port with no
 * link would.
 *
 * Errors. An address that does not answer an INFO_REQ within CONNECT_MS fails
 * the open ("is simple_switch running with --packet-in ADDR?"). When the
 * switch goes away (the connection count drops to 0) the hub is dead: every
 * port of it reads its queued frames, then fails with the reason, so its
 * pending expectations resolve ERROR; sends fail; the next use of the address
 * makes a new hub. */
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pair.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bmv2.h"
#include "ctx_internal.h"
#include "source.h"

enum {
    MSG_PORT_ADD = 0,
    MSG_PORT_REMOVE = 1,
    MSG_PORT_SET_STATUS = 2,
    MSG_PACKET_IN = 3,
    MSG_PACKET_OUT = 4,
    MSG_INFO_REQ = 5,
    MSG_INFO_REP = 6,
};
#define HDR_LEN 12

#define CONNECT_MS 3000   /* first use: the switch must answer an INFO_REQ by then */
#define SEND_MS 2000      /* a send the switch does not take by then fails */
#define TICK_MS 50        /* the reader's receive timeout: its liveness check period */
#define INFO_RESEND_MS 200 /* an INFO_REQ unanswered by then is sent again (hub_connect) */
#define QUEUE_MAX PX__BMV2_QUEUE_MAX

typedef struct qent {
    void *msg;            /* nanomsg message: header + frame; nn_freemsg */
    uint32_t len;         /* frame length */
    struct timespec ts;
    bool losing;          /* frames were dropped just before this one */
} qent;

typedef struct bmv2_source bmv2_source;

typedef enum { HUB_OPENING, HUB_READY, HUB_FAILED, HUB_DEAD } hub_state;

struct px__bmv2_hub {
    char addr[PX__BMV2_ADDR_MAX];
    int sock, eid;                /* constant once READY */
    uint64_t broken0;             /* broken connections counted when it became READY */
    pthread_t reader;
    bool reader_started;
    atomic_bool stop;
    /* guarded by lock */
    pthread_mutex_t lock;
    pthread_cond_t opened;
    hub_state state;
    int open_rc;
    char msg[PX_ERRBUF_SIZE];     /* FAILED / DEAD: why */
    int *added;                   /* port numbers announced with PORT_ADD */
    size_t nadded, capadded;
    bmv2_source *sources;         /* capturing ports, newest first */
    px__bmv2_hub *next;           /* in the context's list */
};

struct bmv2_source {
    px__source base;              /* fd: the eventfd the reader writes */
    px__bmv2_hub *hub;
    char name[PX__NETNS_MAX + IF_NAMESIZE];
    int port;
    /* guarded by hub->lock */
    qent *q;
    size_t cap, head, count;
    uint64_t drops;
    bool losing;
    bmv2_source *next;
    /* capture thread only */
    void *cur;
};

typedef struct hubs {
    pthread_mutex_t lock;         /* guards list and each hub's state transitions out of OPENING */
    px__bmv2_hub *list;
} hubs;

bool px__bmv2_is_name(const char *name)
{
    return name && strncmp(name, PX__BMV2_PREFIX, sizeof PX__BMV2_PREFIX - 1) == 0;
}

int px__bmv2_parse(const char *name, char addr[PX__BMV2_ADDR_MAX], int *port, char *errbuf)
{
    static const char form[] = "the form is bmv2:ipc:///PATH:N or bmv2:tcp://HOST:PORT:N, N the switch port number";
    const char *a = name + sizeof PX__BMV2_PREFIX - 1;
    const char *colon = strrchr(a, ':');
    if (strlen(name) >= PX__NETNS_MAX + IF_NAMESIZE) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "port name '%.40s...' is too long (at most %d characters)", name,
                 PX__NETNS_MAX + IF_NAMESIZE - 1);
        return PX_EINVAL;
    }
    if ((strncmp(a, "ipc://", 6) != 0 && strncmp(a, "tcp://", 6) != 0) || !colon || colon - a <= 6) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "port '%s': %s", name, form);
        return PX_EINVAL;
    }
    const char *n = colon + 1;
    /* One spelling per port: the port's name is its identity in the context. */
    bool ok = *n && strspn(n, "0123456789") == strlen(n) && (n[0] != '0' || n[1] == '\0') && strlen(n) <= 9;
    if (!ok) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "port '%s': '%s' is not a port number (decimal, no leading zero); %s",
                 name, n, form);
        return PX_EINVAL;
    }
    size_t alen = (size_t)(colon - a);
    if (alen >= PX__BMV2_ADDR_MAX) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "port '%s': address too long", name);
        return PX_EINVAL;
    }
    memcpy(addr, a, alen);
    addr[alen] = '\0';
    *port = atoi(n);
    return 0;
}

static void put_le32(uint8_t *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    b[0] = (uint8_t)u;
    b[1] = (uint8_t)(u >> 8);
    b[2] = (uint8_t)(u >> 16);
    b[3] = (uint8_t)(u >> 24);
}

static int32_t get_le32(const uint8_t *b)
{
    return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

static void make_hdr(uint8_t h[HDR_LEN], int type, int port, int more)
{
    put_le32(h, type);
    put_le32(h + 4, port);
    put_le32(h + 8, more);
}

/* ---- the reader thread ---- */

/* Under h->lock: the hub is dead; wakes every port so that it fails. */
static void hub_die_locked(px__bmv2_hub *h, const char *why)
{
    if (h->state == HUB_DEAD)
        return;
    h->state = HUB_DEAD;
    snprintf(h->msg, sizeof h->msg, "%s", why);
    for (bmv2_source *s = h->sources; s; s = s->next) {
        uint64_t one = 1;
        ssize_t r = write(s->base.fd, &one, sizeof one);
        (void)r;
    }
}

static void deliver(px__bmv2_hub *h, void *msg, int len)
{
    const uint8_t *b = msg;
    int type = get_le32(b), port = get_le32(b + 4), more = get_le32(b + 8);
    if (type != MSG_PACKET_OUT) {
        nn_freemsg(msg); /* INFO_REP to a liveness check, or nothing a switch sends */
        return;
    }
    uint32_t flen = (uint32_t)(len - HDR_LEN);
    if (more >= 0 && (uint32_t)more < flen)
        flen = (uint32_t)more;
    pthread_mutex_lock(&h->lock);
    bmv2_source *s = h->sources;
    while (s && s->port != port)
        s = s->next;
    if (!s) {
        pthread_mutex_unlock(&h->lock);
        nn_freemsg(msg);
        return;
    }
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        qent *q = cap <= QUEUE_MAX ? malloc(cap * sizeof *q) : NULL;
        if (!q) {
            s->drops++;
            s->losing = true;
            pthread_mutex_unlock(&h->lock);
            nn_freemsg(msg);
            return;
        }
        for (size_t i = 0; i < s->count; i++)
            q[i] = s->q[(s->head + i) % s->cap];
        free(s->q);
        s->q = q;
        s->cap = cap;
        s->head = 0;
    }
    qent *e = &s->q[(s->head + s->count) % s->cap];
    e->msg = msg;
    e->len = flen;
    clock_gettime(CLOCK_REALTIME, &e->ts); /* under the lock: see the file comment */
    e->losing = s->losing;
    s->losing = false;
    s->count++;
    if (s->count == 1) {
        uint64_t one = 1;
        ssize_t r = write(s->base.fd, &one, sizeof one);
        (void)r;
    }
    pthread_mutex_unlock(&h->lock);
}

/* Is the switch still the one connected at the open? nanomsg reconnects
 * silently; a closed connection shows only in its statistics (a switch that
 * restarted between two checks too: its old connection counts as broken). */
static bool still_connected(px__bmv2_hub *h)
{
    return nn_get_statistic(h->sock, NN_STAT_CURRENT_CONNECTIONS) > 0 &&
           nn_get_statistic(h->sock, NN_STAT_BROKEN_CONNECTIONS) == h->broken0;
}

static void *reader_main(void *arg)
{
    px__bmv2_hub *h = arg;
    int64_t next_check = px__mono_ns() + TICK_MS * 1000000LL;
    while (!atomic_load(&h->stop)) {
        void *msg = NULL;
        int r = nn_recv(h->sock, &msg, NN_MSG, 0);
        int e = r < 0 ? nn_errno() : 0;
        bool quiet = e == EAGAIN || e == ETIMEDOUT || e == EINTR;
        if (r >= HDR_LEN)
            deliver(h, msg, r);
        else if (r >= 0)
            nn_freemsg(msg);
        if (r >= 0 || quiet) {
            /* Checked when quiet, and every TICK_MS under traffic. */
            int64_t now = px__mono_ns();
            if (now < next_check || still_connected(h)) {
                if (now >= next_check)
                    next_check = now + TICK_MS * 1000000LL;
                continue;
            }
        }
        char why[PX_ERRBUF_SIZE];
        if (quiet || r >= 0)
            snprintf(why, sizeof why,
                     "the BMv2 switch at %s went away (its connection closed): did simple_switch exit?", h->addr);
        else
            snprintf(why, sizeof why, "the BMv2 switch at %s: receive failed: %s", h->addr, nn_strerror(e));
        /* Do not reconnect: a switch that comes back must not be taken for the
         * same run (frames were lost meanwhile); a new use makes a new hub. */
        (void)nn_shutdown(h->sock, h->eid);
        pthread_mutex_lock(&h->lock);
        hub_die_locked(h, why);
        pthread_mutex_unlock(&h->lock);
        break;
    }
    return NULL;
}

/* ---- opening a hub ---- */

static int set_ms(int sock, int opt, int ms)
{
    return nn_setsockopt(sock, NN_SOL_SOCKET, opt, &ms, sizeof ms);
}

/* Connects and waits for the switch's INFO_REP. Runs without locks. */
static int hub_connect(px__bmv2_hub *h, char *errbuf)
{
    h->sock = nn_socket(AF_SP, NN_PAIR);
    if (h->sock < 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "bmv2 %s: nanomsg socket: %s", h->addr, nn_strerror(nn_errno()));
        return PX_ESYS;
    }
    int maxsz = -1; /* frames of any size */
    (void)nn_setsockopt(h->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsz, sizeof maxsz);
    h->eid = nn_connect(h->sock, h->addr);
    if (h->eid < 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "bmv2 %s: cannot use this address: %s", h->addr, nn_strerror(nn_errno()));
        return PX_EINVAL;
    }
    static const char hint[] = "is simple_switch running with --packet-in";
    uint8_t req[HDR_LEN];
    make_hdr(req, MSG_INFO_REQ, 0, 1);
    /* The request is sent again every INFO_RESEND_MS until the reply comes: a
     * switch whose previous peer (another context, the last run) has just gone
     * may still hold that connection and refuse this one, which nanomsg then
     * makes again, and a request sent meanwhile is lost. A switch answers every
     * INFO_REQ; the reader thread discards replies that come late. */
    int64_t until = px__mono_ns() + CONNECT_MS * 1000000LL, resend_at = 0;
    for (;;) {
        int64_t now = px__mono_ns();
        if (now >= until)
            break;
        if (now >= resend_at) {
            /* Blocks while no connection is up: the switch may still be starting. */
            set_ms(h->sock, NN_SNDTIMEO, (int)((until - now) / 1000000LL) + 1);
            if (nn_send(h->sock, req, sizeof req, 0) < 0) {
                snprintf(errbuf, PX_ERRBUF_SIZE, "bmv2 %s: no switch took a connection within %d ms (%s %s?)",
                         h->addr, CONNECT_MS, hint, h->addr);
                return PX_ETIMEDOUT;
            }
            now = px__mono_ns();
            resend_at = now + INFO_RESEND_MS * 1000000LL;
        }
        int64_t wait = (resend_at < until ? resend_at : until) - now;
        set_ms(h->sock, NN_RCVTIMEO, (int)(wait / 1000000LL) + 1);
        void *msg = NULL;
        int r = nn_recv(h->sock, &msg, NN_MSG, 0);
        if (r < 0) {
            int e = nn_errno();
            if (e == ETIMEDOUT || e == EAGAIN || e == EINTR)
                continue;
            break;
        }
        bool rep = r >= HDR_LEN && get_le32(msg) == MSG_INFO_REP;
        nn_freemsg(msg); /* anything before the reply: no port captures yet */
        if (rep) {
            h->broken0 = nn_get_statistic(h->sock, NN_STAT_BROKEN_CONNECTIONS);
            set_ms(h->sock, NN_SNDTIMEO, SEND_MS);
            set_ms(h->sock, NN_RCVTIMEO, TICK_MS);
            return 0;
        }
    }
    snprintf(errbuf, PX_ERRBUF_SIZE, "bmv2 %s: connected, but no answer to an info request within %d ms (%s %s?)",
             h->addr, CONNECT_MS, hint, h->addr);
    return PX_ETIMEDOUT;
}

static hubs *hubs_of(px_ctx *ctx)
{
    pthread_mutex_lock(&ctx->lock);
    hubs *hs = ctx->bmv2;
    if (!hs && (hs = calloc(1, sizeof *hs))) {
        pthread_mutex_init(&hs->lock, NULL);
        ctx->bmv2 = hs;
    }
    pthread_mutex_unlock(&ctx->lock);
    return hs;
}

/* The usable hub of `addr`, opened by this thread if there is none. */
static int hub_open(px_ctx *ctx, const char *addr, px__bmv2_hub **out, char *errbuf)
{
    hubs *hs = hubs_of(ctx);
    if (!hs) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "bmv2 %s: out of memory", addr);
        return PX_ENOMEM;
    }
    pthread_mutex_lock(&hs->lock);
    px__bmv2_hub *h;
    for (h = hs->list; h; h = h->next) {
        if (strcmp(h->addr, addr) != 0)
            continue;
        pthread_mutex_lock(&h->lock);
        bool waited = false;
        while (h->state == HUB_OPENING) {
            waited = true;
            pthread_mutex_unlock(&hs->lock);
            pthread_cond_wait(&h->opened, &h->lock);
            pthread_mutex_unlock(&h->lock);
            pthread_mutex_lock(&hs->lock);
            pthread_mutex_lock(&h->lock);
        }
        hub_state st = h->state;
        int rc = h->open_rc;
        /* A failure goes to the callers that waited for that open; later ones try afresh. */
        if (st == HUB_FAILED && waited)
            snprintf(errbuf, PX_ERRBUF_SIZE, "%s", h->msg);
        pthread_mutex_unlock(&h->lock);
        if (st == HUB_READY) {
            pthread_mutex_unlock(&hs->lock);
            *out = h;
            return 0;
        }
        if (st == HUB_FAILED && waited) {
            pthread_mutex_unlock(&hs->lock);
            return rc;
        }
        /* dead, or failed earlier: look on, then make a new one */
    }
    h = calloc(1, sizeof *h);
    if (!h) {
        pthread_mutex_unlock(&hs->lock);
        snprintf(errbuf, PX_ERRBUF_SIZE, "bmv2 %s: out of memory", addr);
        return PX_ENOMEM;
    }
    snprintf(h->addr, sizeof h->addr, "%s", addr);
    h->sock = h->eid = -1;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->opened, NULL);
    h->state = HUB_OPENING;
    h->next = hs->list; /* newest first: found before the dead ones */
    hs->list = h;
    pthread_mutex_unlock(&hs->lock);

    int rc = hub_connect(h, errbuf);
    if (rc == 0) {
        int err = pthread_create(&h->reader, NULL, reader_main, h);
        if (err) {
            snprintf(errbuf, PX_ERRBUF_SIZE, "bmv2 %s: cannot start the reader thread: %s", addr, strerror(err));
            rc = PX_ESYS;
        } else {
            h->reader_started = true;
        }
    }
    if (rc != 0 && h->sock >= 0) {
        /* Nobody else has seen the socket: close it now, so that the switch's
         * one peer slot is free and retries do not pile up sockets. */
        nn_close(h->sock);
        h->sock = -1;
    }
    pthread_mutex_lock(&h->lock);
    h->state = rc == 0 ? HUB_READY : HUB_FAILED;
    h->open_rc = rc;
    if (rc != 0)
        snprintf(h->msg, sizeof h->msg, "%s", errbuf);
    pthread_cond_broadcast(&h->opened);
    pthread_mutex_unlock(&h->lock);
    if (rc == 0)
        *out = h;
    return rc;
}

/* Announces `port` to the switch once per hub. */
static int hub_add_port(px__bmv2_hub *h, int port, char *errbuf)
{
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->nadded; i++)
        if (h->added[i] == port) {
            pthread_mutex_unlock(&h->lock);
            return 0;
        }
    if (h->nadded == h->capadded) {
        size_t cap = h->capadded ? h->capadded * 2 : 8;
        int *a = realloc(h->added, cap * sizeof *a);
        if (!a) {
            pthread_mutex_unlock(&h->lock);
            snprintf(errbuf, PX_ERRBUF_SIZE, "bmv2 %s: out of memory", h->addr);
            return PX_ENOMEM;
        }
        h->added = a;
        h->capadded = cap;
    }
    h->added[h->nadded++] = port;
    pthread_mutex_unlock(&h->lock);
    uint8_t m[HDR_LEN];
    make_hdr(m, MSG_PORT_ADD, port, 0);
    if (nn_send(h->sock, m, sizeof m, 0) < 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "bmv2 %s: adding port %d: %s", h->addr, port, nn_strerror(nn_errno()));
        pthread_mutex_lock(&h->lock);
        h->nadded--; /* tried again by the next use */
        pthread_mutex_unlock(&h->lock);
        return PX_EGONE;
    }
    return 0;
}

int px__bmv2_hub_get(px_ctx *ctx, const char *name, px__bmv2_hub **out, int *port, char *errbuf)
{
    char addr[PX__BMV2_ADDR_MAX];
    int rc = px__bmv2_parse(name, addr, port, errbuf);
    if (rc == 0)
        rc = hub_open(ctx, addr, out, errbuf);
    if (rc == 0)
        rc = hub_add_port(*out, *port, errbuf);
    return rc;
}

bool px__bmv2_hub_dead(px__bmv2_hub *h)
{
    pthread_mutex_lock(&h->lock);
    bool dead = h->state == HUB_DEAD;
    pthread_mutex_unlock(&h->lock);
    return dead;
}

size_t px__bmv2_send(px__bmv2_hub *h, const char *name, int port, const struct iovec *iov, size_t n, int *rc,
                     char *errbuf)
{
    *rc = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t hdr[HDR_LEN];
        make_hdr(hdr, MSG_PACKET_IN, port, (int)iov[i].iov_len);
        struct nn_iovec v[2] = {{hdr, sizeof hdr}, {iov[i].iov_base, iov[i].iov_len}};
        struct nn_msghdr m = {.msg_iov = v, .msg_iovlen = 2};
        if (nn_sendmsg(h->sock, &m, 0) >= 0)
            continue;
        int e = nn_errno();
        pthread_mutex_lock(&h->lock);
        if (h->state == HUB_DEAD) {
            *rc = PX_EGONE;
            snprintf(errbuf, PX_ERRBUF_SIZE, "send on '%s': %s (%zu of %zu frames went out)", name, h->msg, i, n);
        } else if (e == EAGAIN || e == ETIMEDOUT) {
            *rc = PX_ETIMEDOUT;
            snprintf(errbuf, PX_ERRBUF_SIZE,
                     "send on '%s': the BMv2 switch at %s took no frame within %d ms (%zu of %zu frames went out)",
                     name, h->addr, SEND_MS, i, n);
        } else {
            *rc = PX_EIO;
            snprintf(errbuf, PX_ERRBUF_SIZE, "send on '%s': %s (%zu of %zu frames went out)", name, nn_strerror(e),
                     i, n);
        }
        pthread_mutex_unlock(&h->lock);
        return i;
    }
    return n;
}

void px__bmv2_ctx_free(void *p)
{
    hubs *hs = p;
    if (!hs)
        return;
    px__bmv2_hub *h = hs->list;
    while (h) {
        px__bmv2_hub *next = h->next;
        atomic_store(&h->stop, true);
        if (h->reader_started)
            pthread_join(h->reader, NULL); /* within TICK_MS */
        if (h->sock >= 0)
            nn_close(h->sock);
        free(h->added);
        pthread_cond_destroy(&h->opened);
        pthread_mutex_destroy(&h->lock);
        free(h);
        h = next;
    }
    pthread_mutex_destroy(&hs->lock);
    free(hs);
}

/* ---- the capture source ---- */

static int bsrc_next(px__source *base, px__src_frame *f, char *errbuf)
{
    bmv2_source *s = (bmv2_source *)base;
    px__bmv2_hub *h = s->hub;
    pthread_mutex_lock(&h->lock);
    if (s->count) {
        qent e = s->q[s->head];
        s->head = (s->head + 1) % s->cap;
        s->count--;
        pthread_mutex_unlock(&h->lock);
        s->cur = e.msg;
        f->data = (uint8_t *)e.msg + HDR_LEN;
        f->caplen = f->wirelen = e.len;
        f->ts = e.ts;
        f->flags = e.losing ? PX__SRC_LOSING : 0;
        return 1;
    }
    /* Empty: reset the eventfd under the lock, so the next frame sets it again. */
    uint64_t v;
    ssize_t r = read(base->fd, &v, sizeof v);
    (void)r;
    int rc = 0;
    if (h->state == HUB_DEAD) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s' stopped: %s", s->name, h->msg);
        rc = PX_EGONE;
    }
    pthread_mutex_unlock(&h->lock);
    return rc;
}

static void bsrc_release(px__source *base)
{
    bmv2_source *s = (bmv2_source *)base;
    if (s->cur)
        nn_freemsg(s->cur);
    s->cur = NULL;
}

/* The drops (backlog false) or the frames queued (true), read under the lock. */
static uint64_t locked_count(px__source *base, bool backlog)
{
    bmv2_source *s = (bmv2_source *)base;
    pthread_mutex_lock(&s->hub->lock);
    uint64_t n = backlog ? s->count : s->drops;
    pthread_mutex_unlock(&s->hub->lock);
    return n;
}

static uint64_t bsrc_drops(px__source *base)
{
    return locked_count(base, false);
}

static uint64_t bsrc_backlog(px__source *base)
{
    return locked_count(base, true);
}

static void bsrc_close(px__source *base)
{
    bmv2_source *s = (bmv2_source *)base;
    bsrc_release(base);
    if (s->hub) {
        pthread_mutex_lock(&s->hub->lock);
        for (bmv2_source **pp = &s->hub->sources; *pp; pp = &(*pp)->next)
            if (*pp == s) {
                *pp = s->next;
                break;
            }
        pthread_mutex_unlock(&s->hub->lock);
    }
    for (size_t i = 0; i < s->count; i++)
        nn_freemsg(s->q[(s->head + i) % s->cap].msg);
    free(s->q);
    if (base->fd >= 0)
        close(base->fd);
    free(s);
}

static const px__source_ops bmv2_ops = {
    .kind = "bmv2",
    .next = bsrc_next,
    .release = bsrc_release,
    .drops = bsrc_drops,
    .backlog = bsrc_backlog,
    .close = bsrc_close,
};

int px__source_bmv2_open(px_ctx *ctx, const char *name, px__source **out, char *errbuf)
{
    bmv2_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory opening '%s'", name);
        return PX_ENOMEM;
    }
    s->base.ops = &bmv2_ops;
    s->base.live = true;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->base.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->base.fd < 0) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': eventfd: %s", name, strerror(errno));
        bsrc_close(&s->base);
        return PX_ESYS;
    }
    px__bmv2_hub *h;
    int rc = px__bmv2_hub_get(ctx, name, &h, &s->port, errbuf);
    if (rc != 0) {
        bsrc_close(&s->base);
        return rc;
    }
    pthread_mutex_lock(&h->lock);
    if (h->state == HUB_DEAD) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "capture on '%s': %s", name, h->msg);
        rc = PX_EGONE;
    } else {
        s->hub = h;
        s->next = h->sources; /* newest first: a reopened port takes over its number */
        h->sources = s;
    }
    pthread_mutex_unlock(&h->lock);
    if (rc != 0) {
        bsrc_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}
