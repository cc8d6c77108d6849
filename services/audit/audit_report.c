#include "audit_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    uint32_t *v;
    size_t n, cap;
} vec_t;

typedef enum { G_HALL, G_SERVICE, G_WINDOW, G_STAFF, G_COUNT } group_t;
static const char *const GROUP_NAMES[G_COUNT] = {"hall", "service", "window", "staff"};

typedef struct {
    group_t group;
    char key[64];
    vec_t waits, services;
    uint32_t no_shows, transfers, ratings[4], within, target_known, complaints;
} acc_t;

typedef struct {
    uint32_t served;
    double wait_sum;
} hour_t;

struct audit_report_s {
    const hb_config_t *config;
    acc_t *accs;
    size_t n, cap;
    hour_t hours[24];
    uint64_t events;
};

static void vec_push(vec_t *v, uint32_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        uint32_t *p = realloc(v->v, cap * sizeof *p);
        if (!p)
            return;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = x;
}

audit_report_t *audit_report_new(const hb_config_t *config)
{
    audit_report_t *self = calloc(1, sizeof *self);
    if (self)
        self->config = config;
    return self;
}

void audit_report_destroy(audit_report_t **pself)
{
    if (!pself || !*pself)
        return;
    audit_report_t *self = *pself;
    *pself = NULL;
    for (size_t i = 0; i < self->n; i++) {
        free(self->accs[i].waits.v);
        free(self->accs[i].services.v);
    }
    free(self->accs);
    free(self);
}

static acc_t *acc(audit_report_t *self, group_t g, const char *key)
{
    if (!key || !*key)
        return NULL;
    for (size_t i = self->n; i-- > 0;)
        if (self->accs[i].group == g && strcmp(self->accs[i].key, key) == 0)
            return &self->accs[i];
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 32;
        acc_t *p = realloc(self->accs, cap * sizeof *p);
        if (!p)
            return NULL;
        self->accs = p;
        self->cap = cap;
    }
    acc_t *a = &self->accs[self->n++];
    memset(a, 0, sizeof *a);
    a->group = g;
    snprintf(a->key, sizeof a->key, "%s", key);
    return a;
}

/* The four rows an event counts in: the hall, its service, window, staff. */
static int rows_of(audit_report_t *self, const char *hall, const char *service, uint32_t window,
                   const char *staff, acc_t *out[4])
{
    char w[16] = "";
    if (window)
        snprintf(w, sizeof w, "%u", window);
    out[0] = acc(self, G_HALL, hall);
    out[1] = acc(self, G_SERVICE, service);
    out[2] = acc(self, G_WINDOW, w);
    out[3] = acc(self, G_STAFF, staff);
    return 4;
}

static const char *staff_of(const char *event_staff, const Hallbus__Ticket *t)
{
    if (event_staff && *event_staff)
        return event_staff;
    return t ? t->staff : NULL;
}

