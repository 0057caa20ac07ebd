/* pktexpect runner: `check`, expectations against a recorded capture.
 *
 * The capture is read by an offline pcap port (px_port_open_pcap): paused
 * until every expectation is armed, then read as fast as the disk allows, with
 * windows measured in the capture's own time, so the result does not depend on
 * how fast this machine reads it. Drops the capture recorded (pcapng interface
 * statistics) make loss-sensitive verdicts inconclusive, as on a live port. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_opt.h"
#include "cmd_check.h"
#include "duration.h"
#include "pktexpect/pktexpect.h"
#include "run.h"
#include "scenario.h"

#define CHECK_MAX 64
#define WHOLE_CAPTURE_MS 0xffffffffu /* ~49 days of capture time */

static const char usage_check[] =
    "usage: pktexpect check --pcap FILE [OPTIONS] 'PREDICATE'...\n"
    "\n"
    "Evaluates each predicate against a recorded pcap or pcapng capture, armed at\n"
    "its start, in the capture's own time. FILE '-' reads standard input.\n"
    "\n"
    "options:\n"
    "  -r, --pcap FILE        the capture to read (required)\n"
    "  -I, --interface NAME   pcapng: only frames of this interface (if_name)\n"
    "  -t, --timeout DUR      window in capture time, e.g. 500ms (default: whole capture)\n"
    "  -c, --count N          finish each expectation after N frames\n"
    "  -F, --bpf FILTER       BPF filter applied before each predicate\n"
    "      --no-noise-filter  offer OS noise frames too\n"
    "      --plugin FILE.so   load predicates from a plugin (repeatable)\n"
    "  -h, --help             this text\n"
    "Options and operands may come in any order; `--` ends the options.\n"
    "\n"
    "Exit codes: 0 all passed, 1 a predicate failed or was inconclusive (also when\n"
    "the capture is malformed part-way), 2 invalid command line, predicate, plugin\n"
    "or BPF filter, 3 the capture cannot be opened, 130 interrupted.\n";

enum { C_PCAP = 'r', C_IFACE = 'I', C_TIMEOUT = 't', C_COUNT = 'c', C_BPF = 'F', C_HELP = 'h', C_NONOISE = 256,
       C_PLUGIN };

const px_cli_opt px_cli_check_opts[] = {
    {"pcap", 'r', true, C_PCAP},    {"interface", 'I', true, C_IFACE}, {"timeout", 't', true, C_TIMEOUT},
    {"count", 'c', true, C_COUNT},  {"bpf", 'F', true, C_BPF},         {"no-noise-filter", 0, false, C_NONOISE},
    {"plugin", 0, true, C_PLUGIN},  {"help", 'h', false, C_HELP},      {NULL, 0, false, 0}};

/* `names` is the caller's: the plugins stay loaded until the predicates are
 * freed with the context. */
