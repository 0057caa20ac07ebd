/* pktexpect runner: the schema of tests and their steps (expect, send, wait,
 * sleep, exec), as tables read by the walker of scenario_schema.c. See
 * scenario_int.h and docs/scenarios.md. */
#include "scenario_int.h"

#include <ctype.h>
#include <regex.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The first two fields of the send table. */
enum { STEP_PORT, STEP_PORTS };

/* Reads the port list `pn` (a name or a list of names, under key `key`) into
 * st->ports, checking each name at its own list item (for the message's position). */
void px__scn_read_ports(px__scn_walk *w, yaml_node_t *pn, const char *key)
{
    loader *L = w->L;
    doc *d = w->d;
    px_step *st = w->obj;
    size_t before = st->nports;
    px__scn_get_str_list(L, d, pn, key, px__scn_get_nonempty, &st->ports, &st->nports);
    if (pn->type == YAML_SCALAR_NODE) {
        if (st->nports > before)
            px__scn_check_port_ref(L, d, pn, st->ports[before]);
        return;
    }
    size_t nitems = (size_t)(pn->data.sequence.items.top - pn->data.sequence.items.start);
    if (st->nports - before != nitems)
        return; /* some items were rejected already */
    for (size_t i = 0; i < nitems; i++) {
        yaml_node_t *x = px__scn_node(d, pn->data.sequence.items.start[i]);
        if (x)
            px__scn_check_port_ref(L, d, x, st->ports[before + i]);
    }
}

/* `port: p` or `ports: [p, q]` of a send step (the handler of the `port`
 * field, which reads `ports` too). Each name must be a known port. */
static bool step_ports(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    loader *L = w->L;
    doc *d = w->d;
    const char *what = w->pol->what;
    yaml_node_t *e = w->map, *port = v, *ports = w->vals[STEP_PORTS];
    if (port && ports) {
        px__scn_err_node(L, d, ports, "%s: give 'port' or 'ports', not both", what);
        return true;
    }
    if (!port && !ports) {
        px__scn_missing(L, d, e, what, "port");
        return true;
    }
    if (port && port->type != YAML_SCALAR_NODE) {
        px__scn_err_node(L, d, port, "port: expected a port name, got %s (use 'ports' for a list)",
                         px__scn_kind_name(port));
        return true;
    }
    px__scn_read_ports(w, port ? port : ports, port ? "port" : "ports");
    return true;
}

/* ---------------------------------------------------------------- expect */

enum {
    EX_PORT = PX__SCN_P_PORT,
    EX_ANY = PX__SCN_P_ANY,
    EX_EACH = PX__SCN_P_EACH,
    EX_PORTS = PX__SCN_P_PORTS,
    EX_PREDICATE,
    EX_TIMEOUT,
    EX_COUNT,
    EX_FILTER,
    EX_NAME,
    EX_NOISE_FILTER,
    EX_N
};

/* The ports of an expect (or verify) step (the handler of `port`, which reads
 * `any`, `each` and `ports` too): exactly one of `port: p`, `any: [p, q]` (one expectation
 * over the ports: PASS when the predicate passes on their frames together) and
 * `each: [p, q]` (one expectation per port: every one must PASS). A bare
 * `ports:` once meant `any` and was read as `each` by some: refused, with both
 * spellings in the message. */
