/* The "hours:" section of the hall file: when the hall takes tickets. */
#ifndef HALLBUS_CONFIG_HOURS_H
#define HALLBUS_CONFIG_HOURS_H

#include <stdbool.h>
#include <stdint.h>

#define HB_HOURS_SESSIONS_MAX 4

typedef struct {
    uint16_t start, end; /* minutes since local midnight, start < end */
} hb_session_t;

typedef struct {
    bool enabled; /* false when the section is absent: always open */
    /* by weekday, 0 Sunday .. 6 Saturday, as tm_wday */
    hb_session_t sessions[7][HB_HOURS_SESSIONS_MAX];
    unsigned sessions_count[7];
    char **holidays; /* "YYYY-MM-DD": closed all day */
    unsigned holidays_count;
    char **workdays; /* extra working days (调休), with Monday's sessions */
    unsigned workdays_count;
} hb_hours_conf_t;

#endif
