/* pktexpect: growable text buffer used for descriptions and explanations.
 *
 * A px_buf owns its heap storage; px_buf_free() releases it. All functions keep
 * the text NUL-terminated. On allocation failure the buffer keeps what it had and
 * sets `oom`, so callers never have to check every append.
 *
 * Thread-safety: a px_buf is not shared; use one per thread or lock around it.
 */
#ifndef PKTEXPECT_BUF_H
#define PKTEXPECT_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
/* Exported from the shared library, which is built with hidden visibility. */
#pragma GCC visibility push(default)

typedef struct px_buf {
    char *data;  /**< NUL-terminated text, or NULL while empty */
    size_t len;  /**< bytes used, NUL excluded */
    size_t cap;  /**< bytes allocated */
    bool oom;    /**< an append failed for lack of memory */
} px_buf;

/** A zero-initialised px_buf is valid and empty. */
#define PX_BUF_INIT {NULL, 0, 0, false}

void px_buf_append(px_buf *b, const char *text);
void px_buf_append_n(px_buf *b, const char *text, size_t n);
void px_buf_printf(px_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void px_buf_vprintf(px_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/** Empties the text but keeps the storage. */
void px_buf_clear(px_buf *b);
/** The text; "" (static) while empty. Valid until the next append or free. */
const char *px_buf_cstr(const px_buf *b);
/** Takes the heap string out (caller frees with free()); the buffer is left empty.
 *  An empty buffer gives an allocated ""; NULL only when out of memory. */
char *px_buf_steal(px_buf *b);
void px_buf_free(px_buf *b);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
