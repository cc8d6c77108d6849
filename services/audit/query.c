/* hall-audit's queries: one AuditRequest in, one AuditReply out, on the
 * common REQ-framed server (hallbus/server.h): what cannot be read is
 * answered MALFORMED or TOO_LARGE with request_id 0, strings that are not
 * UTF-8 or hold a NUL INVALID_ARGUMENT naming the field. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "audit_report.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"
#include "hallbus/pb_check.h"
#include <zmq.h>

static void say(Hallbus__AuditReply *r, char *buf, size_t len, Hallbus__StatusCode code,
                const char *msg)
{
    r->code = code;
    snprintf(buf, len, "%s", msg);
    r->message = buf;
}

static void history(audit_t *a, const Hallbus__AuditHistory *q, Hallbus__AuditReply *r,
                    Hallbus__AuditRecord ***recs, size_t *n)
{
    bool more = false;
    if (audit_store_history(a->store, q, recs, n, &more) != 0) {
        r->code = HALLBUS__STATUS_CODE__INTERNAL;
        return;
    }
    r->records = *recs;
    r->n_records = *n;
    r->more = more;
}

static void report_event(const Hallbus__Envelope *env, void *arg)
{
    audit_report_add(arg, env);
}

static int valid_range(const char *from, const char *to)
{
    return from && to && hb_date_valid(from) && hb_date_valid(to) && strcmp(from, to) <= 0;
}

static void answer(audit_t *a, const hb_route_t *route, Hallbus__AuditReply *reply)
{
    reply->last_id = audit_store_last_id(a->store);
    if (hb_server_reply(a->server, route, &reply->base) != 0)
        hb_debug("query reply not delivered: %s", zmq_strerror(errno));
}

/* What could not be read: answered with request_id 0 (its id is unknown). */
static void on_refused(hb_server_t *s, const hb_route_t *route, hb_server_refusal_t kind,
                       const char *why, size_t len, void *arg)
{
    audit_t *a = arg;
    const hb_server_counters_t *c = hb_server_counters(s);
    unsigned long bad = c->bad_framing + c->too_large + c->malformed;
    if (bad == 1 || bad % 10000 == 0)
        hb_warn("%lu unreadable quer(ies); latest: %s", bad, why);
    Hallbus__AuditReply reply = HALLBUS__AUDIT_REPLY__INIT;
    reply.code = kind == HB_SERVER_TOO_LARGE ? HALLBUS__STATUS_CODE__TOO_LARGE
                                             : HALLBUS__STATUS_CODE__MALFORMED;
    reply.message = (char *)why;
    answer(a, route, &reply);
}

/* A query whose strings a standard reader would refuse: answered
 * INVALID_ARGUMENT with its own request_id, naming the field. */
static void on_invalid(hb_server_t *s, const hb_route_t *route, ProtobufCMessage *msg,
                       const char *why, void *arg)
{
    Hallbus__AuditReply reply = HALLBUS__AUDIT_REPLY__INIT;
    reply.request_id = ((Hallbus__AuditRequest *)msg)->request_id;
    reply.code = HALLBUS__STATUS_CODE__INVALID_ARGUMENT;
    reply.message = (char *)why;
    answer(arg, route, &reply);
}

/* An AuditRequest, its strings checked on the wire (hb_pb_check_strings). */
static int decode_query(const void *data, size_t len, ProtobufCMessage **out, const char **why)
{
    static char reason[HB_DECODE_WHY_MAX];
    *out = protobuf_c_message_unpack(&hallbus__audit_request__descriptor, NULL, len, data);
    if (!*out) {
        *why = "not an AuditRequest";
        return HB_DECODE_MALFORMED;
    }
    if (hb_pb_check_strings(data, len, &hallbus__audit_request__descriptor, reason,
                            sizeof reason) != 0) {
        *why = reason;
        return HB_DECODE_INVALID;
    }
    return HB_DECODE_OK;
}

