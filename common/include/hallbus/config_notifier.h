/* The "notifier:" section of the hall file: settings of hall-notifier.
 *
 *   notifier:
 *     db: "var/h01-notifier.db"     # the durable outbox
 *     query: "tcp://127.0.0.1:5562" # its query endpoint (hallctl notify)
 *     language: zh                  # the text an SMS carries (webhooks get both)
 *     near_ahead: 3                 # "N ahead of you" when N falls to this...
 *     near: [{service: A, ahead: 5}]#   ...or to this for service A
 *     webhook: {allow: "https://hooks.example.cn/", secret: "...16+..."}
 *     sms: {url: "http://sms-gw.local/send", secret: "...", rate: 5, burst: 10}
 *     command: {run: "/usr/local/bin/hall-notify"}
 *     messages:
 *       - {kind: called, deadline_s: 300, zh: "请{number}号到{window}号窗口", en: "..."}
 *
 * A template names fields in braces; a field its kind does not have is
 * refused at load with the file and line. */
#ifndef HALLBUS_CONFIG_NOTIFIER_H
#define HALLBUS_CONFIG_NOTIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a message is about. The order is part of the outbox file: append only. */
typedef enum {
    HB_NOTE_NEAR = 0,  /* "N ahead of you", once per time in line */
    HB_NOTE_CALLED,    /* "please go to window W now" */
    HB_NOTE_RECALLED,  /* the same, again (重呼) */
    HB_NOTE_NO_SHOW,   /* "you missed your call; you may requeue until T" */
    HB_NOTE_MATERIALS, /* the one-time notice of missing materials (一次性告知) */
    HB_NOTE_ACCEPTED,  /* accepted, completion promised by a date (承诺时限) */
    HB_NOTE_READY,     /* the accepted matter is ready to collect (needs an event, see README) */
    HB_NOTE_REMINDER,  /* the appointment is near (needs appointments, see README) */
    HB_NOTE_KINDS
} hb_note_kind_t;

typedef struct {
    char *zh, *en;           /* templates; the built-in ones unless configured */
    uint32_t first_retry_ms; /* first backoff; doubled per attempt, with jitter */
    uint32_t max_retry_ms;   /* backoff ceiling */
    uint32_t deadline_s;     /* after this (from the event) the message is expired */
} hb_note_kind_conf_t;

typedef struct {
    bool enabled;
    char *target;   /* webhook: URL prefix a citizen's URL must start with; sms: the gateway URL;
                       command: the program to run */
    char *secret;   /* HMAC-SHA256 key for the body (webhook, sms); NULL for command */
    uint32_t rate;  /* sends per second allowed (token bucket refill) */
    uint32_t burst; /* bucket size */
} hb_notify_channel_conf_t;

typedef struct {
    char *service; /* prefix */
    uint32_t ahead;
} hb_notify_near_conf_t;

typedef struct {
    char *db;            /* the durable outbox (SQLite); default "var/notifier.db" */
    char *query;         /* the query endpoint (bound); default "tcp://127.0.0.1:5562" */
    char *language;      /* "zh" (default) or "en": the text of an SMS and of "text" in a payload */
    uint32_t near_ahead; /* default threshold for "N ahead"; 0 disables; default 3 */
    hb_notify_near_conf_t *near; /* per service */
    unsigned near_count;
    uint32_t attempt_timeout_ms; /* one HTTP attempt or command run, at most; default 10000 */
    uint32_t reminder_minutes;   /* appointment reminder lead time; default 60 */
    uint32_t scan_ms;            /* how often the outbox is scanned for due messages; default 200 */
    uint32_t resolve_timeout_ms; /* ResolveContact at hall-queue; default 3000 */
    uint32_t keep_days;          /* settled messages are kept this long; default 7 */
    hb_notify_channel_conf_t webhook, sms, command;
    hb_note_kind_conf_t kinds[HB_NOTE_KINDS];
} hb_notifier_conf_t;

/* "near", "called", ... ; NULL outside the range. */
const char *hb_note_kind_name(int kind);
/* The kind named TEXT, or -1. */
int hb_note_kind_parse(const char *text);

/* Fields a template of KIND may name; the list ends with NULL. */
const char *const *hb_note_fields(int kind);

/* Checks TEMPLATE against KIND's fields. 0 if fine; else -1 with WHY
 * ("names field \"foo\", which called messages do not have"). */
int hb_note_template_check(int kind, const char *tmpl, char *why, size_t whylen);

/* The "N ahead" threshold for service PREFIX. */
uint32_t hb_notify_near_for(const hb_notifier_conf_t *conf, const char *prefix);

#endif
