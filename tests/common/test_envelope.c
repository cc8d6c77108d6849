/* The table of event kinds agrees with the proto: every event of the
 * Envelope's oneof has a topic kind, and the message named beside it is the
 * one the field carries. */
#include <criterion/criterion.h>
#include <string.h>

#include "hallbus/envelope.h"

Test(envelope, every_event_of_the_proto_has_a_kind_and_its_message)
{
    size_t n;
    const hb_event_kind_t *kinds = hb_event_kinds(&n);
    const ProtobufCMessageDescriptor *d = &hallbus__envelope__descriptor;
    unsigned events = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        events++;
        const hb_event_kind_t *row = NULL;
        for (size_t k = 0; k < n; k++)
            if (kinds[k].event_case == (int)f->id)
                row = &kinds[k];
        cr_assert(row, "event field %s has no topic kind", f->name);
        const ProtobufCMessageDescriptor *m = f->descriptor;
        cr_expect_str_eq(row->message, m->short_name, "kind %s", row->kind);
    }
    cr_expect_eq(events, n, "the table has %zu rows for %u events", n, events);
}

Test(envelope, an_event_this_build_does_not_know_is_unknown)
{
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = (Hallbus__Envelope__EventCase)999;
    cr_expect_str_eq(hb_event_kind(&env), "unknown");
}

Test(envelope, an_event_says_the_window_appointment_or_complaint_it_is_about)
{
    Hallbus__Window window = HALLBUS__WINDOW__INIT;
    Hallbus__WindowPaused paused = HALLBUS__WINDOW_PAUSED__INIT;
    paused.window = &window;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_PAUSED;
    env.window_paused = &paused;
    cr_expect_eq(hb_event_window(&env), &window);
    cr_expect_null(hb_event_appointment(&env));
    cr_expect_null(hb_event_complaint(&env));

    Hallbus__Appointment appointment = HALLBUS__APPOINTMENT__INIT;
    Hallbus__AppointmentCheckedIn checked_in = HALLBUS__APPOINTMENT_CHECKED_IN__INIT;
    checked_in.appointment = &appointment;
    env.event_case = HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CHECKED_IN;
    env.appointment_checked_in = &checked_in;
    cr_expect_eq(hb_event_appointment(&env), &appointment);
    cr_expect_null(hb_event_window(&env));

    Hallbus__Complaint complaint = HALLBUS__COMPLAINT__INIT;
    Hallbus__ComplaintUpdated updated = HALLBUS__COMPLAINT_UPDATED__INIT;
    updated.complaint = &complaint;
    env.event_case = HALLBUS__ENVELOPE__EVENT_COMPLAINT_UPDATED;
    env.complaint_updated = &updated;
    cr_expect_eq(hb_event_complaint(&env), &complaint);
}

Test(envelope, a_ticket_event_or_an_unknown_one_is_about_no_window)
{
    /* TicketCalled has a "window" too, but a number, not a Window */
    Hallbus__TicketCalled called = HALLBUS__TICKET_CALLED__INIT;
    called.window = 3;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_CALLED;
    env.ticket_called = &called;
    cr_expect_null(hb_event_window(&env));
    env.event_case = (Hallbus__Envelope__EventCase)999;
    cr_expect_null(hb_event_window(&env));
    env.event_case = HALLBUS__ENVELOPE__EVENT__NOT_SET;
    cr_expect_null(hb_event_complaint(&env));
}
