/* A ticket's life: taken, called, recalled, no-show, requeued, transferred,
 * started, finished, evaluated. Each function refuses before it changes
 * anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hall.h"
#include "hall_events.h"
#include "hall_hours.h"
#include "hall_calling_order.h"
#include "hallbus/alloc.h"

#define OK HALLBUS__STATUS_CODE__OK
#define CONTACT_MAX 256
#define TEXT_MAX 512
#define MATERIALS_MAX 64

static const char *state_words(Hallbus__TicketState s)
{
    switch (s) {
    case HALLBUS__TICKET_STATE__WAITING:
        return "waiting";
    case HALLBUS__TICKET_STATE__CALLED:
        return "called";
    case HALLBUS__TICKET_STATE__SERVING:
        return "being served";
    case HALLBUS__TICKET_STATE__NO_SHOW:
        return "a no-show";
    case HALLBUS__TICKET_STATE__FINISHED:
        return "finished";
    case HALLBUS__TICKET_STATE__EXPIRED:
        return "expired";
    default:
        return "in no state";
    }
}

/* The window must exist; with NEED_TICKET it must hold a ticket in one of
 * the states in ALLOWED (a bit set of 1 << state). */
static int find_window(hall_t *self, uint32_t number, window_t **out, hall_err_t *err)
{
    *out = hall_window(self, number);
    if (!*out)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no window %u", number);
    if ((*out)->state == HALLBUS__WINDOW_STATE__CLOSED)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE, "window %u is closed", number);
    return OK;
}

static int current_ticket(hall_t *self, uint32_t number, unsigned allowed, const char *action,
                          window_t **wout, ticket_t **tout, hall_err_t *err)
{
    *tout = NULL; /* set on every path: gcc -O3 cannot tell OK from a refusal */
    int rc = find_window(self, number, wout, err);
    if (rc != OK)
        return rc;
    ticket_t *t = (*wout)->current;
    if (!t)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "window %u has no ticket to %s; call one first", number, action);
    if (!(allowed & (1u << t->state)))
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "cannot %s %s at window %u: it is %s", action, t->number, number,
                           state_words(t->state));
    *tout = t;
    return OK;
}

#define EMIT(self, field, CASE, msgp, now)                                                         \
    do {                                                                                           \
        Hallbus__Envelope env_ = HALLBUS__ENVELOPE__INIT;                                          \
        env_.event_case = HALLBUS__ENVELOPE__EVENT_##CASE;                                         \
        env_.field = (msgp);                                                                       \
        hall_emit((self), &env_, (now));                                                           \
    } while (0)

/* ── take ───────────────────────────────────────────────────────────────── */

void hall_new_contact_ref(char out[24])
{
    unsigned char raw[8];
    sqlite3_randomness(sizeof raw, raw);
    int n = snprintf(out, 24, "ct-");
    for (unsigned i = 0; i < sizeof raw; i++)
        n += snprintf(out + n, (size_t)(24 - n), "%02x", raw[i]);
}

int hall_take_ticket(hall_t *self, const hall_take_t *in, int64_t now, ticket_t **out,
                     hall_err_t *err)
{
    service_t *svc = hall_service(self, in->service);
    if (!in->service || !*in->service)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "no service given");
    if (!svc)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND,
                           "there is no service \"%.8s\" in this hall", in->service);
    if (in->priority == HALLBUS__PRIORITY__GREEN &&
        in->green_reason == HALLBUS__GREEN_REASON__GREEN_REASON_UNSPECIFIED)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "a green-channel ticket needs a reason (elderly, disabled, pregnant, "
                           "with-infant, urgent)");
    if (in->priority != HALLBUS__PRIORITY__GREEN && in->priority != HALLBUS__PRIORITY__NORMAL)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "unknown priority %d",
                           in->priority);
    if (in->green_reason > HALLBUS__GREEN_REASON__URGENT || in->green_reason < 0)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "unknown green-channel reason %d", in->green_reason);
    if (in->contact && strlen(in->contact) > CONTACT_MAX)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "the contact is longer than %d characters", CONTACT_MAX);
    if (in->channel && strlen(in->channel) > 15)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "the channel name is longer than 15 characters");
    char closed[HALL_MSG_MAX];
    if (!hall_hours_open(&self->config->hours, now, closed, sizeof closed))
        return hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED, "%s", closed);
    if (svc->conf->quota && svc->last_number >= svc->conf->quota)
        return hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED,
                           "service %s (%s) has given out all %u tickets of today's quota; "
                           "please come back on the next working day",
                           svc->prefix, svc->conf->name, svc->conf->quota);

    char ref[24] = "";
    if (in->contact && *in->contact) {
        hall_new_contact_ref(ref);
        hall_events_begin(self);
        if (hall_store_save_contact(self->store, ref, self->next_ticket_id, in->contact, now) != 0)
            hall_store_failed(self, "a contact");
    }
    ticket_t *t =
        hall_issue_ticket(self, svc, in->priority, in->green_reason,
                          in->channel && *in->channel ? in->channel : "kiosk", ref, NULL, now);
    hall_emit_issued(self, t, now);
    *out = t;
    return OK;
}

