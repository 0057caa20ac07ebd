/* pktexpect runner: the schema of the verification steps (verify,
 * verify_no_packet, no_other_packets: pktexpect/verify.h), as tables read by
 * the walker of scenario_schema.c. See docs/scenarios.md. */
#include "scenario_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/buf.h"

enum {
    VE_PORT = PX__SCN_P_PORT,
    VE_ANY = PX__SCN_P_ANY,
    VE_EACH = PX__SCN_P_EACH,
    VE_PORTS = PX__SCN_P_PORTS,
    VE_FRAME,
    VE_HEX,
    VE_SET,
    VE_IGNORE,
    VE_ALLOW_PADDING,
    VE_TIMEOUT,
    VE_NAME,
    VE_N
};

/* `frame:` (text form) or `hex:`, at most one; required unless `optional`
 * (verify_no_packet without one: no frame at all). Checked as the send step
 * checks its frame, so a typo is a file:line:column error. */
static void expected_frame(px__scn_walk *w, bool optional)
{
    loader *L = w->L;
    doc *d = w->d;
    px_step *st = w->obj;
    yaml_node_t *frame = w->vals[VE_FRAME], *hexn = w->vals[VE_HEX];
    if (frame && hexn) {
        px__scn_err_node(L, d, hexn, "%s: give 'frame' or 'hex', not both", w->pol->what);
        return;
    }
    yaml_node_t *n = frame ? frame : hexn;
    if (!n) {
        if (!optional)
            px__scn_err_node(L, d, w->map, "%s needs the expected frame: 'frame' (text form) or 'hex'", w->pol->what);
        return;
    }
    if (!px__scn_want_type(L, d, n, YAML_SCALAR_NODE, frame ? "frame" : "hex"))
        return;
    bool changed = false;
    st->frame = px__scn_expand(L, d, n, &changed);
    st->frame_pos = px__scn_pos_of(d, n);
    if (st->frame && L->chk && L->chk->parse_frame) {
        uint8_t *b = NULL;
        size_t len = 0;
        char eb[PX_ERRBUF_SIZE] = "";
        if (L->chk->parse_frame(st->frame, &b, &len, eb) < 0)
            px__scn_err_checker(L, d, n, changed, frame ? "invalid frame" : "invalid hex", eb[0] ? eb : "does not parse");
        free(b);
    }
}

static bool verify_frame(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    (void)v;
    expected_frame(w, false);
    return true;
}

static bool verify_none_frame(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    (void)v;
    expected_frame(w, true);
    return true;
}

/* A list of entries (or one string) joined with ", ": `ignore: [ipv4.ttl,
 * ipv4.chksum]` and `set: [ipv4.ttl-=1]` read like matches()'s arguments. */
static bool joined(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v, char **out)
{
    char **items = NULL;
    size_t n = 0;
    if (!px__scn_get_str_list(w->L, w->d, v, f->key, px__scn_get_nonempty, &items, &n)) {
        px__scn_free_strs(items, n); /* what it read before the bad item */
        return false;
    }
    px_buf b = PX_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        px_buf_printf(&b, "%s%s", i ? ", " : "", items[i]);
    px__scn_free_strs(items, n);
    *out = px_buf_steal(&b);
    if (!*out)
        w->L->oom = true;
    return *out != NULL;
}

static bool verify_set(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    return joined(w, f, v, &((px_step *)w->obj)->set);
}

static bool verify_ignore(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    return joined(w, f, v, &((px_step *)w->obj)->ignore);
}

static bool verify_padding(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    return px__scn_get_bool(w->L, w->d, v, f->key, &((px_step *)w->obj)->allow_padding);
}

static bool verify_name(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    const char *name = ((px_step *)w->obj)->name;
    if (!strcmp(name, "all") || strpbrk(name, " \t,"))
        px__scn_err_node(w->L, w->d, v, "name: '%s' is reserved or has spaces or commas", name);
    return true;
}

/* The expected frame with its edits and mask must build: checked here through
 * the expression language's matches(), the predicate the run builds (a bad
 * edit or mask is a file:line:column error of validate, not only of the run). */
static void check_expected(loader *L, doc *d, yaml_node_t *e, px_step *st)
{
    if (!st->frame || (!st->set && !st->ignore) || !L->chk || !L->chk->check_predicate)
        return;
    px_buf x = PX_BUF_INIT;
    px_buf_printf(&x, "matches(%s", st->frame);
    if (st->set)
        px_buf_printf(&x, ", set=[%s]", st->set);
    if (st->ignore)
        px_buf_printf(&x, ", ignore=[%s]", st->ignore);
    px_buf_append(&x, st->allow_padding ? ", allow_padding=true)" : ")");
    char eb[PX_ERRBUF_SIZE * 2] = "";
    if (!x.oom && L->chk->check_predicate(L->chk->arg, px_buf_cstr(&x), eb, sizeof eb) < 0)
        px__scn_err_node(L, d, e, "%s: the expected frame, its 'set' or its 'ignore' is invalid: %s", "verify",
                         eb[0] ? eb : "does not parse");
    px_buf_free(&x);
}

