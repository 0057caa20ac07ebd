/* Benchmark 3: negative checks waited together against one after another.
 *
 * Ten ports (end "b" of ten veth pairs), one negative expectation each
 * (did_not_see_udp(dport=7777) with a --window-ms window; nothing is sent, so each
 * PASSes when its window closes):
 *
 *   together     arm all ten, then px_future_wait_all: costs one window
 *   sequential   arm one, wait for it, then the next, as sequential frameworks do:
 *                costs ten windows
 *
 * Wall time from the first px_expect to the last verdict, --runs runs, both ways
 * back to back in each run; the ratio together / sequential is taken per run.
 * Writes results/negative.json.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pxb_util.h"

#define NPORTS 10
#define MAX_RUNS 20

static px_future *arm(px_ctx *ctx, const char *port, uint32_t window_ms)
{
    px_l4_spec u = PX_L4_SPEC_ANY;
    u.dport = 7777;
    px_expect_opts o = {.timeout_ms = window_ms};
    return px_expect(ctx, port, px_did_not_see_udp(&u), &o);
}

/* Returns the wall time in ms, or -1 when a verdict was not PASS. */
static double together(px_ctx *ctx, char b[NPORTS][16], uint32_t window_ms)
{
    px_future *fs[NPORTS];
    uint64_t t0 = pxb_now_ns();
    for (int i = 0; i < NPORTS; i++)
        fs[i] = arm(ctx, b[i], window_ms);
    int rc = px_future_wait_all(fs, NPORTS, -1);
    double ms = (double)(pxb_now_ns() - t0) / 1e6;
    for (int i = 0; i < NPORTS; i++) {
        if (rc != 0 || !fs[i] || px_future_verdict(fs[i]) != PX_PASS) {
            fprintf(stderr, "bench_negative: together: port %s: %s\n", b[i],
                    fs[i] ? px_future_explanation(fs[i]) : "no future");
            ms = -1;
        }
        px_future_free(fs[i]);
    }
    return ms;
}

static double sequential(px_ctx *ctx, char b[NPORTS][16], uint32_t window_ms)
{
    double ms = 0;
    uint64_t t0 = pxb_now_ns();
    for (int i = 0; i < NPORTS; i++) {
        px_future *f = arm(ctx, b[i], window_ms);
        if (!f || px_future_wait(f) != PX_PASS) {
            fprintf(stderr, "bench_negative: sequential: port %s: %s\n", b[i],
                    f ? px_future_explanation(f) : "no future");
            ms = -1;
        }
        px_future_free(f);
    }
    return ms < 0 ? ms : (double)(pxb_now_ns() - t0) / 1e6;
}

int main(int argc, char **argv)
{
    int runs = 5;
    uint32_t window_ms = 200;
    static const struct option lo[] = {
        {"runs", required_argument, NULL, 'r'}, {"window-ms", required_argument, NULL, 'w'},
        {"quick", no_argument, NULL, 'q'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (opt) {
        case 'r': runs = atoi(optarg); break;
        case 'w': window_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'q': runs = 1; break;
        default:
            fprintf(stderr, "usage: bench_negative [--runs N] [--window-ms MS] [--quick]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS || window_ms < 1) {
        fprintf(stderr, "bench_negative: --runs 1..%d, --window-ms >= 1\n", MAX_RUNS);
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "bench_negative: needs root (veth pairs, raw sockets)\n");
        return 77;
    }
    char a[NPORTS][16], b[NPORTS][16], err[PX_ERRBUF_SIZE];
    int made = 0, rc = 0;
    for (; made < NPORTS && rc == 0; made++)
        rc = pxb_veth_create(made, a[made], b[made], err);
    px_ctx *ctx = rc == 0 ? px_ctx_new(NULL, err) : NULL;
    for (int i = 0; ctx && rc == 0 && i < NPORTS; i++)
        rc = px_port_open(ctx, b[i], err);
    if (rc != 0 || !ctx) {
        fprintf(stderr, "bench_negative: %s\n", err);
        px_ctx_free(ctx);
        for (int i = 0; i < made; i++)
            pxb_veth_delete(a[i]);
        return 1;
    }
    pxb_sleep_us(200000);
    double tog[MAX_RUNS], seq[MAX_RUNS], ratio[MAX_RUNS];
    int n = 0;
    for (int r = 0; r < runs; r++) {
        double t = together(ctx, b, window_ms), s = sequential(ctx, b, window_ms);
        if (t < 0 || s < 0)
            continue;
        tog[n] = t;
        seq[n] = s;
        ratio[n] = t / s;
        n++;
    }
    pxb_out o;
    pxb_out_open(&o, "negative");
    pxb_note(&o, "%d ports, one did_not_see_udp(dport=7777) each, window %u ms, %d runs", NPORTS, window_ms, runs);
    char p[96];
    snprintf(p, sizeof p, "\"ports\":%d,\"window_ms\":%u", NPORTS, window_ms);
    if (n) {
        pxb_figure(&o, "wall_together", p, "ms", tog, (size_t)n);
        pxb_figure(&o, "wall_sequential", p, "ms", seq, (size_t)n);
        pxb_figure(&o, "ratio_together_sequential", p, "ratio", ratio, (size_t)n);
    } else {
        pxb_note(&o, "no run completed: see the errors above");
    }
    pxb_out_close(&o);
    px_ctx_free(ctx);
    for (int i = 0; i < NPORTS; i++)
        pxb_veth_delete(a[i]);
    return n ? 0 : 1;
}
