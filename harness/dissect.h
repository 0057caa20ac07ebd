/* pktexpect: the dissector's knowledge of Ethernet and VLAN tags, for the
 * modules that look at a frame's first headers without a full dissection
 * (the sender's MTU rule, the tag trailer's placement). frame_dissect.c.
 * Not installed.
 *
 * Thread-safety: pure, any thread. */
#ifndef PX_DISSECT_H
#define PX_DISSECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A VLAN tag's TPID: 802.1Q 0x8100, 802.1ad 0x88a8, or the pre-standard QinQ
 * 0x9100. */
bool px__is_vlan_tpid(uint16_t type);

/* Walks the VLAN tags after the MAC addresses of the Ethernet frame b[0, len):
 * a tag counts when its TPID is there and the type field after it fits in len.
 * Returns the number of tags; *type_off (if not NULL) = offset of the type
 * field after them (12 + 4 per tag). Frames shorter than 14 bytes have none. */
unsigned px__eth_vlan_walk(const uint8_t *b, size_t len, size_t *type_off);

#endif
