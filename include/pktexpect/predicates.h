/* pktexpect: built-in predicates, C constructors.
 *
 * Every constructor returns a new predicate owned by the caller until handed to
 * px_expect() (which takes it), or NULL only when out of memory. Each built-in
 * also has a name in the expression language (include/pktexpect/expr.h) and a
 * line in docs/predicates.md.
 *
 * Refused arguments: a constructor given an argument it cannot use (out of
 * range, NULL, a filter or text that does not parse) never loses the reason. It
 * returns a "refused" predicate that carries it: px_predicate_error(p) gives
 * the message ("saw_vlan_tag: vid must be 0..4095, got 5000"; NULL for a
 * predicate that works), and px_expect given it returns a future already
 * resolved ERROR with that message as its explanation (nothing armed, no port
 * opened). Constructors with an errbuf fill it as well. Combinators and
 * counts given a refused child return that child (the others are freed), so
 * the innermost reason comes out; a NULL child (out of memory) still makes NULL.
 * The expression language reports a refusal as a parse error at the call.
 *
 * Verdict rules: positive predicates ("saw_...") PASS on the first matching frame
 * and FAIL when the window closes without one. Negative predicates ("did_not_see_...")
 * stop early on the first offending frame (FAIL) and PASS only when the window
 * closes. Count predicates decide when the window closes (or the count limit ends
 * it). Negative and count predicates are loss-sensitive: capture drops in their
 * window make them ERROR.
 *
 * Thread-safety: constructors may be called from any thread.
 */
#ifndef PKTEXPECT_PREDICATES_H
#define PKTEXPECT_PREDICATES_H

#include <stdint.h>

#include "predicate.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/** PASS on the first frame offered; FAIL if none arrives in the window. */
px_predicate *px_received_packet(void);
/** PASS if the window closes with no frame offered; FAIL on the first frame. */
px_predicate *px_timed_out(void);
/** checksums_ok(): PASS when at least one frame was offered and every checksum of
 *  every frame offered verifies (IPv4 header, TCP, UDP, ICMP, ICMPv6, GRE with
 *  its C flag; px_layer_checksum). FAIL at the first bad one, naming the frame,
 *  the layer and the expected and actual values, or when no frame arrived. TCP/UDP
 *  checksums the kernel had not computed (PX_FRAME_CSUM_NOT_READY) and checksums
 *  over bytes not captured are not checked (counted in the explanation). Value:
 *  the number of frames offered. Loss-sensitive. */
px_predicate *px_checksums_ok(void);

px_predicate *px_saw_src_mac(const uint8_t mac[6]);
px_predicate *px_saw_dst_mac(const uint8_t mac[6]);
/** Ethertype after the VLAN tags (see px_frame_ethertype). */
px_predicate *px_saw_ethertype(uint16_t ethertype);
/** A frame whose outer VLAN tag has VID `vid` (0..4095) and, if pcp >= 0, PCP `pcp`. */
px_predicate *px_saw_vlan_tag(int vid, int pcp);

px_predicate *px_did_not_see_src_mac(const uint8_t mac[6]);
px_predicate *px_did_not_see_dst_mac(const uint8_t mac[6]);
/** No frame whose outer VLAN tag has VID `vid`. */
px_predicate *px_did_not_see_vlan_tag(int vid);

/* The first names of the counts, kept as aliases of the counting combinators
 * below (one count vocabulary: docs/predicates.md#counting). */
/** Alias of px_count(NULL): always PASS at the close; value = number of frames offered. */
px_predicate *px_packet_count(void);
/** Alias of px_exactly(n, NULL): PASS if exactly n frames were offered; value = the count. */
px_predicate *px_packet_count_was(uint64_t n);
/** Alias of px_at_most(n - 1, NULL): PASS if fewer than n frames were offered; value =
 *  the count. Refused for n = 0 (it could never PASS). */
px_predicate *px_packet_count_was_less_than(uint64_t n);

