/* Ports on BMv2's nanomsg packet interface ("bmv2:ADDR:N", harness/source_bmv2.c),
 * without BMv2 and without root: a peer written for the test (tests/bmv2_peer.h)
 * binds an ipc:// address in a temporary directory and behaves as
 * `simple_switch --packet-in` does, echoing a frame sent into port i out of
 * port i + 1.
 *
 *   names: the form is checked, bad names fail with the form     test_bmv2_names
 *   arm then send PASSes, no sleep; ports announced (PORT_ADD)    test_bmv2_arm_then_send
 *   negative checks PASS and FAIL by what the switch sends        test_bmv2_negative
 *   count limits and counts over a 1000-frame burst               test_bmv2_counts
 *   evidence: sent and received frames, names kept                test_bmv2_evidence
 *   a full port queue drops, counts the drops and flags the next
 *   frame (no silent loss: verdicts then become ERROR)             test_bmv2_queue_full_counts_drops
 *   the switch goes away: pending futures ERROR, sends fail       test_bmv2_peer_gone
 *   a switch restarted at the same address is not taken for the
 *   one the port had (frames were lost): ERROR, then a new hub    test_bmv2_switch_restarted
 *   no switch at the address: ERROR with what to do, no hang      test_bmv2_unreachable
 *   an info request lost (the switch still held its last peer's
 *   connection): asked again, the port opens                       test_bmv2_info_request_lost
 *   YAML: bmv2: ports under ports:, checked at load, run as is    test_bmv2_scenario
 *   YAML any:/each: run: any PASSes naming the port, each FAILs
 *   naming the port that failed, in the TAP/JUnit/console reports test_bmv2_scenario_any_each
 *   YAML verify, verify_no_packet, no_other_packets: reported in
 *   the step's words, not as expect steps                          test_bmv2_scenario_verify_labels
 *   a program-built step whose constructor refuses: ERROR at once test_bmv2_scenario_refused_predicate
 *
 * With PX_BMV2_PEER set to a program (unit/test_bmv2_nng: tests/bmv2_nng_peer.c,
 * the same stand-in on nng's nanomsg compatibility layer, as recent BMv2 is
 * built), the tests run against that program in its own process instead; the
 * checks that look inside the in-process peer are left out then.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bmv2.h"
#include "bmv2_peer.h"
#include "pcap_read.h"
#include "source.h"
#include "pktexpect/pktexpect.h"
#include "run.h"

#define ETYPE 0x88b5

typedef struct fixture {
    char dir[64];
    char addr[128];
    char port[4][160];
    bmv2_peer peer;
    pid_t pid;          /* PX_BMV2_PEER: the peer's process */
    bool peer_up;
    px_ctx *ctx;
} fixture;

/* The peer program to run instead of the in-process peer, or NULL. */
static const char *ext_peer(void)
{
    const char *e = getenv("PX_BMV2_PEER");
    return e && *e ? e : NULL;
}

