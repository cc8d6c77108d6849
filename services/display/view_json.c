#include "view_json.h"

static const char *window_state_name(Hallbus__WindowState s)
{
    switch (s) {
    case HALLBUS__WINDOW_STATE__OPEN:
        return "open";
    case HALLBUS__WINDOW_STATE__PAUSED:
        return "paused";
    case HALLBUS__WINDOW_STATE__CLOSED:
        return "closed";
    default:
        return "unknown";
    }
}

const char *dv_lang_name(hb_display_lang_t lang)
{
    switch (lang) {
    case HB_DISPLAY_LANG_ZH:
        return "zh";
    case HB_DISPLAY_LANG_EN:
        return "en";
    default:
        return "both";
    }
}

/* json_string refuses text that is not UTF-8; the wire may carry any bytes. */
static json_t *text(const char *s)
{
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("?");
}

json_t *dv_view_json(const dv_view_t *v, bool synced, unsigned shown, hb_display_lang_t lang)
{
    json_t *root = json_object();
    json_object_set_new(root, "hall",
                        json_pack("{s:o,s:o,s:o}", "id", text(v->hall_id), "name",
                                  text(v->hall_name), "name_en", text(v->hall_name_en)));
    json_object_set_new(root, "seq", json_integer((json_int_t)v->seq));
    json_object_set_new(root, "synced", json_boolean(synced && v->loaded));
    json_object_set_new(root, "business_date", text(v->business_date));
    json_object_set_new(root, "language", json_string(dv_lang_name(lang)));

    json_t *services = json_array();
    for (size_t i = 0; i < v->nservices; i++) {
        const dv_service_t *s = &v->services[i];
        json_array_append_new(services,
                              json_pack("{s:o,s:o,s:o,s:I,s:I,s:I,s:I}", "prefix", text(s->prefix),
                                        "name", text(s->name), "name_en", text(s->name_en),
                                        "waiting", (json_int_t)s->waiting, "waiting_green",
                                        (json_int_t)s->waiting_green, "estimated_wait_s",
                                        (json_int_t)s->estimated_wait_s, "open_windows",
                                        (json_int_t)s->open_windows));
    }
    json_object_set_new(root, "services", services);

    json_t *windows = json_array();
    for (size_t i = 0; i < v->nwindows; i++) {
        const dv_window_t *w = &v->windows[i];
        json_array_append_new(
            windows, json_pack("{s:I,s:s,s:o,s:o,s:o,s:b}", "number", (json_int_t)w->number,
                               "state", window_state_name(w->state), "staff", text(w->staff),
                               "pause_reason", text(w->pause_reason), "serving", text(w->serving),
                               "serving_green", w->serving_green));
    }
    json_object_set_new(root, "windows", windows);

    json_t *calls = json_array();
    for (size_t i = 0; i < v->ncalls && i < shown; i++) {
        const dv_call_t *c = &v->calls[i];
        json_array_append_new(calls,
                              json_pack("{s:o,s:I,s:I,s:b,s:I}", "number", text(c->number),
                                        "window", (json_int_t)c->window, "at", (json_int_t)c->at,
                                        "green", c->green, "recalls", (json_int_t)c->recalls));
    }
    json_object_set_new(root, "calls", calls);
    return root;
}

json_t *dv_announce_json(const dv_announce_t *a)
{
    return json_pack("{s:I,s:I,s:o,s:I,s:I,s:b,s:o,s:o}", "id", (json_int_t)a->id, "seq",
                     (json_int_t)a->seq, "number", text(a->number), "window", (json_int_t)a->window,
                     "recall", (json_int_t)a->recall, "green", a->green, "zh", text(a->zh), "en",
                     text(a->en));
}
