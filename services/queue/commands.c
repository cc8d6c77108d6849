#include "commands.h"

#include "command_roles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hall_events.h"
#include "hall_view.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

static void pack_reply(Hallbus__Reply *reply, uint8_t **out, size_t *outlen)
{
    *outlen = hallbus__reply__get_packed_size(reply);
    *out = malloc(*outlen ? *outlen : 1);
    hallbus__reply__pack(reply, *out);
}

void queue_error_reply(hall_t *hall, Hallbus__StatusCode code, const char *msg, uint8_t **out,
                       size_t *outlen)
{
    Hallbus__Reply reply = HALLBUS__REPLY__INIT;
    reply.code = code;
    reply.message = (char *)msg;
    reply.seq = hall->seq;
    pack_reply(&reply, out, outlen);
}

/* What a command handler leaves for the reply. */
typedef struct {
    hall_err_t err;
    ticket_t *ticket;
    window_t *window;
    bool with_ahead;
    hall_view_t view;
    int view_kind; /* 0 none, 1 status, 2 snapshot */
    Hallbus__EventBatch batch;
    ProtobufCBinaryData *envelopes;
    Hallbus__Contact contact;
    bool has_batch, has_contact;
    uint64_t oldest_seq;                    /* GONE: the journal's oldest */
    Hallbus__Appointment *appointment;      /* owned */
    Hallbus__Complaint *complaint;          /* owned */
    Hallbus__AppointmentList *appointments; /* owned */
    Hallbus__ComplaintList *complaints;     /* owned */
    Hallbus__EvaluationList *evaluations;   /* owned */
    ticket_t *checked_in;
    bool own_view;   /* get_my_ticket: the holder's view of o->ticket */
    bool with_token; /* take_ticket, check_in: the reply carries the ticket's token */
} outcome_t;

/* The holder's view of T (GetMyTicket): what a citizen needs on a phone
 * page, nothing about staff or contacts. */
static void own_view(const hall_t *hall, const ticket_t *t, Hallbus__Ticket *out)
{
    hallbus__ticket__init(out);
    out->id = t->id;
    out->number = (char *)t->number;
    out->service = (char *)t->service->prefix;
    out->daily_number = t->daily_number;
    out->priority = t->priority;
    out->state = t->state;
    out->business_date = (char *)hall->business_date;
    out->issued_at = t->issued_at;
    out->called_at = t->called_at;
    out->window = t->window;
    out->recalls = t->recalls;
    out->result = t->result;
    out->slot_start = t->slot_start;
    if (t->state == HALLBUS__TICKET_STATE__WAITING)
        out->place = hall_place(t);
}

static int get_complaint(hall_t *hall, uint64_t id, outcome_t *o)
{
    if (id == 0)
        return hall_refuse(&o->err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "say which complaint: its id");
    o->complaints = hall_store_list_complaints(hall->store, false, id);
    if (!o->complaints)
        return hall_refuse(&o->err, HALLBUS__STATUS_CODE__INTERNAL, "cannot read the complaints");
    if (o->complaints->n_complaints == 0)
        return hall_refuse(&o->err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no complaint %llu",
                           (unsigned long long)id);
    return HALLBUS__STATUS_CODE__OK;
}

static int list_evaluations(hall_t *hall, const Hallbus__ListEvaluations *c, outcome_t *o)
{
    const char *date =
        c->business_date && *c->business_date ? c->business_date : hall->business_date;
    if (!hb_date_valid(date))
        return hall_refuse(&o->err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "\"%.16s\" is not a date YYYY-MM-DD", date);
    o->evaluations = hall_store_list_evaluations(hall->store, date, c->commented_only);
    return o->evaluations ? HALLBUS__STATUS_CODE__OK
                          : hall_refuse(&o->err, HALLBUS__STATUS_CODE__INTERNAL,
                                        "cannot read the evaluations");
}

/* A window command that names its staff member (hall-counter always does)
 * is done only by the person signed on there; signing on names oneself. */