static void on_query(hb_server_t *s, const hb_route_t *route, ProtobufCMessage *msg, void *arg)
{
    audit_t *a = arg;
    const Hallbus__AuditRequest *req = (const Hallbus__AuditRequest *)msg;
    if (route->role != HB_ROLE_AUDIT && route->role != HB_ROLE_SUPERVISOR &&
        route->role != HB_ROLE_OPERATOR) {
        /* the record names staff and complaints: not for every key */
        char why[160];
        snprintf(why, sizeof why,
                 "the audit's queries need a key of role audit, supervisor or operator; this "
                 "key's role is %s",
                 hb_role_name(route->role));
        Hallbus__AuditReply denied = HALLBUS__AUDIT_REPLY__INIT;
        denied.request_id = req->request_id;
        denied.code = HALLBUS__STATUS_CODE__PERMISSION_DENIED;
        denied.message = why;
        answer(a, route, &denied);
        return;
    }
    a->queries++;
    audit_flush(a); /* answer from what is durable, and publish it first */
    Hallbus__AuditReply reply = HALLBUS__AUDIT_REPLY__INIT;
    Hallbus__AuditVerifyResult verify = HALLBUS__AUDIT_VERIFY_RESULT__INIT;
    Hallbus__AuditReport report = HALLBUS__AUDIT_REPORT__INIT;
    Hallbus__AuditStats stats = HALLBUS__AUDIT_STATS__INIT;
    Hallbus__AuditRecord **recs = NULL;
    size_t nrecs = 0;
    bool have_report = false;
    char msgbuf[512] = "", problem[512] = "";
    char *halls[256];
    uint64_t seqs[256];

    reply.request_id = req->request_id;
    switch (req->query_case) {
    case HALLBUS__AUDIT_REQUEST__QUERY_HISTORY:
        history(a, req->history, &reply, &recs, &nrecs);
        break;
    case HALLBUS__AUDIT_REQUEST__QUERY_EXPORT_RANGE: {
        const Hallbus__AuditExportQuery *q = req->export_range;
        if (!q->hall_id || !*q->hall_id || !valid_range(q->from_date, q->to_date)) {
            say(&reply, msgbuf, sizeof msgbuf, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                "export needs a hall and dates from <= to as YYYY-MM-DD");
            break;
        }
        uint64_t first, last;
        audit_store_day_range(a->store, q->hall_id, q->from_date, q->to_date, &first, &last);
        if (!first)
            break; /* nothing: an empty answer */
        Hallbus__AuditHistory h = HALLBUS__AUDIT_HISTORY__INIT;
        h.hall_id = q->hall_id;
        h.after_id = q->after_id > first - 1 ? q->after_id : first - 1;
        h.up_to_id = last;
        h.max = q->max;
        history(a, &h, &reply, &recs, &nrecs);
        break;
    }
    case HALLBUS__AUDIT_REQUEST__QUERY_VERIFY: {
        int rc =
            audit_store_verify(a->store, req->verify->hall_id, &verify, problem, sizeof problem);
        reply.verify = &verify;
        if (rc < 0)
            say(&reply, msgbuf, sizeof msgbuf, HALLBUS__STATUS_CODE__INTERNAL,
                "cannot read the store");
        else if (rc > 0)
            hb_error("verify: %s", problem);
        break;
    }
    case HALLBUS__AUDIT_REQUEST__QUERY_REPORT: {
        const Hallbus__AuditReportQuery *q = req->report;
        if (!q->hall_id || !*q->hall_id || !valid_range(q->from_date, q->to_date)) {
            say(&reply, msgbuf, sizeof msgbuf, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                "a report needs a hall and dates from <= to as YYYY-MM-DD");
            break;
        }
        /* targets and names: known for the hall of this file */
        const hb_config_t *cfg = strcmp(q->hall_id, a->config->hall.id) == 0 ? a->config : NULL;
        audit_report_t *rep = audit_report_new(cfg);
        uint64_t gaps = 0;
        if (!rep ||
            audit_store_each_event(a->store, q->hall_id, q->from_date, q->to_date, report_event,
                                   rep, &gaps) != 0 ||
            audit_report_finish(rep, &report) != 0) {
            say(&reply, msgbuf, sizeof msgbuf, HALLBUS__STATUS_CODE__INTERNAL,
                "cannot build the report");
        }
        audit_report_destroy(&rep);
        report.hall_id = q->hall_id;
        report.from_date = q->from_date;
        report.to_date = q->to_date;
        report.gaps = gaps;
        reply.report = &report;
        have_report = true;
        break;
    }
    case HALLBUS__AUDIT_REQUEST__QUERY_STATS: {
        audit_counts_t c = audit_store_counts(a->store);
        stats.last_id = audit_store_last_id(a->store);
        stats.records = c.events + c.gaps + c.rejected;
        stats.rejected = c.rejected;
        stats.gaps = c.gaps;
        for (size_t i = 0; i < a->nhalls && i < 256; i++) {
            stats.duplicates += hb_follower_counters(&a->halls[i].follow)->stale;
            halls[i] = (char *)a->halls[i].id;
            seqs[i] = hb_follower_last(&a->halls[i].follow);
        }
        stats.n_halls = stats.n_last_seq = a->nhalls < 256 ? a->nhalls : 256;
        stats.halls = halls;
        stats.last_seq = seqs;
        reply.stats = &stats;
        break;
    }
    default:
        say(&reply, msgbuf, sizeof msgbuf, HALLBUS__STATUS_CODE__UNKNOWN_COMMAND,
            "no query this hall-audit knows");
        break;
    }
    answer(a, route, &reply);
    if (have_report)
        audit_report_clear(&report);
    audit_records_free(recs, nrecs);
}

int audit_query_open(audit_t *a)
{
    hb_server_config_t sc = {.endpoint = a->config->audit.query,
                             .security = a->security,
                             .zap_domain = "audit",
                             .request_desc = &hallbus__audit_request__descriptor,
                             .request_max = HB_REQUEST_MAX,
                             .decode = decode_query,
                             .on_request = on_query,
                             .on_refused = on_refused,
                             .on_invalid = on_invalid,
                             .arg = a};
    a->server = hb_server_new(a->loop, a->ctx, &sc);
    return a->server ? 0 : -1;
}
