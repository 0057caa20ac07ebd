/* pktexpect runner: `pktexpect send` and `pktexpect replay` (see cmd_send.h and
 * docs/sending.md). Thin: parse the command line, call the library, print what
 * happened. */
#include "cmd_send.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/context.h"
#include "pktexpect/send.h"
#include "pktexpect/text.h"

#define MAX_CLI_PORTS 64

enum { EXIT_SENT = 0, EXIT_SEND_FAILED = 1, EXIT_USAGE = 2, EXIT_ENV = 3 };

static const char usage_send[] =
    "usage: pktexpect send -i PORT [-i PORT ...] [options] 'FRAME'\n"
    "  FRAME            text form, e.g. 'Ether(dst=ff:ff:ff:ff:ff:ff)/IPv4(dst=10.0.0.2)/UDP(dport=53)'\n"
    "  -i, --port PORT  interface to send on (several: the same frame on each)\n"
    "  --vlan VID[:PCP] push an 802.1Q tag on the way out\n"
    "  --count N        frames to send (default 1, or unlimited with --duration)\n"
    "  --rate R         pace: frames/s ('10000', '10k', '10kpps') or bit/s ('100Mbps', '1Gbit')\n"
    "  --duration MS    send for this many milliseconds\n"
    "  --tag            write a tag trailer for saw_tag() (the first tag is printed)\n";

static const char usage_replay[] =
    "usage: pktexpect replay -i PORT [-i PORT ...] [options] FILE\n"
    "  FILE             pcap or pcapng, Ethernet link type\n"
    "  -i, --port PORT  port; with several, the pcapng file's interface n goes to the\n"
    "                   n-th port ('-' skips that interface)\n"
    "  --speed X        1 = with the file's gaps, 2 = twice as fast; default: as fast as possible\n"
    "  --limit N        send at most N frames\n";

/* Exit code for a library error. */
static int exit_for(int rc)
{
    switch (rc) {
    case PX_ENODEV:
    case PX_EPERM:
    case PX_EDOWN:
    case PX_EGONE:
        return EXIT_ENV;
    case PX_EINVAL:
    case PX_EMTU:
    case PX_ERANGE:
    case PX_EPARSE:
    case PX_EFORMAT:
    case PX_EIO: /* only replay returns it: the file cannot be opened */
        return EXIT_USAGE;
    default:
        return EXIT_SEND_FAILED;
    }
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* "10000", "10k", "10kpps", "2.5Mfps" -> frames/s; "100Mbps", "1Gbit", "500kbit/s" -> bit/s. */
static bool parse_rate(const char *s, double *fps, double *bps)
{
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || !(v > 0) || !isfinite(v))
        return false;
    if (*end == 'k' || *end == 'K')
        v *= 1e3, end++;
    else if (*end == 'M')
        v *= 1e6, end++;
    else if (*end == 'G')
        v *= 1e9, end++;
    if (!*end || !strcmp(end, "pps") || !strcmp(end, "fps") || !strcmp(end, "/s")) {
        *fps = v;
        return true;
    }
    if (!strcmp(end, "bps") || !strcmp(end, "bit") || !strcmp(end, "bit/s")) {
        *bps = v;
        return true;
    }
    return false;
}

static bool parse_vlan(const char *s, px_send_opts *o)
{
    char *end;
    errno = 0;
    long vid = strtol(s, &end, 10);
    if (errno || end == s || vid < 0 || vid > 4095)
        return false;
    long pcp = 0;
    if (*end == ':') {
        const char *p = end + 1;
        pcp = strtol(p, &end, 10);
        if (end == p || pcp < 0 || pcp > 7)
            return false;
    }
    if (*end)
        return false;
    o->push_vlan = true;
    o->vlan_id = (uint16_t)vid;
    o->vlan_pcp = (uint8_t)pcp;
    return true;
}

