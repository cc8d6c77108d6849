/* hall-notifier's parts on their own: templates, backoff, the rate limiter,
 * the outbox and its state machine, contacts, and the notifier: section of
 * the hall file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hallbus/config.h"
#include "outbox.h"
#include "payload.h"
#include "retry.h"
#include "template.h"
#include "tracker.h"

/* ── templates ── */

Test(template, fills_named_fields_in_both_languages)
{
    nt_fields_t f = {0};
    nt_fields_set(&f, "number", "A012");
    nt_fields_set(&f, "window", "3");
    char *zh = nt_render("请{number}号到{window}号窗口办理。", &f);
    char *en = nt_render("Ticket {number}, please go to window {window} now.", &f);
    cr_assert_str_eq(zh, "请A012号到3号窗口办理。");
    cr_assert_str_eq(en, "Ticket A012, please go to window 3 now.");
    free(zh);
    free(en);
}

Test(template, a_field_without_a_value_renders_empty_and_text_without_fields_is_kept)
{
    nt_fields_t f = {0};
    char *a = nt_render("[{number}]", &f);
    char *b = nt_render("no fields at all", &f);
    cr_assert_str_eq(a, "[]");
    cr_assert_str_eq(b, "no fields at all");
    free(a);
    free(b);
}

Test(template, check_refuses_a_field_the_kind_does_not_have)
{
    char why[300];
    cr_assert_eq(hb_note_template_check(HB_NOTE_CALLED, "go to {window}", why, sizeof why), 0);
    cr_assert_eq(hb_note_template_check(HB_NOTE_NEAR, "go to {window}", why, sizeof why), -1);
    cr_assert(strstr(why, "\"window\"") && strstr(why, "near"), "%s", why);
    cr_assert_eq(hb_note_template_check(HB_NOTE_CALLED, "go to {window", why, sizeof why), -1);
    cr_assert_eq(hb_note_template_check(HB_NOTE_CALLED, "go to window}", why, sizeof why), -1);
    cr_assert_eq(hb_note_template_check(HB_NOTE_NO_SHOW, "{until}", why, sizeof why), 0);
}

static char *write_hall(const char *notifier)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/hb-notifier-unit-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f,
            "hall:\n  id: h1\n  name: Hall\n"
            "services:\n  - {prefix: A, name: General}\n"
            "windows:\n  - {number: 1, services: [A]}\n"
            "endpoints:\n  command: \"tcp://127.0.0.1:1\"\n  bus_pub: \"tcp://127.0.0.1:2\"\n"
            "  bus_sub: \"tcp://127.0.0.1:3\"\n"
            "%s",
            notifier);
    fclose(f);
    return path;
}

Test(config, a_template_naming_a_missing_field_is_refused_with_file_and_line)
{
    char *path = write_hall("notifier:\n"
                            "  messages:\n"
                            "    - kind: near\n"
                            "      zh: \"前面还有{ahead}人\"\n"
                            "      en: \"go to window {window}\"\n");
    char err[HB_CONFIG_ERR_MAX];
    hb_config_t *c = hb_config_load(path, err);
    cr_assert_null(c);
    char want[128];
    snprintf(want, sizeof want, "%s:16: notifier.messages[0].en: names field \"window\"", path);
    cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
    unlink(path);
}

Test(config, channels_limits_retries_and_thresholds_are_read)
{
    char *path = write_hall("notifier:\n"
                            "  db: \"x.db\"\n"
                            "  language: en\n"
                            "  near_ahead: 4\n"
                            "  near: [{service: A, ahead: 2}]\n"
                            "  webhook: {allow: \"https://hooks.example/\", secret: "
                            "\"0123456789abcdef\", rate: 7, burst: 9}\n"
                            "  sms: {url: \"http://gw/send\", secret: \"0123456789abcdef\"}\n"
                            "  messages:\n"
                            "    - {kind: called, deadline_s: 120, zh: \"去{window}\"}\n");
    char err[HB_CONFIG_ERR_MAX];
    hb_config_t *c = hb_config_load(path, err);
    cr_assert_not_null(c, "%s", err);
    const hb_notifier_conf_t *n = &c->notifier;
    cr_assert_str_eq(n->db, "x.db");
    cr_assert_str_eq(n->language, "en");
    cr_assert_eq(hb_notify_near_for(n, "A"), 2);
    cr_assert_eq(hb_notify_near_for(n, "B"), 4);
    cr_assert(n->webhook.enabled && n->sms.enabled && !n->command.enabled);
    cr_assert_eq(n->webhook.rate, 7);
    cr_assert_eq(n->webhook.burst, 9);
    cr_assert_eq(n->sms.rate, 10, "the default rate");
    cr_assert_eq(n->kinds[HB_NOTE_CALLED].deadline_s, 120);
    cr_assert_str_eq(n->kinds[HB_NOTE_CALLED].zh, "去{window}");
    cr_assert(strstr(n->kinds[HB_NOTE_CALLED].en, "{window}"), "the built-in English stays");
    cr_assert_eq(n->kinds[HB_NOTE_NEAR].deadline_s, 600, "other kinds keep their defaults");
    hb_config_destroy(&c);
    unlink(path);
}

