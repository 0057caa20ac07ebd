/* pktexpect: printing frames for people.
 *
 * Three views of a dissected frame, appended to a px_buf:
 *  - a one-line summary in the spirit of `tcpdump -e`:
 *      02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype 802.1Q (0x8100), length 51:
 *      vlan 102, p 3, ethertype IPv4 (0x0800), IP 10.0.0.1.1234 > 10.0.0.2.53: UDP, length 5
 *  - a field listing, one line per layer, with the field names of the text form
 *    and of diff masks ("ipv4: version=4 ihl=5 ... ttl=64 ..."),
 *  - a hex dump with offsets and ASCII.
 *
 * Each returns 0, or PX_ENOMEM when the buffer could not grow (it keeps what it had).
 * Thread-safety: reentrant; the frame is only read.
 */
#ifndef PKTEXPECT_PRINT_H
#define PKTEXPECT_PRINT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/** One line, no trailing newline. Truncated frames end with " [|layer]". */
int px_frame_summary(const px_frame *f, px_buf *out);
/** One line per layer, each ending with a newline, indented by tunnel depth. */
int px_frame_fields(const px_frame *f, px_buf *out);
/** 16 bytes per line: "0000  ff ff ... |ascii|\n". */
int px_hexdump(const uint8_t *data, size_t len, px_buf *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
