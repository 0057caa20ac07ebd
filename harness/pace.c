/* pktexpect: paced sending (px_send_paced, see include/pktexpect/send.h).
 *
 * Frame i is due at t0 + i / rate. The thread sleeps with clock_nanosleep to the
 * absolute due time of the next frame (absolute deadlines never accumulate drift)
 * and, when it wakes, sends every frame that is due in one sendmmsg batch. The
 * long-run rate is therefore exact whatever the wake-up latency, and the per-frame
 * jitter is that latency. No busy loop: the thread's timer slack is lowered to
 * 1 ns for the run (and restored) so the kernel does not round the sleeps up by
 * its default 50 us, which is half a frame interval at 10k frames/s.
 *
 * Every sleep can be cut short by the context's cancel descriptor (see pace.h):
 * the run then stops with PX_ECANCELED and the report of what was sent.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "pace.h"
#include "pktexpect/error.h"
#include "send_internal.h"

/* Most frames sent in one wake-up when behind schedule. */
#define PACE_BATCH 256

bool px__cancelled(px_ctx *ctx)
{
    int fd = px__ctx_cancel_fd(ctx);
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

int px__sleep_until(px_ctx *ctx, uint64_t t_ns)
{
    int fd = px__ctx_cancel_fd(ctx);
    if (fd < 0) {
        struct timespec ts = {.tv_sec = (time_t)(t_ns / 1000000000u), .tv_nsec = (long)(t_ns % 1000000000u)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
            /* EINTR: sleep again to the same absolute deadline */
        }
        return 0;
    }
    for (;;) {
        uint64_t now = px__now_ns(CLOCK_MONOTONIC);
        if (now >= t_ns)
            return px__cancelled(ctx) ? PX_ECANCELED : 0;
        uint64_t left = t_ns - now;
        struct timespec rel = {.tv_sec = (time_t)(left / 1000000000u), .tv_nsec = (long)(left % 1000000000u)};
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = ppoll(&p, 1, &rel, NULL);
        if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
            return PX_ECANCELED;
        /* n == 0: timeout, loop checks the time; n < 0: EINTR, same */
    }
}

uint64_t px__time_add(uint64_t t0, double ns)
{
    /* 1.8e19 < 2^64: a double below it converts exactly enough and cannot overflow. */
    if (!(ns >= 0) || ns >= 1.8e19 - (double)t0)
        return ns >= 0 ? UINT64_MAX : t0;
    uint64_t add = (uint64_t)ns;
    return add > UINT64_MAX - t0 ? UINT64_MAX : t0 + add;
}

ssize_t px__read_fd(px_ctx *ctx, int fd, void *buf, size_t len)
{
    for (;;) {
        int cfd = px__ctx_cancel_fd(ctx);
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = cfd, .events = POLLIN}};
        int n = poll(p, cfd >= 0 ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (cfd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            errno = ECANCELED;
            return -1;
        }
        if (!p[0].revents)
            continue;
        ssize_t r = read(fd, buf, len);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        return r;
    }
}

typedef struct schedule {
    uint64_t t0;
    double fps, bps;
} schedule;

/* Due time of the frame after `sent` frames and `bits` bits. */
static uint64_t due(const schedule *s, uint64_t sent, uint64_t bits)
{
    if (s->fps > 0)
        return px__time_add(s->t0, (double)sent * 1e9 / s->fps);
    if (s->bps > 0)
        return px__time_add(s->t0, (double)bits * 1e9 / s->bps);
    return s->t0;
}

static int bad(char *errbuf, const char *msg)
{
    if (errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "paced send: %s", msg);
    return PX_EINVAL;
}