Test(config, a_short_secret_or_a_bad_url_is_refused)
{
    char err[HB_CONFIG_ERR_MAX];
    char *path = write_hall("notifier:\n  sms: {url: \"http://gw\", secret: \"short\"}\n");
    cr_assert_null(hb_config_load(path, err));
    cr_assert(strstr(err, ":13: notifier.sms.secret: is shorter than 16"), "%s", err);
    unlink(path);
    path = write_hall("notifier:\n  sms: {url: \"ftp://gw\", secret: \"0123456789abcdef\"}\n");
    cr_assert_null(hb_config_load(path, err));
    cr_assert(strstr(err, "notifier.sms.url: \"ftp://gw\" is not an http"), "%s", err);
    unlink(path);
    path = write_hall("notifier:\n  messages:\n    - {kind: birthday}\n");
    cr_assert_null(hb_config_load(path, err));
    cr_assert(strstr(err, ":14: notifier.messages[0].kind: unknown kind"), "%s", err);
    unlink(path);
}

/* ── backoff and the rate limiter ── */

Test(backoff, doubles_per_failure_up_to_the_ceiling_with_jitter_in_the_upper_half)
{
    cr_assert_eq(nt_backoff_ms(100, 10000, 1, 0.0), 50);
    cr_assert_eq(nt_backoff_ms(100, 10000, 1, 0.999999), 99);
    cr_assert_eq(nt_backoff_ms(100, 10000, 2, 0.0), 100);
    cr_assert_eq(nt_backoff_ms(100, 10000, 4, 0.0), 400);
    cr_assert_eq(nt_backoff_ms(100, 1000, 30, 0.0), 500, "capped");
    cr_assert_eq(nt_backoff_ms(100, 1000, 1000000, 0.5), 750, "no overflow");
    for (int i = 0; i < 1000; i++) {
        uint64_t d = nt_backoff_ms(200, 5000, 3, (double)i / 1000.0);
        cr_assert(d >= 400 && d <= 800, "%llu", (unsigned long long)d);
    }
}

Test(ratelimit, a_burst_then_the_rate)
{
    nt_bucket_t b;
    int64_t t = 1000000;
    nt_bucket_init(&b, 10, 3, t);
    cr_assert(nt_bucket_take(&b, t));
    cr_assert(nt_bucket_take(&b, t));
    cr_assert(nt_bucket_take(&b, t));
    cr_assert_not(nt_bucket_take(&b, t), "the burst is spent");
    int64_t wait = nt_bucket_wait_us(&b, t);
    cr_assert(wait > 99000 && wait <= 100001, "%lld", (long long)wait);
    cr_assert_not(nt_bucket_take(&b, t + 50000));
    cr_assert(nt_bucket_take(&b, t + 100001));
    /* a long pause refills only up to the burst */
    int n = 0;
    while (nt_bucket_take(&b, t + 100000000))
        n++;
    cr_assert_eq(n, 3);
}

/* ── the outbox state machine ── */

Test(outbox, the_state_machine_decides_sent_failed_retry_or_expired)
{
    int64_t next = 0;
    cr_assert_eq(nt_after_attempt(NT_DELIVERED, 0, 1000000, 1, 100, 1000, 0.5, &next), NT_SENT);
    cr_assert_eq(nt_after_attempt(NT_PERMANENT, 0, 1000000, 1, 100, 1000, 0.5, &next), NT_FAILED);
    cr_assert_eq(nt_after_attempt(NT_TRANSIENT, 0, 1000000, 1, 100, 1000, 0.0, &next), NT_PENDING);
    cr_assert_eq(next, 50000);
    cr_assert_eq(nt_after_attempt(NT_TRANSIENT, 0, 50000, 1, 100, 1000, 0.0, &next), NT_EXPIRED,
                 "a retry at the deadline is too late");
}

