/* pktexpect runner: scenario files (YAML) loaded into plain structs.
 *
 * px_scenario_load() reads a scenario file with libyaml, follows its includes,
 * expands ${variables} and checks everything that can be checked without touching
 * the machine: unknown keys, wrong types, missing fields, durations, interface and
 * namespace names, ports that no topology or `ports:` entry declares, waits on
 * unknown expectations, BPF filters, pcap files, and (through px_scn_checkers)
 * predicate expressions and frames that do not parse. Every node keeps its
 * file:line:column, and every error is one line "FILE:LINE:COL: what was
 * expected". The schema is in docs/scenarios.md.
 *
 * Inputs are bounded (docs/scenarios.md, "Limits"): only regular files are
 * opened (without blocking) and read, each up to 4 MiB and 16 MiB with all
 * includes; includes are told apart by device and inode; nesting, expanded
 * ${variables}, filters and frames are bounded before the costly step sees
 * them; messages quote at most 32 printable characters of a name from a file.
 * ${name:q} expands to the value quoted for /bin/sh.
 *
 * Ownership: a loaded px_scenario owns all its strings and arrays; free it with
 * px_scenario_free(). Thread-safety: none needed (a scenario is not shared while
 * loading); a loaded scenario is read-only and may be read from any thread.
 */
#ifndef PX_RUNNER_SCENARIO_H
#define PX_RUNNER_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pktexpect/buf.h"
#include "pktexpect/error.h"

/** A place in a scenario file: file name (owned by the scenario), 1-based line and column. */
typedef struct px_scn_pos {
    const char *file;
    int line;
    int col;
} px_scn_pos;

typedef enum px_step_kind {
    PX_STEP_EXPECT,
    PX_STEP_SEND,
    PX_STEP_WAIT,
    PX_STEP_SLEEP,
    PX_STEP_EXEC,
    PX_STEP_CLI,
    PX_STEP_VERIFY,        /**< verify: a frame since the test's mark (pktexpect/verify.h) */
    PX_STEP_VERIFY_NONE,   /**< verify_no_packet */
    PX_STEP_NO_OTHER,      /**< no_other_packets */
} px_step_kind;

/** A shell command of `setup:`, `teardown:` or an `exec` step. */
typedef struct px_scn_cmd {
    char *run;            /**< /bin/sh -c text */
    char *netns;          /**< namespace to run it in, NULL = the runner's */
    int exit_code;        /**< expected exit status (exec steps; setup/teardown expect 0) */
    uint32_t timeout_ms;  /**< 0 = the default (60 s) */
    px_scn_pos pos;
} px_scn_cmd;

struct px_predicate;

typedef struct px_step {
    px_step_kind kind;
    px_scn_pos pos;
    /* expect, send */
    char **ports;
    size_t nports;
    /* expect: `each: [...]` (one expectation per port, every one must PASS);
     * false: `port: p` or `any: [...]` (one expectation over all the ports) */
    bool each;
    /* expect */
    char *name;           /**< NULL: unnamed (waited with `wait: all` or at the end) */
    char *predicate;      /**< expression text */
    px_scn_pos predicate_pos;
    uint32_t timeout_ms;  /**< 0 = the scenario default */
    uint32_t count;       /**< 0 = unlimited */
    char *filter;         /**< BPF, NULL = none */
    int noise_filter;     /**< -1 = scenario default, 0 off, 1 on */
    /** Expect steps a program builds (`pktexpect stf`) instead of a file: makes
     *  the predicate (NULL: out of memory) from make_arg (the builder's, not freed
     *  with the scenario); `predicate` is then only its label. NULL in loaded
     *  scenarios. */
    struct px_predicate *(*make_predicate)(void *make_arg);
    void *make_arg;
    /* send: exactly one of frame, hex, pcap */
    char *frame;          /**< text form */
    px_scn_pos frame_pos;
    uint8_t *bytes;       /**< frame or hex, built during validation (owned) */
    size_t nbytes;
    char *pcap;           /**< path, already resolved relative to the scenario file */
    uint32_t send_count;  /**< >= 1 */
    double rate_pps;      /**< 0 = as fast as possible */
    int vlan;             /**< -1 = none; else a tag with this VID is pushed */
    uint8_t vlan_pcp;     /**< its priority, 0..7 */
    uint16_t vlan_tpid;   /**< its TPID; 0 = 0x8100 */
    /* wait */
    char **names;         /**< expectations to wait for; NULL with wait_all */
    size_t nnames;
    bool wait_all;
    /* sleep */
    uint32_t sleep_ms;
    /* exec, cli */
    px_scn_cmd cmd;
    /* verify, verify_no_packet: the expected frame (text form or hex) is `frame`
     * (NULL for verify_no_packet without one: no frame at all); px_verify_opts */
    char *set;            /**< edits deriving the expected frame, NULL = none */
    char *ignore;         /**< mask, matches() syntax, NULL = none */
    bool allow_padding;
    /* no_other_packets: `also` ports are in ports, `except` ports in names */
    /* cli: the batch is `input` or the file `input_file` (resolved relative to the
     * scenario file, read when the step runs); NULL error_patterns: the defaults */
    char *input;
    char *input_file;
    char **error_patterns;
    size_t nerror_patterns;
} px_step;

