/* pktexpect: waiting for a link to be ready (link.h).
 *
 * Listens instead of polling: a NETLINK_ROUTE socket joins RTNLGRP_LINK in the
 * link's namespace before the first look, so no change can slip between the
 * look and the wait, and each RTM_NEWLINK wakes the waiter for another look.
 * The kernel's link watch sets IFF_RUNNING, attaches the real qdisc and then
 * announces the link (netdev_state_change), so the last wake-up sees it ready.
 * A short fallback look covers a lost notification (socket overrun) and keeps
 * the stop flag checked. */
#include "link.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <time.h>

#include "pktexpect/error.h"
#include "netns.h"

/* Longest sleep without a notification: a fallback, not the way readiness is seen. */
#define FALLBACK_LOOK_NS 20000000ull

typedef struct wait_job {
    const char *ifname;
    uint64_t until;                   /* CLOCK_MONOTONIC ns */
    const volatile _Atomic bool *stop;
} wait_job;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool stopped(const wait_job *j) { return j->stop && atomic_load(j->stop); }

/* Reads every queued notification without blocking: only the wake-up matters. */
static void drain(struct mnl_socket *nl)
{
    char buf[8192];
    while (recv(mnl_socket_get_fd(nl), buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
}

/* Runs in the link's namespace: 1 when ready, 0 when not before the deadline
 * or the stop flag. */
static int wait_here(void *arg, char *errbuf)
{
    (void)errbuf;
    wait_job *j = arg;
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (nl && mnl_socket_bind(nl, 1u << (RTNLGRP_LINK - 1), MNL_SOCKET_AUTOPID) < 0) {
        mnl_socket_close(nl);
        nl = NULL;
    }
    int ready = 0;
    for (;;) {
        /* px__link_ready with NULL looks in this thread's namespace. */
        if (px__link_ready(NULL, j->ifname)) {
            ready = 1;
            break;
        }
        uint64_t now = mono_ns();
        if (stopped(j) || now >= j->until)
            break;
        uint64_t wait = j->until - now;
        if (wait > FALLBACK_LOOK_NS)
            wait = FALLBACK_LOOK_NS;
        if (nl) {
            struct pollfd pfd = {.fd = mnl_socket_get_fd(nl), .events = POLLIN};
            int ms = (int)((wait + 999999) / 1000000);
            if (poll(&pfd, 1, ms) > 0)
                drain(nl);
        } else {
            /* no socket to listen on (out of descriptors?): look again later */
            struct timespec pause = {0, (long)wait};
            nanosleep(&pause, NULL);
        }
    }
    if (nl)
        mnl_socket_close(nl);
    return ready;
}

bool px__link_wait_ready(const char *netns, const char *ifname, uint64_t timeout_ns,
                         const volatile _Atomic bool *stop)
{
    wait_job j = {.ifname = ifname, .until = mono_ns() + timeout_ns, .stop = stop};
    return px__netns_run(netns && *netns ? netns : NULL, wait_here, &j, NULL) == 1;
}
