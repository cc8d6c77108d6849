/* A follower's table of places in line: see line_places.h. Each line is a
 * doubly linked list in calling order; a hash finds a ticket by id. */
#include "hallbus/line_places.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "hallbus/alloc.h"

#define SERVICE_MAX 8

typedef struct lp_line_s lp_line_t;

typedef struct lp_node_s {
    uint64_t id;
    lp_line_t *line;
    struct lp_node_s *prev, *next;
    UT_hash_handle hh;
} lp_node_t;

struct lp_line_s {
    char service[SERVICE_MAX];
    lp_node_t *head, *tail;
    uint32_t count;
    UT_hash_handle hh;
};

struct hb_line_places_s {
    lp_node_t *by_id;
    lp_line_t *lines; /* by service prefix */
};

hb_line_places_t *hb_line_places_new(void)
{
    return hb_xcalloc(1, sizeof(hb_line_places_t), "a table of places in line");
}

void hb_line_places_clear(hb_line_places_t *self)
{
    lp_node_t *n, *ntmp;
    HASH_ITER(hh, self->by_id, n, ntmp)
    {
        HASH_DEL(self->by_id, n);
        free(n);
    }
    lp_line_t *l, *ltmp;
    HASH_ITER(hh, self->lines, l, ltmp)
    {
        HASH_DEL(self->lines, l);
        free(l);
    }
}

void hb_line_places_destroy(hb_line_places_t **pself)
{
    if (!pself || !*pself)
        return;
    hb_line_places_clear(*pself);
    free(*pself);
    *pself = NULL;
}

static lp_line_t *find_line(const hb_line_places_t *self, const char *service)
{
    lp_line_t *l = NULL;
    if (service)
        HASH_FIND_STR(self->lines, service, l);
    return l;
}

static lp_line_t *line_for(hb_line_places_t *self, const char *service)
{
    lp_line_t *l = find_line(self, service);
    if (!l) {
        l = hb_xcalloc(1, sizeof *l, "a line");
        strncpy(l->service, service, SERVICE_MAX - 1);
        HASH_ADD_STR(self->lines, service, l);
    }
    return l;
}

static lp_node_t *find_node(const hb_line_places_t *self, uint64_t id)
{
    lp_node_t *n = NULL;
    HASH_FIND(hh, self->by_id, &id, sizeof id, n);
    return n;
}

static void unlink_node(lp_node_t *n)
{
    lp_line_t *l = n->line;
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
    l->count--;
}

/* Puts N at PLACE (<= count), walking from the nearer end. */
static void link_at(lp_line_t *l, lp_node_t *n, uint32_t place)
{
    lp_node_t *after = NULL; /* the node that will be just before N */
    if (place > 0) {
        if (place <= l->count / 2) {
            after = l->head;
            for (uint32_t i = 1; i < place; i++)
                after = after->next;
        } else {
            after = l->tail;
            for (uint32_t i = l->count; i > place; i--)
                after = after->prev;
        }
    }
    n->line = l;
    n->prev = after;
    n->next = after ? after->next : l->head;
    if (n->next)
        n->next->prev = n;
    else
        l->tail = n;
    if (after)
        after->next = n;
    else
        l->head = n;
    l->count++;
}

int hb_line_places_insert(hb_line_places_t *self, const char *service, uint64_t id, uint32_t place)
{
    if (!service || !*service || strlen(service) >= SERVICE_MAX)
        return -1;
    lp_node_t *n = find_node(self, id);
    if (n) /* entering again without having left: take the hall's word */
        unlink_node(n);
    lp_line_t *l = line_for(self, service);
    int rc = 0;
    if (place > l->count) {
        place = l->count;
        rc = -1;
    }
    if (!n) {
        n = hb_xcalloc(1, sizeof *n, "a place in line");
        n->id = id;
        HASH_ADD(hh, self->by_id, id, sizeof n->id, n);
    }
    link_at(l, n, place);
    return rc;
}

int hb_line_places_remove(hb_line_places_t *self, uint64_t id)
{
    lp_node_t *n = find_node(self, id);
    if (!n)
        return -1;
    unlink_node(n);
    HASH_DEL(self->by_id, n);
    free(n);
    return 0;
}

int hb_line_places_apply(hb_line_places_t *self, const Hallbus__Envelope *env)
{
    if (env->event_case == HALLBUS__ENVELOPE__EVENT_DAILY_RESET)
        hb_line_places_clear(self);
    int rc = 0;
    for (size_t i = 0; i < env->n_line_changes; i++) {
        const Hallbus__LineChange *c = env->line_changes[i];
        int r = c->removed ? hb_line_places_remove(self, c->ticket_id)
                           : hb_line_places_insert(self, c->service, c->ticket_id, c->place);
        if (r != 0)
            rc = -1;
    }
    return rc;
}

static int by_service_place(const void *a, const void *b)
{
    const Hallbus__Ticket *x = *(Hallbus__Ticket *const *)a, *y = *(Hallbus__Ticket *const *)b;
    int c = strcmp(x->service ? x->service : "", y->service ? y->service : "");
    if (c)
        return c;
    return (x->place > y->place) - (x->place < y->place);
}

int hb_line_places_load(hb_line_places_t *self, const Hallbus__Snapshot *snap)
{
    hb_line_places_clear(self);
    Hallbus__Ticket **waiting =
        hb_xcalloc(snap->n_tickets + 1, sizeof *waiting, "a snapshot's waiting tickets");
    size_t n = 0;
    for (size_t i = 0; i < snap->n_tickets; i++)
        if (snap->tickets[i]->state == HALLBUS__TICKET_STATE__WAITING &&
            snap->tickets[i]->service && *snap->tickets[i]->service)
            waiting[n++] = snap->tickets[i];
    qsort(waiting, n, sizeof *waiting, by_service_place);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        lp_line_t *l = line_for(self, waiting[i]->service);
        if (waiting[i]->place != l->count) /* a hole or a place given twice */
            rc = -1;
        if (hb_line_places_insert(self, waiting[i]->service, waiting[i]->id, l->count) != 0)
            rc = -1;
    }
    free(waiting);
    return rc;
}

int64_t hb_line_places_place(const hb_line_places_t *self, uint64_t id)
{
    const lp_node_t *n = find_node(self, id);
    if (!n)
        return -1;
    /* walk towards both ends at once: stops at the nearer one */
    const lp_node_t *back = n->prev, *front = n->next;
    uint32_t steps = 0;
    for (;;) {
        if (!back)
            return steps;
        if (!front)
            return (int64_t)n->line->count - 1 - steps;
        back = back->prev;
        front = front->next;
        steps++;
    }
}

const char *hb_line_places_service(const hb_line_places_t *self, uint64_t id)
{
    const lp_node_t *n = find_node(self, id);
    return n ? n->line->service : NULL;
}

uint32_t hb_line_places_count(const hb_line_places_t *self, const char *service)
{
    const lp_line_t *l = find_line(self, service);
    return l ? l->count : 0;
}

size_t hb_line_places_first(const hb_line_places_t *self, const char *service, uint64_t *out,
                            size_t max)
{
    const lp_line_t *l = find_line(self, service);
    size_t k = 0;
    for (const lp_node_t *n = l ? l->head : NULL; n && k < max; n = n->next)
        out[k++] = n->id;
    return k;
}

size_t hb_line_places_total(const hb_line_places_t *self)
{
    return HASH_COUNT(self->by_id);
}
