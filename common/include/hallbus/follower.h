/* Following one hall's sequence: the Clone pattern as one state machine
 * with no I/O. The socket part (follow_sub.h), or a unit test, feeds it
 * events, heartbeats, snapshots, journal pages and clock ticks; it answers
 * through the sink: apply this event, ask for a snapshot, fetch from N,
 * record a gap N..M, reject this message. Applying is the caller's
 * business (a board's view, a counter's windows, the audit's store).
 *
 * Two modes, one set of rules:
 *
 *  HB_FOLLOW_CLONE (boards, counters, hallctl board): on a gap ask for a
 *   snapshot. WAITING: a snapshot is asked for; events are buffered (in
 *   order, up to HB_FOLLOW_BUFFER_MAX) and nothing is applied; heartbeats
 *   are ignored. LIVE: seq = last + 1 is applied, seq <= last dropped
 *   (stale), a jump is a gap; a heartbeat ahead is a gap at the tail, one
 *   behind is a hall that went back (a new store): both resync. Silence
 *   longer than the TTL resyncs; an unanswered snapshot is asked again
 *   after snapshot_timeout.
 *
 *  HB_FOLLOW_JOURNAL (the audit, which must store every event): on a gap
 *   fetch the missing events from hall-queue's journal (FetchEvents from
 *   last + 1); events ahead are held back (ascending, no duplicates) and
 *   applied once what precedes them is in. GONE, or no answer within the
 *   gap timeout, records the range as a gap and following goes on; an
 *   event held that the hall's own sequence never reached within the gap
 *   timeout is rejected. Nothing is ever skipped silently.
 *
 *  HB_FOLLOW_JOURNAL with `snapshot` (hall-notifier, which keeps a model
 *   built from a snapshot AND must decide every event from its stored
 *   cursor): start and every resync ask for a snapshot first. WAITING:
 *   events are held (ascending), nothing is applied or fetched. The
 *   snapshot at S is loaded, then following goes on from the owner's LAST
 *   as in journal mode: LAST + 1..S come from the journal (the owner's
 *   apply sees seq <= hb_follower_snapshot_seq: in the snapshot already),
 *   and the events held are applied only after them, in order. LAST == 0
 *   (a first start) or LAST > S (a new hall store) follow on from S. A gap
 *   recorded (GONE, time-out) leaves the model short of events: resync.
 *   The owner may call hb_follower_resync or hb_follower_rewind from inside
 *   its sink (apply, gap, load): what follows in that call stops.
 *
 * Resyncs are rate-bounded: forged or repeated heartbeats must not make
 * every follower fetch a full snapshot each time. Snapshot requests are at
 * least resync_min apart, the interval doubling up to resync_max with each
 * resync that follows the last one within resync_max; the interval is back
 * to resync_min once the follower has been quiet that long. A snapshot
 * owed is asked at the tick when it is allowed. */
#ifndef HALLBUS_FOLLOWER_H
#define HALLBUS_FOLLOWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hallbus.pb-c.h"

#define HB_FOLLOW_BUFFER_MAX 100000     /* events buffered or held back, any mode */
#define HB_FOLLOW_RESYNC_MIN_US 100000  /* default: 100 ms between snapshot requests... */
#define HB_FOLLOW_RESYNC_MAX_US 5000000 /* ...doubling up to 5 s */

typedef enum { HB_FOLLOW_CLONE = 0, HB_FOLLOW_JOURNAL } hb_follow_mode_t;
typedef enum { HB_FOLLOW_WAITING = 0, HB_FOLLOW_LIVE } hb_follow_state_t;

typedef struct hb_follower_s hb_follower_t;

/* What the follower asks of its owner. Every function may be NULL where
 * the mode never calls it. ARG is the sink's. */
typedef struct {
    /* apply (or store) ENV, in sequence. BYTES/LEN are its encoding when
     * known (always in journal mode), else NULL/0. RECEIVED_AT is the
     * caller's wall-clock stamp given with it. Return 0, or -1 when it
     * could not be applied (journal mode: held and tried again). */
    int (*apply)(void *arg, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                 int64_t received_at);
    /* clone mode, or snapshot: load SNAPSHOT (as given to
     * hb_follower_snapshot); hb_follower_last is already where following
     * goes on from */
    void (*load)(void *arg, const void *snapshot);
    /* clone mode, or snapshot: send a snapshot request now (REASON for the log) */
    void (*ask_snapshot)(void *arg, const char *reason);
    /* journal mode: send FetchEvents from FROM; the answer comes back
     * through hb_follower_fetched / _gone / _fetch_failed */
    void (*fetch)(void *arg, uint64_t from);
    /* journal mode: FROM..TO are lost (REASON); 0, or -1 if not recorded */
    int (*gap)(void *arg, uint64_t from, uint64_t to, const char *reason);
    /* journal mode: an event held back that the hall never reached */
    int (*reject)(void *arg, const uint8_t *bytes, size_t len, const char *reason);
    void *arg;
} hb_follow_sink_t;

typedef struct {
    const char *hall; /* copied; events of another hall are dropped (counted foreign) */
    hb_follow_mode_t mode;
    int64_t ttl_us;                       /* clone: silence that forces a resync; 0: never */
    int64_t snapshot_timeout_us;          /* clone: ask again when unanswered; 0: never */
    int64_t gap_timeout_us;               /* journal: missing this long becomes a gap */
    int64_t resync_min_us, resync_max_us; /* 0: the defaults above */
    bool keep_bytes; /* copy an event's bytes while it is buffered (journal mode always) */
    bool snapshot;   /* journal: a snapshot first, then the journal (above) */
    hb_follow_sink_t sink;
} hb_follower_config_t;

