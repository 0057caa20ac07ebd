/* pktexpect: the containers of a port's capture thread (port.c): node vectors,
 * the key index (per key kind, an open-addressing map from a key value to the
 * nodes that declared it) and the min-heap of nodes by deadline.
 *
 * Ownership: the containers hold pointers to nodes they do not own. Thread
 * safety: none; a port's containers are used by its capture thread only. Not
 * installed. */
#ifndef PX_PORT_INDEX_H
#define PX_PORT_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx_internal.h"

typedef struct px__nodevec {
    px__node **v;
    size_t n, cap;
} px__nodevec;

/* Appends (false when out of memory); removes by swapping the last in (order not kept). */
bool px__vec_push(px__nodevec *v, px__node *n);
void px__vec_remove(px__nodevec *v, px__node *n);

typedef struct px__kslot {
    uint64_t value;
    bool used;
    px__nodevec nodes;
} px__kslot;

typedef struct px__keymap {
    px__kslot *slots;
    size_t cap, used, nodes; /* nodes: how many nodes the map holds in all */
} px__keymap;

static inline uint64_t px__key_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

/* The slot of `value`, or NULL; insert creates it (NULL when out of memory).
 * find is inline: the capture thread looks up every key of every frame. */
static inline px__kslot *px__key_find(px__keymap *m, uint64_t value)
{
    if (!m->cap)
        return NULL;
    for (size_t i = px__key_mix(value) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i].used)
            return NULL;
        if (m->slots[i].value == value)
            return &m->slots[i];
    }
}
px__kslot *px__key_insert(px__keymap *m, uint64_t value);
void px__keymap_free(px__keymap *m);

/* Nodes by deadline (px__node.deadline), each knowing its position (heap_pos,
 * SIZE_MAX when not in the heap). */
typedef struct px__deadline_heap {
    px__node **v;
    size_t n, cap;
} px__deadline_heap;

bool px__heap_push(px__deadline_heap *h, px__node *n);
void px__heap_remove(px__deadline_heap *h, px__node *n);
px__node *px__heap_min(const px__deadline_heap *h);

#endif
