/* Business hours: whether the hall takes tickets now, and when it next does. */
#ifndef HALLBUS_HALL_HOURS_H
#define HALLBUS_HALL_HOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hallbus/config_hours.h"

/* True when NOW (µs since the epoch, read in local time) falls in a session.
 * Otherwise fills WHY with a sentence for the citizen: why it is closed and
 * when it opens next ("closed for the lunch break; opens again today at
 * 14:00"). */
bool hall_hours_open(const hb_hours_conf_t *hours, int64_t now, char *why, size_t whylen);

/* The sessions of the local day that DAY (a struct tm) is: none on a
 * holiday, Monday's on an extra working day. */
struct tm;
unsigned hall_hours_sessions(const hb_hours_conf_t *hours, const struct tm *day,
                             const hb_session_t **sessions);

#endif
