/* Benchmark 2: expectation latency, pktexpect against scapy.
 *
 * One round: arm an expectation for one probe frame on end "b" of a veth pair
 * (px_expect of saw_udp(sport=<fresh>, dport=7777) on an open port: the arm time),
 * send the probe on end "a" (px_send), wait for the verdict (px_future_wait): the
 * send-to-verdict time, from just before px_send to the return of the wait.
 * --rounds rounds per run, --runs runs; per run p50 / p99 / max, then median, min
 * and max over the runs. Three conditions, interleaved in every run:
 *
 *   idle     nothing else on the port
 *   loaded   a second thread sends --load-fps frames/s of other traffic (UDP port
 *            9, px_send_paced in 20 ms slices) on the same port during the rounds
 *   scapy    the same round with scapy (bench/scapy_peer.py): AsyncSniffer with
 *            started_callback (arm), send from an open L2 socket, join (verdict)
 *
 *   floor    no pktexpect at all: the mechanism of the arm handshake alone, between
 *            two plain threads: write an eventfd that the other thread waits on in
 *            ppoll, which then takes a mutex and broadcasts a condition variable
 *            the first waits on (what px_expect does with the capture thread, less
 *            the work in between): the cost of the two wake-ups on this machine
 *
 * --ring LIST (ring layouts, bench/README.md "Ring options"): the idle and loaded
 * rounds again with each layout of the list, in every run after the default ones;
 * their figures carry "ring":"<layout>" and go to results/rings_latency.json. In
 * every run each layout gets a context of its own that opens the port, so only
 * one ring captures at a time (the sending context captures nothing).
 *
 * Figures: arm and send-to-verdict percentiles per condition (the p99 of every run
 * is also printed, as a note), the load the port really carried, lost probes, the
 * handshake floor, and the ratios scapy / pktexpect per run.
 * Writes results/latency.json and results/latency_cdf.dat (the CDF plot data).
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pxb_util.h"
#include "source.h"

#define DPORT_PROBE 7777
#define DPORT_BULK 9
#define MAX_RUNS 20
#define PROBE_TIMEOUT_MS 250 /* window of one probe's expectation */
#define MAX_LOST 40          /* lost probes after which a run stops */
#define MAX_RINGS 8

typedef enum cond { C_IDLE, C_LOADED, C_SCAPY, C_FLOOR, C_COUNT } cond;
static const char *const cond_name[C_COUNT] = {"pktexpect_idle", "pktexpect_loaded", "scapy_idle",
                                               "handshake_floor"};

typedef struct bench {
    char a[16], b[16];
    px_ctx *ctx;     /* sends probes on a */
    px_ctx *rx;      /* arms on b: one per run and ring layout */
    px_ctx *bg;      /* background traffic on a */
    const char *rings[MAX_RINGS]; /* --ring: layouts compared with the default */
    px__ring_opts ring_opts[MAX_RINGS];
    int nrings;
    int rounds, scapy_rounds, runs;
    double load_fps;
    bool no_scapy, no_load;
} bench;

/* Samples of one run of one condition, in microseconds. */
typedef struct samples {
    double *arm, *lat;
    int n, lost;
    double load_fps; /* frames/s the port saw during the run (loaded only) */
    double load_sent_fps; /* frames/s the background thread sent */
    double load_drops;    /* capture drops during the run */
} samples;

/* ---- background traffic ---- */

typedef struct loader {
    bench *b;
    atomic_bool stop;
    uint64_t sent;
    pthread_t thread;
} loader;

