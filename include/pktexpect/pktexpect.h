/* pktexpect: umbrella header. Each module's header documents ownership and
 * thread-safety of its functions. */
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
#include "predicate.h"
#include "predicates.h"
#include "print.h"
#include "send.h"
#include "text.h"
#include "topology.h"

#endif
