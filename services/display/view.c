#include "view.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/alloc.h"
#include "hallbus/envelope.h"

static char *dup_or_empty(const char *s)
{
    return hb_xstrdup(s, "the board's view");
}

static void copy_number(char out[DV_NUMBER_MAX], const char *number)
{
    snprintf(out, DV_NUMBER_MAX, "%s", number ? number : "");
}

dv_view_t *dv_view_new(const hb_config_t *config)
{
    assert(config);
    dv_view_t *self = hb_xcalloc(1, sizeof *self, "the board's view");
    self->config = config;
    self->hall_id = dup_or_empty(config->hall.id);
    self->hall_name = dup_or_empty(config->hall.name);
    self->hall_name_en =
        dup_or_empty(config->hall.name_en ? config->hall.name_en : config->hall.name);
    return self;
}

static void clear_tickets(dv_view_t *self)
{
    dv_ticket_t *t, *tmp;
    HASH_ITER(hh, self->tickets, t, tmp)
    {
        HASH_DEL(self->tickets, t);
        free(t);
    }
}

static void clear_services(dv_view_t *self)
{
    for (size_t i = 0; i < self->nservices; i++) {
        free(self->services[i].name);
        free(self->services[i].name_en);
    }
    free(self->services);
    self->services = NULL;
    self->nservices = 0;
}

static void free_window(dv_window_t *w)
{
    free(w->staff);
    free(w->pause_reason);
    for (size_t j = 0; j < w->nservices; j++)
        free(w->services[j]);
    free(w->services);
    memset(w, 0, sizeof *w);
}

static void clear_windows(dv_view_t *self)
{
    for (size_t i = 0; i < self->nwindows; i++)
        free_window(&self->windows[i]);
    free(self->windows);
    self->windows = NULL;
    self->nwindows = 0;
}

void dv_view_destroy(dv_view_t **selfp)
{
    if (!selfp || !*selfp)
        return;
    dv_view_t *self = *selfp;
    clear_tickets(self);
    clear_services(self);
    clear_windows(self);
    free(self->pending);
    free(self->hall_id);
    free(self->hall_name);
    free(self->hall_name_en);
    free(self);
    *selfp = NULL;
}

/* ── lookups ── */

const dv_window_t *dv_view_window(const dv_view_t *self, uint32_t number)
{
    for (size_t i = 0; i < self->nwindows; i++)
        if (self->windows[i].number == number)
            return &self->windows[i];
    return NULL;
}

static dv_window_t *window_mut(dv_view_t *self, uint32_t number)
{
    return (dv_window_t *)dv_view_window(self, number);
}

const dv_service_t *dv_view_service(const dv_view_t *self, const char *prefix)
{
    for (size_t i = 0; i < self->nservices; i++)
        if (strcmp(self->services[i].prefix, prefix) == 0)
            return &self->services[i];
    return NULL;
}

static dv_service_t *service_mut(dv_view_t *self, const char *prefix)
{
    return prefix ? (dv_service_t *)dv_view_service(self, prefix) : NULL;
}

/* ── the services' figures, as hall-queue counts them ── */

/* Waiting counts, estimated waits and open windows are hall-queue's: they
 * come with the snapshot, with each event that changed them and with the
 * heartbeat. The board counts nothing itself. */
static void take_summary(dv_service_t *s, const Hallbus__ServiceSummary *ps)
{
    s->waiting = ps->waiting;
    s->waiting_green = ps->waiting_green;
    s->estimated_wait_s = ps->estimated_wait_s;
    s->open_windows = ps->open_windows;
}

static void take_summaries(dv_view_t *self, Hallbus__ServiceSummary *const *ps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dv_service_t *s = ps[i]->prefix ? service_mut(self, ps[i]->prefix) : NULL;
        if (s)
            take_summary(s, ps[i]);
    }
}

/* ── tickets ── */

static bool is_final(Hallbus__TicketState s)
{
    return s == HALLBUS__TICKET_STATE__FINISHED || s == HALLBUS__TICKET_STATE__EXPIRED;
}

/* Puts the ticket as the event carries it (the boards mark green tickets
 * at the windows from it). */
