/* Helpers shared by the benchmarks in bench/ (not part of the library).
 *
 * Every benchmark prints a human table on stdout and appends one JSON line per
 * figure to <results>/<bench>.json, where <results> is $PX_BENCH_RESULTS or the
 * bench/results directory of the source tree. A figure is a set of repeated
 * measurements summarised as median, min and max.
 *
 * Interfaces: veth pairs named "pxk<pid%100000><a|b><i>", created here and
 * removed by the benchmark on every path (scripts/bench.sh also removes the
 * leftovers of a killed run).
 *
 * Thread-safety: none needed; the benchmarks call these from their main thread.
 */
#ifndef PXB_UTIL_H
#define PXB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "pktexpect/pktexpect.h"
#include "pktexpect/send.h"
#include "pktexpect/topology.h"

/* ---- time and CPU ---- */

/** CLOCK_MONOTONIC in nanoseconds. */
uint64_t pxb_now_ns(void);
/** Sleeps `us` microseconds. */
void pxb_sleep_us(uint64_t us);
/** User + system CPU seconds of a struct rusage. */
double pxb_cpu_s(const struct rusage *ru);
/** CPU seconds of the whole process / of the calling thread so far. */
double pxb_cpu_self(void);
double pxb_cpu_thread(void);
/** Resident set size of this process in KiB (from /proc/self/status), 0 if unknown. */
uint64_t pxb_rss_kib(void);

/* ---- statistics ---- */

typedef struct pxb_summary {
    double median, min, max;
    size_t n;
} pxb_summary;

/** Median, min and max of n values (v is not modified). */
pxb_summary pxb_summarize(const double *v, size_t n);
/** Sorts v in place (ascending). */
void pxb_sort(double *v, size_t n);
/** The p-th percentile (0..100, nearest rank) of n sorted values. */
double pxb_percentile(const double *sorted, size_t n, double p);

/* ---- output ---- */

typedef struct pxb_out {
    FILE *json;       /**< results/<bench>.json, append mode (NULL: none) */
    char bench[32];
    char stamp[32];   /**< run start, UTC, ISO 8601: groups the lines of one run */
} pxb_out;

/** Opens results/<bench>.json and prints the table header. Returns 0 or -1. */
int pxb_out_open(pxb_out *o, const char *bench);
void pxb_out_close(pxb_out *o);
/** Summarises v[0..n) and writes one table row and one JSON line.
 *  `params` is a JSON fragment without braces ("\"tool\":\"tcpdump\",\"k\":16") or "". */
pxb_summary pxb_figure(pxb_out *o, const char *figure, const char *params, const char *unit, const double *v,
                       size_t n);
/** A free-form note printed in the table and stored as {"note": ...}. */
void pxb_note(pxb_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Directory of the bench sources (for the scapy peer): $PX_BENCH_DIR or the build-time one. */
const char *pxb_bench_dir(void);
/** The Python interpreter that has scapy: $PX_PYTHON or "python3". */
const char *pxb_python(void);

/* ---- interfaces ---- */

/** Fills a/b with the names of veth pair `i` of this process. */
void pxb_veth_names(int i, char a[16], char b[16]);
/** Creates veth pair i (removing a leftover first), disables IPv6 on both ends (no
 *  router solicitations or MLD reports in the counts). 0 or a PX_E* with errbuf. */
int pxb_veth_create(int i, char a[16], char b[16], char *errbuf);
/** Removes the pair (deleting one end removes both). */
void pxb_veth_delete(const char *a);

/* ---- frames ---- */

/** Builds the benchmark's 64-byte Ethernet/IPv4/UDP frame with the given source
 *  port and destination port into out[64]. */
void pxb_frame64(uint8_t out[64], uint16_t sport, uint16_t dport);

/** Sends `count` copies of the frames (round robin) on `port` of `ctx` as fast as
 *  px_send_burst allows (rate_fps <= 0) or paced with px_send_paced. Returns 0 or a
 *  PX_E*; *sent and *elapsed_ns say what happened. */
int pxb_blast(px_ctx *ctx, const char *port, const uint8_t (*frames)[64], size_t nframes, uint64_t count,
              double rate_fps, uint64_t *sent, uint64_t *elapsed_ns, char *errbuf);

/* ---- child processes (tcpdump, the scapy peer) ---- */

typedef struct pxb_child {
    pid_t pid;
    int fd;           /**< its stdout and stderr, merged */
    char buf[8192];
    size_t len;
    struct rusage ru; /**< filled by pxb_child_wait */
    int status;
} pxb_child;

/** Starts argv[0] (PATH lookup) with stdout+stderr piped to c->fd. 0 or -1. */
int pxb_child_start(pxb_child *c, char *const argv[]);
/** Reads one line (without the newline) into line; 1 = a line, 0 = timeout, -1 = EOF. */
int pxb_child_readline(pxb_child *c, char *line, size_t size, int timeout_ms);
/** Reads lines until one contains `needle` (copied to line if not NULL); true if found. */
bool pxb_child_expect(pxb_child *c, const char *needle, char *line, size_t size, int timeout_ms);
/** Sends `sig`, then waits for the exit (SIGKILL after `grace_ms`); fills c->ru. */
void pxb_child_stop(pxb_child *c, int sig, int grace_ms);
/** Kills the child if still running and closes its pipe. */
void pxb_child_close(pxb_child *c);

#endif
