#include "hall_hours.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOOKAHEAD_DAYS 60

static bool listed(char **dates, unsigned count, const char *date)
{
    for (unsigned i = 0; i < count; i++)
        if (strcmp(dates[i], date) == 0)
            return true;
    return false;
}

unsigned hall_hours_sessions(const hb_hours_conf_t *hours, const struct tm *day,
                             const hb_session_t **sessions)
{
    char date[16];
    strftime(date, sizeof date, "%Y-%m-%d", day);
    int wday = day->tm_wday;
    if (listed(hours->holidays, hours->holidays_count, date))
        return 0;
    if (listed(hours->workdays, hours->workdays_count, date))
        wday = 1; /* an extra working day keeps a Monday's hours */
    *sessions = hours->sessions[wday];
    return hours->sessions_count[wday];
}

static void clock_text(unsigned minute, char out[8])
{
    snprintf(out, 8, "%02u:%02u", (minute / 60) % 24, minute % 60);
}

bool hall_hours_open(const hb_hours_conf_t *hours, int64_t now, char *why, size_t whylen)
{
    if (!hours->enabled)
        return true;
    time_t t = (time_t)(now / 1000000);
    struct tm day;
    localtime_r(&t, &day);
    unsigned minute = (unsigned)(day.tm_hour * 60 + day.tm_min);
    const hb_session_t *s = NULL;
    unsigned n = hall_hours_sessions(hours, &day, &s);
    for (unsigned i = 0; i < n; i++) {
        if (minute >= s[i].start && minute < s[i].end)
            return true;
        if (minute < s[i].start) {
            char at[8];
            clock_text(s[i].start, at);
            snprintf(why, whylen, "the hall is closed %s; it opens again today at %s",
                     i == 0 ? "until opening time" : "for the lunch break", at);
            return false;
        }
    }
    char date[16];
    strftime(date, sizeof date, "%Y-%m-%d", &day);
    const char *reason = listed(hours->holidays, hours->holidays_count, date) ? "for a holiday"
                         : n == 0                                             ? "today"
                                                                              : "for the day";
    /* the next day with a session, at its first session */
    for (int ahead = 1; ahead <= LOOKAHEAD_DAYS; ahead++) {
        struct tm next = day;
        next.tm_mday += ahead;
        next.tm_hour = 12; /* noon: clear of DST edges */
        next.tm_isdst = -1;
        mktime(&next);
        unsigned m = hall_hours_sessions(hours, &next, &s);
        if (m == 0)
            continue;
        char nday[40], at[8];
        strftime(nday, sizeof nday, "%A %Y-%m-%d", &next);
        clock_text(s[0].start, at);
        snprintf(why, whylen, "the hall is closed %s; it opens again on %s at %s", reason, nday,
                 at);
        return false;
    }
    snprintf(why, whylen, "the hall is closed %s and has no opening hours in the next %d days",
             reason, LOOKAHEAD_DAYS);
    return false;
}
