#include "config_counter.h"

#include <stdlib.h>
#include <string.h>

const cyaml_schema_field_t hb_cfg_counter_fields[] = {
    TEXT("endpoint", OPTIONAL, raw_counter_t, endpoint),
    CYAML_FIELD_END,
};

int hb_cfg_counter_build(const hb_cfg_report_t *report, raw_counter_t *raw, hb_config_t *config)
{
    hb_counter_conf_t *conf = &config->counter;
    if (raw && raw->endpoint &&
        hb_cfg_check_endpoint(report, "counter.endpoint", raw->endpoint) != 0)
        return -1;
    conf->endpoint =
        raw && raw->endpoint ? hb_cfg_take(&raw->endpoint) : strdup("tcp://127.0.0.1:5560");
    return conf->endpoint ? 0 : -1;
}

void hb_cfg_counter_free(hb_counter_conf_t *conf)
{
    free(conf->endpoint);
}
