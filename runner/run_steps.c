/* pktexpect runner: one test's ports and steps (send, expect, wait, sleep,
 * exec, cli), on the test's context (run_internal.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/command.h"
#include "pktexpect/expect.h"
#include "pktexpect/expr.h"
#include "pktexpect/send.h"
#include "pktexpect/text.h"
#include "run_internal.h"
#include "stf.h"

#define SUMMARY_FRAMES_PER_PORT 20

static void rec_on_packet(void *state, const px_frame *f)
{
    recorder *r = state;
    r->frames++;
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
    .name = "summary",
    .on_packet = rec_on_packet,
    .on_finish = rec_on_finish,
    .destroy = rec_destroy,
};

void px__test_problem(px__test_run *T, px_tstatus st, const char *fmt, ...)
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

/* The library's name of a scenario port: "IFNAME", or "NETNS/IFNAME" for an
 * interface inside a namespace (context.h). The context opens the sockets in
 * the namespace itself, so one test can use ports of several namespaces, of the
 * same interface name too, and one expectation can span them. */
const char *px__test_lib_port(px__test_run *T, const char *scn_port, port_name *out)
{
    const px_scn_port *p = px_scenario_port(T->s, scn_port);
    if (p->netns)
        snprintf(out->s, sizeof out->s, "%s/%s", p->netns, p->ifname);
    else
        snprintf(out->s, sizeof out->s, "%s", p->ifname);
    return out->s;
}

/* Ports used by the test, each once. */
size_t px__test_ports(const px_scn_test *t, const char **out, size_t cap)
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

/* Remembers a sent frame whose source MAC a bridge or switch drops (zero) or that
 * no station may use (multicast), for the explanation of a FAIL (run.c). */
static void note_source_mac(px__test_run *T, const px_step *st, const char *port, const uint8_t *b, size_t len)
{
    static const uint8_t zero[6] = {0};
    if (len < 12 || (memcmp(b + 6, zero, 6) != 0 && !(b[6] & 1)))
        return;
    char mac[18];
    px_format_mac(b + 6, mac);
    px_buf_printf(&T->src_notes,
                  "note: %s:%d: the frame sent on %s has the %s source MAC %s: a bridge or switch may drop it "
                  "(leave Ether(src=...) out to send with the port's MAC)\n",
                  st->pos.file, st->pos.line, port, b[6] & 1 ? "multicast" : "zero", mac);
}

