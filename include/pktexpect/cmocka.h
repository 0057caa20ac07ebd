/* pktexpect: cmocka integration.
 *
 * Include after <cmocka.h> (which needs <stdarg.h>, <stddef.h>, <stdint.h>,
 * <setjmp.h> first). Header-only, so libpktexpect does not depend on cmocka.
 *
 * Assertions wait on a future and, when the verdict is not the expected one,
 * print everything a failure needs (what was expected, the verdict, the
 * explanation, the frame counters) and fail the test at the caller's line:
 *
 *     px_future *f = px_expect(env->ctx, env->b, px_saw_vlan_tag(102, -1), NULL);
 *     px_send(env->ctx, env->a, frame, len, NULL);
 *     px_assert_pass(f); // frees f
 *
 * Ownership, one rule: px_assert_pass / _fail / _error / _value take the future
 * and free it in every case, when the check passes and when it fails (before
 * cmocka's _fail jumps out of the test, so a failing test leaks neither the
 * future nor its armed expectation). Do not use or free it afterwards. A test
 * that still needs the future after the check (its explanation, its value, its
 * deciding frame) uses the _keep forms (px_assert_pass_keep, ...), which never
 * free it, pass or fail: the caller frees it with px_future_free, or keeps it
 * where its teardown frees it (else it leaks when the check fails).
 *
 * px_assert_send_text(ctx, port, text) sends a frame written in the text form
 * and fails the test, saying why, when it cannot be built or sent.
 *
 * Fixtures: px_cmocka_veth_test_setup / px_cmocka_veth_test_teardown give
 * each test a fresh context and a fresh veth pair (pass them to
 * cmocka_unit_test_setup_teardown), so what one test leaves behind (armed
 * expectations, frames in flight, port settings) never reaches the next: its
 * context is closed and its pair deleted before the next test starts.
 * px_cmocka_veth_group_setup / px_cmocka_veth_group_teardown make one context
 * and one pair that every test of a group shares (pass them to
 * cmocka_run_group_tests): cheaper, but each test must leave no expectation
 * armed and no setting changed. px_cmocka_veth_setup / _teardown are the group
 * fixtures under their earlier names. The state they give each test is a
 * px_cmocka_env *. They need root (CAP_NET_ADMIN), and the topology library:
 * link pktexpect-topology as well (pkg-config pktexpect-topology, or CMake's
 * pktexpect::topology).
 *
 * Requirements: px_cmocka_require_root and px_cmocka_unavailable skip a suite
 * (exit 77, which ctest reports as skipped) when something it needs is missing,
 * with a message saying why, except under CI (px_cmocka_ci), where they fail it,
 * so CI never skips silently.
 *
 * The px__cmocka_* helpers below are the one exception to "px__ is internal"
 * that a public header shows: the assertion macros expand to them at the
 * caller's line. They are static inline, so no library exports them.
 *
 * Thread-safety: as cmocka's: call the assertions and fixtures from the test's
 * thread.
 */
#ifndef PKTEXPECT_CMOCKA_H
#define PKTEXPECT_CMOCKA_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "expect.h"
#include "future.h"
#include "oneline.h"
#include "pktexpect/topology.h"

/** Waits on `fut`, fails the test unless the verdict is PASS; frees `fut` in
 *  every case. */
#define px_assert_pass(fut) px__cmocka_assert_verdict((fut), PX_PASS, true, __FILE__, __LINE__)
/** Waits on `fut`, fails the test unless the verdict is FAIL; frees `fut`. */
#define px_assert_fail(fut) px__cmocka_assert_verdict((fut), PX_FAIL, true, __FILE__, __LINE__)
/** Waits on `fut`, fails the test unless the verdict is ERROR; frees `fut`. */
#define px_assert_error(fut) px__cmocka_assert_verdict((fut), PX_ERROR, true, __FILE__, __LINE__)
/** Waits on `fut`, fails the test unless it resolved with value `v` (any
 *  verdict); frees `fut`. */
#define px_assert_value(fut, v) px__cmocka_assert_value((fut), (int64_t)(v), true, __FILE__, __LINE__)

