/* pktexpect: saw_tag(tag), the predicate of tagged frames (see the tag trailer in
 * include/pktexpect/send.h). PASS on the first frame that carries `tag`; its value
 * is the latency in nanoseconds: the frame's arrival timestamp (kernel, realtime
 * clock) minus the send time written in the trailer. FAIL when the window closes
 * without it. Other tagged frames (background traffic, other tests) are counted
 * and named in the explanation. */
#include <stdlib.h>

#include "pktexpect/predicates.h"
#include "pktexpect/send.h"

typedef struct tag_state {
    uint64_t tag;
    uint64_t seen;        /* frames offered */
    uint64_t other_tags;  /* tagged frames with another tag */
    uint64_t hit_index;   /* 1-based index of the frame with our tag, 0 = none */
    int64_t latency_ns;
} tag_state;

static void on_packet(void *state, const px_frame *f)
{
    tag_state *s = state;
    s->seen++;
    uint64_t tag, sent_ns;
    if (s->hit_index || !px_tag_find(f->data, f->caplen, &tag, &sent_ns))
        return;
    if (tag != s->tag) {
        s->other_tags++;
        return;
    }
    s->hit_index = s->seen;
    int64_t arrived = (int64_t)f->ts.tv_sec * 1000000000 + (int64_t)f->ts.tv_nsec;
    s->latency_ns = arrived - (int64_t)sent_ns;
}

static bool stop_condition(void *state, const px_frame *f)
{
    (void)f;
    return ((tag_state *)state)->hit_index != 0;
}

static px_verdict on_finish(void *state, bool timed_out, px_result *r)
{
    tag_state *s = state;
    (void)timed_out;
    if (s->hit_index) {
        px_result_set_value(r, s->latency_ns);
        px_result_explain(r, "saw tag 0x%016llx (frame %llu of the window), latency %lld ns",
                          (unsigned long long)s->tag, (unsigned long long)s->hit_index, (long long)s->latency_ns);
        return PX_PASS;
    }
    px_result_explain(r, "no frame with tag 0x%016llx among %llu frames (%llu carried other tags)",
                      (unsigned long long)s->tag, (unsigned long long)s->seen, (unsigned long long)s->other_tags);
    return PX_FAIL;
}

static void describe(const void *state, px_buf *out)
{
    px_buf_printf(out, "saw_tag(0x%016llx)", (unsigned long long)((const tag_state *)state)->tag);
}

static const px_predicate_ops tag_ops = {
    .name = "saw_tag",
    .on_packet = on_packet,
    .stop_condition = stop_condition,
    .on_finish = on_finish,
    .describe = describe,
    .destroy = free,
};

px_predicate *px_saw_tag(uint64_t tag)
{
    tag_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->tag = tag;
    return px_predicate_new(&tag_ops, s);
}
