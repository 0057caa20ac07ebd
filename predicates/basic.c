/* pktexpect: the first built-in predicates (frames received, MACs, ethertype,
 * VLAN tags, counts). See include/pktexpect/predicates.h for the verdict rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/predicates.h"

/* ---- one state shape serves every predicate in this file ---- */

typedef enum match_kind { M_ANY, M_SRC_MAC, M_DST_MAC, M_ETHERTYPE, M_VLAN } match_kind;

typedef struct basic_state {
    match_kind kind;
    uint8_t mac[6];
    uint16_t ethertype;
    int vid, pcp;          /* pcp < 0: any */
    uint64_t n;            /* the count argument */
    uint64_t seen;         /* frames offered */
    uint64_t matched;      /* frames that matched */
} basic_state;

static bool frame_matches(const basic_state *s, const px_frame *f)
{
    uint8_t mac[6];
    uint16_t type;
    px_vlan_tag tag;
    switch (s->kind) {
    case M_ANY: return true;
    case M_SRC_MAC: return px_frame_eth_src(f, mac) && memcmp(mac, s->mac, 6) == 0;
    case M_DST_MAC: return px_frame_eth_dst(f, mac) && memcmp(mac, s->mac, 6) == 0;
    case M_ETHERTYPE: return px_frame_ethertype(f, &type) && type == s->ethertype;
    case M_VLAN:
        return px_frame_vlan(f, 0, &tag) && tag.vid == s->vid && (s->pcp < 0 || tag.pcp == s->pcp);
    }
    return false;
}

static void on_packet(void *state, const px_frame *f)
{
    basic_state *s = state;
    s->seen++;
    if (frame_matches(s, f))
        s->matched++;
}

/* Positive and negative predicates stop at the first match (the verdict is then
 * known); on_finish decides. */
static bool stop_on_match(void *state, const px_frame *f)
{
    (void)f;
    return ((basic_state *)state)->matched > 0;
}

