/* pktexpect runner: command-line interface. See cli.h and docs/cli.md. */
#include "cli.h"
#include "cmd_junit_merge.h"
#include "cmd_send.h"
#include "cmd_stf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pktexpect/context.h"
#include "pktexpect/expect.h"
#include "pktexpect/expr.h"
#include "pktexpect/future.h"
#include "pktexpect/text.h"
#include "cli_opt.h"
#include "cmd_check.h"
#include "cmd_clean.h"
#include "duration.h"
#include "report.h"
#include "run.h"
#include "scenario.h"

#define MAX_VARS 64

static const char usage_main[] =
    "usage: pktexpect COMMAND [OPTIONS] [ARGS]\n"
    "       pktexpect --version | --help\n"
    "\n"
    "Asynchronous packet-expectation tests.\n"
    "\n"
    "commands:\n"
    "  run FILE...            run YAML scenarios (needs root for topologies and captures)\n"
    "  validate FILE...       check scenarios without running them (no privileges needed)\n"
    "  watch -i PORT EXPR     print the frames a predicate sees until it finishes\n"
    "  check --pcap FILE EXPR evaluate predicates against a recorded capture\n"
    "  send ...               inject frames (pktexpect send --help)\n"
    "  replay ...             replay a pcap file (pktexpect replay --help)\n"
    "  stf --port-map ... FILE.stf  run p4c STF tests against a live target\n"
    "  junit-merge OUT IN...  merge the JUnit files of several shards\n"
    "  clean [--dry-run]      remove the namespaces and interfaces dead runs left\n"
    "\n"
    "options:\n"
    "  -h, --help             this help; `pktexpect COMMAND --help` describes each command\n"
    "      --version          print the version and exit\n"
    "\n"
    "Options and operands may come in any order; `--` ends the options.\n"
    "\n"
    "exit codes:\n"
    "  0    every test passed\n"
    "  1    a test failed or was inconclusive (ERROR)\n"
    "  2    invalid scenario or command line\n"
    "  3    environment unusable (no privileges, missing interface, topology failed)\n"
    "  130  interrupted by SIGINT (Ctrl-C); the topology is torn down first\n"
    "  143  interrupted by SIGTERM; the topology is torn down first\n";

static const char usage_run[] =
    "usage: pktexpect run [OPTIONS] FILE...\n"
    "\n"
    "Builds each scenario's topology, runs its tests, tears the topology down.\n"
    "\n"
    "  -f, --filter PATTERN     run tests whose 'scenario/test' or 'test' matches the\n"
    "                           shell pattern (fnmatch); repeatable: a test runs if it\n"
    "                           matches any; a pattern matching no test is an error (2)\n"
    "  -l, --list               list the selected tests and exit (no privileges needed)\n"
    "      --shard K/N          run the K-th of N shares of the tests (1 <= K <= N)\n"
    "      --timeout-scale F    multiply every timeout by F (slow CI machines)\n"
    "      --junit FILE         write a JUnit XML report\n"
    "      --tap                report in TAP version 13 on stdout\n"
    "      --pcap-dir DIR       keep pcapng evidence of failed tests in DIR\n"
    "  -v, --verbose            show every step\n"
    "      --keep-topology      leave the topology in place after the run\n"
    "      --deadline DURATION  stop the whole run after this long, e.g. 30m (a bare\n"
    "                           integer is seconds)\n"
    "      --var NAME=VALUE     set a scenario variable (overrides the file)\n"
    "      --plugin FILE.so     load predicates from a plugin (repeatable)\n"
    "      --no-color           no colours even on a terminal\n"
    "  -h, --help               this help\n"
    "Options and files may come in any order; `--` ends the options.\n";

static const char usage_validate[] =
    "usage: pktexpect validate [--var NAME=VALUE]... [--plugin FILE.so]... FILE...\n"
    "\n"
    "Checks scenario files: YAML syntax, keys, types, durations, names, ports,\n"
    "predicate expressions and frames. Prints FILE:LINE:COL: message for every\n"
    "problem. Needs no privileges and touches nothing. Exit 0 valid, 2 invalid.\n"
    "\n"
    "      --var NAME=VALUE     set a scenario variable (overrides the file)\n"
    "      --plugin FILE.so     load predicates from a plugin (repeatable)\n"
    "  -h, --help               this help\n";

