/* pktexpect: child processes (pktexpect/command.h): a process group per
 * command, its input, its output, its timeout; and control-plane batches whose
 * output is checked for error lines (px_ctl_run). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pktexpect/command.h"

#define CMD_KILL_GRACE_S 2.0 /* SIGTERM, then SIGKILL after this */
#define POLL_MS 100         /* every wait wakes this often to look at the flag */
#define WAIT_OK_INTERVAL_MS 100 /* px_cmd_wait_ok: pause between tries */

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

/* Runs `cmd` with /bin/sh -c, or argv[0] (searched in PATH) with `argv` when
 * cmd is NULL: px_cmd_run and px_cmd_runv. */
static int run_child(const char *cmd, char *const argv[], const px_cmd_opts *o, px_buf *output)
{
    static const px_cmd_opts none = {.cancel_fd = -1};
    if (!o)
        o = &none;
    const char *netns = o->netns;
    const volatile sig_atomic_t *stop = o->stop;
    int cancel_fd = o->cancel_fd;
    uint32_t timeout_ms = o->timeout_ms;
    char nspath[300] = "";
    if (netns)
        snprintf(nspath, sizeof nspath, "/run/netns/%s", netns);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        px_buf_printf(output, "pipe: %s\n", strerror(errno));
        return PX_ESYS;
    }
    /* The input goes through a socket, not a pipe: send(MSG_NOSIGNAL) gets EPIPE
     * instead of killing the caller with SIGPIPE when the command exits without
     * reading all of it. */
    int ifd[2] = {-1, -1};
    if (o->input && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ifd) < 0) {
        px_buf_printf(output, "socketpair: %s\n", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
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
        if (ifd[0] >= 0) {
            close(ifd[0]);
            close(ifd[1]);
        }
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
        if (ifd[1] >= 0) {
            dup_to(ifd[1], 0);
        } else {
            int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (devnull >= 0)
                dup_to(devnull, 0);
        }
        dup_to(pfd[1], 1);
        dup_to(pfd[1], 2);
        if (cmd) {
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        } else {
            execvp(argv[0], argv);
            /* Said on the output, since nobody sees the child's errno. */
            static const char m[] = "pktexpect: cannot run ";
            size_t n = 0;
            while (argv[0][n])
                n++;
            if (write(1, m, sizeof m - 1) < 0 || write(1, argv[0], n) < 0 || write(1, "\n", 1) < 0)
                _exit(127);
        }
        _exit(127);
    }
    /* Also here: kill(-pid) must find the group even if the child has not run yet. */
    setpgid(pid, pid);
    close(pfd[1]);
    int in_fd = ifd[0]; /* -1 once all the input is written (or refused) */
    size_t in_off = 0;
    if (ifd[1] >= 0)
        close(ifd[1]);
    const double start = mono_s();
    const double limit = (timeout_ms ? timeout_ms : PX_CMD_TIMEOUT_MS) / 1000.0;
    int result = 0;
    bool eof = false, reaped = false, ended = false, background = false;
    double kill_at = 0; /* when `ended`: the time to send SIGKILL */
    int status = 0, wst = 0;
    /* Until the shell has exited, the output is read to EOF, and no process of the
     * group is left. Waits sleep in poll on the output and the cancel descriptor;
     * without a descriptor (or once the output is closed) they wake every POLL_MS
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
            if (in_fd >= 0) {
                close(in_fd);
                in_fd = -1;
            }
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
        struct pollfd p[3] = {
            {eof ? -1 : pfd[0], POLLIN, 0}, {ended ? -1 : cancel_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
        int n = poll(p, 3, ended ? 20 : POLL_MS);
        if (n > 0 && in_fd >= 0 && (p[2].revents & (POLLOUT | POLLHUP | POLLERR))) {
            /* Fed while the output is read, so a CLI that answers each command
             * never blocks on a full output pipe while we block on its input. */
            ssize_t w = in_off < o->input_len
                            ? send(in_fd, o->input + in_off, o->input_len - in_off, MSG_NOSIGNAL | MSG_DONTWAIT)
                            : 0;
            if (w > 0)
                in_off += (size_t)w;
            if (in_off >= o->input_len || (w < 0 && errno != EAGAIN && errno != EINTR)) {
                close(in_fd); /* end of input (EOF for the command), or it stopped reading */
                in_fd = -1;
            }
        }
        if (n > 0 && !eof && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[4096];
            ssize_t r = read(pfd[0], buf, sizeof buf);
            if (r > 0) {
                if (output->len < PX_CMD_OUTPUT_MAX)
                    px_buf_append_n(output, buf, (size_t)r);
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                eof = true;
            }
        }
    }
    close(pfd[0]);
    if (in_fd >= 0)
        close(in_fd);
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

int px_cmd_run(const char *cmd, const px_cmd_opts *o, px_buf *output)
{
    return run_child(cmd, NULL, o, output);
}

int px_cmd_runv(char *const argv[], const px_cmd_opts *o, px_buf *output)
{
    if (!argv || !argv[0] || !output)
        return PX_EINVAL;
    return run_child(NULL, argv, o, output);
}

/* The last non-empty line of `out` (cut to fit `cap`), or "" when none. */
static void last_line(const px_buf *out, char *line, size_t cap)
{
    const char *s = out->len ? px_buf_cstr(out) : "";
    size_t end = out->len;
    while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r'))
        end--;
    size_t start = end;
    while (start > 0 && s[start - 1] != '\n')
        start--;
    snprintf(line, cap, "%.*s", (int)(end - start), s + start);
}

