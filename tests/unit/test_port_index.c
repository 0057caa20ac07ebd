/* The capture thread's containers (harness/port_index.h): the deadline heap
 * gives nodes back in deadline order whatever is removed in between, and the key
 * index finds every value it holds and none it does not, across growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "port_index.h"

#define N 2000

static void test_heap_order_with_removals(void **state)
{
    (void)state;
    px__node *nodes = calloc(N, sizeof *nodes);
    assert_non_null(nodes);
    px__deadline_heap h = {0};
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        nodes[i].deadline = (int64_t)(x % 100000);
        nodes[i].heap_pos = SIZE_MAX;
        assert_true(px__heap_push(&h, &nodes[i]));
    }
    /* every third one leaves early (a window closed by its stop condition) */
    for (size_t i = 0; i < N; i += 3)
        px__heap_remove(&h, &nodes[i]);
    for (size_t i = 0; i < N; i += 3)
        assert_true(nodes[i].heap_pos == SIZE_MAX);
    int64_t last = INT64_MIN;
    size_t popped = 0;
    px__node *n;
    while ((n = px__heap_min(&h))) {
        assert_true(n->deadline >= last);
        last = n->deadline;
        assert_true((size_t)(n - nodes) % 3 != 0);
        px__heap_remove(&h, n);
        popped++;
    }
    assert_int_equal(popped, N - (N + 2) / 3);
    free(h.v);
    free(nodes);
}

static void test_key_index(void **state)
{
    (void)state;
    px__keymap m = {0};
    px__node node;
    for (uint64_t v = 0; v < 5000; v++) {
        px__kslot *s = px__key_insert(&m, v * 7919);
        assert_non_null(s);
        assert_true(px__vec_push(&s->nodes, &node));
    }
    for (uint64_t v = 0; v < 5000; v++) {
        px__kslot *s = px__key_find(&m, v * 7919);
        assert_non_null(s);
        assert_int_equal(s->nodes.n, 1);
        assert_null(px__key_find(&m, v * 7919 + 1));
    }
    px__kslot *s = px__key_insert(&m, 0); /* again: the same slot */
    assert_int_equal(s->nodes.n, 1);
    px__vec_remove(&s->nodes, &node);
    assert_int_equal(s->nodes.n, 0);
    px__keymap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_order_with_removals),
        cmocka_unit_test(test_key_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
