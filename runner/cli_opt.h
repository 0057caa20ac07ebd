/* pktexpect runner: the one command-line option parser of every command
 * (run, validate, watch, check, send, replay, junit-merge).
 *
 * GNU conventions: options and operands may come in any order; `--` ends the
 * options (everything after it is an operand); `-` alone is an operand (standard
 * input); `--name=value` or `--name value`; `-x value`, `-xvalue`, and grouped
 * flags `-lv`. A long name may be abbreviated to any unambiguous prefix, as with
 * getopt_long. POSIXLY_CORRECT is ignored: a file name never ends the options.
 *
 * Each command describes its options in a table (px_cli_opt), which is also what
 * the documentation test compares docs/cli.md with (px_cli_commands()).
 *
 * Ownership: the parser keeps pointers into argv and reorders argv's slots (not
 * the strings) so that the operands end up, in their order, in px_cli_args.ops.
 * Thread-safety: a parser is used by one thread; no global state.
 */
#ifndef PX_RUNNER_CLI_OPT_H
#define PX_RUNNER_CLI_OPT_H

#include <stdbool.h>
#include <stddef.h>

#include "pktexpect/expr.h"
#include "pktexpect/runner.h"

typedef struct px_cli_opt {
    const char *lname; /**< long name without "--"; NULL ends a table */
    char sname;        /**< short letter, 0 when none */
    bool has_arg;      /**< takes a value */
    int id;            /**< what px_cli_next returns for it (aliases share an id) */
} px_cli_opt;

typedef struct px_cli_args {
    const char *cmd;          /**< "run", for messages: "pktexpect run: ..."; NULL: "pktexpect: ..." */
    int argc;
    char **argv;              /**< argv[0] is the command name */
    const px_cli_opt *opts;
    int i;                    /**< next argv slot to read */
    const char *group;        /**< rest of a group of short flags ("-lv"), or NULL */
    bool ended;               /**< seen "--" */
    char **ops;               /**< operands, valid after PX_CLI_END */
    int nops;
} px_cli_args;

enum { PX_CLI_END = -1, PX_CLI_ERROR = -2 };

/** Starts parsing argv[1..argc-1] of command `cmd` with option table `opts`. */
void px_cli_args_init(px_cli_args *a, const char *cmd, int argc, char **argv, const px_cli_opt *opts);

/** The next option: returns its id with *value its argument (NULL for a flag);
 *  PX_CLI_END when every argument was read (the operands are then in a->ops);
 *  PX_CLI_ERROR for an unknown or ambiguous option or a missing value, after
 *  printing "pktexpect CMD: ..." on stderr. */
int px_cli_next(px_cli_args *a, const char **value);

/** True when `filter` compiles as a BPF filter (libpcap syntax) for Ethernet;
 *  otherwise prints "pktexpect CMD: --bpf 'FILTER': why" on stderr. Commands
 *  check it before opening anything, so a bad filter is a usage error (exit 2). */
bool px_cli_bpf_ok(const char *cmd, const char *filter);

/** Room for a core port name "NETNS/IFNAME" (the core takes a namespace name
 *  of up to 63 characters and an interface name of up to 15), with its NUL. */
#define PX_CLI_PORT_NAME_MAX 80

typedef struct px_cli_port_name {
    char s[PX_CLI_PORT_NAME_MAX];
} px_cli_port_name;

/** `-n, --netns NETNS` of watch, send and replay: the ports become the core's
 *  names of interfaces inside a namespace, out[i] = "NETNS/ports[i]" (written
 *  into names[i]; a NULL item stays NULL); without netns, out[i] = ports[i].
 *  The library then opens every socket in the namespace itself (no command
 *  enters it). The namespace is checked first, before anything is opened: an
 *  invalid name prints "pktexpect CMD: invalid namespace name 'NETNS'" and
 *  returns 2, a missing namespace "pktexpect CMD: namespace 'NETNS': does not
 *  exist" and returns 3 (PX_EXIT_INVALID, PX_EXIT_ENV); 0 when out is filled. */
int px_cli_netns_ports(const char *cmd, const char *netns, const char *const *ports, size_t n,
                       px_cli_port_name *names, const char **out);

/** Most `--plugin` options of one command line. */
#define PX_CLI_PLUGINS_MAX 64

/** The predicate names of a command: the built-ins plus the plugins of its
 *  `--plugin FILE.so` options (run, validate, watch, check). */
typedef struct px_cli_names {
    const char *plugins[PX_CLI_PLUGINS_MAX]; /**< the options' values (pointers into argv) */
    size_t nplugins;
    px_registry *reg;                        /**< after px_cli_names_load: the names to parse with */
    px_plugins *pl;
} px_cli_names;

/** Records one `--plugin` value; false (after "pktexpect CMD: at most 64
 *  --plugin options" on stderr) when there are too many. */
bool px_cli_names_add(px_cli_names *n, const char *cmd, const char *path);

/** Makes n->reg: the built-ins, then each plugin in the order given. Returns 0,
 *  or prints "pktexpect CMD: plugin 'FILE': why" on stderr and returns
 *  PX_EXIT_INVALID (PX_EXIT_ENV when out of memory). Free with
 *  px_cli_names_free in both cases. */
int px_cli_names_load(px_cli_names *n, const char *cmd);

/** Frees the registry, then unloads the plugins (their names live in them). */
void px_cli_names_free(px_cli_names *n);

/** A command and its option table, for the documentation test. */
typedef struct px_cli_command {
    const char *name; /**< "run"; "pktexpect" for the options before a command */
    const px_cli_opt *opts;
} px_cli_command;

/** Every command of `pktexpect`, ended by {NULL, NULL}. */
const px_cli_command *px_cli_commands(void);

#endif