ticket_t *hall_issue_ticket(hall_t *self, service_t *svc, Hallbus__Priority priority,
                            Hallbus__GreenReason green_reason, const char *channel,
                            const char *contact_ref, const Hallbus__Appointment *appointment,
                            int64_t now)
{
    ticket_t *t = hb_xcalloc(1, sizeof *t, "a ticket");
    t->id = self->next_ticket_id++;
    t->service = svc;
    t->daily_number = ++svc->last_number;
    snprintf(t->number, sizeof t->number, "%s%03u", svc->prefix, t->daily_number);
    t->priority = priority;
    t->green_reason = priority == HALLBUS__PRIORITY__GREEN ? green_reason : 0;
    t->state = HALLBUS__TICKET_STATE__WAITING;
    t->issued_at = now;
    t->queue_key = self->next_queue_key;
    self->next_queue_key += HALL_KEY_STEP;
    snprintf(t->channel, sizeof t->channel, "%s", channel);
    snprintf(t->contact_ref, sizeof t->contact_ref, "%s", contact_ref ? contact_ref : "");
    if (appointment) {
        snprintf(t->appointment_code, sizeof t->appointment_code, "%s", appointment->code);
        t->appointment_id = appointment->id;
        t->slot_start = appointment->slot_start;
    }
    hall_new_token(self->business_date, t->token);
    HASH_ADD(hh_number, self->by_number, number, strlen(t->number), t);
    HASH_ADD(hh_id, self->by_id, id, sizeof t->id, t);
    HASH_ADD(hh_token, self->by_token, token, strlen(t->token), t);
    hall_line_enter(self, t);
    hall_save_ticket(self, t);
    return t;
}

void hall_emit_issued(hall_t *self, ticket_t *t, int64_t now)
{
    Hallbus__TicketIssued ev = HALLBUS__TICKET_ISSUED__INIT;
    Hallbus__Ticket view;
    hall_ticket_view(self, t, &view);
    view.place = hall_place(t);
    ev.ticket = &view;
    ev.ahead = view.place;
    ev.estimated_wait_s = hall_estimated_wait(self, t->service, ev.ahead);
    EMIT(self, ticket_issued, TICKET_ISSUED, &ev, now);
}

/* ── call, recall, no-show ──────────────────────────────────────────────── */

static void emit_called(hall_t *self, ticket_t *t, window_t *w, bool out_of_order, int64_t now)
{
    Hallbus__TicketCalled ev = HALLBUS__TICKET_CALLED__INIT;
    Hallbus__Ticket view;
    hall_ticket_view(self, t, &view);
    ev.ticket = &view;
    ev.window = w->number;
    ev.staff = w->staff;
    ev.out_of_order = out_of_order;
    EMIT(self, ticket_called, TICKET_CALLED, &ev, now);
}

/* The window can call: open, not paused, holding no ticket. */
static int ready_to_call(hall_t *self, uint32_t number, window_t **out, hall_err_t *err)
{
    int rc = find_window(self, number, out, err);
    if (rc != OK)
        return rc;
    window_t *w = *out;
    if (w->state == HALLBUS__WINDOW_STATE__PAUSED)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "window %u is paused (%s); resume it first", number,
                           w->pause_reason[0] ? w->pause_reason : "no reason given");
    if (w->current)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "window %u still has %s (%s); finish it, mark it no-show or "
                           "transfer it first",
                           number, w->current->number, state_words(w->current->state));
    return OK;
}

