/* The "notifier:" section: channels, rate limits, retries, thresholds and
 * the message templates in Chinese and English. */
#include "config_notifier_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ── the kinds of message, their fields and built-in texts ── */

static const char *const kind_names[HB_NOTE_KINDS] = {
    "near", "called", "recalled", "no_show", "materials", "accepted", "ready", "reminder",
};

#define COMMON_FIELDS "hall", "hall_name", "number", "service", "service_name"
static const char *const near_fields[] = {COMMON_FIELDS, "ahead", NULL};
static const char *const call_fields[] = {COMMON_FIELDS, "window", NULL};
static const char *const no_show_fields[] = {COMMON_FIELDS, "window", "until", NULL};
static const char *const materials_fields[] = {COMMON_FIELDS, "window", "materials", NULL};
static const char *const accepted_fields[] = {COMMON_FIELDS, "window", "promised_date", NULL};
static const char *const ready_fields[] = {COMMON_FIELDS, "promised_date", NULL};
static const char *const reminder_fields[] = {COMMON_FIELDS, "slot_time", NULL};

static const char *const *const kind_fields[HB_NOTE_KINDS] = {
    near_fields,      call_fields,     call_fields,  no_show_fields,
    materials_fields, accepted_fields, ready_fields, reminder_fields,
};

typedef struct {
    const char *zh, *en;
    uint32_t first_retry_ms, max_retry_ms, deadline_s;
} kind_default_t;

static const kind_default_t kind_defaults[HB_NOTE_KINDS] = {
    {"您的号码{number}（{service_name}）前面还有{ahead}人，请留意叫号。",
     "Ticket {number} ({service_name}): {ahead} ahead of you. Please stay near the hall.", 500,
     30000, 600},
    {"请{number}号到{window}号窗口办理。", "Ticket {number}, please go to window {window} now.",
     300, 5000, 300},
    {"再次呼叫：请{number}号到{window}号窗口办理。",
     "Second call: ticket {number}, please go to window {window} now.", 300, 5000, 300},
    {"{number}号已过号，您可在{until}前到服务台重新排队。",
     "You missed the call for ticket {number}. You may requeue until {until}.", 500, 30000, 1800},
    {"{number}号（{service_name}）缺少以下材料：{materials}。请备齐后再来办理。",
     "Ticket {number} ({service_name}): the following materials are missing: {materials}. "
     "Please bring them all next time.",
     1000, 300000, 86400},
    {"{number}号（{service_name}）已受理，承诺于{promised_date}前办结。",
     "Ticket {number} ({service_name}) is accepted and will be completed by {promised_date}.", 1000,
     300000, 86400},
    {"您在{hall_name}办理的{service_name}业务已办结，请前来领取。",
     "Your {service_name} matter at {hall_name} is ready to collect.", 1000, 300000, 259200},
    {"提醒：您预约的{service_name}将于{slot_time}开始，请按时到{hall_name}。",
     "Reminder: your {service_name} appointment at {hall_name} starts at {slot_time}.", 1000, 60000,
     3600},
};

const char *hb_note_kind_name(int kind)
{
    return kind >= 0 && kind < HB_NOTE_KINDS ? kind_names[kind] : NULL;
}

int hb_note_kind_parse(const char *text)
{
    for (int i = 0; text && i < HB_NOTE_KINDS; i++)
        if (strcmp(kind_names[i], text) == 0)
            return i;
    return -1;
}

const char *const *hb_note_fields(int kind)
{
    static const char *const none[] = {NULL};
    return kind >= 0 && kind < HB_NOTE_KINDS ? kind_fields[kind] : none;
}

static bool has_field(int kind, const char *name, size_t len)
{
    for (const char *const *f = hb_note_fields(kind); *f; f++)
        if (strlen(*f) == len && memcmp(*f, name, len) == 0)
            return true;
    return false;
}

int hb_note_template_check(int kind, const char *tmpl, char *why, size_t whylen)
{
    for (const char *p = tmpl; *p; p++) {
        if (*p == '}') {
            snprintf(why, whylen, "has a \"}\" that closes no field");
            return -1;
        }
        if (*p != '{')
            continue;
        const char *end = strchr(p + 1, '}');
        if (!end) {
            snprintf(why, whylen, "has a \"{\" that is never closed");
            return -1;
        }
        size_t len = (size_t)(end - p - 1);
        if (!has_field(kind, p + 1, len)) {
            char fields[256] = "";
            for (const char *const *f = hb_note_fields(kind); *f; f++)
                snprintf(fields + strlen(fields), sizeof fields - strlen(fields), "%s%s",
                         fields[0] ? ", " : "", *f);
            snprintf(why, whylen, "names field \"%.*s\", which %s messages do not have (%s)",
                     (int)(len > 40 ? 40 : len), p + 1, kind_names[kind], fields);
            return -1;
        }
        p = end;
    }
    return 0;
}