static const char usage_watch[] =
    "usage: pktexpect watch -i PORT [OPTIONS] 'PREDICATE'\n"
    "\n"
    "Opens PORT, prints every frame offered to the predicate in the text form, and\n"
    "stops when the predicate finishes (or at the timeout, or on Ctrl-C).\n"
    "\n"
    "  -i, --port PORT          interface to watch (required; --interface is an alias)\n"
    "  -n, --netns NAME         the interface lives in this network namespace\n"
    "  -t, --timeout DURATION   window, e.g. 10s (default: until interrupted)\n"
    "  -c, --count N            stop after N frames\n"
    "  -F, --bpf FILTER         only frames matching this BPF filter\n"
    "      --no-noise-filter    show OS noise frames (IPv6 ND, MLD, ...) too\n"
    "      --plugin FILE.so     load predicates from a plugin (repeatable)\n"
    "  -h, --help               this help\n"
    "Exit: 0 PASS, 1 FAIL or ERROR, 2 invalid command line, predicate or filter,\n"
    "3 the port cannot be opened, 130 interrupted.\n";

/* The option tables: what each command accepts (docs/cli.md documents every
 * entry; test_cli_docs checks both ways). */
enum { O_HELP = 'h', O_VERSION = 256 };

static const px_cli_opt main_opts[] = {
    {"help", 'h', false, O_HELP}, {"version", 0, false, O_VERSION}, {NULL, 0, false, 0}};

enum { R_FILTER = 'f', R_LIST = 'l', R_VERBOSE = 'v', R_SHARD = 256, R_SCALE, R_JUNIT, R_TAP, R_PCAP, R_KEEP,
       R_DEADLINE, R_VAR, R_NOCOLOR, R_PLUGIN };
static const px_cli_opt run_opts[] = {
    {"filter", 'f', true, R_FILTER},         {"list", 'l', false, R_LIST},
    {"shard", 0, true, R_SHARD},             {"timeout-scale", 0, true, R_SCALE},
    {"junit", 0, true, R_JUNIT},             {"tap", 0, false, R_TAP},
    {"pcap-dir", 0, true, R_PCAP},           {"verbose", 'v', false, R_VERBOSE},
    {"keep-topology", 0, false, R_KEEP},     {"deadline", 0, true, R_DEADLINE},
    {"var", 0, true, R_VAR},                 {"no-color", 0, false, R_NOCOLOR},
    {"plugin", 0, true, R_PLUGIN},           {"help", 'h', false, O_HELP},
    {NULL, 0, false, 0}};

static const px_cli_opt validate_opts[] = {
    {"var", 0, true, R_VAR}, {"plugin", 0, true, R_PLUGIN}, {"help", 'h', false, O_HELP}, {NULL, 0, false, 0}};

enum { W_PORT = 'i', W_NETNS = 'n', W_TIMEOUT = 't', W_COUNT = 'c', W_BPF = 'F', W_NONOISE = 256, W_PLUGIN };
static const px_cli_opt watch_opts[] = {
    {"port", 'i', true, W_PORT},       {"interface", 0, true, W_PORT}, /* the older name, kept as an alias */
    {"netns", 'n', true, W_NETNS},     {"timeout", 't', true, W_TIMEOUT},
    {"count", 'c', true, W_COUNT},     {"bpf", 'F', true, W_BPF},
    {"no-noise-filter", 0, false, W_NONOISE}, {"plugin", 0, true, W_PLUGIN},
    {"help", 'h', false, O_HELP},      {NULL, 0, false, 0}};

