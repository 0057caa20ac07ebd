/* Benchmark 1: capture and match throughput, pktexpect against tcpdump and scapy.
 *
 * A veth pair: the blaster sends 64-byte UDP frames on end "a" with px_send_burst
 * (sendmmsg batches of 1024) at full speed, or paced with px_send_paced; the
 * receiver listens on end "b". Receivers, one at a time on the same traffic,
 * interleaved in every repetition so that drift of a shared machine hits them alike:
 *
 *   pktexpect K=1, 16, 256   a fresh context with K active expectations: a counting
 *                            predicate (count(saw_udp(dport=9)): its count is "seen"),
 *                            a BPF-filtered packet_count("udp dst port 9"), and
 *                            field predicates that never match (VLAN, UDP port,
 *                            IPv4 prefix, MAC, TCP) so all stay active to the end
 *   tcpdump                  `tcpdump -i b -w /dev/null`, counts from its
 *                            "packets captured" / "dropped by kernel" lines
 *   scapy                    AsyncSniffer with a counting prn and a stop_filter on an
 *                            end-marker frame (bench/scapy_peer.py)
 *
 *   pktexpect indexed K=1,   a fresh context with K expectations saw_udp(dport=N),
 *   16, 256, 1000            N = 1..K: the indexed kind (a UDP_DPORT dispatch key,
 *                            checked with px_predicate_key before arming; no BPF
 *                            filter, no count limit). Its traffic goes to UDP ports
 *                            1..8 (round robin), ports that some of them watch. The
 *                            figure is the fraction of the sent frames the port read
 *                            (px_port_get_stats), and its ratio to K=1, run by run.
 *
 * --ring LIST (ring layouts, bench/README.md "Ring options"): pktexpect K=16 mix and
 * K=16 indexed again with each layout of the list, in every repetition after the
 * default ones, and in the sweep the K=16 mix with each layout; the figures carry
 * "ring":"<layout>" and go to results/rings_capture.json instead.
 *
 * Part 1 sends --frames frames at full speed; part 2 sweeps the send rate (each
 * point sends for --sweep-s seconds, at most --frames frames) and finds the highest
 * rate at which each receiver sees 100% of the frames.
 *
 * Figures: seen fraction, kernel drops, frames/s (seen frames over the send time),
 * receiver CPU seconds (pktexpect: process CPU minus the blasting thread; peers:
 * their own rusage) and per frame read, its ratio pktexpect K=16 / tcpdump per
 * repetition, receiver sleeps per frame (voluntary context switches: each is
 * one wake-up), zero-loss rate and the ratios pktexpect / peer per repetition.
 * "Seen" for pktexpect is what the port read (px_port_get_stats: frames minus
 * noise), checked against the frames the unfiltered and the BPF-filtered
 * expectations were offered (their counters are final once they are cancelled).
 * Writes results/capture.json (figures) and results/capture_sweep.dat (the plot data).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pxb_mix.h"
#include "pxb_util.h"
#include "source.h"

#define DPORT_BULK PXB_MIX_DPORT
#define DPORT_MARKER 9999
#define NFRAMES 8
#define MAX_RUNS 20
#define MAX_RATES 16

#define MAX_RECV 32
#define MAX_RINGS 8
#define IDX_DPORTS 8 /* the indexed case's traffic: UDP ports 1..8 */

/* A receiver of part 1. R_NONE: the blaster alone, nobody listening (the send rate
 * the receivers are measured against). R_MIX: the mix of predicates above; R_IDX:
 * K distinct saw_udp(dport=N). */
typedef enum kind { R_MIX, R_IDX, R_TCPDUMP, R_SCAPY, R_NONE } kind;
static const char *const kind_name[] = {"pktexpect", "pktexpect_indexed", "tcpdump", "scapy", "none"};
typedef struct recv {
    kind kind;
    int k;    /* expectations (R_MIX, R_IDX) */
    int ring; /* index in bench.rings (R_MIX, R_IDX); -1: the default layout */
} recv;

typedef struct bench {
    char a[16], b[16];
    px_ctx *tx;
    uint8_t frames[NFRAMES][64];
    uint8_t idx_frames[IDX_DPORTS][64];
    uint8_t marker[64];
    recv recvs[MAX_RECV]; /* part 1's receivers, in the order they run in a repetition */
    int nrecv;
    const char *rings[MAX_RINGS]; /* --ring: layouts compared with the default */
    px__ring_opts ring_opts[MAX_RINGS];
    int nrings;
    uint64_t nframes;  /* frames per full-speed trial */
    int runs;
    double sweep_s;
    bool quick, no_scapy, no_tcpdump;
} bench;

typedef struct trial {
    uint64_t sent, seen, drops;
    double send_s;     /* duration of the send */
    double send_fps;   /* achieved send rate */
    double seen_fps;   /* seen frames over the send duration */
    double cpu_s;      /* receiver CPU */
    double sleeps;     /* receiver's voluntary context switches (sleeps, i.e. wake-ups); -1 unknown */
    bool ok;
} trial;

