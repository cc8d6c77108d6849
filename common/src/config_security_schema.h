/* Loading the "security:" section (see config_internal.h). */
#ifndef HALLBUS_CONFIG_SECURITY_SCHEMA_H
#define HALLBUS_CONFIG_SECURITY_SCHEMA_H

#include "config_internal.h"

typedef struct {
    char *keys_dir;
    char *allow;
    char *accounts;
    char *curve;
} raw_security_t;

extern const cyaml_schema_field_t hb_cfg_security_fields[];

/* RAW is NULL when the section is absent: every default applies. */
int hb_cfg_security_build(const hb_cfg_report_t *report, raw_security_t *raw, hb_config_t *config);
void hb_cfg_security_free(hb_security_conf_t *conf);

#endif
