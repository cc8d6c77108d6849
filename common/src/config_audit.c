#include "config_audit.h"

#include <stdlib.h>
#include <string.h>

const cyaml_schema_field_t hb_cfg_audit_fields[] = {
    TEXT("db", OPTIONAL, raw_audit_t, db),
    CYAML_FIELD_END,
};

int hb_cfg_audit_build(const hb_cfg_report_t *report, raw_audit_t *raw, hb_config_t *config)
{
    hb_audit_conf_t *conf = &config->audit;
    if (raw && hb_cfg_check_text(report, "audit.db", raw->db) != 0)
        return -1;
    conf->db = raw && raw->db ? hb_cfg_take(&raw->db) : strdup("var/audit.db");
    return conf->db ? 0 : -1;
}

void hb_cfg_audit_free(hb_audit_conf_t *conf)
{
    free(conf->db);
}
