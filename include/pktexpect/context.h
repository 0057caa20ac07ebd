/* pktexpect: the context and its ports.
 *
 * A context owns ports (network interfaces opened for capture and injection),
 * one capture thread per port, the expectations armed on them and their futures.
 * No global state: two contexts are fully independent.
 *
 * Capture path: one AF_PACKET socket per port with a TPACKET_V2 receive ring
 * whose slots are sized from the interface MTU (frames up to MTU + 26 bytes are
 * kept whole; a frame longer than its slot is counted as truncated; the ring is
 * rebuilt when the MTU grows), so the ring holds tens of thousands of frames and
 * still wakes the reader for every frame. Outgoing frames are not captured (the
 * port sees what arrives on it). VLAN tags that the kernel stripped into
 * metadata are put back in place. A port can also read a pcap / pcapng stream
 * (px_port_open_pcap). Ports open on their own capture thread, outside any
 * context-wide lock: a slow open blocks only the callers that need that port.
 *
 * Thread-safety: all functions may be called from any thread, except that
 * px_ctx_free must not race with other calls on the same context.
 */
#ifndef PKTEXPECT_CONTEXT_H
#define PKTEXPECT_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

typedef struct px_ctx px_ctx;

/** Decides whether a frame is OS noise to ignore (true = ignore). Runs on the
 *  capture thread for every frame; must be fast and thread-safe for `user`. */
typedef bool (*px_noise_fn)(const px_frame *f, void *user);

/** How live ports read their frames (bench/README.md has the figures).
 *  PX_CAPTURE_LATENCY, the default: every frame wakes the capture thread when it
 *  sleeps (TPACKET_V2 slots), so a positive verdict follows its frame within tens
 *  of microseconds. PX_CAPTURE_THROUGHPUT: frames packed into blocks that the
 *  kernel hands over when full or after px_ctx_opts.block_timeout_ms (TPACKET_V3,
 *  as tcpdump reads): about half the CPU per frame and no loss at higher rates,
 *  for ports that carry floods or long negative checks; a frame is then seen up
 *  to a block timeout (or two) after it arrived, and windows close up to
 *  2 x (block timeout + 10 ms) + 5 ms after their deadline. Verdicts mean the
 *  same in both modes. */
typedef enum px_capture_mode {
    PX_CAPTURE_LATENCY = 0,
    PX_CAPTURE_THROUGHPUT = 1,
} px_capture_mode;

#define PX_MAX_BLOCK_TIMEOUT_MS 10000u

typedef struct px_ctx_opts {
    uint32_t default_timeout_ms; /**< expectation window when the caller gives none; 0 -> 5000 */
    bool noise_filter_off;       /**< true: offer OS noise frames to expectations too */
    uint32_t ring_mib;           /**< receive ring per port in MiB; 0 -> 64 */
    /** How long after its deadline a window's verdict may wait for the capture to
     *  examine the frames up to the deadline; a capture still behind then resolves
     *  the expectation ERROR ("capture behind"). 0 -> PX_DEFAULT_LAG_GRACE_MS. */
    uint32_t lag_grace_ms;
    /** How the live ports this context opens capture; 0 (PX_CAPTURE_LATENCY) is
     *  the default. In PX_CAPTURE_THROUGHPUT the lag grace is at least the time
     *  a window needs to close (see px_capture_mode). */
    px_capture_mode capture;
    /** PX_CAPTURE_THROUGHPUT: the block timeout in ms (0 -> 1, the smallest the
     *  kernel takes; at most PX_MAX_BLOCK_TIMEOUT_MS). */
    uint32_t block_timeout_ms;
    /** Bytes of frames a port keeps for looking back while a mark is taken on it
     *  (pktexpect/mark.h, the verification layer of pktexpect/verify.h), in MiB;
     *  0 -> PX_DEFAULT_HISTORY_MIB. Past it the oldest half is forgotten and a
     *  look-back from a mark before it resolves ERROR, saying so. */
    uint32_t history_mib;
    /** pktexpect/verify.h: how long a positive verification waits for its frame;
     *  0 -> PX_DEFAULT_VERIFY_TIMEOUT_MS (PTF's default_timeout). */
    uint32_t verify_timeout_ms;
    /** pktexpect/verify.h: the window of a negative verification (no packet, no
     *  other packets); 0 -> PX_DEFAULT_VERIFY_NEGATIVE_MS (PTF's
     *  default_negative_timeout). */
    uint32_t verify_negative_ms;
} px_ctx_opts;

