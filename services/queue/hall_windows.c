/* A window's life: opened by a named staff member, paused and resumed,
 * closed. */
#include <stdio.h>
#include <string.h>

#include "hall.h"
#include "hall_events.h"

#define OK HALLBUS__STATUS_CODE__OK
#define NAME_MAX_LEN 63

static int find(hall_t *self, uint32_t number, window_t **out, hall_err_t *err)
{
    *out = hall_window(self, number);
    if (!*out)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no window %u", number);
    return OK;
}

typedef enum { W_OPENED, W_PAUSED, W_RESUMED, W_CLOSED } window_event_t;

static void emit_window(hall_t *self, window_t *w, window_event_t kind, const char *reason,
                        int64_t now)
{
    char *prefixes[32];
    Hallbus__Window view;
    hall_window_view(w, &view, prefixes);
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    Hallbus__WindowOpened opened = HALLBUS__WINDOW_OPENED__INIT;
    Hallbus__WindowPaused paused = HALLBUS__WINDOW_PAUSED__INIT;
    Hallbus__WindowResumed resumed = HALLBUS__WINDOW_RESUMED__INIT;
    Hallbus__WindowClosed closed = HALLBUS__WINDOW_CLOSED__INIT;
    switch (kind) {
    case W_OPENED:
        opened.window = &view;
        env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED;
        env.window_opened = &opened;
        break;
    case W_PAUSED:
        paused.window = &view;
        paused.reason = (char *)reason;
        env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_PAUSED;
        env.window_paused = &paused;
        break;
    case W_RESUMED:
        resumed.window = &view;
        env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_RESUMED;
        env.window_resumed = &resumed;
        break;
    case W_CLOSED:
        closed.window = &view;
        closed.reason = (char *)reason;
        env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED;
        env.window_closed = &closed;
        break;
    }
    /* open windows and estimated waits change with a window's state */
    hall_mark_all_services(self);
    hall_emit(self, &env, now);
}

int hall_open_window(hall_t *self, uint32_t number, const char *staff, char **services,
                     unsigned services_count, int64_t now, window_t **out, hall_err_t *err)
{
    window_t *w;
    int rc = find(self, number, &w, err);
    if (rc != OK)
        return rc;
    if (w->state != HALLBUS__WINDOW_STATE__CLOSED)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "window %u is already open, staffed by %s", number, w->staff);
    if (!staff || !*staff)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "opening window %u needs the staff member's id", number);
    if (strlen(staff) > NAME_MAX_LEN)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "the staff id is longer than %d characters", NAME_MAX_LEN);
    for (unsigned i = 0; i < self->windows_count; i++) {
        const window_t *other = &self->windows[i];
        if (other->state != HALLBUS__WINDOW_STATE__CLOSED && strcmp(other->staff, staff) == 0)
            return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                               "%s is already signed on at window %u; sign off there first", staff,
                               other->number);
    }
    if (services_count > self->services_count)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "more services than the hall has");
    service_t *chosen[32];
    for (unsigned i = 0; i < services_count; i++) {
        chosen[i] = hall_service(self, services[i]);
        if (!chosen[i])
            return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND,
                               "there is no service \"%.8s\" in this hall", services[i]);
        for (unsigned j = 0; j < i; j++)
            if (chosen[j] == chosen[i])
                return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                                   "service %s is listed twice", services[i]);
    }
    hall_window_set_services(self, w, services_count ? chosen : NULL, services_count);
    w->state = HALLBUS__WINDOW_STATE__OPEN;
    snprintf(w->staff, sizeof w->staff, "%s", staff);
    w->pause_reason[0] = '\0';
    w->since = now;
    hall_save_window(self, w);
    emit_window(self, w, W_OPENED, NULL, now);
    *out = w;
    return OK;
}

int hall_pause_window(hall_t *self, uint32_t number, const char *reason, int64_t now,
                      window_t **out, hall_err_t *err)
{
    window_t *w;
    int rc = find(self, number, &w, err);
    if (rc != OK)
        return rc;
    if (w->state != HALLBUS__WINDOW_STATE__OPEN)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "window %u is %s; only an open window can pause", number,
                           w->state == HALLBUS__WINDOW_STATE__PAUSED ? "already paused" : "closed");
    if (reason && strlen(reason) > NAME_MAX_LEN)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "the pause reason is longer than %d characters", NAME_MAX_LEN);
    w->state = HALLBUS__WINDOW_STATE__PAUSED;
    snprintf(w->pause_reason, sizeof w->pause_reason, "%s", reason ? reason : "");
    w->since = now;
    hall_save_window(self, w);
    emit_window(self, w, W_PAUSED, w->pause_reason, now);
    *out = w;
    return OK;
}

int hall_resume_window(hall_t *self, uint32_t number, int64_t now, window_t **out, hall_err_t *err)
{
    window_t *w;
    int rc = find(self, number, &w, err);
    if (rc != OK)
        return rc;
    if (w->state != HALLBUS__WINDOW_STATE__PAUSED)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE, "window %u is not paused",
                           number);
    w->state = HALLBUS__WINDOW_STATE__OPEN;
    w->pause_reason[0] = '\0';
    w->since = now;
    hall_save_window(self, w);
    emit_window(self, w, W_RESUMED, NULL, now);
    *out = w;
    return OK;
}

int hall_close_window(hall_t *self, uint32_t number, int64_t now, window_t **out, hall_err_t *err)
{
    window_t *w;
    int rc = find(self, number, &w, err);
    if (rc != OK)
        return rc;
    if (w->state == HALLBUS__WINDOW_STATE__CLOSED)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE, "window %u is already closed",
                           number);
    if (w->current)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "window %u still has %s; finish it, mark it no-show or transfer it "
                           "before closing",
                           number, w->current->number);
    w->state = HALLBUS__WINDOW_STATE__CLOSED;
    w->pause_reason[0] = '\0';
    w->since = now;
    emit_window(self, w, W_CLOSED, "", now); /* still names who closed it */
    w->staff[0] = '\0';
    hall_save_window(self, w);
    *out = w;
    return OK;
}