const px_cli_command *px_cli_commands(void)
{
    static const px_cli_command cmds[] = {
        {"pktexpect", main_opts}, {"run", run_opts},       {"validate", validate_opts},
        {"watch", watch_opts},    {"check", px_cli_check_opts}, {"send", px_cli_send_opts},
        {"replay", px_cli_replay_opts}, {"junit-merge", px_cli_merge_opts},
        {"clean", px_cli_clean_opts},   {"stf", px_cli_stf_opts},
        {NULL, NULL}};
    return cmds;
}

static int parse_var(const char *arg, px_scn_var *vars, size_t *nvars, char **store)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || *nvars >= MAX_VARS) {
        fprintf(stderr, "pktexpect: --var '%s': expected NAME=VALUE\n", arg);
        return -1;
    }
    char *name = strndup(arg, (size_t)(eq - arg));
    if (!name)
        return -1;
    store[*nvars] = name;
    vars[*nvars].name = name;
    vars[*nvars].value = eq + 1;
    (*nvars)++;
    return 0;
}

/* Loads every file; prints errors; returns the number of invalid files. */
static int load_all(int n, char **files, const px_scn_var *vars, size_t nvars, const px_registry *reg,
                    px_scenario **out)
{
    int bad = 0;
    px_scn_checkers chk;
    px_run_checkers_with(&chk, reg);
    for (int i = 0; i < n; i++) {
        px_buf errs = PX_BUF_INIT;
        out[i] = NULL;
        int rc = px_scenario_load(files[i], &chk, vars, nvars, &out[i], &errs);
        if (rc) {
            fputs(px_buf_cstr(&errs), stderr);
            if (rc == PX_ENOMEM)
                fprintf(stderr, "%s: out of memory\n", files[i]);
            bad++;
        }
        px_buf_free(&errs);
    }
    return bad;
}

static int cmd_validate(int argc, char **argv)
{
    px_scn_var vars[MAX_VARS];
    char *store[MAX_VARS];
    size_t nvars = 0;
    int c, rc = PX_EXIT_PASS;
    const char *val;
    px_cli_names names = {0};
    px_cli_args a;
    px_cli_args_init(&a, "validate", argc, argv, validate_opts);
    while ((c = px_cli_next(&a, &val)) != PX_CLI_END) {
        if (c == O_HELP) {
            fputs(usage_validate, stdout);
            goto out;
        }
        if (c == R_VAR && parse_var(val, vars, &nvars, store) == 0)
            continue;
        if (c == R_PLUGIN && px_cli_names_add(&names, "validate", val))
            continue;
        rc = PX_EXIT_INVALID; /* the message is printed */
        goto out;
    }
    if (a.nops == 0) {
        fputs(usage_validate, stderr);
        rc = PX_EXIT_INVALID;
        goto out;
    }
    if ((rc = px_cli_names_load(&names, "validate")) != 0)
        goto out;
    for (int i = 0; i < a.nops; i++) {
        char **argv_i = &a.ops[i];
        px_scenario *s = NULL;
        if (load_all(1, argv_i, vars, nvars, names.reg, &s)) {
            rc = PX_EXIT_INVALID;
            continue;
        }
        printf("%s: ok (%zu test%s)\n", *argv_i, s->ntests, s->ntests == 1 ? "" : "s");
        px_scenario_free(s);
    }
out:
    px_cli_names_free(&names);
    for (size_t i = 0; i < nvars; i++)
        free(store[i]);
    return rc;
}

/* Every test of `scns`, for a --filter that matched none. */
int px_cli_run_report(px_scenario *const *scns, size_t n, const px_run_opts *o, const char *junit)
{
    px_report rep = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = px_run(scns, n, o, &rep);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!o->tap)
        px_report_console_summary(o->out, &rep, el, o->color);
    if (rc == PX_RUN_INTERRUPTED)
        fprintf(o->err, "pktexpect: interrupted; topology torn down\n");
    if (junit) {
        px_buf err = PX_BUF_INIT;
        if (px_report_write_junit_file(&rep, junit, &err)) {
            fprintf(o->err, "pktexpect: %s\n", px_buf_cstr(&err));
            if (rc == PX_EXIT_PASS)
                rc = PX_EXIT_ENV;
        }
        px_buf_free(&err);
    }
    px_report_free(&rep);
    return rc;
}

