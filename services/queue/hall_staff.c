/* Sign-ons on the record: hall-counter checks a password against the staff
 * accounts and tells hall-queue how it ended; hall-queue puts it in the
 * journal and on the bus (staff.signed_on, staff.sign_on_failed, and
 * staff.signed_off when a session ends). Never a password: the command has
 * no field for one.
 *
 * A good sign-on at a window that is open under someone else hands the
 * window over (a substitute, 替岗): from then on the window's commands are
 * the newcomer's, under their own name, and the old session is gone at the
 * counter. */
#include <stdio.h>
#include <string.h>

#include "hall.h"
#include "hall_events.h"

#define STAFF_MAX 64 /* the id as typed: a mistyped one is on the record too */
#define REASON_MAX 256

int hall_record_sign_on(hall_t *self, const hall_sign_on_t *in, int64_t now, hall_err_t *err)
{
    if (!in->staff || !*in->staff || strlen(in->staff) > STAFF_MAX)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "a sign-on names the staff id as typed (1 to %d bytes)", STAFF_MAX);
    if (!hall_window(self, in->window))
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND, "there is no window %u",
                           in->window);
    if (in->outcome < HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK ||
        in->outcome > HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_SIGNED_OFF)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "a sign-on's outcome is one of ok, wrong password, locked, disabled, "
                           "unknown, signed off (not %d)",
                           (int)in->outcome);
    if (in->reason && strlen(in->reason) > REASON_MAX)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "a sign-on's reason has at most %d bytes", REASON_MAX);

    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    Hallbus__StaffSignedOn on = HALLBUS__STAFF_SIGNED_ON__INIT;
    Hallbus__StaffSignOnFailed failed = HALLBUS__STAFF_SIGN_ON_FAILED__INIT;
    Hallbus__StaffSignedOff off = HALLBUS__STAFF_SIGNED_OFF__INIT;
    char *source = (char *)(in->source ? in->source : "");
    char replaced[sizeof((window_t *)0)->staff] = "";
    if (in->outcome == HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK) {
        window_t *w = hall_window(self, in->window);
        if (w->state != HALLBUS__WINDOW_STATE__CLOSED && strcmp(w->staff, in->staff) != 0) {
            if (strlen(in->staff) >= sizeof w->staff)
                return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                                   "the staff id is longer than %zu characters",
                                   sizeof w->staff - 1);
            snprintf(replaced, sizeof replaced, "%s", w->staff);
            snprintf(w->staff, sizeof w->staff, "%s", in->staff);
            hall_save_window(self, w);
        }
        on.staff = (char *)in->staff;
        on.window = in->window;
        on.source = source;
        on.replaced = replaced;
        env.event_case = HALLBUS__ENVELOPE__EVENT_STAFF_SIGNED_ON;
        env.staff_signed_on = &on;
    } else if (in->outcome == HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_SIGNED_OFF) {
        off.staff = (char *)in->staff;
        off.window = in->window;
        off.reason = (char *)(in->reason ? in->reason : "");
        off.source = source;
        env.event_case = HALLBUS__ENVELOPE__EVENT_STAFF_SIGNED_OFF;
        env.staff_signed_off = &off;
    } else {
        failed.staff = (char *)in->staff;
        failed.window = in->window;
        failed.outcome = in->outcome;
        failed.reason = (char *)(in->reason ? in->reason : "");
        failed.source = source;
        env.event_case = HALLBUS__ENVELOPE__EVENT_STAFF_SIGN_ON_FAILED;
        env.staff_sign_on_failed = &failed;
    }
    hall_emit(self, &env, now);
    return HALLBUS__STATUS_CODE__OK;
}
