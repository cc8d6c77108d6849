#include "config_counter_schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW_MAX 9999 /* as windows[].number */

static const cyaml_schema_field_t instance_fields[] = {
    TEXT("id", REQUIRED, raw_counter_instance_t, id),
    TEXT("endpoint", REQUIRED, raw_counter_instance_t, endpoint),
    CYAML_FIELD_SEQUENCE("windows", CYAML_FLAG_POINTER, raw_counter_instance_t, windows,
                         &hb_cfg_text_entry, 1, 200),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t instance_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, raw_counter_instance_t, instance_fields),
};

const cyaml_schema_field_t hb_cfg_counter_fields[] = {
    TEXT("endpoint", OPTIONAL, raw_counter_t, endpoint),
    TEXT("overtime_unit_ms", OPTIONAL, raw_counter_t, overtime_unit_ms),
    TEXT("request_timeout_ms", OPTIONAL, raw_counter_t, request_timeout_ms),
    CYAML_FIELD_SEQUENCE("instances", CYAML_FLAG_POINTER | OPTIONAL, raw_counter_t, instances,
                         &instance_entry, 1, 64),
    CYAML_FIELD_END,
};

static const hb_cfg_number_row_t counter_numbers[] = {
    NUMBER("overtime_unit_ms", raw_counter_t, hb_counter_conf_t, overtime_unit_ms, 10, 3600000,
           60000),
    NUMBER("request_timeout_ms", raw_counter_t, hb_counter_conf_t, request_timeout_ms, 50, 600000,
           3000),
};

/* ── window sets ── */

static int say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int say(char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(why, whylen, fmt, args);
        va_end(args);
    }
    return -1;
}

/* A decimal window number 1..WINDOW_MAX from [P, END); 0 if it is not one. */
static uint32_t parse_number(const char *p, const char *end)
{
    uint32_t value = 0;
    if (p == end || end - p > 4)
        return 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        value = value * 10 + (uint32_t)(*p - '0');
    }
    return value;
}

static int set_add(uint32_t **set, unsigned *count, uint32_t window, char *why, size_t whylen)
{
    unsigned at = 0;
    while (at < *count && (*set)[at] < window)
        at++;
    if (at < *count && (*set)[at] == window)
        return say(why, whylen, "window %u is listed twice", window);
    uint32_t *grown = realloc(*set, (*count + 1) * sizeof **set);
    if (!grown)
        return say(why, whylen, "out of memory");
    *set = grown;
    memmove(grown + at + 1, grown + at, (*count - at) * sizeof *grown);
    grown[at] = window;
    (*count)++;
    return 0;
}

int hb_window_set_parse(const char *text, uint32_t **set, unsigned *count, char *why, size_t whylen)
{
    if (!text || !*text)
        return say(why, whylen, "no windows given");
    const char *p = text;
    for (;;) {
        const char *end = p + strcspn(p, ",");
        while (p < end && *p == ' ')
            p++;
        const char *stop = end;
        while (stop > p && stop[-1] == ' ')
            stop--;
        char item[32];
        snprintf(item, sizeof item, "%.*s", (int)(stop - p), p);
        const char *dash = memchr(p, '-', (size_t)(stop - p));
        uint32_t from = parse_number(p, dash ? dash : stop);
        uint32_t to = dash ? parse_number(dash + 1, stop) : from;
        if (from == 0 || to == 0)
            return say(why, whylen, "\"%s\" is not a window number 1..%u nor a range N-M", item,
                       WINDOW_MAX);
        if (to < from)
            return say(why, whylen, "\"%s\" is not a range N-M with N <= M", item);
        for (uint32_t w = from; w <= to; w++)
            if (set_add(set, count, w, why, whylen) != 0)
                return -1;
        if (*end == '\0')
            return 0;
        p = end + 1;
    }
}

char *hb_window_set_format(const uint32_t *set, unsigned count, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    if (count == 0) {
        snprintf(out, outlen, "none");
        return out;
    }
    for (unsigned i = 0; i < count && used < outlen;) {
        unsigned j = i;
        while (j + 1 < count && set[j + 1] == set[j] + 1)
            j++;
        int n = j == i
                    ? snprintf(out + used, outlen - used, "%s%u", i ? "," : "", set[i])
                    : snprintf(out + used, outlen - used, "%s%u-%u", i ? "," : "", set[i], set[j]);
        if (n < 0)
            break;
        used += (size_t)n;
        i = j + 1;
    }
    return out;
}

/* ── lookups ── */

