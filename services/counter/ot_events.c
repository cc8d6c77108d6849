/* The hall's events, read for the service timers. */
#include "overtime.h"

void ot_apply_event(ot_table_t *t, const Hallbus__Envelope *env, ot_target_fn target, void *arg)
{
    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_SERVICE_STARTED: {
        const Hallbus__ServiceStarted *e = env->service_started;
        const Hallbus__Ticket *ticket = e->ticket;
        if (!ticket || !ot_slot(t, e->window))
            return;
        int64_t at = ticket->started_at ? ticket->started_at : env->ts;
        ot_start(t, e->window, ticket->number, at, target(ticket->service, arg));
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_CALLED:
        /* a new call: whatever was in service there is over */
        ot_clear(t, env->ticket_called->window);
        break;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED:
        ot_clear(t, env->service_finished->window);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW:
        ot_clear(t, env->ticket_no_show->window);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED:
        ot_clear(t, env->ticket_transferred->from_window);
        break;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_OVERTIME: {
        const Hallbus__ServiceOvertime *o = env->service_overtime;
        if (o->ticket)
            ot_mark(t, o->window, o->ticket->number, o->level);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED:
        if (env->window_closed->window)
            ot_clear(t, env->window_closed->window->number);
        break;
    case HALLBUS__ENVELOPE__EVENT_DAILY_RESET:
        ot_clear_all(t);
        break;
    default:
        break;
    }
}
