/* pktexpect runner: test results and the reports made from them.
 *
 * A px_report collects one px_test_result per test run (or skipped). Three
 * writers turn results into reports:
 *   - console: one line per test as it finishes ("[2/5] FAIL  suite: test (1.00 s)")
 *     followed, for FAIL and ERROR, by the explanation, the closest-frame diff and
 *     the evidence file; ANSI colours only when asked (the CLI asks on a tty);
 *   - TAP version 13, streamed (plan first, then one line per test with a YAML
 *     diagnostic block for failures);
 *   - JUnit XML, written at the end, one <testsuite> per scenario, with
 *     <failure>/<error>/<skipped> and <system-out> (frame summaries, command output).
 * The junit-merge command (cmd_junit_merge.h) merges the JUnit files of shards.
 *
 * Ownership: px_report_add copies every string; px_report_free frees them.
 * Thread-safety: none; a report belongs to one thread.
 */
#ifndef PX_RUNNER_REPORT_H
#define PX_RUNNER_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pktexpect/buf.h"

typedef enum px_tstatus { PX_T_PASS = 0, PX_T_FAIL, PX_T_ERROR, PX_T_SKIP } px_tstatus;

/** "PASS", "FAIL", "ERROR", "SKIP". */
const char *px_tstatus_name(px_tstatus s);

typedef struct px_test_result {
    const char *suite;   /**< scenario name */
    const char *name;    /**< test name */
    const char *file;    /**< scenario file, may be NULL */
    int line;            /**< line of the test in it, 0 = unknown */
    px_tstatus status;
    double seconds;
    const char *message; /**< one line: why it failed / was skipped; may be NULL */
    const char *details; /**< several lines: expectation reports and diffs; may be NULL */
    const char *output;  /**< frame summaries and command output (system-out); may be NULL */
    const char *pcap;    /**< evidence file kept for this test, may be NULL */
} px_test_result;

typedef struct px_report {
    px_test_result *r;
    size_t n;
} px_report;

/** Appends a copy of `t`. Returns 0 or PX_ENOMEM. */
int px_report_add(px_report *rep, const px_test_result *t);
void px_report_free(px_report *rep);

/** Counts of one status. */
size_t px_report_count(const px_report *rep, px_tstatus s);

/** Console: one test. `idx` is 1-based, `total` the number of tests planned. */
void px_report_console_test(FILE *out, const px_test_result *t, size_t idx, size_t total, bool color);
/** Console: the closing summary line. */
void px_report_console_summary(FILE *out, const px_report *rep, double seconds, bool color);

/** TAP: the header and plan, then one entry per test. */
void px_report_tap_plan(FILE *out, size_t total);
void px_report_tap_test(FILE *out, const px_test_result *t, size_t idx);

/** JUnit XML of the whole report. Returns 0 or PX_EIO. */
int px_report_write_junit(const px_report *rep, FILE *out);
/** Same into a file, with px_report_write_file. Returns 0, PX_ENOMEM or PX_EIO
 *  with the reason (errno text included) in `err`. */
int px_report_write_junit_file(const px_report *rep, const char *path, px_buf *err);

/** Writes `len` bytes of `data` as the file `path`, a report the user named:
 *  into a new temporary file next to it (mode 0644), renamed over `path` once
 *  completely written, so a failed write (full disk) leaves no partial or empty
 *  report. A symbolic link at `path` is refused, never followed; an existing
 *  device or FIFO (/dev/null, a named pipe) is written in place. Returns 0 or
 *  PX_EIO / PX_ENOMEM with "cannot write 'PATH': reason" in `err`. */
int px_report_write_file(const char *path, const char *data, size_t len, px_buf *err);

/** Appends `text` to out with XML escaping (& < > " ' and control characters). */
void px_xml_escape(px_buf *out, const char *text);

#endif