int hb_counter_serves(const hb_counter_instance_t *instance, uint32_t window)
{
    unsigned lo = 0, hi = instance->windows_count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (instance->windows[mid] == window)
            return 1;
        if (instance->windows[mid] < window)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

const hb_counter_instance_t *hb_counter_instance(const hb_counter_conf_t *conf, const char *id)
{
    for (unsigned i = 0; id && i < conf->instances_count; i++)
        if (strcmp(conf->instances[i].id, id) == 0)
            return &conf->instances[i];
    return NULL;
}

const hb_counter_instance_t *hb_counter_for_window(const hb_counter_conf_t *conf, uint32_t window)
{
    for (unsigned i = 0; i < conf->instances_count; i++)
        if (hb_counter_serves(&conf->instances[i], window))
            return &conf->instances[i];
    return NULL;
}

/* ── the section ── */

static int is_counter_id(const char *text)
{
    size_t len = strlen(text);
    if (len < 1 || len > HB_COUNTER_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* One counter, id "c1", serving every window of the hall. */
static int build_default(hb_counter_conf_t *conf, const hb_config_t *config, char *endpoint)
{
    conf->instances = calloc(1, sizeof *conf->instances);
    if (!conf->instances) {
        free(endpoint);
        return -1;
    }
    conf->instances_count = 1;
    hb_counter_instance_t *only = &conf->instances[0];
    only->id = strdup("c1");
    only->endpoint = endpoint;
    only->windows = calloc(config->windows_count ? config->windows_count : 1, sizeof(uint32_t));
    if (!only->id || !only->endpoint || !only->windows)
        return -1;
    for (unsigned i = 0; i < config->windows_count; i++)
        set_add(&only->windows, &only->windows_count, config->windows[i].number, NULL, 0);
    return 0;
}

static int build_instance(const hb_cfg_report_t *report, raw_counter_t *raw, unsigned i,
                          hb_config_t *config)
{
    hb_counter_conf_t *conf = &config->counter;
    raw_counter_instance_t *from = &raw->instances[i];
    hb_counter_instance_t *to = &conf->instances[i];
    char key[KEY_MAX], why[160];

    hb_cfg_say(key, sizeof key, "counter.instances[%u].id", i);
    if (!is_counter_id(from->id))
        return hb_cfg_fail(report, key, "\"%s\" must be 1 to %d of a-z, 0-9, _ and -", from->id,
                           HB_COUNTER_ID_MAX);
    for (unsigned j = 0; j < i; j++)
        if (strcmp(conf->instances[j].id, from->id) == 0)
            return hb_cfg_fail(report, key, "\"%s\" is already used by counter.instances[%u]",
                               from->id, j);
    hb_cfg_say(key, sizeof key, "counter.instances[%u].endpoint", i);
    if (hb_cfg_check_endpoint(report, key, from->endpoint) != 0)
        return -1;
    for (unsigned j = 0; j < i; j++)
        if (strcmp(conf->instances[j].endpoint, from->endpoint) == 0)
            return hb_cfg_fail(report, key, "\"%s\" is already used by counter %s", from->endpoint,
                               conf->instances[j].id);

    for (unsigned k = 0; k < from->windows_count; k++) {
        hb_cfg_say(key, sizeof key, "counter.instances[%u].windows[%u]", i, k);
        uint32_t *entry = NULL;
        unsigned entry_count = 0;
        if (hb_window_set_parse(from->windows[k], &entry, &entry_count, why, sizeof why) != 0) {
            free(entry);
            return hb_cfg_fail(report, key, "%s", why);
        }
        for (unsigned e = 0; e < entry_count; e++) {
            uint32_t w = entry[e];
            const hb_counter_instance_t *other = NULL;
            for (unsigned j = 0; j < i && !other; j++)
                if (hb_counter_serves(&conf->instances[j], w))
                    other = &conf->instances[j];
            int rc = 0;
            if (!hb_config_window(config, w))
                rc = hb_cfg_fail(report, key, "the hall has no window %u (see windows:)", w);
            else if (other)
                rc = hb_cfg_fail(report, key, "window %u is already served by counter %s", w,
                                 other->id);
            else if (set_add(&to->windows, &to->windows_count, w, why, sizeof why) != 0)
                rc = hb_cfg_fail(report, key, "%s", why);
            if (rc != 0) {
                free(entry);
                return -1;
            }
        }
        free(entry);
    }
    to->id = hb_cfg_take(&from->id);
    to->endpoint = hb_cfg_take(&from->endpoint);
    return 0;
}

int hb_cfg_counter_build(const hb_cfg_report_t *report, raw_counter_t *raw, hb_config_t *config)
{
    hb_counter_conf_t *conf = &config->counter;
    raw_counter_t none = {0};
    if (!raw)
        raw = &none;
    if (raw->endpoint && hb_cfg_check_endpoint(report, "counter.endpoint", raw->endpoint) != 0)
        return -1;
    if (hb_cfg_read_numbers(report, "counter", ROWS(counter_numbers), raw, conf) != 0)
        return -1;
    if (raw->instances_count == 0) {
        char *endpoint =
            raw->endpoint ? hb_cfg_take(&raw->endpoint) : strdup(HB_COUNTER_DEFAULT_ENDPOINT);
        if (!endpoint || build_default(conf, config, endpoint) != 0)
            return -1;
    } else {
        if (raw->endpoint)
            return hb_cfg_fail(report, "counter.endpoint",
                               "give each counter its endpoint in counter.instances instead");
        conf->instances = calloc(raw->instances_count, sizeof *conf->instances);
        if (!conf->instances)
            return -1;
        conf->instances_count = raw->instances_count;
        conf->listed = 1;
        for (unsigned i = 0; i < raw->instances_count; i++)
            if (build_instance(report, raw, i, config) != 0)
                return -1;
    }
    return 0;
}

void hb_cfg_counter_free(hb_counter_conf_t *conf)
{
    for (unsigned i = 0; i < conf->instances_count; i++) {
        free(conf->instances[i].id);
        free(conf->instances[i].endpoint);
        free(conf->instances[i].windows);
    }
    free(conf->instances);
    *conf = (hb_counter_conf_t){0};
}
