/* A stand-in for BMv2's nanomsg packet interface, for tests without BMv2
 * (`simple_switch --packet-in ADDR`): binds ADDR with a PAIR socket, records
 * PORT_ADD messages, answers INFO_REQ as BMv2 does (INFO_REP, status "not
 * supported"), and echoes each PACKET_IN on port i as a PACKET_OUT on port
 * i + 1. Messages: three little-endian int32 (type, port, more), then the frame.
 * Runs on its own thread in the test process, or, built against nng with
 * PX_PEER_NNG, in a process of its own (tests/bmv2_nng_peer.c). Not installed. */
#ifndef PX_TEST_BMV2_PEER_H
#define PX_TEST_BMV2_PEER_H

#ifdef PX_PEER_NNG /* nng's nanomsg compatibility layer, which recent BMv2 builds on */
#include <nng/compat/nanomsg/nn.h>
#include <nng/compat/nanomsg/pair.h>
#else
#include <nanomsg/nn.h>
#include <nanomsg/pair.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct bmv2_peer {
    int sock;
    pthread_t thread;
    atomic_bool stop;
    atomic_int info_reqs, packets_in;
    atomic_uint added_mask; /* bit i: PORT_ADD for port i (i < 32) */
    atomic_int ignore_info; /* INFO_REQs still to leave unanswered (a lost request) */
} bmv2_peer;

static inline void bmv2_peer_hdr(uint8_t *b, int32_t type, int32_t port, int32_t more)
{
    int32_t v[3] = {type, port, more};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++)
            b[4 * i + k] = (uint8_t)((uint32_t)v[i] >> (8 * k));
}

static inline int32_t bmv2_peer_le32(const uint8_t *b)
{
    return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

/* The switch sends `len` bytes out of `port` (PACKET_OUT). 0 or -1. */
static inline int bmv2_peer_emit(bmv2_peer *p, int port, const uint8_t *frame, size_t len)
{
    uint8_t hdr[12];
    bmv2_peer_hdr(hdr, 4, port, (int32_t)len);
    struct nn_iovec v[2] = {{hdr, sizeof hdr}, {(void *)(uintptr_t)frame, len}};
    struct nn_msghdr m = {.msg_iov = v, .msg_iovlen = 2};
    return nn_sendmsg(p->sock, &m, 0) < 0 ? -1 : 0;
}

static inline void *bmv2_peer_main(void *arg)
{
    bmv2_peer *p = arg;
    while (!atomic_load(&p->stop)) {
        void *msg = NULL;
        int r = nn_recv(p->sock, &msg, NN_MSG, 0);
        if (r < 0)
            continue; /* receive timeout: look at stop */
        const uint8_t *b = msg;
        if (r >= 12) {
            int32_t type = bmv2_peer_le32(b), port = bmv2_peer_le32(b + 4), more = bmv2_peer_le32(b + 8);
            if (type == 0 && port >= 0 && port < 32) {
                atomic_fetch_or(&p->added_mask, 1u << port);
            } else if (type == 5 && atomic_load(&p->ignore_info) > 0) {
                atomic_fetch_sub(&p->ignore_info, 1);
                atomic_fetch_add(&p->info_reqs, 1);
            } else if (type == 5) {
                uint8_t rep[16];
                bmv2_peer_hdr(rep, 6, port, more);
                rep[12] = 1; /* MSG_INFO_STATUS_NOT_SUPPORTED, little-endian */
                rep[13] = rep[14] = rep[15] = 0;
                atomic_fetch_add(&p->info_reqs, 1);
                (void)nn_send(p->sock, rep, sizeof rep, 0);
            } else if (type == 3 && more >= 0 && more <= r - 12) {
                atomic_fetch_add(&p->packets_in, 1);
                (void)bmv2_peer_emit(p, port + 1, b + 12, (size_t)more);
            }
        }
        nn_freemsg(msg);
    }
    return NULL;
}

/* Binds `addr` and starts answering. 0 or -1. */
static inline int bmv2_peer_start(bmv2_peer *p, const char *addr)
{
    memset(p, 0, sizeof *p);
    p->sock = nn_socket(AF_SP, NN_PAIR);
    if (p->sock < 0)
        return -1;
    int ms = 20;
    nn_setsockopt(p->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &ms, sizeof ms);
    ms = 2000;
    nn_setsockopt(p->sock, NN_SOL_SOCKET, NN_SNDTIMEO, &ms, sizeof ms);
    if (nn_bind(p->sock, addr) < 0) {
        nn_close(p->sock);
        return -1;
    }
    if (pthread_create(&p->thread, NULL, bmv2_peer_main, p) != 0) {
        nn_close(p->sock);
        return -1;
    }
    return 0;
}

/* The switch exits: the thread stops and the socket closes. */
static inline void bmv2_peer_stop(bmv2_peer *p)
{
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    nn_close(p->sock);
}

#endif
