/* hallctl commands for complaints: file, handle, reply, list. Complaint
 * texts come from citizens and are cleaned before a terminal sees them. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallctl.h"
#include "request_cmd.h"
#include "text.h"

static const char *const complaint_words[] = {
    [HALLBUS__COMPLAINT_STATE__COMPLAINT_OPEN] = "open",
    [HALLBUS__COMPLAINT_STATE__COMPLAINT_IN_PROGRESS] = "in progress",
    [HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED] = "replied",
};

static const char *complaint_word(Hallbus__ComplaintState s)
{
    return TX_WORD(complaint_words, s, "?");
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
    static const hc_field_t opts[] = {
        HC_FIELD("ticket", HC_TEXT, Hallbus__FileComplaint, ticket_number),
        HC_FIELD("window", HC_WINDOW, Hallbus__FileComplaint, window),
        HC_FIELD("staff", HC_TEXT, Hallbus__FileComplaint, staff),
        HC_FIELD("contact", HC_TEXT, Hallbus__FileComplaint, contact),
        {0}};
    static const hc_field_t args[] = {
        HC_ARG("TEXT", "the complaint TEXT", HC_TEXT, Hallbus__FileComplaint, text), {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_FILE_COMPLAINT,
                                         .options = opts,
                                         .args = args,
                                         .print = pr_complaint};
    return hc_run_request(ctl, argc, argv, &cmd);
}

/* complaint handle ID --handler H --note T / complaint reply ID --handler H --reply T */
static const hc_field_t complaint_id[] = {
    HC_ARG("complaint ID", "complaint ID", HC_ID, Hallbus__UpdateComplaint, id), {0}};

static void in_progress(ProtobufCMessage *m)
{
    ((Hallbus__UpdateComplaint *)m)->state = HALLBUS__COMPLAINT_STATE__COMPLAINT_IN_PROGRESS;
}

static void replied(ProtobufCMessage *m)
{
    ((Hallbus__UpdateComplaint *)m)->state = HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED;
}

int cmd_complaint_handle(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_field_t opts[] = {
        HC_FIELD("handler", HC_TEXT, Hallbus__UpdateComplaint, handler),
        HC_FIELD("note", HC_TEXT, Hallbus__UpdateComplaint, note),
        {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_UPDATE_COMPLAINT,
                                         .options = opts,
                                         .args = complaint_id,
                                         .preset = in_progress,
                                         .print = pr_complaint};
    return hc_run_request(ctl, argc, argv, &cmd);
}

int cmd_complaint_reply(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_field_t opts[] = {
        HC_FIELD("handler", HC_TEXT, Hallbus__UpdateComplaint, handler),
        HC_FIELD("reply", HC_TEXT, Hallbus__UpdateComplaint, reply),
        {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_UPDATE_COMPLAINT,
                                         .options = opts,
                                         .args = complaint_id,
                                         .preset = replied,
                                         .print = pr_complaint};
    return hc_run_request(ctl, argc, argv, &cmd);
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
    static const hc_field_t opts[] = {HC_FIELD("open", HC_FLAG, Hallbus__ListComplaints, open_only),
                                      {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_LIST_COMPLAINTS,
                                         .options = opts,
                                         .print = pr_complaints};
    return hc_run_request(ctl, argc, argv, &cmd);
}