static int check_staff(hall_t *hall, const Hallbus__Request *req, hall_err_t *err)
{
    uint32_t number = hb_request_window(req);
    if (!req->staff || !*req->staff || number == 0)
        return HALLBUS__STATUS_CODE__OK;
    if (req->command_case == HALLBUS__REQUEST__COMMAND_OPEN_WINDOW) {
        const char *opener = req->open_window->staff;
        if (opener && *opener && strcmp(opener, req->staff) != 0)
            return hall_refuse(err, HALLBUS__STATUS_CODE__PERMISSION_DENIED,
                               "%.32s cannot sign %.32s on at window %u", req->staff, opener,
                               number);
        return HALLBUS__STATUS_CODE__OK;
    }
    window_t *w = hall_window(hall, number);
    if (w && strcmp(w->staff, req->staff) != 0)
        return hall_refuse(err, HALLBUS__STATUS_CODE__PERMISSION_DENIED,
                           "%.32s is not signed on at window %u%s%s", req->staff, number,
                           w->staff[0] ? "; it is staffed by " : "", w->staff);
    return HALLBUS__STATUS_CODE__OK;
}

#define FETCH_DEFAULT 1000
#define FETCH_MAX 10000

static int fetch_events(hall_t *hall, const Hallbus__FetchEvents *c, outcome_t *o)
{
    unsigned max = c->max_events ? c->max_events : FETCH_DEFAULT;
    if (max > FETCH_MAX)
        max = FETCH_MAX;
    uint64_t from = c->from_seq ? c->from_seq : 1;
    uint8_t **data = NULL;
    size_t *lens = NULL;
    uint64_t oldest = 0;
    hall_commit(hall); /* the journal read sees this batch's own events too */
    int n = from > hall->seq
                ? 0
                : hall_store_fetch_events(hall->store, from, max, &data, &lens, &oldest);
    if (n < 0)
        return hall_refuse(&o->err, HALLBUS__STATUS_CODE__INTERNAL, "cannot read the journal");
    if (n > 0 && oldest > from) {
        for (int i = 0; i < n; i++)
            free(data[i]);
        free(data);
        free(lens);
        o->oldest_seq = oldest;
        return hall_refuse(&o->err, HALLBUS__STATUS_CODE__GONE,
                           "the journal keeps events from #%llu on; #%llu is gone",
                           (unsigned long long)oldest, (unsigned long long)from);
    }
    hallbus__event_batch__init(&o->batch);
    o->envelopes = calloc(n > 0 ? (size_t)n : 1, sizeof *o->envelopes);
    for (int i = 0; i < n; i++) {
        o->envelopes[i].data = data[i];
        o->envelopes[i].len = lens[i];
    }
    free(data);
    free(lens);
    o->batch.n_envelopes = (size_t)n;
    o->batch.envelopes = o->envelopes;
    o->batch.last_seq = hall->seq;
    o->has_batch = true;
    return HALLBUS__STATUS_CODE__OK;
}

/* Who may resolve a contact is the key's role (the command table: the
 * notifier's, and operators'); no shared secret crosses the wire. */
static int resolve_contact(hall_t *hall, const Hallbus__ResolveContact *c, outcome_t *o)
{
    char *contact, *number, *date;
    if (hall_store_resolve_contact(hall->store, c->contact_ref, &contact, &number, &date) != 0)
        return hall_refuse(&o->err, HALLBUS__STATUS_CODE__NOT_FOUND, "no contact %.32s",
                           c->contact_ref);
    /* init points the strings at protobuf-c's static "": set them only now */
    hallbus__contact__init(&o->contact);
    o->contact.contact = contact;
    o->contact.ticket_number = number;
    o->contact.business_date = date;
    o->contact.contact_ref = c->contact_ref;
    o->has_contact = true;
    return HALLBUS__STATUS_CODE__OK;
}

