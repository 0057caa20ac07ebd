/* pktexpect: field-by-field differences between an expected and a captured frame.
 *
 * Both frames are dissected views (px_frame_dissect); an expected frame written
 * in the text form is first built with px_frame_parse_text(). Layers are compared
 * in order while both frames have the same kind of layer at the same position;
 * every field of the text form is compared by name ("ipv4.ttl: expected 63, got
 * 64"). From the first layer that differs in kind, or for bytes no layer
 * explains, the comparison falls back to byte ranges ("bytes 34-35: expected
 * 0a00, got 0a01").
 *
 * Field names are "<layer>.<field>", the layer being one of eth, llc, vlan, arp,
 * ipv4, ipv6, ipv6hbh, ipv6rt, ipv6frag, ipv6dst, tcp, udp, icmp, icmpv6, mpls,
 * gre, vxlan and the field a text-form field name. When a frame has several
 * layers of a name the later ones are numbered: "ipv4[1].ttl" is the inner IPv4
 * of a tunnel.
 *
 * A mask names what not to compare (px_diff_mask_add):
 *   "ipv4.ttl"      that field in every IPv4 layer     "ipv4[1].ttl" only the second
 *   "ipv4"          every field of every IPv4 layer    "payload"  the payload bytes
 *   "bits:96-111"   frame bits 96..111 (bit 0 = most significant bit of byte 0)
 *   "bits:96+16"    the same range as FIRST+COUNT (PTF's set_do_not_care(96, 16))
 *   "bytes:12-13"   frame bytes 12..13 ("bytes:12+2" the same)
 *   "checksums"     every checksum field of every layer (ipv4.chksum, tcp.chksum,
 *                   udp.chksum, icmp.chksum, icmpv6.chksum, gre.chksum)
 *   "trailer"       bytes after the expected frame's content (Ethernet padding,
 *                   a longer captured frame)
 * or, with px_diff_mask_add_unset(), every field an expected text form left out.
 *
 * The score of a diff is the number of differing fields plus differing bytes
 * (a layer-kind mismatch counts 16): 0 means equal under the mask, and a caller
 * looking for the "closest frame" keeps the lowest.
 *
 * Checksum offload: in a frame flagged PX_FRAME_CSUM_NOT_READY (frame.h) the
 * TCP / UDP checksums hold a partial sum. When they differ the item is still
 * listed, its value followed by "(checksum not computed: offloaded)", but it
 * adds nothing to the score: such an item alone leaves the frames equal.
 *
 * Ownership: masks and diffs own their memory; free with px_diff_mask_free() and
 * px_diff_free(). Thread-safety: a mask may be shared read-only by many threads
 * once built; px_frame_diff() is reentrant.
 */
#ifndef PKTEXPECT_DIFF_H
#define PKTEXPECT_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

typedef struct px_diff_mask px_diff_mask;

/** An empty mask (compares everything), or NULL when out of memory. */
px_diff_mask *px_diff_mask_new(void);
void px_diff_mask_free(px_diff_mask *m);
/** Adds one entry (see the file comment). PX_EINVAL with the list of known names
 *  in errbuf for an unknown layer or field, PX_EPARSE for a bad range. */
int px_diff_mask_add(px_diff_mask *m, const char *spec, char errbuf[]);
/** Adds a comma- or blank-separated list, e.g. "ipv4.ttl, ipv4.chksum, trailer". */
int px_diff_mask_add_list(px_diff_mask *m, const char *list, char errbuf[]);

/** Ignores `nbits` bits from bit `offset` of the frame (bit 0 = most significant
 *  bit of byte 0), PTF's Mask.set_do_not_care(offset, bitwidth). PX_ERANGE when
 *  nbits is 0 or the range goes beyond 2^29 bits; whether it fits in an expected
 *  frame is checked by px_diff_mask_check_len (px_matches_frame does). */
int px_diff_mask_add_bits(px_diff_mask *m, uint64_t offset, uint64_t nbits, char errbuf[]);
/** 0, or PX_ERANGE with "bits 96-111 are outside the expected frame (12 bytes:
 *  bits 0-95)" when a bit or byte range of `m` ends past a frame of len bytes. */
int px_diff_mask_check_len(const px_diff_mask *m, size_t len, char errbuf[]);
/** A copy of `m` (an empty mask when m is NULL), or NULL when out of memory. */
px_diff_mask *px_diff_mask_copy(const px_diff_mask *m);
/** Appends the entries of `m` as px_diff_mask_add_list takes them ("ipv4.ttl,
 *  bits:96-111, trailer"); entries of px_diff_mask_add_unset are left out.
 *  Returns 0 or PX_ENOMEM. */
int px_diff_mask_format(const px_diff_mask *m, px_buf *out);
struct px_pkt;
/** Ignores every header field that the frame description `p` (include/pktexpect/
 *  build.h) leaves to its default or to the builder, layer by layer: with
 *  `Ether/IPv4(ttl=63)/UDP` as expected frame, only the layer structure, the TTL
 *  and any Raw payload are compared. Layer i of `p` is matched with layer i of
 *  the frames compared. Returns 0 or PX_ENOMEM. */
int px_diff_mask_add_unset(px_diff_mask *m, const struct px_pkt *p);

/** One difference; `field` is a field name or "bytes A-B", "length", "layer N". */
typedef struct px_diff_item {
    char field[48];
    char expected[100];
    char got[100];
} px_diff_item;

typedef struct px_diff {
    px_diff_item *items;  /**< owned */
    size_t n, cap;
    unsigned score;       /**< 0: equal under the mask; lower is closer */
} px_diff;

#define PX_DIFF_INIT {NULL, 0, 0, 0}

/** Compares `expected` with `got` under `mask` (NULL: compare everything) into
 *  `out`, which must be PX_DIFF_INIT or freed. Returns 0 or PX_ENOMEM. */
int px_frame_diff(const px_frame *expected, const px_frame *got, const px_diff_mask *mask, px_diff *out);
/** Appends one line per difference ("ipv4.ttl: expected 63, got 64\n"); at most
 *  `max_items` (0: all), then "... N more differences\n". */
int px_diff_format(const px_diff *d, size_t max_items, px_buf *out);
void px_diff_free(px_diff *d);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
