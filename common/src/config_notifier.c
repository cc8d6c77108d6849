#include "config_notifier.h"

#include <stdlib.h>
#include <string.h>

const cyaml_schema_field_t hb_cfg_notifier_fields[] = {
    TEXT("db", OPTIONAL, raw_notifier_t, db),
    CYAML_FIELD_END,
};

int hb_cfg_notifier_build(const hb_cfg_report_t *report, raw_notifier_t *raw, hb_config_t *config)
{
    hb_notifier_conf_t *conf = &config->notifier;
    if (raw && hb_cfg_check_text(report, "notifier.db", raw->db) != 0)
        return -1;
    conf->db = raw && raw->db ? hb_cfg_take(&raw->db) : strdup("var/notifier.db");
    return conf->db ? 0 : -1;
}

void hb_cfg_notifier_free(hb_notifier_conf_t *conf)
{
    free(conf->db);
}