bool px__scn_any_each(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    loader *L = w->L;
    doc *d = w->d;
    px_step *st = w->obj;
    const char *what = w->pol->what;
    yaml_node_t *ports = w->vals[EX_PORTS];
    if (ports) {
        px__scn_err_node(L, d, ports,
                         "'ports' is ambiguous: write 'any: [...]' (one of the ports) or 'each: [...]' (every port)");
        return true;
    }
    static const char *const keys[] = {"port", "any", "each"};
    yaml_node_t *given[] = {v, w->vals[EX_ANY], w->vals[EX_EACH]};
    yaml_node_t *pn = NULL;
    size_t which = 0;
    for (size_t i = 0; i < 3; i++) {
        if (!given[i])
            continue;
        if (pn) {
            px__scn_err_node(L, d, given[i], "%s: give one of 'port', 'any' and 'each', not '%s' and '%s'", what,
                             keys[which], keys[i]);
            return true;
        }
        pn = given[i];
        which = i;
    }
    if (!pn) {
        px__scn_err_node(L, d, w->map, "%s is missing 'port' (or 'any: [...]' / 'each: [...]')", what);
        return true;
    }
    if (which == 0 && pn->type != YAML_SCALAR_NODE) {
        px__scn_err_node(L, d, pn, "port: expected a port name, got %s (use 'any' or 'each' for a list)",
                         px__scn_kind_name(pn));
        return true;
    }
    st->each = which == 2;
    px__scn_read_ports(w, pn, keys[which]);
    return true;
}

static bool expect_predicate(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    loader *L = w->L;
    doc *d = w->d;
    px_step *st = w->obj;
    if (!px__scn_want_type(L, d, v, YAML_SCALAR_NODE, f->key))
        return false;
    bool changed = false;
    st->predicate = px__scn_expand(L, d, v, &changed);
    st->predicate_pos = px__scn_pos_of(d, v);
    if (st->predicate && !*st->predicate)
        px__scn_err_node(L, d, v, "predicate: expected an expression like saw_vlan_tag(102)");
    else if (st->predicate && L->chk && L->chk->check_predicate) {
        char eb[PX_ERRBUF_SIZE * 2] = "";
        if (L->chk->check_predicate(L->chk->arg, st->predicate, eb, sizeof eb) < 0)
            px__scn_err_checker(L, d, v, changed, "invalid predicate", eb[0] ? eb : "does not parse");
    }
    return true;
}

static bool expect_filter(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    px__scn_check_filter(w->L, w->d, v, ((px_step *)w->obj)->filter);
    return true;
}

static bool expect_name(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    const char *name = ((px_step *)w->obj)->name;
    if (!strcmp(name, "all") || strpbrk(name, " \t,"))
        px__scn_err_node(w->L, w->d, v, "name: '%s' is reserved or has spaces or commas", name);
    return true;
}

/* -1 (the scenario's default) unless set. */
static bool expect_noise_filter(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    bool b;
    if (!px__scn_get_bool(w->L, w->d, v, f->key, &b))
        return false;
    ((px_step *)w->obj)->noise_filter = b;
    return true;
}

static const px__scn_field expect_fields[EX_N] = {
    [EX_PORT] = {.key = "port", .flags = PX__SCN_ALWAYS, .fn = px__scn_any_each},
    [EX_ANY] = {.key = "any"},     /* read by px__scn_any_each */
    [EX_EACH] = {.key = "each"},   /* read by px__scn_any_each */
    [EX_PORTS] = {.key = "ports"}, /* refused by px__scn_any_each (with what to write) */
    [EX_PREDICATE] = {.key = "predicate", .flags = PX__SCN_REQUIRED, .fn = expect_predicate},
    [EX_TIMEOUT] = {.key = "timeout", .type = PX__SCN_DURATION, AT(px_step, timeout_ms)},
    [EX_COUNT] = {.key = "count", .type = PX__SCN_U32, AT(px_step, count), .min = 1, .max = 100000000},
    [EX_FILTER] = {.key = "filter", .type = PX__SCN_NONEMPTY, AT(px_step, filter), .fn = expect_filter},
    [EX_NAME] = {.key = "name", .type = PX__SCN_NONEMPTY, AT(px_step, name), .fn = expect_name},
    [EX_NOISE_FILTER] = {.key = "noise_filter", .fn = expect_noise_filter},
};
const px__scn_policy px__scn_expect_policy = POLICY("an expect step", expect_fields);

static void get_expect(loader *L, doc *d, yaml_node_t *e, px_scn_test *t, px_step *st)
{
    (void)t;
    yaml_node_t *v[EX_N];
    st->noise_filter = -1;
    px__scn_walk_map(L, d, e, &px__scn_expect_policy, st, NULL, v);
}

