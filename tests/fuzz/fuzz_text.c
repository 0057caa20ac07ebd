/* libFuzzer target: the text-form parser. Any text either fails with a message or
 * builds a frame whose own text form builds the same bytes again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/error.h"
#include "pktexpect/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    uint8_t *bytes = NULL;
    size_t n = 0;
    char err[PX_ERRBUF_SIZE];
    int rc = px_frame_parse_text(text, &bytes, &n, err);
    if (rc != 0) {
        if (strncmp(err, "col ", 4) != 0 && rc != PX_ENOMEM)
            abort(); /* every parse error says where */
    } else if (n <= 65535) {
        px_frame f;
        px_frame_dissect(&f, bytes, (uint32_t)n, (uint32_t)n);
        px_buf b = PX_BUF_INIT;
        if (px_frame_to_text(&f, &b) == 0) {
            uint8_t *again = NULL;
            size_t m = 0;
            if (px_frame_parse_text(px_buf_cstr(&b), &again, &m, NULL) != 0 || m != n ||
                (n > 0 && memcmp(again, bytes, n) != 0))
                abort();
            free(again);
        }
        px_buf_free(&b);
    }
    free(bytes);
    free(text);
    return 0;
}