static int check_main(int argc, char **argv, const volatile sig_atomic_t *stop, px_cli_names *names)
{
    const char *path = NULL, *iface = NULL, *bpf = NULL;
    uint32_t timeout = WHOLE_CAPTURE_MS;
    unsigned long count = 0;
    bool nonoise = false;
    int c;
    const char *val;
    px_cli_args a;
    px_cli_args_init(&a, "check", argc, argv, px_cli_check_opts);
    while ((c = px_cli_next(&a, &val)) != PX_CLI_END) {
        char *end = NULL;
        switch (c) {
        case C_PCAP: path = val; break;
        case C_IFACE: iface = val; break;
        case C_TIMEOUT: {
            uint64_t ms;
            if (px_duration_option_ms("check", "--timeout", val, PX_DURATION_NS_PER_MS, PX_DURATION_24H_NS, &ms))
                return PX_EXIT_INVALID;
            timeout = (uint32_t)ms;
            break;
        }
        case C_COUNT:
            count = strtoul(val, &end, 10);
            if (!end || *end || count == 0 || count > 100000000 || val[0] == '-') {
                fprintf(stderr, "pktexpect check: --count '%s': expected a positive integer\n", val);
                return PX_EXIT_INVALID;
            }
            break;
        case C_BPF: bpf = val; break;
        case C_NONOISE: nonoise = true; break;
        case C_PLUGIN:
            if (!px_cli_names_add(names, "check", val))
                return PX_EXIT_INVALID;
            break;
        case C_HELP: fputs(usage_check, stdout); return PX_EXIT_PASS;
        default: return PX_EXIT_INVALID; /* the parser printed why */
        }
    }
    int n = a.nops;
    char **exprs = a.ops;
    if (!path || n < 1 || n > CHECK_MAX) {
        fprintf(stderr, "pktexpect check: %s\n",
                !path ? "--pcap FILE is required" : n < 1 ? "expected at least one predicate" : "at most 64 predicates");
        fputs(usage_check, stderr);
        return PX_EXIT_INVALID;
    }
    if (bpf && !px_cli_bpf_ok("check", bpf))
        return PX_EXIT_INVALID;
    int lrc = px_cli_names_load(names, "check");
    if (lrc)
        return lrc;
    px_predicate *preds[CHECK_MAX] = {0};
    for (int i = 0; i < n; i++) {
        px_expr_error e;
        memset(&e, 0, sizeof e);
        if (px_expr_parse(names->reg, exprs[i], &preds[i], &e)) {
            char msg[PX_EXPR_ERROR_SIZE];
            px_run_expr_message(e.message, msg, sizeof msg);
            fprintf(stderr, "pktexpect check: invalid predicate '%s': %s\n", exprs[i], msg);
            for (int j = 0; j < i; j++)
                px_predicate_free(preds[j]);
            return PX_EXIT_INVALID;
        }
    }
    char err[PX_ERRBUF_SIZE] = "";
    px_ctx_opts co = {.noise_filter_off = nonoise};
    px_ctx *ctx = px_ctx_new(&co, err);
    bool stdin_ = strcmp(path, "-") == 0;
    px_pcap_port_opts po = {.path = stdin_ ? NULL : path, .fd = 0, .interface = iface, .paused = true};
    int rc = ctx ? px_port_open_pcap(ctx, "capture", &po, err) : PX_ENOMEM;
    if (rc != 0) {
        fprintf(stderr, "pktexpect check: %s\n", err);
        for (int i = 0; i < n; i++)
            px_predicate_free(preds[i]);
        px_ctx_free(ctx);
        return PX_EXIT_ENV;
    }
    px_future *fs[CHECK_MAX] = {0};
    px_expect_opts eo = {.timeout_ms = timeout, .count = (uint32_t)count, .filter = bpf,
                         .noise = nonoise ? PX_NOISE_OFF : PX_NOISE_PORT};
    for (int i = 0; i < n; i++)
        fs[i] = px_expect(ctx, "capture", preds[i], &eo);
    px_port_start(ctx, "capture");
    while (px_future_wait_all(fs, (size_t)n, 100) != 0) {
        if (stop && *stop) {
            for (int i = 0; i < n; i++)
                px_future_cancel(fs[i]);
            break;
        }
    }
    int failed = 0;
    for (int i = 0; i < n; i++) {
        px_buf rep = PX_BUF_INIT;
        px_future_report(fs[i], &rep);
        printf("%s\n", px_buf_cstr(&rep));
        px_buf_free(&rep);
        failed += px_future_verdict(fs[i]) != PX_PASS;
        px_future_free(fs[i]);
    }
    px_ctx_free(ctx);
    if (stop && *stop)
        return PX_RUN_INTERRUPTED;
    printf("check: %d of %d predicates passed\n", n - failed, n);
    return failed ? PX_EXIT_FAIL : PX_EXIT_PASS;
}

int px_cli_check(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    px_cli_names names = {0};
    int rc = check_main(argc, argv, stop, &names);
    px_cli_names_free(&names);
    return rc;
}
