/* pktexpect runner: the scenario schema. A generic walker reads each mapping
 * by its table (px__scn_policy, see scenario_int.h): keys, required keys,
 * types, ranges and where each value is stored. The tables of the topology,
 * ports, defaults and commands are here; tests and steps in scenario_steps.c.
 * The schema is documented in docs/scenarios.md. */
#include "scenario_int.h"
#include "duration.h"
#include "pktexpect/context.h"
#include "bmv2.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ typed getters */

bool px__scn_want_type(loader *L, const doc *d, const yaml_node_t *n, yaml_node_type_t t, const char *what)
{
    if (n->type == t)
        return true;
    const char *w = t == YAML_SCALAR_NODE ? "a scalar" : t == YAML_SEQUENCE_NODE ? "a list" : "a mapping";
    px__scn_err_node(L, d, n, "%s: expected %s, got %s", what, w, px__scn_kind_name(n));
    return false;
}

char *px__scn_get_str(loader *L, const doc *d, const yaml_node_t *n, const char *what)
{
    if (!px__scn_want_type(L, d, n, YAML_SCALAR_NODE, what))
        return NULL;
    return px__scn_expand(L, d, n, NULL);
}

/* A non-empty string. */
char *px__scn_get_nonempty(loader *L, const doc *d, const yaml_node_t *n, const char *what)
{
    char *s = px__scn_get_str(L, d, n, what);
    if (s && !*s) {
        px__scn_err_node(L, d, n, "%s: expected a non-empty string", what);
        free(s);
        return NULL;
    }
    return s;
}

bool px__scn_get_u32(loader *L, const doc *d, const yaml_node_t *n, const char *what, uint32_t min, uint32_t max,
                     uint32_t *out)
{
    char *s = px__scn_get_str(L, d, n, what);
    if (!s)
        return false;
    char *end;
    errno = 0;
    bool ok = isdigit((unsigned char)s[0]);
    unsigned long long v = ok ? strtoull(s, &end, 0) : 0;
    if (!ok || errno || *end || v < min || v > max) {
        px__scn_err_node(L, d, n, "%s: expected an integer from %u to %u, got '%s'", what, (unsigned)min, (unsigned)max,
                         s);
        free(s);
        return false;
    }
    free(s);
    *out = (uint32_t)v;
    return true;
}

bool px__scn_get_bool(loader *L, const doc *d, const yaml_node_t *n, const char *what, bool *out)
{
    char *s = px__scn_get_str(L, d, n, what);
    if (!s)
        return false;
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
            *out = !strcasecmp(s, yes[i]);
            free(s);
            return true;
        }
    }
    px__scn_err_node(L, d, n, "%s: expected true or false, got '%s'", what, s);
    free(s);
    return false;
}

int px_parse_duration_ms(const char *text, uint32_t *ms)
{
    /* The command line's parser (runner/duration.h): one grammar for both. */
    uint64_t ns;
    int rc = px_duration_parse(text ? text : "", PX_DURATION_NS_PER_MS, PX_DURATION_24H_NS, &ns);
    if (rc)
        return rc;
    *ms = (uint32_t)((ns + PX_DURATION_NS_PER_MS / 2) / PX_DURATION_NS_PER_MS);
    return 0;
}

bool px__scn_get_duration(loader *L, const doc *d, const yaml_node_t *n, const char *what, uint32_t *out)
{
    char *s = px__scn_get_str(L, d, n, what);
    if (!s)
        return false;
    int rc = px_parse_duration_ms(s, out);
    if (rc == PX_ERANGE)
        px__scn_err_node(L, d, n, "%s: '%s' is longer than 24 hours", what, s);
    else if (rc)
        px__scn_err_node(L, d, n,
                         "%s: expected a duration like 500ms, 2s or 1m (a bare integer is milliseconds), got '%s'",
                         what, s);
    free(s);
    return rc == 0;
}

static bool ifname_ok(loader *L, const doc *d, const yaml_node_t *n, const char *what, const char *s)
{
    /* '%' too: the kernel takes "name%d" as a template and picks the name itself,
     * so the interface created would not be the one named (nor deleted after). */
    if (!*s || strlen(s) > IFNAME_MAX || strpbrk(s, "/: \t%") || !strcmp(s, ".") || !strcmp(s, "..")) {
        px__scn_err_node(L, d, n,
                         "%s: '%.*s%s' is not an interface name: expected 1 to %d characters without '/', ':', '%%' or "
                         "spaces",
                         what, MAX_QUOTED_NAME, s, strlen(s) > MAX_QUOTED_NAME ? "..." : "", IFNAME_MAX);
        return false;
    }
    return true;
}

