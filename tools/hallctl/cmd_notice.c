/* hallctl ticket-notice: the one-time notice (一次性告知) of missing
 * materials, printed as on paper. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hallctl.h"

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
    if (!ctl->rpc && !(ctl->rpc = hc_rpc_new(ctl, ctl->command_endpoint, "hall-queue", &rc)))
        return rc;
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