/* ---- Predicate library (field predicates, BPF, combinators, counts) ----
 *
 * Conventions of this block: every constructor takes ownership of the child
 * predicates passed to it in every case (they are freed when it fails), and
 * returns NULL when out of memory, a refused predicate (see the top of this
 * file) when an argument is out of range. Integer fields
 * of the *_spec structs use -1 for "any value"; start from the PX_*_SPEC_ANY
 * initialisers and set what matters. Each predicate also exists in the
 * expression language (include/pktexpect/expr.h) under the name in its comment;
 * docs/predicates.md gives the verdict rule and value of each.
 *
 * "Per-frame" predicates (all saw_... / did_not_see_... below, payload_contains,
 * bpf, matches, and all_of / any_of / not over per-frame predicates) can also be
 * evaluated on one frame alone; the counting predicates need that. */

/** An IPv4 or IPv6 address prefix. family 0 matches any address. */
typedef struct px_ip_prefix {
    uint8_t family;    /**< 0 (any), 4 or 6 */
    uint8_t len;       /**< prefix length: 0..32 or 0..128 */
    uint8_t addr[16];  /**< network byte order; IPv4 in the first 4 bytes */
} px_ip_prefix;

/** saw_ethertype / did_not_see_ethertype (px_saw_ethertype is above). */
px_predicate *px_did_not_see_ethertype(uint16_t ethertype);

/** saw_src_mac / saw_dst_mac with a mask: (mac & mask) == (addr & mask).
 *  mask NULL = all ones. E.g. addr 01:00:00:00:00:00 mask 01:00:00:00:00:00 =
 *  any multicast. */
px_predicate *px_saw_src_mac_masked(const uint8_t mac[6], const uint8_t mask[6]);
px_predicate *px_saw_dst_mac_masked(const uint8_t mac[6], const uint8_t mask[6]);
px_predicate *px_did_not_see_src_mac_masked(const uint8_t mac[6], const uint8_t mask[6]);
px_predicate *px_did_not_see_dst_mac_masked(const uint8_t mac[6], const uint8_t mask[6]);

/** saw_vlan_tag: the tag at `depth` (0 = outer, 1 = inner, ...) has the given
 *  fields; `untagged` instead matches frames without any VLAN tag. */
typedef struct px_vlan_spec {
    int vid;     /**< 0..4095, -1 any */
    int pcp;     /**< 0..7, -1 any */
    int dei;     /**< 0..1, -1 any */
    int tpid;    /**< 0..0xffff, -1 any */
    int depth;   /**< which tag, 0 = outermost */
    bool untagged;
} px_vlan_spec;
#define PX_VLAN_SPEC_ANY {-1, -1, -1, -1, 0, false}
px_predicate *px_saw_vlan(const px_vlan_spec *spec);
px_predicate *px_did_not_see_vlan(const px_vlan_spec *spec);

/** saw_ipv4 / saw_ipv6: fields of the IP header at encapsulation depth `encap`
 *  (0 = outer frame, 1 = inside the first tunnel). ttl is the hop limit for IPv6;
 *  proto is the next header after the extension headers for IPv6. */
typedef struct px_ip_spec {
    px_ip_prefix src, dst; /**< family 0: any */
    int proto;             /**< 0..255, -1 any */
    int ttl;               /**< 0..255, -1 any */
    int dscp;              /**< 0..63, -1 any */
    int ecn;               /**< 0..3, -1 any */
    int encap;             /**< 0..7 */
} px_ip_spec;
#define PX_IP_SPEC_ANY {{0, 0, {0}}, {0, 0, {0}}, -1, -1, -1, -1, 0}
px_predicate *px_saw_ipv4(const px_ip_spec *spec);
px_predicate *px_did_not_see_ipv4(const px_ip_spec *spec);
px_predicate *px_saw_ipv6(const px_ip_spec *spec);
px_predicate *px_did_not_see_ipv6(const px_ip_spec *spec);

/** saw_tcp / saw_udp: ports, and for TCP the flags: (flags & flags_mask) == flags
 *  (flags_mask -1 = 0xff, i.e. exactly these flags). */