static void step_send(px__test_run *T, const px_step *st)
{
    char eb[PX_ERRBUF_SIZE] = "";
    if (st->pcap) {
        for (size_t j = 0; j < st->nports; j++) {
            port_name pn;
            int rc = px_replay(T->ctx, px__test_lib_port(T, st->ports[j], &pn), st->pcap, NULL, NULL, eb);
            px_buf_printf(&T->output, "send: replay %s on %s%s%s\n", st->pcap, st->ports[j], rc ? ": " : "",
                          rc ? eb : "");
            if (rc)
                px__test_problem(T, PX_T_ERROR, "%s:%d: replaying %s on %s: %s", st->pos.file, st->pos.line, st->pcap,
                                 st->ports[j],
                                 rc == PX_ECANCELED && px__run_must_stop(T->R) ? px__run_stop_reason(T->R) : eb);
            if (rc == PX_ECANCELED)
                break;
        }
        return;
    }
    if (!st->bytes) {
        px__test_problem(T, PX_T_ERROR, "%s:%d: no frame bytes (the frame text form is not available in this build)",
                         st->pos.file, st->pos.line);
        return;
    }
    const uint8_t *bytes = st->bytes;
    size_t len = st->nbytes;
    /* The sender pushes the tag (and the evidence shows the frame with it). */
    px_send_opts so = {.push_vlan = st->vlan >= 0,
                       .vlan_id = (uint16_t)(st->vlan >= 0 ? st->vlan : 0),
                       .vlan_pcp = st->vlan_pcp,
                       .vlan_tpid = st->vlan_tpid};
    /* A text that leaves the Ethernet source out is sent with each port's MAC, as
     * px_send_text does (docs/scenarios.md). */
    uint8_t *own = NULL;
    if (st->frame) {
        uint8_t *tmp = NULL;
        size_t tlen = 0;
        unsigned flags = 0;
        if (px_frame_parse_text_ex(st->frame, &tmp, &tlen, &flags, eb) == 0 && (flags & PX_TEXT_SRC_MAC_UNSET) &&
            tlen == len)
            own = malloc(len);
        free(tmp);
    }
    px_buf text = PX_BUF_INIT;
    for (size_t j = 0; j < st->nports; j++) {
        port_name pn;
        const char *port = px__test_lib_port(T, st->ports[j], &pn);
        const uint8_t *pb = bytes;
        if (own) {
            memcpy(own, bytes, len);
            if (px_port_mac(T->ctx, port, own + 6, NULL) == 0)
                pb = own; /* else the send below fails and says why */
        }
        note_source_mac(T, st, st->ports[j], pb, len);
        /* The text form of what is sent, for the report. */
        px_frame fv;
        px_frame_dissect(&fv, pb, (uint32_t)len, (uint32_t)len);
        px_buf_clear(&text);
        if (px_frame_to_text(&fv, &text) != 0)
            px_buf_append(&text, "(frame)");
        if (so.push_vlan)
            px_buf_printf(&text, " + vlan push(vid=%u, pcp=%u, tpid=0x%04x)", (unsigned)so.vlan_id,
                          (unsigned)so.vlan_pcp, so.vlan_tpid ? (unsigned)so.vlan_tpid : 0x8100u);
        int rc;
        if (st->send_count <= 1 && st->rate_pps <= 0) {
            rc = px_send_ex(T->ctx, port, pb, len, &so, eb);
        } else {
            px_tx_frame fr = {pb, len};
            px_pace_opts pace = {.count = st->send_count, .rate_fps = st->rate_pps};
            rc = px_send_paced(T->ctx, port, &fr, 1, &so, &pace, NULL, eb);
        }
        px_buf_printf(&T->output, "%s TX %s", st->ports[j], px_buf_cstr(&text));
        if (st->send_count > 1)
            px_buf_printf(&T->output, " x%u", (unsigned)st->send_count);
        px_buf_printf(&T->output, "%s%s\n", rc ? ": " : "", rc ? eb : "");
        if (T->R->o->verbose)
            px__run_say(T->R->o, "  send on %s: %s%s%s\n", st->ports[j], px_buf_cstr(&text), rc ? ": " : "",
                        rc ? eb : "");
        if (rc) {
            if (rc == PX_EPERM || rc == PX_ENODEV)
                T->R->env_error = true;
            px__test_problem(T, PX_T_ERROR, "%s:%d: sending on %s: %s", st->pos.file, st->pos.line, st->ports[j],
                             rc == PX_ECANCELED && px__run_must_stop(T->R) ? px__run_stop_reason(T->R) : eb);
            if (rc == PX_ECANCELED)
                break;
        }
    }
    px_buf_free(&text);
    free(own);
}

/* The step's predicate, a new one per call (each expectation owns its own);
 * NULL after px__test_problem. */
static px_predicate *step_predicate(px__test_run *T, const px_step *st)
{
    px_predicate *pred = NULL;
    px_expr_error e;
    memset(&e, 0, sizeof e);
    int rc = 0;
    if (st->make_predicate) {
        pred = st->make_predicate(st->make_arg);
        /* A refused constructor argument (predicates.h) is reported now, not at
         * the close of a window. */
        const char *why = pred ? px_predicate_error(pred) : px_strerror(PX_ENOMEM);
        if (why) {
            snprintf(e.message, sizeof e.message, "%s", why);
            px_predicate_free(pred);
            pred = NULL;
        }
        rc = pred ? 0 : PX_EINVAL;
    } else {
        rc = px_expr_parse(NULL, st->predicate, &pred, &e);
    }
    if (rc) {
        px__test_problem(T, PX_T_ERROR, "%s:%d: predicate: %s", st->predicate_pos.file, st->predicate_pos.line,
                         e.message);
        return NULL;
    }
    return pred;
}

