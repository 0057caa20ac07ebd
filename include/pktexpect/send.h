/* pktexpect: injecting frames on ports.
 *
 * Frames are injected with an AF_PACKET socket bound to the port's interface.
 * The port is opened on first use, like for px_expect.
 *
 * Thread-safety: any thread, concurrently on the same port.
 */
#ifndef PKTEXPECT_SEND_H
#define PKTEXPECT_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Injects one frame (`len` bytes starting with the Ethernet header) on `port`.
 *  Returns 0 or a negative PX_E* (PX_EMTU when too long for the port, PX_EINVAL
 *  for an empty frame). `bytes` is not kept. errbuf may be NULL. */
int px_send(px_ctx *ctx, const char *port, const uint8_t *bytes, size_t len, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