int px_cli_send(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'i'},   {"vlan", required_argument, NULL, 'V'},
        {"count", required_argument, NULL, 'c'},  {"rate", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'}, {"tag", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *ports[MAX_CLI_PORTS];
    size_t nports = 0;
    px_send_opts so;
    memset(&so, 0, sizeof so);
    px_pace_opts po;
    memset(&po, 0, sizeof po);
    bool count_given = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "i:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (nports == MAX_CLI_PORTS) {
                fprintf(stderr, "pktexpect send: at most %d ports\n", MAX_CLI_PORTS);
                return EXIT_USAGE;
            }
            ports[nports++] = optarg;
            break;
        case 'V':
            if (!parse_vlan(optarg, &so)) {
                fprintf(stderr, "pktexpect send: --vlan '%s': give VID (0..4095) or VID:PCP (PCP 0..7)\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'c':
            if (!parse_u64(optarg, &po.count) || po.count == 0) {
                fprintf(stderr, "pktexpect send: --count '%s' is not a positive number\n", optarg);
                return EXIT_USAGE;
            }
            count_given = true;
            break;
        case 'r':
            if (!parse_rate(optarg, &po.rate_fps, &po.rate_bps)) {
                fprintf(stderr, "pktexpect send: --rate '%s': give frames/s ('10k') or bit/s ('100Mbps')\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'd':
            if (!parse_u64(optarg, &po.duration_ms) || po.duration_ms == 0) {
                fprintf(stderr, "pktexpect send: --duration '%s' is not a positive number of ms\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 't':
            so.tagged = true;
            break;
        case 'h':
            fputs(usage_send, stdout);
            return EXIT_SENT;
        default:
            fputs(usage_send, stderr);
            return EXIT_USAGE;
        }
    }
    if (nports == 0 || optind != argc - 1) {
        fprintf(stderr, "pktexpect send: give at least one -i PORT and exactly one frame\n%s", usage_send);
        return EXIT_USAGE;
    }
    if (po.rate_fps > 0 && po.rate_bps > 0) {
        fprintf(stderr, "pktexpect send: give one --rate\n");
        return EXIT_USAGE;
    }
    if (!count_given && po.duration_ms == 0)
        po.count = 1;
    bool paced = po.count != 1 || po.duration_ms || po.rate_fps > 0 || po.rate_bps > 0;
    if (paced && nports > 1) {
        fprintf(stderr, "pktexpect send: several ports take a single frame (no --count, --rate, --duration)\n");
        return EXIT_USAGE;
    }

    char err[PX_ERRBUF_SIZE];
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = px_frame_parse_text(argv[optind], &bytes, &len, err);
    if (rc < 0) {
        fprintf(stderr, "pktexpect send: frame: %s\n", err);
        return EXIT_USAGE;
    }
    px_ctx *ctx = px_ctx_new(NULL, err);
    if (!ctx) {
        fprintf(stderr, "pktexpect send: %s\n", err);
        free(bytes);
        return EXIT_ENV;
    }
    uint64_t tag = 0;
    so.tag_out = &tag;
    if (!paced) {
        rc = nports == 1 ? px_send_ex(ctx, ports[0], bytes, len, &so, err)
                         : px_send_ports(ctx, ports, nports, bytes, len, &so, err);
        if (rc == 0) {
            printf("sent 1 frame of %zu bytes on %zu port%s", len + (so.push_vlan ? 4 : 0), nports,
                   nports > 1 ? "s" : "");
            if (so.tagged)
                printf(", tag 0x%016llx", (unsigned long long)tag);
            putchar('\n');
        }
    } else {
        px_tx_frame fr = {bytes, len};
        px_pace_report rep;
        rc = px_send_paced(ctx, ports[0], &fr, 1, &so, &po, &rep, err);
        printf("sent %llu frames (%llu bytes) on %s in %.3f s: %.0f frames/s, %.3f Mbit/s", (unsigned long long)rep.sent,
               (unsigned long long)rep.bytes, ports[0], (double)rep.elapsed_ns / 1e9, rep.achieved_fps,
               rep.achieved_bps / 1e6);
        if (po.rate_fps > 0 || po.rate_bps > 0)
            printf("; lateness mean %.1f us, max %.1f us", (double)rep.late_mean_ns / 1e3,
                   (double)rep.late_max_ns / 1e3);
        if (so.tagged)
            printf("; tags from 0x%016llx", (unsigned long long)tag);
        putchar('\n');
    }
    if (rc < 0)
        fprintf(stderr, "pktexpect: %s\n", err); /* err names the operation and the port */
    px_ctx_free(ctx);
    free(bytes);
    return rc < 0 ? exit_for(rc) : EXIT_SENT;
}

int px_cli_replay(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'i'}, {"speed", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *ports[MAX_CLI_PORTS];
    size_t nports = 0;
    px_replay_opts o;
    memset(&o, 0, sizeof o);
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "i:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (nports == MAX_CLI_PORTS) {
                fprintf(stderr, "pktexpect replay: at most %d ports\n", MAX_CLI_PORTS);
                return EXIT_USAGE;
            }
            ports[nports++] = strcmp(optarg, "-") == 0 ? NULL : optarg;
            break;
        case 's': {
            char *end;
            errno = 0;
            o.speed = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(o.speed > 0) || !isfinite(o.speed)) {
                fprintf(stderr, "pktexpect replay: --speed '%s' is not a positive number\n", optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case 'l':
            if (!parse_u64(optarg, &o.limit) || o.limit == 0) {
                fprintf(stderr, "pktexpect replay: --limit '%s' is not a positive number\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(usage_replay, stdout);
            return EXIT_SENT;
        default:
            fputs(usage_replay, stderr);
            return EXIT_USAGE;
        }
    }
    if (nports == 0 || optind != argc - 1 || (nports == 1 && !ports[0])) {
        fprintf(stderr, "pktexpect replay: give -i PORT and exactly one file\n%s", usage_replay);
        return EXIT_USAGE;
    }
    if (nports > 1) {
        o.port_map = ports;
        o.nport_map = nports;
    }
    char err[PX_ERRBUF_SIZE];
    px_ctx *ctx = px_ctx_new(NULL, err);
    if (!ctx) {
        fprintf(stderr, "pktexpect replay: %s\n", err);
        return EXIT_ENV;
    }
    px_replay_report rep;
    int rc = px_replay(ctx, nports == 1 ? ports[0] : NULL, argv[optind], &o, &rep, err);
    printf("replayed %llu frames (%llu bytes) in %.3f s", (unsigned long long)rep.sent,
           (unsigned long long)rep.bytes, (double)rep.elapsed_ns / 1e9);
    if (rep.skipped)
        printf(", %llu skipped (unmapped interface)", (unsigned long long)rep.skipped);
    if (rep.snapped)
        printf(", %llu sent shorter than on the wire (the file cut them)", (unsigned long long)rep.snapped);
    putchar('\n');
    if (rc < 0)
        fprintf(stderr, "pktexpect: %s\n", err); /* err names the file */
    px_ctx_free(ctx);
    return rc < 0 ? exit_for(rc) : EXIT_SENT;
}