bool px__test_keep_armed(px__test_run *T, const px_step *st, px_future *fut, size_t members, const char *port)
{
    if (!fut) {
        px__test_problem(T, PX_T_ERROR, "%s:%d: arming the expectation: %s", st->pos.file, st->pos.line,
                         px_strerror(PX_ENOMEM));
        return false;
    }
    px__armed *a = realloc(T->arm, (T->narm + 1) * sizeof *a);
    if (!a) {
        px_future_free(fut);
        px__test_problem(T, PX_T_ERROR, "out of memory");
        return false;
    }
    T->arm = a;
    T->arm[T->narm++] = (px__armed){fut, st, false, members, port};
    return true;
}

/* `port:` and `any:` arm one expectation over the step's ports; `each:` one per
 * port, one after the other before the step returns (so all are armed before
 * the next step sends anything), each with the step's timeout. */
static void step_expect(px__test_run *T, const px_step *st)
{
    px_expect_opts eo = {
        .timeout_ms = px__run_scaled(T->R->o, st->timeout_ms ? st->timeout_ms : T->s->timeout_ms),
        .count = st->count,
        .filter = st->filter,
        .name = st->name,
        .noise = st->noise_filter == 0 ? PX_NOISE_OFF : PX_NOISE_PORT,
    };
    if (st->each) {
        size_t first = T->narm;
        for (size_t j = 0; j < st->nports && j < PX_RUN_EXPECT_PORTS_MAX; j++) {
            px_predicate *pred = step_predicate(T, st);
            port_name pn;
            px_future *f = pred ? px_expect(T->ctx, px__test_lib_port(T, st->ports[j], &pn), pred, &eo) : NULL;
            if (!pred || !px__test_keep_armed(T, st, f, 0, st->ports[j]))
                break;
        }
        if (T->narm > first)
            T->arm[first].members = T->narm - first;
    } else {
        px_predicate *pred = step_predicate(T, st);
        if (!pred)
            return;
        port_name pn[PX_RUN_EXPECT_PORTS_MAX];
        const char *ports[PX_RUN_EXPECT_PORTS_MAX];
        size_t n = 0;
        for (size_t j = 0; j < st->nports && n < PX_RUN_EXPECT_PORTS_MAX; j++, n++)
            ports[n] = px__test_lib_port(T, st->ports[j], &pn[n]);
        px_future *fut =
            n == 1 ? px_expect(T->ctx, ports[0], pred, &eo) : px_expect_any(T->ctx, ports, n, pred, &eo);
        if (!px__test_keep_armed(T, st, fut, 1, NULL))
            return;
    }
    if (T->R->o->verbose)
        px__run_say(T->R->o, "  expect %s on %s%s%s\n", st->predicate, st->each && st->nports > 1 ? "each of " : "",
                    st->ports[0], st->nports > 1 ? ", ..." : "");
}

/* The scenario name of the port that decided an `any:` expectation (the
 * library names it as lib_port does), NULL when no frame decided. */
static const char *matched_port(px__test_run *T, const px_step *st, px_future *f)
{
    const char *lp = px_future_port(f);
    if (!lp)
        return NULL;
    for (size_t j = 0; j < st->nports; j++) {
        port_name pn;
        if (!strcmp(px__test_lib_port(T, st->ports[j], &pn), lp))
            return st->ports[j];
    }
    return lp;
}

/* The explanation of an `any:` step's future as the runner prints it after
 * "PASS on <port>": without the library's own "on '<interface>': " head, which
 * names the same port a second time. */
static const char *explanation_after_port(px_future *f, const char *on)
{
    const char *ex = px_future_explanation(f), *lp = px_future_port(f);
    if (!on || !lp)
        return ex;
    size_t n = strlen(lp);
    if (strncmp(ex, "on '", 4) == 0 && strncmp(ex + 4, lp, n) == 0 && strncmp(ex + 4 + n, "': ", 3) == 0)
        return ex + 4 + n + 3;
    return ex;
}

/* Waits for one future, polling the stop conditions. */
static void wait_future(px__test_run *T, px_future *f)
{
    while (px_future_wait_for(f, PX_RUN_POLL_MS) == PX_PENDING) {
        if (px__run_must_stop(T->R)) {
            px__test_problem(T, PX_T_ERROR, "%s while waiting for an expectation", px__run_stop_reason(T->R));
            px_future_cancel(f);
            break;
        }
    }
}

