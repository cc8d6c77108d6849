#include "tracker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#include "hallbus/alloc.h"
#include "hallbus/line_places.h"
#include "hallbus/log.h"

/* What the notifier needs of a waiting ticket to tell it; its place in
 * line is hall-queue's word, kept in PLACES (common/line_places.h). */
typedef struct nt_ticket_s {
    uint64_t id;
    char number[16];
    char service[8];
    char contact_ref[32];
    char date[16];
    uint32_t requeues;
    bool near_told;
    UT_hash_handle hh;
} nt_ticket_t;

struct nt_tracker_s {
    const hb_config_t *config;
    nt_emit_fn emit;
    void *arg;
    nt_ticket_t *by_id;
    hb_line_places_t *places;
};

nt_tracker_t *nt_tracker_new(const hb_config_t *config, nt_emit_fn emit, void *arg)
{
    nt_tracker_t *self = hb_xcalloc(1, sizeof *self, "the notifier's tracker");
    self->config = config;
    self->emit = emit;
    self->arg = arg;
    self->places = hb_line_places_new();
    return self;
}

static void clear(nt_tracker_t *self)
{
    nt_ticket_t *t, *tmp;
    HASH_ITER(hh, self->by_id, t, tmp)
    {
        HASH_DEL(self->by_id, t);
        free(t);
    }
    hb_line_places_clear(self->places);
}

void nt_tracker_destroy(nt_tracker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    clear(*self_p);
    hb_line_places_destroy(&(*self_p)->places);
    free(*self_p);
    *self_p = NULL;
}

static nt_ticket_t *find(const nt_tracker_t *self, uint64_t id)
{
    nt_ticket_t *t = NULL;
    HASH_FIND(hh, self->by_id, &id, sizeof id, t);
    return t;
}

static void forget(nt_tracker_t *self, uint64_t id)
{
    nt_ticket_t *t = find(self, id);
    if (!t)
        return;
    HASH_DEL(self->by_id, t);
    free(t);
}

/* A ticket (back) in line: what to tell it, not yet told. Its place comes
 * with the line changes. */
static void remember(nt_tracker_t *self, const Hallbus__Ticket *v)
{
    if (!v || v->state != HALLBUS__TICKET_STATE__WAITING)
        return;
    nt_ticket_t *t = find(self, v->id);
    /* the same stay in line (a check-in's ticket.issued, a transfer): told
     * stays told; a requeue is a new stay */
    bool fresh = !t || t->requeues != v->requeues;
    if (!t) {
        t = hb_xcalloc(1, sizeof *t, "a tracked ticket");
        t->id = v->id;
        HASH_ADD(hh, self->by_id, id, sizeof t->id, t);
    }
    if (fresh)
        t->near_told = false;
    snprintf(t->number, sizeof t->number, "%s", v->number ? v->number : "");
    snprintf(t->service, sizeof t->service, "%s", v->service ? v->service : "");
    snprintf(t->contact_ref, sizeof t->contact_ref, "%s", v->contact_ref ? v->contact_ref : "");
    snprintf(t->date, sizeof t->date, "%s", v->business_date ? v->business_date : "");
    t->requeues = v->requeues;
}

/* ── decisions ── */

static void common_fields(nt_tracker_t *self, nt_fields_t *f, const char *number,
                          const char *service, char *svc_name)
{
    const hb_service_conf_t *svc = hb_config_service(self->config, service);
    f->count = 0;
    nt_fields_set(f, "hall", self->config->hall.id);
    nt_fields_set(f, "hall_name", self->config->hall.name);
    nt_fields_set(f, "number", number);
    nt_fields_set(f, "service", service);
    snprintf(svc_name, 128, "%s", svc ? svc->name : service);
    nt_fields_set(f, "service_name", svc_name);
}

static void decide(nt_tracker_t *self, int kind, const char *key, uint64_t seq, int64_t ts,
                   const char *number, const char *date, const char *contact_ref,
                   const nt_fields_t *fields)
{
    nt_decision_t d = {.kind = kind,
                       .hall = self->config->hall.id,
                       .seq = seq,
                       .ticket = number,
                       .business_date = date,
                       .contact_ref = contact_ref,
                       .event_ts = ts,
                       .fields = fields};
    snprintf(d.key, sizeof d.key, "%s", key);
    self->emit(&d, self->arg);
}

static void tell_near(nt_tracker_t *self, nt_ticket_t *t, unsigned ahead, uint64_t seq, int64_t ts)
{
    t->near_told = true;
    if (!t->contact_ref[0])
        return;
    nt_fields_t f;
    char svc_name[128], ahead_text[16], key[NT_KEY_MAX];
    common_fields(self, &f, t->number, t->service, svc_name);
    snprintf(ahead_text, sizeof ahead_text, "%u", ahead);
    nt_fields_set(&f, "ahead", ahead_text);
    snprintf(key, sizeof key, "%s-%s-%llu-near-%u", self->config->hall.id, t->date,
             (unsigned long long)t->id, t->requeues);
    decide(self, HB_NOTE_NEAR, key, seq, ts, t->number, t->date, t->contact_ref, &f);
}

