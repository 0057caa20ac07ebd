/* pktexpect runner: the `send` and `replay` subcommands (docs/sending.md).
 *
 *   pktexpect send -i PORT [-i PORT ...] [-n NETNS] [--vlan VID[:PCP]] [--count N]
 *                  [--rate R] [--duration DURATION] [--tag] 'TEXT-FORM'
 *   pktexpect replay -i PORT [-i PORT ...] [-n NETNS] [--speed X] [--limit N] FILE
 *
 * argv[0] is the subcommand name. Return the exit code: 0 sent, 1 the send
 * failed, 2 invalid command line, frame or file, 3 environment (no such
 * interface, no privileges, interface down).
 *
 * With -n NETNS the ports are the core's "NETNS/IFNAME" ports: the library
 * opens their sockets inside that network namespace (px_cli_netns_ports); a
 * missing namespace is exit 3, checked before anything is opened.
 *
 * Thread-safety: one call at a time per process (stdout is shared).
 */
#ifndef PX_RUNNER_CMD_SEND_H
#define PX_RUNNER_CMD_SEND_H

#include "cli_opt.h"

/** The option tables of `send` and `replay` (docs/cli.md documents them). */
extern const px_cli_opt px_cli_send_opts[];
extern const px_cli_opt px_cli_replay_opts[];

int px_cli_send(int argc, char **argv);
int px_cli_replay(int argc, char **argv);

#endif
