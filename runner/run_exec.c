/* pktexpect runner: child processes of setup, teardown and exec (px_run_command,
 * run.h): a process group per command, its output, its timeout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run_internal.h"

#define CMD_KILL_GRACE_S 2.0 /* SIGTERM, then SIGKILL after this */
#define OUTPUT_MAX (64 * 1024)

/* In a forked child before exec: makes `target` a copy of `fd` that the exec'd
 * program inherits (dup2 clears close-on-exec; when fd already is target, dup2
 * does nothing, so clear the flag by hand). Async-signal-safe. */
static void dup_to(int fd, int target)
{
    if (fd == target)
        fcntl(target, F_SETFD, 0);
    else
        dup2(fd, target);
}

/* Seconds on CLOCK_MONOTONIC. */
static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True while process group `pgid` has a member (a zombie counts until reaped). */
static bool group_alive(pid_t pgid)
{
    return kill(-pgid, 0) == 0 || errno == EPERM;
}

int px_run_command(const char *cmd, const char *netns, uint32_t timeout_ms, const volatile sig_atomic_t *stop,
                   int cancel_fd, px_buf *output)
{
    char nspath[300] = "";
    if (netns)
        snprintf(nspath, sizeof nspath, "/run/netns/%s", netns);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        px_buf_printf(output, "pipe: %s\n", strerror(errno));
        return PX_ESYS;
    }
    /* Background processes of a command whose shell has exited are orphans: while
     * the command runs, become their parent (instead of init), so they are reaped
     * here as soon as the group is ended and group_alive() does not see their
     * zombies. Daemons that left the group (setsid, e.g. `ovs-vswitchd --detach`
     * in a setup command) are not signalled; they stay our children until they
     * exit (then zombies until the runner exits, which tools treat as gone). */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    pid_t pid = fork();
    if (pid < 0) {
        px_buf_printf(output, "fork: %s\n", strerror(errno));
        prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        close(pfd[0]);
        close(pfd[1]);
        return PX_ESYS;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. Its own process group, so
         * that everything it starts (even in the background) can be ended at once;
         * the default dispositions of SIGINT / SIGTERM, not the runner's handlers. */
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        if (netns) {
            int fd = open(nspath, O_RDONLY | O_CLOEXEC);
            if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
                static const char m[] = "pktexpect: cannot enter the namespace\n";
                if (write(pfd[1], m, sizeof m - 1) < 0)
                    _exit(126);
                _exit(126);
            }
        }
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull >= 0)
            dup_to(devnull, 0);
        dup_to(pfd[1], 1);
        dup_to(pfd[1], 2);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    /* Also here: kill(-pid) must find the group even if the child has not run yet. */
    setpgid(pid, pid);
    close(pfd[1]);
    const double start = mono_s();
    const double limit = (timeout_ms ? timeout_ms : PX_RUN_CMD_TIMEOUT_MS) / 1000.0;
    int result = 0;
    bool eof = false, reaped = false, ended = false, background = false;
    double kill_at = 0; /* when `ended`: the time to send SIGKILL */
    int status = 0, wst = 0;
    /* Until the shell has exited, the output is read to EOF, and no process of the
     * group is left. Waits sleep in poll on the output and the cancel descriptor;
     * without a descriptor (or once the output is closed) they wake every PX_RUN_POLL_MS
     * to look at the flag, the child and the clock. */
    for (;;) {
        /* Reap the shell and whatever of its group was orphaned to us. */
        for (pid_t w; (w = waitpid(-pid, &wst, WNOHANG)) > 0;) {
            if (w == pid) {
                status = wst;
                reaped = true;
            }
        }
        bool alive = group_alive(pid);
        if (reaped && eof && !alive)
            break;
        double el = mono_s() - start;
        bool cancelled = false;
        if (cancel_fd >= 0) {
            struct pollfd c = {cancel_fd, POLLIN, 0};
            cancelled = poll(&c, 1, 0) > 0;
        }
        bool stop_now = (stop && *stop) || cancelled;
        if (!ended && (stop_now || el >= limit || reaped)) {
            /* The step is over (done, timed out or interrupted): end the group,
             * background children included; SIGKILL after a short grace. */
            if (!reaped)
                result = stop_now ? PX_ECANCELED : PX_ETIMEDOUT;
            else if (alive)
                background = true;
            if (alive)
                kill(-pid, SIGTERM);
            ended = true;
            kill_at = el + CMD_KILL_GRACE_S;
            continue;
        }
        if (ended && el >= kill_at) {
            if (alive)
                kill(-pid, SIGKILL);
            if (!reaped) {
                waitpid(pid, &status, 0); /* SIGKILL cannot be ignored */
                reaped = true;
            }
            if (el >= kill_at + CMD_KILL_GRACE_S)
                eof = true; /* something outside the group holds the pipe: stop reading */
        }
        struct pollfd p[2] = {{eof ? -1 : pfd[0], POLLIN, 0}, {ended ? -1 : cancel_fd, POLLIN, 0}};
        int n = poll(p, 2, ended ? 20 : PX_RUN_POLL_MS);
        if (n > 0 && !eof && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[4096];
            ssize_t r = read(pfd[0], buf, sizeof buf);
            if (r > 0) {
                if (output->len < OUTPUT_MAX)
                    px_buf_append_n(output, buf, (size_t)r);
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                eof = true;
            }
        }
    }
    close(pfd[0]);
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    if (background)
        px_buf_append(output, "pktexpect: ended the processes the command left running in the background\n");
    if (result)
        return result;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return PX_ESYS;
}
