/* Loading the "display:" section (see config_internal.h). */
#ifndef HALLBUS_CONFIG_DISPLAY_SCHEMA_H
#define HALLBUS_CONFIG_DISPLAY_SCHEMA_H

#include "config_internal.h"

typedef struct {
    char *http;
    char *language;
    char *recent_calls; /* numbers as text, parsed by hb_cfg_read_numbers */
    char *resync_ttl_ms;
    char *snapshot_timeout_ms;
    char *max_clients;
    char *max_per_client;
    char *voice_dir;
    char *espeak;
} raw_display_t;

extern const cyaml_schema_field_t hb_cfg_display_fields[];

/* RAW is NULL when the section is absent: every default applies. */
int hb_cfg_display_build(const hb_cfg_report_t *report, raw_display_t *raw, hb_config_t *config);
void hb_cfg_display_free(hb_display_conf_t *conf);

#endif
