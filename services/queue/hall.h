/* The hall's authoritative state, held by the one hall-queue of the hall.
 *
 * Every operation validates first and changes nothing when it refuses. When
 * it accepts, it changes memory, writes the change to the store and appends
 * the resulting events to the journal, all inside the transaction that the
 * caller commits (hall_commit) before anyone is told: the reply and the
 * published events leave only after the commit. If the store fails half-way
 * through an accepted change (a full disk), memory and disk disagree: the
 * hall remembers the failure, keeps everything else of the batch in a
 * transaction that will not be committed, and hall_commit fails; the caller
 * then refuses what the batch changed and calls hall_reload, which puts
 * memory back to the last committed state. */
#ifndef HALLBUS_HALL_H
#define HALLBUS_HALL_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "hall_store.h"
#include "hallbus.pb-c.h"
#include "hallbus/clock.h"
#include "hallbus/config.h"

#define HALL_MSG_MAX 256
#define HALL_RECENT_CALLS 10
#define HALL_RATE_SAMPLES 20
#define HALL_KEY_STEP (1u << 20) /* between queue keys: room to requeue in between */
#define HALL_TOKEN_LEN 48 /* 32 bytes (its day, 28 random) in URL-safe base64 (43) and the NUL */
#define HALL_CONTACT_PURGE_BATCH 100 /* contacts deleted per tick at most */

typedef struct service_s service_t;

typedef struct ticket_s {
    uint64_t id;
    char number[16];
    service_t *service;
    char original_service[4]; /* "" unless transferred */
    uint32_t daily_number;
    Hallbus__Priority priority;
    Hallbus__GreenReason green_reason;
    Hallbus__TicketState state;
    int64_t issued_at, first_called_at, called_at, started_at, finished_at;
    uint32_t window;
    char staff[64];
    uint32_t recalls, requeues;
    Hallbus__Result result;
    char *reason;
    char **materials;
    unsigned materials_count;
    char promised_date[HB_DATE_LEN];
    uint32_t rating;
    char *rating_comment;
    char channel[16];
    char contact_ref[24];
    uint64_t queue_key;         /* place in line: smaller is served earlier */
    char appointment_code[12];  /* checked in from an appointment: never published */
    uint64_t appointment_id;    /* that appointment's id, which is published instead */
    char token[HALL_TOKEN_LEN]; /* the holder's secret for GetMyTicket: never published */
    int64_t no_show_at;         /* when it was marked a no-show: requeue until a limit after */
    int64_t slot_start;         /* its slot's start: ahead of walk-ins from then on */
    uint32_t place_scratch;     /* hall_view_snapshot numbers the lines here */

    struct ticket_s *prev, *next; /* in its service's waiting line */
    UT_hash_handle hh_number;
    UT_hash_handle hh_id;
    UT_hash_handle hh_token;
} ticket_t;

/* A waiting line: tickets sorted by queue_key, or with BY_SLOT (the
 * checked-in appointments) by slot start, then queue_key. */
typedef struct {
    ticket_t *head, *tail;
    uint32_t count;
    bool by_slot;
} line_t;

struct service_s {
    const hb_service_conf_t *conf;
    const char *prefix;
    uint32_t last_number; /* today's last daily number */
    uint32_t served_today;
    /* The service's line, in calling order (the one definition, see
     * hall_place): green, then the first APPTS_BEGUN of appointments (their
     * slot has begun), then normal, then the other appointments. */
    line_t green, appointments, normal;
    uint32_t appts_begun;
    bool summary_dirty; /* its summary goes with the next event */
    /* service seconds of the last finished tickets, for the estimated wait */
    uint32_t rate_samples[HALL_RATE_SAMPLES];
    unsigned rate_count, rate_next;
};

typedef struct window_s {
    uint32_t number;
    const hb_window_conf_t *conf;
    Hallbus__WindowState state;
    char staff[64];
    service_t **services; /* in calling order; services_count entries */
    unsigned services_count;
    hb_policy_t policy;
    uint32_t *weights;    /* aligned with services */
    int64_t *wrr_current; /* smooth weighted round robin state, aligned with services */
    char pause_reason[64];
    ticket_t *current; /* CALLED or SERVING here */
    int64_t since;
} window_t;

