/* pktexpect runner: what a run's topology holds, so that concurrent runs cannot
 * collide and a dead run's leftovers can be removed (`pktexpect clean`).
 *
 * Why a lock and not run-unique names: scenarios name their interfaces and
 * namespaces, and not only in expect/send steps: setup, teardown and exec
 * commands are shell text (`ip netns exec sw ...`, OVS flows, routes) that no
 * renaming can follow, and IFNAMSIZ (15 characters) leaves no room for a unique
 * part. So the names stay as written and a run locks them.
 *
 * Under the state directory (/run/pktexpect, or $PKTEXPECT_STATE_DIR):
 *   lock/netns-NAME, lock/link-NAME   one file per name a topology creates (every
 *       namespace; every veth end, which is created in the runner's namespace;
 *       every bridge of the runner's namespace). A run holds an flock(2) on each
 *       for its life and writes its pid in it. flock ends with the process (even
 *       on SIGKILL), so a lock is never stale: a held lock is a live run.
 *   run-PID.state   what run PID created, one line per item, written right after
 *       the item is made: "netns NAME" or "link NETNS NAME" ("-": the runner's
 *       namespace). The run holds an flock on it too, and removes the file once it
 *       has torn its topology down; --keep-topology leaves it, so `pktexpect clean`
 *       also removes a kept topology.
 *
 * px_tstate_clean removes the items of every state file whose run is dead (its
 * flock is free and its pid does not exist), links first, then namespaces, never
 * an item whose name lock another live run holds, then the file. It never looks
 * at names that no state file lists.
 *
 * Thread-safety: one px_tstate per run, used by one thread.
 */
#ifndef PX_RUNNER_TOPO_STATE_H
#define PX_RUNNER_TOPO_STATE_H

#include <stdbool.h>
#include <stdio.h>

#include "pktexpect/buf.h"
#include "scenario.h"

typedef struct px_tstate px_tstate;

/** The state directory: $PKTEXPECT_STATE_DIR, else /run/pktexpect. */
const char *px_tstate_dir(void);

/** Locks every name the topology of `s` creates and starts its state file.
 *  0 with *out (NULL when the scenario creates nothing); PX_EEXIST when another
 *  live run holds a name (the reason, with its pid, in `why`); another PX_E* when
 *  the state directory cannot be used (`why` says so). */
int px_tstate_begin(const px_scenario *s, px_tstate **out, px_buf *why);

/** Records an item just created: a namespace `name` (is_link false), or a link
 *  `name` in namespace `link_netns` (NULL: the runner's namespace). */
void px_tstate_add(px_tstate *t, bool is_link, const char *link_netns, const char *name);

/** Ends the run's hold: removes the state file when `torn_down`, releases the
 *  locks, frees `t`. NULL is a no-op. */
void px_tstate_end(px_tstate *t, bool torn_down);

/** `pktexpect clean`: removes what dead runs left (see above), saying what on
 *  `out`, problems on `err`. `dry_run`: only says. Returns 0, or 1 when something
 *  could not be removed. */
int px_tstate_clean(FILE *out, FILE *err, bool dry_run);

#endif
