/* The view as the JSON the boards read (over SSE and at /api/state), and an
 * announcement as JSON. No I/O. The format is described in README.md. */
#ifndef DISPLAY_VIEW_JSON_H
#define DISPLAY_VIEW_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "hallbus/config_display.h"
#include "view.h"

/* A new object the caller owns (json_decref). SYNCED says whether the view
 * reflects the hall right now; SHOWN is how many calls to list. */
json_t *dv_view_json(const dv_view_t *view, bool synced, unsigned shown, hb_display_lang_t lang);

json_t *dv_announce_json(const dv_announce_t *a);

const char *dv_lang_name(hb_display_lang_t lang);

#endif
