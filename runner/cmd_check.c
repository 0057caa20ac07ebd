/* pktexpect runner: `check`, expectations against a recorded capture.
 *
 * The capture is read by an offline pcap port (px_port_open_pcap): paused
 * until every expectation is armed, then read as fast as the disk allows, with
 * windows measured in the capture's own time, so the result does not depend on
 * how fast this machine reads it. Drops the capture recorded (pcapng interface
 * statistics) make loss-sensitive verdicts inconclusive, as on a live port. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_check.h"
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
    "  -h, --help             this text\n"
    "\n"
    "Exit codes: 0 all passed, 1 a predicate failed or was inconclusive (also when\n"
    "the capture is malformed part-way), 2 invalid command line or predicate,\n"
    "3 the capture cannot be opened.\n";

int px_cli_check(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    enum { O_NONOISE = 256 };
    static const struct option lo[] = {
        {"pcap", required_argument, NULL, 'r'},  {"interface", required_argument, NULL, 'I'},
        {"timeout", required_argument, NULL, 't'}, {"count", required_argument, NULL, 'c'},
        {"bpf", required_argument, NULL, 'F'},   {"no-noise-filter", no_argument, NULL, O_NONOISE},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    const char *path = NULL, *iface = NULL, *bpf = NULL;
    uint32_t timeout = WHOLE_CAPTURE_MS;
    unsigned long count = 0;
    bool nonoise = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "r:I:t:c:F:h", lo, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'r': path = optarg; break;
        case 'I': iface = optarg; break;
        case 't':
            if (px_parse_duration_ms(optarg, &timeout) || timeout == 0) {
                fprintf(stderr, "pktexpect check: --timeout '%s': expected a duration like 500ms\n", optarg);
                return PX_EXIT_INVALID;
            }
            break;
        case 'c':
            count = strtoul(optarg, &end, 10);
            if (!end || *end || count == 0 || count > 100000000) {
                fprintf(stderr, "pktexpect check: --count '%s': expected a positive integer\n", optarg);
                return PX_EXIT_INVALID;
            }
            break;
        case 'F': bpf = optarg; break;
        case O_NONOISE: nonoise = true; break;
        case 'h': fputs(usage_check, stdout); return PX_EXIT_PASS;
        default: fputs(usage_check, stderr); return PX_EXIT_INVALID;
        }
    }
    int n = argc - optind;
    if (!path || n < 1 || n > CHECK_MAX) {
        fprintf(stderr, "pktexpect check: %s\n",
                !path ? "--pcap FILE is required" : n < 1 ? "expected at least one predicate" : "at most 64 predicates");
        fputs(usage_check, stderr);
        return PX_EXIT_INVALID;
    }
    px_predicate *preds[CHECK_MAX] = {0};
    for (int i = 0; i < n; i++) {
        px_expr_error e;
        memset(&e, 0, sizeof e);
        if (px_expr_parse(NULL, argv[optind + i], &preds[i], &e)) {
            fprintf(stderr, "pktexpect check: invalid predicate '%s': %s\n", argv[optind + i], e.message);
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
