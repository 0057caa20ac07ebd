/* pktexpect: the evidence recorder, a pcapng writer (DESIGN section 2 item 10).
 *
 * A context that records (px_ctx_record) writes every frame it sent and saw into
 * one pcapng file that Wireshark, tshark and libpcap open:
 *   - one Section Header Block (host byte order, section length unknown);
 *   - one Interface Description Block per port, written the first time the port
 *     records a frame, with the if_name option set to the port name and
 *     if_tsresol = 9 (timestamps in nanoseconds), link type Ethernet;
 *   - one Enhanced Packet Block per frame with the epb_flags option giving the
 *     direction: inbound (frame seen arriving on the port) or outbound (frame the
 *     sender injected on the port).
 *
 * The file is written through a stdio buffer: call px_evidence_flush to make what
 * was recorded so far readable by another process; px_evidence_close flushes too.
 *
 * Ownership: px_evidence_open returns a recorder the caller frees with
 * px_evidence_close (which also closes the file).
 *
 * Thread-safety: px_evidence_write, px_evidence_flush and px_evidence_frames may
 * be called from any thread concurrently (capture threads of several ports and
 * senders write into the same recorder; a mutex keeps every block whole).
 * px_evidence_close must be the last call.
 */
#ifndef PKTEXPECT_EVIDENCE_H
#define PKTEXPECT_EVIDENCE_H

#include <stdint.h>
#include <time.h>

#include "error.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

typedef struct px_evidence px_evidence;

/** Creates (truncates) `path` and writes the Section Header Block. Returns NULL
 *  with the reason in errbuf (may be NULL) when the file cannot be created. */
px_evidence *px_evidence_open(const char *path, char *errbuf);

/** Same as px_evidence_open on an open, writable descriptor, which the recorder
 *  owns from then on (closed by px_evidence_close, or here on failure). Lets a
 *  caller create the file itself, e.g. with O_EXCL | O_NOFOLLOW. */
px_evidence *px_evidence_open_fd(int fd, char *errbuf);

/** Records one frame seen (PX_DIR_IN) or sent (PX_DIR_OUT) on `port`.
 *  `ts` is the frame's CLOCK_REALTIME time (NULL: now). `caplen` bytes of `data`
 *  are written; `wirelen` is the length on the wire (raised to caplen if smaller).
 *  Returns 0, PX_EINVAL (NULL argument, empty port name, caplen 0) or PX_EIO when
 *  the file could not be written (the error is sticky: later writes return PX_EIO
 *  too, and px_evidence_close reports it). */
int px_evidence_write(px_evidence *ev, const char *port, px_direction dir, const struct timespec *ts,
                      const uint8_t *data, uint32_t caplen, uint32_t wirelen);

/** Pushes buffered blocks to the file. Returns 0 or PX_EIO. */
int px_evidence_flush(px_evidence *ev);

/** Number of frames recorded so far (all ports, both directions). */
uint64_t px_evidence_frames(px_evidence *ev);

/** Flushes, closes the file and frees the recorder. Returns 0, or PX_EIO when any
 *  write, the flush or the close failed. NULL is a no-op returning 0. */
int px_evidence_close(px_evidence *ev);

/** px_evidence_close that also says why it failed: on PX_EIO, errbuf (may be
 *  NULL) gets the first failure and its errno text, e.g. "write failed: No space
 *  left on device". */
int px_evidence_close_err(px_evidence *ev, char *errbuf);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
