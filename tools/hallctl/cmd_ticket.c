/* Commands about a ticket by its number, and taking one: take, ticket,
 * requeue, evaluate. */
#include "hallctl.h"
#include "print.h"
#include "request_cmd.h"

int cmd_take(hallctl_t *ctl, int argc, char **argv)
{
    enum { O_GREEN = HC_OPT_FIRST, O_CONTACT, O_CHANNEL };
    static const hc_opt_t opts[] = {
        {"green", true, O_GREEN}, {"contact", true, O_CONTACT}, {"channel", true, O_CHANNEL}, {0}};
    Hallbus__TakeTicket take = HALLBUS__TAKE_TICKET__INIT;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        int rc = 0;
        switch (id) {
        case O_GREEN:
            rc = hc_parse_green(ctl, arg, &take.green_reason);
            take.priority = HALLBUS__PRIORITY__GREEN;
            break;
        case O_CONTACT:
            rc = hc_parse_text(ctl, "--contact", arg, true);
            take.contact = (char *)arg;
            break;
        case O_CHANNEL:
            rc = hc_parse_text(ctl, "--channel", arg, true);
            take.channel = (char *)arg;
            break;
        }
        if (rc != 0)
            return rc;
    }
    if (id < 0)
        return g.status;
    if (hc_want_args(&g, 1, "SERVICE") != 0 || hc_parse_text(ctl, "SERVICE", g.pos[0], true) != 0)
        return HC_EXIT_USAGE;
    take.service = g.pos[0];

    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    req.take_ticket = &take;
    return hc_run(ctl, &req, pr_issued, true);
}

int cmd_ticket(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_field_t args[] = {
        HC_ARG("NUMBER", "ticket NUMBER", HC_TEXT, Hallbus__GetTicket, number), {0}};
    static const hc_request_cmd_t cmd = {
        .which = HALLBUS__REQUEST__COMMAND_GET_TICKET, .args = args, .print = pr_ticket};
    return hc_run_request(ctl, argc, argv, &cmd);
}

int cmd_requeue(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_field_t args[] = {
        HC_ARG("NUMBER", "ticket NUMBER", HC_TEXT, Hallbus__Requeue, number), {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_REQUEUE,
                                         .args = args,
                                         .print = pr_requeued,
                                         .with_ahead = true};
    return hc_run_request(ctl, argc, argv, &cmd);
}

int cmd_evaluate(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_field_t opts[] = {HC_FIELD("comment", HC_TEXT_ANY, Hallbus__Evaluate, comment),
                                      {0}};
    static const hc_field_t args[] = {
        HC_ARG("NUMBER", "ticket NUMBER", HC_TEXT, Hallbus__Evaluate, number),
        HC_ARG("RATING", "RATING", HC_RATING, Hallbus__Evaluate, rating),
        {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_EVALUATE,
                                         .options = opts,
                                         .args = args,
                                         .print = pr_evaluated};
    return hc_run_request(ctl, argc, argv, &cmd);
}
