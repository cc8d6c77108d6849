/* The index columns of an event: its ticket, business date, window and staff. */
#include "audit_index.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hallbus/clock.h"
#include "hallbus/envelope.h"

static const Hallbus__Ticket *ticket_of(const Hallbus__Envelope *env)
{
    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED:
        return env->ticket_issued->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_CALLED:
        return env->ticket_called->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_RECALLED:
        return env->ticket_recalled->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW:
        return env->ticket_no_show->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_REQUEUED:
        return env->ticket_requeued->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED:
        return env->ticket_transferred->ticket;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_STARTED:
        return env->service_started->ticket;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED:
        return env->service_finished->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_EVALUATED:
        return env->ticket_evaluated->ticket;
    default:
        return NULL;
    }
}

/* "YYYY-MM-DD" by its shape: cheap, where hb_date_valid's mktime would
 * stat the time zone file for every event */
static bool date_shaped(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    return true;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void audit_index_of(const Hallbus__Envelope *env, uint32_t rollover_minute, audit_index_t *out)
{
    memset(out, 0, sizeof *out);
    const Hallbus__Ticket *t = ticket_of(env);
    const Hallbus__Window *w = hb_event_window(env);
    if (t) {
        copy(out->ticket, sizeof out->ticket, t->number);
        if (date_shaped(t->business_date))
            copy(out->bdate, sizeof out->bdate, t->business_date);
        out->window = t->window;
        copy(out->staff, sizeof out->staff, t->staff);
    }
    switch (env->event_case) { /* the event's own window and staff win over the ticket's */
    case HALLBUS__ENVELOPE__EVENT_TICKET_CALLED:
        out->window = env->ticket_called->window;
        copy(out->staff, sizeof out->staff, env->ticket_called->staff);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_RECALLED:
        out->window = env->ticket_recalled->window;
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW:
        out->window = env->ticket_no_show->window;
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED:
        out->window = env->ticket_transferred->from_window;
        break;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_STARTED:
        out->window = env->service_started->window;
        copy(out->staff, sizeof out->staff, env->service_started->staff);
        break;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED:
        out->window = env->service_finished->window;
        copy(out->staff, sizeof out->staff, env->service_finished->staff);
        break;
    case HALLBUS__ENVELOPE__EVENT_COMPLAINT_FILED:
    case HALLBUS__ENVELOPE__EVENT_COMPLAINT_UPDATED: {
        const Hallbus__Complaint *cp = hb_event_complaint(env);
        if (cp) {
            copy(out->ticket, sizeof out->ticket, cp->ticket_number);
            if (date_shaped(cp->business_date))
                copy(out->bdate, sizeof out->bdate, cp->business_date);
            out->window = cp->window;
            copy(out->staff, sizeof out->staff, cp->staff);
        }
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_DAILY_RESET:
        if (date_shaped(env->daily_reset->business_date))
            copy(out->bdate, sizeof out->bdate, env->daily_reset->business_date);
        break;
    default:
        break;
    }
    if (w) {
        out->window = w->number;
        copy(out->staff, sizeof out->staff, w->staff);
    }
    if (!out->bdate[0])
        hb_business_date(env->ts, rollover_minute, out->bdate);
}