static char db_path[64];

static nt_outbox_t *fresh_outbox(void)
{
    snprintf(db_path, sizeof db_path, "/tmp/hb-outbox-unit-%d.db", getpid());
    unlink(db_path);
    char err[256];
    nt_outbox_t *o = nt_outbox_open(db_path, err, sizeof err);
    cr_assert_not_null(o, "%s", err);
    return o;
}

static void drop_outbox(nt_outbox_t **o)
{
    nt_outbox_close(o);
    char p[96];
    unlink(db_path);
    snprintf(p, sizeof p, "%s-wal", db_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db_path);
    unlink(p);
}

static nt_new_msg_t msg(const char *key, const char *ref, int64_t now, int64_t deadline)
{
    return (nt_new_msg_t){.key = key,
                          .hall = "h1",
                          .seq = 7,
                          .kind = HB_NOTE_CALLED,
                          .ticket = "A001",
                          .business_date = "2026-11-23",
                          .contact_ref = ref,
                          .text_zh = "zh",
                          .text_en = "en",
                          .fields_json = "{}",
                          .event_ts = now,
                          .created_at = now,
                          .deadline = deadline};
}

Test(outbox, a_key_is_added_once_and_moves_through_its_states_across_reopen)
{
    nt_outbox_t *o = fresh_outbox();
    nt_new_msg_t a = msg("h1-7-called", "ct-a", 1000, 9000000);
    cr_assert_eq(nt_outbox_add(o, &a), 1);
    cr_assert_eq(nt_outbox_add(o, &a), 0, "the same key twice is one message");
    cr_assert_eq(nt_outbox_set_cursor(o, "h1", 7), 0);
    cr_assert_eq(nt_outbox_commit(o), 0);
    nt_outbox_close(&o);

    char err[256];
    o = nt_outbox_open(db_path, err, sizeof err);
    cr_assert_eq(nt_outbox_cursor(o, "h1"), 7, "the cursor is durable");
    nt_msg_t due[4];
    cr_assert_eq(nt_outbox_due(o, 500, due, 4, NULL, NULL), 0, "not due before its time");
    cr_assert_eq(nt_outbox_due(o, 2000, due, 4, NULL, NULL), 1);
    cr_assert_str_eq(due[0].key, "h1-7-called");
    cr_assert_eq(due[0].attempts, 0);
    int64_t id = due[0].id;
    nt_msg_free(&due[0]);
    nt_outbox_record(o, id, NT_PENDING, 1, 5000, "webhook", "HTTP 500", 2000);
    cr_assert_eq(nt_outbox_due(o, 4000, due, 4, NULL, NULL), 0, "waits for its backoff");
    cr_assert_eq(nt_outbox_due(o, 5000, due, 4, NULL, NULL), 1);
    cr_assert_eq(due[0].attempts, 1);
    nt_msg_free(&due[0]);
    nt_outbox_record(o, id, NT_SENT, 2, 0, "webhook", NULL, 5000);
    nt_outbox_commit(o);
    cr_assert_eq(nt_outbox_state(o, id), NT_SENT);
    cr_assert_eq(nt_outbox_due(o, 99999999, due, 4, NULL, NULL), 0, "a sent message stays sent");
    unsigned counts[4];
    nt_outbox_counts(o, counts);
    cr_assert_eq(counts[NT_SENT], 1);
    cr_assert_eq(nt_outbox_prune(o, 4000), 0, "changed at 5000: kept");
    cr_assert_eq(nt_outbox_prune(o, 6000), 1, "settled long enough: removed");
    drop_outbox(&o);
}