static void list_tests(FILE *f, px_scenario *const *scns, int n)
{
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < scns[i]->ntests; j++)
            fprintf(f, "  %s/%s\n", scns[i]->name, scns[i]->tests[j].name);
}

static int cmd_run(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    px_run_opts o = {.timeout_scale = 1.0, .out = stdout, .err = stderr, .stop = stop};
    bool list = false, nocolor = false;
    const char *junit = NULL;
    px_scn_var vars[MAX_VARS];
    char *store[MAX_VARS];
    size_t nvars = 0;
    const char *filters[MAX_VARS];
    int c, rc = PX_EXIT_INVALID;
    px_scenario **scns = NULL;
    int nfiles = 0;
    const char *val;
    px_cli_names names = {0};
    px_cli_args a;
    px_cli_args_init(&a, "run", argc, argv, run_opts);
    o.filters = filters;
    while ((c = px_cli_next(&a, &val)) != PX_CLI_END) {
        char *end = NULL;
        switch (c) {
        case R_FILTER:
            if (o.nfilters == MAX_VARS) {
                fprintf(stderr, "pktexpect run: at most %d --filter patterns\n", MAX_VARS);
                goto out;
            }
            filters[o.nfilters++] = val;
            break;
        case R_LIST:
            list = true;
            break;
        case R_VERBOSE:
            o.verbose = true;
            break;
        case O_HELP:
            fputs(usage_run, stdout);
            rc = PX_EXIT_PASS;
            goto out;
        case R_SHARD: {
            unsigned k, n;
            char extra;
            if (sscanf(val, "%u/%u%c", &k, &n, &extra) != 2 || n == 0 || k == 0 || k > n) {
                fprintf(stderr, "pktexpect run: --shard '%s': expected K/N with 1 <= K <= N\n", val);
                goto out;
            }
            o.shard_k = k;
            o.shard_n = n;
            break;
        }
        case R_SCALE:
            o.timeout_scale = strtod(val, &end);
            if (!end || *end || !(o.timeout_scale > 0) || o.timeout_scale > 1000) {
                fprintf(stderr, "pktexpect run: --timeout-scale '%s': expected a number above 0 (e.g. 2.5)\n",
                        val);
                goto out;
            }
            break;
        case R_JUNIT:
            junit = val;
            break;
        case R_TAP:
            o.tap = true;
            break;
        case R_PCAP:
            o.pcap_dir = val;
            break;
        case R_KEEP:
            o.keep_topology = true;
            break;
        case R_DEADLINE: {
            /* A bare integer stays seconds, as this option always took. */
            uint64_t ms;
            if (px_duration_option_ms("run", "--deadline", val, PX_DURATION_NS_PER_S, 7 * PX_DURATION_24H_NS, &ms))
                goto out;
            o.deadline_s = (double)ms / 1000.0;
            break;
        }
        case R_VAR:
            if (parse_var(val, vars, &nvars, store))
                goto out;
            break;
        case R_NOCOLOR:
            nocolor = true;
            break;
        case R_PLUGIN:
            if (!px_cli_names_add(&names, "run", val))
                goto out;
            break;
        default:
            goto out; /* the parser printed why */
        }
    }
    if (a.nops == 0) {
        fputs("pktexpect run: no scenario file given\n", stderr);
        fputs(usage_run, stderr);
        goto out;
    }
    if ((rc = px_cli_names_load(&names, "run")) != 0)
        goto out;
    rc = PX_EXIT_INVALID;
    o.registry = names.reg;
    nfiles = a.nops;
    scns = calloc((size_t)nfiles, sizeof *scns);
    if (!scns)
        goto out;
    if (load_all(nfiles, a.ops, vars, nvars, names.reg, scns))
        goto out;
    for (int i = 0; i < nfiles; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(scns[i]->name, scns[j]->name)) {
                fprintf(stderr, "pktexpect run: two scenarios are named '%s' (%s, %s): give one a different 'name:'\n",
                        scns[i]->name, scns[j]->path, scns[i]->path);
                goto out;
            }
    /* A pattern that matches nothing is a mistake (a typo in CI would pass with
     * "0 tests"); a shard left empty by a matching filter is not. */
    for (size_t f = 0; f < o.nfilters; f++) {
        px_run_opts one = o;
        one.filters = &filters[f];
        one.nfilters = 1;
        one.shard_n = 0;
        if (px_run_select(scns, (size_t)nfiles, &one, NULL, 0) == 0) {
            fprintf(stderr, "pktexpect run: --filter '%s' matches no test; the tests are:\n", filters[f]);
            list_tests(stderr, scns, nfiles);
            goto out;
        }
    }
    if (list) {
        size_t n = px_run_select(scns, (size_t)nfiles, &o, NULL, 0);
        size_t(*idx)[2] = calloc(n ? n : 1, sizeof *idx);
        if (!idx)
            goto out;
        px_run_select(scns, (size_t)nfiles, &o, idx, n);
        for (size_t i = 0; i < n; i++)
            printf("%s/%s\n", scns[idx[i][0]]->name, scns[idx[i][0]]->tests[idx[i][1]].name);
        free(idx);
        rc = PX_EXIT_PASS;
        goto out;
    }
    o.color = !nocolor && !o.tap && isatty(fileno(stdout)) && !getenv("NO_COLOR");
    rc = px_cli_run_report(scns, (size_t)nfiles, &o, junit);
out:
    for (int i = 0; scns && i < nfiles; i++)
        px_scenario_free(scns[i]);
    free(scns);
    px_cli_names_free(&names);
    for (size_t i = 0; i < nvars; i++)
        free(store[i]);
    return rc;
}

