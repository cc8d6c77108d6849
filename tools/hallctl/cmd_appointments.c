/* hallctl commands for appointments: book, cancel, check in, list. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallctl.h"
#include "request_cmd.h"
#include "text.h"

static const char *const appointment_words[] = {
    [HALLBUS__APPOINTMENT_STATE__BOOKED] = "booked",
    [HALLBUS__APPOINTMENT_STATE__CANCELLED] = "cancelled",
    [HALLBUS__APPOINTMENT_STATE__CHECKED_IN] = "checked in",
    [HALLBUS__APPOINTMENT_STATE__LAPSED] = "lapsed",
};

static const char *appointment_word(Hallbus__AppointmentState s)
{
    return TX_WORD(appointment_words, s, "?");
}

static void pr_appointment(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Appointment *a = reply->appointment;
    printf("appointment %s: service %s on %s at %s, %s", a->code, a->service, a->date, a->slot,
           appointment_word(a->state));
    if (reply->checked_in_ticket)
        printf(": ticket %s, %u ahead", reply->checked_in_ticket->number, reply->ahead);
    printf("\n");
}

int cmd_book(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_field_t opts[] = {
        HC_FIELD("contact", HC_TEXT, Hallbus__BookAppointment, contact), {0}};
    static const hc_field_t args[] = {
        HC_ARG("SERVICE", NULL, HC_TEXT, Hallbus__BookAppointment, service),
        HC_ARG("DATE", NULL, HC_DATE, Hallbus__BookAppointment, date),
        HC_ARG("SLOT", NULL, HC_TEXT, Hallbus__BookAppointment, slot),
        {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_BOOK_APPOINTMENT,
                                         .options = opts,
                                         .args = args,
                                         .missing = "SERVICE DATE SLOT",
                                         .print = pr_appointment};
    return hc_run_request(ctl, argc, argv, &cmd);
}

int cmd_cancel(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_field_t args[] = {
        HC_ARG("CODE", "appointment CODE", HC_TEXT, Hallbus__CancelAppointment, code), {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_CANCEL_APPOINTMENT,
                                         .args = args,
                                         .print = pr_appointment};
    return hc_run_request(ctl, argc, argv, &cmd);
}

int cmd_check_in(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_field_t args[] = {
        HC_ARG("CODE", "appointment CODE", HC_TEXT, Hallbus__CheckIn, code), {0}};
    static const hc_request_cmd_t cmd = {
        .which = HALLBUS__REQUEST__COMMAND_CHECK_IN, .args = args, .print = pr_appointment};
    return hc_run_request(ctl, argc, argv, &cmd);
}

static void pr_appointments(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__AppointmentList *l = reply->appointments;
    printf("%-8s %-7s %-5s %-10s %-11s %s\n", "CODE", "SERVICE", "SLOT", "DATE", "STATE", "TICKET");
    for (size_t i = 0; i < l->n_appointments; i++) {
        const Hallbus__Appointment *a = l->appointments[i];
        printf("%-8s %-7s %-5s %-10s %-11s %s\n", a->code, a->service, a->slot, a->date,
               appointment_word(a->state), a->ticket_number[0] ? a->ticket_number : "-");
    }
    printf("%zu appointment(s)\n", l->n_appointments);
}

int cmd_appointments(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_field_t opts[] = {
        HC_FIELD("date", HC_DATE, Hallbus__ListAppointments, date),
        HC_FIELD("service", HC_TEXT, Hallbus__ListAppointments, service),
        {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_LIST_APPOINTMENTS,
                                         .options = opts,
                                         .print = pr_appointments};
    return hc_run_request(ctl, argc, argv, &cmd);
}