static void trial_finish(trial *t)
{
    t->send_fps = t->send_s > 0 ? (double)t->sent / t->send_s : 0;
    t->seen_fps = t->send_s > 0 ? (double)t->seen / t->send_s : 0;
}

/* ---- pktexpect ---- */

/* One predicate of the mix (pxb_mix.h). */
static px_future *arm_one(px_ctx *rx, const char *port, int i) { return pxb_mix_arm(rx, port, i); }

/* The indexed kind: saw_udp(dport=N), which must declare the UDP_DPORT key (an
 * expectation with a BPF filter or a count limit would not be indexed: none here). */
static px_future *arm_indexed(px_ctx *rx, const char *port, int n, char *err)
{
    px_l4_spec u = PX_L4_SPEC_ANY;
    u.dport = n;
    px_predicate *p = px_saw_udp(&u);
    px_key key;
    if (!p || !px_predicate_key(p, &key) || key.kind != PX_KEY_UDP_DPORT || key.value != (uint64_t)n) {
        snprintf(err, PX_ERRBUF_SIZE, "saw_udp(dport=%d) declares no UDP_DPORT dispatch key: not indexed", n);
        px_predicate_free(p);
        return NULL;
    }
    px_expect_opts o = {.timeout_ms = 120000};
    return px_expect(rx, port, p, &o);
}

/* Frames the port read, noise left out. */
static uint64_t port_read(px_ctx *rx, const char *port)
{
    px_port_stats st = {0};
    px_port_get_stats(rx, port, &st);
    return st.frames - st.noise;
}

static int trial_pktexpect(bench *b, recv w, double rate, uint64_t count, trial *t, char *err)
{
    memset(t, 0, sizeof *t);
    kind mode = w.kind;
    int k = w.k;
    px_ctx_opts opts = {.default_timeout_ms = 120000};
    px_ctx *rx = px_ctx_new(&opts, err);
    if (!rx)
        return -1;
    int rc = w.ring >= 0 ? px__ctx_set_ring(rx, &b->ring_opts[w.ring]) : 0;
    if (rc == 0)
        rc = px_port_open(rx, b->b, err);
    px_future **fs = calloc((size_t)k, sizeof *fs);
    if (rc == 0 && !fs)
        rc = PX_ENOMEM;
    for (int i = 0; rc == 0 && i < k; i++) {
        fs[i] = mode == R_IDX ? arm_indexed(rx, b->b, i + 1, err) : arm_one(rx, b->b, i);
        if (!fs[i] || px_future_done(fs[i])) {
            if (fs[i])
                snprintf(err, PX_ERRBUF_SIZE, "arming expectation %d: %s", i, px_future_explanation(fs[i]));
            else if (mode != R_IDX)
                snprintf(err, PX_ERRBUF_SIZE, "arming expectation %d: out of memory", i);
            rc = PX_EINVAL;
        }
    }
    if (rc == 0) {
        const uint8_t(*frames)[64] = mode == R_IDX ? (const uint8_t(*)[64])b->idx_frames
                                                   : (const uint8_t(*)[64])b->frames;
        size_t nfr = mode == R_IDX ? IDX_DPORTS : NFRAMES;
        uint64_t read0 = port_read(rx, b->b);
        double cpu0 = pxb_cpu_self(), th0 = pxb_cpu_thread();
        struct rusage rs0, rt0, rs1, rt1;
        getrusage(RUSAGE_SELF, &rs0);
        getrusage(RUSAGE_THREAD, &rt0);
        uint64_t elapsed = 0;
        rc = pxb_blast(b->tx, b->a, frames, nfr, count, rate, &t->sent, &elapsed, err);
        t->send_s = (double)elapsed / 1e9;
        /* Wait until the port has read every frame, or for 300 ms without progress
         * (frames were lost). The futures' counters are summed when their windows
         * close, so the port's statistics are what moves meanwhile. */
        uint64_t read = 0, last = 0, t_last = pxb_now_ns();
        for (;;) {
            read = port_read(rx, b->b) - read0;
            uint64_t now = pxb_now_ns();
            if (read != last) {
                last = read;
                t_last = now;
            }
            if (read >= t->sent || now - t_last > 300000000ull)
                break;
            pxb_sleep_us(1000);
        }
        t->cpu_s = (pxb_cpu_self() - cpu0) - (pxb_cpu_thread() - th0);
        getrusage(RUSAGE_SELF, &rs1);
        getrusage(RUSAGE_THREAD, &rt1);
        t->sleeps = (double)((rs1.ru_nvcsw - rs0.ru_nvcsw) - (rt1.ru_nvcsw - rt0.ru_nvcsw));
        t->seen = read;
        px_port_stats st;
        px_port_get_stats(rx, b->b, &st);
        t->drops = st.drops;
        if (mode == R_MIX) {
            /* Cancelled, the counting and the BPF-filtered expectations have final
             * counters: both must have been offered every frame the port read. */
            for (int i = 0; i < k && i < 2; i++) {
                px_counters c;
                px_future_cancel(fs[i]);
                px_future_counters(fs[i], &c);
                if (c.seen != read)
                    fprintf(stderr, "bench_capture: K=%d: expectation %d was offered %llu frames, the port read %llu\n",
                            k, i, (unsigned long long)c.seen, (unsigned long long)read);
            }
        }
        t->ok = rc == 0;
    }
    for (int i = 0; fs && i < k; i++)
        px_future_free(fs[i]);
    free(fs);
    px_ctx_free(rx);
    trial_finish(t);
    return rc;
}