static void describe_match(const basic_state *s, px_buf *out)
{
    switch (s->kind) {
    case M_ANY: px_buf_append(out, "any frame"); break;
    case M_SRC_MAC:
    case M_DST_MAC:
        px_buf_printf(out, "%s MAC %02x:%02x:%02x:%02x:%02x:%02x", s->kind == M_SRC_MAC ? "source" : "destination",
                      s->mac[0], s->mac[1], s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
        break;
    case M_ETHERTYPE: px_buf_printf(out, "ethertype 0x%04x", s->ethertype); break;
    case M_VLAN:
        px_buf_printf(out, "VLAN %d", s->vid);
        if (s->pcp >= 0)
            px_buf_printf(out, " PCP %d", s->pcp);
        break;
    }
}

static px_verdict finish_positive(void *state, bool timed_out, px_result *r)
{
    basic_state *s = state;
    (void)timed_out;
    if (s->matched) {
        px_result_explain(r, "saw a frame with ");
        describe_match(s, &r->explanation);
        px_result_explain(r, " (frame %llu of the window)", (unsigned long long)s->seen);
        return PX_PASS;
    }
    px_result_explain(r, "no frame with ");
    describe_match(s, &r->explanation);
    px_result_explain(r, " among %llu frame%s seen", (unsigned long long)s->seen, s->seen == 1 ? "" : "s");
    return PX_FAIL;
}

static px_verdict finish_negative(void *state, bool timed_out, px_result *r)
{
    basic_state *s = state;
    if (s->matched) {
        px_result_explain(r, "saw a frame with ");
        describe_match(s, &r->explanation);
        px_result_explain(r, " (frame %llu of the window)", (unsigned long long)s->seen);
        return PX_FAIL;
    }
    if (!timed_out) {
        /* Ended by the count limit: the window did not close, so absence is not proven. */
        px_result_explain(r, "the count limit ended the window after %llu frames without ",
                          (unsigned long long)s->seen);
        describe_match(s, &r->explanation);
        px_result_explain(r, "; absence holds only for those frames");
        return PX_PASS;
    }
    px_result_explain(r, "no frame with ");
    describe_match(s, &r->explanation);
    px_result_explain(r, " in the window (%llu frame%s seen)", (unsigned long long)s->seen, s->seen == 1 ? "" : "s");
    return PX_PASS;
}

static void describe(const void *state, const char *name, px_buf *out)
{
    const basic_state *s = state;
    px_buf_append(out, name);
    px_buf_append(out, "(");
    switch (s->kind) {
    case M_ANY: break;
    case M_SRC_MAC:
    case M_DST_MAC:
        px_buf_printf(out, "%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0], s->mac[1], s->mac[2], s->mac[3], s->mac[4],
                      s->mac[5]);
        break;
    case M_ETHERTYPE: px_buf_printf(out, "0x%04x", s->ethertype); break;
    case M_VLAN:
        px_buf_printf(out, "%d", s->vid);
        if (s->pcp >= 0)
            px_buf_printf(out, ", pcp=%d", s->pcp);
        break;
    }
    px_buf_append(out, ")");
}

#define DESCRIBE_AS(fn, name)                                                                                  \
    static void fn(const void *state, px_buf *out) { describe(state, name, out); }

DESCRIBE_AS(describe_received, "received_packet")
DESCRIBE_AS(describe_saw_src, "saw_src_mac")
DESCRIBE_AS(describe_saw_dst, "saw_dst_mac")
DESCRIBE_AS(describe_saw_type, "saw_ethertype")
DESCRIBE_AS(describe_saw_vlan, "saw_vlan_tag")
DESCRIBE_AS(describe_timed_out, "timed_out")
DESCRIBE_AS(describe_not_src, "did_not_see_src_mac")
DESCRIBE_AS(describe_not_dst, "did_not_see_dst_mac")
DESCRIBE_AS(describe_not_vlan, "did_not_see_vlan_tag")

#define POSITIVE_OPS(var, pname, desc)                                                                         \
    static const px_predicate_ops var = {.name = pname, .on_packet = on_packet, .stop_condition = stop_on_match, \
                                         .on_finish = finish_positive, .describe = desc, .destroy = free}
#define NEGATIVE_OPS(var, pname, desc)                                                                         \
    static const px_predicate_ops var = {.name = pname, .on_packet = on_packet, .stop_condition = stop_on_match, \
                                         .on_finish = finish_negative, .describe = desc, .destroy = free,       \
                                         .flags = PX_PRED_LOSS_SENSITIVE}

POSITIVE_OPS(received_ops, "received_packet", describe_received);
POSITIVE_OPS(saw_src_ops, "saw_src_mac", describe_saw_src);
POSITIVE_OPS(saw_dst_ops, "saw_dst_mac", describe_saw_dst);
POSITIVE_OPS(saw_type_ops, "saw_ethertype", describe_saw_type);
POSITIVE_OPS(saw_vlan_ops, "saw_vlan_tag", describe_saw_vlan);
NEGATIVE_OPS(timed_out_ops, "timed_out", describe_timed_out);
NEGATIVE_OPS(not_src_ops, "did_not_see_src_mac", describe_not_src);
NEGATIVE_OPS(not_dst_ops, "did_not_see_dst_mac", describe_not_dst);
NEGATIVE_OPS(not_vlan_ops, "did_not_see_vlan_tag", describe_not_vlan);

static px_predicate *make(const px_predicate_ops *ops, basic_state init)
{
    basic_state *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    *s = init;
    return px_predicate_new(ops, s);
}

static basic_state mac_state(match_kind kind, const uint8_t mac[6])
{
    basic_state s = {.kind = kind};
    memcpy(s.mac, mac, 6);
    return s;
}

px_predicate *px_received_packet(void) { return make(&received_ops, (basic_state){.kind = M_ANY}); }
px_predicate *px_timed_out(void) { return make(&timed_out_ops, (basic_state){.kind = M_ANY}); }

px_predicate *px_saw_src_mac(const uint8_t mac[6])
{
    return mac ? make(&saw_src_ops, mac_state(M_SRC_MAC, mac)) : NULL;
}
px_predicate *px_saw_dst_mac(const uint8_t mac[6])
{
    return mac ? make(&saw_dst_ops, mac_state(M_DST_MAC, mac)) : NULL;
}
px_predicate *px_did_not_see_src_mac(const uint8_t mac[6])
{
    return mac ? make(&not_src_ops, mac_state(M_SRC_MAC, mac)) : NULL;
}
px_predicate *px_did_not_see_dst_mac(const uint8_t mac[6])
{
    return mac ? make(&not_dst_ops, mac_state(M_DST_MAC, mac)) : NULL;
}
px_predicate *px_saw_ethertype(uint16_t ethertype)
{
    return make(&saw_type_ops, (basic_state){.kind = M_ETHERTYPE, .ethertype = ethertype});
}
px_predicate *px_saw_vlan_tag(int vid, int pcp)
{
    if (vid < 0 || vid > 4095 || pcp > 7)
        return NULL;
    return make(&saw_vlan_ops, (basic_state){.kind = M_VLAN, .vid = vid, .pcp = pcp < 0 ? -1 : pcp});
}
px_predicate *px_did_not_see_vlan_tag(int vid)
{
    if (vid < 0 || vid > 4095)
        return NULL;
    return make(&not_vlan_ops, (basic_state){.kind = M_VLAN, .vid = vid, .pcp = -1});
}

/* ---- counting ---- */

typedef enum count_rule { C_ANY, C_EQ, C_LT } count_rule;

typedef struct count_state {
    count_rule rule;
    uint64_t n;
    uint64_t seen;
} count_state;

static void count_on_packet(void *state, const px_frame *f)
{
    (void)f;
    ((count_state *)state)->seen++;
}

/* Stop as soon as the verdict cannot change any more: more than n frames for
 * "was(n)", n frames for "less_than(n)". */
static bool count_stop(void *state, const px_frame *f)
{
    (void)f;
    const count_state *s = state;
    switch (s->rule) {
    case C_EQ: return s->seen > s->n;
    case C_LT: return s->seen >= s->n;
    case C_ANY: break;
    }
    return false;
}

static px_verdict count_finish(void *state, bool timed_out, px_result *r)
{
    const count_state *s = state;
    (void)timed_out;
    px_result_set_value(r, (int64_t)s->seen);
    switch (s->rule) {
    case C_ANY:
        px_result_explain(r, "%llu frame%s seen", (unsigned long long)s->seen, s->seen == 1 ? "" : "s");
        return PX_PASS;
    case C_EQ:
        px_result_explain(r, "expected exactly %llu frame%s, saw %llu%s", (unsigned long long)s->n,
                          s->n == 1 ? "" : "s", (unsigned long long)s->seen,
                          s->seen > s->n ? " (stopped at the first one too many)" : "");
        return s->seen == s->n ? PX_PASS : PX_FAIL;
    case C_LT:
        px_result_explain(r, "expected fewer than %llu frame%s, saw %llu", (unsigned long long)s->n,
                          s->n == 1 ? "" : "s", (unsigned long long)s->seen);
        return s->seen < s->n ? PX_PASS : PX_FAIL;
    }
    return PX_ERROR;
}

static void count_describe(const void *state, px_buf *out)
{
    const count_state *s = state;
    switch (s->rule) {
    case C_ANY: px_buf_append(out, "packet_count()"); break;
    case C_EQ: px_buf_printf(out, "packet_count_was(%llu)", (unsigned long long)s->n); break;
    case C_LT: px_buf_printf(out, "packet_count_was_less_than(%llu)", (unsigned long long)s->n); break;
    }
}

#define COUNT_OPS(var, pname)                                                                                  \
    static const px_predicate_ops var = {.name = pname, .on_packet = count_on_packet, .stop_condition = count_stop, \
                                         .on_finish = count_finish, .describe = count_describe, .destroy = free, \
                                         .flags = PX_PRED_LOSS_SENSITIVE}
COUNT_OPS(count_any_ops, "packet_count");
COUNT_OPS(count_eq_ops, "packet_count_was");
COUNT_OPS(count_lt_ops, "packet_count_was_less_than");

static px_predicate *make_count(const px_predicate_ops *ops, count_rule rule, uint64_t n)
{
    count_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->rule = rule;
    s->n = n;
    return px_predicate_new(ops, s);
}

px_predicate *px_packet_count(void) { return make_count(&count_any_ops, C_ANY, 0); }
px_predicate *px_packet_count_was(uint64_t n) { return make_count(&count_eq_ops, C_EQ, n); }
px_predicate *px_packet_count_was_less_than(uint64_t n) { return make_count(&count_lt_ops, C_LT, n); }