int px_cmd_wait_ok(const char *cmd, const px_cmd_opts *o, uint32_t timeout_ms, char *errbuf)
{
    if (errbuf)
        errbuf[0] = '\0';
    if (!cmd)
        return PX_EINVAL;
    if (!timeout_ms)
        timeout_ms = PX_CMD_TIMEOUT_MS;
    px_cmd_opts each = o ? *o : (px_cmd_opts){.cancel_fd = -1};
    const double start = mono_s();
    /* What the last try that ran to its end said: the last try may be cut short
     * by the end of the wait (on a loaded machine even a quick command). */
    int done_rc = PX_ETIMEDOUT;
    char done_line[200] = "";
    for (int tries = 1;; tries++) {
        /* No single try outlives the whole wait (a command that hangs). */
        double left_ms = timeout_ms - (mono_s() - start) * 1000.0;
        uint32_t cap = left_ms > 1 ? (uint32_t)left_ms : 1;
        if (!o || !o->timeout_ms || o->timeout_ms > cap)
            each.timeout_ms = cap;
        px_buf out = PX_BUF_INIT;
        int rc = run_child(cmd, NULL, &each, &out);
        if (rc == 0) {
            px_buf_free(&out);
            return 0;
        }
        if (rc == PX_ECANCELED || rc == PX_ESYS) {
            if (errbuf)
                snprintf(errbuf, PX_ERRBUF_SIZE, "'%s': %s", cmd, rc == PX_ESYS ? px_buf_cstr(&out) : "cancelled");
            px_buf_free(&out);
            return rc;
        }
        if (rc != PX_ETIMEDOUT || done_rc == PX_ETIMEDOUT) {
            done_rc = rc;
            last_line(&out, done_line, sizeof done_line);
        }
        px_buf_free(&out);
        if ((mono_s() - start) * 1000.0 + WAIT_OK_INTERVAL_MS >= timeout_ms) {
            if (errbuf) {
                char st[64];
                if (done_rc == PX_ETIMEDOUT)
                    snprintf(st, sizeof st, "no try ended: the last was still running");
                else
                    snprintf(st, sizeof st, "the last try to end exited %d", done_rc);
                snprintf(errbuf, PX_ERRBUF_SIZE, "'%s' did not succeed within %u ms (%d tries; %s%s%s)", cmd,
                         (unsigned)timeout_ms, tries, st, done_line[0] ? ", its output: " : "", done_line);
            }
            return PX_ETIMEDOUT;
        }
        struct pollfd c = {o ? o->cancel_fd : -1, POLLIN, 0};
        if (poll(&c, 1, WAIT_OK_INTERVAL_MS) > 0 || (o && o->stop && *o->stop)) {
            if (errbuf)
                snprintf(errbuf, PX_ERRBUF_SIZE, "'%s': cancelled", cmd);
            return PX_ECANCELED;
        }
    }
}

/* ------------------------------------------------ control-plane batches */

/* What simple_switch_CLI (BMv2's runtime CLI) prints for a command it rejects,
 * after its "RuntimeCmd: " prompt when the batch comes on stdin. */
const char *const px_ctl_default_patterns[] = {
    "Error:",
    "Invalid (table|counter|meter|register|mirroring|mc|lpm|match|runtime|action)[a-z ]*(operation|key|data|name)",
};
const size_t px_ctl_default_npatterns = sizeof px_ctl_default_patterns / sizeof px_ctl_default_patterns[0];

#define CTL_PATTERNS_MAX 64

int px_ctl_run(const char *cmd, const px_cmd_opts *o, const char *const *patterns, size_t npatterns,
               px_buf *output, px_ctl_result *res, char *errbuf)
{
    px_ctl_result dummy;
    if (!res)
        res = &dummy;
    memset(res, 0, sizeof *res);
    if (!patterns) {
        patterns = px_ctl_default_patterns;
        npatterns = px_ctl_default_npatterns;
    }
    if (npatterns > CTL_PATTERNS_MAX) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "at most %d error patterns", CTL_PATTERNS_MAX);
        return PX_ERANGE;
    }
    regex_t re[CTL_PATTERNS_MAX];
    for (size_t i = 0; i < npatterns; i++) {
        int rc = regcomp(&re[i], patterns[i], REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char m[128];
            regerror(rc, &re[i], m, sizeof m);
            if (errbuf)
                snprintf(errbuf, PX_ERRBUF_SIZE, "error pattern '%.64s': %s", patterns[i], m);
            for (size_t j = 0; j < i; j++)
                regfree(&re[j]);
            return PX_EPARSE;
        }
    }
    size_t start = output->len;
    res->status = px_cmd_run(cmd, o, output);
    /* Each line of this command's output, against each pattern: the first match. */
    const char *text = px_buf_cstr(output) + start;
    int lineno = 0;
    for (const char *l = text; *l && !res->error_lineno;) {
        size_t n = strcspn(l, "\n");
        lineno++;
        char line[1024];
        size_t k = n < sizeof line - 1 ? n : sizeof line - 1;
        memcpy(line, l, k);
        line[k] = '\0';
        for (size_t i = 0; i < npatterns; i++) {
            if (regexec(&re[i], line, 0, NULL, 0) == 0) {
                res->error_lineno = lineno;
                snprintf(res->error_line, sizeof res->error_line, "%s", line);
                break;
            }
        }
        l += n;
        if (*l)
            l++;
    }
    for (size_t i = 0; i < npatterns; i++)
        regfree(&re[i]);
    if (res->status < 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "'%.200s' %s", cmd,
                     res->status == PX_ETIMEDOUT ? "timed out" : px_strerror(res->status));
        return res->status;
    }
    if (res->error_lineno) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "'%.200s' reported an error (output line %d): %s", cmd,
                     res->error_lineno, res->error_line);
        return 1;
    }
    if (res->status != 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "'%.200s' exited with %d", cmd, res->status);
        return 1;
    }
    return 0;
}