static int dispatch(hall_t *hall, const Hallbus__Request *req, int64_t now, outcome_t *o)
{
    hall_err_t *err = &o->err;
    switch (req->command_case) {
    case HALLBUS__REQUEST__COMMAND_TAKE_TICKET: {
        const Hallbus__TakeTicket *c = req->take_ticket;
        hall_take_t in = {c->service, c->priority, c->green_reason, c->contact, c->channel};
        o->with_ahead = o->with_token = true;
        return hall_take_ticket(hall, &in, now, &o->ticket, err);
    }
    case HALLBUS__REQUEST__COMMAND_OPEN_WINDOW: {
        const Hallbus__OpenWindow *c = req->open_window;
        const char *staff = c->staff && *c->staff ? c->staff : req->staff;
        return hall_open_window(hall, c->window, staff, c->services, (unsigned)c->n_services, now,
                                &o->window, err);
    }
    case HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW:
        return hall_pause_window(hall, req->pause_window->window, req->pause_window->reason, now,
                                 &o->window, err);
    case HALLBUS__REQUEST__COMMAND_RESUME_WINDOW:
        return hall_resume_window(hall, req->resume_window->window, now, &o->window, err);
    case HALLBUS__REQUEST__COMMAND_CLOSE_WINDOW:
        return hall_close_window(hall, req->close_window->window, now, &o->window, err);
    case HALLBUS__REQUEST__COMMAND_CALL_NEXT:
        return hall_call_next(hall, req->call_next->window, now, &o->ticket, err);
    case HALLBUS__REQUEST__COMMAND_RECALL:
        return hall_recall(hall, req->recall->window, now, &o->ticket, err);
    case HALLBUS__REQUEST__COMMAND_NO_SHOW:
        return hall_no_show(hall, req->no_show->window, now, &o->ticket, err);
    case HALLBUS__REQUEST__COMMAND_REQUEUE:
        o->with_ahead = true;
        return hall_requeue(hall, req->requeue->number, now, &o->ticket, err);
    case HALLBUS__REQUEST__COMMAND_TRANSFER: {
        const Hallbus__Transfer *c = req->transfer;
        o->with_ahead = true;
        return hall_transfer(hall, c->window, c->to_service, c->reason, now, &o->ticket, err);
    }
    case HALLBUS__REQUEST__COMMAND_START_SERVICE:
        return hall_start(hall, req->start_service->window, now, &o->ticket, err);
    case HALLBUS__REQUEST__COMMAND_FINISH_SERVICE: {
        const Hallbus__FinishService *c = req->finish_service;
        hall_finish_t in = {c->result, c->reason, c->missing_materials,
                            (unsigned)c->n_missing_materials, c->promised_date};
        return hall_finish(hall, c->window, &in, now, &o->ticket, err);
    }
    case HALLBUS__REQUEST__COMMAND_EVALUATE: {
        const Hallbus__Evaluate *c = req->evaluate;
        return hall_evaluate(hall, c->number, c->rating, c->comment, now, &o->ticket, err);
    }
    case HALLBUS__REQUEST__COMMAND_GET_STATUS:
        hall_view_status(hall, now, &o->view);
        o->view_kind = 1;
        return HALLBUS__STATUS_CODE__OK;
    case HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT:
        hall_view_snapshot(hall, now, &o->view);
        o->view_kind = 2;
        return HALLBUS__STATUS_CODE__OK;
    case HALLBUS__REQUEST__COMMAND_GET_TICKET:
        o->ticket = hall_ticket(hall, req->get_ticket->number);
        if (!o->ticket)
            return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND,
                               "there is no ticket %.16s today", req->get_ticket->number);
        return HALLBUS__STATUS_CODE__OK;
    case HALLBUS__REQUEST__COMMAND_GET_MY_TICKET:
        o->with_ahead = o->own_view = true;
        return hall_my_ticket(hall, req->get_my_ticket->token, &o->ticket, err);
    case HALLBUS__REQUEST__COMMAND_GET_COMPLAINT:
        return get_complaint(hall, req->get_complaint->id, o);
    case HALLBUS__REQUEST__COMMAND_LIST_EVALUATIONS:
        return list_evaluations(hall, req->list_evaluations, o);
    case HALLBUS__REQUEST__COMMAND_MARK_READY:
        return hall_mark_ready(hall, req->mark_ready->number, req->mark_ready->business_date, now,
                               err);
    case HALLBUS__REQUEST__COMMAND_CALL_TICKET:
        return hall_call_ticket(hall, req->call_ticket->window, req->call_ticket->number, now,
                                &o->ticket, err);
    case HALLBUS__REQUEST__COMMAND_REPORT_OVERTIME: {
        const Hallbus__ReportOvertime *c = req->report_overtime;
        return hall_report_overtime(hall, c->window, c->number, c->level, c->elapsed_seconds, now,
                                    &o->ticket, err);
    }
    case HALLBUS__REQUEST__COMMAND_BOOK_APPOINTMENT: {
        const Hallbus__BookAppointment *c = req->book_appointment;
        return hall_book(hall, c->service, c->date, c->slot, c->contact, now, &o->appointment, err);
    }
    case HALLBUS__REQUEST__COMMAND_CANCEL_APPOINTMENT:
        return hall_cancel_appointment(hall, req->cancel_appointment->code, now, &o->appointment,
                                       err);
    case HALLBUS__REQUEST__COMMAND_CHECK_IN:
        o->with_token = true;
        return hall_check_in(hall, req->check_in->code, now, &o->appointment, &o->checked_in, err);
    case HALLBUS__REQUEST__COMMAND_LIST_APPOINTMENTS: {
        const Hallbus__ListAppointments *c = req->list_appointments;
        const char *date = c->date && *c->date ? c->date : hall->business_date;
        if (!hb_date_valid(date))
            return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                               "\"%.16s\" is not a date YYYY-MM-DD", date);
        o->appointments = hall_store_list_appointments(hall->store, date, c->service);
        return o->appointments ? HALLBUS__STATUS_CODE__OK
                               : hall_refuse(err, HALLBUS__STATUS_CODE__INTERNAL,
                                             "cannot read the appointments");
    }
    case HALLBUS__REQUEST__COMMAND_FILE_COMPLAINT: {
        const Hallbus__FileComplaint *c = req->file_complaint;
        hall_complaint_t in = {c->ticket_number, c->window, c->staff, c->text, c->contact};
        return hall_file_complaint(hall, &in, now, &o->complaint, err);
    }
    case HALLBUS__REQUEST__COMMAND_UPDATE_COMPLAINT: {
        const Hallbus__UpdateComplaint *c = req->update_complaint;
        return hall_update_complaint(hall, c->id, c->state, c->handler, c->note, c->reply, now,
                                     &o->complaint, err);
    }
    case HALLBUS__REQUEST__COMMAND_LIST_COMPLAINTS:
        o->complaints = hall_store_list_complaints(hall->store, req->list_complaints->open_only, 0);
        return o->complaints
                   ? HALLBUS__STATUS_CODE__OK
                   : hall_refuse(err, HALLBUS__STATUS_CODE__INTERNAL, "cannot read the complaints");
    case HALLBUS__REQUEST__COMMAND_RECORD_SIGN_ON: {
        const Hallbus__RecordSignOn *c = req->record_sign_on;
        hall_sign_on_t in = {c->staff, c->window, c->outcome, c->reason, req->actor};
        return hall_record_sign_on(hall, &in, now, err);
    }
    case HALLBUS__REQUEST__COMMAND_FETCH_EVENTS:
        return fetch_events(hall, req->fetch_events, o);
    case HALLBUS__REQUEST__COMMAND_RESOLVE_CONTACT:
        return resolve_contact(hall, req->resolve_contact, o);
    default:
        return hall_refuse(err, HALLBUS__STATUS_CODE__UNKNOWN_COMMAND,
                           "unknown command: the request carries no command this hall-queue "
                           "knows (field %d)",
                           (int)req->command_case);
    }
}

