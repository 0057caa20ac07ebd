/* pktexpect: the registry of predicate names and the built-in definitions.
 *
 * A registry is a sorted array of px_expr_def copies. px_registry_new() fills it
 * with the table at the end of this file; every built-in's parameters (names,
 * types, ranges) live in that table only, and docs/predicates.md is checked
 * against it by tests/unit/test_pred_docs.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "pred_internal.h"
#include "pktexpect/expr.h"
#include "pktexpect/predicates.h"
#include "pktexpect/text.h"

struct px_registry {
    px_expr_def *defs;
    size_t n, cap;
};

px_registry *px_registry_new_empty(void) { return calloc(1, sizeof(px_registry)); }

void px_registry_free(px_registry *reg)
{
    if (!reg)
        return;
    free(reg->defs);
    free(reg);
}

static bool valid_name(const char *s)
{
    if (!s || !(islower((unsigned char)s[0]) || s[0] == '_') || strlen(s) >= 64)
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

int px_registry_add(px_registry *reg, const px_expr_def *def, char *errbuf)
{
    if (!reg || !def || !valid_name(def->name) || !def->factory || (def->nparams && !def->params)) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "predicate name must match [a-z_][a-z0-9_]* (under 64 "
                                             "characters) and have a factory");
        return PX_EINVAL;
    }
    unsigned variadic = 0;
    for (size_t i = 0; i < def->nparams; i++) {
        const px_expr_param *p = &def->params[i];
        if (!p->name || !p->types || (p->types & ~(((unsigned)PX_EXPR_EDIT << 1) - 1u))) {
            if (errbuf)
                snprintf(errbuf, PX_ERRBUF_SIZE, "%s: parameter %zu has no name or no valid types", def->name, i);
            return PX_EINVAL;
        }
        if (p->flags & PX_EXPR_VARIADIC)
            variadic++;
    }
    if (variadic > 1) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "%s: at most one VARIADIC parameter", def->name);
        return PX_EINVAL;
    }
    size_t at = 0;
    while (at < reg->n && strcmp(reg->defs[at].name, def->name) < 0)
        at++;
    if (at < reg->n && strcmp(reg->defs[at].name, def->name) == 0) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE, "predicate '%s' is already registered", def->name);
        return PX_EEXIST;
    }
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 64;
        px_expr_def *d = realloc(reg->defs, cap * sizeof *d);
        if (!d) {
            if (errbuf)
                snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
            return PX_ENOMEM;
        }
        reg->defs = d;
        reg->cap = cap;
    }
    memmove(&reg->defs[at + 1], &reg->defs[at], (reg->n - at) * sizeof reg->defs[0]);
    reg->defs[at] = *def;
    reg->n++;
    return 0;
}

size_t px_registry_count(const px_registry *reg) { return reg ? reg->n : 0; }

const px_expr_def *px_registry_get(const px_registry *reg, size_t i)
{
    return reg && i < reg->n ? &reg->defs[i] : NULL;
}

const px_expr_def *px_registry_find(const px_registry *reg, const char *name)
{
    if (!reg || !name)
        return NULL;
    size_t lo = 0, hi = reg->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(reg->defs[mid].name, name);
        if (c == 0)
            return &reg->defs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void px_registry_list_names(const px_registry *reg, px_buf *out)
{
    for (size_t i = 0; i < px_registry_count(reg); i++)
        px_buf_printf(out, "%s%s", i ? ", " : "", reg->defs[i].name);
}

/* ================= built-in factories ================= */

static int64_t arg(px_expr_args *a, const char *name) { return px_expr_arg_int(a, name, -1); }

static bool is_neg(const px_expr_args *a) { return strncmp(a->def->name, "did_not_see_", 12) == 0; }

static px_predicate *oom(char *errbuf)
{
    snprintf(errbuf, PX_ERRBUF_SIZE, "out of memory");
    return NULL;
}

