/* Veth pairs for the net tests that need several (not installed): their names,
 * a reaper process that deletes them if the test process dies, and creating /
 * deleting the first n of them in a fixture. Needs root (see px_test.h).
 *
 * The test owns the array of pairs (a static array named once, at the start of
 * main, by veth_pairs_init); the other helpers only read it. Interfaces are
 * deleted through their a end (deleting one end deletes the pair).
 */
#ifndef PX_VETH_PAIRS_H
#define PX_VETH_PAIRS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "pktexpect/pktexpect.h"
#include "pktexpect/topology.h"
#include "px_test.h"

typedef struct veth_pair {
    char a[16]; /* send side */
    char b[16]; /* capture side */
} veth_pair;

/* Names pair i "<prefix><pid>a<i>" / "<prefix><pid>b<i>" (px_test_ifname), so
 * that concurrent runs do not collide. */
static inline void veth_pairs_name(veth_pair *pairs, int n, const char *prefix)
{
    for (int i = 0; i < n; i++) {
        char sa[4], sb[4];
        snprintf(sa, sizeof sa, "a%d", i);
        snprintf(sb, sizeof sb, "b%d", i);
        px_test_ifname(pairs[i].a, prefix, sa);
        px_test_ifname(pairs[i].b, prefix, sb);
    }
}

/* Forks a child that deletes the n pairs once this process is gone, however it
 * ends (a sanitizer abort skips cmocka's teardowns). Call it after
 * veth_pairs_name and before any thread starts. The child keeps its own copy of
 * the names and exits by itself; nothing to free. */
static inline void veth_pairs_reaper(const veth_pair *pairs, int n)
{
    int fds[2];
    if (pipe(fds) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[1]);
        signal(SIGINT, SIG_IGN);
        char c;
        while (read(fds[0], &c, 1) != 0 && errno == EINTR)
            ;
        for (int i = 0; i < n; i++)
            if (px_topo_link_exists(NULL, pairs[i].a))
                px_topo_link_del(NULL, pairs[i].a, NULL);
        _exit(0);
    }
    close(fds[0]); /* the write end stays open until we exit */
}

/* The start of main of a test that uses veth pairs: exits (77 skip, 1 in CI)
 * without root, then names the n pairs and starts their reaper. */
static inline void veth_pairs_init(const char *test, veth_pair *pairs, int n, const char *prefix)
{
    px_test_require_root(test);
    veth_pairs_name(pairs, n, prefix);
    veth_pairs_reaper(pairs, n);
}

/* Creates the first n pairs, each after deleting a leftover of a crashed run.
 * Returns 0, or -1 with the error printed and the pairs it made deleted. */
static inline int veth_pairs_add(const veth_pair *pairs, int n)
{
    char err[PX_ERRBUF_SIZE];
    for (int i = 0; i < n; i++) {
        px_topo_link_del(NULL, pairs[i].a, NULL);
        if (px_topo_veth_add(NULL, pairs[i].a, pairs[i].b, err) != 0) {
            print_error("veth %s/%s: %s\n", pairs[i].a, pairs[i].b, err);
            for (int j = 0; j < i; j++)
                px_topo_link_del(NULL, pairs[j].a, NULL);
            return -1;
        }
    }
    return 0;
}

/* Deletes the first n pairs; 0, or -1 if any could not be deleted (every one is
 * tried). */
static inline int veth_pairs_del(const veth_pair *pairs, int n)
{
    int rc = 0;
    for (int i = 0; i < n; i++)
        if (px_topo_link_del(NULL, pairs[i].a, NULL) != 0)
            rc = -1;
    return rc;
}

/* Sleeps ms milliseconds, resuming after signals. */
static inline void sleep_ms(unsigned ms)
{
    struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) != 0 && errno == EINTR)
        ;
}

#endif
