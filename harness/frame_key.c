/* pktexpect: dispatch keys of a frame (see px_key in predicate.h).
 *
 * Each key reads the same layer as the predicates that declare it, through the
 * same accessors, so "the frame has key K = v" and "the predicate could react
 * to it" agree by construction (tests/unit/test_frame_key.c checks it on a
 * corpus of frames). What each key reads:
 *   ETHERTYPE  px_frame_ethertype(): the type field after the outer VLAN tags
 *              (an 802.3 frame gives its length field)
 *   VLAN_VID   the outermost VLAN tag of the outer frame (encap 0)
 *   IP_PROTO   the first IP layer of the frame (the outer one; behind an MPLS
 *              stack the labelled one): IPv4 protocol, or for IPv6 the next
 *              header after its extension headers, as saw_ipv6(proto=) tests
 *   UDP_DPORT  the first UDP layer of the frame (the outer one of a tunnel)
 *   TCP_DPORT  the first TCP layer of the frame
 *   DST_MAC    the outer Ethernet destination
 * A predicate of the outer frame (encap 0) tests these very layers: the outer
 * frame's layers come first in the layer list. A key may be carried by frames
 * the predicate then rejects (it is a filter, not the test); the contract only
 * needs the converse.
 *
 * Cost: a walk over the layer table, no formatting, no allocation. Thread-safety:
 * reads the frame only. */
#include "pktexpect/predicate.h"

/* The first layer of `kind`, or NULL (px_frame_find without the call). */
static inline const px_layer *first(const px_frame *f, px_layer_kind kind)
{
    unsigned i = f->first_of[kind];
    return i ? &f->layers[i - 1] : NULL;
}

/* Every case reads its header in place: the dissector records a layer only with
 * its fixed header captured (Ethernet 14 bytes, a VLAN tag's TCI and type,
 * UDP 8, TCP 20), so the reads below stay inside the capture. This runs for
 * every frame and every key kind armed on the port. */
bool px_frame_key(const px_frame *f, px_key_kind kind, uint64_t *value)
{
    const px_layer *l;
    switch (kind) {
    case PX_KEY_ETHERTYPE:
        if (!f->first_of[PX_LAYER_ETH])
            return false;
        *value = f->ethertype; /* px_frame_ethertype() */
        return true;
    case PX_KEY_VLAN_VID: {
        /* px_frame_vlan(f, 0): the first tag, of the outer frame only; the
         * layer starts at the TCI. */
        if (!(l = first(f, PX_LAYER_VLAN)) || l->encap != 0)
            return false;
        const uint8_t *h = f->data + l->off;
        *value = ((uint64_t)h[0] << 8 | h[1]) & 0x0fff;
        return true;
    }
    case PX_KEY_IP_PROTO: {
        uint8_t p;
        if (!px_frame_ip_proto(f, &p))
            return false;
        *value = p;
        return true;
    }
    case PX_KEY_UDP_DPORT:
    case PX_KEY_TCP_DPORT: {
        /* The port in place, as px_layer_udp / px_layer_tcp read it. */
        if (!(l = first(f, kind == PX_KEY_UDP_DPORT ? PX_LAYER_UDP : PX_LAYER_TCP)))
            return false;
        const uint8_t *h = f->data + l->off;
        *value = (uint64_t)h[2] << 8 | h[3];
        return true;
    }
    case PX_KEY_DST_MAC: {
        if (!(l = first(f, PX_LAYER_ETH)))
            return false;
        const uint8_t *m = f->data + l->off;
        *value = (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 | (uint64_t)m[2] << 24 | (uint64_t)m[3] << 16 |
                 (uint64_t)m[4] << 8 | m[5];
        return true;
    }
    default: return false;
    }
}
