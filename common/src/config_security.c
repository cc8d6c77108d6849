#include "config_security_schema.h"

#include <stdlib.h>
#include <string.h>

const cyaml_schema_field_t hb_cfg_security_fields[] = {
    TEXT("accounts", OPTIONAL, raw_security_t, accounts),
    CYAML_FIELD_END,
};

int hb_cfg_security_build(const hb_cfg_report_t *report, raw_security_t *raw, hb_config_t *config)
{
    hb_security_conf_t *conf = &config->security;
    if (raw && hb_cfg_check_text(report, "security.accounts", raw->accounts) != 0)
        return -1;
    conf->accounts =
        raw && raw->accounts ? hb_cfg_take(&raw->accounts) : strdup(HB_ACCOUNTS_DEFAULT_PATH);
    return conf->accounts ? 0 : -1;
}

void hb_cfg_security_free(hb_security_conf_t *conf)
{
    free(conf->accounts);
}
