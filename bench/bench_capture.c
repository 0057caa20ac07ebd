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
 * Part 1 sends --frames frames at full speed; part 2 sweeps the send rate (each
 * point sends for --sweep-s seconds, at most --frames frames) and finds the highest
 * rate at which each receiver sees 100% of the frames.
 *
 * Figures: seen fraction, kernel drops, frames/s (seen frames over the send time),
 * receiver CPU seconds (pktexpect: process CPU minus the blasting thread; peers:
 * their own rusage), receiver sleeps per frame (voluntary context switches: each is
 * one wake-up), zero-loss rate and the ratios pktexpect / peer per repetition.
 * Writes results/capture.json (figures) and results/capture_sweep.dat (the plot data).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pxb_util.h"

#define DPORT_BULK 9
#define DPORT_MARKER 9999
#define NFRAMES 8
#define MAX_RUNS 20
#define MAX_RATES 16

/* T_NONE: the blaster alone, nobody listening (the send rate the receivers are
 * measured against). */
typedef enum tool { T_PX1, T_PX16, T_PX256, T_TCPDUMP, T_SCAPY, T_NONE, T_COUNT } tool;
static const char *const tool_name[T_COUNT] = {"pktexpect", "pktexpect", "pktexpect", "tcpdump", "scapy", "none"};
static const int tool_k[T_COUNT] = {1, 16, 256, 0, 0, 0};

