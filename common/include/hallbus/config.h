/* The hall file: one YAML file describes one hall, and every daemon reads it.
 *
 * Loaded with libcyaml against a schema (config.c); anything the
 * schema cannot say (an unknown service in a window, two services with one
 * prefix, a bad clock time) is checked afterwards and reported with the
 * file and line of the offending value, found with libyaml. */
#ifndef HALLBUS_CONFIG_H
#define HALLBUS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hallbus/config_audit.h"
#include "hallbus/config_counter.h"
#include "hallbus/config_display.h"
#include "hallbus/config_hours.h"
#include "hallbus/config_notifier.h"
#include "hallbus/config_security.h"

#define HB_CONFIG_ERR_MAX 512

typedef struct {
    bool enabled;                    /* the service takes appointments (预约) */
    uint32_t slot_minutes;           /* default 30 */
    uint32_t capacity;               /* appointments per slot; default 4 */
    uint32_t checkin_before_minutes; /* check-in opens this long before the slot; default 30 */
    uint32_t checkin_after_minutes;  /* and closes this long after its start; default 15 */
} hb_appointments_conf_t;

typedef struct {
    char *prefix;            /* one capital letter, unique in the hall: "A" */
    char *name;              /* "Social security" */
    char *name_en;           /* optional English name; NULL if absent */
    uint32_t quota;          /* tickets per business day; 0 = no limit */
    uint32_t target_minutes; /* target service time (限时办结); default 15 */
    char **materials;        /* required materials, for the one-time notice */
    unsigned materials_count;
    hb_appointments_conf_t appointments;
} hb_service_conf_t;

typedef enum {
    HB_POLICY_LONGEST_WAIT = 0, /* the oldest ticket across its services */
    HB_POLICY_ORDERED,          /* its services in order: the first with a ticket */
    HB_POLICY_WEIGHTED,         /* between services by weight, e.g. 3 of A to 1 of B */
} hb_policy_t;

typedef struct {
    uint32_t number; /* window number shown to citizens, unique, >= 1 */
    char **services; /* service prefixes, in calling order */
    unsigned services_count;
    hb_policy_t policy; /* default longest-wait */
    uint32_t *weights;  /* one per service, aligned with services; 1 unless weighted */
} hb_window_conf_t;

typedef struct {
    char *id; /* short hall id used in topics: [a-z0-9_-]{1,32} */
    char *name;
    char *name_en;            /* optional */
    char *address;            /* optional: where to come back, on the one-time notice */
    uint32_t rollover_minute; /* minute of the local day the business day
                                 starts, from "HH:MM" (default "03:00") */
} hb_hall_conf_t;

typedef struct {
    char *command; /* hall-queue binds ROUTER here; clients connect */
    char *bus_pub; /* hall-bus binds XSUB here; publishers connect */
    char *bus_sub; /* hall-bus binds XPUB here; subscribers connect */
} hb_endpoints_conf_t;

typedef struct {
    char *queue_db;                  /* SQLite file of hall-queue */
    uint32_t recall_limit;           /* recalls allowed before only no-show is left; default 3 */
    uint32_t heartbeat_ms;           /* default 1000 */
    uint32_t pub_hwm;                /* send high-water mark of event publishers; default 100000 */
    uint32_t journal_days;           /* how long hall-queue keeps its event journal; default 7 */
    char *contact_secret;            /* no longer used: contacts are resolved by the notifier
                                        key's role; still read so older hall files load */
    uint32_t requeue_minutes;        /* a no-show may be requeued this long after; default 30 */
    uint32_t requeue_after;          /* requeued behind this many waiting tickets; 0: at the back */
    uint32_t contact_retention_days; /* citizens' contacts are deleted this long after they
                                        were given; default 30 */
} hb_queue_conf_t;

typedef struct {
    char *path; /* the file it was loaded from (owned) */
    hb_hall_conf_t hall;
    hb_service_conf_t *services;
    unsigned services_count;
    hb_window_conf_t *windows;
    unsigned windows_count;
    hb_endpoints_conf_t endpoints;
    hb_queue_conf_t queue;
    hb_hours_conf_t hours;       /* config_hours.h */
    hb_display_conf_t display;   /* config_display.h */
    hb_counter_conf_t counter;   /* config_counter.h */
    hb_audit_conf_t audit;       /* config_audit.h */
    hb_notifier_conf_t notifier; /* config_notifier.h */
    hb_security_conf_t security; /* config_security.h */
} hb_config_t;

/* Loads and validates PATH. Returns a config the caller owns (free with
 * hb_config_destroy), or NULL with ERR filled with one line of the form
 * "FILE:LINE: KEY: reason" (LINE is omitted only when the file cannot be
 * read or is not YAML at all). */
hb_config_t *hb_config_load(const char *path, char err[HB_CONFIG_ERR_MAX]);

/* NULL-safe; sets *self to NULL. */
void hb_config_destroy(hb_config_t **self);

/* Lookups; NULL when absent. The pointers belong to the config. */
const hb_service_conf_t *hb_config_service(const hb_config_t *self, const char *prefix);
const hb_window_conf_t *hb_config_window(const hb_config_t *self, uint32_t number);

#endif
