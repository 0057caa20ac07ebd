/* pktexpect: the scenario runner as a library (libpktexpect-runner).
 *
 * What `pktexpect run` and `--plugin` do, callable from C:
 *
 *  - px_plugins_*: load predicate plugins (pktexpect/plugin.h) into a registry;
 *  - px_scenario_run_file: run a YAML scenario file (docs/scenarios.md) with
 *    the caller's registry, so a C test suite can drive scenarios that use its
 *    own predicates (docs/c-api.md, "Running a scenario from C").
 *
 * Link with `pkg-config --libs pktexpect-runner` (which brings libpktexpect for
 * the registry and the predicates). The runner library carries its own copy of
 * the library's internals, hidden; what crosses between the two (registries,
 * predicates a factory makes) must come from the same pktexpect version, which
 * the pkg-config file pins.
 *
 * Ownership and thread-safety are given per function below.
 */
#ifndef PKTEXPECT_RUNNER_H
#define PKTEXPECT_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "expr.h"
#include "predicate.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/* ---------------------------------------------------------------- plugins */

/** Plugins loaded into one registry (opaque). A set and its registry are used
 *  by one thread at a time while plugins are loaded; afterwards the registry
 *  may be read from several (pktexpect/expr.h). */
typedef struct px_plugins px_plugins;

/** A set that loads plugins into `reg` (not owned; it must outlive the set's
 *  use, and the set must outlive every use of `reg`: the names point into the
 *  plugins' memory). Caller frees with px_plugins_free. NULL when out of memory. */
px_plugins *px_plugins_new(px_registry *reg);

/** dlopen()s the shared object `path` (a name without '/' is searched as
 *  dlopen(3) searches; write ./libmine.so for the current directory), checks
 *  its px_plugin_abi, calls its px_plugin_init and adds the names it registered
 *  to the set's registry. Returns 0, or with a one-line reason in errbuf
 *  (PX_ERRBUF_SIZE bytes) that starts with "plugin 'PATH': ":
 *    PX_EIO     the file does not exist or cannot be read;
 *    PX_EFORMAT dlopen failed (not a shared object, a missing dependency: the
 *               dlerror text) or a symbol of plugin.h is missing;
 *    PX_ENOTSUP the plugin was built for another PX_PLUGIN_ABI;
 *    PX_EEXIST  a name clashes with one already in the registry (a built-in,
 *               another plugin's, or the caller's own);
 *    the code px_plugin_init returned (its errbuf), PX_ENOMEM.
 *  On any error nothing of the plugin stays in the registry and it is unloaded.
 *  Needs exclusive access to the set and its registry. */
int px_plugins_load(px_plugins *pl, const char *path, char *errbuf);

/** Number of plugins loaded. */
size_t px_plugins_count(const px_plugins *pl);

/** Unloads every plugin. Free (or stop using) the registry first: its names
 *  and factories point into the plugins. NULL is a no-op. */
void px_plugins_free(px_plugins *pl);

/* ---------------------------------------------------------------- scenarios */

/** How px_scenario_run_file runs a file. Zero-initialise, then set what you need. */
typedef struct px_scenario_opts {
    const px_registry *registry;   /**< predicate names; NULL: the built-ins only. Read, not owned */
    const char *const *filters;    /**< fnmatch(3) patterns on "scenario/test" or "test", like */
    size_t nfilters;               /**< `run --filter`; a test runs if it matches any; 0: all */
    const char *const *vars;       /**< "NAME=VALUE" scenario variables, like `--var` */
    size_t nvars;
    FILE *report;                  /**< console report and diagnostics; NULL: quiet */
    double timeout_scale;          /**< multiplies every timeout; <= 0: 1 */
} px_scenario_opts;

/** One test that ran (or was skipped). */
typedef struct px_scenario_test {
    char *name;                    /**< "scenario/test" (owned by the result) */
    px_verdict verdict;            /**< PX_PASS, PX_FAIL, PX_ERROR; PX_PENDING: skipped */
    char *message;                 /**< one line: why it failed or was skipped; NULL when passed */
} px_scenario_test;

typedef struct px_scenario_result {
    size_t passed, failed, errored, skipped;
    px_scenario_test *tests;       /**< in run order (owned; px_scenario_result_free) */
    size_t ntests;
    int exit_code;                 /**< what `pktexpect run` would exit with (docs/cli.md) */
} px_scenario_result;

/** Loads the scenario file `path` (validated with opts->registry, as `pktexpect
 *  validate` does), builds its topology, runs the selected tests, tears the
 *  topology down and fills *res (caller frees with px_scenario_result_free;
 *  zeroed first). `opts` may be NULL (built-ins, all tests, quiet).
 *  Returns 0 when the file ran, whatever the verdicts (look at res), or:
 *    PX_EPARSE  the scenario is invalid: errbuf has the first "FILE:LINE:COL:
 *               message" (the report stream, when set, gets all of them);
 *    PX_EIO     the file cannot be read;
 *    PX_EINVAL  a variable is not NAME=VALUE, or a filter matches no test;
 *    PX_ENOMEM.
 *  A topology that cannot be built (e.g. no privileges) is not an error of this
 *  call: its tests are ERROR in res and exit_code is 3.
 *  Thread-safety: one call at a time per process (topology names and locks are
 *  per machine); the registry must not be modified during the call. */
int px_scenario_run_file(const char *path, const px_scenario_opts *opts, px_scenario_result *res, char *errbuf);

/** Frees what *res holds and zeroes it. NULL is a no-op. */
void px_scenario_result_free(px_scenario_result *res);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
