/* pktexpect runner: the `send` and `replay` subcommands (docs/sending.md).
 *
 *   pktexpect send -i PORT [-i PORT ...] [--vlan VID[:PCP]] [--count N]
 *                  [--rate R] [--duration MS] [--tag] 'TEXT-FORM'
 *   pktexpect replay -i PORT [-i PORT ...] [--speed X] [--limit N] FILE
 *
 * argv[0] is the subcommand name. Return the exit code: 0 sent, 1 the send
 * failed, 2 invalid command line, frame or file, 3 environment (no such
 * interface, no privileges, interface down).
 *
 * Thread-safety: one call at a time per process (getopt keeps global state).
 */
#ifndef PX_RUNNER_CMD_SEND_H
#define PX_RUNNER_CMD_SEND_H

int px_cli_send(int argc, char **argv);
int px_cli_replay(int argc, char **argv);

#endif