/* ------------------------------------------------------------------ send */

enum { SE_PORT = STEP_PORT, SE_PORTS = STEP_PORTS, SE_FRAME, SE_HEX, SE_PCAP, SE_COUNT, SE_RATE, SE_VLAN, SE_N };

/* A path from scenario file `d` (taken), relative to the directory of that file
 * unless absolute; NULL stays NULL. */
static char *relative_to_file(loader *L, const doc *d, char *p)
{
    const char *dir_end = strrchr(d->file, '/');
    if (!p || p[0] == '/' || !dir_end)
        return p;
    px_buf b = PX_BUF_INIT;
    px_buf_printf(&b, "%.*s/%s", (int)(dir_end - d->file), d->file, p);
    free(p);
    p = px_buf_steal(&b);
    if (!p)
        L->oom = true;
    return p;
}

/* Exactly one of frame, hex and pcap (the handler of `frame`, which reads all three). */
static bool send_source(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    (void)v;
    loader *L = w->L;
    doc *d = w->d;
    px_step *st = w->obj;
    yaml_node_t *frame = w->vals[SE_FRAME], *hexn = w->vals[SE_HEX], *pcap = w->vals[SE_PCAP];
    int nsrc = !!frame + !!hexn + !!pcap;
    if (nsrc != 1) {
        px__scn_err_node(L, d, nsrc ? (frame ? frame : hexn) : w->map,
                         "a send step needs exactly one of 'frame', 'hex' or 'pcap'");
    } else if (frame && px__scn_want_type(L, d, frame, YAML_SCALAR_NODE, "frame")) {
        bool changed = false;
        st->frame = px__scn_expand(L, d, frame, &changed);
        st->frame_pos = px__scn_pos_of(d, frame);
        if (st->frame && L->chk && L->chk->parse_frame) {
            char eb[PX_ERRBUF_SIZE] = "";
            if (L->chk->parse_frame(st->frame, &st->bytes, &st->nbytes, eb) < 0) {
                px__scn_err_checker(L, d, frame, changed, "invalid frame", eb[0] ? eb : "does not parse");
                st->bytes = NULL;
                st->nbytes = 0;
            } else if (st->nbytes > MAX_FRAME_BYTES) {
                px__scn_err_node(L, d, frame, "frame: %zu bytes, more than the %d a frame can have", st->nbytes,
                                 MAX_FRAME_BYTES);
            }
        }
    } else if (hexn && px__scn_want_type(L, d, hexn, YAML_SCALAR_NODE, "hex")) {
        bool changed = false;
        char *hex = px__scn_expand(L, d, hexn, &changed);
        if (hex) {
            char eb[PX_ERRBUF_SIZE] = "";
            if (px_parse_hex_bytes(hex, &st->bytes, &st->nbytes, eb) < 0)
                px__scn_err_checker(L, d, hexn, changed, "invalid hex", eb);
            else if (st->nbytes < 14)
                px__scn_err_node(L, d, hexn, "hex: a frame needs at least 14 bytes (an Ethernet header), got %zu",
                                 st->nbytes);
            else if (st->nbytes > MAX_FRAME_BYTES)
                px__scn_err_node(L, d, hexn, "hex: %zu bytes, more than the %d a frame can have", st->nbytes,
                                 MAX_FRAME_BYTES);
            free(hex);
        }
    } else if (pcap) {
        char *p = relative_to_file(L, d, px__scn_get_nonempty(L, d, pcap, "pcap"));
        if (p)
            px__scn_check_pcap(L, d, pcap, p);
        st->pcap = p;
    }
    return true;
}

static bool send_rate(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    char *r = px__scn_get_str(w->L, w->d, v, f->key);
    if (!r)
        return false;
    char *end;
    errno = 0;
    double x = strtod(r, &end);
    bool ok = !(errno || end == r || *end || !(x >= 0.001) || x > 1e8); /* px_send_paced's bounds (send.h) */
    if (!ok)
        px__scn_err_node(w->L, w->d, v, "rate: expected frames per second, a number from 0.001 to 100000000, got '%s'",
                         r);
    else
        ((px_step *)w->obj)->rate_pps = x;
    free(r);
    return ok;
}

