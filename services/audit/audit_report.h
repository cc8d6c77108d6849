/* The performance review (考核) from a hall's events: per service, per
 * window and per staff member, and for the whole hall.
 *
 *   served            ticket.finished events
 *   wait              ServiceFinished.wait_seconds (issued → first call), average and p90
 *   service time      ServiceFinished.service_seconds (started → finished), average and p90
 *   no-shows          ticket.no_show events, at the window that called
 *   transfers         ticket.transferred events, from the service and window they left
 *   satisfaction      ticket.evaluated ratings 1..4, to the service, window and staff that served
 *   within target     served with service_seconds <= target_minutes * 60 of the service
 *                     (from the hall file; services it does not know are left out)
 *   complaints        complaint.filed events, to the window and staff they name and the
 *                     service of the ticket number's prefix letter
 *
 * p90 is the nearest rank: the value at position ceil(0.9 n) of the sorted
 * values. The hourly rows place each served ticket at the local hour it
 * was issued. */
#ifndef HALLBUS_AUDIT_REPORT_H
#define HALLBUS_AUDIT_REPORT_H

#include "audit.pb-c.h"
#include "hallbus.pb-c.h"
#include "hallbus/config.h"

typedef struct audit_report_s audit_report_t;

/* CONFIG (may be NULL) gives service names and target times; it must
 * outlive the report. */
audit_report_t *audit_report_new(const hb_config_t *config);
void audit_report_destroy(audit_report_t **self);

void audit_report_add(audit_report_t *self, const Hallbus__Envelope *env);

/* Fills OUT (initialised here) with the rows; free its members with
 * audit_report_clear. 0 or -1. */
int audit_report_finish(audit_report_t *self, Hallbus__AuditReport *out);
void audit_report_clear(Hallbus__AuditReport *out);

/* The p90 of N values by nearest rank (sorts VALUES in place); 0 for none. */
uint32_t audit_p90(uint32_t *values, size_t n);

#endif
