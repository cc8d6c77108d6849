#include "config_audit_schema.h"

#include <stdlib.h>
#include <string.h>

static const cyaml_schema_field_t audit_hall_fields[] = {
    TEXT("id", REQUIRED, raw_audit_hall_t, id),
    TEXT("command", OPTIONAL, raw_audit_hall_t, command),
    TEXT("bus_sub", OPTIONAL, raw_audit_hall_t, bus_sub),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t audit_hall_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, raw_audit_hall_t, audit_hall_fields),
};

const cyaml_schema_field_t hb_cfg_audit_fields[] = {
    TEXT("db", OPTIONAL, raw_audit_t, db),
    TEXT("query", OPTIONAL, raw_audit_t, query),
    TEXT("publish", OPTIONAL, raw_audit_t, publish),
    TEXT("retention_days", OPTIONAL, raw_audit_t, retention_days),
    TEXT("fetch_timeout_ms", OPTIONAL, raw_audit_t, fetch_timeout_ms),
    TEXT("gap_timeout_ms", OPTIONAL, raw_audit_t, gap_timeout_ms),
    TEXT("heartbeat_ms", OPTIONAL, raw_audit_t, heartbeat_ms),
    CYAML_FIELD_SEQUENCE("halls", CYAML_FLAG_POINTER | OPTIONAL, raw_audit_t, halls,
                         &audit_hall_entry, 1, 256),
    CYAML_FIELD_END,
};

static const hb_cfg_number_row_t audit_numbers[] = {
    NUMBER("retention_days", raw_audit_t, hb_audit_conf_t, retention_days, 0, 36500, 0),
    NUMBER("fetch_timeout_ms", raw_audit_t, hb_audit_conf_t, fetch_timeout_ms, 50, 60000, 1000),
    NUMBER("gap_timeout_ms", raw_audit_t, hb_audit_conf_t, gap_timeout_ms, 0, 86400000, 10000),
    NUMBER("heartbeat_ms", raw_audit_t, hb_audit_conf_t, heartbeat_ms, 50, 60000, 1000),
};

/* [a-z0-9_-]{1,32}, as hall ids are everywhere. */
static int valid_hall_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static char *take_or(char **slot, const char *fallback)
{
    return slot && *slot ? hb_cfg_take(slot) : strdup(fallback);
}

static int build_halls(const hb_cfg_report_t *report, raw_audit_t *raw, hb_audit_conf_t *conf)
{
    if (!raw->halls_count)
        return 0;
    conf->halls = calloc(raw->halls_count, sizeof *conf->halls);
    if (!conf->halls)
        return -1;
    conf->halls_count = raw->halls_count;
    for (unsigned i = 0; i < raw->halls_count; i++) {
        raw_audit_hall_t *rh = &raw->halls[i];
        char key[KEY_MAX];
        hb_cfg_say(key, sizeof key, "audit.halls[%u].id", i);
        if (!valid_hall_id(rh->id))
            return hb_cfg_fail(report, key, "\"%s\" is not a hall id ([a-z0-9_-], 1 to 32)",
                               rh->id);
        for (unsigned j = 0; j < i; j++)
            if (strcmp(conf->halls[j].id, rh->id) == 0)
                return hb_cfg_fail(report, key, "hall \"%s\" is listed twice", rh->id);
        hb_cfg_say(key, sizeof key, "audit.halls[%u].command", i);
        if (rh->command && hb_cfg_check_endpoint(report, key, rh->command) != 0)
            return -1;
        hb_cfg_say(key, sizeof key, "audit.halls[%u].bus_sub", i);
        if (rh->bus_sub && hb_cfg_check_endpoint(report, key, rh->bus_sub) != 0)
            return -1;
        hb_audit_hall_conf_t *h = &conf->halls[i];
        h->id = hb_cfg_take(&rh->id);
        h->command = rh->command ? hb_cfg_take(&rh->command) : NULL;
        h->bus_sub = rh->bus_sub ? hb_cfg_take(&rh->bus_sub) : NULL;
    }
    return 0;
}

int hb_cfg_audit_build(const hb_cfg_report_t *report, raw_audit_t *raw, hb_config_t *config)
{
    hb_audit_conf_t *conf = &config->audit;
    if (raw &&
        (hb_cfg_check_text(report, "audit.db", raw->db) != 0 ||
         (raw->query && hb_cfg_check_endpoint(report, "audit.query", raw->query) != 0) ||
         (raw->publish && hb_cfg_check_endpoint(report, "audit.publish", raw->publish) != 0)))
        return -1;
    static const raw_audit_t none = {0};
    if (hb_cfg_read_numbers(report, "audit", ROWS(audit_numbers), raw ? raw : &none, conf) != 0)
        return -1;
    conf->db = take_or(raw ? &raw->db : NULL, "var/audit.db");
    conf->query = take_or(raw ? &raw->query : NULL, "tcp://127.0.0.1:5560");
    conf->publish = take_or(raw ? &raw->publish : NULL, "tcp://127.0.0.1:5561");
    if (!conf->db || !conf->query || !conf->publish)
        return -1;
    return raw ? build_halls(report, raw, conf) : 0;
}

void hb_cfg_audit_free(hb_audit_conf_t *conf)
{
    free(conf->db);
    free(conf->query);
    free(conf->publish);
    for (unsigned i = 0; i < conf->halls_count; i++) {
        free(conf->halls[i].id);
        free(conf->halls[i].command);
        free(conf->halls[i].bus_sub);
    }
    free(conf->halls);
}