static void put_ticket(dv_view_t *self, const Hallbus__Ticket *pt)
{
    if (!pt || !pt->number || !pt->number[0] || strlen(pt->number) >= DV_NUMBER_MAX)
        return;
    dv_ticket_t *t = NULL;
    HASH_FIND_STR(self->tickets, pt->number, t);
    if (t && is_final(pt->state)) {
        HASH_DEL(self->tickets, t);
        free(t);
        t = NULL;
    } else if (!t && !is_final(pt->state)) {
        t = hb_xcalloc(1, sizeof *t, "a board's ticket");
        copy_number(t->number, pt->number);
        HASH_ADD_STR(self->tickets, number, t);
    }
    if (t) {
        snprintf(t->service, sizeof t->service, "%s", pt->service ? pt->service : "");
        t->state = pt->state;
        t->green = pt->priority == HALLBUS__PRIORITY__GREEN;
    }
}

/* ── calls and announcements ── */

void dv_announce_texts(const char *number, uint32_t window, char zh[DV_TEXT_MAX],
                       char en[DV_TEXT_MAX])
{
    snprintf(zh, DV_TEXT_MAX, "请 %s 号到 %u 号窗口办理", number, window);
    snprintf(en, DV_TEXT_MAX, "Ticket %s, please go to window %u", number, window);
}

static void announce(dv_view_t *self, const dv_call_t *c, uint64_t seq)
{
    dv_announce_t a = {0};
    a.id = c->at;
    a.seq = seq;
    copy_number(a.number, c->number);
    a.window = c->window;
    a.recall = c->recalls;
    a.green = c->green;
    dv_announce_texts(a.number, a.window, a.zh, a.en);

    size_t at = (self->ring_start + self->ring_count) % DV_ANNOUNCE_RING;
    self->ring[at] = a;
    if (self->ring_count < DV_ANNOUNCE_RING)
        self->ring_count++;
    else
        self->ring_start = (self->ring_start + 1) % DV_ANNOUNCE_RING;

    if (self->npending == self->cap_pending) {
        size_t cap = self->cap_pending ? self->cap_pending * 2 : 16;
        self->pending = hb_xrealloc(self->pending, cap * sizeof *self->pending, "announcements");
        self->cap_pending = cap;
    }
    self->pending[self->npending++] = a;
}

const dv_announce_t *dv_view_take_pending(dv_view_t *self, size_t *n)
{
    *n = self->npending;
    self->npending = 0;
    return self->pending;
}

size_t dv_view_announcements_after(const dv_view_t *self, int64_t after, const dv_announce_t **out,
                                   size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < self->ring_count && n < max; i++) {
        const dv_announce_t *a = &self->ring[(self->ring_start + i) % DV_ANNOUNCE_RING];
        if (a->id > after)
            out[n++] = a;
    }
    return n;
}

/* A call goes to the top; the ticket appears once, as on the hall's own
 * list of recent calls. */
static void push_call(dv_view_t *self, const dv_call_t *c)
{
    size_t i;
    for (i = 0; i < self->ncalls; i++)
        if (strcmp(self->calls[i].number, c->number) == 0)
            break;
    if (i == self->ncalls && self->ncalls < DV_CALLS_MAX)
        self->ncalls++;
    if (i == self->ncalls) /* full and not there: the oldest falls off */
        i = self->ncalls - 1;
    memmove(&self->calls[1], &self->calls[0], i * sizeof self->calls[0]);
    self->calls[0] = *c;
}

static void set_serving(dv_view_t *self, uint32_t window, const Hallbus__Ticket *t)
{
    dv_window_t *w = window_mut(self, window);
    if (!w)
        return;
    copy_number(w->serving, t ? t->number : "");
    w->serving_green = t && t->priority == HALLBUS__PRIORITY__GREEN;
}

static void on_call(dv_view_t *self, const Hallbus__Envelope *env, const Hallbus__Ticket *t,
                    uint32_t window, uint32_t recall)
{
    if (!t || !t->number)
        return;
    put_ticket(self, t);
    set_serving(self, window, t);
    dv_call_t c = {0};
    copy_number(c.number, t->number);
    c.window = window;
    c.at = t->called_at ? t->called_at : env->ts;
    c.green = t->priority == HALLBUS__PRIORITY__GREEN;
    c.recalls = recall;
    push_call(self, &c);
    announce(self, &c, env->seq);
}

