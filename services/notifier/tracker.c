#include "tracker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#include "hallbus/log.h"

typedef struct nt_ticket_s {
    uint64_t id;
    char number[16];
    int service; /* 0..25 */
    bool green;
    bool appt; /* checked in from an appointment: its own line, as in hall-queue */
    char contact_ref[32];
    char date[16];
    uint32_t requeues;
    uint64_t key; /* place in line */
    bool near_told;
    struct nt_ticket_s *prev, *next;
    UT_hash_handle hh;
} nt_ticket_t;

typedef struct {
    nt_ticket_t *head, *tail;
    unsigned count;
} nt_line_t;

struct nt_tracker_s {
    const hb_config_t *config;
    nt_emit_fn emit;
    void *arg;
    nt_ticket_t *by_id;
    /* per service, as hall-queue keeps them: "ahead" of a green ticket is
     * its place among the green ones; of any other, the green ones plus its
     * place in its own line (appointments, or walk-ins) */
    nt_line_t green[26], appt[26], normal[26];
    uint64_t next_key;
};

/* Places in line: keys spaced KEY_STEP apart so that a ticket can be put
 * between two others (a requeue behind N). */
#define KEY_STEP (1ull << 16)
#define LIVE_KEYS (1ull << 60) /* keys given by events come after any from a snapshot */

nt_tracker_t *nt_tracker_new(const hb_config_t *config, nt_emit_fn emit, void *arg)
{
    nt_tracker_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    self->emit = emit;
    self->arg = arg;
    self->next_key = LIVE_KEYS;
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
    memset(self->green, 0, sizeof self->green);
    memset(self->appt, 0, sizeof self->appt);
    memset(self->normal, 0, sizeof self->normal);
}

void nt_tracker_destroy(nt_tracker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    clear(*self_p);
    free(*self_p);
    *self_p = NULL;
}

static int service_index(const char *prefix)
{
    if (!prefix || strlen(prefix) != 1 || prefix[0] < 'A' || prefix[0] > 'Z')
        return -1;
    return prefix[0] - 'A';
}

static nt_line_t *line_of(nt_tracker_t *self, const nt_ticket_t *t)
{
    return t->green  ? &self->green[t->service]
           : t->appt ? &self->appt[t->service]
                     : &self->normal[t->service];
}

static bool is_appt(const Hallbus__Ticket *v)
{
    return v->priority != HALLBUS__PRIORITY__GREEN && v->appointment_code && *v->appointment_code;
}

static void line_insert(nt_line_t *line, nt_ticket_t *t)
{
    nt_ticket_t *after = line->tail;
    while (after && after->key > t->key)
        after = after->prev;
    t->prev = after;
    t->next = after ? after->next : line->head;
    if (t->next)
        t->next->prev = t;
    else
        line->tail = t;
    if (after)
        after->next = t;
    else
        line->head = t;
    line->count++;
}

static void line_remove(nt_line_t *line, nt_ticket_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        line->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        line->tail = t->prev;
    t->prev = t->next = NULL;
    line->count--;
}

static void forget(nt_tracker_t *self, uint64_t id)
{
    nt_ticket_t *t;
    HASH_FIND(hh, self->by_id, &id, sizeof id, t);
    if (!t)
        return;
    line_remove(line_of(self, t), t);
    HASH_DEL(self->by_id, t);
    free(t);
}

/* Puts a waiting ticket in its line with KEY (replacing what was known). */
static nt_ticket_t *enter(nt_tracker_t *self, const Hallbus__Ticket *v, uint64_t key)
{
    int s = service_index(v->service);
    if (s < 0)
        return NULL;
    forget(self, v->id);
    nt_ticket_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->id = v->id;
    snprintf(t->number, sizeof t->number, "%s", v->number ? v->number : "");
    snprintf(t->contact_ref, sizeof t->contact_ref, "%s", v->contact_ref ? v->contact_ref : "");
    snprintf(t->date, sizeof t->date, "%s", v->business_date ? v->business_date : "");
    t->service = s;
    t->green = v->priority == HALLBUS__PRIORITY__GREEN;
    t->appt = is_appt(v);
    t->requeues = v->requeues;
    t->key = key;
    HASH_ADD(hh, self->by_id, id, sizeof t->id, t);
    line_insert(line_of(self, t), t);
    return t;
}

