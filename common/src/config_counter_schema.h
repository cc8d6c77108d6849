/* Loading the "counter:" section (see config_internal.h). */
#ifndef HALLBUS_CONFIG_COUNTER_SCHEMA_H
#define HALLBUS_CONFIG_COUNTER_SCHEMA_H

#include "config_internal.h"

typedef struct {
    char *id;
    char *endpoint;
    char **windows; /* entries as text: "3" or "1-6" */
    unsigned windows_count;
} raw_counter_instance_t;

typedef struct {
    char *endpoint;
    char *overtime_unit_ms; /* numbers as text, parsed by hb_cfg_read_numbers */
    char *request_timeout_ms;
    raw_counter_instance_t *instances;
    unsigned instances_count;
} raw_counter_t;

extern const cyaml_schema_field_t hb_cfg_counter_fields[];

/* RAW is NULL when the section is absent: every default applies. Needs the
 * hall's windows already read into CONFIG. */
int hb_cfg_counter_build(const hb_cfg_report_t *report, raw_counter_t *raw, hb_config_t *config);
void hb_cfg_counter_free(hb_counter_conf_t *conf);

#endif