static void *loader_main(void *arg)
{
    loader *l = arg;
    uint8_t fr[64];
    pxb_frame64(fr, 2000, DPORT_BULK);
    px_tx_frame tx = {fr, sizeof fr};
    char err[PX_ERRBUF_SIZE];
    /* 20 ms slices at the rate: the thread checks the stop flag between slices. */
    px_pace_opts pace = {.count = (uint64_t)(l->b->load_fps * 0.02), .rate_fps = l->b->load_fps};
    if (pace.count < 1)
        pace.count = 1;
    while (!atomic_load(&l->stop)) {
        px_pace_report rep = {0};
        if (px_send_paced(l->b->bg, l->b->a, &tx, 1, NULL, &pace, &rep, err) != 0) {
            fprintf(stderr, "bench_latency: background sender: %s\n", err);
            break;
        }
        l->sent += rep.sent;
    }
    return NULL;
}

/* ---- pktexpect rounds ---- */

static int run_pktexpect(bench *b, samples *s, int round0)
{
    char err[PX_ERRBUF_SIZE];
    s->n = s->lost = 0;
    for (int i = 0; i < b->rounds; i++) {
        uint16_t sport = (uint16_t)(1024 + (round0 + i) % 60000);
        uint8_t probe[64];
        pxb_frame64(probe, sport, DPORT_PROBE);
        px_l4_spec u = PX_L4_SPEC_ANY;
        u.sport = sport;
        u.dport = DPORT_PROBE;
        px_predicate *p = px_saw_udp(&u);
        px_expect_opts o = {.timeout_ms = PROBE_TIMEOUT_MS};
        uint64_t t0 = pxb_now_ns();
        px_future *f = px_expect(b->rx, b->b, p, &o);
        uint64_t t1 = pxb_now_ns();
        if (!f)
            return -1;
        if (px_future_done(f)) {
            fprintf(stderr, "bench_latency: arming failed: %s\n", px_future_explanation(f));
            px_future_free(f);
            return -1;
        }
        if (px_send(b->ctx, b->a, probe, sizeof probe, err) != 0) {
            fprintf(stderr, "bench_latency: send: %s\n", err);
            px_future_free(f);
            return -1;
        }
        px_verdict v = px_future_wait(f);
        uint64_t t2 = pxb_now_ns();
        px_future_free(f);
        if (v != PX_PASS) {
            /* A lost probe costs a whole window: give up on a run that loses many. */
            if (++s->lost >= MAX_LOST) {
                fprintf(stderr, "bench_latency: %d probes lost: run cut short after %d rounds\n", s->lost, i + 1);
                break;
            }
            continue;
        }
        s->arm[s->n] = (double)(t1 - t0) / 1e3;
        s->lat[s->n] = (double)(t2 - t1) / 1e3;
        s->n++;
    }
    return 0;
}

static int run_loaded(bench *b, samples *s, int round0)
{
    loader l = {.b = b};
    atomic_init(&l.stop, false);
    px_port_stats st0, st1;
    px_port_get_stats(b->rx, b->b, &st0);
    uint64_t t0 = pxb_now_ns();
    if (pthread_create(&l.thread, NULL, loader_main, &l) != 0)
        return -1;
    pxb_sleep_us(100000); /* the load is on before the first round */
    int rc = run_pktexpect(b, s, round0);
    atomic_store(&l.stop, true);
    pthread_join(l.thread, NULL);
    px_port_get_stats(b->rx, b->b, &st1);
    double secs = (double)(pxb_now_ns() - t0) / 1e9;
    s->load_fps = (double)(st1.frames - st0.frames) / secs;
    s->load_sent_fps = (double)l.sent / secs;
    s->load_drops = (double)(st1.drops - st0.drops);
    return rc;
}

/* ---- the handshake floor ---- */

typedef struct floor_pair {
    int efd;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t acks;
    atomic_bool stop;
} floor_pair;

static void *floor_main(void *arg)
{
    floor_pair *f = arg;
    struct pollfd pfd = {.fd = f->efd, .events = POLLIN};
    while (!atomic_load(&f->stop)) {
        if (ppoll(&pfd, 1, NULL, NULL) <= 0)
            continue;
        uint64_t v;
        if (read(f->efd, &v, sizeof v) != (ssize_t)sizeof v)
            continue;
        pthread_mutex_lock(&f->lock);
        f->acks++;
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->lock);
    }
    return NULL;
}

