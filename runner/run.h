/* pktexpect runner: executing loaded scenarios.
 *
 * px_run() selects tests (filter, shard), builds each scenario's topology with
 * the topology module, runs the selected tests step by step on a fresh context
 * per test, always tears the topology down (after failures and interruptions
 * too, unless keep_topology), and reports every test to the console or TAP as it
 * finishes and into `rep` for JUnit.
 *
 * Interruption: `stop` points to a flag a signal handler sets; every wait polls it
 * (at least every 100 ms) and, when the program installed runner/sig.h, sleeps in
 * poll(2) on its wake-up descriptor, so a signal ends any step at once (a paced
 * send or a replay included: the test's context gets that descriptor through
 * px_ctx_set_cancel_fd). The run then marks the test ERROR "interrupted", cancels
 * what is pending, tears down and returns PX_RUN_INTERRUPTED.
 *
 * Deadline: deadline_s bounds the whole run the same way (a timerfd polled with
 * the signal's descriptor): every step that can block (expect, wait, sleep, exec,
 * send, replay, setup commands) stops when it expires, and the test is ERROR
 * "global deadline reached"; tests not started are ERROR "not run".
 *
 * Topology lock: see px_run_state_dir() and `pktexpect clean` (docs/cli.md).
 *
 * Ports inside a namespace are the library's "NETNS/IFNAME" ports (context.h):
 * the context opens their sockets in the namespace, so a test can use ports of
 * several namespaces (of the same interface name too) and an expectation can span
 * them. Sends push VLAN tags with px_send_opts; evidence is the context's
 * recording (px_ctx_record_into).
 *
 * Sources: run.c orchestrates; run_exec.c, run_topology.c, run_steps.c and
 * run_select.c do one job each, sharing runner/run_internal.h (which lists them).
 *
 * Thread-safety: px_run uses the calling thread plus the library's threads; run one
 * at a time per process (signals are process-wide).
 */
#ifndef PX_RUNNER_RUN_H
#define PX_RUNNER_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "report.h"
#include "scenario.h"

/** Exit codes of `pktexpect` (docs/cli.md). */
enum {
    PX_EXIT_PASS = 0,
    PX_EXIT_FAIL = 1,    /**< a test failed or was inconclusive */
    PX_EXIT_INVALID = 2, /**< the scenario or the command line is invalid */
    PX_EXIT_ENV = 3,     /**< environment unusable: privileges, topology, setup, interfaces */
    PX_RUN_INTERRUPTED = 130,
};

typedef struct px_run_opts {
    const char *const *filters;  /**< fnmatch(3) patterns on "suite/test" or "test": a test is */
    size_t nfilters;             /**< selected when it matches any of them; nfilters = 0: all */
    unsigned shard_k, shard_n;   /**< run tests i with i % n == k - 1 (1-based k); n = 0: all */
    double timeout_scale;        /**< multiplies every timeout; <= 0 -> 1 */
    const char *pcap_dir;        /**< keep per-test pcapng evidence of failed tests here (evidence_dir.h:
                                      created when missing, removed at the end if created and left empty) */
    bool keep_topology;
    bool verbose;                /**< print every step as it runs */
    bool tap;                    /**< TAP on `out` instead of the console format */
    bool color;                  /**< ANSI colours on the console */
    double deadline_s;           /**< global limit for the whole run; 0 = none */
    const volatile sig_atomic_t *stop; /**< set by a signal handler; may be NULL */
    FILE *out;                   /**< console or TAP stream (stdout) */
    FILE *err;                   /**< diagnostics (stderr) */
    const struct px_registry *registry; /**< predicate names of expect steps (--plugin); NULL: the
                                             built-ins. The scenarios must be loaded with the same
                                             (px_run_checkers_with) */
} px_run_opts;

/** The tests `o` selects, in run order: fills idx[] pairs (scenario, test) when
 *  not NULL and returns how many. */
size_t px_run_select(px_scenario *const *scns, size_t nscn, const px_run_opts *o, size_t (*idx)[2], size_t cap);

/** Runs the selected tests of `scns`. Returns an exit code (PX_EXIT_* or
 *  PX_RUN_INTERRUPTED). Results are appended to `rep`. PX_EXIT_ENV also when
 *  pcap_dir cannot be created, or when every test passed but the report stream
 *  (`out`) or evidence to keep could not be written (the reason on `err`). */
int px_run(px_scenario *const *scns, size_t nscn, const px_run_opts *o, px_report *rep);

/** The checkers of the library's parsers (expression language, frame text form). */
const px_scn_checkers *px_run_checkers(void);

/** The same checkers, with the predicate names of `reg` (NULL: the built-ins),
 *  written into *c; `reg` must outlive the loads that use *c. */
void px_run_checkers_with(px_scn_checkers *c, const struct px_registry *reg);

/** A parse error's message for the user (into out, `cap` bytes): an unknown
 *  predicate name also says that a plugin's names need --plugin. */
void px_run_expr_message(const char *message, char *out, size_t cap);

/** Runs one shell command (optionally in a namespace) with a timeout, capturing
 *  stdout and stderr together into `output` (at most 64 KiB kept). The command
 *  runs in its own process group; when it ends, times out or is interrupted, the
 *  whole group (background children included) gets SIGTERM, then SIGKILL 2 s
 *  later if still there. Returns the exit status (0..255), 128 + signal when
 *  killed, or a negative PX_E* (PX_ETIMEDOUT after the timeout, PX_ECANCELED when
 *  *stop was set or `cancel_fd` became readable; -1: none; it is polled, never
 *  read). */
int px_run_command(const char *cmd, const char *netns, uint32_t timeout_ms, const volatile sig_atomic_t *stop,
                   int cancel_fd, px_buf *output);

#endif
