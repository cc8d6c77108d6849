/* The follower (common/src/follower.c), without sockets: fed by hand,
 * answering into arrays.
 *
 * follower_journal: the audit's rules (every event stored in order, or a
 * gap record), the same cases as hall-audit's own follower had.
 * follower_clone: the Clone pattern of the boards (buffer while waiting,
 * drop stale, jump = gap, heartbeat ahead = gap at the tail, sequence going
 * back = resync, silence = resync), and the rate bound on resyncs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/follower.h"

typedef struct {
    uint8_t *data;
    size_t len;
} packed_t;

static packed_t pack_env(Hallbus__Envelope *env)
{
    packed_t p;
    p.len = hallbus__envelope__get_packed_size(env);
    p.data = malloc(p.len);
    hallbus__envelope__pack(env, p.data);
    return p;
}

/* A ticket.issued of HALL with SEQ, packed (caller frees data). */
static packed_t pack_issued(const char *hall, uint64_t seq, const char *number)
{
    Hallbus__Ticket t = HALLBUS__TICKET__INIT;
    t.number = (char *)number;
    t.service = "A";
    t.business_date = "2026-11-20";
    Hallbus__TicketIssued ti = HALLBUS__TICKET_ISSUED__INIT;
    ti.ticket = &t;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = (char *)hall;
    env.seq = seq;
    env.source = "test";
    env.ts = 1795161600000000LL + (int64_t)seq * 1000000;
    env.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED;
    env.ticket_issued = &ti;
    return pack_env(&env);
}

static packed_t pack_heartbeat(const char *hall, uint64_t seq)
{
    Hallbus__Heartbeat hb = HALLBUS__HEARTBEAT__INIT;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = (char *)hall;
    env.seq = seq;
    env.source = "test";
    env.event_case = HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    env.heartbeat = &hb;
    return pack_env(&env);
}

static Hallbus__Envelope *unpack(packed_t p)
{
    return hallbus__envelope__unpack(NULL, p.len, p.data);
}

typedef struct {
    uint64_t stored[256]; /* seqs applied, in order; a gap is 1000000 + from, a rejection 2000000 */
    int nstored;
    uint64_t gap_from[16], gap_to[16];
    char gap_why[16][256];
    int ngaps;
    uint64_t fetch_from[64];
    int nfetch;
    char rejected_why[256];
    int snapshot_asks;
    char ask_why[128];
    int loads;
} log_t;

static int s_apply(void *arg, const Hallbus__Envelope *env, const uint8_t *b, size_t len,
                   int64_t at)
{
    log_t *l = arg;
    if (l->nstored < 256)
        l->stored[l->nstored++] = env->seq;
    return 0;
}

static int s_gap(void *arg, uint64_t from, uint64_t to, const char *why)
{
    log_t *l = arg;
    l->stored[l->nstored++] = 1000000 + from;
    l->gap_from[l->ngaps] = from;
    l->gap_to[l->ngaps] = to;
    snprintf(l->gap_why[l->ngaps], 256, "%s", why);
    l->ngaps++;
    return 0;
}

static int s_reject(void *arg, const uint8_t *b, size_t len, const char *why)
{
    log_t *l = arg;
    l->stored[l->nstored++] = 2000000;
    snprintf(l->rejected_why, sizeof l->rejected_why, "%s", why);
    return 0;
}

static void s_fetch(void *arg, uint64_t from)
{
    log_t *l = arg;
    l->fetch_from[l->nfetch++] = from;
}

static void s_ask(void *arg, const char *why)
{
    log_t *l = arg;
    l->snapshot_asks++;
    snprintf(l->ask_why, sizeof l->ask_why, "%s", why);
}

static void s_load(void *arg, const void *snapshot)
{
    log_t *l = arg;
    l->loads++;
}

static log_t lg;
static hb_follower_t f;

static void start(uint64_t last_stored)
{
    memset(&lg, 0, sizeof lg);
    hb_follower_config_t c = {
        .hall = "t1",
        .mode = HB_FOLLOW_JOURNAL,
        .gap_timeout_us = 5000000,
        .sink = {.apply = s_apply, .fetch = s_fetch, .gap = s_gap, .reject = s_reject, .arg = &lg}};
    cr_assert_eq(hb_follower_init(&f, &c, last_stored), 0);
}

static void stop(void)
{
    hb_follower_dispose(&f);
}