/* ── windows ── */

static void load_window(dv_window_t *w, const Hallbus__Window *pw, const dv_view_t *self)
{
    free_window(w);
    w->number = pw->number;
    w->state = pw->state;
    w->staff = dup_or_empty(pw->staff);
    w->pause_reason = dup_or_empty(pw->pause_reason);
    copy_number(w->serving, pw->serving_number);
    w->services = hb_xcalloc(pw->n_services + 1, sizeof *w->services, "a board's window");
    for (size_t j = 0; j < pw->n_services; j++)
        w->services[j] = dup_or_empty(pw->services[j]);
    w->nservices = pw->n_services;
    dv_ticket_t *t = NULL;
    if (w->serving[0])
        HASH_FIND_STR(self->tickets, w->serving, t);
    w->serving_green = t && t->green;
}

static void put_window(dv_view_t *self, const Hallbus__Window *pw)
{
    if (!pw)
        return;
    dv_window_t *w = window_mut(self, pw->number);
    if (!w) {
        self->windows = hb_xrealloc(self->windows, (self->nwindows + 1) * sizeof *self->windows,
                                    "a board's windows");
        w = &self->windows[self->nwindows++];
        memset(w, 0, sizeof *w);
    }
    bool green =
        w->serving_green && pw->serving_number && strcmp(w->serving, pw->serving_number) == 0;
    load_window(w, pw, self);
    w->serving_green = w->serving_green || green;
}

/* ── snapshot ── */

static const char *service_name_en(const dv_view_t *self, const char *prefix, const char *name)
{
    const hb_service_conf_t *sc = hb_config_service(self->config, prefix);
    return sc && sc->name_en ? sc->name_en : name;
}

static bool call_known(const dv_view_t *self, const char *number, int64_t at)
{
    for (size_t i = 0; i < self->ncalls; i++)
        if (strcmp(self->calls[i].number, number) == 0 && self->calls[i].at == at)
            return true;
    for (size_t i = 0; i < self->ring_count; i++) {
        const dv_announce_t *a = &self->ring[(self->ring_start + i) % DV_ANNOUNCE_RING];
        if (strcmp(a->number, number) == 0 && a->id == at)
            return true;
    }
    return false;
}

void dv_view_load(dv_view_t *self, const Hallbus__Snapshot *snap, int64_t announce_max_age_us)
{
    bool resync = self->loaded;
    const Hallbus__HallStatus *st = snap->status;
    clear_tickets(self);
    clear_services(self);
    clear_windows(self);
    self->seq = snap->seq;
    snprintf(self->business_date, sizeof self->business_date, "%s",
             st && st->business_date ? st->business_date : "");
    if (st && st->hall_name && st->hall_name[0] && strcmp(st->hall_name, self->hall_name) != 0) {
        free(self->hall_name);
        self->hall_name = dup_or_empty(st->hall_name);
    }

    size_t ns = st ? st->n_services : 0;
    self->services = hb_xcalloc(ns + 1, sizeof *self->services, "a board's services");
    for (size_t i = 0; i < ns; i++) {
        const Hallbus__ServiceSummary *ps = st->services[i];
        dv_service_t *s = &self->services[self->nservices++];
        snprintf(s->prefix, sizeof s->prefix, "%s", ps->prefix ? ps->prefix : "");
        s->name = dup_or_empty(ps->name);
        s->name_en = dup_or_empty(service_name_en(self, s->prefix, ps->name));
        take_summary(s, ps);
    }
    /* tickets before windows: a window marks its ticket green from them */
    for (size_t i = 0; i < snap->n_tickets; i++) {
        const Hallbus__Ticket *pt = snap->tickets[i];
        if (!pt->number || !pt->number[0] || strlen(pt->number) >= DV_NUMBER_MAX ||
            is_final(pt->state))
            continue;
        dv_ticket_t *t = NULL;
        HASH_FIND_STR(self->tickets, pt->number, t);
        if (!t) {
            t = hb_xcalloc(1, sizeof *t, "a board's ticket");
            copy_number(t->number, pt->number);
            HASH_ADD_STR(self->tickets, number, t);
        }
        snprintf(t->service, sizeof t->service, "%s", pt->service ? pt->service : "");
        t->state = pt->state;
        t->green = pt->priority == HALLBUS__PRIORITY__GREEN;
    }
    size_t nw = st ? st->n_windows : 0;
    self->windows = hb_xcalloc(nw + 1, sizeof *self->windows, "a board's windows");
    for (size_t i = 0; i < nw; i++)
        load_window(&self->windows[self->nwindows++], st->windows[i], self);

    /* the hall's recent calls, newest first, one per ticket; calls that a
     * gap hid from us are announced, oldest first */
    dv_call_t fresh[DV_CALLS_MAX];
    size_t nfresh = 0;
    for (size_t i = 0; i < snap->n_recent_calls && nfresh < DV_CALLS_MAX; i++) {
        const Hallbus__Ticket *pt = snap->recent_calls[i];
        if (!pt->number || !pt->number[0])
            continue;
        bool dup = false;
        for (size_t j = 0; j < nfresh; j++)
            dup = dup || strcmp(fresh[j].number, pt->number) == 0;
        if (dup)
            continue;
        dv_call_t *c = &fresh[nfresh++];
        memset(c, 0, sizeof *c);
        copy_number(c->number, pt->number);
        c->window = pt->window;
        c->at = pt->called_at;
        c->green = pt->priority == HALLBUS__PRIORITY__GREEN;
        c->recalls = pt->recalls;
    }
    int64_t now = st ? st->now : 0;
    for (size_t i = nfresh; resync && i-- > 0;) {
        const dv_call_t *c = &fresh[i];
        if (!call_known(self, c->number, c->at) && now - c->at <= announce_max_age_us)
            announce(self, c, 0);
    }
    memcpy(self->calls, fresh, nfresh * sizeof fresh[0]);
    self->ncalls = nfresh;
    self->loaded = true;
    self->version++;
}

