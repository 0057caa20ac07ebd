/* pktexpect runner: the `clean` subcommand (see cmd_clean.h). */
#include "cmd_clean.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "topo_state.h"

static const char usage_clean[] =
    "usage: pktexpect clean [--dry-run]\n"
    "  removes the namespaces and interfaces that runs which no longer exist left\n"
    "  (killed, or run with --keep-topology), as listed in their state files under\n"
    "  /run/pktexpect ($PKTEXPECT_STATE_DIR); never anything no run recorded, never\n"
    "  what a live run holds\n"
    "  --dry-run    only say what would be removed\n";

int px_cli_clean(int argc, char **argv)
{
    bool dry = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n")) {
            dry = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_clean, stdout);
            return 0;
        } else {
            fprintf(stderr, "pktexpect clean: unknown argument '%s'\n%s", argv[i], usage_clean);
            return 2;
        }
    }
    return px_tstate_clean(stdout, stderr, dry);
}