typedef struct bench {
    char a[16], b[16];
    px_ctx *tx;
    uint8_t frames[NFRAMES][64];
    uint8_t marker[64];
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

/* One predicate of the mix: i = 0 counts, i = 1 is BPF-filtered, the rest never match. */
static px_future *arm_one(px_ctx *rx, const char *port, int i)
{
    px_expect_opts o = {.timeout_ms = 120000};
    px_predicate *p = NULL;
    if (i == 0) {
        px_l4_spec u = PX_L4_SPEC_ANY;
        u.dport = DPORT_BULK;
        p = px_count(px_saw_udp(&u));
    } else if (i == 1) {
        p = px_packet_count();
        o.filter = "udp dst port 9";
    } else {
        switch (i % 5) {
        case 0: p = px_saw_vlan_tag(100 + i, -1); break;
        case 1: {
            px_l4_spec u = PX_L4_SPEC_ANY;
            u.dport = 10000 + i;
            p = px_saw_udp(&u);
            break;
        }
        case 2: {
            px_ip_spec s = PX_IP_SPEC_ANY;
            s.dst.family = 4;
            s.dst.len = 24;
            s.dst.addr[0] = 192, s.dst.addr[1] = 168, s.dst.addr[2] = (uint8_t)i;
            p = px_saw_ipv4(&s);
            break;
        }
        case 3: {
            uint8_t mac[6] = {0x02, 0xee, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
            p = px_saw_dst_mac(mac);
            break;
        }
        default: {
            px_l4_spec t = PX_L4_SPEC_ANY;
            t.dport = 80;
            p = px_saw_tcp(&t);
            break;
        }
        }
    }
    return p ? px_expect(rx, port, p, &o) : NULL;
}

static int trial_pktexpect(bench *b, int k, double rate, uint64_t count, trial *t, char *err)
{
    memset(t, 0, sizeof *t);
    px_ctx_opts opts = {.default_timeout_ms = 120000};
    px_ctx *rx = px_ctx_new(&opts, err);
    if (!rx)
        return -1;
    int rc = px_port_open(rx, b->b, err);
    px_future **fs = calloc((size_t)k, sizeof *fs);
    if (rc == 0 && !fs)
        rc = PX_ENOMEM;
    for (int i = 0; rc == 0 && i < k; i++) {
        fs[i] = arm_one(rx, b->b, i);
        if (!fs[i] || px_future_done(fs[i])) {
            snprintf(err, PX_ERRBUF_SIZE, "arming expectation %d: %s", i,
                     fs[i] ? px_future_explanation(fs[i]) : "out of memory");
            rc = PX_EINVAL;
        }
    }
    if (rc == 0) {
        double cpu0 = pxb_cpu_self(), th0 = pxb_cpu_thread();
        struct rusage rs0, rt0, rs1, rt1;
        getrusage(RUSAGE_SELF, &rs0);
        getrusage(RUSAGE_THREAD, &rt0);
        uint64_t elapsed = 0;
        rc = pxb_blast(b->tx, b->a, (const uint8_t(*)[64])b->frames, NFRAMES, count, rate, &t->sent, &elapsed,
                       err);
        t->send_s = (double)elapsed / 1e9;
        /* Wait until the counting expectation has seen every frame, or for 300 ms
         * without progress (frames were lost). */
        px_counters c;
        uint64_t last = 0, t_last = pxb_now_ns();
        for (;;) {
            px_future_counters(fs[0], &c);
            uint64_t now = pxb_now_ns();
            if (c.seen != last) {
                last = c.seen;
                t_last = now;
            }
            if (c.seen >= t->sent || now - t_last > 300000000ull)
                break;
            pxb_sleep_us(1000);
        }
        t->cpu_s = (pxb_cpu_self() - cpu0) - (pxb_cpu_thread() - th0);
        getrusage(RUSAGE_SELF, &rs1);
        getrusage(RUSAGE_THREAD, &rt1);
        t->sleeps = (double)((rs1.ru_nvcsw - rs0.ru_nvcsw) - (rt1.ru_nvcsw - rt0.ru_nvcsw));
        t->seen = c.seen;
        px_port_stats st;
        px_port_get_stats(rx, b->b, &st);
        t->drops = st.drops > c.drops ? st.drops : c.drops;
        if (k > 1) { /* the BPF-filtered expectation must agree with the counting one */
            px_counters c1;
            px_future_counters(fs[1], &c1);
            if (c1.seen != c.seen)
                fprintf(stderr, "bench_capture: K=%d: bpf-filtered expectation saw %llu, counting one %llu\n", k,
                        (unsigned long long)c1.seen, (unsigned long long)c.seen);
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

static int run_trial(bench *b, tool w, double rate, uint64_t count, trial *t, char *err)
{
    switch (w) {
    case T_NONE: return trial_none(b, rate, count, t, err);
    case T_TCPDUMP: return trial_tcpdump(b, rate, count, t, err);
    case T_SCAPY: return trial_scapy(b, rate, count, t, err);
    default: return trial_pktexpect(b, tool_k[w], rate, count, t, err);
    }
}

static bool tool_enabled(const bench *b, tool w)
{
    return !(w == T_SCAPY && b->no_scapy) && !(w == T_TCPDUMP && b->no_tcpdump);
}

static void params(char *out, size_t size, tool w, const char *extra)
{
    if (tool_k[w])
        snprintf(out, size, "\"tool\":\"%s\",\"k\":%d%s", tool_name[w], tool_k[w], extra);
    else
        snprintf(out, size, "\"tool\":\"%s\"%s", tool_name[w], extra);
}

/* ---- part 1: full speed ---- */

static void full_speed(bench *b, pxb_out *o)
{
    static double seen[T_COUNT][MAX_RUNS], drops[T_COUNT][MAX_RUNS], fps[T_COUNT][MAX_RUNS],
        cpu[T_COUNT][MAX_RUNS], sfps[T_COUNT][MAX_RUNS], slp[T_COUNT][MAX_RUNS];
    int n[T_COUNT] = {0};
    char err[PX_ERRBUF_SIZE];
    for (int r = 0; r < b->runs; r++) {
        for (int w = 0; w < T_COUNT; w++) {
            if (!tool_enabled(b, (tool)w))
                continue;
            trial t;
            if (run_trial(b, (tool)w, 0, b->nframes, &t, err) != 0 || !t.ok) {
                fprintf(stderr, "bench_capture: %s: %s\n", tool_name[w], err);
                continue;
            }
            int i = n[w]++;
            seen[w][i] = (double)t.seen / (double)t.sent;
            drops[w][i] = (double)t.drops;
            fps[w][i] = t.seen_fps;
            cpu[w][i] = t.cpu_s;
            slp[w][i] = t.sleeps >= 0 && t.seen ? t.sleeps / (double)t.seen : -1;
            sfps[w][i] = t.send_fps;
            fprintf(stderr, "  run %d %-9s K=%-3d sent %llu seen %llu drops %llu send %.0f f/s cpu %.2f s\n", r,
                    tool_name[w], tool_k[w], (unsigned long long)t.sent, (unsigned long long)t.seen,
                    (unsigned long long)t.drops, t.send_fps, t.cpu_s);
        }
    }
    char p[128], extra[64];
    snprintf(extra, sizeof extra, ",\"frames\":%llu,\"rate\":\"full\"", (unsigned long long)b->nframes);
    for (int w = 0; w < T_COUNT; w++) {
        if (!n[w])
            continue;
        params(p, sizeof p, (tool)w, extra);
        if (w == T_NONE) {
            pxb_figure(o, "send_frames_per_s", p, "frame/s", sfps[w], (size_t)n[w]);
            continue;
        }
        pxb_figure(o, "seen_fraction", p, "fraction", seen[w], (size_t)n[w]);
        pxb_figure(o, "kernel_drops", p, "frames", drops[w], (size_t)n[w]);
        pxb_figure(o, "seen_frames_per_s", p, "frame/s", fps[w], (size_t)n[w]);
        pxb_figure(o, "send_frames_per_s", p, "frame/s", sfps[w], (size_t)n[w]);
        pxb_figure(o, "receiver_cpu", p, "s", cpu[w], (size_t)n[w]);
        if (slp[w][0] >= 0)
            pxb_figure(o, "receiver_sleeps_per_frame", p, "sleeps/frame", slp[w], (size_t)n[w]);
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

static size_t sweep_rates(const bench *b, tool w, const double **rates)
{
    if (b->quick) {
        *rates = rates_quick;
        return sizeof rates_quick / sizeof *rates_quick;
    }
    if (w == T_SCAPY) {
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
    const tool tools[] = {T_PX16, T_TCPDUMP, T_SCAPY};
    enum { NT = 3 };
    static double frac[NT][MAX_RATES][MAX_RUNS], ach[NT][MAX_RATES][MAX_RUNS], cpf[NT][MAX_RATES][MAX_RUNS],
        best[NT][MAX_RUNS];
    static int ok[NT][MAX_RATES][MAX_RUNS];
    char err[PX_ERRBUF_SIZE];
    for (int r = 0; r < b->runs; r++) {
        /* Rate by rate, the tools side by side at each rate. */
        for (size_t ri = 0; ri < MAX_RATES; ri++) {
            for (int ti = 0; ti < NT; ti++) {
                tool w = tools[ti];
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
                    fprintf(stderr, "bench_capture: sweep %s at %.0f: %s\n", tool_name[w], rate, err);
                    continue;
                }
                ok[ti][ri][r] = 1;
                frac[ti][ri][r] = (double)t.seen / (double)t.sent;
                ach[ti][ri][r] = t.send_fps;
                cpf[ti][ri][r] = t.seen ? t.cpu_s / (double)t.seen * 1e6 : 0;
                fprintf(stderr, "  sweep run %d %-9s rate %9.0f achieved %9.0f sent %7llu seen %.4f drops %llu\n", r,
                        tool_name[w], rate, t.send_fps, (unsigned long long)t.sent, frac[ti][ri][r],
                        (unsigned long long)t.drops);
            }
        }
        /* Highest achieved rate with 100% seen, per tool, this repetition. */
        for (int ti = 0; ti < NT; ti++) {
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
    for (int ti = 0; ti < NT; ti++) {
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
    for (int ti = 1; ti < NT; ti++) {
        if (!tool_enabled(b, tools[ti]))
            continue;
        double v[MAX_RUNS];
        int m = 0;
        for (int r = 0; r < b->runs; r++)
            if (best[ti][r] > 0)
                v[m++] = best[0][r] / best[ti][r];
        snprintf(p, sizeof p, "\"tool\":\"pktexpect/%s\",\"k\":16", tool_name[tools[ti]]);
        if (m)
            pxb_figure(o, "zero_loss_rate_ratio", p, "ratio", v, (size_t)m);
        else
            pxb_note(o, "%s never saw 100%% of the frames: no zero-loss ratio", tool_name[tools[ti]]);
    }

    /* Plot data: one gnuplot data block per tool (median over the runs). */
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
    for (int ti = 0; ti < NT; ti++) {
        fprintf(f, "# %s%s\n", tool_name[tools[ti]], tool_k[tools[ti]] ? " K=16" : "");
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
                    "[--no-tcpdump] [--no-sweep] [--no-full]\n"
                    "Needs root (veth pair, raw sockets), tcpdump and python3-scapy.\n");
}

int main(int argc, char **argv)
{
    bench b = {.nframes = 1000000, .runs = 5, .sweep_s = 1.0};
    bool no_sweep = false, no_full = false;
    static const struct option lo[] = {
        {"frames", required_argument, NULL, 'f'}, {"runs", required_argument, NULL, 'r'},
        {"sweep-s", required_argument, NULL, 's'}, {"quick", no_argument, NULL, 'q'},
        {"no-scapy", no_argument, NULL, 'S'},      {"no-tcpdump", no_argument, NULL, 'T'},
        {"no-sweep", no_argument, NULL, 'W'},      {"no-full", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
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
        default: usage(); return opt == 'h' ? 0 : 2;
        }
    }
    if (b.quick) {
        b.nframes = 100000;
        b.runs = 1;
        b.sweep_s = 0.3;
    }
    if (b.runs < 1 || b.runs > MAX_RUNS || b.nframes < 1 || b.sweep_s <= 0) {
        usage();
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "bench_capture: needs root (veth pair, raw sockets)\n");
        return 77;
    }
    char err[PX_ERRBUF_SIZE];
    if (pxb_veth_create(0, b.a, b.b, err) != 0) {
        fprintf(stderr, "bench_capture: veth: %s\n", err);
        return 1;
    }
    for (int i = 0; i < NFRAMES; i++)
        pxb_frame64(b.frames[i], (uint16_t)(1000 + i), DPORT_BULK);
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
    pxb_out_open(&o, "capture");
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
