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
 *     px_assert_pass(f);
 *     px_future_free(f);
 *
 * Group fixtures: px_cmocka_veth_setup / px_cmocka_veth_teardown create a
 * context and a veth pair (names unique to the process, both ends up) for a
 * group, and remove them again; pass them to cmocka_run_group_tests. The state
 * they give each test is a px_cmocka_env *. They need root (CAP_NET_ADMIN),
 * and the topology library: link pktexpect-topology as well
 * (pkg-config pktexpect-topology, or CMake's pktexpect::topology).
 *
 * The px__cmocka_* helpers below are the one exception to "px__ is internal"
 * that a public header shows: the assertion macros expand to them at the
 * caller's line. They are static inline, so no library exports them.
 *
 * Thread-safety: as cmocka's: call the assertions from the test's thread.
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
#include "pktexpect/topology.h"

/** Waits on `fut`; fails the test unless the verdict is PASS. */
#define px_assert_pass(fut) px__cmocka_assert_verdict((fut), PX_PASS, __FILE__, __LINE__)
/** Waits on `fut`; fails the test unless the verdict is FAIL. */
#define px_assert_fail(fut) px__cmocka_assert_verdict((fut), PX_FAIL, __FILE__, __LINE__)
/** Waits on `fut`; fails the test unless the verdict is ERROR. */
#define px_assert_error(fut) px__cmocka_assert_verdict((fut), PX_ERROR, __FILE__, __LINE__)
/** Waits on `fut`; fails the test unless it resolved with value `v` (any verdict). */
#define px_assert_value(fut, v) px__cmocka_assert_value((fut), (int64_t)(v), __FILE__, __LINE__)

static inline void px__cmocka_report(px_future *fut, const char *headline)
{
    px_buf b = PX_BUF_INIT;
    px_future_report(fut, &b);
    print_error("%s\n%s", headline, px_buf_cstr(&b));
    px_buf_free(&b);
}

static inline void px__cmocka_assert_verdict(px_future *fut, px_verdict want, const char *file, int line)
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
        _fail(file, line);
    }
}

static inline void px__cmocka_assert_value(px_future *fut, int64_t want, const char *file, int line)
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

/** Call first in main() of a suite that needs root (veth, raw sockets): without
 *  root it exits 77, which ctest reports as skipped, with a message saying why;
 *  when CI is set (px_cmocka_ci) it fails (exit 1) instead, so CI can never
 *  skip such a suite silently. */
static inline void px_cmocka_require_root(const char *suite)
{
    if (geteuid() == 0)
        return;
    if (px_cmocka_ci()) {
        fprintf(stderr, "FAIL: %s needs root (veth pairs, raw sockets) and CI is set\n", suite);
        exit(1);
    }
    fprintf(stderr, "SKIP: %s needs root to create veth pairs and open raw sockets; run it with sudo\n", suite);
    exit(77);
}

/** What the veth fixtures give each test. */
typedef struct px_cmocka_env {
    px_ctx *ctx;
    char a[16]; /**< one end of the veth pair (send here) */
    char b[16]; /**< the other end (expect here) */
} px_cmocka_env;

/** Group setup: a context and a fresh veth pair "pxa<pid>" <-> "pxb<pid>". */
static inline int px_cmocka_veth_setup(void **state)
{
    px_cmocka_env *env = calloc(1, sizeof *env);
    if (!env)
        return -1;
    snprintf(env->a, sizeof env->a, "pxa%d", (int)(getpid() % 1000000));
    snprintf(env->b, sizeof env->b, "pxb%d", (int)(getpid() % 1000000));
    char err[PX_ERRBUF_SIZE];
    px_topo_link_del(NULL, env->a, NULL); /* a leftover of an earlier crashed run */
    if (px_topo_veth_add(NULL, env->a, env->b, err) != 0) {
        print_error("px_cmocka_veth_setup: %s\n", err);
        free(env);
        return -1;
    }
    env->ctx = px_ctx_new(NULL, err);
    if (!env->ctx) {
        print_error("px_cmocka_veth_setup: %s\n", err);
        px_topo_link_del(NULL, env->a, NULL);
        free(env);
        return -1;
    }
    *state = env;
    return 0;
}

/** Group teardown: closes the context and deletes the veth pair. */
static inline int px_cmocka_veth_teardown(void **state)
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

#endif