/* `rounds` round trips; the samples go to s->arm (and s->lat, for the plot code). */
static int run_floor(int rounds, samples *s)
{
    floor_pair f = {.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    if (f.efd < 0)
        return -1;
    atomic_init(&f.stop, false);
    pthread_mutex_init(&f.lock, NULL);
    pthread_cond_init(&f.cond, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, floor_main, &f) != 0) {
        close(f.efd);
        return -1;
    }
    pxb_sleep_us(10000);
    s->n = s->lost = 0;
    uint64_t one = 1;
    for (int i = 0; i < rounds; i++) {
        pxb_sleep_us(20); /* like a round of the benchmark: the other thread is asleep again */
        uint64_t t0 = pxb_now_ns();
        if (write(f.efd, &one, sizeof one) != (ssize_t)sizeof one)
            break;
        pthread_mutex_lock(&f.lock);
        while (f.acks < (uint64_t)i + 1)
            pthread_cond_wait(&f.cond, &f.lock);
        pthread_mutex_unlock(&f.lock);
        s->arm[s->n] = s->lat[s->n] = (double)(pxb_now_ns() - t0) / 1e3;
        s->n++;
    }
    atomic_store(&f.stop, true);
    (void)!write(f.efd, &one, sizeof one);
    pthread_join(th, NULL);
    close(f.efd);
    pthread_mutex_destroy(&f.lock);
    pthread_cond_destroy(&f.cond);
    return s->n ? 0 : -1;
}

/* ---- scapy rounds ---- */

static int run_scapy(bench *b, samples *s)
{
    char script[512], rounds[16];
    snprintf(script, sizeof script, "%s/scapy_peer.py", pxb_bench_dir());
    snprintf(rounds, sizeof rounds, "%d", b->scapy_rounds);
    char *argv[] = {(char *)pxb_python(), script, "latency", b->b, b->a, rounds, "1000", NULL};
    pxb_child c;
    if (pxb_child_start(&c, argv) != 0)
        return -1;
    s->n = s->lost = 0;
    char line[256];
    int r;
    while ((r = pxb_child_readline(&c, line, sizeof line, 60000)) == 1) {
        int i;
        double arm, lat;
        char word[16];
        if (sscanf(line, "%d %lf %lf", &i, &arm, &lat) == 3) {
            s->arm[s->n] = arm;
            s->lat[s->n] = lat;
            s->n++;
        } else if (sscanf(line, "%d %lf %15s", &i, &arm, word) == 3 && strcmp(word, "LOST") == 0) {
            s->lost++;
        } else {
            fprintf(stderr, "bench_latency: scapy: %s\n", line);
        }
    }
    pxb_child_stop(&c, SIGTERM, 3000);
    pxb_child_close(&c);
    return s->n + s->lost > 0 ? 0 : -1;
}

/* ---- figures ---- */

static void write_cdf(bench *b, pxb_out *o, samples run[C_COUNT][MAX_RUNS], const int nrun[C_COUNT])
{
    char path[512];
    const char *dir = getenv("PX_BENCH_RESULTS");
    if (dir && *dir)
        snprintf(path, sizeof path, "%s/latency_cdf.dat", dir);
    else
        snprintf(path, sizeof path, "%s/results/latency_cdf.dat", pxb_bench_dir());
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "# %s: send-to-verdict CDF, all rounds of %d runs pooled\n", o->stamp, b->runs);
    for (int c = 0; c < C_FLOOR; c++) { /* the floor is no send-to-verdict time */
        size_t total = 0;
        for (int r = 0; r < nrun[c]; r++)
            total += (size_t)run[c][r].n;
        fprintf(f, "# %s\n# latency_us cumulative_fraction\n", cond_name[c]);
        double *all = total ? malloc(total * sizeof *all) : NULL;
        if (all) {
            size_t k = 0;
            for (int r = 0; r < nrun[c]; r++)
                for (int i = 0; i < run[c][r].n; i++)
                    all[k++] = run[c][r].lat[i];
            pxb_sort(all, total);
            size_t step = total / 2000 + 1;
            for (size_t i = 0; i < total; i += step)
                fprintf(f, "%.2f %.6f\n", all[i], (double)(i + 1) / (double)total);
            fprintf(f, "%.2f %.6f\n", all[total - 1], 1.0);
            free(all);
        }
        fprintf(f, "\n\n");
    }
    fclose(f);
}

