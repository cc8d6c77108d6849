/* `hallctl audit ...`: the record kept by hall-audit.
 *
 *   tail     history from the store, then (--follow) live records from
 *            audit.publish. The seam: subscribe first, read history to the
 *            store's last id L, then print live records with id > L only;
 *            a live id that jumps ahead (the subscription was not yet live,
 *            or the socket dropped at its high-water mark) is filled from
 *            history first. Record ids have no gaps, so nothing is missed or
 *            printed twice.
 *   ticket   a ticket's whole life on a day
 *   day      what a window or a staff member did on a day
 *   verify   the chain, by hall-audit or (--file) of a store or export here
 *   export   a hall's records of a range of days to a file verify can check */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "audit_store.h"
#include "cmd_audit.h"
#include "event_line.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/pb_json.h"
#include "hallbus/rpc_client.h"
#include "text.h"

#define KINDS_MAX 16

/* ── hall-audit's query endpoint, through the common blocking client ── */

struct ac_s {
    hb_rpc_t *rpc;
    const char *endpoint;
};

ac_t *ac_new(hallctl_t *ctl, const char *endpoint)
{
    if (hc_resolve(ctl) != 0)
        return NULL;
    ac_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = endpoint      ? endpoint
                     : ctl->config ? ctl->config->audit.query
                                   : HC_DEFAULT_AUDIT_QUERY;
    int status;
    self->rpc = hc_rpc_new(ctl, self->endpoint, "hall-audit", &status);
    if (!self->rpc)
        ac_destroy(&self);
    return self;
}

void ac_destroy(ac_t **pself)
{
    if (!pself || !*pself)
        return;
    ac_t *self = *pself;
    *pself = NULL;
    hb_rpc_destroy(&self->rpc);
    free(self);
}

Hallbus__AuditReply *ac_call(ac_t *self, Hallbus__AuditRequest *req, int *status)
{
    char why[256];
    Hallbus__AuditReply *r = (Hallbus__AuditReply *)hb_rpc_call_msg(
        self->rpc, &req->base, &hallbus__audit_reply__descriptor, why, sizeof why);
    if (!r) {
        tx_line(stderr, "hallctl: hall-audit at %s did not answer: %s", self->endpoint, why);
        *status = HC_EXIT_UNREACHABLE;
        return NULL;
    }
    if (r->code != HALLBUS__STATUS_CODE__OK) {
        tx_line(stderr, "hallctl: hall-audit: %s",
                r->message && *r->message ? r->message : hb_status_name(r->code));
        hallbus__audit_reply__free_unpacked(r, NULL);
        *status = HC_EXIT_REFUSED;
        return NULL;
    }
    *status = HC_EXIT_OK;
    return r;
}

void ac_today(hallctl_t *ctl, char out[11])
{
    hb_business_date(hb_now_us(), ctl->config ? ctl->config->hall.rollover_minute : 0, out);
}

