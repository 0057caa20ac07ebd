/* pktexpect runner: the `clean` subcommand (see cmd_clean.h). */
#include "cmd_clean.h"

#include <stdbool.h>
#include <stdio.h>

#include "run.h"
#include "topo_state.h"

static const char usage_clean[] =
    "usage: pktexpect clean [--dry-run]\n"
    "\n"
    "Removes the namespaces and interfaces that runs which no longer exist left\n"
    "(killed, or run with --keep-topology), as listed in their state files under\n"
    "/run/pktexpect ($PKTEXPECT_STATE_DIR); never anything no run recorded, never\n"
    "what a live run holds.\n"
    "\n"
    "  -n, --dry-run   only say what would be removed\n"
    "  -h, --help      this help\n";

enum { C_DRY = 'n', C_HELP = 'h' };

const px_cli_opt px_cli_clean_opts[] = {
    {"dry-run", 'n', false, C_DRY},
    {"help", 'h', false, C_HELP},
    {NULL, 0, false, 0},
};

int px_cli_clean(int argc, char **argv)
{
    bool dry = false;
    int c;
    const char *val;
    px_cli_args a;
    px_cli_args_init(&a, "clean", argc, argv, px_cli_clean_opts);
    while ((c = px_cli_next(&a, &val)) != PX_CLI_END) {
        switch (c) {
        case C_DRY:
            dry = true;
            break;
        case C_HELP:
            fputs(usage_clean, stdout);
            return PX_EXIT_PASS;
        default:
            return PX_EXIT_INVALID; /* the parser said why */
        }
    }
    if (a.nops > 0) {
        fprintf(stderr, "pktexpect clean: takes no operands ('%s')\n%s", a.ops[0], usage_clean);
        return PX_EXIT_INVALID;
    }
    return px_tstate_clean(stdout, stderr, dry);
}
