/* One definition of "waiting", seen three ways with the real daemons: the
 * hall's status (GetStatus), the board (hall-display's /api/state) and a
 * ticket's place ("ahead" when taken, Ticket.place later) must agree with
 * each other and with the truth -- the order in which the tickets are then
 * called -- once a checked-in appointment whose slot has begun goes before
 * the walk-ins. (Before hall-queue's summaries, status left the appointment
 * out, "ahead" left it out, and the board counted it.) */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "fixture.h"
#include "hallbus/clock.h"
#include "sse_client.h"

#define OK HALLBUS__STATUS_CODE__OK
#define WALK_INS 3

static hb_fixture_t fx;
static pid_t display;
static char base[64];
static time_t slot_start; /* the appointment's slot */
static char slot[16];

static void cleanup(void)
{
    hb_fixture_kill(&display, SIGKILL);
    hb_fixture_stop(&fx);
}

/* Slots are whole minutes from a session's start, and a slot can be booked
 * only before it begins: a session that starts at the next whole minute
 * (at least 15 s away, for a hall started on a busy machine) gives a slot that begins within a
 * minute. */
static void start_hall(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    int minute = tm.tm_hour * 60 + tm.tm_min + (tm.tm_sec > 45 ? 2 : 1);
    if (minute + 10 > 23 * 60 + 59)
        cr_skip_test("too close to midnight for a slot today; run it again after 00:00");
    slot_start = now - tm.tm_sec + (minute - tm.tm_hour * 60 - tm.tm_min) * 60;
    snprintf(slot, sizeof slot, "%02d:%02d", minute / 60, minute % 60);
    char sessions[64];
    snprintf(sessions, sizeof sessions, "[\"00:00-%s\", \"%s-23:59\"]", slot, slot);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    int port = hb_free_port();
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    static char extra[1024];
    snprintf(extra, sizeof extra,
             "display:\n  http: \"127.0.0.1:%d\"\n"
             "hours:\n  sun: %s\n  mon: %s\n  tue: %s\n  wed: %s\n  thu: %s\n  fri: %s\n"
             "  sat: %s\n",
             port, sessions, sessions, sessions, sessions, sessions, sessions, sessions);
    hb_fixture_opts_t opts = {
        .services_windows_yaml =
            "services:\n"
            "  - {prefix: A, name: General, target_minutes: 10, appointments: {slot_minutes: 5,"
            " capacity: 4, checkin_before_minutes: 30, checkin_after_minutes: 30}}\n"
            "windows:\n"
            "  - {number: 1, services: [A]}\n",
        .extra_yaml = extra,
    };
    cr_assert_eq(hb_fixture_start(&fx, &opts), 0, "the hall did not start");
    const char *args[] = {"-c", fx.config, NULL};
    display = hb_fixture_spawn(&fx, "hall-display", args);
    cr_assert_gt(display, 0);
}

static Hallbus__Reply *call(Hallbus__Request *req)
{
    Hallbus__Reply *r = hb_fixture_call(&fx, req);
    cr_assert_not_null(r, "hall-queue answered");
    cr_assert_eq(r->code, OK, "%s", r->message);
    return r;
}

/* Service A's waiting count as GetStatus says, and the hall's seq. */
static uint32_t status_waiting(uint64_t *seq)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    Hallbus__Reply *r = call(&req);
    cr_assert_eq(r->status->n_services, 1);
    uint32_t waiting = r->status->services[0]->waiting;
    *seq = r->status->seq;
    hallbus__reply__free_unpacked(r, NULL);
    return waiting;
}

/* NUMBER's place in its line (Ticket.place), as GetTicket says. */
static uint32_t place_of(const char *number)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetTicket gt = HALLBUS__GET_TICKET__INIT;
    gt.number = (char *)number;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_TICKET;
    req.get_ticket = &gt;
    Hallbus__Reply *r = call(&req);
    cr_assert_eq(r->ticket->state, HALLBUS__TICKET_STATE__WAITING, "%s is waiting", number);
    uint32_t place = r->ticket->place;
    hallbus__reply__free_unpacked(r, NULL);
    return place;
}

/* The board at the hall's seq SEQ shows WAITING for service A. */
typedef struct {
    uint64_t seq;
    long long waiting; /* what the board shows, once at seq */
} board_t;

static bool board_at(void *arg)
{
    board_t *b = arg;
    char url[128];
    snprintf(url, sizeof url, "%s/api/state", base);
    json_t *s = http_get_json(url);
    bool ok = s && json_is_true(json_object_get(s, "synced")) &&
              (uint64_t)json_integer_value(json_object_get(s, "seq")) == b->seq;
    if (ok) {
        json_t *a = json_array_get(json_object_get(s, "services"), 0);
        b->waiting = json_integer_value(json_object_get(a, "waiting"));
    }
    json_decref(s);
    return ok;
}

