#include "config_display_schema.h"

#include <stdlib.h>
#include <string.h>

const cyaml_schema_field_t hb_cfg_display_fields[] = {
    TEXT("http", OPTIONAL, raw_display_t, http),
    TEXT("language", OPTIONAL, raw_display_t, language),
    TEXT("recent_calls", OPTIONAL, raw_display_t, recent_calls),
    TEXT("resync_ttl_ms", OPTIONAL, raw_display_t, resync_ttl_ms),
    TEXT("snapshot_timeout_ms", OPTIONAL, raw_display_t, snapshot_timeout_ms),
    TEXT("max_clients", OPTIONAL, raw_display_t, max_clients),
    TEXT("max_per_client", OPTIONAL, raw_display_t, max_per_client),
    TEXT("voice_dir", OPTIONAL, raw_display_t, voice_dir),
    TEXT("espeak", OPTIONAL, raw_display_t, espeak),
    CYAML_FIELD_END,
};

static const hb_cfg_number_row_t display_numbers[] = {
    NUMBER("recent_calls", raw_display_t, hb_display_conf_t, recent_calls, 1, 10, 6),
    NUMBER("resync_ttl_ms", raw_display_t, hb_display_conf_t, resync_ttl_ms, 0, 600000, 0),
    NUMBER("snapshot_timeout_ms", raw_display_t, hb_display_conf_t, snapshot_timeout_ms, 50, 60000,
           1000),
    NUMBER("max_clients", raw_display_t, hb_display_conf_t, max_clients, 1, 1000000, 10000),
    NUMBER("max_per_client", raw_display_t, hb_display_conf_t, max_per_client, 1, 1000000, 32),
};

/* "HOST:PORT" with a port in 1..65535; HOST may be an IPv4 address,
 * "[v6]" or a name, and is checked when the daemon binds. */
static int check_http(const hb_cfg_report_t *report, const char *text)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || colon[1] == '\0')
        return hb_cfg_fail(report, "display.http", "\"%s\" is not HOST:PORT like 127.0.0.1:8080",
                           text);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535)
        return hb_cfg_fail(report, "display.http", "\"%s\": the port must be 1..65535", text);
    return 0;
}

int hb_cfg_display_build(const hb_cfg_report_t *report, raw_display_t *raw, hb_config_t *config)
{
    hb_display_conf_t *conf = &config->display;
    raw_display_t none = {0};
    if (!raw)
        raw = &none;
    if (hb_cfg_check_text(report, "display.http", raw->http) != 0 ||
        hb_cfg_check_text(report, "display.language", raw->language) != 0 ||
        hb_cfg_check_text(report, "display.voice_dir", raw->voice_dir) != 0 ||
        hb_cfg_check_text(report, "display.espeak", raw->espeak) != 0)
        return -1;
    if (raw->http && check_http(report, raw->http) != 0)
        return -1;
    conf->language = HB_DISPLAY_LANG_BOTH;
    if (raw->language) {
        if (strcmp(raw->language, "zh") == 0)
            conf->language = HB_DISPLAY_LANG_ZH;
        else if (strcmp(raw->language, "en") == 0)
            conf->language = HB_DISPLAY_LANG_EN;
        else if (strcmp(raw->language, "both") != 0)
            return hb_cfg_fail(report, "display.language", "\"%s\" is not zh, en or both",
                               raw->language);
    }
    if (hb_cfg_read_numbers(report, "display", ROWS(display_numbers), raw, conf) != 0)
        return -1;
    if (conf->resync_ttl_ms == 0)
        conf->resync_ttl_ms = 3 * config->queue.heartbeat_ms;
    else if (conf->resync_ttl_ms <= config->queue.heartbeat_ms)
        return hb_cfg_fail(report, "display.resync_ttl_ms",
                           "%u must be longer than queue.heartbeat_ms (%u)", conf->resync_ttl_ms,
                           config->queue.heartbeat_ms);
    conf->http = raw->http ? hb_cfg_take(&raw->http) : strdup("127.0.0.1:8080");
    conf->voice_dir = raw->voice_dir ? hb_cfg_take(&raw->voice_dir) : NULL;
    conf->espeak = raw->espeak ? hb_cfg_take(&raw->espeak) : strdup("espeak-ng");
    return conf->http && conf->espeak ? 0 : -1;
}

void hb_cfg_display_free(hb_display_conf_t *conf)
{
    free(conf->http);
    free(conf->voice_dir);
    free(conf->espeak);
}
