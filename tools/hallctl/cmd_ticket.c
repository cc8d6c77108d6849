/* Commands about a ticket by its number, and taking one: take, ticket,
 * requeue, evaluate. */
#include "hallctl.h"
#include "print.h"

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

/* Commands whose one argument is a ticket number: *NUMBER, or -1 with *STATUS. */
static int only_number(hallctl_t *ctl, int argc, char **argv, const char **number, int *status)
{
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, NULL, false);
    const char *unused;
    if (hc_getopt(&g, &unused) < 0) {
        *status = g.status;
        return -1;
    }
    *status = hc_want_args(&g, 1, "ticket NUMBER");
    if (*status == 0)
        *status = hc_parse_text(ctl, "NUMBER", g.pos[0], true);
    *number = *status == 0 ? g.pos[0] : NULL;
    return *status == 0 ? 0 : -1;
}

int cmd_ticket(hallctl_t *ctl, int argc, char **argv)
{
    Hallbus__GetTicket get = HALLBUS__GET_TICKET__INIT;
    int status;
    const char *number;
    if (only_number(ctl, argc, argv, &number, &status) != 0)
        return status;
    get.number = (char *)number;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_TICKET;
    req.get_ticket = &get;
    return hc_run(ctl, &req, pr_ticket, false);
}

int cmd_requeue(hallctl_t *ctl, int argc, char **argv)
{
    Hallbus__Requeue requeue = HALLBUS__REQUEUE__INIT;
    int status;
    const char *number;
    if (only_number(ctl, argc, argv, &number, &status) != 0)
        return status;
    requeue.number = (char *)number;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_REQUEUE;
    req.requeue = &requeue;
    return hc_run(ctl, &req, pr_requeued, true);
}

int cmd_evaluate(hallctl_t *ctl, int argc, char **argv)
{
    enum { O_COMMENT = HC_OPT_FIRST };
    static const hc_opt_t opts[] = {{"comment", true, O_COMMENT}, {0}};
    Hallbus__Evaluate eval = HALLBUS__EVALUATE__INIT;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (hc_parse_text(ctl, "--comment", arg, false) != 0)
            return HC_EXIT_USAGE;
        eval.comment = (char *)arg;
    }
    if (id < 0)
        return g.status;
    if (g.npos < 2)
        return hc_usage_error(ctl, "missing %s",
                              g.npos == 0 ? "ticket NUMBER and RATING" : "RATING");
    if (hc_want_args(&g, 2, "RATING") != 0 || hc_parse_text(ctl, "NUMBER", g.pos[0], true) != 0 ||
        hc_parse_rating(ctl, g.pos[1], &eval.rating) != 0)
        return HC_EXIT_USAGE;
    eval.number = g.pos[0];

    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_EVALUATE;
    req.evaluate = &eval;
    return hc_run(ctl, &req, pr_evaluated, false);
}
