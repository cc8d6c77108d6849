#include "hall_policy.h"

static ticket_t *oldest_head(window_t *w, int green)
{
    ticket_t *best = NULL;
    for (unsigned i = 0; i < w->services_count; i++) {
        line_t *line = green ? &w->services[i]->green : &w->services[i]->normal;
        if (line->head && (!best || line->head->queue_key < best->queue_key))
            best = line->head;
    }
    return best;
}

ticket_t *hall_policy_pick(hall_t *self, window_t *w)
{
    ticket_t *t = oldest_head(w, 1);
    return t ? t : oldest_head(w, 0);
}
