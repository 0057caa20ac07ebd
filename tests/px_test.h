/* Helpers shared by pktexpect's own tests (not installed).
 *
 * One rule for what a test does when something it needs is missing (root,
 * tshark, Open vSwitch): in CI (px_cmocka_ci: CI set, non-empty, not "0", not
 * "false") it fails; elsewhere it skips with exit 77 and a message that says
 * why. Every test goes through px_test_require_root or px_test_unavailable,
 * which are the installed px_cmocka_require_root / px_cmocka_unavailable.
 */
#ifndef PX_TEST_H
#define PX_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pktexpect/cmocka.h"

#define PX_TEST_SKIP 77

/** Something the test needs is missing: exits 1 with "FAIL: <in_ci>" when CI
 *  is set, else 77 with "SKIP: <elsewhere>" (px_cmocka_unavailable). */
static inline void px_test_unavailable(const char *in_ci, const char *elsewhere)
{
    px_cmocka_unavailable(in_ci, elsewhere);
}

/** Exits 77 (skip) or 1 (CI) when the process cannot create interfaces. */
static inline void px_test_require_root(const char *what)
{
    px_cmocka_require_root(what);
}

/** Writes a short interface name unique to this process: "<prefix><pid%100000><suffix>". */
static inline void px_test_ifname(char out[16], const char *prefix, const char *suffix)
{
    px_topo_name(out, prefix, suffix); /* the form px_topo_reap_links knows */
}

#endif
