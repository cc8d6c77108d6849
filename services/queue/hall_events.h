/* From state to wire: the protobuf views of tickets and windows, and the
 * emission of an event (sequence, journal, outbox). */
#ifndef HALLBUS_HALL_EVENTS_H
#define HALLBUS_HALL_EVENTS_H

#include "hall.h"

/* Opens the transaction that the next hall_commit ends, if none is open. */
void hall_events_begin(hall_t *self);

/* Gives ENV the next sequence number, the hall id, source and time, packs
 * it, appends it to the journal and queues it for publication after the
 * commit. ENV's event must be set; its strings are only read. */
void hall_emit(hall_t *self, Hallbus__Envelope *env, int64_t now);

/* Fills OUT with a view of T; strings point into T (and into DATE). Its
 * place is left 0: set it with hall_place where it is wanted (it costs a
 * walk; a snapshot numbers whole lines at once). */
void hall_ticket_view(const hall_t *self, const ticket_t *t, Hallbus__Ticket *out);

/* Fills OUT with a view of W; PREFIXES must hold one slot per service. */
void hall_window_view(const window_t *w, Hallbus__Window *out, char **prefixes);

/* Saves T (fail-stop on error). */
void hall_save_ticket(hall_t *self, const ticket_t *t);
void hall_save_window(hall_t *self, const window_t *w);

#endif
