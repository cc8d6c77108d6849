/* hallctl commands for the hall's rules: the one-time notice, calling a
 * ticket out of order, appointments and complaints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hallctl.h"
#include "text.h"

static void clock_text(int64_t us, char *out, size_t len)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M", &tm);
}

/* ── ticket notice: the one-time notice (一次性告知) as printed on paper ── */

static void pr_notice(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Ticket *t = reply->ticket;
    const hb_config_t *cfg = ctl->config;
    const char *service = hc_service_name(ctl, t->service);
    char finished[32] = "";
    if (t->finished_at)
        clock_text(t->finished_at, finished, sizeof finished);
    printf("%s\n", cfg ? cfg->hall.name : "hallbus");
    printf("一次性告知书  One-time notice of missing materials\n");
    printf("==================================================\n");
    printf("Ticket 号码:      %s\n", t->number);
    printf("Service 事项:     %s %s\n", t->service, service ? service : "");
    printf("Date 日期:        %s\n", finished[0] ? finished : t->business_date);
    printf("Window 窗口:      %u\n", t->window);
    printf("Staff 经办人:     %s\n", t->staff);
    printf("\n请补齐以下全部材料 Please bring all of the following:\n");
    for (size_t i = 0; i < t->n_missing_materials; i++)
        printf("  %zu. %s\n", i + 1, t->missing_materials[i]);
    printf("\n补齐后请到 Come back with them to: %s%s%s, %s %s\n",
           cfg ? cfg->hall.name : "the hall", cfg && cfg->hall.address ? ", " : "",
           cfg && cfg->hall.address ? cfg->hall.address : "", service ? service : t->service,
           "窗口 (any window serving it)");
    printf(
        "本告知一次性列明所需全部材料。This notice lists everything that is missing, at once.\n");
}

int cmd_ticket_notice(hallctl_t *ctl, int argc, char **argv)
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
    if (hc_want_args(&g, 1, "ticket NUMBER") != 0 || hc_parse_text(ctl, "NUMBER", g.pos[0], true))
        return HC_EXIT_USAGE;
    Hallbus__GetTicket get = HALLBUS__GET_TICKET__INIT;
    get.number = g.pos[0];
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_TICKET;
    req.get_ticket = &get;
    if (ctl->json)
        return hc_run(ctl, &req, NULL, false);
    /* the notice exists only for a matter finished with missing materials */
    int rc = hc_resolve(ctl);
    if (rc != 0)
        return rc;
    char err[160];
    if (!ctl->rpc)
        ctl->rpc = hb_rpc_new(NULL, ctl->command_endpoint, ctl->timeout_ms);
    Hallbus__Reply *r = hb_rpc_call(ctl->rpc, &req, err, sizeof err);
    if (!r) {
        fprintf(stderr, "hallctl: %s\n", err);
        return HC_EXIT_UNREACHABLE;
    }
    int status = HC_EXIT_OK;
    if (r->code != HALLBUS__STATUS_CODE__OK) {
        fprintf(stderr, "hallctl: %s\n", r->message);
        status = HC_EXIT_REFUSED;
    } else if (r->ticket->result != HALLBUS__RESULT__MATERIALS_MISSING) {
        fprintf(stderr, "hallctl: %s was not finished with missing materials; it has no notice\n",
                r->ticket->number);
        status = HC_EXIT_REFUSED;
    } else {
        pr_notice(ctl, r);
    }
    hallbus__reply__free_unpacked(r, NULL);
    return status;
}

/* ── call one ticket out of order ── */

static void pr_called(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    printf("window %u calls %s (out of order)\n", reply->ticket->window, reply->ticket->number);
}

int cmd_call_ticket(hallctl_t *ctl, int argc, char **argv)
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
    Hallbus__CallTicket c = HALLBUS__CALL_TICKET__INIT;
    if (hc_want_args(&g, 2, "window W and ticket NUMBER") != 0 ||
        hc_parse_window(ctl, g.pos[0], &c.window) != 0 ||
        hc_parse_text(ctl, "NUMBER", g.pos[1], true) != 0)
        return HC_EXIT_USAGE;
    c.number = g.pos[1];
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_CALL_TICKET;
    req.call_ticket = &c;
    return hc_run(ctl, &req, pr_called, false);
}

/* ── appointments ── */

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

/* ── complaints ── */

static const char *complaint_word(Hallbus__ComplaintState s)
{
    switch (s) {
    case HALLBUS__COMPLAINT_STATE__COMPLAINT_OPEN:
        return "open";
    case HALLBUS__COMPLAINT_STATE__COMPLAINT_IN_PROGRESS:
        return "in progress";
    case HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED:
        return "replied";
    default:
        return "?";
    }
}

/* complaint texts come from citizens: cleaned before a terminal sees them */
static void pr_complaint(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Complaint *c = reply->complaint;
    tx_line(stdout, "complaint %llu (%s): ticket %s, window %u, staff %s",
            (unsigned long long)c->id, complaint_word(c->state),
            c->ticket_number[0] ? c->ticket_number : "-", c->window, c->staff[0] ? c->staff : "-");
    tx_line(stdout, "  said:    %s", c->text);
    if (c->note[0])
        tx_line(stdout, "  handled: %s (%s)", c->note, c->handler);
    if (c->reply[0])
        tx_line(stdout, "  replied: %s (%s)", c->reply, c->handler);
}