/* The explanation and the counters of a finished future, each line indented. */
static void future_report(px_buf *b, px_future *f, const char *indent)
{
    px_counters c;
    px_future_counters(f, &c);
    px_buf_printf(b,
                  "%s%s\n%sframes: %llu offered, %llu rejected by filter, %llu ignored as noise, "
                  "%llu dropped by capture, %llu truncated\n",
                  indent, px_future_explanation(f), indent, (unsigned long long)c.seen,
                  (unsigned long long)c.filtered, (unsigned long long)c.noise, (unsigned long long)c.drops,
                  (unsigned long long)c.truncated);
}

/* The one-line message keeps the start of an explanation; details have it all. */
static int short_len(const char *ex)
{
    size_t n = strcspn(ex, "\n");
    return (int)(n > 160 ? 160 : n);
}

/* How reports name the step of an armed future, appended to `out`: an expect
 * step by "expect" and its name or predicate (`expect_word` false: the name or
 * predicate alone, as the verbose lines have it), a verification step in its
 * own words (px__test_verify_head). `port`: one port of an each: step. */
static void step_head(px__test_run *T, const px_step *st, const char *port, bool expect_word, px_buf *out)
{
    if (st->kind != PX_STEP_EXPECT) {
        px__test_verify_head(T, st, port, false, out);
        return;
    }
    px_buf_printf(out, "%s%s", expect_word ? "expect " : "", st->name ? st->name : st->predicate);
    if (port)
        px_buf_printf(out, " on %s", port);
}

/* The head of a failure report in the details: an expect step's name with the
 * library's description of its expectation (`desc`), or its predicate (an
 * each: step's); a verification step in its own words and, with a name, what
 * it checks. */
static void report_head(px__test_run *T, const px_step *st, const char *desc, px_buf *out)
{
    if (st->kind != PX_STEP_EXPECT) {
        px__test_verify_head(T, st, NULL, true, out);
        return;
    }
    px_buf_append(out, "expect ");
    if (st->name)
        px_buf_printf(out, "%s (%s)", st->name, desc);
    else
        px_buf_append(out, desc);
}

/* An `each:` step: waits for its futures (a[0 .. a->members)), whose windows
 * run together, so this costs the longest window. The step's verdict is the
 * worst of them (ERROR over FAIL over PASS); the report names every port that
 * did not PASS and why. */
