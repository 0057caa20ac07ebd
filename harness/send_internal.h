/* pktexpect: private interface between the sender modules (send.c, send_tag.c,
 * pace.c, replay.c). Not installed. */
#ifndef PX_SEND_INTERNAL_H
#define PX_SEND_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pktexpect/send.h"

/* One TX socket of the sender: bound to the port's interface. Lives until the
 * context is freed (px__sender_ctx_free). */
typedef struct px__txport {
    char name[96]; /* port name, "IFNAME" or "NETNS/IFNAME" */
    int ifindex;
    int fd;
    bool retired;  /* interface re-created: a newer entry replaces this one */
} px__txport;

/* Opens the port (capture included) and its TX socket on first use; gives the
 * socket and the port's current MTU. */
int px__tx_resolve(px_ctx *ctx, const char *port, px__txport **out, uint32_t *mtu, char *errbuf);

/* Checks and sends `n` frames in order on `tp`, in sendmmsg batches; frame i gets
 * tag `tag_base + i` when opts->tagged. Records sent frames in the evidence.
 * `*sent` (if not NULL) is set to the number sent, also on error. */
int px__tx_burst(px_ctx *ctx, px__txport *tp, uint32_t mtu, const px_tx_frame *frames, size_t n,
                 const px_send_opts *opts, uint64_t tag_base, size_t *sent, char *errbuf);

/* Checks one frame for `port` (length against the MTU, options, tag room); `idx`
 * names it in the message as "frame idx of the burst" (SIZE_MAX: "frame"). */
int px__tx_check(const char *port, uint32_t mtu, const uint8_t *b, size_t len, const px_send_opts *o, size_t idx,
                 char *errbuf);

/* First tag to use for `opts` (allocates one when opts->tag is 0) and reports it
 * through opts->tag_out. */
uint64_t px__tx_first_tag(px_ctx *ctx, const px_send_opts *opts);

/* Writes the trailer into the last PX_TAG_TRAILER_LEN bytes of `frame` (which must
 * have that many payload bytes: checked by px__tag_check) and fixes the L4
 * checksum. */
void px__tag_write(uint8_t *frame, size_t len, uint64_t tag, uint64_t sent_ns);
/* 0 when the trailer fits in the payload of `frame`, else PX_EINVAL with errbuf. */
int px__tag_check(const uint8_t *frame, size_t len, char *errbuf);

uint64_t px__now_ns(clockid_t clk);

#endif
