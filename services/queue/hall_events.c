#include "hall_events.h"

#include <stdlib.h>
#include <string.h>

#include "hall_calling_order.h"
#include "hallbus/alloc.h"
#include "hallbus/envelope.h"

void hall_events_begin(hall_t *self)
{
    self->writes++;
    if (self->in_transaction)
        return;
    if (hall_store_begin(self->store) != 0)
        hall_store_failed(self, "the start of a transaction");
    self->in_transaction = true;
}

void hall_emit(hall_t *self, Hallbus__Envelope *env, int64_t now)
{
    hall_events_begin(self);
    env->hall_id = (char *)self->config->hall.id;
    env->seq = ++self->seq;
    env->source = (char *)self->source;
    env->ts = now;

    /* the line changes made since the last event, and the summaries of the
     * services they (or anything else) changed, ride on this event */
    Hallbus__LineChange **changes =
        hb_xcalloc(self->changes_count + 1, sizeof *changes, "an event's line changes");
    for (size_t i = 0; i < self->changes_count; i++)
        changes[i] = &self->changes[i];
    env->n_line_changes = self->changes_count;
    env->line_changes = changes;
    Hallbus__ServiceSummary *sums =
        hb_xcalloc(self->services_count + 1, sizeof *sums, "an event's summaries");
    Hallbus__ServiceSummary **sum_ptrs =
        hb_xcalloc(self->services_count + 1, sizeof *sum_ptrs, "an event's summaries");
    size_t nsums = 0;
    for (unsigned i = 0; i < self->services_count; i++) {
        service_t *svc = &self->services[i];
        if (!svc->summary_dirty)
            continue;
        svc->summary_dirty = false;
        hall_service_summary(self, svc, &sums[nsums]);
        sum_ptrs[nsums] = &sums[nsums];
        nsums++;
    }
    env->n_lines = nsums;
    env->lines = sum_ptrs;

    outbox_item_t *item = hb_xcalloc(1, sizeof *item, "an event");
    item->len = hallbus__envelope__get_packed_size(env);
    item->data = hb_xmalloc(item->len, "an event");
    hallbus__envelope__pack(env, item->data);
    self->changes_count = 0;
    env->n_line_changes = 0;
    env->line_changes = NULL;
    env->n_lines = 0;
    env->lines = NULL;
    free(changes);
    free(sums);
    free(sum_ptrs);
    item->seq = env->seq;
    const char *kind = hb_event_kind(env);
    hb_topic(self->config->hall.id, kind, item->topic);
    if (hall_store_append_event(self->store, env->seq, now, kind, item->data, item->len) != 0)
        hall_store_failed(self, "an event");
    if (self->outbox_tail)
        self->outbox_tail->next = item;
    else
        self->outbox_head = item;
    self->outbox_tail = item;
}

void hall_ticket_view(const hall_t *self, const ticket_t *t, Hallbus__Ticket *out)
{
    hallbus__ticket__init(out);
    out->id = t->id;
    out->number = (char *)t->number;
    out->service = (char *)t->service->prefix;
    out->daily_number = t->daily_number;
    out->priority = t->priority;
    out->green_reason = t->green_reason;
    out->state = t->state;
    out->business_date = (char *)self->business_date;
    out->issued_at = t->issued_at;
    out->called_at = t->called_at;
    out->started_at = t->started_at;
    out->finished_at = t->finished_at;
    out->window = t->window;
    out->staff = (char *)t->staff;
    out->recalls = t->recalls;
    out->requeues = t->requeues;
    out->result = t->result;
    out->contact_ref = (char *)t->contact_ref;
    out->original_service = (char *)t->original_service;
    out->channel = (char *)t->channel;
    out->rating = t->rating;
    out->reason = t->reason ? t->reason : "";
    out->n_missing_materials = t->materials_count;
    out->missing_materials = t->materials;
    out->promised_date = (char *)t->promised_date;
    out->appointment_id = t->appointment_id; /* never its code: it cancels the booking */
    out->slot_start = t->slot_start;
}

void hall_window_view(const window_t *w, Hallbus__Window *out, char **prefixes)
{
    hallbus__window__init(out);
    out->number = w->number;
    out->state = w->state;
    out->staff = (char *)w->staff;
    for (unsigned i = 0; i < w->services_count; i++)
        prefixes[i] = (char *)w->services[i]->prefix;
    out->n_services = w->services_count;
    out->services = prefixes;
    out->pause_reason = (char *)w->pause_reason;
    out->serving_number = w->current ? (char *)w->current->number : "";
    out->serving_id = w->current ? w->current->id : 0;
    out->since = w->since;
    out->policy = (char *)hall_policy_name(w->policy);
}

void hall_save_ticket(hall_t *self, const ticket_t *t)
{
    hall_events_begin(self);
    if (hall_store_save_ticket(self->store, t, self->business_date) != 0)
        hall_store_failed(self, "a ticket");
}

void hall_save_window(hall_t *self, const window_t *w)
{
    hall_events_begin(self);
    if (hall_store_save_window(self->store, w) != 0)
        hall_store_failed(self, "a window");
}