/* `vlan: VID`, or `vlan: { vid: VID, pcp: 0..7, tpid: 0x88a8 }`: all three or none. */
typedef struct vlan_push {
    uint32_t vid, pcp, tpid;
} vlan_push;

static const px__scn_field vlan_push_fields[] = {
    {.key = "vid",
     .type = PX__SCN_U32,
     AT(vlan_push, vid),
     .flags = PX__SCN_REQUIRED | PX__SCN_ESSENTIAL,
     .min = 0,
     .max = 4095},
    {.key = "pcp", .type = PX__SCN_U32, AT(vlan_push, pcp), .flags = PX__SCN_ESSENTIAL, .min = 0, .max = 7},
    {.key = "tpid", .type = PX__SCN_U32, AT(vlan_push, tpid), .flags = PX__SCN_ESSENTIAL, .min = 0x600, .max = 0xffff},
};
const px__scn_policy px__scn_vlan_push_policy = POLICY("a vlan push", vlan_push_fields);

static bool send_vlan(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    px_step *st = w->obj;
    vlan_push vp = {0};
    if (v->type == YAML_SCALAR_NODE) {
        if (!px__scn_get_u32(w->L, w->d, v, f->key, 0, 4095, &vp.vid))
            return false;
    } else {
        yaml_node_t *vals[sizeof vlan_push_fields / sizeof vlan_push_fields[0]];
        if (!px__scn_walk_map(w->L, w->d, v, &px__scn_vlan_push_policy, &vp, NULL, vals))
            return false;
    }
    st->vlan = (int)vp.vid;
    st->vlan_pcp = (uint8_t)vp.pcp;
    st->vlan_tpid = (uint16_t)vp.tpid;
    return true;
}

static const px__scn_field send_fields[SE_N] = {
    [SE_PORT] = {.key = "port", .flags = PX__SCN_ALWAYS, .fn = step_ports},
    [SE_PORTS] = {.key = "ports"}, /* read by step_ports */
    [SE_FRAME] = {.key = "frame", .flags = PX__SCN_ALWAYS, .fn = send_source},
    [SE_HEX] = {.key = "hex"},   /* read by send_source */
    [SE_PCAP] = {.key = "pcap"}, /* read by send_source */
    [SE_COUNT] = {.key = "count", .type = PX__SCN_U32, AT(px_step, send_count), .min = 1, .max = 100000000},
    [SE_RATE] = {.key = "rate", .fn = send_rate},
    [SE_VLAN] = {.key = "vlan", .fn = send_vlan},
};
const px__scn_policy px__scn_send_policy = POLICY("a send step", send_fields);

static void get_send(loader *L, doc *d, yaml_node_t *e, px_scn_test *t, px_step *st)
{
    (void)t;
    yaml_node_t *v[SE_N];
    st->vlan = -1;
    st->send_count = 1;
    px__scn_walk_map(L, d, e, &px__scn_send_policy, st, NULL, v);
}

/* ------------------------------------------------------ wait, sleep, exec */

/* Steps that arm a future `wait` can name: expect and the verify steps. */
static bool waitable(px_step_kind k)
{
    return k == PX_STEP_EXPECT || k == PX_STEP_VERIFY || k == PX_STEP_VERIFY_NONE || k == PX_STEP_NO_OTHER;
}

static bool expect_named(const px_scn_test *t, const char *name)
{
    for (size_t i = 0; i < t->nsteps; i++)
        if (waitable(t->steps[i].kind) && t->steps[i].name && !strcmp(t->steps[i].name, name))
            return true;
    return false;
}