int cmd_complain(hallctl_t *ctl, int argc, char **argv)
{
    enum { O_TICKET = HC_OPT_FIRST, O_WINDOW, O_STAFF, O_CONTACT };
    static const hc_opt_t opts[] = {{"ticket", true, O_TICKET},
                                    {"window", true, O_WINDOW},
                                    {"staff", true, O_STAFF},
                                    {"contact", true, O_CONTACT},
                                    {0}};
    Hallbus__FileComplaint f = HALLBUS__FILE_COMPLAINT__INIT;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (id == O_WINDOW) {
            if (hc_parse_window(ctl, arg, &f.window) != 0)
                return HC_EXIT_USAGE;
            continue;
        }
        if (hc_parse_text(ctl, "option", arg, true) != 0)
            return HC_EXIT_USAGE;
        if (id == O_TICKET)
            f.ticket_number = (char *)arg;
        else if (id == O_STAFF)
            f.staff = (char *)arg;
        else
            f.contact = (char *)arg;
    }
    if (id < 0)
        return g.status;
    if (hc_want_args(&g, 1, "the complaint TEXT") != 0 ||
        hc_parse_text(ctl, "TEXT", g.pos[0], true) != 0)
        return HC_EXIT_USAGE;
    f.text = g.pos[0];
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_FILE_COMPLAINT;
    req.file_complaint = &f;
    return hc_run(ctl, &req, pr_complaint, false);
}

/* complaint handle ID --handler H --note T / complaint reply ID --handler H --reply T */
static int update(hallctl_t *ctl, int argc, char **argv, bool reply)
{
    enum { O_HANDLER = HC_OPT_FIRST, O_TEXT };
    static const hc_opt_t note_opts[] = {{"handler", true, O_HANDLER}, {"note", true, O_TEXT}, {0}};
    static const hc_opt_t reply_opts[] = {
        {"handler", true, O_HANDLER}, {"reply", true, O_TEXT}, {0}};
    Hallbus__UpdateComplaint u = HALLBUS__UPDATE_COMPLAINT__INIT;
    u.state = reply ? HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED
                    : HALLBUS__COMPLAINT_STATE__COMPLAINT_IN_PROGRESS;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, reply ? reply_opts : note_opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (hc_parse_text(ctl,
                          id == O_HANDLER ? "--handler"
                          : reply         ? "--reply"
                                          : "--note",
                          arg, true) != 0)
            return HC_EXIT_USAGE;
        if (id == O_HANDLER)
            u.handler = (char *)arg;
        else if (reply)
            u.reply = (char *)arg;
        else
            u.note = (char *)arg;
    }
    if (id < 0)
        return g.status;
    long n;
    if (hc_want_args(&g, 1, "complaint ID") != 0 ||
        hc_parse_count(ctl, "complaint ID", g.pos[0], 1, 1L << 50, &n) != 0)
        return HC_EXIT_USAGE;
    u.id = (uint64_t)n;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_UPDATE_COMPLAINT;
    req.update_complaint = &u;
    return hc_run(ctl, &req, pr_complaint, false);
}

int cmd_complaint_handle(hallctl_t *ctl, int argc, char **argv)
{
    return update(ctl, argc, argv, false);
}

int cmd_complaint_reply(hallctl_t *ctl, int argc, char **argv)
{
    return update(ctl, argc, argv, true);
}

static void pr_complaints(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__ComplaintList *l = reply->complaints;
    for (size_t i = 0; i < l->n_complaints; i++) {
        Hallbus__Reply one = *reply;
        one.complaint = l->complaints[i];
        pr_complaint(ctl, &one);
    }
    printf("%zu complaint(s)\n", l->n_complaints);
}

int cmd_complaints(hallctl_t *ctl, int argc, char **argv)
{
    enum { O_OPEN = HC_OPT_FIRST };
    static const hc_opt_t opts[] = {{"open", false, O_OPEN}, {0}};
    Hallbus__ListComplaints l = HALLBUS__LIST_COMPLAINTS__INIT;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0)
        l.open_only = true;
    if (id < 0)
        return g.status;
    if (hc_want_args(&g, 0, "nothing") != 0)
        return HC_EXIT_USAGE;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_LIST_COMPLAINTS;
    req.list_complaints = &l;
    return hc_run(ctl, &req, pr_complaints, false);
}

/* ── ready to collect ── */

static void pr_ready(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    printf("marked ready to collect; the citizen is told if they left a contact\n");
}

int cmd_ready(hallctl_t *ctl, int argc, char **argv)
{
    enum { O_DATE = HC_OPT_FIRST };
    static const hc_opt_t opts[] = {{"date", true, O_DATE}, {0}};
    Hallbus__MarkReady m = HALLBUS__MARK_READY__INIT;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (hc_parse_date(ctl, "--date", arg) != 0)
            return HC_EXIT_USAGE;
        m.business_date = (char *)arg;
    }
    if (id < 0)
        return g.status;
    if (hc_want_args(&g, 1, "ticket NUMBER") != 0 ||
        hc_parse_text(ctl, "NUMBER", g.pos[0], true) != 0)
        return HC_EXIT_USAGE;
    m.number = g.pos[0];
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_MARK_READY;
    req.mark_ready = &m;
    return hc_run(ctl, &req, pr_ready, false);
}
