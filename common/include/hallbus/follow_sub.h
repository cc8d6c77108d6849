/* The socket part of the follower (follower.h): one hall's events from the
 * bus, and its snapshots or journal pages from hall-queue, on a libuv loop.
 *
 * A SUB on the bus subscribed to the hall's topic prefix; each message is
 * decoded with a size bound (hb_envelope_decode) and what does not decode
 * is counted as malformed and dropped. Events and heartbeats go to the
 * follower; a tick timer (100 ms) gives it the time. What the follower asks
 * for goes to hall-queue through an async client (client.h): GetSnapshot
 * in clone mode, FetchEvents in journal mode (both with `snapshot`: the
 * notifier's model and every event from its cursor), and the answers go back to
 * it. The owner sees only the callbacks: load a snapshot, apply an event,
 * the heartbeat's summaries, synced or not, and (journal mode) gaps and
 * rejects. Nothing here decides anything about sequence: follower.c does. */
#ifndef HALLBUS_FOLLOW_SUB_H
#define HALLBUS_FOLLOW_SUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hallbus/follower.h"
#include "hallbus/security.h"
#include "hallbus.pb-c.h"

#define HB_FOLLOW_SUB_TICK_MS 100
#define HB_FOLLOW_SUB_REPLY_MAX (64u << 20) /* a snapshot of a very busy day is far below */
#define HB_FOLLOW_SUB_FETCH_MAX 10000       /* events asked for per FetchEvents */

typedef struct hb_follow_sub_s hb_follow_sub_t;

/* What the owner is told. Every function may be NULL where not wanted
 * (load in clone mode, gap in journal mode are the ones that matter). ARG
 * is the callbacks'. Borrowed arguments are valid during the call only. */
typedef struct {
    /* clone (or snapshot): replace the state with SNAPSHOT (then events
     * follow it; with snapshot, those at or below hb_follower_snapshot_seq
     * first, from the journal: the snapshot has them already) */
    void (*load)(void *arg, const Hallbus__Snapshot *snapshot);
    /* ENV in sequence; BYTES/LEN its encoding (NULL/0 in clone mode unless
     * keep_bytes). 0, or -1 (journal mode: held and tried again). */
    int (*apply)(void *arg, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                 int64_t received_at);
    /* a heartbeat of this hall whose seq is the one last applied: its
     * summaries (Heartbeat.services) describe the state the owner holds */
    void (*heartbeat)(void *arg, const Hallbus__Envelope *env);
    /* hb_follow_sub_synced changed to SYNCED */
    void (*synced)(void *arg, bool synced);
    /* journal: FROM..TO are lost (REASON); 0, or -1 when not recorded */
    int (*gap)(void *arg, uint64_t from, uint64_t to, const char *reason);
    /* journal: an event held back that the hall never reached */
    int (*reject)(void *arg, const uint8_t *bytes, size_t len, const char *reason);
    /* hall-queue answered what was asked (GetSnapshot, FetchEvents) with
     * CODE other than OK (GONE aside: that is the journal's gap); MESSAGE
     * is its text ("" if none). Asked again as after no answer. */
    void (*refused)(void *arg, Hallbus__StatusCode code, const char *message);
    /* after each loop turn that brought bus messages, and after each of
     * hall-queue's answers: the owner publishes or commits here */
    void (*batch)(void *arg);
    void *arg;
} hb_follow_sub_callbacks_t;

typedef struct {
    const char *hall;    /* copied */
    const char *bus_sub; /* the bus's PUB side, connected; copied */
    const char *command; /* hall-queue's command endpoint; copied */
    const char *actor;   /* Request.actor ("hall-display"); copied */
    /* CURVE for both links (hall-bus.pub, hall-queue.pub); NULL: plain.
     * Borrowed: it outlives the close. */
    const hb_security_t *security;
    hb_follow_mode_t mode;
    /* as in hb_follower_config_t (0: never / the defaults) */
    int64_t ttl_us, snapshot_timeout_us, gap_timeout_us, resync_min_us, resync_max_us;
    bool keep_bytes;
    bool snapshot;             /* journal: a snapshot first, then the journal (follower.h) */
    uint32_t fetch_timeout_ms; /* journal: a FetchEvents unanswered (0: 2000) */
    uint32_t fetch_max;        /* journal: events per FetchEvents (0: HB_FOLLOW_SUB_FETCH_MAX) */
    int sub_hwm;               /* 0: 100000 */
    int batch_max;             /* bus messages per loop turn (0: the zsock default) */
    size_t reply_max;          /* 0: HB_FOLLOW_SUB_REPLY_MAX */
    hb_follow_sub_callbacks_t cb;
} hb_follow_sub_config_t;

typedef struct {
    hb_follow_counters_t follower; /* a copy of hb_follower_counters */
    unsigned long malformed;       /* bus messages that did not decode (or were not 2 frames) */
    unsigned long requests;        /* GetSnapshot / FetchEvents sent */
    unsigned long unsent;          /* requests the client could not send */
    unsigned long bad_replies;     /* refused, malformed or not what was asked */
    unsigned long heartbeats;      /* of this hall */
} hb_follow_sub_counters_t;

/* Opens the SUB (subscribed before anything is asked) and the client, in
 * zmq context CTX (which must outlive the close), and starts the tick.
 * LAST: as in hb_follower_init. Nothing is asked until hb_follow_sub_start.
 * NULL on failure (logged). */
hb_follow_sub_t *hb_follow_sub_new(uv_loop_t *loop, void *ctx, const hb_follow_sub_config_t *config,
                                   uint64_t last);

/* Clone: the first snapshot request. Journal: catch up from last + 1. */
void hb_follow_sub_start(hb_follow_sub_t *fs);

/* Clone: LIVE and heard within the TTL. Journal: nothing known missing. */
bool hb_follow_sub_synced(const hb_follow_sub_t *fs);

/* The follower inside, for what only it knows (last, state, reason) and
 * for hb_follower_rewind / hb_follower_resync. Owned by FS. */
hb_follower_t *hb_follow_sub_follower(hb_follow_sub_t *fs);

/* Counters as of now (the follower's copied in). */
hb_follow_sub_counters_t hb_follow_sub_counters(const hb_follow_sub_t *fs);

/* NULL-safe; sets *FS to NULL. Pending requests end (no callback reaches
 * the owner); the handles are freed by the loop: run it until it ends
 * before uv_loop_close and zmq_ctx_term. */
void hb_follow_sub_close(hb_follow_sub_t **fs);

#endif