static void get_wait(loader *L, doc *d, yaml_node_t *v, px_scn_test *t, px_step *st)
{
    if (v->type == YAML_SCALAR_NODE && !strcmp(px__scn_scalar(v), "all")) {
        st->wait_all = true;
        return;
    }
    if (v->type == YAML_SCALAR_NODE && px__scn_is_null(v)) {
        st->wait_all = true;
        return;
    }
    if (!px__scn_get_str_list(L, d, v, "wait", px__scn_get_nonempty, &st->names, &st->nnames))
        return;
    for (size_t i = 0; i < st->nnames; i++)
        if (!expect_named(t, st->names[i]))
            px__scn_err_node(L, d, v, "wait: no expect step named '%s' before this step in test '%s'", st->names[i],
                             t->name ? t->name : "?");
}

static void get_sleep(loader *L, doc *d, yaml_node_t *v, px_scn_test *t, px_step *st)
{
    (void)t;
    px__scn_get_duration(L, d, v, "sleep", &st->sleep_ms);
}

static void get_exec(loader *L, doc *d, yaml_node_t *v, px_scn_test *t, px_step *st)
{
    (void)t;
    px__scn_get_cmd(L, d, v, "exec", true, &st->cmd);
}

/* `cli: { run: CMD, input: TEXT | input_file: PATH, error_patterns: RE | [RE, ...],
 * netns: NS, timeout: T }`: a control-plane batch (pktexpect/command.h). */
enum { CL_RUN, CL_NETNS, CL_TIMEOUT, CL_INPUT, CL_INPUT_FILE, CL_ERROR_PATTERNS, CL_N };

static bool cli_netns(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    px__scn_check_ns(w->L, w->d, v, ((px_step *)w->obj)->cmd.netns);
    return true;
}

/* Exactly one of input and input_file (the handler of `input`, which reads both). */
static bool cli_input(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    px_step *st = w->obj;
    yaml_node_t *file = w->vals[CL_INPUT_FILE];
    if (!!v + !!file != 1) {
        px__scn_err_node(w->L, w->d, v ? v : w->map, "a cli step needs exactly one of 'input' or 'input_file'");
        return true;
    }
    if (v) {
        if (px__scn_want_type(w->L, w->d, v, YAML_SCALAR_NODE, "input"))
            st->input = px__scn_expand(w->L, w->d, v, NULL);
    } else {
        st->input_file = relative_to_file(w->L, w->d, px__scn_get_nonempty(w->L, w->d, file, "input_file"));
    }
    return true;
}

/* Each pattern must compile (POSIX extended), as px_ctl_run will compile it. */
static bool cli_patterns(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    px_step *st = w->obj;
    if (!px__scn_get_str_list(w->L, w->d, v, f->key, px__scn_get_nonempty, &st->error_patterns,
                              &st->nerror_patterns))
        return true;
    for (size_t i = 0; i < st->nerror_patterns; i++) {
        regex_t re;
        int rc = regcomp(&re, st->error_patterns[i], REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char m[128];
            regerror(rc, &re, m, sizeof m);
            px__scn_err_node(w->L, w->d, v, "error_patterns: '%.32s' is not a POSIX extended regular expression: %s",
                             st->error_patterns[i], m);
        } else {
            regfree(&re);
        }
    }
    return true;
}

static const px__scn_field cli_fields[CL_N] = {
    [CL_RUN] = {.key = "run", .type = PX__SCN_NONEMPTY, AT(px_step, cmd.run), .flags = PX__SCN_REQUIRED},
    [CL_NETNS] = {.key = "netns", .type = PX__SCN_NSNAME, AT(px_step, cmd.netns), .fn = cli_netns},
    [CL_TIMEOUT] = {.key = "timeout", .type = PX__SCN_DURATION, AT(px_step, cmd.timeout_ms)},
    [CL_INPUT] = {.key = "input", .flags = PX__SCN_ALWAYS, .fn = cli_input},
    [CL_INPUT_FILE] = {.key = "input_file"}, /* read by cli_input */
    [CL_ERROR_PATTERNS] = {.key = "error_patterns", .fn = cli_patterns},
};
const px__scn_policy px__scn_cli_policy = POLICY("a cli step", cli_fields);

