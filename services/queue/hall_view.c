#include "hall_view.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hall_events.h"

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

    v->summaries = calloc(self->services_count, sizeof *v->summaries);
    v->summary_ptrs = calloc(self->services_count, sizeof *v->summary_ptrs);
    for (unsigned i = 0; i < self->services_count; i++) {
        service_t *svc = &self->services[i];
        Hallbus__ServiceSummary *s = &v->summaries[i];
        hallbus__service_summary__init(s);
        s->prefix = (char *)svc->prefix;
        s->name = svc->conf->name;
        s->waiting = svc->green.count + svc->normal.count;
        s->waiting_green = svc->green.count;
        s->issued_today = svc->last_number;
        s->quota = svc->conf->quota;
        s->served_today = svc->served_today;
        s->estimated_wait_s = hall_estimated_wait(self, svc, s->waiting);
        s->open_windows = hall_open_windows_for(self, svc);
        s->target_minutes = svc->conf->target_minutes;
        v->summary_ptrs[i] = s;
    }
    st->n_services = self->services_count;
    st->services = v->summary_ptrs;

    v->windows = calloc(self->windows_count, sizeof *v->windows);
    v->window_ptrs = calloc(self->windows_count, sizeof *v->window_ptrs);
    v->prefixes =
        calloc((size_t)self->windows_count * self->services_count + 1, sizeof *v->prefixes);
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

    unsigned active = 0;
    for (ticket_t *t = self->by_id; t; t = t->hh_id.next) {
        if (t->state != HALLBUS__TICKET_STATE__FINISHED &&
            t->state != HALLBUS__TICKET_STATE__EXPIRED)
            active++;
    }
    v->tickets = calloc(active + 1, sizeof *v->tickets);
    v->ticket_ptrs = calloc(active + 1, sizeof *v->ticket_ptrs);
    unsigned n = 0;
    for (ticket_t *t = self->by_id; t; t = t->hh_id.next) {
        if (t->state == HALLBUS__TICKET_STATE__FINISHED ||
            t->state == HALLBUS__TICKET_STATE__EXPIRED)
            continue;
        hall_ticket_view(self, t, &v->tickets[n]);
        v->ticket_ptrs[n] = &v->tickets[n];
        n++;
    }
    snap->n_tickets = n;
    snap->tickets = v->ticket_ptrs;

    v->recent = calloc(HALL_RECENT_CALLS, sizeof *v->recent);
    v->recent_ptrs = calloc(HALL_RECENT_CALLS, sizeof *v->recent_ptrs);
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
