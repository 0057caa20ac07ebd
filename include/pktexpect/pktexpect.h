/* pktexpect: umbrella header. Each module's header documents ownership and
 * thread-safety of its functions.
 *
 * It includes what test authors call: contexts, expectations, futures, frames,
 * predicates and the expression language (px_expr_parse is how a test turns
 * "saw_udp(dport=53)" into a predicate, as scenarios do). The topology helpers
 * (veth, namespaces, bridges) are a separate library with their own header,
 * pktexpect/topology.h (link -lpktexpect-topology). */
#ifndef PKTEXPECT_H
#define PKTEXPECT_H

#include "buf.h"
#include "build.h"
#include "context.h"
#include "diff.h"
#include "error.h"
#include "evidence.h"
#include "expect.h"
#include "expr.h"
#include "frame.h"
#include "future.h"
#include "mark.h"
#include "oneline.h"
#include "predicate.h"
#include "predicates.h"
#include "print.h"
#include "send.h"
#include "text.h"
#include "verify.h"

#endif
