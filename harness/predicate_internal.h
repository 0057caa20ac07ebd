/* pktexpect: a predicate instance (predicate.c), for the capture thread's offer
 * of every frame (port_loop.c). Not installed.
 *
 * Ownership and thread-safety: as px_predicate in predicate.h (the ops table is
 * static, the state belongs to the predicate; one thread offers at a time). */
#ifndef PX_PREDICATE_INTERNAL_H
#define PX_PREDICATE_INTERNAL_H

#include <stdbool.h>

#include "pktexpect/predicate.h"

struct px_predicate {
    const px_predicate_ops *ops;
    void *state;
};

/* px_predicate_offer(), inline: on_packet, then stop_condition. The capture
 * thread calls it for every frame and node; ops and state are read once (the
 * callbacks receive the state only, so they cannot change either). */
static inline bool px__predicate_offer(px_predicate *p, const px_frame *f)
{
    const px_predicate_ops *ops = p->ops;
    void *state = p->state;
    if (ops->on_packet)
        ops->on_packet(state, f);
    return ops->stop_condition ? ops->stop_condition(state, f) : false;
}

#endif
