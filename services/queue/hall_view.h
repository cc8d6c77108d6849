/* Read-only views of the hall for status and snapshot replies. */
#ifndef HALLBUS_HALL_VIEW_H
#define HALLBUS_HALL_VIEW_H

#include "hall.h"

/* A status or snapshot view: protobuf messages pointing into the hall and
 * into memory this view owns; valid until hall_view_free or the next change. */
typedef struct {
    Hallbus__HallStatus status;
    Hallbus__Snapshot snapshot;
    Hallbus__Heartbeat heartbeat;
    Hallbus__ServiceSummary *summaries;
    Hallbus__ServiceSummary **summary_ptrs;
    Hallbus__Window *windows;
    Hallbus__Window **window_ptrs;
    char **prefixes;
    Hallbus__Ticket *tickets;
    Hallbus__Ticket **ticket_ptrs;
    Hallbus__Ticket *recent;
    Hallbus__Ticket **recent_ptrs;
} hall_view_t;

void hall_view_status(hall_t *self, int64_t now, hall_view_t *view);
/* The status plus every ticket of today that is not final and the latest calls. */
void hall_view_snapshot(hall_t *self, int64_t now, hall_view_t *view);
/* The heartbeat: the business date and every service's summary. */
void hall_view_heartbeat(hall_t *self, int64_t now, hall_view_t *view);
void hall_view_free(hall_view_t *view);

#endif