static px_predicate *f_received(px_expr_args *a, void *u, char *e)
{
    (void)a, (void)u;
    px_predicate *p = px_received_packet();
    return p ? p : oom(e);
}

static px_predicate *f_timed_out(px_expr_args *a, void *u, char *e)
{
    (void)a, (void)u;
    px_predicate *p = px_timed_out();
    return p ? p : oom(e);
}

/* The first names of the counts, aliases of count / exactly / at_most. */
static px_predicate *f_packet_count(px_expr_args *a, void *u, char *e)
{
    (void)u;
    px_predicate *p;
    if (strcmp(a->def->name, "packet_count") == 0)
        p = px_packet_count();
    else if (strcmp(a->def->name, "packet_count_was") == 0)
        p = px_packet_count_was((uint64_t)arg(a, "n"));
    else
        p = px_packet_count_was_less_than((uint64_t)arg(a, "n"));
    return p ? p : oom(e);
}

static px_predicate *f_tag(px_expr_args *a, void *u, char *e)
{
    (void)u;
    px_predicate *p = px_saw_tag(px_expr_arg_u64(a, "tag", 0));
    return p ? p : oom(e);
}

static px_predicate *f_ethertype(px_expr_args *a, void *u, char *e)
{
    (void)u;
    uint16_t t = (uint16_t)arg(a, "type");
    px_predicate *p = is_neg(a) ? px_did_not_see_ethertype(t) : px__saw_ethertype(t);
    return p ? p : oom(e);
}

static px_predicate *f_mac(px_expr_args *a, void *u, char *e)
{
    (void)u;
    const px_expr_value *mac = px_expr_arg(a, "mac"), *mask = px_expr_arg(a, "mask");
    bool dst = strstr(a->def->name, "dst_mac") != NULL;
    const uint8_t *mk = mask ? mask->mac : NULL;
    px_predicate *p = is_neg(a) ? (dst ? px_did_not_see_dst_mac_masked(mac->mac, mk)
                                       : px_did_not_see_src_mac_masked(mac->mac, mk))
                                : (dst ? px_saw_dst_mac_masked(mac->mac, mk) : px_saw_src_mac_masked(mac->mac, mk));
    return p ? p : oom(e);
}

static px_predicate *f_checksums(px_expr_args *a, void *u, char *e)
{
    (void)a, (void)u;
    px_predicate *p = px_checksums_ok();
    return p ? p : oom(e);
}

static px_predicate *f_vlan(px_expr_args *a, void *u, char *e)
{
    (void)u;
    px_vlan_spec s = PX_VLAN_SPEC_ANY;
    s.vid = (int)arg(a, "vid");
    s.pcp = (int)arg(a, "pcp");
    s.dei = (int)arg(a, "dei");
    s.tpid = (int)arg(a, "tpid");
    s.depth = (int)px_expr_arg_int(a, "depth", 0);
    s.untagged = px_expr_arg_int(a, "untagged", 0) != 0;
    if (s.untagged && (s.vid >= 0 || s.pcp >= 0 || s.dei >= 0 || s.tpid >= 0 || s.depth)) {
        snprintf(e, PX_ERRBUF_SIZE, "untagged=true cannot be combined with tag fields");
        return NULL;
    }
    px_predicate *p = is_neg(a) ? px_did_not_see_vlan(&s) : px_saw_vlan(&s);
    return p ? p : oom(e);
}

static bool ip_arg(px_expr_args *a, const char *name, int version, px_ip_prefix *out, char *e)
{
    const px_expr_value *v = px_expr_arg(a, name);
    if (!v)
        return true;
    if (v->ip.family != version) {
        snprintf(e, PX_ERRBUF_SIZE, "'%s' must be an IPv%d address or prefix", name, version);
        return false;
    }
    *out = v->ip;
    return true;
}

