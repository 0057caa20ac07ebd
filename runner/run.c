/* pktexpect runner: topology set-up and tear-down, test steps, verdicts. See run.h. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pktexpect/context.h"
#include "pktexpect/evidence.h"
#include "pktexpect/expect.h"
#include "pktexpect/expr.h"
#include "pktexpect/future.h"
#include "pktexpect/send.h"
#include "pktexpect/text.h"
#include "pktexpect/topology.h"
#include "sig.h"
#include "topo_state.h"

#include "evidence_dir.h"

#define POLL_MS 100
#define CMD_DEFAULT_TIMEOUT_MS 60000
#define CMD_KILL_GRACE_S 2.0 /* SIGTERM, then SIGKILL after this */
#define OUTPUT_MAX (64 * 1024)
#define SUMMARY_FRAMES_PER_PORT 20
#define RING_MIB 16

/* ------------------------------------------------------------- checkers */

static int check_predicate(const char *text, char *errbuf)
{
    px_predicate *p = NULL;
    px_expr_error e;
    memset(&e, 0, sizeof e);
    int rc = px_expr_parse(NULL, text, &p, &e);
    if (rc == 0) {
        px_predicate_free(p);
        return 0;
    }
    if (errbuf) {
        /* The parser's message starts with "col N: " when it knows the column. */
        if (e.column && strncmp(e.message, "col ", 4))
            snprintf(errbuf, PX_ERRBUF_SIZE, "col %u: %.480s", e.column, e.message);
        else
            snprintf(errbuf, PX_ERRBUF_SIZE, "%.500s", e.message[0] ? e.message : px_strerror(rc));
    }
    return rc;
}

static int parse_frame(const char *text, uint8_t **bytes, size_t *len, char *errbuf)
{
    char eb[PX_ERRBUF_SIZE] = "";
    int rc = px_frame_parse_text(text, bytes, len, eb);
    if (rc && errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "%s", eb[0] ? eb : px_strerror(rc));
    return rc;
}

static const px_scn_checkers checkers = {check_predicate, parse_frame};

const px_scn_checkers *px_run_checkers(void)
{
    return &checkers;
}

/* ------------------------------------------------------------- time */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct runstate {
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
} runstate;

/* Makes R->cancel_fd (see runstate). Without it every wait still polls the flag
 * and the clock every POLL_MS. */
static void cancel_open(runstate *R)
{
    R->cancel_fd = R->timer_fd = -1;
    int sfd = px_sig_fd();
    if (sfd < 0 && !(R->o->deadline_s > 0))
        return;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return;
    struct epoll_event ev = {.events = EPOLLIN};
    if (sfd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0) {
        close(ep);
        return;
    }
    if (R->o->deadline_s > 0) {
        int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        double d = R->o->deadline_s < 1e9 ? R->o->deadline_s : 1e9;
        struct itimerspec its = {.it_value = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)}};
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1;
        if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) < 0) {
            if (tfd >= 0)
                close(tfd);
            close(ep);
            return;
        }
        R->timer_fd = tfd;
    }
    R->cancel_fd = ep;
}

/* True when the run must stop now (signal or global deadline). */
static bool must_stop(runstate *R)
{
    if (R->o->stop && *R->o->stop)
        return true;
    if (R->o->deadline_s > 0 && now_s() - R->t0 >= R->o->deadline_s) {
        R->deadline_hit = true;
        return true;
    }
    return false;
}

/* Why the run stops, for messages (call after must_stop returned true). */
static const char *stop_reason(const runstate *R)
{
    return R->deadline_hit ? "global deadline reached" : "interrupted";
}

static uint32_t scaled(const px_run_opts *o, uint32_t ms)
{
    double f = o->timeout_scale > 0 ? o->timeout_scale : 1.0;
    double v = (double)ms * f;
    if (v < 1)
        v = 1;
    if (v > 86400000.0 * 10)
        v = 86400000.0 * 10;
    return (uint32_t)v;
}

/* Sleeps up to ms, waking to check the stop conditions. False if interrupted. */
static bool nap(runstate *R, uint32_t ms)
{
    double end = now_s() + ms / 1000.0;
    for (;;) {
        if (must_stop(R))
            return false;
        double left = end - now_s();
        if (left <= 0)
            return true;
        double chunk = left < POLL_MS / 1000.0 ? left : POLL_MS / 1000.0;
        struct pollfd p = {R->cancel_fd, POLLIN, 0};
        poll(&p, 1, (int)(chunk * 1000.0) + 1);
    }
}

/* ------------------------------------------------------------- commands */

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
    const double limit = (timeout_ms ? timeout_ms : CMD_DEFAULT_TIMEOUT_MS) / 1000.0;
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
        int n = poll(p, 2, ended ? 20 : POLL_MS);
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

/* ------------------------------------------------------------- topology */

typedef enum undo_kind { UNDO_NETNS, UNDO_LINK } undo_kind;
typedef struct undo {
    undo_kind kind;
    const char *netns, *name;
} undo;

typedef struct topo {
    undo *items;
    size_t n;
    px_tstate *state; /* the run's state file and name locks (topo_state.h) */
} topo;

static int topo_push(topo *t, undo_kind k, const char *netns, const char *name)
{
    /* On record first: a run killed right after this can be cleaned. */
    px_tstate_add(t->state, k == UNDO_LINK, netns, name);
    undo *u = realloc(t->items, (t->n + 1) * sizeof *u);
    if (!u)
        return PX_ENOMEM;
    t->items = u;
    t->items[t->n++] = (undo){k, netns, name};
    return 0;
}

