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

/* The four window events (window.opened, .paused, .resumed, .closed) are
 * one shape, {window, and a reason where it has one}: each is filled
 * through its descriptor, as envelope.c reads them (hb_event_window). */
typedef union {
    Hallbus__WindowOpened opened;
    Hallbus__WindowPaused paused;
    Hallbus__WindowResumed resumed;
    Hallbus__WindowClosed closed;
} window_event_t;

static void set_field(void *msg, const ProtobufCMessageDescriptor *d, const char *name,
                      const void *value)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    if (f)
        *(const void **)((char *)msg + f->offset) = value;
}

static void emit_window(hall_t *self, window_t *w, Hallbus__Envelope__EventCase which,
                        const char *reason, int64_t now)
{
    char *prefixes[32];
    Hallbus__Window view;
    hall_window_view(w, &view, prefixes);
    const ProtobufCFieldDescriptor *slot =
        protobuf_c_message_descriptor_get_field(&hallbus__envelope__descriptor, which);
    window_event_t ev;
    protobuf_c_message_init(slot->descriptor, &ev);
    set_field(&ev, slot->descriptor, "window", &view);
    if (reason)
        set_field(&ev, slot->descriptor, "reason", reason);
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = which;
    *(void **)((char *)&env + slot->offset) = &ev;
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
    emit_window(self, w, HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED, NULL, now);
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
    emit_window(self, w, HALLBUS__ENVELOPE__EVENT_WINDOW_PAUSED, w->pause_reason, now);
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
    emit_window(self, w, HALLBUS__ENVELOPE__EVENT_WINDOW_RESUMED, NULL, now);
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
    emit_window(self, w, HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED, "",
                now); /* still names who closed it */
    w->staff[0] = '\0';
    hall_save_window(self, w);
    *out = w;
    return OK;
}