/* Tells each ticket of SERVICE's line that has come within the threshold
 * and was not told yet: the first places of the line, as hall-queue says. */
static void check_near(nt_tracker_t *self, const char *service, uint64_t seq, int64_t ts)
{
    if (!service || !*service)
        return;
    uint32_t threshold = hb_notify_near_for(&self->config->notifier, service);
    if (threshold == 0)
        return;
    /* every ticket within THRESHOLD of the front: the places 0..THRESHOLD,
     * as many as the line has */
    size_t max = hb_line_places_count(self->places, service);
    if (max > (size_t)threshold + 1)
        max = (size_t)threshold + 1;
    uint64_t few[64];
    uint64_t *first = max <= 64 ? few : hb_xcalloc(max, sizeof *first, "the front of a line");
    size_t n = hb_line_places_first(self->places, service, first, max);
    for (size_t i = 0; i < n; i++) {
        nt_ticket_t *t = find(self, first[i]);
        if (t && !t->near_told)
            tell_near(self, t, (unsigned)i, seq, ts);
    }
    if (first != few)
        free(first);
}

void nt_tracker_load(nt_tracker_t *self, const Hallbus__Snapshot *snap)
{
    clear(self);
    for (size_t i = 0; i < snap->n_tickets; i++)
        remember(self, snap->tickets[i]);
    if (hb_line_places_load(self->places, snap) != 0)
        hb_warn("the snapshot's places in line do not make whole lines");
    int64_t now = snap->status ? snap->status->now : 0;
    /* a ticket already within reach was told when it got there (or the
     * outbox drops the repeat by its key) */
    for (size_t i = 0; snap->status && i < snap->status->n_services; i++)
        check_near(self, snap->status->services[i]->prefix, snap->seq, now);
}

static void event_message(nt_tracker_t *self, int kind, const Hallbus__Envelope *env,
                          const Hallbus__Ticket *v, nt_fields_t *f)
{
    if (!v || !v->contact_ref || !*v->contact_ref)
        return;
    char key[NT_KEY_MAX];
    snprintf(key, sizeof key, "%s-%llu-%s", self->config->hall.id, (unsigned long long)env->seq,
             hb_note_kind_name(kind));
    decide(self, kind, key, env->seq, env->ts, v->number, v->business_date, v->contact_ref, f);
}

static void local_time(int64_t ts_us, uint32_t plus_minutes, char out[8])
{
    time_t t = (time_t)(ts_us / 1000000) + (time_t)plus_minutes * 60;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 8, "%H:%M", &tm);
}

/* What names appointment A here: its id, which events carry (its code,
 * which cancels the booking, never travels; a hall-queue older than that
 * sends the code and no id). */
static const char *appointment_name(const Hallbus__Appointment *a, char out[24])
{
    if (a->id)
        snprintf(out, 24, "%llu", (unsigned long long)a->id);
    else
        snprintf(out, 24, "%.20s", a->code ? a->code : "");
    return out;
}

static void reminder_key(nt_tracker_t *self, const Hallbus__Appointment *a, char *key)
{
    char name[24];
    snprintf(key, NT_KEY_MAX, "%s-appt-%s-reminder", self->config->hall.id,
             appointment_name(a, name));
}

/* A booked appointment with a contact: its reminder is decided now and
 * leaves reminder_minutes before the slot (at once if that is past), and is
 * worthless once the slot has begun. */
static void remind(nt_tracker_t *self, const Hallbus__Envelope *env, const Hallbus__Appointment *a)
{
    char name[24];
    if (!a || !a->contact_ref || !*a->contact_ref || !*appointment_name(a, name))
        return;
    nt_fields_t f;
    char svc_name[128], slot[40], key[NT_KEY_MAX];
    common_fields(self, &f, name, a->service ? a->service : "", svc_name);
    snprintf(slot, sizeof slot, "%s %s", a->date ? a->date : "", a->slot ? a->slot : "");
    nt_fields_set(&f, "slot_time", slot);
    reminder_key(self, a, key);
    nt_decision_t d = {.kind = HB_NOTE_REMINDER,
                       .hall = self->config->hall.id,
                       .seq = env->seq,
                       .ticket = name,
                       .business_date = a->date,
                       .contact_ref = a->contact_ref,
                       .event_ts = env->ts,
                       .not_before = a->slot_start -
                                     (int64_t)self->config->notifier.reminder_minutes * 60000000,
                       .deadline = a->slot_start,
                       .fields = &f};
    snprintf(d.key, sizeof d.key, "%s", key);
    self->emit(&d, self->arg);
}

static void withdraw(nt_tracker_t *self, const Hallbus__Envelope *env,
                     const Hallbus__Appointment *a, const char *why)
{
    char name[24];
    if (!a || !a->contact_ref || !*a->contact_ref || !*appointment_name(a, name))
        return;
    nt_decision_t d = {.kind = HB_NOTE_REMINDER,
                       .withdraw = why,
                       .hall = self->config->hall.id,
                       .seq = env->seq,
                       .ticket = name};
    reminder_key(self, a, d.key);
    self->emit(&d, self->arg);
}

