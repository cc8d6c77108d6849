/* hallctl commands for appointments: book, cancel, check in, list. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallctl.h"

static const char *appointment_word(Hallbus__AppointmentState s)
{
    switch (s) {
    case HALLBUS__APPOINTMENT_STATE__BOOKED:
        return "booked";
    case HALLBUS__APPOINTMENT_STATE__CANCELLED:
        return "cancelled";
    case HALLBUS__APPOINTMENT_STATE__CHECKED_IN:
        return "checked in";
    case HALLBUS__APPOINTMENT_STATE__LAPSED:
        return "lapsed";
    default:
        return "?";
    }
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
    enum { O_CONTACT = HC_OPT_FIRST };
    static const hc_opt_t opts[] = {{"contact", true, O_CONTACT}, {0}};
    Hallbus__BookAppointment b = HALLBUS__BOOK_APPOINTMENT__INIT;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (hc_parse_text(ctl, "--contact", arg, true) != 0)
            return HC_EXIT_USAGE;
        b.contact = (char *)arg;
    }
    if (id < 0)
        return g.status;
    if (hc_want_args(&g, 3, "SERVICE DATE SLOT") != 0 ||
        hc_parse_text(ctl, "SERVICE", g.pos[0], true) != 0 ||
        hc_parse_date(ctl, "DATE", g.pos[1]) != 0 || hc_parse_text(ctl, "SLOT", g.pos[2], true))
        return HC_EXIT_USAGE;
    b.service = g.pos[0];
    b.date = g.pos[1];
    b.slot = g.pos[2];
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_BOOK_APPOINTMENT;
    req.book_appointment = &b;
    return hc_run(ctl, &req, pr_appointment, false);
}

/* cancel CODE / check-in CODE */
static int by_code(hallctl_t *ctl, int argc, char **argv, bool check_in)
{
    hc_getopt_t g;
    static const hc_opt_t opts[] = {{0}};
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0)
        ;
    if (id < 0)
        return g.status;
    if (hc_want_args(&g, 1, "appointment CODE") != 0 ||
        hc_parse_text(ctl, "CODE", g.pos[0], true) != 0)
        return HC_EXIT_USAGE;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__CancelAppointment c = HALLBUS__CANCEL_APPOINTMENT__INIT;
    Hallbus__CheckIn ci = HALLBUS__CHECK_IN__INIT;
    c.code = ci.code = g.pos[0];
    if (check_in) {
        req.command_case = HALLBUS__REQUEST__COMMAND_CHECK_IN;
        req.check_in = &ci;
    } else {
        req.command_case = HALLBUS__REQUEST__COMMAND_CANCEL_APPOINTMENT;
        req.cancel_appointment = &c;
    }
    return hc_run(ctl, &req, pr_appointment, false);
}

int cmd_cancel(hallctl_t *ctl, int argc, char **argv)
{
    return by_code(ctl, argc, argv, false);
}

int cmd_check_in(hallctl_t *ctl, int argc, char **argv)
{
    return by_code(ctl, argc, argv, true);
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
    enum { O_DATE = HC_OPT_FIRST, O_SERVICE };
    static const hc_opt_t opts[] = {{"date", true, O_DATE}, {"service", true, O_SERVICE}, {0}};
    Hallbus__ListAppointments l = HALLBUS__LIST_APPOINTMENTS__INIT;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (id == O_DATE) {
            if (hc_parse_date(ctl, "--date", arg) != 0)
                return HC_EXIT_USAGE;
            l.date = (char *)arg;
        } else {
            if (hc_parse_text(ctl, "--service", arg, true) != 0)
                return HC_EXIT_USAGE;
            l.service = (char *)arg;
        }
    }
    if (id < 0)
        return g.status;
    if (hc_want_args(&g, 0, "nothing") != 0)
        return HC_EXIT_USAGE;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_LIST_APPOINTMENTS;
    req.list_appointments = &l;
    return hc_run(ctl, &req, pr_appointments, false);
}
