/* pktexpect: the Internet checksum (RFC 1071), one implementation for the
 * builder (frame_build.c), the verifier (frame_csum.c) and the tag trailer's
 * incremental update (send_tag.c). Not installed.
 *
 * Thread-safety: pure functions, any thread. */
#ifndef PX_CSUM_H
#define PX_CSUM_H

#include <stddef.h>
#include <stdint.h>

#include "pktexpect/frame.h"

/* Adds p[0, n) to `acc` as big-endian 16-bit words, p[0] being the high byte of
 * a word (an odd last byte is padded with a zero low byte). Carries are kept in
 * the 32 bits of acc: fold with px__csum_fold. n up to 64 KiB per call. */
uint32_t px__csum_add(uint32_t acc, const uint8_t *p, size_t n);

/* Folds the carries of `acc` into 16 bits: the one's complement sum, not
 * complemented (a correct checksum makes its covered words fold to 0xffff; the
 * value to write into a header is its complement). */
uint16_t px__csum_fold(uint32_t acc);

/* The final destination of an IPv6 Routing header `rh` of `len` bytes (the
 * whole header, len >= 8), for the TCP/UDP/ICMPv6 pseudo-header (RFC 8200
 * section 8.1): with segments left > 0 the packet is still on its way, and the
 * final destination is the last address of a type 0 or 2 header, or segment 0
 * of a Segment Routing header (type 4, RFC 8754), as scapy and Wireshark read
 * them. NULL when the IPv6 destination is the final one: segments left 0, a type
 * without an address list we know, or no whole address in the header. */
const uint8_t *px__rh_final_dst(const uint8_t *rh, size_t len);

/* px_layer_checksum, and with GOOD or BAD the checksum field's value (*got) and
 * the value that would verify (*want; for a datagram that claims to end inside
 * the header, *want = *got). Declared here so the predicates can explain a bad
 * checksum. */
px_csum_status px__layer_checksum_values(const px_frame *f, const px_layer *l, uint16_t *got, uint16_t *want);

#endif
