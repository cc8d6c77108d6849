#include "commands.h"

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
} outcome_t;

static int dispatch(hall_t *hall, const Hallbus__Request *req, int64_t now, outcome_t *o)
{
    hall_err_t *err = &o->err;
    switch (req->command_case) {
    case HALLBUS__REQUEST__COMMAND_TAKE_TICKET: {
        const Hallbus__TakeTicket *c = req->take_ticket;
        hall_take_t in = {c->service, c->priority, c->green_reason, c->contact, c->channel};
        o->with_ahead = true;
        return hall_take_ticket(hall, &in, now, &o->ticket, err);
    }
    case HALLBUS__REQUEST__COMMAND_OPEN_WINDOW: {
        const Hallbus__OpenWindow *c = req->open_window;
        return hall_open_window(hall, c->window, c->staff, c->services, (unsigned)c->n_services,
                                now, &o->window, err);
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
    default:
        return hall_refuse(err, HALLBUS__STATUS_CODE__UNKNOWN_COMMAND,
                           "unknown command: the request carries no command this hall-queue "
                           "knows (field %d)",
                           (int)req->command_case);
    }
}

void queue_handle(hall_t *hall, const void *data, size_t len, int64_t now,
                  queue_counters_t *counters, uint8_t **out, size_t *outlen)
{
    Hallbus__Request *req = NULL;
    const char *why = NULL;
    int drc = hb_request_decode(data, len, &req, &why);
    if (drc != HB_DECODE_OK) {
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
        return;
    }
    counters->handled++;

    outcome_t o = {0};
    int code;
    if (req->hall_id && *req->hall_id && strcmp(req->hall_id, hall->config->hall.id) != 0)
        code = hall_refuse(&o.err, HALLBUS__STATUS_CODE__WRONG_HALL, "this is hall %s, not %.32s",
                           hall->config->hall.id, req->hall_id);
    else
        code = dispatch(hall, req, now, &o);

    Hallbus__Reply reply = HALLBUS__REPLY__INIT;
    reply.request_id = req->request_id;
    reply.code = code;
    reply.message = code == HALLBUS__STATUS_CODE__OK ? "ok" : o.err.msg;
    reply.seq = hall->seq;
    Hallbus__Ticket tview;
    Hallbus__Window wview;
    char *prefixes[32];
    if (code == HALLBUS__STATUS_CODE__OK) {
        if (o.ticket) {
            hall_ticket_view(hall, o.ticket, &tview);
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
    hallbus__request__free_unpacked(req, NULL);
}