Test(outbox, past_deadlines_expire_and_a_ticket_waits_for_its_earlier_message)
{
    nt_outbox_t *o = fresh_outbox();
    nt_new_msg_t late = msg("k-late", "ct-l", 1000, 500);
    cr_assert_eq(nt_outbox_add(o, &late), 1);
    nt_new_msg_t first = msg("k-1", "ct-x", 1000, 100000);
    nt_new_msg_t second = msg("k-2", "ct-x", 1000, 100000);
    nt_new_msg_t other = msg("k-3", "ct-y", 1000, 50000);
    nt_outbox_add(o, &first);
    nt_outbox_add(o, &second);
    nt_outbox_add(o, &other);
    nt_outbox_commit(o);
    nt_msg_t due[8];
    int n = nt_outbox_due(o, 2000, due, 8, NULL, NULL);
    cr_assert_eq(n, 2, "k-late was born expired; k-2 waits for k-1");
    cr_assert_str_eq(due[0].key, "k-1");
    cr_assert_str_eq(due[1].key, "k-3");
    int64_t id1 = due[0].id;
    for (int i = 0; i < n; i++)
        nt_msg_free(&due[i]);
    cr_assert_eq(nt_outbox_expire(o, 60000), 1, "k-3's deadline passed");
    nt_outbox_record(o, id1, NT_FAILED, 1, 0, "webhook", "HTTP 404", 3000);
    n = nt_outbox_due(o, 3000, due, 8, NULL, NULL);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(due[0].key, "k-2", "once k-1 is settled, k-2 goes");
    nt_msg_free(&due[0]);
    unsigned counts[4];
    nt_outbox_counts(o, counts);
    cr_assert_eq(counts[NT_EXPIRED], 2);
    cr_assert_eq(counts[NT_FAILED], 1);
    cr_assert_eq(counts[NT_PENDING], 1);
    drop_outbox(&o);
}

/* ── contacts ── */

Test(contact, phones_go_to_sms_urls_to_webhooks_and_logs_see_them_masked)
{
    char m[64];
    cr_assert_eq(nt_contact_channel("13812348000"), NT_CH_SMS);
    cr_assert_eq(nt_contact_channel("+86 138-1234-8000"), NT_CH_SMS);
    cr_assert_eq(nt_contact_channel("https://x.example/h?t=1"), NT_CH_WEBHOOK);
    cr_assert_eq(nt_contact_channel("wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M"), NT_CH_COMMAND);
    nt_mask_contact("13812348000", m, sizeof m);
    cr_assert_str_eq(m, "138****8000");
    nt_mask_contact("https://x.example/h?token=secret", m, sizeof m);
    cr_assert_str_eq(m, "https://x.example/…");
    nt_mask_contact("wechat:o6_bmjr", m, sizeof m);
    cr_assert_str_eq(m, "we***");
}