static void call_chosen(hall_t *self, window_t *w, ticket_t *t, bool out_of_order, int64_t now)
{
    hall_line_leave(self, t);
    t->state = HALLBUS__TICKET_STATE__CALLED;
    t->window = w->number;
    snprintf(t->staff, sizeof t->staff, "%s", w->staff);
    t->called_at = now;
    if (!t->first_called_at)
        t->first_called_at = now;
    t->recalls = 0;
    w->current = t;
    hall_note_call(self, t);
    hall_save_ticket(self, t);
    hall_save_window(self, w);
    emit_called(self, t, w, out_of_order, now);
}

int hall_call_ticket(hall_t *self, uint32_t number, const char *ticket_number, int64_t now,
                     ticket_t **out, hall_err_t *err)
{
    window_t *w;
    int rc = ready_to_call(self, number, &w, err);
    if (rc != OK)
        return rc;
    ticket_t *t = hall_ticket(self, ticket_number);
    if (!t)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no ticket %.16s today",
                           ticket_number ? ticket_number : "");
    if (t->state != HALLBUS__TICKET_STATE__WAITING)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "%s is %s; only a waiting ticket can be called", t->number,
                           state_words(t->state));
    bool serves = false;
    for (unsigned i = 0; i < w->services_count; i++)
        serves |= w->services[i] == t->service;
    if (!serves)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "%s waits for service %s, which window %u does not serve", t->number,
                           t->service->prefix, number);
    call_chosen(self, w, t, true, now);
    *out = t;
    return OK;
}

int hall_call_next(hall_t *self, uint32_t number, int64_t now, ticket_t **out, hall_err_t *err)
{
    window_t *w;
    int rc = ready_to_call(self, number, &w, err);
    if (rc != OK)
        return rc;
    hall_lines_tick(self, now); /* a slot that began goes first, on the record */
    ticket_t *t = hall_policy_pick(self, w, now);
    if (!t) {
        char list[96] = "";
        for (unsigned i = 0; i < w->services_count && strlen(list) < 80; i++) {
            strcat(list, i ? ", " : "");
            strcat(list, w->services[i]->prefix);
        }
        return hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED,
                           "no ticket is waiting for window %u (services %s)", number, list);
    }
    hall_policy_note_call(self, w, t);
    call_chosen(self, w, t, false, now);
    *out = t;
    return OK;
}

int hall_recall(hall_t *self, uint32_t number, int64_t now, ticket_t **out, hall_err_t *err)
{
    window_t *w;
    ticket_t *t;
    int rc =
        current_ticket(self, number, 1u << HALLBUS__TICKET_STATE__CALLED, "recall", &w, &t, err);
    if (rc != OK)
        return rc;
    uint32_t limit = self->config->queue.recall_limit;
    if (t->recalls >= limit)
        return hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED,
                           "%s has been recalled %u time%s, the hall's limit; mark it no-show",
                           t->number, t->recalls, t->recalls == 1 ? "" : "s");
    t->recalls++;
    t->called_at = now;
    hall_note_call(self, t);
    hall_save_ticket(self, t);

    Hallbus__TicketRecalled ev = HALLBUS__TICKET_RECALLED__INIT;
    Hallbus__Ticket view;
    hall_ticket_view(self, t, &view);
    ev.ticket = &view;
    ev.window = w->number;
    ev.recall = t->recalls;
    EMIT(self, ticket_recalled, TICKET_RECALLED, &ev, now);
    *out = t;
    return OK;
}

int hall_no_show(hall_t *self, uint32_t number, int64_t now, ticket_t **out, hall_err_t *err)
{
    window_t *w;
    ticket_t *t;
    int rc = current_ticket(self, number, 1u << HALLBUS__TICKET_STATE__CALLED, "mark no-show", &w,
                            &t, err);
    if (rc != OK)
        return rc;
    t->state = HALLBUS__TICKET_STATE__NO_SHOW;
    t->no_show_at = now;
    w->current = NULL;
    hall_save_ticket(self, t);
    hall_save_window(self, w);

    Hallbus__TicketNoShow ev = HALLBUS__TICKET_NO_SHOW__INIT;
    Hallbus__Ticket view;
    hall_ticket_view(self, t, &view);
    ev.ticket = &view;
    ev.window = w->number;
    EMIT(self, ticket_no_show, TICKET_NO_SHOW, &ev, now);
    *out = t;
    return OK;
}

/* ── requeue, transfer ──────────────────────────────────────────────────── */

#define REQUEUE_LIMIT 1

/* A place behind the first AFTER tickets of LINE (0: at the back). Keys are
 * spaced HALL_KEY_STEP apart, so there is room between two neighbours; when
 * repeated requeues have used it up, the ticket shares its neighbour's key
 * and goes right behind it. */
