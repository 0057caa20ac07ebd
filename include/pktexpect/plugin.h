/* pktexpect: the contract of a predicate plugin.
 *
 * A plugin is a shared object that adds predicate names to the registry the
 * runner parses with, so that YAML scenarios and the command line can use them
 * like built-ins (`pktexpect run --plugin ./libmine.so`, docs/writing-predicates.md).
 * It exports two symbols, both declared here so the compiler checks them:
 *
 *     PX_PLUGIN_DECLARE_ABI;                      // px_plugin_abi = PX_PLUGIN_ABI
 *     int px_plugin_init(px_registry *reg, char *errbuf)
 *     {
 *         return px_registry_add(reg, &my_def, errbuf);
 *     }
 *
 * The loader (px_plugins_load, pktexpect/runner.h) refuses a plugin whose
 * px_plugin_abi differs from its own PX_PLUGIN_ABI: the layouts a plugin
 * shares with the library (px_expr_def, px_expr_param, px_expr_value,
 * px_predicate_ops) changed, and the plugin must be rebuilt. PX_PLUGIN_ABI
 * grows with every such change, whatever the library's version says.
 *
 * px_plugin_init is called once, on the loading thread, with a registry of
 * its own (empty): it adds its names with px_registry_add and returns 0, or a
 * negative PX_E* code with a message in errbuf (PX_ERRBUF_SIZE bytes). The
 * loader then moves the names into the caller's registry, refusing a name that
 * a built-in or another plugin already has. The definitions (names, params,
 * `user`) must stay valid until the plugin is unloaded: make them static.
 * Predicates the factories make are freed by the harness with their ops'
 * destroy; the plugin stays loaded until every registry using it is freed.
 */
#ifndef PKTEXPECT_PLUGIN_H
#define PKTEXPECT_PLUGIN_H

#include "expr.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The plugin interface version this header describes (2: px_frame gained `ethertype`). */
#define PX_PLUGIN_ABI 2u

/** Names of the two symbols a plugin exports (for dlsym). */
#define PX_PLUGIN_ABI_SYMBOL "px_plugin_abi"
#define PX_PLUGIN_INIT_SYMBOL "px_plugin_init"

/* Exported from the plugin, whatever visibility it is built with. */
#pragma GCC visibility push(default)

/** The interface version the plugin was built against: define it with
 *  PX_PLUGIN_DECLARE_ABI. */
extern const unsigned px_plugin_abi;

/** Adds the plugin's predicate names to `reg` (px_registry_add). Returns 0, or
 *  a negative PX_E* with the reason in errbuf. */
int px_plugin_init(px_registry *reg, char *errbuf);

#pragma GCC visibility pop

/** Defines px_plugin_abi in the plugin's source (once, at file scope). */
#define PX_PLUGIN_DECLARE_ABI const unsigned px_plugin_abi = PX_PLUGIN_ABI

/** The type of px_plugin_init, for loaders. */
typedef int px_plugin_init_fn(px_registry *reg, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