typedef struct px_scn_test {
    char *name;
    px_scn_pos pos;
    px_step *steps;
    size_t nsteps;
    char *skip;           /**< reason when the test is skipped, NULL otherwise */
} px_scn_test;

typedef struct px_scn_veth {
    char *name, *peer;
    char *netns, *peer_netns; /**< NULL = the runner's namespace */
    uint32_t mtu;             /**< 0 = kernel default */
    px_scn_pos pos;
} px_scn_veth;

typedef struct px_scn_bvlan {
    uint16_t vid;
    bool pvid, untagged;
} px_scn_bvlan;

typedef struct px_scn_bport {
    char *name;
    px_scn_bvlan *vlans;
    size_t nvlans;
    px_scn_pos pos;
} px_scn_bport;

typedef struct px_scn_bridge {
    char *name;
    char *netns;
    bool vlan_filtering;
    uint32_t mtu;
    px_scn_bport *ports;
    size_t nports;
    px_scn_bvlan *vlans;      /**< VLANs of the bridge's own interface ("self") */
    size_t nvlans;
    px_scn_pos pos;
} px_scn_bridge;

typedef struct px_scn_addr {
    char *dev, *netns, *cidr;
    px_scn_pos pos;
} px_scn_addr;

/** A port tests refer to: a name, the interface and its namespace. */
typedef struct px_scn_port {
    char *name;
    char *ifname;
    char *netns;              /**< NULL = the runner's namespace */
    px_scn_pos pos;
} px_scn_port;

typedef struct px_scenario {
    char *name;               /**< `name:`, else the file name without directory and .yaml */
    char *path;               /**< the file given to px_scenario_load */
    char **namespaces;
    size_t nnamespaces;
    px_scn_veth *veths;
    size_t nveths;
    px_scn_bridge *bridges;
    size_t nbridges;
    px_scn_addr *addrs;
    size_t naddrs;
    px_scn_cmd *setup;
    size_t nsetup;
    px_scn_cmd *teardown;
    size_t nteardown;
    px_scn_port *ports;
    size_t nports;
    uint32_t timeout_ms;      /**< defaults.timeout, 1000 unless set */
    bool noise_filter;        /**< defaults.noise_filter, true unless set */
    bool record;              /**< defaults.record, false unless set */
    int capture;              /**< defaults.capture: px_capture_mode, PX_CAPTURE_LATENCY unless set */
    uint32_t block_timeout_ms; /**< defaults.block_timeout (throughput capture); 0: the library's default */
    px_scn_test *tests;
    size_t ntests;
    /* string pool: file names that px_scn_pos points to */
    char **files;
    size_t nfiles;
} px_scenario;

/** Checks of the parts other modules parse. Each returns 0 or a negative PX_E*
 *  with "col N: reason" (1-based column in `text`) or a plain reason in errbuf.
 *  A NULL member skips that check. parse_frame builds the bytes (caller frees).
 *  check_predicate gets `arg` (the registry of predicate names, run.h) and an
 *  errbuf of `size` bytes (an unknown name's message lists the valid ones). */
typedef struct px_scn_checkers {
    int (*check_predicate)(const void *arg, const char *text, char *errbuf, size_t size);
    int (*parse_frame)(const char *text, uint8_t **bytes, size_t *len, char *errbuf);
    const void *arg;
} px_scn_checkers;

/** A `name=value` given on the command line; overrides the file's variables. */
typedef struct px_scn_var {
    const char *name;
    const char *value;
} px_scn_var;

/** Loads and validates `path`. Returns 0 and *out, or PX_EPARSE (invalid scenario)
 *  / PX_EIO (file unreadable) / PX_ENOMEM with one line per error appended to
 *  `errors` (at most 50 errors). `checkers` may be NULL (no expression/frame checks);
 *  `vars` (may be NULL) override the file's variables. */
int px_scenario_load(const char *path, const px_scn_checkers *checkers, const px_scn_var *vars, size_t nvars,
                     px_scenario **out, px_buf *errors);

/** Same from a string; `path` is the name used in messages and for includes
 *  (relative to its directory). */
int px_scenario_load_string(const char *path, const char *text, size_t len, const px_scn_checkers *checkers,
                            const px_scn_var *vars, size_t nvars, px_scenario **out, px_buf *errors);

/** Finds a port by name, NULL if none. */
const px_scn_port *px_scenario_port(const px_scenario *s, const char *name);

void px_scenario_free(px_scenario *s);

/** Parses a duration: an integer (milliseconds) or a number with a unit "ms", "s"
 *  or "m" ("250ms", "1.5s"). Returns 0 or PX_EPARSE / PX_ERANGE (over 24 h). */
int px_parse_duration_ms(const char *text, uint32_t *ms);

/** Parses hex bytes ("ffff0102", "ff ff 01 02", "ff:ff:01:02") into a new buffer
 *  (caller frees). Returns 0, PX_EPARSE with "col N: ..." in errbuf, or PX_ENOMEM. */
int px_parse_hex_bytes(const char *text, uint8_t **bytes, size_t *len, char *errbuf);

#endif