enum {
    O_HALL = HC_OPT_FIRST,
    O_KIND,
    O_WINDOW,
    O_STAFF,
    O_SINCE,
    O_FOLLOW,
    O_COUNT,
    O_AUDIT,
    O_AUDIT_PUB,
    O_DATE,
    O_FILE,
    O_FROM,
    O_TO,
    O_OUTPUT,
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ── printing a record ── */

static void hex(const ProtobufCBinaryData *b, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < b->len && n + 3 <= cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%02x", b->data[i]);
    out[n] = '\0';
}

static const char *const type_words[] = {
    [HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT] = "event",
    [HALLBUS__AUDIT_RECORD_TYPE__AUDIT_GAP] = "gap",
    [HALLBUS__AUDIT_RECORD_TYPE__AUDIT_REJECTED] = "rejected",
};

/* a record of any other type is a heartbeat's */
static const char *type_word(Hallbus__AuditRecordType t)
{
    return TX_WORD(type_words, t, "heartbeat");
}

static void print_record(hallctl_t *ctl, const Hallbus__AuditRecord *r)
{
    Hallbus__Envelope *env = NULL;
    if (r->type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT)
        hb_envelope_decode(r->envelope.data, r->envelope.len, &env, NULL);
    if (ctl->json) {
        json_t *o = json_object();
        char h[2 * AUDIT_HASH_LEN + 1], p[2 * AUDIT_HASH_LEN + 1];
        hex(&r->hash, h, sizeof h);
        hex(&r->prev_hash, p, sizeof p);
        json_object_set_new(o, "id", json_integer((json_int_t)r->id));
        json_object_set_new(o, "hall_id", json_string(r->hall_id));
        json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
        if (r->seq_to)
            json_object_set_new(o, "seq_to", json_integer((json_int_t)r->seq_to));
        json_object_set_new(o, "type", json_string(type_word(r->type)));
        json_object_set_new(o, "kind", json_string(r->kind));
        json_object_set_new(o, "received_at", json_integer(r->received_at));
        if (r->reason && *r->reason) {
            json_t *why = json_string(r->reason);
            json_object_set_new(o, "reason", why ? why : json_string("(not UTF-8)"));
        }
        if (env)
            json_object_set_new(o, "event", hb_pb_to_json(&env->base));
        else if (r->type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_REJECTED)
            json_object_set_new(o, "bytes", json_integer((json_int_t)r->envelope.len));
        json_object_set_new(o, "prev_hash", json_string(p));
        json_object_set_new(o, "hash", json_string(h));
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        char clock[16];
        tx_clock(r->received_at, clock, sizeof clock);
        if (env) {
            char *what = ev_describe(env);
            tx_line(stdout, "#%-6llu %s #%-5llu %s %-18s %s", (unsigned long long)r->id, r->hall_id,
                    (unsigned long long)r->seq, clock, r->kind, what);
            free(what);
        } else if (r->type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_GAP) {
            tx_line(stdout, "#%-6llu %s #%llu..#%llu %s GAP: events lost: %s",
                    (unsigned long long)r->id, r->hall_id, (unsigned long long)r->seq,
                    (unsigned long long)r->seq_to, clock, r->reason);
        } else {
            tx_line(stdout, "#%-6llu %s %s REJECTED (%zu bytes): %s", (unsigned long long)r->id,
                    r->hall_id, clock, r->envelope.len, r->reason);
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        stop_requested = 1; /* the reader went away (tail | head) */
    if (env)
        hallbus__envelope__free_unpacked(env, NULL);
}

/* ── filters, applied by hall-audit to history and here to live records ── */

static bool matches(const Hallbus__AuditHistory *q, const Hallbus__AuditRecord *r,
                    uint32_t rollover)
{
    if (q->hall_id && *q->hall_id && strcmp(q->hall_id, r->hall_id) != 0)
        return false;
    if (q->since && r->received_at < q->since)
        return false;
    if (q->n_kinds) {
        bool any = false;
        for (size_t i = 0; i < q->n_kinds && !any; i++)
            any = strncmp(r->kind, q->kinds[i], strlen(q->kinds[i])) == 0;
        if (!any)
            return false;
    }
    bool need_index =
        q->window || (q->staff && *q->staff) || (q->ticket && *q->ticket) || (q->date && *q->date);
    if (!need_index)
        return true;
    audit_index_t ix;
    Hallbus__Envelope *env = NULL;
    if (r->type != HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT ||
        hb_envelope_decode(r->envelope.data, r->envelope.len, &env, NULL) != HB_DECODE_OK)
        return false;
    audit_index_of(env, rollover, &ix);
    hallbus__envelope__free_unpacked(env, NULL);
    return (!q->window || q->window == ix.window) &&
           (!q->staff || !*q->staff || strcmp(q->staff, ix.staff) == 0) &&
           (!q->ticket || !*q->ticket || strcmp(q->ticket, ix.ticket) == 0) &&
           (!q->date || !*q->date || strcmp(q->date, ix.bdate) == 0);
}

/* Prints history matching Q after *CURSOR (up to UP_TO when not 0), page by
 * page; *CURSOR ends at the store's last id when the last page was read.
 * Returns the exit status; *PRINTED counts, stopping at MAX (0: no limit). */
static int print_history(hallctl_t *ctl, ac_t *ac, Hallbus__AuditHistory *q, uint64_t *cursor,
                         uint64_t up_to, long max, long *printed)
{
    for (;;) {
        Hallbus__AuditRequest req = HALLBUS__AUDIT_REQUEST__INIT;
        q->after_id = *cursor;
        q->up_to_id = up_to;
        q->max = AUDIT_HISTORY_MAX;
        req.query_case = HALLBUS__AUDIT_REQUEST__QUERY_HISTORY;
        req.history = q;
        int status;
        Hallbus__AuditReply *r = ac_call(ac, &req, &status);
        if (!r)
            return status;
        for (size_t i = 0; i < r->n_records && (!max || *printed < max); i++) {
            print_record(ctl, r->records[i]);
            (*printed)++;
        }
        bool more = r->more;
        if (r->n_records)
            *cursor = r->records[r->n_records - 1]->id;
        if (!more) {
            /* every matching record up to the store's last id is printed */
            uint64_t last = up_to ? up_to : r->last_id;
            if (last > *cursor)
                *cursor = last;
        }
        hallbus__audit_reply__free_unpacked(r, NULL);
        if (!more || (max && *printed >= max) || stop_requested)
            return HC_EXIT_OK;
    }
}

typedef struct {
    Hallbus__AuditHistory q;
    char *kinds[KINDS_MAX];
    const char *audit_ep, *audit_pub;
    bool follow;
    long count;
} tail_args_t;

static int parse_since(hallctl_t *ctl, const char *text, int64_t *out)
{
    struct tm tm = {0};
    const char *end = NULL;
    time_t now = time(NULL);
    localtime_r(&now, &tm);
    tm.tm_sec = 0;
    if ((end = strptime(text, "%Y-%m-%d %H:%M:%S", &tm)) && !*end) {
    } else if ((end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm)) && !*end) {
    } else if ((end = strptime(text, "%Y-%m-%d %H:%M", &tm)) && !*end) {
    } else if ((end = strptime(text, "%Y-%m-%d", &tm)) && !*end) {
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    } else if ((end = strptime(text, "%H:%M", &tm)) && !*end) {
    } else {
        return hc_usage_error(ctl,
                              "--since takes YYYY-MM-DD, 'YYYY-MM-DD HH:MM[:SS]' or HH:MM, "
                              "not '%s'",
                              text);
    }
    tm.tm_isdst = -1;
    *out = (int64_t)mktime(&tm) * 1000000;
    return 0;
}

static int parse_tail(hallctl_t *ctl, int argc, char **argv, tail_args_t *t, char **kinds_text)
{
    static const hc_opt_t opts[] = {{"hall", true, O_HALL},           {"kind", true, O_KIND},
                                    {"window", true, O_WINDOW},       {"staff", true, O_STAFF},
                                    {"since", true, O_SINCE},         {"follow", false, O_FOLLOW},
                                    {"count", true, O_COUNT},         {"audit", true, O_AUDIT},
                                    {"audit-pub", true, O_AUDIT_PUB}, {NULL, false, 0}};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int c;
    while ((c = hc_getopt(&g, &arg)) > 0) {
        switch (c) {
        case O_HALL:
            t->q.hall_id = (char *)arg;
            break;
        case O_KIND:
            *kinds_text = (char *)arg;
            break;
        case O_WINDOW:
            if (hc_parse_window(ctl, arg, &t->q.window) != 0)
                return HC_EXIT_USAGE;
            break;
        case O_STAFF:
            t->q.staff = (char *)arg;
            break;
        case O_SINCE:
            if (parse_since(ctl, arg, &t->q.since) != 0)
                return HC_EXIT_USAGE;
            break;
        case O_FOLLOW:
            t->follow = true;
            break;
        case O_COUNT:
            if (hc_parse_count(ctl, "--count", arg, 1, 1000000000L, &t->count) != 0)
                return HC_EXIT_USAGE;
            break;
        case O_AUDIT:
            t->audit_ep = arg;
            break;
        case O_AUDIT_PUB:
            t->audit_pub = arg;
            break;
        }
    }
    if (c < 0)
        return g.status;
    if (hc_want_args(&g, 0, "nothing") != 0)
        return HC_EXIT_USAGE;
    if (*kinds_text) {
        char *save = NULL;
        for (char *k = strtok_r(*kinds_text, ",", &save); k && t->q.n_kinds < KINDS_MAX;
             k = strtok_r(NULL, ",", &save))
            t->kinds[t->q.n_kinds++] = k;
        t->q.kinds = t->kinds;
    }
    return 0;
}

/* Live records after *CURSOR until stopped or COUNT printed. */
static int follow(hallctl_t *ctl, ac_t *ac, void *sub, tail_args_t *t, uint64_t *cursor,
                  long *printed)
{
    uint32_t rollover = ctl->config ? ctl->config->hall.rollover_minute : 0;
    while (!stop_requested && (!t->count || *printed < t->count)) {
        zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 200) <= 0)
            continue;
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        zmq_msg_init(&body);
        zmq_msg_recv(&topic, sub, 0);
        Hallbus__AuditRecord *r = NULL;
        if (zmq_msg_more(&topic) && zmq_msg_recv(&body, sub, 0) >= 0)
            r = hallbus__audit_record__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
        zmq_msg_close(&topic);
        zmq_msg_close(&body);
        if (!r)
            continue;
        bool heartbeat = r->type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_HEARTBEAT;
        uint64_t id = r->id;
        int status = HC_EXIT_OK;
        /* a jump: fill it from the store first */
        if (id > *cursor + 1 || (heartbeat && id > *cursor)) {
            uint64_t up_to = heartbeat ? id : id - 1;
            long max = t->count ? t->count : 0;
            status = print_history(ctl, ac, &t->q, cursor, up_to, max, printed);
        }
        if (status == HC_EXIT_OK && !heartbeat && id == *cursor + 1) {
            if (matches(&t->q, r, rollover) && (!t->count || *printed < t->count)) {
                print_record(ctl, r);
                (*printed)++;
            }
            *cursor = id;
        }
        hallbus__audit_record__free_unpacked(r, NULL);
        if (status != HC_EXIT_OK)
            return status;
    }
    return HC_EXIT_OK;
}

