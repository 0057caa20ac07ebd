/* Running a scenario file from C (px_scenario_run_file, pktexpect/runner.h,
 * docs/c-api.md "Running a scenario from C"), linked as a user links it: the
 * shared libpktexpect-runner and libpktexpect, public headers only. No root:
 * the scenario's ports are BMv2 packet ports served by the stand-in switch of
 * tests/bmv2_peer.h (port 0 in, out of port 1, nothing on port 2).
 *
 *   a registry with the test's own predicate and a plugin's (px_plugins_load)
 *   runs a scenario using both: counts, names, verdicts, exit code
 *                                                     test_run_with_registry
 *   filters and variables, as run --filter / --var    test_filter_and_vars
 *   without those names: PX_EPARSE, FILE:LINE:COL and where names come from;
 *   a filter matching nothing, a bad variable: PX_EINVAL
 *                                                     test_errors
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pktexpect/expr.h>
#include <pktexpect/frame.h>
#include <pktexpect/predicate.h>
#include <pktexpect/runner.h>

#include "bmv2_peer.h"
#include "px_proc.h"

typedef struct fixture {
    char dir[256];
    char scn[512];
    char port[3][400];
    bmv2_peer peer;
    px_registry *reg;
    px_plugins *pl;
} fixture;

/* ---- the test's own predicate: long_frame(min), a frame of at least min bytes ---- */

typedef struct long_state {
    uint32_t min;
    bool seen;
} long_state;

static void long_on_packet(void *state, const px_frame *f)
{
    long_state *st = state;
    if (f->wirelen >= st->min)
        st->seen = true;
}

static bool long_stop(void *state, const px_frame *f)
{
    (void)f;
    return ((long_state *)state)->seen;
}

static px_verdict long_on_finish(void *state, bool timed_out, px_result *out)
{
    (void)timed_out;
    long_state *st = state;
    px_result_explain(out, "%s frame of at least %u bytes", st->seen ? "a" : "no", st->min);
    return st->seen ? PX_PASS : PX_FAIL;
}

static const px_predicate_ops long_ops = {
    .name = "long_frame", .on_packet = long_on_packet, .stop_condition = long_stop,
    .on_finish = long_on_finish, .destroy = free};

static px_predicate *long_factory(px_expr_args *args, void *user, char *errbuf)
{
    (void)user;
    long_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    st->min = (uint32_t)px_expr_arg_int(args, "min", 0);
    return px_predicate_new(&long_ops, st);
}

static const px_expr_param long_params[] = {{"min", PX_EXPR_INT, PX_EXPR_REQUIRED, 1, 65535, "bytes"}};
static const px_expr_def long_def = {"long_frame", "a frame of at least min bytes", long_params, 1, long_factory,
                                     NULL};

/* ---- fixture ---- */

