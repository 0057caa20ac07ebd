/* pktexpect: umbrella header. Each module's header documents ownership and
 * thread-safety of its functions. */
#ifndef PKTEXPECT_H
#define PKTEXPECT_H

#include "buf.h"
#include "context.h"
#include "error.h"
#include "expect.h"
#include "frame.h"
#include "future.h"
#include "predicate.h"
#include "predicates.h"
#include "send.h"
#include "topology.h"

#endif
