/* pktexpect: error codes.
 *
 * Every function that can fail returns 0 on success or a negative PX_E* code.
 * One X-macro table below makes the enum, px_strerror() and px_err_name(), so the
 * three can never drift apart. Detail text ("capture on 'p1' needs CAP_NET_RAW ...")
 * goes into a caller-supplied buffer of PX_ERRBUF_SIZE bytes.
 *
 * Thread-safety: every function here is pure and may be called from any thread.
 */
#ifndef PKTEXPECT_ERROR_H
#define PKTEXPECT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

/** Size of every error-detail buffer passed to pktexpect (bytes, NUL included). */
#define PX_ERRBUF_SIZE 512

/* X(name, value, message) */
#define PX_ERROR_TABLE(X)                                                        \
    X(PX_OK, 0, "success")                                                       \
    X(PX_EINVAL, 1, "invalid argument")                                          \
    X(PX_ENOMEM, 2, "out of memory")                                             \
    X(PX_ENODEV, 3, "no such network interface")                                 \
    X(PX_EPERM, 4, "operation needs CAP_NET_RAW / CAP_NET_ADMIN")                \
    X(PX_EDOWN, 5, "network interface is down")                                  \
    X(PX_EGONE, 6, "network interface disappeared")                              \
    X(PX_EBPF, 7, "BPF filter does not compile")                                 \
    X(PX_EPARSE, 8, "text does not parse")                                       \
    X(PX_ERANGE, 9, "value out of range")                                        \
    X(PX_ECLOSED, 10, "context closed")                                          \
    X(PX_ECANCELED, 11, "cancelled")                                             \
    X(PX_ETIMEDOUT, 12, "timed out")                                             \
    X(PX_EMTU, 13, "frame longer than the port's MTU allows")                   \
    X(PX_EFORMAT, 14, "unsupported or malformed file")                           \
    X(PX_ENOTSUP, 15, "not supported")                                           \
    X(PX_EEXIST, 16, "already exists")                                           \
    X(PX_EIO, 17, "I/O error")                                                   \
    X(PX_ESYS, 18, "system call failed")

#define PX__ERR_ENUM(name, value, msg) name = -(value),
/** Error codes; all but PX_OK are negative. */
typedef enum px_err { PX_ERROR_TABLE(PX__ERR_ENUM) } px_err;
#undef PX__ERR_ENUM

/** Human message for a code (0 or negative); never NULL, static storage. */
const char *px_strerror(int code);

/** Symbolic name of a code ("PX_ENODEV"); never NULL, static storage. */
const char *px_err_name(int code);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
