/* pktexpect runner: the duration parser of every command-line option.
 *
 * A duration is a decimal number with a unit, `ns`, `us`, `ms`, `s` or `m`
 * ("250ms", "1.5s", "2m", "500us"), or a bare integer in the option's own unit
 * (milliseconds for timeouts and `send --duration`, as in YAML scenarios;
 * seconds for `run --deadline`). Integers are read exactly and checked for
 * overflow; no exponent, sign, blank or other unit is accepted. The YAML
 * loader's px_parse_duration_ms (scenario.h) is this parser with a bare
 * integer in milliseconds.
 *
 * Thread-safety: pure functions.
 */
#ifndef PX_RUNNER_DURATION_H
#define PX_RUNNER_DURATION_H

#include <stdint.h>

#define PX_DURATION_NS_PER_MS 1000000ull
#define PX_DURATION_NS_PER_S 1000000000ull
#define PX_DURATION_24H_NS (86400ull * PX_DURATION_NS_PER_S)

/** Parses `text` into *ns. A bare integer counts `bare_unit_ns` each. Returns 0,
 *  PX_EPARSE when `text` is not a duration, PX_ERANGE when it is above `max_ns`
 *  (overflow included). *ns is left alone on error. */
int px_duration_parse(const char *text, uint64_t bare_unit_ns, uint64_t max_ns, uint64_t *ns);

/** Parses the value of command-line option `opt` of command `cmd` as a duration
 *  of at least 1 ms and at most `max_ns`, in milliseconds. On error prints
 *  "pktexpect CMD: OPT 'TEXT': ..." on stderr and returns a negative PX_E*. */
int px_duration_option_ms(const char *cmd, const char *opt, const char *text, uint64_t bare_unit_ns,
                          uint64_t max_ns, uint64_t *ms);

#endif