TestSuite(follower_journal, .fini = stop);
TestSuite(follower_clone, .fini = stop);

/* An event of t1 from the bus, at monotonic time NOW. */
static void bus(uint64_t seq, int64_t now)
{
    packed_t p = pack_issued("t1", seq, "A001");
    hb_follower_event(&f, unpack(p), p.data, p.len, 0, now);
    free(p.data);
}

/* The journal's answer with seqs FROM..TO and the hall at HEAD. */
static void journal(uint64_t from, uint64_t to, uint64_t head, int64_t now)
{
    ProtobufCBinaryData e[64] = {{0, NULL}};
    size_t n = 0;
    for (uint64_t s = from; s <= to && from; s++) {
        packed_t p = pack_issued("t1", s, "A001");
        e[n].data = p.data;
        e[n].len = p.len;
        n++;
    }
    hb_follower_fetched(&f, e, n, head, 0, now);
    for (size_t i = 0; i < n; i++)
        free(e[i].data);
}

static void assert_stored(const uint64_t *want, int n)
{
    cr_assert_eq(lg.nstored, n, "stored %d, wanted %d", lg.nstored, n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(lg.stored[i], want[i], "position %d: stored %llu, wanted %llu", i,
                     (unsigned long long)lg.stored[i], (unsigned long long)want[i]);
}

Test(follower_journal, events_in_sequence_are_stored_at_once_without_asking_anyone)
{
    start(0);
    for (uint64_t s = 1; s <= 5; s++)
        bus(s, 10);
    assert_stored((uint64_t[]){1, 2, 3, 4, 5}, 5);
    cr_assert_eq(lg.nfetch, 0);
    cr_assert_not(hb_follower_behind(&f));
}

Test(follower_journal, a_jump_holds_the_later_events_back_and_asks_for_the_missing_ones)
{
    start(0);
    bus(1, 10);
    bus(2, 10);
    bus(5, 10);
    bus(6, 10);
    assert_stored((uint64_t[]){1, 2}, 2);
    cr_assert_eq(lg.nfetch, 1, "one fetch, not one per event held");
    cr_assert_eq(lg.fetch_from[0], 3);
    cr_assert(hb_follower_behind(&f));
}

Test(follower_journal, backfilled_events_are_stored_before_the_ones_held_back)
{
    start(0);
    bus(1, 10);
    bus(4, 10);
    bus(5, 10);
    journal(2, 5, 5, 20); /* the journal sends 2..5; 4 and 5 are then duplicates */
    bus(6, 30);
    assert_stored((uint64_t[]){1, 2, 3, 4, 5, 6}, 6);
    cr_assert_eq(f.counters.fetched, 4);
    cr_assert_not(hb_follower_behind(&f));
}

Test(follower_journal, duplicates_from_the_bus_are_dropped)
{
    start(0);
    bus(1, 10);
    bus(2, 10);
    bus(2, 10);
    bus(1, 10);
    bus(3, 10);
    assert_stored((uint64_t[]){1, 2, 3}, 3);
    cr_assert_eq(f.counters.stale, 2);
}

Test(follower_journal, on_start_it_catches_up_from_the_last_stored_seq_page_by_page)
{
    start(40);
    hb_follower_start(&f, 1);
    cr_assert_eq(lg.nfetch, 1);
    cr_assert_eq(lg.fetch_from[0], 41);
    bus(46, 2);             /* live events arrive while catching up */
    journal(41, 43, 46, 3); /* a page that does not reach the head */
    cr_assert_eq(lg.nfetch, 2, "the next page is asked for");
    cr_assert_eq(lg.fetch_from[1], 44);
    journal(44, 46, 46, 4);
    assert_stored((uint64_t[]){41, 42, 43, 44, 45, 46}, 6);
    cr_assert_not(hb_follower_behind(&f));
}

Test(follower_journal, a_heartbeat_ahead_of_the_store_reveals_loss_at_the_tail)
{
    start(0);
    bus(1, 10);
    hb_follower_heartbeat(&f, 1, 11);
    cr_assert_eq(lg.nfetch, 0, "a heartbeat at the last seq says nothing is missing");
    hb_follower_heartbeat(&f, 3, 12);
    cr_assert_eq(lg.nfetch, 1);
    cr_assert_eq(lg.fetch_from[0], 2);
    journal(2, 3, 3, 13);
    assert_stored((uint64_t[]){1, 2, 3}, 3);
}

Test(follower_journal, events_gone_from_the_journal_become_one_gap_record_and_following_goes_on)
{
    start(0);
    bus(1, 10);
    bus(7, 10);
    hb_follower_gone(&f, 5, "the journal keeps events from #5 on; #2 is gone", 0, 20);
    cr_assert_eq(lg.ngaps, 1);
    cr_assert_eq(lg.gap_from[0], 2);
    cr_assert_eq(lg.gap_to[0], 4, "only what the journal no longer has is a gap");
    cr_assert(strstr(lg.gap_why[0], "gone"));
    cr_assert_eq(lg.nfetch, 2, "the rest is fetched");
    cr_assert_eq(lg.fetch_from[1], 5);
    journal(5, 7, 7, 30);
    assert_stored((uint64_t[]){1, 1000002, 5, 6, 7}, 5);
}

Test(follower_journal, an_unanswered_fetch_is_retried_until_the_gap_timeout_then_recorded_as_a_gap)
{
    start(0);
    bus(1, 1000000);
    bus(4, 1000000); /* missing since t = 1 s */
    hb_follower_fetch_failed(&f, "no answer", 0, 2000000);
    hb_follower_fetch_failed(&f, "no answer", 0, 5000000);
    cr_assert_eq(lg.ngaps, 0, "not before the gap timeout (5 s)");
    cr_assert_eq(lg.nfetch, 3, "each silence is followed by a retry");
    bus(5, 5500000);
    hb_follower_fetch_failed(&f, "no answer", 0, 6000001);
    cr_assert_eq(lg.ngaps, 1);
    cr_assert_eq(lg.gap_from[0], 2);
    cr_assert_eq(lg.gap_to[0], 3);
    cr_assert(strstr(lg.gap_why[0], "gap timeout"));
    assert_stored((uint64_t[]){1, 1000002, 4, 5}, 4);
    cr_assert_not(hb_follower_behind(&f));
    bus(6, 6000002);
    assert_stored((uint64_t[]){1, 1000002, 4, 5, 6}, 5);
}

Test(follower_journal, a_journal_that_lacks_events_the_hall_has_passed_records_them_as_a_gap)
{
    start(0);
    bus(1, 10);
    bus(5, 10);
    journal(2, 2, 6, 20); /* the hall is at 6, its journal gives 2 */
    cr_assert_eq(lg.ngaps, 0, "progress was made: ask once more");
    cr_assert_eq(lg.nfetch, 2);
    journal(0, 0, 6, 21); /* nothing more there, though the hall has passed 3 and 4 */
    cr_assert_eq(lg.ngaps, 1);
    cr_assert_eq(lg.gap_from[0], 3);
    cr_assert_eq(lg.gap_to[0], 4);
    cr_assert(strstr(lg.gap_why[0], "journal does not have them"));
    assert_stored((uint64_t[]){1, 2, 1000003, 5}, 4);
}

Test(follower_journal, an_event_ahead_of_the_halls_own_sequence_is_not_taken_as_proof_of_loss)
{
    start(0);
    bus(1, 1000000);
    bus(9, 1000000); /* forged or stray: the hall is at 1 */
    journal(0, 0, 1, 1100000);
    cr_assert(hb_follower_waiting(&f), "the hall has not reached 9: wait, do not record a gap");
    cr_assert_eq(lg.ngaps, 0);
    hb_follower_fetch_failed(&f, "retry", 0, 2000000); /* the timer: ask again */
    cr_assert_eq(lg.nfetch, 2);
    journal(2, 2, 2, 2100000); /* the hall moved on: 2 is real */
    journal(0, 0, 2, 2200000);
    cr_assert(hb_follower_waiting(&f));
    hb_follower_fetch_failed(&f, "retry", 0, 6500000); /* the gap timeout has passed */
    cr_assert_eq(lg.ngaps, 0, "no gap: nothing was lost");
    assert_stored((uint64_t[]){1, 2, 2000000}, 3);
    cr_assert(strstr(lg.rejected_why, "ahead of the hall's own sequence"), "%s", lg.rejected_why);
    cr_assert_not(hb_follower_behind(&f));
    bus(3, 6600000); /* and the real events go on being stored */
    assert_stored((uint64_t[]){1, 2, 2000000, 3}, 4);
}

Test(follower_journal, an_empty_answer_at_the_head_after_a_restart_means_nothing_is_missing)
{
    start(9);
    hb_follower_start(&f, 1);
    journal(0, 0, 9, 2);
    cr_assert_eq(lg.nstored, 0);
    cr_assert_eq(lg.ngaps, 0);
    cr_assert_not(hb_follower_behind(&f));
}

Test(follower_journal, events_of_another_hall_in_a_journal_answer_are_ignored)
{
    start(0);
    bus(2, 10);
    packed_t p = pack_issued("zz", 1, "A001");
    packed_t q = pack_issued("t1", 1, "A001");
    ProtobufCBinaryData e[2] = {{p.len, p.data}, {q.len, q.data}};
    hb_follower_fetched(&f, e, 2, 2, 0, 20);
    free(p.data);
    free(q.data);
    assert_stored((uint64_t[]){1, 2}, 2);
}

/* hall-audit on a full disk: the store abandoned its transaction (#2 with
 * it) and takes writes again later. */
Test(follower_journal,
     a_rewind_forgets_the_fetch_in_flight_restarts_the_gap_timeout_and_follows_on_from_the_store)
{
    start(0);
    bus(1, 1000000);
    bus(2, 1000000);
    bus(5, 1000000); /* missing since t = 1 s: a fetch from 3 */
    cr_assert_eq(lg.nfetch, 1);
    hb_follower_rewind(&f, 1);
    cr_assert_eq(hb_follower_last(&f), 1);
    cr_assert_not(hb_follower_fetching(&f), "the fetch in flight is forgotten");
    cr_assert_eq(lg.nfetch, 1, "nothing is asked before start");
    hb_follower_start(&f, 7000000); /* past the gap timeout counted from t = 1 s */
    cr_assert_eq(lg.nfetch, 2);
    cr_assert_eq(lg.fetch_from[1], 2, "what the store lost is fetched again");
    hb_follower_fetch_failed(&f, "no answer", 0, 8000000);
    cr_assert_eq(lg.ngaps, 0, "the gap timeout starts afresh: a full disk loses nothing");
    journal(2, 4, 5, 8100000);
    assert_stored((uint64_t[]){1, 2, 2, 3, 4, 5}, 6);
    cr_assert_not(hb_follower_behind(&f), "the event held back is applied after them");
}

/* ── the Clone pattern ── */

#define SEC 1000000LL

static void clone_start(int64_t ttl_us)
{
    memset(&lg, 0, sizeof lg);
    hb_follower_config_t c = {
        .hall = "t1",
        .mode = HB_FOLLOW_CLONE,
        .ttl_us = ttl_us,
        .snapshot_timeout_us = 2 * SEC,
        .sink = {.apply = s_apply, .load = s_load, .ask_snapshot = s_ask, .arg = &lg}};
    cr_assert_eq(hb_follower_init(&f, &c, 0), 0);
}

static void heartbeat(const char *hall, uint64_t seq, int64_t now)
{
    packed_t p = pack_heartbeat(hall, seq);
    hb_follower_event(&f, unpack(p), NULL, 0, 0, now);
    free(p.data);
}

/* Started, and live at SEQ. */
static void live_at(uint64_t seq, int64_t now)
{
    hb_follower_start(&f, now);
    cr_assert(hb_follower_snapshot(&f, NULL, seq, now));
}

Test(follower_clone, start_asks_for_a_snapshot_and_nothing_is_applied_before_it)
{
    clone_start(3 * SEC);
    hb_follower_start(&f, 0);
    cr_assert_eq(lg.snapshot_asks, 1);
    cr_assert_str_eq(lg.ask_why, "start");
    bus(11, 1);
    cr_assert_eq(lg.nstored, 0);
    cr_assert_not(hb_follower_synced(&f, 1));
}

Test(follower_clone, events_buffered_while_waiting_are_applied_after_the_snapshot_unless_stale)
{
    clone_start(3 * SEC);
    hb_follower_start(&f, 0);
    bus(9, 1);
    bus(10, 1);
    heartbeat("t1", 10, 1);
    bus(11, 1);
    bus(12, 1);
    cr_assert(hb_follower_snapshot(&f, NULL, 10, 2));
    cr_assert_eq(lg.loads, 1);
    assert_stored((uint64_t[]){11, 12}, 2);
    cr_assert_eq(f.counters.stale, 2);
    cr_assert(hb_follower_synced(&f, 2));
    cr_assert_eq(hb_follower_last(&f), 12);
}

Test(follower_clone, a_late_snapshot_is_not_loaded)
{
    clone_start(3 * SEC);
    live_at(10, 0);
    cr_assert_not(hb_follower_snapshot(&f, NULL, 5, 1));
    cr_assert_eq(lg.loads, 1);
}

Test(follower_clone, a_gap_forces_a_resync_and_nothing_is_applied_past_it)
{
    clone_start(3 * SEC);
    live_at(10, 0);
    bus(11, 1 * SEC);
    bus(13, 1 * SEC);
    assert_stored((uint64_t[]){11}, 1);
    cr_assert_eq(lg.snapshot_asks, 2);
    cr_assert_str_eq(lg.ask_why, "gap");
    cr_assert_not(hb_follower_synced(&f, 1 * SEC), "not live while resyncing");
    bus(14, 1 * SEC);
    cr_assert(hb_follower_snapshot(&f, NULL, 13, 1 * SEC + 1));
    assert_stored((uint64_t[]){11, 14}, 2);
    cr_assert_eq(f.counters.gaps, 1);
}

Test(follower_clone, a_gap_inside_the_buffer_resyncs_again)
{
    clone_start(3 * SEC);
    hb_follower_start(&f, 0);
    bus(11, 1);
    bus(13, 1);
    bus(14, 1);
    cr_assert(hb_follower_snapshot(&f, NULL, 10, 2));
    assert_stored((uint64_t[]){11}, 1);
    cr_assert_eq(f.state, HB_FOLLOW_WAITING);
    cr_assert_eq(f.nheld, 0, "what follows a gap is not kept");
}

Test(follower_clone, heartbeats_detect_loss_at_the_tail_and_a_hall_that_went_back)
{
    clone_start(3 * SEC);
    live_at(10, 0);
    heartbeat("t1", 10, 1 * SEC);
    cr_assert_eq(f.state, HB_FOLLOW_LIVE);
    heartbeat("t1", 12, 1 * SEC);
    cr_assert_eq(f.state, HB_FOLLOW_WAITING);
    cr_assert_str_eq(lg.ask_why, "gap at the tail (heartbeat ahead)");
    cr_assert(hb_follower_snapshot(&f, NULL, 12, 10 * SEC));
    heartbeat("t1", 3, 20 * SEC);
    cr_assert_eq(f.state, HB_FOLLOW_WAITING);
    cr_assert_eq(lg.snapshot_asks, 3);
    cr_assert_str_eq(lg.ask_why, "the hall's sequence went back");
}

Test(follower_clone, silence_longer_than_the_ttl_forces_a_resync)
{
    clone_start(3 * SEC);
    live_at(10, 0);
    heartbeat("t1", 10, 1 * SEC);
    hb_follower_tick(&f, 3 * SEC);
    cr_assert(hb_follower_synced(&f, 3 * SEC));
    cr_assert_not(hb_follower_synced(&f, 4 * SEC + 1), "not live past the TTL");
    hb_follower_tick(&f, 4 * SEC + 1);
    cr_assert_eq(f.state, HB_FOLLOW_WAITING);
    cr_assert_eq(f.counters.silences, 1);
    cr_assert_eq(lg.snapshot_asks, 2);
}

Test(follower_clone, an_unanswered_snapshot_request_is_asked_again_after_the_timeout)
{
    clone_start(3 * SEC);
    hb_follower_start(&f, 0);
    hb_follower_tick(&f, 1 * SEC);
    cr_assert_eq(lg.snapshot_asks, 1);
    hb_follower_tick(&f, 2 * SEC + 1);
    cr_assert_eq(lg.snapshot_asks, 2);
    cr_assert_str_eq(lg.ask_why, "no answer");
}

Test(follower_clone, another_halls_events_are_ignored)
{
    clone_start(3 * SEC);
    live_at(10, 0);
    heartbeat("h02", 99, 1);
    cr_assert_eq(f.state, HB_FOLLOW_LIVE);
    cr_assert_eq(f.counters.foreign, 1);
}

/* 142 forged heartbeats in 3 s once cost hall-queue 1.1 s of CPU: each made
 * every follower fetch a full snapshot. Here 1000 of them, 1 ms apart, each
 * "ahead", with the snapshot answered at once every time. */
Test(follower_clone, forged_heartbeats_ahead_cost_at_most_a_handful_of_snapshots)
{
    clone_start(3 * SEC);
    live_at(10, 0);
    int asks = lg.snapshot_asks;
    int64_t now = 10 * SEC; /* long after the start: the bound is fresh */
    for (int i = 0; i < 1000; i++, now += 1000) {
        heartbeat("t1", 1000000 + (uint64_t)i, now);
        hb_follower_tick(&f, now);
        if (lg.snapshot_asks > asks) { /* the queue answers at once */
            asks = lg.snapshot_asks;
            hb_follower_snapshot(&f, NULL, 10, now);
        }
    }
    int in_flood = lg.snapshot_asks - 1;
    cr_assert_leq(in_flood, 5, "%d snapshot requests for 1000 forged heartbeats in 1 s", in_flood);
    cr_assert_geq(in_flood, 1, "the first one is answered at once");
    cr_assert_gt(f.counters.resyncs_deferred, 0);
}

Test(follower_clone, a_resync_that_had_to_wait_is_asked_at_a_tick_once_allowed)
{
    clone_start(0);
    live_at(10, 0);
    heartbeat("t1", 11, 10 * SEC); /* asked at once */
    cr_assert_eq(lg.snapshot_asks, 2);
    hb_follower_snapshot(&f, NULL, 11, 10 * SEC + 1000);
    heartbeat("t1", 12, 10 * SEC + 2000); /* soon after: must wait */
    cr_assert_eq(lg.snapshot_asks, 2);
    int64_t now = 10 * SEC + 2000;
    while (lg.snapshot_asks == 2 && now < 20 * SEC) {
        now += 10000;
        hb_follower_tick(&f, now);
    }
    cr_assert_eq(lg.snapshot_asks, 3, "asked once the interval had passed");
    cr_assert_leq(now - 10 * SEC, 500000, "within the first intervals, not seconds later");
    hb_follower_snapshot(&f, NULL, 12, now);
    cr_assert(hb_follower_synced(&f, now));
}

Test(follower_clone, after_a_quiet_while_a_resync_is_asked_at_once_again)
{
    clone_start(0);
    live_at(10, 0);
    for (int i = 0; i < 20; i++) { /* a storm: the interval grows */
        heartbeat("t1", 11 + (uint64_t)i, 10 * SEC + i * 1000);
        hb_follower_tick(&f, 10 * SEC + i * 1000);
        hb_follower_snapshot(&f, NULL, 11 + (uint64_t)i, 10 * SEC + i * 1000);
    }
    int asks = lg.snapshot_asks;
    heartbeat("t1", 100, 60 * SEC); /* a real gap, a minute later */
    cr_assert_eq(lg.snapshot_asks, asks + 1);
}

/* ── journal with a snapshot (hall-notifier: a model from a snapshot, and
 * every event decided in order from the owner's stored cursor) ── */

TestSuite(follower_replay, .fini = stop);

static uint64_t resync_at, rewind_at, rewind_to;

/* Applies as s_apply; at RESYNC_AT the owner's model is out of step (it
 * resyncs, the event applied); at REWIND_AT its store failed (it goes back
 * to REWIND_TO and resyncs, the event not applied). */
static int s_apply_owner(void *arg, const Hallbus__Envelope *env, const uint8_t *b, size_t len,
                         int64_t at)
{
    if (env->seq == rewind_at) {
        rewind_at = 0;
        hb_follower_rewind(&f, rewind_to);
        hb_follower_resync(&f, "the store failed", 0);
        return -1;
    }
    s_apply(arg, env, b, len, at);
    if (env->seq == resync_at) {
        resync_at = 0;
        hb_follower_resync(&f, "out of step", 0);
    }
    return 0;
}

static void replay_start(uint64_t cursor)
{
    memset(&lg, 0, sizeof lg);
    resync_at = rewind_at = rewind_to = 0;
    hb_follower_config_t c = {.hall = "t1",
                              .mode = HB_FOLLOW_JOURNAL,
                              .snapshot = true,
                              .gap_timeout_us = 5 * SEC,
                              .snapshot_timeout_us = 2 * SEC,
                              .sink = {.apply = s_apply_owner,
                                       .load = s_load,
                                       .ask_snapshot = s_ask,
                                       .fetch = s_fetch,
                                       .gap = s_gap,
                                       .arg = &lg}};
    cr_assert_eq(hb_follower_init(&f, &c, cursor), 0);
}

Test(follower_replay, the_journal_from_the_cursor_comes_before_the_events_buffered)
{
    replay_start(5);
    hb_follower_start(&f, 0);
    cr_assert_eq(lg.snapshot_asks, 1, "a snapshot first");
    cr_assert_eq(lg.nfetch, 0, "and no fetch before it");
    bus(6, 1);
    heartbeat("t1", 12, 1);
    bus(11, 1);
    bus(12, 1);
    cr_assert_eq(lg.nstored, 0, "nothing is applied before the snapshot");
    cr_assert_eq(lg.nfetch, 0);
    cr_assert_not(hb_follower_synced(&f, 1));
    cr_assert(hb_follower_snapshot(&f, NULL, 10, 2));
    cr_assert_eq(lg.loads, 1);
    cr_assert_eq(hb_follower_snapshot_seq(&f), 10);
    /* 6 was held: applied at once; 7..10 come from the journal */
    assert_stored((uint64_t[]){6}, 1);
    cr_assert_eq(lg.nfetch, 1);
    cr_assert_eq(lg.fetch_from[0], 7);
    journal(7, 10, 12, 3);
    assert_stored((uint64_t[]){6, 7, 8, 9, 10, 11, 12}, 7);
    cr_assert(hb_follower_synced(&f, 3));
    cr_assert_eq(lg.snapshot_asks, 1);
    cr_assert_not(hb_follower_snapshot(&f, NULL, 12, 4), "a late snapshot is not loaded");
}

Test(follower_replay, a_first_start_and_a_new_hall_store_follow_on_from_the_snapshot)
{
    replay_start(0);
    hb_follower_start(&f, 0);
    cr_assert(hb_follower_snapshot(&f, NULL, 10, 1));
    cr_assert_eq(lg.nfetch, 0, "a first start does not replay the day");
    bus(11, 2);
    assert_stored((uint64_t[]){11}, 1);
    hb_follower_dispose(&f);

    replay_start(20); /* the owner has seen more than the hall has: a new store */
    hb_follower_start(&f, 0);
    cr_assert(hb_follower_snapshot(&f, NULL, 10, 1));
    cr_assert_eq(hb_follower_last(&f), 10);
    cr_assert_eq(lg.nfetch, 0);
    bus(11, 2);
    assert_stored((uint64_t[]){11}, 1);
}

Test(follower_replay, a_gap_while_live_is_fetched_from_the_journal_not_a_snapshot)
{
    replay_start(10);
    hb_follower_start(&f, 0);
    hb_follower_snapshot(&f, NULL, 10, 1);
    bus(11, 2);
    bus(13, 2);
    cr_assert_eq(lg.nfetch, 1);
    cr_assert_eq(lg.fetch_from[0], 12);
    journal(12, 12, 13, 3);
    assert_stored((uint64_t[]){11, 12, 13}, 3);
    heartbeat("t1", 15, 4); /* loss at the tail */
    cr_assert_eq(lg.nfetch, 2);
    cr_assert_eq(lg.fetch_from[1], 14);
    journal(14, 15, 15, 5);
    assert_stored((uint64_t[]){11, 12, 13, 14, 15}, 5);
    cr_assert_eq(lg.snapshot_asks, 1, "the model was never out of step");
}

Test(follower_replay, events_gone_from_the_journal_are_a_gap_and_a_fresh_snapshot)
{
    replay_start(10);
    hb_follower_start(&f, 0);
    hb_follower_snapshot(&f, NULL, 10, 1);
    bus(15, 2);
    cr_assert_eq(lg.fetch_from[0], 11);
    hb_follower_gone(&f, 13, "gone", 0, 3);
    cr_assert_eq(lg.ngaps, 1);
    cr_assert_eq(lg.gap_from[0], 11);
    cr_assert_eq(lg.gap_to[0], 12);
    cr_assert(f.snapshot_owed, "the model lacks them: a fresh snapshot (when the bound allows)");
    hb_follower_tick(&f, 1 * SEC);
    cr_assert_eq(lg.snapshot_asks, 2);
    cr_assert_eq(lg.nfetch, 1, "no fetch before it is in");
    bus(16, 4);
    cr_assert(hb_follower_snapshot(&f, NULL, 16, 5 * SEC));
    cr_assert_eq(lg.fetch_from[1], 13, "the journal from after the gap");
    journal(13, 16, 16, 5 * SEC);
    assert_stored((uint64_t[]){1000011, 13, 14, 15, 16}, 5);
    cr_assert(hb_follower_synced(&f, 5 * SEC));
}

Test(follower_replay, an_owner_out_of_step_resyncs_from_inside_apply_and_nothing_follows_it)
{
    replay_start(5);
    hb_follower_start(&f, 0);
    bus(11, 1);
    hb_follower_snapshot(&f, NULL, 10, 1);
    resync_at = 8;
    journal(6, 10, 11, 2);
    assert_stored((uint64_t[]){6, 7, 8}, 3);
    cr_assert_eq(hb_follower_last(&f), 8, "8 was applied");
    hb_follower_tick(&f, 1 * SEC); /* the resync, once the rate bound allows */
    cr_assert_eq(lg.snapshot_asks, 2);
    cr_assert_str_eq(lg.ask_why, "out of step");
    cr_assert_eq(lg.nfetch, 1);
    cr_assert(hb_follower_snapshot(&f, NULL, 11, 1 * SEC));
    cr_assert_eq(lg.fetch_from[1], 9);
    journal(9, 11, 11, 1 * SEC);
    assert_stored((uint64_t[]){6, 7, 8, 9, 10, 11}, 6);
    cr_assert_eq(f.counters.stale, 1, "11 held was dropped: the journal gave it first");
}

/* The owner's store failed (a full disk): it goes back to what it holds
 * and starts again from a snapshot; nothing after the failure is taken. */
Test(follower_replay, a_store_that_went_back_is_followed_from_what_it_holds)
{
    replay_start(5);
    hb_follower_start(&f, 0);
    hb_follower_snapshot(&f, NULL, 10, 1);
    rewind_at = 9;
    rewind_to = 6;
    journal(6, 10, 10, 2);
    assert_stored((uint64_t[]){6, 7, 8}, 3);
    cr_assert_eq(hb_follower_last(&f), 6);
    cr_assert_eq(lg.ngaps, 0, "nothing is recorded as lost");
    /* the resync is owed until the rate bound allows it; then the journal from 7 */
    hb_follower_tick(&f, 1 * SEC);
    cr_assert_eq(lg.snapshot_asks, 2);
    cr_assert(hb_follower_snapshot(&f, NULL, 10, 1 * SEC));
    cr_assert_eq(lg.fetch_from[1], 7);
    journal(7, 10, 10, 1 * SEC);
    assert_stored((uint64_t[]){6, 7, 8, 7, 8, 9, 10}, 7);
}

Test(follower_replay, an_unanswered_snapshot_is_asked_again_and_heartbeats_fetch_nothing_meanwhile)
{
    replay_start(5);
    hb_follower_start(&f, 0);
    heartbeat("t1", 9, 1 * SEC);
    cr_assert_eq(lg.nfetch, 0);
    hb_follower_tick(&f, 1 * SEC);
    cr_assert_eq(lg.snapshot_asks, 1);
    hb_follower_tick(&f, 3 * SEC);
    cr_assert_eq(lg.snapshot_asks, 2, "asked again after the snapshot time-out");
    hb_follower_snapshot(&f, NULL, 9, 3 * SEC);
    cr_assert_eq(lg.fetch_from[0], 6);
    hb_follower_tick(&f, 60 * SEC);
    cr_assert_eq(lg.snapshot_asks, 2, "live: the tick asks nothing");
}

/* Clone mode: an owner that resyncs from inside apply stops the buffered
 * events that follow. */
Test(follower_clone, an_owner_resyncing_from_inside_apply_stops_the_buffered_events)
{
    clone_start(0);
    f.config.sink.apply = s_apply_owner;
    resync_at = 12;
    rewind_at = 0;
    hb_follower_start(&f, 0);
    bus(11, 1);
    bus(12, 1);
    bus(13, 1);
    cr_assert(hb_follower_snapshot(&f, NULL, 10, 1));
    assert_stored((uint64_t[]){11, 12}, 2);
    hb_follower_tick(&f, 1 * SEC);
    cr_assert_eq(lg.snapshot_asks, 2);
    cr_assert_not(hb_follower_synced(&f, 1));
}