static uint64_t requeue_key(hall_t *self, line_t *line, uint32_t after)
{
    uint64_t back = self->next_queue_key;
    self->next_queue_key += HALL_KEY_STEP;
    if (after == 0 || after >= line->count)
        return back;
    ticket_t *before = line->head;
    for (uint32_t i = 1; i < after; i++)
        before = before->next;
    uint64_t next = before->next->queue_key;
    return before->queue_key + (next - before->queue_key) / 2;
}

int hall_requeue(hall_t *self, const char *number, int64_t now, ticket_t **out, hall_err_t *err)
{
    ticket_t *t = hall_ticket(self, number);
    if (!t)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no ticket %.16s today",
                           number ? number : "");
    if (t->state != HALLBUS__TICKET_STATE__NO_SHOW)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "only a no-show ticket can be requeued; %s is %s", t->number,
                           state_words(t->state));
    if (t->requeues >= REQUEUE_LIMIT)
        return hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED,
                           "%s has already been requeued once; please take a new ticket",
                           t->number);
    int64_t limit = t->no_show_at + (int64_t)self->config->queue.requeue_minutes * 60 * 1000000;
    if (now > limit)
        return hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED,
                           "%s missed its call more than %u minutes ago; please take a new ticket",
                           t->number, self->config->queue.requeue_minutes);
    t->state = HALLBUS__TICKET_STATE__WAITING;
    t->requeues++;
    t->queue_key = requeue_key(self, hall_line_of(t), self->config->queue.requeue_after);
    hall_line_enter(self, t);
    hall_save_ticket(self, t);

    Hallbus__TicketRequeued ev = HALLBUS__TICKET_REQUEUED__INIT;
    Hallbus__Ticket view;
    hall_ticket_view(self, t, &view);
    view.place = hall_place(t);
    ev.ticket = &view;
    ev.ahead = view.place;
    EMIT(self, ticket_requeued, TICKET_REQUEUED, &ev, now);
    *out = t;
    return OK;
}

int hall_transfer(hall_t *self, uint32_t number, const char *to_service, const char *reason,
                  int64_t now, ticket_t **out, hall_err_t *err)
{
    window_t *w;
    ticket_t *t;
    int rc = current_ticket(self, number,
                            (1u << HALLBUS__TICKET_STATE__CALLED) |
                                (1u << HALLBUS__TICKET_STATE__SERVING),
                            "transfer", &w, &t, err);
    if (rc != OK)
        return rc;
    service_t *to = hall_service(self, to_service);
    if (!to)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND,
                           "there is no service \"%.8s\" to transfer to",
                           to_service ? to_service : "");
    if (to == t->service)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "%s is already in service %s", t->number, to->prefix);
    if (reason && strlen(reason) > TEXT_MAX)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "the reason is longer than %d characters", TEXT_MAX);
    char from[4];
    snprintf(from, sizeof from, "%s", t->service->prefix);
    if (!t->original_service[0])
        snprintf(t->original_service, sizeof t->original_service, "%s", from);
    t->service = to;
    t->state = HALLBUS__TICKET_STATE__WAITING;
    t->started_at = 0;
    free(t->reason);
    t->reason = reason && *reason ? hb_xstrdup(reason, "a transfer reason") : NULL;
    /* keeps its queue_key: its place by when it came, not behind everyone */
    hall_line_enter(self, t);
    w->current = NULL;
    hall_save_ticket(self, t);
    hall_save_window(self, w);

    Hallbus__TicketTransferred ev = HALLBUS__TICKET_TRANSFERRED__INIT;
    Hallbus__Ticket view;
    hall_ticket_view(self, t, &view);
    ev.ticket = &view;
    ev.from_service = from;
    ev.to_service = (char *)to->prefix;
    ev.from_window = w->number;
    ev.reason = (char *)(reason ? reason : "");
    view.place = hall_place(t);
    EMIT(self, ticket_transferred, TICKET_TRANSFERRED, &ev, now);
    *out = t;
    return OK;
}

/* ── start, finish, evaluate ────────────────────────────────────────────── */

