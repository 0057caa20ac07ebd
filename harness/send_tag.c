/* pktexpect: the tag trailer of tagged frames (layout in include/pktexpect/send.h).
 *
 * Writing: the trailer overwrites the last 24 bytes of the IP packet (of the frame
 * for non-IP frames), which must be payload; the UDP / TCP checksum is then fixed
 * incrementally (RFC 1624) so the frame stays valid for a device that checks it.
 * Reading: at the end of the frame first, else anywhere (a NIC may have padded it).
 * Every read is bounds-checked against the frame length before it happens.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "csum.h"
#include "dissect.h"
#include "pktexpect/error.h"
#include "send_internal.h"

static const uint8_t tag_magic[8] = {'P', 'X', 'T', 'A', 'G', 0, 'v', '1'};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

uint64_t px__now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Where the trailer may go in a frame. */
typedef struct tag_place {
    size_t payload;   /* first byte the trailer may overwrite */
    size_t end;       /* one past the last byte of the IP packet (or frame) */
    size_t l4;        /* start of the UDP / TCP header when csum_off != 0 */
    size_t csum_off;  /* offset of the L4 checksum in the frame, 0 = none to fix */
    bool udp;
} tag_place;

/* Walks Ethernet, VLAN tags (px__eth_vlan_walk), IPv4 / IPv6 (fixed header) and
 * UDP / TCP. Returns false when the headers do not fit in `len` bytes. */
static bool locate(const uint8_t *b, size_t len, tag_place *pl)
{
    memset(pl, 0, sizeof *pl);
    if (len < 14)
        return false;
    size_t off;
    (void)px__eth_vlan_walk(b, len, &off);
    uint16_t type = rd16(b + off);
    size_t l3 = off + 2;
    pl->payload = l3;
    pl->end = len;
    uint8_t proto;
    size_t l4;
    if (type == 0x0800) {
        if (len - l3 < 20)
            return false;
        size_t ihl = (size_t)(b[l3] & 0x0f) * 4;
        size_t tot = rd16(b + l3 + 2);
        if (ihl < 20 || tot < ihl || tot > len - l3)
            return false;
        pl->end = l3 + tot;
        l4 = l3 + ihl;
        pl->payload = l4;
        if ((rd16(b + l3 + 6) & 0x1fff) != 0)
            return true; /* a later fragment: no L4 header here */
        proto = b[l3 + 9];
    } else if (type == 0x86dd) {
        if (len - l3 < 40)
            return false;
        size_t plen = rd16(b + l3 + 4);
        if (plen > len - l3 - 40)
            return false;
        pl->end = l3 + 40 + plen;
        l4 = l3 + 40;
        pl->payload = l4;
        proto = b[l3 + 6]; /* extension headers are treated as payload */
    } else {
        return true;
    }
    if (proto == 17) {
        if (pl->end - l4 < 8)
            return false;
        pl->payload = l4 + 8;
        pl->udp = true;
        if (rd16(b + l4 + 6) != 0) {
            pl->csum_off = l4 + 6;
            pl->l4 = l4;
        }
    } else if (proto == 6) {
        if (pl->end - l4 < 20)
            return false;
        size_t doff = (size_t)(b[l4 + 12] >> 4) * 4;
        if (doff < 20 || doff > pl->end - l4)
            return false;
        pl->payload = l4 + doff;
        pl->csum_off = l4 + 16;
        pl->l4 = l4;
    }
    return true;
}

int px__tag_check(const uint8_t *frame, size_t len, char *errbuf)
{
    tag_place pl;
    if (!locate(frame, len, &pl)) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE,
                     "tagged frame: its headers do not fit in its %zu bytes (lengths in the IP header?)", len);
        return PX_EINVAL;
    }
    if (pl.end - pl.payload < PX_TAG_TRAILER_LEN) {
        if (errbuf)
            snprintf(errbuf, PX_ERRBUF_SIZE,
                     "tagged frame: %zu payload bytes, the tag trailer needs %d: add payload to the frame",
                     pl.end - pl.payload, PX_TAG_TRAILER_LEN);
        return PX_EINVAL;
    }
    return 0;
}

/* One's complement sum of b[from, to) as 16-bit words aligned on `base` (from >=
 * base). An odd start takes in the byte before it too: the callers subtract two
 * such sums over the same range, so an unchanged byte cancels out. */
static uint16_t csum_range(const uint8_t *b, size_t from, size_t to, size_t base)
{
    if ((from - base) % 2)
        from--;
    return px__csum_fold(px__csum_add(0, b + from, to - from));
}

void px__tag_write(uint8_t *frame, size_t len, uint64_t tag, uint64_t sent_ns)
{
    tag_place pl;
    if (!locate(frame, len, &pl) || pl.end - pl.payload < PX_TAG_TRAILER_LEN)
        return; /* px__tag_check refused it before */
    size_t at = pl.end - PX_TAG_TRAILER_LEN;
    uint32_t old_sum = 0;
    if (pl.csum_off)
        old_sum = csum_range(frame, at, pl.end, pl.l4);
    memcpy(frame + at, tag_magic, sizeof tag_magic);
    wr64(frame + at + 8, tag);
    wr64(frame + at + 16, sent_ns);
    if (pl.csum_off) {
        /* RFC 1624 eqn 3: HC' = ~(~HC + ~m + m') */
        uint32_t new_sum = csum_range(frame, at, pl.end, pl.l4);
        uint32_t acc = (uint32_t)(~rd16(frame + pl.csum_off) & 0xffff) + (~old_sum & 0xffff) + new_sum;
        uint16_t hc = (uint16_t)~px__csum_fold(acc);
        if (pl.udp && hc == 0)
            hc = 0xffff; /* 0 means "no checksum" in UDP */
        frame[pl.csum_off] = (uint8_t)(hc >> 8);
        frame[pl.csum_off + 1] = (uint8_t)hc;
    }
}

bool px_tag_find(const uint8_t *bytes, size_t len, uint64_t *tag, uint64_t *sent_ns)
{
    if (!bytes || len < PX_TAG_TRAILER_LEN)
        return false;
    size_t at = len - PX_TAG_TRAILER_LEN;
    for (;;) {
        if (bytes[at] == tag_magic[0] && memcmp(bytes + at, tag_magic, sizeof tag_magic) == 0) {
            if (tag)
                *tag = rd64(bytes + at + 8);
            if (sent_ns)
                *sent_ns = rd64(bytes + at + 16);
            return true;
        }
        if (at == 0)
            return false;
        at--;
    }
}
