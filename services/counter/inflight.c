#include "inflight.h"

#include <stdlib.h>
#include <string.h>

void inflight_init(inflight_table_t *t, unsigned max, uint64_t first_id)
{
    *t = (inflight_table_t){.max = max, .next_id = first_id};
}

void inflight_free(inflight_table_t *t)
{
    free(t->items);
    *t = (inflight_table_t){0};
}

uint64_t inflight_add(inflight_table_t *t, const inflight_t *entry, int64_t now_us,
                      uint32_t timeout_ms)
{
    if (t->count >= t->max)
        return 0;
    if (t->count == t->cap) {
        unsigned cap = t->cap ? t->cap * 2 : 16;
        inflight_t *grown = realloc(t->items, cap * sizeof *grown);
        if (!grown)
            return 0;
        t->items = grown;
        t->cap = cap;
    }
    if (++t->next_id == 0) /* 0 means "none" */
        ++t->next_id;
    inflight_t *slot = &t->items[t->count++];
    *slot = *entry;
    slot->id = t->next_id;
    slot->deadline_us = now_us + (int64_t)timeout_ms * 1000;
    return slot->id;
}

static void remove_at(inflight_table_t *t, unsigned i, inflight_t *out)
{
    if (out)
        *out = t->items[i];
    t->items[i] = t->items[--t->count];
}

bool inflight_take(inflight_table_t *t, uint64_t id, inflight_t *out)
{
    for (unsigned i = 0; i < t->count; i++) {
        if (t->items[i].id == id) {
            remove_at(t, i, out);
            return true;
        }
    }
    return false;
}

bool inflight_expire_one(inflight_table_t *t, int64_t now_us, inflight_t *out)
{
    for (unsigned i = 0; i < t->count; i++) {
        if (t->items[i].deadline_us <= now_us) {
            remove_at(t, i, out);
            return true;
        }
    }
    return false;
}

bool inflight_pop(inflight_table_t *t, inflight_t *out)
{
    if (t->count == 0)
        return false;
    remove_at(t, t->count - 1, out);
    return true;
}