int hall_start(hall_t *self, uint32_t number, int64_t now, ticket_t **out, hall_err_t *err)
{
    window_t *w;
    ticket_t *t;
    int rc =
        current_ticket(self, number, 1u << HALLBUS__TICKET_STATE__CALLED, "start", &w, &t, err);
    if (rc != OK)
        return rc;
    t->state = HALLBUS__TICKET_STATE__SERVING;
    t->started_at = now;
    hall_save_ticket(self, t);

    Hallbus__ServiceStarted ev = HALLBUS__SERVICE_STARTED__INIT;
    Hallbus__Ticket view;
    hall_ticket_view(self, t, &view);
    ev.ticket = &view;
    ev.window = w->number;
    ev.staff = w->staff;
    EMIT(self, service_started, SERVICE_STARTED, &ev, now);
    *out = t;
    return OK;
}

static int check_finish(hall_t *self, const ticket_t *t, const hall_finish_t *in, hall_err_t *err)
{
    if (in->reason && strlen(in->reason) > TEXT_MAX)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "the reason is longer than %d characters", TEXT_MAX);
    if (in->materials_count > MATERIALS_MAX)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "more than %d missing materials", MATERIALS_MAX);
    for (unsigned i = 0; i < in->materials_count; i++)
        if (!in->materials[i] || !*in->materials[i] || strlen(in->materials[i]) > TEXT_MAX)
            return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                               "missing material %u is empty or too long", i + 1);
    switch (in->result) {
    case HALLBUS__RESULT__COMPLETED:
        return OK;
    case HALLBUS__RESULT__ACCEPTED:
        if (!in->promised_date || !hb_date_valid(in->promised_date))
            return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                               "an accepted matter needs the promised completion date as "
                               "YYYY-MM-DD");
        if (strcmp(in->promised_date, self->business_date) < 0)
            return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                               "the promised date %s is before today (%s)", in->promised_date,
                               self->business_date);
        return OK;
    case HALLBUS__RESULT__REJECTED:
        if (!in->reason || !*in->reason)
            return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                               "a rejection needs the reason told to the citizen");
        return OK;
    case HALLBUS__RESULT__MATERIALS_MISSING:
        if (in->materials_count == 0)
            return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                               "list every missing material: the citizen is told all of them "
                               "at once");
        return OK;
    default:
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "a result is needed: completed, accepted, rejected or "
                           "materials-missing");
    }
}

static void sample_service_time(service_t *svc, uint32_t seconds)
{
    svc->rate_samples[svc->rate_next] = seconds;
    svc->rate_next = (svc->rate_next + 1) % HALL_RATE_SAMPLES;
    if (svc->rate_count < HALL_RATE_SAMPLES)
        svc->rate_count++;
}

int hall_finish(hall_t *self, uint32_t number, const hall_finish_t *in, int64_t now, ticket_t **out,
                hall_err_t *err)
{
    window_t *w;
    ticket_t *t;
    int rc =
        current_ticket(self, number, 1u << HALLBUS__TICKET_STATE__SERVING, "finish", &w, &t, err);
    if (rc != OK)
        return rc;
    if ((rc = check_finish(self, t, in, err)) != OK)
        return rc;
    t->state = HALLBUS__TICKET_STATE__FINISHED;
    t->finished_at = now;
    t->result = in->result;
    free(t->reason);
    t->reason = in->reason && *in->reason ? hb_xstrdup(in->reason, "a result's reason") : NULL;
    t->materials = hb_xcalloc(in->materials_count, sizeof *t->materials, "missing materials");
    for (unsigned i = 0; i < in->materials_count; i++)
        t->materials[i] = hb_xstrdup(in->materials[i], "a missing material");
    t->materials_count = in->materials_count;
    if (in->result == HALLBUS__RESULT__ACCEPTED)
        snprintf(t->promised_date, sizeof t->promised_date, "%s", in->promised_date);
    w->current = NULL;
    t->service->served_today++;
    uint32_t service_s = hall_seconds_between(t->started_at, t->finished_at);
    sample_service_time(t->service, service_s);
    hall_mark_service(t->service); /* served today and the estimate changed */
    hall_save_ticket(self, t);
    hall_save_window(self, w);

    Hallbus__ServiceFinished ev = HALLBUS__SERVICE_FINISHED__INIT;
    Hallbus__Ticket view;
    hall_ticket_view(self, t, &view);
    ev.ticket = &view;
    ev.window = w->number;
    ev.staff = w->staff;
    ev.result = t->result;
    ev.reason = t->reason ? t->reason : "";
    ev.n_missing_materials = t->materials_count;
    ev.missing_materials = t->materials;
    ev.promised_date = t->promised_date;
    ev.service_seconds = service_s;
    ev.wait_seconds = hall_seconds_between(t->issued_at, t->first_called_at);
    EMIT(self, service_finished, SERVICE_FINISHED, &ev, now);
    *out = t;
    return OK;
}