/* ---- tcpdump ---- */

static int trial_tcpdump(bench *b, double rate, uint64_t count, trial *t, char *err)
{
    memset(t, 0, sizeof *t);
    char *argv[] = {"tcpdump", "-i", b->b, "-w", "/dev/null", NULL};
    pxb_child c;
    if (pxb_child_start(&c, argv) != 0) {
        snprintf(err, PX_ERRBUF_SIZE, "cannot start tcpdump");
        return -1;
    }
    if (!pxb_child_expect(&c, "listening on", NULL, 0, 10000)) {
        snprintf(err, PX_ERRBUF_SIZE, "tcpdump did not start (is it installed? scripts/deps.sh bench)");
        pxb_child_close(&c);
        return -1;
    }
    uint64_t elapsed = 0;
    int rc = pxb_blast(b->tx, b->a, (const uint8_t(*)[64])b->frames, NFRAMES, count, rate, &t->sent, &elapsed, err);
    t->send_s = (double)elapsed / 1e9;
    /* tcpdump reads TPACKET_V3 blocks that the kernel hands over when full or after
     * the 1 s block timeout: give it that long before asking it to stop. */
    pxb_sleep_us(1200000);
    pxb_child_stop(&c, SIGINT, 5000);
    char line[256];
    bool got = false;
    while (pxb_child_readline(&c, line, sizeof line, 2000) == 1) {
        unsigned long long n;
        if (getenv("PXB_DEBUG"))
            fprintf(stderr, "tcpdump: %s\n", line);
        /* sscanf stops at the first literal that differs: match the words first */
        if (strstr(line, "packets captured") && sscanf(line, "%llu", &n) == 1) {
            t->seen = n;
            got = true;
        } else if (strstr(line, "packets dropped by kernel") && sscanf(line, "%llu", &n) == 1) {
            t->drops = n;
        }
    }
    t->cpu_s = pxb_cpu_s(&c.ru);
    t->sleeps = (double)c.ru.ru_nvcsw;
    pxb_child_close(&c);
    if (!got) {
        snprintf(err, PX_ERRBUF_SIZE, "tcpdump printed no 'packets captured' line");
        return -1;
    }
    t->ok = rc == 0;
    trial_finish(t);
    return rc;
}

/* ---- scapy ---- */

static int trial_scapy(bench *b, double rate, uint64_t count, trial *t, char *err)
{
    memset(t, 0, sizeof *t);
    char script[512], tmo[32];
    snprintf(script, sizeof script, "%s/scapy_peer.py", pxb_bench_dir());
    double send_s = rate > 0 ? (double)count / rate : 10.0;
    snprintf(tmo, sizeof tmo, "%.0f", send_s + 30);
    char *argv[] = {(char *)pxb_python(), script, "capture", b->b, tmo, NULL};
    pxb_child c;
    if (pxb_child_start(&c, argv) != 0) {
        snprintf(err, PX_ERRBUF_SIZE, "cannot start %s", argv[0]);
        return -1;
    }
    char line[256];
    if (!pxb_child_expect(&c, "READY", line, sizeof line, 30000)) {
        snprintf(err, PX_ERRBUF_SIZE, "scapy peer did not start (python3-scapy installed? PX_PYTHON=%s)",
                 pxb_python());
        pxb_child_close(&c);
        return -1;
    }
    uint64_t elapsed = 0;
    int rc = pxb_blast(b->tx, b->a, (const uint8_t(*)[64])b->frames, NFRAMES, count, rate, &t->sent, &elapsed, err);
    t->send_s = (double)elapsed / 1e9;
    /* The end marker goes after the bulk; resent until the sniffer stops (it may be
     * dropped like any frame when scapy's socket buffer is full). */
    bool got = false;
    for (int i = 0; i < 100 && !got; i++) {
        px_send(b->tx, b->a, b->marker, sizeof b->marker, NULL);
        int r;
        while ((r = pxb_child_readline(&c, line, sizeof line, 100)) == 1) {
            unsigned long long n;
            double cpu;
            if (sscanf(line, "COUNT %llu CPU %lf", &n, &cpu) == 2) {
                t->seen = n;
                t->cpu_s = cpu;
                t->sleeps = -1;
                got = true;
                break;
            }
        }
        if (r < 0)
            break;
    }
    pxb_child_stop(&c, SIGTERM, 3000);
    pxb_child_close(&c);
    if (!got) {
        snprintf(err, PX_ERRBUF_SIZE, "scapy peer gave no count");
        return -1;
    }
    t->drops = t->sent > t->seen ? t->sent - t->seen : 0; /* not visible from scapy: inferred */
    t->ok = rc == 0;
    trial_finish(t);
    return rc;
}

