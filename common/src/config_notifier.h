/* Loading the "notifier:" section (see config_internal.h). */
#ifndef HALLBUS_CONFIG_NOTIFIER_INTERNAL_H
#define HALLBUS_CONFIG_NOTIFIER_INTERNAL_H

#include "config_internal.h"

typedef struct {
    char *db;
} raw_notifier_t;

extern const cyaml_schema_field_t hb_cfg_notifier_fields[];

/* RAW is NULL when the section is absent: every default applies. */
int hb_cfg_notifier_build(const hb_cfg_report_t *report, raw_notifier_t *raw, hb_config_t *config);
void hb_cfg_notifier_free(hb_notifier_conf_t *conf);

#endif