/* A packed event waiting for the commit, then for the bus. */
typedef struct outbox_item_s {
    char topic[96];
    uint8_t *data;
    size_t len;
    uint64_t seq;
    struct outbox_item_s *next;
} outbox_item_t;

typedef struct hall_s {
    const hb_config_t *config;
    hall_store_t *store;
    char business_date[HB_DATE_LEN];
    uint64_t seq;
    uint64_t next_ticket_id;
    uint64_t next_queue_key;
    service_t *services;
    unsigned services_count;
    window_t *windows;
    unsigned windows_count;
    ticket_t *by_number; /* today's tickets */
    ticket_t *by_id;
    ticket_t *by_token;                        /* today's tickets that have a token */
    ticket_t *recent_calls[HALL_RECENT_CALLS]; /* ring, newest at recent_next-1 */
    unsigned recent_next;
    outbox_item_t *outbox_head, *outbox_tail;
    bool in_transaction;
    /* line changes made since the last event, which carries them */
    Hallbus__LineChange *changes;
    size_t changes_count, changes_cap;
    int64_t lines_now; /* slots that began by then are in the begun part of their line */
    int64_t last_now;  /* the latest clock reading seen, to notice steps */
    /* the store refused a write of the open transaction: it will be rolled
     * back, never committed; STORE_ERROR says why, for the refusals */
    bool store_failed;
    bool store_full;
    char store_error[HALL_MSG_MAX];
    uint64_t writes;       /* writes asked of the store, ever: who wrote in a batch */
    uint64_t commits;      /* transactions committed, ever: what is durable */
    uint64_t recorded_seq; /* the last seq written to meta "last_seq" */
    const char *source;    /* "hall-queue" */
} hall_t;

/* A refusal: a status code and a sentence a person understands. */
typedef struct {
    Hallbus__StatusCode code;
    char msg[HALL_MSG_MAX];
} hall_err_t;

/* Loads the hall from STORE (which the hall then owns) as of NOW_US and
 * rolls the business day over if it changed while the hall was down.
 * Returns NULL with ERR on failure. */
hall_t *hall_new(const hb_config_t *config, hall_store_t *store, int64_t now_us, char *err,
                 size_t errlen);
void hall_destroy(hall_t **self);

/* Commits what the last operations wrote. After it, the outbox may be sent. */
int hall_commit(hall_t *self);
/* After a failed hall_commit: rolls the store back and reloads the hall from
 * what it committed (tickets, windows, business day, sequence); the events
 * of the failed transaction are dropped unpublished. 0, or -1 if the store
 * cannot even be read. */
int hall_reload(hall_t *self);
/* Takes the committed events in order; caller frees with hall_outbox_free. */
outbox_item_t *hall_outbox_take(hall_t *self);
void hall_outbox_free(outbox_item_t *items);

/* Starts a new business day if NOW_US belongs to a later one. Returns true if it did. */
bool hall_rollover(hall_t *self, int64_t now_us);

/* Lookups */
service_t *hall_service(hall_t *self, const char *prefix);
window_t *hall_window(hall_t *self, uint32_t number);
ticket_t *hall_ticket(hall_t *self, const char *number);
ticket_t *hall_ticket_by_id(hall_t *self, uint64_t id);

/* Privacy (hall_privacy.c). A ticket's own view for whoever holds TOKEN:
 * today's ticket, or NOT_FOUND saying whether the token is of an earlier
 * day or unknown. */
int hall_my_ticket(hall_t *self, const char *token, ticket_t **out, hall_err_t *err);
/* A fresh token: 32 bytes of libsodium randombytes_buf, URL-safe base64. */
void hall_new_token(const char *business_date, char out[HALL_TOKEN_LEN]);
/* Deletes at most BATCH stored contacts made more than
 * queue.contact_retention_days before NOW (those of appointments still
 * booked wait for the appointment). Returns how many it deleted. */