static int trial_none(bench *b, double rate, uint64_t count, trial *t, char *err)
{
    memset(t, 0, sizeof *t);
    uint64_t elapsed = 0;
    int rc = pxb_blast(b->tx, b->a, (const uint8_t(*)[64])b->frames, NFRAMES, count, rate, &t->sent, &elapsed, err);
    t->send_s = (double)elapsed / 1e9;
    t->sleeps = -1;
    t->ok = rc == 0;
    trial_finish(t);
    return rc;
}

static int run_trial(bench *b, recv w, double rate, uint64_t count, trial *t, char *err)
{
    switch (w.kind) {
    case R_NONE: return trial_none(b, rate, count, t, err);
    case R_TCPDUMP: return trial_tcpdump(b, rate, count, t, err);
    case R_SCAPY: return trial_scapy(b, rate, count, t, err);
    default: return trial_pktexpect(b, w, rate, count, t, err);
    }
}

static bool tool_enabled(const bench *b, recv w)
{
    return !(w.kind == R_SCAPY && b->no_scapy) && !(w.kind == R_TCPDUMP && b->no_tcpdump);
}

static const bench *the_bench; /* for the ring names in params() */

/* ,"ring":"<layout>" for a receiver with a layout of --ring, else "". */
static const char *ring_param(recv w)
{
    static char buf[160];
    if (w.ring < 0 || (w.kind != R_MIX && w.kind != R_IDX))
        return "";
    snprintf(buf, sizeof buf, ",\"ring\":\"%s\"", the_bench->rings[w.ring]);
    return buf;
}

static void params(char *out, size_t size, recv w, const char *extra)
{
    if (w.kind == R_MIX || w.kind == R_IDX)
        snprintf(out, size, "\"tool\":\"%s\",\"k\":%d%s%s", kind_name[w.kind], w.k, ring_param(w), extra);
    else
        snprintf(out, size, "\"tool\":\"%s\"%s", kind_name[w.kind], extra);
}

static int find_recv(const bench *b, kind kd, int k)
{
    for (int i = 0; i < b->nrecv; i++)
        if (b->recvs[i].kind == kd && (k < 0 || b->recvs[i].k == k) && b->recvs[i].ring < 0)
            return i;
    return -1;
}

/* ---- part 1: full speed ---- */

enum { F_SEEN, F_DROPS, F_FPS, F_SFPS, F_CPU, F_CPF, F_SLEEPS, F_COUNT };

/* The values of runs where receiver w succeeded (and, if w2 >= 0, w2 too). */
static size_t pick(double v[][MAX_RECV][MAX_RUNS], bool ok[][MAX_RUNS], int f, int w, int w2, int runs, double *out)
{
    size_t m = 0;
    for (int r = 0; r < runs; r++)
        if (ok[w][r] && (w2 < 0 || ok[w2][r]))
            out[m++] = v[f][w][r];
    return m;
}

