/* pktexpect runner: `pktexpect stf` (cmd_stf.h): STF files as scenarios. */
#include "cmd_stf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "duration.h"
#include "pktexpect/predicate.h"
#include "pktexpect/text.h"
#include "run.h"
#include "stf.h"
#include "stf_p4.h"

#define MAX_PORTS 64
#define MAX_FILES 64
#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_WAIT_MS 200
#define DIFF_ROWS_MAX 8

static const char usage_stf[] =
    "usage: pktexpect stf [OPTIONS] --port-map N=IF,... FILE.stf...\n"
    "\n"
    "Runs p4c STF tests against a live target: table entries through the target's\n"
    "CLI, packets sent on the mapped interfaces, expected packets checked per port.\n"
    "\n"
    "      --json FILE          the program's BMv2 JSON (names of tables, keys, actions)\n"
    "      --target-cli CMD     the target's CLI, fed the translated table commands on\n"
    "                           its stdin, e.g. 'simple_switch_CLI --thrift-port 9090'\n"
    "      --port-map LIST      STF port numbers to interfaces: 0=veth0,1=veth2\n"
    "                           (IF may be NETNS/IF); repeatable\n"
    "  -i, --interface N@IF     one port, PTF's form; repeatable\n"
    "  -t, --timeout DURATION   how long each port's expectations watch (default 2s)\n"
    "      --wait DURATION      the pause of a `wait` statement (default 200ms)\n"
    "      --junit FILE         write a JUnit XML report\n"
    "      --tap                report in TAP version 13 on stdout\n"
    "      --pcap-dir DIR       keep pcapng evidence of failed tests in DIR\n"
    "  -v, --verbose            show every step\n"
    "      --no-color           no colours even on a terminal\n"
    "  -h, --help               this help\n"
    "Exit codes are those of `run`.\n";

enum { S_IFACE = 'i', S_TIMEOUT = 't', S_VERBOSE = 'v', S_HELP = 'h', S_JSON = 256, S_CLI, S_PORTMAP, S_WAIT,
       S_JUNIT, S_TAP, S_PCAP, S_NOCOLOR };
const px_cli_opt px_cli_stf_opts[] = {
    {"json", 0, true, S_JSON},         {"target-cli", 0, true, S_CLI},  {"port-map", 0, true, S_PORTMAP},
    {"interface", 'i', true, S_IFACE}, {"timeout", 't', true, S_TIMEOUT}, {"wait", 0, true, S_WAIT},
    {"junit", 0, true, S_JUNIT},       {"tap", 0, false, S_TAP},        {"pcap-dir", 0, true, S_PCAP},
    {"verbose", 'v', false, S_VERBOSE}, {"no-color", 0, false, S_NOCOLOR}, {"help", 'h', false, S_HELP},
    {NULL, 0, false, 0}};

/* ---------------------------------------------------------- port map */

typedef struct port_map {
    unsigned port[MAX_PORTS];
    char *ifname[MAX_PORTS]; /* "IF" or "NETNS/IF" (points into argv) */
    size_t n;
} port_map;

/* One "N=IF" or "N@IF" (sep is '=' or '@'), ended by ',' or the end. */
static bool map_one(port_map *m, const char *s, size_t len, char sep)
{
    const char *at = memchr(s, sep, len);
    char *end;
    unsigned long n = at ? strtoul(s, &end, 10) : 0;
    size_t iflen = at ? len - (size_t)(at + 1 - s) : 0;
    if (!at || at == s || end != at || n > 65535 || iflen == 0 || iflen > 300) {
        fprintf(stderr, "pktexpect stf: port '%.*s': expected N%cINTERFACE\n", (int)len, s, sep);
        return false;
    }
    for (size_t i = 0; i < m->n; i++)
        if (m->port[i] == n) {
            fprintf(stderr, "pktexpect stf: port %lu is mapped twice\n", n);
            return false;
        }
    if (m->n == MAX_PORTS) {
        fprintf(stderr, "pktexpect stf: at most %d ports\n", MAX_PORTS);
        return false;
    }
    m->port[m->n] = (unsigned)n;
    m->ifname[m->n] = strndup(at + 1, iflen);
    return m->ifname[m->n++] != NULL;
}

static bool map_list(port_map *m, const char *list, char sep)
{
    for (const char *p = list;;) {
        size_t n = strcspn(p, ",");
        if (!map_one(m, p, n, sep))
            return false;
        if (!p[n])
            return true;
        p += n + 1;
    }
}

