/* Which waiting ticket a window calls next.
 *
 * In every policy, green-channel tickets of the window's services come
 * first, then tickets checked in from appointments whose slot has begun,
 * then walk-ins by the window's policy:
 *   longest-wait  the ticket that has waited longest across its services;
 *   ordered       the first of its services (in the window's order) with one;
 *   weighted      between its services by weight (3 of A to 1 of B), with
 *                 smooth weighted round robin, so the mix is even over time.
 * Appointment tickets whose slot has not begun are called only when
 * nothing else waits. */
#ifndef HALLBUS_HALL_CALLING_ORDER_H
#define HALLBUS_HALL_CALLING_ORDER_H

#include "hall.h"

/* The ticket window W should call, still in its line; NULL if none. A
 * slot has begun when hall_lines_tick says so (hall_call_next ticks at NOW
 * first), so that the calling order is the order of the lines followers see. */
ticket_t *hall_policy_pick(hall_t *self, window_t *w, int64_t now);

/* W is about to call T, which hall_policy_pick chose: advance the
 * weighted round robin. */
void hall_policy_note_call(hall_t *self, window_t *w, const ticket_t *t);

/* The policy's name as in the hall file. */
const char *hall_policy_name(hb_policy_t policy);

#endif
