/* pktexpect: the default noise filter (DESIGN 2.8).
 *
 * A fresh interface makes the OS talk by itself: IPv6 router and neighbour
 * solicitations, duplicate address detection, MLD reports, IGMP, and on some
 * hosts LLDP or STP. Tests that count frames or expect silence would fail on
 * that chatter, so it is ignored by default, counted, and shown in results. */
#include "pktexpect/context.h"

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_LLDP 0x88cc
#define IPPROTO_IGMP_ 2

bool px_noise_default(const px_frame *f, void *user)
{
    (void)user;
    /* Runs for every frame of every port: reads in place (the outer Ethernet
     * header is whole when recorded; the ethertype is the dissector's). */
    unsigned eth = f->first_of[PX_LAYER_ETH];
    if (!eth)
        return false;
    const uint8_t *dst = f->data + f->layers[eth - 1].off;
    /* 01:80:c2:00:00:0x: link-local control protocols (STP, LLDP, LACP, 802.1X, ...) */
    if (dst[0] == 0x01 && dst[1] == 0x80 && dst[2] == 0xc2 && dst[3] == 0 && dst[4] == 0 && (dst[5] & 0xf0) == 0)
        return true;
    uint16_t type = f->ethertype;
    if (type == ETH_LLDP)
        return true;
    if (type == ETH_IPV6) {
        uint8_t t, c;
        if (!px_frame_icmpv6(f, &t, &c))
            return false;
        /* MLD query/report/done (130-132), RS/RA/NS/NA/redirect (133-137), MLDv2 report (143) */
        return (t >= 130 && t <= 137) || t == 143;
    }
    if (type == ETH_IPV4) {
        uint8_t proto;
        return px_frame_ip_proto(f, &proto) && proto == IPPROTO_IGMP_;
    }
    return false;
}
