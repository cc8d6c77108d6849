/* The hall's state machine, driven directly with an explicit clock. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "hall.h"
#include "hall_fixture.h"
#include "hall_view.h"
#include "hallbus/envelope.h"

#define OK HALLBUS__STATUS_CODE__OK
#define MIN (60LL * 1000000)
/* 2026-11-23 09:00 UTC; tests run with TZ=UTC and rollover at 03:00 */
#define DAY1 (1795424400LL * 1000000)
#define DAY2 (DAY1 + 24 * 60 * MIN)

static hall_fixture_t fx;
static hb_config_t *config;
static hall_t *hall;
static int64_t now;

static const char HALL_YAML[] = "hall: {id: h1, name: Test hall, rollover: \"03:00\"}\n"
                                "services:\n"
                                "  - {prefix: A, name: General, target_minutes: 10}\n"
                                "  - {prefix: B, name: Licences, quota: 3}\n"
                                "  - {prefix: C, name: Enquiries}\n"
                                "windows:\n"
                                "  - {number: 1, services: [A, B]}\n"
                                "  - {number: 2, services: [B]}\n"
                                "  - {number: 3, services: [A, B, C]}\n"
                                "endpoints: {command: \"tcp://127.0.0.1:1\", bus_pub: "
                                "\"tcp://127.0.0.1:2\", bus_sub: \"tcp://127.0.0.1:3\"}\n"
                                "queue: {recall_limit: 2, contact_secret: "
                                "\"0123456789abcdef-secret\"}\n";

/* The hall on the fixture's store at AT, its opening events taken. */
static hall_t *open_hall(int64_t at)
{
    hall_t *h = hall_fixture_open(&fx, at);
    hall_outbox_free(hall_outbox_take(h));
    return h;
}

static void setup(void)
{
    hall_fixture_start(&fx, "hall-unit", HALL_YAML);
    config = fx.config;
    now = DAY1;
    hall = open_hall(now);
}

static void teardown(void)
{
    hall_fixture_stop(&fx, &hall);
}

TestSuite(hall, .init = setup, .fini = teardown);

/* ── helpers ── */

static ticket_t *take(const char *service)
{
    hall_take_t in = {service, HALLBUS__PRIORITY__NORMAL, 0, NULL, NULL};
    ticket_t *t = NULL;
    hall_err_t err;
    now += 1000000;
    cr_assert_eq(hall_take_ticket(hall, &in, now, &t, &err), OK, "take %s: %s", service, err.msg);
    return t;
}

static ticket_t *take_green(const char *service)
{
    hall_take_t in = {service, HALLBUS__PRIORITY__GREEN, HALLBUS__GREEN_REASON__ELDERLY, NULL,
                      NULL};
    ticket_t *t = NULL;
    hall_err_t err;
    now += 1000000;
    cr_assert_eq(hall_take_ticket(hall, &in, now, &t, &err), OK, "%s", err.msg);
    return t;
}

static void open_window(uint32_t w)
{
    window_t *out;
    hall_err_t err;
    char staff[16];
    snprintf(staff, sizeof staff, "staff-%u", w);
    cr_assert_eq(hall_open_window(hall, w, staff, NULL, 0, now, &out, &err), OK, "%s", err.msg);
}

static ticket_t *call(uint32_t w)
{
    ticket_t *t = NULL;
    hall_err_t err;
    now += 1000000;
    cr_assert_eq(hall_call_next(hall, w, now, &t, &err), OK, "call %u: %s", w, err.msg);
    return t;
}

static int try_call(uint32_t w, hall_err_t *err)
{
    ticket_t *t;
    return hall_call_next(hall, w, now, &t, err);
}

static unsigned outbox_count(void)
{
    unsigned n = 0;
    for (outbox_item_t *it = hall->outbox_head; it; it = it->next)
        n++;
    return n;
}

static void serve(uint32_t w)
{
    ticket_t *t;
    hall_err_t err;
    now += MIN;
    cr_assert_eq(hall_start(hall, w, now, &t, &err), OK, "%s", err.msg);
    now += 5 * MIN;
    hall_finish_t f = {HALLBUS__RESULT__COMPLETED, NULL, NULL, 0, NULL};
    cr_assert_eq(hall_finish(hall, w, &f, now, &t, &err), OK, "%s", err.msg);
}

/* A refused operation changes nothing: same sequence, no event queued. */
#define ASSERT_REFUSED(expr, want_code, needle)                                                    \
    do {                                                                                           \
        uint64_t seq_before = hall->seq;                                                           \
        unsigned out_before = outbox_count();                                                      \
        hall_err_t err_;                                                                           \
        (void)err_;                                                                                \
        int rc_ = (expr);                                                                          \
        cr_assert_eq(rc_, (want_code), "expected %d, got %d: %s", (int)(want_code), rc_, err.msg); \
        cr_assert(strstr(err.msg, (needle)), "message \"%s\" lacks \"%s\"", err.msg, (needle));    \
        cr_assert_eq(hall->seq, seq_before);                                                       \
        cr_assert_eq(outbox_count(), out_before);                                                  \
    } while (0)