Test(payload, the_body_is_signed_with_hmac_sha256_of_the_secret)
{
    char sig[128];
    /* RFC 4231 test case 2 */
    nt_sign("Jefe", "what do ya want for nothing?", 28, sig, sizeof sig);
    cr_assert_str_eq(sig,
                     "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* ── the tracker: "N ahead" from snapshot plus events ── */

typedef struct {
    char kinds[32][16];
    char tickets[32][16];
    char ahead[32][8];
    int n;
} seen_t;

static void record(const nt_decision_t *d, void *arg)
{
    seen_t *s = arg;
    snprintf(s->kinds[s->n], 16, "%s", hb_note_kind_name(d->kind));
    snprintf(s->tickets[s->n], 16, "%s", d->ticket);
    snprintf(s->ahead[s->n], 8, "%s", nt_fields_get(d->fields, "ahead"));
    s->n++;
}

/* The line changes the next event carries, as hall-queue attaches them. */
static Hallbus__LineChange change_buf[4], *change_ptrs[4];

static void line_change(Hallbus__Envelope *e, uint64_t id, uint32_t place, bool removed)
{
    Hallbus__LineChange *c = &change_buf[e->n_line_changes];
    hallbus__line_change__init(c);
    c->service = "A";
    c->ticket_id = id;
    c->place = place;
    c->removed = removed;
    change_ptrs[e->n_line_changes++] = c;
    e->line_changes = change_ptrs;
}

static Hallbus__Envelope issued(Hallbus__Ticket *t, Hallbus__TicketIssued *ev, uint64_t seq,
                                uint64_t id, const char *number, const char *ref)
{
    hallbus__ticket__init(t);
    hallbus__ticket_issued__init(ev);
    t->id = id;
    t->number = (char *)number;
    t->service = "A";
    t->state = HALLBUS__TICKET_STATE__WAITING;
    t->contact_ref = (char *)ref;
    t->business_date = "2026-11-23";
    ev->ticket = t;
    ev->ahead = (uint32_t)id - 1; /* one line, nobody called yet */
    Hallbus__Envelope e = HALLBUS__ENVELOPE__INIT;
    e.hall_id = "h1";
    e.seq = seq;
    e.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED;
    e.ticket_issued = ev;
    line_change(&e, id, ev->ahead, false);
    return e;
}

Test(tracker, n_ahead_is_told_once_when_the_line_moves_within_the_threshold)
{
    char *path = write_hall("notifier:\n  near_ahead: 1\n");
    char err[HB_CONFIG_ERR_MAX];
    hb_config_t *c = hb_config_load(path, err);
    cr_assert_not_null(c, "%s", err);
    seen_t s = {0};
    nt_tracker_t *tr = nt_tracker_new(c, record, &s);
    Hallbus__Ticket t[3];
    Hallbus__TicketIssued ev[3];
    const char *numbers[3] = {"A001", "A002", "A003"};
    const char *refs[3] = {"", "ct-2", "ct-3"};
    for (int i = 0; i < 3; i++) {
        Hallbus__Envelope e =
            issued(&t[i], &ev[i], (uint64_t)i + 1, (uint64_t)i + 1, numbers[i], refs[i]);
        nt_tracker_event(tr, &e, true);
    }
    cr_assert_eq(nt_tracker_waiting(tr), 3);
    cr_assert_eq(nt_tracker_ahead(tr, "A003"), 2);
    cr_assert_eq(s.n, 1, "A002 came with 1 ahead: told at once");
    cr_assert_str_eq(s.tickets[0], "A002");
    cr_assert_str_eq(s.ahead[0], "1");

    /* A001 is called: A003 now has 1 ahead */
    Hallbus__TicketCalled called = HALLBUS__TICKET_CALLED__INIT;
    called.ticket = &t[0];
    called.window = 1;
    Hallbus__Envelope e = HALLBUS__ENVELOPE__INIT;
    e.hall_id = "h1";
    e.seq = 4;
    e.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_CALLED;
    e.ticket_called = &called;
    line_change(&e, 1, 0, true);
    nt_tracker_event(tr, &e, true);
    cr_assert_eq(s.n, 2, "A001 has no contact, so no call message; A003 is told");
    cr_assert_str_eq(s.tickets[1], "A003");
    cr_assert_str_eq(s.ahead[1], "1");

    /* A002 is called: a call message, and A003 (told already) hears nothing more */
    called.ticket = &t[1];
    e.seq = 5;
    e.n_line_changes = 0;
    line_change(&e, 2, 0, true);
    nt_tracker_event(tr, &e, true);
    cr_assert_eq(s.n, 3);
    cr_assert_str_eq(s.kinds[2], "called");
    cr_assert_str_eq(s.tickets[2], "A002");
    cr_assert_eq(nt_tracker_ahead(tr, "A003"), 0);

    /* an event the snapshot already reflects decides its message but moves no one */
    called.ticket = &t[2];
    e.seq = 6;
    nt_tracker_event(tr, &e, false);
    cr_assert_eq(s.n, 4);
    cr_assert_eq(nt_tracker_waiting(tr), 1, "not applied");

    /* a line change for a ticket the model does not hold: out of step */
    e.seq = 7;
    e.n_line_changes = 0;
    line_change(&e, 99, 0, true);
    cr_assert_eq(nt_tracker_event(tr, &e, true), -1, "out of step with the hall's lines");
    nt_tracker_destroy(&tr);
    hb_config_destroy(&c);
    unlink(path);
}

/* ── appointment reminders ── */

typedef struct {
    nt_decision_t last;
    char key[NT_KEY_MAX], slot[40], withdraw[80];
    int n;
} reminder_seen_t;

static void record_reminder(const nt_decision_t *d, void *arg)
{
    reminder_seen_t *s = arg;
    s->last = *d;
    snprintf(s->key, sizeof s->key, "%s", d->key);
    snprintf(s->withdraw, sizeof s->withdraw, "%s", d->withdraw ? d->withdraw : "");
    snprintf(s->slot, sizeof s->slot, "%s", d->fields ? nt_fields_get(d->fields, "slot_time") : "");
    s->n++;
}

Test(tracker, a_booked_appointment_is_reminded_before_its_slot_and_withdrawn_when_cancelled)
{
    char *path = write_hall("notifier:\n  reminder_minutes: 90\n");
    char err[HB_CONFIG_ERR_MAX];
    hb_config_t *c = hb_config_load(path, err);
    cr_assert_not_null(c, "%s", err);
    reminder_seen_t s = {0};
    nt_tracker_t *tr = nt_tracker_new(c, record_reminder, &s);
    Hallbus__Appointment a = HALLBUS__APPOINTMENT__INIT;
    a.code = "H7K2QX";
    a.service = "A";
    a.date = "2026-11-24";
    a.slot = "09:30";
    a.slot_start = 1000000000000000LL;
    a.contact_ref = "ct-abc";
    Hallbus__AppointmentBooked booked = HALLBUS__APPOINTMENT_BOOKED__INIT;
    booked.appointment = &a;
    Hallbus__Envelope e = HALLBUS__ENVELOPE__INIT;
    e.hall_id = "h1";
    e.seq = 3;
    e.ts = 999000000000000LL;
    e.event_case = HALLBUS__ENVELOPE__EVENT_APPOINTMENT_BOOKED;
    e.appointment_booked = &booked;
    nt_tracker_event(tr, &e, false);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.last.kind, HB_NOTE_REMINDER);
    cr_assert_str_eq(s.key, "h1-appt-H7K2QX-reminder");
    cr_assert_eq(s.last.not_before, a.slot_start - 90LL * 60 * 1000000, "90 minutes before");
    cr_assert_eq(s.last.deadline, a.slot_start, "worthless once the slot begins");
    cr_assert_str_eq(s.slot, "2026-11-24 09:30");

    Hallbus__AppointmentCancelled cancelled = HALLBUS__APPOINTMENT_CANCELLED__INIT;
    cancelled.appointment = &a;
    e.seq = 4;
    e.event_case = HALLBUS__ENVELOPE__EVENT_APPOINTMENT_CANCELLED;
    e.appointment_cancelled = &cancelled;
    nt_tracker_event(tr, &e, true);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.key, "h1-appt-H7K2QX-reminder", "the same message");
    cr_assert(strstr(s.withdraw, "cancelled"), "%s", s.withdraw);

    a.contact_ref = "";
    e.event_case = HALLBUS__ENVELOPE__EVENT_APPOINTMENT_BOOKED;
    nt_tracker_event(tr, &e, true);
    cr_assert_eq(s.n, 2, "no contact, no reminder");
    nt_tracker_destroy(&tr);
    hb_config_destroy(&c);
    unlink(path);
}

