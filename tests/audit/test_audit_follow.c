/* Following a hall's sequence: order, gaps, backfill from the journal,
 * heartbeats, GONE and silence. The sink writes into arrays. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_follow.h"
#include "helpers.h"

typedef struct {
    uint64_t stored[256]; /* seqs stored, in order; a gap is stored as 1000000 + from */
    int nstored;
    uint64_t gap_from[16], gap_to[16];
    char gap_why[16][256];
    int ngaps;
    uint64_t fetch_from[64];
    int nfetch;
    char rejected_why[256];
} log_t;

static int s_event(void *arg, const Hallbus__Envelope *env, const uint8_t *b, size_t len,
                   int64_t at)
{
    log_t *l = arg;
    l->stored[l->nstored++] = env->seq;
    return 0;
}

static int s_gap(void *arg, const char *hall, uint64_t from, uint64_t to, const char *why)
{
    log_t *l = arg;
    l->stored[l->nstored++] = 1000000 + from;
    l->gap_from[l->ngaps] = from;
    l->gap_to[l->ngaps] = to;
    snprintf(l->gap_why[l->ngaps], 256, "%s", why);
    l->ngaps++;
    return 0;
}

static int s_rejected(void *arg, const char *hall, const uint8_t *b, size_t len, const char *why)
{
    log_t *l = arg;
    l->stored[l->nstored++] = 2000000; /* a rejected record */
    snprintf(l->rejected_why, sizeof l->rejected_why, "%s", why);
    return 0;
}

static void s_fetch(void *arg, audit_follow_t *f, uint64_t from)
{
    log_t *l = arg;
    l->fetch_from[l->nfetch++] = from;
}

static log_t lg;
static audit_follow_t f;

static void start(uint64_t last_stored)
{
    memset(&lg, 0, sizeof lg);
    audit_sink_t sink = {s_event, s_gap, s_rejected, s_fetch, &lg};
    audit_follow_init(&f, "t1", last_stored, 5000000, &sink);
}

static void stop(void)
{
    audit_follow_clear(&f);
}

TestSuite(audit_follow, .fini = stop);

