/* pktexpect: hex byte strings (hex.h). */
#include "hex.h"

#include "frame_proto.h"
#include "pktexpect/error.h"

static int is_sep(char c)
{
    return c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '-' || c == '.';
}

int px__hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n, size_t *bad)
{
    size_t i = 0, k = 0;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        i = 2;
    while (i < len) {
        if (is_sep(s[i])) {
            i++;
            continue;
        }
        int hi = px__hexval(s[i]);
        int lo = hi < 0 || i + 1 >= len ? -1 : px__hexval(s[i + 1]);
        if (hi < 0 || lo < 0) {
            if (bad)
                *bad = hi < 0 ? i : i + 1;
            return PX_EPARSE;
        }
        if (k == cap)
            return PX_ERANGE;
        out[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    *n = k;
    return 0;
}
