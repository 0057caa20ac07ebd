/* pktexpect runner: command-line interface. See cli.h and docs/cli.md. */
#include "cli.h"
#include "cmd_junit_merge.h"
#include "cmd_send.h"

#include <errno.h>
#include <getopt.h>
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
#include "pktexpect/topology.h"
#include "cmd_check.h"
#include "report.h"
#include "run.h"
#include "scenario.h"

#define MAX_VARS 64

static const char usage_main[] =
    "usage: pktexpect COMMAND [OPTIONS] [ARGS]\n"
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
    "  junit-merge OUT IN...  merge the JUnit files of several shards\n"
    "\n"
    "`pktexpect COMMAND --help` describes each command. Exit codes: 0 passed,\n"
    "1 a test failed, 2 invalid scenario or command line, 3 environment unusable.\n";

static const char usage_run[] =
    "usage: pktexpect run [OPTIONS] FILE...\n"
    "\n"
    "Builds each scenario's topology, runs its tests, tears the topology down.\n"
    "\n"
    "  -f, --filter PATTERN     run tests whose 'scenario/test' or 'test' matches the\n"
    "                           shell pattern (fnmatch)\n"
    "  -l, --list               list the selected tests and exit (no privileges needed)\n"
    "      --shard K/N          run the K-th of N shares of the tests (1 <= K <= N)\n"
    "      --timeout-scale F    multiply every timeout by F (slow CI machines)\n"
    "      --junit FILE         write a JUnit XML report\n"
    "      --tap                report in TAP version 13 on stdout\n"
    "      --pcap-dir DIR       keep pcapng evidence of failed tests in DIR\n"
    "  -v, --verbose            show every step\n"
    "      --keep-topology      leave the topology in place after the run\n"
    "      --deadline SECONDS   stop the whole run after this long\n"
    "      --var NAME=VALUE     set a scenario variable (overrides the file)\n"
    "      --no-color           no colours even on a terminal\n"
    "  -h, --help               this help\n";

static const char usage_validate[] =
    "usage: pktexpect validate [--var NAME=VALUE]... FILE...\n"
    "\n"
    "Checks scenario files: YAML syntax, keys, types, durations, names, ports,\n"
    "predicate expressions and frames. Prints FILE:LINE:COL: message for every\n"
    "problem. Needs no privileges and touches nothing. Exit 0 valid, 2 invalid.\n";

static const char usage_watch[] =
    "usage: pktexpect watch -i PORT [OPTIONS] 'PREDICATE'\n"
    "\n"
    "Opens PORT, prints every frame offered to the predicate in the text form, and\n"
    "stops when the predicate finishes (or at the timeout, or on Ctrl-C).\n"
    "\n"
    "  -i, --interface PORT     interface to watch (required)\n"
    "  -n, --netns NAME         the interface lives in this network namespace\n"
    "  -t, --timeout DURATION   window, e.g. 10s (default: 24h)\n"
    "  -c, --count N            stop after N frames\n"
    "  -F, --bpf FILTER         only frames matching this BPF filter\n"
    "      --no-noise-filter    show OS noise frames (IPv6 ND, MLD, ...) too\n"
    "  -h, --help               this help\n"
    "Exit: 0 PASS, 1 FAIL or ERROR, 2 invalid predicate, 3 the port cannot be opened.\n";

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
static int load_all(int n, char **files, const px_scn_var *vars, size_t nvars, px_scenario **out)
{
    int bad = 0;
    for (int i = 0; i < n; i++) {
        px_buf errs = PX_BUF_INIT;
        out[i] = NULL;
        int rc = px_scenario_load(files[i], px_run_checkers(), vars, nvars, &out[i], &errs);
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
    static const struct option lo[] = {{"var", required_argument, NULL, 'V'}, {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    px_scn_var vars[MAX_VARS];
    char *store[MAX_VARS];
    size_t nvars = 0;
    int c, rc = PX_EXIT_PASS;
    optind = 0; /* 0: glibc re-initialises getopt fully (px_cli_main may run more than once) */
    while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_validate, stdout);
            goto out;
        }
        if (c == 'V' && parse_var(optarg, vars, &nvars, store) == 0)
            continue;
        fputs(usage_validate, stderr);
        rc = PX_EXIT_INVALID;
        goto out;
    }
    if (optind >= argc) {
        fputs(usage_validate, stderr);
        rc = PX_EXIT_INVALID;
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        px_scenario *s = NULL;
        if (load_all(1, &argv[i], vars, nvars, &s)) {
            rc = PX_EXIT_INVALID;
            continue;
        }
        printf("%s: ok (%zu test%s)\n", argv[i], s->ntests, s->ntests == 1 ? "" : "s");
        px_scenario_free(s);
    }
out:
    for (size_t i = 0; i < nvars; i++)
        free(store[i]);
    return rc;
}