typedef struct px_l4_spec {
    int sport, dport;  /**< 0..65535, -1 any */
    int flags;         /**< TCP only: 0..255, -1 any */
    int flags_mask;    /**< TCP only: 0..255, -1 = 0xff */
    int encap;         /**< 0..7 */
} px_l4_spec;
#define PX_L4_SPEC_ANY {-1, -1, -1, -1, 0}
px_predicate *px_saw_tcp(const px_l4_spec *spec);
px_predicate *px_did_not_see_tcp(const px_l4_spec *spec);
px_predicate *px_saw_udp(const px_l4_spec *spec);
px_predicate *px_did_not_see_udp(const px_l4_spec *spec);

/** saw_icmp / saw_icmpv6: type and code, -1 any. */
px_predicate *px_saw_icmp(int type, int code);
px_predicate *px_did_not_see_icmp(int type, int code);
px_predicate *px_saw_icmpv6(int type, int code);
px_predicate *px_did_not_see_icmpv6(int type, int code);

/** saw_mpls: the label stack entry at `depth` (0 = outermost). */
typedef struct px_mpls_spec {
    int64_t label;  /**< 0..1048575, -1 any */
    int tc;         /**< 0..7, -1 any */
    int s;          /**< bottom of stack bit 0..1, -1 any */
    int ttl;        /**< 0..255, -1 any */
    int depth;
} px_mpls_spec;
#define PX_MPLS_SPEC_ANY {-1, -1, -1, -1, 0}
px_predicate *px_saw_mpls(const px_mpls_spec *spec);
px_predicate *px_did_not_see_mpls(const px_mpls_spec *spec);

/** saw_vxlan: a VXLAN header with VNI `vni` (0..0xffffff, -1 any). */
px_predicate *px_saw_vxlan(int64_t vni);
px_predicate *px_did_not_see_vxlan(int64_t vni);

/** saw_field / did_not_see_field: a frame whose `field` ("ipv4.ttl", "vlan.vid",
 *  "gre.key": a layer and a field as a diff names them, include/pktexpect/diff.h)
 *  holds `value`, written as in the text form ("63", "0x0800", "SA", "10.0.0.1",
 *  "02:00:00:00:00:01", hex bytes for options). The first layer of that protocol
 *  in the frame is tested. Every field of the text form can be tested this way.
 *  Refused (see the top of this file), with the reason in errbuf too
 *  (PX_ERRBUF_SIZE bytes, may be NULL), for an unknown field or a value the text
 *  form rejects. */
px_predicate *px_saw_field(const char *field, const char *value, char *errbuf);
px_predicate *px_did_not_see_field(const char *field, const char *value, char *errbuf);

/** payload_contains / did_not_see_payload: the payload (the bytes after the last
 *  header the dissector understood) contains `n` >= 1 bytes `needle` (copied). */
px_predicate *px_payload_contains(const uint8_t *needle, size_t n);
px_predicate *px_did_not_see_payload(const uint8_t *needle, size_t n);

/** bpf: the frame passes `filter` (libpcap syntax, compiled once for Ethernet).
 *  Refused, with the compiler's message in errbuf too (may be NULL), when the
 *  filter does not compile. */
px_predicate *px_bpf(const char *filter, char *errbuf);

/** Limits of a BPF filter text (px_bpf, px_bpf_check; the scenario `filter:`):
 *  libpcap's optimiser is worse than quadratic in the number of clauses (800
 *  `or`ed port tests take 10 s to compile), so the text and its boolean
 *  operators ("and", "or", "not", "&&", "||", "!") are bounded. */
#define PX_BPF_MAX_CHARS 1024
#define PX_BPF_MAX_OPS 64

/** Checks that `filter` is within the limits above and compiles for Ethernet
 *  (DLT_EN10MB, snap length 65535), as px_bpf and an expectation's filter
 *  compile it. Returns 0, PX_ERANGE (too long or too many operators) or
 *  PX_EPARSE (libpcap's message) with the reason in errbuf (may be NULL), or
 *  PX_ENOMEM. Thread-safe. */
int px_bpf_check(const char *filter, char *errbuf);

