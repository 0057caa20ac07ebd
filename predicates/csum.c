/* pktexpect: checksums_ok(): every checksum of every frame offered verifies
 * (include/pktexpect/predicates.h, docs/predicates.md). */
#include <stdio.h>
#include <stdlib.h>

#include "csum.h"
#include "pktexpect/predicates.h"
#include "pred_internal.h"

typedef struct csum_state {
    uint64_t frames;     /* offered */
    uint64_t verified;   /* checksums that verified */
    uint64_t offloaded;  /* TCP/UDP checksums the kernel had not computed yet */
    uint64_t unknown;    /* checksums over bytes not all captured */
    bool bad;
    px_buf why;          /* the first bad checksum: frame, layer, expected, got */
} csum_state;

static void csum_on_packet(void *state, const px_frame *f)
{
    csum_state *s = state;
    s->frames++;
    if (s->bad)
        return;
    unsigned nth[PX_LAYER__COUNT] = {0};
    for (unsigned i = 0; i < f->nlayers; i++) {
        const px_layer *l = &f->layers[i];
        unsigned k = l->kind < PX_LAYER__COUNT ? nth[l->kind]++ : 0;
        uint16_t got = 0, want = 0;
        px_csum_status st = px__layer_checksum_values(f, l, &got, &want);
        if (st == PX_CSUM_NONE)
            continue;
        /* Captured on the sending host before the NIC (or the kernel) filled it in:
         * a partial sum, not a wrong checksum (TP_STATUS_CSUMNOTREADY). */
        if ((f->flags & PX_FRAME_CSUM_NOT_READY) && (l->kind == PX_LAYER_TCP || l->kind == PX_LAYER_UDP)) {
            s->offloaded++;
            continue;
        }
        if (st == PX_CSUM_UNKNOWN) {
            s->unknown++;
            continue;
        }
        if (st == PX_CSUM_GOOD) {
            s->verified++;
            continue;
        }
        s->bad = true;
        /* named as diffs name layers: udp, then udp[1] inside a tunnel */
        px_buf_printf(&s->why, "frame #%llu: %s", (unsigned long long)s->frames, px_layer_name((px_layer_kind)l->kind));
        if (k)
            px_buf_printf(&s->why, "[%u]", k);
        px_buf_printf(&s->why, " checksum: expected 0x%04x, got 0x%04x", (unsigned)want, (unsigned)got);
        if (want == got)
            px_buf_append(&s->why, " (the datagram's length ends inside this header)");
        px_buf_append(&s->why, "; the frame: ");
        px__frame_summary(f, &s->why);
        return;
    }
}

static bool csum_stop(void *state, const px_frame *f)
{
    (void)f;
    return ((csum_state *)state)->bad;
}

static void csum_counts(const csum_state *s, px_result *r)
{
    px_result_explain(r, "%llu frame%s, %llu checksum%s verified", (unsigned long long)s->frames,
                      s->frames == 1 ? "" : "s", (unsigned long long)s->verified, s->verified == 1 ? "" : "s");
    if (s->offloaded)
        px_result_explain(r, ", %llu not computed yet (offloaded, not checked)", (unsigned long long)s->offloaded);
    if (s->unknown)
        px_result_explain(r, ", %llu over bytes not captured (not checked)", (unsigned long long)s->unknown);
}

static px_verdict csum_finish(void *state, bool timed_out, px_result *r)
{
    (void)timed_out;
    csum_state *s = state;
    px_result_set_value(r, (int64_t)s->frames);
    if (s->bad) {
        px_result_explain(r, "%s", px_buf_cstr(&s->why));
        return PX_FAIL;
    }
    if (s->frames == 0) {
        /* Nothing checked is no evidence that checksums are right. */
        px_result_explain(r, "no frame in the window: no checksum to check");
        return PX_FAIL;
    }
    px_result_explain(r, "every checksum is right: ");
    csum_counts(s, r);
    return PX_PASS;
}

static void csum_describe(const void *state, px_buf *out)
{
    (void)state;
    px_buf_append(out, "checksums_ok()");
}

static void csum_destroy(void *state)
{
    csum_state *s = state;
    if (!s)
        return;
    px_buf_free(&s->why);
    free(s);
}

static const px_predicate_ops csum_ops = {
    .name = "checksums_ok",
    .on_packet = csum_on_packet,
    .stop_condition = csum_stop,
    .on_finish = csum_finish,
    .describe = csum_describe,
    .destroy = csum_destroy,
    /* PASS says "no bad frame": a frame the capture dropped might have been one. */
    .flags = PX_PRED_LOSS_SENSITIVE,
};

px_predicate *px_checksums_ok(void)
{
    csum_state *s = calloc(1, sizeof *s);
    return s ? px_predicate_new(&csum_ops, s) : NULL;
}
