/* pktexpect: waiting for a link to be ready, one helper for the capture
 * source (source_ring.c), the sender (send.c) and the topology (topology.c).
 * Not installed.
 *
 * Thread-safety: any thread; it may enter `netns` on a helper thread
 * (px__netns_run), never in the caller's. */
#ifndef PX_LINK_H
#define PX_LINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Waits until interface `ifname` of namespace `netns` (NULL or "": the
 * caller's) is ready as px__link_ready defines it: IFF_UP, IFF_RUNNING
 * (carrier) and a queueing discipline other than "noop" attached. Gives up
 * after `timeout_ns`, or as soon as `*stop` (may be NULL) is true. Returns
 * whether the link was found ready; callers that go on anyway (a link without
 * carrier still captures) ignore it. */
bool px__link_wait_ready(const char *netns, const char *ifname, uint64_t timeout_ns,
                         const volatile _Atomic bool *stop);

#endif
