/* pktexpect runner: internals shared by the scenario loader's files. Not a
 * public header: only runner/scenario_*.c and their unit test include it.
 *
 *   scenario_load.c    reading: bounded files, includes, nesting depth, the
 *                      loader's helpers (errors, arrays), loading and freeing
 *   scenario_vars.c    ${var} expansion and ${var:q} shell quoting
 *   scenario_schema.c  the generic walker, typed getters, topology/ports/defaults/command
 *                      tables, the list of all tables (px__scn_schema)
 *   scenario_steps.c   tests and steps tables (and the hex bytes of `send: hex`)
 *   scenario_check.c   cross checks: namespaces, interfaces, ports, filters, pcaps
 *
 * A mapping of the schema is a px__scn_policy: a table of px__scn_field
 * {key, type, offset, flags, range, handler}, read by px__scn_walk() in the
 * spirit of the kernel's nla_policy. Unknown, duplicate and non-scalar keys,
 * missing required keys, types and ranges are all checked there; handlers
 * do only what a table cannot say (one-of keys, lists of sub-mappings,
 * checks against the rest of the scenario). Fields are processed in table
 * order, which is also the order of the keys listed in messages.
 *
 * Thread-safety: none (one loader per load call). */
#ifndef PX_RUNNER_SCENARIO_INT_H
#define PX_RUNNER_SCENARIO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <yaml.h>

#include "scenario.h"

#define MAX_ERRORS 50
#define MAX_FILE_BYTES (4u << 20)
/* The scenario and all its includes together: includes may repeat a file
 * (diamonds), and each repetition is read and parsed again. */
#define MAX_TOTAL_BYTES (16u << 20)
#define MAX_INCLUDE_DEPTH 8
/* Files loaded in all (the scenario and every include, a file included twice
 * counted twice): bounds a tree of includes that fans out at each level. */
#define MAX_INCLUDED_FILES 256
/* Nesting of YAML collections. libyaml's scanner is quadratic in the nesting
 * depth (every token walks the stack of possible simple keys), so depth is
 * checked with a token scan that stops as soon as it is exceeded. */
#define MAX_NESTING 64
/* One scalar after ${var} expansion, and all expansions of a scenario together. */
#define MAX_EXPANDED_BYTES (64u << 10)
#define MAX_EXPANDED_TOTAL (16u << 20)
/* Variables whose values use variables: how deep the chain may go, and how many
 * references inside values a whole scenario may expand (empty values expand to
 * nothing, so the byte bounds alone would not bound the work). */
#define MAX_VAR_DEPTH 16
#define MAX_VAR_REFS (1u << 20)
/* A frame to send: the snap length every capture uses. */
#define MAX_FRAME_BYTES 65535
/* Names from the file quoted in messages (keys, step kinds): never more than
 * this many characters, printable only, so a wrong include cannot echo a file. */
#define MAX_QUOTED_NAME 32
/* Aliases can make a small document expand hugely; bound the nodes visited. */
#define NODE_BUDGET 100000
#define IFNAME_MAX 15
#define DEFAULT_TIMEOUT_MS 1000
#define MAX_TEST_PORTS 64

typedef struct px__scn_doc {
    yaml_document_t d;
    const char *file; /* in the scenario's pool */
    bool top;
} doc;

typedef struct px__scn_var {
    char *name, *value;
} var;

typedef struct px__scn_loader {
    px_scenario *s;
    px_buf *errs;
    int nerrs;
    bool oom;
    bool grow_failed;
    bool budget_hit;
    long budget;
    size_t bytes_read;      /* all files read, against MAX_TOTAL_BYTES */
    size_t expanded_total;  /* all ${var} expansions, against MAX_EXPANDED_TOTAL */
    size_t var_refs;        /* references expanded inside variables' values, against MAX_VAR_REFS */
    const px_scn_checkers *chk;
    var *vars;
    size_t nvars;
    doc *docs;
    size_t ndocs;
    /* implicit ports with an ambiguous name (same interface name in two namespaces) */
    char **ambiguous;
    size_t nambiguous;
} loader;

/* Identity of a file read: includes are compared by device and inode, not by
 * the spelling of their path ("f.yaml", "./f.yaml", "d/../f.yaml"). */
typedef struct px__scn_file_id {
    dev_t dev;
    ino_t ino;
} file_id;

/* ------------------------------------------------ scenario_load.c: helpers */

/* Makes room for element n (zeroed) of an array grown by doubling; on failure
 * returns `arr` unchanged and sets L->grow_failed (and L->oom). Used through
 * PUSH, which yields the new slot or NULL. */
void *px__scn_grow(void *arr, size_t n, size_t size, loader *L);
#define PUSH(L, arr, n) \
    ((arr) = px__scn_grow((arr), (n), sizeof *(arr), (L)), (L)->grow_failed ? NULL : &(arr)[(n)++])

