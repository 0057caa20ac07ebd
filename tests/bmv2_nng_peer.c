/* The BMv2 stand-in of tests/bmv2_peer.h built on nng's nanomsg compatibility
 * layer, the library recent BMv2 builds its packet interface on, as a program:
 * `bmv2_nng_peer ADDR` binds ADDR and answers until SIGTERM. test_bmv2 runs it
 * (unit/test_bmv2_nng) to check the client against that implementation of the
 * wire protocol. */
#define PX_PEER_NNG 1
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "bmv2_peer.h"

static volatile sig_atomic_t done;

static void on_term(int sig)
{
    (void)sig;
    done = 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bmv2_nng_peer ADDR\n");
        return 2;
    }
    /* SIGTERM stays blocked but in sigsuspend: a `while (!done) pause();` loses
     * a SIGTERM that comes between the test and the pause, and then waits
     * forever (the test sends it right after the socket appears). The peer's
     * threads inherit the mask, so the main thread takes the signal. */
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    bmv2_peer p;
    if (bmv2_peer_start(&p, argv[1]) != 0) {
        fprintf(stderr, "bmv2_nng_peer: cannot bind %s\n", argv[1]);
        return 1;
    }
    while (!done)
        sigsuspend(&old);
    bmv2_peer_stop(&p);
    return 0;
}