static void wait_each(px__test_run *T, px__armed *a)
{
    size_t n = a->members;
    /* A test that already broke waits out no window (run.c cancels the first future). */
    if (T->status == PX_T_ERROR)
        for (size_t i = 0; i < n; i++)
            if (!a[i].waited)
                px_future_cancel(a[i].f);
    for (size_t i = 0; i < n; i++) {
        if (px__run_must_stop(T->R))
            px_future_cancel(a[i].f);
        wait_future(T, a[i].f);
        a[i].waited = true;
    }
    const px_step *st = a->step;
    px_buf head = PX_BUF_INIT;
    px_verdict worst = PX_PASS;
    size_t nbad = 0, first_bad = 0;
    px_buf bad = PX_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        px_verdict v = px_future_verdict(a[i].f);
        px_buf_clear(&head);
        step_head(T, st, a[i].port, true, &head);
        px_buf_printf(&T->output, "%s: %s %s\n", px_buf_cstr(&head), px_verdict_name(v),
                      px_future_explanation(a[i].f));
        if (T->R->o->verbose) {
            px_buf_clear(&head);
            step_head(T, st, a[i].port, false, &head);
            px__run_say(T->R->o, "  %s: %s %s\n", px_buf_cstr(&head), px_verdict_name(v),
                        px_future_explanation(a[i].f));
        }
        if (v == PX_PASS)
            continue;
        if (v == PX_ERROR || v == PX_PENDING || worst == PX_PASS)
            worst = v == PX_FAIL ? PX_FAIL : PX_ERROR;
        if (!nbad++)
            first_bad = i;
        px_buf_printf(&bad, "%s%s (%s)", nbad > 1 ? ", " : "", a[i].port, px_verdict_name(v));
    }
    px_buf_clear(&head);
    step_head(T, st, NULL, true, &head);
    px_buf_printf(&T->output, "%s: %s on each of %zu ports%s%s\n", px_buf_cstr(&head), px_verdict_name(worst), n,
                  nbad ? "; not on " : "", px_buf_cstr(&bad));
    if (worst != PX_PASS) {
        /* One report for the step, headed by its place (report.c prints it
         * instead of the one-line message), then each port that did not PASS. */
        px_buf_printf(&T->details, "%s:%d: ", st->pos.file, st->pos.line);
        report_head(T, st, st->predicate, &T->details);
        /* A verification step's words already say "each of" its ports. */
        if (st->kind == PX_STEP_EXPECT)
            px_buf_printf(&T->details, " on each of %zu ports", n);
        px_buf_printf(&T->details, ": %s on %s\n", px_verdict_name(worst), px_buf_cstr(&bad));
        for (size_t i = 0; i < n; i++) {
            px_verdict v = px_future_verdict(a[i].f);
            if (v == PX_PASS)
                continue;
            px_buf_printf(&T->details, "  on %s: %s", a[i].port, px_verdict_name(v));
            if (px_future_has_value(a[i].f))
                px_buf_printf(&T->details, " (value %lld)", (long long)px_future_value(a[i].f));
            px_buf_append(&T->details, "\n");
            future_report(&T->details, a[i].f, "    ");
        }
        px_buf_append(&T->details, "\n");
        const char *ex = px_future_explanation(a[first_bad].f);
        int exlen = short_len(ex);
        px__test_problem(T, worst == PX_FAIL ? PX_T_FAIL : PX_T_ERROR, "%s:%d: %s: %s on %s: %.*s%s", st->pos.file,
                         st->pos.line, px_buf_cstr(&head), px_verdict_name(worst), px_buf_cstr(&bad), exlen, ex,
                         ex[exlen] ? "..." : "");
    }
    px_buf_free(&bad);
    px_buf_free(&head);
}

/* Waits for one px__armed expectation, polling the stop conditions. */
void px__test_wait_one(px__test_run *T, px__armed *a)
{
    if (a->waited)
        return;
    if (a->step->each) {
        if (a->members)
            wait_each(T, a);
        return; /* a later future of an each: step: its first one waits for it */
    }
    wait_future(T, a->f);
    a->waited = true;
    px_verdict v = px_future_verdict(a->f);
    const px_step *st = a->step;
    /* `any:` over several ports: which one the deciding frame came on. */
    const char *on = st->nports > 1 ? matched_port(T, st, a->f) : NULL;
    const char *ex = explanation_after_port(a->f, on);
    px_buf head = PX_BUF_INIT;
    step_head(T, st, NULL, true, &head);
    px_buf_printf(&T->output, "%s: %s%s%s %s\n", px_buf_cstr(&head), px_verdict_name(v), on ? " on " : "",
                  on ? on : "", ex);
    if (T->R->o->verbose) {
        px_buf vh = PX_BUF_INIT;
        step_head(T, st, NULL, false, &vh);
        px__run_say(T->R->o, "  %s: %s%s%s %s\n", px_buf_cstr(&vh), px_verdict_name(v), on ? " on " : "",
                    on ? on : "", ex);
        px_buf_free(&vh);
    }
    if (v == PX_PASS) {
        px_buf_free(&head);
        return;
    }
    /* One report per failed expectation, headed by its place so that the console
     * prints it instead of repeating the one-line message (report.c): the
     * predicate once, the explanation once, then the counters. */
    px_buf_printf(&T->details, "%s:%d: ", st->pos.file, st->pos.line);
    report_head(T, st, px_future_description(a->f), &T->details);
    px_buf_printf(&T->details, ": %s", px_verdict_name(v));
    if (on)
        px_buf_printf(&T->details, " on %s", on);
    if (px_future_has_value(a->f))
        px_buf_printf(&T->details, " (value %lld)", (long long)px_future_value(a->f));
    px_buf_append(&T->details, "\n");
    future_report(&T->details, a->f, "  ");
    px_buf_append(&T->details, "\n");
    int exlen = short_len(ex);
    px__test_problem(T, v == PX_FAIL ? PX_T_FAIL : PX_T_ERROR, "%s:%d: %s: %s%s%s: %.*s%s", st->pos.file,
                     st->pos.line, px_buf_cstr(&head), px_verdict_name(v), on ? " on " : "", on ? on : "", exlen,
                     ex, ex[exlen] ? "..." : "");
    px_buf_free(&head);
}

