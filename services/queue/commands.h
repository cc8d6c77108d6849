/* Requests in, replies out: decode, dispatch to the hall, encode. */
#ifndef HALLBUS_QUEUE_COMMANDS_H
#define HALLBUS_QUEUE_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "hall.h"
#include "hallbus/keys.h"

typedef struct {
    unsigned long handled;
    unsigned long refused;   /* answered with a status other than OK */
    unsigned long malformed; /* bytes that were not a Request, or too large */
    unsigned long unknown;   /* no command, or one this build does not know */
} queue_counters_t;

/* Handles the request bytes DATA (hostile until decoded) and returns the
 * packed Reply in *OUT (caller frees). Never fails: anything wrong becomes
 * an error reply that says what was wrong. */
void queue_handle(hall_t *hall, const void *data, size_t len, int64_t now,
                  queue_counters_t *counters, uint8_t **out, size_t *outlen);

/* The same for a request already decoded (borrowed: the caller frees it;
 * its staff field may be cleared) from a key of ROLE (queue_handle: an
 * operator's). INVALID: NULL, or why its strings are refused
 * (hb_request_decode said HB_DECODE_INVALID): it is then answered
 * INVALID_ARGUMENT, nothing done.
 *
 * Authorisation is by ROLE alone (command_roles.c): PERMISSION_DENIED names
 * the roles needed. Request.staff is believed from a counter key (which
 * must name the person acting at a window: hall-counter signs them on) and
 * from an operator's (who may do everything, as anyone); from any other
 * role it is ignored. */
void queue_handle_request(hall_t *hall, Hallbus__Request *req, const char *invalid, hb_role_t role,
                          int64_t now, queue_counters_t *counters, uint8_t **out, size_t *outlen);

/* The reply to bytes that did not decode: DRC is hb_request_decode's
 * result (HB_DECODE_TOO_LARGE or _MALFORMED), WHY its reason; counted as
 * malformed, logged once in a while. */
void queue_refuse_undecodable(hall_t *hall, int drc, const char *why, size_t len,
                              queue_counters_t *counters, uint8_t **out, size_t *outlen);

/* An error reply for frames that never reached decoding (bad framing). */
void queue_error_reply(hall_t *hall, Hallbus__StatusCode code, const char *msg, uint8_t **out,
                       size_t *outlen);

#endif