static int map_find(const port_map *m, unsigned port)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->port[i] == port)
            return (int)i;
    return -1;
}

/* ------------------------------------------- a port's expected frames */

/* What a port must emit: the expect statements of one STF file for one port. */
typedef struct port_expect {
    const px_stf *stf;
    unsigned port;
    const px_stf_stmt **exp;
    size_t n;
} port_expect;

/* The predicate's state: frames compared in arrival order, the first problem kept. */
typedef struct port_pred {
    const port_expect *pe;
    size_t seen;
    size_t bad;          /* index of the frame that differs or is unexpected; SIZE_MAX: none */
    size_t first_diff;
    uint8_t *got;        /* a copy of that frame */
    size_t got_len;
    px_buf got_text;
} port_pred;

static void pp_keep(port_pred *s, const px_frame *f)
{
    s->bad = s->seen;
    s->got_len = f->caplen;
    s->got = malloc(f->caplen ? f->caplen : 1);
    if (s->got)
        memcpy(s->got, f->data, f->caplen);
    if (px_frame_to_text(f, &s->got_text) != 0)
        px_buf_append(&s->got_text, "(frame)");
}

static void pp_on_packet(void *state, const px_frame *f)
{
    port_pred *s = state;
    if (s->bad != SIZE_MAX)
        return;
    if (s->seen >= s->pe->n || !px_stf_match(s->pe->exp[s->seen], f->data, f->caplen, &s->first_diff))
        pp_keep(s, f);
    s->seen++;
}

static bool pp_stop(void *state, const px_frame *f)
{
    (void)f;
    return ((port_pred *)state)->bad != SIZE_MAX; /* a wrong or extra frame decides at once */
}

/* Rows of 16 bytes, expected over received, from the row before the first
 * difference: the diff of a frame that does not match. */
static void hex_diff(px_result *out, const px_stf_stmt *e, const uint8_t *got, size_t len, size_t first)
{
    size_t want_len = (e->nnibbles + 1) / 2, total = want_len > len ? want_len : len;
    size_t row0 = first / 16 ? first / 16 - 1 : 0;
    for (size_t row = row0; row * 16 < total && row < row0 + DIFF_ROWS_MAX; row++) {
        px_result_explain(out, "\n  %04zx expected:", row * 16);
        for (size_t i = row * 16; i < row * 16 + 16 && i < total; i++) {
            if (i >= want_len) {
                px_result_explain(out, e->exact ? " --" : " ..");
                continue;
            }
            for (size_t k = 2 * i; k < 2 * i + 2; k++)
                px_result_explain(out, k == 2 * i ? " %c" : "%c",
                                  k >= e->nnibbles ? '.' : e->care[k] ? "0123456789abcdef"[e->nibbles[k]] : '*');
        }
        px_result_explain(out, "\n       received:");
        for (size_t i = row * 16; i < row * 16 + 16 && i < total; i++)
            if (i < len)
                px_result_explain(out, " %02x", got[i]);
            else
                px_result_explain(out, " --");
        px_result_explain(out, "\n               ");
        for (size_t i = row * 16; i < row * 16 + 16 && i < total; i++)
            px_result_explain(out, "%s", i == first ? " ^^" : "   ");
    }
}

static px_verdict pp_finish(void *state, bool timed_out, px_result *out)
{
    (void)timed_out;
    port_pred *s = state;
    const port_expect *pe = s->pe;
    if (s->bad != SIZE_MAX && s->bad >= pe->n) {
        px_result_explain(out, "unexpected packet on port %u (after the %zu expected): %s", pe->port, pe->n,
                          px_buf_cstr(&s->got_text));
        return PX_FAIL;
    }
    if (s->bad != SIZE_MAX) {
        const px_stf_stmt *e = pe->exp[s->bad];
        px_result_explain(out, "packet %zu on port %u differs from the expect at %s:%d, at byte %zu: %s", s->bad + 1,
                          pe->port, pe->stf->file, e->line, s->first_diff, px_buf_cstr(&s->got_text));
        if (s->got)
            hex_diff(out, e, s->got, s->got_len, s->first_diff);
        return PX_FAIL;
    }
    if (s->seen < pe->n) {
        const px_stf_stmt *e = pe->exp[s->seen];
        px_result_explain(out, "port %u emitted %zu of the %zu expected packets: none matched the expect at %s:%d",
                          pe->port, s->seen, pe->n, pe->stf->file, e->line);
        return PX_FAIL;
    }
    px_result_explain(out, "port %u emitted the %zu expected packet%s and nothing else", pe->port, pe->n,
                      pe->n == 1 ? "" : "s");
    return PX_PASS;
}

