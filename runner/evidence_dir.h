/* pktexpect runner: the evidence directory of `run --pcap-dir DIR`.
 *
 * Every test with ports gets its own new pcapng file in DIR, named
 *   SCENARIO-TEST-HASH.pcapng
 * where SCENARIO-TEST is the scenario and test names with every character other
 * than a letter, a digit, '-', '_' or '.' replaced by '_' and cut to
 * PX_EVDIR_PREFIX_MAX bytes, and HASH is 8 hex digits (FNV-1a, 32 bits) of the
 * exact names, so names that differ only in punctuation or past the cut get
 * different files and every name stays well under NAME_MAX. A file is created
 * with O_CREAT | O_EXCL | O_NOFOLLOW: an existing file or link of that name
 * (an earlier run, or a link planted in a shared directory) is never opened or
 * overwritten; "-2", "-3", ... is appended to the stem instead.
 *
 * DIR is created (mode 0755) when missing, and removed at the end when this run
 * created it and left nothing in it (every test passed).
 *
 * Ownership: px_evdir_open fills a caller-owned struct that px_evdir_close
 * releases. Thread-safety: none; the runner's thread only.
 */
#ifndef PX_RUNNER_EVIDENCE_DIR_H
#define PX_RUNNER_EVIDENCE_DIR_H

#include <stdbool.h>

#include "pktexpect/buf.h"
#include "pktexpect/evidence.h"

/** Longest sanitized SCENARIO-TEST stem kept in a file name. */
#define PX_EVDIR_PREFIX_MAX 100

typedef struct px_evdir {
    char *dir;    /**< owned copy of DIR */
    bool created; /**< this run created DIR */
} px_evdir;

/** Creates DIR when missing. Returns 0, or a negative PX_E* with the reason in
 *  `err` (DIR exists but is not a directory, cannot be created). */
int px_evdir_open(px_evdir *d, const char *dir, px_buf *err);

/** The file name (no directory, no collision suffix) of a test's evidence,
 *  e.g. "demo-x_y-1a2b3c4d.pcapng". Caller frees; NULL when out of memory. */
char *px_evdir_name(const char *suite, const char *test);

/** Creates a new evidence file for the test and starts a recorder on it.
 *  Returns 0 with *ev and *path (caller frees) set, or a negative PX_E* with the
 *  reason in `err`. */
int px_evdir_create(const px_evdir *d, const char *suite, const char *test, px_evidence **ev, char **path,
                    px_buf *err);

/** Removes DIR if this run created it and it is empty; frees the struct's
 *  contents. Safe on a zeroed struct. */
void px_evdir_close(px_evdir *d);

#endif
