/* bench_send: figures of the send side on a veth pair (needs root).
 *
 *  1. px_send_burst frames/s for 64- and 1500-byte frames, next to the same
 *     frames (same veth, same count, same batch of 1024) sent by a bare sendmmsg
 *     loop, by `trafgen` (netsniff-ng: PACKET_TX_RING, one process, qdisc path)
 *     and by `tcpreplay --topspeed -K`, back to back in every run; ratios are
 *     taken run by run. Nothing captures on the pair during these runs (the
 *     context opens no port for capture until part 2); one extra figure gives
 *     px_send_burst with both ends open for capture, as a test has them;
 *  2. pacing accuracy of px_send_paced at 10k and 100k frames/s (1 s each):
 *     achieved rate error, the sender's lateness behind schedule, and the
 *     deviation of the inter-arrival gaps (kernel timestamps, seen by the harness
 *     on the receiving end) from the ideal interval; next to the machine's own
 *     wake-up latency (a bare clock_nanosleep loop), which bounds it.
 *
 * Usage: bench_send [--runs N] [--frames N] [--quick] [--burst-only] [--help]
 * Table on stdout, JSON lines in results/bench_send.json (see pxb_util.h).
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <math.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pktexpect/pktexpect.h"
#include "pktexpect/send.h"
#include "pktexpect/topology.h"
#include "pxb_util.h"

#define ETH_TEST 0x88b5

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void make_frame(uint8_t *b, size_t len)
{
    memset(b, 0xff, 6);
    const uint8_t src[6] = {2, 0, 0, 0, 0, 0x42};
    memcpy(b + 6, src, 6);
    b[12] = ETH_TEST >> 8;
    b[13] = ETH_TEST & 0xff;
    for (size_t i = 14; i < len; i++)
        b[i] = (uint8_t)i;
}

/* ---- part 1: burst throughput vs tcpreplay ---- */

static double burst_fps(px_ctx *ctx, const char *port, size_t len, size_t n)
{
    uint8_t frame[1514];
    make_frame(frame, len);
    px_tx_frame *fr = malloc(n * sizeof *fr);
    if (!fr)
        return 0;
    for (size_t i = 0; i < n; i++)
        fr[i] = (px_tx_frame){frame, len};
    char err[PX_ERRBUF_SIZE];
    size_t sent = 0;
    double t0 = now_s();
    int rc = px_send_burst(ctx, port, fr, n, NULL, &sent, err);
    double dt = now_s() - t0;
    free(fr);
    if (rc) {
        fprintf(stderr, "px_send_burst: %s\n", err);
        return 0;
    }
    return (double)sent / dt;
}

/* The same burst without pktexpect: one AF_PACKET socket bound to `port`, the
 * same frame `n` times through sendmmsg in batches of 1024 (what px_send_burst
 * promises), a full queue (ENOBUFS) retried. The socket is opened and the link
 * waited for before the clock starts, as px_send_burst's are on a warm context. */
#define BARE_BATCH 1024
static double bare_sendmmsg_fps(const char *port, size_t len, size_t n)
{
    uint8_t frame[1514];
    make_frame(frame, len);
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(port)};
    static struct mmsghdr msgs[BARE_BATCH];
    static struct iovec iov[BARE_BATCH];
    for (size_t j = 0; j < BARE_BATCH; j++) {
        iov[j] = (struct iovec){frame, len};
        msgs[j] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[j], .msg_iovlen = 1}};
    }
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        close(fd);
        return 0;
    }
    for (int i = 0; i < 2000 && !px_topo_link_ready(NULL, port); i++)
        pxb_sleep_us(1000);
    size_t done = 0;
    double t0 = now_s();
    while (done < n) {
        size_t k = n - done < BARE_BATCH ? n - done : BARE_BATCH;
        int r = sendmmsg(fd, msgs, (unsigned)k, 0);
        if (r > 0)
            done += (size_t)r;
        else if (r < 0 && errno != EINTR && errno != ENOBUFS && errno != EAGAIN)
            break;
    }
    double dt = now_s() - t0;
    close(fd);
    return (double)done / dt;
}

/* trafgen (netsniff-ng) sending `n` copies of the frame on `port`: one process
 * (--cpus 1), through the qdisc like a packet socket's sendmmsg (-q), no
 * preprocessor (the config holds plain bytes), without touching the machine's
 * socket memory or IRQ affinity (--no-sock-mem -Q). Its own figure: frames over
 * the wall time it reports for its sending loop ("N sec, M usec on CPU0"), i.e.
 * without process start and ring set-up. 0 when it fails or is missing. */