static void step_wait(px__test_run *T, const px_step *st)
{
    for (size_t i = 0; i < T->narm; i++) {
        bool want = st->wait_all;
        for (size_t j = 0; j < st->nnames && !want; j++)
            want = T->arm[i].step->name && !strcmp(T->arm[i].step->name, st->names[j]);
        if (want)
            px__test_wait_one(T, &T->arm[i]);
    }
}

static void step_exec(px__test_run *T, const px_step *st)
{
    px_buf out = PX_BUF_INIT;
    uint32_t tmo = px__run_scaled(T->R->o, st->cmd.timeout_ms ? st->cmd.timeout_ms : PX_RUN_CMD_TIMEOUT_MS);
    int rc = px_run_command(st->cmd.run, st->cmd.netns, tmo, T->R->o->stop, T->R->cancel_fd, &out);
    px_buf_printf(&T->output, "exec %s: exit %d\n%s", st->cmd.run, rc, px_buf_cstr(&out));
    if (T->R->o->verbose)
        px__run_say(T->R->o, "  exec %s: exit %d\n", st->cmd.run, rc);
    if (rc != st->cmd.exit_code) {
        if (rc == PX_ETIMEDOUT)
            px__test_problem(T, PX_T_ERROR, "%s:%d: exec '%s' timed out after %u ms", st->pos.file, st->pos.line,
                             st->cmd.run, (unsigned)tmo);
        else if (rc == PX_ECANCELED)
            px__test_problem(T, PX_T_ERROR, "%s:%d: exec '%s': %s", st->pos.file, st->pos.line, st->cmd.run,
                             px__run_must_stop(T->R) ? px__run_stop_reason(T->R) : "interrupted");
        else if (rc < 0)
            px__test_problem(T, PX_T_ERROR, "%s:%d: exec '%s': %s", st->pos.file, st->pos.line, st->cmd.run,
                             px_strerror(rc));
        else
            px__test_problem(T, PX_T_FAIL, "%s:%d: exec '%s' exited with %d, expected %d", st->pos.file, st->pos.line,
                             st->cmd.run, rc, st->cmd.exit_code);
        px_buf_printf(&T->details, "exec '%s' output:\n%s\n", st->cmd.run, px_buf_cstr(&out));
    }
    px_buf_free(&out);
}

/* A cli step's batch from its input_file: the loader's bound for a scenario file. */
#define CLI_INPUT_MAX (4u << 20)

/* Output of a failed command in a report: its first CLI_SHOWN_MAX bytes. */
#define CLI_SHOWN_MAX 8192
static void show_output(px_buf *to, const px_buf *out)
{
    size_t n = out->len < CLI_SHOWN_MAX ? out->len : CLI_SHOWN_MAX;
    px_buf_append_n(to, px_buf_cstr(out), n);
    if (n < out->len)
        px_buf_printf(to, "\n(%zu more bytes of output not shown)", out->len - n);
    px_buf_append(to, "\n");
}

