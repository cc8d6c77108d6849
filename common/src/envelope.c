#include "hallbus/envelope.h"

#include "hallbus/pb_check.h"

#include <stdio.h>

int hb_envelope_decode(const void *data, size_t len, Hallbus__Envelope **out, const char **why)
{
    *out = NULL;
    if (len > HB_ENVELOPE_MAX) {
        if (why)
            *why = "envelope larger than 1 MiB";
        return HB_DECODE_TOO_LARGE;
    }
    Hallbus__Envelope *env = hallbus__envelope__unpack(NULL, len, data);
    if (!env) {
        if (why)
            *why = "not a protobuf Envelope";
        return HB_DECODE_MALFORMED;
    }
    /* only a heartbeat may carry 0: a hall that has published nothing yet */
    if (env->hall_id == NULL || env->hall_id[0] == '\0' ||
        (env->seq == 0 && env->event_case != HALLBUS__ENVELOPE__EVENT_HEARTBEAT)) {
        hallbus__envelope__free_unpacked(env, NULL);
        if (why)
            *why = "envelope without hall id or sequence";
        return HB_DECODE_MALFORMED;
    }
    *out = env;
    return HB_DECODE_OK;
}

int hb_request_decode(const void *data, size_t len, Hallbus__Request **out, const char **why)
{
    *out = NULL;
    if (len > HB_REQUEST_MAX) {
        if (why)
            *why = "request larger than 64 KiB";
        return HB_DECODE_TOO_LARGE;
    }
    Hallbus__Request *req = hallbus__request__unpack(NULL, len, data);
    if (!req) {
        if (why)
            *why = "not a protobuf Request";
        return HB_DECODE_MALFORMED;
    }
    *out = req;
    /* protobuf-c accepts any bytes in a string; standard readers of what
     * the hall stores and publishes do not */
    static __thread char invalid[HB_DECODE_WHY_MAX];
    if (hb_pb_check_strings(data, len, &hallbus__request__descriptor, invalid, sizeof invalid) !=
        0) {
        if (why)
            *why = invalid;
        return HB_DECODE_INVALID;
    }
    return HB_DECODE_OK;
}

/* Topic kinds and the proto's messages, side by side. The kinds are part
 * of the wire (subscribers filter on them), so they keep their names; the
 * table says which message each one carries ("ticket.started" carries a
 * ServiceStarted). */
static const hb_event_kind_t event_kinds[] = {
    {HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED, "ticket.issued", "TicketIssued"},
    {HALLBUS__ENVELOPE__EVENT_TICKET_CALLED, "ticket.called", "TicketCalled"},
    {HALLBUS__ENVELOPE__EVENT_TICKET_RECALLED, "ticket.recalled", "TicketRecalled"},
    {HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW, "ticket.no_show", "TicketNoShow"},
    {HALLBUS__ENVELOPE__EVENT_TICKET_REQUEUED, "ticket.requeued", "TicketRequeued"},
    {HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED, "ticket.transferred", "TicketTransferred"},
    {HALLBUS__ENVELOPE__EVENT_SERVICE_STARTED, "ticket.started", "ServiceStarted"},
    {HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED, "ticket.finished", "ServiceFinished"},
    {HALLBUS__ENVELOPE__EVENT_TICKET_EVALUATED, "ticket.evaluated", "TicketEvaluated"},
    {HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED, "window.opened", "WindowOpened"},
    {HALLBUS__ENVELOPE__EVENT_WINDOW_PAUSED, "window.paused", "WindowPaused"},
    {HALLBUS__ENVELOPE__EVENT_WINDOW_RESUMED, "window.resumed", "WindowResumed"},
    {HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED, "window.closed", "WindowClosed"},
    {HALLBUS__ENVELOPE__EVENT_TICKET_READY, "ticket.ready", "TicketReady"},
    {HALLBUS__ENVELOPE__EVENT_SERVICE_OVERTIME, "ticket.overtime", "ServiceOvertime"},
    {HALLBUS__ENVELOPE__EVENT_APPOINTMENT_BOOKED, "appointment.booked", "AppointmentBooked"},
    {HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CANCELLED, "appointment.cancelled",
     "AppointmentCancelled"},
    {HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CHECKED_IN, "appointment.checked_in",
     "AppointmentCheckedIn"},
    {HALLBUS__ENVELOPE__EVENT_APPOINTMENT_LAPSED, "appointment.lapsed", "AppointmentLapsed"},
    {HALLBUS__ENVELOPE__EVENT_COMPLAINT_FILED, "complaint.filed", "ComplaintFiled"},
    {HALLBUS__ENVELOPE__EVENT_COMPLAINT_UPDATED, "complaint.updated", "ComplaintUpdated"},
    {HALLBUS__ENVELOPE__EVENT_DAILY_RESET, "day.reset", "DailyReset"},
    {HALLBUS__ENVELOPE__EVENT_HEARTBEAT, "heartbeat", "Heartbeat"},
    {HALLBUS__ENVELOPE__EVENT_LINE_MOVED, "line.moved", "LineMoved"},
    {HALLBUS__ENVELOPE__EVENT_STAFF_SIGNED_ON, "staff.signed_on", "StaffSignedOn"},
    {HALLBUS__ENVELOPE__EVENT_STAFF_SIGN_ON_FAILED, "staff.sign_on_failed", "StaffSignOnFailed"},
    {HALLBUS__ENVELOPE__EVENT_STAFF_SIGNED_OFF, "staff.signed_off", "StaffSignedOff"},
};

