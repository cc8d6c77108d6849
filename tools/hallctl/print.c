/* Replies for people. Wire text goes out through tx_line or a table, which
 * clean it: a hall's reply is data, not terminal escapes. */
#include "print.h"

#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "text.h"

#define S(x) ((x) ? (x) : "")

/* A reply without the ticket a printer expects: say what the hall said. */
static const Hallbus__Ticket *ticket_of(const Hallbus__Reply *reply)
{
    if (reply->result_case == HALLBUS__REPLY__RESULT_TICKET && reply->ticket)
        return reply->ticket;
    tx_line(stdout, "ok (%s)", reply->message && *reply->message ? reply->message : "no ticket");
    return NULL;
}

/* "3 ahead, about 12 min" or "no one ahead". */
static void ahead_words(const Hallbus__Reply *reply, char *out, size_t len)
{
    if (reply->ahead == 0) {
        snprintf(out, len, "no one ahead");
        return;
    }
    char wait[32];
    tx_duration(reply->estimated_wait_s, wait, sizeof wait);
    /* no estimate yet (nothing served today to measure by): no number */
    snprintf(out, len, "%u ahead%s%s", reply->ahead, reply->estimated_wait_s ? ", about " : "",
             reply->estimated_wait_s ? wait : "");
}

void pr_issued(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Ticket *t = ticket_of(reply);
    if (!t)
        return;
    const char *name = hc_service_name(ctl, t->service);
    char ahead[64];
    ahead_words(reply, ahead, sizeof ahead);
    char green[64] = "";
    if (t->priority == HALLBUS__PRIORITY__GREEN)
        snprintf(green, sizeof green, "  green channel (%s)", hc_green_word(t->green_reason));
    tx_line(stdout, "%s  %s%s%s%s", S(t->number), name ? name : "", name ? "  " : "", ahead, green);
}

void pr_requeued(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Ticket *t = ticket_of(reply);
    if (!t)
        return;
    char ahead[64];
    ahead_words(reply, ahead, sizeof ahead);
    tx_line(stdout, "%s back in line: %s", S(t->number), ahead);
}

void pr_transferred(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Ticket *t = ticket_of(reply);
    if (!t)
        return;
    const char *name = hc_service_name(ctl, t->service);
    char ahead[64];
    ahead_words(reply, ahead, sizeof ahead);
    tx_line(stdout, "%s transferred to %s%s%s: %s", S(t->number), S(t->service), name ? " " : "",
            name ? name : "", ahead);
}

void pr_called(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Ticket *t = ticket_of(reply);
    if (!t)
        return;
    char green[64] = "";
    if (t->priority == HALLBUS__PRIORITY__GREEN)
        snprintf(green, sizeof green, "  green channel (%s)", hc_green_word(t->green_reason));
    tx_line(stdout, "window %u calls %s%s", t->window, S(t->number), green);
}

void pr_recalled(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Ticket *t = ticket_of(reply);
    if (!t)
        return;
    tx_line(stdout, "window %u calls %s again (recall %u)", t->window, S(t->number), t->recalls);
}

void pr_no_show(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Ticket *t = ticket_of(reply);
    if (!t)
        return;
    tx_line(stdout, "%s did not come to window %u (no-show; `hallctl requeue %s` puts it back)",
            S(t->number), t->window, S(t->number));
}

void pr_started(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Ticket *t = ticket_of(reply);
    if (!t)
        return;
    tx_line(stdout, "window %u serving %s", t->window, S(t->number));
}

char *pr_result_words(Hallbus__Result result, const char *reason, char *const *missing,
                      size_t n_missing, const char *promised)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        abort();
    static const char *const words[] = {"no result", "completed", "accepted", "rejected",
                                        "materials missing"};
    fputs((unsigned)result < sizeof words / sizeof words[0] ? words[result] : "unknown result", f);
    if (result == HALLBUS__RESULT__ACCEPTED && promised && *promised)
        fprintf(f, ", promised by %s", promised);
    if (result == HALLBUS__RESULT__MATERIALS_MISSING && n_missing) {
        fputs(": ", f);
        for (size_t i = 0; i < n_missing; i++)
            fprintf(f, "%s%s", i ? ", " : "", S(missing[i]));
    }
    if (reason && *reason)
        fprintf(f, " (%s)", reason);
    fclose(f);
    return out;
}

void pr_finished(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Ticket *t = ticket_of(reply);
    if (!t)
        return;
    char *result = pr_result_words(t->result, t->reason, t->missing_materials,
                                   t->n_missing_materials, t->promised_date);
    tx_line(stdout, "%s finished at window %u: %s", S(t->number), t->window, result);
    free(result);
}

