#include "hall_calling_order.h"

#include <stdbool.h>

const char *hall_policy_name(hb_policy_t policy)
{
    switch (policy) {
    case HB_POLICY_ORDERED:
        return "ordered";
    case HB_POLICY_WEIGHTED:
        return "weighted";
    default:
        return "longest-wait";
    }
}

static ticket_t *oldest_head(window_t *w, size_t line_offset)
{
    ticket_t *best = NULL;
    for (unsigned i = 0; i < w->services_count; i++) {
        line_t *line = (line_t *)((char *)w->services[i] + line_offset);
        if (line->head && (!best || line->head->queue_key < best->queue_key))
            best = line->head;
    }
    return best;
}

/* The appointment ticket with the earliest slot among the window's
 * services (each line is in slot order, so only heads are compared); with
 * BEGUN, only slots that have begun (hall_lines_tick moved them ahead). */
static ticket_t *earliest_appointment(window_t *w, bool begun)
{
    ticket_t *best = NULL;
    for (unsigned i = 0; i < w->services_count; i++) {
        ticket_t *t = w->services[i]->appointments.head;
        if (!t || (begun && w->services[i]->appts_begun == 0))
            continue;
        if (!best || t->slot_start < best->slot_start ||
            (t->slot_start == best->slot_start && t->queue_key < best->queue_key))
            best = t;
    }
    return best;
}

/* Smooth weighted round robin (as nginx balances upstreams): every service
 * with a waiting ticket gains its weight, the richest is chosen and pays
 * the sum. Returns the index of the service chosen, or -1. */
static int weighted_choice(const window_t *w)
{
    int best = -1;
    for (unsigned i = 0; i < w->services_count; i++) {
        if (!w->services[i]->normal.head)
            continue;
        int64_t score = w->wrr_current[i] + w->weights[i];
        if (best < 0 || score > w->wrr_current[best] + w->weights[best])
            best = (int)i;
    }
    return best;
}

static ticket_t *walk_in(window_t *w)
{
    switch (w->policy) {
    case HB_POLICY_ORDERED:
        for (unsigned i = 0; i < w->services_count; i++)
            if (w->services[i]->normal.head)
                return w->services[i]->normal.head;
        return NULL;
    case HB_POLICY_WEIGHTED: {
        int i = weighted_choice(w);
        return i < 0 ? NULL : w->services[i]->normal.head;
    }
    default:
        return oldest_head(w, offsetof(service_t, normal));
    }
}

ticket_t *hall_policy_pick(hall_t *self, window_t *w, int64_t now)
{
    ticket_t *t = oldest_head(w, offsetof(service_t, green));
    if (!t)
        t = earliest_appointment(w, true);
    if (!t)
        t = walk_in(w);
    if (!t)
        t = earliest_appointment(w, false);
    (void)now;
    return t;
}

void hall_policy_note_call(hall_t *self, window_t *w, const ticket_t *t)
{
    if (w->policy != HB_POLICY_WEIGHTED || t != walk_in(w))
        return;
    int chosen = weighted_choice(w);
    int64_t total = 0;
    for (unsigned i = 0; i < w->services_count; i++) {
        if (!w->services[i]->normal.head)
            continue;
        w->wrr_current[i] += w->weights[i];
        total += w->weights[i];
    }
    w->wrr_current[chosen] -= total;
}
