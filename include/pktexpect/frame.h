/* pktexpect: the frame view and its dissector.
 *
 * A px_frame is a zero-copy view of one layer-2 frame: the bytes stay where the
 * capture put them (the port's ring) and the frame records where each layer
 * starts. The capture thread dissects every frame exactly once and offers the same
 * view to every expectation of the port, so predicates never parse bytes again:
 * they ask px_frame_find() for a layer and read its fields with the accessors.
 *
 * Bounds: the dissector reads only inside [data, data + caplen). Malformed or
 * truncated input gives a view whose `truncated_at` names the layer that did not
 * fit; the layers before it are usable, nothing after it is recorded.
 *
 * Lifetime: a frame offered to a predicate is valid during that callback only; a
 * predicate that keeps bytes copies them.
 *
 * Thread-safety: dissecting writes only the px_frame passed in; reading a frame
 * from several threads at once is safe.
 */
#ifndef PKTEXPECT_FRAME_H
#define PKTEXPECT_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/** Layer kinds, outermost first in a frame's layer list. */
typedef enum px_layer_kind {
    PX_LAYER_NONE = 0,
    PX_LAYER_ETH,      /**< Ethernet II header (or 802.3 header, see PX_LAYER_LLC) */
    PX_LAYER_LLC,      /**< 802.2 LLC after an 802.3 length field */
    PX_LAYER_VLAN,     /**< one 802.1Q / 802.1ad tag (TPID is the previous type field) */
    PX_LAYER_ARP,
    PX_LAYER_IPV4,
    PX_LAYER_IPV6,
    PX_LAYER_IPV6_EXT, /**< one IPv6 extension header */
    PX_LAYER_TCP,
    PX_LAYER_UDP,
    PX_LAYER_ICMP,
    PX_LAYER_ICMPV6,
    PX_LAYER_MPLS,     /**< one MPLS label stack entry */
    PX_LAYER_GRE,
    PX_LAYER_VXLAN,
    PX_LAYER_PAYLOAD,  /**< bytes after the last layer understood */
    PX_LAYER__COUNT
} px_layer_kind;

/** One layer of a dissected frame: where its header starts and how long it is. */
typedef struct px_layer {
    uint32_t off;        /**< offset of the header from px_frame.data */
    uint32_t len;        /**< header length in bytes (payload excluded) */
    uint8_t kind;        /**< px_layer_kind */
    uint8_t encap;       /**< 0 for the outer frame, 1 inside the first tunnel, ... */
} px_layer;

#define PX_FRAME_MAX_LAYERS 32

typedef enum px_direction { PX_DIR_IN = 0, PX_DIR_OUT = 1 } px_direction;

/** A frame: bytes, lengths, timestamp, port, layers. See the file comment for lifetime. */
typedef struct px_frame {
    const uint8_t *data;     /**< first byte of the Ethernet header; not owned */
    uint32_t caplen;         /**< bytes available at data */
    uint32_t wirelen;        /**< length on the wire (>= caplen) */
    struct timespec ts;      /**< arrival time, CLOCK_REALTIME (kernel timestamp) */
    const char *port;        /**< name of the port it arrived on (NULL for synthetic frames) */
    px_direction dir;
    uint8_t nlayers;
    uint8_t truncated_at;    /**< px_layer_kind that did not fit, PX_LAYER_NONE if whole */
    px_layer layers[PX_FRAME_MAX_LAYERS];
    /** Bytes after the outermost IP datagram (also over MPLS; or ARP, 802.3 length): Ethernet padding or a
     *  trailer. They belong to no layer; px_frame_payload() excludes them. */
    uint32_t padlen;
    uint32_t flags;          /**< PX_FRAME_* */
    /** Index + 1 of the first layer of each kind (0: none), filled by
     *  px_frame_dissect so that px_frame_find costs one load. */
    uint8_t first_of[PX_LAYER__COUNT];
    /** The outer frame's type field after its VLAN tags (what px_frame_ethertype
     *  returns), filled by px_frame_dissect; meaningful when the frame has an
     *  Ethernet layer. Kept because dispatch, noise filter and predicates all
     *  read it for every frame. */
    uint16_t ethertype;
} px_frame;

/** px_frame.flags: the frame was captured before its L4 checksum was computed
 *  (a locally sent frame with checksum offload: TP_STATUS_CSUMNOTREADY). Its
 *  TCP / UDP checksum field holds a partial sum, not a wrong checksum; diffs and
 *  predicates do not report it as bad. */
#define PX_FRAME_CSUM_NOT_READY 0x1u

/** Dissects `data` into `f` (zero-copy: f->data = data). `wirelen` < caplen is
 *  raised to caplen. Port, direction and timestamp are zeroed; the caller sets them.
 *  Never fails: see the file comment for malformed input. */
