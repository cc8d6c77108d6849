/* The hall file loader.
 *
 * Three passes, each doing what it is good at:
 *   1. libyaml reads the file once for syntax, so a broken file is reported
 *      as "not valid YAML" with libyaml's own words and line;
 *   2. libcyaml loads it against the schema below into raw_* structs
 *      (structure, required keys, unknown keys, list lengths); its errors
 *      arrive as log text and are rewritten into our one-line form;
 *   3. the tables and checks here give every value its meaning (numbers and
 *      their bounds, defaults, references between services and windows) and
 *      move the strings into the public hb_config_t.
 *
 * Numbers are loaded as text and parsed here rather than as CYAML_UINT:
 * libcyaml 1.3.1 reads them with strtoull(..., 0) and accepts any prefix
 * that parses, so "09" becomes 0, "010" becomes 8 and "12abc" becomes 12.
 * A zero-padded window number must not silently become another window. */
#include "hallbus/config.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cyaml/cyaml.h>

#include "config_audit_schema.h"
#include "config_counter_schema.h"
#include "config_display_schema.h"
#include "config_hours_schema.h"
#include "config_internal.h"
#include "config_notifier_schema.h"
#include "config_security_schema.h"
#include "config_locate.h"

/* ── the file as libcyaml loads it ── */

const cyaml_schema_value_t hb_cfg_text_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

typedef struct {
    char *id;
    char *name;
    char *name_en;
    char *rollover;
    char *address;
} raw_hall_t;

typedef struct {
    char *slot_minutes;
    char *capacity;
    char *checkin_before_minutes;
    char *checkin_after_minutes;
} raw_appointments_t;

typedef struct {
    char *prefix;
    char *name;
    char *name_en;
    char *quota;
    char *target_minutes;
    char **materials;
    unsigned materials_count;
    raw_appointments_t *appointments;
} raw_service_t;

typedef struct {
    char *number;
    char **services;
    unsigned services_count;
    char *policy;
    char **weights;
    unsigned weights_count;
} raw_window_t;

typedef struct {
    char *queue_db;
    char *recall_limit;
    char *heartbeat_ms;
    char *pub_hwm;
    char *journal_days;
    char *contact_secret;
    char *requeue_minutes;
    char *requeue_after;
    char *contact_retention_days;
} raw_queue_t;

typedef struct {
    raw_hall_t hall;
    raw_service_t *services;
    unsigned services_count;
    raw_window_t *windows;
    unsigned windows_count;
    hb_endpoints_conf_t endpoints;
    raw_queue_t queue;
    raw_hours_t *hours;
    raw_display_t *display;
    raw_counter_t *counter;
    raw_audit_t *audit;
    raw_notifier_t *notifier;
    raw_security_t *security;
} raw_config_t;

