/* pktexpect runner: durations on the command line (duration.h). */
#include "duration.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pktexpect/error.h"

static const struct {
    const char *name;
    uint64_t ns;
} units[] = {{"ns", 1}, {"us", 1000}, {"ms", PX_DURATION_NS_PER_MS}, {"s", PX_DURATION_NS_PER_S},
             {"m", 60 * PX_DURATION_NS_PER_S}};

int px_duration_parse(const char *text, uint64_t bare_unit_ns, uint64_t max_ns, uint64_t *ns)
{
    if (!text || !isdigit((unsigned char)text[0]))
        return PX_EPARSE;
    const char *p = text;
    uint64_t whole = 0;
    bool too_big = false;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (whole > (UINT64_MAX - d) / 10)
            too_big = true; /* keep reading: "99999999999999999999x" is still a parse error */
        else
            whole = whole * 10 + d;
    }
    /* The fraction: at most 18 digits are significant, far below 1 ns in any unit. */
    uint64_t frac = 0, scale = 1;
    bool has_point = *p == '.';
    if (has_point) {
        p++;
        if (!isdigit((unsigned char)*p))
            return PX_EPARSE;
        for (; isdigit((unsigned char)*p); p++)
            if (scale < 1000000000000000000ull) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
    }
    uint64_t unit = 0;
    if (!*p) {
        if (has_point)
            return PX_EPARSE; /* a bare number counts whole units: integers only */
        unit = bare_unit_ns;
    } else {
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (!strcmp(p, units[i].name))
                unit = units[i].ns;
        if (!unit)
            return PX_EPARSE;
    }
    if (too_big || (unit && whole > UINT64_MAX / unit))
        return PX_ERANGE;
    uint64_t v = whole * unit;
    /* frac / scale < 1, so this part is below one unit: a double is exact enough. */
    uint64_t part = (uint64_t)((double)frac / (double)scale * (double)unit + 0.5);
    if (v > UINT64_MAX - part)
        return PX_ERANGE;
    v += part;
    if (v > max_ns)
        return PX_ERANGE;
    *ns = v;
    return 0;
}

/* "24 hours", "1 s": the largest value in words for the error message. */
static void say_max(char *out, size_t cap, uint64_t max_ns)
{
    if (max_ns % (3600 * PX_DURATION_NS_PER_S) == 0)
        snprintf(out, cap, "%llu hours", (unsigned long long)(max_ns / (3600 * PX_DURATION_NS_PER_S)));
    else if (max_ns % PX_DURATION_NS_PER_S == 0)
        snprintf(out, cap, "%llu s", (unsigned long long)(max_ns / PX_DURATION_NS_PER_S));
    else
        snprintf(out, cap, "%llu ms", (unsigned long long)(max_ns / PX_DURATION_NS_PER_MS));
}

int px_duration_option_ms(const char *cmd, const char *opt, const char *text, uint64_t bare_unit_ns,
                          uint64_t max_ns, uint64_t *ms)
{
    uint64_t ns = 0;
    int rc = px_duration_parse(text, bare_unit_ns, max_ns, &ns);
    if (rc == PX_ERANGE) {
        char max[32];
        say_max(max, sizeof max, max_ns);
        fprintf(stderr, "pktexpect %s: %s '%s': longer than %s\n", cmd, opt, text, max);
        return rc;
    }
    if (rc == 0 && ns < PX_DURATION_NS_PER_MS) {
        fprintf(stderr, "pktexpect %s: %s '%s': give at least 1ms\n", cmd, opt, text);
        return PX_ERANGE;
    }
    if (rc) {
        fprintf(stderr, "pktexpect %s: %s '%s': expected a duration like 500ms, 2s or 1m (a bare integer is %s)\n",
                cmd, opt, text, bare_unit_ns == PX_DURATION_NS_PER_S ? "seconds" : "milliseconds");
        return rc;
    }
    *ms = (ns + PX_DURATION_NS_PER_MS / 2) / PX_DURATION_NS_PER_MS;
    return 0;
}