void queue_refuse_undecodable(hall_t *hall, int drc, const char *why, size_t len,
                              queue_counters_t *counters, uint8_t **out, size_t *outlen)
{
    counters->malformed++;
    /* log once per kind of trouble, not once per frame: a flood must
     * not fill the disk */
    if (counters->malformed == 1 || counters->malformed % 10000 == 0)
        hb_warn("refused %lu malformed request(s); latest: %s (%zu bytes)", counters->malformed,
                why, len);
    char msg[128];
    snprintf(msg, sizeof msg, "%s (%zu bytes)", why, len);
    queue_error_reply(hall,
                      drc == HB_DECODE_TOO_LARGE ? HALLBUS__STATUS_CODE__TOO_LARGE
                                                 : HALLBUS__STATUS_CODE__MALFORMED,
                      msg, out, outlen);
}

void queue_handle(hall_t *hall, const void *data, size_t len, int64_t now,
                  queue_counters_t *counters, uint8_t **out, size_t *outlen)
{
    Hallbus__Request *req = NULL;
    const char *why = NULL;
    int drc = hb_request_decode(data, len, &req, &why);
    if (drc != HB_DECODE_OK && drc != HB_DECODE_INVALID) {
        queue_refuse_undecodable(hall, drc, why, len, counters, out, outlen);
        return;
    }
    queue_handle_request(hall, req, drc == HB_DECODE_INVALID ? why : NULL, HB_ROLE_OPERATOR, now,
                         counters, out, outlen);
    hallbus__request__free_unpacked(req, NULL);
}

