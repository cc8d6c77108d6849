/* Loading the "audit:" section (see config_internal.h). */
#ifndef HALLBUS_CONFIG_AUDIT_INTERNAL_H
#define HALLBUS_CONFIG_AUDIT_INTERNAL_H

#include "config_internal.h"

typedef struct {
    char *db;
} raw_audit_t;

extern const cyaml_schema_field_t hb_cfg_audit_fields[];

/* RAW is NULL when the section is absent: every default applies. */
int hb_cfg_audit_build(const hb_cfg_report_t *report, raw_audit_t *raw, hb_config_t *config);
void hb_cfg_audit_free(hb_audit_conf_t *conf);

#endif
