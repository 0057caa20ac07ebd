/* pktexpect: the first built-in predicates (frames received, silence, MACs,
 * ethertype, VLAN tags, counts). See include/pktexpect/predicates.h for the
 * verdict rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/predicates.h"
#include "pred_internal.h"

/* ---- frames and silence ---- */

typedef struct any_state {
    uint64_t seen;
    px_buf first; /* summary of the first frame: what timed_out() shows when it FAILs */
} any_state;

static void any_on_packet(void *state, const px_frame *f)
{
    any_state *s = state;
    if (s->seen++ == 0)
        px__frame_summary(f, &s->first);
}

static void any_destroy(void *state)
{
    any_state *s = state;
    if (!s)
        return;
    px_buf_free(&s->first);
    free(s);
}

/* The verdict is known at the first frame either way; on_finish decides. */
static bool any_stop(void *state, const px_frame *f)
{
    (void)f;
    return ((any_state *)state)->seen > 0;
}

static px_verdict received_finish(void *state, bool timed_out, px_result *r)
{
    (void)timed_out;
    if (((any_state *)state)->seen) {
        px_result_explain(r, "a frame arrived");
        return PX_PASS;
    }
    px_result_explain(r, "no frame arrived in the window");
    return PX_FAIL;
}

static px_verdict timed_out_finish(void *state, bool timed_out, px_result *r)
{
    if (((any_state *)state)->seen) {
        px_result_explain(r, "expected no frame; frame #1 was: %s", px_buf_cstr(&((any_state *)state)->first));
        return PX_FAIL;
    }
    if (!timed_out) {
        px_result_explain(r, "the window was ended early with no frame; silence holds only until then");
        return PX_PASS;
    }
    px_result_explain(r, "no frame in the window");
    return PX_PASS;
}

static void describe_received(const void *state, px_buf *out)
{
    (void)state;
    px_buf_append(out, "received_packet()");
}

static void describe_timed_out(const void *state, px_buf *out)
{
    (void)state;
    px_buf_append(out, "timed_out()");
}

static const px_predicate_ops received_ops = {.name = "received_packet", .on_packet = any_on_packet,
                                              .stop_condition = any_stop, .on_finish = received_finish,
                                              .describe = describe_received, .destroy = any_destroy};
static const px_predicate_ops timed_out_ops = {.name = "timed_out", .on_packet = any_on_packet,
                                               .stop_condition = any_stop, .on_finish = timed_out_finish,
                                               .describe = describe_timed_out, .destroy = any_destroy,
                                               .flags = PX_PRED_LOSS_SENSITIVE};

px_predicate *px_received_packet(void)
{
    any_state *s = calloc(1, sizeof *s);
    return s ? px_predicate_new(&received_ops, s) : NULL;
}

px_predicate *px_timed_out(void)
{
    any_state *s = calloc(1, sizeof *s);
    return s ? px_predicate_new(&timed_out_ops, s) : NULL;
}

/* ---- field predicates: the per-frame engine of predicates/ftest.c, so they
 * also work inside counts and combinators ---- */

/* A NULL mac is refused by the masked forms, with the reason. */
px_predicate *px_saw_src_mac(const uint8_t mac[6]) { return px_saw_src_mac_masked(mac, NULL); }
px_predicate *px_saw_dst_mac(const uint8_t mac[6]) { return px_saw_dst_mac_masked(mac, NULL); }
px_predicate *px_did_not_see_src_mac(const uint8_t mac[6]) { return px_did_not_see_src_mac_masked(mac, NULL); }
px_predicate *px_did_not_see_dst_mac(const uint8_t mac[6]) { return px_did_not_see_dst_mac_masked(mac, NULL); }
px_predicate *px_saw_ethertype(uint16_t ethertype) { return px__saw_ethertype(ethertype); }

px_predicate *px_saw_vlan_tag(int vid, int pcp)
{
    /* Here vid has no "any" (-1): px_saw_vlan has. */
    if (vid < 0 || vid > 4095)
        return px__pred_refused("saw_vlan_tag", "vid must be 0..4095, got %d", vid);
    if (pcp > 7)
        return px__pred_refused("saw_vlan_tag", "pcp must be 0..7 or -1 (any), got %d", pcp);
    px_vlan_spec spec = PX_VLAN_SPEC_ANY;
    spec.vid = vid;
    spec.pcp = pcp < 0 ? -1 : pcp;
    return px_saw_vlan(&spec);
}

px_predicate *px_did_not_see_vlan_tag(int vid)
{
    if (vid < 0 || vid > 4095)
        return px__pred_refused("did_not_see_vlan_tag", "vid must be 0..4095, got %d", vid);
    px_vlan_spec spec = PX_VLAN_SPEC_ANY;
    spec.vid = vid;
    return px_did_not_see_vlan(&spec);
}

/* ---- counting: the old names, aliases of the counting combinators ----
 * One count vocabulary (docs/predicates.md#counting): count, exactly, at_least,
 * at_most, between. These keep the first names working, with the combinators'
 * behaviour, explanations and descriptions. */

px_predicate *px_packet_count(void) { return px_count(NULL); }
px_predicate *px_packet_count_was(uint64_t n) { return px_exactly(n, NULL); }
/* "fewer than 0" can never PASS: refused, as `count() < 0` is. */
px_predicate *px_packet_count_was_less_than(uint64_t n)
{
    return n ? px_at_most(n - 1, NULL)
             : px__pred_refused("packet_count_was_less_than", "n must be at least 1 (fewer than 0 frames is never true)");
}
