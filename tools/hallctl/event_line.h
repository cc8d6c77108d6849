/* One event in words, for `hallctl events`: what follows "#42 10:01:03
 * ticket.called", e.g. "A012 → window 3 (li)". */
#ifndef HALLCTL_EVENT_LINE_H
#define HALLCTL_EVENT_LINE_H

#include "hallbus.pb-c.h"

/* Returns the description of ENV's event; the caller frees it. Never NULL. */
char *ev_describe(const Hallbus__Envelope *env);

#endif
