/* Service timers on the loop: warnings that fall due become a log line, a
 * notice for the window's terminal, and a ReportOvertime to hall-queue,
 * which publishes it as ticket.overtime in the hall's own sequence. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "counter.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

#define DUE_MAX 64

/* hall-queue's answer to a ReportOvertime: ARG is the window. */
static void on_reported(hb_client_t *client, hb_client_outcome_t outcome, ProtobufCMessage *msg,
                        void *arg)
{
    uint32_t window = (uint32_t)(uintptr_t)arg;
    const Hallbus__Reply *reply = (const Hallbus__Reply *)msg;
    if (outcome == HB_CLIENT_REPLY && reply->code != HALLBUS__STATUS_CODE__OK)
        hb_warn("hall-queue refused the overtime report of window %u: %s (%s)", window,
                reply->message, hb_status_name(reply->code));
    else if (outcome == HB_CLIENT_TIMEOUT || outcome == HB_CLIENT_MALFORMED)
        hb_warn("hall-queue did not answer the overtime report of window %u", window);
}

static void report(counter_t *c, const ot_due_t *d)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__ReportOvertime ro = HALLBUS__REPORT_OVERTIME__INIT;
    ro.window = d->window;
    ro.number = (char *)d->number;
    ro.level = d->level;
    ro.elapsed_seconds = d->elapsed_seconds;
    req.command_case = HALLBUS__REQUEST__COMMAND_REPORT_OVERTIME;
    req.report_overtime = &ro;
    req.hall_id = c->config->hall.id;
    char why[256];
    if (forward_send(c, &req, on_reported, (void *)(uintptr_t)d->window, why, sizeof why) != 0)
        hb_warn("overtime of window %u not reported to hall-queue: %s", d->window, why);
}

void timers_check(counter_t *c, int64_t now_us)
{
    ot_due_t due[DUE_MAX];
    unsigned n = ot_collect(&c->overtime, now_us, due, DUE_MAX);
    for (unsigned i = 0; i < n; i++) {
        const ot_due_t *d = &due[i];
        counter_window_t *w = counter_window(c, d->window);
        char line[COUNTER_NOTICE_MAX];
        snprintf(line, sizeof line,
                 "overtime (level %u): ticket %s at window %u has been in service %u s, %s its "
                 "target of %u min",
                 d->level, d->number, d->window, d->elapsed_seconds,
                 d->level >= 2 ? "twice" : "past", d->target_minutes);
        hb_warn("%s%s%s", line, w && w->staff[0] ? ", staff " : "", w ? w->staff : "");
        if (w)
            snprintf(w->notice, sizeof w->notice, "%s", line);
        c->stats.overtime++;
        report(c, d);
    }
}