static px_predicate *f_ip(px_expr_args *a, void *u, char *e)
{
    (void)u;
    int version = strstr(a->def->name, "ipv6") ? 6 : 4;
    px_ip_spec s = PX_IP_SPEC_ANY;
    if (!ip_arg(a, "src", version, &s.src, e) || !ip_arg(a, "dst", version, &s.dst, e))
        return NULL;
    s.proto = (int)arg(a, "proto");
    s.ttl = (int)arg(a, "ttl");
    s.dscp = (int)arg(a, "dscp");
    s.ecn = (int)arg(a, "ecn");
    s.encap = (int)px_expr_arg_int(a, "encap", 0);
    px_predicate *p;
    if (version == 4)
        p = is_neg(a) ? px_did_not_see_ipv4(&s) : px_saw_ipv4(&s);
    else
        p = is_neg(a) ? px_did_not_see_ipv6(&s) : px_saw_ipv6(&s);
    return p ? p : oom(e);
}

/* TCP flags as an integer or letters "SA" (F S R P A U E C, as tcpdump prints them). */
static bool tcp_flags(const px_expr_value *v, int *out, char *e)
{
    if (!v)
        return true;
    if (v->type == PX_EXPR_INT) {
        *out = (int)v->i;
        return true;
    }
    static const char letters[] = "FSRPAUEC";
    int flags = 0;
    for (size_t i = 0; i < v->len; i++) {
        const char *at = strchr(letters, toupper((unsigned char)v->str[i]));
        if (!at || !v->str[i]) {
            snprintf(e, PX_ERRBUF_SIZE, "unknown TCP flag '%c'; flags are F S R P A U E C (FIN SYN RST PSH ACK URG ECE CWR)",
                     v->str[i] ? v->str[i] : '0');
            return false;
        }
        flags |= 1 << (at - letters);
    }
    *out = flags;
    return true;
}

static px_predicate *f_l4(px_expr_args *a, void *u, char *e)
{
    (void)u;
    bool tcp = strstr(a->def->name, "tcp") != NULL;
    px_l4_spec s = PX_L4_SPEC_ANY;
    s.sport = (int)arg(a, "sport");
    s.dport = (int)arg(a, "dport");
    s.encap = (int)px_expr_arg_int(a, "encap", 0);
    if (tcp && (!tcp_flags(px_expr_arg(a, "flags"), &s.flags, e) ||
                !tcp_flags(px_expr_arg(a, "flags_mask"), &s.flags_mask, e)))
        return NULL;
    px_predicate *p = tcp ? (is_neg(a) ? px_did_not_see_tcp(&s) : px_saw_tcp(&s))
                          : (is_neg(a) ? px_did_not_see_udp(&s) : px_saw_udp(&s));
    return p ? p : oom(e);
}

static px_predicate *f_icmp(px_expr_args *a, void *u, char *e)
{
    (void)u;
    bool v6 = strstr(a->def->name, "icmpv6") != NULL;
    int type = (int)arg(a, "type"), code = (int)arg(a, "code");
    px_predicate *p = v6 ? (is_neg(a) ? px_did_not_see_icmpv6(type, code) : px_saw_icmpv6(type, code))
                         : (is_neg(a) ? px_did_not_see_icmp(type, code) : px_saw_icmp(type, code));
    return p ? p : oom(e);
}

/* saw_field(ipv4.ttl, 63): the value goes to the builder as the text form
 * writes it, so it is turned back into text here. */
static px_predicate *f_field(px_expr_args *a, void *u, char *e)
{
    (void)u;
    const px_expr_value *f = px_expr_arg(a, "field"), *v = px_expr_arg(a, "value");
    char text[64];
    const char *value = text;
    switch (v->type) {
    case PX_EXPR_INT: snprintf(text, sizeof text, "%llu", (unsigned long long)v->u); break;
    case PX_EXPR_MAC: px_format_mac(v->mac, text); break;
    case PX_EXPR_IP:
        if (v->ip.len != (v->ip.family == 6 ? 128 : 32)) {
            snprintf(e, PX_ERRBUF_SIZE, "a field holds one address, not a prefix");
            return NULL;
        }
        if (v->ip.family == 6)
            px_format_ipv6(v->ip.addr, text);
        else
            px_format_ipv4(v->ip.addr, text);
        break;
    default:
        if (strlen(v->str) != v->len) {
            snprintf(e, PX_ERRBUF_SIZE, "NUL byte in the value");
            return NULL;
        }
        value = v->str;
        break;
    }
    /* The factory's errors (unknown field, value out of range) are the reason. */
    return is_neg(a) ? px_did_not_see_field(f->str, value, e) : px_saw_field(f->str, value, e);
}