char *px__scn_get_ifname(loader *L, const doc *d, const yaml_node_t *n, const char *what)
{
    char *s = px__scn_get_str(L, d, n, what);
    if (s && !ifname_ok(L, d, n, what, s)) {
        free(s);
        return NULL;
    }
    return s;
}

/* A port's interface: an interface name, or a port of a BMv2 switch's nanomsg
 * packet interface, "bmv2:ipc:///PATH:N" or "bmv2:tcp://HOST:PORT:N", which
 * the runner hands to the library unchanged (harness/bmv2.h checks the form). */
static char *get_port_ifname(loader *L, const doc *d, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SCALAR_NODE || !px__bmv2_is_name(px__scn_scalar(n)))
        return px__scn_get_ifname(L, d, n, what);
    char *s = px__scn_get_str(L, d, n, what);
    if (!s)
        return NULL;
    char addr[PX__BMV2_ADDR_MAX], why[PX_ERRBUF_SIZE];
    int num;
    if (px__bmv2_parse(s, addr, &num, why) != 0) {
        px__scn_err_node(L, d, n, "%s: %s", what, why);
        free(s);
        return NULL;
    }
    return s;
}

char *px__scn_get_nsname(loader *L, const doc *d, const yaml_node_t *n, const char *what)
{
    char *s = px__scn_get_str(L, d, n, what);
    if (s && (!*s || strlen(s) > 200 || strchr(s, '/') || strpbrk(s, " \t") || !strcmp(s, ".") || !strcmp(s, ".."))) {
        px__scn_err_node(
            L, d, n, "%s: '%s' is not a namespace name: expected 1 to 200 characters without '/' or spaces", what, s);
        free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------- the walker */

bool px__scn_keys(loader *L, doc *d, yaml_node_t *n, const px__scn_policy *pol, yaml_node_t **vals)
{
    for (size_t i = 0; i < pol->nfields; i++)
        vals[i] = NULL;
    if (!px__scn_want_type(L, d, n, YAML_MAPPING_NODE, pol->what))
        return false;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = px__scn_node(d, p->key), *v = px__scn_node(d, p->value);
        if (!k || !v || !px__scn_spend(L, d, k))
            return false;
        if (k->type != YAML_SCALAR_NODE) {
            px__scn_err_node(L, d, k, "%s: expected a plain key, got %s", pol->what, px__scn_kind_name(k));
            continue;
        }
        size_t i = 0;
        while (i < pol->nfields && strcmp(pol->fields[i].key, px__scn_scalar(k)))
            i++;
        char qn[MAX_QUOTED_NAME + 4];
        if (i == pol->nfields) {
            px_buf list = PX_BUF_INIT;
            for (size_t j = 0; j < pol->nfields; j++)
                px_buf_printf(&list, "%s%s", j ? ", " : "", pol->fields[j].key);
            px__scn_err_node(L, d, k, "unknown key '%s' in %s (expected one of: %s)",
                             px__scn_quoted_name(px__scn_scalar(k), qn), pol->what, px_buf_cstr(&list));
            px_buf_free(&list);
            continue;
        }
        if (vals[i]) {
            px__scn_err_node(L, d, k, "duplicate key '%s' in %s", px__scn_quoted_name(px__scn_scalar(k), qn),
                             pol->what);
            continue;
        }
        vals[i] = v;
    }
    return true;
}

bool px__scn_decode(loader *L, doc *d, yaml_node_t *v, const px__scn_field *f, void *obj)
{
    const char *what = f->what ? f->what : f->key;
    char *at = (char *)obj + f->offset;
    char *s = NULL;
    uint32_t u = 0;
    bool b = false;
    switch (f->type) {
    case PX__SCN_NODE:
        return true;
    case PX__SCN_STR:
        s = px__scn_get_str(L, d, v, what);
        break;
    case PX__SCN_NONEMPTY:
        s = px__scn_get_nonempty(L, d, v, what);
        break;
    case PX__SCN_IFNAME:
        s = px__scn_get_ifname(L, d, v, what);
        break;
    case PX__SCN_NSNAME:
        s = px__scn_get_nsname(L, d, v, what);
        break;
    case PX__SCN_PORTIF:
        s = get_port_ifname(L, d, v, what);
        break;
    case PX__SCN_U32:
        if (!px__scn_get_u32(L, d, v, what, f->min, f->max, &u))
            return false;
        if (f->size == sizeof(uint16_t)) {
            uint16_t h = (uint16_t)u;
            memcpy(at, &h, sizeof h);
        } else if (f->size == sizeof(int)) {
            /* uint32_t or int: the same representation for the values a table allows (< 2^31) */
            memcpy(at, &u, sizeof u);
        }
        return true;
    case PX__SCN_BOOL:
        if (!px__scn_get_bool(L, d, v, what, &b))
            return false;
        memcpy(at, &b, sizeof b);
        return true;
    case PX__SCN_DURATION:
        if (!px__scn_get_duration(L, d, v, what, &u))
            return false;
        memcpy(at, &u, sizeof u);
        return true;
    }
    if (!s)
        return false;
    char *old;
    memcpy(&old, at, sizeof old);
    free(old);
    memcpy(at, &s, sizeof s);
    return true;
}

bool px__scn_walk_fields(loader *L, doc *d, yaml_node_t *n, const px__scn_policy *pol, void *obj, void *arg,
                         yaml_node_t **vals)
{
    px__scn_walk w = {L, d, pol, n, vals, obj, arg};
    if (pol->required_first)
        for (size_t i = 0; i < pol->nfields; i++)
            if ((pol->fields[i].flags & PX__SCN_REQUIRED) && !vals[i]) {
                px__scn_missing(L, d, n, pol->what, pol->fields[i].key);
                return false;
            }
    for (size_t i = 0; i < pol->nfields; i++) {
        const px__scn_field *f = &pol->fields[i];
        yaml_node_t *v = vals[i];
        bool ok = true;
        if (!v) {
            if ((f->flags & PX__SCN_REQUIRED) && !pol->required_first) {
                px__scn_missing(L, d, n, pol->what, f->key);
                ok = false;
            }
            if (ok && f->fn && (f->flags & PX__SCN_ALWAYS))
                ok = f->fn(&w, f, NULL);
        } else {
            ok = px__scn_decode(L, d, v, f, obj);
            if (ok && f->fn)
                ok = f->fn(&w, f, v);
        }
        if ((!ok && (f->flags & PX__SCN_ESSENTIAL)) || L->budget_hit)
            return false;
    }
    return true;
}

bool px__scn_walk_map(loader *L, doc *d, yaml_node_t *n, const px__scn_policy *pol, void *obj, void *arg,
                      yaml_node_t **vals)
{
    return px__scn_keys(L, d, n, pol, vals) && px__scn_walk_fields(L, d, n, pol, obj, arg, vals);
}

void px__scn_missing(loader *L, const doc *d, const yaml_node_t *n, const char *what, const char *key)
{
    px__scn_err_node(L, d, n, "%s is missing '%s'", what, key);
}

/* A scalar or a list of scalars -> array of strings (each checked by `check`). */
bool px__scn_get_str_list(loader *L, doc *d, yaml_node_t *n, const char *what,
                          char *(*get)(loader *, const doc *, const yaml_node_t *, const char *), char ***out,
                          size_t *nout)
{
    if (n->type == YAML_SCALAR_NODE) {
        char *s = get(L, d, n, what);
        if (!s)
            return false;
        char **slot = PUSH(L, *out, *nout);
        if (!slot) {
            free(s);
            return false;
        }
        *slot = s;
        return true;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        px__scn_err_node(L, d, n, "%s: expected a name or a list of names, got %s", what, px__scn_kind_name(n));
        return false;
    }
    bool ok = true;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = px__scn_node(d, *it);
        if (!e || !px__scn_spend(L, d, e))
            return false;
        char *s = get(L, d, e, what);
        if (!s) {
            ok = false;
            continue;
        }
        char **slot = PUSH(L, *out, *nout);
        if (!slot) {
            free(s);
            return false;
        }
        *slot = s;
    }
    if (*nout == 0) {
        px__scn_err_node(L, d, n, "%s: expected at least one name", what);
        return false;
    }
    return ok;
}