/* May a key of ROLE run REQ, and whom does it act as? Refuses with the
 * roles needed; clears Request.staff where it is not believed. */
static int authorise(Hallbus__Request *req, hb_role_t role, hall_err_t *err)
{
    const char *name = hb_role_name(role);
    if (req->command_case == HALLBUS__REQUEST__COMMAND__NOT_SET)
        return HALLBUS__STATUS_CODE__OK; /* nothing to run: answered UNKNOWN_COMMAND */
    const char *elsewhere = queue_command_elsewhere(req->command_case);
    if (elsewhere)
        return hall_refuse(err, HALLBUS__STATUS_CODE__PERMISSION_DENIED,
                           "%s goes to %s, never to hall-queue", hb_command_name(req), elsewhere);
    if (!queue_role_may(name, req->command_case)) {
        char roles[128];
        return hall_refuse(err, HALLBUS__STATUS_CODE__PERMISSION_DENIED,
                           "this command needs a key of role %s; this key's role is %s",
                           queue_command_roles(req->command_case, roles, sizeof roles),
                           name ? name : "none");
    }
    if (role == HB_ROLE_COUNTER) {
        /* hall-counter acts for the person signed on at the window: it must
         * say who, so that check_staff holds them to their own window */
        if (hb_request_window(req) != 0 && (!req->staff || !*req->staff))
            return hall_refuse(err, HALLBUS__STATUS_CODE__PERMISSION_DENIED,
                               "a counter key must name the staff member acting at window %u",
                               hb_request_window(req));
    } else if (role != HB_ROLE_OPERATOR) {
        req->staff = NULL; /* believed from counter and operator keys only */
    }
    return HALLBUS__STATUS_CODE__OK;
}