static void peer_up(fixture *f)
{
    const char *ext = ext_peer();
    if (!ext) {
        assert_int_equal(bmv2_peer_start(&f->peer, f->addr), 0);
        f->peer_up = true;
        return;
    }
    char path[200];
    snprintf(path, sizeof path, "%s/sw.ipc", f->dir);
    unlink(path);
    pid_t pid = fork();
    if (pid == 0) {
        execl(ext, ext, f->addr, (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    f->pid = pid;
    f->peer_up = true;
    /* It listens once its socket file exists (a safety net of 10 s). */
    for (int i = 0; i < 1000 && access(path, F_OK) != 0; i++)
        usleep(10000);
    assert_int_equal(access(path, F_OK), 0);
}

static void peer_down(fixture *f)
{
    if (!ext_peer()) {
        bmv2_peer_stop(&f->peer);
    } else {
        /* Bounded: a peer that does not exit on SIGTERM fails the test, not hangs it. */
        kill(f->pid, SIGTERM);
        pid_t r = 0;
        for (int i = 0; i < 1000 && (r = waitpid(f->pid, NULL, WNOHANG)) == 0; i++)
            usleep(10000);
        if (r == 0) {
            kill(f->pid, SIGKILL);
            waitpid(f->pid, NULL, 0);
            f->peer_up = false;
            fail_msg("the peer program did not exit within 10 s of SIGTERM");
        }
    }
    f->peer_up = false;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "%s/pxbmv2-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->addr, sizeof f->addr, "ipc://%s/sw.ipc", f->dir);
    for (int i = 0; i < 4; i++)
        snprintf(f->port[i], sizeof f->port[i], "bmv2:%s:%d", f->addr, i);
    peer_up(f);
    char err[PX_ERRBUF_SIZE];
    f->ctx = px_ctx_new(NULL, err);
    assert_non_null(f->ctx);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    px_ctx_free(f->ctx);
    if (f->peer_up)
        peer_down(f);
    char path[200];
    snprintf(path, sizeof path, "%s/sw.ipc", f->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/evidence.pcapng", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* A 60-byte frame of ethertype `type`, numbered `seq`. */
static void frame(uint8_t b[60], uint16_t type, uint8_t seq)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
    memset(b, 0, 60);
    memcpy(b, macs, 12);
    b[12] = (uint8_t)(type >> 8);
    b[13] = (uint8_t)type;
    b[14] = seq;
}

static px_future *expect(fixture *f, int port, px_predicate *pred, uint32_t ms, uint32_t count)
{
    px_expect_opts o = {.timeout_ms = ms, .count = count};
    px_future *fu = px_expect(f->ctx, f->port[port], pred, &o);
    assert_non_null(fu);
    return fu;
}

static void send_on(fixture *f, int port, uint16_t type, uint8_t seq)
{
    uint8_t b[60];
    frame(b, type, seq);
    char err[PX_ERRBUF_SIZE] = "";
    int rc = px_send(f->ctx, f->port[port], b, sizeof b, err);
    if (rc != 0)
        fail_msg("send: %s", err);
}

/* A send on `port` fails, saying `why`. */
static void send_fails(fixture *f, const char *port, const char *why)
{
    uint8_t b[60];
    frame(b, ETYPE, 1);
    char err[PX_ERRBUF_SIZE] = "";
    assert_true(px_send(f->ctx, port, b, sizeof b, err) < 0);
    if (!strstr(err, why))
        fail_msg("send error without '%s': %s", why, err);
}

static void test_bmv2_names(void **state)
{
    (void)state;
    char addr[PX__BMV2_ADDR_MAX], err[PX_ERRBUF_SIZE];
    int port = -1;
    assert_int_equal(px__bmv2_parse("bmv2:ipc:///tmp/x.ipc:3", addr, &port, err), 0);
    assert_string_equal(addr, "ipc:///tmp/x.ipc");
    assert_int_equal(port, 3);
    assert_int_equal(px__bmv2_parse("bmv2:tcp://127.0.0.1:9999:0", addr, &port, err), 0);
    assert_string_equal(addr, "tcp://127.0.0.1:9999");
    assert_int_equal(port, 0);
    const char *bad[] = {"bmv2:ipc:///tmp/x.ipc", "bmv2:ipc:///tmp/x.ipc:01", "bmv2:ipc:///tmp/x.ipc:-1",
                         "bmv2:udp://h:1:0", "bmv2:ipc://:1", "bmv2:tcp://h:1:1x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(px__bmv2_parse(bad[i], addr, &port, err), PX_EINVAL);
        assert_non_null(strstr(err, "bmv2:"));
    }
    /* Through the public API: a future resolved ERROR with the form. */
    px_ctx *ctx = px_ctx_new(NULL, NULL);
    px_future *fu = px_expect(ctx, "bmv2:ipc:///nowhere.ipc", px_received_packet(), NULL);
    assert_int_equal(px_future_wait(fu), PX_ERROR);
    assert_non_null(strstr(px_future_explanation(fu), "bmv2:ipc:///PATH:N"));
    px_future_free(fu);
    px_ctx_free(ctx);
}

static void test_bmv2_arm_then_send(void **state)
{
    fixture *f = *state;
    px_future *fu = expect(f, 1, px_saw_ethertype(ETYPE), 5000, 0);
    send_on(f, 0, ETYPE, 1); /* no sleep between the arm and the send */
    assert_int_equal(px_future_wait(fu), PX_PASS);
    px_future_free(fu);
    if (!ext_peer()) {
        assert_int_equal(atomic_load(&f->peer.added_mask) & 0x3u, 0x3u); /* ports 0 and 1 announced */
        assert_int_equal(atomic_load(&f->peer.info_reqs) >= 1, 1);
    }
    /* Frames that came out before an arm are not in its window. */
    px_future *late = expect(f, 1, px_saw_ethertype(ETYPE), 300, 0);
    assert_int_equal(px_future_wait(late), PX_FAIL);
    px_future_free(late);
}

static void test_bmv2_info_request_lost(void **state)
{
    fixture *f = *state;
    if (ext_peer())
        skip(); /* the in-process peer leaves requests unanswered */
    atomic_store(&f->peer.ignore_info, 2);
    px_future *fu = expect(f, 1, px_saw_ethertype(ETYPE), 5000, 0);
    send_on(f, 0, ETYPE, 1);
    assert_int_equal(px_future_wait(fu), PX_PASS);
    px_future_free(fu);
    assert_true(atomic_load(&f->peer.info_reqs) >= 3); /* two left unanswered, then the reply */
}

static void test_bmv2_negative(void **state)
{
    fixture *f = *state;
    /* The switch sends the frame out of port 1 only. */
    px_future *none2 = expect(f, 2, px_did_not_see_ethertype(ETYPE), 400, 0);
    px_future *none1 = expect(f, 1, px_did_not_see_ethertype(ETYPE), 400, 0);
    send_on(f, 0, ETYPE, 7);
    px_future *both[2] = {none2, none1};
    assert_int_equal(px_future_wait_all(both, 2, 10000), 0);
    assert_int_equal(px_future_verdict(none2), PX_PASS);
    assert_int_equal(px_future_verdict(none1), PX_FAIL);
    px_future_free(none2);
    px_future_free(none1);
}

static void test_bmv2_counts(void **state)
{
    fixture *f = *state;
    enum { N = 1000 }; /* the burst of docs/p4.md's router suite */
    static uint8_t bytes[N][60];
    static px_tx_frame fr[N];
    for (int i = 0; i < N; i++) {
        frame(bytes[i], ETYPE, (uint8_t)i);
        fr[i] = (px_tx_frame){bytes[i], sizeof bytes[i]};
    }
    px_future *first5 = expect(f, 2, px_packet_count(), 5000, 5);
    px_future *all = expect(f, 2, px_packet_count_was(N), 3000, 0);
    char err[PX_ERRBUF_SIZE] = "";
    size_t sent = 0;
    if (px_send_burst(f->ctx, f->port[1], fr, N, NULL, &sent, err) != 0)
        fail_msg("burst: %s", err);
    assert_int_equal(sent, N);
    assert_int_equal(px_future_wait(first5), PX_PASS);
    assert_int_equal(px_future_value(first5), 5); /* the count limit ended it */
    assert_int_equal(px_future_wait(all), PX_PASS);
    assert_int_equal(px_future_value(all), N);
    px_future_free(first5);
    px_future_free(all);
    px_port_stats st;
    assert_int_equal(px_port_get_stats(f->ctx, f->port[2], &st), 0);
    assert_int_equal(st.frames, N);
    assert_int_equal(st.drops, 0);
}

static void test_bmv2_evidence(void **state)
{
    fixture *f = *state;
    char path[200], err[PX_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/evidence.pcapng", f->dir);
    assert_int_equal(px_ctx_record(f->ctx, path, err), 0);
    px_future *fu = expect(f, 1, px_saw_ethertype(ETYPE), 5000, 0);
    send_on(f, 0, ETYPE, 42);
    assert_int_equal(px_future_wait(fu), PX_PASS);
    px_future_free(fu);
    assert_int_equal(px_ctx_record_flush(f->ctx), 0);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    px__pcap_reader *rd = px__pcap_reader_new(fileno(fp), err);
    assert_non_null(rd);
    int out0 = 0, in1 = 0;
    px__pcap_rec rec;
    while (px__pcap_reader_next(rd, &rec, err) == 1) {
        if (rec.type != PX__PCAP_REC_FRAME || rec.caplen < 15 || rec.data[14] != 42)
            continue;
        if (rec.outbound && rec.iface_name && strcmp(rec.iface_name, f->port[0]) == 0)
            out0++;
        if (!rec.outbound && rec.iface_name && strcmp(rec.iface_name, f->port[1]) == 0)
            in1++;
    }
    px__pcap_reader_free(rd);
    fclose(fp);
    assert_int_equal(out0, 1);
    assert_int_equal(in1, 1);
}

static void test_bmv2_queue_full_counts_drops(void **state)
{
    fixture *f = *state;
    if (ext_peer())
        skip(); /* the test makes the in-process peer send */
    char err[PX_ERRBUF_SIZE] = "";
    px__source *src = NULL;
    /* The source alone: nothing reads its queue until the test does. */
    if (px__source_bmv2_open(f->ctx, f->port[3], &src, err) != 0)
        fail_msg("%s", err);
    enum { EXTRA = 10 };
    uint8_t b[60];
    frame(b, ETYPE, 0);
    for (int i = 0; i < PX__BMV2_QUEUE_MAX + EXTRA; i++)
        assert_int_equal(bmv2_peer_emit(&f->peer, 3, b, sizeof b), 0);
    /* Safety net only: the reader queues them within milliseconds. */
    for (int i = 0; i < 1000 && src->ops->drops(src) < EXTRA; i++)
        usleep(10000);
    assert_int_equal(src->ops->drops(src), EXTRA);
    assert_int_equal(src->ops->backlog(src), PX__BMV2_QUEUE_MAX);
    px__src_frame sf;
    size_t n = 0;
    while (src->ops->next(src, &sf, err) == 1) {
        assert_int_equal(sf.flags & PX__SRC_LOSING, 0);
        src->ops->release(src);
        n++;
    }
    assert_int_equal(n, PX__BMV2_QUEUE_MAX);
    /* The first frame after the loss says so. */
    assert_int_equal(bmv2_peer_emit(&f->peer, 3, b, sizeof b), 0);
    int rc = 0;
    for (int i = 0; i < 1000 && (rc = src->ops->next(src, &sf, err)) == 0; i++)
        usleep(10000);
    assert_int_equal(rc, 1);
    assert_true(sf.flags & PX__SRC_LOSING);
    src->ops->release(src);
    src->ops->close(src);
}

static void test_bmv2_peer_gone(void **state)
{
    fixture *f = *state;
    px_future *fu = expect(f, 1, px_saw_ethertype(0x1234), 20000, 0);
    peer_down(f);
    /* A generous safety net: the port notices within a receive tick. */
    assert_int_equal(px_future_wait_for(fu, 15000), PX_ERROR);
    assert_non_null(strstr(px_future_explanation(fu), "went away"));
    px_future_free(fu);
    send_fails(f, f->port[0], f->addr);
}

static void test_bmv2_switch_restarted(void **state)
{
    fixture *f = *state;
    px_future *fu = expect(f, 1, px_saw_ethertype(0x1234), 20000, 0);
    peer_down(f);
    peer_up(f); /* at once */
    assert_int_equal(px_future_wait_for(fu, 15000), PX_ERROR);
    assert_non_null(strstr(px_future_explanation(fu), "went away"));
    px_future_free(fu);
    /* The next use connects afresh to the new switch. */
    px_future *again = expect(f, 1, px_saw_ethertype(ETYPE), 5000, 0);
    send_on(f, 0, ETYPE, 3);
    assert_int_equal(px_future_wait(again), PX_PASS);
    px_future_free(again);
}

static void test_bmv2_unreachable(void **state)
{
    fixture *f = *state;
    char name[200];
    snprintf(name, sizeof name, "bmv2:ipc://%s/none.ipc:0", f->dir);
    px_expect_opts o = {.timeout_ms = 1000};
    px_future *fu = px_expect(f->ctx, name, px_received_packet(), &o);
    assert_non_null(fu);
    assert_int_equal(px_future_wait_for(fu, 20000), PX_ERROR);
    assert_non_null(strstr(px_future_explanation(fu), "--packet-in"));
    px_future_free(fu);
    send_fails(f, name, "--packet-in");
}

static int load(const char *text, px_scenario **s, px_buf *errs)
{
    px_buf_clear(errs);
    return px_scenario_load_string("t.yaml", text, strlen(text), px_run_checkers(), NULL, 0, s, errs);
}

static void test_bmv2_scenario(void **state)
{
    fixture *f = *state;
    px_buf errs = PX_BUF_INIT;
    px_scenario *s = NULL;
    /* Bad names and a namespace are refused at load, with the form. */
    assert_int_equal(load("ports: { a: 'bmv2:ipc:///x.ipc', b: { interface: 'bmv2:ipc:///x.ipc:1', netns: n } }\n"
                          "tests: []\n",
                          &s, &errs),
                     PX_EPARSE);
    if (!strstr(px_buf_cstr(&errs), "t.yaml:1:13: port interface: port 'bmv2:ipc:///x.ipc': the form is"))
        fail_msg("%s", px_buf_cstr(&errs));
    assert_non_null(strstr(px_buf_cstr(&errs), "a bmv2: port has no namespace"));

    /* The switch forwards port 0 to port 1 and nothing to port 2. */
    char text[1024];
    snprintf(text, sizeof text,
             "ports:\n  in: '%s'\n  out: { interface: '%s' }\n  other: '%s'\n"
             "tests:\n  - name: forward\n    steps:\n"
             "      - expect: { port: out, predicate: 'saw_ethertype(0x88b5)', timeout: 5s }\n"
             "      - expect: { port: other, predicate: 'did_not_see_ethertype(0x88b5)', timeout: 300ms }\n"
             "      - send: { port: in, frame: 'Ether(dst=02:00:00:00:00:02, type=0x88b5)/Raw(\"hi\")' }\n"
             "      - wait: all\n",
             f->port[0], f->port[1], f->port[2]);
    if (load(text, &s, &errs) != 0)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_string_equal(px_scenario_port(s, "in")->ifname, f->port[0]); /* passed through unchanged */
    char *out = NULL;
    size_t outlen = 0;
    FILE *o = open_memstream(&out, &outlen);
    px_run_opts ro = {.out = o, .err = o};
    px_report rep = {0};
    int rc = px_run(&s, 1, &ro, &rep);
    fclose(o);
    if (rc != PX_EXIT_PASS)
        fail_msg("run: %d\n%s", rc, out);
    assert_int_equal(rep.n, 1);
    assert_int_equal(rep.r[0].status, PX_T_PASS);
    free(out);
    px_report_free(&rep);
    px_scenario_free(s);
    px_buf_free(&errs);
}

/* Loads scenario `text` (the first step of its first test made by `make` when
 * not NULL, as `pktexpect stf` makes them) and runs it into *rep; returns what
 * the run printed (caller frees). */
static char *run_text_with(const char *text, px_scenario **s, px_report *rep, px_predicate *(*make)(void *))
{
    px_buf errs = PX_BUF_INIT;
    if (load(text, s, &errs) != 0)
        fail_msg("%s", px_buf_cstr(&errs));
    px_buf_free(&errs);
    if (make)
        (*s)->tests[0].steps[0].make_predicate = make;
    char *out = NULL;
    size_t outlen = 0;
    FILE *o = open_memstream(&out, &outlen);
    assert_non_null(o);
    px_run_opts ro = {.out = o, .err = o};
    px_run(s, 1, &ro, rep);
    fclose(o);
    return out;
}

static char *run_text(const char *text, px_scenario **s, px_report *rep) { return run_text_with(text, s, rep, NULL); }

/* The text a report writer writes for result i of rep (tap, junit or console). */
static char *report_text(const px_report *rep, size_t i, const char *kind)
{
    char *text = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&text, &len);
    assert_non_null(o);
    if (!strcmp(kind, "tap"))
        px_report_tap_test(o, &rep->r[i], i + 1);
    else if (!strcmp(kind, "junit"))
        assert_int_equal(px_report_write_junit(rep, o), 0);
    else
        px_report_console_test(o, &rep->r[i], i + 1, rep->n, false);
    assert_int_equal(fclose(o), 0);
    return text;
}

/* Expect steps on several ports, run as is: the switch forwards port 0 to port 1
 * and nothing to port 2. `any: [out, other]` PASSes and names `out`; `each:`
 * over the same ports FAILs and every report names `other` (and not `out`) as the
 * port that failed; a negative `any:` FAILs and names the port of the offender. */
static void test_bmv2_scenario_any_each(void **state)
{
    fixture *f = *state;
    px_scenario *s = NULL;
    char text[2048];
    const char *send = "      - send: { port: in, frame: 'Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01, type=0x88b5)/Raw(\"hi\")' }\n";
    snprintf(text, sizeof text,
             "ports:\n  in: '%s'\n  out: '%s'\n  other: '%s'\n"
             "tests:\n"
             "  - name: any\n    steps:\n"
             "      - expect: { name: reach, any: [other, out], predicate: 'saw_ethertype(0x88b5)', timeout: 5s }\n%s"
             "  - name: each\n    steps:\n"
             "      - expect: { name: flood, each: [out, other], predicate: 'saw_ethertype(0x88b5)', timeout: 1s }\n%s"
             "  - name: none\n    steps:\n"
             "      - expect: { name: quiet, any: [other, out], predicate: 'timed_out()', timeout: 1s }\n%s",
             f->port[0], f->port[1], f->port[2], send, send, send);
    px_report rep = {0};
    char *out = run_text(text, &s, &rep);
    assert_int_equal(rep.n, 3);
    const px_test_result *any = &rep.r[0], *each = &rep.r[1], *none = &rep.r[2];
    if (any->status != PX_T_PASS || each->status != PX_T_FAIL || none->status != PX_T_FAIL)
        fail_msg("statuses %d %d %d\n%s", any->status, each->status, none->status, out);

    /* any: the port that matched, in the test's output (JUnit system-out). */
    assert_non_null(any->output);
    if (!strstr(any->output, "expect reach: PASS on out "))
        fail_msg("%s", any->output);

    /* each: a verdict per port, then the step's; the message and the details
     * name the port that failed, never the one that passed. */
    if (!strstr(each->output, "expect flood on out: PASS ") || !strstr(each->output, "expect flood on other: FAIL ") ||
        !strstr(each->output, "expect flood: FAIL on each of 2 ports; not on other (FAIL)\n"))
        fail_msg("%s", each->output);
    assert_non_null(strstr(each->message, "t.yaml:12: expect flood: FAIL on other (FAIL): "));
    assert_non_null(strstr(each->details, " on each of 2 ports: FAIL on other (FAIL)\n  on other: FAIL\n"));
    assert_null(strstr(each->details, "on out"));

    /* A negative any: the port of the frame that decided. */
    assert_non_null(strstr(none->message, "expect quiet: FAIL on out: "));

    for (int k = 0; k < 3; k++) {
        const char *kind = k == 0 ? "tap" : k == 1 ? "junit" : "console";
        char *r1 = report_text(&rep, 1, kind), *r2 = report_text(&rep, 2, kind);
        if (!strstr(r1, "FAIL on other (FAIL)") || !strstr(r1, "on other: FAIL") || !strstr(r2, "FAIL on out"))
            fail_msg("%s:\n%s\n%s", kind, r1, r2);
        if (k == 1 && !strstr(r1, "expect reach: PASS on out "))
            fail_msg("junit:\n%s", r1);
        free(r1);
        free(r2);
    }
    free(out);
    px_report_free(&rep);
    px_scenario_free(s);
}

/* Reports name the verification steps in the words of the step, never as
 * expect steps: `verify PORT: FRAME within T`, `verify_no_packet ...`,
 * `no_other_packets on PORTS (except PORTS) within T`, or by their `name:`;
 * in the test's output (JUnit system-out), the one-line message, the details
 * and so in the TAP, JUnit and console reports. The switch forwards port 0 to
 * port 1. One test (one context): the first four steps PASS; after the mark
 * the first no_other_packets moved, `got` takes one F on out, the each: verify
 * FAILs on other, G (sent first, so there before F) makes the negative `any:`
 * FAIL and `quiet` FAIL. */
#define LBL_F "Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01, type=0x88b5)/Raw(\"hi\")"
#define LBL_G "Ether(dst=02:00:00:00:00:02, src=02:00:00:00:00:01, type=0x88b6)/Raw(\"g\")"
static void test_bmv2_scenario_verify_labels(void **state)
{
    fixture *f = *state;
    px_scenario *s = NULL;
    char text[4096];
    snprintf(text, sizeof text,
             "ports:\n  in: '%s'\n  out: '%s'\n  other: '%s'\n"
             "tests:\n"
             "  - name: ptf\n    steps:\n"
             "      - send: { port: in, frame: '" LBL_F "' }\n"
             "      - verify: { port: out, frame: '" LBL_F "' }\n"
             "      - verify_no_packet: { port: other }\n"
             "      - no_other_packets: {}\n"
             "      - wait: all\n"
             "      - send: { port: in, frame: '" LBL_G "' }\n"
             "      - send: { port: in, frame: '" LBL_F "', count: 2 }\n"
             "      - verify: { any: [other, out], frame: '" LBL_F "', name: got }\n"
             "      - verify: { each: [out, other], frame: '" LBL_F "', timeout: 1s }\n"
             "      - wait: all\n"
             "      - verify_no_packet: { any: [other, out], frame: '" LBL_G "' }\n"
             "      - no_other_packets: { name: quiet, except: other }\n",
             f->port[0], f->port[1], f->port[2]);
    px_report rep = {0};
    char *out = run_text(text, &s, &rep);
    assert_int_equal(rep.n, 1);
    const px_test_result *r = &rep.r[0];
    if (r->status != PX_T_FAIL || !r->output || !r->message || !r->details)
        fail_msg("status %d\n%s\n%s\n%s", r->status, r->output ? r->output : "", r->message ? r->message : "",
                 r->details ? r->details : "");

    const char *each = "t.yaml:16: verify each of out, other: " LBL_F " within 1s: ";
    if (!strstr(r->output, "verify out: " LBL_F " within 2s: PASS ") ||
        !strstr(r->output, "verify_no_packet other within 100ms: PASS ") ||
        !strstr(r->output, "no_other_packets on in, out, other within 100ms: PASS ") ||
        !strstr(r->output, "verify got: PASS on out ") ||
        !strstr(r->output, "verify out: " LBL_F " within 1s: PASS ") ||
        !strstr(r->output, "verify other: " LBL_F " within 1s: FAIL ") || !strstr(r->output, each + 11) ||
        !strstr(r->output, "verify_no_packet any of other, out: " LBL_G " within 100ms: FAIL expected no frame") ||
        !strstr(r->output, "no_other_packets quiet: FAIL "))
        fail_msg("%s", r->output);
    /* The first problem is the each: step's; each failed step heads a report. */
    if (strncmp(r->message, each, strlen(each)) || !strstr(r->message, "FAIL on other (FAIL): "))
        fail_msg("%s", r->message);
    if (!strstr(r->details, each) ||
        !strstr(r->details, "t.yaml:18: verify_no_packet any of other, out: " LBL_G " within 100ms: FAIL (value") ||
        !strstr(r->details, "t.yaml:19: no_other_packets quiet (on in, out (except other) within 100ms): FAIL"))
        fail_msg("%s", r->details);
    /* The matched port is named once (not "PASS on out on '<interface>'"). */
    if (strstr(r->output, "PASS on out on '"))
        fail_msg("%s", r->output);
    /* No verification step is called an expect step, in any report. */
    if (strstr(r->output, "expect ") || strstr(r->message, "expect ") || strstr(r->details, "expect "))
        fail_msg("%s\n%s\n%s", r->output, r->message, r->details);
    for (int k = 0; k < 3; k++) {
        const char *kind = k == 0 ? "tap" : k == 1 ? "junit" : "console";
        char *t = report_text(&rep, 0, kind);
        if (!strstr(t, "verify each of out, other: ") || !strstr(t, "no_other_packets quiet") ||
            !strstr(t, "verify_no_packet any of other, out: ") || strstr(t, "expect "))
            fail_msg("%s:\n%s", kind, t);
        if (k == 1 && !strstr(t, "verify got: PASS on out "))
            fail_msg("junit:\n%s", t);
        free(t);
    }
    free(out);
    px_report_free(&rep);
    px_scenario_free(s);
}

/* `except:` a port that no step of the test names excepts nothing: the test
 * verifies only the ports its steps name, so no_other_packets must not fail on
 * it ("port ... is not verified"), and still checks the others. */
static void test_bmv2_scenario_except_unused_port(void **state)
{
    fixture *f = *state;
    px_scenario *s = NULL;
    char text[1024];
    snprintf(text, sizeof text,
             "ports:\n  in: '%s'\n  out: '%s'\n  spare: '%s'\n"
             "tests:\n"
             "  - name: except_unused\n    steps:\n"
             "      - send: { port: in, frame: '" LBL_F "' }\n"
             "      - verify: { port: out, frame: '" LBL_F "' }\n"
             "      - no_other_packets: { except: spare }\n"
             "      - wait: all\n"
             "      - send: { port: in, frame: '" LBL_F "' }\n"
             "      - wait: all\n"
             "      - no_other_packets: { name: second, except: spare }\n",
             f->port[0], f->port[1], f->port[2]);
    px_report rep = {0};
    char *out = run_text(text, &s, &rep);
    assert_int_equal(rep.n, 1);
    const px_test_result *r = &rep.r[0];
    /* The first check passes; the second sees the unverified second frame on out. */
    if (r->status != PX_T_FAIL || !r->output ||
        !strstr(r->output, "no_other_packets on in, out (except spare) within 100ms: PASS") ||
        !strstr(r->output, "no_other_packets second: FAIL ") || strstr(r->output, "not verified"))
        fail_msg("status %d\n%s\n%s", r->status, r->output ? r->output : "", r->details ? r->details : "");
    free(out);
    px_report_free(&rep);
    px_scenario_free(s);
}

static px_predicate *refused_vid(void *arg)
{
    (void)arg;
    return px_saw_vlan_tag(5000, -1);
}

/* An expect step a program builds (`pktexpect stf`) whose constructor refuses
 * an argument: the test is ERROR at the step, with the constructor's reason,
 * without waiting for a window. */
static void test_bmv2_scenario_refused_predicate(void **state)
{
    fixture *f = *state;
    px_scenario *s = NULL;
    char text[512];
    snprintf(text, sizeof text,
             "ports:\n  out: '%s'\n"
             "tests:\n  - name: refused\n    steps:\n"
             "      - expect: { port: out, predicate: 'received_packet()', timeout: 2s }\n",
             f->port[1]);
    px_report rep = {0};
    char *out = run_text_with(text, &s, &rep, refused_vid);
    assert_int_equal(rep.n, 1);
    assert_int_equal(rep.r[0].status, PX_T_ERROR);
    if (!strstr(rep.r[0].message, "t.yaml:6: predicate: saw_vlan_tag: vid must be 0..4095, got 5000"))
        fail_msg("%s", rep.r[0].message);
    free(out);
    px_report_free(&rep);
    px_scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bmv2_names),
        cmocka_unit_test_setup_teardown(test_bmv2_arm_then_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_info_request_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_negative, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_evidence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_queue_full_counts_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_peer_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_switch_restarted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_scenario, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_scenario_any_each, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_scenario_verify_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_scenario_except_unused_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bmv2_scenario_refused_predicate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
