/* pktexpect: the dispatch keys of a frame (px_frame_key() in predicate.h), inline
 * for the per-frame paths: the capture thread's dispatch asks each key kind its
 * port has nodes for, and predicates count the frames carrying their key, on
 * every frame. What each kind reads is said in frame_key.c. Not installed.
 *
 * Thread-safety: reads the frame only. */
#ifndef PX_FRAME_KEY_H
#define PX_FRAME_KEY_H

#include <stdint.h>

#include "pktexpect/predicate.h"

/* Bit of key kind k in a mask of kinds. */
#define PX__KEY_BIT(k) (1u << (k))

/* The first layer of `kind`, or NULL (px_frame_find without the call). */
static inline const px_layer *px__key_layer(const px_frame *f, px_layer_kind kind)
{
    unsigned i = f->first_of[kind];
    return i ? &f->layers[i - 1] : NULL;
}

/* px_frame_key(). Every case reads its header in place: the dissector records a
 * layer only with its fixed header captured (Ethernet 14 bytes, a VLAN tag's TCI
 * and type, UDP 8, TCP 20), so the reads below stay inside the capture. */
static inline bool px__frame_key(const px_frame *f, px_key_kind kind, uint64_t *value)
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
        if (!(l = px__key_layer(f, PX_LAYER_VLAN)) || l->encap != 0)
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
        if (!(l = px__key_layer(f, kind == PX_KEY_UDP_DPORT ? PX_LAYER_UDP : PX_LAYER_TCP)))
            return false;
        const uint8_t *h = f->data + l->off;
        *value = (uint64_t)h[2] << 8 | h[3];
        return true;
    }
    case PX_KEY_DST_MAC: {
        if (!(l = px__key_layer(f, PX_LAYER_ETH)))
            return false;
        const uint8_t *m = f->data + l->off;
        *value = (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 | (uint64_t)m[2] << 24 | (uint64_t)m[3] << 16 |
                 (uint64_t)m[4] << 8 | m[5];
        return true;
    }
    default: return false;
    }
}

#endif
