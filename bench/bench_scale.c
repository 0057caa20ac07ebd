/* Benchmark 4: scale: memory and idle CPU with many ports and expectations, and
 * the arm / disarm rate.
 *
 * For 1, 8 and 64 open ports (both ends of up to 32 veth pairs, no traffic), in a
 * fresh context each time:
 *   - RSS added by opening the ports (receive ring per port: the default 64 MiB
 *     for 1 and 8 ports, --ring-mib-64 (4) MiB for 64 ports, said in the output)
 *   - RSS added by arming 1,000 expectations spread over the ports
 *     (saw_udp(dport=7777), 60 s window: they stay armed; the allocator reuses the
 *     memory of the previous size's expectations, so only the first is telling),
 *     and the RSS of the whole process with everything open and armed
 *   - idle CPU of the whole process over --idle-s seconds with all of them armed
 *   - arm rate (px_expect calls per second) and disarm rate (px_future_free of a
 *     pending future: cancel + free, per second)
 * --runs runs. Writes results/scale.json.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pxb_util.h"

#define MAX_PORTS 64
#define NEXP 1000
#define MAX_RUNS 20

typedef struct sample {
    double open_ms, rss_total_mib, rss_ports_mib, rss_exp_mib, idle_cpu, arm_rate, disarm_rate;
} sample;

static int one(char names[MAX_PORTS][16], int nports, uint32_t ring_mib, double idle_s, sample *s, char *err)
{
    uint64_t rss0 = pxb_rss_kib();
    px_ctx_opts o = {.ring_mib = ring_mib, .default_timeout_ms = 60000};
    px_ctx *ctx = px_ctx_new(&o, err);
    if (!ctx)
        return -1;
    int rc = 0;
    uint64_t t0 = pxb_now_ns();
    for (int i = 0; rc == 0 && i < nports; i++)
        rc = px_port_open(ctx, names[i], err);
    s->open_ms = (double)(pxb_now_ns() - t0) / 1e6;
    uint64_t rss1 = pxb_rss_kib();
    static px_future *fs[NEXP];
    int armed = 0;
    if (rc == 0) {
        px_l4_spec u = PX_L4_SPEC_ANY;
        u.dport = 7777;
        px_predicate *preds[NEXP];
        for (int i = 0; i < NEXP; i++)
            preds[i] = px_saw_udp(&u); /* built before the clock: the rate is px_expect's */
        px_expect_opts eo = {.timeout_ms = 60000};
        t0 = pxb_now_ns();
        for (int i = 0; i < NEXP; i++) {
            fs[i] = px_expect(ctx, names[i % nports], preds[i], &eo);
            if (fs[i])
                armed++;
        }
        double secs = (double)(pxb_now_ns() - t0) / 1e9;
        s->arm_rate = (double)NEXP / secs;
        for (int i = 0; i < armed; i++)
            if (px_future_done(fs[i])) {
                snprintf(err, PX_ERRBUF_SIZE, "expectation %d: %s", i, px_future_explanation(fs[i]));
                rc = -1;
                break;
            }
    }
    uint64_t rss2 = pxb_rss_kib();
    if (rc == 0) {
        double c0 = pxb_cpu_self();
        uint64_t w0 = pxb_now_ns();
        pxb_sleep_us((uint64_t)(idle_s * 1e6));
        s->idle_cpu = (pxb_cpu_self() - c0) / ((double)(pxb_now_ns() - w0) / 1e9);
    }
    t0 = pxb_now_ns();
    for (int i = 0; i < armed; i++)
        px_future_free(fs[i]);
    s->disarm_rate = (double)armed / ((double)(pxb_now_ns() - t0) / 1e9);
    s->rss_ports_mib = (double)(rss1 - rss0) / 1024.0;
    s->rss_exp_mib = (double)(rss2 - rss1) / 1024.0;
    s->rss_total_mib = (double)rss2 / 1024.0;
    px_ctx_free(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    int runs = 5;
    uint32_t ring64 = 4;
    double idle_s = 1.0;
    static const struct option lo[] = {
        {"runs", required_argument, NULL, 'r'}, {"ring-mib-64", required_argument, NULL, 'm'},
        {"idle-s", required_argument, NULL, 'i'}, {"quick", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (opt) {
        case 'r': runs = atoi(optarg); break;
        case 'm': ring64 = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'i': idle_s = atof(optarg); break;
        case 'q': runs = 1, idle_s = 0.3; break;
        default:
            fprintf(stderr, "usage: bench_scale [--runs N] [--ring-mib-64 MIB] [--idle-s S] [--quick]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS || idle_s <= 0) {
        fprintf(stderr, "bench_scale: --runs 1..%d, --idle-s > 0\n", MAX_RUNS);
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "bench_scale: needs root (veth pairs, raw sockets)\n");
        return 77;
    }
    char a[MAX_PORTS / 2][16], b[MAX_PORTS / 2][16], names[MAX_PORTS][16], err[PX_ERRBUF_SIZE];
    int made = 0, rc = 0;
    for (; made < MAX_PORTS / 2 && rc == 0; made++)
        rc = pxb_veth_create(made, a[made], b[made], err);
    if (rc != 0) {
        fprintf(stderr, "bench_scale: veth: %s\n", err);
        for (int i = 0; i < made; i++)
            pxb_veth_delete(a[i]);
        return 1;
    }
    for (int i = 0; i < MAX_PORTS / 2; i++) {
        snprintf(names[2 * i], 16, "%s", b[i]);
        snprintf(names[2 * i + 1], 16, "%s", a[i]);
    }
    pxb_sleep_us(200000);
    static const int sizes[] = {1, 8, 64};
    enum { NS = 3 };
    static sample s[NS][MAX_RUNS];
    int n[NS] = {0};
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < NS; k++) {
            uint32_t ring = sizes[k] == 64 ? ring64 : 0;
            if (one(names, sizes[k], ring, idle_s, &s[k][n[k]], err) != 0)
                fprintf(stderr, "bench_scale: %d ports: %s\n", sizes[k], err);
            else
                n[k]++;
        }
    pxb_out o;
    pxb_out_open(&o, "scale");
    pxb_note(&o, "%d expectations armed, receive ring 64 MiB per port for 1 and 8 ports, %u MiB for 64 ports, "
                 "idle window %.1f s, %d runs", NEXP, ring64, idle_s, runs);
    for (int k = 0; k < NS; k++) {
        if (!n[k])
            continue;
        double v[7][MAX_RUNS];
        for (int r = 0; r < n[k]; r++) {
            v[0][r] = s[k][r].rss_ports_mib;
            v[1][r] = s[k][r].rss_exp_mib;
            v[2][r] = s[k][r].idle_cpu * 100;
            v[3][r] = s[k][r].arm_rate;
            v[4][r] = s[k][r].disarm_rate;
            v[5][r] = s[k][r].open_ms;
            v[6][r] = s[k][r].rss_total_mib;
        }
        char p[96];
        snprintf(p, sizeof p, "\"ports\":%d,\"ring_mib\":%u,\"expectations\":%d", sizes[k],
                 sizes[k] == 64 ? ring64 : 64, NEXP);
        size_t m = (size_t)n[k];
        pxb_figure(&o, "rss_process", p, "MiB", v[6], m);
        pxb_figure(&o, "rss_ports", p, "MiB", v[0], m);
        pxb_figure(&o, "rss_expectations", p, "MiB", v[1], m);
        pxb_figure(&o, "idle_cpu", p, "% of a core", v[2], m);
        pxb_figure(&o, "arm_rate", p, "expect/s", v[3], m);
        pxb_figure(&o, "disarm_rate", p, "free/s", v[4], m);
        pxb_figure(&o, "open_ports_time", p, "ms", v[5], m);
    }
    pxb_out_close(&o);
    for (int i = 0; i < MAX_PORTS / 2; i++)
        pxb_veth_delete(a[i]);
    return 0;
}