static void get_cli(loader *L, doc *d, yaml_node_t *v, px_scn_test *t, px_step *st)
{
    (void)t;
    yaml_node_t *vals[CL_N];
    st->cmd.pos = px__scn_pos_of(d, v);
    px__scn_walk_map(L, d, v, &px__scn_cli_policy, st, NULL, vals);
}

/* A step is a mapping with one key, its kind; indexed by px_step_kind. */
static const struct {
    const char *key;
    void (*get)(loader *L, doc *d, yaml_node_t *v, px_scn_test *t, px_step *st);
} step_kinds[] = {
    [PX_STEP_EXPECT] = {"expect", get_expect}, [PX_STEP_SEND] = {"send", get_send}, [PX_STEP_WAIT] = {"wait", get_wait},
    [PX_STEP_SLEEP] = {"sleep", get_sleep},    [PX_STEP_EXEC] = {"exec", get_exec},
    [PX_STEP_CLI] = {"cli", get_cli},          [PX_STEP_VERIFY] = {"verify", px__scn_get_verify},
    [PX_STEP_VERIFY_NONE] = {"verify_no_packet", px__scn_get_verify_none},
    [PX_STEP_NO_OTHER] = {"no_other_packets", px__scn_get_no_other},
};
#define NKINDS (sizeof step_kinds / sizeof step_kinds[0])

/* ------------------------------------------------------------------ tests */

enum { TE_NAME, TE_STEPS, TE_SKIP, TE_N };

/* Test names are unique across the scenario and its includes. */
static bool test_name_unique(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    loader *L = w->L;
    const px_scn_test *t = w->obj;
    for (size_t i = 0; i + 1 < L->s->ntests; i++)
        if (L->s->tests[i].name && !strcmp(L->s->tests[i].name, t->name))
            px__scn_err_node(L, w->d, v, "test '%s' is already defined at %s:%d", t->name, L->s->tests[i].pos.file,
                             L->s->tests[i].pos.line);
    return true;
}

/* `skip: false|no` runs the test; `true|yes` or a reason skips it. */
static bool test_skip(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    px_scn_test *t = w->obj;
    if (v->type == YAML_SCALAR_NODE &&
        (!strcasecmp(px__scn_scalar(v), "false") || !strcasecmp(px__scn_scalar(v), "no")))
        ;
    else if (v->type == YAML_SCALAR_NODE &&
             (!strcasecmp(px__scn_scalar(v), "true") || !strcasecmp(px__scn_scalar(v), "yes")))
        t->skip = px__scn_strdup(w->L, "skipped");
    else
        t->skip = px__scn_get_nonempty(w->L, w->d, v, f->key);
    return true;
}

static const px__scn_field test_fields[TE_N] = {
    [TE_NAME] = {.key = "name",
                 .type = PX__SCN_NONEMPTY,
                 AT(px_scn_test, name),
                 .flags = PX__SCN_REQUIRED,
                 .fn = test_name_unique},
    /* required, but read (and reported missing) after `skip`: see px__scn_get_test */
    [TE_STEPS] = {.key = "steps"},
    [TE_SKIP] = {.key = "skip", .fn = test_skip},
};
const px__scn_policy px__scn_test_policy = POLICY("a test", test_fields);