unsigned hall_purge_contacts(hall_t *self, int64_t now, unsigned batch);

/* The place of waiting ticket T in its service's line (0 = next): the
 * tickets that will be called before it. The one definition of "ahead". */
uint32_t hall_place(const ticket_t *t);
#define hall_ahead(self, t) hall_place(t)
/* Tickets waiting for SVC, in any of its lines: the one definition of
 * "waiting". */
uint32_t hall_service_waiting(const service_t *svc);
/* Fills OUT with SVC's summary; strings point into the configuration. */
void hall_service_summary(hall_t *self, const service_t *svc, Hallbus__ServiceSummary *out);
/* Appointments whose slot began by NOW move ahead of the walk-ins, each
 * with a line.moved event. Returns how many moved. */
unsigned hall_lines_tick(hall_t *self, int64_t now);
/* Seconds from FROM to TO, never negative: the clock may have stepped back. */
uint32_t hall_seconds_between(int64_t from_us, int64_t to_us);
/* Estimated wait for a ticket with AHEAD tickets before it in SVC. */
uint32_t hall_estimated_wait(hall_t *self, const service_t *svc, uint32_t ahead);
/* Open (not paused) windows that serve SVC. */
uint32_t hall_open_windows_for(hall_t *self, const service_t *svc);
uint32_t hall_waiting_total(hall_t *self);

/* Operations: 0 (HALLBUS__STATUS_CODE__OK) or a refusal in ERR. */
typedef struct {
    const char *service;
    Hallbus__Priority priority;
    Hallbus__GreenReason green_reason;
    const char *contact;
    const char *channel;
} hall_take_t;
int hall_take_ticket(hall_t *self, const hall_take_t *in, int64_t now, ticket_t **out,
                     hall_err_t *err);
/* A new waiting ticket of SVC (no checks: the caller made them), saved;
 * hall_emit_issued announces it. With APPOINTMENT (may be NULL) it is that
 * appointment's ticket, in the line that goes first once its slot begins. */
ticket_t *hall_issue_ticket(hall_t *self, service_t *svc, Hallbus__Priority priority,
                            Hallbus__GreenReason green_reason, const char *channel,
                            const char *contact_ref, const Hallbus__Appointment *appointment,
                            int64_t now);
void hall_emit_issued(hall_t *self, ticket_t *t, int64_t now);
void hall_new_contact_ref(char out[24]);

/* Appointments; the Appointment messages returned are the caller's
 * (hallbus__appointment__free_unpacked). */
int hall_book(hall_t *self, const char *service, const char *date, const char *slot,
              const char *contact, int64_t now, Hallbus__Appointment **out, hall_err_t *err);
int hall_cancel_appointment(hall_t *self, const char *code, int64_t now, Hallbus__Appointment **out,
                            hall_err_t *err);
int hall_check_in(hall_t *self, const char *code, int64_t now, Hallbus__Appointment **aout,
                  ticket_t **tout, hall_err_t *err);
/* Booked appointments whose check-in window has closed by NOW lapse. */
unsigned hall_lapse_appointments(hall_t *self, int64_t now);

/* Complaints; the Complaint returned is the caller's. */
typedef struct {
    const char *ticket_number;
    uint32_t window;
    const char *staff;
    const char *text;
    const char *contact;
} hall_complaint_t;
int hall_file_complaint(hall_t *self, const hall_complaint_t *in, int64_t now,
                        Hallbus__Complaint **out, hall_err_t *err);
int hall_update_complaint(hall_t *self, uint64_t id, Hallbus__ComplaintState state,
                          const char *handler, const char *note, const char *reply, int64_t now,
                          Hallbus__Complaint **out, hall_err_t *err);

/* A sign-on at a window as hall-counter checked it (hall_staff.c): on the
 * record as staff.signed_on, staff.sign_on_failed or (a session that
 * ended) staff.signed_off. A good one at a window open under someone else
 * hands the window over to the one signing on; else it changes no window. */