#define PX_DEFAULT_LAG_GRACE_MS 100
#define PX_DEFAULT_HISTORY_MIB 256
#define PX_DEFAULT_VERIFY_TIMEOUT_MS 2000
#define PX_DEFAULT_VERIFY_NEGATIVE_MS 100

/** Creates a context. `opts` may be NULL for defaults. Returns NULL on failure
 *  with the reason in errbuf (may be NULL). Caller frees with px_ctx_free. */
px_ctx *px_ctx_new(const px_ctx_opts *opts, char *errbuf);

/** Closes the context: every pending future resolves ERROR ("context closed"),
 *  capture threads stop, ports close, everything is freed. Futures obtained from
 *  the context stay valid (their own memory) until px_future_free. NULL is a no-op. */
void px_ctx_free(px_ctx *ctx);

/** Opens `ifname` as a port and returns when its capture is active (0), or a
 *  negative PX_E* with a message saying what to do in errbuf (may be NULL).
 *  Opening an open port again returns 0.
 *
 *  Port names: "IFNAME" is an interface of the caller's network namespace;
 *  "NETNS/IFNAME" is interface IFNAME inside the named namespace (as `ip netns`
 *  names them, under /run/netns). The same string names the port everywhere
 *  (px_expect, px_send, frames' `port` field), and the capture thread stays in
 *  the caller's namespace: only the socket lives in NETNS.
 *
 *  "bmv2:ADDR:N" is port N of a BMv2 switch started with `--packet-in ADDR`
 *  (ADDR: ipc:///PATH or tcp://HOST:PORT), reached over its nanomsg packet
 *  interface: no interface, no privileges. The ports of one ADDR share one
 *  socket per context, opened on first use (the switch must answer within 3 s,
 *  else PX_ETIMEDOUT with what to do). Frames are stamped on this machine's
 *  wall clock when pktexpect reads them from the socket, so windows work as on
 *  a live interface; the expectations of a switch that exits resolve ERROR.
 *  At most 79 characters, N in decimal without leading zeros (docs/p4.md). */
int px_port_open(px_ctx *ctx, const char *ifname, char *errbuf);

/** A port fed from a pcap or pcapng stream instead of a network interface:
 *  offline checks of a recorded capture, remote ports (a pipe from
 *  `tcpdump -U -w -`, possibly over ssh), and root-free tests of the engine. */
typedef struct px_pcap_port_opts {
    const char *path;      /**< file to read; NULL: read `fd` */
    int fd;                /**< with path NULL: a descriptor to read (pipe, socket, file);
                                duplicated, the caller keeps and closes its own */
    const char *interface; /**< pcapng: only frames of the interface with this if_name
                                (a file recorded by px_ctx_record names each port); NULL: all */
    bool local_clock;      /**< true: timestamps are this machine's wall clock (a live
                                tcpdump): windows, deadlines and lag as on a live port.
                                false: the stream's own time (an offline check): a window
                                closes when the stream has passed its deadline or ended */
    bool paused;           /**< do not read until px_port_start(): arm expectations first */
} px_pcap_port_opts;

/** Opens port `name` (any name: it is what px_expect and frames' `port` use)
 *  reading a pcap / pcapng stream. Windows of expectations armed on an offline
 *  stream start at the last frame read (at the first frame before any was read)
 *  and last `timeout_ms` of the stream's time; the stream's end closes them.
 *  An expectation on several streams has one deadline, fixed when each of its
 *  ports has started its window: until then a stream does not read past what
 *  is known of that deadline (its reading waits for the other ports).
 *  Sending on such a port is not possible (PX_ENOTSUP). Returns 0 or a negative
 *  PX_E* with the reason in errbuf (may be NULL). Thread-safety: any thread. */