/* An event of t1 from the bus, at monotonic time NOW. */
static int bus(uint64_t seq, int64_t now)
{
    packed_t p = pack_issued("t1", seq, "A001");
    int rc = audit_follow_event(&f, unpack(p), p.data, p.len, 0, now);
    free(p.data);
    return rc;
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
    audit_follow_fetched(&f, e, n, head, 0, now);
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

Test(audit_follow, events_in_sequence_are_stored_at_once_without_asking_anyone)
{
    start(0);
    for (uint64_t s = 1; s <= 5; s++)
        bus(s, 10);
    assert_stored((uint64_t[]){1, 2, 3, 4, 5}, 5);
    cr_assert_eq(lg.nfetch, 0);
    cr_assert_not(audit_follow_behind(&f));
}

Test(audit_follow, a_jump_holds_the_later_events_back_and_asks_for_the_missing_ones)
{
    start(0);
    bus(1, 10);
    bus(2, 10);
    bus(5, 10);
    bus(6, 10);
    assert_stored((uint64_t[]){1, 2}, 2);
    cr_assert_eq(lg.nfetch, 1, "one fetch, not one per event held");
    cr_assert_eq(lg.fetch_from[0], 3);
    cr_assert(audit_follow_behind(&f));
}

Test(audit_follow, backfilled_events_are_stored_before_the_ones_held_back)
{
    start(0);
    bus(1, 10);
    bus(4, 10);
    bus(5, 10);
    journal(2, 5, 5, 20); /* the journal sends 2..5; 4 and 5 are then duplicates */
    bus(6, 30);
    assert_stored((uint64_t[]){1, 2, 3, 4, 5, 6}, 6);
    cr_assert_eq(f.fetched, 4);
    cr_assert_not(audit_follow_behind(&f));
}

Test(audit_follow, duplicates_from_the_bus_are_dropped)
{
    start(0);
    bus(1, 10);
    bus(2, 10);
    cr_assert_eq(bus(2, 10), 1);
    cr_assert_eq(bus(1, 10), 1);
    bus(3, 10);
    assert_stored((uint64_t[]){1, 2, 3}, 3);
    cr_assert_eq(f.duplicates, 2);
}

Test(audit_follow, on_start_it_catches_up_from_the_last_stored_seq_page_by_page)
{
    start(40);
    audit_follow_start(&f, 1);
    cr_assert_eq(lg.nfetch, 1);
    cr_assert_eq(lg.fetch_from[0], 41);
    bus(46, 2);             /* live events arrive while catching up */
    journal(41, 43, 46, 3); /* a page that does not reach the head */
    cr_assert_eq(lg.nfetch, 2, "the next page is asked for");
    cr_assert_eq(lg.fetch_from[1], 44);
    journal(44, 46, 46, 4);
    assert_stored((uint64_t[]){41, 42, 43, 44, 45, 46}, 6);
    cr_assert_not(audit_follow_behind(&f));
}

Test(audit_follow, a_heartbeat_ahead_of_the_store_reveals_loss_at_the_tail)
{
    start(0);
    bus(1, 10);
    audit_follow_heartbeat(&f, 1, 11);
    cr_assert_eq(lg.nfetch, 0, "a heartbeat at the last seq says nothing is missing");
    audit_follow_heartbeat(&f, 3, 12);
    cr_assert_eq(lg.nfetch, 1);
    cr_assert_eq(lg.fetch_from[0], 2);
    journal(2, 3, 3, 13);
    assert_stored((uint64_t[]){1, 2, 3}, 3);
}

Test(audit_follow, events_gone_from_the_journal_become_one_gap_record_and_following_goes_on)
{
    start(0);
    bus(1, 10);
    bus(7, 10);
    audit_follow_gone(&f, 5, "the journal keeps events from #5 on; #2 is gone", 0, 20);
    cr_assert_eq(lg.ngaps, 1);
    cr_assert_eq(lg.gap_from[0], 2);
    cr_assert_eq(lg.gap_to[0], 4, "only what the journal no longer has is a gap");
    cr_assert(strstr(lg.gap_why[0], "gone"));
    cr_assert_eq(lg.nfetch, 2, "the rest is fetched");
    cr_assert_eq(lg.fetch_from[1], 5);
    journal(5, 7, 7, 30);
    assert_stored((uint64_t[]){1, 1000002, 5, 6, 7}, 5);
}

Test(audit_follow, an_unanswered_fetch_is_retried_until_the_gap_timeout_then_recorded_as_a_gap)
{
    start(0);
    bus(1, 1000000);
    bus(4, 1000000); /* missing since t = 1 s */
    audit_follow_failed(&f, "no answer", 0, 2000000);
    audit_follow_failed(&f, "no answer", 0, 5000000);
    cr_assert_eq(lg.ngaps, 0, "not before the gap timeout (5 s)");
    cr_assert_eq(lg.nfetch, 3, "each silence is followed by a retry");
    bus(5, 5500000);
    audit_follow_failed(&f, "no answer", 0, 6000001);
    cr_assert_eq(lg.ngaps, 1);
    cr_assert_eq(lg.gap_from[0], 2);
    cr_assert_eq(lg.gap_to[0], 3);
    cr_assert(strstr(lg.gap_why[0], "gap timeout"));
    assert_stored((uint64_t[]){1, 1000002, 4, 5}, 4);
    cr_assert_not(audit_follow_behind(&f));
    bus(6, 6000002);
    assert_stored((uint64_t[]){1, 1000002, 4, 5, 6}, 5);
}

Test(audit_follow, a_journal_that_lacks_events_the_hall_has_passed_records_them_as_a_gap)
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

Test(audit_follow, an_event_ahead_of_the_halls_own_sequence_is_not_taken_as_proof_of_loss)
{
    start(0);
    bus(1, 1000000);
    bus(9, 1000000); /* forged or stray: the hall is at 1 */
    journal(0, 0, 1, 1100000);
    cr_assert(f.waiting, "the hall has not reached 9: wait, do not record a gap");
    cr_assert_eq(lg.ngaps, 0);
    audit_follow_failed(&f, "retry", 0, 2000000); /* the timer: ask again */
    cr_assert_eq(lg.nfetch, 2);
    journal(2, 2, 2, 2100000); /* the hall moved on: 2 is real */
    journal(0, 0, 2, 2200000);
    cr_assert(f.waiting);
    audit_follow_failed(&f, "retry", 0, 6500000); /* the gap timeout has passed */
    cr_assert_eq(lg.ngaps, 0, "no gap: nothing was lost");
    assert_stored((uint64_t[]){1, 2, 2000000}, 3);
    cr_assert(strstr(lg.rejected_why, "ahead of the hall's own sequence"), "%s", lg.rejected_why);
    cr_assert_not(audit_follow_behind(&f));
    bus(3, 6600000); /* and the real events go on being stored */
    assert_stored((uint64_t[]){1, 2, 2000000, 3}, 4);
}

Test(audit_follow, an_empty_answer_at_the_head_after_a_restart_means_nothing_is_missing)
{
    start(9);
    audit_follow_start(&f, 1);
    journal(0, 0, 9, 2);
    cr_assert_eq(lg.nstored, 0);
    cr_assert_eq(lg.ngaps, 0);
    cr_assert_not(audit_follow_behind(&f));
}

Test(audit_follow, events_of_another_hall_in_a_journal_answer_are_ignored)
{
    start(0);
    bus(2, 10);
    packed_t p = pack_issued("zz", 1, "A001");
    packed_t q = pack_issued("t1", 1, "A001");
    ProtobufCBinaryData e[2] = {{p.len, p.data}, {q.len, q.data}};
    audit_follow_fetched(&f, e, 2, 2, 0, 20);
    free(p.data);
    free(q.data);
    assert_stored((uint64_t[]){1, 2}, 2);
}
