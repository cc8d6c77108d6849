/* hallctl ready: a ticket's papers are ready to collect. */

#include <stdio.h>

#include "hallctl.h"
#include "request_cmd.h"

static void pr_ready(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    printf("marked ready to collect; the citizen is told if they left a contact\n");
}

int cmd_ready(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_field_t opts[] = {HC_FIELD("date", HC_DATE, Hallbus__MarkReady, business_date),
                                      {0}};
    static const hc_field_t args[] = {
        HC_ARG("NUMBER", "ticket NUMBER", HC_TEXT, Hallbus__MarkReady, number), {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_MARK_READY,
                                         .options = opts,
                                         .args = args,
                                         .print = pr_ready};
    return hc_run_request(ctl, argc, argv, &cmd);
}
