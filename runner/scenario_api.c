/* pktexpect runner: px_scenario_run_file, `pktexpect run FILE` for C callers
 * (pktexpect/runner.h): load with the caller's registry, select, px_run,
 * results copied out of the report. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pktexpect/runner.h"
#include "run.h"
#include "scenario.h"

#define API_VARS_MAX 64

void px_scenario_result_free(px_scenario_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->ntests; i++) {
        free(res->tests[i].name);
        free(res->tests[i].message);
    }
    free(res->tests);
    memset(res, 0, sizeof *res);
}

/* The first line of `text` into errbuf; for an unknown predicate name, where
 * such names come from (the command line's hint speaks of --plugin). */
static void first_line(const char *text, char *errbuf)
{
    static const char hint[] = " (a name not in opts->registry: add it with px_registry_add or px_plugins_load)";
    size_t n = strcspn(text, "\n");
    bool unknown = strstr(text, "unknown predicate '") && strstr(text, "unknown predicate '") < text + n;
    size_t room = PX_ERRBUF_SIZE - 1 - (unknown ? sizeof hint - 1 : 0);
    snprintf(errbuf, PX_ERRBUF_SIZE, "%.*s%s", (int)(n < room ? n : room), text, unknown ? hint : "");
}

static int copy_results(const px_report *rep, px_scenario_result *res)
{
    res->tests = calloc(rep->n ? rep->n : 1, sizeof *res->tests);
    if (!res->tests)
        return PX_ENOMEM;
    for (size_t i = 0; i < rep->n; i++) {
        const px_test_result *r = &rep->r[i];
        px_scenario_test *t = &res->tests[res->ntests++];
        size_t len = strlen(r->suite) + 1 + strlen(r->name) + 1;
        t->name = malloc(len);
        t->message = r->message && r->status != PX_T_PASS ? strdup(r->message) : NULL;
        if (!t->name || (r->message && r->status != PX_T_PASS && !t->message))
            return PX_ENOMEM;
        snprintf(t->name, len, "%s/%s", r->suite, r->name);
        switch (r->status) {
        case PX_T_PASS: t->verdict = PX_PASS; res->passed++; break;
        case PX_T_FAIL: t->verdict = PX_FAIL; res->failed++; break;
        case PX_T_ERROR: t->verdict = PX_ERROR; res->errored++; break;
        case PX_T_SKIP: t->verdict = PX_PENDING; res->skipped++; break;
        }
    }
    return 0;
}

int px_scenario_run_file(const char *path, const px_scenario_opts *opts, px_scenario_result *res, char *errbuf)
{
    static const px_scenario_opts none = {0};
    const px_scenario_opts *po = opts ? opts : &none;
    px_scn_var vars[API_VARS_MAX];
    int rc = 0;
    px_scenario *s = NULL;
    px_buf errs = PX_BUF_INIT;
    px_report rep = {0};
    FILE *quiet = NULL;
    memset(res, 0, sizeof *res);
    errbuf[0] = '\0';
    if (!path || po->nvars > API_VARS_MAX) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "%s", !path ? "no scenario file given" : "at most 64 variables");
        return PX_EINVAL;
    }
    /* "NAME=VALUE": the name is copied out of the string, up to its '='. */
    char names[API_VARS_MAX][128];
    for (size_t i = 0; i < po->nvars; i++) {
        const char *v = po->vars[i], *eq = v ? strchr(v, '=') : NULL;
        if (!eq || eq == v || (size_t)(eq - v) >= sizeof names[i]) {
            snprintf(errbuf, PX_ERRBUF_SIZE, "variable '%.200s': expected NAME=VALUE", v ? v : "(null)");
            return PX_EINVAL;
        }
        memcpy(names[i], v, (size_t)(eq - v));
        names[i][eq - v] = '\0';
        vars[i] = (px_scn_var){names[i], eq + 1};
    }
    px_scn_checkers chk;
    px_run_checkers_with(&chk, po->registry);
    rc = px_scenario_load(path, &chk, vars, po->nvars, &s, &errs);
    if (rc) {
        first_line(errs.len ? px_buf_cstr(&errs) : px_strerror(rc), errbuf);
        if (po->report)
            fputs(px_buf_cstr(&errs), po->report);
        goto out;
    }
    FILE *out = po->report;
    if (!out && !(out = quiet = fopen("/dev/null", "w"))) {
        rc = PX_EIO;
        snprintf(errbuf, PX_ERRBUF_SIZE, "cannot open /dev/null for the quiet report");
        goto out;
    }
    px_run_opts ro = {.filters = po->filters, .nfilters = po->nfilters, .timeout_scale = po->timeout_scale,
                      .out = out, .err = out, .registry = po->registry};
    /* As `run`: a pattern that matches nothing is a mistake, not "0 tests". */
    for (size_t f = 0; f < po->nfilters; f++) {
        px_run_opts one = ro;
        one.filters = &po->filters[f];
        one.nfilters = 1;
        if (px_run_select(&s, 1, &one, NULL, 0) == 0) {
            rc = PX_EINVAL;
            snprintf(errbuf, PX_ERRBUF_SIZE, "filter '%.200s' matches no test of %.200s", po->filters[f], path);
            goto out;
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    res->exit_code = px_run(&s, 1, &ro, &rep);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (po->report) {
        double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        px_report_console_summary(po->report, &rep, el, false);
        fflush(po->report);
    }
    if ((rc = copy_results(&rep, res)) != 0)
        snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
out:
    if (rc)
        px_scenario_result_free(res);
    if (quiet)
        fclose(quiet);
    px_report_free(&rep);
    px_scenario_free(s);
    px_buf_free(&errs);
    return rc;
}