static void say(const px_run_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const px_run_opts *o, const char *fmt, ...)
{
    FILE *f = o->tap ? o->err : o->out;
    va_list ap;
    va_start(ap, fmt);
    if (o->tap)
        fputs("# ", f);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fflush(f);
}

/* Returns true when every item was removed. */
static bool run_teardown(const px_scenario *s, topo *t, runstate *R)
{
    bool all = true;
    const px_run_opts *o = R->o;
    for (size_t i = 0; i < s->nteardown; i++) {
        px_buf out = PX_BUF_INIT;
        /* Teardown runs after an interrupt or the deadline too: no stop flag here. */
        int rc = px_run_command(s->teardown[i].run, s->teardown[i].netns, s->teardown[i].timeout_ms, NULL, -1, &out);
        if (rc != 0)
            fprintf(o->err, "%s:%d:%d: teardown command '%s' %s %d\n%s", s->teardown[i].pos.file,
                    s->teardown[i].pos.line, s->teardown[i].pos.col, s->teardown[i].run,
                    rc < 0 ? "failed:" : "exited with", rc, px_buf_cstr(&out));
        px_buf_free(&out);
    }
    /* Links first (their namespaces may hold them), newest first. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = t->n; i-- > 0;) {
            undo *u = &t->items[i];
            char eb[PX_ERRBUF_SIZE] = "";
            int rc = 0;
            if (pass == 0 && u->kind == UNDO_LINK)
                rc = px_topo_link_del(u->netns, u->name, eb);
            else if (pass == 1 && u->kind == UNDO_NETNS)
                rc = px_topo_netns_del(u->name, eb);
            if (rc) {
                fprintf(o->err, "pktexpect: teardown: %s\n", eb);
                all = false;
            }
        }
    }
    free(t->items);
    t->items = NULL;
    t->n = 0;
    return all;
}

static void keep_message(const px_scenario *s, topo *t, const px_run_opts *o)
{
    FILE *f = o->tap ? o->err : o->out;
    fprintf(f, "%stopology of '%s' kept (--keep-topology):", o->tap ? "# " : "", s->name);
    for (size_t i = 0; i < t->n; i++) {
        const undo *u = &t->items[i];
        if (u->kind == UNDO_NETNS)
            fprintf(f, " netns %s;", u->name);
        else
            fprintf(f, " %s%s%s;", u->name, u->netns ? " in " : "", u->netns ? u->netns : "");
    }
    fputs(" 'pktexpect clean' removes it\n", f);
    free(t->items);
    t->items = NULL;
    t->n = 0;
}

/* What to do about a name that exists already (no live run holds it: the name
 * locks were taken first). */
#define LEFT_HINT                                                                                              \
    " (left by a run that was killed, or kept with --keep-topology? 'pktexpect clean' removes what such runs "  \
    "left; anything else: remove it by hand, e.g. 'ip netns del NAME' or 'ip link del NAME')"

/* Builds the topology; on error returns the PX code with the reason in `why`. */
static int build_topology(const px_scenario *s, topo *t, runstate *R, px_buf *why)
{
    char eb[PX_ERRBUF_SIZE] = "";
    int rc;
#define TRY(call, pos)                                                                      \
    do {                                                                                    \
        eb[0] = '\0';                                                                       \
        if ((rc = (call)) != 0) {                                                           \
            px_buf_printf(why, "%s:%d:%d: %s%s", (pos).file, (pos).line, (pos).col, eb,     \
                          rc == PX_EEXIST ? LEFT_HINT : "");                                \
            return rc;                                                                      \
        }                                                                                   \
    } while (0)
    for (size_t i = 0; i < s->nnamespaces; i++) {
        eb[0] = '\0';
        rc = px_topo_netns_add(s->namespaces[i], eb);
        if (rc) {
            px_buf_printf(why, "%s: %s%s", s->path, eb, rc == PX_EEXIST ? LEFT_HINT : "");
            return rc;
        }
        if ((rc = topo_push(t, UNDO_NETNS, NULL, s->namespaces[i])))
            return rc;
    }
    for (size_t i = 0; i < s->nveths; i++) {
        const px_scn_veth *v = &s->veths[i];
        /* Made in the runner's namespace, then each end moved where it belongs. */
        TRY(px_topo_veth_add(NULL, v->name, v->peer, eb), v->pos);
        if ((rc = topo_push(t, UNDO_LINK, NULL, v->name)))
            return rc;
        if (v->netns) {
            TRY(px_topo_link_set_netns(NULL, v->name, v->netns, eb), v->pos);
            t->items[t->n - 1].netns = v->netns;
            TRY(px_topo_link_set_up(v->netns, v->name, true, eb), v->pos);
        }
        if (v->peer_netns) {
            TRY(px_topo_link_set_netns(NULL, v->peer, v->peer_netns, eb), v->pos);
            TRY(px_topo_link_set_up(v->peer_netns, v->peer, true, eb), v->pos);
        }
        if (v->mtu) {
            TRY(px_topo_link_set_mtu(v->netns, v->name, v->mtu, eb), v->pos);
            TRY(px_topo_link_set_mtu(v->peer_netns, v->peer, v->mtu, eb), v->pos);
        }
    }
    for (size_t i = 0; i < s->nbridges; i++) {
        const px_scn_bridge *b = &s->bridges[i];
        TRY(px_topo_bridge_add(b->netns, b->name, b->vlan_filtering, eb), b->pos);
        if ((rc = topo_push(t, UNDO_LINK, b->netns, b->name)))
            return rc;
        if (b->mtu)
            TRY(px_topo_link_set_mtu(b->netns, b->name, b->mtu, eb), b->pos);
        for (size_t j = 0; j < b->nports; j++) {
            TRY(px_topo_link_set_master(b->netns, b->ports[j].name, b->name, eb), b->ports[j].pos);
            for (size_t k = 0; k < b->ports[j].nvlans; k++) {
                const px_scn_bvlan *bv = &b->ports[j].vlans[k];
                TRY(px_topo_bridge_vlan_add(b->netns, b->ports[j].name, bv->vid, bv->pvid, bv->untagged, eb),
                    b->ports[j].pos);
            }
        }
        for (size_t k = 0; k < b->nvlans; k++)
            TRY(px_topo_bridge_vlan_add(b->netns, b->name, b->vlans[k].vid, b->vlans[k].pvid, b->vlans[k].untagged,
                                        eb),
                b->pos);
    }
    for (size_t i = 0; i < s->naddrs; i++)
        TRY(px_topo_addr_add(s->addrs[i].netns, s->addrs[i].dev, s->addrs[i].cidr, eb), s->addrs[i].pos);
#undef TRY
    for (size_t i = 0; i < s->nsetup; i++) {
        const px_scn_cmd *c = &s->setup[i];
        px_buf out = PX_BUF_INIT;
        if (R->o->verbose)
            say(R->o, "setup: %s\n", c->run);
        rc = px_run_command(c->run, c->netns, scaled(R->o, c->timeout_ms ? c->timeout_ms : CMD_DEFAULT_TIMEOUT_MS),
                            R->o->stop, R->cancel_fd, &out);
        if (rc != 0) {
            px_buf_printf(why, "%s:%d:%d: setup command '%s' ", c->pos.file, c->pos.line, c->pos.col, c->run);
            if (rc == PX_ETIMEDOUT)
                px_buf_append(why, "timed out");
            else if (rc == PX_ECANCELED)
                px_buf_append(why, must_stop(R) && R->deadline_hit ? "was stopped: global deadline reached"
                                                                   : "was interrupted");
            else if (rc < 0)
                px_buf_printf(why, "could not run: %s", px_strerror(rc));
            else
                px_buf_printf(why, "exited with %d", rc);
            if (out.len)
                px_buf_printf(why, "; its output:\n%s", px_buf_cstr(&out));
            px_buf_free(&out);
            return PX_ESYS;
        }
        px_buf_free(&out);
    }
    return 0;
}

/* ------------------------------------------------------------- per-test */

/* The recorder: a predicate armed on every port of a test that writes every frame
 * to the evidence file and keeps the text form of the first few for the report. */
typedef struct recorder {
    px_evidence *ev;   /* may be NULL */
    const char *port;  /* scenario port name (owned by the scenario) */
    px_buf summary;
    unsigned nsummary;
    uint64_t frames;
} recorder;

static void rec_on_packet(void *state, const px_frame *f)
{
    recorder *r = state;
    r->frames++;
    if (r->ev)
        px__evidence_write_frame(r->ev, r->port, PX_DIR_IN, f);
    if (r->nsummary < SUMMARY_FRAMES_PER_PORT) {
        r->nsummary++;
        px_buf_printf(&r->summary, "%s RX ", r->port);
        if (px_frame_to_text(f, &r->summary) != 0)
            px_buf_append(&r->summary, "(frame)");
        px_buf_append(&r->summary, "\n");
    }
}

static px_verdict rec_on_finish(void *state, bool timed_out, px_result *out)
{
    (void)state;
    (void)timed_out;
    (void)out;
    return PX_PASS;
}

static void rec_destroy(void *state)
{
    (void)state; /* owned by the test, freed after the future */
}

static const px_predicate_ops recorder_ops = {
    .name = "record",
    .on_packet = rec_on_packet,
    .on_finish = rec_on_finish,
    .destroy = rec_destroy,
};

typedef struct armed {
    px_future *f;
    const px_step *step;
    bool waited;
} armed;

typedef struct test_run {
    runstate *R;
    const px_scenario *s;
    const px_scn_test *t;
    px_ctx *ctx;
    px_evidence *ev;
    recorder *recs;
    px_future **rec_futs;
    size_t nrecs;
    armed *arm;
    size_t narm;
    px_buf output;   /* system-out */
    px_buf details;  /* failure reports */
    px_buf message;  /* first problem, one line */
    px_tstatus status;
} test_run;

static void problem(test_run *T, px_tstatus st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(test_run *T, px_tstatus st, const char *fmt, ...)
{
    /* ERROR outranks FAIL: a test that could not run properly is inconclusive. */
    if (T->status == PX_T_PASS || (st == PX_T_ERROR && T->status == PX_T_FAIL)) {
        T->status = st;
        px_buf_clear(&T->message);
        va_list ap;
        va_start(ap, fmt);
        px_buf_vprintf(&T->message, fmt, ap);
        va_end(ap);
    }
}

/* Calls into the library for a port, inside the port's namespace if it has one. */
typedef struct port_call {
    test_run *T;
    const char *ifname;
    const char *const *ifnames;
    size_t nifnames;
    int op; /* 0 open, 1 expect, 2 send, 3 replay */
    px_predicate *pred;
    const px_expect_opts *eopts;
    px_future *fut;
    const uint8_t *bytes;
    size_t len;
    uint32_t count;
    double rate;
    const char *pcap;
} port_call;

static int port_call_fn(void *arg, char *errbuf)
{
    port_call *c = arg;
    px_ctx *ctx = c->T->ctx;
    switch (c->op) {
    case 0:
        return px_port_open(ctx, c->ifname, errbuf);
    case 1:
        c->fut = c->nifnames == 1 ? px_expect(ctx, c->ifnames[0], c->pred, c->eopts)
                                  : px_expect_any(ctx, c->ifnames, c->nifnames, c->pred, c->eopts);
        return c->fut ? 0 : PX_ENOMEM;
    case 2: {
        if (c->count <= 1 && c->rate <= 0)
            return px_send(ctx, c->ifname, c->bytes, c->len, errbuf);
        px_tx_frame fr = {c->bytes, c->len};
        px_pace_opts pace = {.count = c->count, .rate_fps = c->rate};
        return px_send_paced(ctx, c->ifname, &fr, 1, NULL, &pace, NULL, errbuf);
    }
    case 3:
        return px_replay(ctx, c->ifname, c->pcap, NULL, NULL, errbuf);
    default:
        return PX_EINVAL;
    }
}

static const px_scn_port *port_of(test_run *T, const char *name)
{
    return px_scenario_port(T->s, name);
}

static int in_port_ns(test_run *T, const px_scn_port *p, port_call *c, char *errbuf)
{
    c->T = T;
    return px_topo_netns_run(p->netns, port_call_fn, c, errbuf);
}

/* Ports used by the test, each once. */
static size_t test_ports(const px_scn_test *t, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nsteps; i++) {
        const px_step *st = &t->steps[i];
        for (size_t j = 0; j < st->nports; j++) {
            bool seen = false;
            for (size_t k = 0; k < n && !seen; k++)
                seen = !strcmp(out[k], st->ports[j]);
            if (!seen && n < cap)
                out[n++] = st->ports[j];
        }
    }
    return n;
}

static void push_vlan(const uint8_t *in, size_t len, int vid, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    if (len < 12)
        return;
    uint8_t *b = malloc(len + 4);
    if (!b)
        return;
    memcpy(b, in, 12);
    b[12] = 0x81;
    b[13] = 0x00;
    b[14] = (uint8_t)((vid >> 8) & 0x0f);
    b[15] = (uint8_t)(vid & 0xff);
    memcpy(b + 16, in + 12, len - 12);
    *out = b;
    *outlen = len + 4;
}

static void step_send(test_run *T, const px_step *st)
{
    char eb[PX_ERRBUF_SIZE] = "";
    if (st->pcap) {
        for (size_t j = 0; j < st->nports; j++) {
            const px_scn_port *p = port_of(T, st->ports[j]);
            port_call c = {.op = 3, .ifname = p->ifname, .pcap = st->pcap};
            int rc = in_port_ns(T, p, &c, eb);
            px_buf_printf(&T->output, "send: replay %s on %s%s%s\n", st->pcap, st->ports[j], rc ? ": " : "",
                          rc ? eb : "");
            if (rc)
                problem(T, PX_T_ERROR, "%s:%d: replaying %s on %s: %s", st->pos.file, st->pos.line, st->pcap,
                        st->ports[j], rc == PX_ECANCELED && must_stop(T->R) ? stop_reason(T->R) : eb);
            if (rc == PX_ECANCELED)
                break;
        }
        return;
    }
    if (!st->bytes) {
        problem(T, PX_T_ERROR, "%s:%d: no frame bytes (the frame text form is not available in this build)",
                st->pos.file, st->pos.line);
        return;
    }
    const uint8_t *bytes = st->bytes;
    size_t len = st->nbytes;
    uint8_t *tagged = NULL;
    if (st->vlan >= 0) {
        push_vlan(st->bytes, st->nbytes, st->vlan, &tagged, &len);
        if (!tagged) {
            problem(T, PX_T_ERROR, "out of memory");
            return;
        }
        bytes = tagged;
    }
    /* The text form of what is sent, for the report. */
    px_frame fv;
    px_frame_dissect(&fv, bytes, (uint32_t)len, (uint32_t)len);
    px_buf text = PX_BUF_INIT;
    if (px_frame_to_text(&fv, &text) != 0)
        px_buf_append(&text, "(frame)");
    for (size_t j = 0; j < st->nports; j++) {
        const px_scn_port *p = port_of(T, st->ports[j]);
        if (T->ev) {
            uint32_t n = st->send_count < 10000 ? st->send_count : 10000;
            for (uint32_t k = 0; k < n; k++)
                px_evidence_write(T->ev, st->ports[j], PX_DIR_OUT, NULL, bytes, (uint32_t)len, (uint32_t)len);
        }
        port_call c = {.op = 2, .ifname = p->ifname, .bytes = bytes, .len = len, .count = st->send_count,
                       .rate = st->rate_pps};
        int rc = in_port_ns(T, p, &c, eb);
        px_buf_printf(&T->output, "%s TX %s", st->ports[j], px_buf_cstr(&text));
        if (st->send_count > 1)
            px_buf_printf(&T->output, " x%u", (unsigned)st->send_count);
        px_buf_printf(&T->output, "%s%s\n", rc ? ": " : "", rc ? eb : "");
        if (T->R->o->verbose)
            say(T->R->o, "  send on %s: %s%s%s\n", st->ports[j], px_buf_cstr(&text), rc ? ": " : "", rc ? eb : "");
        if (rc) {
            if (rc == PX_EPERM || rc == PX_ENODEV)
                T->R->env_error = true;
            problem(T, PX_T_ERROR, "%s:%d: sending on %s: %s", st->pos.file, st->pos.line, st->ports[j],
                    rc == PX_ECANCELED && must_stop(T->R) ? stop_reason(T->R) : eb);
            if (rc == PX_ECANCELED)
                break;
        }
    }
    px_buf_free(&text);
    free(tagged);
}

static void step_expect(test_run *T, const px_step *st)
{
    px_predicate *pred = NULL;
    px_expr_error e;
    memset(&e, 0, sizeof e);
    int rc = px_expr_parse(NULL, st->predicate, &pred, &e);
    if (rc) {
        problem(T, PX_T_ERROR, "%s:%d: predicate: %s", st->predicate_pos.file, st->predicate_pos.line, e.message);
        return;
    }
    const char *ifnames[64];
    const px_scn_port *first = port_of(T, st->ports[0]);
    size_t n = 0;
    for (size_t j = 0; j < st->nports && n < 64; j++) {
        const px_scn_port *p = port_of(T, st->ports[j]);
        if ((p->netns == NULL) != (first->netns == NULL) || (p->netns && strcmp(p->netns, first->netns))) {
            px_predicate_free(pred);
            problem(T, PX_T_ERROR, "%s:%d: the ports of one expectation must be in the same namespace",
                    st->pos.file, st->pos.line);
            return;
        }
        ifnames[n++] = p->ifname;
    }
    px_expect_opts eo = {
        .timeout_ms = scaled(T->R->o, st->timeout_ms ? st->timeout_ms : T->s->timeout_ms),
        .count = st->count,
        .filter = st->filter,
        .name = st->name,
        .noise = st->noise_filter == 0 ? PX_NOISE_OFF : PX_NOISE_PORT,
    };
    port_call c = {.op = 1, .ifnames = ifnames, .nifnames = n, .pred = pred, .eopts = &eo};
    char eb[PX_ERRBUF_SIZE] = "";
    rc = in_port_ns(T, first, &c, eb);
    if (rc || !c.fut) {
        problem(T, PX_T_ERROR, "%s:%d: arming the expectation: %s", st->pos.file, st->pos.line,
                eb[0] ? eb : px_strerror(rc));
        return;
    }
    armed *a = realloc(T->arm, (T->narm + 1) * sizeof *a);
    if (!a) {
        px_future_free(c.fut);
        problem(T, PX_T_ERROR, "out of memory");
        return;
    }
    T->arm = a;
    T->arm[T->narm++] = (armed){c.fut, st, false};
    if (T->R->o->verbose)
        say(T->R->o, "  expect %s on %s%s%s\n", st->predicate, st->ports[0], st->nports > 1 ? ", ..." : "",
            st->name ? "" : "");
}

/* Waits for one armed expectation, polling the stop conditions. */
static void wait_one(test_run *T, armed *a)
{
    if (a->waited)
        return;
    while (px_future_wait_for(a->f, POLL_MS) == PX_PENDING) {
        if (must_stop(T->R)) {
            problem(T, PX_T_ERROR, "%s while waiting for an expectation", stop_reason(T->R));
            px_future_cancel(a->f);
            break;
        }
    }
    a->waited = true;
    px_verdict v = px_future_verdict(a->f);
    const char *label = a->step->name ? a->step->name : a->step->predicate;
    px_buf_printf(&T->output, "expect %s: %s %s\n", label, px_verdict_name(v), px_future_explanation(a->f));
    if (T->R->o->verbose)
        say(T->R->o, "  %s: %s %s\n", label, px_verdict_name(v), px_future_explanation(a->f));
    if (v == PX_PASS)
        return;
    /* One report per failed expectation, headed by its place so that the console
     * prints it instead of repeating the one-line message (report.c): the
     * predicate once, the explanation once, then the counters. */
    const char *desc = px_future_description(a->f);
    px_buf_printf(&T->details, "%s:%d: expect ", a->step->pos.file, a->step->pos.line);
    if (a->step->name)
        px_buf_printf(&T->details, "%s (%s)", a->step->name, desc);
    else
        px_buf_append(&T->details, desc);
    px_buf_printf(&T->details, ": %s", px_verdict_name(v));
    if (px_future_has_value(a->f))
        px_buf_printf(&T->details, " (value %lld)", (long long)px_future_value(a->f));
    px_counters c;
    px_future_counters(a->f, &c);
    px_buf_printf(&T->details,
                  "\n  %s\n  frames: %llu offered, %llu rejected by filter, %llu ignored as noise, "
                  "%llu dropped by capture, %llu truncated\n\n",
                  px_future_explanation(a->f), (unsigned long long)c.seen, (unsigned long long)c.filtered,
                  (unsigned long long)c.noise, (unsigned long long)c.drops, (unsigned long long)c.truncated);
    /* The one-line message keeps the start of the explanation; details have it all. */
    const char *ex = px_future_explanation(a->f);
    size_t exlen = strcspn(ex, "\n");
    if (exlen > 160)
        exlen = 160;
    problem(T, v == PX_FAIL ? PX_T_FAIL : PX_T_ERROR, "%s:%d: expect %s: %s: %.*s%s", a->step->pos.file,
            a->step->pos.line, label, px_verdict_name(v), (int)exlen, ex, ex[exlen] ? "..." : "");
}

static void step_wait(test_run *T, const px_step *st)
{
    for (size_t i = 0; i < T->narm; i++) {
        bool want = st->wait_all;
        for (size_t j = 0; j < st->nnames && !want; j++)
            want = T->arm[i].step->name && !strcmp(T->arm[i].step->name, st->names[j]);
        if (want)
            wait_one(T, &T->arm[i]);
    }
}

static void step_exec(test_run *T, const px_step *st)
{
    px_buf out = PX_BUF_INIT;
    uint32_t tmo = scaled(T->R->o, st->cmd.timeout_ms ? st->cmd.timeout_ms : CMD_DEFAULT_TIMEOUT_MS);
    int rc = px_run_command(st->cmd.run, st->cmd.netns, tmo, T->R->o->stop, T->R->cancel_fd, &out);
    px_buf_printf(&T->output, "exec %s: exit %d\n%s", st->cmd.run, rc, px_buf_cstr(&out));
    if (T->R->o->verbose)
        say(T->R->o, "  exec %s: exit %d\n", st->cmd.run, rc);
    if (rc != st->cmd.exit_code) {
        if (rc == PX_ETIMEDOUT)
            problem(T, PX_T_ERROR, "%s:%d: exec '%s' timed out after %u ms", st->pos.file, st->pos.line, st->cmd.run,
                    (unsigned)tmo);
        else if (rc == PX_ECANCELED)
            problem(T, PX_T_ERROR, "%s:%d: exec '%s': %s", st->pos.file, st->pos.line, st->cmd.run,
                    must_stop(T->R) ? stop_reason(T->R) : "interrupted");
        else if (rc < 0)
            problem(T, PX_T_ERROR, "%s:%d: exec '%s': %s", st->pos.file, st->pos.line, st->cmd.run, px_strerror(rc));
        else
            problem(T, PX_T_FAIL, "%s:%d: exec '%s' exited with %d, expected %d", st->pos.file, st->pos.line,
                    st->cmd.run, rc, st->cmd.exit_code);
        px_buf_printf(&T->details, "exec '%s' output:\n%s\n", st->cmd.run, px_buf_cstr(&out));
    }
    px_buf_free(&out);
}

static void run_test(runstate *R, const px_scenario *s, const px_scn_test *t, px_test_result *res, char **pcap_kept)
{
    const px_run_opts *o = R->o;
    test_run T = {.R = R, .s = s, .t = t, .status = PX_T_PASS};
    double t0 = now_s();
    *pcap_kept = NULL;
    char eb[PX_ERRBUF_SIZE] = "";
    char *evpath = NULL;

    px_ctx_opts co = {.default_timeout_ms = scaled(o, s->timeout_ms), .noise_filter_off = !s->noise_filter,
                      .ring_mib = RING_MIB};
    T.ctx = px_ctx_new(&co, eb);
    if (!T.ctx) {
        problem(&T, PX_T_ERROR, "cannot create a context: %s", eb);
        goto done;
    }
    px_ctx_set_cancel_fd(T.ctx, R->cancel_fd); /* paced sends and replays stop at once too */
    const char *ports[64];
    size_t np = test_ports(t, ports, 64);
    if (o->pcap_dir && np > 0) {
        px_buf why = PX_BUF_INIT;
        int rc = px_evdir_create(&R->evdir, s->name, t->name, &T.ev, &evpath, &why);
        if (rc)
            problem(&T, PX_T_ERROR, "evidence: %s", px_buf_cstr(&why));
        px_buf_free(&why);
        if (rc)
            goto done;
    }
    /* Open every port the test uses and start recording them. */
    T.recs = calloc(np ? np : 1, sizeof *T.recs);
    T.rec_futs = calloc(np ? np : 1, sizeof *T.rec_futs);
    if (!T.recs || !T.rec_futs) {
        problem(&T, PX_T_ERROR, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < np; i++) {
        const px_scn_port *p = port_of(&T, ports[i]);
        for (size_t j = 0; j < i; j++) {
            const px_scn_port *q = port_of(&T, ports[j]);
            if (!strcmp(p->ifname, q->ifname)) {
                problem(&T, PX_T_ERROR,
                        "ports '%s' and '%s' are both interface '%s' (in different namespaces): one test cannot use "
                        "both",
                        p->name, q->name, p->ifname);
                goto done;
            }
        }
        port_call c = {.op = 0, .ifname = p->ifname};
        eb[0] = '\0';
        int rc = in_port_ns(&T, p, &c, eb);
        if (rc) {
            if (rc == PX_EPERM || rc == PX_ENODEV)
                R->env_error = true;
            problem(&T, PX_T_ERROR, "opening port '%s': %s", p->name, eb);
            goto done;
        }
        recorder *r = &T.recs[i];
        r->ev = T.ev;
        r->port = p->name;
        px_predicate *rp = px_predicate_new(&recorder_ops, r);
        px_expect_opts ro = {.timeout_ms = 86400000u, .noise = PX_NOISE_OFF, .name = "recorder"};
        const char *ifn = p->ifname;
        port_call ec = {.op = 1, .ifnames = &ifn, .nifnames = 1, .pred = rp, .eopts = &ro};
        if (rp && in_port_ns(&T, p, &ec, eb) == 0)
            T.rec_futs[i] = ec.fut;
        T.nrecs = i + 1;
    }

    /* A FAIL does not stop the steps (the later ones may tell more); an ERROR
     * does: the test cannot be trusted to go on (docs/scenarios.md). */
    size_t si = 0;
    for (; si < t->nsteps && T.status != PX_T_ERROR; si++) {
        if (must_stop(R)) {
            problem(&T, PX_T_ERROR, "%s", R->deadline_hit ? "global deadline reached" : "interrupted");
            break;
        }
        const px_step *st = &t->steps[si];
        switch (st->kind) {
        case PX_STEP_EXPECT:
            step_expect(&T, st);
            break;
        case PX_STEP_SEND:
            step_send(&T, st);
            break;
        case PX_STEP_WAIT:
            step_wait(&T, st);
            break;
        case PX_STEP_SLEEP:
            if (o->verbose)
                say(o, "  sleep %u ms\n", (unsigned)st->sleep_ms);
            if (!nap(R, scaled(o, st->sleep_ms)))
                problem(&T, PX_T_ERROR, "%s", R->deadline_hit ? "global deadline reached" : "interrupted");
            break;
        case PX_STEP_EXEC:
            step_exec(&T, st);
            break;
        }
    }
    /* A test that a signal or the deadline cut short is never PASS, even when its
     * last step happened to complete. */
    if (T.status == PX_T_PASS && must_stop(R))
        problem(&T, PX_T_ERROR, "%s", stop_reason(R));
    /* The steps an ERROR left out, in the report's output (JUnit system-out). */
    static const char *const step_names[] = {"expect", "send", "wait", "sleep", "exec"};
    for (; si < t->nsteps; si++)
        px_buf_printf(&T.output, "skipped %s step at %s:%d (not run after the ERROR)\n",
                      (unsigned)t->steps[si].kind < 5 ? step_names[t->steps[si].kind] : "?", t->steps[si].pos.file,
                      t->steps[si].pos.line);
    /* Every expectation is waited at the end (cancelled if the test already broke). */
    for (size_t i = 0; i < T.narm; i++) {
        if (T.status == PX_T_ERROR && !T.arm[i].waited)
            px_future_cancel(T.arm[i].f);
        wait_one(&T, &T.arm[i]);
    }

done:
    for (size_t i = 0; i < T.nrecs; i++) {
        if (T.rec_futs[i]) {
            px_future_cancel(T.rec_futs[i]);
            px_future_free(T.rec_futs[i]);
        }
    }
    for (size_t i = 0; i < T.narm; i++)
        px_future_free(T.arm[i].f);
    free(T.arm);
    /* Once the context is gone no capture thread can touch the recorders. */
    px_ctx_free(T.ctx);
    for (size_t i = 0; i < T.nrecs; i++) {
        px_buf_append(&T.output, px_buf_cstr(&T.recs[i].summary));
        if (T.recs[i].frames > T.recs[i].nsummary)
            px_buf_printf(&T.output, "%s RX ... %llu frames in all\n", T.recs[i].port,
                          (unsigned long long)T.recs[i].frames);
        px_buf_free(&T.recs[i].summary);
    }
    free(T.recs);
    free(T.rec_futs);
    if (T.ev) {
        bool keep = T.status == PX_T_FAIL || T.status == PX_T_ERROR || s->record;
        char why[PX_ERRBUF_SIZE] = "";
        if (px_evidence_close_err(T.ev, why) != 0) {
            /* A partial or empty file is no evidence: say so, never claim it. */
            fprintf(o->err, "%spktexpect: %s: %s: cannot write the evidence file '%s': %s\n", o->tap ? "# " : "",
                    s->name, t->name, evpath, why);
            if (keep) {
                px_buf_printf(&T.details, "evidence: not kept: cannot write '%s': %s\n", evpath, why);
                R->io_error = true;
            }
            keep = false;
        }
        if (keep)
            *pcap_kept = evpath;
        else
            unlink(evpath);
    }
    if (!*pcap_kept)
        free(evpath);
    res->status = T.status;
    res->seconds = now_s() - t0;
    res->message = T.message.len ? px_buf_steal(&T.message) : NULL;
    res->details = T.details.len ? px_buf_steal(&T.details) : NULL;
    res->output = T.output.len ? px_buf_steal(&T.output) : NULL;
    px_buf_free(&T.message);
    px_buf_free(&T.details);
    px_buf_free(&T.output);
}

/* ------------------------------------------------------------- the run */

static bool selected_by_filter(const px_run_opts *o, const px_scenario *s, const px_scn_test *t)
{
    if (!o->nfilters)
        return true;
    px_buf full = PX_BUF_INIT;
    px_buf_printf(&full, "%s/%s", s->name, t->name);
    bool m = false;
    for (size_t i = 0; i < o->nfilters && !m; i++)
        m = fnmatch(o->filters[i], px_buf_cstr(&full), 0) == 0 || fnmatch(o->filters[i], t->name, 0) == 0;
    px_buf_free(&full);
    return m;
}

size_t px_run_select(px_scenario *const *scns, size_t nscn, const px_run_opts *o, size_t (*idx)[2], size_t cap)
{
    size_t k = 0, n = 0;
    for (size_t i = 0; i < nscn; i++) {
        for (size_t j = 0; j < scns[i]->ntests; j++) {
            if (!selected_by_filter(o, scns[i], &scns[i]->tests[j]))
                continue;
            size_t g = k++;
            if (o->shard_n && g % o->shard_n != o->shard_k - 1)
                continue;
            if (idx && n < cap) {
                idx[n][0] = i;
                idx[n][1] = j;
            }
            n++;
        }
    }
    return n;
}

/* Keeps the first error writing the report stream (a full disk, a closed pipe). */
static void check_out(runstate *R)
{
    errno = 0;
    if ((fflush(R->o->out) != 0 || ferror(R->o->out)) && !R->out_errno)
        R->out_errno = errno ? errno : EIO;
}

/* `report_details`, when not NULL, go into `rep` (JUnit) but not to the console
 * or TAP stream (text already printed once on stderr). */
static void emit(runstate *R, px_report *rep, const px_test_result *r, size_t idx, size_t total,
                 const char *report_details)
{
    const px_run_opts *o = R->o;
    px_test_result kept = *r;
    if (report_details)
        kept.details = report_details;
    px_report_add(rep, &kept);
    if (o->tap)
        px_report_tap_test(o->out, r, idx);
    else
        px_report_console_test(o->out, r, idx, total, o->color);
    check_out(R);
}

int px_run(px_scenario *const *scns, size_t nscn, const px_run_opts *o, px_report *rep)
{
    runstate R = {.o = o, .t0 = now_s(), .cancel_fd = -1, .timer_fd = -1};
    size_t total = px_run_select(scns, nscn, o, NULL, 0);
    size_t(*idx)[2] = calloc(total ? total : 1, sizeof *idx);
    if (!idx)
        return PX_EXIT_ENV;
    px_run_select(scns, nscn, o, idx, total);
    if (o->pcap_dir) {
        px_buf why = PX_BUF_INIT;
        if (px_evdir_open(&R.evdir, o->pcap_dir, &why)) {
            fprintf(o->err, "pktexpect run: --pcap-dir: %s\n", px_buf_cstr(&why));
            px_buf_free(&why);
            free(idx);
            return PX_EXIT_ENV;
        }
        px_buf_free(&why);
    }
    cancel_open(&R); /* after the early returns: it holds descriptors */
    if (o->tap)
        px_report_tap_plan(o->out, total);
    size_t done = 0;
    bool any_fail = false;
    for (size_t si = 0; si < nscn; si++) {
        const px_scenario *s = scns[si];
        size_t first = done, count = 0;
        while (first + count < total && idx[first + count][0] == si)
            count++;
        if (!count)
            continue;
        topo tp = {0};
        px_buf why = PX_BUF_INIT;
        bool topo_ok = true;
        bool locked_out = false; /* another run holds the names: touch nothing */
        if (!must_stop(&R)) {
            int rc = px_tstate_begin(s, &tp.state, &why);
            if (rc == PX_EIO) {
                /* An unwritable state directory (e.g. a setcap'd binary run by a
                 * user) must not stop the run: it only loses the lock. */
                fprintf(o->err,
                        "pktexpect: warning: %s; this run's topology is not locked against other runs and "
                        "'pktexpect clean' will not know it (set PKTEXPECT_STATE_DIR to a writable directory)\n",
                        px_buf_cstr(&why));
                px_buf_clear(&why);
                rc = 0;
            }
            locked_out = rc != 0;
            if (rc == 0)
                rc = build_topology(s, &tp, &R, &why);
            if (rc) {
                topo_ok = false;
                R.env_error = true;
                /* Shown once here (often a setup command's whole output); each
                 * test it stops says so in one line, and JUnit has it per test. */
                fprintf(o->err, "pktexpect: cannot set up the topology of '%s':\n%s\n", s->name, px_buf_cstr(&why));
            }
        }
        for (size_t k = 0; k < count; k++) {
            const px_scn_test *t = &s->tests[idx[first + k][1]];
            px_test_result r = {.suite = s->name, .name = t->name, .file = t->pos.file, .line = t->pos.line};
            char *msg = NULL, *det = NULL, *out = NULL, *pcap = NULL;
            if (t->skip) {
                r.status = PX_T_SKIP;
                r.message = t->skip;
            } else if (!topo_ok) {
                r.status = PX_T_ERROR;
                r.message = "topology set-up failed (the reason is printed above)";
            } else if (must_stop(&R)) {
                r.status = PX_T_ERROR;
                r.message = R.deadline_hit ? "not run: global deadline reached" : "not run: interrupted";
            } else {
                if (o->verbose && !o->tap)
                    say(o, "[%zu/%zu] RUN   %s: %s\n", done + 1, total, s->name, t->name);
                run_test(&R, s, t, &r, &pcap);
                msg = (char *)r.message;
                det = (char *)r.details;
                out = (char *)r.output;
                r.pcap = pcap;
            }
            if (r.status == PX_T_FAIL || r.status == PX_T_ERROR)
                any_fail = true;
            emit(&R, rep, &r, ++done, total, !topo_ok && r.status == PX_T_ERROR ? px_buf_cstr(&why) : NULL);
            free(msg);
            free(det);
            free(out);
            free(pcap);
        }
        if (o->keep_topology && topo_ok) {
            keep_message(s, &tp, o);
            px_tstate_end(tp.state, false); /* the state file stays for 'pktexpect clean' */
        } else if (!locked_out) {
            /* Left items keep the state file, so 'pktexpect clean' can retry. */
            px_tstate_end(tp.state, run_teardown(s, &tp, &R));
        }
        px_buf_free(&why);
    }
    free(idx);
    px_evdir_close(&R.evdir);
    check_out(&R);
    if (R.out_errno) {
        fprintf(o->err, "pktexpect run: cannot write the %s report: %s\n", o->tap ? "TAP" : "console",
                strerror(R.out_errno));
        R.io_error = true;
    }
    if (R.cancel_fd >= 0)
        close(R.cancel_fd);
    if (R.timer_fd >= 0)
        close(R.timer_fd);
    if (o->stop && *o->stop)
        return PX_RUN_INTERRUPTED;
    if (R.env_error)
        return PX_EXIT_ENV;
    if (any_fail)
        return PX_EXIT_FAIL;
    /* Like an unwritable JUnit file: a run whose report or kept evidence was lost
     * is not a pass, but its failed tests still say 1. */
    return R.io_error ? PX_EXIT_ENV : PX_EXIT_PASS;
}