Test(outbox, a_message_waits_for_its_time_and_a_withdrawn_one_is_never_sent)
{
    nt_outbox_t *o = fresh_outbox();
    nt_new_msg_t m = msg("h1-appt-X-reminder", "ct-r", 1000, 90000);
    m.not_before = 50000;
    cr_assert_eq(nt_outbox_add(o, &m), 1);
    nt_new_msg_t m2 = msg("h1-appt-Y-reminder", "ct-s", 1000, 90000);
    m2.not_before = 50000;
    cr_assert_eq(nt_outbox_add(o, &m2), 1);
    nt_outbox_commit(o);
    nt_msg_t due[4];
    cr_assert_eq(nt_outbox_due(o, 49999, due, 4, NULL, NULL), 0, "not before its time");
    cr_assert_eq(nt_outbox_withdraw(o, "h1-appt-Y-reminder", "the appointment was cancelled", 2000),
                 1);
    cr_assert_eq(nt_outbox_withdraw(o, "h1-appt-Y-reminder", "again", 2000), 0, "once");
    int n = nt_outbox_due(o, 50000, due, 4, NULL, NULL);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(due[0].key, "h1-appt-X-reminder");
    nt_msg_free(&due[0]);
    /* a reminder waiting for its hour does not hold back the same contact's other messages */
    nt_new_msg_t later = msg("h1-appt-Z-reminder", "ct-z", 1000, 900000);
    later.not_before = 800000;
    nt_new_msg_t now_msg = msg("h1-77-called", "ct-z", 1000, 900000);
    nt_outbox_add(o, &later);
    nt_outbox_add(o, &now_msg);
    n = nt_outbox_due(o, 60000, due, 4, NULL, NULL);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(due[0].key, "h1-77-called", "first by its time");
    cr_assert_str_eq(due[1].key, "h1-appt-X-reminder");
    nt_msg_free(&due[0]);
    nt_msg_free(&due[1]);
    drop_outbox(&o);
}