/* ---- watch: a predicate wrapper that prints every frame offered ---- */

typedef struct watch_state {
    px_predicate *inner;
    bool stop;
    const char *shown; /* the port as -i gave it (without the namespace of -n) */
} watch_state;

static void w_on_packet(void *state, const px_frame *f)
{
    watch_state *w = state;
    struct tm tm;
    time_t sec = f->ts.tv_sec;
    localtime_r(&sec, &tm);
    px_buf b = PX_BUF_INIT;
    px_buf_printf(&b, "%02d:%02d:%02d.%06ld %s ", tm.tm_hour, tm.tm_min, tm.tm_sec, f->ts.tv_nsec / 1000,
                  w->shown ? w->shown : f->port ? f->port : "?");
    if (px_frame_to_text(f, &b) != 0)
        px_buf_append(&b, "(frame)");
    px_buf_append(&b, "\n");
    fputs(px_buf_cstr(&b), stdout);
    fflush(stdout);
    px_buf_free(&b);
    w->stop = px_predicate_offer(w->inner, f);
}

static bool w_stop(void *state, const px_frame *f)
{
    (void)f;
    return ((watch_state *)state)->stop;
}

static px_verdict w_finish(void *state, bool timed_out, px_result *out)
{
    return px_predicate_finish(((watch_state *)state)->inner, timed_out, out);
}

static void w_describe(const void *state, px_buf *out)
{
    px_predicate_describe(((const watch_state *)state)->inner, out);
}

static void w_destroy(void *state)
{
    watch_state *w = state;
    px_predicate_free(w->inner);
    free(w);
}

static const px_predicate_ops watch_ops = {.name = "watch", .on_packet = w_on_packet, .stop_condition = w_stop,
                                           .on_finish = w_finish, .describe = w_describe, .destroy = w_destroy};
static const px_predicate_ops watch_ops_loss = {.name = "watch", .on_packet = w_on_packet, .stop_condition = w_stop,
                                                .on_finish = w_finish, .describe = w_describe, .destroy = w_destroy,
                                                .flags = PX_PRED_LOSS_SENSITIVE};

/* The window `watch` uses without -t: the longest one (~49 days), shown as
 * "until interrupted" rather than as a number of milliseconds. */
#define WATCH_FOREVER_MS UINT32_MAX