static double trafgen_fps(const char *port, const char *cfg, size_t len, size_t n)
{
    uint8_t frame[1514];
    make_frame(frame, len);
    FILE *f = fopen(cfg, "we");
    if (!f)
        return 0;
    fputs("{ ", f);
    for (size_t i = 0; i < len; i++)
        fprintf(f, "%s0x%02x", i ? ", " : "", frame[i]);
    fputs(" }\n", f);
    if (fclose(f) != 0)
        return 0;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "trafgen --dev %s --conf %s -n %zu --cpus 1 -q --no-sock-mem -Q 2>&1", port, cfg, n);
    FILE *p = popen(cmd, "re");
    if (!p)
        return 0;
    char line[512];
    double secs = 0;
    unsigned long long pk = 0;
    while (fgets(line, sizeof line, p)) {
        unsigned long s = 0, us = 0;
        if (sscanf(line, " %lu sec, %lu usec on CPU%*d (%llu packets)", &s, &us, &pk) == 3)
            secs = (double)s + (double)us / 1e6;
    }
    int st = pclose(p);
    unlink(cfg);
    return st == 0 && secs > 0 ? (double)pk / secs : 0;
}

/* Runs tcpreplay --topspeed on a file of `len`-byte frames, n frames in total;
 * returns its own "pps" figure (0 when it fails). */
static double tcpreplay_fps(const char *port, const char *path, size_t len, size_t n)
{
    const size_t per_file = 10000;
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    if (!d) {
        pcap_close(dead);
        return 0;
    }
    uint8_t frame[1514];
    make_frame(frame, len);
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
    for (size_t i = 0; i < per_file; i++)
        pcap_dump((u_char *)d, &h, frame);
    pcap_dump_close(d);
    pcap_close(dead);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "tcpreplay -i %s --topspeed -K --loop=%zu %s 2>&1", port,
             n / per_file ? n / per_file : 1, path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    char line[512];
    double pps = 0;
    while (fgets(line, sizeof line, p)) {
        const char *r = strstr(line, "Rated:");
        if (r) {
            const char *q = strstr(r, "Mbps,");
            if (q)
                pps = strtod(q + 5, NULL);
        }
    }
    if (pclose(p) != 0)
        return 0;
    unlink(path);
    return pps;
}

/* ---- part 2: pacing ---- */

typedef struct stamps {
    size_t n, cap;
    double *t; /* arrival times, seconds */
} stamps;

static void st_on_packet(void *state, const px_frame *f)
{
    stamps *s = state;
    if (s->n < s->cap)
        s->t[s->n++] = (double)f->ts.tv_sec + (double)f->ts.tv_nsec / 1e9;
}

static px_verdict st_finish(void *state, bool timed_out, px_result *r)
{
    (void)timed_out;
    px_result_set_value(r, (int64_t)((stamps *)state)->n);
    return PX_PASS;
}

static const px_predicate_ops stamps_ops = {.name = "stamps", .on_packet = st_on_packet, .on_finish = st_finish};

typedef struct pace_fig {
    double err_pct, late_mean_us, late_max_us, recv_frac, gap_p50_us, gap_p99_us;
} pace_fig;

static pace_fig pace_run(px_ctx *ctx, const char *tx, const char *rx, double rate, double seconds)
{
    pace_fig out = {0};
    uint64_t n = (uint64_t)(rate * seconds);
    stamps st = {.cap = n, .t = calloc(n, sizeof(double))};
    px_expect_opts o = {.timeout_ms = (uint32_t)(seconds * 1000) + 5000, .count = (uint32_t)n,
                        .filter = "udp port 4000"};
    px_future *f = px_expect(ctx, rx, px_predicate_new(&stamps_ops, &st), &o);
    uint8_t frame[64];
    pxb_frame64(frame, 4000, 4000);
    px_tx_frame fr = {frame, sizeof frame};
    px_pace_opts po = {.count = n, .rate_fps = rate};
    px_pace_report rep;
    char err[PX_ERRBUF_SIZE];
    if (px_send_paced(ctx, tx, &fr, 1, NULL, &po, &rep, err) != 0)
        fprintf(stderr, "px_send_paced: %s\n", err);
    px_future_wait(f);
    px_future_free(f);

    double ideal = 1.0 / rate;
    size_t ng = st.n > 1 ? st.n - 1 : 0;
    double *dev = calloc(ng ? ng : 1, sizeof *dev);
    for (size_t i = 0; i < ng; i++)
        dev[i] = fabs((st.t[i + 1] - st.t[i]) - ideal) * 1e6;
    pxb_sort(dev, ng);
    out.err_pct = (rep.achieved_fps / rate - 1) * 100;
    out.late_mean_us = (double)rep.late_mean_ns / 1e3;
    out.late_max_us = (double)rep.late_max_ns / 1e3;
    out.recv_frac = rep.sent ? (double)st.n / (double)rep.sent : 0;
    out.gap_p50_us = ng ? pxb_percentile(dev, ng, 50) : 0;
    out.gap_p99_us = ng ? pxb_percentile(dev, ng, 99) : 0;
    free(dev);
    free(st.t);
    return out;
}