/* ------------------------------------------------------------- commands */

/* A namespace value must be declared under topology.namespaces. */
static bool ns_field_declared(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    const char *ns;
    memcpy(&ns, (const char *)w->obj + f->offset, sizeof ns);
    px__scn_check_ns(w->L, w->d, v, ns);
    return true;
}

#define CMD_RUN                                                                                                        \
    {                                                                                                                  \
        .key = "run", .type = PX__SCN_NONEMPTY, AT(px_scn_cmd, run), .flags = PX__SCN_REQUIRED                         \
    }
#define CMD_NETNS                                                                                                      \
    {                                                                                                                  \
        .key = "netns", .type = PX__SCN_NSNAME, AT(px_scn_cmd, netns), .fn = ns_field_declared                         \
    }
#define CMD_TIMEOUT                                                                                                    \
    {                                                                                                                  \
        .key = "timeout", .type = PX__SCN_DURATION, AT(px_scn_cmd, timeout_ms)                                         \
    }
/* exec steps */
static const px__scn_field exec_fields[] = {
    CMD_RUN,
    CMD_NETNS,
    {.key = "exit", .type = PX__SCN_U32, AT(px_scn_cmd, exit_code), .min = 0, .max = 255},
    CMD_TIMEOUT,
};
/* setup and teardown commands: no `exit` (they must exit 0) */
static const px__scn_field cmd_fields[] = {CMD_RUN, CMD_NETNS, CMD_TIMEOUT};