void px_frame_dissect(px_frame *f, const uint8_t *data, uint32_t caplen, uint32_t wirelen);

/** The first layer of `kind`, or NULL. The layers returned here and by
 *  px_frame_find_nth and px_layer_prev point into `*f`: valid as long as it is. */
const px_layer *px_frame_find(const px_frame *f, px_layer_kind kind);
/** The n-th (0-based) layer of `kind`, or NULL: e.g. n = 1 gives the inner IPv4 of VXLAN. */
const px_layer *px_frame_find_nth(const px_frame *f, px_layer_kind kind, unsigned n);
/** Lower-case name of a kind ("ipv4"), "none" for unknown values. Static storage. */
const char *px_layer_name(px_layer_kind kind);

/* ---- Field accessors used by the core predicates and the noise filter ----
 * Each returns false (and leaves *out alone) when the frame has no such layer.
 * Ethernet fields come from the outermost Ethernet header. */

bool px_frame_eth_src(const px_frame *f, uint8_t mac[6]);
bool px_frame_eth_dst(const px_frame *f, uint8_t mac[6]);
/** The ethertype after all VLAN tags of the outer frame (0x0800 for IPv4, ...). */
bool px_frame_ethertype(const px_frame *f, uint16_t *type);

typedef struct px_vlan_tag {
    uint16_t tpid;  /**< 0x8100, 0x88a8, ... */
    uint16_t vid;   /**< 0..4095 */
    uint8_t pcp;    /**< 0..7 */
    uint8_t dei;    /**< 0..1 */
} px_vlan_tag;
/** The n-th VLAN tag of the outer frame, 0 = outermost. */
bool px_frame_vlan(const px_frame *f, unsigned n, px_vlan_tag *out);

/** Type and code of the first ICMPv6 layer. */
bool px_frame_icmpv6(const px_frame *f, uint8_t *type, uint8_t *code);
/** Protocol number of the first IPv4 layer (or next header after IPv6 extensions). */
bool px_frame_ip_proto(const px_frame *f, uint8_t *proto);

/* ---- Typed per-layer accessors ----
 * `l` is a layer of `f` of the kind named by the function, or NULL for the first
 * layer of that kind. Each returns false (and leaves *out alone) when there is no
 * such layer or `l` is of another kind. Multi-byte values are in host order;
 * addresses are copied in network order. The dissector has already checked that
 * the whole header is inside the captured bytes. */

/** An Ethernet header. `type` is the type/length field: a length (<= 1500) for
 *  802.3 frames, which are followed by a PX_LAYER_LLC layer. */
typedef struct px_eth_hdr {
    uint8_t dst[6];
    uint8_t src[6];
    uint16_t type;
} px_eth_hdr;
bool px_layer_eth(const px_frame *f, const px_layer *l, px_eth_hdr *out);

/** 802.2 LLC: `ctrl` is one byte for U frames, two for I/S frames. */
typedef struct px_llc_hdr {
    uint8_t dsap, ssap;
    uint16_t ctrl;
} px_llc_hdr;
bool px_layer_llc(const px_frame *f, const px_layer *l, px_llc_hdr *out);

/** One VLAN tag; `inner_type` (may be NULL) receives the type field after the tag. */
bool px_layer_vlan(const px_frame *f, const px_layer *l, px_vlan_tag *out, uint16_t *inner_type);

/** ARP. The address fields are filled only when `eth_ipv4` (hlen 6, plen 4). */
typedef struct px_arp_hdr {
    uint16_t htype, ptype;
    uint8_t hlen, plen;
    uint16_t op;
    bool eth_ipv4;
    uint8_t sha[6], spa[4], tha[6], tpa[4];
} px_arp_hdr;
bool px_layer_arp(const px_frame *f, const px_layer *l, px_arp_hdr *out);

#define PX_IPV4_DF 0x2
#define PX_IPV4_MF 0x1
typedef struct px_ipv4_hdr {
    uint8_t version, ihl;   /**< ihl in 32-bit words */
    uint8_t dscp, ecn;
    uint16_t tot_len, id;
    uint8_t flags;          /**< PX_IPV4_DF | PX_IPV4_MF (bit 2 is reserved) */
    uint16_t frag_off;      /**< in 8-byte units */
    uint8_t ttl, proto;
    uint16_t chksum;
    uint8_t src[4], dst[4];
} px_ipv4_hdr;
bool px_layer_ipv4(const px_frame *f, const px_layer *l, px_ipv4_hdr *out);

typedef struct px_ipv6_hdr {
    uint8_t dscp, ecn;
    uint32_t flow;          /**< 20-bit flow label */
    uint16_t payload_len;
    uint8_t next_header, hop_limit;
    uint8_t src[16], dst[16];
} px_ipv6_hdr;
bool px_layer_ipv6(const px_frame *f, const px_layer *l, px_ipv6_hdr *out);