/** matches: a frame equal to `expected` (text form or plain hex, built once)
 *  field by field, except what `ignore` names (comma-separated entries of
 *  include/pktexpect/diff.h: "ipv4.ttl, ipv4.chksum, bytes:12-13", NULL = none);
 *  allow_padding also ignores bytes after the expected frame's end (Ethernet
 *  padding). On FAIL the explanation shows the closest frame and its diff.
 *  Refused, with the reason in errbuf too (may be NULL), when the text or a
 *  mask entry does not parse. */
px_predicate *px_matches(const char *expected, const char *ignore, bool allow_padding, char *errbuf);
/** matches with an expected frame derived from `expected` by `edits`
 *  (px_frame_derive, include/pktexpect/build.h: "ipv4.ttl-=1, eth.src=02:00:00:00:00:02,
 *  +vlan(102)"; NULL or "" = none), what PTF tests write as exp = pkt.copy();
 *  exp[IP].ttl -= 1. Errors of an edit come as "set: edit N (...): reason"
 *  (refused, as px_matches). */
px_predicate *px_matches_edit(const char *expected, const char *edits, const char *ignore, bool allow_padding,
                              char *errbuf);
struct px_diff_mask;
/** matches with the expected frame as bytes (copied) and a mask built in C
 *  (include/pktexpect/diff.h; copied, NULL = compare everything): PTF's
 *  Mask(exp) with set_do_not_care_scapy (px_diff_mask_add "ipv4.chksum") and
 *  set_do_not_care(offset, bits) (px_diff_mask_add_bits). Same verdicts and
 *  explanations as px_matches; describe() shows the frame in the text form.
 *  Refused, with the reason in errbuf too (may be NULL), when len is 0 or a bit
 *  range of the mask ends past the expected frame ("bits 96-111 are outside the
 *  expected frame (12 bytes: bits 0-95)"). */
px_predicate *px_matches_frame(const uint8_t *expected, size_t len, const struct px_diff_mask *mask,
                               bool allow_padding, char *errbuf);

/* Combinators. Children are owned (also on failure); a refused child is the
 * result (see the top of this file); no children at all is refused. */
/** all_of: every child PASSes (each decides on its own frames). */
px_predicate *px_all_of(px_predicate *const *children, size_t n);
/** any_of: at least one child PASSes. */
px_predicate *px_any_of(px_predicate *const *children, size_t n);
/** not: PASS where the child FAILs and FAIL where it PASSes; ERROR stays ERROR. */
px_predicate *px_not(px_predicate *child);
/** sequence: child i+1 starts with the frame after the one that made child i PASS. */
px_predicate *px_sequence(px_predicate *const *children, size_t n);

/* Counting: the number of frames (after filters) that satisfy the per-frame
 * predicate `p` (NULL: every frame) is compared at the close of the window.
 * They are refused when p is not a per-frame predicate. */
px_predicate *px_exactly(uint64_t n, px_predicate *p);
px_predicate *px_at_least(uint64_t n, px_predicate *p);
px_predicate *px_at_most(uint64_t n, px_predicate *p);
/** lo <= count <= hi; refused when lo > hi. */
px_predicate *px_between(uint64_t lo, uint64_t hi, px_predicate *p);
/** Always PASS at the close; value = the count. */
px_predicate *px_count(px_predicate *p);
/** count != n. */
px_predicate *px_count_not(uint64_t n, px_predicate *p);
/** no_other_packets: FAIL on the first frame that does not satisfy `allowed`
 *  (NULL: on any frame); PASS at the close. */
px_predicate *px_no_other_packets(px_predicate *allowed);

/** True when `p` can be evaluated on one frame alone (see above). */
bool px_predicate_is_per_frame(const px_predicate *p);

/** Tagged frames (px_send_opts.tagged, include/pktexpect/send.h): PASS on the first
 *  frame carrying `tag` in its tag trailer; value = latency in ns (arrival timestamp
 *  minus the send time in the trailer). FAIL if none arrives in the window. */
px_predicate *px_saw_tag(uint64_t tag);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