int cmd_audit_tail(hallctl_t *ctl, int argc, char **argv)
{
    tail_args_t t = {.q = HALLBUS__AUDIT_HISTORY__INIT};
    char *kinds_text = NULL;
    int rc = parse_tail(ctl, argc, argv, &t, &kinds_text);
    if (rc != 0)
        return rc;
    ac_t *ac = ac_new(ctl, t.audit_ep);
    if (!ac)
        return HC_EXIT_USAGE;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    void *ctx = NULL, *sub = NULL;
    if (t.follow) {
        /* subscribe first: whatever is recorded from now on reaches us or
         * shows as a jump in the ids */
        ctx = zmq_ctx_new();
        sub = zmq_socket(ctx, ZMQ_SUB);
        int linger = 0, hwm = 1000000;
        zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "audit.", 6);
        const char *ep = t.audit_pub   ? t.audit_pub
                         : ctl->config ? ctl->config->audit.publish
                                       : HC_DEFAULT_AUDIT_PUBLISH;
        if (hc_secure_socket(ctl, sub, "hall-audit") != 0 || zmq_connect(sub, ep) != 0) {
            tx_line(stderr, "hallctl: cannot connect to %s", ep);
            rc = HC_EXIT_USAGE;
        }
    }
    uint64_t cursor = 0;
    long printed = 0;
    if (rc == 0)
        rc = print_history(ctl, ac, &t.q, &cursor, 0, t.count, &printed);
    if (rc == 0 && t.follow)
        rc = follow(ctl, ac, sub, &t, &cursor, &printed);
    if (sub)
        zmq_close(sub);
    if (ctx)
        zmq_ctx_term(ctx);
    ac_destroy(&ac);
    return rc;
}

