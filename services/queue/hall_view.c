#include "hall_view.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hall_events.h"
#include "hallbus/alloc.h"

void hall_view_status(hall_t *self, int64_t now, hall_view_t *v)
{
    memset(v, 0, sizeof *v);
    Hallbus__HallStatus *st = &v->status;
    hallbus__hall_status__init(st);
    st->hall_id = (char *)self->config->hall.id;
    st->hall_name = (char *)self->config->hall.name;
    st->business_date = self->business_date;
    st->seq = self->seq;
    st->now = now;

    v->summaries = hb_xcalloc(self->services_count, sizeof *v->summaries, "a view of the hall");
    v->summary_ptrs =
        hb_xcalloc(self->services_count, sizeof *v->summary_ptrs, "a view of the hall");
    for (unsigned i = 0; i < self->services_count; i++) {
        hall_service_summary(self, &self->services[i], &v->summaries[i]);
        v->summary_ptrs[i] = &v->summaries[i];
    }
    st->n_services = self->services_count;
    st->services = v->summary_ptrs;

    v->windows = hb_xcalloc(self->windows_count, sizeof *v->windows, "a view of the hall");
    v->window_ptrs = hb_xcalloc(self->windows_count, sizeof *v->window_ptrs, "a view of the hall");
    v->prefixes = hb_xcalloc((size_t)self->windows_count * self->services_count + 1,
                             sizeof *v->prefixes, "a view of the hall");
    for (unsigned i = 0; i < self->windows_count; i++) {
        hall_window_view(&self->windows[i], &v->windows[i],
                         v->prefixes + (size_t)i * self->services_count);
        v->window_ptrs[i] = &v->windows[i];
    }
    st->n_windows = self->windows_count;
    st->windows = v->window_ptrs;
}

void hall_view_snapshot(hall_t *self, int64_t now, hall_view_t *v)
{
    hall_view_status(self, now, v);
    Hallbus__Snapshot *snap = &v->snapshot;
    hallbus__snapshot__init(snap);
    snap->seq = self->seq;
    snap->status = &v->status;

    /* every waiting ticket's place, one walk along each line in calling order */
    for (unsigned i = 0; i < self->services_count; i++) {
        service_t *svc = &self->services[i];
        uint32_t place = 0, k = 0;
        ticket_t *t;
        for (t = svc->green.head; t; t = t->next)
            t->place_scratch = place++;
        for (t = svc->appointments.head; t && k < svc->appts_begun; t = t->next, k++)
            t->place_scratch = place++;
        ticket_t *unbegun = t;
        for (t = svc->normal.head; t; t = t->next)
            t->place_scratch = place++;
        for (t = unbegun; t; t = t->next)
            t->place_scratch = place++;
    }

    unsigned active = 0;
    for (ticket_t *t = self->by_id; t; t = t->hh_id.next) {
        if (t->state != HALLBUS__TICKET_STATE__FINISHED &&
            t->state != HALLBUS__TICKET_STATE__EXPIRED)
            active++;
    }
    v->tickets = hb_xcalloc(active + 1, sizeof *v->tickets, "a view of the hall");
    v->ticket_ptrs = hb_xcalloc(active + 1, sizeof *v->ticket_ptrs, "a view of the hall");
    unsigned n = 0;
    for (ticket_t *t = self->by_id; t; t = t->hh_id.next) {
        if (t->state == HALLBUS__TICKET_STATE__FINISHED ||
            t->state == HALLBUS__TICKET_STATE__EXPIRED)
            continue;
        hall_ticket_view(self, t, &v->tickets[n]);
        if (t->state == HALLBUS__TICKET_STATE__WAITING)
            v->tickets[n].place = t->place_scratch;
        v->ticket_ptrs[n] = &v->tickets[n];
        n++;
    }
    snap->n_tickets = n;
    snap->tickets = v->ticket_ptrs;

    v->recent = hb_xcalloc(HALL_RECENT_CALLS, sizeof *v->recent, "a view of the hall");
    v->recent_ptrs = hb_xcalloc(HALL_RECENT_CALLS, sizeof *v->recent_ptrs, "a view of the hall");
    unsigned r = 0;
    for (unsigned i = 1; i <= HALL_RECENT_CALLS; i++) {
        ticket_t *t =
            self->recent_calls[(self->recent_next + HALL_RECENT_CALLS - i) % HALL_RECENT_CALLS];
        if (!t)
            break;
        bool seen = false; /* a recall is the same call again: show it once */
        for (unsigned j = 0; j < r; j++)
            seen |= v->recent_ptrs[j]->id == t->id;
        if (seen)
            continue;
        hall_ticket_view(self, t, &v->recent[r]);
        v->recent_ptrs[r] = &v->recent[r];
        r++;
    }
    snap->n_recent_calls = r;
    snap->recent_calls = v->recent_ptrs;
}

void hall_view_heartbeat(hall_t *self, int64_t now, hall_view_t *v)
{
    hall_view_status(self, now, v);
    Hallbus__Heartbeat *hb = &v->heartbeat;
    hallbus__heartbeat__init(hb);
    hb->business_date = self->business_date;
    hb->waiting = hall_waiting_total(self);
    for (unsigned i = 0; i < self->windows_count; i++)
        hb->open_windows += self->windows[i].state != HALLBUS__WINDOW_STATE__CLOSED;
    hb->n_services = v->status.n_services;
    hb->services = v->status.services;
}

void hall_view_free(hall_view_t *v)
{
    free(v->summaries);
    free(v->summary_ptrs);
    free(v->windows);
    free(v->window_ptrs);
    free(v->prefixes);
    free(v->tickets);
    free(v->ticket_ptrs);
    free(v->recent);
    free(v->recent_ptrs);
}