static const cyaml_schema_field_t hall_fields[] = {
    TEXT("id", REQUIRED, raw_hall_t, id),
    TEXT("name", REQUIRED, raw_hall_t, name),
    TEXT("name_en", OPTIONAL, raw_hall_t, name_en),
    TEXT("rollover", OPTIONAL, raw_hall_t, rollover),
    TEXT("address", OPTIONAL, raw_hall_t, address),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t appointment_fields[] = {
    TEXT("slot_minutes", OPTIONAL, raw_appointments_t, slot_minutes),
    TEXT("capacity", OPTIONAL, raw_appointments_t, capacity),
    TEXT("checkin_before_minutes", OPTIONAL, raw_appointments_t, checkin_before_minutes),
    TEXT("checkin_after_minutes", OPTIONAL, raw_appointments_t, checkin_after_minutes),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t service_fields[] = {
    TEXT("prefix", REQUIRED, raw_service_t, prefix),
    TEXT("name", REQUIRED, raw_service_t, name),
    TEXT("name_en", OPTIONAL, raw_service_t, name_en),
    TEXT("quota", OPTIONAL, raw_service_t, quota),
    TEXT("target_minutes", OPTIONAL, raw_service_t, target_minutes),
    CYAML_FIELD_SEQUENCE("materials", CYAML_FLAG_POINTER | OPTIONAL, raw_service_t, materials,
                         &hb_cfg_text_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_MAPPING_PTR("appointments", OPTIONAL, raw_service_t, appointments,
                            appointment_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t service_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, raw_service_t, service_fields),
};

static const cyaml_schema_field_t window_fields[] = {
    TEXT("number", REQUIRED, raw_window_t, number),
    CYAML_FIELD_SEQUENCE("services", CYAML_FLAG_POINTER, raw_window_t, services, &hb_cfg_text_entry,
                         1, 26),
    TEXT("policy", OPTIONAL, raw_window_t, policy),
    CYAML_FIELD_SEQUENCE("weights", CYAML_FLAG_POINTER | OPTIONAL, raw_window_t, weights,
                         &hb_cfg_text_entry, 1, 26),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t window_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, raw_window_t, window_fields),
};

static const cyaml_schema_field_t endpoint_fields[] = {
    TEXT("command", REQUIRED, hb_endpoints_conf_t, command),
    TEXT("bus_pub", REQUIRED, hb_endpoints_conf_t, bus_pub),
    TEXT("bus_sub", REQUIRED, hb_endpoints_conf_t, bus_sub),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t queue_fields[] = {
    TEXT("db", OPTIONAL, raw_queue_t, queue_db),
    TEXT("recall_limit", OPTIONAL, raw_queue_t, recall_limit),
    TEXT("heartbeat_ms", OPTIONAL, raw_queue_t, heartbeat_ms),
    TEXT("pub_hwm", OPTIONAL, raw_queue_t, pub_hwm),
    TEXT("journal_days", OPTIONAL, raw_queue_t, journal_days),
    TEXT("contact_secret", OPTIONAL, raw_queue_t, contact_secret),
    TEXT("requeue_minutes", OPTIONAL, raw_queue_t, requeue_minutes),
    TEXT("requeue_after", OPTIONAL, raw_queue_t, requeue_after),
    TEXT("contact_retention_days", OPTIONAL, raw_queue_t, contact_retention_days),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t config_fields[] = {
    CYAML_FIELD_MAPPING("hall", REQUIRED, raw_config_t, hall, hall_fields),
    CYAML_FIELD_SEQUENCE("services", CYAML_FLAG_POINTER, raw_config_t, services, &service_entry, 1,
                         26),
    CYAML_FIELD_SEQUENCE("windows", CYAML_FLAG_POINTER, raw_config_t, windows, &window_entry, 1,
                         200),
    CYAML_FIELD_MAPPING("endpoints", REQUIRED, raw_config_t, endpoints, endpoint_fields),
    CYAML_FIELD_MAPPING("queue", OPTIONAL, raw_config_t, queue, queue_fields),
    CYAML_FIELD_MAPPING_PTR("hours", OPTIONAL, raw_config_t, hours, hb_cfg_hours_fields),
    CYAML_FIELD_MAPPING_PTR("display", OPTIONAL, raw_config_t, display, hb_cfg_display_fields),
    CYAML_FIELD_MAPPING_PTR("counter", OPTIONAL, raw_config_t, counter, hb_cfg_counter_fields),
    CYAML_FIELD_MAPPING_PTR("audit", OPTIONAL, raw_config_t, audit, hb_cfg_audit_fields),
    CYAML_FIELD_MAPPING_PTR("notifier", OPTIONAL, raw_config_t, notifier, hb_cfg_notifier_fields),
    CYAML_FIELD_MAPPING_PTR("security", OPTIONAL, raw_config_t, security, hb_cfg_security_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t config_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, raw_config_t, config_fields),
};

/* ── the numbers: one row per option, with its bounds and default ── */

static const hb_cfg_number_row_t service_numbers[] = {
    NUMBER("quota", raw_service_t, hb_service_conf_t, quota, 0, 9999, 0),
    NUMBER("target_minutes", raw_service_t, hb_service_conf_t, target_minutes, 1, 600, 15),
};

/* "number" is required by the schema, so its fallback is never used. */
static const hb_cfg_number_row_t appointment_numbers[] = {
    NUMBER("slot_minutes", raw_appointments_t, hb_appointments_conf_t, slot_minutes, 5, 240, 30),
    NUMBER("capacity", raw_appointments_t, hb_appointments_conf_t, capacity, 1, 1000, 4),
    NUMBER("checkin_before_minutes", raw_appointments_t, hb_appointments_conf_t,
           checkin_before_minutes, 0, 240, 30),
    NUMBER("checkin_after_minutes", raw_appointments_t, hb_appointments_conf_t,
           checkin_after_minutes, 0, 240, 15),
};

static const hb_cfg_number_row_t window_numbers[] = {
    NUMBER("number", raw_window_t, hb_window_conf_t, number, 1, 9999, 0),
};

static const hb_cfg_number_row_t queue_numbers[] = {
    NUMBER("recall_limit", raw_queue_t, hb_queue_conf_t, recall_limit, 0, 10, 3),
    NUMBER("heartbeat_ms", raw_queue_t, hb_queue_conf_t, heartbeat_ms, 100, 60000, 1000),
    NUMBER("pub_hwm", raw_queue_t, hb_queue_conf_t, pub_hwm, 1000, 10000000, 100000),
    NUMBER("journal_days", raw_queue_t, hb_queue_conf_t, journal_days, 1, 3650, 7),
    NUMBER("requeue_minutes", raw_queue_t, hb_queue_conf_t, requeue_minutes, 1, 1440, 30),
    NUMBER("requeue_after", raw_queue_t, hb_queue_conf_t, requeue_after, 0, 1000, 0),
    NUMBER("contact_retention_days", raw_queue_t, hb_queue_conf_t, contact_retention_days, 1, 3650,
           30),
};

#define ROLLOVER_DEFAULT (3 * 60)

/* ── error reporting ── */

/* snprintf for messages and key paths. Both are far shorter than their
 * buffers; one cut short would still name the right key, so truncation is
 * accepted here once rather than checked at every call. */
void hb_cfg_say(char *buf, size_t size, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(buf, size, fmt, args);
    va_end(args);
}

/* Writes "FILE:LINE: KEY: reason" with the line where KEY is written
 * (or its nearest ancestor), and returns -1 for the caller to pass on. */
int hb_cfg_fail(const hb_cfg_report_t *report, const char *key, const char *fmt, ...)
{
    char reason[HB_CONFIG_ERR_MAX];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof reason, fmt, args);
    va_end(args);

    unsigned line = hb_config_locate(report->file, key);
    hb_cfg_say(report->err, HB_CONFIG_ERR_MAX, "%s:%u: %s%s%s", report->file, line ? line : 1, key,
               *key ? ": " : "", reason);
    return -1;
}

/* libcyaml explains a failed load in several log calls: the reason, then
 * "Load: Backtrace:" and one line per level it was in, innermost first:
 *     in mapping field 'quota' (line: 6, column: 12)
 *     in sequence entry '1' (line: 5, column: 5)
 *     in mapping (line: 5, column: 13)
 * They are collected here and rewritten by explain_cyaml(). */
typedef struct {
    char text[2048];
    size_t len;
} load_log_t;

static void capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    load_log_t *log = ctx;
    size_t room = sizeof log->text - log->len;
    if (level < CYAML_LOG_ERROR || room <= 1)
        return;
    int n = vsnprintf(log->text + log->len, room, fmt, args);
    if (n > 0)
        log->len += (size_t)n < room ? (size_t)n : room - 1;
}

typedef struct {
    bool is_entry;
    unsigned entry;    /* 1-based: libcyaml counts the entry it is reading */
    char key[KEY_MAX]; /* "" for "in mapping", i.e. while reading a key */
} frame_t;

#define FRAMES_MAX 16

static const char *after(const char *text, const char *prefix)
{
    size_t len = strlen(prefix);
    return strncmp(text, prefix, len) == 0 ? text + len : NULL;
}

/* Splits the captured log into the reason and the backtrace frames. */
static int parse_log(char *text, char *reason, size_t reason_size, frame_t *frames)
{
    int count = 0;
    reason[0] = '\0';

    char *saved = NULL;
    for (char *line = strtok_r(text, "\n", &saved); line; line = strtok_r(NULL, "\n", &saved)) {
        const char *rest;
        if (count < FRAMES_MAX && (rest = after(line, "  in mapping field '"))) {
            frame_t *frame = &frames[count++];
            size_t len = strcspn(rest, "'");
            if (len >= sizeof frame->key)
                len = sizeof frame->key - 1;
            *frame = (frame_t){.is_entry = false};
            memcpy(frame->key, rest, len);
            frame->key[len] = '\0';
        } else if (count < FRAMES_MAX && (rest = after(line, "  in sequence entry '"))) {
            frames[count++] = (frame_t){.is_entry = true, .entry = (unsigned)atoi(rest)};
        } else if (count < FRAMES_MAX && after(line, "  in mapping")) {
            frames[count++] = (frame_t){.is_entry = false};
        } else if (reason[0] == '\0' && (rest = after(line, "Load: ")) &&
                   strcmp(rest, "Backtrace:") != 0) {
            snprintf(reason, reason_size, "%s", rest);
        }
    }
    return count;
}

/* Builds "services[0].materials" from frames, outermost first. */
static void frames_to_key(const frame_t *frames, int count, char *key, size_t size)
{
    size_t len = 0;
    key[0] = '\0';
    for (int i = count - 1; i >= 0 && len < size; i--) {
        int n = 0;
        if (frames[i].is_entry && frames[i].entry > 0)
            n = snprintf(key + len, size - len, "[%u]", frames[i].entry - 1);
        else if (!frames[i].is_entry && frames[i].key[0])
            n = snprintf(key + len, size - len, "%s%s", len ? "." : "", frames[i].key);
        if (n > 0)
            len += (size_t)n;
    }
}

/* libcyaml's names for what it wanted and what it found. */
static const char *shape(const char *name)
{
    if (strcmp(name, "MAPPING") == 0 || strcmp(name, "MAPPING_START") == 0)
        return "a mapping";
    if (strcmp(name, "SEQUENCE") == 0 || strcmp(name, "SEQUENCE_START") == 0)
        return "a list";
    if (strcmp(name, "ALIAS") == 0)
        return "an alias";
    return "a single value";
}

static void explain_cyaml(const hb_cfg_report_t *report, cyaml_err_t code, load_log_t *log)
{
    char raw[512];
    frame_t frames[FRAMES_MAX];
    int count = parse_log(log->text, raw, sizeof raw, frames);
    if (raw[0] == '\0')
        snprintf(raw, sizeof raw, "%s", cyaml_strerror(code));

    /* By default the error is about the innermost thing libcyaml was
     * reading. Some errors are about its container instead, and some name
     * a key that is not in the backtrace at all. */
    const frame_t *from = frames;
    const char *tail = NULL;
    bool repeated = false;
    char reason[512];
    char wanted[32], found[32];
    unsigned got, limit;
    const char *arg;

    if ((arg = after(raw, "Unexpected key: "))) {
        tail = arg;
        snprintf(reason, sizeof reason, "unknown key");
    } else if ((arg = after(raw, "Missing required mapping field: "))) {
        /* The innermost frame is the mapping itself, naming whichever
         * field it read last (or its first field if it read none). */
        if (count > 0 && !from->is_entry)
            from++, count--;
        tail = arg;
        snprintf(reason, sizeof reason, "missing");
    } else if (after(raw, "Mapping field already seen: ")) {
        repeated = true;
        snprintf(reason, sizeof reason, "given twice");
    } else if (sscanf(raw, "Insufficient entries (%u of %u min)", &got, &limit) == 2) {
        if (count > 0 && from->is_entry)
            from++, count--;
        snprintf(reason, sizeof reason, "has %u entries, needs at least %u", got, limit);
    } else if (sscanf(raw, "Excessive entries (%u max)", &limit) == 1) {
        if (count > 0 && from->is_entry)
            from++, count--;
        snprintf(reason, sizeof reason, "has more than %u entries", limit);
    } else if (sscanf(raw, "Expecting %31[^,], got event: %31s", wanted, found) == 2) {
        snprintf(reason, sizeof reason, "expected %s, found %s", shape(wanted), shape(found));
    } else {
        snprintf(reason, sizeof reason, "%s", raw);
    }

    char key[KEY_MAX];
    frames_to_key(from, count, key, sizeof key);
    if (tail) {
        size_t len = strlen(key);
        int n = snprintf(key + len, sizeof key - len, "%s%s", len ? "." : "", tail);
        if (n < 0 || (size_t)n >= sizeof key - len)
            key[sizeof key - 1] = '\0'; /* an absurdly long key is cut, still naming its start */
    }
    if (repeated) {
        unsigned line = hb_config_locate_repeat(report->file, key);
        hb_cfg_say(report->err, HB_CONFIG_ERR_MAX, "%s:%u: %s: %s", report->file, line ? line : 1,
                   key, reason);
    } else {
        hb_cfg_fail(report, key, "%s", reason);
    }
}

/* ── checks on single values ── */

/* Whole decimal numbers only: no sign, no fraction, no 0x, no trailing
 * words. Leading zeros are decimal ("08" is eight). Returns 0 or -1. */
static int parse_whole(const char *text, uint64_t *out)
{
    uint64_t value = 0;
    if (*text == '\0')
        return -1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (value > (UINT64_MAX - 9) / 10)
            value = UINT64_MAX; /* saturate: it is out of every range */
        else
            value = value * 10 + (uint64_t)(*p - '0');
    }
    *out = value;
    return 0;
}

int hb_cfg_read_numbers(const hb_cfg_report_t *report, const char *where,
                        const hb_cfg_number_row_t *rows, size_t count, const void *raw, void *conf)
{
    for (size_t i = 0; i < count; i++) {
        const hb_cfg_number_row_t *row = &rows[i];
        const char *text = *(char *const *)((const char *)raw + row->text_at);
        uint32_t *value = (uint32_t *)((char *)conf + row->value_at);
        char key[KEY_MAX];
        hb_cfg_say(key, sizeof key, "%s.%s", where, row->key);

        uint64_t number;
        if (!text)
            *value = row->fallback;
        else if (parse_whole(text, &number) != 0)
            return hb_cfg_fail(report, key, "\"%s\" is not a whole number", text);
        else if (number < row->min || number > row->max)
            return hb_cfg_fail(report, key, "%s is out of range %u..%u", text, row->min, row->max);
        else
            *value = (uint32_t)number;
    }
    return 0;
}

/* Required text is non-NULL (the schema says so); optional text may be
 * NULL; neither may be given as an empty string. */
int hb_cfg_check_text(const hb_cfg_report_t *report, const char *key, const char *text)
{
    if (text && text[0] == '\0')
        return hb_cfg_fail(report, key, "must not be empty");
    return 0;
}

int hb_cfg_check_endpoint(const hb_cfg_report_t *report, const char *key, const char *text)
{
    if (hb_cfg_check_text(report, key, text) != 0)
        return -1;
    const char *sep = strstr(text, "://");
    if (!sep || sep == text || sep[3] == '\0')
        return hb_cfg_fail(report, key, "\"%s\" is not a ZeroMQ endpoint like tcp://127.0.0.1:5550",
                           text);
    return 0;
}

/* "HH:MM", 00:00..23:59, as minutes since midnight; -1 if malformed. */
int hb_cfg_parse_clock(const char *text)
{
    if (strlen(text) != 5 || text[2] != ':')
        return -1;
    int digits[4];
    const int at[4] = {0, 1, 3, 4};
    for (int i = 0; i < 4; i++) {
        if (text[at[i]] < '0' || text[at[i]] > '9')
            return -1;
        digits[i] = text[at[i]] - '0';
    }
    int hours = digits[0] * 10 + digits[1];
    int minutes = digits[2] * 10 + digits[3];
    if (hours > 23 || minutes > 59)
        return -1;
    return hours * 60 + minutes;
}

static bool is_hall_id(const char *text)
{
    size_t len = strlen(text);
    if (len < 1 || len > 32)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* ── checks on each section; values are read into SELF, strings stay in RAW ── */

static int check_hall(const hb_cfg_report_t *report, const raw_hall_t *raw, hb_hall_conf_t *hall)
{
    if (!is_hall_id(raw->id))
        return hb_cfg_fail(report, "hall.id", "\"%s\" must be 1 to 32 of a-z, 0-9, _ and -",
                           raw->id);
    if (hb_cfg_check_text(report, "hall.name", raw->name) != 0 ||
        hb_cfg_check_text(report, "hall.name_en", raw->name_en) != 0 ||
        hb_cfg_check_text(report, "hall.address", raw->address) != 0)
        return -1;
    hall->rollover_minute = ROLLOVER_DEFAULT;
    if (raw->rollover) {
        int minute = hb_cfg_parse_clock(raw->rollover);
        if (minute < 0)
            return hb_cfg_fail(report, "hall.rollover", "\"%s\" is not a time of day HH:MM",
                               raw->rollover);
        hall->rollover_minute = (uint32_t)minute;
    }
    return 0;
}

static int check_services(const hb_cfg_report_t *report, const raw_config_t *raw, hb_config_t *self)
{
    for (unsigned i = 0; i < raw->services_count; i++) {
        const raw_service_t *service = &raw->services[i];
        char where[KEY_MAX], key[KEY_MAX];
        hb_cfg_say(where, sizeof where, "services[%u]", i);

        hb_cfg_say(key, sizeof key, "%s.prefix", where);
        const char *prefix = service->prefix;
        if (strlen(prefix) != 1 || prefix[0] < 'A' || prefix[0] > 'Z')
            return hb_cfg_fail(report, key, "\"%s\" must be one capital letter A-Z", prefix);
        for (unsigned j = 0; j < i; j++)
            if (strcmp(raw->services[j].prefix, prefix) == 0)
                return hb_cfg_fail(report, key, "\"%s\" is already used by services[%u]", prefix,
                                   j);

        hb_cfg_say(key, sizeof key, "%s.name", where);
        if (hb_cfg_check_text(report, key, service->name) != 0)
            return -1;
        hb_cfg_say(key, sizeof key, "%s.name_en", where);
        if (hb_cfg_check_text(report, key, service->name_en) != 0)
            return -1;
        for (unsigned m = 0; m < service->materials_count; m++) {
            hb_cfg_say(key, sizeof key, "%s.materials[%u]", where, m);
            if (hb_cfg_check_text(report, key, service->materials[m]) != 0)
                return -1;
        }
        if (hb_cfg_read_numbers(report, where, ROWS(service_numbers), service,
                                &self->services[i]) != 0)
            return -1;
        if (service->appointments) {
            hb_cfg_say(key, sizeof key, "%s.appointments", where);
            self->services[i].appointments.enabled = true;
            if (hb_cfg_read_numbers(report, key, ROWS(appointment_numbers), service->appointments,
                                    &self->services[i].appointments) != 0)
                return -1;
        }
    }
    return 0;
}

static bool service_defined(const raw_config_t *raw, const char *prefix)
{
    for (unsigned i = 0; i < raw->services_count; i++)
        if (strcmp(raw->services[i].prefix, prefix) == 0)
            return true;
    return false;
}

/* "ordered", "weighted" (with weights "A:3", "B:1" for each of its services)
 * or "longest-wait" (the default). */
static int check_policy(const hb_cfg_report_t *report, const char *where, const raw_window_t *raw,
                        hb_window_conf_t *window)
{
    char key[KEY_MAX];
    hb_cfg_say(key, sizeof key, "%s.policy", where);
    if (!raw->policy || strcmp(raw->policy, "longest-wait") == 0)
        window->policy = HB_POLICY_LONGEST_WAIT;
    else if (strcmp(raw->policy, "ordered") == 0)
        window->policy = HB_POLICY_ORDERED;
    else if (strcmp(raw->policy, "weighted") == 0)
        window->policy = HB_POLICY_WEIGHTED;
    else
        return hb_cfg_fail(report, key, "\"%s\" is not a policy: ordered, weighted or longest-wait",
                           raw->policy);
    window->weights = calloc(raw->services_count, sizeof *window->weights);
    if (!window->weights)
        return hb_cfg_fail(report, key, "out of memory");
    for (unsigned s = 0; s < raw->services_count; s++)
        window->weights[s] = 1;
    if (raw->weights_count && window->policy != HB_POLICY_WEIGHTED) {
        hb_cfg_say(key, sizeof key, "%s.weights", where);
        return hb_cfg_fail(report, key, "weights need policy: weighted");
    }
    for (unsigned w = 0; w < raw->weights_count; w++) {
        hb_cfg_say(key, sizeof key, "%s.weights[%u]", where, w);
        char prefix[8];
        unsigned weight;
        char tail;
        if (sscanf(raw->weights[w], "%7[A-Z]:%u%c", prefix, &weight, &tail) != 2 ||
            strlen(prefix) != 1 || weight < 1 || weight > 100)
            return hb_cfg_fail(report, key,
                               "\"%s\" is not SERVICE:WEIGHT with a weight of 1..100, like \"A:3\"",
                               raw->weights[w]);
        unsigned found = raw->services_count;
        for (unsigned s = 0; s < raw->services_count; s++)
            if (strcmp(raw->services[s], prefix) == 0)
                found = s;
        if (found == raw->services_count)
            return hb_cfg_fail(report, key, "service \"%s\" is not among this window's services",
                               prefix);
        window->weights[found] = weight;
    }
    if (window->policy == HB_POLICY_WEIGHTED && raw->weights_count == 0) {
        hb_cfg_say(key, sizeof key, "%s.weights", where);
        return hb_cfg_fail(report, key, "missing: a weighted window needs its weights");
    }
    return 0;
}

static int check_windows(const hb_cfg_report_t *report, const raw_config_t *raw, hb_config_t *self)
{
    for (unsigned i = 0; i < raw->windows_count; i++) {
        const raw_window_t *window = &raw->windows[i];
        char where[KEY_MAX], key[KEY_MAX];
        hb_cfg_say(where, sizeof where, "windows[%u]", i);

        if (hb_cfg_read_numbers(report, where, ROWS(window_numbers), window, &self->windows[i]) !=
            0)
            return -1;
        uint32_t number = self->windows[i].number;
        for (unsigned j = 0; j < i; j++) {
            if (self->windows[j].number == number) {
                hb_cfg_say(key, sizeof key, "%s.number", where);
                return hb_cfg_fail(report, key, "%u is already used by windows[%u]", number, j);
            }
        }

        for (unsigned s = 0; s < window->services_count; s++) {
            const char *prefix = window->services[s];
            hb_cfg_say(key, sizeof key, "%s.services[%u]", where, s);
            if (!service_defined(raw, prefix))
                return hb_cfg_fail(report, key, "unknown service \"%s\"", prefix);
            for (unsigned t = 0; t < s; t++)
                if (strcmp(window->services[t], prefix) == 0)
                    return hb_cfg_fail(report, key, "\"%s\" is already listed at %s.services[%u]",
                                       prefix, where, t);
        }
        if (check_policy(report, where, window, &self->windows[i]) != 0)
            return -1;
    }
    return 0;
}

static int check_rest(const hb_cfg_report_t *report, const raw_config_t *raw, hb_config_t *self)
{
    if (hb_cfg_check_endpoint(report, "endpoints.command", raw->endpoints.command) != 0 ||
        hb_cfg_check_endpoint(report, "endpoints.bus_pub", raw->endpoints.bus_pub) != 0 ||
        hb_cfg_check_endpoint(report, "endpoints.bus_sub", raw->endpoints.bus_sub) != 0 ||
        hb_cfg_check_text(report, "queue.db", raw->queue.queue_db) != 0 ||
        hb_cfg_check_text(report, "queue.contact_secret", raw->queue.contact_secret) != 0)
        return -1;
    if (raw->queue.contact_secret && strlen(raw->queue.contact_secret) < 16) {
        hb_cfg_fail(report, "queue.contact_secret", "is shorter than 16 characters");
        return -1;
    }
    return hb_cfg_read_numbers(report, "queue", ROWS(queue_numbers), &raw->queue, &self->queue);
}

/* ── building the public config ── */

char *hb_cfg_take(char **slot)
{
    char *value = *slot;
    *slot = NULL;
    return value;
}

char **hb_cfg_take_list(char ***slot)
{
    char **value = *slot;
    *slot = NULL;
    return value;
}

/* Moves every string and list from RAW into SELF, leaving NULL behind so
 * cyaml_free() only frees what was not taken. Cannot fail. */
static void adopt(hb_config_t *self, raw_config_t *raw)
{
    self->hall.id = hb_cfg_take(&raw->hall.id);
    self->hall.name = hb_cfg_take(&raw->hall.name);
    self->hall.name_en = hb_cfg_take(&raw->hall.name_en);
    self->hall.address = hb_cfg_take(&raw->hall.address);

    for (unsigned i = 0; i < raw->services_count; i++) {
        raw_service_t *from = &raw->services[i];
        hb_service_conf_t *to = &self->services[i];
        to->prefix = hb_cfg_take(&from->prefix);
        to->name = hb_cfg_take(&from->name);
        to->name_en = hb_cfg_take(&from->name_en);
        to->materials = hb_cfg_take_list(&from->materials);
        to->materials_count = from->materials_count;
        from->materials_count = 0;
    }
    for (unsigned i = 0; i < raw->windows_count; i++) {
        self->windows[i].services = hb_cfg_take_list(&raw->windows[i].services);
        self->windows[i].services_count = raw->windows[i].services_count;
        raw->windows[i].services_count = 0;
    }

    self->endpoints = raw->endpoints;
    raw->endpoints = (hb_endpoints_conf_t){0};
    if (raw->queue.queue_db)
        self->queue.queue_db = hb_cfg_take(&raw->queue.queue_db);
    if (raw->queue.contact_secret)
        self->queue.contact_secret = hb_cfg_take(&raw->queue.contact_secret);
}

/* libcyaml's allocations end up in hb_config_t and are freed with free();
 * this makes sure they were made with realloc() in the first place. */
static void *load_memory(void *ctx, void *ptr, size_t size)
{
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

static hb_config_t *build(const hb_cfg_report_t *report, raw_config_t *raw)
{
    hb_config_t *self = calloc(1, sizeof *self);
    if (!self)
        goto out_of_memory;
    self->path = strdup(report->file);
    self->services = calloc(raw->services_count, sizeof *self->services);
    self->windows = calloc(raw->windows_count, sizeof *self->windows);
    if (!self->path || !self->services || !self->windows)
        goto out_of_memory;
    self->services_count = raw->services_count;
    self->windows_count = raw->windows_count;

    if (check_hall(report, &raw->hall, &self->hall) != 0 ||
        check_services(report, raw, self) != 0 || check_windows(report, raw, self) != 0 ||
        check_rest(report, raw, self) != 0 || hb_cfg_hours_build(report, raw->hours, self) != 0 ||
        hb_cfg_display_build(report, raw->display, self) != 0 ||
        hb_cfg_counter_build(report, raw->counter, self) != 0 ||
        hb_cfg_audit_build(report, raw->audit, self) != 0 ||
        hb_cfg_notifier_build(report, raw->notifier, self) != 0 ||
        hb_cfg_security_build(report, raw->security, self) != 0) {
        hb_config_destroy(&self);
        return NULL;
    }

    if (!raw->queue.queue_db) {
        int len = snprintf(NULL, 0, "var/%s-queue.db", raw->hall.id);
        self->queue.queue_db = malloc((size_t)len + 1);
        if (!self->queue.queue_db)
            goto out_of_memory;
        snprintf(self->queue.queue_db, (size_t)len + 1, "var/%s-queue.db", raw->hall.id);
    }
    adopt(self, raw);
    return self;

out_of_memory:
    hb_config_destroy(&self);
    hb_cfg_say(report->err, HB_CONFIG_ERR_MAX, "%s: out of memory", report->file);
    return NULL;
}

hb_config_t *hb_config_load(const char *path, char err[HB_CONFIG_ERR_MAX])
{
    assert(path);
    char scratch[HB_CONFIG_ERR_MAX];
    hb_cfg_report_t report = {.file = path, .err = err ? err : scratch};
    report.err[0] = '\0';

    unsigned line = 0;
    char problem[256];
    int rc = hb_config_check_yaml(path, &line, problem, sizeof problem);
    if (rc == -1) {
        hb_cfg_say(report.err, HB_CONFIG_ERR_MAX, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (rc == -2) {
        hb_cfg_say(report.err, HB_CONFIG_ERR_MAX, "%s:%u: not valid YAML: %s", path, line, problem);
        return NULL;
    }

    load_log_t log = {.len = 0};
    const cyaml_config_t cyaml = {
        .log_fn = capture_log,
        .log_ctx = &log,
        .mem_fn = load_memory,
        .log_level = CYAML_LOG_ERROR,
        .flags = CYAML_CFG_DEFAULT, /* unknown keys are errors */
    };
    cyaml_data_t *data = NULL;
    cyaml_err_t code = cyaml_load_file(path, &cyaml, &config_schema, &data, NULL);
    if (code == CYAML_ERR_FILE_OPEN) {
        hb_cfg_say(report.err, HB_CONFIG_ERR_MAX, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (code != CYAML_OK) {
        explain_cyaml(&report, code, &log);
        return NULL;
    }
    /* An empty file loads as "nothing" rather than failing. */
    raw_config_t *raw = data;
    if (!raw) {
        hb_cfg_fail(&report, "hall", "missing");
        return NULL;
    }

    hb_config_t *self = build(&report, raw);
    cyaml_free(&cyaml, &config_schema, raw, 0);
    return self;
}

static void free_strings(char **strings, unsigned count)
{
    for (unsigned i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

void hb_config_destroy(hb_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hb_config_t *self = *self_p;

    for (unsigned i = 0; i < self->services_count; i++) {
        hb_service_conf_t *service = &self->services[i];
        free(service->prefix);
        free(service->name);
        free(service->name_en);
        free_strings(service->materials, service->materials_count);
    }
    free(self->services);
    for (unsigned i = 0; i < self->windows_count; i++) {
        free_strings(self->windows[i].services, self->windows[i].services_count);
        free(self->windows[i].weights);
    }
    free(self->windows);

    free(self->hall.id);
    free(self->hall.name);
    free(self->hall.name_en);
    free(self->hall.address);
    free(self->endpoints.command);
    free(self->endpoints.bus_pub);
    free(self->endpoints.bus_sub);
    free(self->queue.queue_db);
    free(self->queue.contact_secret);
    hb_cfg_hours_free(&self->hours);
    hb_cfg_display_free(&self->display);
    hb_cfg_counter_free(&self->counter);
    hb_cfg_audit_free(&self->audit);
    hb_cfg_notifier_free(&self->notifier);
    hb_cfg_security_free(&self->security);
    free(self->path);
    free(self);
    *self_p = NULL;
}

const hb_service_conf_t *hb_config_service(const hb_config_t *self, const char *prefix)
{
    assert(self);
    if (!prefix)
        return NULL;
    for (unsigned i = 0; i < self->services_count; i++)
        if (strcmp(self->services[i].prefix, prefix) == 0)
            return &self->services[i];
    return NULL;
}

const hb_window_conf_t *hb_config_window(const hb_config_t *self, uint32_t number)
{
    assert(self);
    for (unsigned i = 0; i < self->windows_count; i++)
        if (self->windows[i].number == number)
            return &self->windows[i];
    return NULL;
}
