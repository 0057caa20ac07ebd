/* pktexpect runner: the `check` subcommand: expectations evaluated against a
 * recorded capture instead of live ports (docs/cli.md, "check").
 *
 *   pktexpect check --pcap FILE [--interface NAME] [--timeout DUR] [--count N]
 *                   [--bpf FILTER] [--no-noise-filter] 'PREDICATE'...
 *
 * Every predicate is armed at the start of the capture; its window lasts
 * --timeout of the capture's own time (default: the whole capture). Returns 0
 * when every one passes, 1 when one fails or is inconclusive (a capture that
 * turns out malformed part-way makes the predicates it cut short ERROR), 2 for
 * an invalid command line, predicate or BPF filter, 3 when the capture cannot
 * be opened.
 *
 * Thread-safety: one call at a time per process (stdout is shared).
 */
#ifndef PX_RUNNER_CMD_CHECK_H
#define PX_RUNNER_CMD_CHECK_H

#include <signal.h>

#include "cli_opt.h"

/** The option table of `check` (docs/cli.md documents it). */
extern const px_cli_opt px_cli_check_opts[];

int px_cli_check(int argc, char **argv, const volatile sig_atomic_t *stop);

#endif