/* Prints the expectation's report; without -t the window is "until
 * interrupted" (the library words the longest window "within the whole stream",
 * which fits a recorded capture, not a live port). */
static void print_watch_report(const char *rep, bool forever)
{
    const char *cut = forever ? strstr(rep, " within the whole stream") : NULL;
    if (cut)
        printf("%.*s until interrupted%s\n", (int)(cut - rep), rep, cut + strlen(" within the whole stream"));
    else
        printf("%s\n", rep);
}

/* `names` is the caller's: the plugins must stay loaded until the predicate
 * is freed with the context. */
static int watch_main(int argc, char **argv, const volatile sig_atomic_t *stop, px_cli_names *names)
{
    const char *port = NULL, *netns = NULL, *bpf = NULL;
    uint32_t timeout = WATCH_FOREVER_MS;
    unsigned long count = 0;
    bool nonoise = false;
    int c;
    const char *val;
    px_cli_args a;
    px_cli_args_init(&a, "watch", argc, argv, watch_opts);
    while ((c = px_cli_next(&a, &val)) != PX_CLI_END) {
        char *end = NULL;
        switch (c) {
        case W_PORT:
            port = val;
            break;
        case W_NETNS:
            netns = val;
            break;
        case W_TIMEOUT: {
            uint64_t ms;
            if (px_duration_option_ms("watch", "--timeout", val, PX_DURATION_NS_PER_MS, PX_DURATION_24H_NS, &ms))
                return PX_EXIT_INVALID;
            timeout = (uint32_t)ms;
            break;
        }
        case W_COUNT:
            count = strtoul(val, &end, 10);
            if (!end || *end || count == 0 || count > 100000000 || val[0] == '-') {
                fprintf(stderr, "pktexpect watch: --count '%s': expected a positive integer\n", val);
                return PX_EXIT_INVALID;
            }
            break;
        case W_BPF:
            bpf = val;
            break;
        case W_NONOISE:
            nonoise = true;
            break;
        case W_PLUGIN:
            if (!px_cli_names_add(names, "watch", val))
                return PX_EXIT_INVALID;
            break;
        case O_HELP:
            fputs(usage_watch, stdout);
            return PX_EXIT_PASS;
        default:
            return PX_EXIT_INVALID; /* the parser printed why */
        }
    }
    if (!port || a.nops != 1) {
        fputs(!port ? "pktexpect watch: -i PORT is required\n" : "pktexpect watch: expected one predicate\n", stderr);
        fputs(usage_watch, stderr);
        return PX_EXIT_INVALID;
    }
    const char *expr = a.ops[0];
    if (bpf && !px_cli_bpf_ok("watch", bpf))
        return PX_EXIT_INVALID;
    px_cli_port_name ns_name;
    const char *lib_port;
    int nrc = px_cli_netns_ports("watch", netns, &port, 1, &ns_name, &lib_port);
    if (nrc)
        return nrc;
    px_predicate *inner = NULL;
    px_expr_error e;
    memset(&e, 0, sizeof e);
    int lrc = px_cli_names_load(names, "watch");
    if (lrc)
        return lrc;
    if (px_expr_parse(names->reg, expr, &inner, &e)) {
        char msg[PX_EXPR_ERROR_SIZE];
        px_run_expr_message(e.message, msg, sizeof msg);
        fprintf(stderr, "pktexpect watch: invalid predicate: %s\n", msg);
        return PX_EXIT_INVALID;
    }
    watch_state *w = calloc(1, sizeof *w);
    if (!w) {
        px_predicate_free(inner);
        return PX_EXIT_ENV;
    }
    w->inner = inner;
    w->shown = port;
    const px_predicate_ops *iops = px_predicate_get_ops(inner);
    px_predicate *pred = px_predicate_new(iops && (iops->flags & PX_PRED_LOSS_SENSITIVE) ? &watch_ops_loss : &watch_ops,
                                          w);
    if (!pred)
        return PX_EXIT_ENV;
    char eb[PX_ERRBUF_SIZE] = "";
    px_ctx_opts co = {.default_timeout_ms = timeout, .noise_filter_off = nonoise};
    px_ctx *ctx = px_ctx_new(&co, eb);
    if (!ctx) {
        px_predicate_free(pred);
        fprintf(stderr, "pktexpect watch: %s\n", eb);
        return PX_EXIT_ENV;
    }
    px_expect_opts eo = {.timeout_ms = timeout, .count = (uint32_t)count, .filter = bpf,
                         .noise = nonoise ? PX_NOISE_OFF : PX_NOISE_PORT};
    int rc = px_port_open(ctx, lib_port, eb);
    px_future *fut = rc ? NULL : px_expect(ctx, lib_port, pred, &eo);
    if (!fut) {
        if (rc)
            px_predicate_free(pred);
        fprintf(stderr, "pktexpect watch: %s\n", rc ? eb : "out of memory");
        px_ctx_free(ctx);
        return PX_EXIT_ENV;
    }
    fprintf(stderr, "watching %s%s%s for %s (Ctrl-C to stop)\n", port, netns ? " in namespace " : "",
            netns ? netns : "", expr);
    while (px_future_wait_for(fut, 100) == PX_PENDING) {
        if (stop && *stop) {
            px_future_cancel(fut);
            break;
        }
    }
    px_verdict v = px_future_verdict(fut);
    px_buf rep = PX_BUF_INIT;
    px_future_report(fut, &rep);
    print_watch_report(px_buf_cstr(&rep), timeout == WATCH_FOREVER_MS);
    px_buf_free(&rep);
    bool interrupted = stop && *stop;
    px_future_free(fut);
    px_ctx_free(ctx);
    if (interrupted)
        return PX_RUN_INTERRUPTED;
    return v == PX_PASS ? PX_EXIT_PASS : PX_EXIT_FAIL;
}

