#include "config_hours_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/clock.h"

#define DAY(day)                                                                                   \
    CYAML_FIELD_SEQUENCE(#day, CYAML_FLAG_POINTER | OPTIONAL, raw_hours_t, day,                    \
                         &hb_cfg_text_entry, 0, HB_HOURS_SESSIONS_MAX)

const cyaml_schema_field_t hb_cfg_hours_fields[] = {
    DAY(sun),
    DAY(mon),
    DAY(tue),
    DAY(wed),
    DAY(thu),
    DAY(fri),
    DAY(sat),
    CYAML_FIELD_SEQUENCE("holidays", CYAML_FLAG_POINTER | OPTIONAL, raw_hours_t, holidays,
                         &hb_cfg_text_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("workdays", CYAML_FLAG_POINTER | OPTIONAL, raw_hours_t, workdays,
                         &hb_cfg_text_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const char *const DAY_KEYS[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* The raw lists by tm_wday. */
static void days_of(const raw_hours_t *raw, char **const *lists[7], unsigned counts[7])
{
    char **const *l[7] = {&raw->sun, &raw->mon, &raw->tue, &raw->wed,
                          &raw->thu, &raw->fri, &raw->sat};
    const unsigned c[7] = {raw->sun_count, raw->mon_count, raw->tue_count, raw->wed_count,
                           raw->thu_count, raw->fri_count, raw->sat_count};
    for (int d = 0; d < 7; d++) {
        lists[d] = l[d];
        counts[d] = c[d];
    }
}

/* "08:30-12:00": two clock times, the first earlier, not overlapping the
 * session before it. */
static int read_session(const hb_cfg_report_t *report, const char *key, const char *text,
                        const hb_session_t *before, hb_session_t *out)
{
    char from[8], to[8];
    char tail;
    if (sscanf(text, "%5[0-9:]-%5[0-9:]%c", from, to, &tail) != 2)
        return hb_cfg_fail(report, key, "\"%s\" is not a session like \"08:30-12:00\"", text);
    int start = hb_cfg_parse_clock(from), end = hb_cfg_parse_clock(to);
    if (start < 0 || end < 0 || start >= end)
        return hb_cfg_fail(report, key, "\"%s\" is not a session like \"08:30-12:00\"", text);
    if (before && start < before->end)
        return hb_cfg_fail(report, key, "\"%s\" begins before the session before it ends", text);
    out->start = (uint16_t)start;
    out->end = (uint16_t)end;
    return 0;
}

static int check_dates(const hb_cfg_report_t *report, const char *what, char **dates,
                       unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        char key[KEY_MAX];
        hb_cfg_say(key, sizeof key, "hours.%s[%u]", what, i);
        if (!hb_date_valid(dates[i]))
            return hb_cfg_fail(report, key, "\"%s\" is not a date YYYY-MM-DD", dates[i]);
    }
    return 0;
}

int hb_cfg_hours_build(const hb_cfg_report_t *report, raw_hours_t *raw, hb_config_t *config)
{
    hb_hours_conf_t *conf = &config->hours;
    if (!raw)
        return 0;
    conf->enabled = true;
    char **const *lists[7];
    unsigned counts[7];
    days_of(raw, lists, counts);
    for (int d = 0; d < 7; d++) {
        for (unsigned i = 0; i < counts[d]; i++) {
            char key[KEY_MAX];
            hb_cfg_say(key, sizeof key, "hours.%s[%u]", DAY_KEYS[d], i);
            if (read_session(report, key, (*lists[d])[i], i ? &conf->sessions[d][i - 1] : NULL,
                             &conf->sessions[d][i]) != 0)
                return -1;
        }
        conf->sessions_count[d] = counts[d];
    }
    if (check_dates(report, "holidays", raw->holidays, raw->holidays_count) != 0 ||
        check_dates(report, "workdays", raw->workdays, raw->workdays_count) != 0)
        return -1;
    conf->holidays = hb_cfg_take_list(&raw->holidays);
    conf->holidays_count = raw->holidays_count;
    raw->holidays_count = 0;
    conf->workdays = hb_cfg_take_list(&raw->workdays);
    conf->workdays_count = raw->workdays_count;
    raw->workdays_count = 0;
    return 0;
}

void hb_cfg_hours_free(hb_hours_conf_t *conf)
{
    for (unsigned i = 0; i < conf->holidays_count; i++)
        free(conf->holidays[i]);
    free(conf->holidays);
    for (unsigned i = 0; i < conf->workdays_count; i++)
        free(conf->workdays[i]);
    free(conf->workdays);
}
