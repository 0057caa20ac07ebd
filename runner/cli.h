/* pktexpect runner: the command-line interface (docs/cli.md).
 *
 * px_cli_main() is the whole `pktexpect` program except signal set-up, so tests
 * can drive it in-process. Subcommands: run, validate, watch, check, stf (cmd_stf.c),
 * junit-merge, clean, send and replay (the last two are the sender's, runner/cmd_send.c), plus --help.
 *
 * Options are parsed by the shared parser of cli_opt.h (anywhere on the line,
 * `--` ends them).
 *
 * Thread-safety: one call at a time per process (stdout and stderr are shared).
 */
#ifndef PX_RUNNER_CLI_H
#define PX_RUNNER_CLI_H

#include <signal.h>
#include <stddef.h>

#include "run.h"

/** Runs `pktexpect` with argv[0] the program name. `stop` is set by the caller's
 *  SIGINT/SIGTERM handler (may be NULL). Returns the exit code. */
int px_cli_main(int argc, char **argv, const volatile sig_atomic_t *stop);

/** Runs `scns` with px_run and reports like `run`: the console summary (unless
 *  TAP), the JUnit file when `junit` is not NULL. Returns the exit code (a JUnit
 *  file that cannot be written turns a pass into PX_EXIT_ENV). */
int px_cli_run_report(px_scenario *const *scns, size_t n, const px_run_opts *o, const char *junit);

#endif
