/* Appointments (预约): booked for a slot, cancelled, checked in within a
 * window around the slot (which issues a ticket that goes before walk-ins
 * once its slot begins), or lapsed when nobody checked in in time.
 *
 * Booked appointments are few, so they are read from and written to the
 * store directly; the store sees this transaction's own writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hall.h"
#include "hallbus/alloc.h"
#include "hall_events.h"
#include "hall_hours.h"

#define OK HALLBUS__STATUS_CODE__OK
#define FREE_SLOTS_SHOWN 3

/* The slot starts of DATE for SVC: from each session's start, every
 * slot_minutes, while the slot ends within the session. Without business
 * hours, the whole day. Returns how many (at most MAX: a day of 5-minute
 * slots is 288). */
static unsigned day_slots(const hall_t *self, const service_t *svc, const struct tm *day,
                          unsigned *starts, unsigned max)
{
    const hb_hours_conf_t *hours = &self->config->hours;
    hb_session_t whole_day = {0, 24 * 60};
    const hb_session_t *sessions = &whole_day;
    unsigned nsessions = 1;
    if (hours->enabled)
        nsessions = hall_hours_sessions(hours, day, &sessions);
    unsigned step = svc->conf->appointments.slot_minutes, n = 0;
    for (unsigned i = 0; i < nsessions; i++)
        for (unsigned m = sessions[i].start; m + step <= sessions[i].end && n < max; m += step)
            starts[n++] = m;
    return n;
}

static int parse_slot(const char *text)
{
    unsigned h, m;
    char tail;
    if (!text || sscanf(text, "%2u:%2u%c", &h, &m, &tail) != 2 || h > 23 || m > 59)
        return -1;
    return (int)(h * 60 + m);
}

/* The local instant of MINUTE on DATE ("YYYY-MM-DD"). */
static int64_t instant(const char *date, unsigned minute, struct tm *day)
{
    struct tm tm = {0};
    strptime(date, "%Y-%m-%d", &tm);
    tm.tm_hour = (int)(minute / 60);
    tm.tm_min = (int)(minute % 60);
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (day)
        *day = tm;
    return (int64_t)t * 1000000;
}

static void new_code(hall_t *self, char out[12])
{
    /* no 0/O or 1/I: read aloud and typed at a kiosk */
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (;;) {
        unsigned char raw[6];
        sqlite3_randomness(sizeof raw, raw);
        for (int i = 0; i < 6; i++)
            out[i] = alphabet[raw[i] % 32];
        out[6] = '\0';
        Hallbus__Appointment *dup = hall_store_load_appointment(self->store, out);
        if (!dup)
            return;
        hall_store_free_appointment(dup);
    }
}

static void emit_appointment(hall_t *self, Hallbus__Envelope__EventCase kind,
                             Hallbus__Appointment *a, Hallbus__Ticket *ticket, int64_t now)
{
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    Hallbus__AppointmentBooked booked = HALLBUS__APPOINTMENT_BOOKED__INIT;
    Hallbus__AppointmentCancelled cancelled = HALLBUS__APPOINTMENT_CANCELLED__INIT;
    Hallbus__AppointmentCheckedIn checked = HALLBUS__APPOINTMENT_CHECKED_IN__INIT;
    Hallbus__AppointmentLapsed lapsed = HALLBUS__APPOINTMENT_LAPSED__INIT;
    /* the bus names it by id: its code is enough to cancel or check it in */
    Hallbus__Appointment pub = *a;
    pub.code = (char *)"";
    a = &pub;
    env.event_case = kind;
    switch (kind) {
    case HALLBUS__ENVELOPE__EVENT_APPOINTMENT_BOOKED:
        booked.appointment = a;
        env.appointment_booked = &booked;
        break;
    case HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CANCELLED:
        cancelled.appointment = a;
        env.appointment_cancelled = &cancelled;
        break;
    case HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CHECKED_IN:
        checked.appointment = a;
        checked.ticket = ticket;
        env.appointment_checked_in = &checked;
        break;
    default:
        lapsed.appointment = a;
        env.appointment_lapsed = &lapsed;
        break;
    }
    hall_emit(self, &env, now);
}

