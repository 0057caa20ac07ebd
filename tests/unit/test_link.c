/* The one link-ready wait (harness/link.h) of the capture source, the sender
 * and the topology. Unprivileged: reading links over rtnetlink needs no
 * capability; the loopback interface is up, running and has a qdisc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <time.h>

#include "link.h"
#include "pktexpect/topology.h"

static void test_ready_link(void **state)
{
    (void)state;
    if (!px_topo_link_ready(NULL, "lo"))
        skip(); /* a sandbox whose loopback is down or hidden: nothing to wait for */
    assert_true(px__link_wait_ready(NULL, "lo", 5000000000ull, NULL));
    assert_true(px__link_wait_ready("", "lo", 5000000000ull, NULL)); /* "" = the caller's namespace */
}

static void test_missing_link_times_out(void **state)
{
    (void)state;
    time_t t0 = time(NULL);
    assert_false(px__link_wait_ready(NULL, "pxnosuchlnk0", 50000000ull, NULL));
    assert_true(time(NULL) - t0 < 30); /* bounded: a safety net, not a timing claim */
}

static void test_stop_flag(void **state)
{
    (void)state;
    _Atomic bool stop = true;
    time_t t0 = time(NULL);
    /* a day's timeout: only the stop flag can end this */
    assert_false(px__link_wait_ready(NULL, "pxnosuchlnk0", 86400ull * 1000000000ull, &stop));
    assert_true(time(NULL) - t0 < 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ready_link),
        cmocka_unit_test(test_missing_link_times_out),
        cmocka_unit_test(test_stop_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