static int cmd_watch(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    px_cli_names names = {0};
    int rc = watch_main(argc, argv, stop, &names);
    px_cli_names_free(&names);
    return rc;
}

/* `send` and `replay` are the sender's (runner/cmd_send.c). */
static int cmd_sender(int argc, char **argv, bool replay)
{
    return replay ? px_cli_replay(argc, argv) : px_cli_send(argc, argv);
}

int px_cli_main(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return PX_EXIT_INVALID;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help")) {
        fputs(usage_main, stdout);
        return PX_EXIT_PASS;
    }
    if (cmd[0] == '-') { /* an option before any command: --help, --version */
        px_cli_args a;
        const char *val;
        px_cli_args_init(&a, NULL, 2, argv, main_opts);
        switch (px_cli_next(&a, &val)) {
        case O_HELP:
            fputs(usage_main, stdout);
            return PX_EXIT_PASS;
        case O_VERSION:
            puts("pktexpect 0.1.0");
            return PX_EXIT_PASS;
        default:
            return PX_EXIT_INVALID; /* the parser printed why */
        }
    }
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    if (!strcmp(cmd, "run"))
        return cmd_run(sub_argc, sub_argv, stop);
    if (!strcmp(cmd, "validate"))
        return cmd_validate(sub_argc, sub_argv);
    if (!strcmp(cmd, "watch"))
        return cmd_watch(sub_argc, sub_argv, stop);
    if (!strcmp(cmd, "check"))
        return px_cli_check(sub_argc, sub_argv, stop);
    if (!strcmp(cmd, "clean"))
        return px_cli_clean(sub_argc, sub_argv);
    if (!strcmp(cmd, "junit-merge"))
        return px_cli_junit_merge(sub_argc, sub_argv, stop);
    if (!strcmp(cmd, "stf"))
        return px_cli_stf(sub_argc, sub_argv, stop);
    if (!strcmp(cmd, "send"))
        return cmd_sender(sub_argc, sub_argv, false);
    if (!strcmp(cmd, "replay"))
        return cmd_sender(sub_argc, sub_argv, true);
    fprintf(stderr, "pktexpect: unknown command '%s'\n\n%s", cmd, usage_main);
    return PX_EXIT_INVALID;
}
