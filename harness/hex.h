/* pktexpect: the one parser of hex byte strings, used by the frame text form,
 * the scenario loader's `hex:` and the payload(hex=...) predicate. Not installed.
 *
 * Thread-safety: pure, any thread. */
#ifndef PX_HEX_H
#define PX_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decodes s[0, len) written as "0a0b0c", "0x0a0b", "0a:0b 0c-0d.0e": pairs of
 * hex digits, an optional leading 0x, and ':', '-', '.', blanks, tabs and
 * newlines between bytes (never inside one). Writes at most `cap` bytes to out
 * and their number to *n. Returns 0, PX_ERANGE (more than cap bytes) or
 * PX_EPARSE with *bad (if not NULL) = the offset in s of the first character
 * that is not the hex digit expected there (len when a byte lacks its second
 * digit at the end). Zero bytes is not an error here: callers decide. */
int px__hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n, size_t *bad);

#endif
