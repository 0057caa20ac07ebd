/* pktexpect runner: p4c's simple test format (STF), the subset `pktexpect stf`
 * runs (docs/stf.md).
 *
 * px_stf_parse() reads an STF text into statements:
 *   packet PORT HEX                      a frame to send on PORT
 *   expect PORT [HEX]                    a frame PORT must emit: `*` is a nibble
 *                                        that may be anything, a final `$` asks
 *                                        for that exact length (else a prefix)
 *   wait                                 a pause before the next statement
 *   add TABLE [PRIO] KEY:VALUE ... ACTION(PARAM:VALUE, ...)
 *   setdefault TABLE ACTION(PARAM:VALUE, ...)
 *   mirroring_add SESSION PORT, mirroring_add_mc SESSION GROUP,
 *   mc_mgrp_create GROUP, mc_node_create RID PORT..., mc_node_associate GROUP NODE
 *                                        BMv2 CLI commands, kept as written
 * with `#` comments to the end of a line. Every other command of p4c (remove,
 * check_counter, ...) is an error "unsupported STF command 'X'". Errors are
 * lines "FILE:LINE:COL: what".
 *
 * Inputs are bounded: a file up to PX_STF_FILE_MAX bytes (a regular file,
 * opened without blocking), PX_STF_STMTS_MAX statements, frames up to 65535
 * bytes, PX_STF_KEYS_MAX keys or parameters per statement.
 *
 * Ownership: a parsed px_stf owns everything in it; px_stf_free frees it.
 * Thread-safety: none needed; a parsed px_stf is read-only.
 */
#ifndef PX_RUNNER_STF_H
#define PX_RUNNER_STF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pktexpect/buf.h"

#define PX_STF_FILE_MAX (4u << 20)
#define PX_STF_STMTS_MAX 100000
#define PX_STF_KEYS_MAX 64
#define PX_STF_FRAME_MAX 65535

typedef enum px_stf_kind {
    PX_STF_PACKET,
    PX_STF_EXPECT,
    PX_STF_WAIT,
    PX_STF_ADD,
    PX_STF_SETDEFAULT,
    PX_STF_TARGET, /**< a multicast or mirroring command for the target's CLI as written (in `table`) */
} px_stf_kind;

/** NAME:VALUE of a key or an action parameter, with the column of NAME. */
typedef struct px_stf_kv {
    char *name;
    char *value;
    int col;
} px_stf_kv;

typedef struct px_stf_stmt {
    px_stf_kind kind;
    int line, col;         /**< of the command word (1-based) */
    /* packet, expect */
    unsigned port;
    uint8_t *bytes;        /**< packet: the frame */
    size_t nbytes;
    uint8_t *nibbles;      /**< expect: one nibble (0..15) per entry */
    uint8_t *care;         /**< expect: 1 where the nibble must match, 0 for `*` */
    size_t nnibbles;
    bool exact;            /**< expect: `$` given */
    /* add, setdefault */
    char *table;
    int table_col;
    long priority;         /**< add: -1 when none given */
    px_stf_kv *keys;
    size_t nkeys;
    char *action;
    int action_col;
    px_stf_kv *args;
    size_t nargs;
} px_stf_stmt;

typedef struct px_stf {
    char *file;            /**< name used in messages */
    px_stf_stmt *s;
    size_t n;
} px_stf;

/** Parses `len` bytes of `text`, named `file` in messages. Returns 0 and *out,
 *  PX_EPARSE with one line per error appended to `errors` (at most 20), or
 *  PX_ENOMEM. */
int px_stf_parse(const char *file, const char *text, size_t len, px_stf **out, px_buf *errors);
/** Reads and parses the file `path`: also PX_EIO (unreadable, not a regular
 *  file, larger than PX_STF_FILE_MAX) with the reason in `errors`. */
int px_stf_load(const char *path, px_stf **out, px_buf *errors);
void px_stf_free(px_stf *s);

/** Reads the regular file `path` (opened without blocking) of at most `max`
 *  bytes into a new NUL-terminated buffer (caller frees). Returns 0, PX_EIO with
 *  "PATH: why" in `errors`, or PX_ENOMEM. (Also the reader of the BMv2 JSON and
 *  of a cli step's input_file.) */
int px__read_file_bounded(const char *path, size_t max, char **text, size_t *len, px_buf *errors);

/** True when frame `data` (len bytes) matches expect statement `e`. Otherwise
 *  false with *first_diff the index of the first differing byte (len or the
 *  expected length when only the lengths differ). */
bool px_stf_match(const px_stf_stmt *e, const uint8_t *data, size_t len, size_t *first_diff);

#endif
