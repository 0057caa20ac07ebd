/* pktexpect: error names and messages, generated from PX_ERROR_TABLE. */
#include "pktexpect/error.h"

#include <errno.h>
#include <stddef.h>

#include "err_internal.h"

typedef struct err_entry {
    int code;
    const char *name;
    const char *msg;
} err_entry;

#define PX__ERR_ROW(name, value, msg) {-(value), #name, msg},
static const err_entry err_table[] = {PX_ERROR_TABLE(PX__ERR_ROW)};
#undef PX__ERR_ROW

static const err_entry *err_find(int code)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == code)
            return &err_table[i];
    return NULL;
}

const char *px_strerror(int code)
{
    const err_entry *e = err_find(code);
    return e ? e->msg : "unknown error code";
}

const char *px_err_name(int code)
{
    const err_entry *e = err_find(code);
    return e ? e->name : "PX_E?";
}

/* The rule: an errno maps by what it says about the request, not by which call
 * returned it, so the same failure gives the same code in the capture, send and
 * topology paths:
 *   - privileges (EPERM, EACCES) -> PX_EPERM
 *   - no such interface or object (ENODEV, ENXIO, ENOENT) -> PX_ENODEV; only a
 *     caller that had the interface in use may say PX_EGONE (it knows more)
 *   - interface down (ENETDOWN) -> PX_EDOWN
 *   - kernel memory or buffer space (ENOMEM, ENOBUFS) -> PX_ENOMEM
 *   - frame too long for the device (EMSGSIZE) -> PX_EMTU
 *   - exists or in use (EEXIST, EBUSY) -> PX_EEXIST
 *   - argument refused (EINVAL, ERANGE) -> PX_EINVAL
 *   - not supported (EOPNOTSUPP) -> PX_ENOTSUP
 *   - anything else -> PX_ESYS (the detail text carries strerror). */
int px__err_from_errno(int errnum)
{
    switch (errnum) {
    case EPERM:
    case EACCES: return PX_EPERM;
    case ENODEV:
    case ENXIO:
    case ENOENT: return PX_ENODEV;
    case ENETDOWN: return PX_EDOWN;
    case ENOMEM:
    case ENOBUFS: return PX_ENOMEM;
    case EMSGSIZE: return PX_EMTU;
    case EEXIST:
    case EBUSY: return PX_EEXIST;
    case EINVAL:
    case ERANGE: return PX_EINVAL;
    case EOPNOTSUPP: return PX_ENOTSUP;
    default: return PX_ESYS;
    }
}