bool px__scn_get_cmd(loader *L, doc *d, yaml_node_t *n, const char *what, bool allow_exit, px_scn_cmd *c)
{
    c->pos = px__scn_pos_of(d, n);
    if (n->type == YAML_SCALAR_NODE) {
        c->run = px__scn_get_nonempty(L, d, n, what);
        return c->run != NULL;
    }
    px__scn_policy pol =
        allow_exit ? (px__scn_policy)POLICY(what, exec_fields) : (px__scn_policy)POLICY(what, cmd_fields);
    yaml_node_t *v[sizeof exec_fields / sizeof exec_fields[0]];
    return px__scn_walk_map(L, d, n, &pol, c, NULL, v) && c->run;
}

static void get_cmds(loader *L, doc *d, yaml_node_t *n, const char *what, px_scn_cmd **out, size_t *nout)
{
    if (n->type == YAML_SCALAR_NODE) {
        px_scn_cmd *c = PUSH(L, *out, *nout);
        if (c)
            px__scn_get_cmd(L, d, n, what, false, c);
        return;
    }
    if (!px__scn_want_type(L, d, n, YAML_SEQUENCE_NODE, what))
        return;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = px__scn_node(d, *it);
        if (!e || !px__scn_spend(L, d, e))
            return;
        px_scn_cmd *c = PUSH(L, *out, *nout);
        if (!c)
            return;
        px__scn_get_cmd(L, d, e, what, false, c);
    }
}

/* ------------------------------------------------------------- topology */

/* A VLAN of a bridge or bridge port: a VID, or a mapping; any error drops it. */
static const px__scn_field bvlan_fields[] = {
    {.key = "vid",
     .type = PX__SCN_U32,
     AT(px_scn_bvlan, vid),
     .flags = PX__SCN_REQUIRED | PX__SCN_ESSENTIAL,
     .min = 1,
     .max = 4094},
    {.key = "pvid", .type = PX__SCN_BOOL, AT(px_scn_bvlan, pvid), .flags = PX__SCN_ESSENTIAL},
    {.key = "untagged", .type = PX__SCN_BOOL, AT(px_scn_bvlan, untagged), .flags = PX__SCN_ESSENTIAL},
};
static const px__scn_policy bvlan_policy = POLICY("a VLAN entry", bvlan_fields);

static void get_bvlans(loader *L, doc *d, yaml_node_t *n, px_scn_bvlan **out, size_t *nout)
{
    if (!px__scn_want_type(L, d, n, YAML_SEQUENCE_NODE, "vlans"))
        return;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = px__scn_node(d, *it);
        if (!e || !px__scn_spend(L, d, e))
            return;
        px_scn_bvlan bv = {0};
        if (e->type == YAML_SCALAR_NODE) {
            uint32_t vid;
            if (!px__scn_get_u32(L, d, e, "VLAN", 1, 4094, &vid))
                continue;
            bv.vid = (uint16_t)vid;
        } else {
            yaml_node_t *v[sizeof bvlan_fields / sizeof bvlan_fields[0]];
            if (!px__scn_walk_map(L, d, e, &bvlan_policy, &bv, NULL, v))
                continue;
        }
        px_scn_bvlan *slot = PUSH(L, *out, *nout);
        if (slot)
            *slot = bv;
    }
}

