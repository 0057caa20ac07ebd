/* pktexpect: the one errno-to-PX_E* map of the library, and the error-buffer
 * printf (err_errno.c, compiled into the core and the topology library). Not installed.
 *
 * Thread-safety: pure, any thread. */
#ifndef PX_ERR_INTERNAL_H
#define PX_ERR_INTERNAL_H

/* The PX_E* code for an errno value, by what the errno says, whichever system
 * call gave it (the rule and the table are in err_errno.c). Never PX_OK: unknown
 * values, and 0, give PX_ESYS. A caller that knows more than the errno keeps
 * its own refinement next to the call, e.g. a send on an interface that was in
 * use turns PX_ENODEV into PX_EGONE. */
int px__err_from_errno(int errnum);

/* printf into a caller's PX_ERRBUF_SIZE error buffer; nothing when errbuf is NULL. */
void px__errbuf_printf(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
