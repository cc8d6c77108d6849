/* What the hall file loader shares with its sections.
 *
 * A daemon that needs settings of its own owns a section of the hall file
 * (display:, audit:, notifier:, ...) in config_<section>.c: the raw struct
 * libcyaml loads it into (numbers as text), the schema fields, and a build
 * function that checks every value and moves it into the public struct of
 * hallbus/config_<section>.h. config.c wires each section in at four places
 * (raw_config_t, config_fields, build, hb_config_destroy). */
#ifndef HALLBUS_CONFIG_INTERNAL_H
#define HALLBUS_CONFIG_INTERNAL_H

#include <cyaml/cyaml.h>
#include <stddef.h>
#include <stdint.h>

#include "hallbus/config.h"

/* Room for the longest key path an error names: "windows[199].services[25]". */
#define KEY_MAX 96

#define REQUIRED CYAML_FLAG_DEFAULT
#define OPTIONAL CYAML_FLAG_OPTIONAL
/* Every scalar is loaded as text; numbers are parsed by hb_cfg_read_numbers. */
#define TEXT(key, flags, type, member)                                                             \
    CYAML_FIELD_STRING_PTR(key, flags, type, member, 0, CYAML_UNLIMITED)

extern const cyaml_schema_value_t hb_cfg_text_entry; /* a list entry that is text */

typedef struct {
    const char *file;
    char *err; /* HB_CONFIG_ERR_MAX bytes */
} hb_cfg_report_t;

/* One row per numeric option: where its text is, where its value goes,
 * its bounds and its default. */
typedef struct {
    const char *key;
    size_t text_at;  /* offset of the char * in the raw struct */
    size_t value_at; /* offset of the uint32_t in the public struct */
    uint32_t min;
    uint32_t max;
    uint32_t fallback; /* when the key is absent */
} hb_cfg_number_row_t;

#define NUMBER(key, raw, conf, member, min, max, fallback)                                         \
    {                                                                                              \
        key, offsetof(raw, member), offsetof(conf, member), min, max, fallback                     \
    }
#define ROWS(table) (table), (sizeof(table) / sizeof((table)[0]))

/* snprintf for messages and key paths. */
void hb_cfg_say(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes "FILE:LINE: KEY: reason" with the line where KEY is written (or
 * its nearest ancestor); returns -1 for the caller to pass on. */
int hb_cfg_fail(const hb_cfg_report_t *report, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parses each row's text in RAW into CONF; WHERE prefixes the keys ("queue"). */
int hb_cfg_read_numbers(const hb_cfg_report_t *report, const char *where,
                        const hb_cfg_number_row_t *rows, size_t count, const void *raw, void *conf);
/* Optional text may be NULL; no text may be "". */
int hb_cfg_check_text(const hb_cfg_report_t *report, const char *key, const char *text);
int hb_cfg_check_endpoint(const hb_cfg_report_t *report, const char *key, const char *text);
/* "HH:MM" as minutes since midnight, or -1. */
int hb_cfg_parse_clock(const char *text);
/* Moves a string (or list) out of the raw struct, leaving NULL behind so
 * that cyaml_free() frees only what was not taken. */
char *hb_cfg_take(char **slot);
char **hb_cfg_take_list(char ***slot);

#endif