static px_predicate *f_mpls(px_expr_args *a, void *u, char *e)
{
    (void)u;
    px_mpls_spec s = PX_MPLS_SPEC_ANY;
    s.label = arg(a, "label");
    s.tc = (int)arg(a, "tc");
    s.s = (int)arg(a, "s");
    s.ttl = (int)arg(a, "ttl");
    s.depth = (int)px_expr_arg_int(a, "depth", 0);
    px_predicate *p = is_neg(a) ? px_did_not_see_mpls(&s) : px_saw_mpls(&s);
    return p ? p : oom(e);
}

static px_predicate *f_vxlan(px_expr_args *a, void *u, char *e)
{
    (void)u;
    px_predicate *p = is_neg(a) ? px_did_not_see_vxlan(arg(a, "vni")) : px_saw_vxlan(arg(a, "vni"));
    return p ? p : oom(e);
}

static px_predicate *f_payload(px_expr_args *a, void *u, char *e)
{
    (void)u;
    const px_expr_value *text = px_expr_arg(a, "text"), *hex = px_expr_arg(a, "hex");
    if (!!text == !!hex) {
        snprintf(e, PX_ERRBUF_SIZE, "give either text (\"GET /\") or hex=\"474554\", not both or neither");
        return NULL;
    }
    uint8_t *bytes;
    size_t n;
    if (text) {
        if (text->len == 0) {
            snprintf(e, PX_ERRBUF_SIZE, "the text to look for is empty");
            return NULL;
        }
        bytes = (uint8_t *)text->str;
        n = text->len;
    } else {
        n = 0;
        bytes = malloc(hex->len / 2 + 1);
        if (!bytes)
            return oom(e);
        if (px__hex_decode(hex->str, hex->len, bytes, hex->len / 2 + 1, &n, NULL) != 0) {
            free(bytes);
            snprintf(e, PX_ERRBUF_SIZE, "hex=\"...\" must be pairs of hex digits (spaces and ':' allowed)");
            return NULL;
        }
        if (n == 0) {
            free(bytes);
            snprintf(e, PX_ERRBUF_SIZE, "the bytes to look for are empty");
            return NULL;
        }
    }
    px_predicate *p = is_neg(a) ? px_did_not_see_payload(bytes, n) : px_payload_contains(bytes, n);
    if (hex)
        free(bytes);
    return p ? p : oom(e);
}

static px_predicate *f_bpf(px_expr_args *a, void *u, char *e)
{
    (void)u;
    const px_expr_value *v = px_expr_arg(a, "filter");
    if (strlen(v->str) != v->len) {
        snprintf(e, PX_ERRBUF_SIZE, "the filter contains a NUL byte");
        return NULL;
    }
    return px_bpf(v->str, e);
}