/* Calls item(L, d, e, arg) for each element e of the sequence v (the value of
 * key `what`), each visit paid from the budget. False when the loader must
 * stop: the budget or memory ran out, or item said so. */
static bool each_item(loader *L, doc *d, yaml_node_t *v, const char *what,
                      bool (*item)(loader *L, doc *d, yaml_node_t *e, void *arg), void *arg)
{
    if (!px__scn_want_type(L, d, v, YAML_SEQUENCE_NODE, what))
        return true;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *e = px__scn_node(d, *it);
        if (!e || !px__scn_spend(L, d, e) || !item(L, d, e, arg))
            return false;
    }
    return true;
}

static bool topo_namespaces(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    px_scenario *s = w->L->s;
    px__scn_get_str_list(w->L, w->d, v, "namespaces", px__scn_get_nsname, &s->namespaces, &s->nnamespaces);
    for (size_t i = 0; i < s->nnamespaces; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->namespaces[i], s->namespaces[j]))
                px__scn_err_node(w->L, w->d, v, "namespace '%s' is listed twice", s->namespaces[i]);
    return true;
}

static const px__scn_field veth_fields[] = {
    {.key = "name", .type = PX__SCN_IFNAME, AT(px_scn_veth, name), .flags = PX__SCN_REQUIRED},
    {.key = "peer", .type = PX__SCN_IFNAME, AT(px_scn_veth, peer), .flags = PX__SCN_REQUIRED},
    {.key = "netns", .type = PX__SCN_NSNAME, AT(px_scn_veth, netns), .fn = ns_field_declared},
    {.key = "peer_netns", .type = PX__SCN_NSNAME, AT(px_scn_veth, peer_netns), .fn = ns_field_declared},
    {.key = "mtu", .type = PX__SCN_U32, AT(px_scn_veth, mtu), .min = 68, .max = 65535},
};
static const px__scn_policy veth_policy = POLICY("a veth", veth_fields);

static bool veth_item(loader *L, doc *d, yaml_node_t *e, void *arg)
{
    (void)arg;
    px_scenario *s = L->s;
    px_scn_veth tmp = {.pos = px__scn_pos_of(d, e)};
    yaml_node_t *fv[sizeof veth_fields / sizeof veth_fields[0]];
    if (!px__scn_keys(L, d, e, &veth_policy, fv))
        return true;
    px__scn_walk_fields(L, d, e, &veth_policy, &tmp, NULL, fv);
    px_scn_veth *ve = tmp.name && tmp.peer ? PUSH(L, s->veths, s->nveths) : NULL;
    if (!ve) {
        free(tmp.name);
        free(tmp.peer);
        free(tmp.netns);
        free(tmp.peer_netns);
        return !L->oom;
    }
    *ve = tmp;
    if (!strcmp(ve->name, ve->peer) && px__scn_streq_null(ve->netns, ve->peer_netns))
        px__scn_err_node(L, d, e, "a veth needs two different names, got '%s' twice", ve->name);
    /* Names must be unique per namespace. */
    for (size_t j = 0; j + 1 < s->nveths; j++) {
        const char *nm[2] = {ve->name, ve->peer};
        const char *ns[2] = {ve->netns, ve->peer_netns};
        for (int k = 0; k < 2; k++)
            if ((!strcmp(s->veths[j].name, nm[k]) && px__scn_streq_null(s->veths[j].netns, ns[k])) ||
                (!strcmp(s->veths[j].peer, nm[k]) && px__scn_streq_null(s->veths[j].peer_netns, ns[k])))
                px__scn_err_node(L, d, e, "interface '%s' is already defined at line %d", nm[k],
                                 s->veths[j].pos.line);
    }
    return true;
}

static bool topo_veths(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    return each_item(w->L, w->d, v, f->key, veth_item, NULL);
}

enum { BR_NAME, BR_NETNS, BR_VLAN_FILTERING, BR_MTU, BR_PORTS, BR_VLANS, BR_N };

/* The bridge's namespace, then (even when netns is invalid) the checks of its
 * name against the interfaces defined so far. */