void queue_handle_request(hall_t *hall, Hallbus__Request *req, const char *invalid, hb_role_t role,
                          int64_t now, queue_counters_t *counters, uint8_t **out, size_t *outlen)
{
    counters->handled++;

    outcome_t o = {0};
    int code;
    if (invalid) /* a string a standard reader would refuse */
        code = hall_refuse(&o.err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "%s", invalid);
    else if (req->hall_id && *req->hall_id && strcmp(req->hall_id, hall->config->hall.id) != 0)
        code = hall_refuse(&o.err, HALLBUS__STATUS_CODE__WRONG_HALL, "this is hall %s, not %.32s",
                           hall->config->hall.id, req->hall_id);
    else if ((code = authorise(req, role, &o.err)) == HALLBUS__STATUS_CODE__OK &&
             (code = check_staff(hall, req, &o.err)) == HALLBUS__STATUS_CODE__OK)
        code = dispatch(hall, req, now, &o);

    Hallbus__Reply reply = HALLBUS__REPLY__INIT;
    reply.request_id = req->request_id;
    reply.code = code;
    reply.message = code == HALLBUS__STATUS_CODE__OK ? "ok" : o.err.msg;
    reply.seq = hall->seq;
    reply.oldest_seq = code == HALLBUS__STATUS_CODE__GONE ? o.oldest_seq : 0;
    Hallbus__Ticket tview;
    Hallbus__Window wview;
    char *prefixes[32];
    if (code == HALLBUS__STATUS_CODE__OK) {
        if (o.ticket) {
            if (o.own_view)
                own_view(hall, o.ticket, &tview);
            else
                hall_ticket_view(hall, o.ticket, &tview);
            if (o.with_token)
                reply.ticket_token = o.ticket->token;
            if (o.ticket->state == HALLBUS__TICKET_STATE__WAITING)
                tview.place = hall_place(o.ticket); /* as a snapshot would say it */
            reply.result_case = HALLBUS__REPLY__RESULT_TICKET;
            reply.ticket = &tview;
            if (o.with_ahead && o.ticket->state == HALLBUS__TICKET_STATE__WAITING) {
                reply.ahead = hall_ahead(hall, o.ticket);
                reply.estimated_wait_s = hall_estimated_wait(hall, o.ticket->service, reply.ahead);
            }
        } else if (o.window) {
            hall_window_view(o.window, &wview, prefixes);
            reply.result_case = HALLBUS__REPLY__RESULT_WINDOW;
            reply.window = &wview;
        } else if (o.view_kind == 1) {
            reply.result_case = HALLBUS__REPLY__RESULT_STATUS;
            reply.status = &o.view.status;
        } else if (o.view_kind == 2) {
            reply.result_case = HALLBUS__REPLY__RESULT_SNAPSHOT;
            reply.snapshot = &o.view.snapshot;
        } else if (o.has_batch) {
            reply.result_case = HALLBUS__REPLY__RESULT_EVENTS;
            reply.events = &o.batch;
        } else if (o.has_contact) {
            reply.result_case = HALLBUS__REPLY__RESULT_CONTACT;
            reply.contact = &o.contact;
        } else if (o.appointment) {
            reply.result_case = HALLBUS__REPLY__RESULT_APPOINTMENT;
            reply.appointment = o.appointment;
            if (o.checked_in) {
                hall_ticket_view(hall, o.checked_in, &tview);
                tview.place = hall_place(o.checked_in);
                reply.checked_in_ticket = &tview;
                reply.ahead = tview.place;
                reply.ticket_token = o.checked_in->token;
            }
        } else if (o.complaint) {
            reply.result_case = HALLBUS__REPLY__RESULT_COMPLAINT;
            reply.complaint = o.complaint;
        } else if (o.appointments) {
            reply.result_case = HALLBUS__REPLY__RESULT_APPOINTMENTS;
            reply.appointments = o.appointments;
        } else if (o.complaints && req->command_case == HALLBUS__REQUEST__COMMAND_GET_COMPLAINT) {
            reply.result_case = HALLBUS__REPLY__RESULT_COMPLAINT;
            reply.complaint = o.complaints->complaints[0];
        } else if (o.complaints) {
            reply.result_case = HALLBUS__REPLY__RESULT_COMPLAINTS;
            reply.complaints = o.complaints;
        } else if (o.evaluations) {
            reply.result_case = HALLBUS__REPLY__RESULT_EVALUATIONS;
            reply.evaluations = o.evaluations;
        }
    } else {
        counters->refused++;
        if (code == HALLBUS__STATUS_CODE__UNKNOWN_COMMAND && counters->unknown++ == 0)
            hb_warn("refused a request with an unknown command (field %d) from %s; further ones "
                    "are only counted",
                    (int)req->command_case, req->actor && *req->actor ? req->actor : "?");
        hb_debug("%s from %s refused: %s", hb_command_name(req),
                 req->actor && *req->actor ? req->actor : "?", o.err.msg);
    }
    pack_reply(&reply, out, outlen);
    if (o.view_kind)
        hall_view_free(&o.view);
    for (size_t i = 0; i < o.batch.n_envelopes; i++)
        free(o.envelopes[i].data);
    free(o.envelopes);
    hall_store_free_appointment(o.appointment);
    if (o.complaint)
        hallbus__complaint__free_unpacked(o.complaint, NULL);
    if (o.appointments)
        hallbus__appointment_list__free_unpacked(o.appointments, NULL);
    if (o.complaints)
        hallbus__complaint_list__free_unpacked(o.complaints, NULL);
    if (o.evaluations)
        hallbus__evaluation_list__free_unpacked(o.evaluations, NULL);
    if (o.has_contact) {
        free(o.contact.contact);
        free(o.contact.ticket_number);
        free(o.contact.business_date);
    }
}
