/* What the hall's events mean for its citizens: every waiting ticket's
 * place in line, as hall-queue publishes it (a snapshot's Ticket.place,
 * then each event's line changes, applied by common/line_places.h; the
 * notifier knows none of the calling rules), and the decisions of what to
 * tell whom.
 *
 * The tracker does no I/O: each decision is handed to the EMIT callback
 * with the fields its templates may use. A decision carries an idempotency
 * key that is the same whenever the same event is decided again (after a
 * restart, or a replay from the journal), so the outbox can drop repeats:
 *   event messages:  "<hall>-<seq>-<kind>"
 *   "N ahead":       "<hall>-<date>-<ticket id>-near-<requeues>"
 *   reminders:       "<hall>-appt-<appointment id>-reminder" (the code of an
 *                    older hall-queue's events: new ones never send it) */
#ifndef NOTIFIER_TRACKER_H
#define NOTIFIER_TRACKER_H

#include <stdbool.h>
#include <stdint.h>

#include "hallbus.pb-c.h"
#include "hallbus/config.h"
#include "template.h"

#define NT_KEY_MAX 96

typedef struct {
    int kind; /* hb_note_kind_t */
    char key[NT_KEY_MAX];
    const char *hall;
    uint64_t seq;
    const char *ticket;
    const char *business_date;
    const char *contact_ref;
    int64_t event_ts;
    int64_t not_before;   /* 0: at once */
    int64_t deadline;     /* 0: the kind's deadline after the event */
    const char *withdraw; /* not NULL: the message KEY is no longer wanted, for this reason */
    const nt_fields_t *fields;
} nt_decision_t;

typedef void (*nt_emit_fn)(const nt_decision_t *d, void *arg);

typedef struct nt_tracker_s nt_tracker_t;

nt_tracker_t *nt_tracker_new(const hb_config_t *config, nt_emit_fn emit, void *arg);
void nt_tracker_destroy(nt_tracker_t **self);

/* Replaces the model with SNAP's waiting tickets, then decides the "N
 * ahead" messages it implies. */
void nt_tracker_load(nt_tracker_t *self, const Hallbus__Snapshot *snap);

/* Decides what ENV means. With APPLY the model is updated too; without it
 * (an event the snapshot already reflects, replayed from the journal only
 * so that its messages are not lost) only the event's own messages are
 * decided. Returns 0, or -1 when the event's line changes do not fit the
 * model (out of step with the hall's lines): its messages are decided, but
 * the caller must load a fresh snapshot. */
int nt_tracker_event(nt_tracker_t *self, const Hallbus__Envelope *env, bool apply);

/* Tickets waiting in the model (for tests and logs). */
unsigned nt_tracker_waiting(const nt_tracker_t *self);

/* Tickets ahead of NUMBER as the model sees it, or -1 if it is not waiting. */
int nt_tracker_ahead(const nt_tracker_t *self, const char *number);

#endif