static void save(hall_t *self, const Hallbus__Appointment *a)
{
    hall_events_begin(self);
    if (hall_store_save_appointment(self->store, a) != 0)
        hall_store_failed(self, "an appointment");
}

int hall_book(hall_t *self, const char *service, const char *date, const char *slot,
              const char *contact, int64_t now, Hallbus__Appointment **out, hall_err_t *err)
{
    service_t *svc = hall_service(self, service);
    if (!svc)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND,
                           "there is no service \"%.8s\" in this hall", service ? service : "");
    const hb_appointments_conf_t *ac = &svc->conf->appointments;
    if (!ac->enabled)
        return hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED,
                           "service %s (%s) does not take appointments; take a ticket instead",
                           svc->prefix, svc->conf->name);
    if (!hb_date_valid(date))
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "\"%.16s\" is not a date YYYY-MM-DD", date ? date : "");
    int minute = parse_slot(slot);
    if (minute < 0)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "\"%.8s\" is not a slot time HH:MM", slot ? slot : "");
    if (contact && strlen(contact) > 256)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "the contact is too long");
    struct tm day;
    int64_t start = instant(date, (unsigned)minute, &day);
    if (start <= now)
        return hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED,
                           "the %s slot of %s has already begun; choose a later one", slot, date);
    unsigned starts[24 * 60 / 5];
    unsigned n = day_slots(self, svc, &day, starts, sizeof starts / sizeof starts[0]);
    bool exists = false;
    for (unsigned i = 0; i < n; i++)
        exists |= starts[i] == (unsigned)minute;
    if (!exists)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "%s on %s is not a slot of service %s (slots of %u minutes within "
                           "business hours)",
                           slot, date, svc->prefix, ac->slot_minutes);
    char slot_text[16];
    snprintf(slot_text, sizeof slot_text, "%02d:%02d", minute / 60, minute % 60);
    unsigned taken = hall_store_count_booked(self->store, svc->prefix, date, slot_text);
    if (taken >= ac->capacity) {
        char free_slots[64] = "";
        unsigned shown = 0;
        for (unsigned i = 0; i < n && shown < FREE_SLOTS_SHOWN; i++) {
            char other[16];
            snprintf(other, sizeof other, "%02u:%02u", (starts[i] / 60) % 24, starts[i] % 60);
            if (instant(date, starts[i], NULL) > now &&
                hall_store_count_booked(self->store, svc->prefix, date, other) < ac->capacity) {
                strcat(free_slots, shown++ ? ", " : "; free: ");
                strcat(free_slots, other);
            }
        }
        return hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED,
                           "the %s slot of %s for service %s is full (%u of %u)%s", slot_text, date,
                           svc->prefix, taken, ac->capacity, free_slots);
    }

    Hallbus__Appointment *a = hb_xcalloc(1, sizeof *a, "an appointment");
    hallbus__appointment__init(a);
    a->code = hb_xcalloc(12, 1, "an appointment");
    new_code(self, a->code);
    a->service = hb_xstrdup(svc->prefix, "an appointment");
    a->date = hb_xstrdup(date, "an appointment");
    a->slot = hb_xstrdup(slot_text, "an appointment");
    a->slot_start = start;
    a->slot_end = start + (int64_t)ac->slot_minutes * 60 * 1000000;
    a->state = HALLBUS__APPOINTMENT_STATE__BOOKED;
    a->contact_ref = hb_xcalloc(24, 1, "an appointment");
    a->ticket_number = hb_xstrdup("", "an appointment");
    a->booked_at = a->changed_at = now;
    a->id = hall_store_next_appointment_id(self->store);
    if (contact && *contact) {
        hall_new_contact_ref(a->contact_ref);
        hall_events_begin(self);
        if (hall_store_save_contact(self->store, a->contact_ref, 0, contact, now) != 0)
            hall_store_failed(self, "a contact");
    }
    save(self, a);
    emit_appointment(self, HALLBUS__ENVELOPE__EVENT_APPOINTMENT_BOOKED, a, NULL, now);
    *out = a;
    return OK;
}

