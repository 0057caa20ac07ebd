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
} px_frame;

/** Dissects `data` into `f` (zero-copy: f->data = data). `wirelen` < caplen is
 *  raised to caplen. Port, direction and timestamp are zeroed; the caller sets them.
 *  Never fails: see the file comment for malformed input. */
void px_frame_dissect(px_frame *f, const uint8_t *data, uint32_t caplen, uint32_t wirelen);

/** The first layer of `kind`, or NULL. */
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

#ifdef __cplusplus
}
#endif
#endif
