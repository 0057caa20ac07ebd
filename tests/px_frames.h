/* Helpers of pktexpect's own tests (not installed): frames from test text.
 *
 *   px_unhex      a hex reader of the test's own (spaces and any other
 *                 character ignored), independent of the library's, so that
 *                 an oracle does not share the library's bugs;
 *   px_built      a frame built from the text form and dissected.
 *
 * Both fail the current cmocka test on bad input.
 */
#ifndef PX_FRAMES_H
#define PX_FRAMES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pktexpect/error.h"
#include "pktexpect/frame.h"
#include "pktexpect/text.h"

/* Reads the hex digits of `s` (lower case) into out[0..cap); returns the count. */
static inline size_t px_unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return n;
}

/* A frame of the text form, dissected; bytes owned (free them). */
typedef struct px_built {
    uint8_t *bytes;
    size_t len;
    px_frame f;
} px_built;

static inline void px_build(px_built *b, const char *text)
{
    char err[PX_ERRBUF_SIZE];
    if (px_frame_parse_text(text, &b->bytes, &b->len, err) != 0)
        fail_msg("the text form cannot build %s: %s", text, err);
    px_frame_dissect(&b->f, b->bytes, (uint32_t)b->len, (uint32_t)b->len);
}

#endif