static void figures(bench *b, pxb_out *o, samples run[C_COUNT][MAX_RUNS], const int nrun[C_COUNT])
{
    double p50[C_COUNT][MAX_RUNS], p99[C_COUNT][MAX_RUNS], mx[C_COUNT][MAX_RUNS], a50[C_COUNT][MAX_RUNS],
        a99[C_COUNT][MAX_RUNS], lost[C_COUNT][MAX_RUNS], load[MAX_RUNS], lsent[MAX_RUNS], ldrops[MAX_RUNS];
    for (int c = 0; c < C_COUNT; c++) {
        for (int r = 0; r < nrun[c]; r++) {
            samples *s = &run[c][r];
            pxb_sort(s->lat, (size_t)s->n);
            pxb_sort(s->arm, (size_t)s->n);
            p50[c][r] = pxb_percentile(s->lat, (size_t)s->n, 50);
            p99[c][r] = pxb_percentile(s->lat, (size_t)s->n, 99);
            mx[c][r] = s->n ? s->lat[s->n - 1] : 0;
            a50[c][r] = pxb_percentile(s->arm, (size_t)s->n, 50);
            a99[c][r] = pxb_percentile(s->arm, (size_t)s->n, 99);
            lost[c][r] = (double)s->lost;
            if (c == C_LOADED) {
                load[r] = s->load_fps;
                lsent[r] = s->load_sent_fps;
                ldrops[r] = s->load_drops;
            }
        }
        if (!nrun[c])
            continue;
        char p[128];
        snprintf(p, sizeof p, "\"condition\":\"%s\",\"rounds\":%d", cond_name[c],
                 c == C_SCAPY ? b->scapy_rounds : b->rounds);
        size_t n = (size_t)nrun[c];
        if (c == C_FLOOR) {
            pxb_figure(o, "handshake_p50", p, "us", a50[c], n);
            pxb_figure(o, "handshake_p99", p, "us", a99[c], n);
            continue;
        }
        pxb_figure(o, "send_to_verdict_p50", p, "us", p50[c], n);
        pxb_figure(o, "send_to_verdict_p99", p, "us", p99[c], n);
        pxb_figure(o, "send_to_verdict_max", p, "us", mx[c], n);
        pxb_figure(o, "arm_p50", p, "us", a50[c], n);
        pxb_figure(o, "arm_p99", p, "us", a99[c], n);
        pxb_figure(o, "lost_probes", p, "rounds", lost[c], n);
        if (c != C_SCAPY) { /* targets judged in every run: the runs one by one */
            char line[512];
            size_t len = 0;
            for (size_t r = 0; r < n && len < sizeof line - 16; r++)
                len += (size_t)snprintf(line + len, sizeof line - len, "%s%.1f", r ? ", " : "", p99[c][r]);
            pxb_note(o, "%s: send-to-verdict p99 of each run, in run order: %s us", cond_name[c], line);
        }
        if (c == C_LOADED) {
            pxb_figure(o, "load_sent", p, "frame/s", lsent, n);
            pxb_figure(o, "load_seen_by_port", p, "frame/s", load, n);
            pxb_figure(o, "load_capture_drops", p, "frames", ldrops, n);
        }
    }
    /* Ratios, run by run (the conditions of one run ran back to back). */
    int n = nrun[C_IDLE] < nrun[C_SCAPY] ? nrun[C_IDLE] : nrun[C_SCAPY];
    if (n > 0) {
        double r50[MAX_RUNS], r99[MAX_RUNS], ra[MAX_RUNS];
        for (int r = 0; r < n; r++) {
            r50[r] = p50[C_SCAPY][r] / p50[C_IDLE][r];
            r99[r] = p99[C_SCAPY][r] / p99[C_IDLE][r];
            ra[r] = a50[C_SCAPY][r] / a50[C_IDLE][r];
        }
        const char *p = "\"condition\":\"scapy_idle/pktexpect_idle\"";
        pxb_figure(o, "ratio_send_to_verdict_p50", p, "ratio", r50, (size_t)n);
        pxb_figure(o, "ratio_send_to_verdict_p99", p, "ratio", r99, (size_t)n);
        pxb_figure(o, "ratio_arm_p50", p, "ratio", ra, (size_t)n);
    }
}