static px_predicate *f_matches(px_expr_args *a, void *u, char *e)
{
    (void)u;
    const px_expr_value *exp = px_expr_arg(a, "expected"), *ign = px_expr_arg(a, "ignore"),
                        *set = px_expr_arg(a, "set");
    px_buf list = PX_BUF_INIT, edits = PX_BUF_INIT;
    if (ign && ign->type == PX_EXPR_LIST) {
        for (size_t i = 0; i < ign->nitems; i++)
            px_buf_printf(&list, "%s%s", i ? ", " : "", ign->items[i].str);
    } else if (ign) {
        px_buf_append(&list, ign->str);
    }
    if (set && set->type == PX_EXPR_LIST) {
        for (size_t i = 0; i < set->nitems; i++)
            px_buf_printf(&edits, "%s%s", i ? ", " : "", set->items[i].str);
    } else if (set) {
        px_buf_append(&edits, set->str);
    }
    if (list.oom || edits.oom) {
        px_buf_free(&list);
        px_buf_free(&edits);
        return oom(e);
    }
    px_predicate *p = px_matches_edit(exp->str, edits.len ? px_buf_cstr(&edits) : NULL,
                                      list.len ? px_buf_cstr(&list) : NULL,
                                      px_expr_arg_int(a, "allow_padding", 0) != 0, e);
    px_buf_free(&list);
    px_buf_free(&edits);
    return p;
}

/* Takes the predicates out of a LIST argument. */
static size_t take_list(px_expr_args *a, const char *name, px_predicate **out, size_t max)
{
    px_expr_value *v = px_expr_arg(a, name);
    size_t n = 0;
    for (size_t i = 0; v && i < v->nitems && n < max; i++)
        out[n++] = px_expr_take_pred(&v->items[i]);
    return n;
}

static px_predicate *f_multi(px_expr_args *a, void *u, char *e)
{
    (void)u;
    px_expr_value *v = px_expr_arg(a, "preds");
    if (!v || v->nitems == 0) {
        snprintf(e, PX_ERRBUF_SIZE, "needs at least one predicate");
        return NULL;
    }
    px_predicate **ps = calloc(v->nitems, sizeof *ps);
    if (!ps)
        return oom(e);
    size_t n = take_list(a, "preds", ps, v->nitems);
    px_predicate *p;
    if (strcmp(a->def->name, "all_of") == 0)
        p = px_all_of(ps, n);
    else if (strcmp(a->def->name, "any_of") == 0)
        p = px_any_of(ps, n);
    else
        p = px_sequence(ps, n);
    free(ps);
    return p ? p : oom(e);
}

static px_predicate *f_not(px_expr_args *a, void *u, char *e)
{
    (void)u;
    px_predicate *p = px_not(px_expr_take_pred(px_expr_arg(a, "p")));
    return p ? p : oom(e);
}

/* The optional per-frame predicate of the counting names. */
static bool per_frame_arg(px_expr_args *a, const char *name, px_predicate **out, char *e)
{
    px_expr_value *v = px_expr_arg(a, name);
    *out = NULL;
    if (!v)
        return true;
    if (!px_predicate_is_per_frame(v->pred)) {
        px_buf d = PX_BUF_INIT;
        px_predicate_describe(v->pred, &d);
        snprintf(e, PX_ERRBUF_SIZE,
                 "%s counts frames, so '%s' must be a test of one frame: saw_..., did_not_see_..., "
                 "payload_contains, bpf, matches, or all_of / any_of / not of those; got %s",
                 a->def->name, name, px_buf_cstr(&d));
        px_buf_free(&d);
        return false;
    }
    *out = px_expr_take_pred(v);
    return true;
}

px_predicate *px__count_factory(px_expr_args *a, void *u, char *e)
{
    (void)u;
    px_predicate *inner;
    if (!per_frame_arg(a, "p", &inner, e))
        return NULL;
    px_predicate *p = px_count(inner);
    return p ? p : oom(e);
}

static px_predicate *f_counting(px_expr_args *a, void *u, char *e)
{
    (void)u;
    px_predicate *inner;
    if (!per_frame_arg(a, "p", &inner, e))
        return NULL;
    const char *name = a->def->name;
    uint64_t n = (uint64_t)px_expr_arg_int(a, "n", 0);
    px_predicate *p;
    if (strcmp(name, "exactly") == 0) {
        p = px_exactly(n, inner);
    } else if (strcmp(name, "at_least") == 0) {
        p = px_at_least(n, inner);
    } else if (strcmp(name, "at_most") == 0) {
        p = px_at_most(n, inner);
    } else {
        uint64_t lo = (uint64_t)px_expr_arg_int(a, "lo", 0), hi = (uint64_t)px_expr_arg_int(a, "hi", 0);
        if (lo > hi) {
            px_predicate_free(inner);
            snprintf(e, PX_ERRBUF_SIZE, "lo (%llu) is greater than hi (%llu)", (unsigned long long)lo,
                     (unsigned long long)hi);
            return NULL;
        }
        p = px_between(lo, hi, inner);
    }
    return p ? p : oom(e);
}

