/* hallctl commands for complaints: file, handle, reply, list. Complaint
 * texts come from citizens and are cleaned before a terminal sees them. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallctl.h"
#include "text.h"

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