/* Puts a waiting ticket where the hall says it is: AHEAD tickets before it
 * (green tickets count for a normal one), which places requeues behind N and
 * appointment tickets in their own line, as the hall's rules do. */
static nt_ticket_t *enter_at(nt_tracker_t *self, const Hallbus__Ticket *v, uint32_t ahead)
{
    int s = service_index(v->service);
    if (s < 0)
        return NULL;
    forget(self, v->id);
    nt_line_t *line = v->priority == HALLBUS__PRIORITY__GREEN ? &self->green[s]
                      : is_appt(v)                            ? &self->appt[s]
                                                              : &self->normal[s];
    uint32_t pos = ahead;
    if (v->priority != HALLBUS__PRIORITY__GREEN)
        pos = ahead > self->green[s].count ? ahead - self->green[s].count : 0;
    nt_ticket_t *before = NULL, *after = line->head;
    for (uint32_t i = 0; i < pos && after; i++) {
        before = after;
        after = after->next;
    }
    uint64_t key;
    if (!after) {
        key = self->next_key;
        self->next_key += KEY_STEP;
        if (before && key <= before->key)
            key = before->key + KEY_STEP;
    } else if (!before) {
        key = after->key > KEY_STEP ? after->key - KEY_STEP : after->key / 2;
    } else {
        key = before->key + (after->key - before->key) / 2;
    }
    return enter(self, v, key);
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
    char prefix[2] = {(char)('A' + t->service), '\0'};
    common_fields(self, &f, t->number, prefix, svc_name);
    snprintf(ahead_text, sizeof ahead_text, "%u", ahead);
    nt_fields_set(&f, "ahead", ahead_text);
    snprintf(key, sizeof key, "%s-%s-%llu-near-%u", self->config->hall.id, t->date,
             (unsigned long long)t->id, t->requeues);
    decide(self, HB_NOTE_NEAR, key, seq, ts, t->number, t->date, t->contact_ref, &f);
}

/* Walks service S's lines in calling order and tells each ticket that has
 * come within the threshold and was not told yet. */
static void check_near(nt_tracker_t *self, int s, uint64_t seq, int64_t ts)
{
    if (s < 0)
        return;
    char prefix[2] = {(char)('A' + s), '\0'};
    uint32_t threshold = hb_notify_near_for(&self->config->notifier, prefix);
    if (threshold == 0)
        return;
    unsigned ahead = 0;
    for (nt_ticket_t *t = self->green[s].head; t && ahead <= threshold; t = t->next, ahead++)
        if (!t->near_told)
            tell_near(self, t, ahead, seq, ts);
    nt_line_t *others[2] = {&self->appt[s], &self->normal[s]};
    for (int l = 0; l < 2; l++) {
        ahead = self->green[s].count;
        for (nt_ticket_t *t = others[l]->head; t && ahead <= threshold; t = t->next, ahead++)
            if (!t->near_told)
                tell_near(self, t, ahead, seq, ts);
    }
}

