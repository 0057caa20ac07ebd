/* pktexpect: injecting frames on ports (the send side).
 *
 * Frames are injected with one AF_PACKET socket per (context, port), bound to the
 * port's interface and opened on first use together with the port itself (like for
 * px_expect). The socket listens to no protocol, so it never receives anything.
 *
 *  - px_send / px_send_ex      one frame on one port
 *  - px_send_ports             the same frame on several ports
 *  - px_send_burst             many frames, batched with sendmmsg(2) (up to 1024
 *                              frames per system call)
 *  - px_send_paced             N frames or a duration at a rate (frames/s or bit/s)
 *  - px_replay                 the frames of a pcap or pcapng file (see below)
 *
 * The first send on a port waits (at most 2 s) until the interface is operational
 * (IFF_RUNNING): a freshly created veth silently drops frames until the kernel has
 * attached its queueing discipline. Full guide: docs/sending.md.
 *
 * Options (px_send_opts, all zero = none): push an 802.1Q / 802.1ad tag on the way
 * out, and tag frames for saw_tag() (see "Tagged frames").
 *
 * Frame length: a frame must hold at least an Ethernet header (14 bytes) and may
 * be at most MTU + 14 bytes, + 4 when it carries VLAN tags (after the push): Linux
 * allows one tag beyond the MTU however many are stacked, so stacked tags at full
 * size need a larger MTU. Longer is PX_EMTU, empty or shorter than 14 PX_EINVAL.
 * Short frames are sent as given (no padding added).
 *
 * Tagged frames: with opts.tagged, the last PX_TAG_TRAILER_LEN (24) bytes of each
 * frame's IP packet (of the frame itself for non-IP frames; never the Ethernet
 * padding after the IP packet) are overwritten with
 *     bytes 0..7    the magic "PXTAG\0v1" (50 58 54 41 47 00 76 31)
 *     bytes 8..15   the tag, a 64-bit unsigned integer, big-endian
 *     bytes 16..23  the send time, nanoseconds since the epoch (CLOCK_REALTIME),
 *                   big-endian, taken just before the frame's sendmmsg batch (at
 *                   most 16 tagged frames) is handed to the kernel
 * so the frame keeps its length and survives routing. The trailer must lie in the
 * payload: after the UDP / TCP header (IPv4 or IPv6), after the IP header for other
 * IP protocols, after the Ethernet and VLAN headers otherwise; a frame with fewer
 * payload bytes is PX_EINVAL. The UDP or TCP checksum is updated for the new bytes
 * (a UDP checksum of 0, "none", stays 0), so the frame stays valid. saw_tag(tag)
 * (predicates.h) finds the trailer at the end of a received frame, or anywhere in it
 * when a NIC padded the frame, and its value is the latency: arrival timestamp minus
 * send time. Frame i of a burst or paced run carries tag opts.tag + i.
 *
 * Evidence: when the context records (px_ctx_record), every frame sent is written
 * to the pcapng file as outbound on its port, as sent (VLAN pushed, tag written).
 *
 * Thread-safety: every function may be called from any thread, concurrently on the
 * same port and context (frames of concurrent calls interleave on the wire). While
 * one thread opens a port (its first send: socket, namespace, link-ready wait),
 * other threads' sends to that port wait for it; sends to other ports do not.
 */
#ifndef PKTEXPECT_SEND_H
#define PKTEXPECT_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/** Injects one frame (`len` bytes starting with the Ethernet header) on `port`.
 *  Returns 0 or a negative PX_E* (PX_EMTU when too long for the port, PX_EINVAL
 *  for an empty frame). `bytes` is not kept. errbuf may be NULL. */
int px_send(px_ctx *ctx, const char *port, const uint8_t *bytes, size_t len, char *errbuf);

/** The MAC address of `port`'s interface, read from the kernel on each call
 *  (opens the port's TX socket on first use, like px_send). Returns 0 or a
 *  negative PX_E* with detail in errbuf (may be NULL). Any thread. */
