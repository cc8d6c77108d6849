/* Following one hall's sequence: events are stored in seq order with no
 * gap, whatever order or loss the bus delivers them with (the Clone
 * pattern's ideas, on the journal of hall-queue).
 *
 * An event with the next seq is stored at once. One further ahead is held
 * back, and the missing range is asked of hall-queue (FetchEvents) through
 * the sink; what comes back is stored, then what was held back. A heartbeat
 * whose seq is ahead of what is stored shows loss at the tail and starts a
 * fetch too. When hall-queue says the events are GONE, or has not answered
 * within the gap timeout, the missing range is stored as a gap record, with
 * an error in the log, and following goes on after it.
 *
 * No sockets here: the daemon (main.c) wires the sink to the store and to a
 * DEALER, and the unit tests to arrays. */
#ifndef HALLBUS_AUDIT_FOLLOW_H
#define HALLBUS_AUDIT_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hallbus.pb-c.h"

#define AUDIT_PENDING_MAX 200000

typedef struct audit_follow_s audit_follow_t;

typedef struct {
    /* store ENV (BYTES decoded); 0 or -1 */
    int (*store_event)(void *arg, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                       int64_t received_at);
    int (*store_gap)(void *arg, const char *hall, uint64_t from, uint64_t to, const char *reason);
    int (*store_rejected)(void *arg, const char *hall, const uint8_t *bytes, size_t len,
                          const char *reason);
    /* ask hall-queue for events from FROM on; the answer comes back through
     * audit_follow_fetched / _gone / _failed */
    void (*fetch)(void *arg, audit_follow_t *f, uint64_t from);
    void *arg;
} audit_sink_t;

typedef struct {
    uint64_t seq;
    int64_t received_at;
    Hallbus__Envelope *env; /* owned */
    uint8_t *bytes;         /* owned */
    size_t len;
} audit_held_t;

struct audit_follow_s {
    char hall[33];
    uint64_t last;       /* last seq stored (event or gap end) */
    uint64_t known_head; /* highest seq known to exist */
    audit_held_t *held;  /* held back, ascending seq */
    size_t nheld, capheld;
    bool fetching;
    bool waiting;       /* the hall has not reached the seqs held yet: retry on the timer */
    uint64_t hall_head; /* the hall's own seq in its last answer */
    bool hall_answered;
    int64_t missing_since; /* monotonic µs since something is missing; 0 when nothing */
    uint64_t gap_timeout_us;
    audit_sink_t sink;
    unsigned long duplicates, fetched, gaps;
    void *user; /* the daemon's per-hall state */
};

void audit_follow_init(audit_follow_t *f, const char *hall, uint64_t last_stored,
                       uint64_t gap_timeout_us, const audit_sink_t *sink);
void audit_follow_clear(audit_follow_t *f);

/* Catch up from the last stored seq (on start). */
void audit_follow_start(audit_follow_t *f, int64_t now);

/* An event of this hall from the bus. Takes ownership of ENV; BYTES are
 * copied only if the event has to be held back. Returns 1 if it was a
 * duplicate (dropped). */
int audit_follow_event(audit_follow_t *f, Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                       int64_t received_at, int64_t now);
void audit_follow_heartbeat(audit_follow_t *f, uint64_t seq, int64_t now);

/* hall-queue's answer: envelopes from the journal (packed), and its seq now.
 * Afterwards f->waiting says the hall has not reached what is held: the
 * caller retries (audit_follow_failed) after its fetch timeout. */
void audit_follow_fetched(audit_follow_t *f, const ProtobufCBinaryData *envelopes, size_t n,
                          uint64_t hall_seq, int64_t received_at, int64_t now);
/* GONE: the journal starts at OLDEST (0 if unknown). */
void audit_follow_gone(audit_follow_t *f, uint64_t oldest, const char *why, int64_t received_at,
                       int64_t now);
/* No answer in time, or an error: retries, or records the gap once the gap
 * timeout has passed. */
void audit_follow_failed(audit_follow_t *f, const char *why, int64_t received_at, int64_t now);

/* true when something is known to be missing. */
bool audit_follow_behind(const audit_follow_t *f);

#endif
