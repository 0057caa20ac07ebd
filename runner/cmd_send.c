/* pktexpect runner: `pktexpect send` and `pktexpect replay` (see cmd_send.h and
 * docs/sending.md). Thin: parse the command line, call the library, print what
 * happened. */
#include "cmd_send.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/context.h"
#include "pktexpect/send.h"
#include "pktexpect/text.h"
#include "cli_opt.h"
#include "duration.h"
#include "run.h"
#include "sig.h"

#define MAX_CLI_PORTS 64

static const char usage_send[] =
    "usage: pktexpect send -i PORT [-i PORT ...] [options] 'FRAME'\n"
    "  FRAME                 text form, e.g. 'Ether(dst=ff:ff:ff:ff:ff:ff)/IPv4(dst=10.0.0.2)/UDP(dport=53)'\n"
    "  -i, --port PORT       interface to send on (several: the same frame on each)\n"
    "  -n, --netns NAME      the ports live in this network namespace\n"
    "      --vlan VID[:PCP]  push an 802.1Q tag on the way out\n"
    "      --count N         frames to send (default 1, or unlimited with --duration)\n"
    "      --rate R          pace: frames/s ('10000', '10k', '10kpps') or bit/s ('100Mbps', '1Gbit')\n"
    "      --duration D      send for this long, e.g. 2s, 500ms, 1m (a bare integer is ms; at most 24 h)\n"
    "      --tag             write a tag trailer for saw_tag() (the first tag is printed)\n"
    "  -h, --help            this help\n"
    "Options and operands may come in any order; `--` ends the options.\n"
    "Exit: 0 sent, 1 the send failed, 2 invalid command line or frame, 3 no such\n"
    "interface or namespace, no privileges, interface down.\n";

static const char usage_replay[] =
    "usage: pktexpect replay -i PORT [-i PORT ...] [options] FILE\n"
    "  FILE                  pcap or pcapng, Ethernet link type\n"
    "  -i, --port PORT       port; with several, the pcapng file's interface n goes to the\n"
    "                        n-th port ('-' skips that interface)\n"
    "  -n, --netns NAME      the ports live in this network namespace\n"
    "      --speed X         1 = with the file's gaps, 2 = twice as fast; default: as fast as possible\n"
    "      --limit N         send at most N frames\n"
    "  -h, --help            this help\n"
    "Options and operands may come in any order; `--` ends the options.\n"
    "Exit: 0 sent, 1 the send failed, 2 invalid command line or file, 3 no such\n"
    "interface or namespace, no privileges, interface down.\n";

enum { S_PORT = 'i', S_NETNS = 'n', S_HELP = 'h', S_VLAN = 256, S_COUNT, S_RATE, S_DURATION, S_TAG, S_SPEED,
       S_LIMIT };

const px_cli_opt px_cli_send_opts[] = {
    {"port", 'i', true, S_PORT},        {"netns", 'n', true, S_NETNS},  {"vlan", 0, true, S_VLAN},
    {"count", 0, true, S_COUNT},        {"rate", 0, true, S_RATE},      {"duration", 0, true, S_DURATION},
    {"tag", 0, false, S_TAG},           {"help", 'h', false, S_HELP},   {NULL, 0, false, 0}};

const px_cli_opt px_cli_replay_opts[] = {
    {"port", 'i', true, S_PORT},   {"netns", 'n', true, S_NETNS}, {"speed", 0, true, S_SPEED},
    {"limit", 0, true, S_LIMIT},   {"help", 'h', false, S_HELP},  {NULL, 0, false, 0}};

