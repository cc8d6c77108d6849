/* Allocation that cannot fail: the out-of-memory policy of every daemon.
 *
 * A daemon that cannot allocate cannot keep its guarantees, so it stops,
 * loudly: each function here logs "out of memory: <what>" and calls
 * abort(). Nothing is acknowledged before it is committed to the daemon's
 * store, so nothing acknowledged is lost; the service manager restarts the
 * daemon, which reloads its last committed state (see the README).
 *
 * WHAT names what was being allocated ("a ticket", "the line changes"); it
 * is only logged. Ownership is the caller's, as with malloc: free(). */
#ifndef HALLBUS_ALLOC_H
#define HALLBUS_ALLOC_H

#include <stddef.h>

void *hb_xmalloc(size_t size, const char *what);
void *hb_xcalloc(size_t count, size_t size, const char *what);
/* Like realloc; SIZE 0 is taken as 1 so that NULL always means failure. */
void *hb_xrealloc(void *ptr, size_t size, const char *what);
/* A copy of S; NULL is copied as "". */
char *hb_xstrdup(const char *s, const char *what);

#endif
