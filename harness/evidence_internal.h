/* pktexpect internal: the recorder entry point of the capture threads. Not part
 * of the library's API (not exported from the shared library). */
#ifndef PX_EVIDENCE_INTERNAL_H
#define PX_EVIDENCE_INTERNAL_H

#include "pktexpect/evidence.h"
#include "pktexpect/frame.h"

/** Records a dissected frame: its port, timestamp, bytes and lengths; `port`
 *  overrides f->port when not NULL. Same contract as px_evidence_write.
 *  Thread-safety as px_evidence_write. */
int px__evidence_write_frame(px_evidence *ev, const char *port, px_direction dir, const px_frame *f);

#endif