const hb_event_kind_t *hb_event_kinds(size_t *count)
{
    *count = sizeof event_kinds / sizeof event_kinds[0];
    return event_kinds;
}

const char *hb_event_kind(const Hallbus__Envelope *env)
{
    for (size_t i = 0; i < sizeof event_kinds / sizeof event_kinds[0]; i++)
        if (event_kinds[i].event_case == (int)env->event_case)
            return event_kinds[i].kind;
    return "unknown";
}

/* The field NAME of ENV's event message when it holds a TYPE, else NULL.
 * The events of the oneof share one union, so the event's message is found
 * through the Envelope's descriptor, and its field through the message's. */
static const void *event_part(const Hallbus__Envelope *env, const char *name,
                              const ProtobufCMessageDescriptor *type)
{
    const ProtobufCFieldDescriptor *which =
        protobuf_c_message_descriptor_get_field(&hallbus__envelope__descriptor, env->event_case);
    if (!which || which->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    const ProtobufCMessage *event =
        *(const ProtobufCMessage *const *)((const char *)env + which->offset);
    if (!event)
        return NULL;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(event->descriptor, name);
    if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE || f->descriptor != type)
        return NULL;
    return *(const void *const *)((const char *)event + f->offset);
}

const Hallbus__Window *hb_event_window(const Hallbus__Envelope *env)
{
    return event_part(env, "window", &hallbus__window__descriptor);
}

const Hallbus__Appointment *hb_event_appointment(const Hallbus__Envelope *env)
{
    return event_part(env, "appointment", &hallbus__appointment__descriptor);
}

const Hallbus__Complaint *hb_event_complaint(const Hallbus__Envelope *env)
{
    return event_part(env, "complaint", &hallbus__complaint__descriptor);
}

int hb_topic(const char *hall, const char *kind, char out[HB_TOPIC_MAX])
{
    int n = snprintf(out, HB_TOPIC_MAX, "hall.%s.%s", hall, kind);
    return (n < 0 || n >= HB_TOPIC_MAX) ? -1 : n;
}

