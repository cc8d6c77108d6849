/* Events and commands as bytes: decode hostile input without trusting it,
 * and name an event's topic. */
#ifndef HALLBUS_ENVELOPE_H
#define HALLBUS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "hallbus.pb-c.h"

/* Largest envelope a subscriber accepts, and largest request hall-queue
 * accepts: a ticket command is a few hundred bytes; a megabyte is an attack
 * or a bug, and is answered as such rather than decoded. */
#define HB_ENVELOPE_MAX (1u << 20)
#define HB_REQUEST_MAX (64u << 10)
#define HB_TOPIC_MAX 96

/* Decoder results, as in malamute: 0 decoded, -2 malformed. */
#define HB_DECODE_OK 0
#define HB_DECODE_MALFORMED (-2)
#define HB_DECODE_TOO_LARGE (-3)
/* A request that decodes but has a string field that is not valid UTF-8 or
 * holds a NUL byte: answer INVALID_ARGUMENT with WHY, which names the field
 * ("pause_window.reason: not valid UTF-8"). */
#define HB_DECODE_INVALID (-4)
#define HB_DECODE_WHY_MAX 200

/* On HB_DECODE_OK *out is a message the caller owns: free it with
 * hallbus__envelope__free_unpacked(*out, NULL). On any error *out is NULL and
 * WHY (if not NULL) says what was wrong, in words; except that
 * hb_request_decode's HB_DECODE_INVALID also leaves the decoded request in
 * *out (the caller frees it) so that the refusal can carry its request_id.
 * WHY is valid until the next call on the same thread. */
int hb_envelope_decode(const void *data, size_t len, Hallbus__Envelope **out, const char **why);
int hb_request_decode(const void *data, size_t len, Hallbus__Request **out, const char **why);

/* One row of the table of event kinds: the Envelope's oneof case, the kind
 * in the topic ("ticket.started") and the proto message it carries
 * ("ServiceStarted"). */
typedef struct {
    int event_case; /* Hallbus__Envelope__EventCase */
    const char *kind;
    const char *message;
} hb_event_kind_t;

/* The whole table, in the proto's order; *COUNT rows. Static. */
const hb_event_kind_t *hb_event_kinds(size_t *count);

/* The kind of an event, as in its topic: "ticket.called". "unknown" for an
 * envelope whose event this build does not know. */
const char *hb_event_kind(const Hallbus__Envelope *env);

/* What an event is about, found by the proto rather than by a list of
 * kinds: the Window of a window.* event (opened, paused, resumed, closed),
 * the Appointment of an appointment.* event, the Complaint of a
 * complaint.* event; NULL for any other event, or when the event leaves it
 * unset. They point into ENV. */
const Hallbus__Window *hb_event_window(const Hallbus__Envelope *env);
const Hallbus__Appointment *hb_event_appointment(const Hallbus__Envelope *env);
const Hallbus__Complaint *hb_event_complaint(const Hallbus__Envelope *env);

/* "hall.<hall>.<kind>" into OUT; returns its length, or -1 if it does not fit. */
int hb_topic(const char *hall, const char *kind, char out[HB_TOPIC_MAX]);

/* A command's name as hallctl spells it ("call-next"), "none" if unset. */
const char *hb_command_name(const Hallbus__Request *req);

/* The window a window command acts at (open, pause, call, finish, ...);
 * 0 for a command that is not a window's. */
uint32_t hb_request_window(const Hallbus__Request *req);

/* Name of a status code ("INVALID_STATE"). */
const char *hb_status_name(Hallbus__StatusCode code);

#endif
