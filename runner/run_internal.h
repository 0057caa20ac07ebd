/* pktexpect runner: what the modules of px_run share (internal: run.h is the
 * runner's interface, this header is for runner/run*.c only).
 *
 *   run.c           orchestration: the run's state (stop flag, deadline, cancel
 *                   descriptor), each scenario's topology then its tests, each
 *                   test's context and evidence, results to the reporters
 *   run_exec.c      child processes: px_run_command over px_cmd_run (pktexpect/command.h)
 *   run_topology.c  a scenario's topology: plan, build, undo, --keep-topology,
 *                   over the name locks and state file of topo_state.h
 *   run_steps.c     one test's ports and steps (send, expect, wait, sleep, exec, cli)
 *   run_verify.c    its verification steps (verify, verify_no_packet, no_other_packets)
 *   run_select.c    which tests run: filters and shards (px_run_select)
 *
 * Thread-safety: everything here runs on the thread that called px_run.
 */
#ifndef PX_RUNNER_RUN_INTERNAL_H
#define PX_RUNNER_RUN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "evidence_dir.h"
#include "pktexpect/buf.h"
#include "pktexpect/context.h"
#include "pktexpect/evidence.h"
#include "pktexpect/future.h"
#include "run.h"
#include "topo_state.h"

/* Every wait wakes at least this often to look at the stop flag and the clock. */
#define PX_RUN_POLL_MS 100
/* Longest library port name, "NETNS/IFNAME" (run_steps.c). */
#define PX_RUN_PORT_NAME_MAX 320
/* Ports of one expect step the runner arms (the loader allows no more). */
#define PX_RUN_EXPECT_PORTS_MAX 64
/* Timeout of a setup, teardown or exec command that gives none. */
#define PX_RUN_CMD_TIMEOUT_MS 60000

/* ---- the run (run.c) ---- */

typedef struct px__runstate {
    const px_run_opts *o;
    double t0;
    bool deadline_hit;
    bool env_error;
    px_evdir evdir;   /* --pcap-dir */
    bool io_error;    /* evidence to keep or the report stream could not be written */
    int out_errno;    /* first error writing o->out (0: none) */
    /* Readable once the run must stop: an epoll set of the signal's wake-up
     * descriptor (sig.h) and a timerfd of the deadline; -1 when neither exists. */
    int cancel_fd;
    int timer_fd; /* the deadline's timerfd, -1: none (epoll drops what is closed) */
} px__runstate;