static int cmd_run(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    enum { O_SHARD = 256, O_SCALE, O_JUNIT, O_TAP, O_PCAP, O_KEEP, O_DEADLINE, O_VAR, O_NOCOLOR };
    static const struct option lo[] = {
        {"filter", required_argument, NULL, 'f'},     {"list", no_argument, NULL, 'l'},
        {"shard", required_argument, NULL, O_SHARD},  {"timeout-scale", required_argument, NULL, O_SCALE},
        {"junit", required_argument, NULL, O_JUNIT},  {"tap", no_argument, NULL, O_TAP},
        {"pcap-dir", required_argument, NULL, O_PCAP}, {"verbose", no_argument, NULL, 'v'},
        {"keep-topology", no_argument, NULL, O_KEEP}, {"deadline", required_argument, NULL, O_DEADLINE},
        {"var", required_argument, NULL, O_VAR},      {"no-color", no_argument, NULL, O_NOCOLOR},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0}};
    px_run_opts o = {.timeout_scale = 1.0, .out = stdout, .err = stderr, .stop = stop};
    bool list = false, nocolor = false;
    const char *junit = NULL;
    px_scn_var vars[MAX_VARS];
    char *store[MAX_VARS];
    size_t nvars = 0;
    int c, rc = PX_EXIT_INVALID;
    px_scenario **scns = NULL;
    int nfiles = 0;
    optind = 0; /* 0: glibc re-initialises getopt fully (px_cli_main may run more than once) */
    while ((c = getopt_long(argc, argv, "+f:lvh", lo, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'f':
            o.filter = optarg;
            break;
        case 'l':
            list = true;
            break;
        case 'v':
            o.verbose = true;
            break;
        case 'h':
            fputs(usage_run, stdout);
            rc = PX_EXIT_PASS;
            goto out;
        case O_SHARD: {
            unsigned k, n;
            char extra;
            if (sscanf(optarg, "%u/%u%c", &k, &n, &extra) != 2 || n == 0 || k == 0 || k > n) {
                fprintf(stderr, "pktexpect run: --shard '%s': expected K/N with 1 <= K <= N\n", optarg);
                goto out;
            }
            o.shard_k = k;
            o.shard_n = n;
            break;
        }
        case O_SCALE:
            o.timeout_scale = strtod(optarg, &end);
            if (!end || *end || !(o.timeout_scale > 0) || o.timeout_scale > 1000) {
                fprintf(stderr, "pktexpect run: --timeout-scale '%s': expected a number above 0 (e.g. 2.5)\n",
                        optarg);
                goto out;
            }
            break;
        case O_JUNIT:
            junit = optarg;
            break;
        case O_TAP:
            o.tap = true;
            break;
        case O_PCAP:
            o.pcap_dir = optarg;
            break;
        case O_KEEP:
            o.keep_topology = true;
            break;
        case O_DEADLINE:
            o.deadline_s = strtod(optarg, &end);
            if (!end || *end || !(o.deadline_s > 0)) {
                fprintf(stderr, "pktexpect run: --deadline '%s': expected seconds above 0\n", optarg);
                goto out;
            }
            break;
        case O_VAR:
            if (parse_var(optarg, vars, &nvars, store))
                goto out;
            break;
        case O_NOCOLOR:
            nocolor = true;
            break;
        default:
            fputs(usage_run, stderr);
            goto out;
        }
    }
    if (optind >= argc) {
        fputs("pktexpect run: no scenario file given\n", stderr);
        fputs(usage_run, stderr);
        goto out;
    }
    nfiles = argc - optind;
    scns = calloc((size_t)nfiles, sizeof *scns);
    if (!scns)
        goto out;
    if (load_all(nfiles, argv + optind, vars, nvars, scns))
        goto out;
    for (int i = 0; i < nfiles; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(scns[i]->name, scns[j]->name)) {
                fprintf(stderr, "pktexpect run: two scenarios are named '%s' (%s, %s): give one a different 'name:'\n",
                        scns[i]->name, scns[j]->path, scns[i]->path);
                goto out;
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
    px_report rep = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = px_run(scns, (size_t)nfiles, &o, &rep);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!o.tap)
        px_report_console_summary(stdout, &rep, el, o.color);
    if (rc == PX_RUN_INTERRUPTED)
        fprintf(stderr, "pktexpect: interrupted; topology torn down\n");
    if (junit) {
        px_buf err = PX_BUF_INIT;
        if (px_report_write_junit_file(&rep, junit, &err)) {
            fprintf(stderr, "pktexpect run: %s\n", px_buf_cstr(&err));
            if (rc == PX_EXIT_PASS)
                rc = PX_EXIT_ENV;
        }
        px_buf_free(&err);
    }
    px_report_free(&rep);
out:
    for (int i = 0; scns && i < nfiles; i++)
        px_scenario_free(scns[i]);
    free(scns);
    for (size_t i = 0; i < nvars; i++)
        free(store[i]);
    return rc;
}

