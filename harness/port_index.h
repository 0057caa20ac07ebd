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

/* The slot of `value`, or NULL; insert creates it (NULL when out of memory). */
px__kslot *px__key_find(px__keymap *m, uint64_t value);
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
