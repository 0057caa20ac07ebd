/* pktexpect runner: the run's orchestration (topology, then tests, then
 * reports); the jobs it uses are listed in run_internal.h. See run.h. */
#include "run.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "pktexpect/context.h"
#include "pktexpect/evidence.h"
#include "pktexpect/expect.h"
#include "pktexpect/expr.h"
#include "pktexpect/future.h"
#include "pktexpect/text.h"
#include "run_internal.h"
#include "sig.h"

#define RING_MIB 16

/* ------------------------------------------------------------- checkers */

/* The last line of an unknown name's message, after the list of valid names. */
#define PLUGIN_HINT "\n  (a plugin's predicate? load the plugin with --plugin FILE.so)"

void px_run_expr_message(const char *message, char *out, size_t cap)
{
    bool unknown = strstr(message, "unknown predicate '") != NULL;
    snprintf(out, cap, "%s%s", message, unknown ? PLUGIN_HINT : "");
}

static int check_predicate(const void *reg, const char *text, char *errbuf, size_t size)
{
    px_predicate *p = NULL;
    px_expr_error e;
    memset(&e, 0, sizeof e);
    int rc = px_expr_parse(reg, text, &p, &e);
    if (rc == 0) {
        px_predicate_free(p);
        return 0;
    }
    if (errbuf && size) {
        /* The parser's message starts with "col N: " when it knows the column. */
        int pre = e.column && strncmp(e.message, "col ", 4) ? snprintf(errbuf, size, "col %u: ", e.column) : 0;
        if (pre >= 0 && (size_t)pre < size)
            px_run_expr_message(e.message[0] ? e.message : px_strerror(rc), errbuf + pre, size - (size_t)pre);
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

static const px_scn_checkers checkers = {check_predicate, parse_frame, NULL};

const px_scn_checkers *px_run_checkers(void)
{
    return &checkers;
}

void px_run_checkers_with(px_scn_checkers *c, const struct px_registry *reg)
{
    *c = checkers;
    c->arg = reg;
}

/* ------------------------------------------------------------- time, stop, messages */

double px__run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Makes R->cancel_fd (see px__runstate). Without it every wait still polls the flag
 * and the clock every PX_RUN_POLL_MS. */
static void cancel_open(px__runstate *R)
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
bool px__run_must_stop(px__runstate *R)
{
    if (R->o->stop && *R->o->stop)
        return true;
    if (R->o->deadline_s > 0 && px__run_now() - R->t0 >= R->o->deadline_s) {
        R->deadline_hit = true;
        return true;
    }
    return false;
}

/* Why the run stops, for messages (call after must_stop returned true). */
const char *px__run_stop_reason(const px__runstate *R)
{
    return R->deadline_hit ? "global deadline reached" : "interrupted";
}

uint32_t px__run_scaled(const px_run_opts *o, uint32_t ms)
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
bool px__run_nap(px__runstate *R, uint32_t ms)
{
    double end = px__run_now() + ms / 1000.0;
    for (;;) {
        if (px__run_must_stop(R))
            return false;
        double left = end - px__run_now();
        if (left <= 0)
            return true;
        double chunk = left < PX_RUN_POLL_MS / 1000.0 ? left : PX_RUN_POLL_MS / 1000.0;
        struct pollfd p = {R->cancel_fd, POLLIN, 0};
        poll(&p, 1, (int)(chunk * 1000.0) + 1);
    }
}

void px__run_say(const px_run_opts *o, const char *fmt, ...)
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

/* ------------------------------------------------------------- per-test */

/* With a registry of its own (plugins), an expect step's predicate is parsed
 * with it. The steps get it through their predicate maker (px_step.make_predicate):
 * the test runs on copies of its steps that carry one. The scenario was
 * validated with the same registry, so parsing fails only when out of memory
 * (which is what the step then says). */
typedef struct reg_text {
    const px_registry *reg;
    const char *text;
} reg_text;

static px_predicate *parse_with_registry(void *arg)
{
    const reg_text *rt = arg;
    px_predicate *p = NULL;
    return px_expr_parse(rt->reg, rt->text, &p, NULL) == 0 ? p : NULL;
}

/* Copies of t's steps (shallow: they share the scenario's strings) whose expect
 * steps parse with `reg`; *rts holds their arguments. NULL when out of memory. */
static px_step *steps_with_registry(const px_scn_test *t, const px_registry *reg, reg_text **rts)
{
    px_step *steps = calloc(t->nsteps ? t->nsteps : 1, sizeof *steps);
    *rts = calloc(t->nsteps ? t->nsteps : 1, sizeof **rts);
    if (!steps || !*rts) {
        free(steps);
        free(*rts);
        *rts = NULL;
        return NULL;
    }
    for (size_t i = 0; i < t->nsteps; i++) {
        steps[i] = t->steps[i];
        if (steps[i].kind == PX_STEP_EXPECT && !steps[i].make_predicate && steps[i].predicate) {
            (*rts)[i] = (reg_text){reg, steps[i].predicate};
            steps[i].make_predicate = parse_with_registry;
            steps[i].make_arg = &(*rts)[i];
        }
    }
    return steps;
}

static void run_test(px__runstate *R, const px_scenario *s, const px_scn_test *t, px_test_result *res, char **pcap_kept)
{
    const px_run_opts *o = R->o;
    px__test_run T = {.R = R, .s = s, .t = t, .status = PX_T_PASS};
    double t0 = px__run_now();
    *pcap_kept = NULL;
    char eb[PX_ERRBUF_SIZE] = "";
    char *evpath = NULL;
    px_step *steps = NULL; /* t's steps parsing with o->registry (NULL: t->steps as they are) */
    reg_text *rts = NULL;

    px_ctx_opts co = {.default_timeout_ms = px__run_scaled(o, s->timeout_ms),
                      .noise_filter_off = !s->noise_filter,
                      .ring_mib = RING_MIB,
                      .capture = (px_capture_mode)s->capture,
                      .block_timeout_ms = s->block_timeout_ms,
                      .verify_timeout_ms = px__run_scaled(o, PX_DEFAULT_VERIFY_TIMEOUT_MS),
                      .verify_negative_ms = px__run_scaled(o, PX_DEFAULT_VERIFY_NEGATIVE_MS)};
    T.ctx = px_ctx_new(&co, eb);
    if (!T.ctx) {
        px__test_problem(&T, PX_T_ERROR, "cannot create a context: %s", eb);
        goto done;
    }
    px_ctx_set_cancel_fd(T.ctx, R->cancel_fd); /* paced sends and replays stop at once too */
    const char *ports[64];
    size_t np = px__test_ports(t, ports, 64);
    if (o->pcap_dir && np > 0) {
        px_buf why = PX_BUF_INIT;
        int rc = px_evdir_create(&R->evdir, s->name, t->name, &T.ev, &evpath, &why);
        if (rc)
            px__test_problem(&T, PX_T_ERROR, "evidence: %s", px_buf_cstr(&why));
        px_buf_free(&why);
        if (rc)
            goto done;
        /* Before the ports open: the context records every frame they see and
         * every frame sent, as sent (VLAN pushed), and only what was sent. */
        eb[0] = '\0';
        if ((rc = px_ctx_record_into(T.ctx, T.ev, eb)) != 0) {
            px__test_problem(&T, PX_T_ERROR, "evidence: %s", eb);
            goto done;
        }
    }
    /* Open every port the test uses and start recording them. */
    T.recs = calloc(np ? np : 1, sizeof *T.recs);
    T.rec_futs = calloc(np ? np : 1, sizeof *T.rec_futs);
    if (!T.recs || !T.rec_futs) {
        px__test_problem(&T, PX_T_ERROR, "out of memory");
        goto done;
    }
    if (px__test_open_ports(&T, ports, np) != 0)
        goto done;
    /* Verification steps look back from here: every port of the test keeps its
     * frames from now on (docs/scenarios.md, verify). */
    if (px__test_verifies(t) && px__test_verify_begin(&T, ports, np) != 0)
        goto done;
    if (o->registry && !(steps = steps_with_registry(t, o->registry, &rts))) {
        px__test_problem(&T, PX_T_ERROR, "out of memory");
        goto done;
    }

    /* A FAIL does not stop the steps (the later ones may tell more); an ERROR
     * does: the test cannot be trusted to go on (docs/scenarios.md). */
    size_t si = 0;
    for (; si < t->nsteps && T.status != PX_T_ERROR; si++) {
        if (px__run_must_stop(R)) {
            px__test_problem(&T, PX_T_ERROR, "%s", R->deadline_hit ? "global deadline reached" : "interrupted");
            break;
        }
        px__test_step(&T, steps ? &steps[si] : &t->steps[si]);
    }
    /* A test that a signal or the deadline cut short is never PASS, even when its
     * last step happened to complete. */
    if (T.status == PX_T_PASS && px__run_must_stop(R))
        px__test_problem(&T, PX_T_ERROR, "%s", px__run_stop_reason(R));
    /* The steps an ERROR left out, in the report's output (JUnit system-out). */
    static const char *const step_names[] = {"expect", "send", "wait", "sleep", "exec", "cli", "verify",
                                             "verify_no_packet", "no_other_packets"};
    for (; si < t->nsteps; si++)
        px_buf_printf(&T.output, "skipped %s step at %s:%d (not run after the ERROR)\n",
                      (size_t)t->steps[si].kind < sizeof step_names / sizeof step_names[0]
                          ? step_names[t->steps[si].kind]
                          : "?",
                      t->steps[si].pos.file,
                      t->steps[si].pos.line);
    /* Every expectation is waited at the end (cancelled if the test already broke). */
    for (size_t i = 0; i < T.narm; i++) {
        if (T.status == PX_T_ERROR && !T.arm[i].waited)
            px_future_cancel(T.arm[i].f);
        px__test_wait_one(&T, &T.arm[i]);
    }
    /* A frame from 00:00:00:00:00:00 is dropped by a bridge: the likeliest cause. */
    if (T.status == PX_T_FAIL && T.src_notes.len)
        px_buf_append(&T.details, px_buf_cstr(&T.src_notes));

done:
    for (size_t i = 0; i < T.nrecs; i++) {
        if (T.rec_futs[i]) {
            px_future_cancel(T.rec_futs[i]);
            px_future_free(T.rec_futs[i]);
        }
    }
    for (size_t i = 0; i < T.narm; i++)
        px_future_free(T.arm[i].f);
    free(T.arm); /* the armed expectations pointed into steps */
    free(steps);
    free(rts);
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
    res->seconds = px__run_now() - t0;
    res->message = T.message.len ? px_buf_steal(&T.message) : NULL;
    res->details = T.details.len ? px_buf_steal(&T.details) : NULL;
    res->output = T.output.len ? px_buf_steal(&T.output) : NULL;
    px_buf_free(&T.message);
    px_buf_free(&T.details);
    px_buf_free(&T.src_notes);
    px_buf_free(&T.output);
}

/* ------------------------------------------------------------- the run */

/* Keeps the first error writing the report stream (a full disk, a closed pipe). */
static void check_out(px__runstate *R)
{
    errno = 0;
    if ((fflush(R->o->out) != 0 || ferror(R->o->out)) && !R->out_errno)
        R->out_errno = errno ? errno : EIO;
}

/* `report_details`, when not NULL, go into `rep` (JUnit) but not to the console
 * or TAP stream (text already printed once on stderr). */
static void emit(px__runstate *R, px_report *rep, const px_test_result *r, size_t idx, size_t total,
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
    px__runstate R = {.o = o, .t0 = px__run_now(), .cancel_fd = -1, .timer_fd = -1};
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
        px__topo tp = {0};
        px_buf why = PX_BUF_INIT;
        bool topo_ok = true;
        bool locked_out = false; /* another run holds the names: touch nothing */
        if (!px__run_must_stop(&R)) {
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
                rc = px__topo_build(s, &tp, &R, &why);
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
            } else if (px__run_must_stop(&R)) {
                r.status = PX_T_ERROR;
                r.message = R.deadline_hit ? "not run: global deadline reached" : "not run: interrupted";
            } else {
                if (o->verbose && !o->tap)
                    px__run_say(o, "[%zu/%zu] RUN   %s: %s\n", done + 1, total, s->name, t->name);
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
            px__topo_keep(s, &tp, o);
            px_tstate_end(tp.state, false); /* the state file stays for 'pktexpect clean' */
        } else if (!locked_out) {
            /* Left items keep the state file, so 'pktexpect clean' can retry. */
            px_tstate_end(tp.state, px__topo_teardown(s, &tp, &R));
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
