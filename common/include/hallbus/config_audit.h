/* The "audit:" section of the hall file: settings of hall-audit. */
#ifndef HALLBUS_CONFIG_AUDIT_H
#define HALLBUS_CONFIG_AUDIT_H

typedef struct {
    char *db; /* the append-only audit store (SQLite); default "var/audit.db" */
} hb_audit_conf_t;

#endif