void pr_evaluated(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Ticket *t = ticket_of(reply);
    if (!t)
        return;
    tx_line(stdout, "%s rated %s (%u)", S(t->number), hc_rating_word(t->rating), t->rating);
}

/* ── ticket ──────────────────────────────────────────────────────────────── */

static void kv(const char *key, const char *value)
{
    tx_line(stdout, "%-10s %s", key, value);
}

void pr_ticket(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const Hallbus__Ticket *t = ticket_of(reply);
    if (!t)
        return;
    char buf[512], when[32];
    kv("number:", S(t->number));
    const char *name = hc_service_name(ctl, t->service);
    snprintf(buf, sizeof buf, "%s%s%s", S(t->service), name ? " " : "", name ? name : "");
    if (t->original_service && *t->original_service)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " (transferred from %s)",
                 t->original_service);
    kv("service:", buf);
    kv("state:", hc_state_word(t->state));
    if (t->priority == HALLBUS__PRIORITY__GREEN)
        snprintf(buf, sizeof buf, "green channel (%s)", hc_green_word(t->green_reason));
    else
        snprintf(buf, sizeof buf, "normal");
    kv("priority:", buf);
    if (t->channel && *t->channel)
        kv("channel:", t->channel);
    kv("date:", S(t->business_date));
    tx_clock(t->issued_at, when, sizeof when);
    kv("issued:", when);
    if (t->called_at) {
        tx_clock(t->called_at, when, sizeof when);
        snprintf(buf, sizeof buf, "%s at window %u%s%s", when, t->window,
                 t->staff && *t->staff ? " by " : "", S(t->staff));
        if (t->recalls)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ", %u recall%s", t->recalls,
                     t->recalls == 1 ? "" : "s");
        kv("called:", buf);
    }
    if (t->started_at) {
        tx_clock(t->started_at, when, sizeof when);
        kv("started:", when);
    }
    if (t->finished_at) {
        tx_clock(t->finished_at, when, sizeof when);
        kv("finished:", when);
    }
    if (t->result != HALLBUS__RESULT__RESULT_UNSPECIFIED) {
        char *r = pr_result_words(t->result, t->reason, t->missing_materials,
                                  t->n_missing_materials, t->promised_date);
        kv("result:", r);
        free(r);
    } else if (t->reason && *t->reason) {
        kv("note:", t->reason);
    }
    if (t->rating) {
        snprintf(buf, sizeof buf, "%s (%u)", hc_rating_word(t->rating), t->rating);
        kv("rating:", buf);
    }
    if (t->requeues) {
        snprintf(buf, sizeof buf, "%u", t->requeues);
        kv("requeues:", buf);
    }
    if (t->contact_ref && *t->contact_ref)
        kv("contact:", "on file"); /* the reference means nothing to a person */
}

/* ── windows ─────────────────────────────────────────────────────────────── */