int px_port_open_pcap(px_ctx *ctx, const char *name, const px_pcap_port_opts *opts, char *errbuf);

/** Starts reading a port opened with px_pcap_port_opts.paused. */
int px_port_start(px_ctx *ctx, const char *name);

/** Closes a port: its pending futures resolve ERROR ("port closed"). */
int px_port_close(px_ctx *ctx, const char *ifname);

/** Replaces the noise filter of one port (NULL fn: no filtering on that port),
 *  opening the port on first use. The capture thread takes the new filter after
 *  this returns, so `user` stays the caller's and must stay valid until the port
 *  closes. */
int px_port_set_noise_filter(px_ctx *ctx, const char *ifname, px_noise_fn fn, void *user);

/** The default noise filter: IPv6 router/neighbour solicitations and advertisements,
 *  MLD queries and reports, IGMP, and LLDP/STP frames to reserved 01:80:c2 groups. */
bool px_noise_default(const px_frame *f, void *user);

/** Port statistics since it was opened. */
typedef struct px_port_stats {
    uint64_t frames;     /**< frames read from the ring */
    uint64_t drops;      /**< frames the kernel dropped (ring full) */
    uint64_t noise;      /**< frames ignored as noise */
    uint64_t truncated;  /**< frames longer than a ring slot (caplen < wirelen) */
} px_port_stats;
int px_port_get_stats(px_ctx *ctx, const char *ifname, px_port_stats *out);

/** Interface index and MTU of an open port (for the sender). */
int px_port_info(px_ctx *ctx, const char *ifname, int *ifindex, uint32_t *mtu);

/** The window of an expectation whose opts give none: px_ctx_opts.default_timeout_ms,
 *  5000 when that was 0 (or ctx is NULL). */
uint32_t px_ctx_default_timeout_ms(const px_ctx *ctx);

/** Records every frame the context sends and sees, on every port, into a pcapng
 *  file (interface names and directions kept; Wireshark opens it). One file per
 *  context, written until px_ctx_free closes it. Frames that arrived before the
 *  call are not in it. Returns 0, PX_EEXIST when already recording, or PX_EIO with
 *  the reason in errbuf (may be NULL). */
int px_ctx_record(px_ctx *ctx, const char *pcapng_path, char *errbuf);
struct px_evidence;
/** px_ctx_record into a recorder the caller made and keeps (evidence.h, e.g. on a
 *  file it created itself with px_evidence_open_fd): the context writes into `ev`
 *  until px_ctx_free, which leaves it open; the caller then closes it with
 *  px_evidence_close_err and so learns whether the file was written whole.
 *  Returns 0, PX_EINVAL, or PX_EEXIST when already recording. */
int px_ctx_record_into(px_ctx *ctx, struct px_evidence *ev, char *errbuf);
/** Flushes the recording to disk (e.g. before reading it while the context lives). */
int px_ctx_record_flush(px_ctx *ctx);

/** Makes the context's long operations stop early when `fd` becomes readable:
 *  px_send_paced (paced or not: it checks every 64 batches) and px_replay (its
 *  sleeps, and its reads when the file is a pipe or FIFO)
 *  return PX_ECANCELED within milliseconds, with what was sent so far reported.
 *  `fd` is typically an eventfd or a pipe that a SIGINT/SIGTERM handler writes to
 *  (write(2) is async-signal-safe, and a descriptor wakes whichever thread sleeps,
 *  unlike EINTR, which only the thread that took the signal sees). The library
 *  polls `fd` and never reads it, so once readable it stays so and every later
 *  operation stops too. -1 (the default) removes it. The caller owns `fd` and keeps
 *  it open while the context may use it. Any thread; takes effect at the next
 *  operation. See harness/pace.h. */
void px_ctx_set_cancel_fd(px_ctx *ctx, int fd);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
