/* pktexpect: the containers of a port's capture thread (see port_index.h). */
#include <stdlib.h>
#include <string.h>

#include "port_index.h"

bool px__vec_push(px__nodevec *v, px__node *n)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        px__node **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            return false;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = n;
    return true;
}

void px__vec_remove(px__nodevec *v, px__node *n)
{
    /* Order kept: nodes of a port are offered each frame in arm order (the
     * verification layer's claims rely on the first armed deciding first). */
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i] == n) {
            memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof v->v[0]);
            v->n--;
            return;
        }
}

px__kslot *px__key_insert(px__keymap *m, uint64_t value)
{
    px__kslot *s = px__key_find(m, value);
    if (s)
        return s;
    if ((m->used + 1) * 2 > m->cap) { /* grow: load factor at most 1/2 */
        size_t cap = m->cap ? m->cap * 2 : 16;
        px__kslot *ns = calloc(cap, sizeof *ns);
        if (!ns)
            return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].used)
                continue;
            size_t j = px__key_mix(m->slots[i].value) & (cap - 1);
            while (ns[j].used)
                j = (j + 1) & (cap - 1);
            ns[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = ns;
        m->cap = cap;
    }
    size_t j = px__key_mix(value) & (m->cap - 1);
    while (m->slots[j].used)
        j = (j + 1) & (m->cap - 1);
    m->slots[j].used = true;
    m->slots[j].value = value;
    m->used++;
    return &m->slots[j];
}

void px__keymap_free(px__keymap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].nodes.v);
    free(m->slots);
    *m = (px__keymap){0};
}

static void heap_swap(px__deadline_heap *h, size_t a, size_t b)
{
    px__node *t = h->v[a];
    h->v[a] = h->v[b];
    h->v[b] = t;
    h->v[a]->heap_pos = a;
    h->v[b]->heap_pos = b;
}

static void heap_up(px__deadline_heap *h, size_t i)
{
    while (i > 0 && h->v[(i - 1) / 2]->deadline > h->v[i]->deadline) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(px__deadline_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->v[l]->deadline < h->v[m]->deadline)
            m = l;
        if (r < h->n && h->v[r]->deadline < h->v[m]->deadline)
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

bool px__heap_push(px__deadline_heap *h, px__node *n)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        px__node **nh = realloc(h->v, cap * sizeof *nh);
        if (!nh)
            return false;
        h->v = nh;
        h->cap = cap;
    }
    n->heap_pos = h->n;
    h->v[h->n++] = n;
    heap_up(h, n->heap_pos);
    return true;
}

void px__heap_remove(px__deadline_heap *h, px__node *n)
{
    size_t i = n->heap_pos;
    if (i == SIZE_MAX)
        return;
    n->heap_pos = SIZE_MAX;
    if (i == --h->n)
        return;
    h->v[i] = h->v[h->n];
    h->v[i]->heap_pos = i;
    heap_down(h, i);
    heap_up(h, i);
}

px__node *px__heap_min(const px__deadline_heap *h)
{
    return h->n ? h->v[0] : NULL;
}

