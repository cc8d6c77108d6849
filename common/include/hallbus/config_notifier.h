/* The "notifier:" section of the hall file: settings of hall-notifier. */
#ifndef HALLBUS_CONFIG_NOTIFIER_H
#define HALLBUS_CONFIG_NOTIFIER_H

typedef struct {
    char *db; /* the durable outbox (SQLite); default "var/notifier.db" */
} hb_notifier_conf_t;

#endif