const char *hb_command_name(const Hallbus__Request *req)
{
    switch (req->command_case) {
    case HALLBUS__REQUEST__COMMAND_TAKE_TICKET:
        return "take";
    case HALLBUS__REQUEST__COMMAND_OPEN_WINDOW:
        return "window-open";
    case HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW:
        return "window-pause";
    case HALLBUS__REQUEST__COMMAND_RESUME_WINDOW:
        return "window-resume";
    case HALLBUS__REQUEST__COMMAND_CLOSE_WINDOW:
        return "window-close";
    case HALLBUS__REQUEST__COMMAND_CALL_NEXT:
        return "call";
    case HALLBUS__REQUEST__COMMAND_RECALL:
        return "recall";
    case HALLBUS__REQUEST__COMMAND_NO_SHOW:
        return "no-show";
    case HALLBUS__REQUEST__COMMAND_REQUEUE:
        return "requeue";
    case HALLBUS__REQUEST__COMMAND_TRANSFER:
        return "transfer";
    case HALLBUS__REQUEST__COMMAND_START_SERVICE:
        return "start";
    case HALLBUS__REQUEST__COMMAND_FINISH_SERVICE:
        return "finish";
    case HALLBUS__REQUEST__COMMAND_EVALUATE:
        return "evaluate";
    case HALLBUS__REQUEST__COMMAND_GET_STATUS:
        return "status";
    case HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT:
        return "snapshot";
    case HALLBUS__REQUEST__COMMAND_GET_TICKET:
        return "ticket";
    case HALLBUS__REQUEST__COMMAND_MARK_READY:
        return "ready";
    case HALLBUS__REQUEST__COMMAND_CALL_TICKET:
        return "call-ticket";
    case HALLBUS__REQUEST__COMMAND_REPORT_OVERTIME:
        return "report-overtime";
    case HALLBUS__REQUEST__COMMAND_BOOK_APPOINTMENT:
        return "book";
    case HALLBUS__REQUEST__COMMAND_CANCEL_APPOINTMENT:
        return "cancel";
    case HALLBUS__REQUEST__COMMAND_CHECK_IN:
        return "check-in";
    case HALLBUS__REQUEST__COMMAND_FILE_COMPLAINT:
        return "complain";
    case HALLBUS__REQUEST__COMMAND_UPDATE_COMPLAINT:
        return "complaint-update";
    case HALLBUS__REQUEST__COMMAND_LIST_APPOINTMENTS:
        return "appointments";
    case HALLBUS__REQUEST__COMMAND_LIST_COMPLAINTS:
        return "complaints";
    case HALLBUS__REQUEST__COMMAND_FETCH_EVENTS:
        return "fetch-events";
    case HALLBUS__REQUEST__COMMAND_RESOLVE_CONTACT:
        return "resolve-contact";
    case HALLBUS__REQUEST__COMMAND_RECORD_SIGN_ON:
        return "record-sign-on";
    case HALLBUS__REQUEST__COMMAND_SIGN_ON:
        return "sign-on";
    case HALLBUS__REQUEST__COMMAND_SIGN_OFF:
        return "sign-off";
    default:
        return "none";
    }
}

const char *hb_status_name(Hallbus__StatusCode code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&hallbus__status_code__descriptor, (int)code);
    return v ? v->name : "UNKNOWN";
}

uint32_t hb_request_window(const Hallbus__Request *req)
{
    switch (req->command_case) {
    case HALLBUS__REQUEST__COMMAND_OPEN_WINDOW:
        return req->open_window->window;
    case HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW:
        return req->pause_window->window;
    case HALLBUS__REQUEST__COMMAND_RESUME_WINDOW:
        return req->resume_window->window;
    case HALLBUS__REQUEST__COMMAND_CLOSE_WINDOW:
        return req->close_window->window;
    case HALLBUS__REQUEST__COMMAND_CALL_NEXT:
        return req->call_next->window;
    case HALLBUS__REQUEST__COMMAND_CALL_TICKET:
        return req->call_ticket->window;
    case HALLBUS__REQUEST__COMMAND_RECALL:
        return req->recall->window;
    case HALLBUS__REQUEST__COMMAND_NO_SHOW:
        return req->no_show->window;
    case HALLBUS__REQUEST__COMMAND_TRANSFER:
        return req->transfer->window;
    case HALLBUS__REQUEST__COMMAND_START_SERVICE:
        return req->start_service->window;
    case HALLBUS__REQUEST__COMMAND_FINISH_SERVICE:
        return req->finish_service->window;
    default:
        return 0;
    }
}
