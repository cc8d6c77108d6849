/* Who is signed on at a counter's windows: one session per window.
 *
 * A session binds a random token (32 bytes from libsodium, URL-safe base64
 * without padding: 43 characters) to a staff member, one window and the
 * terminal that signed on; it ends when signed off, when someone signs on
 * at that window (a substitute), when its person signs on at another
 * window (one person, one window), when its account is disabled, after
 * SESSIONS_TTL_US, or after SESSIONS_IDLE_US without a command.
 *
 * An ended session is remembered at its window (the last one only), so
 * that its terminal's next command is told why it was refused.
 *
 * No sockets and no clock of its own (every call says what time it is, in
 * microseconds): the daemon records the endings it is told about. */
#ifndef HALLBUS_COUNTER_SESSIONS_H
#define HALLBUS_COUNTER_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hallbus.pb-c.h"
#include "hallbus/accounts.h"
#include "hallbus/keys.h"

#define SESSIONS_TTL_US (12LL * 3600 * 1000000)    /* a session lasts a working day at most */
#define SESSIONS_IDLE_US (30LL * 60 * 1000000)     /* and ends after 30 minutes without use */
#define SESSION_TOKEN_LEN 43                       /* base64url of 32 bytes, no padding */
#define SESSION_TERMINAL_MAX (HB_KEY_NAME_MAX + 1) /* the terminal's key name, or "" if unknown */
#define SESSION_WHY_MAX 96

typedef struct {
    char token[SESSION_TOKEN_LEN + 1]; /* "" for none */
    char staff[HB_STAFF_ID_MAX];
    uint32_t window;
    char terminal[SESSION_TERMINAL_MAX];
    int64_t created, expires, last_used;
} session_t;

/* One window's slot: the session there, and the last one that ended there
 * with why. */
typedef struct {
    uint32_t window;
    session_t now;
    char ended_token[SESSION_TOKEN_LEN + 1];
    char ended_why[SESSION_WHY_MAX]; /* "S2 signed on at window 3" */
} session_slot_t;

typedef struct {
    session_slot_t *slots; /* one per window, ascending */
    unsigned count;
    int64_t ttl_us, idle_us;
} sessions_t;

/* A session that just ended, for the record. */
typedef struct {
    char staff[HB_STAFF_ID_MAX];
    uint32_t window;
    char why[SESSION_WHY_MAX];
} session_ended_t;

/* WINDOWS: COUNT numbers, ascending (copied). TTL_US, IDLE_US: 0 for the
 * defaults above. 0, or -1 on out of memory. */
int sessions_init(sessions_t *self, const uint32_t *windows, unsigned count, int64_t ttl_us,
                  int64_t idle_us);
void sessions_free(sessions_t *self);

/* STAFF signs on at WINDOW (one of SELF's) from TERMINAL (may be NULL) at
 * NOW: a new session, whose token is in OUT. Ends STAFF's session at any
 * other window and whoever's was at WINDOW: each is put in ENDED (room for
 * 2), their count in *NENDED. 0, or -1 when WINDOW is not one of SELF's. */
int sessions_open(sessions_t *self, const char *staff, uint32_t window, const char *terminal,
                  int64_t now, session_t *out, session_ended_t ended[2], unsigned *nended);

/* May TOKEN act at WINDOW at NOW? OK with *OUT the session (belongs to
 * SELF; its last use is now NOW), or PERMISSION_DENIED with MSG saying why
 * in words ("sign on at window 3 first", "this session is for window 2",
 * "session expired; sign on again"). An expired session found here ends:
 * it is put in *ENDED and *NENDED is 1 (else 0). */
Hallbus__StatusCode sessions_check(sessions_t *self, const char *token, uint32_t window,
                                   int64_t now, const session_t **out, session_ended_t *ended,
                                   unsigned *nended, char *msg, size_t msglen);

/* Ends the session at WINDOW if TOKEN is its token, with WHY. 0 and *ENDED
 * filled, or -1 (no such session: MSG says why). */
int sessions_close(sessions_t *self, const char *token, uint32_t window, const char *why,
                   session_ended_t *ended, char *msg, size_t msglen);

/* Ends the sessions that expired or fell idle by NOW, and those whose
 * staff KEEP (may be NULL) says may not stay (an account disabled or gone).
 * Each ended goes into ENDED (room for MAX); returns how many. */
typedef bool (*sessions_keep_fn)(const char *staff, void *arg);
unsigned sessions_sweep(sessions_t *self, int64_t now, sessions_keep_fn keep, void *arg,
                        session_ended_t *ended, unsigned max);

/* The session at WINDOW, or NULL. Belongs to SELF. */
const session_t *sessions_at(const sessions_t *self, uint32_t window);

#endif
