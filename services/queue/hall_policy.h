/* Which waiting ticket a window calls next. */
#ifndef HALLBUS_HALL_POLICY_H
#define HALLBUS_HALL_POLICY_H

#include "hall.h"

/* The ticket window W should call now, still in its line; NULL if none.
 * Green-channel tickets of the window's services come first; then the
 * ticket that has waited longest across them. */
ticket_t *hall_policy_pick(hall_t *self, window_t *w);

#endif