typedef struct {
    unsigned long applied;
    unsigned long stale;     /* at or below last: dropped (duplicates in journal mode) */
    unsigned long gaps;      /* clone: jumps that forced a resync; journal: gap records */
    unsigned long silences;  /* TTLs without a word that forced a resync */
    unsigned long snapshots; /* loaded */
    unsigned long snapshot_requests;
    unsigned long resyncs_deferred; /* resyncs that had to wait for the rate bound */
    unsigned long foreign;          /* another hall's events */
    unsigned long overflows;        /* buffer full */
    unsigned long fetched;          /* journal: events applied from the journal */
    unsigned long rejected;
} hb_follow_counters_t;

typedef struct {
    uint64_t seq;
    int64_t received_at;
    Hallbus__Envelope *env; /* owned */
    uint8_t *bytes;         /* owned; NULL unless kept */
    size_t len;
} hb_follow_held_t;

/* Public so that daemons may read (never write) it; use the functions. */
struct hb_follower_s {
    hb_follower_config_t config;
    char hall[33];
    hb_follow_state_t state;
    uint64_t last;          /* the last seq applied (or recorded as a gap) */
    hb_follow_held_t *held; /* clone: arrival order; journal: ascending seq */
    size_t nheld, capheld;
    int64_t last_heard_us;   /* the last event or heartbeat of this hall */
    const char *last_reason; /* why the last resync */
    /* clone: the rate bound */
    bool snapshot_owed;
    int64_t asked_at, next_ask_at, interval_us;
    /* journal */
    uint64_t snapshot_seq; /* the snapshot last loaded (0: none) */
    uint64_t known_head;   /* highest seq known to exist */
    uint64_t hall_head;    /* the hall's own seq in its last answer */
    bool hall_answered, fetching, waiting;
    int64_t missing_since; /* since something is missing; 0 when nothing */
    hb_follow_counters_t counters;
};

/* LAST: the seq already applied (journal mode: what the store has; clone
 * mode: 0). Nothing is asked until hb_follower_start. */
int hb_follower_init(hb_follower_t *f, const hb_follower_config_t *config, uint64_t last);
void hb_follower_dispose(hb_follower_t *f);

/* Clone: resync ("start"). Journal: catch up from last + 1. */
void hb_follower_start(hb_follower_t *f, int64_t now_us);

/* An envelope from the bus (a heartbeat too); takes ownership of ENV.
 * BYTES/LEN: its encoding (copied only if it is held), may be NULL. */
void hb_follower_event(hb_follower_t *f, Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                       int64_t received_at, int64_t now_us);
void hb_follower_heartbeat(hb_follower_t *f, uint64_t seq, int64_t now_us);

/* Clone: the snapshot asked for, at sequence SEQ. If one is awaited, the
 * sink's load(SNAPSHOT) runs, then the buffered events that follow it are
 * applied; true. False (nothing loaded) for a late or unasked one.
 * Journal with snapshot: load, then the journal from last + 1 (above). */
bool hb_follower_snapshot(hb_follower_t *f, const void *snapshot, uint64_t seq, int64_t now_us);
/* Clone (or snapshot): the snapshot request failed or was refused: asked
 * again when the rate bound allows (at a tick). */
void hb_follower_snapshot_failed(hb_follower_t *f, int64_t now_us);
/* Clone (or snapshot): start a resync now (e.g. the caller saw something
 * wrong: its model is out of step). Journal with snapshot: events held
 * are kept, a fetch in flight is forgotten. */
void hb_follower_resync(hb_follower_t *f, const char *reason, int64_t now_us);

/* Journal: hall-queue's answer to a fetch, envelopes packed, and its seq
 * now. Afterwards hb_follower_waiting says the hall has not reached what
 * is held: the caller calls hb_follower_fetch_failed after its fetch
 * time-out to ask again. */
void hb_follower_fetched(hb_follower_t *f, const ProtobufCBinaryData *envelopes, size_t n,
                         uint64_t hall_seq, int64_t received_at, int64_t now_us);
/* Journal: GONE; the journal starts at OLDEST (0 if unknown). */
void hb_follower_gone(hb_follower_t *f, uint64_t oldest, const char *why, int64_t received_at,
                      int64_t now_us);
/* Journal: no answer in time, or a refusal: retried, or the missing range
 * recorded as a gap once the gap timeout has passed. */
void hb_follower_fetch_failed(hb_follower_t *f, const char *why, int64_t received_at,
                              int64_t now_us);
/* Journal: the owner's store went back to LAST (a failed commit), or
 * takes nothing for a while (a full disk): follow on from LAST. A fetch in
 * flight is forgotten (the owner ignores its answer), the gap timeout
 * starts afresh (a store that could not write loses no event: what it
 * missed is fetched again), and nothing is asked until hb_follower_start,
 * which fetches from LAST + 1. Events held back ahead of LAST are kept.
 * May be called from inside the sink. */
void hb_follower_rewind(hb_follower_t *f, uint64_t last);

/* Every so often (100 ms is right): silence, owed or unanswered snapshots. */
void hb_follower_tick(hb_follower_t *f, int64_t now_us);

/* Clone: LIVE and heard within the TTL. Journal: nothing known missing. */
bool hb_follower_synced(const hb_follower_t *f, int64_t now_us);
/* Journal: something is known to be missing. */
bool hb_follower_behind(const hb_follower_t *f);
/* Journal: a fetch is in flight (or, with waiting, due again). */
bool hb_follower_fetching(const hb_follower_t *f);
bool hb_follower_waiting(const hb_follower_t *f);
uint64_t hb_follower_last(const hb_follower_t *f);
/* The seq of the snapshot last loaded (0: none yet). */
uint64_t hb_follower_snapshot_seq(const hb_follower_t *f);
const hb_follow_counters_t *hb_follower_counters(const hb_follower_t *f);

#endif
