/* The predicate mix of the capture benchmarks (bench_capture, bench_offline):
 * expectation i = 0 counts the bulk frames (UDP to PXB_MIX_DPORT), i = 1 counts
 * every frame through a BPF filter (unindexed), the others are keyed predicates
 * that never match the bulk frames (VLAN, UDP port, IPv4 /24, destination MAC,
 * TCP). Public API only, so that it builds against an older library too. */
#ifndef PXB_MIX_H
#define PXB_MIX_H

#include <stdint.h>

#include "pktexpect/pktexpect.h"

#define PXB_MIX_DPORT 9 /* the destination port of the bulk frames */

static inline px_future *pxb_mix_arm(px_ctx *rx, const char *port, int i)
{
    px_expect_opts o = {.timeout_ms = 120000};
    px_predicate *p = NULL;
    if (i == 0) {
        px_l4_spec u = PX_L4_SPEC_ANY;
        u.dport = PXB_MIX_DPORT;
        p = px_count(px_saw_udp(&u));
    } else if (i == 1) {
        p = px_packet_count();
        o.filter = "udp dst port 9"; /* PXB_MIX_DPORT: every bulk frame */
    } else {
        switch (i % 5) {
        case 0: p = px_saw_vlan_tag(100 + i, -1); break;
        case 1: {
            px_l4_spec u = PX_L4_SPEC_ANY;
            u.dport = 10000 + i;
            p = px_saw_udp(&u);
            break;
        }
        case 2: {
            px_ip_spec s = PX_IP_SPEC_ANY;
            s.dst.family = 4;
            s.dst.len = 24;
            s.dst.addr[0] = 192, s.dst.addr[1] = 168, s.dst.addr[2] = (uint8_t)i;
            p = px_saw_ipv4(&s);
            break;
        }
        case 3: {
            uint8_t mac[6] = {0x02, 0xee, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
            p = px_saw_dst_mac(mac);
            break;
        }
        default: {
            px_l4_spec t = PX_L4_SPEC_ANY;
            t.dport = 80;
            p = px_saw_tcp(&t);
            break;
        }
        }
    }
    return p ? px_expect(rx, port, p, &o) : NULL;
}

#endif