/* ── ticket and day ── */

static int run_history(hallctl_t *ctl, const char *audit_ep, Hallbus__AuditHistory *q,
                       const char *none)
{
    ac_t *ac = ac_new(ctl, audit_ep);
    if (!ac)
        return HC_EXIT_USAGE;
    uint64_t cursor = 0;
    long printed = 0;
    int rc = print_history(ctl, ac, q, &cursor, 0, 0, &printed);
    ac_destroy(&ac);
    if (rc == HC_EXIT_OK && printed == 0) {
        tx_line(stderr, "hallctl: %s", none);
        return HC_EXIT_REFUSED;
    }
    return rc;
}

int cmd_audit_ticket(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_opt_t opts[] = {
        {"date", true, O_DATE}, {"audit", true, O_AUDIT}, {NULL, false, 0}};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg, *date = NULL, *audit_ep = NULL;
    int c;
    while ((c = hc_getopt(&g, &arg)) > 0) {
        if (c == O_DATE) {
            if (hc_parse_date(ctl, "--date", arg) != 0)
                return HC_EXIT_USAGE;
            date = arg;
        } else if (c == O_AUDIT) {
            audit_ep = arg;
        }
    }
    if (c < 0)
        return g.status;
    if (hc_want_args(&g, 2, "the hall and the ticket number") != 0)
        return HC_EXIT_USAGE;
    if (hc_resolve(ctl) != 0)
        return HC_EXIT_USAGE;
    char today[11];
    if (!date) {
        ac_today(ctl, today);
        date = today;
    }
    Hallbus__AuditHistory q = HALLBUS__AUDIT_HISTORY__INIT;
    q.hall_id = g.pos[0];
    q.ticket = g.pos[1];
    q.date = (char *)date;
    char none[160];
    snprintf(none, sizeof none, "no record of ticket %s of hall %s on %s", g.pos[1], g.pos[0],
             date);
    return run_history(ctl, audit_ep, &q, none);
}

