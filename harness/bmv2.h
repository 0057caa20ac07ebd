/* pktexpect: ports on BMv2's nanomsg packet interface (source_bmv2.c).
 *
 * A port named "bmv2:ADDR:N" is port N of a BMv2 switch started with
 * `--packet-in ADDR` (ADDR: ipc://PATH or tcp://HOST:PORT). The switch binds
 * ADDR with a nanomsg PAIR socket and takes one peer, so every port of one
 * address shares one socket per context: a "hub", opened on first use and freed
 * with the context. Messages, both ways, are a header of three little-endian
 * 32-bit ints (type, port, more) followed by the frame for packets:
 *   PORT_ADD 0 / PORT_REMOVE 1 (more 0), PORT_SET_STATUS 2 (more: 0 down, 1 up),
 *   PACKET_IN 3 (to the switch) / PACKET_OUT 4 (from it) (more: frame length),
 *   INFO_REQ 5 / INFO_REP 6 (more 1; the reply adds an int status).
 * Not installed. */
#ifndef PX_BMV2_H
#define PX_BMV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "pktexpect/context.h"

#define PX__BMV2_PREFIX "bmv2:"
#define PX__BMV2_ADDR_MAX 128
#define PX__BMV2_QUEUE_MAX 32768 /* frames queued per port before drops (source_bmv2.c) */

typedef struct px__bmv2_hub px__bmv2_hub;

/* True when `name` is a bmv2 port name (starts with "bmv2:"). */
bool px__bmv2_is_name(const char *name);

/* Splits "bmv2:ADDR:N" into ADDR and N (decimal, no sign, no leading zero).
 * 0 or PX_EINVAL with errbuf saying what the form is. */
int px__bmv2_parse(const char *name, char addr[PX__BMV2_ADDR_MAX], int *port, char *errbuf);

/* The context's hub of port `name` (connected and answering, or an error: the
 * switch did not answer within the connect timeout), with the switch told
 * about the port (PORT_ADD, once per hub and port). Any thread; a first open
 * waits for the switch, later calls do not. The hub lives until the context is
 * freed (px__bmv2_ctx_free). */
int px__bmv2_hub_get(px_ctx *ctx, const char *name, px__bmv2_hub **out, int *port, char *errbuf);

/* True when the hub's switch went away (a sender then looks the hub up again). */
bool px__bmv2_hub_dead(px__bmv2_hub *h);

/* Sends frames iov[0, n) as PACKET_IN messages on switch port `port`, in order.
 * Returns how many went out; on a shortfall, *rc and errbuf say why (the switch
 * went away, or did not take the message within the send timeout). Any thread. */
size_t px__bmv2_send(px__bmv2_hub *h, const char *name, int port, const struct iovec *iov, size_t n, int *rc,
                     char *errbuf);

/* context.c, at px_ctx_free after the ports and the sender: stops and frees every hub. */
void px__bmv2_ctx_free(void *hubs);

#endif
