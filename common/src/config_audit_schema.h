/* Loading the "audit:" section (see config_internal.h). */
#ifndef HALLBUS_CONFIG_AUDIT_SCHEMA_H
#define HALLBUS_CONFIG_AUDIT_SCHEMA_H

#include "config_internal.h"

typedef struct {
    char *id;
    char *command;
    char *bus_sub;
} raw_audit_hall_t;

typedef struct {
    char *db;
    char *query;
    char *publish;
    char *retention_days;
    char *fetch_timeout_ms;
    char *gap_timeout_ms;
    char *heartbeat_ms;
    raw_audit_hall_t *halls;
    unsigned halls_count;
} raw_audit_t;

extern const cyaml_schema_field_t hb_cfg_audit_fields[];

/* RAW is NULL when the section is absent: every default applies. */
int hb_cfg_audit_build(const hb_cfg_report_t *report, raw_audit_t *raw, hb_config_t *config);
void hb_cfg_audit_free(hb_audit_conf_t *conf);

#endif
