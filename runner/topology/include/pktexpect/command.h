/* pktexpect: shell commands and control-plane batches, with timeouts.
 *
 * px_cmd_run() runs one `/bin/sh -c` command (optionally inside a network
 * namespace) in a process group of its own, feeds it an input on its standard
 * input, captures its standard output and error together, and ends the whole
 * group (background children included) when the command exits, times out or is
 * cancelled: SIGTERM, then SIGKILL 2 s later. The scenario runner's setup,
 * teardown, `exec` and `cli` steps use it.
 *
 * px_cmd_runv() does the same for a program and its arguments, without a
 * shell (nothing to quote). px_cmd_wait_ok() is a readiness wait: it runs a
 * command again and again until it succeeds, at most for a given time, and
 * says what the last try printed when it never does.
 *
 * px_ctl_run() runs a target's control-plane CLI (e.g. BMv2's
 * `simple_switch_CLI --thrift-port 9090`) with a batch of commands on its
 * standard input and decides whether the batch worked: not when the CLI exits
 * with a non-zero status, and not when any line of its output matches one of the
 * error patterns (POSIX extended regular expressions), because such CLIs report a
 * rejected command on their output and still exit 0. The default patterns match
 * what simple_switch_CLI prints for a command it rejects ("Error: ...",
 * "Invalid table operation (...)", "Invalid match key: ...").
 *
 * Part of libpktexpect-topology (pkg-config pktexpect-topology).
 *
 * Ownership: every pointer is borrowed for the call; `output` is the caller's
 * (appended to, at most 64 KiB of the command's output kept).
 *
 * Thread-safety: while a command runs, the process is the subreaper of its
 * orphans (prctl PR_SET_CHILD_SUBREAPER, a process-wide attribute): run one
 * command at a time per process.
 */
#ifndef PKTEXPECT_COMMAND_H
#define PKTEXPECT_COMMAND_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pktexpect/buf.h"
#include "pktexpect/error.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/** Timeout of a command that gives none (ms). */
#define PX_CMD_TIMEOUT_MS 60000
/** Most bytes of a command's output kept in `output`. */
#define PX_CMD_OUTPUT_MAX (64 * 1024)

typedef struct px_cmd_opts {
    const char *netns;      /**< namespace under /run/netns to run in; NULL: the caller's */
    const char *input;      /**< written to the command's stdin, then closed; NULL: /dev/null */
    size_t input_len;
    uint32_t timeout_ms;    /**< 0: PX_CMD_TIMEOUT_MS */
    const volatile sig_atomic_t *stop; /**< cancels when set (polled); may be NULL */
    int cancel_fd;          /**< cancels when readable (polled, never read); -1: none */
} px_cmd_opts;

/** Runs `cmd` as described above (o may be NULL: all defaults, but then set no
 *  cancel descriptor: use {.cancel_fd = -1}). Returns the exit status (0..255),
 *  128 + signal when killed, or a negative PX_E*: PX_ETIMEDOUT after the timeout,
 *  PX_ECANCELED when cancelled, PX_ESYS when it could not be started. */
int px_cmd_run(const char *cmd, const px_cmd_opts *o, px_buf *output);

/** px_cmd_run for argv[0] (searched in PATH) with arguments `argv` (NULL
 *  terminated), without a shell. Returns what px_cmd_run returns; 127 when the
 *  program cannot be run ("pktexpect: cannot run <name>" in `output`), PX_EINVAL
 *  when argv, argv[0] or output is NULL. */
int px_cmd_runv(char *const argv[], const px_cmd_opts *o, px_buf *output);

/** Readiness wait: runs `cmd` (as px_cmd_run, with `o`, which may be NULL) until
 *  it exits 0, pausing 100 ms between tries, for at most `timeout_ms` in all (0:
 *  PX_CMD_TIMEOUT_MS; a try that hangs is ended at the deadline). Returns 0 once
 *  a try succeeded; PX_ETIMEDOUT when none did, with errbuf saying how many tries
 *  ran, how the last try that ran to its end ended and its last line of output
 *  ("'ovs-vsctl show' did not succeed within 5000 ms (50 tries; the last try to
 *  end exited 1, its output: ..."; a last try cut short by the deadline does not
 *  hide it); PX_ECANCELED when `o` cancels it; PX_ESYS when the command cannot be
 *  started. errbuf (PX_ERRBUF_SIZE, may be NULL) is "" on success. */
int px_cmd_wait_ok(const char *cmd, const px_cmd_opts *o, uint32_t timeout_ms, char *errbuf);

/** The default error patterns of px_ctl_run (BMv2's simple_switch_CLI). */
extern const char *const px_ctl_default_patterns[];
extern const size_t px_ctl_default_npatterns;

/** What px_ctl_run saw. */
typedef struct px_ctl_result {
    int status;            /**< what px_cmd_run returned */
    int error_lineno;      /**< 1-based line of the output that matched a pattern; 0: none */
    char error_line[256];  /**< that line (cut) */
} px_ctl_result;

/** Runs the CLI `cmd` with `o->input` as its batch. `patterns` (npatterns, POSIX
 *  extended regular expressions, matched against each output line) NULL: the
 *  defaults. Returns 0 when the CLI exited 0 and no line matched; 1 when it ran but
 *  failed (non-zero exit, or a matching line: see `res`); a negative PX_E* when it
 *  could not finish (PX_ETIMEDOUT, PX_ECANCELED, PX_ESYS) or a pattern does not
 *  compile (PX_EPARSE). errbuf (PX_ERRBUF_SIZE, may be NULL) gets a one-line
 *  reason for anything but 0; the output itself is in `output`. */
int px_ctl_run(const char *cmd, const px_cmd_opts *o, const char *const *patterns, size_t npatterns,
               px_buf *output, px_ctl_result *res, char *errbuf);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
