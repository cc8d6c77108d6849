/* hallctl call-ticket: a window calls one ticket out of order. */

#include <stdio.h>

#include "hallctl.h"

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
