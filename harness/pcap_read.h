/* pktexpect internal: an incremental, bounds-checked reader of pcap and pcapng
 * streams, for the capture source that reads a file or a pipe
 * (`tcpdump -U -w - | ...`) with the frames' own timestamps. Not installed.
 *
 * The reader pulls bytes with read(2) into its own buffer and hands out one
 * record at a time. A record cut short by the writer stays buffered until the
 * rest arrives, so a slowly fed pipe and a non-blocking fd both work: the reader
 * calls read(2) only when no complete record is buffered, and never waits on its
 * own (on a blocking fd, read(2) itself waits, as it would for any caller).
 *
 * Formats: classic pcap in both byte orders with the microsecond (0xa1b2c3d4) and
 * nanosecond (0xa1b23c4d) magics; pcapng (Section Header, Interface Description,
 * Enhanced Packet, Simple Packet and Interface Statistics Blocks; every other
 * block type is skipped), one or more sections, each in its own byte order.
 *
 * Limits: a classic record carries at most 256 KiB and at most the file's snaplen
 * (a snaplen of 0 means "no limit but 256 KiB"); a pcapng block is 12 bytes to
 * 16 MiB, a multiple of 4; at most 65536 interfaces per section and 4096
 * distinct interface names per reader.
 *
 * Errors: malformed input gives PX_EINVAL, a failed read(2) PX_EIO; the message
 * says what and where, with the byte offset in the stream of the record or
 * block concerned ("pcapng: block at offset 1234: length 12 is shorter than its
 * header"). Errors are sticky.
 *
 * Thread-safety: a reader is used by one thread at a time (one reader per
 * thread); distinct readers are independent. No global state.
 */
#ifndef PX_PCAP_READ_H
#define PX_PCAP_READ_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "pktexpect/error.h"

typedef struct px__pcap_reader px__pcap_reader;

typedef enum { PX__PCAP_REC_FRAME = 1, PX__PCAP_REC_STATS } px__pcap_rec_type;

/** One record. Every field is in host byte order. The pointers are borrowed:
 *  `data` until the next px__pcap_reader_next() or _free() on the reader,
 *  `iface_name` until px__pcap_reader_free(). */
typedef struct px__pcap_rec {
    px__pcap_rec_type type;
    uint32_t iface;         /**< interface index in its pcapng section; 0 for classic pcap */
    const char *iface_name; /**< pcapng if_name option, NULL when absent; valid until the reader is freed */
    struct timespec ts;     /**< timestamp (UTC), from the file's resolution (µs / ns magic, pcapng
                                 if_tsresol in its 10^-n and 2^-n forms) plus pcapng if_tsoffset.
                                 A Simple Packet Block has none: it gets the previous record's ts
                                 (0 for the first record). */
    const uint8_t *data;    /**< FRAME: the captured bytes (caplen of them); NULL for STATS */
    uint32_t caplen;        /**< FRAME: bytes at `data`; 0 for STATS */
    uint32_t wirelen;       /**< FRAME: length on the wire; 0 for STATS */
    uint32_t linktype;      /**< LINKTYPE_ / DLT_ of the interface (1 = Ethernet) */
    bool has_drops;         /**< `drops` is set: STATS with isb_ifdrop, FRAME with epb_dropcount */
    uint64_t drops;         /**< STATS: isb_ifdrop (cumulative, as the file says);
                                 FRAME: epb_dropcount (drops since the previous frame) */
    bool outbound;          /**< FRAME: epb_flags says the frame was sent, not received */
} px__pcap_rec;

/** New reader on `fd`, which stays the caller's: the reader never closes it
 *  (close it after px__pcap_reader_free()). Blocking and non-blocking fds both
 *  work. Does not read yet. Returns NULL with a message in `errbuf`
 *  (PX_ERRBUF_SIZE bytes, may be NULL) on a negative fd or lack of memory.
 *  Caller frees with px__pcap_reader_free(). */
px__pcap_reader *px__pcap_reader_new(int fd, char *errbuf);

/** Next record into `*rec` (overwritten in full).
 *  Returns 1 with `*rec` filled;
 *  0 when no complete record is buffered and the fd has nothing more now
 *    (EAGAIN / EWOULDBLOCK on a non-blocking fd): poll and call again;
 *  PX_ECLOSED at a clean end of stream (end of file on a record boundary, after
 *    the file header), and again on every later call;
 *  PX_EINVAL for malformed input, including a stream that ends inside the file
 *    header or a record ("truncated: the stream ended inside a record at offset
 *    N ..."); PX_EIO when read(2) fails (EINTR is retried); PX_ENOMEM.
 *  On an error the message goes into `errbuf` (PX_ERRBUF_SIZE bytes, may be
 *  NULL), and later calls return the same code and message. */
int px__pcap_reader_next(px__pcap_reader *r, px__pcap_rec *rec, char *errbuf);

/** Format detected: "pcap" (µs), "pcap-ns", "pcapng", or NULL until the file
 *  header has been read in full. Static storage. */
const char *px__pcap_reader_format(const px__pcap_reader *r);

/** Frees the reader, its buffer and interface names (not the fd). NULL is a no-op. */
void px__pcap_reader_free(px__pcap_reader *r);

#endif