int hall_evaluate(hall_t *self, const char *number, uint32_t rating, const char *comment,
                  int64_t now, ticket_t **out, hall_err_t *err)
{
    ticket_t *t = hall_ticket(self, number);
    if (!t)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no ticket %.16s today",
                           number ? number : "");
    if (t->state != HALLBUS__TICKET_STATE__FINISHED)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "%s can be rated once it is finished; it is %s", t->number,
                           state_words(t->state));
    if (t->rating)
        return hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED, "%s has already been rated",
                           t->number);
    if (rating < 1 || rating > 4)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "a rating is 1 (very satisfied) to 4 (dissatisfied), not %u", rating);
    if (comment && strlen(comment) > TEXT_MAX)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "the comment is longer than %d characters", TEXT_MAX);
    t->rating = rating;
    t->rating_comment = comment && *comment ? hb_xstrdup(comment, "a rating's comment") : NULL;
    hall_save_ticket(self, t);

    Hallbus__TicketEvaluated ev = HALLBUS__TICKET_EVALUATED__INIT;
    Hallbus__Ticket view;
    hall_ticket_view(self, t, &view);
    ev.ticket = &view;
    ev.rating = rating;
    ev.commented = t->rating_comment != NULL; /* the words stay here: ListEvaluations */
    EMIT(self, ticket_evaluated, TICKET_EVALUATED, &ev, now);
    *out = t;
    return OK;
}

int hall_report_overtime(hall_t *self, uint32_t number, const char *ticket_number, uint32_t level,
                         uint32_t elapsed_seconds, int64_t now, ticket_t **out, hall_err_t *err)
{
    window_t *w;
    ticket_t *t;
    int rc = current_ticket(self, number, 1u << HALLBUS__TICKET_STATE__SERVING,
                            "report overtime for", &w, &t, err);
    if (rc != OK)
        return rc;
    if (!ticket_number || strcmp(t->number, ticket_number) != 0)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "window %u is serving %s, not %.16s", number, t->number,
                           ticket_number ? ticket_number : "");
    if (level < 1 || level > 2)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "an overtime level is 1 (past the target) or 2 (twice it), not %u",
                           level);
    Hallbus__ServiceOvertime ev = HALLBUS__SERVICE_OVERTIME__INIT;
    Hallbus__Ticket view;
    hall_ticket_view(self, t, &view);
    ev.ticket = &view;
    ev.window = w->number;
    ev.staff = w->staff;
    ev.level = level;
    ev.elapsed_seconds = elapsed_seconds;
    ev.target_minutes = t->service->conf->target_minutes;
    EMIT(self, service_overtime, SERVICE_OVERTIME, &ev, now);
    *out = t;
    return OK;
}

int hall_mark_ready(hall_t *self, const char *number, const char *date, int64_t now,
                    hall_err_t *err)
{
    bool today = !date || !*date || strcmp(date, self->business_date) == 0;
    if (!today && !hb_date_valid(date))
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "\"%.16s\" is not a date YYYY-MM-DD", date);
    ticket_t *t = today ? hall_ticket(self, number)
                        : hall_store_load_ticket(self->store, self, date, number ? number : "");
    if (!t)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no ticket %.16s of %s",
                           number ? number : "", today ? self->business_date : date);
    int rc = OK;
    if (t->state != HALLBUS__TICKET_STATE__FINISHED || t->result != HALLBUS__RESULT__ACCEPTED)
        rc = hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                         "%s was not accepted for later completion; there is nothing to collect",
                         t->number);
    else if (hall_store_ready_at(self->store, t->id))
        rc = hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED, "%s is already marked ready",
                         t->number);
    if (rc == OK) {
        hall_events_begin(self);
        if (hall_store_set_ready(self->store, t->id, now) != 0)
            hall_store_failed(self, "a ready matter");
        Hallbus__TicketReady ev = HALLBUS__TICKET_READY__INIT;
        Hallbus__Ticket view;
        hall_ticket_view(self, t, &view);
        if (!today)
            view.business_date = (char *)date;
        ev.ticket = &view;
        ev.ready_date = self->business_date;
        EMIT(self, ticket_ready, TICKET_READY, &ev, now);
    }
    if (!today)
        hall_ticket_free(t);
    return rc;
}
