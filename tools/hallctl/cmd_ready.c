/* hallctl ready: a ticket's papers are ready to collect. */

#include <stdio.h>

#include "hallctl.h"

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