static void get_step(loader *L, doc *d, yaml_node_t *e, px_scn_test *t)
{
    if (e->type != YAML_MAPPING_NODE || e->data.mapping.pairs.top - e->data.mapping.pairs.start != 1) {
        px__scn_err_node(L, d, e,
                         "a step is a mapping with one key: expect, send, wait, sleep, exec, cli, verify, "
                         "verify_no_packet or no_other_packets");
        return;
    }
    yaml_node_t *k = px__scn_node(d, e->data.mapping.pairs.start->key);
    yaml_node_t *v = px__scn_node(d, e->data.mapping.pairs.start->value);
    if (!k || !v)
        return;
    size_t kind = 0;
    while (kind < NKINDS && !(k->type == YAML_SCALAR_NODE && !strcmp(px__scn_scalar(k), step_kinds[kind].key)))
        kind++;
    if (kind == NKINDS) {
        char qn[MAX_QUOTED_NAME + 4];
        px_buf list = PX_BUF_INIT;
        for (size_t i = 0; i < NKINDS; i++)
            px_buf_printf(&list, "%s%s", i ? ", " : "", step_kinds[i].key);
        px__scn_err_node(L, d, k, "unknown step '%s' (expected one of: %s)",
                         k->type == YAML_SCALAR_NODE ? px__scn_quoted_name(px__scn_scalar(k), qn)
                                                     : px__scn_kind_name(k),
                         px_buf_cstr(&list));
        px_buf_free(&list);
        return;
    }
    /* PUSH may move t->steps: take the slot, then fill it. */
    px_step *st = PUSH(L, t->steps, t->nsteps);
    if (!st)
        return;
    st->kind = (px_step_kind)kind;
    st->pos = px__scn_pos_of(d, k);
    st->vlan = -1;
    st->noise_filter = -1;
    step_kinds[kind].get(L, d, v, t, st);
    if (waitable(st->kind) && st->name) {
        for (size_t i = 0; i + 1 < t->nsteps; i++)
            if (waitable(t->steps[i].kind) && t->steps[i].name && !strcmp(t->steps[i].name, st->name))
                px__scn_err_node(L, d, v, "expectation name '%s' is used twice in test '%s'", st->name,
                                 t->name ? t->name : "?");
    }
}

void px__scn_get_test(loader *L, doc *d, yaml_node_t *n)
{
    yaml_node_t *f[TE_N];
    if (!px__scn_keys(L, d, n, &px__scn_test_policy, f))
        return;
    px_scn_test *t = PUSH(L, L->s->tests, L->s->ntests);
    if (!t)
        return;
    t->pos = px__scn_pos_of(d, n);
    if (!px__scn_walk_fields(L, d, n, &px__scn_test_policy, t, NULL, f))
        return;
    if (!f[TE_STEPS]) {
        px__scn_missing(L, d, n, px__scn_test_policy.what, "steps");
        return;
    }
    if (!px__scn_want_type(L, d, f[TE_STEPS], YAML_SEQUENCE_NODE, "steps"))
        return;
    yaml_node_item_t *items = f[TE_STEPS]->data.sequence.items.start;
    for (yaml_node_item_t *it = items; it < f[TE_STEPS]->data.sequence.items.top; it++) {
        yaml_node_t *e = px__scn_node(d, *it);
        if (!e || !px__scn_spend(L, d, e))
            return;
        get_step(L, d, e, t);
        if (L->oom)
            return;
    }
    px__scn_check_test_ports(L, d, f[TE_NAME] ? f[TE_NAME] : n, t);
    if (f[TE_STEPS]->data.sequence.items.top == items && !t->skip)
        px__scn_err_node(L, d, f[TE_STEPS], "test '%s' has no steps", t->name ? t->name : "?");
}

/* ------------------------------------------- hex bytes (send: hex) */

int px_parse_hex_bytes(const char *text, uint8_t **bytes, size_t *len, char *errbuf)
{
    size_t n = strlen(text);
    uint8_t *b = malloc(n / 2 + 1);
    if (!b)
        return PX_ENOMEM;
    size_t k = 0;
    const char *p = text;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    while (*p) {
        if (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t' || *p == '-') {
            p++;
            continue;
        }
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1])) {
            const char *bad = isxdigit((unsigned char)p[0]) ? p + 1 : p;
            if (errbuf)
                snprintf(errbuf, PX_ERRBUF_SIZE, "col %d: expected two hex digits per byte", (int)(bad - text) + 1);
            free(b);
            return PX_EPARSE;
        }
        char h[3] = {p[0], p[1], 0};
        b[k++] = (uint8_t)strtoul(h, NULL, 16);
        p += 2;
    }
    if (k == 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "col 1: expected hex bytes");
        free(b);
        return PX_EPARSE;
    }
    *bytes = b;
    *len = k;
    return 0;
}