/* ---- watch: a predicate wrapper that prints every frame offered ---- */

typedef struct watch_state {
    px_predicate *inner;
    bool stop;
} watch_state;

static void w_on_packet(void *state, const px_frame *f)
{
    watch_state *w = state;
    struct tm tm;
    time_t sec = f->ts.tv_sec;
    localtime_r(&sec, &tm);
    px_buf b = PX_BUF_INIT;
    px_buf_printf(&b, "%02d:%02d:%02d.%06ld %s ", tm.tm_hour, tm.tm_min, tm.tm_sec, f->ts.tv_nsec / 1000,
                  f->port ? f->port : "?");
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

typedef struct watch_call {
    px_ctx *ctx;
    const char *port;
    px_predicate *pred;
    px_expect_opts *eo;
    px_future *fut;
} watch_call;

static int watch_arm(void *arg, char *errbuf)
{
    watch_call *c = arg;
    int rc = px_port_open(c->ctx, c->port, errbuf);
    if (rc) {
        px_predicate_free(c->pred);
        return rc;
    }
    c->fut = px_expect(c->ctx, c->port, c->pred, c->eo);
    return c->fut ? 0 : PX_ENOMEM;
}

static int cmd_watch(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    enum { O_NONOISE = 256 };
    static const struct option lo[] = {
        {"interface", required_argument, NULL, 'i'}, {"netns", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'},   {"count", required_argument, NULL, 'c'},
        {"bpf", required_argument, NULL, 'F'},       {"no-noise-filter", no_argument, NULL, O_NONOISE},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};
    const char *port = NULL, *netns = NULL, *bpf = NULL;
    uint32_t timeout = 86400000u;
    unsigned long count = 0;
    bool nonoise = false;
    int c;
    optind = 0; /* 0: glibc re-initialises getopt fully (px_cli_main may run more than once) */
    while ((c = getopt_long(argc, argv, "+i:n:t:c:F:h", lo, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'i':
            port = optarg;
            break;
        case 'n':
            netns = optarg;
            break;
        case 't':
            if (px_parse_duration_ms(optarg, &timeout) || timeout == 0) {
                fprintf(stderr, "pktexpect watch: --timeout '%s': expected a duration like 10s\n", optarg);
                return PX_EXIT_INVALID;
            }
            break;
        case 'c':
            count = strtoul(optarg, &end, 10);
            if (!end || *end || count == 0 || count > 100000000) {
                fprintf(stderr, "pktexpect watch: --count '%s': expected a positive integer\n", optarg);
                return PX_EXIT_INVALID;
            }
            break;
        case 'F':
            bpf = optarg;
            break;
        case O_NONOISE:
            nonoise = true;
            break;
        case 'h':
            fputs(usage_watch, stdout);
            return PX_EXIT_PASS;
        default:
            fputs(usage_watch, stderr);
            return PX_EXIT_INVALID;
        }
    }
    if (!port || optind != argc - 1) {
        fputs(!port ? "pktexpect watch: -i PORT is required\n" : "pktexpect watch: expected one predicate\n", stderr);
        fputs(usage_watch, stderr);
        return PX_EXIT_INVALID;
    }
    px_predicate *inner = NULL;
    px_expr_error e;
    memset(&e, 0, sizeof e);
    if (px_expr_parse(NULL, argv[optind], &inner, &e)) {
        fprintf(stderr, "pktexpect watch: invalid predicate: %s\n", e.message);
        return PX_EXIT_INVALID;
    }
    watch_state *w = calloc(1, sizeof *w);
    if (!w) {
        px_predicate_free(inner);
        return PX_EXIT_ENV;
    }
    w->inner = inner;
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
    watch_call wc = {ctx, port, pred, &eo, NULL};
    int rc = px_topo_netns_run(netns, watch_arm, &wc, eb);
    if (rc) {
        fprintf(stderr, "pktexpect watch: %s\n", eb);
        px_ctx_free(ctx);
        return PX_EXIT_ENV;
    }
    fprintf(stderr, "watching %s%s%s for %s (Ctrl-C to stop)\n", port, netns ? " in namespace " : "",
            netns ? netns : "", argv[optind]);
    while (px_future_wait_for(wc.fut, 100) == PX_PENDING) {
        if (stop && *stop) {
            px_future_cancel(wc.fut);
            break;
        }
    }
    px_verdict v = px_future_verdict(wc.fut);
    px_buf rep = PX_BUF_INIT;
    px_future_report(wc.fut, &rep);
    printf("%s\n", px_buf_cstr(&rep));
    px_buf_free(&rep);
    bool interrupted = stop && *stop;
    px_future_free(wc.fut);
    px_ctx_free(ctx);
    if (interrupted)
        return PX_RUN_INTERRUPTED;
    return v == PX_PASS ? PX_EXIT_PASS : PX_EXIT_FAIL;
}

/* `send` and `replay` are the sender's (runner/cmd_send.c); they parse their own
 * arguments with getopt, so start it afresh. */
static int cmd_sender(int argc, char **argv, bool replay)
{
    optind = 0;
    return replay ? px_cli_replay(argc, argv) : px_cli_send(argc, argv);
}

int px_cli_main(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return PX_EXIT_INVALID;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_main, stdout);
        return PX_EXIT_PASS;
    }
    if (!strcmp(cmd, "--version")) {
        puts("pktexpect 0.1.0");
        return PX_EXIT_PASS;
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
    if (!strcmp(cmd, "junit-merge"))
        return px_cli_junit_merge(sub_argc, sub_argv, stop);
    if (!strcmp(cmd, "send"))
        return cmd_sender(sub_argc, sub_argv, false);
    if (!strcmp(cmd, "replay"))
        return cmd_sender(sub_argc, sub_argv, true);
    fprintf(stderr, "pktexpect: unknown command '%s'\n\n%s", cmd, usage_main);
    return PX_EXIT_INVALID;
}