static bool bridge_netns(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    loader *L = w->L;
    px_scn_bridge *b = w->obj;
    if (v && (b->netns = px__scn_get_nsname(L, w->d, v, "netns")))
        px__scn_check_ns(L, w->d, v, b->netns);
    yaml_node_t *at = w->vals[BR_NAME];
    if (px__scn_topo_has_if(L->s, b->name, b->netns, false))
        px__scn_err_node(L, w->d, at, "interface '%s' is already defined as a veth", b->name);
    for (size_t j = 0; j < L->s->nbridges; j++)
        if (!strcmp(L->s->bridges[j].name, b->name) && px__scn_streq_null(L->s->bridges[j].netns, b->netns))
            px__scn_err_node(L, w->d, at, "bridge '%s' is already defined at line %d", b->name,
                             L->s->bridges[j].pos.line);
    return true;
}

static const px__scn_field bridge_fields[BR_N] = {
    [BR_NAME] = {.key = "name",
                 .type = PX__SCN_IFNAME,
                 AT(px_scn_bridge, name),
                 .flags = PX__SCN_REQUIRED | PX__SCN_ESSENTIAL},
    [BR_NETNS] = {.key = "netns", .flags = PX__SCN_ALWAYS, .fn = bridge_netns},
    [BR_VLAN_FILTERING] = {.key = "vlan_filtering", .type = PX__SCN_BOOL, AT(px_scn_bridge, vlan_filtering)},
    [BR_MTU] = {.key = "mtu", .type = PX__SCN_U32, AT(px_scn_bridge, mtu), .min = 68, .max = 65535},
    /* read by topo_bridges() once the bridge is added: its VLANs, then its ports */
    [BR_PORTS] = {.key = "ports"},
    [BR_VLANS] = {.key = "vlans"},
};
static const px__scn_policy bridge_policy = POLICY("a bridge", bridge_fields);

/* A bridge port: a name, or a mapping with a name and VLANs. */
static const px__scn_field bport_fields[] = {
    {.key = "name",
     .type = PX__SCN_IFNAME,
     AT(px_scn_bport, name),
     .flags = PX__SCN_REQUIRED | PX__SCN_ESSENTIAL,
     .what = "bridge port"},
    {.key = "vlans"},
};
static const px__scn_policy bport_policy = POLICY("a bridge port", bport_fields);

/* One element of a bridge's ports; arg is the bridge. */
static bool bport_item(loader *L, doc *d, yaml_node_t *pe, void *arg)
{
    px_scn_bridge *b = arg;
    px_scn_bport tmp = {0};
    yaml_node_t *pname = pe, *pf[2] = {NULL, NULL};
    if (pe->type == YAML_MAPPING_NODE) {
        if (!px__scn_walk_map(L, d, pe, &bport_policy, &tmp, NULL, pf))
            return true;
        pname = pf[0];
    } else if (!px__scn_decode(L, d, pe, &bport_fields[0], &tmp)) {
        return true;
    }
    px_scn_bport *bp = PUSH(L, b->ports, b->nports);
    if (!bp) {
        free(tmp.name);
        return false;
    }
    *bp = tmp;
    bp->pos = px__scn_pos_of(d, pname);
    const char *pn = bp->name;
    if (!px__scn_topo_has_if(L->s, pn, b->netns, false))
        px__scn_err_node(L, d, pname, "bridge port '%s' is not a veth end in %s%s%s", pn,
                         b->netns ? "namespace '" : "the runner's namespace", b->netns ? b->netns : "",
                         b->netns ? "'" : "");
    if (pf[1]) {
        get_bvlans(L, d, pf[1], &bp->vlans, &bp->nvlans);
        if (bp->nvlans && !b->vlan_filtering)
            px__scn_err_node(L, d, pf[1], "bridge '%s' has VLANs but not 'vlan_filtering: true'", b->name);
    }
    for (size_t j = 0; j + 1 < b->nports; j++)
        if (!strcmp(b->ports[j].name, pn))
            px__scn_err_node(L, d, pname, "bridge port '%s' is listed twice", pn);
    return true;
}

