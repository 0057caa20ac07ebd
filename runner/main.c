/* pktexpect: the command-line program. Everything but the signal set-up is in
 * runner/cli.c, so tests can drive it in-process. */
#include <signal.h>
#include <string.h>

#include "cli.h"

/* The one piece of process-wide mutable state: a signal handler can only reach a
 * static. SIGINT and SIGTERM set it (to the signal's number); the runner polls it,
 * cancels what is pending and tears the topology down on the main thread. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    stop_requested = sig;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A closed stdout (e.g. `| head`) must not kill the run before teardown. */
    signal(SIGPIPE, SIG_IGN);
    int rc = px_cli_main(argc, argv, &stop_requested);
    /* 128 + the signal, as a shell reports a process the signal killed: 130 for
     * SIGINT, 143 for SIGTERM (docs/cli.md). */
    if (rc == 130 && stop_requested == SIGTERM)
        rc = 128 + SIGTERM;
    return rc;
}
