/* The "audit:" section of the hall file: settings of hall-audit.
 *
 *   audit:
 *     db: "var/audit.db"
 *     query: "tcp://127.0.0.1:5560"     # ROUTER: history, verify, report, export
 *     publish: "tcp://127.0.0.1:5561"   # PUB: every record once durable (tail --follow)
 *     retention_days: 0                 # 0: keep for ever
 *     fetch_timeout_ms: 1000            # a FetchEvents without answer is retried after this
 *     gap_timeout_ms: 10000             # missing events not recovered by then become a gap record
 *     heartbeat_ms: 1000
 *     halls:                            # absent: this file's hall and endpoints
 *       - id: h01                       # command/bus_sub absent: this file's endpoints
 *       - {id: h02, command: "tcp://10.0.0.2:5550", bus_sub: "tcp://10.0.0.9:5552"}
 */
#ifndef HALLBUS_CONFIG_AUDIT_H
#define HALLBUS_CONFIG_AUDIT_H

#include <stdint.h>

typedef struct {
    char *id;      /* hall id as in its topics */
    char *command; /* its hall-queue's command endpoint; NULL: endpoints.command */
    char *bus_sub; /* the bus its events are on; NULL: endpoints.bus_sub */
} hb_audit_hall_conf_t;

typedef struct {
    char *db;                    /* the append-only audit store (SQLite); default "var/audit.db" */
    char *query;                 /* query endpoint (bound); default "tcp://127.0.0.1:5560" */
    char *publish;               /* recorded stream (bound); default "tcp://127.0.0.1:5561" */
    uint32_t retention_days;     /* 0: keep for ever (default) */
    uint32_t fetch_timeout_ms;   /* default 1000 */
    uint32_t gap_timeout_ms;     /* default 10000 */
    uint32_t heartbeat_ms;       /* default 1000 */
    hb_audit_hall_conf_t *halls; /* empty: this file's hall */
    unsigned halls_count;
} hb_audit_conf_t;

#endif