int cmd_audit_day(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_opt_t opts[] = {{"date", true, O_DATE},
                                    {"window", true, O_WINDOW},
                                    {"staff", true, O_STAFF},
                                    {"audit", true, O_AUDIT},
                                    {NULL, false, 0}};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg, *date = NULL, *audit_ep = NULL;
    Hallbus__AuditHistory q = HALLBUS__AUDIT_HISTORY__INIT;
    int c;
    while ((c = hc_getopt(&g, &arg)) > 0) {
        if (c == O_DATE) {
            if (hc_parse_date(ctl, "--date", arg) != 0)
                return HC_EXIT_USAGE;
            date = arg;
        } else if (c == O_WINDOW) {
            if (hc_parse_window(ctl, arg, &q.window) != 0)
                return HC_EXIT_USAGE;
        } else if (c == O_STAFF) {
            q.staff = (char *)arg;
        } else if (c == O_AUDIT) {
            audit_ep = arg;
        }
    }
    if (c < 0)
        return g.status;
    if (hc_want_args(&g, 1, "the hall") != 0)
        return HC_EXIT_USAGE;
    if (!q.window && !q.staff)
        return hc_usage_error(ctl, "name a window (--window W) or a staff member (--staff ID)");
    if (hc_resolve(ctl) != 0)
        return HC_EXIT_USAGE;
    char today[11];
    if (!date) {
        ac_today(ctl, today);
        date = today;
    }
    q.hall_id = g.pos[0];
    q.date = (char *)date;
    char none[160];
    snprintf(none, sizeof none, "nothing recorded for that %s of hall %s on %s",
             q.window ? "window" : "staff member", g.pos[0], date);
    return run_history(ctl, audit_ep, &q, none);
}

