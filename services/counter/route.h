/* Which requests a counter takes: the routing table of one hall-counter.
 *
 * A terminal may sign on and off (SignOn, SignOff: kept by the counter)
 * and send the window commands (open, pause, resume, close, call,
 * call-ticket, recall, no-show, transfer, start, finish) for the windows
 * this counter serves (who acts is the session's, signon.c); and the
 * read-only status, ticket and snapshot, which are forwarded as they are.
 * Everything else is refused with a message that says where it belongs.
 * Pure functions: no sockets, no clock. */
#ifndef HALLBUS_COUNTER_ROUTE_H
#define HALLBUS_COUNTER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hallbus.pb-c.h"
#include "hallbus/config.h"

#define ROUTE_STAFF_MAX 63 /* as hall-queue's limit on a staff id */

typedef struct {
    const hb_config_t *config;         /* the hall: its windows, the other counters */
    const hb_counter_instance_t *self; /* this counter */
} route_table_t;

/* The window a window command (or a sign-on or sign-off) acts on, and
 * whether REQ is one. */
bool route_window_command(const Hallbus__Request *req, uint32_t *window);

/* Whether REQ is one of the read-only commands a counter forwards as is. */
bool route_read_command(const Hallbus__Request *req);

/* Decides whether to forward REQ. Returns HALLBUS__STATUS_CODE__OK, or the
 * code to refuse it with and MSG saying why in words. */
Hallbus__StatusCode route_check(const route_table_t *table, const Hallbus__Request *req, char *msg,
                                size_t msglen);

#endif
