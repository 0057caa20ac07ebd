/* pktexpect: the Internet checksum (RFC 1071), one implementation for the
 * builder (frame_build.c), the verifier (frame_csum.c) and the tag trailer's
 * incremental update (send_tag.c). Not installed.
 *
 * Thread-safety: pure functions, any thread. */
#ifndef PX_CSUM_H
#define PX_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds p[0, n) to `acc` as big-endian 16-bit words, p[0] being the high byte of
 * a word (an odd last byte is padded with a zero low byte). Carries are kept in
 * the 32 bits of acc: fold with px__csum_fold. n up to 64 KiB per call. */
uint32_t px__csum_add(uint32_t acc, const uint8_t *p, size_t n);

/* Folds the carries of `acc` into 16 bits: the one's complement sum, not
 * complemented (a correct checksum makes its covered words fold to 0xffff; the
 * value to write into a header is its complement). */
uint16_t px__csum_fold(uint32_t acc);

#endif
