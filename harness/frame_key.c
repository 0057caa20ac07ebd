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
#include "frame_key.h"

/* The body is px__frame_key() in frame_key.h, inline for the capture thread's
 * dispatch and the predicates' per-frame key counts. */
bool px_frame_key(const px_frame *f, px_key_kind kind, uint64_t *value) { return px__frame_key(f, kind, value); }
