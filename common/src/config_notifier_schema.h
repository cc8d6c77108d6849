/* Loading the "notifier:" section (see config_internal.h). */
#ifndef HALLBUS_CONFIG_NOTIFIER_SCHEMA_H
#define HALLBUS_CONFIG_NOTIFIER_SCHEMA_H

#include "config_internal.h"

typedef struct {
    char *target; /* "allow", "url" or "run", by channel */
    char *secret;
    char *rate;
    char *burst;
} raw_notify_channel_t;

typedef struct {
    char *service;
    char *ahead;
} raw_notify_near_t;

typedef struct {
    char *kind;
    char *zh;
    char *en;
    char *first_retry_ms;
    char *max_retry_ms;
    char *deadline_s;
} raw_notify_kind_t;

typedef struct {
    char *db;
    char *query;
    char *language;
    char *near_ahead;
    raw_notify_near_t *near;
    unsigned near_count;
    char *attempt_timeout_ms;
    char *reminder_minutes;
    char *scan_ms;
    char *resolve_timeout_ms;
    char *keep_days;
    raw_notify_channel_t *webhook;
    raw_notify_channel_t *sms;
    raw_notify_channel_t *command;
    raw_notify_kind_t *messages;
    unsigned messages_count;
} raw_notifier_t;

extern const cyaml_schema_field_t hb_cfg_notifier_fields[];

/* RAW is NULL when the section is absent: every default applies. */
int hb_cfg_notifier_build(const hb_cfg_report_t *report, raw_notifier_t *raw, hb_config_t *config);
void hb_cfg_notifier_free(hb_notifier_conf_t *conf);

#endif
