/* The hall's lifecycle: load, lookups, waiting lines, estimates, the
 * transaction and the business-day rollover. */
#include "hall.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hall_events.h"
#include "hallbus/alloc.h"
#include "hallbus/log.h"

/* A clock step back of more than this across a business-day boundary takes
 * the hall back to the clock's date; less is a slew the day can absorb. */
#define CLOCK_STEP_TOLERANCE_US (15 * 60 * (int64_t)1000000)
#define CLOCK_STEP_LOG_US (2 * (int64_t)1000000)

void hall_store_failed(hall_t *self, const char *what)
{
    self->writes++;
    if (self->store_failed)
        return; /* the first failure says why; the rest of the batch follows it */
    self->store_failed = true;
    self->store_full = hall_store_full(self->store);
    snprintf(self->store_error, sizeof self->store_error, "%s", hall_store_errmsg(self->store));
    hb_error("the store could not record %s: %s; the batch is rolled back and refused", what,
             self->store_error);
    /* SQLite may have rolled the transaction back itself: what the rest of
     * the batch writes must go into one that is never committed, not
     * straight to disk */
    if (self->in_transaction) {
        hall_store_rollback(self->store);
        if (hall_store_begin(self->store) != 0)
            self->in_transaction = false;
    }
}

int hall_refuse(hall_err_t *err, Hallbus__StatusCode code, const char *fmt, ...)
{
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return (int)code;
}

/* ── waiting lines ──────────────────────────────────────────────────────── */

line_t *hall_line_of(ticket_t *t)
{
    if (t->priority == HALLBUS__PRIORITY__GREEN)
        return &t->service->green;
    return t->appointment_code[0] ? &t->service->appointments : &t->service->normal;
}

static bool goes_after(const line_t *line, const ticket_t *a, const ticket_t *t)
{
    if (line->by_slot && a->slot_start != t->slot_start)
        return a->slot_start > t->slot_start;
    return a->queue_key > t->queue_key;
}

/* Sorted by queue_key (or slot); new tickets carry the largest key, so the
 * walk from the tail ends at once for them and is short for transfers and
 * requeues. */
void hall_line_insert(line_t *line, ticket_t *t)
{
    ticket_t *after = line->tail;
    while (after && goes_after(line, after, t))
        after = after->prev;
    t->prev = after;
    t->next = after ? after->next : line->head;
    if (t->next)
        t->next->prev = t;
    else
        line->tail = t;
    if (after)
        after->next = t;
    else
        line->head = t;
    line->count++;
}

void hall_line_remove(line_t *line, ticket_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        line->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        line->tail = t->prev;
    t->prev = t->next = NULL;
    line->count--;
}

/* ── lookups ────────────────────────────────────────────────────────────── */

service_t *hall_service(hall_t *self, const char *prefix)
{
    if (!prefix)
        return NULL;
    for (unsigned i = 0; i < self->services_count; i++)
        if (strcmp(self->services[i].prefix, prefix) == 0)
            return &self->services[i];
    return NULL;
}

window_t *hall_window(hall_t *self, uint32_t number)
{
    for (unsigned i = 0; i < self->windows_count; i++)
        if (self->windows[i].number == number)
            return &self->windows[i];
    return NULL;
}

ticket_t *hall_ticket(hall_t *self, const char *number)
{
    ticket_t *t = NULL;
    if (number)
        HASH_FIND(hh_number, self->by_number, number, strlen(number), t);
    return t;
}

ticket_t *hall_ticket_by_id(hall_t *self, uint64_t id)
{
    ticket_t *t = NULL;
    HASH_FIND(hh_id, self->by_id, &id, sizeof id, t);
    return t;
}

void hall_note_call(hall_t *self, ticket_t *t)
{
    self->recent_calls[self->recent_next] = t;
    self->recent_next = (self->recent_next + 1) % HALL_RECENT_CALLS;
}

/* ── estimates ──────────────────────────────────────────────────────────── */

/* T's index in its line_t, walking from both ends at once: a new or
 * requeued ticket is at (or near) the back, so this costs what its distance
 * from the nearer end does, not the length of the line. */