static px_predicate *f_no_other(px_expr_args *a, void *u, char *e)
{
    (void)u;
    px_predicate *allowed;
    if (!per_frame_arg(a, "allowed", &allowed, e))
        return NULL;
    px_predicate *p = px_no_other_packets(allowed);
    return p ? p : oom(e);
}

/* ================= the built-in table ================= */

#define T_I PX_EXPR_INT
#define REQ PX_EXPR_REQUIRED
#define NAMED PX_EXPR_NAMED_ONLY
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const px_expr_param p_none[1] = {{"unused", T_I, NAMED, 0, 0, "unused"}};
static const px_expr_param p_n[] = {{"n", T_I, REQ, 0, INT64_MAX, "number of frames"}};
/* packet_count_was_less_than(0) could never PASS (as `count() < 0`) */
static const px_expr_param p_n1[] = {{"n", T_I, REQ, 1, INT64_MAX, "number of frames"}};
static const px_expr_param p_tag[] = {
    {"tag", T_I, REQ | PX_EXPR_U64, 0, 0, "tag of the frames sent with px_send_opts.tagged (0 .. 2^64-1)"}};
static const px_expr_param p_ethertype[] = {{"type", T_I, REQ, 0, 0xffff, "ethertype after the VLAN tags"}};
static const px_expr_param p_mac[] = {
    {"mac", PX_EXPR_MAC, REQ, 0, 0, "address"},
    {"mask", PX_EXPR_MAC, 0, 0, 0, "bits of the address to compare (default all)"},
};
static const px_expr_param p_vlan[] = {
    {"vid", T_I, 0, 0, 4095, "VLAN ID"},
    {"pcp", T_I, NAMED, 0, 7, "priority code point"},
    {"dei", T_I, NAMED, 0, 1, "drop eligible indicator"},
    {"tpid", T_I, NAMED, 0, 0xffff, "tag protocol identifier (0x8100, 0x88a8)"},
    {"depth", T_I, NAMED, 0, PX_FRAME_MAX_LAYERS - 1, "which tag: 0 outer (default), 1 inner"},
    {"untagged", PX_EXPR_BOOL, NAMED, 0, 0, "true: a frame without any VLAN tag"},
};
static const px_expr_param p_ip[] = {
    {"src", PX_EXPR_IP, NAMED, 0, 0, "source address or prefix"},
    {"dst", PX_EXPR_IP, NAMED, 0, 0, "destination address or prefix"},
    {"proto", T_I, NAMED, 0, 255, "protocol (IPv6: next header after the extension headers)"},
    {"ttl", T_I, NAMED, 0, 255, "TTL (IPv6: hop limit)"},
    {"dscp", T_I, NAMED, 0, 63, "DSCP"},
    {"ecn", T_I, NAMED, 0, 3, "ECN"},
    {"encap", T_I, NAMED, 0, 7, "0 outer header (default), 1 inside the first tunnel"},
};
static const px_expr_param p_tcp[] = {
    {"sport", T_I, NAMED, 0, 65535, "source port"},
    {"dport", T_I, NAMED, 0, 65535, "destination port"},
    {"flags", T_I | PX_EXPR_STRING, NAMED, 0, 255, "flags, as a number or letters \"SA\" (F S R P A U E C)"},
    {"flags_mask", T_I | PX_EXPR_STRING, NAMED, 0, 255, "flags to compare (default all)"},
    {"encap", T_I, NAMED, 0, 7, "0 outer (default), 1 inside the first tunnel"},
};
static const px_expr_param p_udp[] = {
    {"sport", T_I, NAMED, 0, 65535, "source port"},
    {"dport", T_I, NAMED, 0, 65535, "destination port"},
    {"encap", T_I, NAMED, 0, 7, "0 outer (default), 1 inside the first tunnel"},
};
static const px_expr_param p_icmp[] = {
    {"type", T_I, 0, 0, 255, "type"},
    {"code", T_I, 0, 0, 255, "code"},
};
static const px_expr_param p_mpls[] = {
    {"label", T_I, 0, 0, 0xfffff, "label"},
    {"tc", T_I, NAMED, 0, 7, "traffic class"},
    {"s", T_I, NAMED, 0, 1, "bottom of stack bit"},
    {"ttl", T_I, NAMED, 0, 255, "TTL"},
    {"depth", T_I, NAMED, 0, PX_FRAME_MAX_LAYERS - 1, "which label: 0 outermost (default)"},
};
static const px_expr_param p_vxlan[] = {{"vni", T_I, 0, 0, 0xffffff, "VXLAN network identifier"}};
static const px_expr_param p_field[] = {
    {"field", PX_EXPR_NAME | PX_EXPR_STRING, REQ, 0, 0, "layer.field as a diff names it: ipv4.ttl, vlan.vid, gre.key"},
    {"value", T_I | PX_EXPR_STRING | PX_EXPR_MAC | PX_EXPR_IP, REQ, 0, 0,
     "the value, as the text form takes it: 63, 0x0800, \"SA\", 10.0.0.1, 02:00:00:00:00:01"},
};
static const px_expr_param p_payload[] = {
    {"text", PX_EXPR_STRING, 0, 0, 0, "bytes to find, as a string"},
    {"hex", PX_EXPR_STRING, NAMED, 0, 0, "bytes to find, as hex digits"},
};
static const px_expr_param p_bpf[] = {{"filter", PX_EXPR_STRING, REQ, 0, 0, "libpcap filter expression"}};
static const px_expr_param p_matches[] = {
    {"expected", PX_EXPR_FRAME | PX_EXPR_STRING, REQ, 0, 0, "expected frame: text form or a string of hex"},
    {"set", PX_EXPR_LIST | PX_EXPR_EDIT | PX_EXPR_STRING, NAMED, 0, 0,
     "edits of the expected frame: ipv4.ttl-=1, eth.src=02:00:00:00:00:02, +vlan(102), -vlan"},
    {"ignore", PX_EXPR_LIST | PX_EXPR_NAME | PX_EXPR_STRING, NAMED, 0, 0,
     "fields, layers or ranges not compared: ipv4.ttl, payload, checksums, trailer, bytes:12-13, bits:96-111, "
     "bits:96+16"},
    {"allow_padding", PX_EXPR_BOOL, NAMED, 0, 0, "true: ignore bytes after the expected frame (padding)"},
};
static const px_expr_param p_multi[] = {{"preds", PX_EXPR_PRED, PX_EXPR_VARIADIC | REQ, 0, 0, "predicates"}};
static const px_expr_param p_not[] = {{"p", PX_EXPR_PRED, REQ, 0, 0, "predicate"}};
static const px_expr_param p_count_n[] = {
    {"n", T_I, REQ, 0, INT64_MAX, "number of frames"},
    {"p", PX_EXPR_PRED, 0, 0, 0, "per-frame predicate (default: every frame)"},
};
static const px_expr_param p_between[] = {
    {"lo", T_I, REQ, 0, INT64_MAX, "lowest number of frames"},
    {"hi", T_I, REQ, 0, INT64_MAX, "highest number of frames"},
    {"p", PX_EXPR_PRED, 0, 0, 0, "per-frame predicate (default: every frame)"},
};
static const px_expr_param p_count[] = {{"p", PX_EXPR_PRED, 0, 0, 0, "per-frame predicate (default: every frame)"}};
static const px_expr_param p_no_other[] = {
    {"allowed", PX_EXPR_PRED, 0, 0, 0, "per-frame predicate of the frames that are allowed (default: none)"},
};

