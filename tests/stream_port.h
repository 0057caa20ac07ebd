/* Ports fed from pcap streams written into pipes, for the engine tests that run
 * without root (test_engine_offline, test_lookback; not installed). Each helper
 * fails the running cmocka test when something it needs does not work. Include
 * after <cmocka.h>.
 */
#ifndef PX_STREAM_PORT_H
#define PX_STREAM_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "pktexpect/pktexpect.h"

/* Opens port `name` reading a new pipe (`local_clock`: px_pcap_port_opts's);
 * returns the pipe's write end, which the test owns and closes. */
static inline int stream_port_open(px_ctx *ctx, const char *name, bool local_clock)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    char err[PX_ERRBUF_SIZE] = "";
    px_pcap_port_opts o = {.fd = p[0], .local_clock = local_clock};
    if (px_port_open_pcap(ctx, name, &o, err) != 0)
        fail_msg("px_port_open_pcap: %s", err);
    close(p[0]);
    return p[1];
}

/* Waits until the port has read `n` frames (at most 10 s, a safety net). */
static inline void stream_wait_frames(px_ctx *ctx, const char *port, uint64_t n)
{
    for (int i = 0; i < 10000; i++) {
        px_port_stats st;
        assert_int_equal(px_port_get_stats(ctx, port, &st), 0);
        if (st.frames >= n)
            return;
        usleep(1000);
    }
    fail_msg("port %s did not read %llu frames", port, (unsigned long long)n);
}

/* Waits for a future (at most 20 s, a safety net) and returns its verdict. */
static inline px_verdict stream_wait_done(px_future *f)
{
    assert_non_null(f);
    px_verdict v = px_future_wait_for(f, 20000);
    if (v == PX_PENDING)
        fail_msg("future still pending: %s", px_future_description(f));
    return v;
}

#endif