static int find_booked(hall_t *self, const char *code, Hallbus__Appointment **out, hall_err_t *err)
{
    *out = NULL; /* set on every path: gcc -O3 cannot tell OK from a refusal */
    Hallbus__Appointment *a = code ? hall_store_load_appointment(self->store, code) : NULL;
    if (!a)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no appointment %.12s",
                           code ? code : "");
    if (a->state != HALLBUS__APPOINTMENT_STATE__BOOKED) {
        static const char *words[] = {"", "booked", "cancelled", "checked in already", "lapsed"};
        int rc = hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_STATE, "appointment %s is %s",
                             a->code, a->state <= 4 ? words[a->state] : "in no state");
        hall_store_free_appointment(a);
        return rc;
    }
    *out = a;
    return OK;
}

int hall_cancel_appointment(hall_t *self, const char *code, int64_t now, Hallbus__Appointment **out,
                            hall_err_t *err)
{
    Hallbus__Appointment *a;
    int rc = find_booked(self, code, &a, err);
    if (rc != OK)
        return rc;
    a->state = HALLBUS__APPOINTMENT_STATE__CANCELLED;
    a->changed_at = now;
    save(self, a);
    emit_appointment(self, HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CANCELLED, a, NULL, now);
    *out = a;
    return OK;
}

static void clock_of(int64_t at, char out[8])
{
    time_t t = (time_t)(at / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 8, "%H:%M", &tm);
}

int hall_check_in(hall_t *self, const char *code, int64_t now, Hallbus__Appointment **aout,
                  ticket_t **tout, hall_err_t *err)
{
    Hallbus__Appointment *a;
    int rc = find_booked(self, code, &a, err);
    if (rc != OK)
        return rc;
    service_t *svc = hall_service(self, a->service);
    if (!svc) {
        hall_store_free_appointment(a);
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND,
                           "the appointment's service is no longer in this hall");
    }
    const hb_appointments_conf_t *ac = &svc->conf->appointments;
    int64_t opens = a->slot_start - (int64_t)ac->checkin_before_minutes * 60 * 1000000;
    int64_t closes = a->slot_start + (int64_t)ac->checkin_after_minutes * 60 * 1000000;
    char when[8];
    if (now < opens || now > closes) {
        clock_of(now < opens ? opens : closes, when);
        rc = hall_refuse(err, HALLBUS__STATUS_CODE__REFUSED,
                         now < opens ? "check-in for the %s %s slot opens at %s"
                                     : "check-in for the %s %s slot closed at %s",
                         a->date, a->slot, when);
        hall_store_free_appointment(a);
        return rc;
    }
    ticket_t *t = hall_issue_ticket(self, svc, HALLBUS__PRIORITY__NORMAL, 0, "appointment",
                                    a->contact_ref, a, now);

    a->state = HALLBUS__APPOINTMENT_STATE__CHECKED_IN;
    a->changed_at = now;
    free(a->ticket_number);
    a->ticket_number = hb_xstrdup(t->number, "an appointment");
    save(self, a);
    Hallbus__Ticket view;
    hall_ticket_view(self, t, &view);
    view.place = hall_place(t);
    emit_appointment(self, HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CHECKED_IN, a, &view, now);
    hall_emit_issued(self, t, now);
    *aout = a;
    *tout = t;
    return OK;
}

unsigned hall_lapse_appointments(hall_t *self, int64_t now)
{
    Hallbus__AppointmentList *due = hall_store_booked_before(self->store, now);
    if (!due)
        return 0;
    unsigned lapsed = 0;
    for (size_t i = 0; i < due->n_appointments; i++) {
        Hallbus__Appointment *a = due->appointments[i];
        service_t *svc = hall_service(self, a->service);
        uint32_t after = svc ? svc->conf->appointments.checkin_after_minutes : 0;
        if (a->slot_start + (int64_t)after * 60 * 1000000 >= now)
            continue;
        a->state = HALLBUS__APPOINTMENT_STATE__LAPSED;
        a->changed_at = now;
        save(self, a);
        emit_appointment(self, HALLBUS__ENVELOPE__EVENT_APPOINTMENT_LAPSED, a, NULL, now);
        lapsed++;
    }
    hallbus__appointment_list__free_unpacked(due, NULL);
    return lapsed;
}