static bool bridge_item(loader *L, doc *d, yaml_node_t *e, void *arg)
{
    (void)arg;
    px_scenario *s = L->s;
    px_scn_bridge tmp = {.pos = px__scn_pos_of(d, e)};
    yaml_node_t *bf[BR_N];
    bool ok = px__scn_walk_map(L, d, e, &bridge_policy, &tmp, NULL, bf);
    px_scn_bridge *b = ok ? PUSH(L, s->bridges, s->nbridges) : NULL;
    if (!b) {
        free(tmp.name);
        free(tmp.netns);
        return !(L->oom || L->budget_hit);
    }
    *b = tmp;
    if (bf[BR_VLANS]) {
        get_bvlans(L, d, bf[BR_VLANS], &b->vlans, &b->nvlans);
        if (b->nvlans && !b->vlan_filtering)
            px__scn_err_node(L, d, bf[BR_VLANS], "bridge '%s' has VLANs but not 'vlan_filtering: true'", b->name);
    }
    return !bf[BR_PORTS] || each_item(L, d, bf[BR_PORTS], "ports", bport_item, b);
}

static bool topo_bridges(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    return each_item(w->L, w->d, v, f->key, bridge_item, NULL);
}

static const px__scn_field addr_fields[] = {
    {.key = "dev", .type = PX__SCN_IFNAME, AT(px_scn_addr, dev), .flags = PX__SCN_REQUIRED},
    {.key = "netns", .type = PX__SCN_NSNAME, AT(px_scn_addr, netns), .fn = ns_field_declared},
    {.key = "address", .type = PX__SCN_NONEMPTY, AT(px_scn_addr, cidr), .flags = PX__SCN_REQUIRED},
};
/* Both required keys are checked first: an address without one is not read. */
static const px__scn_policy addr_policy = {"an address", addr_fields, sizeof addr_fields / sizeof addr_fields[0], true};

static bool addr_item(loader *L, doc *d, yaml_node_t *e, void *arg)
{
    (void)arg;
    px_scenario *s = L->s;
    px_scn_addr tmp = {.pos = px__scn_pos_of(d, e)};
    yaml_node_t *af[3];
    bool ok = px__scn_walk_map(L, d, e, &addr_policy, &tmp, NULL, af);
    px_scn_addr *a = ok ? PUSH(L, s->addrs, s->naddrs) : NULL;
    if (!a) {
        free(tmp.dev);
        free(tmp.netns);
        free(tmp.cidr);
        return !(L->oom || L->budget_hit);
    }
    *a = tmp;
    if (a->dev && !px__scn_topo_has_if(s, a->dev, a->netns, true))
        px__scn_err_node(L, d, af[0], "'%s' is not an interface of the topology in %s%s%s", a->dev,
                         a->netns ? "namespace '" : "the runner's namespace", a->netns ? a->netns : "",
                         a->netns ? "'" : "");
    if (a->cidr) {
        const char *slash = strchr(a->cidr, '/');
        bool cidr_ok =
            slash && slash[1] && strspn(slash + 1, "0123456789") == strlen(slash + 1) && strlen(slash + 1) <= 3;
        if (!cidr_ok)
            px__scn_err_node(L, d, af[2], "address: expected CIDR form like 10.0.0.1/24 or 2001:db8::1/64, got '%s'",
                             a->cidr);
    }
    return true;
}

static bool topo_addresses(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    return each_item(w->L, w->d, v, f->key, addr_item, NULL);
}

static bool topo_setup(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    get_cmds(w->L, w->d, v, f->key, &w->L->s->setup, &w->L->s->nsetup);
    return true;
}

static bool topo_teardown(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    get_cmds(w->L, w->d, v, f->key, &w->L->s->teardown, &w->L->s->nteardown);
    return true;
}

static const px__scn_field topology_fields[] = {
    {.key = "namespaces", .fn = topo_namespaces}, {.key = "veths", .fn = topo_veths},
    {.key = "bridges", .fn = topo_bridges},       {.key = "addresses", .fn = topo_addresses},
    {.key = "setup", .fn = topo_setup},           {.key = "teardown", .fn = topo_teardown},
};
static const px__scn_policy topology_policy = POLICY("topology", topology_fields);

void px__scn_get_topology(loader *L, doc *d, yaml_node_t *n)
{
    yaml_node_t *v[sizeof topology_fields / sizeof topology_fields[0]];
    px__scn_walk_map(L, d, n, &topology_policy, L->s, NULL, v);
}

/* ---------------------------------------------------------------- ports */

static const px__scn_field port_fields[] = {
    {.key = "interface", .type = PX__SCN_PORTIF, AT(px_scn_port, ifname), .flags = PX__SCN_REQUIRED},
    {.key = "netns", .type = PX__SCN_NSNAME, AT(px_scn_port, netns)},
};
static const px__scn_policy port_policy = POLICY("a port", port_fields);

