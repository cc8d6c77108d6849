/* Complaints (投诉): filed against a ticket's service, a window or a staff
 * member, then handled and answered, each step on the record. */
#include <stdlib.h>
#include <string.h>

#include "hall.h"
#include "hall_events.h"

#define OK HALLBUS__STATUS_CODE__OK
#define TEXT_MAX 1000

static void emit(hall_t *self, Hallbus__Complaint *c, bool filed, int64_t now)
{
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    Hallbus__ComplaintFiled f = HALLBUS__COMPLAINT_FILED__INIT;
    Hallbus__ComplaintUpdated u = HALLBUS__COMPLAINT_UPDATED__INIT;
    /* the bus names it by id: the words (citizens write phone and ID
     * numbers into them) are read with GetComplaint */
    Hallbus__Complaint pub = *c;
    pub.text = pub.note = pub.reply = (char *)"";
    c = &pub;
    if (filed) {
        f.complaint = c;
        env.event_case = HALLBUS__ENVELOPE__EVENT_COMPLAINT_FILED;
        env.complaint_filed = &f;
    } else {
        u.complaint = c;
        env.event_case = HALLBUS__ENVELOPE__EVENT_COMPLAINT_UPDATED;
        env.complaint_updated = &u;
    }
    hall_emit(self, &env, now);
}

static void save(hall_t *self, Hallbus__Complaint *c)
{
    hall_events_begin(self);
    if (hall_store_save_complaint(self->store, c) != 0)
        hall_store_failed(self, "a complaint");
}

int hall_file_complaint(hall_t *self, const hall_complaint_t *in, int64_t now,
                        Hallbus__Complaint **out, hall_err_t *err)
{
    bool has_ticket = in->ticket_number && *in->ticket_number;
    bool has_staff = in->staff && *in->staff;
    if (!has_ticket && !in->window && !has_staff)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "say what the complaint is about: a ticket, a window or a staff member");
    if (!in->text || !*in->text)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "a complaint needs the citizen's words");
    if (strlen(in->text) > TEXT_MAX || (in->contact && strlen(in->contact) > 256) ||
        (has_staff && strlen(in->staff) > 63))
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "the complaint's text, contact or staff id is too long");
    ticket_t *t = has_ticket ? hall_ticket(self, in->ticket_number) : NULL;
    if (has_ticket && !t)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no ticket %.16s today",
                           in->ticket_number);
    if (in->window && !hall_window(self, in->window))
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no window %u",
                           in->window);

    Hallbus__Complaint *c = malloc(sizeof *c);
    hallbus__complaint__init(c);
    c->business_date = strdup(self->business_date);
    c->ticket_number = strdup(t ? t->number : "");
    /* about a ticket: the window and staff that served it, unless named */
    c->window = in->window ? in->window : t ? t->window : 0;
    c->staff = strdup(has_staff ? in->staff : t ? t->staff : "");
    c->text = strdup(in->text);
    c->state = HALLBUS__COMPLAINT_STATE__COMPLAINT_OPEN;
    c->handler = strdup("");
    c->note = strdup("");
    c->reply = strdup("");
    c->filed_at = c->changed_at = now;
    c->contact_ref = calloc(24, 1);
    if (in->contact && *in->contact) {
        hall_new_contact_ref(c->contact_ref);
        hall_events_begin(self);
        if (hall_store_save_contact(self->store, c->contact_ref, 0, in->contact, now) != 0)
            hall_store_failed(self, "a contact");
    }
    save(self, c);
    emit(self, c, true, now);
    *out = c;
    return OK;
}

int hall_update_complaint(hall_t *self, uint64_t id, Hallbus__ComplaintState state,
                          const char *handler, const char *note, const char *reply, int64_t now,
                          Hallbus__Complaint **out, hall_err_t *err)
{
    if (!handler || !*handler || strlen(handler) > 63)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "say who handles the complaint");
    if (state != HALLBUS__COMPLAINT_STATE__COMPLAINT_IN_PROGRESS &&
        state != HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "a complaint is updated to in-progress (with a note) or replied "
                           "(with the reply)");
    const char *words = state == HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED ? reply : note;
    if (!words || !*words || strlen(words) > TEXT_MAX)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           state == HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED
                               ? "a reply needs what the citizen was told"
                               : "handling needs a note of what is being done");
    Hallbus__ComplaintList *list = hall_store_list_complaints(self->store, false, id);
    if (!list || list->n_complaints != 1) {
        hallbus__complaint_list__free_unpacked(list, NULL);
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no complaint %llu",
                           (unsigned long long)id);
    }
    Hallbus__Complaint *c = list->complaints[0];
    list->n_complaints = 0;
    hallbus__complaint_list__free_unpacked(list, NULL);
    if (c->state == HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED) {
        hallbus__complaint__free_unpacked(c, NULL);
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE,
                           "complaint %llu has been replied to and is closed",
                           (unsigned long long)id);
    }
    c->state = state;
    free(c->handler);
    c->handler = strdup(handler);
    char **field = state == HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED ? &c->reply : &c->note;
    free(*field);
    *field = strdup(words);
    c->changed_at = now;
    save(self, c);
    emit(self, c, false, now);
    *out = c;
    return OK;
}