typedef struct {
    const char *staff; /* the id as typed */
    uint32_t window;
    Hallbus__SignOnOutcome outcome;
    const char *reason; /* why refused; may be NULL */
    const char *source; /* who reports it: the request's actor; may be NULL */
} hall_sign_on_t;
int hall_record_sign_on(hall_t *self, const hall_sign_on_t *in, int64_t now, hall_err_t *err);

int hall_call_next(hall_t *self, uint32_t window, int64_t now, ticket_t **out, hall_err_t *err);
int hall_call_ticket(hall_t *self, uint32_t window, const char *ticket_number, int64_t now,
                     ticket_t **out, hall_err_t *err);
int hall_report_overtime(hall_t *self, uint32_t window, const char *ticket_number, uint32_t level,
                         uint32_t elapsed_seconds, int64_t now, ticket_t **out, hall_err_t *err);
int hall_recall(hall_t *self, uint32_t window, int64_t now, ticket_t **out, hall_err_t *err);
int hall_no_show(hall_t *self, uint32_t window, int64_t now, ticket_t **out, hall_err_t *err);
int hall_requeue(hall_t *self, const char *number, int64_t now, ticket_t **out, hall_err_t *err);
int hall_transfer(hall_t *self, uint32_t window, const char *to_service, const char *reason,
                  int64_t now, ticket_t **out, hall_err_t *err);
int hall_start(hall_t *self, uint32_t window, int64_t now, ticket_t **out, hall_err_t *err);
typedef struct {
    Hallbus__Result result;
    const char *reason;
    char **materials;
    unsigned materials_count;
    const char *promised_date;
} hall_finish_t;
int hall_finish(hall_t *self, uint32_t window, const hall_finish_t *in, int64_t now, ticket_t **out,
                hall_err_t *err);
int hall_evaluate(hall_t *self, const char *number, uint32_t rating, const char *comment,
                  int64_t now, ticket_t **out, hall_err_t *err);

int hall_open_window(hall_t *self, uint32_t window, const char *staff, char **services,
                     unsigned services_count, int64_t now, window_t **out, hall_err_t *err);
int hall_pause_window(hall_t *self, uint32_t window, const char *reason, int64_t now,
                      window_t **out, hall_err_t *err);
int hall_resume_window(hall_t *self, uint32_t window, int64_t now, window_t **out, hall_err_t *err);
int hall_close_window(hall_t *self, uint32_t window, int64_t now, window_t **out, hall_err_t *err);

/* Internal to the queue service, shared between its files. */
int hall_refuse(hall_err_t *err, Hallbus__StatusCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void hall_line_insert(line_t *line, ticket_t *t);
void hall_line_remove(line_t *line, ticket_t *t);
line_t *hall_line_of(ticket_t *t);
/* Waiting ticket T enters / leaves its service's line; the change is
 * recorded for the next event, whose summary of the service it dirties. */
void hall_line_enter(hall_t *self, ticket_t *t);
void hall_line_leave(hall_t *self, ticket_t *t);
/* SVC's summary (or every one) goes with the next event. */
void hall_mark_service(service_t *svc);
void hall_mark_all_services(hall_t *self);
void hall_note_call(hall_t *self, ticket_t *t);
void hall_free_tickets(hall_t *self);
void hall_ticket_free(ticket_t *t);
/* The accepted matter of ticket NUMBER of DATE (today when empty or NULL)
 * is ready to collect: publishes ticket.ready, once. */
int hall_mark_ready(hall_t *self, const char *number, const char *date, int64_t now,
                    hall_err_t *err);
/* Gives W the services CHOSEN (COUNT of them), or its configured ones when
 * CHOSEN is NULL, with their weights; the round robin starts afresh. */
void hall_window_set_services(hall_t *self, window_t *w, service_t **chosen, unsigned count);
/* The store could not record WHAT of an accepted change: the open
 * transaction is doomed (see above), the error is logged once. */
void hall_store_failed(hall_t *self, const char *what);

#endif