static uint32_t index_in_line(const ticket_t *t, const line_t *line)
{
    const ticket_t *back = t->prev, *front = t->next;
    uint32_t steps = 0;
    for (;;) {
        if (!back)
            return steps;
        if (!front)
            return line->count - 1 - steps;
        back = back->prev;
        front = front->next;
        steps++;
    }
}

uint32_t hall_place(const ticket_t *t)
{
    const service_t *svc = t->service;
    uint32_t i = index_in_line(t, hall_line_of((ticket_t *)t));
    if (t->priority == HALLBUS__PRIORITY__GREEN)
        return i;
    if (!t->appointment_code[0])
        return svc->green.count + svc->appts_begun + i;
    if (i < svc->appts_begun)
        return svc->green.count + i;
    return svc->green.count + svc->normal.count + i;
}

uint32_t hall_service_waiting(const service_t *svc)
{
    return svc->green.count + svc->appointments.count + svc->normal.count;
}

void hall_mark_service(service_t *svc)
{
    svc->summary_dirty = true;
}

void hall_mark_all_services(hall_t *self)
{
    for (unsigned i = 0; i < self->services_count; i++)
        self->services[i].summary_dirty = true;
}

static void record_change(hall_t *self, const ticket_t *t, uint32_t place, bool removed)
{
    if (self->changes_count == self->changes_cap) {
        self->changes_cap = self->changes_cap ? self->changes_cap * 2 : 8;
        self->changes = hb_xrealloc(self->changes, self->changes_cap * sizeof *self->changes,
                                    "the line changes");
    }
    Hallbus__LineChange *c = &self->changes[self->changes_count++];
    hallbus__line_change__init(c);
    c->service = (char *)t->service->prefix;
    c->ticket_id = t->id;
    c->place = place;
    c->removed = removed;
    hall_mark_service(t->service);
}

void hall_line_enter(hall_t *self, ticket_t *t)
{
    line_t *line = hall_line_of(t);
    hall_line_insert(line, t);
    if (line == &t->service->appointments && t->slot_start <= self->lines_now)
        t->service->appts_begun++;
    record_change(self, t, hall_place(t), false);
}

void hall_line_leave(hall_t *self, ticket_t *t)
{
    line_t *line = hall_line_of(t);
    uint32_t place = hall_place(t);
    if (line == &t->service->appointments && index_in_line(t, line) < t->service->appts_begun)
        t->service->appts_begun--;
    hall_line_remove(line, t);
    record_change(self, t, place, true);
}

unsigned hall_lines_tick(hall_t *self, int64_t now)
{
    if (now > self->lines_now)
        self->lines_now = now;
    unsigned moved = 0;
    for (unsigned i = 0; i < self->services_count; i++) {
        service_t *svc = &self->services[i];
        for (;;) {
            ticket_t *t = svc->appointments.head;
            for (uint32_t k = 0; t && k < svc->appts_begun; k++)
                t = t->next;
            if (!t || t->slot_start > self->lines_now)
                break;
            /* from the first place behind the walk-ins to the last before them */
            uint32_t from = hall_place(t);
            svc->appts_begun++;
            record_change(self, t, from, true);
            record_change(self, t, hall_place(t), false);
            Hallbus__LineMoved ev = HALLBUS__LINE_MOVED__INIT;
            ev.service = (char *)svc->prefix;
            ev.ticket_id = t->id;
            ev.number = t->number;
            ev.reason = "slot-begun";
            Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
            env.event_case = HALLBUS__ENVELOPE__EVENT_LINE_MOVED;
            env.line_moved = &ev;
            hall_emit(self, &env, now);
            moved++;
        }
    }
    return moved;
}

uint32_t hall_seconds_between(int64_t from_us, int64_t to_us)
{
    if (to_us <= from_us)
        return 0;
    int64_t s = (to_us - from_us) / 1000000;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

uint32_t hall_open_windows_for(hall_t *self, const service_t *svc)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < self->windows_count; i++) {
        const window_t *w = &self->windows[i];
        if (w->state != HALLBUS__WINDOW_STATE__OPEN)
            continue;
        for (unsigned j = 0; j < w->services_count; j++)
            if (w->services[j] == svc) {
                n++;
                break;
            }
    }
    return n;
}

