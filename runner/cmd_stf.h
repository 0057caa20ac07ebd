/* pktexpect runner: the `stf` subcommand: p4c's STF tests against a live
 * target (docs/stf.md, docs/cli.md "stf").
 *
 *   pktexpect stf [--json PROG.json --target-cli CMD] --port-map 0=IF,1=IF ...
 *                 [-i N@IF]... [--timeout DUR] [--wait DUR] [--tap] [--junit FILE]
 *                 [--pcap-dir DIR] [-v] FILE.stf...
 *
 * Each STF file becomes one test of a scenario built in memory and run by
 * px_run (run.h), so reports, evidence, signals and exit codes are those of
 * `run`: consecutive add/setdefault statements become one `cli` step (the
 * translated commands on the target CLI's stdin, failing on its error lines),
 * each `packet` a send step, each `wait` a pause; before the first packet, one
 * expectation per mapped port is armed with the port's `expect` statements in
 * STF order (stf_port_pred): each frame the port emits must match the next one,
 * and a frame after the last is "unexpected". Its window is --timeout.
 *
 * Thread-safety: one call at a time per process (stdout is shared).
 */
#ifndef PX_RUNNER_CMD_STF_H
#define PX_RUNNER_CMD_STF_H

#include <signal.h>

#include "cli_opt.h"

/** The option table of `stf` (docs/cli.md documents it). */
extern const px_cli_opt px_cli_stf_opts[];

int px_cli_stf(int argc, char **argv, const volatile sig_atomic_t *stop);

#endif