int nt_tracker_event(nt_tracker_t *self, const Hallbus__Envelope *env, bool apply)
{
    nt_fields_t f;
    char svc_name[128], window[16], until[8], materials[2048];
    const Hallbus__Ticket *v = NULL;

    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED:
        if (apply)
            remember(self, env->ticket_issued->ticket);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_REQUEUED:
        if (apply)
            remember(self, env->ticket_requeued->ticket);
        break;
    case HALLBUS__ENVELOPE__EVENT_APPOINTMENT_BOOKED:
        remind(self, env, env->appointment_booked->appointment);
        break;
    case HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CANCELLED:
        withdraw(self, env, env->appointment_cancelled->appointment,
                 "the appointment was cancelled");
        break;
    case HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CHECKED_IN:
        if (apply)
            remember(self, env->appointment_checked_in->ticket);
        withdraw(self, env, env->appointment_checked_in->appointment,
                 "the citizen has checked in already");
        break;
    case HALLBUS__ENVELOPE__EVENT_APPOINTMENT_LAPSED:
        withdraw(self, env, env->appointment_lapsed->appointment, "the appointment lapsed");
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_CALLED:
        v = env->ticket_called->ticket;
        if (!v)
            break;
        if (apply)
            forget(self, v->id);
        common_fields(self, &f, v->number, v->service, svc_name);
        snprintf(window, sizeof window, "%u", env->ticket_called->window);
        nt_fields_set(&f, "window", window);
        event_message(self, HB_NOTE_CALLED, env, v, &f);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_RECALLED:
        v = env->ticket_recalled->ticket;
        if (!v)
            break;
        common_fields(self, &f, v->number, v->service, svc_name);
        snprintf(window, sizeof window, "%u", env->ticket_recalled->window);
        nt_fields_set(&f, "window", window);
        event_message(self, HB_NOTE_RECALLED, env, v, &f);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW:
        v = env->ticket_no_show->ticket;
        if (!v)
            break;
        common_fields(self, &f, v->number, v->service, svc_name);
        snprintf(window, sizeof window, "%u", env->ticket_no_show->window);
        local_time(env->ts, self->config->queue.requeue_minutes, until);
        nt_fields_set(&f, "window", window);
        nt_fields_set(&f, "until", until);
        event_message(self, HB_NOTE_NO_SHOW, env, v, &f);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED:
        if (apply)
            remember(self, env->ticket_transferred->ticket);
        break;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED: {
        const Hallbus__ServiceFinished *fin = env->service_finished;
        v = fin->ticket;
        if (!v)
            break;
        if (apply)
            forget(self, v->id);
        common_fields(self, &f, v->number, v->service, svc_name);
        snprintf(window, sizeof window, "%u", fin->window);
        nt_fields_set(&f, "window", window);
        if (fin->result == HALLBUS__RESULT__MATERIALS_MISSING) {
            materials[0] = '\0';
            for (size_t i = 0; i < fin->n_missing_materials; i++) {
                size_t used = strlen(materials);
                snprintf(materials + used, sizeof materials - used, "%s%s", i ? "、" : "",
                         fin->missing_materials[i] ? fin->missing_materials[i] : "");
            }
            nt_fields_set(&f, "materials", materials);
            event_message(self, HB_NOTE_MATERIALS, env, v, &f);
        } else if (fin->result == HALLBUS__RESULT__ACCEPTED) {
            nt_fields_set(&f, "promised_date", fin->promised_date ? fin->promised_date : "");
            event_message(self, HB_NOTE_ACCEPTED, env, v, &f);
        }
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_READY: {
        /* an accepted matter, possibly of an earlier day: no line to track */
        v = env->ticket_ready->ticket;
        if (!v)
            break;
        common_fields(self, &f, v->number, v->service, svc_name);
        nt_fields_set(&f, "promised_date", v->promised_date ? v->promised_date : "");
        event_message(self, HB_NOTE_READY, env, v, &f);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_DAILY_RESET:
        if (apply)
            clear(self);
        break;
    default:
        break;
    }
    (void)v;
    if (!apply)
        return 0;
    /* the places are hall-queue's: apply its changes, then tell whoever
     * came within reach in the lines they touched */
    int rc = hb_line_places_apply(self->places, env);
    if (rc != 0)
        hb_warn("event #%llu changes lines in a way that does not fit what the notifier knows: "
                "out of step with the hall's lines",
                (unsigned long long)env->seq);
    for (size_t i = 0; i < env->n_line_changes; i++) {
        const char *svc = env->line_changes[i]->service;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = svc && env->line_changes[j]->service &&
                   strcmp(svc, env->line_changes[j]->service) == 0;
        if (!seen)
            check_near(self, svc, env->seq, env->ts);
    }
    return rc;
}

unsigned nt_tracker_waiting(const nt_tracker_t *self)
{
    return (unsigned)hb_line_places_total(self->places);
}

int nt_tracker_ahead(const nt_tracker_t *self, const char *number)
{
    for (const nt_ticket_t *t = self->by_id; t; t = t->hh.next)
        if (strcmp(t->number, number) == 0)
            return (int)hb_line_places_place(self->places, t->id);
    return -1;
}