/** The same checks, leaving `fut` to the caller, pass or fail (see the
 *  ownership rule above). */
#define px_assert_pass_keep(fut) px__cmocka_assert_verdict((fut), PX_PASS, false, __FILE__, __LINE__)
#define px_assert_fail_keep(fut) px__cmocka_assert_verdict((fut), PX_FAIL, false, __FILE__, __LINE__)
#define px_assert_error_keep(fut) px__cmocka_assert_verdict((fut), PX_ERROR, false, __FILE__, __LINE__)
#define px_assert_value_keep(fut, v) px__cmocka_assert_value((fut), (int64_t)(v), false, __FILE__, __LINE__)

static inline void px__cmocka_report(px_future *fut, const char *headline)
{
    px_buf b = PX_BUF_INIT;
    px_future_report(fut, &b);
    print_error("%s\n%s", headline, px_buf_cstr(&b));
    px_buf_free(&b);
}

static inline void px__cmocka_assert_verdict(px_future *fut, px_verdict want, bool consume, const char *file,
                                             int line)
{
    if (!fut) {
        print_error("px_assert: the future is NULL (px_expect got a NULL context or predicate)\n");
        _fail(file, line);
        return;
    }
    px_verdict got = px_future_wait(fut);
    if (got != want) {
        char head[96];
        snprintf(head, sizeof head, "expected verdict %s, got %s", px_verdict_name(want), px_verdict_name(got));
        px__cmocka_report(fut, head);
        if (consume)
            px_future_free(fut); /* before _fail, which does not return */
        _fail(file, line);
        return;
    }
    if (consume)
        px_future_free(fut);
}

static inline void px__cmocka_assert_value(px_future *fut, int64_t want, bool consume, const char *file, int line)
{
    if (!fut) {
        print_error("px_assert_value: the future is NULL\n");
        _fail(file, line);
        return;
    }
    px_future_wait(fut);
    if (!px_future_has_value(fut) || px_future_value(fut) != want) {
        char head[128];
        if (px_future_has_value(fut))
            snprintf(head, sizeof head, "expected value %lld, got %lld", (long long)want,
                     (long long)px_future_value(fut));
        else
            snprintf(head, sizeof head, "expected value %lld, the future has no value", (long long)want);
        px__cmocka_report(fut, head);
        if (consume)
            px_future_free(fut);
        _fail(file, line);
        return;
    }
    if (consume)
        px_future_free(fut);
}

/** Sends the text-form frame `text` on `port` (px_send_text: docs/text-form.md);
 *  fails the test at the caller's line, with the reason ("col N: ..." for a
 *  text that does not parse, or the send's error), when it cannot. */
#define px_assert_send_text(ctx, port, text) px__cmocka_send_text((ctx), (port), (text), __FILE__, __LINE__)

static inline void px__cmocka_send_text(px_ctx *ctx, const char *port, const char *text, const char *file, int line)
{
    char err[PX_ERRBUF_SIZE] = "";
    int rc = px_send_text(ctx, port, text, err);
    if (rc != 0) {
        print_error("px_assert_send_text: sending %s on %s: %s (%s)\n", text, port ? port : "(null)",
                    px_strerror(rc), err);
        _fail(file, line);
    }
}

/** True when the CI environment variable is set: present, not empty, not "0"
 *  and not "false" (so CI=false on a developer's machine still skips). */
static inline bool px_cmocka_ci(void)
{
    const char *ci = getenv("CI");
    return ci && *ci && strcmp(ci, "0") != 0 && strcmp(ci, "false") != 0;
}

/** Something a suite needs is missing (a program, a kernel feature, a file):
 *  when CI is set (px_cmocka_ci) prints "FAIL: <in_ci>" and exits 1, so CI can
 *  never skip it silently; elsewhere prints "SKIP: <elsewhere>" and exits 77,
 *  which ctest reports as skipped (set SKIP_RETURN_CODE 77 on the test). Call it
 *  from main() or a group setup, before any test ran. Does not return. */
static inline void px_cmocka_unavailable(const char *in_ci, const char *elsewhere)
{
    if (px_cmocka_ci()) {
        fprintf(stderr, "FAIL: %s\n", in_ci);
        exit(1);
    }
    fprintf(stderr, "SKIP: %s\n", elsewhere);
    exit(77);
}

