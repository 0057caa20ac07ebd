/* Plugins that cannot be loaded, for the tests of the loader's errors
 * (tests/unit/test_plugin.c), built by CMake as MODULE libraries from this one
 * file (the working plugin is ethertype_range.c):
 *
 *   px_test_plugin_fail     its px_plugin_init fails, with a message
 *   px_test_plugin_clash    registers saw_udp, a built-in's name
 *   px_test_plugin_noinit   has no px_plugin_init
 *   px_test_plugin_abi      declares another plugin ABI
 */
#include <stdio.h>
#include <stdlib.h>

#include <pktexpect/expr.h>
#include <pktexpect/plugin.h>
#include <pktexpect/predicates.h>

#ifdef PX_TEST_PLUGIN_ABI
const unsigned px_plugin_abi = PX_PLUGIN_ABI + 1000;
#else
PX_PLUGIN_DECLARE_ABI;
#endif

#ifndef PX_TEST_PLUGIN_NOINIT
static px_predicate *any_factory(px_expr_args *args, void *user, char *errbuf)
{
    (void)args, (void)user, (void)errbuf;
    return px_received_packet();
}

static const px_expr_def clash_def = {.name = "saw_udp", .summary = "a built-in's name", .factory = any_factory};

int px_plugin_init(px_registry *reg, char *errbuf)
{
#ifdef PX_TEST_PLUGIN_FAIL
    (void)reg, (void)clash_def;
    snprintf(errbuf, PX_ERRBUF_SIZE, "the test plugin refuses to load");
    return PX_EINVAL;
#else
    return px_registry_add(reg, &clash_def, errbuf);
#endif
}
#endif
