/* pktexpect: the command-line program. Everything but the signal set-up is in
 * runner/cli.c, so tests can drive it in-process. */
#include <signal.h>
#include <string.h>

#include "cli.h"

/* The one piece of process-wide mutable state: a signal handler can only reach a
 * static. SIGINT and SIGTERM set it; the runner polls it, cancels what is pending
 * and tears the topology down on the main thread. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
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
    return px_cli_main(argc, argv, &stop_requested);
}
