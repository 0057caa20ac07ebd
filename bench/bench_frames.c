/* Benchmark: the frame dissector and builder on one core.
 *
 * Figures (each the median of 5 runs of about 0.3 s):
 *   dissect      frames dissected per second, for Ethernet/IPv4/UDP,
 *                Ethernet/VLAN/IPv6/TCP, Ethernet/IPv4/UDP/VXLAN/Ethernet/IPv4/UDP,
 *                and the three in turn (mix)
 *   build_text   frames built per second from the text form (parse + build)
 *   build_c      frames built per second with the C builder API (describe + build)
 *
 * Usage: bench_frames [seconds-per-run]   (default 0.3)
 * Output: a table on stdout and one JSON line per figure in results/frames.json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/build.h"
#include "pktexpect/error.h"
#include "pktexpect/text.h"
#include "pxb_util.h"

#define RUNS 5

static const char *const TEXTS[3] = {
    "Ether(src=02:00:00:00:00:01)/IPv4(src=10.0.0.1,dst=10.0.0.2)/UDP(sport=1234,dport=53)/Raw(\"hello world\")",
    "Ether/Dot1Q(vlan=102,pcp=3)/IPv6(src=2001:db8::1,dst=2001:db8::2)/TCP(sport=40000,dport=80,flags=PA)/Raw(\"GET /\")",
    "Ether/IPv4/UDP/VXLAN(vni=42)/Ether(src=02:00:00:00:00:0a)/IPv4(ttl=5)/UDP(sport=1,dport=2)/Raw(\"inner\")",
};
static const char *const NAMES[3] = {"eth_ipv4_udp", "vlan_ipv6_tcp", "vxlan_inner"};

/* Keeps the compiler from dropping work whose result is otherwise unused. */
static volatile uint64_t sink;

typedef struct frame_set {
    uint8_t *bytes[3];
    size_t len[3];
} frame_set;

/* Runs `step` in batches until `seconds` pass; returns calls per second. */
static double rate(double seconds, uint64_t (*step)(void *ctx, uint64_t i), void *ctx)
{
    uint64_t t0 = pxb_now_ns(), n = 0, t;
    do {
        for (int k = 0; k < 1000; k++, n++)
            sink += step(ctx, n);
        t = pxb_now_ns();
    } while ((double)(t - t0) < seconds * 1e9);
    return (double)n / ((double)(t - t0) / 1e9);
}

typedef struct dissect_ctx {
    const frame_set *fs;
    int which; /* 0..2, or -1 for the mix */
} dissect_ctx;

static uint64_t step_dissect(void *p, uint64_t i)
{
    const dissect_ctx *c = p;
    int k = c->which >= 0 ? c->which : (int)(i % 3);
    px_frame f;
    px_frame_dissect(&f, c->fs->bytes[k], (uint32_t)c->fs->len[k], (uint32_t)c->fs->len[k]);
    /* read a field as a predicate would */
    uint16_t sp = 0, dp = 0;
    (void)px_frame_ports(&f, px_frame_find_nth(&f, PX_LAYER_UDP, k == 2 ? 1 : 0), &sp, &dp);
    return f.nlayers + sp;
}

static uint64_t step_text(void *p, uint64_t i)
{
    (void)p;
    uint8_t *b;
    size_t n;
    if (px_frame_parse_text(TEXTS[i % 3], &b, &n, NULL) != 0)
        abort();
    uint64_t r = b[n - 1];
    free(b);
    return r;
}

static void set_or_die(int rc, const char *err)
{
    if (rc != 0) {
        fprintf(stderr, "bench_frames: %s\n", err);
        abort();
    }
}

