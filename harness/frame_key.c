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

static uint64_t mac48(const uint8_t m[6])
{
    uint64_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | m[i];
    return v;
}

bool px_frame_key(const px_frame *f, px_key_kind kind, uint64_t *value)
{
    switch (kind) {
    case PX_KEY_ETHERTYPE: {
        uint16_t t;
        if (!px_frame_ethertype(f, &t))
            return false;
        *value = t;
        return true;
    }
    case PX_KEY_VLAN_VID: {
        px_vlan_tag tag;
        if (!px_frame_vlan(f, 0, &tag))
            return false;
        *value = tag.vid;
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
        /* The port in place, as px_layer_udp / px_layer_tcp read it: the
         * dissector records these layers only with their fixed header captured. */
        const px_layer *l = px_frame_find(f, kind == PX_KEY_UDP_DPORT ? PX_LAYER_UDP : PX_LAYER_TCP);
        if (!l)
            return false;
        const uint8_t *h = f->data + l->off;
        *value = (uint64_t)h[2] << 8 | h[3];
        return true;
    }
    case PX_KEY_DST_MAC: {
        uint8_t m[6];
        if (!px_frame_eth_dst(f, m))
            return false;
        *value = mac48(m);
        return true;
    }
    default: return false;
    }
}
