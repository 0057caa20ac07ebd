/* pktexpect runner: SIGINT / SIGTERM handling of the program (docs/cli.md).
 *
 * A signal handler can only reach statics, so this module holds the program's
 * one piece of process-wide state about signals: the number of the signal that
 * asked to stop (a volatile sig_atomic_t) and an eventfd the handler writes to.
 * Waits that sleep in poll(2) add that descriptor to their set (the library gets
 * it through px_ctx_set_cancel_fd), so whichever thread sleeps wakes at once:
 * no timer thread, no busy waiting.
 *
 * Commands that stop gracefully (run, watch, check, junit-merge, send, replay)
 * stop their current operation, clean up (teardown of a topology, a report of
 * what was sent) and exit 128 + signal: 130 for SIGINT, 143 for SIGTERM. The
 * others (validate, clean, ...) exit 128 + signal from the handler at once. A
 * second signal always exits at once (for a clean-up that itself hangs).
 *
 * Thread-safety: px_sig_install once, from main, before any thread starts;
 * the getters from any thread.
 */
#ifndef PX_RUNNER_SIG_H
#define PX_RUNNER_SIG_H

#include <signal.h>
#include <stdbool.h>

/** Installs the SIGINT and SIGTERM handlers (without SA_RESTART, so a blocking
 *  call of the main thread returns EINTR too) and creates the wake-up descriptor.
 *  `graceful`: the command polls the flag and cleans up (see above). */
void px_sig_install(bool graceful);

/** The flag: 0, or the number of the first signal received. */
const volatile sig_atomic_t *px_sig_flag(void);

/** The wake-up descriptor (readable once a signal came; never read it), or -1
 *  when px_sig_install was not called (e.g. the CLI driven in-process). */
int px_sig_fd(void);

/** 128 + the signal received, or `otherwise` when none came. */
int px_sig_exit_code(int otherwise);

#endif
