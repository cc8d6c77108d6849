/* Loading the "hours:" section (see config_internal.h). */
#ifndef HALLBUS_CONFIG_HOURS_SCHEMA_H
#define HALLBUS_CONFIG_HOURS_SCHEMA_H

#include "config_internal.h"

/* "HH:MM-HH:MM" sessions of each weekday */
typedef struct {
    char **sun, **mon, **tue, **wed, **thu, **fri, **sat;
    unsigned sun_count, mon_count, tue_count, wed_count, thu_count, fri_count, sat_count;
    char **holidays;
    unsigned holidays_count;
    char **workdays;
    unsigned workdays_count;
} raw_hours_t;

extern const cyaml_schema_field_t hb_cfg_hours_fields[];

/* RAW is NULL when the section is absent: the hall is always open. */
int hb_cfg_hours_build(const hb_cfg_report_t *report, raw_hours_t *raw, hb_config_t *config);
void hb_cfg_hours_free(hb_hours_conf_t *conf);

#endif
