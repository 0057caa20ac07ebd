/* libFuzzer target: the dissector, the printers and the text form's inverse.
 * Any byte string must dissect inside its bounds, print, and come back from
 * px_frame_to_text() as the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    return 0;
}