/* ── numbering ── */

Test(hall, numbers_are_per_service_with_the_prefix_letter)
{
    cr_assert_str_eq(take("A")->number, "A001");
    cr_assert_str_eq(take("A")->number, "A002");
    cr_assert_str_eq(take("B")->number, "B001");
    cr_assert_str_eq(take("A")->number, "A003");
}

Test(hall, ticket_after_the_daily_quota_is_refused)
{
    take("B");
    take("B");
    take("B");
    hall_take_t in = {"B", HALLBUS__PRIORITY__NORMAL, 0, NULL, NULL};
    ticket_t *t;
    hall_err_t err;
    ASSERT_REFUSED(hall_take_ticket(hall, &in, now, &t, &err), HALLBUS__STATUS_CODE__REFUSED,
                   "quota");
    cr_assert_str_eq(take("A")->number, "A001", "other services are not affected");
}

Test(hall, unknown_service_and_green_without_reason_are_refused)
{
    ticket_t *t;
    hall_err_t err;
    hall_take_t unknown = {"Z", HALLBUS__PRIORITY__NORMAL, 0, NULL, NULL};
    ASSERT_REFUSED(hall_take_ticket(hall, &unknown, now, &t, &err), HALLBUS__STATUS_CODE__NOT_FOUND,
                   "no service \"Z\"");
    hall_take_t green = {"A", HALLBUS__PRIORITY__GREEN, 0, NULL, NULL};
    ASSERT_REFUSED(hall_take_ticket(hall, &green, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "needs a reason");
    hall_take_t empty = {"", HALLBUS__PRIORITY__NORMAL, 0, NULL, NULL};
    ASSERT_REFUSED(hall_take_ticket(hall, &empty, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "no service");
}

Test(hall, issued_ticket_says_how_many_are_ahead)
{
    take("A");
    take("A");
    ticket_t *t = take("A");
    cr_assert_eq(hall_ahead(hall, t), 2);
    take_green("A");
    cr_assert_eq(hall_ahead(hall, t), 3, "a green ticket goes ahead of it");
}

Test(hall, contact_is_kept_in_the_store_and_only_a_reference_is_on_the_ticket)
{
    hall_take_t in = {"A", HALLBUS__PRIORITY__NORMAL, 0, "+86 138 0013 8000", NULL};
    ticket_t *t;
    hall_err_t err;
    cr_assert_eq(hall_take_ticket(hall, &in, now, &t, &err), OK);
    cr_assert(strncmp(t->contact_ref, "ct-", 3) == 0);
    for (outbox_item_t *it = hall->outbox_head; it; it = it->next)
        cr_assert_null(memmem(it->data, it->len, "0013", 4), "the contact must not be in events");
}

/* ── call order ── */

Test(hall, green_ticket_is_called_before_older_normal_ticket)
{
    open_window(1);
    take("A");
    ticket_t *g = take_green("B");
    cr_assert_eq(call(1), g);
}

Test(hall, call_next_takes_the_longest_waiting_across_the_windows_services)
{
    open_window(1);
    ticket_t *b1 = take("B");
    ticket_t *a1 = take("A");
    ticket_t *b2 = take("B");
    cr_assert_eq(call(1), b1);
    serve(1);
    cr_assert_eq(call(1), a1);
    serve(1);
    cr_assert_eq(call(1), b2);
}

Test(hall, window_only_calls_its_own_services)
{
    open_window(2);
    take("A");
    hall_err_t err;
    ASSERT_REFUSED(try_call(2, &err), HALLBUS__STATUS_CODE__REFUSED, "no ticket is waiting");
    ticket_t *b = take("B");
    cr_assert_eq(call(2), b);
}

Test(hall, call_next_is_refused_when_it_cannot_be_done)
{
    hall_err_t err;
    ASSERT_REFUSED(try_call(1, &err), HALLBUS__STATUS_CODE__INVALID_STATE, "window 1 is closed");
    ASSERT_REFUSED(try_call(99, &err), HALLBUS__STATUS_CODE__NOT_FOUND, "no window 99");
    open_window(1);
    ASSERT_REFUSED(try_call(1, &err), HALLBUS__STATUS_CODE__REFUSED, "no ticket is waiting");
    take("A");
    take("A");
    call(1);
    ASSERT_REFUSED(try_call(1, &err), HALLBUS__STATUS_CODE__INVALID_STATE, "still has A001");
    window_t *w;
    serve(1);
    cr_assert_eq(hall_pause_window(hall, 1, "lunch", now, &w, &err), OK);
    ASSERT_REFUSED(try_call(1, &err), HALLBUS__STATUS_CODE__INVALID_STATE, "paused (lunch)");
}

Test(hall, two_windows_never_get_the_same_ticket)
{
    open_window(1);
    open_window(3);
    for (int i = 0; i < 20; i++)
        take("A");
    ticket_t *seen[20] = {0};
    for (int i = 0; i < 20; i++) {
        uint32_t w = i % 2 ? 1 : 3;
        ticket_t *t = call(w);
        for (int j = 0; j < i; j++)
            cr_assert_neq(seen[j], t);
        seen[i] = t;
        serve(w);
    }
    hall_err_t err;
    ASSERT_REFUSED(try_call(1, &err), HALLBUS__STATUS_CODE__REFUSED, "no ticket");
}

/* ── recall, no-show, requeue ── */

Test(hall, recall_is_bounded_then_only_no_show_is_left)
{
    open_window(1);
    take("A");
    call(1);
    ticket_t *t;
    hall_err_t err;
    cr_assert_eq(hall_recall(hall, 1, now, &t, &err), OK);
    cr_assert_eq(hall_recall(hall, 1, now, &t, &err), OK);
    cr_assert_eq(t->recalls, 2);
    ASSERT_REFUSED(hall_recall(hall, 1, now, &t, &err), HALLBUS__STATUS_CODE__REFUSED,
                   "mark it no-show");
    cr_assert_eq(hall_no_show(hall, 1, now, &t, &err), OK);
    cr_assert_eq(t->state, HALLBUS__TICKET_STATE__NO_SHOW);
    ASSERT_REFUSED(hall_recall(hall, 1, now, &t, &err), HALLBUS__STATUS_CODE__INVALID_STATE,
                   "no ticket to recall");
}

Test(hall, no_show_ticket_requeues_once_at_the_back)
{
    open_window(1);
    ticket_t *a1 = take("A");
    ticket_t *t;
    hall_err_t err;
    call(1);
    take("A");
    ticket_t *a3 = take("A");
    cr_assert_eq(hall_no_show(hall, 1, now, &t, &err), OK);
    cr_assert_eq(hall_requeue(hall, "A001", now, &t, &err), OK);
    cr_assert_eq(t, a1);
    cr_assert_eq(hall_ahead(hall, a1), 2, "behind A002 and A003");
    cr_assert_eq(a1->prev, a3);
    call(1); /* A002 */
    serve(1);
    call(1); /* A003 */
    serve(1);
    cr_assert_eq(call(1), a1);
    cr_assert_eq(hall_no_show(hall, 1, now, &t, &err), OK);
    ASSERT_REFUSED(hall_requeue(hall, "A001", now, &t, &err), HALLBUS__STATUS_CODE__REFUSED,
                   "already been requeued");
}

Test(hall, only_a_no_show_ticket_can_be_requeued)
{
    take("A");
    ticket_t *t;
    hall_err_t err;
    ASSERT_REFUSED(hall_requeue(hall, "A001", now, &t, &err), HALLBUS__STATUS_CODE__INVALID_STATE,
                   "A001 is waiting");
    ASSERT_REFUSED(hall_requeue(hall, "A404", now, &t, &err), HALLBUS__STATUS_CODE__NOT_FOUND,
                   "no ticket A404");
}

/* ── transfer ── */

Test(hall, transfer_moves_the_ticket_to_the_other_service_keeping_its_place)
{
    open_window(1);
    open_window(3);
    ticket_t *a1 = take("A");
    ticket_t *c2 = take("C");
    call(1);
    ticket_t *t;
    hall_err_t err;
    cr_assert_eq(hall_transfer(hall, 1, "C", "needs an enquiry first", now, &t, &err), OK, "%s",
                 err.msg);
    cr_assert_eq(t, a1);
    cr_assert_str_eq(t->service->prefix, "C");
    cr_assert_str_eq(t->original_service, "A");
    cr_assert_str_eq(t->number, "A001", "keeps its number");
    cr_assert_eq(t->state, HALLBUS__TICKET_STATE__WAITING);
    cr_assert_null(hall_window(hall, 1)->current, "the window is free again");
    cr_assert_eq(call(3), a1, "came before C001, so goes before it");
    cr_assert_eq(hall_window(hall, 3)->current, a1);
    (void)c2;
}

Test(hall, transfer_is_refused_without_a_ticket_or_to_a_bad_service)
{
    open_window(1);
    ticket_t *t;
    hall_err_t err;
    ASSERT_REFUSED(hall_transfer(hall, 1, "C", NULL, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_STATE, "no ticket");
    take("A");
    call(1);
    ASSERT_REFUSED(hall_transfer(hall, 1, "Q", NULL, now, &t, &err),
                   HALLBUS__STATUS_CODE__NOT_FOUND, "no service \"Q\"");
    ASSERT_REFUSED(hall_transfer(hall, 1, "A", NULL, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "already in service A");
}

/* ── start, finish, evaluate ── */

Test(hall, finish_needs_a_started_service_and_a_complete_result)
{
    open_window(1);
    take("A");
    call(1);
    ticket_t *t;
    hall_err_t err;
    hall_finish_t done = {HALLBUS__RESULT__COMPLETED, NULL, NULL, 0, NULL};
    ASSERT_REFUSED(hall_finish(hall, 1, &done, now, &t, &err), HALLBUS__STATUS_CODE__INVALID_STATE,
                   "it is called");
    cr_assert_eq(hall_start(hall, 1, now, &t, &err), OK);
    ASSERT_REFUSED(hall_start(hall, 1, now, &t, &err), HALLBUS__STATUS_CODE__INVALID_STATE,
                   "being served");
    hall_finish_t rejected = {HALLBUS__RESULT__REJECTED, "", NULL, 0, NULL};
    ASSERT_REFUSED(hall_finish(hall, 1, &rejected, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "reason");
    hall_finish_t missing = {HALLBUS__RESULT__MATERIALS_MISSING, NULL, NULL, 0, NULL};
    ASSERT_REFUSED(hall_finish(hall, 1, &missing, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "every missing material");
    hall_finish_t accepted = {HALLBUS__RESULT__ACCEPTED, NULL, NULL, 0, "2026-02-31"};
    ASSERT_REFUSED(hall_finish(hall, 1, &accepted, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "promised completion date");
    hall_finish_t past = {HALLBUS__RESULT__ACCEPTED, NULL, NULL, 0, "2026-11-01"};
    ASSERT_REFUSED(hall_finish(hall, 1, &past, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "before today");
    hall_finish_t none = {0, NULL, NULL, 0, NULL};
    ASSERT_REFUSED(hall_finish(hall, 1, &none, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "a result is needed");
    char *list[] = {"ID card", "Proof of address"};
    hall_finish_t notice = {HALLBUS__RESULT__MATERIALS_MISSING, NULL, list, 2, NULL};
    cr_assert_eq(hall_finish(hall, 1, &notice, now, &t, &err), OK, "%s", err.msg);
    cr_assert_eq(t->state, HALLBUS__TICKET_STATE__FINISHED);
    cr_assert_eq(t->materials_count, 2);
    cr_assert_str_eq(t->materials[1], "Proof of address");
    cr_assert_null(hall_window(hall, 1)->current);
}

Test(hall, accepted_matter_keeps_its_promised_date)
{
    open_window(1);
    take("A");
    call(1);
    ticket_t *t;
    hall_err_t err;
    cr_assert_eq(hall_start(hall, 1, now, &t, &err), OK);
    hall_finish_t accepted = {HALLBUS__RESULT__ACCEPTED, NULL, NULL, 0, "2026-12-07"};
    cr_assert_eq(hall_finish(hall, 1, &accepted, now, &t, &err), OK, "%s", err.msg);
    cr_assert_str_eq(t->promised_date, "2026-12-07");
}

Test(hall, a_finished_ticket_is_rated_once_within_range)
{
    open_window(1);
    take("A");
    call(1);
    ticket_t *t;
    hall_err_t err;
    ASSERT_REFUSED(hall_evaluate(hall, "A001", 1, NULL, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_STATE, "once it is finished");
    serve(1);
    ASSERT_REFUSED(hall_evaluate(hall, "A001", 5, NULL, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "not 5");
    ASSERT_REFUSED(hall_evaluate(hall, "A001", 0, NULL, now, &t, &err),
                   HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "not 0");
    cr_assert_eq(hall_evaluate(hall, "A001", 2, "quick", now, &t, &err), OK);
    ASSERT_REFUSED(hall_evaluate(hall, "A001", 1, NULL, now, &t, &err),
                   HALLBUS__STATUS_CODE__REFUSED, "already been rated");
}

/* ── windows ── */

Test(hall, window_transitions_and_refusals)
{
    window_t *w;
    hall_err_t err;
    ASSERT_REFUSED(hall_open_window(hall, 1, "", NULL, 0, now, &w, &err),
                   HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "staff");
    ASSERT_REFUSED(hall_open_window(hall, 42, "li", NULL, 0, now, &w, &err),
                   HALLBUS__STATUS_CODE__NOT_FOUND, "no window 42");
    char *bad[] = {"A", "Q"};
    ASSERT_REFUSED(hall_open_window(hall, 1, "li", bad, 2, now, &w, &err),
                   HALLBUS__STATUS_CODE__NOT_FOUND, "no service \"Q\"");
    ASSERT_REFUSED(hall_resume_window(hall, 1, now, &w, &err), HALLBUS__STATUS_CODE__INVALID_STATE,
                   "not paused");
    ASSERT_REFUSED(hall_pause_window(hall, 1, "lunch", now, &w, &err),
                   HALLBUS__STATUS_CODE__INVALID_STATE, "closed");
    ASSERT_REFUSED(hall_close_window(hall, 1, now, &w, &err), HALLBUS__STATUS_CODE__INVALID_STATE,
                   "already closed");
    cr_assert_eq(hall_open_window(hall, 1, "li", NULL, 0, now, &w, &err), OK);
    cr_assert_str_eq(w->staff, "li");
    cr_assert_eq(w->services_count, 2);
    ASSERT_REFUSED(hall_open_window(hall, 1, "wang", NULL, 0, now, &w, &err),
                   HALLBUS__STATUS_CODE__INVALID_STATE, "already open, staffed by li");
    cr_assert_eq(hall_pause_window(hall, 1, "lunch", now, &w, &err), OK);
    ASSERT_REFUSED(hall_pause_window(hall, 1, "lunch", now, &w, &err),
                   HALLBUS__STATUS_CODE__INVALID_STATE, "already paused");
    cr_assert_eq(hall_resume_window(hall, 1, now, &w, &err), OK);
    take("A");
    call(1);
    ASSERT_REFUSED(hall_close_window(hall, 1, now, &w, &err), HALLBUS__STATUS_CODE__INVALID_STATE,
                   "still has A001");
    serve(1);
    cr_assert_eq(hall_close_window(hall, 1, now, &w, &err), OK);
    cr_assert_eq(w->state, HALLBUS__WINDOW_STATE__CLOSED);
}

Test(hall, window_opened_with_its_own_services_calls_only_those)
{
    window_t *w;
    hall_err_t err;
    char *only_c[] = {"C"};
    cr_assert_eq(hall_open_window(hall, 1, "li", only_c, 1, now, &w, &err), OK, "%s", err.msg);
    take("A");
    ticket_t *c = take("C");
    cr_assert_eq(call(1), c);
}

/* ── events ── */

Test(hall, every_change_emits_one_event_with_the_next_sequence)
{
    uint64_t start = hall->seq;
    open_window(1);
    take("A");
    call(1);
    serve(1); /* started + finished */
    hall_commit(hall);
    outbox_item_t *items = hall_outbox_take(hall);
    const char *kinds[] = {"window.opened", "ticket.issued", "ticket.called", "ticket.started",
                           "ticket.finished"};
    uint64_t expect = start + 1;
    int i = 0;
    for (outbox_item_t *it = items; it; it = it->next, i++) {
        Hallbus__Envelope *env;
        cr_assert_eq(hb_envelope_decode(it->data, it->len, &env, NULL), HB_DECODE_OK);
        cr_assert_eq(env->seq, expect++);
        cr_assert_str_eq(hb_event_kind(env), kinds[i]);
        char topic[HB_TOPIC_MAX];
        hb_topic("h1", kinds[i], topic);
        cr_assert_str_eq(it->topic, topic);
        hallbus__envelope__free_unpacked(env, NULL);
    }
    cr_assert_eq(i, 5);
    hall_outbox_free(items);
}

/* ── durability ── */

Test(hall, reopening_the_store_gives_back_the_same_hall)
{
    open_window(1);
    open_window(2);
    take("A");
    take_green("B");
    take("B");
    char called[16];
    snprintf(called, sizeof called, "%s", call(2)->number);
    cr_assert_str_eq(called, "B001", "green first");
    hall_commit(hall);
    uint64_t seq = hall->seq;
    hall_destroy(&hall);

    hall = open_hall(now);
    cr_assert_eq(hall->seq, seq, "the sequence continues");
    cr_assert_not_null(hall_window(hall, 2)->current);
    cr_assert_str_eq(hall_window(hall, 2)->current->number, called);
    cr_assert_eq(hall_window(hall, 1)->state, HALLBUS__WINDOW_STATE__OPEN);
    cr_assert_str_eq(hall_window(hall, 1)->staff, "staff-1");
    cr_assert_str_eq(take("A")->number, "A002", "numbers continue without reuse");
    ticket_t *next = call(1);
    cr_assert_str_eq(next->number, "A001", "the waiting line survived in order");
}

Test(hall, uncommitted_changes_are_not_in_the_store)
{
    take("A");
    hall_commit(hall);
    take("A"); /* never committed: as if the process died here */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(fx.db_path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM tickets", -1, &st, NULL);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ── the business day ── */

Test(hall, rollover_expires_the_unserved_restarts_numbers_and_keeps_history)
{
    open_window(1);
    take("A");
    take("A");
    take("B");
    call(1);
    serve(1);
    hall_commit(hall);
    hall_outbox_free(hall_outbox_take(hall));

    cr_assert_not(hall_rollover(hall, DAY1 + 17 * 60 * MIN), "02:00 next day is still day 1");
    cr_assert(hall_rollover(hall, DAY2));
    hall_commit(hall);
    cr_assert_str_eq(hall->business_date, "2026-11-24");
    outbox_item_t *items = hall_outbox_take(hall);
    cr_assert_not_null(items);
    Hallbus__Envelope *env;
    cr_assert_eq(hb_envelope_decode(items->data, items->len, &env, NULL), HB_DECODE_OK);
    cr_assert_eq(env->event_case, HALLBUS__ENVELOPE__EVENT_DAILY_RESET);
    cr_assert_str_eq(env->daily_reset->previous_date, "2026-11-23");
    cr_assert_eq(env->daily_reset->expired_count, 2);
    hallbus__envelope__free_unpacked(env, NULL);
    hall_outbox_free(items);

    cr_assert_eq(hall_window(hall, 1)->state, HALLBUS__WINDOW_STATE__CLOSED);
    cr_assert_eq(hall_waiting_total(hall), 0);
    now = DAY2;
    cr_assert_str_eq(take("A")->number, "A001");

    sqlite3 *db;
    cr_assert_eq(sqlite3_open(fx.db_path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db,
                       "SELECT COUNT(*), SUM(state = 6), SUM(state = 5) FROM tickets"
                       " WHERE business_date = '2026-11-23'",
                       -1, &st, NULL);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 3, "yesterday's tickets are kept");
    cr_assert_eq(sqlite3_column_int(st, 1), 2, "the unserved expired");
    cr_assert_eq(sqlite3_column_int(st, 2), 1, "the served stay finished");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

Test(hall, a_hall_down_across_the_rollover_closes_the_old_day_at_start)
{
    take("A");
    hall_commit(hall);
    hall_destroy(&hall);
    char err[256];
    hall_store_t *store = hall_store_open(fx.db_path, err, sizeof err);
    hall = hall_new(config, store, DAY2, err, sizeof err);
    cr_assert_not_null(hall);
    cr_assert_str_eq(hall->business_date, "2026-11-24");
    outbox_item_t *items = hall_outbox_take(hall);
    cr_assert_not_null(items, "the reset is published once the daemon runs");
    hall_outbox_free(items);
    now = DAY2;
    cr_assert_str_eq(take("A")->number, "A001");
}

/* ── the command layer ── */

static Hallbus__Reply *handle(const void *data, size_t len)
{
    queue_counters_t counters = {0};
    uint8_t *out;
    size_t outlen;
    queue_handle(hall, data, len, now, &counters, &out, &outlen);
    Hallbus__Reply *r = hallbus__reply__unpack(NULL, outlen, out);
    free(out);
    cr_assert_not_null(r);
    return r;
}

Test(hall, garbage_bytes_get_a_malformed_reply)
{
    Hallbus__Reply *r = handle("\xff\xff\xff\xff\x0f", 5);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__MALFORMED);
    cr_assert(strstr(r->message, "not a protobuf Request"));
    hallbus__reply__free_unpacked(r, NULL);
}

Test(hall, an_oversized_request_gets_too_large)
{
    size_t len = HB_REQUEST_MAX + 1;
    char *big = calloc(1, len);
    Hallbus__Reply *r = handle(big, len);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__TOO_LARGE);
    hallbus__reply__free_unpacked(r, NULL);
    free(big);
}

Test(hall, a_request_without_a_known_command_is_unknown)
{
    /* field 99, varint 1: a command from a newer client */
    const uint8_t newer[] = {0x08, 0x07, 0x98, 0x06, 0x01};
    Hallbus__Reply *r = handle(newer, sizeof newer);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__UNKNOWN_COMMAND);
    cr_assert_eq(r->request_id, 7, "the request id is echoed");
    hallbus__reply__free_unpacked(r, NULL);
}

Test(hall, a_request_for_another_hall_is_refused)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.hall_id = "h9";
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    uint8_t buf[64];
    size_t len = hallbus__request__pack(&req, buf);
    Hallbus__Reply *r = handle(buf, len);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__WRONG_HALL);
    hallbus__reply__free_unpacked(r, NULL);
}

Test(hall, snapshot_holds_the_active_tickets_and_its_sequence)
{
    open_window(1);
    take("A");
    take("A");
    take("C");
    call(1);
    serve(1);
    hall_view_t v;
    hall_view_snapshot(hall, now, &v);
    cr_assert_eq(v.snapshot.seq, hall->seq);
    cr_assert_eq(v.snapshot.n_tickets, 2, "the finished one is not active");
    cr_assert_eq(v.snapshot.n_recent_calls, 1);
    cr_assert_str_eq(v.snapshot.recent_calls[0]->number, "A001");
    cr_assert_eq(v.status.n_services, 3);
    cr_assert_eq(v.status.services[0]->waiting, 1);
    cr_assert_eq(v.status.services[0]->served_today, 1);
    hall_view_free(&v);

    take("A");
    ticket_t *t;
    hall_err_t err;
    call(1);
    cr_assert_eq(hall_recall(hall, 1, now, &t, &err), OK);
    hall_view_snapshot(hall, now, &v);
    cr_assert_eq(v.snapshot.n_recent_calls, 2, "a recall does not list the ticket twice");
    cr_assert_str_eq(v.snapshot.recent_calls[0]->number, "A002");
    cr_assert_str_eq(v.snapshot.recent_calls[1]->number, "A001");
    hall_view_free(&v);
}

static Hallbus__Reply *handle_request(Hallbus__Request *req)
{
    uint8_t buf[1024];
    size_t len = hallbus__request__pack(req, buf);
    return handle(buf, len);
}

Test(hall, the_journal_returns_events_exactly_as_published_from_a_sequence)
{
    open_window(1);
    take("A");
    take("B");
    hall_commit(hall);
    outbox_item_t *published = hall_outbox_take(hall);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__FetchEvents fe = HALLBUS__FETCH_EVENTS__INIT;
    fe.from_seq = 2;
    req.command_case = HALLBUS__REQUEST__COMMAND_FETCH_EVENTS;
    req.fetch_events = &fe;
    Hallbus__Reply *r = handle_request(&req);
    cr_assert_eq(r->code, OK, "%s", r->message);
    cr_assert_eq(r->events->n_envelopes, 2);
    cr_assert_eq(r->events->last_seq, hall->seq);
    outbox_item_t *it = published->next; /* seq 2 */
    for (size_t i = 0; i < 2; i++, it = it->next) {
        cr_assert_eq(r->events->envelopes[i].len, it->len);
        cr_assert_eq(memcmp(r->events->envelopes[i].data, it->data, it->len), 0);
    }
    hallbus__reply__free_unpacked(r, NULL);
    hall_outbox_free(published);

    fe.from_seq = hall->seq + 1;
    r = handle_request(&req);
    cr_assert_eq(r->code, OK);
    cr_assert_eq(r->events->n_envelopes, 0, "nothing newer yet");
    hallbus__reply__free_unpacked(r, NULL);
}

Test(hall, a_journal_pruned_past_the_asked_sequence_says_gone)
{
    take("A");
    take("A");
    hall_commit(hall);
    cr_assert_eq(hall_store_prune_events(hall->store, now + 1), 0);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__FetchEvents fe = HALLBUS__FETCH_EVENTS__INIT;
    fe.from_seq = 1;
    req.command_case = HALLBUS__REQUEST__COMMAND_FETCH_EVENTS;
    req.fetch_events = &fe;
    Hallbus__Reply *r = handle_request(&req);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__GONE, "%s", r->message);
    cr_assert(strstr(r->message, "#1 is gone"), "%s", r->message);
    cr_assert_gt(r->oldest_seq, 1, "the oldest sequence kept has its own field");
    char said[64];
    snprintf(said, sizeof said, "from #%llu on", (unsigned long long)r->oldest_seq);
    cr_assert(strstr(r->message, said), "the field and the sentence agree: %s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
}

/* REQ handled as if from a key of ROLE. */
static Hallbus__Reply *handle_as(Hallbus__Request *req, hb_role_t role)
{
    uint8_t *out;
    size_t outlen;
    queue_counters_t counters = {0};
    queue_handle_request(hall, req, NULL, role, now, &counters, &out, &outlen);
    Hallbus__Reply *r = hallbus__reply__unpack(NULL, outlen, out);
    free(out);
    cr_assert_not_null(r);
    return r;
}

Test(hall, contacts_resolve_only_for_the_notifiers_key)
{
    hall_take_t in = {"A", HALLBUS__PRIORITY__NORMAL, 0, "+8613800138000", NULL};
    ticket_t *t;
    hall_err_t err;
    cr_assert_eq(hall_take_ticket(hall, &in, now, &t, &err), OK);
    hall_commit(hall);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__ResolveContact rc = HALLBUS__RESOLVE_CONTACT__INIT;
    rc.contact_ref = t->contact_ref;
    req.command_case = HALLBUS__REQUEST__COMMAND_RESOLVE_CONTACT;
    req.resolve_contact = &rc;
    const hb_role_t others[] = {HB_ROLE_KIOSK, HB_ROLE_COUNTER, HB_ROLE_DISPLAY, HB_ROLE_AUDIT,
                                HB_ROLE_SUPERVISOR};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        Hallbus__Reply *r = handle_as(&req, others[i]);
        cr_assert_eq(r->code, HALLBUS__STATUS_CODE__PERMISSION_DENIED, "%s: %s",
                     hb_role_name(others[i]), r->message);
        cr_assert_null(memmem(r->message, strlen(r->message), "0013", 4));
        hallbus__reply__free_unpacked(r, NULL);
    }

    Hallbus__Reply *r = handle_as(&req, HB_ROLE_NOTIFIER);
    cr_assert_eq(r->code, OK, "%s", r->message);
    cr_assert_str_eq(r->contact->contact, "+8613800138000");
    cr_assert_str_eq(r->contact->ticket_number, "A001");
    hallbus__reply__free_unpacked(r, NULL);

    rc.contact_ref = "ct-nonexistent";
    r = handle_as(&req, HB_ROLE_NOTIFIER);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__NOT_FOUND);
    hallbus__reply__free_unpacked(r, NULL);
}

Test(hall, an_accepted_matter_is_marked_ready_once_even_on_a_later_day)
{
    open_window(1);
    take("A");
    take("A");
    ticket_t *t;
    hall_err_t err;
    call(1);
    cr_assert_eq(hall_start(hall, 1, now, &t, &err), OK);
    hall_finish_t accepted = {HALLBUS__RESULT__ACCEPTED, NULL, NULL, 0, "2026-11-30"};
    cr_assert_eq(hall_finish(hall, 1, &accepted, now, &t, &err), OK, "%s", err.msg);
    call(1);
    serve(1); /* A002: completed on the spot */
    hall_commit(hall);
    cr_assert(hall_rollover(hall, DAY2));
    hall_commit(hall);
    hall_outbox_free(hall_outbox_take(hall));

    ASSERT_REFUSED(hall_mark_ready(hall, "A002", "2026-11-23", DAY2, &err),
                   HALLBUS__STATUS_CODE__INVALID_STATE, "nothing to collect");
    ASSERT_REFUSED(hall_mark_ready(hall, "A001", NULL, DAY2, &err), HALLBUS__STATUS_CODE__NOT_FOUND,
                   "no ticket A001 of 2026-11-24");
    cr_assert_eq(hall_mark_ready(hall, "A001", "2026-11-23", DAY2, &err), OK, "%s", err.msg);
    hall_commit(hall);
    outbox_item_t *items = hall_outbox_take(hall);
    Hallbus__Envelope *env;
    cr_assert_eq(hb_envelope_decode(items->data, items->len, &env, NULL), HB_DECODE_OK);
    cr_assert_eq(env->event_case, HALLBUS__ENVELOPE__EVENT_TICKET_READY);
    cr_assert_str_eq(env->ticket_ready->ticket->number, "A001");
    cr_assert_str_eq(env->ticket_ready->ticket->business_date, "2026-11-23");
    cr_assert_str_eq(env->ticket_ready->ticket->promised_date, "2026-11-30");
    cr_assert_str_eq(env->ticket_ready->ready_date, "2026-11-24");
    hallbus__envelope__free_unpacked(env, NULL);
    hall_outbox_free(items);
    ASSERT_REFUSED(hall_mark_ready(hall, "A001", "2026-11-23", DAY2, &err),
                   HALLBUS__STATUS_CODE__REFUSED, "already marked ready");
}

Test(hall, ahead_counts_every_place_in_a_long_line)
{
    ticket_t *line[11];
    for (int i = 0; i < 11; i++)
        line[i] = take("A");
    for (int i = 0; i < 11; i++)
        cr_assert_eq(hall_ahead(hall, line[i]), (uint32_t)i, "ticket %d", i);
    ticket_t *g = take_green("A");
    cr_assert_eq(hall_ahead(hall, g), 0);
    cr_assert_eq(hall_ahead(hall, line[5]), 6, "the green ticket goes ahead");
}

/* ── clock steps ── */

static Hallbus__Envelope *last_event_of(Hallbus__Envelope__EventCase kind)
{
    hall_commit(hall);
    Hallbus__Envelope *found = NULL;
    outbox_item_t *items = hall_outbox_take(hall);
    for (outbox_item_t *it = items; it; it = it->next) {
        Hallbus__Envelope *env = hallbus__envelope__unpack(NULL, it->len, it->data);
        if (env && env->event_case == kind) {
            if (found)
                hallbus__envelope__free_unpacked(found, NULL);
            found = env;
        } else if (env) {
            hallbus__envelope__free_unpacked(env, NULL);
        }
    }
    hall_outbox_free(items);
    cr_assert_not_null(found);
    return found;
}

Test(hall, a_clock_set_back_an_hour_gives_no_negative_durations)
{
    open_window(1);
    take("A");
    now -= 60 * MIN; /* the clock is set back an hour */
    ticket_t *t;
    hall_err_t err;
    cr_assert_eq(hall_call_next(hall, 1, now, &t, &err), OK, "%s", err.msg);
    cr_assert_eq(hall_start(hall, 1, now, &t, &err), OK, "%s", err.msg);
    hall_finish_t f = {HALLBUS__RESULT__COMPLETED, NULL, NULL, 0, NULL};
    cr_assert_eq(hall_finish(hall, 1, &f, now - MIN, &t, &err), OK, "%s", err.msg);
    Hallbus__Envelope *env = last_event_of(HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED);
    cr_assert_eq(env->service_finished->wait_seconds, 0, "not 4294963698");
    cr_assert_eq(env->service_finished->service_seconds, 0);
    hallbus__envelope__free_unpacked(env, NULL);
    cr_assert_eq(hall_seconds_between(0, 3 * 1000000), 3);
}

Test(hall, a_business_date_never_stays_ahead_of_a_clock_that_is_right_again)
{
    take("A");
    int64_t month = 30 * 24 * 60 * MIN;
    cr_assert(hall_rollover(hall, DAY1 + month), "the clock jumps a month ahead");
    cr_assert_str_eq(hall->business_date, "2026-12-23");
    ticket_t *future = take("A");
    cr_assert_str_eq(future->number, "A001");
    hall_commit(hall);
    hall_outbox_free(hall_outbox_take(hall));
    now = DAY1 + 60 * MIN; /* and is put right */
    cr_assert(hall_rollover(hall, now), "the hall follows the clock back");
    cr_assert_str_eq(hall->business_date, "2026-11-23");
    ticket_t *t = take("A");
    cr_assert_str_eq(t->number, "A002", "the day's numbering goes on: A001 was given before");
    hall_view_t v;
    hall_view_snapshot(hall, now, &v);
    cr_assert_str_eq(v.snapshot.tickets[0]->business_date, "2026-11-23");
    cr_assert_eq(v.snapshot.n_tickets, 1, "the future day's ticket expired with its day");
    hall_view_free(&v);
    /* a small step back across the rollover does not undo the new day */
    cr_assert(hall_rollover(hall, DAY2));
    cr_assert_not(hall_rollover(hall, DAY2 - 5 * MIN));
    cr_assert_str_eq(hall->business_date, "2026-11-24");
}