static void full_speed(bench *b, pxb_out *o)
{
    static double v[F_COUNT][MAX_RECV][MAX_RUNS];
    static bool ok[MAX_RECV][MAX_RUNS];
    char err[PX_ERRBUF_SIZE];
    for (int r = 0; r < b->runs; r++) {
        for (int w = 0; w < b->nrecv; w++) {
            recv rv = b->recvs[w];
            ok[w][r] = false;
            if (!tool_enabled(b, rv))
                continue;
            trial t;
            err[0] = '\0';
            if (run_trial(b, rv, 0, b->nframes, &t, err) != 0 || !t.ok) {
                fprintf(stderr, "bench_capture: %s K=%d%s: %s\n", kind_name[rv.kind], rv.k, ring_param(rv), err);
                continue;
            }
            ok[w][r] = true;
            v[F_SEEN][w][r] = (double)t.seen / (double)t.sent;
            v[F_DROPS][w][r] = (double)t.drops;
            v[F_FPS][w][r] = t.seen_fps;
            v[F_SFPS][w][r] = t.send_fps;
            v[F_CPU][w][r] = t.cpu_s;
            v[F_CPF][w][r] = t.seen ? t.cpu_s / (double)t.seen * 1e6 : 0;
            v[F_SLEEPS][w][r] = t.sleeps >= 0 && t.seen ? t.sleeps / (double)t.seen : -1;
            fprintf(stderr,
                    "  run %d %-17s K=%-4d sent %llu seen %llu drops %llu send %.0f f/s cpu %.3f s (%.3f us/frame)%s\n",
                    r, kind_name[rv.kind], rv.k, (unsigned long long)t.sent, (unsigned long long)t.seen,
                    (unsigned long long)t.drops, t.send_fps, t.cpu_s, v[F_CPF][w][r], ring_param(rv));
        }
    }
    char p[160], extra[64];
    double x[MAX_RUNS], y[MAX_RUNS];
    snprintf(extra, sizeof extra, ",\"frames\":%llu,\"rate\":\"full\"", (unsigned long long)b->nframes);
    for (int w = 0; w < b->nrecv; w++) {
        recv rv = b->recvs[w];
        size_t m = pick(v, ok, F_SEEN, w, -1, b->runs, x);
        if (!m)
            continue;
        params(p, sizeof p, rv, extra);
        if (rv.kind == R_NONE) {
            pick(v, ok, F_SFPS, w, -1, b->runs, x);
            pxb_figure(o, "send_frames_per_s", p, "frame/s", x, m);
            continue;
        }
        /* pktexpect's "seen" is what the port read; for the indexed case the
         * figure says so in its name. */
        pxb_figure(o, rv.kind == R_IDX ? "port_read_fraction" : "seen_fraction", p, "fraction", x, m);
        static const struct {
            int f;
            const char *name, *unit;
        } figs[] = {{F_DROPS, "kernel_drops", "frames"},        {F_FPS, "seen_frames_per_s", "frame/s"},
                    {F_SFPS, "send_frames_per_s", "frame/s"},    {F_CPU, "receiver_cpu", "s"},
                    {F_CPF, "receiver_cpu_per_frame", "us"},     {F_SLEEPS, "receiver_sleeps_per_frame", "sleeps/frame"}};
        for (size_t i = 0; i < sizeof figs / sizeof *figs; i++) {
            pick(v, ok, figs[i].f, w, -1, b->runs, x);
            if (figs[i].f == F_SLEEPS && x[0] < 0)
                continue;
            pxb_figure(o, figs[i].name, p, figs[i].unit, x, m);
        }
    }
    /* Ratios, run by run (receivers of one repetition ran back to back). */
    int td = find_recv(b, R_TCPDUMP, -1);
    for (int w = 0; w < b->nrecv && td >= 0 && tool_enabled(b, b->recvs[td]); w++) {
        if (b->recvs[w].kind != R_MIX)
            continue;
        size_t m = pick(v, ok, F_CPF, w, td, b->runs, x);
        pick(v, ok, F_CPF, td, w, b->runs, y);
        for (size_t i = 0; i < m; i++)
            x[i] = y[i] > 0 ? x[i] / y[i] : 0;
        snprintf(p, sizeof p, "\"tool\":\"pktexpect/tcpdump\",\"k\":%d%s", b->recvs[w].k, ring_param(b->recvs[w]));
        if (m)
            pxb_figure(o, "cpu_per_frame_ratio", p, "ratio", x, m);
    }
    for (int w = 0; w < b->nrecv; w++) {
        recv rv = b->recvs[w];
        int ref = rv.ring >= 0 ? find_recv(b, rv.kind, rv.k) : -1;
        if (ref < 0)
            continue;
        size_t m = pick(v, ok, F_CPF, w, ref, b->runs, x);
        pick(v, ok, F_CPF, ref, w, b->runs, y);
        for (size_t i = 0; i < m; i++)
            x[i] = y[i] > 0 ? x[i] / y[i] : 0;
        params(p, sizeof p, rv, ",\"over\":\"default\"");
        if (m)
            pxb_figure(o, "cpu_per_frame_ratio_to_default_ring", p, "ratio", x, m);
    }
    int one = find_recv(b, R_IDX, 1);
    for (int w = 0; w < b->nrecv && one >= 0; w++) {
        if (b->recvs[w].kind != R_IDX || w == one)
            continue;
        size_t m = pick(v, ok, F_SEEN, w, one, b->runs, x);
        pick(v, ok, F_SEEN, one, w, b->runs, y);
        for (size_t i = 0; i < m; i++)
            x[i] = y[i] > 0 ? x[i] / y[i] : 0;
        snprintf(p, sizeof p, "\"tool\":\"pktexpect_indexed\",\"k\":%d%s,\"over_k\":1", b->recvs[w].k,
                 ring_param(b->recvs[w]));
        if (m)
            pxb_figure(o, "port_read_fraction_ratio", p, "ratio", x, m);
    }
}

/* ---- part 2: the sweep ---- */

/* Nominal rates (frames/s) of the sweep, per tool; 0 = full speed. The x value
 * plotted is the rate achieved. scapy stops at 100k (it sees about 1% there
 * already): its import takes seconds per point. Each point sends for --sweep-s
 * seconds but at most --frames frames, and at least --frames frames from 500k up,
 * so the high rates are judged on the whole run, not on what the ring absorbs. */
static const double rates_fast[] = {1e5, 2.5e5, 5e5, 7.5e5, 1e6, 1.5e6, 0};
static const double rates_scapy[] = {2e3, 5e3, 1e4, 2e4, 5e4, 1e5};
static const double rates_quick[] = {1e4, 1e5, 1e6, 0};

static size_t sweep_rates(const bench *b, recv w, const double **rates)
{
    if (b->quick) {
        *rates = rates_quick;
        return sizeof rates_quick / sizeof *rates_quick;
    }
    if (w.kind == R_SCAPY) {
        *rates = rates_scapy;
        return sizeof rates_scapy / sizeof *rates_scapy;
    }
    *rates = rates_fast;
    return sizeof rates_fast / sizeof *rates_fast;
}