/** Seconds on CLOCK_MONOTONIC. */
double px__run_now(void);
/** True when the run must stop now (signal or global deadline). */
bool px__run_must_stop(px__runstate *R);
/** Why the run stops, for messages (call after px__run_must_stop returned true). */
const char *px__run_stop_reason(const px__runstate *R);
/** `ms` multiplied by --timeout-scale, within 1 ms .. 10 days. */
uint32_t px__run_scaled(const px_run_opts *o, uint32_t ms);
/** Sleeps up to ms, waking to check the stop conditions. False if interrupted. */
bool px__run_nap(px__runstate *R, uint32_t ms);
/** A progress line on the console (on `err` as a TAP comment with --tap). */
void px__run_say(const px_run_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- a scenario's topology (run_topology.c) ---- */

typedef enum undo_kind { UNDO_NETNS, UNDO_LINK } undo_kind;
typedef struct undo {
    undo_kind kind;
    const char *netns, *name;
} undo;

typedef struct px__topo {
    undo *items;
    size_t n;
    px_tstate *state; /* the run's state file and name locks (topo_state.h) */
} px__topo;

/** Builds the topology of `s`, recording each item in `t` as it is made; on error
 *  returns the PX code with the reason in `why` (what was made stays in `t`). */
int px__topo_build(const px_scenario *s, px__topo *t, px__runstate *R, px_buf *why);
/** Runs the teardown commands, then removes what `t` holds, links first, newest
 *  first. Returns true when every item was removed. Empties `t`. */
bool px__topo_teardown(const px_scenario *s, px__topo *t, px__runstate *R);
/** Says what --keep-topology leaves. Empties `t`. */
void px__topo_keep(const px_scenario *s, px__topo *t, const px_run_opts *o);

/* ---- one test (run_steps.c) ---- */

/* The summary of what a port saw, for the report: a predicate armed on every
 * port of a test that keeps the text form of the first few frames and counts
 * them. (The evidence file is the context's: px_ctx_record_into.) */
typedef struct recorder {
    const char *port;  /* scenario port name (owned by the scenario) */
    px_buf summary;
    unsigned nsummary;
    uint64_t frames;
} recorder;

/* One armed expectation. An `each:` step arms one per port, contiguous in
 * px__test_run.arm: the first holds their number in `members` (the others 0)
 * and waiting it waits and reports them all, as one step. */
typedef struct px__armed {
    px_future *f;
    const px_step *step;
    bool waited;
    size_t members;   /* 1, or the number of futures of an each: step (0: a later one of them) */
    const char *port; /* each: this future's port (scenario name, owned by the scenario); else NULL */
} px__armed;

typedef struct px__test_run {
    px__runstate *R;
    const px_scenario *s;
    const px_scn_test *t;
    px_ctx *ctx;
    px_evidence *ev; /* --pcap-dir: the context records into it (NULL: none) */
    recorder *recs;
    px_future **rec_futs;
    size_t nrecs;
    px__armed *arm;
    size_t narm;
    px_buf output;   /* system-out */
    px_buf details;  /* failure reports */
    px_buf message;  /* first problem, one line */
    px_buf src_notes; /* sent frames with a zero or multicast source MAC: told on FAIL */
    px_tstatus status;
} px__test_run;

/** Records a problem: the first one (an ERROR replacing a FAIL) sets the status
 *  and the one-line message. */
void px__test_problem(px__test_run *T, px_tstatus st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** The ports the steps of `t` use, each once, at most `cap`. Returns how many. */
size_t px__test_ports(const px_scn_test *t, const char **out, size_t cap);
/** Opens the test's ports and arms a summary recorder on each (T->recs, T->rec_futs: np
 *  entries allocated by the caller). 0, or a PX_E* after px__test_problem. */
int px__test_open_ports(px__test_run *T, const char *const *ports, size_t np);
/** The library's name of a scenario port: "IFNAME", or "NETNS/IFNAME" for an
 *  interface inside a namespace (context.h), written into *out. */
typedef struct port_name {
    char s[PX_RUN_PORT_NAME_MAX];
} port_name;
const char *px__test_lib_port(px__test_run *T, const char *scn_port, port_name *out);
/** Keeps an armed future for the end of the test (taken: freed on failure);
 *  members/port as px__armed's. False after px__test_problem. */
bool px__test_keep_armed(px__test_run *T, const px_step *st, px_future *fut, size_t members, const char *port);
/** Runs a verify, verify_no_packet or no_other_packets step (run_verify.c). */
void px__test_verify_step(px__test_run *T, const px_step *st);
/** Whether the test has verification steps (they look back from a mark taken
 *  on every port of the test when it starts: px__test_verify_begin). */
bool px__test_verifies(const px_scn_test *t);
/** Takes the test's verification mark on its ports; 0 or PX_E* after px__test_problem. */
int px__test_verify_begin(px__test_run *T, const char *const *ports, size_t np);
/** How reports name a verification step (verify, verify_no_packet,
 *  no_other_packets), in the words of the step rather than as an expect step,
 *  appended to `out`:
 *    verify p2: Ether(...)/IPv4(...), set=[ipv4.ttl-=1] within 2s
 *    verify any of p1, p2: ... within 2s      (each: "each of p1, p2")
 *    verify_no_packet p3 within 100ms         (no frame: no frame at all)
 *    no_other_packets on p1, p2 (except p4) within 100ms
 *  `tports` are the test's ports (px__test_ports; no_other_packets checks them
 *  less its `except`), `port` one port of an `each:` step (NULL: the step's),
 *  `timeout_ms` the step's window as armed. A step with a `name:` is named by
 *  it ("verify routed", "verify routed on p2"); `long_form` adds what it checks
 *  in parentheses ("verify routed (p2: ... within 2s)"). Pure: no state. */
void px__verify_head(const px_step *st, const char *const *tports, size_t ntports, const char *port,
                     uint32_t timeout_ms, bool long_form, px_buf *out);
/** px__verify_head for a step of T's test: its ports, its timeout as armed
 *  (the context's default when the step gives none, scaled). */
void px__test_verify_head(const px__test_run *T, const px_step *st, const char *port, bool long_form, px_buf *out);
/** Runs one step. */
void px__test_step(px__test_run *T, const px_step *st);
/** Waits for one armed expectation (polling the stop conditions) and reports it. */
void px__test_wait_one(px__test_run *T, px__armed *a);

#endif