/* Mean service time of the service's recent tickets (or its target time
 * before any was served), shared by the windows open for it. */
uint32_t hall_estimated_wait(hall_t *self, const service_t *svc, uint32_t ahead)
{
    uint64_t mean = (uint64_t)svc->conf->target_minutes * 60;
    if (svc->rate_count > 0) {
        uint64_t sum = 0;
        for (unsigned i = 0; i < svc->rate_count; i++)
            sum += svc->rate_samples[i];
        mean = sum / svc->rate_count;
    }
    uint32_t windows = hall_open_windows_for(self, svc);
    if (windows == 0)
        windows = 1;
    return (uint32_t)(((uint64_t)ahead * mean + windows - 1) / windows);
}

uint32_t hall_waiting_total(hall_t *self)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < self->services_count; i++)
        n += hall_service_waiting(&self->services[i]);
    return n;
}

void hall_service_summary(hall_t *self, const service_t *svc, Hallbus__ServiceSummary *s)
{
    hallbus__service_summary__init(s);
    s->prefix = (char *)svc->prefix;
    s->name = svc->conf->name;
    s->waiting = hall_service_waiting(svc);
    s->waiting_green = svc->green.count;
    s->issued_today = svc->last_number;
    s->quota = svc->conf->quota;
    s->served_today = svc->served_today;
    s->estimated_wait_s = hall_estimated_wait(self, svc, s->waiting);
    s->open_windows = hall_open_windows_for(self, svc);
    s->target_minutes = svc->conf->target_minutes;
}

/* ── transaction ────────────────────────────────────────────────────────── */

int hall_commit(hall_t *self)
{
    if (self->store_failed)
        return -1; /* only hall_reload ends a failed batch */
    if (!self->in_transaction)
        return 0;
    /* the last sequence, beside the journal: a damaged journal is then
     * seen at start, not taken for an empty one */
    if (self->seq != self->recorded_seq) {
        char seq[24];
        snprintf(seq, sizeof seq, "%llu", (unsigned long long)self->seq);
        if (hall_store_set_meta(self->store, "last_seq", seq) != 0) {
            hall_store_failed(self, "the last sequence");
            return -1;
        }
    }
    if (hall_store_commit(self->store) != 0) {
        hall_store_failed(self, "the commit");
        return -1;
    }
    self->in_transaction = false;
    self->recorded_seq = self->seq;
    self->commits++;
    return 0;
}

static void reset_window(hall_t *self, window_t *w)
{
    w->state = HALLBUS__WINDOW_STATE__CLOSED;
    w->staff[0] = w->pause_reason[0] = '\0';
    w->current = NULL;
    w->since = 0;
    w->policy = w->conf->policy;
    hall_window_set_services(self, w, NULL, 0);
}

outbox_item_t *hall_outbox_take(hall_t *self)
{
    outbox_item_t *items = self->outbox_head;
    self->outbox_head = self->outbox_tail = NULL;
    return items;
}

void hall_outbox_free(outbox_item_t *items)
{
    while (items) {
        outbox_item_t *next = items->next;
        free(items->data);
        free(items);
        items = next;
    }
}

/* ── lifecycle ──────────────────────────────────────────────────────────── */

void hall_ticket_free(ticket_t *t)
{
    free(t->reason);
    for (unsigned i = 0; i < t->materials_count; i++)
        free(t->materials[i]);
    free(t->materials);
    free(t->rating_comment);
    free(t);
}

void hall_free_tickets(hall_t *self)
{
    ticket_t *t, *tmp;
    HASH_ITER(hh_id, self->by_id, t, tmp)
    {
        HASH_DELETE(hh_id, self->by_id, t);
        HASH_DELETE(hh_number, self->by_number, t);
        if (t->token[0])
            HASH_DELETE(hh_token, self->by_token, t);
        hall_ticket_free(t);
    }
    for (unsigned i = 0; i < self->services_count; i++) {
        service_t *s = &self->services[i];
        s->green = s->normal = (line_t){0};
        s->appointments = (line_t){.by_slot = true};
        s->appts_begun = 0;
        s->last_number = s->served_today = 0;
        s->rate_count = s->rate_next = 0;
    }
    for (unsigned i = 0; i < self->windows_count; i++)
        self->windows[i].current = NULL;
    memset(self->recent_calls, 0, sizeof self->recent_calls);
    self->recent_next = 0;
}

