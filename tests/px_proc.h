/* Helpers of pktexpect's own tests (not installed): run the built `pktexpect`
 * program as a child process, signal it, wait for it with a safety net; a
 * test's scratch directory.
 *
 * The program is $PX_BUILD_DIR/pktexpect (ctest sets PX_BUILD_DIR). Output goes
 * to a file the test reads back. Every wait has a generous safety net: a child
 * still running at it is killed with SIGKILL and reported, so a regression that
 * hangs fails the test instead of hanging it.
 */
#ifndef PX_PROC_H
#define PX_PROC_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Path of the built program (static buffer). */
static inline const char *px_proc_bin(void)
{
    static char path[4096];
    const char *bd = getenv("PX_BUILD_DIR");
    snprintf(path, sizeof path, "%s/pktexpect", bd && *bd ? bd : ".");
    return path;
}

/* A fresh temporary directory (static buffer per call site is the caller's). */
static inline bool px_proc_tmpdir(char out[256])
{
    const char *t = getenv("TMPDIR");
    snprintf(out, 256, "%s/pxproc-XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(out) != NULL;
}

/* A test's scratch directory (a fresh px_proc_tmpdir) with the names of its
 * usual files: DIR/s.yaml for a scenario, DIR/out.txt for a child's output. */
static inline bool px_proc_scratch(char dir[256], char scn[512], char out[512])
{
    if (!px_proc_tmpdir(dir))
        return false;
    snprintf(scn, 512, "%s/s.yaml", dir);
    snprintf(out, 512, "%s/out.txt", dir);
    return true;
}

/* Removes `dir` and everything in it; 0, or -1 when that failed. */
static inline int px_proc_rmtree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#define PX_PROC_ARGS_MAX 40

/* argv = {argv0, first, the rest of `ap` up to its NULL, NULL}, at most
 * PX_PROC_ARGS_MAX slots; returns argc. */
static inline int px_proc_argv(char *argv[PX_PROC_ARGS_MAX], const char *argv0, const char *first, va_list ap)
{
    int argc = 0;
    argv[argc++] = (char *)argv0;
    for (const char *a = first; a && argc < PX_PROC_ARGS_MAX - 1; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    argv[argc] = NULL;
    return argc;
}

/* Starts `pktexpect ARGS...` (NULL-terminated) with stdout and stderr into
 * `outfile` (truncated). Returns the pid, -1 on error. */
static inline pid_t px_proc_start(const char *outfile, const char *first, ...)
{
    char *argv[PX_PROC_ARGS_MAX];
    va_list ap;
    va_start(ap, first);
    px_proc_argv(argv, px_proc_bin(), first, ap);
    va_end(ap);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static inline double px_proc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for `pid` at most `safety_s` seconds. Returns its exit code, 128 + signal
 * when killed by one, or -1 when it was still running (then killed). */
static inline int px_proc_wait(pid_t pid, double safety_s)
{
    double end = px_proc_now() + safety_s;
    int st = 0;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return -2;
        if (px_proc_now() >= end) {
            fprintf(stderr, "px_proc_wait: pid %d still running after %.0f s: killed\n", (int)pid, safety_s);
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -3;
}

/* Runs `pktexpect ARGS...` to the end (safety net `safety_s`). */
#define px_proc_run(safety_s, outfile, ...) px_proc_wait(px_proc_start(outfile, __VA_ARGS__, (const char *)NULL), safety_s)

/* Waits at most `safety_s` for `path` to exist. */
static inline bool px_proc_wait_file(const char *path, double safety_s)
{
    double end = px_proc_now() + safety_s;
    struct stat sb;
    while (stat(path, &sb) != 0) {
        if (px_proc_now() >= end)
            return false;
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    return true;
}

/* The whole content of a file (static buffer, NUL-terminated). */
static inline const char *px_proc_slurp(const char *path)
{
    static char buf[1 << 16];
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return buf;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Writes `text` to `path`. */
static inline bool px_proc_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

/* Whether a child's exit code `rc` is `want`; when it is not, prints it with
 * the child's output (file `out`) for the failed assertion that follows. */
static inline bool px_proc_exited(int rc, int want, const char *out)
{
    if (rc == want)
        return true;
    fprintf(stderr, "exit %d (want %d), output:\n%s\n", rc, want, px_proc_slurp(out));
    return false;
}

/* Number of occurrences of `needle` in `hay`. */
static inline int px_proc_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

#endif
