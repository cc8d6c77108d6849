/* Requests forwarded to hall-queue and not answered yet.
 *
 * Each gets an id of the counter's own (terminals' request ids may clash:
 * every REQ terminal may send 0), under which it goes to hall-queue; the
 * reply is matched back by that id, given the terminal's id again and sent
 * to the terminal's ROUTER identity. An entry unanswered by its deadline is
 * expired: the terminal is told "hall-queue did not answer", and a reply
 * arriving after that is dropped. Pure: the caller passes the time. */
#ifndef HALLBUS_COUNTER_INFLIGHT_H
#define HALLBUS_COUNTER_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INFLIGHT_IDENTITY_MAX 255 /* a ROUTER identity is at most 255 bytes */

typedef enum {
    INFLIGHT_TERMINAL = 0, /* a terminal's command: the reply goes back to it */
    INFLIGHT_OVERTIME,     /* the counter's own ReportOvertime */
    INFLIGHT_SNAPSHOT,     /* the counter's own GetSnapshot */
} inflight_kind_t;

typedef struct {
    uint64_t id;        /* ours, as sent to hall-queue (set by inflight_add) */
    uint64_t client_id; /* the terminal's request_id, restored in its reply */
    inflight_kind_t kind;
    uint32_t window;
    int command; /* Request command_case, for the log */
    int64_t deadline_us;
    size_t identity_len;
    uint8_t identity[INFLIGHT_IDENTITY_MAX];
} inflight_t;

typedef struct {
    inflight_t *items;
    unsigned count, cap, max;
    uint64_t next_id;
} inflight_table_t;

/* MAX entries at most; ids start after FIRST_ID (pick one unlike a previous
 * run's, so that a stale reply never matches). */
void inflight_init(inflight_table_t *t, unsigned max, uint64_t first_id);
void inflight_free(inflight_table_t *t);

/* Adds a copy of ENTRY, due at NOW_US + TIMEOUT_MS. Returns its new id, or
 * 0 when the table is full (or out of memory). */
uint64_t inflight_add(inflight_table_t *t, const inflight_t *entry, int64_t now_us,
                      uint32_t timeout_ms);

/* Removes the entry ID into *OUT. False if there is none (never sent, or
 * already expired). */
bool inflight_take(inflight_table_t *t, uint64_t id, inflight_t *out);

/* Removes one entry whose deadline is at or before NOW_US into *OUT. False
 * when none is due. Call until false. */
bool inflight_expire_one(inflight_table_t *t, int64_t now_us, inflight_t *out);

/* Removes any one entry into *OUT (for answering everyone at shutdown). */
bool inflight_pop(inflight_table_t *t, inflight_t *out);

#endif