int px_port_mac(px_ctx *ctx, const char *port, uint8_t mac[6], char *errbuf);

/** Options of every send call. Zero-initialise, then set what you need. */
typedef struct px_send_opts {
    bool push_vlan;     /**< insert a VLAN tag after the MAC addresses */
    uint16_t vlan_id;   /**< its VID, 0..4095 */
    uint8_t vlan_pcp;   /**< its priority, 0..7 */
    uint16_t vlan_tpid; /**< its TPID; 0 -> 0x8100 (802.1Q), 0x88a8 for 802.1ad */
    bool tagged;        /**< write the tag trailer (see the file comment) */
    uint64_t tag;       /**< first tag; 0 -> a fresh one from px_send_tag_new */
    uint64_t *tag_out;  /**< if not NULL, receives the first tag used */
} px_send_opts;

/** Length of the tag trailer written by opts.tagged. */
#define PX_TAG_TRAILER_LEN 24

/** One frame of a burst: `len` bytes at `bytes` (not kept). */
typedef struct px_tx_frame {
    const uint8_t *bytes;
    size_t len;
} px_tx_frame;

/** px_send with options (`opts` may be NULL). */
int px_send_ex(px_ctx *ctx, const char *port, const uint8_t *bytes, size_t len, const px_send_opts *opts,
               char *errbuf);

/** Sends the same frame on each of `nports` ports. Every port is opened and the
 *  frame checked against every port's MTU before anything is sent; a kernel error
 *  on one port does not stop the others: the first error is returned and errbuf
 *  names the port. With opts.tagged, all copies carry the same tag. */
int px_send_ports(px_ctx *ctx, const char *const *ports, size_t nports, const uint8_t *bytes, size_t len,
                  const px_send_opts *opts, char *errbuf);

/** Sends `n` frames on `port` in order, batched into as few sendmmsg(2) calls as
 *  the kernel allows. All frames are checked first (nothing is sent if one is
 *  empty or too long). When the kernel refuses a frame, the error is returned and
 *  `*sent` (if not NULL) tells how many frames went out before it; on success
 *  *sent = n. A full device queue (ENOBUFS) is retried for up to one second. */
int px_send_burst(px_ctx *ctx, const char *port, const px_tx_frame *frames, size_t n, const px_send_opts *opts,
                  size_t *sent, char *errbuf);

/** A fresh 64-bit tag, unique within the context (random start, then counting).
 *  Use it to arm saw_tag() before sending with opts.tag. Any thread. */
uint64_t px_send_tag_new(px_ctx *ctx);

/* ---- Pacing ---- */

/** Accepted rates (PX_ERANGE outside): at least one frame per 1000 s, at most a
 *  billion frames/s; 1 bit/s to 10 Tbit/s. */
#define PX_PACE_FPS_MIN 1e-3
#define PX_PACE_FPS_MAX 1e9
#define PX_PACE_BPS_MIN 1.0
#define PX_PACE_BPS_MAX 1e13

/** What to send and how fast. Set count, duration_ms or both (the first limit
 *  reached ends the run); set rate_fps or rate_bps (both 0: as fast as possible). */
typedef struct px_pace_opts {
    uint64_t count;       /**< frames to send; 0 = no frame limit */
    uint64_t duration_ms; /**< how long to send; 0 = no time limit */
    double rate_fps;      /**< frames per second */
    double rate_bps;      /**< bits per second, counting the frame bytes as sent (no
                               preamble, FCS or inter-frame gap) */
} px_pace_opts;