#define DEF(name, summary, params, factory) {name, summary, params, N(params), factory, NULL}
#define DEF0(name, summary, factory) {name, summary, p_none, 0, factory, NULL}
#define PAIR(suffix, what, params, factory)                                                                     \
    DEF("saw_" suffix, "a frame with " what, params, factory),                                                  \
        DEF("did_not_see_" suffix, "no frame with " what, params, factory)

static const px_expr_def builtins[] = {
    DEF0("received_packet", "any frame", f_received),
    DEF0("timed_out", "no frame at all", f_timed_out),
    DEF0("packet_count", "alias of count()", f_packet_count),
    DEF("packet_count_was", "alias of exactly(n)", p_n, f_packet_count),
    DEF("packet_count_was_less_than", "alias of at_most(n - 1)", p_n1, f_packet_count),
    DEF("saw_tag", "a frame sent with this tag (value = latency in ns)", p_tag, f_tag),
    PAIR("ethertype", "this ethertype", p_ethertype, f_ethertype),
    PAIR("src_mac", "this source MAC (under a mask)", p_mac, f_mac),
    PAIR("dst_mac", "this destination MAC (under a mask)", p_mac, f_mac),
    PAIR("vlan_tag", "this VLAN tag (or none)", p_vlan, f_vlan),
    PAIR("ipv4", "these IPv4 header fields", p_ip, f_ip),
    PAIR("ipv6", "these IPv6 header fields", p_ip, f_ip),
    PAIR("tcp", "these TCP ports and flags", p_tcp, f_l4),
    PAIR("udp", "these UDP ports", p_udp, f_l4),
    PAIR("icmp", "this ICMP type and code", p_icmp, f_icmp),
    PAIR("icmpv6", "this ICMPv6 type and code", p_icmp, f_icmp),
    PAIR("mpls", "this MPLS label stack entry", p_mpls, f_mpls),
    PAIR("vxlan", "this VXLAN VNI", p_vxlan, f_vxlan),
    PAIR("field", "this value in any field of the text form", p_field, f_field),
    DEF("payload_contains", "a frame whose payload contains these bytes", p_payload, f_payload),
    DEF("did_not_see_payload", "no frame whose payload contains these bytes", p_payload, f_payload),
    DEF("matches", "a frame equal to the expected one (under a mask)", p_matches, f_matches),
    DEF("bpf", "a frame the libpcap filter accepts", p_bpf, f_bpf),
    DEF0("checksums_ok", "every checksum of every frame verifies", f_checksums),
    DEF("all_of", "every predicate passes", p_multi, f_multi),
    DEF("any_of", "one predicate passes", p_multi, f_multi),
    DEF("sequence", "the predicates pass one after the other", p_multi, f_multi),
    DEF("not", "the predicate fails", p_not, f_not),
    DEF("exactly", "exactly n frames satisfy p", p_count_n, f_counting),
    DEF("at_least", "at least n frames satisfy p", p_count_n, f_counting),
    DEF("at_most", "at most n frames satisfy p", p_count_n, f_counting),
    DEF("between", "lo..hi frames satisfy p", p_between, f_counting),
    DEF("count", "value = number of frames satisfying p", p_count, px__count_factory),
    DEF("no_other_packets", "no frame except the allowed ones", p_no_other, f_no_other),
};

px_registry *px_registry_new(void)
{
    px_registry *reg = px_registry_new_empty();
    if (!reg)
        return NULL;
    for (size_t i = 0; i < N(builtins); i++)
        if (px_registry_add(reg, &builtins[i], NULL) != 0) {
            px_registry_free(reg);
            return NULL;
        }
    return reg;
}
