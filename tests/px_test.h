/* Helpers shared by pktexpect's own tests (not installed).
 *
 * Net tests need root (CAP_NET_ADMIN + CAP_NET_RAW) for veth pairs. In CI
 * (CI set) a missing privilege fails the test; elsewhere it skips with exit 77
 * and a message that says why.
 */
#ifndef PX_TEST_H
#define PX_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PX_TEST_SKIP 77

/** Exits 77 (skip) or 1 (CI) when the process cannot create interfaces. */
static inline void px_test_require_root(const char *what)
{
    if (geteuid() == 0)
        return;
    const char *ci = getenv("CI");
    if (ci && *ci && strcmp(ci, "0") != 0 && strcmp(ci, "false") != 0) {
        fprintf(stderr, "FAIL: %s needs root (veth, raw sockets) and CI is set: run CI as root\n", what);
        exit(1);
    }
    fprintf(stderr, "SKIP: %s needs root to create veth pairs and open raw sockets; run it with sudo\n", what);
    exit(PX_TEST_SKIP);
}

/** Writes a short interface name unique to this process: "<prefix><pid%100000><suffix>". */
static inline void px_test_ifname(char out[16], const char *prefix, const char *suffix)
{
    snprintf(out, 16, "%.4s%05d%.4s", prefix, (int)(getpid() % 100000), suffix);
}

#endif