/* "A, B" into OUT. */
static void join(char *const *items, size_t n, char *out, size_t len)
{
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(out + used, len - used, "%s%s", i ? ", " : "", S(items[i]));
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

void pr_window(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    if (reply->result_case != HALLBUS__REPLY__RESULT_WINDOW || !reply->window) {
        tx_line(stdout, "ok (%s)", S(reply->message));
        return;
    }
    const Hallbus__Window *w = reply->window;
    char services[256];
    join(w->services, w->n_services, services, sizeof services);
    switch (w->state) {
    case HALLBUS__WINDOW_STATE__OPEN:
        tx_line(stdout, "window %u open: staff %s, services %s%s%s", w->number, S(w->staff),
                services, w->serving_number && *w->serving_number ? ", ticket " : "",
                S(w->serving_number));
        break;
    case HALLBUS__WINDOW_STATE__PAUSED:
        tx_line(stdout, "window %u paused%s%s%s", w->number,
                w->pause_reason && *w->pause_reason ? " (" : "", S(w->pause_reason),
                w->pause_reason && *w->pause_reason ? ")" : "");
        break;
    default:
        tx_line(stdout, "window %u %s", w->number, hc_window_state_word(w->state));
        break;
    }
}

/* ── status and snapshot ─────────────────────────────────────────────────── */

static void print_status(const Hallbus__HallStatus *st)
{
    tx_line(stdout, "hall %s %s, %s, event #%llu", S(st->hall_id), S(st->hall_name),
            S(st->business_date), (unsigned long long)st->seq);
    fputc('\n', stdout);

    static const char *const sh[] = {"SERVICE",       ">WAITING", ">GREEN",  ">EST. WAIT",
                                     ">ISSUED/QUOTA", ">SERVED",  ">WINDOWS"};
    table_t *tb = tb_new(7, sh);
    for (size_t i = 0; i < st->n_services; i++) {
        const Hallbus__ServiceSummary *s = st->services[i];
        char name[256], waiting[16], green[16], wait[32], issued[32], served[16], open[16];
        snprintf(name, sizeof name, "%s %s", S(s->prefix), S(s->name));
        snprintf(waiting, sizeof waiting, "%u", s->waiting);
        snprintf(green, sizeof green, "%u", s->waiting_green);
        if (s->waiting && s->estimated_wait_s)
            tx_duration(s->estimated_wait_s, wait, sizeof wait);
        else
            snprintf(wait, sizeof wait, "-");
        if (s->quota)
            snprintf(issued, sizeof issued, "%u/%u", s->issued_today, s->quota);
        else
            snprintf(issued, sizeof issued, "%u/-", s->issued_today);
        snprintf(served, sizeof served, "%u", s->served_today);
        snprintf(open, sizeof open, "%u", s->open_windows);
        const char *row[] = {name, waiting, green, wait, issued, served, open};
        tb_row(tb, row);
    }
    tb_print(tb, stdout, "");
    tb_destroy(&tb);
    fputc('\n', stdout);

    static const char *const wh[] = {"WINDOW", "STATE", "STAFF", "SERVING", "SINCE", "SERVICES"};
    tb = tb_new(6, wh);
    for (size_t i = 0; i < st->n_windows; i++) {
        const Hallbus__Window *w = st->windows[i];
        char number[16], state[128], since[32], services[256];
        snprintf(number, sizeof number, "%u", w->number);
        if (w->state == HALLBUS__WINDOW_STATE__PAUSED && w->pause_reason && *w->pause_reason)
            snprintf(state, sizeof state, "paused (%s)", w->pause_reason);
        else
            snprintf(state, sizeof state, "%s", hc_window_state_word(w->state));
        tx_clock(w->since, since, sizeof since);
        join(w->services, w->n_services, services, sizeof services);
        const char *row[] = {number,
                             state,
                             w->staff && *w->staff ? w->staff : NULL,
                             w->serving_number && *w->serving_number ? w->serving_number : NULL,
                             since,
                             services};
        tb_row(tb, row);
    }
    tb_print(tb, stdout, "");
    tb_destroy(&tb);
}

void pr_status(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    if (reply->result_case != HALLBUS__REPLY__RESULT_STATUS || !reply->status) {
        tx_line(stdout, "ok (%s)", S(reply->message));
        return;
    }
    print_status(reply->status);
}

static void print_tickets(Hallbus__Ticket *const *tickets, size_t n)
{
    static const char *const th[] = {"NUMBER", "STATE", "PRIORITY", "ISSUED", "CALLED", "WINDOW"};
    table_t *tb = tb_new(6, th);
    for (size_t i = 0; i < n; i++) {
        const Hallbus__Ticket *t = tickets[i];
        char prio[64], issued[32], called[32], window[16];
        if (t->priority == HALLBUS__PRIORITY__GREEN)
            snprintf(prio, sizeof prio, "green (%s)", hc_green_word(t->green_reason));
        else
            snprintf(prio, sizeof prio, "normal");
        tx_clock(t->issued_at, issued, sizeof issued);
        tx_clock(t->called_at, called, sizeof called);
        snprintf(window, sizeof window, "%u", t->window);
        const char *row[] = {t->number, hc_state_word(t->state),  prio, issued,
                             called,    t->window ? window : NULL};
        tb_row(tb, row);
    }
    tb_print(tb, stdout, "  ");
    tb_destroy(&tb);
}

void pr_snapshot(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    if (reply->result_case != HALLBUS__REPLY__RESULT_SNAPSHOT || !reply->snapshot) {
        tx_line(stdout, "ok (%s)", S(reply->message));
        return;
    }
    const Hallbus__Snapshot *snap = reply->snapshot;
    if (snap->status)
        print_status(snap->status);
    else
        tx_line(stdout, "snapshot at event #%llu", (unsigned long long)snap->seq);
    fputc('\n', stdout);
    tx_line(stdout, "tickets not final (%zu):", snap->n_tickets);
    if (snap->n_tickets)
        print_tickets(snap->tickets, snap->n_tickets);
    fputc('\n', stdout);
    tx_line(stdout, "recent calls, newest first (%zu):", snap->n_recent_calls);
    if (snap->n_recent_calls)
        print_tickets(snap->recent_calls, snap->n_recent_calls);
}