void hall_window_set_services(hall_t *self, window_t *w, service_t **chosen, unsigned count)
{
    w->services_count = 0;
    if (!chosen) {
        for (unsigned j = 0; j < w->conf->services_count; j++) {
            service_t *svc = hall_service(self, w->conf->services[j]);
            if (svc)
                w->services[w->services_count++] = svc;
        }
    } else {
        for (unsigned j = 0; j < count; j++)
            w->services[w->services_count++] = chosen[j];
    }
    /* a service keeps its configured weight whatever else the window serves */
    for (unsigned i = 0; i < w->services_count; i++) {
        w->weights[i] = 1;
        w->wrr_current[i] = 0;
        for (unsigned j = 0; j < w->conf->services_count; j++)
            if (strcmp(w->conf->services[j], w->services[i]->prefix) == 0)
                w->weights[i] = w->conf->weights[j];
    }
}

static int by_called_at(const void *a, const void *b)
{
    const ticket_t *x = *(ticket_t *const *)a, *y = *(ticket_t *const *)b;
    return (x->called_at > y->called_at) - (x->called_at < y->called_at);
}

/* The boards' "latest calls" after a restart, oldest first into the ring. */
static void restore_recent_calls(hall_t *self)
{
    unsigned n = HASH_CNT(hh_id, self->by_id), k = 0;
    ticket_t **called = hb_xcalloc(n + 1, sizeof *called, "the recent calls");
    for (ticket_t *t = self->by_id; t; t = t->hh_id.next)
        if (t->called_at)
            called[k++] = t;
    qsort(called, k, sizeof *called, by_called_at);
    for (unsigned i = k > HALL_RECENT_CALLS ? k - HALL_RECENT_CALLS : 0; i < k; i++)
        hall_note_call(self, called[i]);
    free(called);
}

hall_t *hall_new(const hb_config_t *config, hall_store_t *store, int64_t now_us, char *err,
                 size_t errlen)
{
    hall_t *self = hb_xcalloc(1, sizeof *self, "the hall");
    self->config = config;
    self->store = store;
    self->source = "hall-queue";
    self->services_count = config->services_count;
    self->services = hb_xcalloc(config->services_count, sizeof *self->services, "the services");
    for (unsigned i = 0; i < config->services_count; i++) {
        self->services[i].appointments.by_slot = true;
        self->services[i].conf = &config->services[i];
        self->services[i].prefix = config->services[i].prefix;
    }
    self->windows_count = config->windows_count;
    self->windows = hb_xcalloc(config->windows_count, sizeof *self->windows, "the windows");
    for (unsigned i = 0; i < config->windows_count; i++) {
        window_t *w = &self->windows[i];
        w->conf = &config->windows[i];
        w->number = w->conf->number;
        w->services = hb_xcalloc(config->services_count, sizeof *w->services, "a window");
        w->weights = hb_xcalloc(config->services_count, sizeof *w->weights, "a window");
        w->wrr_current = hb_xcalloc(config->services_count, sizeof *w->wrr_current, "a window");
        reset_window(self, w);
    }

    /* A fresh store starts on today's business date; an existing one on the
     * date it was last on, so the rollover below can close that day. */
    if (hall_store_get_meta(store, "business_date", self->business_date,
                            sizeof self->business_date) != 0) {
        hb_business_date(now_us, config->hall.rollover_minute, self->business_date);
        if (hall_store_set_meta(store, "business_date", self->business_date) != 0) {
            snprintf(err, errlen, "cannot write to the store");
            hall_destroy(&self);
            return NULL;
        }
    }
    char hall_id[64] = "";
    if (hall_store_get_meta(store, "hall_id", hall_id, sizeof hall_id) == 0 &&
        strcmp(hall_id, config->hall.id) != 0) {
        snprintf(err, errlen, "the store belongs to hall \"%s\", not \"%s\"", hall_id,
                 config->hall.id);
        hall_destroy(&self);
        return NULL;
    }
    hall_store_set_meta(store, "hall_id", config->hall.id);
    if (hall_store_load(store, self) != 0) {
        snprintf(err, errlen, "cannot load the hall from its store");
        hall_destroy(&self);
        return NULL;
    }
    /* the journal must reach the last sequence the store recorded: if it
     * does not, events are missing and numbering would repeat */
    char last_seq[24];
    if (hall_store_get_meta(store, "last_seq", last_seq, sizeof last_seq) == 0 &&
        strtoull(last_seq, NULL, 10) != self->seq) {
        snprintf(err, errlen,
                 "the store recorded event #%s last but its journal ends at #%llu: the journal "
                 "is damaged; restore the store from a backup",
                 last_seq, (unsigned long long)self->seq);
        hall_destroy(&self);
        return NULL;
    }
    self->recorded_seq = self->seq;
    restore_recent_calls(self);
    self->last_now = now_us;
    hall_rollover(self, now_us);
    /* slots that began while the hall was down move ahead now, on the record */
    hall_lines_tick(self, now_us);
    if (hall_commit(self) != 0) {
        snprintf(err, errlen, "cannot write to the store: %s", self->store_error);
        hall_destroy(&self);
        return NULL;
    }
    return self;
}

