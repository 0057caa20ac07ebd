/* pktexpect runner: `pktexpect junit-merge OUT IN...` (docs/cli.md "junit-merge").
 *
 * Merges the JUnit files written by `pktexpect run --junit` (e.g. one per CI
 * shard) into one: test suites of the same name become one <testsuite> (their
 * tests, failures, errors, skipped and time summed, their test cases
 * concatenated in input order), suites keep the order in which they first
 * appear, and the <testsuites> totals are the sums.
 *
 * Inputs must be regular files of at most PX_JUNIT_MERGE_MAX_INPUT bytes: they
 * are opened non-blocking and checked with fstat before anything is read, so a
 * FIFO, a device (/dev/zero) or a directory is refused at once instead of
 * blocking or reading without end.
 *
 * Ownership: the caller owns every buffer it passes. Thread-safety: none needed
 * (no shared state).
 */
#ifndef PX_RUNNER_CMD_JUNIT_MERGE_H
#define PX_RUNNER_CMD_JUNIT_MERGE_H

#include <signal.h>
#include <stddef.h>

#include "cli_opt.h"
#include "pktexpect/buf.h"

/** Largest input accepted (64 MiB). */
#define PX_JUNIT_MERGE_MAX_INPUT (64u * 1024u * 1024u)

/** Merges the inputs into the text of one JUnit file, appended to `out`.
 *  `stop` (may be NULL) is polled between reads. Returns 0, or with the reason
 *  in `err`: PX_EIO (an input cannot be opened or read), PX_EINVAL (not a
 *  regular file), PX_ERANGE (larger than the limit), PX_EFORMAT (not a JUnit
 *  file), PX_ENOMEM, PX_ECANCELED (*stop was set). */
int px_junit_merge_text(const char *const *in_paths, size_t n, const volatile sig_atomic_t *stop, px_buf *out,
                        px_buf *err);

/** px_junit_merge_text, then the result written to `out_path` with
 *  px_report_write_file (nothing is written when an input is refused). Same
 *  codes; PX_EIO also when OUT cannot be written. */
int px_junit_merge(const char *out_path, const char *const *in_paths, size_t n, const volatile sig_atomic_t *stop,
                   px_buf *err);

/** The `junit-merge` command: argv[0] is "junit-merge". Exit 0 merged, 2 invalid
 *  command line or an input refused (unreadable, not a regular file, too large,
 *  not a JUnit file), 3 OUT cannot be written, 130 interrupted. */
int px_cli_junit_merge(int argc, char **argv, const volatile sig_atomic_t *stop);

/** junit-merge's option table (for the documentation test). */
extern const px_cli_opt px_cli_merge_opts[];

#endif