void audit_report_add(audit_report_t *self, const Hallbus__Envelope *env)
{
    acc_t *rows[4];
    self->events++;
    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED: {
        const Hallbus__ServiceFinished *f = env->service_finished;
        const Hallbus__Ticket *t = f->ticket;
        const char *service = t ? t->service : NULL;
        const hb_service_conf_t *sc =
            self->config && service ? hb_config_service(self->config, service) : NULL;
        rows_of(self, env->hall_id, service, f->window, staff_of(f->staff, t), rows);
        for (int i = 0; i < 4; i++) {
            if (!rows[i])
                continue;
            vec_push(&rows[i]->waits, f->wait_seconds);
            vec_push(&rows[i]->services, f->service_seconds);
            if (sc) {
                rows[i]->target_known++;
                rows[i]->within += f->service_seconds <= sc->target_minutes * 60u;
            }
        }
        if (t && t->issued_at) {
            time_t secs = (time_t)(t->issued_at / 1000000);
            struct tm tm;
            localtime_r(&secs, &tm);
            self->hours[tm.tm_hour].served++;
            self->hours[tm.tm_hour].wait_sum += f->wait_seconds;
        }
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW: {
        const Hallbus__TicketNoShow *e = env->ticket_no_show;
        const Hallbus__Ticket *t = e->ticket;
        rows_of(self, env->hall_id, t ? t->service : NULL, e->window, staff_of(NULL, t), rows);
        for (int i = 0; i < 4; i++)
            if (rows[i])
                rows[i]->no_shows++;
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED: {
        const Hallbus__TicketTransferred *e = env->ticket_transferred;
        rows_of(self, env->hall_id, e->from_service, e->from_window, staff_of(NULL, e->ticket),
                rows);
        for (int i = 0; i < 4; i++)
            if (rows[i])
                rows[i]->transfers++;
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_EVALUATED: {
        const Hallbus__TicketEvaluated *e = env->ticket_evaluated;
        const Hallbus__Ticket *t = e->ticket;
        if (e->rating < 1 || e->rating > 4)
            break;
        rows_of(self, env->hall_id, t ? t->service : NULL, t ? t->window : 0, staff_of(NULL, t),
                rows);
        for (int i = 0; i < 4; i++)
            if (rows[i])
                rows[i]->ratings[e->rating - 1]++;
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_COMPLAINT_FILED: {
        /* a complaint names the ticket, window and staff it is about; the
         * service is the ticket number's prefix letter */
        const Hallbus__Complaint *cp = env->complaint_filed->complaint;
        if (!cp)
            break;
        char service[2] = {0, 0};
        if (cp->ticket_number && cp->ticket_number[0] >= 'A' && cp->ticket_number[0] <= 'Z')
            service[0] = cp->ticket_number[0];
        rows_of(self, env->hall_id, service, cp->window, cp->staff, rows);
        for (int i = 0; i < 4; i++)
            if (rows[i])
                rows[i]->complaints++;
        break;
    }
    default:
        break;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

uint32_t audit_p90(uint32_t *values, size_t n)
{
    if (n == 0)
        return 0;
    qsort(values, n, sizeof *values, cmp_u32);
    size_t rank = (size_t)ceil(0.9 * (double)n);
    return values[rank - 1];
}

static double avg(const vec_t *v)
{
    if (v->n == 0)
        return 0;
    double sum = 0;
    for (size_t i = 0; i < v->n; i++)
        sum += v->v[i];
    return sum / (double)v->n;
}

static int cmp_acc(const void *pa, const void *pb)
{
    const acc_t *a = pa, *b = pb;
    if (a->group != b->group)
        return (int)a->group - (int)b->group;
    if (a->group == G_WINDOW)
        return atoi(a->key) - atoi(b->key);
    return strcmp(a->key, b->key);
}

int audit_report_finish(audit_report_t *self, Hallbus__AuditReport *out)
{
    hallbus__audit_report__init(out);
    if (self->n)
        qsort(self->accs, self->n, sizeof *self->accs, cmp_acc);
    out->rows = calloc(self->n ? self->n : 1, sizeof *out->rows);
    out->hours = calloc(24, sizeof *out->hours);
    if (!out->rows || !out->hours)
        return -1;
    for (size_t i = 0; i < self->n; i++) {
        acc_t *a = &self->accs[i];
        Hallbus__AuditReportRow *r = calloc(1, sizeof *r);
        if (!r)
            return -1;
        hallbus__audit_report_row__init(r);
        r->group = strdup(GROUP_NAMES[a->group]);
        r->key = strdup(a->key);
        const hb_service_conf_t *sc =
            a->group == G_SERVICE && self->config ? hb_config_service(self->config, a->key) : NULL;
        r->name = strdup(sc ? sc->name : "");
        r->served = (uint32_t)a->waits.n;
        r->avg_wait_s = avg(&a->waits);
        r->p90_wait_s = audit_p90(a->waits.v, a->waits.n);
        r->avg_service_s = avg(&a->services);
        r->p90_service_s = audit_p90(a->services.v, a->services.n);
        r->no_shows = a->no_shows;
        r->transfers = a->transfers;
        r->n_ratings = 4;
        r->ratings = malloc(4 * sizeof *r->ratings);
        if (r->ratings)
            memcpy(r->ratings, a->ratings, sizeof a->ratings);
        else
            r->n_ratings = 0;
        r->within_target = a->within;
        r->target_known = a->target_known;
        r->complaints = a->complaints;
        out->rows[out->n_rows++] = r;
    }
    for (uint32_t h = 0; h < 24; h++) {
        Hallbus__AuditHourRow *hr = calloc(1, sizeof *hr);
        if (!hr)
            return -1;
        hallbus__audit_hour_row__init(hr);
        hr->hour = h;
        hr->served = self->hours[h].served;
        hr->avg_wait_s = hr->served ? self->hours[h].wait_sum / hr->served : 0;
        out->hours[out->n_hours++] = hr;
    }
    out->events = self->events;
    return 0;
}

void audit_report_clear(Hallbus__AuditReport *out)
{
    for (size_t i = 0; i < out->n_rows; i++) {
        Hallbus__AuditReportRow *r = out->rows[i];
        free(r->group);
        free(r->key);
        free(r->name);
        free(r->ratings);
        free(r);
    }
    for (size_t i = 0; i < out->n_hours; i++)
        free(out->hours[i]);
    free(out->rows);
    free(out->hours);
    out->rows = NULL;
    out->hours = NULL;
    out->n_rows = out->n_hours = 0;
}