/* The idle and loaded figures of each --ring layout (same names as the default's,
 * plus "ring"), and the ratios of their p50 / p99 to the default's, run by run. */
static void ring_figures(bench *b, pxb_out *o, samples rr[][2][MAX_RUNS], int nr[][2],
                         samples run[C_COUNT][MAX_RUNS], const int nrun[C_COUNT])
{
    for (int L = 0; L < b->nrings; L++)
        for (int c = 0; c < 2; c++) {
            size_t n = (size_t)nr[L][c];
            if (!n)
                continue;
            double p50[MAX_RUNS], p99[MAX_RUNS], mx[MAX_RUNS], a50[MAX_RUNS], lost[MAX_RUNS], q50[MAX_RUNS],
                q99[MAX_RUNS];
            char line[512];
            size_t len = 0, m = 0;
            for (size_t r = 0; r < n; r++) {
                samples *s = &rr[L][c][r];
                pxb_sort(s->lat, (size_t)s->n);
                pxb_sort(s->arm, (size_t)s->n);
                p50[r] = pxb_percentile(s->lat, (size_t)s->n, 50);
                p99[r] = pxb_percentile(s->lat, (size_t)s->n, 99);
                mx[r] = s->n ? s->lat[s->n - 1] : 0;
                a50[r] = pxb_percentile(s->arm, (size_t)s->n, 50);
                lost[r] = (double)s->lost;
                if (len < sizeof line - 16)
                    len += (size_t)snprintf(line + len, sizeof line - len, "%s%.1f", r ? ", " : "", p99[r]);
                /* the default's samples of the same run were sorted by figures() */
                if ((int)r < nrun[c] && run[c][r].n) {
                    samples *d = &run[c][r];
                    q50[m] = p50[r] / pxb_percentile(d->lat, (size_t)d->n, 50);
                    q99[m++] = p99[r] / pxb_percentile(d->lat, (size_t)d->n, 99);
                }
            }
            char p[200];
            snprintf(p, sizeof p, "\"condition\":\"%s\",\"ring\":\"%s\",\"rounds\":%d", cond_name[c], b->rings[L],
                     b->rounds);
            pxb_figure(o, "send_to_verdict_p50", p, "us", p50, n);
            pxb_figure(o, "send_to_verdict_p99", p, "us", p99, n);
            pxb_figure(o, "send_to_verdict_max", p, "us", mx, n);
            pxb_figure(o, "arm_p50", p, "us", a50, n);
            pxb_figure(o, "lost_probes", p, "rounds", lost, n);
            if (m) {
                pxb_figure(o, "ratio_send_to_verdict_p50_to_default_ring", p, "ratio", q50, m);
                pxb_figure(o, "ratio_send_to_verdict_p99_to_default_ring", p, "ratio", q99, m);
            }
            pxb_note(o, "%s, ring %s: send-to-verdict p99 of each run, in run order: %s us", cond_name[c],
                     b->rings[L], line);
        }
}