Test(tracker, a_ticket_goes_where_hall_queue_says_requeued_and_appointments_alike)
{
    char *path = write_hall("notifier:\n  near_ahead: 0\n");
    char err[HB_CONFIG_ERR_MAX];
    hb_config_t *c = hb_config_load(path, err);
    cr_assert_not_null(c, "%s", err);
    seen_t s = {0};
    nt_tracker_t *tr = nt_tracker_new(c, record, &s);
    Hallbus__Ticket t[5];
    Hallbus__TicketIssued ev[5];
    const char *numbers[5] = {"A001", "A002", "A003", "A004", "A005"};
    for (int i = 0; i < 3; i++) {
        Hallbus__Envelope e =
            issued(&t[i], &ev[i], (uint64_t)i + 1, (uint64_t)i + 1, numbers[i], "");
        nt_tracker_event(tr, &e, true);
    }
    /* A004 requeued behind one (queue.requeue_after: 1): 1 ahead, not 3 */
    Hallbus__Envelope e = issued(&t[3], &ev[3], 4, 4, numbers[3], "");
    ev[3].ahead = 1;
    e.n_line_changes = 0;
    line_change(&e, 4, 1, false);
    nt_tracker_event(tr, &e, true);
    cr_assert_eq(nt_tracker_ahead(tr, "A004"), 1);
    cr_assert_eq(nt_tracker_ahead(tr, "A002"), 2, "the walk-ins behind it moved back");
    cr_assert_eq(nt_tracker_ahead(tr, "A003"), 3);
    /* A005 checked in from an appointment whose slot has begun: hall-queue
     * puts it first, and everyone moves back one; the notifier knows no rule */
    e = issued(&t[4], &ev[4], 5, 5, numbers[4], "");
    t[4].appointment_id = 7;
    ev[4].ahead = 0;
    e.n_line_changes = 0;
    line_change(&e, 5, 0, false);
    nt_tracker_event(tr, &e, true);
    cr_assert_eq(nt_tracker_ahead(tr, "A005"), 0);
    cr_assert_eq(nt_tracker_ahead(tr, "A003"), 4);
    cr_assert_eq(nt_tracker_waiting(tr), 5);
    cr_assert_eq(s.n, 0, "near_ahead 0 tells no one");
    nt_tracker_destroy(&tr);
    hb_config_destroy(&c);
    unlink(path);
}

static void count_decisions(const nt_decision_t *d, void *arg)
{
    (*(int *)arg)++;
}

Test(tracker, a_threshold_beyond_64_tells_every_ticket_within_it_at_load)
{
    char *path = write_hall("notifier:\n  near_ahead: 100\n");
    char err[HB_CONFIG_ERR_MAX];
    hb_config_t *c = hb_config_load(path, err);
    cr_assert_not_null(c, "%s", err);
    int told = 0;
    nt_tracker_t *tr = nt_tracker_new(c, count_decisions, &told);
    enum { N = 70 };
    Hallbus__Ticket t[N], *tp[N];
    char numbers[N][8], refs[N][8];
    for (int i = 0; i < N; i++) {
        hallbus__ticket__init(&t[i]);
        snprintf(numbers[i], sizeof numbers[i], "A%03d", i + 1);
        snprintf(refs[i], sizeof refs[i], "ct-%d", i + 1);
        t[i].id = (uint64_t)i + 1;
        t[i].number = numbers[i];
        t[i].service = "A";
        t[i].state = HALLBUS__TICKET_STATE__WAITING;
        t[i].contact_ref = refs[i];
        t[i].business_date = "2026-11-23";
        t[i].place = (uint32_t)i;
        tp[i] = &t[i];
    }
    Hallbus__ServiceSummary a = HALLBUS__SERVICE_SUMMARY__INIT, *ap = &a;
    a.prefix = "A";
    a.waiting = N;
    Hallbus__HallStatus st = HALLBUS__HALL_STATUS__INIT;
    st.n_services = 1;
    st.services = &ap;
    Hallbus__Snapshot snap = HALLBUS__SNAPSHOT__INIT;
    snap.seq = N;
    snap.status = &st;
    snap.n_tickets = N;
    snap.tickets = tp;
    nt_tracker_load(tr, &snap);
    cr_assert_eq(nt_tracker_waiting(tr), N);
    cr_assert_eq(told, N, "all %d tickets are within 100 of the front: %d told", N, told);
    nt_tracker_destroy(&tr);
    hb_config_destroy(&c);
    unlink(path);
}
