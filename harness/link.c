/* pktexpect: waiting for a link to be ready (link.h). */
#include "link.h"

#include <time.h>

#include "pktexpect/topology.h"

/* Between two looks: short against the link watch's delay (up to a second),
 * long enough not to spin; each look is one rtnetlink dump of one link. */
#define LOOK_EVERY_NS 2000000L

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool px__link_wait_ready(const char *netns, const char *ifname, uint64_t timeout_ns,
                         const volatile _Atomic bool *stop)
{
    const char *ns = netns && *netns ? netns : NULL;
    const uint64_t until = mono_ns() + timeout_ns;
    for (;;) {
        if (px_topo_link_ready(ns, ifname))
            return true;
        if ((stop && atomic_load(stop)) || mono_ns() >= until)
            return false;
        struct timespec pause = {0, LOOK_EVERY_NS};
        nanosleep(&pause, NULL);
    }
}
