/* pktexpect runner: STF table statements translated into BMv2 CLI commands,
 * with the names resolved against the program's BMv2 JSON (docs/stf.md).
 *
 *   add T [PRIO] K:V ... A(P:V, ...)  ->  table_add T' A' V... => V... [PRIO]
 *   setdefault T A(P:V, ...)          ->  table_set_default T' A' V...
 *
 * T' is the table of `pipelines[].tables[]` whose name is T or ends with ".T"
 * (or T ends with "." and its name); A' the action of that table (its
 * `action_ids` in `actions[]`) found the same way; keys are matched against the
 * table's `key[]` (by `name`, or `target` joined with '.', the same suffix rule)
 * and written in the JSON's order; parameters by the action's `runtime_data`
 * names, in its order. Values: decimal, 0x hex or 0b binary; per match kind
 *   exact     V
 *   lpm       V/LEN, or hex with trailing '*' nibbles, or V (full length)
 *   ternary   V&&&MASK, or hex with '*' nibbles, or V (all bits)
 *   range     LO->HI, or V (LO = HI = V)
 *   optional  V
 * A table with a ternary, range or optional key needs a priority. Multicast
 * and mirroring statements (PX_STF_TARGET) are passed on as written.
 *
 * Ownership: a px_p4json owns the parsed document; free it with px_p4json_free.
 * Thread-safety: a loaded px_p4json is read-only and may be shared.
 */
#ifndef PX_RUNNER_STF_P4_H
#define PX_RUNNER_STF_P4_H

#include "pktexpect/buf.h"
#include "stf.h"

/** Most bytes of a BMv2 JSON file read. */
#define PX_P4JSON_FILE_MAX (64u << 20)

typedef struct px_p4json px_p4json;

/** Parses a BMv2 JSON document (`name` in messages). 0 and *out, or PX_EPARSE /
 *  PX_ENOMEM with "NAME:LINE:COL: why" in err. */
int px_p4json_parse(const char *name, const char *text, size_t len, px_p4json **out, px_buf *err);
/** Reads and parses a file: also PX_EIO. */
int px_p4json_load(const char *path, px_p4json **out, px_buf *err);
void px_p4json_free(px_p4json *p);

/** Appends the CLI command of statement `st` of `stf` (add, setdefault or a
 *  PX_STF_TARGET command; `p` may be NULL for the last) and a newline to `cmd`. 0, or PX_EPARSE with "FILE:LINE:COL: why" in err. */
int px_stf_translate(const px_p4json *p, const px_stf *stf, const px_stf_stmt *st, px_buf *cmd, px_buf *err);

#endif