static uint64_t sweep_count(const bench *b, double rate)
{
    if (rate <= 0 || (rate >= 5e5 && !b->quick))
        return b->nframes;
    uint64_t count = (uint64_t)(rate * b->sweep_s);
    return count > b->nframes ? b->nframes : count < 1 ? 1 : count;
}

static void sweep(bench *b, pxb_out *o)
{
    /* The plot has the first three; then the K=16 mix with each --ring layout. */
    enum { NT = 3 + MAX_RINGS };
    recv tools[NT] = {{R_MIX, 16, -1}, {R_TCPDUMP, 0, -1}, {R_SCAPY, 0, -1}};
    int nt = 3;
    for (int i = 0; i < b->nrings; i++)
        tools[nt++] = (recv){R_MIX, 16, i};
    static double frac[NT][MAX_RATES][MAX_RUNS], ach[NT][MAX_RATES][MAX_RUNS], cpf[NT][MAX_RATES][MAX_RUNS],
        best[NT][MAX_RUNS];
    static int ok[NT][MAX_RATES][MAX_RUNS];
    char err[PX_ERRBUF_SIZE];
    for (int r = 0; r < b->runs; r++) {
        /* Rate by rate, the tools side by side at each rate. */
        for (size_t ri = 0; ri < MAX_RATES; ri++) {
            for (int ti = 0; ti < nt; ti++) {
                recv w = tools[ti];
                const double *rates;
                size_t nrates = sweep_rates(b, w, &rates);
                if (ri >= nrates)
                    continue;
                double rate = rates[ri];
                ok[ti][ri][r] = 0;
                if (!tool_enabled(b, w))
                    continue;
                trial t;
                if (run_trial(b, w, rate, sweep_count(b, rate), &t, err) != 0 || !t.ok) {
                    fprintf(stderr, "bench_capture: sweep %s%s at %.0f: %s\n", kind_name[w.kind], ring_param(w), rate,
                            err);
                    continue;
                }
                ok[ti][ri][r] = 1;
                frac[ti][ri][r] = (double)t.seen / (double)t.sent;
                ach[ti][ri][r] = t.send_fps;
                cpf[ti][ri][r] = t.seen ? t.cpu_s / (double)t.seen * 1e6 : 0;
                fprintf(stderr, "  sweep run %d %-9s rate %9.0f achieved %9.0f sent %7llu seen %.4f drops %llu%s\n", r,
                        kind_name[w.kind], rate, t.send_fps, (unsigned long long)t.sent, frac[ti][ri][r],
                        (unsigned long long)t.drops, ring_param(w));
            }
        }
        /* Highest achieved rate with 100% seen, per tool, this repetition. */
        for (int ti = 0; ti < nt; ti++) {
            const double *rates;
            size_t nrates = sweep_rates(b, tools[ti], &rates);
            best[ti][r] = 0;
            for (size_t ri = 0; ri < nrates; ri++)
                if (ok[ti][ri][r] && frac[ti][ri][r] >= 1.0 && ach[ti][ri][r] > best[ti][r])
                    best[ti][r] = ach[ti][ri][r];
        }
    }
    char p[160], extra[64];
    snprintf(extra, sizeof extra, ",\"sweep_s\":%.2f", b->sweep_s);
    for (int ti = 0; ti < nt; ti++) {
        if (!tool_enabled(b, tools[ti]))
            continue;
        params(p, sizeof p, tools[ti], extra);
        pxb_figure(o, "zero_loss_rate", p, "frame/s", best[ti], (size_t)b->runs);
        const double *rates;
        size_t nrates = sweep_rates(b, tools[ti], &rates);
        for (size_t ri = 0; ri < nrates; ri++) {
            double v[MAX_RUNS], c[MAX_RUNS];
            int m = 0;
            for (int r = 0; r < b->runs; r++)
                if (ok[ti][ri][r]) {
                    c[m] = cpf[ti][ri][r];
                    v[m++] = frac[ti][ri][r];
                }
            char pr[200];
            snprintf(pr, sizeof pr, "%s,\"nominal_rate\":%.0f", p, rates[ri]);
            if (m) {
                pxb_figure(o, "sweep_seen_fraction", pr, "fraction", v, (size_t)m);
                pxb_figure(o, "sweep_cpu_per_seen_frame", pr, "us", c, (size_t)m);
            }
        }
    }
    /* Ratios side by side, per repetition. A tool that never saw 100% has rate 0:
     * the ratio is then left out. */
    for (int ti = 1; ti < 3; ti++) {
        if (!tool_enabled(b, tools[ti]))
            continue;
        double v[MAX_RUNS];
        int m = 0;
        for (int r = 0; r < b->runs; r++)
            if (best[ti][r] > 0)
                v[m++] = best[0][r] / best[ti][r];
        snprintf(p, sizeof p, "\"tool\":\"pktexpect/%s\",\"k\":16", kind_name[tools[ti].kind]);
        if (m)
            pxb_figure(o, "zero_loss_rate_ratio", p, "ratio", v, (size_t)m);
        else
            pxb_note(o, "%s never saw 100%% of the frames: no zero-loss ratio", kind_name[tools[ti].kind]);
    }

    /* The layouts of --ring against the default and against tcpdump, run by run. */
    for (int ti = 3; ti < nt; ti++) {
        double v[MAX_RUNS], v2[MAX_RUNS];
        int m = 0, m2 = 0;
        for (int r = 0; r < b->runs; r++) {
            if (best[0][r] > 0)
                v[m++] = best[ti][r] / best[0][r];
            if (best[1][r] > 0 && tool_enabled(b, tools[1]))
                v2[m2++] = best[ti][r] / best[1][r];
        }
        params(p, sizeof p, tools[ti], ",\"over\":\"default\"");
        if (m)
            pxb_figure(o, "zero_loss_rate_ratio_to_default_ring", p, "ratio", v, (size_t)m);
        snprintf(p, sizeof p, "\"tool\":\"pktexpect/tcpdump\",\"k\":16%s", ring_param(tools[ti]));
        if (m2)
            pxb_figure(o, "zero_loss_rate_ratio", p, "ratio", v2, (size_t)m2);
    }

    /* Plot data: one gnuplot data block per tool (median over the runs); not
     * from a --ring run, which would replace the plot of the main one. */
    if (b->nrings)
        return;
    char path[512];
    const char *dir = getenv("PX_BENCH_RESULTS");
    if (dir && *dir)
        snprintf(path, sizeof path, "%s/capture_sweep.dat", dir);
    else
        snprintf(path, sizeof path, "%s/results/capture_sweep.dat", pxb_bench_dir());
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "# %s: seen fraction vs achieved send rate, median of %d runs, 64-byte frames\n", o->stamp,
            b->runs);
    for (int ti = 0; ti < 3; ti++) {
        fprintf(f, "# %s%s\n", kind_name[tools[ti].kind], tools[ti].k ? " K=16" : "");
        fprintf(f, "# achieved_fps seen_fraction min max\n");
        const double *rates;
        size_t nrates = sweep_rates(b, tools[ti], &rates);
        double row[MAX_RATES][4];
        size_t nrow = 0;
        for (size_t ri = 0; ri < nrates; ri++) {
            double a[MAX_RUNS], v[MAX_RUNS];
            int m = 0;
            for (int r = 0; r < b->runs; r++)
                if (ok[ti][ri][r]) {
                    a[m] = ach[ti][ri][r];
                    v[m++] = frac[ti][ri][r];
                }
            if (!m)
                continue;
            pxb_summary sa = pxb_summarize(a, (size_t)m), sv = pxb_summarize(v, (size_t)m);
            row[nrow][0] = sa.median, row[nrow][1] = sv.median, row[nrow][2] = sv.min, row[nrow][3] = sv.max;
            nrow++;
        }
        /* By achieved rate: full speed may come out slower than a paced point. */
        for (size_t i = 1; i < nrow; i++)
            for (size_t j = i; j > 0 && row[j][0] < row[j - 1][0]; j--)
                for (int c = 0; c < 4; c++) {
                    double x = row[j][c];
                    row[j][c] = row[j - 1][c];
                    row[j - 1][c] = x;
                }
        for (size_t i = 0; i < nrow; i++)
            fprintf(f, "%.0f %.6f %.6f %.6f\n", row[i][0], row[i][1], row[i][2], row[i][3]);
        fprintf(f, "\n\n");
    }
    fclose(f);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_capture [--frames N] [--runs N] [--sweep-s S] [--quick] [--no-scapy] "
                    "[--no-tcpdump] [--no-none] [--no-sweep] [--no-full] [--mix-k LIST] [--indexed-k LIST]\n"
                    "  --mix-k LIST      K of the predicate mix at full speed (default 1,16,256; \"none\": skip)\n"
                    "  --indexed-k LIST  K of distinct saw_udp(dport=1..K) at full speed (default 1,16,256,1000;\n"
                    "                    \"none\": skip); K=1 is the reference of the ratios\n"
                    "  --no-none         skip the blaster-alone trial\n"
                    "  --ring LIST       ring layouts to compare with the default (bench/README.md, \"Ring options\"),\n"
                    "                    e.g. v2:slot=256,v3:tov=1: K=16 mix and indexed with each, and in the sweep;\n"
                    "                    figures to results/rings_capture.json\n"
                    "Needs root (veth pair, raw sockets), tcpdump and python3-scapy.\n");
}

