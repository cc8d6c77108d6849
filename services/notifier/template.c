#include "template.h"

#include <stdlib.h>
#include <string.h>

void nt_fields_set(nt_fields_t *fields, const char *name, const char *value)
{
    for (size_t i = 0; i < fields->count; i++) {
        if (strcmp(fields->items[i].name, name) == 0) {
            fields->items[i].value = value;
            return;
        }
    }
    if (fields->count < NT_FIELDS_MAX)
        fields->items[fields->count++] = (nt_field_t){name, value};
}

static const char *lookup(const nt_fields_t *fields, const char *name, size_t len)
{
    for (size_t i = 0; i < fields->count; i++)
        if (strlen(fields->items[i].name) == len && memcmp(fields->items[i].name, name, len) == 0)
            return fields->items[i].value ? fields->items[i].value : "";
    return "";
}

const char *nt_fields_get(const nt_fields_t *fields, const char *name)
{
    return lookup(fields, name, strlen(name));
}

char *nt_render(const char *tmpl, const nt_fields_t *fields)
{
    /* two passes: measure, then write */
    size_t size = 1;
    char *out = NULL;
    for (int pass = 0; pass < 2; pass++) {
        size_t used = 0;
        for (const char *p = tmpl; *p; p++) {
            const char *end = *p == '{' ? strchr(p + 1, '}') : NULL;
            const char *piece = p;
            size_t len = 1;
            if (end) {
                piece = lookup(fields, p + 1, (size_t)(end - p - 1));
                len = strlen(piece);
                p = end;
            }
            if (out)
                memcpy(out + used, piece, len);
            used += len;
        }
        if (out) {
            out[used] = '\0';
            return out;
        }
        size = used + 1;
        out = malloc(size);
        if (!out)
            return NULL;
    }
    return out;
}
