/* pktexpect: address parsers and the frame text form.
 *
 * Address parsers are shared by the frame text form and the predicate expression
 * language. Each parses a prefix of `s`: with `end` non-NULL it stores where the
 * parse stopped (the caller decides whether what follows is acceptable); with
 * `end` NULL the whole string must be consumed. They return 0, PX_EPARSE (not an
 * address) or PX_ERANGE (a number too large, e.g. 10.0.0.256 or /33) and write
 * the output only on success.
 *
 * The text form (docs/text-form.md) describes a frame layer by layer, e.g.
 *   Ether(dst=ff:ff:ff:ff:ff:ff)/Dot1Q(vlan=102)/IPv4(dst=10.0.0.2)/UDP(dport=53)/Raw("hi")
 * or as plain hex. Fields left out take defaults; lengths, checksums and
 * next-protocol fields are computed unless given.
 *
 * Thread-safety: every function here is reentrant (no shared state).
 */
#ifndef PKTEXPECT_TEXT_H
#define PKTEXPECT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/** "02:00:00:00:00:01" or "02-00-00-00-00-01" (two hex digits per byte). */
int px_parse_mac(const char *s, uint8_t mac[6], const char **end);
/** Dotted quad "10.0.0.1" (each part 0..255, at most 3 digits). */
int px_parse_ipv4(const char *s, uint8_t addr[4], const char **end);
/** "10.0.0.0/8"; without "/len" the prefix length is 32. */
int px_parse_ipv4_prefix(const char *s, uint8_t addr[4], unsigned *plen, const char **end);
/** Any RFC 4291 text form ("fe80::1", "::ffff:10.0.0.1"). */
int px_parse_ipv6(const char *s, uint8_t addr[16], const char **end);
/** "2001:db8::/32"; without "/len" the prefix length is 128. */
int px_parse_ipv6_prefix(const char *s, uint8_t addr[16], unsigned *plen, const char **end);

/** Formatters: lower-case MAC "02:00:00:00:00:01" (18 bytes with NUL), dotted quad
 *  (16), RFC 5952 IPv6 (46). */
void px_format_mac(const uint8_t mac[6], char out[18]);
void px_format_ipv4(const uint8_t addr[4], char out[16]);
void px_format_ipv6(const uint8_t addr[16], char out[46]);

/** Parses a text-form frame and builds its bytes into a new heap buffer
 *  (caller frees *bytes with free()). On error returns PX_EPARSE / PX_ERANGE /
 *  PX_ENOMEM with "col N: ..." in errbuf (columns count from 1). */
int px_frame_parse_text(const char *text, uint8_t **bytes, size_t *len, char errbuf[]);

/** What a text left to the defaults, for the senders that fill it in. */
enum {
    /** The frame starts with an Ether layer whose src was not given (it is built as
     *  00:00:00:00:00:00; px_send_text and the runner write the port's MAC there). A
     *  src given explicitly, even 00:00:00:00:00:00, and a plain hex frame do not set it. */
    PX_TEXT_SRC_MAC_UNSET = 1u << 0,
};

/** px_frame_parse_text that also sets *flags (PX_TEXT_*; may be NULL) on success. */
int px_frame_parse_text_ex(const char *text, uint8_t **bytes, size_t *len, unsigned *flags, char errbuf[]);

/** Appends the text form of a dissected frame to `out`, such that parsing it gives
 *  back the same bytes. Fields equal to their default or to the value the builder
 *  would compute are left out. Frames the text form cannot express exactly come
 *  out as plain hex. Returns 0 or PX_ENOMEM. */
int px_frame_to_text(const px_frame *f, px_buf *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
