/* pktexpect (internal): interruptible waits of the sender (pace.c, replay.c).
 *
 * How a long send stops early. A paced send or a replay at a speed sleeps most of
 * its time; a signal must end it within milliseconds, yet the library has no
 * global state, starts no timer thread and never busy-waits. So a context may
 * carry a cancel descriptor (px_ctx_set_cancel_fd, context.h): a pipe or eventfd
 * that the program's SIGINT/SIGTERM handler writes one byte to (write(2) is
 * async-signal-safe). Every sleep of the sender is a ppoll(2) on that descriptor
 * with the time left to the absolute due time as its timeout: it wakes at the due
 * time (the thread's timer slack is lowered to 1 ns for paced runs, so ppoll is as
 * precise as clock_nanosleep) or as soon as the descriptor is readable, on
 * whichever thread sleeps; EINTR would only wake the one thread the kernel chose to
 * run the handler. Runs that do not sleep check it every 64 batches, and reads of a
 * pipe or FIFO poll it too (px__read_fd). The descriptor is polled, never read: it
 * stays readable, so everything after the signal stops as well.
 *
 * Without a cancel descriptor the sleeps are plain clock_nanosleep to absolute
 * deadlines (EINTR: sleep again).
 *
 * Times are CLOCK_MONOTONIC nanoseconds. Thread-safety: any thread.
 */
#ifndef PX_HARNESS_PACE_H
#define PX_HARNESS_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pktexpect/context.h"

/* The context's cancel descriptor, -1 when none (context.c). */
int px__ctx_cancel_fd(px_ctx *ctx);

/* True when the context's cancel descriptor is readable (a zero-timeout poll). */
bool px__cancelled(px_ctx *ctx);

/* Sleeps until CLOCK_MONOTONIC time t_ns. 0, or PX_ECANCELED when the cancel
 * descriptor became readable first. */
int px__sleep_until(px_ctx *ctx, uint64_t t_ns);

/* `t0` plus `ns` nanoseconds, UINT64_MAX ("never") when that does not fit: a due
 * time computed in double is never cast when out of range. */
uint64_t px__time_add(uint64_t t0, double ns);

/* read(2) on `fd` that waits in poll(2) together with the context's cancel
 * descriptor (for pipes and FIFOs, which may block for ever). Returns what read
 * returns; -1 with errno ECANCELED when cancelled. `fd` may be non-blocking. */
ssize_t px__read_fd(px_ctx *ctx, int fd, void *buf, size_t len);

#endif