/* Exit code for a library error. */
static int exit_for(int rc)
{
    switch (rc) {
    case PX_ENODEV:
    case PX_EPERM:
    case PX_EDOWN:
    case PX_EGONE:
        return PX_EXIT_ENV;
    case PX_EINVAL:
    case PX_EMTU:
    case PX_ERANGE:
    case PX_EPARSE:
    case PX_EFORMAT:
    case PX_EIO: /* only replay returns it: the file cannot be opened */
        return PX_EXIT_INVALID;
    case PX_ECANCELED: /* SIGINT / SIGTERM: 130 / 143 */
        return px_sig_exit_code(130);
    default:
        return PX_EXIT_FAIL;
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
    /* Out of range (e.g. 1e-300: a frame every 10^292 years) is refused here, with
     * the bounds, rather than deep in the pacer. */
    if (!*end || !strcmp(end, "pps") || !strcmp(end, "fps") || !strcmp(end, "/s")) {
        *fps = v;
        return v >= PX_PACE_FPS_MIN && v <= PX_PACE_FPS_MAX;
    }
    if (!strcmp(end, "bps") || !strcmp(end, "bit") || !strcmp(end, "bit/s")) {
        *bps = v;
        return v >= PX_PACE_BPS_MIN && v <= PX_PACE_BPS_MAX;
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

/* One send; with --netns its ports are "NETNS/IFNAME", whose sockets the
 * library opens in the namespace. */
typedef struct send_job {
    px_ctx *ctx;
    const char *const *ports;
    const char *shown;       /* the first port as -i gave it, for the report */
    size_t nports;
    const uint8_t *bytes;
    size_t len;
    px_send_opts *so;
    const px_pace_opts *po;
    bool paced;
    uint64_t *tag;
    uint8_t *own;   /* non-NULL: the text left Ether src out; each port's MAC goes there */
} send_job;

/* With own: sends a copy carrying each port's MAC, as px_send_text does; the
 * first error is returned, the other ports are still tried (as px_send_ports). */
static int send_own_src(const send_job *j, char *err)
{
    int first = 0;
    char e[PX_ERRBUF_SIZE];
    for (size_t i = 0; i < j->nports; i++) {
        memcpy(j->own, j->bytes, j->len);
        int rc = px_port_mac(j->ctx, j->ports[i], j->own + 6, e);
        if (rc == 0)
            rc = px_send_ex(j->ctx, j->ports[i], j->own, j->len, j->so, e);
        if (rc != 0 && first == 0) {
            first = rc;
            snprintf(err, PX_ERRBUF_SIZE, "%s", e);
        }
    }
    return first;
}

static int send_run(const send_job *j, char *err)
{
    int rc;
    if (!j->paced) {
        rc = j->own ? send_own_src(j, err)
           : j->nports == 1 ? px_send_ex(j->ctx, j->ports[0], j->bytes, j->len, j->so, err)
                            : px_send_ports(j->ctx, j->ports, j->nports, j->bytes, j->len, j->so, err);
        if (rc == 0) {
            printf("sent 1 frame of %zu bytes on %zu port%s", j->len + (j->so->push_vlan ? 4 : 0), j->nports,
                   j->nports > 1 ? "s" : "");
            if (j->so->tagged)
                printf(", tag 0x%016llx", (unsigned long long)*j->tag);
            putchar('\n');
        }
        return rc;
    }
    px_tx_frame fr = {j->bytes, j->len};
    if (j->own) {
        memcpy(j->own, j->bytes, j->len);
        rc = px_port_mac(j->ctx, j->ports[0], j->own + 6, err);
        if (rc != 0)
            return rc;
        fr.bytes = j->own;
    }
    px_pace_report rep;
    memset(&rep, 0, sizeof rep);
    rc = px_send_paced(j->ctx, j->ports[0], &fr, 1, j->so, j->po, &rep, err);
    printf("sent %llu frames (%llu bytes) on %s in %.3f s: %.0f frames/s, %.3f Mbit/s", (unsigned long long)rep.sent,
           (unsigned long long)rep.bytes, j->shown, (double)rep.elapsed_ns / 1e9, rep.achieved_fps,
           rep.achieved_bps / 1e6);
    if (j->po->rate_fps > 0 || j->po->rate_bps > 0)
        printf("; lateness mean %.1f us, max %.1f us", (double)rep.late_mean_ns / 1e3, (double)rep.late_max_ns / 1e3);
    if (j->so->tagged)
        printf("; tags from 0x%016llx", (unsigned long long)*j->tag);
    putchar('\n');
    return rc;
}

int px_cli_send(int argc, char **argv)
{
    const char *ports[MAX_CLI_PORTS];
    size_t nports = 0;
    const char *netns = NULL;
    px_send_opts so;
    memset(&so, 0, sizeof so);
    px_pace_opts po;
    memset(&po, 0, sizeof po);
    bool count_given = false;
    int c;
    const char *val;
    px_cli_args a;
    px_cli_args_init(&a, "send", argc, argv, px_cli_send_opts);
    while ((c = px_cli_next(&a, &val)) != PX_CLI_END) {
        switch (c) {
        case S_PORT:
            if (nports == MAX_CLI_PORTS) {
                fprintf(stderr, "pktexpect send: at most %d ports\n", MAX_CLI_PORTS);
                return PX_EXIT_INVALID;
            }
            ports[nports++] = val;
            break;
        case S_NETNS:
            netns = val;
            break;
        case S_VLAN:
            if (!parse_vlan(val, &so)) {
                fprintf(stderr, "pktexpect send: --vlan '%s': give VID (0..4095) or VID:PCP (PCP 0..7)\n", val);
                return PX_EXIT_INVALID;
            }
            break;
        case S_COUNT:
            if (!parse_u64(val, &po.count) || po.count == 0) {
                fprintf(stderr, "pktexpect send: --count '%s' is not a positive number\n", val);
                return PX_EXIT_INVALID;
            }
            count_given = true;
            break;
        case S_RATE:
            if (!parse_rate(val, &po.rate_fps, &po.rate_bps)) {
                fprintf(stderr,
                        "pktexpect send: --rate '%s': give frames/s ('10k', %g to %g) or bit/s ('100Mbps', %g to "
                        "%g)\n",
                        val, PX_PACE_FPS_MIN, PX_PACE_FPS_MAX, PX_PACE_BPS_MIN, PX_PACE_BPS_MAX);
                return PX_EXIT_INVALID;
            }
            break;
        case S_DURATION:
            if (px_duration_option_ms("send", "--duration", val, PX_DURATION_NS_PER_MS, PX_DURATION_24H_NS,
                                      &po.duration_ms))
                return PX_EXIT_INVALID;
            break;
        case S_TAG:
            so.tagged = true;
            break;
        case S_HELP:
            fputs(usage_send, stdout);
            return PX_EXIT_PASS;
        default:
            return PX_EXIT_INVALID; /* the parser printed why */
        }
    }
    if (nports == 0 || a.nops != 1) {
        fprintf(stderr, "pktexpect send: give at least one -i PORT and exactly one frame\n%s", usage_send);
        return PX_EXIT_INVALID;
    }
    if (po.rate_fps > 0 && po.rate_bps > 0) {
        fprintf(stderr, "pktexpect send: give one --rate\n");
        return PX_EXIT_INVALID;
    }
    if (!count_given && po.duration_ms == 0)
        po.count = 1;
    bool paced = po.count != 1 || po.duration_ms || po.rate_fps > 0 || po.rate_bps > 0;
    if (paced && nports > 1) {
        fprintf(stderr, "pktexpect send: several ports take a single frame (no --count, --rate, --duration)\n");
        return PX_EXIT_INVALID;
    }
    px_cli_port_name ns_names[MAX_CLI_PORTS];
    const char *lib_ports[MAX_CLI_PORTS];
    int nrc = px_cli_netns_ports("send", netns, ports, nports, ns_names, lib_ports);
    if (nrc)
        return nrc;

    char err[PX_ERRBUF_SIZE] = "";
    uint8_t *bytes = NULL;
    size_t len = 0;
    unsigned flags = 0;
    int rc = px_frame_parse_text_ex(a.ops[0], &bytes, &len, &flags, err);
    if (rc < 0) {
        fprintf(stderr, "pktexpect send: frame: %s\n", err);
        return PX_EXIT_INVALID;
    }
    px_ctx *ctx = px_ctx_new(NULL, err);
    if (!ctx) {
        fprintf(stderr, "pktexpect send: %s\n", err);
        free(bytes);
        return PX_EXIT_ENV;
    }
    px_ctx_set_cancel_fd(ctx, px_sig_fd()); /* SIGINT / SIGTERM end a paced run at once */
    uint64_t tag = 0;
    so.tag_out = &tag;
    send_job job = {ctx, lib_ports, ports[0], nports, bytes, len, &so, &po, paced, &tag, NULL};
    if ((flags & PX_TEXT_SRC_MAC_UNSET) && !(job.own = malloc(len))) {
        fprintf(stderr, "pktexpect send: out of memory\n");
        px_ctx_free(ctx);
        free(bytes);
        return PX_EXIT_ENV;
    }
    rc = send_run(&job, err);
    if (rc < 0)
        fprintf(stderr, "pktexpect: %s\n", err); /* err names the operation and the port */
    px_ctx_free(ctx);
    free(job.own);
    free(bytes);
    return rc < 0 ? exit_for(rc) : PX_EXIT_PASS;
}

static int replay_run(px_ctx *ctx, const char *port, const char *file, const px_replay_opts *o, char *err)
{
    px_replay_report rep;
    memset(&rep, 0, sizeof rep);
    int rc = px_replay(ctx, port, file, o, &rep, err);
    printf("replayed %llu frames (%llu bytes) in %.3f s", (unsigned long long)rep.sent, (unsigned long long)rep.bytes,
           (double)rep.elapsed_ns / 1e9);
    if (rep.skipped)
        printf(", %llu skipped (unmapped interface)", (unsigned long long)rep.skipped);
    if (rep.snapped)
        printf(", %llu sent shorter than on the wire (the file cut them)", (unsigned long long)rep.snapped);
    putchar('\n');
    return rc;
}

int px_cli_replay(int argc, char **argv)
{
    const char *ports[MAX_CLI_PORTS];
    size_t nports = 0;
    const char *netns = NULL;
    px_replay_opts o;
    memset(&o, 0, sizeof o);
    int c;
    const char *val;
    px_cli_args a;
    px_cli_args_init(&a, "replay", argc, argv, px_cli_replay_opts);
    while ((c = px_cli_next(&a, &val)) != PX_CLI_END) {
        switch (c) {
        case S_PORT:
            if (nports == MAX_CLI_PORTS) {
                fprintf(stderr, "pktexpect replay: at most %d ports\n", MAX_CLI_PORTS);
                return PX_EXIT_INVALID;
            }
            ports[nports++] = strcmp(val, "-") == 0 ? NULL : val;
            break;
        case S_NETNS:
            netns = val;
            break;
        case S_SPEED: {
            char *end;
            errno = 0;
            o.speed = strtod(val, &end);
            if (errno || end == val || *end || !(o.speed > 0) || !isfinite(o.speed)) {
                fprintf(stderr, "pktexpect replay: --speed '%s' is not a positive number\n", val);
                return PX_EXIT_INVALID;
            }
            if (o.speed < PX_REPLAY_SPEED_MIN || o.speed > PX_REPLAY_SPEED_MAX) {
                fprintf(stderr, "pktexpect replay: --speed '%s' is out of range: give %g to %g\n", val,
                        PX_REPLAY_SPEED_MIN, PX_REPLAY_SPEED_MAX);
                return PX_EXIT_INVALID;
            }
            break;
        }
        case S_LIMIT:
            if (!parse_u64(val, &o.limit) || o.limit == 0) {
                fprintf(stderr, "pktexpect replay: --limit '%s' is not a positive number\n", val);
                return PX_EXIT_INVALID;
            }
            break;
        case S_HELP:
            fputs(usage_replay, stdout);
            return PX_EXIT_PASS;
        default:
            return PX_EXIT_INVALID; /* the parser printed why */
        }
    }
    if (nports == 0 || a.nops != 1 || (nports == 1 && !ports[0])) {
        fprintf(stderr, "pktexpect replay: give -i PORT and exactly one file\n%s", usage_replay);
        return PX_EXIT_INVALID;
    }
    px_cli_port_name ns_names[MAX_CLI_PORTS];
    const char *lib_ports[MAX_CLI_PORTS];
    int nrc = px_cli_netns_ports("replay", netns, ports, nports, ns_names, lib_ports);
    if (nrc)
        return nrc;
    if (nports > 1) {
        o.port_map = lib_ports;
        o.nport_map = nports;
    }
    char err[PX_ERRBUF_SIZE] = "";
    px_ctx *ctx = px_ctx_new(NULL, err);
    if (!ctx) {
        fprintf(stderr, "pktexpect replay: %s\n", err);
        return PX_EXIT_ENV;
    }
    px_ctx_set_cancel_fd(ctx, px_sig_fd()); /* SIGINT / SIGTERM end the replay at once */
    int rc = replay_run(ctx, nports == 1 ? lib_ports[0] : NULL, a.ops[0], &o, err);
    if (rc < 0)
        fprintf(stderr, "pktexpect: %s\n", err); /* err names the file or the port */
    px_ctx_free(ctx);
    return rc < 0 ? exit_for(rc) : PX_EXIT_PASS;
}
