/* hall-notifier's query endpoint (notifier.query): the outbox at a glance
 * and "send it again", answered from the daemon that owns the outbox, so
 * that no tool opens the file or knows its state numbers. One ROUTER
 * through hb_server; each request is answered at once. */
#include <stdlib.h>
#include <string.h>

#include "hallbus/clock.h"
#include "hallbus/log.h"
#include "notifier.h"
#include "notifier.pb-c.h"

#define STATUS_LIMIT_DEFAULT 20
#define STATUS_LIMIT_MAX 1000
#define RETRY_MAX 10000
#define QUERY_REQUEST_MAX (64u << 10)

static void reply(hb_server_t *s, const hb_route_t *route, Hallbus__NotifyReply *r)
{
    if (hb_server_reply(s, route, &r->base) != 0)
        hb_debug("query reply not delivered");
}

static void answer_status(notifier_t *n, const Hallbus__NotifyStatusQuery *q,
                          Hallbus__NotifyReply *r, hb_server_t *s, const hb_route_t *route)
{
    Hallbus__NotifyStatus st = HALLBUS__NOTIFY_STATUS__INIT;
    unsigned counts[4];
    nt_outbox_counts(n->outbox, counts);
    st.pending = counts[NT_PENDING];
    st.sent = counts[NT_SENT];
    st.failed = counts[NT_FAILED];
    st.expired = counts[NT_EXPIRED];
    st.cursor_seq = nt_outbox_cursor(n->outbox, n->config->hall.id);
    int limit = q->limit == 0                 ? STATUS_LIMIT_DEFAULT
                : q->limit > STATUS_LIMIT_MAX ? STATUS_LIMIT_MAX
                                              : (int)q->limit;
    nt_entry_t *rows = calloc((size_t)limit, sizeof *rows);
    Hallbus__NotifyOutboxEntry *entries = calloc((size_t)limit, sizeof *entries);
    Hallbus__NotifyOutboxEntry **ptrs = calloc((size_t)limit, sizeof *ptrs);
    int count = rows && entries && ptrs ? nt_outbox_list(n->outbox, q->all, limit, rows) : -1;
    if (count < 0) {
        r->code = HALLBUS__STATUS_CODE__INTERNAL;
        r->message = "cannot read the outbox";
        count = 0;
    }
    for (int i = 0; i < count; i++) {
        Hallbus__NotifyOutboxEntry *e = &entries[i];
        hallbus__notify_outbox_entry__init(e);
        const char *kind = hb_note_kind_name(rows[i].kind);
        e->id = rows[i].id;
        e->key = rows[i].key;
        e->kind = (char *)(kind ? kind : "unknown");
        e->ticket = rows[i].ticket;
        e->state = (char *)nt_state_name(rows[i].state);
        e->attempts = rows[i].attempts;
        e->channel = rows[i].channel;
        e->last_error = rows[i].last_error;
        e->event_ts = rows[i].event_ts;
        e->next_at = rows[i].next_at;
        e->deadline = rows[i].deadline;
        e->sent_at = rows[i].sent_at;
        ptrs[i] = e;
    }
    st.n_entries = (size_t)count;
    st.entries = ptrs;
    if (r->code == HALLBUS__STATUS_CODE__OK)
        r->status = &st;
    reply(s, route, r);
    for (int i = 0; i < count; i++)
        nt_entry_free(&rows[i]);
    free(rows);
    free(entries);
    free(ptrs);
}

