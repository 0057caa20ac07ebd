/* pktexpect: built-in predicates, C constructors.
 *
 * Every constructor returns a new predicate owned by the caller until handed to
 * px_expect() (which takes it), or NULL when out of memory or an argument is out
 * of range. Each built-in also has a name in the expression language
 * (include/pktexpect/expr.h) and a line in docs/predicates.md.
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

/** PASS on the first frame offered; FAIL if none arrives in the window. */
px_predicate *px_received_packet(void);
/** PASS if the window closes with no frame offered; FAIL on the first frame. */
px_predicate *px_timed_out(void);

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

/** Always PASS at the close; value = number of frames offered. */
px_predicate *px_packet_count(void);
/** PASS if exactly n frames were offered in the window; value = the number seen. */
px_predicate *px_packet_count_was(uint64_t n);
/** PASS if fewer than n frames were offered in the window; value = the number seen. */
px_predicate *px_packet_count_was_less_than(uint64_t n);

#ifdef __cplusplus
}
#endif
#endif