char *px__scn_strdup(loader *L, const char *s);
void px__scn_err_at(loader *L, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void px__scn_err_node(loader *L, const doc *d, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
px_scn_pos px__scn_pos_of(const doc *d, const yaml_node_t *n);
yaml_node_t *px__scn_node(doc *d, int index);
/* Every node visit costs one unit of the budget; false once exhausted. */
bool px__scn_spend(loader *L, const doc *d, const yaml_node_t *n);
const char *px__scn_kind_name(const yaml_node_t *n);
const char *px__scn_scalar(const yaml_node_t *n);
bool px__scn_is_null(const yaml_node_t *n);
/* A name from the file fit to quote in a message (see MAX_QUOTED_NAME). */
const char *px__scn_quoted_name(const char *s, char out[MAX_QUOTED_NAME + 4]);
/* Opens a regular file without blocking; -1 with *why otherwise. */
int px__scn_open_regular(const char *path, struct stat *st, const char **why);
ssize_t px__scn_read_upto(int fd, void *buf, size_t max);
void px__scn_free_strs(char **v, size_t n);

/* ------------------------------------------------------- scenario_vars.c */

var *px__scn_var_find(loader *L, const char *name, size_t len);
void px__scn_var_set(loader *L, const char *name, const char *value);
bool px__scn_var_name_ok(const char *s, size_t len);
/* Expands ${name}, ${name:q} and $${ in a scalar: a new string, or NULL after
 * an error. *changed (may be NULL) tells whether anything was replaced. */
char *px__scn_expand(loader *L, const doc *d, const yaml_node_t *n, bool *changed);

/* ------------------------------------------- scenario_schema.c: the walker */

typedef enum px__scn_type {
    PX__SCN_NODE,     /* collected only (vals[i]): a handler or the caller reads it */
    PX__SCN_STR,      /* char *, ${var} expanded */
    PX__SCN_NONEMPTY, /* char *, not "" */
    PX__SCN_IFNAME,   /* char *, an interface name */
    PX__SCN_NSNAME,   /* char *, a namespace name */
    PX__SCN_PORTIF,   /* char *, a port's interface: an interface name or a bmv2: port */
    PX__SCN_U32,      /* integer in [min, max], stored as uint16_t, uint32_t or int (by size) */
    PX__SCN_BOOL,     /* bool */
    PX__SCN_DURATION, /* uint32_t milliseconds */
} px__scn_type;

enum {
    PX__SCN_REQUIRED = 1 << 0,  /* missing: "<what> is missing '<key>'" */
    PX__SCN_ESSENTIAL = 1 << 1, /* missing or invalid: the walk stops (the entry is dropped) */
    PX__SCN_ALWAYS = 1 << 2,    /* the handler runs even when the key is absent */
};

struct px__scn_walk;
struct px__scn_field;
/* A handler: runs after the field's value (if typed) was decoded; v is NULL
 * when the key is absent (PX__SCN_ALWAYS). Returns false when the value is
 * invalid (for PX__SCN_ESSENTIAL). */
typedef bool (*px__scn_fn)(struct px__scn_walk *w, const struct px__scn_field *f, yaml_node_t *v);

typedef struct px__scn_field {
    const char *key;
    px__scn_type type;
    size_t offset, size; /* the member of the walked object (FIELD()) */
    unsigned flags;
    uint32_t min, max;   /* PX__SCN_U32 */
    const char *what;    /* name in messages when not the key */
    px__scn_fn fn;
} px__scn_field;

/* The member a typed field is stored in: {.key = "mtu", .type = PX__SCN_U32, AT(px_scn_veth, mtu), ...}. */
#define AT(type, member) .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

typedef struct px__scn_policy {
    const char *what;                /* "a veth": in "unknown key 'x' in a veth" */
    const px__scn_field *fields;
    size_t nfields;
    bool required_first;             /* check all required keys (stop at the first
                                        missing) before decoding any */
} px__scn_policy;

#define POLICY(what, fields) {(what), (fields), sizeof(fields) / sizeof((fields)[0]), false}

/* One walk of one mapping. */
typedef struct px__scn_walk {
    loader *L;
    doc *d;
    const px__scn_policy *pol;
    yaml_node_t *map;
    yaml_node_t **vals; /* parallel to the policy's fields */
    void *obj;
    void *arg;          /* the handler's context */
} px__scn_walk;

/* Collects the keys of mapping n into vals[] (parallel to the policy's fields):
 * reports non-scalar, unknown and duplicate keys. False if n is not a mapping. */
bool px__scn_keys(loader *L, doc *d, yaml_node_t *n, const px__scn_policy *pol, yaml_node_t **vals);
/* Then each field in table order: missing required keys, typed values stored
 * in obj, handlers. Returns false if an essential field is missing or invalid
 * (or the node budget ran out). */
bool px__scn_walk_fields(loader *L, doc *d, yaml_node_t *n, const px__scn_policy *pol, void *obj, void *arg,
                         yaml_node_t **vals);
/* Both: the usual way to read a mapping (vals: room for the policy's fields). */
bool px__scn_walk_map(loader *L, doc *d, yaml_node_t *n, const px__scn_policy *pol, void *obj, void *arg,
                      yaml_node_t **vals);
/* Decodes one typed field's value into obj (when the caller needs its own order). */
bool px__scn_decode(loader *L, doc *d, yaml_node_t *v, const px__scn_field *f, void *obj);
void px__scn_missing(loader *L, const doc *d, const yaml_node_t *n, const char *what, const char *key);

/* Typed getters (all expand variables; NULL/false after an error). */
bool px__scn_want_type(loader *L, const doc *d, const yaml_node_t *n, yaml_node_type_t t, const char *what);
char *px__scn_get_str(loader *L, const doc *d, const yaml_node_t *n, const char *what);
char *px__scn_get_nonempty(loader *L, const doc *d, const yaml_node_t *n, const char *what);
char *px__scn_get_ifname(loader *L, const doc *d, const yaml_node_t *n, const char *what);
char *px__scn_get_nsname(loader *L, const doc *d, const yaml_node_t *n, const char *what);
bool px__scn_get_u32(loader *L, const doc *d, const yaml_node_t *n, const char *what, uint32_t min, uint32_t max,
                     uint32_t *out);
bool px__scn_get_bool(loader *L, const doc *d, const yaml_node_t *n, const char *what, bool *out);
bool px__scn_get_duration(loader *L, const doc *d, const yaml_node_t *n, const char *what, uint32_t *out);
/* A scalar or a list of scalars, each read with `get`. */
bool px__scn_get_str_list(loader *L, doc *d, yaml_node_t *n, const char *what,
                          char *(*get)(loader *, const doc *, const yaml_node_t *, const char *), char ***out,
                          size_t *nout);

/* The mappings of the schema, each file's own: the scenario's top level and an
 * included file's (scenario_load.c), tests and steps (scenario_steps.c). */
extern const px__scn_policy px__scn_top_policy, px__scn_include_policy;
extern const px__scn_policy px__scn_test_policy, px__scn_expect_policy, px__scn_send_policy;
extern const px__scn_policy px__scn_vlan_push_policy, px__scn_cli_policy;
extern const px__scn_policy px__scn_verify_policy, px__scn_verify_none_policy, px__scn_no_other_policy;

/* Steps on `port: p`, `any: [...]` or `each: [...]` (scenario_steps.c): their
 * field tables start with these four, and the `port` field's handler is
 * px__scn_any_each (it reads the other three; `ports` is refused with a hint). */
enum { PX__SCN_P_PORT, PX__SCN_P_ANY, PX__SCN_P_EACH, PX__SCN_P_PORTS };
bool px__scn_any_each(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v);
/* Reads a port list (a name or a list) into st->ports, each checked at its item. */
void px__scn_read_ports(px__scn_walk *w, yaml_node_t *pn, const char *key);
/* The verify steps (scenario_verify.c), read like get_expect. */
void px__scn_get_verify(loader *L, doc *d, yaml_node_t *e, px_scn_test *t, px_step *st);
void px__scn_get_verify_none(loader *L, doc *d, yaml_node_t *e, px_scn_test *t, px_step *st);
void px__scn_get_no_other(loader *L, doc *d, yaml_node_t *e, px_scn_test *t, px_step *st);
/* All of them (scenario_schema.c), NULL-terminated: what a scenario may say, in
 * one place (tests check docs/scenarios.md against it). */
extern const px__scn_policy *const px__scn_schema[];

/* The scenario's sections (top-level keys). */
void px__scn_get_topology(loader *L, doc *d, yaml_node_t *n);
void px__scn_get_ports(loader *L, doc *d, yaml_node_t *n);
void px__scn_get_defaults(loader *L, doc *d, yaml_node_t *n);
/* A shell command (a string or a mapping with run, netns[, exit], timeout). */
bool px__scn_get_cmd(loader *L, doc *d, yaml_node_t *n, const char *what, bool allow_exit, px_scn_cmd *c);

/* ------------------------------------------------------ scenario_steps.c */

void px__scn_get_test(loader *L, doc *d, yaml_node_t *n);

/* ------------------------------------------------------ scenario_check.c */

bool px__scn_streq_null(const char *a, const char *b);
/* Reports a namespace that topology.namespaces does not declare. */
void px__scn_check_ns(loader *L, const doc *d, const yaml_node_t *n, const char *ns);
/* Is there an interface `name` the topology creates in namespace `ns`? */
bool px__scn_topo_has_if(const px_scenario *s, const char *name, const char *ns, bool bridges_too);
void px__scn_implicit_ports(loader *L);
void px__scn_add_port(loader *L, const char *name, const char *ifname, const char *ns, px_scn_pos pos);
void px__scn_check_port_ref(loader *L, const doc *d, const yaml_node_t *n, const char *name);
void px__scn_check_filter(loader *L, const doc *d, const yaml_node_t *n, const char *filter);
void px__scn_check_pcap(loader *L, const doc *d, const yaml_node_t *n, const char *path);
/* Reports a checker's "col N: reason" at the right column of the scalar when it can. */
void px__scn_err_checker(loader *L, const doc *d, const yaml_node_t *n, bool changed, const char *what,
                         const char *msg);
/* One test uses at most MAX_TEST_PORTS ports. */
void px__scn_check_test_ports(loader *L, const doc *d, const yaml_node_t *at, const px_scn_test *t);

#endif