/* ── verify ── */

static int say_verified(hallctl_t *ctl, const Hallbus__AuditVerifyResult *v, const char *where)
{
    if (ctl->json) {
        json_t *o = hb_pb_to_json(&v->base);
        json_object_set_new(o, "intact", json_boolean(v->intact));
        json_object_set_new(o, "records", json_integer((json_int_t)v->records));
        json_dumpf(o, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(o);
    } else if (v->intact) {
        tx_line(stdout,
                "%llu records, chain intact (%s; %llu hall(s), %llu gap record(s), %llu "
                "rejected record(s))",
                (unsigned long long)v->records, where, (unsigned long long)v->halls,
                (unsigned long long)v->gaps, (unsigned long long)v->rejected);
    } else {
        tx_line(stdout, "CHAIN BROKEN (%s): %s", where, v->problem);
    }
    return v->intact ? HC_EXIT_OK : HC_EXIT_REFUSED;
}

int cmd_audit_verify(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_opt_t opts[] = {
        {"hall", true, O_HALL}, {"file", true, O_FILE}, {"audit", true, O_AUDIT}, {NULL, false, 0}};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg, *hall = NULL, *file = NULL, *audit_ep = NULL;
    int c;
    while ((c = hc_getopt(&g, &arg)) > 0) {
        if (c == O_HALL)
            hall = arg;
        else if (c == O_FILE)
            file = arg;
        else if (c == O_AUDIT)
            audit_ep = arg;
    }
    if (c < 0)
        return g.status;
    if (hc_want_args(&g, 0, "nothing") != 0)
        return HC_EXIT_USAGE;
    if (file) {
        /* on its own: no daemon, no hall file needed */
        char err[512], problem[512];
        if (access(file, R_OK) != 0) {
            tx_line(stderr, "hallctl: cannot read %s", file);
            return HC_EXIT_USAGE;
        }
        uint32_t rollover = 0;
        if (hc_resolve(ctl) == 0 && ctl->config)
            rollover = ctl->config->hall.rollover_minute;
        audit_store_t *s = audit_store_open(file, rollover, true, err, sizeof err);
        if (!s) {
            tx_line(stderr, "hallctl: %s", err);
            return HC_EXIT_USAGE;
        }
        Hallbus__AuditVerifyResult v;
        int rc = audit_store_verify(s, hall, &v, problem, sizeof problem);
        audit_store_destroy(&s);
        if (rc < 0) {
            tx_line(stderr, "hallctl: cannot read %s", file);
            return HC_EXIT_USAGE;
        }
        return say_verified(ctl, &v, file);
    }
    ac_t *ac = ac_new(ctl, audit_ep);
    if (!ac)
        return HC_EXIT_USAGE;
    Hallbus__AuditRequest req = HALLBUS__AUDIT_REQUEST__INIT;
    Hallbus__AuditVerify q = HALLBUS__AUDIT_VERIFY__INIT;
    q.hall_id = (char *)(hall ? hall : "");
    req.query_case = HALLBUS__AUDIT_REQUEST__QUERY_VERIFY;
    req.verify = &q;
    int status;
    Hallbus__AuditReply *r = ac_call(ac, &req, &status);
    ac_destroy(&ac);
    if (!r)
        return status;
    int rc = r->verify ? say_verified(ctl, r->verify, "hall-audit's store") : HC_EXIT_REFUSED;
    hallbus__audit_reply__free_unpacked(r, NULL);
    return rc;
}

/* ── export ── */

int cmd_audit_export(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_opt_t opts[] = {{"hall", true, O_HALL},   {"from", true, O_FROM},
                                    {"to", true, O_TO},       {"output", true, O_OUTPUT},
                                    {"audit", true, O_AUDIT}, {NULL, false, 0}};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg, *hall = NULL, *from = NULL, *to = NULL, *out = NULL, *audit_ep = NULL;
    int c;
    while ((c = hc_getopt(&g, &arg)) > 0) {
        if (c == O_HALL)
            hall = arg;
        else if (c == O_FROM || c == O_TO) {
            if (hc_parse_date(ctl, c == O_FROM ? "--from" : "--to", arg) != 0)
                return HC_EXIT_USAGE;
            *(c == O_FROM ? &from : &to) = arg;
        } else if (c == O_OUTPUT)
            out = arg;
        else if (c == O_AUDIT)
            audit_ep = arg;
    }
    if (c < 0)
        return g.status;
    if (hc_want_args(&g, 0, "nothing") != 0)
        return HC_EXIT_USAGE;
    if (hc_resolve(ctl) != 0)
        return HC_EXIT_USAGE;
    if (!hall)
        hall = ctl->hall_id;
    if (!hall || !out || !from)
        return hc_usage_error(ctl, "name the hall (--hall), the first day (--from) and the file "
                                   "(--output)");
    if (!to)
        to = from;
    if (access(out, F_OK) == 0) {
        tx_line(stderr, "hallctl: %s exists; an export never overwrites", out);
        return HC_EXIT_USAGE;
    }
    ac_t *ac = ac_new(ctl, audit_ep);
    if (!ac)
        return HC_EXIT_USAGE;
    char err[512];
    audit_store_t *file = NULL;
    uint64_t cursor = 0, first = 0, last = 0, count = 0;
    char head[2 * AUDIT_HASH_LEN + 1] = "";
    int rc = HC_EXIT_OK;
    for (;;) {
        Hallbus__AuditRequest req = HALLBUS__AUDIT_REQUEST__INIT;
        Hallbus__AuditExportQuery q = HALLBUS__AUDIT_EXPORT_QUERY__INIT;
        q.hall_id = (char *)hall;
        q.from_date = (char *)from;
        q.to_date = (char *)to;
        q.after_id = cursor;
        q.max = AUDIT_HISTORY_MAX;
        req.query_case = HALLBUS__AUDIT_REQUEST__QUERY_EXPORT_RANGE;
        req.export_range = &q;
        Hallbus__AuditReply *r = ac_call(ac, &req, &rc);
        if (!r)
            break;
        if (!file && r->n_records) {
            file = audit_store_open(out, ctl->config ? ctl->config->hall.rollover_minute : 0, false,
                                    err, sizeof err);
            if (!file) {
                tx_line(stderr, "hallctl: %s", err);
                rc = HC_EXIT_USAGE;
                hallbus__audit_reply__free_unpacked(r, NULL);
                break;
            }
            char note[160];
            snprintf(note, sizeof note, "export of hall %s, %s to %s", hall, from, to);
            const Hallbus__AuditRecord *f = r->records[0];
            first = f->id;
            audit_store_set_anchor(file, hall, f->prev_hash.data, f->id, note);
        }
        for (size_t i = 0; i < r->n_records; i++) {
            if (audit_store_import(file, r->records[i]) != 0) {
                rc = HC_EXIT_USAGE;
                break;
            }
            count++;
            last = cursor = r->records[i]->id;
            hex(&r->records[i]->hash, head, sizeof head);
        }
        bool more = r->more && rc == HC_EXIT_OK;
        hallbus__audit_reply__free_unpacked(r, NULL);
        if (!more)
            break;
    }
    ac_destroy(&ac);
    if (file && audit_store_commit(file) != 0)
        rc = HC_EXIT_USAGE;
    audit_store_destroy(&file);
    if (rc != HC_EXIT_OK)
        return rc;
    if (!count) {
        tx_line(stderr, "hallctl: no records of hall %s from %s to %s", hall, from, to);
        return HC_EXIT_REFUSED;
    }
    tx_line(stdout,
            "exported %llu records (#%llu..#%llu) of hall %s, %s to %s, to %s; last hash %s",
            (unsigned long long)count, (unsigned long long)first, (unsigned long long)last, hall,
            from, to, out, head);
    return HC_EXIT_OK;
}
