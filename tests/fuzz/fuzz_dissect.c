/* libFuzzer target: the dissector, the printers, the text form's inverse and
 * derived frames. Any byte string must dissect inside its bounds, print, come
 * back from px_frame_to_text() as the same bytes, and derive (px_frame_derive)
 * without a read past its end: either an error or a frame 4 bytes longer per
 * pushed tag and shorter per popped one. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/build.h"
#include "pktexpect/print.h"
#include "pktexpect/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    px_frame f;
    px_frame_dissect(&f, data, (uint32_t)size, (uint32_t)size);
    for (unsigned i = 0; i < f.nlayers; i++)
        if (f.layers[i].off > size || f.layers[i].len > size - f.layers[i].off)
            abort();
    for (unsigned i = 0; i < f.nlayers; i++)
        (void)px_layer_checksum(&f, &f.layers[i]);
    px_buf b = PX_BUF_INIT;
    (void)px_frame_summary(&f, &b);
    (void)px_frame_fields(&f, &b);
    px_buf_clear(&b);
    if (px_frame_to_text(&f, &b) == 0) {
        uint8_t *back = NULL;
        size_t n = 0;
        if (px_frame_parse_text(px_buf_cstr(&b), &back, &n, NULL) != 0 || n != size ||
            (size > 0 && memcmp(back, data, size) != 0))
            abort(); /* the text form must give back the captured bytes */
        free(back);
    }
    px_buf_free(&b);

    /* edits of every family; most frames lack some layer, which is an error */
    static const struct {
        const char *edits;
        int grow;
    } E[] = {
        {"eth.src=02:00:00:00:00:02, ipv4.ttl-=1", 0},
        {"+vlan(102, pcp=3), vlan[1].vid=5", 4},
        {"-vlan, ipv6.hlim-=1, udp.dport=53", -4},
        {"tcp.flags=SA, mpls.ttl-=1, ipv4[1].dst=10.0.0.9", 0},
        {"gre.key=7, vxlan.vni=9, icmp.type=0", 0},
    };
    for (size_t i = 0; i < sizeof E / sizeof E[0]; i++) {
        uint8_t *out = NULL;
        size_t n = 0;
        if (px_frame_derive(data, size, E[i].edits, &out, &n, NULL) == 0) {
            if (n != size + (size_t)(ptrdiff_t)E[i].grow)
                abort();
            free(out);
        } else if (out) {
            abort();
        }
    }
    return 0;
}
