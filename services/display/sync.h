/* The Clone pattern as a state machine, without I/O: what to do with each
 * event, snapshot and clock tick. hall-display's sockets feed it and do what
 * it answers (send a snapshot request); unit tests feed it directly.
 *
 *   WAITING  a snapshot has been asked for; events are buffered (in order,
 *            up to a bound) and nothing is applied.
 *   LIVE     the snapshot is applied; an event with seq = last + 1 is
 *            applied, seq <= last is dropped (stale or duplicate), a jump is
 *            a gap; a heartbeat with a higher seq is a gap at the tail, a
 *            lower one a hall that went back (a new store): both resync.
 *            Silence (no event nor heartbeat) longer than the TTL resyncs.
 *
 * Resyncing keeps showing nothing stale: the view says it is not synced
 * (dv_sync_synced) until the next snapshot is applied. */
#ifndef DISPLAY_SYNC_H
#define DISPLAY_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view.h"

#define DV_SYNC_BUFFER_MAX 100000 /* events buffered while waiting for a snapshot */

typedef enum { DV_SYNC_WAITING = 0, DV_SYNC_LIVE } dv_sync_state_t;

/* What the caller must do after a call. */
typedef enum {
    DV_SYNC_NOTHING = 0,
    DV_SYNC_CHANGED, /* the view changed: show it */
    DV_SYNC_RESYNC,  /* ask for a snapshot now (the state is WAITING) */
} dv_sync_action_t;

typedef struct {
    unsigned long applied;
    unsigned long stale;     /* seq at or below the view's: dropped */
    unsigned long gaps;      /* jumps that forced a resync */
    unsigned long silences;  /* TTLs without a word that forced a resync */
    unsigned long snapshots; /* applied */
    unsigned long foreign;   /* another hall's events */
    unsigned long overflows; /* buffer overflows while waiting */
} dv_sync_counters_t;

typedef struct {
    dv_view_t *view; /* not owned */
    dv_sync_state_t state;
    Hallbus__Envelope **buffer; /* owned, while WAITING */
    size_t nbuf, capbuf;
    int64_t last_heard_us; /* monotonic: the last event or heartbeat of this hall */
    int64_t ttl_us;
    int64_t announce_max_age_us;
    dv_sync_counters_t counters;
    const char *last_reason; /* why the last resync: "gap", "silence", ... */
} dv_sync_t;

void dv_sync_init(dv_sync_t *self, dv_view_t *view, uint32_t ttl_ms);
void dv_sync_dispose(dv_sync_t *self);

/* Starts (or restarts) a sync: state WAITING, buffer emptied. The caller
 * sends a snapshot request. REASON is kept for the logs. */
void dv_sync_begin(dv_sync_t *self, const char *reason, int64_t now_mono_us);

/* An event decoded from the bus; takes ownership of ENV. */
dv_sync_action_t dv_sync_event(dv_sync_t *self, Hallbus__Envelope *env, int64_t now_mono_us);

/* The snapshot asked for (not kept). Applies it and the buffered events
 * that follow it. RESYNC if the buffer has a gap after it. */
dv_sync_action_t dv_sync_snapshot(dv_sync_t *self, const Hallbus__Snapshot *snap,
                                  int64_t now_mono_us);

/* Called every so often: RESYNC when LIVE and the hall has been silent for
 * longer than the TTL. */
dv_sync_action_t dv_sync_tick(dv_sync_t *self, int64_t now_mono_us);

/* True when the view reflects the hall: LIVE and heard within the TTL. */
bool dv_sync_synced(const dv_sync_t *self, int64_t now_mono_us);

#endif
