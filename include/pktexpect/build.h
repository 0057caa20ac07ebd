/* pktexpect: the frame builder.
 *
 * A px_pkt describes a frame as a list of layers, outermost first, each with
 * fields set by name; everything not set takes the layer's default. Building
 * fills in what depends on the rest of the frame: lengths (IPv4 ihl/len, IPv6
 * plen, UDP len, TCP dataofs, extension header len, 802.3 length), checksums
 * (IPv4 header; TCP, UDP, ICMPv6 with the pseudo-header of the nearest IP layer
 * before them, whose destination is the final one of an IPv6 Routing header
 * with segments left, RFC 8200 section 8.1; ICMP; GRE when its C flag is set)
 * and next-protocol fields
 * (ethertypes, IP protocol / next header, GRE protocol, MPLS bottom-of-stack,
 * the UDP ports 4789 before VXLAN). A field set explicitly is never
 * overwritten, so tests can build deliberately broken frames (bad checksum,
 * wrong length).
 *
 * Layer names and fields are those of the text form (docs/text-form.md):
 * Ether, LLC, Dot1Q, Dot1AD, ARP, IPv4, IPv6, IPv6HopByHop, IPv6Routing,
 * IPv6Frag, IPv6DestOpts, TCP, UDP, ICMP, ICMPv6, MPLS, GRE, VXLAN, Raw, Pad.
 *
 * Example:
 *   px_pkt *p = px_pkt_new();
 *   px_pkt_push(p, "Ether", err);
 *   px_pkt_push(p, "IPv4", err); px_pkt_set(p, "dst", "10.0.0.2", err);
 *   px_pkt_push(p, "UDP", err);  px_pkt_set_uint(p, "dport", 53, err);
 *   px_pkt_push_raw(p, "hi", 2);
 *   px_pkt_build(p, &bytes, &len, err);  ... free(bytes); px_pkt_free(p);
 *
 * Ownership: a px_pkt owns copies of everything given to it; px_pkt_free()
 * releases it. Thread-safety: a px_pkt is not shared between threads while it is
 * modified; building (a read) may run on several threads at once.
 */
#ifndef PKTEXPECT_BUILD_H
#define PKTEXPECT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

typedef struct px_pkt px_pkt;

/** A new empty frame description, or NULL when out of memory. */
px_pkt *px_pkt_new(void);
void px_pkt_free(px_pkt *p);

/** Appends a layer with its defaults. PX_EINVAL for an unknown layer name. */
int px_pkt_push(px_pkt *p, const char *layer, char errbuf[]);
/** Sets a field of the last layer from its text form ("10.0.0.1", "0x0800",
 *  "SA", "02:00:00:00:00:01", hex bytes for options). PX_EINVAL (unknown field,
 *  no layer), PX_EPARSE (bad value) or PX_ERANGE (e.g. vlan 4096, ttl 256). */
int px_pkt_set(px_pkt *p, const char *field, const char *value, char errbuf[]);
/** Sets an integer field of the last layer. PX_EINVAL / PX_ERANGE. */
int px_pkt_set_uint(px_pkt *p, const char *field, uint32_t value, char errbuf[]);
/** Sets an address or byte field (MAC: 6 bytes, IPv4: 4, IPv6: 16, options:
 *  any length up to the header maximum) of the last layer. */
int px_pkt_set_bytes(px_pkt *p, const char *field, const uint8_t *bytes, size_t n, char errbuf[]);
/** Appends payload bytes (copied). */
int px_pkt_push_raw(px_pkt *p, const void *bytes, size_t n);
/** Appends trailing padding: n bytes copied from `bytes`, or zeros when NULL.
 *  Padding is outside every length and checksum. */
int px_pkt_push_pad(px_pkt *p, const void *bytes, size_t n);
/** Pads the built frame with zeros up to `min_len` bytes (60 = Ethernet minimum
 *  without FCS); 0 (the default) disables. */
void px_pkt_set_min_len(px_pkt *p, size_t min_len);

/** Builds the bytes into a new heap buffer (caller frees *bytes with free()).
 *  Returns 0, PX_ENOMEM, or PX_EINVAL when the description is empty. */
int px_pkt_build(const px_pkt *p, uint8_t **bytes, size_t *len, char errbuf[]);

/** Parses the text form (include/pktexpect/text.h) into a new px_pkt (caller
 *  frees with px_pkt_free). Errors as px_frame_parse_text(). */
int px_pkt_parse_text(const char *text, px_pkt **out, char errbuf[]);

/** Derives a frame from `frame` (len bytes; copied, never modified) by
 *  `edits`, a comma-separated list applied in order, as PTF tests write
 *  `exp = pkt.copy(); exp[IP].ttl -= 1`:
 *    layer.field=VALUE    e.g. ipv4.ttl=63, eth.src=02:00:00:00:00:02,
 *                         ipv6.dst=2001:db8::2, tcp.flags=SA, vlan.vid=7
 *    layer.field-=N, +=N  integer fields relative to the frame's value
 *                         (ipv4.ttl-=1, ipv6.hlim-=1, mpls.ttl-=1); ipv4.tos and
 *                         ipv6.tc name the whole traffic-class byte (dscp, ecn)
 *    +vlan(VID[, pcp=P, dei=D, tpid=T])  pushes a tag as the outermost one,
 *                         right after the Ethernet addresses (tpid 0x8100)
 *    -vlan                pops the outermost tag
 *  Field names are those of diffs and masks (include/pktexpect/diff.h): the
 *  first layer of a name is "ipv4", the second "ipv4[1]" (an inner header of a
 *  tunnel; "vlan[1].vid" is the inner tag of a double-tagged frame). Edits
 *  never change a header's length (options cannot be edited), so lengths stay;
 *  after the last edit every checksum (IPv4 header, TCP, UDP, ICMP, ICMPv6, GRE
 *  with its C bit) is recomputed, innermost first, except one an edit sets
 *  explicitly (ipv4.chksum=0x1234 stays). A UDP/IPv4 checksum of 0 (none)
 *  stays 0. Popping a tag may leave a frame shorter than 60 bytes: compare it
 *  with allow_padding.
 *  On success *out is a new heap buffer of *out_len bytes (caller frees with
 *  free()). Errors: PX_EINVAL (unknown layer or field, a layer the frame does
 *  not have, a truncated frame), PX_EPARSE (malformed edit, bad value),
 *  PX_ERANGE (value or result out of range), PX_ENOMEM; errbuf (may be NULL)
 *  names the edit: "edit 2 (ipv4.tll=63): unknown field 'ipv4.tll' (did you
 *  mean ipv4.ttl?)". Reentrant. */
int px_frame_derive(const uint8_t *frame, size_t len, const char *edits, uint8_t **out, size_t *out_len,
                    char errbuf[]);
#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