/* The three frames of TEXTS, described with the C API. */
static px_pkt *describe(int k)
{
    char err[PX_ERRBUF_SIZE] = "";
    px_pkt *p = px_pkt_new();
    if (!p)
        abort();
    static const uint8_t a1[4] = {10, 0, 0, 1}, a2[4] = {10, 0, 0, 2};
    static const uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, v6b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    static const uint8_t mac1[6] = {2, 0, 0, 0, 0, 1}, maca[6] = {2, 0, 0, 0, 0, 0x0a};
    set_or_die(px_pkt_push(p, "Ether", err), err);
    switch (k) {
    case 0:
        set_or_die(px_pkt_set_bytes(p, "src", mac1, 6, err), err);
        set_or_die(px_pkt_push(p, "IPv4", err), err);
        set_or_die(px_pkt_set_bytes(p, "src", a1, 4, err), err);
        set_or_die(px_pkt_set_bytes(p, "dst", a2, 4, err), err);
        set_or_die(px_pkt_push(p, "UDP", err), err);
        set_or_die(px_pkt_set_uint(p, "sport", 1234, err), err);
        set_or_die(px_pkt_set_uint(p, "dport", 53, err), err);
        set_or_die(px_pkt_push_raw(p, "hello world", 11), "raw");
        break;
    case 1:
        set_or_die(px_pkt_push(p, "Dot1Q", err), err);
        set_or_die(px_pkt_set_uint(p, "vlan", 102, err), err);
        set_or_die(px_pkt_set_uint(p, "pcp", 3, err), err);
        set_or_die(px_pkt_push(p, "IPv6", err), err);
        set_or_die(px_pkt_set_bytes(p, "src", v6a, 16, err), err);
        set_or_die(px_pkt_set_bytes(p, "dst", v6b, 16, err), err);
        set_or_die(px_pkt_push(p, "TCP", err), err);
        set_or_die(px_pkt_set_uint(p, "sport", 40000, err), err);
        set_or_die(px_pkt_set_uint(p, "dport", 80, err), err);
        set_or_die(px_pkt_set_uint(p, "flags", 0x18, err), err);
        set_or_die(px_pkt_push_raw(p, "GET /", 5), "raw");
        break;
    default:
        set_or_die(px_pkt_push(p, "IPv4", err), err);
        set_or_die(px_pkt_push(p, "UDP", err), err);
        set_or_die(px_pkt_push(p, "VXLAN", err), err);
        set_or_die(px_pkt_set_uint(p, "vni", 42, err), err);
        set_or_die(px_pkt_push(p, "Ether", err), err);
        set_or_die(px_pkt_set_bytes(p, "src", maca, 6, err), err);
        set_or_die(px_pkt_push(p, "IPv4", err), err);
        set_or_die(px_pkt_set_uint(p, "ttl", 5, err), err);
        set_or_die(px_pkt_push(p, "UDP", err), err);
        set_or_die(px_pkt_set_uint(p, "sport", 1, err), err);
        set_or_die(px_pkt_set_uint(p, "dport", 2, err), err);
        set_or_die(px_pkt_push_raw(p, "inner", 5), "raw");
        break;
    }
    return p;
}

static uint64_t step_c(void *ctx, uint64_t i)
{
    (void)ctx;
    px_pkt *p = describe((int)(i % 3));
    uint8_t *b;
    size_t n;
    if (px_pkt_build(p, &b, &n, NULL) != 0)
        abort();
    uint64_t r = b[n - 1];
    free(b);
    px_pkt_free(p);
    return r;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 0.3;
    if (!(secs > 0 && secs < 60)) {
        fprintf(stderr, "usage: bench_frames [seconds-per-run (0..60)]\n");
        return 2;
    }
    frame_set fs;
    for (int k = 0; k < 3; k++) {
        char err[PX_ERRBUF_SIZE];
        if (px_frame_parse_text(TEXTS[k], &fs.bytes[k], &fs.len[k], err) != 0) {
            fprintf(stderr, "bench_frames: %s\n", err);
            return 1;
        }
        /* the C description must give the same bytes as the text */
        px_pkt *p = describe(k);
        uint8_t *b;
        size_t n;
        if (px_pkt_build(p, &b, &n, err) != 0 || n != fs.len[k] || memcmp(b, fs.bytes[k], n) != 0) {
            fprintf(stderr, "bench_frames: C and text descriptions of %s differ\n", NAMES[k]);
            return 1;
        }
        free(b);
        px_pkt_free(p);
    }
    pxb_out o;
    if (pxb_out_open(&o, "frames") != 0)
        return 1;
    pxb_note(&o, "one core, %g s per run, %d runs per figure", secs, RUNS);
    double v[RUNS];
    char params[96];
    for (int which = -1; which < 3; which++) {
        dissect_ctx c = {&fs, which};
        for (int r = 0; r < RUNS; r++)
            v[r] = rate(secs, step_dissect, &c);
        snprintf(params, sizeof params, "\"frames\":\"%s\"", which < 0 ? "mix" : NAMES[which]);
        pxb_figure(&o, "dissect", params, "frames/s", v, RUNS);
    }
    for (int r = 0; r < RUNS; r++)
        v[r] = rate(secs, step_text, NULL);
    pxb_figure(&o, "build_text", "\"frames\":\"mix\"", "frames/s", v, RUNS);
    for (int r = 0; r < RUNS; r++)
        v[r] = rate(secs, step_c, NULL);
    pxb_figure(&o, "build_c", "\"frames\":\"mix\"", "frames/s", v, RUNS);
    pxb_out_close(&o);
    for (int k = 0; k < 3; k++)
        free(fs.bytes[k]);
    return 0;
}