#define VERIFY_FIELDS(frame_fn)                                                                                       \
    [VE_PORT] = {.key = "port", .flags = PX__SCN_ALWAYS, .fn = px__scn_any_each},                                     \
    [VE_ANY] = {.key = "any"}, [VE_EACH] = {.key = "each"}, [VE_PORTS] = {.key = "ports"},                            \
    [VE_FRAME] = {.key = "frame", .flags = PX__SCN_ALWAYS, .fn = (frame_fn)}, [VE_HEX] = {.key = "hex"},             \
    [VE_SET] = {.key = "set", .fn = verify_set}, [VE_IGNORE] = {.key = "ignore", .fn = verify_ignore},                \
    [VE_ALLOW_PADDING] = {.key = "allow_padding", .fn = verify_padding},                                             \
    [VE_TIMEOUT] = {.key = "timeout", .type = PX__SCN_DURATION, AT(px_step, timeout_ms)},                             \
    [VE_NAME] = {.key = "name", .type = PX__SCN_NONEMPTY, AT(px_step, name), .fn = verify_name},

static const px__scn_field verify_fields[VE_N] = {VERIFY_FIELDS(verify_frame)};
static const px__scn_field verify_none_fields[VE_N] = {VERIFY_FIELDS(verify_none_frame)};
const px__scn_policy px__scn_verify_policy = POLICY("a verify step", verify_fields);
const px__scn_policy px__scn_verify_none_policy = POLICY("a verify_no_packet step", verify_none_fields);

/* The label reports use for a step without a name. */
static void label(loader *L, px_step *st, const char *what)
{
    px_buf b = PX_BUF_INIT;
    px_buf_printf(&b, "%s(%s)", what, st->frame ? st->frame : "");
    st->predicate = px_buf_steal(&b);
    if (!st->predicate)
        L->oom = true;
}

static void get_verify_step(loader *L, doc *d, yaml_node_t *e, px_step *st, const px__scn_policy *pol,
                            const char *what)
{
    yaml_node_t *v[VE_N];
    px__scn_walk_map(L, d, e, pol, st, NULL, v);
    check_expected(L, d, e, st);
    label(L, st, what);
}

void px__scn_get_verify(loader *L, doc *d, yaml_node_t *e, px_scn_test *t, px_step *st)
{
    (void)t;
    get_verify_step(L, d, e, st, &px__scn_verify_policy, "verify");
}

void px__scn_get_verify_none(loader *L, doc *d, yaml_node_t *e, px_scn_test *t, px_step *st)
{
    (void)t;
    get_verify_step(L, d, e, st, &px__scn_verify_none_policy, "verify_no_packet");
}

/* ------------------------------------------------------- no_other_packets */

enum { NO_ALSO, NO_EXCEPT, NO_TIMEOUT, NO_NAME, NO_N };

static bool no_other_also(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    px__scn_read_ports(w, v, f->key);
    return true;
}

static bool no_other_except(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    px_step *st = w->obj;
    if (!px__scn_get_str_list(w->L, w->d, v, f->key, px__scn_get_nonempty, &st->names, &st->nnames))
        return false;
    if (v->type == YAML_SCALAR_NODE) {
        if (st->nnames)
            px__scn_check_port_ref(w->L, w->d, v, st->names[0]);
        return true;
    }
    size_t nitems = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    for (size_t i = 0; i < nitems && i < st->nnames; i++) {
        yaml_node_t *x = px__scn_node(w->d, v->data.sequence.items.start[i]);
        if (x)
            px__scn_check_port_ref(w->L, w->d, x, st->names[i]);
    }
    return true;
}

static const px__scn_field no_other_fields[NO_N] = {
    [NO_ALSO] = {.key = "also", .fn = no_other_also},
    [NO_EXCEPT] = {.key = "except", .fn = no_other_except},
    [NO_TIMEOUT] = {.key = "timeout", .type = PX__SCN_DURATION, AT(px_step, timeout_ms)},
    [NO_NAME] = {.key = "name", .type = PX__SCN_NONEMPTY, AT(px_step, name), .fn = verify_name},
};
const px__scn_policy px__scn_no_other_policy = POLICY("a no_other_packets step", no_other_fields);

void px__scn_get_no_other(loader *L, doc *d, yaml_node_t *e, px_scn_test *t, px_step *st)
{
    (void)t;
    /* `- no_other_packets: {}` or with nothing at all: every port of the test. */
    if (!(e->type == YAML_SCALAR_NODE && px__scn_is_null(e))) {
        yaml_node_t *v[NO_N];
        px__scn_walk_map(L, d, e, &px__scn_no_other_policy, st, NULL, v);
    }
    st->predicate = strdup("no_other_packets()");
    if (!st->predicate)
        L->oom = true;
}
