#include "event_line.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/envelope.h"
#include "hallctl.h"
#include "print.h"
#include "text.h"

#define S(x) ((x) ? (x) : "")

static const char *number_of(const Hallbus__Ticket *t)
{
    return t && t->number && *t->number ? t->number : "?";
}

/* " (li)" or " (li, out of order)": a parenthesis only when there is something in it. */
static void paren(FILE *f, const char *a, const char *b)
{
    bool has_a = a && *a, has_b = b && *b;
    if (!has_a && !has_b)
        return;
    fprintf(f, " (%s%s%s)", has_a ? a : "", has_a && has_b ? ", " : "", has_b ? b : "");
}

/* Returns false for an event that is not about a ticket. */
static bool describe_ticket_event(FILE *f, const Hallbus__Envelope *env)
{
    char wait[32], served[32];
    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED: {
        const Hallbus__TicketIssued *e = env->ticket_issued;
        const Hallbus__Ticket *t = e->ticket;
        fprintf(f, "%s", number_of(t));
        if (e->ahead) {
            fprintf(f, ", %u ahead", e->ahead);
            tx_duration(e->estimated_wait_s, wait, sizeof wait);
            if (e->estimated_wait_s)
                fprintf(f, ", about %s", wait);
        } else {
            fputs(", no one ahead", f);
        }
        if (t && t->priority == HALLBUS__PRIORITY__GREEN)
            fprintf(f, ", green channel (%s)", hc_green_word(t->green_reason));
        if (t && t->channel && *t->channel)
            fprintf(f, ", via %s", t->channel);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_CALLED: {
        const Hallbus__TicketCalled *e = env->ticket_called;
        fprintf(f, "%s → window %u", number_of(e->ticket), e->window);
        paren(f, e->staff, e->out_of_order ? "out of order" : NULL);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_RECALLED: {
        const Hallbus__TicketRecalled *e = env->ticket_recalled;
        fprintf(f, "%s → window %u (recall %u)", number_of(e->ticket), e->window, e->recall);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW: {
        const Hallbus__TicketNoShow *e = env->ticket_no_show;
        fprintf(f, "%s at window %u", number_of(e->ticket), e->window);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_REQUEUED: {
        const Hallbus__TicketRequeued *e = env->ticket_requeued;
        if (e->ahead)
            fprintf(f, "%s, %u ahead", number_of(e->ticket), e->ahead);
        else
            fprintf(f, "%s, no one ahead", number_of(e->ticket));
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED: {
        const Hallbus__TicketTransferred *e = env->ticket_transferred;
        fprintf(f, "%s %s → %s", number_of(e->ticket), S(e->from_service), S(e->to_service));
        if (e->from_window)
            fprintf(f, " from window %u", e->from_window);
        paren(f, e->reason, NULL);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_SERVICE_STARTED: {
        const Hallbus__ServiceStarted *e = env->service_started;
        fprintf(f, "%s at window %u", number_of(e->ticket), e->window);
        paren(f, e->staff, NULL);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED: {
        const Hallbus__ServiceFinished *e = env->service_finished;
        char *result = pr_result_words(e->result, e->reason, e->missing_materials,
                                       e->n_missing_materials, e->promised_date);
        tx_elapsed(e->service_seconds, served, sizeof served);
        tx_elapsed(e->wait_seconds, wait, sizeof wait);
        fprintf(f, "%s at window %u: %s; served in %s, had waited %s", number_of(e->ticket),
                e->window, result, served, wait);
        free(result);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_SERVICE_OVERTIME: {
        const Hallbus__ServiceOvertime *e = env->service_overtime;
        tx_elapsed(e->elapsed_seconds, served, sizeof served);
        fprintf(f, "%s at window %u", number_of(e->ticket), e->window);
        paren(f, e->staff, NULL);
        fprintf(f, ": %s against a target of %u min (level %u)", served, e->target_minutes,
                e->level);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_TICKET_EVALUATED: {
        const Hallbus__TicketEvaluated *e = env->ticket_evaluated;
        fprintf(f, "%s %s (%u)", number_of(e->ticket), hc_rating_word(e->rating), e->rating);
        if (e->commented) /* the words: ListEvaluations, a supervisor's command */
            fputs(", with a comment", f);
        break;
    }
    default:
        return false;
    }
    return true;
}

static void describe_appointment(FILE *f, const Hallbus__Appointment *a)
{
    if (!a) {
        fputs("?", f);
        return;
    }
    /* events name it by id; its code (which cancels it) never travels */
    fprintf(f, "#%llu %s %s %s", (unsigned long long)a->id, S(a->service), S(a->date), S(a->slot));
}

static void describe_complaint(FILE *f, const Hallbus__Complaint *c)
{
    if (!c) {
        fputs("?", f);
        return;
    }
    fprintf(f, "#%llu", (unsigned long long)c->id);
    if (c->ticket_number && *c->ticket_number)
        fprintf(f, " about %s", c->ticket_number);
    if (c->window)
        fprintf(f, " at window %u", c->window);
    if (c->staff && *c->staff)
        fprintf(f, " (%s)", c->staff);
    switch (c->state) {
    /* events carry no words (text, note, reply): `hallctl complaints` reads them */
    case HALLBUS__COMPLAINT_STATE__COMPLAINT_OPEN:
        break;
    case HALLBUS__COMPLAINT_STATE__COMPLAINT_IN_PROGRESS:
        fprintf(f, " in progress%s%s", c->handler && *c->handler ? " by " : "", S(c->handler));
        break;
    case HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED:
        fprintf(f, " replied%s%s", c->handler && *c->handler ? " by " : "", S(c->handler));
        break;
    default:
        break;
    }
}

/* Returns false for an event that is about neither: the kinds
 * "appointment.*" and "complaint.*" of the topic say which these are. */
static bool describe_appointment_or_complaint(FILE *f, const Hallbus__Envelope *env)
{
    const char *kind = hb_event_kind(env);
    if (strncmp(kind, "appointment.", 12) == 0) {
        describe_appointment(f, hb_event_appointment(env));
        if (env->event_case == HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CHECKED_IN)
            fprintf(f, " → %s", number_of(env->appointment_checked_in->ticket));
        return true;
    }
    if (strncmp(kind, "complaint.", 10) == 0) {
        describe_complaint(f, hb_event_complaint(env));
        return true;
    }
    return false;
}

static const char *sign_on_word(Hallbus__SignOnOutcome o)
{
    switch (o) {
    case HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK:
        return "signed on";
    case HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_WRONG_PASSWORD:
        return "wrong password";
    case HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_LOCKED:
        return "locked";
    case HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_DISABLED:
        return "disabled";
    case HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_UNKNOWN:
        return "unknown id";
    default:
        return "?";
    }
}

/* Returns false for an event that is not a sign-on. */
static bool describe_sign_on(FILE *f, const Hallbus__Envelope *env)
{
    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_STAFF_SIGNED_ON: {
        const Hallbus__StaffSignedOn *e = env->staff_signed_on;
        fprintf(f, "%s at window %u", S(e->staff), e->window);
        if (e->replaced && *e->replaced)
            fprintf(f, " in place of %s", e->replaced);
        paren(f, e->source, NULL);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_STAFF_SIGNED_OFF: {
        const Hallbus__StaffSignedOff *e = env->staff_signed_off;
        fprintf(f, "%s at window %u", S(e->staff), e->window);
        paren(f, e->reason, e->source);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_STAFF_SIGN_ON_FAILED: {
        const Hallbus__StaffSignOnFailed *e = env->staff_sign_on_failed;
        fprintf(f, "%s at window %u: %s", S(e->staff), e->window, sign_on_word(e->outcome));
        if (e->reason && *e->reason)
            fprintf(f, " (%s)", e->reason);
        break;
    }
    default:
        return false;
    }
    return true;
}

static void describe_window(FILE *f, const Hallbus__Window *w, const char *reason)
{
    if (!w) {
        fputs("?", f);
        return;
    }
    fprintf(f, "%u", w->number);
    paren(f, reason, NULL);
}

char *ev_describe(const Hallbus__Envelope *env)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        abort();
    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED: {
        const Hallbus__Window *w = env->window_opened->window;
        describe_window(f, w, NULL);
        if (w) {
            fprintf(f, " (%s:", S(w->staff));
            for (size_t i = 0; i < w->n_services; i++)
                fprintf(f, "%s%s", i ? ", " : " ", S(w->services[i]));
            fputc(')', f);
        }
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_WINDOW_PAUSED:
        describe_window(f, env->window_paused->window, env->window_paused->reason);
        break;
    case HALLBUS__ENVELOPE__EVENT_WINDOW_RESUMED:
        describe_window(f, env->window_resumed->window, NULL);
        break;
    case HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED:
        describe_window(f, env->window_closed->window, env->window_closed->reason);
        break;
    case HALLBUS__ENVELOPE__EVENT_DAILY_RESET: {
        const Hallbus__DailyReset *e = env->daily_reset;
        fprintf(f, "%s (%u expired)", S(e->business_date), e->expired_count);
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_HEARTBEAT: {
        const Hallbus__Heartbeat *e = env->heartbeat;
        fprintf(f, "%s, %u waiting, %u window%s open", S(e->business_date), e->waiting,
                e->open_windows, e->open_windows == 1 ? "" : "s");
        break;
    }
    default:
        /* a newer hall's event: protobuf-c keeps it as an unknown field */
        if (!describe_ticket_event(f, env) && !describe_appointment_or_complaint(f, env) &&
            !describe_sign_on(f, env))
            fputs("(an event this hallctl does not know)", f);
        break;
    }
    fclose(f);
    return out;
}