static void pp_describe(const void *state, px_buf *out)
{
    const port_pred *s = state;
    px_buf_printf(out, "stf: port %u emits exactly its %zu expected packet%s, in order", s->pe->port, s->pe->n,
                  s->pe->n == 1 ? "" : "s");
}

static void pp_destroy(void *state)
{
    port_pred *s = state;
    free(s->got);
    px_buf_free(&s->got_text);
    free(s);
}

static const px_predicate_ops port_pred_ops = {
    .name = "stf_port",
    .on_packet = pp_on_packet,
    .stop_condition = pp_stop,
    .on_finish = pp_finish,
    .describe = pp_describe,
    .destroy = pp_destroy,
    .flags = PX_PRED_LOSS_SENSITIVE, /* "nothing else" is an absence */
};

static px_predicate *make_port_pred(void *arg)
{
    port_pred *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->pe = arg;
    s->bad = SIZE_MAX;
    return px_predicate_new(&port_pred_ops, s);
}

/* ---------------------------------------------- the scenario in memory */

typedef struct stf_opts {
    const char *target_cli;
    const px_p4json *p4;
    const port_map *map;
    uint32_t timeout_ms, wait_ms;
} stf_opts;

static char *xstrdup(const char *s, bool *oom)
{
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

static px_step *new_step(px_scn_test *t, px_step_kind kind, const px_stf *stf, int line, bool *oom)
{
    px_step *nv = realloc(t->steps, (t->nsteps + 1) * sizeof *nv);
    if (!nv) {
        *oom = true;
        return NULL;
    }
    t->steps = nv;
    px_step *st = &t->steps[t->nsteps++];
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->pos = (px_scn_pos){stf->file, line, 1};
    st->vlan = -1;
    st->noise_filter = -1;
    st->send_count = 1;
    return st;
}

static char **one_port(const char *name, size_t *n, bool *oom)
{
    char **v = calloc(1, sizeof *v);
    if (v && (v[0] = strdup(name))) {
        *n = 1;
        return v;
    }
    free(v);
    *oom = true;
    return NULL;
}

static char *port_name(unsigned port)
{
    char b[16];
    snprintf(b, sizeof b, "%u", port);
    return strdup(b);
}

/* The steps of one STF file. Returns 0, PX_EPARSE (messages in err) or PX_ENOMEM.
 * pes[i] (one per mapped port) get the expect statements. */
static int build_test(const stf_opts *so, const px_stf *stf, px_scn_test *t, port_expect *pes, px_buf *err)
{
    bool oom = false;
    int rc = 0;
    px_buf batch = PX_BUF_INIT;
    int batch_line = 0;
    bool armed = false;
    for (size_t i = 0; i < so->map->n; i++)
        pes[i] = (port_expect){.stf = stf, .port = so->map->port[i]};
    for (size_t i = 0; i <= stf->n && !oom; i++) {
        const px_stf_stmt *s = i < stf->n ? &stf->s[i] : NULL;
        bool table = s && (s->kind == PX_STF_ADD || s->kind == PX_STF_SETDEFAULT || s->kind == PX_STF_TARGET);
        if (table) {
            if (!so->target_cli || (s->kind != PX_STF_TARGET && !so->p4)) {
                px_buf_printf(err, "%s:%d:%d: '%s' needs %s\n", stf->file, s->line, s->col,
                              s->kind == PX_STF_ADD          ? "add"
                              : s->kind == PX_STF_SETDEFAULT ? "setdefault"
                                                             : "a target command",
                              s->kind == PX_STF_TARGET ? "--target-cli" : "--json and --target-cli");
                rc = PX_EPARSE;
                continue;
            }
            if (!batch.len)
                batch_line = s->line;
            if (px_stf_translate(so->p4, stf, s, &batch, err))
                rc = PX_EPARSE;
            continue;
        }
        if (batch.len && !rc) { /* the table statements so far, in one batch */
            px_step *st = new_step(t, PX_STEP_CLI, stf, batch_line, &oom);
            if (st) {
                st->cmd.run = xstrdup(so->target_cli, &oom);
                st->cmd.pos = st->pos;
                st->input = px_buf_steal(&batch);
            }
        }
        px_buf_clear(&batch);
        if (!s)
            break;
        int m = s->kind == PX_STF_WAIT ? 0 : map_find(so->map, s->port);
        if (m < 0) {
            px_buf_printf(err, "%s:%d:%d: port %u is not in the port map (--port-map %u=IF or -i %u@IF)\n", stf->file,
                          s->line, s->col, s->port, s->port, s->port);
            rc = PX_EPARSE;
            continue;
        }
        if (s->kind == PX_STF_EXPECT) {
            port_expect *pe = &pes[m];
            const px_stf_stmt **nv = realloc(pe->exp, (pe->n + 1) * sizeof *nv);
            if (!nv) {
                oom = true;
                break;
            }
            pe->exp = nv;
            pe->exp[pe->n++] = s;
        } else if (s->kind == PX_STF_WAIT) {
            px_step *st = new_step(t, PX_STEP_SLEEP, stf, s->line, &oom);
            if (st)
                st->sleep_ms = so->wait_ms;
        } else if (s->kind == PX_STF_PACKET) {
            if (!armed) {
                /* Every mapped port watched from before the first packet:
                 * frames on ports without expects are unexpected too. */
                for (size_t j = 0; j < so->map->n && !oom; j++) {
                    px_step *st = new_step(t, PX_STEP_EXPECT, stf, s->line, &oom);
                    if (!st)
                        break;
                    char label[32];
                    snprintf(label, sizeof label, "port %u", so->map->port[j]);
                    st->name = xstrdup(label, &oom);
                    st->predicate = xstrdup("stf expects", &oom);
                    st->predicate_pos = st->pos;
                    st->timeout_ms = so->timeout_ms;
                    st->make_predicate = make_port_pred;
                    st->make_arg = &pes[j];
                    char *pn = port_name(so->map->port[j]);
                    st->ports = pn ? one_port(pn, &st->nports, &oom) : NULL;
                    oom |= !pn;
                    free(pn);
                }
                armed = true;
            }
            px_step *st = new_step(t, PX_STEP_SEND, stf, s->line, &oom);
            char *pn = port_name(s->port);
            if (st && pn) {
                st->ports = one_port(pn, &st->nports, &oom);
                st->bytes = malloc(s->nbytes);
                if (st->bytes) {
                    memcpy(st->bytes, s->bytes, s->nbytes);
                    st->nbytes = s->nbytes;
                } else {
                    oom = true;
                }
            }
            oom |= !pn;
            free(pn);
        }
    }
    if (!armed && !rc) {
        for (size_t i = 0; i < so->map->n; i++)
            if (pes[i].n) {
                px_buf_printf(err, "%s: expects packets but sends none\n", stf->file);
                rc = PX_EPARSE;
                break;
            }
    }
    px_buf_free(&batch);
    return oom ? PX_ENOMEM : rc;
}

static px_scenario *new_scenario(const port_map *map, bool *oom)
{
    px_scenario *s = calloc(1, sizeof *s);
    if (!s) {
        *oom = true;
        return NULL;
    }
    s->name = xstrdup("stf", oom);
    s->path = xstrdup("stf", oom);
    s->timeout_ms = DEFAULT_TIMEOUT_MS;
    s->noise_filter = true;
    s->ports = calloc(map->n ? map->n : 1, sizeof *s->ports);
    if (!s->ports) {
        *oom = true;
        return s;
    }
    for (size_t i = 0; i < map->n; i++) {
        px_scn_port *p = &s->ports[s->nports++];
        p->name = port_name(map->port[i]);
        const char *slash = strchr(map->ifname[i], '/');
        p->ifname = xstrdup(slash ? slash + 1 : map->ifname[i], oom);
        p->netns = slash ? strndup(map->ifname[i], (size_t)(slash - map->ifname[i])) : NULL;
        *oom |= !p->name || (slash && !p->netns);
    }
    return s;
}

/* ---------------------------------------------------------- the command */

int px_cli_stf(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    px_run_opts o = {.timeout_scale = 1.0, .out = stdout, .err = stderr, .stop = stop};
    stf_opts so = {.timeout_ms = DEFAULT_TIMEOUT_MS, .wait_ms = DEFAULT_WAIT_MS};
    port_map map = {0};
    const char *json = NULL, *junit = NULL;
    bool nocolor = false, oom = false;
    int rc = PX_EXIT_INVALID, c;
    const char *val;
    px_stf *stfs[MAX_FILES] = {0};
    port_expect *pes[MAX_FILES] = {0};
    px_p4json *p4 = NULL;
    px_scenario *scn = NULL;
    px_buf err = PX_BUF_INIT;
    px_cli_args a;
    px_cli_args_init(&a, "stf", argc, argv, px_cli_stf_opts);
    while ((c = px_cli_next(&a, &val)) != PX_CLI_END) {
        uint64_t ms;
        switch (c) {
        case S_JSON:
            json = val;
            break;
        case S_CLI:
            so.target_cli = val;
            break;
        case S_PORTMAP:
            if (!map_list(&map, val, '='))
                goto out;
            break;
        case S_IFACE:
            if (!map_list(&map, val, '@'))
                goto out;
            break;
        case S_TIMEOUT:
        case S_WAIT:
            if (px_duration_option_ms("stf", c == S_WAIT ? "--wait" : "--timeout", val, PX_DURATION_NS_PER_MS,
                                      PX_DURATION_24H_NS, &ms))
                goto out;
            *(c == S_WAIT ? &so.wait_ms : &so.timeout_ms) = (uint32_t)ms;
            break;
        case S_JUNIT:
            junit = val;
            break;
        case S_TAP:
            o.tap = true;
            break;
        case S_PCAP:
            o.pcap_dir = val;
            break;
        case S_VERBOSE:
            o.verbose = true;
            break;
        case S_NOCOLOR:
            nocolor = true;
            break;
        case S_HELP:
            fputs(usage_stf, stdout);
            rc = PX_EXIT_PASS;
            goto out;
        default:
            goto out; /* the parser printed why */
        }
    }
    if (a.nops == 0 || a.nops > MAX_FILES) {
        fprintf(stderr, "pktexpect stf: %s\n%s", a.nops ? "at most 64 STF files" : "no STF file given", usage_stf);
        goto out;
    }
    if (map.n == 0) {
        fprintf(stderr, "pktexpect stf: no port map: give --port-map 0=IF,1=IF or -i 0@IF\n");
        goto out;
    }
    if (json && !so.target_cli) {
        fprintf(stderr, "pktexpect stf: --json needs --target-cli (the CLI that receives the table entries)\n");
        goto out;
    }
    if (json && px_p4json_load(json, &p4, &err)) {
        fprintf(stderr, "pktexpect stf: %s", px_buf_cstr(&err));
        goto out;
    }
    so.p4 = p4;
    so.map = &map;
    scn = new_scenario(&map, &oom);
    bool invalid = false;
    for (int i = 0; i < a.nops && !oom; i++) {
        int lrc = px_stf_load(a.ops[i], &stfs[i], &err);
        if (lrc == PX_ENOMEM)
            oom = true;
        if (lrc) {
            invalid = true;
            continue;
        }
        pes[i] = calloc(map.n, sizeof *pes[i]);
        px_scn_test *nv = pes[i] ? realloc(scn->tests, (scn->ntests + 1) * sizeof *nv) : NULL;
        if (!nv) {
            oom = true;
            break;
        }
        scn->tests = nv;
        px_scn_test *t = &scn->tests[scn->ntests++];
        memset(t, 0, sizeof *t);
        t->name = xstrdup(a.ops[i], &oom);
        t->pos = (px_scn_pos){stfs[i]->file, 1, 1};
        int brc = build_test(&so, stfs[i], t, pes[i], &err);
        oom |= brc == PX_ENOMEM;
        invalid |= brc != 0;
    }
    if (oom) {
        fprintf(stderr, "pktexpect stf: %s\n", px_strerror(PX_ENOMEM));
        goto out;
    }
    if (invalid) {
        fputs(px_buf_cstr(&err), stderr);
        goto out;
    }
    o.color = !nocolor && !o.tap && isatty(fileno(stdout)) && !getenv("NO_COLOR");
    rc = px_cli_run_report(&scn, 1, &o, junit);
out:
    px_scenario_free(scn);
    for (int i = 0; i < MAX_FILES; i++) {
        for (size_t j = 0; pes[i] && j < map.n; j++)
            free(pes[i][j].exp);
        free(pes[i]);
        px_stf_free(stfs[i]);
    }
    for (size_t i = 0; i < map.n; i++)
        free(map.ifname[i]);
    px_p4json_free(p4);
    px_buf_free(&err);
    return rc;
}