/** Call first in main() of a suite that needs root (veth, raw sockets): without
 *  root it exits 77, which ctest reports as skipped, with a message saying why;
 *  when CI is set (px_cmocka_ci) it fails (exit 1) instead, so CI can never
 *  skip such a suite silently. */
static inline void px_cmocka_require_root(const char *suite)
{
    if (geteuid() == 0)
        return;
    char in_ci[160], elsewhere[160];
    snprintf(in_ci, sizeof in_ci, "%s needs root (veth pairs, raw sockets) and CI is set", suite);
    snprintf(elsewhere, sizeof elsewhere,
             "%s needs root to create veth pairs and open raw sockets; run it with sudo", suite);
    px_cmocka_unavailable(in_ci, elsewhere);
}

/** What the veth fixtures give each test. */
typedef struct px_cmocka_env {
    px_ctx *ctx;
    char a[16]; /**< one end of the veth pair (send here) */
    char b[16]; /**< the other end (expect here) */
} px_cmocka_env;

/* A context and a fresh veth pair "<pa><pid>" <-> "<pb><pid>", both ends up. */
static inline int px__cmocka_veth_new(void **state, const char *pa, const char *pb, const char *who)
{
    px_cmocka_env *env = calloc(1, sizeof *env);
    if (!env)
        return -1;
    snprintf(env->a, sizeof env->a, "%.4s%d", pa, (int)(getpid() % 1000000));
    snprintf(env->b, sizeof env->b, "%.4s%d", pb, (int)(getpid() % 1000000));
    char err[PX_ERRBUF_SIZE];
    px_topo_link_del(NULL, env->a, NULL); /* a leftover of an earlier crashed run */
    if (px_topo_veth_add(NULL, env->a, env->b, err) != 0) {
        print_error("%s: %s\n", who, err);
        free(env);
        return -1;
    }
    env->ctx = px_ctx_new(NULL, err);
    if (!env->ctx) {
        print_error("%s: %s\n", who, err);
        px_topo_link_del(NULL, env->a, NULL);
        free(env);
        return -1;
    }
    *state = env;
    return 0;
}

/* Closes the context (pending expectations resolve ERROR, "context closed"),
 * deletes the pair and frees the env. */
static inline int px__cmocka_veth_free(void **state)
{
    px_cmocka_env *env = *state;
    if (!env)
        return 0;
    px_ctx_free(env->ctx);
    int rc = px_topo_link_del(NULL, env->a, NULL);
    free(env);
    *state = NULL;
    return rc == 0 ? 0 : -1;
}

/** Group setup: one context and one veth pair "pxa<pid>" <-> "pxb<pid>" that
 *  every test of the group shares (cmocka_run_group_tests). */
static inline int px_cmocka_veth_group_setup(void **state)
{
    return px__cmocka_veth_new(state, "pxa", "pxb", "px_cmocka_veth_group_setup");
}

/** Group teardown: closes the group's context and deletes its pair. */
static inline int px_cmocka_veth_group_teardown(void **state) { return px__cmocka_veth_free(state); }

/** Per-test setup: a fresh context and a fresh veth pair "pxta<pid>" <->
 *  "pxtb<pid>" for one test (cmocka_unit_test_setup_teardown). Its state
 *  replaces a group state for that test; the names differ from the group
 *  fixtures', so both can be used in one suite. */
static inline int px_cmocka_veth_test_setup(void **state)
{
    return px__cmocka_veth_new(state, "pxta", "pxtb", "px_cmocka_veth_test_setup");
}

/** Per-test teardown: closes the test's context, so whatever it left armed
 *  resolves ERROR and stops capturing, and deletes its pair. */
static inline int px_cmocka_veth_test_teardown(void **state) { return px__cmocka_veth_free(state); }

/** The group fixtures under their earlier names. */
static inline int px_cmocka_veth_setup(void **state) { return px_cmocka_veth_group_setup(state); }
static inline int px_cmocka_veth_teardown(void **state) { return px_cmocka_veth_group_teardown(state); }

#endif