/* The machine's own wake-up latency: a bare clock_nanosleep loop to absolute
 * deadlines every 100 us for 1 s (timer slack 1 ns, like px_send_paced). The pacing
 * lateness cannot be better than this; print it so the figures can be judged. */
static double wake_baseline(void)
{
    int old = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    prctl(PR_SET_TIMERSLACK, 1ul, 0, 0, 0);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t t0 = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec, sum = 0, max = 0;
    const int n = 10000;
    for (int i = 1; i <= n; i++) {
        uint64_t d = t0 + (uint64_t)i * 100000u;
        struct timespec ts = {.tv_sec = (time_t)(d / 1000000000u), .tv_nsec = (long)(d % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t);
        uint64_t late = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec - d;
        sum += late;
        if (late > max)
            max = late;
    }
    prctl(PR_SET_TIMERSLACK, old > 0 ? (unsigned long)old : 50000ul, 0, 0, 0);
    return (double)sum / n / 1e3;
}

static const char usage[] = "usage: bench_send [--runs N] [--frames N] [--quick] [--burst-only] [--help]\n"
                            "  --runs N    repetitions of every figure (default 5)\n"
                            "  --frames N  frames per burst run (default 1000000)\n"
                            "  --quick     1 run, 100000 frames, pacing for 0.2 s\n"
                            "  --burst-only  part 1 without tcpreplay, no pacing (to profile the sender)\n";

int main(int argc, char **argv)
{
    size_t runs = 5, n = 1000000;
    double pace_s = 1.0;
    bool burst_only = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--frames") && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--burst-only"))
            burst_only = true;
        else if (!strcmp(argv[i], "--quick"))
            runs = 1, n = 100000, pace_s = 0.2;
        else {
            fputs(usage, strcmp(argv[i], "--help") ? stderr : stdout);
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (runs < 1)
        runs = 1;
    if (n < 10000)
        n = 10000;
    if (geteuid() != 0) {
        fprintf(stderr, "SKIP: bench_send needs root (veth pair, raw sockets)\n");
        return 77;
    }
    char a[16], b[16], path[256], cfg[256], err[PX_ERRBUF_SIZE];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/bench_send_%d.pcap", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    snprintf(cfg, sizeof cfg, "%s/bench_send_%d.trafgen", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    if (pxb_veth_create(0, a, b, err) != 0) {
        fprintf(stderr, "veth: %s\n", err);
        return 1;
    }
    px_ctx *ctx = px_ctx_new(NULL, err);
    if (!ctx) {
        fprintf(stderr, "px_ctx_new: %s\n", err);
        pxb_veth_delete(a);
        return 1;
    }
    pxb_out out;
    pxb_out_open(&out, "bench_send");
    pxb_note(&out, "%zu runs; bursts of %zu frames on a veth pair nobody captures on; px_send_burst, a bare "
                   "sendmmsg loop (batches of %d), trafgen --cpus 1 -q (TX ring, qdisc path) and tcpreplay "
                   "--topspeed -K --loop (a file of 10000 copies) send the same frame back to back in every run",
             runs, n, BARE_BATCH);

    double *px = calloc(runs, sizeof *px), *bare = calloc(runs, sizeof *bare), *tg = calloc(runs, sizeof *tg),
           *tr = calloc(runs, sizeof *tr), *ratio = calloc(runs, sizeof *ratio);
    const size_t sizes[2] = {64, 1500};
    for (int s = 0; s < 2; s++) {
        for (size_t r = 0; r < runs; r++) {
            px[r] = burst_fps(ctx, a, sizes[s], n);
            bare[r] = bare_sendmmsg_fps(a, sizes[s], n);
            tg[r] = trafgen_fps(a, cfg, sizes[s], n);
            tr[r] = burst_only ? 0 : tcpreplay_fps(a, path, sizes[s], n);
        }
        char params[96];
        snprintf(params, sizeof params, "\"tool\":\"px_send_burst\",\"bytes\":%zu", sizes[s]);
        pxb_figure(&out, "burst_rate", params, "frames/s", px, runs);
        snprintf(params, sizeof params, "\"tool\":\"sendmmsg loop\",\"bytes\":%zu", sizes[s]);
        pxb_figure(&out, "burst_rate", params, "frames/s", bare, runs);
        snprintf(params, sizeof params, "\"tool\":\"trafgen\",\"bytes\":%zu", sizes[s]);
        pxb_figure(&out, "burst_rate", params, "frames/s", tg, runs);
        if (!burst_only) {
            snprintf(params, sizeof params, "\"tool\":\"tcpreplay --topspeed\",\"bytes\":%zu", sizes[s]);
            pxb_figure(&out, "burst_rate", params, "frames/s", tr, runs);
        }
        const double *peers[3] = {bare, tg, tr};
        const char *names[3] = {"sendmmsg", "trafgen", "tcpreplay"};
        for (int k = 0; k < (burst_only ? 2 : 3); k++) {
            for (size_t r = 0; r < runs; r++)
                ratio[r] = peers[k][r] > 0 ? px[r] / peers[k][r] : 0;
            snprintf(params, sizeof params, "\"bytes\":%zu", sizes[s]);
            char fig[64];
            snprintf(fig, sizeof fig, "burst_ratio_vs_%s", names[k]);
            pxb_figure(&out, fig, params, "x", ratio, runs);
        }
    }

    /* As a test runs it: both ends open for capture (the capture threads and their
     * rings take frames from the sender's softirq). */
    if (px_port_open(ctx, a, err) != 0 || px_port_open(ctx, b, err) != 0)
        fprintf(stderr, "port: %s\n", err);
    for (size_t r = 0; r < runs; r++) {
        px[r] = burst_fps(ctx, a, 64, n);
        bare[r] = bare_sendmmsg_fps(a, 64, n);
        ratio[r] = bare[r] > 0 ? px[r] / bare[r] : 0;
    }
    pxb_figure(&out, "burst_rate_captured", "\"tool\":\"px_send_burst\",\"bytes\":64", "frames/s", px, runs);
    pxb_figure(&out, "burst_rate_captured", "\"tool\":\"sendmmsg loop\",\"bytes\":64", "frames/s", bare, runs);
    pxb_figure(&out, "burst_ratio_captured_vs_sendmmsg", "\"bytes\":64", "x", ratio, runs);

    if (burst_only)
        goto done;
    double load[3] = {0};
    if (getloadavg(load, 3) > 0)
        pxb_note(&out, "load average before pacing: %.2f (1 min)", load[0]);
    double *wake = calloc(runs, sizeof *wake);
    for (size_t r = 0; r < runs; r++)
        wake[r] = wake_baseline();
    pxb_figure(&out, "wake_baseline_late_mean", "\"period_us\":100", "us", wake, runs);

    const double rates[2] = {10000, 100000};
    pace_fig *pf = calloc(runs, sizeof *pf);
    double *v = calloc(runs, sizeof *v);
    for (int k = 0; k < 2; k++) {
        for (size_t r = 0; r < runs; r++)
            pf[r] = pace_run(ctx, a, b, rates[k], pace_s);
        char params[64];
        snprintf(params, sizeof params, "\"rate_fps\":%.0f", rates[k]);
#define FIG(field, name, unit)                 \
    for (size_t r = 0; r < runs; r++)          \
        v[r] = pf[r].field;                    \
    pxb_figure(&out, name, params, unit, v, runs);
        FIG(err_pct, "pace_rate_error", "%")
        FIG(late_mean_us, "pace_late_mean", "us")
        FIG(late_max_us, "pace_late_max", "us")
        FIG(gap_p50_us, "pace_gap_deviation_p50", "us")
        FIG(gap_p99_us, "pace_gap_deviation_p99", "us")
        FIG(recv_frac, "pace_received_fraction", "1")
#undef FIG
    }
    free(wake);
    free(pf);
    free(v);
done:
    free(px);
    free(bare);
    free(tg);
    free(tr);
    free(ratio);
    pxb_out_close(&out);
    px_ctx_free(ctx);
    pxb_veth_delete(a);
    unlink(path);
    unlink(cfg);
    return 0;
}
