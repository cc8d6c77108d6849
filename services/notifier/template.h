/* Message texts from templates: "请{number}号到{window}号窗口办理。" with the
 * named fields filled in. Templates are checked when the hall file is
 * loaded (hb_note_template_check), so every name found here is known. */
#ifndef NOTIFIER_TEMPLATE_H
#define NOTIFIER_TEMPLATE_H

#include <stddef.h>

#define NT_FIELDS_MAX 12

typedef struct {
    const char *name;
    const char *value;
} nt_field_t;

typedef struct {
    nt_field_t items[NT_FIELDS_MAX];
    size_t count;
} nt_fields_t;

/* Adds or replaces NAME (both strings must outlive FIELDS). */
void nt_fields_set(nt_fields_t *fields, const char *name, const char *value);
const char *nt_fields_get(const nt_fields_t *fields, const char *name);

/* Returns TMPL with each {name} replaced by its value ("" when FIELDS has
 * no such name). The caller frees the result; NULL only without memory. */
char *nt_render(const char *tmpl, const nt_fields_t *fields);

#endif