static void answer_retry(notifier_t *n, const Hallbus__NotifyRetryQuery *q, Hallbus__NotifyReply *r)
{
    static int64_t ids[RETRY_MAX];
    size_t count = 0;
    if (q->all_failed) {
        int got = nt_outbox_unsettled_ids(n->outbox, ids, RETRY_MAX);
        count = got > 0 ? (size_t)got : 0;
    } else {
        count = q->n_ids < RETRY_MAX ? q->n_ids : RETRY_MAX;
        memcpy(ids, q->ids, count * sizeof ids[0]);
    }
    if (!q->all_failed && count == 0) {
        r->code = HALLBUS__STATUS_CODE__INVALID_ARGUMENT;
        r->message = "retry names no message (ids, or all_failed)";
        return;
    }
    uint32_t deadline_s[HB_NOTE_KINDS];
    for (int k = 0; k < HB_NOTE_KINDS; k++)
        deadline_s[k] = n->conf->kinds[k].deadline_s;
    int64_t now = hb_now_us();
    int refused = -1;
    for (size_t i = 0; i < count; i++) {
        int was = nt_outbox_retry(n->outbox, ids[i], now, deadline_s, HB_NOTE_KINDS);
        if (was == NT_FAILED || was == NT_EXPIRED)
            r->retried++;
        else if (refused == -1 || was == -2)
            refused = was;
        if (was == -2)
            break;
    }
    if (refused == -2 || (r->retried && nt_commit(n) != 0)) {
        r->retried = 0;
        r->code = HALLBUS__STATUS_CODE__INTERNAL;
        r->message = "the notifier's store cannot be written (is the disk full?)";
        return;
    }
    if (r->retried)
        hb_info("%u message(s) pending again by hand (hallctl notify retry)", r->retried);
    if (q->all_failed || refused == -1)
        return;
    /* a single id: say why it was not retried */
    if (r->retried == 0 && refused < 0) {
        r->code = HALLBUS__STATUS_CODE__NOT_FOUND;
        r->message = "no such message in the outbox";
    } else if (r->retried == 0) {
        r->code = HALLBUS__STATUS_CODE__INVALID_STATE;
        r->message = refused == NT_SENT ? "that message was delivered already; the receiver "
                                          "would drop a repeat by its idempotency key"
                                        : "that message is pending already";
    }
}

static void on_query(hb_server_t *s, const hb_route_t *route, ProtobufCMessage *msg, void *arg)
{
    notifier_t *n = arg;
    Hallbus__NotifyRequest *req = (Hallbus__NotifyRequest *)msg;
    Hallbus__NotifyReply r = HALLBUS__NOTIFY_REPLY__INIT;
    r.request_id = req->request_id;
    if (route->role != HB_ROLE_OPERATOR && route->role != HB_ROLE_SUPERVISOR) {
        /* the outbox names citizens' deliveries: the hall's staff only */
        char why[160];
        snprintf(why, sizeof why,
                 "the notifier's queries need a key of role operator or supervisor; this key's "
                 "role is %s",
                 hb_role_name(route->role));
        r.code = HALLBUS__STATUS_CODE__PERMISSION_DENIED;
        r.message = why;
        reply(s, route, &r);
        return;
    }
    switch (req->query_case) {
    case HALLBUS__NOTIFY_REQUEST__QUERY_STATUS:
        answer_status(n, req->status, &r, s, route);
        return;
    case HALLBUS__NOTIFY_REQUEST__QUERY_RETRY:
        answer_retry(n, req->retry, &r);
        break;
    default:
        r.code = HALLBUS__STATUS_CODE__UNKNOWN_COMMAND;
        r.message = "no query this hall-notifier knows";
    }
    reply(s, route, &r);
}

static void on_refused(hb_server_t *s, const hb_route_t *route, hb_server_refusal_t kind,
                       const char *why, size_t len, void *arg)
{
    Hallbus__NotifyReply r = HALLBUS__NOTIFY_REPLY__INIT;
    r.code = kind == HB_SERVER_TOO_LARGE ? HALLBUS__STATUS_CODE__TOO_LARGE
                                         : HALLBUS__STATUS_CODE__MALFORMED;
    r.message = (char *)why;
    hb_warn("refused a query of %zu byte(s): %s", len, why);
    reply(s, route, &r);
}

int nt_query_start(notifier_t *n)
{
    hb_server_config_t sc = {.endpoint = n->conf->query,
                             .security = n->security,
                             .zap_domain = "notifier",
                             .request_desc = &hallbus__notify_request__descriptor,
                             .request_max = QUERY_REQUEST_MAX,
                             .linger = 0,
                             .on_request = on_query,
                             .on_refused = on_refused,
                             .arg = n};
    n->query = hb_server_new(n->loop, n->ctx, &sc);
    return n->query ? 0 : -1;
}
