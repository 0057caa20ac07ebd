/* pktexpect: address parsers and formatters (include/pktexpect/text.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "frame_proto.h"
#include "pktexpect/error.h"
#include "pktexpect/text.h"

static int finish(const char *p, const char **end)
{
    if (end) {
        *end = p;
        return 0;
    }
    return *p == '\0' ? 0 : PX_EPARSE;
}

int px_parse_mac(const char *s, uint8_t mac[6], const char **end)
{
    uint8_t m[6];
    const char *p = s;
    char sep = 0;
    for (int i = 0; i < 6; i++) {
        if (i > 0) {
            if (i == 1 && (*p == ':' || *p == '-'))
                sep = *p;
            if (*p != sep || sep == 0)
                return PX_EPARSE;
            p++;
        }
        int hi = px__hexval(p[0]);
        int lo = hi < 0 ? -1 : px__hexval(p[1]);
        if (hi < 0 || lo < 0)
            return PX_EPARSE;
        m[i] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    if (px__hexval(*p) >= 0 || *p == sep) /* "...:ff0" or a seventh group */
        return PX_EPARSE;
    if (finish(p, end) != 0)
        return PX_EPARSE;
    memcpy(mac, m, 6);
    return 0;
}

int px_parse_ipv4(const char *s, uint8_t addr[4], const char **end)
{
    uint8_t a[4];
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        if (i > 0) {
            if (*p != '.')
                return PX_EPARSE;
            p++;
        }
        unsigned v = 0, n = 0;
        while (*p >= '0' && *p <= '9') {
            if (++n > 3)
                return PX_EPARSE;
            v = v * 10 + (unsigned)(*p++ - '0');
        }
        if (n == 0)
            return PX_EPARSE;
        if (v > 255)
            return PX_ERANGE;
        a[i] = (uint8_t)v;
    }
    if (*p == '.' && p[1] >= '0' && p[1] <= '9') /* a fifth part */
        return PX_EPARSE;
    if (finish(p, end) != 0)
        return PX_EPARSE;
    memcpy(addr, a, 4);
    return 0;
}

/* "/len" after an address; absent gives `max`. */
static int parse_plen(const char *p, unsigned max, unsigned *plen, const char **endp)
{
    if (*p != '/') {
        *plen = max;
        *endp = p;
        return 0;
    }
    p++;
    unsigned v = 0, n = 0;
    while (*p >= '0' && *p <= '9') {
        if (++n > 3)
            return PX_ERANGE;
        v = v * 10 + (unsigned)(*p++ - '0');
    }
    if (n == 0)
        return PX_EPARSE;
    if (v > max)
        return PX_ERANGE;
    *plen = v;
    *endp = p;
    return 0;
}

int px_parse_ipv4_prefix(const char *s, uint8_t addr[4], unsigned *plen, const char **end)
{
    uint8_t a[4];
    const char *p;
    unsigned len;
    int rc = px_parse_ipv4(s, a, &p);
    if (rc == 0)
        rc = parse_plen(p, 32, &len, &p);
    if (rc == 0)
        rc = finish(p, end);
    if (rc != 0)
        return rc;
    memcpy(addr, a, 4);
    *plen = len;
    return 0;
}

int px_parse_ipv6(const char *s, uint8_t addr[16], const char **end)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    size_t n = 0;
    while (s[n] && (px__hexval(s[n]) >= 0 || s[n] == ':' || s[n] == '.')) {
        if (n >= INET6_ADDRSTRLEN)
            return PX_EPARSE;
        tmp[n] = s[n];
        n++;
    }
    tmp[n] = '\0';
    uint8_t a[16];
    if (n == 0 || inet_pton(AF_INET6, tmp, a) != 1)
        return PX_EPARSE;
    if (finish(s + n, end) != 0)
        return PX_EPARSE;
    memcpy(addr, a, 16);
    return 0;
}

int px_parse_ipv6_prefix(const char *s, uint8_t addr[16], unsigned *plen, const char **end)
{
    uint8_t a[16];
    const char *p;
    unsigned len;
    int rc = px_parse_ipv6(s, a, &p);
    if (rc == 0)
        rc = parse_plen(p, 128, &len, &p);
    if (rc == 0)
        rc = finish(p, end);
    if (rc != 0)
        return rc;
    memcpy(addr, a, 16);
    *plen = len;
    return 0;
}

void px_format_mac(const uint8_t mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

void px_format_ipv4(const uint8_t addr[4], char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", addr[0], addr[1], addr[2], addr[3]);
}

void px_format_ipv6(const uint8_t addr[16], char out[46])
{
    if (!inet_ntop(AF_INET6, addr, out, 46))
        out[0] = '\0';
}