uint32_t hb_notify_near_for(const hb_notifier_conf_t *conf, const char *prefix)
{
    for (unsigned i = 0; prefix && i < conf->near_count; i++)
        if (strcmp(conf->near[i].service, prefix) == 0)
            return conf->near[i].ahead;
    return conf->near_ahead;
}

/* ── the schema ── */

static const cyaml_schema_field_t webhook_fields[] = {
    TEXT("allow", REQUIRED, raw_notify_channel_t, target),
    TEXT("secret", REQUIRED, raw_notify_channel_t, secret),
    TEXT("rate", OPTIONAL, raw_notify_channel_t, rate),
    TEXT("burst", OPTIONAL, raw_notify_channel_t, burst),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t sms_fields[] = {
    TEXT("url", REQUIRED, raw_notify_channel_t, target),
    TEXT("secret", REQUIRED, raw_notify_channel_t, secret),
    TEXT("rate", OPTIONAL, raw_notify_channel_t, rate),
    TEXT("burst", OPTIONAL, raw_notify_channel_t, burst),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t command_fields[] = {
    TEXT("run", REQUIRED, raw_notify_channel_t, target),
    TEXT("rate", OPTIONAL, raw_notify_channel_t, rate),
    TEXT("burst", OPTIONAL, raw_notify_channel_t, burst),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t near_fields_schema[] = {
    TEXT("service", REQUIRED, raw_notify_near_t, service),
    TEXT("ahead", REQUIRED, raw_notify_near_t, ahead),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t near_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, raw_notify_near_t, near_fields_schema),
};

static const cyaml_schema_field_t message_fields[] = {
    TEXT("kind", REQUIRED, raw_notify_kind_t, kind),
    TEXT("zh", OPTIONAL, raw_notify_kind_t, zh),
    TEXT("en", OPTIONAL, raw_notify_kind_t, en),
    TEXT("first_retry_ms", OPTIONAL, raw_notify_kind_t, first_retry_ms),
    TEXT("max_retry_ms", OPTIONAL, raw_notify_kind_t, max_retry_ms),
    TEXT("deadline_s", OPTIONAL, raw_notify_kind_t, deadline_s),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t message_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, raw_notify_kind_t, message_fields),
};

const cyaml_schema_field_t hb_cfg_notifier_fields[] = {
    TEXT("db", OPTIONAL, raw_notifier_t, db),
    TEXT("query", OPTIONAL, raw_notifier_t, query),
    TEXT("language", OPTIONAL, raw_notifier_t, language),
    TEXT("near_ahead", OPTIONAL, raw_notifier_t, near_ahead),
    CYAML_FIELD_SEQUENCE("near", CYAML_FLAG_POINTER | OPTIONAL, raw_notifier_t, near, &near_entry,
                         0, 26),
    TEXT("attempt_timeout_ms", OPTIONAL, raw_notifier_t, attempt_timeout_ms),
    TEXT("reminder_minutes", OPTIONAL, raw_notifier_t, reminder_minutes),
    TEXT("scan_ms", OPTIONAL, raw_notifier_t, scan_ms),
    TEXT("resolve_timeout_ms", OPTIONAL, raw_notifier_t, resolve_timeout_ms),
    TEXT("keep_days", OPTIONAL, raw_notifier_t, keep_days),
    CYAML_FIELD_MAPPING_PTR("webhook", OPTIONAL, raw_notifier_t, webhook, webhook_fields),
    CYAML_FIELD_MAPPING_PTR("sms", OPTIONAL, raw_notifier_t, sms, sms_fields),
    CYAML_FIELD_MAPPING_PTR("command", OPTIONAL, raw_notifier_t, command, command_fields),
    CYAML_FIELD_SEQUENCE("messages", CYAML_FLAG_POINTER | OPTIONAL, raw_notifier_t, messages,
                         &message_entry, 0, HB_NOTE_KINDS),
    CYAML_FIELD_END,
};

/* ── the numbers ── */

static const hb_cfg_number_row_t top_numbers[] = {
    NUMBER("near_ahead", raw_notifier_t, hb_notifier_conf_t, near_ahead, 0, 100000, 3),
    NUMBER("attempt_timeout_ms", raw_notifier_t, hb_notifier_conf_t, attempt_timeout_ms, 50, 300000,
           10000),
    NUMBER("reminder_minutes", raw_notifier_t, hb_notifier_conf_t, reminder_minutes, 1, 10080, 60),
    NUMBER("scan_ms", raw_notifier_t, hb_notifier_conf_t, scan_ms, 10, 60000, 200),
    NUMBER("resolve_timeout_ms", raw_notifier_t, hb_notifier_conf_t, resolve_timeout_ms, 50, 60000,
           3000),
    NUMBER("keep_days", raw_notifier_t, hb_notifier_conf_t, keep_days, 1, 3650, 7),
};

static const hb_cfg_number_row_t near_numbers[] = {
    NUMBER("ahead", raw_notify_near_t, hb_notify_near_conf_t, ahead, 0, 1000, 0),
};

static const hb_cfg_number_row_t channel_numbers[] = {
    NUMBER("rate", raw_notify_channel_t, hb_notify_channel_conf_t, rate, 1, 100000, 10),
    NUMBER("burst", raw_notify_channel_t, hb_notify_channel_conf_t, burst, 1, 100000, 20),
};

/* first_retry_ms etc. fall back per kind, so they are read with a zero
 * fallback and filled in below. */
static const hb_cfg_number_row_t kind_numbers[] = {
    NUMBER("first_retry_ms", raw_notify_kind_t, hb_note_kind_conf_t, first_retry_ms, 0, 3600000, 0),
    NUMBER("max_retry_ms", raw_notify_kind_t, hb_note_kind_conf_t, max_retry_ms, 0, 86400000, 0),
    NUMBER("deadline_s", raw_notify_kind_t, hb_note_kind_conf_t, deadline_s, 0, 2592000, 0),
};

static int build_channel(const hb_cfg_report_t *report, const char *name, const char *target_key,
                         raw_notify_channel_t *raw, hb_notify_channel_conf_t *conf)
{
    if (!raw)
        return hb_cfg_read_numbers(report, name, ROWS(channel_numbers), &(raw_notify_channel_t){0},
                                   conf);
    char key[KEY_MAX];
    hb_cfg_say(key, sizeof key, "%s.%s", name, target_key);
    if (hb_cfg_check_text(report, key, raw->target) != 0)
        return -1;
    if (strcmp(target_key, "run") != 0 && strncmp(raw->target, "http://", 7) != 0 &&
        strncmp(raw->target, "https://", 8) != 0)
        return hb_cfg_fail(report, key, "\"%s\" is not an http:// or https:// URL", raw->target);
    hb_cfg_say(key, sizeof key, "%s.secret", name);
    if (raw->secret && strlen(raw->secret) < 16)
        return hb_cfg_fail(report, key, "is shorter than 16 characters");
    if (hb_cfg_read_numbers(report, name, ROWS(channel_numbers), raw, conf) != 0)
        return -1;
    conf->enabled = true;
    conf->target = hb_cfg_take(&raw->target);
    conf->secret = raw->secret ? hb_cfg_take(&raw->secret) : NULL;
    return 0;
}

static int build_messages(const hb_cfg_report_t *report, raw_notifier_t *raw,
                          hb_notifier_conf_t *conf)
{
    bool seen[HB_NOTE_KINDS] = {false};
    for (unsigned i = 0; raw && i < raw->messages_count; i++) {
        raw_notify_kind_t *m = &raw->messages[i];
        char where[KEY_MAX], key[KEY_MAX], why[400];
        hb_cfg_say(where, sizeof where, "notifier.messages[%u]", i);
        hb_cfg_say(key, sizeof key, "%s.kind", where);
        int kind = hb_note_kind_parse(m->kind);
        if (kind < 0)
            return hb_cfg_fail(report, key,
                               "unknown kind \"%s\" (near, called, recalled, no_show, materials, "
                               "accepted, ready, reminder)",
                               m->kind);
        if (seen[kind])
            return hb_cfg_fail(report, key, "\"%s\" is configured twice", m->kind);
        seen[kind] = true;
        hb_note_kind_conf_t *k = &conf->kinds[kind];
        if (hb_cfg_read_numbers(report, where, ROWS(kind_numbers), m, k) != 0)
            return -1;
        const kind_default_t *d = &kind_defaults[kind];
        if (!m->first_retry_ms)
            k->first_retry_ms = d->first_retry_ms;
        if (!m->max_retry_ms)
            k->max_retry_ms = d->max_retry_ms;
        if (!m->deadline_s)
            k->deadline_s = d->deadline_s;
        if (k->max_retry_ms < k->first_retry_ms) {
            hb_cfg_say(key, sizeof key, "%s.max_retry_ms", where);
            return hb_cfg_fail(report, key, "%u is less than first_retry_ms (%u)", k->max_retry_ms,
                               k->first_retry_ms);
        }
        const char *langs[2] = {"zh", "en"};
        char **texts[2] = {&m->zh, &m->en};
        char **slots[2] = {&k->zh, &k->en};
        for (int l = 0; l < 2; l++) {
            if (!*texts[l])
                continue;
            hb_cfg_say(key, sizeof key, "%s.%s", where, langs[l]);
            if (hb_cfg_check_text(report, key, *texts[l]) != 0)
                return -1;
            if (hb_note_template_check(kind, *texts[l], why, sizeof why) != 0)
                return hb_cfg_fail(report, key, "%s", why);
            free(*slots[l]);
            *slots[l] = hb_cfg_take(texts[l]);
        }
    }
    return 0;
}

int hb_cfg_notifier_build(const hb_cfg_report_t *report, raw_notifier_t *raw, hb_config_t *config)
{
    hb_notifier_conf_t *conf = &config->notifier;
    for (int k = 0; k < HB_NOTE_KINDS; k++) {
        const kind_default_t *d = &kind_defaults[k];
        conf->kinds[k] = (hb_note_kind_conf_t){strdup(d->zh), strdup(d->en), d->first_retry_ms,
                                               d->max_retry_ms, d->deadline_s};
        if (!conf->kinds[k].zh || !conf->kinds[k].en)
            return -1;
    }
    raw_notifier_t empty = {0};
    raw_notifier_t *r = raw ? raw : &empty;
    if (hb_cfg_check_text(report, "notifier.db", r->db) != 0 ||
        (r->query && hb_cfg_check_endpoint(report, "notifier.query", r->query) != 0) ||
        hb_cfg_read_numbers(report, "notifier", ROWS(top_numbers), r, conf) != 0)
        return -1;
    if (r->language && strcmp(r->language, "zh") != 0 && strcmp(r->language, "en") != 0)
        return hb_cfg_fail(report, "notifier.language", "\"%s\" is neither zh nor en", r->language);
    conf->language = strdup(r->language ? r->language : "zh");
    if (r->near_count) {
        conf->near = calloc(r->near_count, sizeof *conf->near);
        if (!conf->near)
            return -1;
    }
    for (unsigned i = 0; i < r->near_count; i++) {
        char where[KEY_MAX], key[KEY_MAX];
        hb_cfg_say(where, sizeof where, "notifier.near[%u]", i);
        hb_cfg_say(key, sizeof key, "%s.service", where);
        const char *prefix = r->near[i].service;
        if (strlen(prefix) != 1 || prefix[0] < 'A' || prefix[0] > 'Z')
            return hb_cfg_fail(report, key, "\"%s\" is not a service prefix (one capital letter)",
                               prefix);
        if (hb_cfg_read_numbers(report, where, ROWS(near_numbers), &r->near[i], &conf->near[i]) !=
            0)
            return -1;
        conf->near[i].service = hb_cfg_take(&r->near[i].service);
        conf->near_count = i + 1;
    }
    if (build_channel(report, "notifier.webhook", "allow", r->webhook, &conf->webhook) != 0 ||
        build_channel(report, "notifier.sms", "url", r->sms, &conf->sms) != 0 ||
        build_channel(report, "notifier.command", "run", r->command, &conf->command) != 0 ||
        build_messages(report, r, conf) != 0)
        return -1;
    conf->db = r->db ? hb_cfg_take(&r->db) : strdup("var/notifier.db");
    conf->query = r->query ? hb_cfg_take(&r->query) : strdup("tcp://127.0.0.1:5562");
    return conf->db && conf->query && conf->language ? 0 : -1;
}

static void free_channel(hb_notify_channel_conf_t *c)
{
    free(c->target);
    free(c->secret);
}

void hb_cfg_notifier_free(hb_notifier_conf_t *conf)
{
    free(conf->db);
    free(conf->query);
    free(conf->language);
    for (unsigned i = 0; i < conf->near_count; i++)
        free(conf->near[i].service);
    free(conf->near);
    free_channel(&conf->webhook);
    free_channel(&conf->sms);
    free_channel(&conf->command);
    for (int k = 0; k < HB_NOTE_KINDS; k++) {
        free(conf->kinds[k].zh);
        free(conf->kinds[k].en);
    }
}
