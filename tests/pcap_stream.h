/* Writing pcapng streams by hand, for the tests that feed captures to a port or
 * to `pktexpect check` (not installed). Blocks are in host byte order, every
 * frame is the same 60-byte Ethernet frame but for its ethertype, and every
 * interface has nanosecond timestamps. Each writer writes to a descriptor the
 * caller owns (a file or a pipe) and fails the running cmocka test if the write
 * fails; none keeps state or closes anything.
 */
#ifndef PX_PCAP_STREAM_H
#define PX_PCAP_STREAM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

/* Store a value at p in host byte order. */
static inline void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Writes all n bytes of b to fd (a pipe may take them in pieces). */
static inline void write_all(int fd, const void *b, size_t n)
{
    const uint8_t *p = b;
    while (n) {
        ssize_t w = write(fd, p, n);
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

/* Fills f with a 60-byte Ethernet frame of ethertype `type`: destination
 * 02:02:02:02:02:02, source 04:04:04:04:04:04, zero payload. */
static inline void eth60(uint8_t f[60], uint16_t type)
{
    memset(f, 0, 60);
    memset(f, 0x02, 6);
    memset(f + 6, 0x04, 6);
    f[12] = (uint8_t)(type >> 8);
    f[13] = (uint8_t)type;
}

/* Classic pcap file header: nanosecond magic, Ethernet, snap length 65535. */
static inline void pcap_write_header(int fd)
{
    uint8_t h[24] = {0};
    put32(h, 0xa1b23c4d);
    put16(h + 4, 2);
    put16(h + 6, 4);
    put32(h + 16, 65535);
    put32(h + 20, 1);
    write_all(fd, h, sizeof h);
}

/* A classic pcap record of frame `f` (len bytes, at most 60), stamped `ns`
 * nanoseconds after the epoch. */
static inline void pcap_write_record(int fd, int64_t ns, const uint8_t *f, uint32_t len)
{
    uint8_t rec[16 + 60] = {0};
    assert_true(len <= 60);
    put32(rec, (uint32_t)(ns / 1000000000LL));
    put32(rec + 4, (uint32_t)(ns % 1000000000LL));
    put32(rec + 8, len);
    put32(rec + 12, len);
    memcpy(rec + 16, f, len);
    write_all(fd, rec, 16 + len);
}

/* Section header block: version 1.0, section length unknown. */
static inline void pcapng_write_shb(int fd)
{
    uint8_t shb[28] = {0};
    put32(shb, 0x0a0d0d0a);
    put32(shb + 4, 28);
    put32(shb + 8, 0x1a2b3c4d);
    put16(shb + 12, 1);
    memset(shb + 16, 0xff, 8);
    put32(shb + 24, 28);
    write_all(fd, shb, sizeof shb);
}

/* Interface description block: Ethernet, snap length 65535, if_name `ifname`
 * (at most 92 characters), if_tsresol 10^-9. Interfaces are numbered from 0 in
 * the order of their IDBs. */
static inline void pcapng_write_idb(int fd, const char *ifname)
{
    size_t nl = strlen(ifname), pad = (4 - nl % 4) % 4;
    uint32_t total = (uint32_t)(16 + 4 + nl + pad + 8 + 4 + 4);
    uint8_t idb[128] = {0};
    put32(idb, 1);
    put32(idb + 4, total);
    put16(idb + 8, 1); /* Ethernet */
    put32(idb + 12, 65535);
    size_t o = 16;
    put16(idb + o, 2); /* if_name */
    put16(idb + o + 2, (uint16_t)nl);
    memcpy(idb + o + 4, ifname, nl);
    o += 4 + nl + pad;
    put16(idb + o, 9); /* if_tsresol: 10^-9 */
    put16(idb + o + 2, 1);
    idb[o + 4] = 9;
    o += 8 + 4; /* opt_endofopt */
    put32(idb + o, total);
    write_all(fd, idb, o + 4);
}

/* Enhanced packet block: the eth60 frame of ethertype `type` on interface
 * `iface`, stamped `ns`. epb_flags: the epb_flags option (1 inbound,
 * 2 outbound); 0 writes no option. */
static inline void pcapng_write_epb(int fd, uint32_t iface, int64_t ns, uint16_t type, uint32_t epb_flags)
{
    uint8_t b[28 + 60 + 12 + 4] = {0};
    uint32_t len = epb_flags ? sizeof b : sizeof b - 12;
    uint64_t t = (uint64_t)ns;
    put32(b, 6);
    put32(b + 4, len);
    put32(b + 8, iface);
    put32(b + 12, (uint32_t)(t >> 32));
    put32(b + 16, (uint32_t)t);
    put32(b + 20, 60);
    put32(b + 24, 60);
    eth60(b + 28, type);
    if (epb_flags) {
        put16(b + 88, 2); /* epb_flags, then opt_endofopt */
        put16(b + 90, 4);
        put32(b + 92, epb_flags);
    }
    put32(b + len - 4, len);
    write_all(fd, b, len);
}

/* Interface statistics block for interface `iface` at `ns`: isb_ifdrop
 * (cumulative drops) only. */
static inline void pcapng_write_isb(int fd, uint32_t iface, int64_t ns, uint64_t ifdrop)
{
    uint8_t b[20 + 12 + 4 + 4] = {0};
    uint64_t t = (uint64_t)ns;
    put32(b, 5);
    put32(b + 4, sizeof b);
    put32(b + 8, iface);
    put32(b + 12, (uint32_t)(t >> 32));
    put32(b + 16, (uint32_t)t);
    put16(b + 20, 5); /* isb_ifdrop, then opt_endofopt */
    put16(b + 22, 8);
    memcpy(b + 24, &ifdrop, 8);
    put32(b + sizeof b - 4, sizeof b);
    write_all(fd, b, sizeof b);
}

#endif