static void step_cli(px__test_run *T, const px_step *st)
{
    char why[PX_ERRBUF_SIZE] = "";
    size_t len = 0;
    char *batch = NULL;
    if (st->input_file) {
        px_buf e = PX_BUF_INIT;
        int rc = px__read_file_bounded(st->input_file, CLI_INPUT_MAX, &batch, &len, &e);
        if (rc) {
            const char *msg = rc == PX_ENOMEM ? px_strerror(rc) : px_buf_cstr(&e);
            px__test_problem(T, PX_T_ERROR, "%s:%d: cli input_file %.*s", st->pos.file, st->pos.line,
                             (int)strcspn(msg, "\n"), msg);
            px_buf_free(&e);
            return;
        }
        px_buf_free(&e);
    }
    const char *input = batch ? batch : st->input;
    if (!batch)
        len = strlen(input);
    px_buf out = PX_BUF_INIT;
    uint32_t tmo = px__run_scaled(T->R->o, st->cmd.timeout_ms ? st->cmd.timeout_ms : PX_RUN_CMD_TIMEOUT_MS);
    px_cmd_opts co = {.netns = st->cmd.netns, .input = input, .input_len = len, .timeout_ms = tmo,
                      .stop = T->R->o->stop, .cancel_fd = T->R->cancel_fd};
    px_ctl_result res;
    int rc = px_ctl_run(st->cmd.run, &co, (const char *const *)st->error_patterns, st->nerror_patterns, &out, &res,
                        why);
    free(batch);
    px_buf_printf(&T->output, "cli %s: %s\n%s", st->cmd.run, rc ? why : "ok", px_buf_cstr(&out));
    if (T->R->o->verbose)
        px__run_say(T->R->o, "  cli %s: %s\n", st->cmd.run, rc ? why : "ok");
    if (rc) {
        if (rc == PX_ECANCELED)
            px__test_problem(T, PX_T_ERROR, "%s:%d: cli '%s': %s", st->pos.file, st->pos.line, st->cmd.run,
                             px__run_must_stop(T->R) ? px__run_stop_reason(T->R) : "interrupted");
        else if (rc == PX_ETIMEDOUT)
            px__test_problem(T, PX_T_ERROR, "%s:%d: cli '%s' timed out after %u ms", st->pos.file, st->pos.line,
                             st->cmd.run, (unsigned)tmo);
        else
            px__test_problem(T, rc > 0 ? PX_T_FAIL : PX_T_ERROR, "%s:%d: cli %s", st->pos.file, st->pos.line, why);
        px_buf_printf(&T->details, "%s:%d: cli %s\ncli '%s' output:\n", st->pos.file, st->pos.line, why,
                      st->cmd.run);
        show_output(&T->details, &out);
    }
    px_buf_free(&out);
}

int px__test_open_ports(px__test_run *T, const char *const *ports, size_t np)
{
    char eb[PX_ERRBUF_SIZE] = "";
    for (size_t i = 0; i < np; i++) {
        const px_scn_port *p = px_scenario_port(T->s, ports[i]);
        port_name pn;
        const char *port = px__test_lib_port(T, ports[i], &pn);
        eb[0] = '\0';
        int rc = px_port_open(T->ctx, port, eb);
        if (rc) {
            if (rc == PX_EPERM || rc == PX_ENODEV)
                T->R->env_error = true;
            px__test_problem(T, PX_T_ERROR, "opening port '%s': %s", p->name, eb);
            return rc;
        }
        recorder *r = &T->recs[i];
        r->port = p->name;
        px_predicate *rp = px_predicate_new(&recorder_ops, r);
        px_expect_opts ro = {.timeout_ms = 86400000u, .noise = PX_NOISE_OFF, .name = "recorder"};
        if (rp)
            T->rec_futs[i] = px_expect(T->ctx, port, rp, &ro);
        T->nrecs = i + 1;
    }
    return 0;
}

void px__test_step(px__test_run *T, const px_step *st)
{
    switch (st->kind) {
    case PX_STEP_EXPECT:
        step_expect(T, st);
        break;
    case PX_STEP_SEND:
        step_send(T, st);
        break;
    case PX_STEP_WAIT:
        step_wait(T, st);
        break;
    case PX_STEP_SLEEP:
        if (T->R->o->verbose)
            px__run_say(T->R->o, "  sleep %u ms\n", (unsigned)st->sleep_ms);
        if (!px__run_nap(T->R, px__run_scaled(T->R->o, st->sleep_ms)))
            px__test_problem(T, PX_T_ERROR, "%s", T->R->deadline_hit ? "global deadline reached" : "interrupted");
        break;
    case PX_STEP_EXEC:
        step_exec(T, st);
        break;
    case PX_STEP_CLI:
        step_cli(T, st);
        break;
    case PX_STEP_VERIFY:
    case PX_STEP_VERIFY_NONE:
    case PX_STEP_NO_OTHER:
        px__test_verify_step(T, st);
        break;
    }
}
