/* pktexpect: the predicate expression language and its registry of names.
 *
 * One small grammar, used by YAML scenarios and the command line, turns text into
 * predicate objects:
 *
 *     all_of(saw_dst_mac(ff:ff:ff:ff:ff:ff), saw_ipv4(dst=10.0.0.0/24, ttl=63))
 *     count(saw_udp(dport=53)) >= 2
 *     not(bpf("udp port 67"))
 *
 * docs/expressions.md gives the grammar (EBNF) and docs/predicates.md every
 * built-in name. Names are looked up in a px_registry: px_registry_new() gives
 * one filled with the built-ins, px_registry_add() adds user predicates written
 * in C (docs/writing-predicates.md), which YAML scenarios can then name. There is
 * no global registry: the caller owns each one.
 *
 * Everything is checked at parse time: syntax, unknown predicate or argument
 * names (the error lists the valid ones), argument types and ranges, and what
 * the constructors reject (e.g. a BPF filter that does not compile).
 *
 * Thread-safety: a registry may be read (px_expr_parse, find, get) from several
 * threads at once once it is no longer modified; px_registry_add needs exclusive
 * access. px_expr_parse itself keeps no state.
 */
#ifndef PKTEXPECT_EXPR_H
#define PKTEXPECT_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "predicate.h"
#include "predicates.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/** Value types of the language; a parameter accepts a mask of them. */
typedef enum px_expr_type {
    PX_EXPR_INT = 1u << 0,    /**< 42, 0x8100: 0 .. 2^63-1, or 0 .. 2^64-1 for a PX_EXPR_U64 parameter */
    PX_EXPR_BOOL = 1u << 1,   /**< true, false */
    PX_EXPR_STRING = 1u << 2, /**< "text" with \" \\ \n \t \xHH escapes */
    PX_EXPR_MAC = 1u << 3,    /**< 02:00:00:00:00:01 */
    PX_EXPR_IP = 1u << 4,     /**< 10.0.0.1, 10.0.0.0/8, 2001:db8::/32 */
    PX_EXPR_PRED = 1u << 5,   /**< a nested predicate call */
    PX_EXPR_FRAME = 1u << 6,  /**< a frame in the text form: Ether()/IPv4(ttl=63)/UDP() */
    PX_EXPR_NAME = 1u << 7,   /**< a bare dotted name: ipv4.ttl; also a mask range bits:96-111, bytes:12+2 */
    PX_EXPR_LIST = 1u << 8,   /**< [v, v, ...] whose items have the other types of the mask */
    PX_EXPR_EDIT = 1u << 9,   /**< a frame edit, kept as text: ipv4.ttl-=1, eth.src=02:00:00:00:00:02,
                                   +vlan(102), -vlan (px_frame_derive, include/pktexpect/build.h) */
} px_expr_type;

/** Parameter flags. */
enum {
    PX_EXPR_REQUIRED = 1u << 0,   /**< must be given */
    PX_EXPR_VARIADIC = 1u << 1,   /**< takes every remaining positional argument; its value is a LIST */
    PX_EXPR_NAMED_ONLY = 1u << 2, /**< only as name=value, never positional */
    PX_EXPR_U64 = 1u << 3,        /**< INT up to 2^64-1 (read with px_expr_arg_u64); min, max unused */
};

/** One parameter of a predicate name. */
typedef struct px_expr_param {
    const char *name;  /**< "vid" */
    unsigned types;    /**< mask of px_expr_type */
    unsigned flags;    /**< PX_EXPR_REQUIRED | ... */
    int64_t min, max;  /**< inclusive range of INT values; both 0 = any */
    const char *help;  /**< one line for docs and messages */
} px_expr_param;

/** A parsed argument value. Strings are NUL-terminated copies owned by the parser. */
typedef struct px_expr_value {
    px_expr_type type;
    unsigned column;              /**< 1-based column where it starts */
    int64_t i;                    /**< INT (INT64_MAX when u is larger); BOOL as 0 / 1 */
    uint64_t u;                   /**< INT as written, 0 .. 2^64-1 */
    uint8_t mac[6];               /**< MAC */
    px_ip_prefix ip;              /**< IP (len = 32 / 128 for a plain address) */
    char *str;                    /**< STRING (unescaped), FRAME (its text), NAME */
    size_t len;                   /**< bytes in str (a STRING may hold NUL bytes) */
    px_predicate *pred;           /**< PRED; owned by the parser until taken */
    struct px_expr_value *items;  /**< LIST */
    size_t nitems;
} px_expr_value;

