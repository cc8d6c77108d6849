#include "overtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ot_init(ot_table_t *t, const uint32_t *windows, unsigned count, uint32_t unit_ms)
{
    *t = (ot_table_t){.unit_ms = unit_ms};
    t->slots = calloc(count ? count : 1, sizeof *t->slots);
    if (!t->slots)
        return -1;
    t->count = count;
    for (unsigned i = 0; i < count; i++)
        t->slots[i].window = windows[i];
    return 0;
}

void ot_free(ot_table_t *t)
{
    free(t->slots);
    *t = (ot_table_t){0};
}

ot_slot_t *ot_slot(ot_table_t *t, uint32_t window)
{
    unsigned lo = 0, hi = t->count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (t->slots[mid].window == window)
            return &t->slots[mid];
        if (t->slots[mid].window < window)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void reset(ot_slot_t *s)
{
    uint32_t window = s->window;
    *s = (ot_slot_t){.window = window};
}

void ot_start(ot_table_t *t, uint32_t window, const char *number, int64_t started_at,
              uint32_t target_minutes)
{
    ot_slot_t *s = ot_slot(t, window);
    if (!s)
        return;
    if (!number || !*number || target_minutes == 0) {
        reset(s);
        return;
    }
    if (strcmp(s->number, number) == 0 && s->started_at == started_at) {
        s->target_minutes = target_minutes;
        return; /* the same service, learnt again */
    }
    reset(s);
    snprintf(s->number, sizeof s->number, "%s", number);
    s->started_at = started_at;
    s->target_minutes = target_minutes;
}

void ot_clear(ot_table_t *t, uint32_t window)
{
    ot_slot_t *s = ot_slot(t, window);
    if (s)
        reset(s);
}

void ot_clear_all(ot_table_t *t)
{
    for (unsigned i = 0; i < t->count; i++)
        reset(&t->slots[i]);
}

void ot_mark(ot_table_t *t, uint32_t window, const char *number, unsigned level)
{
    ot_slot_t *s = ot_slot(t, window);
    if (s && number && s->number[0] && strcmp(s->number, number) == 0 && level > s->level_done)
        s->level_done = level > 2 ? 2 : level;
}

/* When LEVEL falls due for S. */
static int64_t due_at(const ot_table_t *t, const ot_slot_t *s, unsigned level)
{
    return s->started_at + (int64_t)level * s->target_minutes * t->unit_ms * 1000;
}

unsigned ot_collect(ot_table_t *t, int64_t now_us, ot_due_t *out, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < t->count && n < max; i++) {
        ot_slot_t *s = &t->slots[i];
        if (!s->number[0] || s->level_done >= 2)
            continue;
        unsigned level = now_us >= due_at(t, s, 2) ? 2 : now_us >= due_at(t, s, 1) ? 1 : 0;
        if (level <= s->level_done)
            continue;
        s->level_done = level;
        ot_due_t *d = &out[n++];
        d->window = s->window;
        snprintf(d->number, sizeof d->number, "%s", s->number);
        d->level = level;
        int64_t elapsed = (now_us - s->started_at) / 1000000;
        d->elapsed_seconds = elapsed < 0 ? 0 : (uint32_t)elapsed;
        d->target_minutes = s->target_minutes;
    }
    return n;
}

int64_t ot_next_due(const ot_table_t *t)
{
    int64_t next = -1;
    for (unsigned i = 0; i < t->count; i++) {
        const ot_slot_t *s = &t->slots[i];
        if (!s->number[0] || s->level_done >= 2)
            continue;
        int64_t at = due_at(t, s, s->level_done + 1);
        if (next < 0 || at < next)
            next = at;
    }
    return next;
}
