/* pktexpect: private interface between the sender modules (send.c, send_tag.c,
 * pace.c, replay.c). Not installed. */
#ifndef PX_SEND_INTERNAL_H
#define PX_SEND_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#include "pktexpect/error.h"
#include "pktexpect/evidence.h"
#include "pktexpect/send.h"

/* Life of a TX entry. OPENING: one thread (the opener) creates its socket, binds
 * it and waits for the link, without the sender lock; other senders to the same
 * port wait on `opened`, senders to other ports do not wait at all. READY: fd and
 * ifindex are set for good. FAILED: the open failed (open_rc, open_err); the
 * next send to the port tries again with the same entry. */
typedef enum px__tx_state {
    PX__TX_ABSENT = -1, /* no entry (px__tx_state_of only) */
    PX__TX_OPENING = 0,
    PX__TX_READY,
    PX__TX_FAILED,
} px__tx_state;

/* One TX socket of the sender: bound to the port's interface. Owned by the
 * sender; lives (never moved) until the context is freed (px__sender_ctx_free),
 * so callers keep the pointer without a reference. */
typedef struct px__txport {
    char name[96];          /* port name, "IFNAME" or "NETNS/IFNAME"; constant */
    int ifindex;            /* written by the opener, constant once READY */
    int fd;                 /* -1 until READY; closed only at context free */
    struct px__bmv2_hub *bmv2; /* a "bmv2:ADDR:N" port: its hub (fd stays -1); constant */
    int bmv2_port;          /* the switch port number N */
    /* Guarded by the sender lock: */
    bool retired;           /* interface re-created: a newer entry replaces this one */
    px__tx_state state;
    int open_rc;            /* FAILED: the error of the last open */
    char open_err[PX_ERRBUF_SIZE];
    pthread_cond_t opened;  /* broadcast when the state leaves OPENING */
} px__txport;

/* Gives the TX socket of `port` (opened on first use: socket in the port's
 * namespace, bind, link-ready wait; no capture) and the port's current MTU.
 * Holds the sender lock only for lookups: a slow first use of one port never
 * delays the sends of other threads to other ports. Any thread. */
int px__tx_resolve(px_ctx *ctx, const char *port, px__txport **out, uint32_t *mtu, char *errbuf);

/* State of the current entry of `port` (PX__TX_ABSENT: none yet), for tests that
 * order threads on it. Any thread. */
px__tx_state px__tx_state_of(px_ctx *ctx, const char *port);

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

/* Records `n` sent frames (iov[i] each, time `ts`) on `port` as outbound under one
 * lock of the recorder (evidence.c). Same contract as px_evidence_write per frame;
 * returns the first error. Any thread. */
int px__evidence_write_out(px_evidence *ev, const char *port, const struct timespec *ts, const struct iovec *iov,
                           size_t n);

#endif
