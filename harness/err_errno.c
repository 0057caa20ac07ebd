/* pktexpect: the one errno-to-PX_E* map (err_internal.h). Its own file because
 * the topology library compiles it in as well (it must not link the core's
 * internals, which the shared core does not export). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "err_internal.h"
#include "pktexpect/error.h"

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

void px__errbuf_printf(char *errbuf, const char *fmt, ...)
{
    if (!errbuf)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, PX_ERRBUF_SIZE, fmt, ap);
    va_end(ap);
}