/* Appends receivers of kind kd for a comma-separated list of K ("none": none). */
static int add_ks(bench *b, kind kd, const char *list)
{
    if (strcmp(list, "none") == 0)
        return 0;
    const char *q = list;
    while (*q) {
        char *end;
        long k = strtol(q, &end, 10);
        if (end == q || k < 1 || k > 65535 || b->nrecv == MAX_RECV || (*end && *end != ','))
            return -1;
        b->recvs[b->nrecv++] = (recv){kd, (int)k, -1};
        q = *end ? end + 1 : end;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench b = {.nframes = 1000000, .runs = 5, .sweep_s = 1.0};
    bool no_sweep = false, no_full = false, no_none = false;
    const char *mix_k = "1,16,256", *idx_k = "1,16,256,1000";
    char *ring_list = NULL;
    static const struct option lo[] = {
        {"frames", required_argument, NULL, 'f'}, {"runs", required_argument, NULL, 'r'},
        {"sweep-s", required_argument, NULL, 's'}, {"quick", no_argument, NULL, 'q'},
        {"no-scapy", no_argument, NULL, 'S'},      {"no-tcpdump", no_argument, NULL, 'T'},
        {"no-sweep", no_argument, NULL, 'W'},      {"no-full", no_argument, NULL, 'F'},
        {"mix-k", required_argument, NULL, 'm'},  {"indexed-k", required_argument, NULL, 'i'},
        {"no-none", no_argument, NULL, 'N'},       {"help", no_argument, NULL, 'h'},
        {"ring", required_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (opt) {
        case 'f': b.nframes = strtoull(optarg, NULL, 10); break;
        case 'r': b.runs = atoi(optarg); break;
        case 's': b.sweep_s = atof(optarg); break;
        case 'q': b.quick = true; break;
        case 'S': b.no_scapy = true; break;
        case 'T': b.no_tcpdump = true; break;
        case 'W': no_sweep = true; break;
        case 'F': no_full = true; break;
        case 'm': mix_k = optarg; break;
        case 'i': idx_k = optarg; break;
        case 'N': no_none = true; break;
        case 'R': ring_list = optarg; break;
        default: usage(); return opt == 'h' ? 0 : 2;
        }
    }
    if (b.quick) {
        b.nframes = 100000;
        b.runs = 1;
        b.sweep_s = 0.3;
    }
    /* A repetition: the mix, the peers, the blaster alone, the indexed case. */
    int bad = add_ks(&b, R_MIX, mix_k);
    if (b.nrecv < MAX_RECV - 3) {
        b.recvs[b.nrecv++] = (recv){R_TCPDUMP, 0, -1};
        b.recvs[b.nrecv++] = (recv){R_SCAPY, 0, -1};
        if (!no_none)
            b.recvs[b.nrecv++] = (recv){R_NONE, 0, -1};
    }
    bad |= add_ks(&b, R_IDX, idx_k);
    the_bench = &b;
    char err[PX_ERRBUF_SIZE];
    for (char *save = NULL, *spec = ring_list ? strtok_r(ring_list, ",", &save) : NULL; spec && !bad;
         spec = strtok_r(NULL, ",", &save)) {
        if (b.nrings == MAX_RINGS || b.nrecv > MAX_RECV - 2 ||
            px__ring_opts_parse(spec, &b.ring_opts[b.nrings], err) != 0) {
            fprintf(stderr, "bench_capture: --ring: %s\n", b.nrings == MAX_RINGS ? "too many layouts" : err);
            bad = 1;
            break;
        }
        b.rings[b.nrings] = spec;
        b.recvs[b.nrecv++] = (recv){R_MIX, 16, b.nrings};
        b.recvs[b.nrecv++] = (recv){R_IDX, 16, b.nrings};
        b.nrings++;
    }
    if (bad || b.runs < 1 || b.runs > MAX_RUNS || b.nframes < 1 || b.sweep_s <= 0) {
        usage();
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "bench_capture: needs root (veth pair, raw sockets)\n");
        return 77;
    }
    if (pxb_veth_create(0, b.a, b.b, err) != 0) {
        fprintf(stderr, "bench_capture: veth: %s\n", err);
        return 1;
    }
    for (int i = 0; i < NFRAMES; i++)
        pxb_frame64(b.frames[i], (uint16_t)(1000 + i), DPORT_BULK);
    for (int i = 0; i < IDX_DPORTS; i++)
        pxb_frame64(b.idx_frames[i], (uint16_t)(1000 + i), (uint16_t)(1 + i));
    pxb_frame64(b.marker, 1000, DPORT_MARKER);
    px_ctx_opts txo = {.ring_mib = 1};
    b.tx = px_ctx_new(&txo, err);
    /* The sender needs no capture on "a": one frame opens its socket and checks it. */
    int rc = b.tx ? px_send(b.tx, b.a, b.marker, sizeof b.marker, err) : -1;
    if (rc != 0) {
        fprintf(stderr, "bench_capture: sender: %s\n", err);
        px_ctx_free(b.tx);
        pxb_veth_delete(b.a);
        return 1;
    }
    pxb_sleep_us(200000); /* let the link settle */
    pxb_out o;
    pxb_out_open(&o, b.nrings ? "rings_capture" : "capture");
    pxb_note(&o, "veth pair, 64-byte frames, %llu frames per full-speed trial, %d runs, receivers one at a time",
             (unsigned long long)b.nframes, b.runs);
    if (!no_full)
        full_speed(&b, &o);
    if (!no_sweep)
        sweep(&b, &o);
    pxb_out_close(&o);
    px_ctx_free(b.tx);
    pxb_veth_delete(b.a);
    return 0;
}