/* Status, board and the last ticket's place all say that WAITING tickets
 * wait, LAST (the latest walk-in) behind all the others. */
static void all_agree(uint32_t waiting, const char *last)
{
    board_t b = {.waiting = -1};
    uint32_t status = status_waiting(&b.seq);
    cr_assert(hb_wait_until(board_at, &b, 5000), "the board is live at seq %llu",
              (unsigned long long)b.seq);
    cr_assert_eq(status, waiting, "status says %u waiting; %u tickets wait", status, waiting);
    cr_assert_eq(b.waiting, (long long)waiting, "the board says %lld waiting; %u tickets wait",
                 b.waiting, waiting);
    uint32_t place = place_of(last);
    cr_assert_eq(place, waiting - 1, "%s has %u ahead; %u others wait", last, place, waiting - 1);
}

static bool slot_has_begun(void *arg)
{
    return time(NULL) >= slot_start && place_of(arg) == 0;
}

Test(display_waiting_e2e, status_board_and_ahead_agree_once_an_appointment_is_checked_in,
     .init = start_hall, .fini = cleanup, .timeout = 150)
{
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "li"), OK);
    for (int i = 0; i < WALK_INS; i++)
        cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);

    /* book the slot that begins next, and check in for it at once */
    struct tm tm;
    localtime_r(&slot_start, &tm);
    char date[HB_DATE_LEN];
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__BookAppointment bk = HALLBUS__BOOK_APPOINTMENT__INIT;
    bk.service = "A";
    bk.date = date;
    bk.slot = slot;
    req.command_case = HALLBUS__REQUEST__COMMAND_BOOK_APPOINTMENT;
    req.book_appointment = &bk;
    Hallbus__Reply *booked = call(&req);
    Hallbus__Request ci = HALLBUS__REQUEST__INIT;
    Hallbus__CheckIn c = HALLBUS__CHECK_IN__INIT;
    c.code = booked->appointment->code;
    ci.command_case = HALLBUS__REQUEST__COMMAND_CHECK_IN;
    ci.check_in = &c;
    Hallbus__Reply *checked = call(&ci);
    hallbus__reply__free_unpacked(booked, NULL);
    cr_assert_not_null(checked->checked_in_ticket);
    char appointment[16];
    snprintf(appointment, sizeof appointment, "%s", checked->checked_in_ticket->number);
    cr_assert_eq(checked->ahead, WALK_INS, "before its slot it waits behind the walk-ins");
    hallbus__reply__free_unpacked(checked, NULL);
    all_agree(WALK_INS + 1, appointment);

    /* its slot begins: it goes before the walk-ins */
    cr_assert(hb_wait_until(slot_has_begun, appointment, 75000),
              "%s goes first once its %s slot begins", appointment, slot);

    char number[16];
    Hallbus__Request tk = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket tt = HALLBUS__TAKE_TICKET__INIT;
    tt.service = "A";
    tk.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    tk.take_ticket = &tt;
    Hallbus__Reply *taken = call(&tk);
    snprintf(number, sizeof number, "%s", taken->ticket->number);
    uint32_t ahead = taken->ahead;
    hallbus__reply__free_unpacked(taken, NULL);
    cr_assert_eq(ahead, WALK_INS + 1, "%s: %u ahead; the walk-ins and the appointment are", number,
                 ahead);
    all_agree(WALK_INS + 2, number);

    /* the truth: exactly AHEAD tickets are called before it, the appointment
     * first; after every call the three still agree */
    for (uint32_t k = 0; k < ahead; k++) {
        char called[16];
        cr_assert_eq(hb_fx_act(&fx, "call", 1, called), OK);
        cr_assert_str_neq(called, number, "%s called after %u of %u ahead", number, k, ahead);
        if (k == 0)
            cr_assert_str_eq(called, appointment, "the appointment is called first");
        all_agree(WALK_INS + 1 - k, number);
        cr_assert_eq(hb_fx_act(&fx, "start", 1, NULL), OK);
        cr_assert_eq(hb_fx_finish(&fx, 1), OK);
    }
    char called[16];
    cr_assert_eq(hb_fx_act(&fx, "call", 1, called), OK);
    cr_assert_str_eq(called, number, "it is called after its %u ahead", ahead);

    int status = hb_fixture_kill(&display, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hall-display stopped cleanly");
    cr_assert_eq(hb_fixture_stop(&fx), 0, "the daemons stopped cleanly");
    curl_global_cleanup();
}
