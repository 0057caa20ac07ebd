/* bench_offline: the capture thread's work per frame without the kernel, in
 * instructions, which `valgrind --tool=callgrind` counts the same on every run
 * whatever else the machine does (wall-clock figures on a shared 2-core VM move
 * by more than most changes).
 *
 * It writes N bulk frames (64-byte UDP to PXB_MIX_DPORT, as bench_capture
 * sends) into a pcapng file in a fresh temporary directory, opens it as a
 * paused pcap port, arms K expectations of bench_capture's mix (pxb_mix.h),
 * starts the port and waits for the stream's end. Run it twice under
 * callgrind, K = 1 and K = 16; (Ir(K) - Ir of a run with "--write-only") / N is
 * the engine's cost per frame:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null build-bench/bench/bench_offline 200000 16
 *
 * Public API only (pxb_mix.h too), so that it builds against an older library
 * for a before / after comparison:
 *   cc -O2 -I OLD/include bench/bench_offline.c OLD/build/libpktexpect.a -lpcap -lmnl -lpthread
 * Usage: bench_offline [N [K [--write-only]]]. Exit 0, or 1 with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pktexpect/evidence.h"
#include "pktexpect/pktexpect.h"
#include "pktexpect/text.h"
#include "pxb_mix.h"

#define FRAME "Ether(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)/IPv4(src=10.0.0.1,dst=10.0.0.2)/UDP(sport=1000,dport=9)/Raw(\"0123456789abcdef01\")"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000, k = argc > 2 ? atol(argv[2]) : 16;
    int write_only = argc > 3 && strcmp(argv[3], "--write-only") == 0;
    if (n < 1 || k < 1 || k > 256) {
        fprintf(stderr, "usage: bench_offline [N >= 1 [K 1..256 [--write-only]]]\n");
        return 1;
    }
    char err[PX_ERRBUF_SIZE];
    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/pxb_offline.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/frames.pcapng", dir);
    uint8_t *frame;
    size_t len;
    int rc = 1;
    if (px_frame_parse_text(FRAME, &frame, &len, err) != 0) {
        fprintf(stderr, "frame: %s\n", err);
        goto out;
    }
    px_evidence *ev = px_evidence_open(path, err);
    if (!ev) {
        fprintf(stderr, "%s\n", err);
        free(frame);
        goto out;
    }
    struct timespec ts = {1700000000, 0};
    for (long i = 0; i < n; i++) {
        ts.tv_sec = 1700000000 + i / 1000000;
        ts.tv_nsec = (i % 1000000) * 1000; /* 1 us apart */
        px_evidence_write(ev, "p", PX_DIR_IN, &ts, frame, (uint32_t)len, (uint32_t)len);
    }
    free(frame);
    if (px_evidence_close(ev) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        goto out;
    }
    if (write_only) {
        rc = 0;
        goto out;
    }
    px_ctx *ctx = px_ctx_new(NULL, err);
    px_pcap_port_opts po = {.path = path, .paused = true};
    if (!ctx || px_port_open_pcap(ctx, "p", &po, err) != 0) {
        fprintf(stderr, "%s\n", err);
        px_ctx_free(ctx);
        goto out;
    }
    px_future *f[256];
    for (long i = 0; i < k; i++)
        if (!(f[i] = pxb_mix_arm(ctx, "p", (int)i))) {
            fprintf(stderr, "cannot arm expectation %ld\n", i);
            k = i;
            break;
        }
    px_port_start(ctx, "p");
    px_future_wait_all(f, (size_t)k, -1);
    rc = k > 0 && px_future_value(f[0]) == n ? 0 : 1;
    printf("frames %ld, expectations %ld, counted %lld\n", n, k, k > 0 ? (long long)px_future_value(f[0]) : -1LL);
    for (long i = 0; i < k; i++)
        px_future_free(f[i]);
    px_ctx_free(ctx);
out:
    unlink(path);
    rmdir(dir);
    return rc;
}