void px__scn_get_ports(loader *L, doc *d, yaml_node_t *n)
{
    if (!px__scn_want_type(L, d, n, YAML_MAPPING_NODE, "ports"))
        return;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = px__scn_node(d, p->key), *v = px__scn_node(d, p->value);
        if (!k || !v || !px__scn_spend(L, d, k))
            return;
        char *name = px__scn_get_nonempty(L, d, k, "port name");
        if (!name)
            continue;
        px_scn_port port = {0};
        if (v->type == YAML_SCALAR_NODE) {
            port.ifname = get_port_ifname(L, d, v, "port interface");
        } else {
            yaml_node_t *f[2];
            px__scn_walk_map(L, d, v, &port_policy, &port, NULL, f);
        }
        if (port.ifname && port.netns && px__bmv2_is_name(port.ifname)) {
            px__scn_err_node(L, d, v, "port '%s': a bmv2: port has no namespace (drop 'netns')", name);
            free(port.ifname);
            port.ifname = NULL;
        }
        for (size_t i = 0; port.ifname && i < L->s->nports; i++)
            if (!strcmp(L->s->ports[i].name, name))
                px__scn_err_node(L, d, k, "port '%s' is defined twice", name);
        if (port.ifname)
            px__scn_add_port(L, name, port.ifname, port.netns, px__scn_pos_of(d, k));
        free(name);
        free(port.ifname);
        free(port.netns);
    }
}

/* ------------------------------------------------------------- defaults */

static bool timeout_positive(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    if (w->L->s->timeout_ms == 0)
        px__scn_err_node(w->L, w->d, v, "timeout: expected a duration above 0");
    return true;
}

static bool capture_mode(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    const char *m = v->type == YAML_SCALAR_NODE ? px__scn_scalar(v) : "";
    if (!strcmp(m, "latency"))
        w->L->s->capture = PX_CAPTURE_LATENCY;
    else if (!strcmp(m, "throughput"))
        w->L->s->capture = PX_CAPTURE_THROUGHPUT;
    else
        px__scn_err_node(w->L, w->d, v, "%s: expected latency or throughput", f->key);
    return true;
}

static bool block_timeout_range(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    uint32_t ms = w->L->s->block_timeout_ms;
    if (ms == 0 || ms > PX_MAX_BLOCK_TIMEOUT_MS)
        px__scn_err_node(w->L, w->d, v, "%s: expected a duration from 1ms to %ums", f->key,
                         (unsigned)PX_MAX_BLOCK_TIMEOUT_MS);
    return true;
}

static const px__scn_field defaults_fields[] = {
    {.key = "timeout", .type = PX__SCN_DURATION, AT(px_scenario, timeout_ms), .fn = timeout_positive},
    {.key = "capture", .type = PX__SCN_NODE, .fn = capture_mode},
    {.key = "block_timeout", .type = PX__SCN_DURATION, AT(px_scenario, block_timeout_ms), .fn = block_timeout_range},
    {.key = "noise_filter", .type = PX__SCN_BOOL, AT(px_scenario, noise_filter)},
    {.key = "record", .type = PX__SCN_BOOL, AT(px_scenario, record)},
};
static const px__scn_policy defaults_policy = POLICY("defaults", defaults_fields);

void px__scn_get_defaults(loader *L, doc *d, yaml_node_t *n)
{
    yaml_node_t *v[sizeof defaults_fields / sizeof defaults_fields[0]];
    px__scn_walk_map(L, d, n, &defaults_policy, L->s, NULL, v);
}

/* --------------------------------------------------------- the schema */

/* setup/teardown and exec commands as px__scn_get_cmd() walks them */
static const px__scn_policy setup_policy = POLICY("setup", cmd_fields);
static const px__scn_policy exec_policy = POLICY("exec", exec_fields);

const px__scn_policy *const px__scn_schema[] = {
    &px__scn_top_policy,
    &px__scn_include_policy,
    &topology_policy,
    &veth_policy,
    &bridge_policy,
    &bport_policy,
    &bvlan_policy,
    &addr_policy,
    &setup_policy,
    &port_policy,
    &defaults_policy,
    &px__scn_test_policy,
    &exec_policy,
    &px__scn_expect_policy,
    &px__scn_send_policy,
    &px__scn_vlan_push_policy,
    &px__scn_cli_policy,
    &px__scn_verify_policy,
    &px__scn_verify_none_policy,
    &px__scn_no_other_policy,
    NULL,
};