int hall_reload(hall_t *self)
{
    hall_store_rollback(self->store);
    self->in_transaction = false;
    self->store_failed = self->store_full = false;
    hall_outbox_free(hall_outbox_take(self));
    self->changes_count = 0; /* the failed batch's line changes go with its events */
    hall_free_tickets(self);
    for (unsigned i = 0; i < self->windows_count; i++)
        reset_window(self, &self->windows[i]);
    if (hall_store_get_meta(self->store, "business_date", self->business_date,
                            sizeof self->business_date) != 0 ||
        hall_store_load(self->store, self) != 0)
        return -1;
    self->recorded_seq = self->seq;
    restore_recent_calls(self);
    hb_info("hall reloaded from its store: business day %s, seq %llu", self->business_date,
            (unsigned long long)self->seq);
    return 0;
}

void hall_destroy(hall_t **pself)
{
    if (!pself || !*pself)
        return;
    hall_t *self = *pself;
    *pself = NULL;
    hall_free_tickets(self);
    hall_outbox_free(self->outbox_head);
    for (unsigned i = 0; i < self->windows_count; i++) {
        free(self->windows[i].services);
        free(self->windows[i].weights);
        free(self->windows[i].wrr_current);
    }
    free(self->windows);
    free(self->services);
    free(self->changes);
    hall_store_close(&self->store);
    free(self);
}

/* ── the business day ───────────────────────────────────────────────────── */

static bool ticket_is_final(const ticket_t *t)
{
    return t->state == HALLBUS__TICKET_STATE__FINISHED ||
           t->state == HALLBUS__TICKET_STATE__EXPIRED;
}

/* Logs a step of the clock loudly: durations and business dates depend on it. */
static void notice_clock(hall_t *self, int64_t now_us)
{
    if (self->last_now && now_us < self->last_now - CLOCK_STEP_LOG_US)
        hb_error("CLOCK STEP: the clock went back %lld s (from %lld to %lld µs since the "
                 "epoch); durations are counted as 0 where they would be negative",
                 (long long)((self->last_now - now_us) / 1000000), (long long)self->last_now,
                 (long long)now_us);
    self->last_now = now_us;
}

/* Whether the hall should start the business day TODAY: a later day, or,
 * when the clock was ahead and is right again (stepped back past the
 * tolerance), the clock's own day, so that the date never runs ahead. */
static bool day_changes(hall_t *self, int64_t now_us, char today[HB_DATE_LEN])
{
    hb_business_date(now_us, self->config->hall.rollover_minute, today);
    int cmp = strcmp(today, self->business_date);
    if (cmp > 0)
        return true;
    if (cmp == 0)
        return false;
    char later[HB_DATE_LEN];
    hb_business_date(now_us + CLOCK_STEP_TOLERANCE_US, self->config->hall.rollover_minute, later);
    if (strcmp(later, self->business_date) >= 0)
        return false; /* a small step back near the rollover: the day stands */
    hb_error("CLOCK STEP: the hall is on business day %s but the clock says %s; the clock was "
             "ahead and is right again: closing %s and going back to %s",
             self->business_date, today, self->business_date, today);
    return true;
}

