#include "config_display.h"

#include <stdlib.h>
#include <string.h>

const cyaml_schema_field_t hb_cfg_display_fields[] = {
    TEXT("http", OPTIONAL, raw_display_t, http),
    CYAML_FIELD_END,
};

int hb_cfg_display_build(const hb_cfg_report_t *report, raw_display_t *raw, hb_config_t *config)
{
    hb_display_conf_t *conf = &config->display;
    if (raw && hb_cfg_check_text(report, "display.http", raw->http) != 0)
        return -1;
    conf->http = raw && raw->http ? hb_cfg_take(&raw->http) : strdup("127.0.0.1:8080");
    return conf->http ? 0 : -1;
}

void hb_cfg_display_free(hb_display_conf_t *conf)
{
    free(conf->http);
}