static const char *plugin_path(void)
{
    static char path[1024];
    const char *bd = getenv("PX_BUILD_DIR");
    snprintf(path, sizeof path, "%s/plugins/libpx_test_plugin.so", bd && *bd ? bd : ".");
    return path;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    if (!px_proc_tmpdir(f->dir))
        return -1;
    snprintf(f->scn, sizeof f->scn, "%s/api.yaml", f->dir);
    char addr[300];
    snprintf(addr, sizeof addr, "ipc://%s/sw.ipc", f->dir);
    for (int i = 0; i < 3; i++)
        snprintf(f->port[i], sizeof f->port[i], "bmv2:%s:%d", addr, i);
    if (bmv2_peer_start(&f->peer, addr) != 0)
        return -1;
    char eb[PX_ERRBUF_SIZE] = "";
    f->reg = px_registry_new();
    f->pl = f->reg ? px_plugins_new(f->reg) : NULL;
    if (!f->pl || px_registry_add(f->reg, &long_def, eb) != 0 || px_plugins_load(f->pl, plugin_path(), eb) != 0) {
        fprintf(stderr, "setup: %s\n", eb);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bmv2_peer_stop(&f->peer);
    px_registry_free(f->reg); /* before the plugins: its names are theirs */
    px_plugins_free(f->pl);
    int rc = px_proc_rmtree(f->dir);
    free(f);
    return rc;
}

/* The scenario: the plugin's predicate and the test's on the port the switch
 * forwards to (PASS), the plugin's on a port that sees nothing (FAIL), a
 * skipped test. The frame's ethertype is the variable ETYPE. */
static void write_scenario(const fixture *f)
{
    FILE *o = fopen(f->scn, "w");
    assert_non_null(o);
    fprintf(o,
            "variables: { ETYPE: '0x88b5' }\n"
            "ports:\n  in: '%s'\n  out: '%s'\n  other: '%s'\n"
            "tests:\n"
            "  - name: forward\n    steps:\n"
            "      - expect: { port: out, predicate: 'all_of(saw_ethertype_in(0x88b0, 0x88bf), long_frame(15))',"
            " timeout: 10s }\n"
            "      - send: { port: in, frame: 'Ether(dst=02:00:00:00:00:02, type=${ETYPE})/Raw(\"hello\")' }\n"
            "      - wait: all\n"
            "  - name: nothing elsewhere\n    steps:\n"
            "      - expect: { port: other, predicate: 'saw_ethertype_in(0x88b0, 0x88bf)', timeout: 300ms }\n"
            "      - send: { port: in, frame: 'Ether(dst=02:00:00:00:00:02, type=${ETYPE})/Raw(\"hello\")' }\n"
            "      - wait: all\n"
            "  - name: later\n    skip: not yet\n    steps: []\n",
            f->port[0], f->port[1], f->port[2]);
    fclose(o);
}

static const px_scenario_test *find(const px_scenario_result *r, const char *name)
{
    for (size_t i = 0; i < r->ntests; i++)
        if (!strcmp(r->tests[i].name, name))
            return &r->tests[i];
    fail_msg("no test %s", name);
    return NULL;
}

static void test_run_with_registry(void **state)
{
    fixture *f = *state;
    write_scenario(f);
    char *rep = NULL;
    size_t replen = 0;
    FILE *ro = open_memstream(&rep, &replen);
    assert_non_null(ro);
    px_scenario_opts o = {.registry = f->reg, .report = ro};
    px_scenario_result r;
    char eb[PX_ERRBUF_SIZE];
    int rc = px_scenario_run_file(f->scn, &o, &r, eb);
    fclose(ro);
    if (rc != 0)
        fail_msg("%d %s\n%s", rc, eb, rep);
    assert_int_equal(r.ntests, 3);
    if (r.passed != 1 || r.failed != 1 || r.skipped != 1 || r.errored != 0)
        fail_msg("passed %zu failed %zu skipped %zu errored %zu\n%s", r.passed, r.failed, r.skipped, r.errored, rep);
    assert_int_equal(find(&r, "api/forward")->verdict, PX_PASS);
    assert_null(find(&r, "api/forward")->message);
    const px_scenario_test *t = find(&r, "api/nothing elsewhere");
    assert_int_equal(t->verdict, PX_FAIL);
    assert_non_null(t->message);
    t = find(&r, "api/later");
    assert_int_equal(t->verdict, PX_PENDING);
    assert_string_equal(t->message, "not yet");
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(rep, "forward")); /* the report went to the stream */
    px_scenario_result_free(&r);
    assert_int_equal(r.ntests, 0);
    free(rep);
}

static void test_filter_and_vars(void **state)
{
    fixture *f = *state;
    write_scenario(f);
    const char *filters[] = {"forward"};
    /* The frame's ethertype becomes 0x0800: the plugin's predicate FAILs. */
    const char *vars[] = {"ETYPE=0x0800"};
    px_scenario_opts o = {.registry = f->reg, .filters = filters, .nfilters = 1, .vars = vars, .nvars = 1,
                          .timeout_scale = 0.1};
    px_scenario_result r;
    char eb[PX_ERRBUF_SIZE];
    assert_int_equal(px_scenario_run_file(f->scn, &o, &r, eb), 0);
    assert_int_equal(r.ntests, 1);
    assert_string_equal(r.tests[0].name, "api/forward");
    assert_int_equal(r.tests[0].verdict, PX_FAIL);
    assert_int_equal(r.failed, 1);
    px_scenario_result_free(&r);
}

static void test_errors(void **state)
{
    fixture *f = *state;
    write_scenario(f);
    px_scenario_result r;
    char eb[PX_ERRBUF_SIZE];
    /* The built-ins only (opts NULL): the names are unknown. */
    assert_int_equal(px_scenario_run_file(f->scn, NULL, &r, eb), PX_EPARSE);
    char where[600];
    snprintf(where, sizeof where, "%s:", f->scn);
    if (!strstr(eb, where) || !strstr(eb, "unknown predicate 'saw_ethertype_in'") || !strstr(eb, "opts->registry"))
        fail_msg("%s", eb);
    assert_int_equal(r.ntests, 0);
    const char *none[] = {"no such test"};
    px_scenario_opts o = {.registry = f->reg, .filters = none, .nfilters = 1};
    assert_int_equal(px_scenario_run_file(f->scn, &o, &r, eb), PX_EINVAL);
    assert_non_null(strstr(eb, "filter 'no such test' matches no test"));
    const char *bad[] = {"NOEQUALS"};
    px_scenario_opts ov = {.registry = f->reg, .vars = bad, .nvars = 1};
    assert_int_equal(px_scenario_run_file(f->scn, &ov, &r, eb), PX_EINVAL);
    assert_non_null(strstr(eb, "expected NAME=VALUE"));
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.yaml", f->dir);
    assert_int_equal(px_scenario_run_file(missing, &o, &r, eb), PX_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_run_with_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_and_vars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