/* Back on a day that had tickets before the clock ran ahead: numbering
 * goes on after that day's last number, never giving one twice. Probing
 * the store number by number is slow, but this happens once per step. */
static void resume_numbers(hall_t *self)
{
    for (unsigned i = 0; i < self->services_count; i++) {
        service_t *svc = &self->services[i];
        for (;;) {
            char number[16];
            snprintf(number, sizeof number, "%s%03u", svc->prefix, svc->last_number + 1);
            ticket_t *t = hall_store_load_ticket(self->store, self, self->business_date, number);
            if (!t)
                break;
            hall_ticket_free(t);
            svc->last_number++;
        }
    }
}

bool hall_rollover(hall_t *self, int64_t now_us)
{
    char today[HB_DATE_LEN];
    notice_clock(self, now_us);
    if (!day_changes(self, now_us, today))
        return false;

    hall_events_begin(self);
    /* Close the old day: what was not served expires, every window closes.
     * The tickets stay in the store as history; memory keeps only today. */
    Hallbus__DailyReset reset = HALLBUS__DAILY_RESET__INIT;
    char previous[HB_DATE_LEN];
    memcpy(previous, self->business_date, sizeof previous);
    reset.previous_date = previous;
    reset.business_date = today;
    unsigned expired = 0;
    ticket_t *t, *tmp;
    HASH_ITER(hh_id, self->by_id, t, tmp)
    {
        if (!ticket_is_final(t))
            expired++;
    }
    reset.expired_numbers =
        hb_xcalloc(expired ? expired : 1, sizeof *reset.expired_numbers, "the expired numbers");
    HASH_ITER(hh_id, self->by_id, t, tmp)
    {
        if (ticket_is_final(t))
            continue;
        t->state = HALLBUS__TICKET_STATE__EXPIRED;
        t->finished_at = now_us;
        reset.expired_numbers[reset.n_expired_numbers++] = t->number;
        if (hall_store_save_ticket(self->store, t, previous) != 0)
            hall_store_failed(self, "an expired ticket");
    }
    reset.expired_count = expired;
    for (unsigned i = 0; i < self->windows_count; i++) {
        window_t *w = &self->windows[i];
        w->state = HALLBUS__WINDOW_STATE__CLOSED;
        w->staff[0] = w->pause_reason[0] = '\0';
        w->current = NULL;
        w->since = now_us;
        hall_window_set_services(self, w, NULL, 0);
        if (hall_store_save_window(self->store, w) != 0)
            hall_store_failed(self, "a closed window");
    }
    memcpy(self->business_date, today, sizeof today);
    if (hall_store_set_meta(self->store, "business_date", today) != 0)
        hall_store_failed(self, "the business date");

    /* a day.reset empties every line: its summaries say so, and followers
     * empty their tables of places without being told each ticket */
    for (unsigned i = 0; i < self->services_count; i++) {
        service_t *s = &self->services[i];
        s->green = s->normal = (line_t){0};
        s->appointments = (line_t){.by_slot = true};
        s->appts_begun = 0;
        s->last_number = s->served_today = 0;
        s->rate_count = s->rate_next = 0;
    }
    self->changes_count = 0;
    self->lines_now = now_us;
    hall_mark_all_services(self);
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = HALLBUS__ENVELOPE__EVENT_DAILY_RESET;
    env.daily_reset = &reset;
    hall_emit(self, &env, now_us);
    free(reset.expired_numbers);
    hall_free_tickets(self);
    if (strcmp(today, previous) < 0)
        resume_numbers(self);

    /* the journal is kept for late readers, not forever */
    int64_t keep_us = (int64_t)self->config->queue.journal_days * 86400 * 1000000;
    if (hall_store_prune_events(self->store, now_us - keep_us) != 0)
        hb_warn("could not prune the event journal");
    hb_info("business day %s begins; %u tickets of %s expired", today, expired, previous);
    return true;
}
