/* Helpers of pktexpect's own tests (not installed): run the command line
 * in-process, `cli("run", "x.yaml", NULL)`, with its stdout and stderr
 * captured into out_text and err_text (through temporary files), and name
 * files of the source tree, `path("examples/demo.yaml")`.
 *
 * px_cli_run_into runs any command's entry point with its output redirected.
 *
 * For one test program's use: the captured text is in static buffers, and
 * stdout / stderr are redirected during a call (no other thread may print).
 */
#ifndef PX_CLI_H
#define PX_CLI_H

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "px_proc.h"
#include "px_src.h"

static char out_text[65536], err_text[65536];

static inline void px_cli_read_back(FILE *f, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!f)
        return;
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* A command's entry point: px_cli_main, px_cli_check, ... */
typedef int (*px_cli_fn)(int argc, char **argv, const volatile sig_atomic_t *stop);

/* Runs fn(argc, argv, stop) with its stdout into descriptor `fo` and its
 * stderr into `fe` (both left open); returns what fn returned. */
static inline int px_cli_run_into(px_cli_fn fn, int argc, char **argv, const volatile sig_atomic_t *stop, int fo,
                                  int fe)
{
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    dup2(fo, 1);
    dup2(fe, 2);
    int rc = fn(argc, argv, stop);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    return rc;
}

/* Runs `pktexpect ARGS...` (NULL-terminated) in-process; returns the exit code. */
static inline int cli(const char *first, ...)
{
    char *argv[PX_PROC_ARGS_MAX];
    va_list ap;
    va_start(ap, first);
    int argc = px_proc_argv(argv, "pktexpect", first, ap);
    va_end(ap);
    FILE *fo = tmpfile(), *fe = tmpfile();
    if (!fo || !fe) {
        fprintf(stderr, "cli: no temporary file\n");
        px_cli_read_back(fo, out_text, sizeof out_text);
        px_cli_read_back(fe, err_text, sizeof err_text);
        return -1;
    }
    int rc = px_cli_run_into(px_cli_main, argc, argv, NULL, fileno(fo), fileno(fe));
    px_cli_read_back(fo, out_text, sizeof out_text);
    px_cli_read_back(fe, err_text, sizeof err_text);
    return rc;
}

/* A file of the source tree (px_src_path). */
static inline const char *path(const char *rel)
{
    return px_src_path(rel);
}

#endif