void nt_tracker_load(nt_tracker_t *self, const Hallbus__Snapshot *snap)
{
    clear(self);
    for (size_t i = 0; i < snap->n_tickets; i++) {
        const Hallbus__Ticket *v = snap->tickets[i];
        if (v->state != HALLBUS__TICKET_STATE__WAITING)
            continue;
        /* The snapshot does not say a ticket's place in line: by id is
         * right for tickets in line since they were taken; a requeued one
         * went to the back when it was requeued, so after them. */
        uint64_t key = (v->id + (v->requeues ? (1ull << 40) : 0)) * KEY_STEP;
        nt_ticket_t *t = enter(self, v, key);
        /* a ticket already within reach was told when it got there (or
         * the outbox drops the repeat by its key) */
        (void)t;
    }
    int64_t now = snap->status ? snap->status->now : 0;
    for (int s = 0; s < 26; s++)
        check_near(self, s, snap->seq, now);
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

static void reminder_key(nt_tracker_t *self, const Hallbus__Appointment *a, char *key)
{
    snprintf(key, NT_KEY_MAX, "%s-appt-%s-reminder", self->config->hall.id, a->code);
}

/* A booked appointment with a contact: its reminder is decided now and
 * leaves reminder_minutes before the slot (at once if that is past), and is
 * worthless once the slot has begun. */
static void remind(nt_tracker_t *self, const Hallbus__Envelope *env, const Hallbus__Appointment *a)
{
    if (!a || !a->code || !a->contact_ref || !*a->contact_ref)
        return;
    nt_fields_t f;
    char svc_name[128], slot[40], key[NT_KEY_MAX];
    common_fields(self, &f, a->code, a->service ? a->service : "", svc_name);
    snprintf(slot, sizeof slot, "%s %s", a->date ? a->date : "", a->slot ? a->slot : "");
    nt_fields_set(&f, "slot_time", slot);
    reminder_key(self, a, key);
    nt_decision_t d = {.kind = HB_NOTE_REMINDER,
                       .hall = self->config->hall.id,
                       .seq = env->seq,
                       .ticket = a->code,
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
    if (!a || !a->code || !a->contact_ref || !*a->contact_ref)
        return;
    nt_decision_t d = {.kind = HB_NOTE_REMINDER,
                       .withdraw = why,
                       .hall = self->config->hall.id,
                       .seq = env->seq,
                       .ticket = a->code};
    reminder_key(self, a, d.key);
    self->emit(&d, self->arg);
}

void nt_tracker_event(nt_tracker_t *self, const Hallbus__Envelope *env, bool apply)
{
    nt_fields_t f;
    char svc_name[128], window[16], until[8], materials[2048];
    const Hallbus__Ticket *v = NULL;
    int touched[2] = {-1, -1};

    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED:
        v = env->ticket_issued->ticket;
        if (apply && v && enter_at(self, v, env->ticket_issued->ahead))
            touched[0] = service_index(v->service);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_REQUEUED:
        v = env->ticket_requeued->ticket;
        if (apply && v && enter_at(self, v, env->ticket_requeued->ahead))
            touched[0] = service_index(v->service);
        break;
    case HALLBUS__ENVELOPE__EVENT_APPOINTMENT_BOOKED:
        remind(self, env, env->appointment_booked->appointment);
        break;
    case HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CANCELLED:
        withdraw(self, env, env->appointment_cancelled->appointment,
                 "the appointment was cancelled");
        break;
    case HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CHECKED_IN:
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
        if (apply) {
            forget(self, v->id);
            touched[0] = service_index(v->service);
        }
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
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED: {
        const Hallbus__TicketTransferred *tr = env->ticket_transferred;
        v = tr->ticket;
        if (apply && v) {
            /* keeps its place by when it came: its key if we knew it */
            nt_ticket_t *old;
            uint64_t id = v->id;
            HASH_FIND(hh, self->by_id, &id, sizeof id, old);
            uint64_t key = old ? old->key : v->id;
            if (enter(self, v, key))
                touched[0] = service_index(v->service);
            touched[1] = service_index(tr->from_service);
        }
        break;
    }
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
    if (apply) {
        check_near(self, touched[0], env->seq, env->ts);
        if (touched[1] != touched[0])
            check_near(self, touched[1], env->seq, env->ts);
    }
}

unsigned nt_tracker_waiting(const nt_tracker_t *self)
{
    return HASH_COUNT(self->by_id);
}

int nt_tracker_ahead(const nt_tracker_t *self, const char *number)
{
    for (int s = 0; s < 26; s++) {
        int ahead = 0;
        for (const nt_ticket_t *t = self->green[s].head; t; t = t->next, ahead++)
            if (strcmp(t->number, number) == 0)
                return ahead;
        const nt_line_t *others[2] = {&self->appt[s], &self->normal[s]};
        for (int l = 0; l < 2; l++) {
            ahead = (int)self->green[s].count;
            for (const nt_ticket_t *t = others[l]->head; t; t = t->next, ahead++)
                if (strcmp(t->number, number) == 0)
                    return ahead;
        }
    }
    return -1;
}