/** What a paced run did. */
typedef struct px_pace_report {
    uint64_t sent;            /**< frames sent */
    uint64_t bytes;           /**< bytes sent */
    uint64_t elapsed_ns;      /**< length of the run: a paced run of N frames lasts
                                   N / rate (until frame N+1 would be due) */
    double achieved_fps;      /**< sent / elapsed */
    double achieved_bps;      /**< bytes * 8 / elapsed */
    uint64_t late_mean_ns;    /**< mean delay of a frame's send behind its due time */
    uint64_t late_max_ns;     /**< largest such delay */
} px_pace_report;

/** Sends the `nframes` frames over and over (frame i is frames[i % nframes]) at the
 *  rate of `pace`. Frame i is due at start + i / rate_fps (or when the bits of the
 *  frames before it have been sent at rate_bps); the sender sleeps with
 *  clock_nanosleep to absolute deadlines and sends every frame that is due in one
 *  batch when it wakes, so the long-run rate is exact and the jitter is the wake-up
 *  latency of the thread (measured in bench/). `report` may be NULL. Returns 0 or
 *  the first error (report->sent says how far it got): PX_ERANGE for a rate
 *  outside PX_PACE_*_MIN..MAX, PX_ECANCELED when the context's cancel descriptor
 *  became readable (px_ctx_set_cancel_fd: the sleeps wake at once). */
int px_send_paced(px_ctx *ctx, const char *port, const px_tx_frame *frames, size_t nframes,
                  const px_send_opts *opts, const px_pace_opts *pace, px_pace_report *report, char *errbuf);

/* ---- Replay ---- */

#define PX_REPLAY_SPEED_MIN 1e-3
#define PX_REPLAY_SPEED_MAX 1e6

typedef struct px_replay_opts {
    /** 0: as fast as possible; 1.0: with the file's inter-frame gaps; 2.0: twice as
     *  fast (gaps halved); 0.5: half as fast. Else PX_REPLAY_SPEED_MIN..MAX
     *  (PX_ERANGE outside). */
    double speed;
    /** Multi-interface pcapng: port_map[i] is the port for the file's interface i
     *  (NULL entry: skip that interface's frames). NULL: every frame goes to `port`. */
    const char *const *port_map;
    size_t nport_map;
    uint64_t limit;       /**< send at most this many frames; 0 = all */
} px_replay_opts;

typedef struct px_replay_report {
    uint64_t sent;        /**< frames sent */
    uint64_t bytes;
    uint64_t skipped;     /**< frames of interfaces mapped to NULL */
    uint64_t snapped;     /**< frames stored shorter than on the wire (sent as stored) */
    uint64_t elapsed_ns;
} px_replay_report;

/** Sends the frames of the pcap or pcapng file `path` on `port` (or through the
 *  port map). The file's link type must be Ethernet (PX_EFORMAT otherwise); a
 *  truncated or corrupt file sends the frames before the damage, then returns
 *  PX_EFORMAT (report->sent tells how many went out). `opts` and `report` may be
 *  NULL. Frames keep the file's bytes exactly (no VLAN push, no tag); a frame too
 *  long for its port stops the replay with PX_EMTU naming the frame's index in the
 *  file. With a port map, pcapng files are read by pktexpect's own bounds-checked
 *  reader (libpcap does not tell a frame's interface); a classic pcap has one
 *  interface, 0. The file may be a pipe or FIFO (read as it arrives). With a
 *  cancel descriptor on the context (px_ctx_set_cancel_fd), the replay's sleeps and
 *  its waits for a pipe's data stop when it becomes readable: PX_ECANCELED. */
int px_replay(px_ctx *ctx, const char *port, const char *path, const px_replay_opts *opts,
              px_replay_report *report, char *errbuf);

/* ---- Tag trailer access (used by saw_tag; usable on any bytes) ---- */

/** Finds the tag trailer in `len` bytes: at the end first, else the last
 *  occurrence of the magic anywhere (a padded frame). Returns true and fills
 *  tag / sent_ns (either may be NULL) when found. */
bool px_tag_find(const uint8_t *bytes, size_t len, uint64_t *tag, uint64_t *sent_ns);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
