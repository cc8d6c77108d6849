/* Reading the audit store (audit_read.c): pages of history, day ranges, the
 * events of a report. The records handed out belong to the caller. */
#ifndef HALLBUS_AUDIT_READ_H
#define HALLBUS_AUDIT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.pb-c.h"
#include "hallbus.pb-c.h"

typedef struct audit_store_s audit_store_t;

/* Records matching Q, in id order, at most Q->max (default 1000, at most
 * AUDIT_HISTORY_MAX). *OUT is an array the caller frees with
 * audit_records_free. *MORE: more records matched. 0 or -1. */
int audit_store_history(audit_store_t *self, const Hallbus__AuditHistory *q,
                        Hallbus__AuditRecord ***out, size_t *n, bool *more);
/* The id range [*first, *last] of HALL's records with business date in
 * FROM..TO; both 0 when none. */
int audit_store_day_range(audit_store_t *self, const char *hall, const char *from, const char *to,
                          uint64_t *first, uint64_t *last);
void audit_records_free(Hallbus__AuditRecord **recs, size_t n);

/* Calls FN for each event record of HALL whose business date is in
 * FROM..TO, in id order, with the envelope decoded. */
typedef void (*audit_event_fn)(const Hallbus__Envelope *env, void *arg);
int audit_store_each_event(audit_store_t *self, const char *hall, const char *from, const char *to,
                           audit_event_fn fn, void *arg, uint64_t *gaps);

#endif