int px_send_paced(px_ctx *ctx, const char *port, const px_tx_frame *frames, size_t nframes,
                  const px_send_opts *opts, const px_pace_opts *pace, px_pace_report *report, char *errbuf)
{
    px_pace_report rep;
    memset(&rep, 0, sizeof rep);
    if (report)
        *report = rep;
    if (!frames || nframes == 0)
        return bad(errbuf, "no frames given");
    if (!pace || (pace->count == 0 && pace->duration_ms == 0))
        return bad(errbuf, "give a frame count, a duration or both");
    if (!(pace->rate_fps >= 0 && pace->rate_bps >= 0) || !isfinite(pace->rate_fps) || !isfinite(pace->rate_bps))
        return bad(errbuf, "rates must be finite and >= 0");
    if (pace->rate_fps > 0 && pace->rate_bps > 0)
        return bad(errbuf, "give a rate in frames/s or in bit/s, not both");
    if ((pace->rate_fps > 0 && (pace->rate_fps < PX_PACE_FPS_MIN || pace->rate_fps > PX_PACE_FPS_MAX)) ||
        (pace->rate_bps > 0 && (pace->rate_bps < PX_PACE_BPS_MIN || pace->rate_bps > PX_PACE_BPS_MAX))) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE,
                     "paced send: rate out of range: give %g to %g frames/s or %g to %g bit/s", PX_PACE_FPS_MIN,
                     PX_PACE_FPS_MAX, PX_PACE_BPS_MIN, PX_PACE_BPS_MAX);
        return PX_ERANGE;
    }

    px__txport *tp;
    uint32_t mtu;
    int rc = px__tx_resolve(ctx, port, &tp, &mtu, errbuf);
    if (rc < 0)
        return rc;
    const uint64_t tag_base = px__tx_first_tag(ctx, opts);
    const size_t extra = opts && opts->push_vlan ? 4 : 0;
    const bool paced = pace->rate_fps > 0 || pace->rate_bps > 0;
    const size_t batch_max = paced ? PACE_BATCH : 1024;

    px_tx_frame *batch = calloc(batch_max, sizeof *batch);
    if (!batch) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "paced send: out of memory");
        return PX_ENOMEM;
    }
    int old_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    if (paced)
        prctl(PR_SET_TIMERSLACK, 1ul, 0, 0, 0);

    schedule sch = {.t0 = px__now_ns(CLOCK_MONOTONIC), .fps = pace->rate_fps, .bps = pace->rate_bps};
    const uint64_t end = pace->duration_ms ? px__time_add(sch.t0, (double)pace->duration_ms * 1e6) : UINT64_MAX;
    uint64_t bits = 0, late_sum = 0, nbatches = 0;

    for (;;) {
        if (pace->count && rep.sent >= pace->count)
            break;
        uint64_t now = px__now_ns(CLOCK_MONOTONIC);
        if (now >= end)
            break;
        uint64_t next = due(&sch, rep.sent, bits);
        if (next > now) {
            if (next >= end) {
                rc = px__sleep_until(ctx, end);
                break;
            }
            if ((rc = px__sleep_until(ctx, next)) < 0)
                break;
            continue;
        }
        /* Sleeps are cancel points; a run that never sleeps (unpaced, or paced but
         * behind) polls the descriptor every 64 batches: a few ms at full speed,
         * without a system call per batch. */
        if ((++nbatches & 63) == 0 && px__cancelled(ctx)) {
            rc = PX_ECANCELED;
            break;
        }
        /* Gather every frame due by now (at least the one that is). */
        size_t k = 0;
        uint64_t kbits = bits;
        uint64_t dues[PACE_BATCH];
        while (k < batch_max && (!pace->count || rep.sent + k < pace->count)) {
            uint64_t d = due(&sch, rep.sent + k, kbits);
            if (d > now || d >= end)
                break;
            if (paced)
                dues[k] = d;
            batch[k] = frames[(rep.sent + k) % nframes];
            kbits += (batch[k].len + extra) * 8u;
            k++;
        }
        size_t done = 0;
        uint64_t t_send = px__now_ns(CLOCK_MONOTONIC);
        rc = px__tx_burst(ctx, tp, mtu, batch, k, opts, tag_base + rep.sent, &done, errbuf);
        for (size_t j = 0; j < done; j++) {
            if (paced) {
                uint64_t late = t_send - dues[j];
                late_sum += late;
                if (late > rep.late_max_ns)
                    rep.late_max_ns = late;
            }
            rep.bytes += batch[j].len + extra;
            bits += (batch[j].len + extra) * 8u;
        }
        rep.sent += done;
        if (rc < 0)
            break;
    }
    uint64_t t_end = px__now_ns(CLOCK_MONOTONIC);
    /* A paced run of N frames lasts until frame N+1 would be due: N / rate. */
    if (paced && rc == 0 && pace->count && rep.sent == pace->count) {
        uint64_t period_end = due(&sch, rep.sent, bits);
        if (period_end > t_end && period_end < end) {
            rc = px__sleep_until(ctx, period_end);
            t_end = rc == 0 ? period_end : px__now_ns(CLOCK_MONOTONIC);
        }
    }
    if (paced)
        prctl(PR_SET_TIMERSLACK, old_slack > 0 ? (unsigned long)old_slack : 50000ul, 0, 0, 0);
    free(batch);

    rep.elapsed_ns = t_end - sch.t0;
    if (rep.elapsed_ns > 0) {
        rep.achieved_fps = (double)rep.sent * 1e9 / (double)rep.elapsed_ns;
        rep.achieved_bps = (double)rep.bytes * 8e9 / (double)rep.elapsed_ns;
    }
    if (rep.sent)
        rep.late_mean_ns = late_sum / rep.sent;
    if (report)
        *report = rep;
    if (rc == PX_ECANCELED && errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "paced send on '%s': cancelled after %llu frames", port,
                 (unsigned long long)rep.sent);
    return rc;
}
