/* pktexpect: the command-line program. Everything but the signal set-up is in
 * runner/cli.c, so tests can drive it in-process. */
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "cli.h"
#include "sig.h"

/* Commands that poll the stop flag, end what is pending and clean up on SIGINT /
 * SIGTERM; every other command exits at once on them (runner/sig.h). */
static bool stops_gracefully(const char *cmd)
{
    static const char *const graceful[] = {"run", "watch", "check", "junit-merge", "send", "replay"};
    for (size_t i = 0; cmd && i < sizeof graceful / sizeof graceful[0]; i++)
        if (!strcmp(cmd, graceful[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    px_sig_install(stops_gracefully(argc > 1 ? argv[1] : NULL));
    /* A closed stdout (e.g. `| head`) must not kill the run before teardown. */
    signal(SIGPIPE, SIG_IGN);
    int rc = px_cli_main(argc, argv, px_sig_flag());
    /* Interrupted: 130 for SIGINT, 143 for SIGTERM, whatever the command said. */
    return px_sig_exit_code(rc);
}
