/* pktexpect runner: `pktexpect clean [--dry-run]` removes the namespaces and
 * interfaces that dead runs (killed, or run with --keep-topology) left, as their
 * state files list them (topo_state.h, docs/cli.md). argv[0] is "clean".
 * Returns the exit code: 0 done (or nothing to do), 1 something could not be
 * removed, 2 invalid command line.
 *
 * Thread-safety: one call at a time per process. */
#ifndef PX_RUNNER_CMD_CLEAN_H
#define PX_RUNNER_CMD_CLEAN_H

#include "cli_opt.h"

/** The options of `clean` (for the documentation test, px_cli_commands()). */
extern const px_cli_opt px_cli_clean_opts[];

int px_cli_clean(int argc, char **argv);

#endif