/* A context of its own on port b, with ring layout L (-1: the default). */
static int rx_open(bench *b, int L, char *err)
{
    b->rx = px_ctx_new(NULL, err);
    if (!b->rx)
        return -1;
    int rc = L >= 0 ? px__ctx_set_ring(b->rx, &b->ring_opts[L]) : 0;
    if (rc == 0)
        rc = px_port_open(b->rx, b->b, err);
    if (rc != 0) {
        px_ctx_free(b->rx);
        b->rx = NULL;
        return -1;
    }
    pxb_sleep_us(50000);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_latency [--rounds N] [--scapy-rounds N] [--runs N] [--load-fps R] [--quick] "
                    "[--no-scapy] [--no-load] [--ring LIST]\n"
                    "  --ring LIST  ring layouts to compare with the default (bench/README.md, \"Ring options\"),\n"
                    "               e.g. v2:slot=256,v3:tov=1; figures to results/rings_latency.json\n"
                    "Needs root (veth pair, raw sockets) and python3-scapy for the scapy rounds.\n");
}

int main(int argc, char **argv)
{
    bench b = {.rounds = 1000, .scapy_rounds = 1000, .runs = 5, .load_fps = 500000};
    static const struct option lo[] = {
        {"rounds", required_argument, NULL, 'n'}, {"scapy-rounds", required_argument, NULL, 's'},
        {"runs", required_argument, NULL, 'r'},   {"load-fps", required_argument, NULL, 'l'},
        {"quick", no_argument, NULL, 'q'},        {"no-scapy", no_argument, NULL, 'S'},
        {"no-load", no_argument, NULL, 'L'},      {"help", no_argument, NULL, 'h'},
        {"ring", required_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    char *ring_list = NULL;
    while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (opt) {
        case 'R': ring_list = optarg; break;
        case 'n': b.rounds = atoi(optarg); break;
        case 's': b.scapy_rounds = atoi(optarg); break;
        case 'r': b.runs = atoi(optarg); break;
        case 'l': b.load_fps = atof(optarg); break;
        case 'q': b.rounds = 200, b.scapy_rounds = 100, b.runs = 1; break;
        case 'S': b.no_scapy = true; break;
        case 'L': b.no_load = true; break;
        default: usage(); return opt == 'h' ? 0 : 2;
        }
    }
    if (b.rounds < 1 || b.scapy_rounds < 1 || b.runs < 1 || b.runs > MAX_RUNS || b.load_fps <= 0) {
        usage();
        return 2;
    }
    char err[PX_ERRBUF_SIZE];
    for (char *save = NULL, *spec = ring_list ? strtok_r(ring_list, ",", &save) : NULL; spec;
         spec = strtok_r(NULL, ",", &save)) {
        if (b.nrings == MAX_RINGS || px__ring_opts_parse(spec, &b.ring_opts[b.nrings], err) != 0) {
            fprintf(stderr, "bench_latency: --ring: %s\n", b.nrings == MAX_RINGS ? "too many layouts" : err);
            usage();
            return 2;
        }
        b.rings[b.nrings++] = spec;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "bench_latency: needs root (veth pair, raw sockets)\n");
        return 77;
    }
    if (pxb_veth_create(0, b.a, b.b, err) != 0) {
        fprintf(stderr, "bench_latency: veth: %s\n", err);
        return 1;
    }
    px_ctx_opts bgo = {.ring_mib = 1};
    b.ctx = px_ctx_new(NULL, err);
    b.bg = b.ctx ? px_ctx_new(&bgo, err) : NULL;
    int rc = b.bg ? 0 : -1;
    /* Sending needs no capture on "a": one frame from each context opens and checks
     * its socket before the clock starts. */
    uint8_t warm[64];
    pxb_frame64(warm, 1, DPORT_BULK);
    if (rc == 0)
        rc = px_send(b.ctx, b.a, warm, sizeof warm, err);
    if (rc == 0)
        rc = px_send(b.bg, b.a, warm, sizeof warm, err);
    if (rc != 0) {
        fprintf(stderr, "bench_latency: %s\n", err);
        px_ctx_free(b.bg);
        px_ctx_free(b.ctx);
        pxb_veth_delete(b.a);
        return 1;
    }
    pxb_sleep_us(200000);

    static samples run[C_COUNT][MAX_RUNS];
    int nrun[C_COUNT] = {0};
    int maxr = b.rounds > b.scapy_rounds ? b.rounds : b.scapy_rounds;
    for (int c = 0; c < C_COUNT; c++)
        for (int r = 0; r < b.runs; r++) {
            run[c][r].arm = calloc((size_t)maxr, sizeof(double));
            run[c][r].lat = calloc((size_t)maxr, sizeof(double));
        }
    static samples rrun[MAX_RINGS][2][MAX_RUNS];
    int nr[MAX_RINGS][2] = {{0}};
    for (int L = 0; L < b.nrings; L++)
        for (int c = 0; c < 2; c++)
            for (int r = 0; r < b.runs; r++) {
                rrun[L][c][r].arm = calloc((size_t)b.rounds, sizeof(double));
                rrun[L][c][r].lat = calloc((size_t)b.rounds, sizeof(double));
            }
    for (int r = 0; r < b.runs; r++) {
        /* The default layout, then each --ring layout, back to back. */
        for (int L = -1; L < b.nrings; L++) {
            int round0 = (r * (b.nrings + 1) + L + 1) * b.rounds * 2;
            if (rx_open(&b, L, err) != 0) {
                fprintf(stderr, "bench_latency: %s%s%s\n", L >= 0 ? b.rings[L] : "", L >= 0 ? ": " : "", err);
                continue;
            }
            samples *idle = L < 0 ? &run[C_IDLE][nrun[C_IDLE]] : &rrun[L][0][nr[L][0]];
            samples *loaded = L < 0 ? &run[C_LOADED][nrun[C_LOADED]] : &rrun[L][1][nr[L][1]];
            if (run_pktexpect(&b, idle, round0) == 0)
                (L < 0 ? nrun[C_IDLE]++ : nr[L][0]++);
            if (!b.no_load && run_loaded(&b, loaded, round0 + b.rounds) == 0)
                (L < 0 ? nrun[C_LOADED]++ : nr[L][1]++);
            px_ctx_free(b.rx);
            b.rx = NULL;
        }
        if (run_floor(b.rounds, &run[C_FLOOR][nrun[C_FLOOR]]) == 0)
            nrun[C_FLOOR]++;
        if (!b.no_scapy) {
            if (run_scapy(&b, &run[C_SCAPY][nrun[C_SCAPY]]) == 0)
                nrun[C_SCAPY]++;
            else
                fprintf(stderr, "bench_latency: scapy rounds failed (python3-scapy installed? PX_PYTHON=%s)\n",
                        pxb_python());
        }
        fprintf(stderr, "  run %d done\n", r);
    }
    pxb_out o;
    pxb_out_open(&o, b.nrings ? "rings_latency" : "latency");
    pxb_note(&o, "veth pair, 64-byte probe frames, %d rounds per run (scapy %d), %d runs, load %.0f frame/s",
             b.rounds, b.scapy_rounds, b.runs, b.load_fps);
    figures(&b, &o, run, nrun);
    ring_figures(&b, &o, rrun, nr, run, nrun);
    if (!b.nrings)
        write_cdf(&b, &o, run, nrun);
    pxb_out_close(&o);
    for (int c = 0; c < C_COUNT; c++)
        for (int r = 0; r < b.runs; r++) {
            free(run[c][r].arm);
            free(run[c][r].lat);
        }
    for (int L = 0; L < b.nrings; L++)
        for (int c = 0; c < 2; c++)
            for (int r = 0; r < b.runs; r++) {
                free(rrun[L][c][r].arm);
                free(rrun[L][c][r].lat);
            }
    px_ctx_free(b.bg);
    px_ctx_free(b.ctx);
    pxb_veth_delete(b.a);
    return 0;
}