/** One IPv6 extension header. `type` is the protocol number that announced it
 *  (0 hop-by-hop, 43 routing, 44 fragment, 60 destination options, 51 AH).
 *  Fragment fields are set for type 44, routing fields for type 43. */
typedef struct px_ipv6_ext_hdr {
    uint8_t type, next_header;
    uint32_t len;           /**< header length in bytes */
    uint8_t routing_type, segments_left;
    uint16_t frag_off;      /**< in 8-byte units */
    bool mf;
    uint32_t frag_id;
} px_ipv6_ext_hdr;
bool px_layer_ipv6_ext(const px_frame *f, const px_layer *l, px_ipv6_ext_hdr *out);

#define PX_TCP_FIN 0x01
#define PX_TCP_SYN 0x02
#define PX_TCP_RST 0x04
#define PX_TCP_PSH 0x08
#define PX_TCP_ACK 0x10
#define PX_TCP_URG 0x20
#define PX_TCP_ECE 0x40
#define PX_TCP_CWR 0x80
typedef struct px_tcp_hdr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t doff;           /**< data offset in 32-bit words */
    uint8_t flags;          /**< PX_TCP_* */
    uint16_t window, chksum, urg;
} px_tcp_hdr;
bool px_layer_tcp(const px_frame *f, const px_layer *l, px_tcp_hdr *out);

typedef struct px_udp_hdr {
    uint16_t sport, dport, len, chksum;
} px_udp_hdr;
bool px_layer_udp(const px_frame *f, const px_layer *l, px_udp_hdr *out);

/** ICMP or ICMPv6 (both layers are 8 bytes: type, code, checksum and the 32-bit
 *  rest of header, e.g. identifier << 16 | sequence for echo). */
typedef struct px_icmp_hdr {
    uint8_t type, code;
    uint16_t chksum;
    uint32_t rest;
} px_icmp_hdr;
/** `l` may be an ICMP or an ICMPv6 layer; NULL means the first ICMP (v4) layer. */
bool px_layer_icmp(const px_frame *f, const px_layer *l, px_icmp_hdr *out);

typedef struct px_mpls_hdr {
    uint32_t label;         /**< 20 bits */
    uint8_t tc, s, ttl;
} px_mpls_hdr;
bool px_layer_mpls(const px_frame *f, const px_layer *l, px_mpls_hdr *out);

typedef struct px_gre_hdr {
    bool has_chksum, has_key, has_seq;
    uint8_t version;
    uint16_t proto;         /**< ethertype of the payload (0x6558: Ethernet) */
    uint16_t chksum;        /**< valid when has_chksum */
    uint32_t key;           /**< valid when has_key */
    uint32_t seq;           /**< valid when has_seq */
} px_gre_hdr;
bool px_layer_gre(const px_frame *f, const px_layer *l, px_gre_hdr *out);

typedef struct px_vxlan_hdr {
    uint8_t flags;          /**< 0x08: VNI valid */
    uint32_t vni;           /**< 24 bits */
} px_vxlan_hdr;
bool px_layer_vxlan(const px_frame *f, const px_layer *l, px_vxlan_hdr *out);

/** Source and destination port of `l` (TCP or UDP), or of the first TCP/UDP layer
 *  when `l` is NULL. */
bool px_frame_ports(const px_frame *f, const px_layer *l, uint16_t *sport, uint16_t *dport);

/** The bytes after the last layer understood (PX_LAYER_PAYLOAD), padding
 *  excluded. False when there are none. */
bool px_frame_payload(const px_frame *f, uint32_t *off, uint32_t *len);

/** Checksum verdict of one layer (see px_layer_checksum). */
typedef enum px_csum_status {
    PX_CSUM_NONE = 0, /**< no checksum here: not a checksummed layer, UDP/IPv4 checksum 0,
                           GRE without C flag, or a fragment (the rest is elsewhere) */
    PX_CSUM_GOOD,
    PX_CSUM_BAD,
    PX_CSUM_UNKNOWN   /**< the bytes it covers were not all captured */
} px_csum_status;
/** Verifies the checksum of an IPv4, TCP, UDP, ICMP, ICMPv6 or GRE layer, with the
 *  pseudo-header of the nearest IP layer before it for TCP, UDP and ICMPv6. Behind
 *  an IPv6 Routing header with segments left > 0, the pseudo-header's destination
 *  is the final one (RFC 8200 section 8.1): the last address of a type 0 or 2
 *  header, segment 0 of a Segment Routing header (type 4). */
px_csum_status px_layer_checksum(const px_frame *f, const px_layer *l);

/** The layer that `l` is carried in (the previous layer), or NULL for the first. */
const px_layer *px_layer_prev(const px_frame *f, const px_layer *l);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