struct px_expr_def;

/** The arguments handed to a factory: one slot per parameter, NULL when absent. */
typedef struct px_expr_args {
    const struct px_expr_def *def;
    px_expr_value **vals;
} px_expr_args;

/** Makes the predicate from checked arguments. Returns NULL with a message in
 *  errbuf (PX_ERRBUF_SIZE bytes) to reject them. Predicates it takes out of the
 *  arguments (px_expr_take_pred) are its own; the parser frees the rest. */
typedef px_predicate *(*px_expr_factory)(px_expr_args *args, void *user, char *errbuf);

/** A predicate name. The strings and params must outlive every registry holding it
 *  (normally static). */
typedef struct px_expr_def {
    const char *name;             /**< [a-z_][a-z0-9_]*, e.g. "saw_vlan_tag" */
    const char *summary;          /**< one line */
    const px_expr_param *params;
    size_t nparams;
    px_expr_factory factory;
    void *user;                   /**< passed to the factory */
} px_expr_def;

/** The argument named `name`, or NULL when absent (or no such parameter). Owned
 *  by the parser, valid during the factory call. */
px_expr_value *px_expr_arg(px_expr_args *args, const char *name);
/** Takes the predicate out of a PRED value (caller owns it); NULL when v is NULL. */
px_predicate *px_expr_take_pred(px_expr_value *v);
/** Convenience: the INT/BOOL argument `name`, or `dflt` when absent. */
int64_t px_expr_arg_int(px_expr_args *args, const char *name, int64_t dflt);
/** Convenience: the INT argument `name` of a PX_EXPR_U64 parameter, or `dflt`. */
uint64_t px_expr_arg_u64(px_expr_args *args, const char *name, uint64_t dflt);

typedef struct px_registry px_registry;

/** A registry holding every built-in name (docs/predicates.md). Caller frees with
 *  px_registry_free. NULL when out of memory. */
px_registry *px_registry_new(void);
/** A registry with no names at all. */
px_registry *px_registry_new_empty(void);
void px_registry_free(px_registry *reg);

/** Adds a name. Returns 0, PX_EEXIST when the name is taken, PX_EINVAL when the
 *  definition is malformed (bad name, no factory, a parameter without types, two
 *  VARIADIC parameters), with detail in errbuf (may be NULL). `def` is copied; what
 *  it points to is not. */
int px_registry_add(px_registry *reg, const px_expr_def *def, char *errbuf);

size_t px_registry_count(const px_registry *reg);
/** The i-th definition in name order, NULL when out of range; px_registry_find:
 *  the one named `name`, NULL when unknown. Both return the registry's copy, valid
 *  until the next px_registry_add (which may move it) or px_registry_free. */
const px_expr_def *px_registry_get(const px_registry *reg, size_t i);
const px_expr_def *px_registry_find(const px_registry *reg, const char *name);

/** Size of the message of a parse error (long enough for the list of names). */
#define PX_EXPR_ERROR_SIZE 2048

typedef struct px_expr_error {
    unsigned column;                   /**< 1-based column of the problem, 0 = none */
    char message[PX_EXPR_ERROR_SIZE];  /**< "col 5: unknown predicate 'saw_vlan'; ..." */
} px_expr_error;

/** Parses `text` into a new predicate (*out, caller owns it: px_expect takes it or
 *  px_predicate_free frees it). `reg` NULL means the built-ins only. Returns 0, or
 *  PX_EPARSE / PX_ERANGE / PX_EINVAL / PX_EBPF / PX_ENOMEM with *out = NULL and
 *  the column and message in err (may be NULL). */
int px_expr_parse(const px_registry *reg, const char *text, px_predicate **out, px_expr_error *err);

/** Appends the names of `reg`, comma-separated, to out (for messages). */
void px_registry_list_names(const px_registry *reg, px_buf *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