/* ── events ── */

static void on_day_reset(dv_view_t *self, const Hallbus__DailyReset *r)
{
    clear_tickets(self);
    self->ncalls = 0;
    snprintf(self->business_date, sizeof self->business_date, "%s",
             r->business_date ? r->business_date : "");
    for (size_t i = 0; i < self->nwindows; i++) {
        dv_window_t *w = &self->windows[i];
        w->state = HALLBUS__WINDOW_STATE__CLOSED;
        w->serving[0] = '\0';
        w->serving_green = false;
    }
}

void dv_view_apply(dv_view_t *self, const Hallbus__Envelope *env)
{
    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_HEARTBEAT:
        /* consumes no number; its figures are those of the view's seq */
        if (env->heartbeat && env->seq == self->seq) {
            take_summaries(self, env->heartbeat->services, env->heartbeat->n_services);
            self->version++;
        }
        return;
    case HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED:
        put_ticket(self, env->ticket_issued->ticket);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_CALLED:
        on_call(self, env, env->ticket_called->ticket, env->ticket_called->window, 0);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_RECALLED: {
        const Hallbus__TicketRecalled *r = env->ticket_recalled;
        on_call(self, env, r->ticket, r->window, r->recall ? r->recall : 1);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW:
        put_ticket(self, env->ticket_no_show->ticket);
        set_serving(self, env->ticket_no_show->window, NULL);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_REQUEUED:
        put_ticket(self, env->ticket_requeued->ticket);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED:
        put_ticket(self, env->ticket_transferred->ticket);
        if (env->ticket_transferred->from_window)
            set_serving(self, env->ticket_transferred->from_window, NULL);
        break;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_STARTED:
        put_ticket(self, env->service_started->ticket);
        set_serving(self, env->service_started->window, env->service_started->ticket);
        break;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED:
        put_ticket(self, env->service_finished->ticket);
        set_serving(self, env->service_finished->window, NULL);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_EVALUATED:
        break; /* nothing a board shows */
    case HALLBUS__ENVELOPE__EVENT_DAILY_RESET:
        on_day_reset(self, env->daily_reset);
        break;
    default:
        /* window.opened, paused, resumed, closed; any other kind, even one
         * this build does not know, changes nothing here but its number counts */
        put_window(self, hb_event_window(env));
        break;
    }
    take_summaries(self, env->lines, env->n_lines);
    self->seq = env->seq;
    self->version++;
}
