/* hall-audit's queries: one AuditRequest in, one AuditReply out, REQ
 * framing on a ROUTER ([identity][empty][request]). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "audit_report.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

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

void audit_on_query(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    audit_t *a = arg;
    a->queries++;
    audit_flush(a); /* answer from what is durable, and publish it first */
    Hallbus__AuditReply reply = HALLBUS__AUDIT_REPLY__INIT;
    Hallbus__AuditVerifyResult verify = HALLBUS__AUDIT_VERIFY_RESULT__INIT;
    Hallbus__AuditReport report = HALLBUS__AUDIT_REPORT__INIT;
    Hallbus__AuditStats stats = HALLBUS__AUDIT_STATS__INIT;
    Hallbus__AuditRecord **recs = NULL;
    size_t nrecs = 0;
    bool have_report = false;
    char msg[512] = "", problem[512] = "";
    char *halls[256];
    uint64_t seqs[256];
    Hallbus__AuditRequest *req = NULL;

    if (n != 3 || overflow || zmq_msg_size(&frames[1]) != 0) {
        a->bad_queries++;
        say(&reply, msg, sizeof msg, HALLBUS__STATUS_CODE__MALFORMED,
            "expected an empty delimiter frame then one AuditRequest frame");
        goto send;
    }
    if (zmq_msg_size(&frames[2]) > HB_REQUEST_MAX) {
        a->bad_queries++;
        say(&reply, msg, sizeof msg, HALLBUS__STATUS_CODE__TOO_LARGE,
            "requests are at most 64 KiB");
        goto send;
    }
    req = hallbus__audit_request__unpack(NULL, zmq_msg_size(&frames[2]), zmq_msg_data(&frames[2]));
    if (!req) {
        if (a->bad_queries++ == 0 || a->bad_queries % 10000 == 0)
            hb_warn("%lu malformed quer(ies)", a->bad_queries);
        say(&reply, msg, sizeof msg, HALLBUS__STATUS_CODE__MALFORMED, "not an AuditRequest");
        goto send;
    }
    reply.request_id = req->request_id;
    switch (req->query_case) {
    case HALLBUS__AUDIT_REQUEST__QUERY_HISTORY:
        history(a, req->history, &reply, &recs, &nrecs);
        break;
    case HALLBUS__AUDIT_REQUEST__QUERY_EXPORT_RANGE: {
        const Hallbus__AuditExportQuery *q = req->export_range;
        if (!q->hall_id || !*q->hall_id || !valid_range(q->from_date, q->to_date)) {
            say(&reply, msg, sizeof msg, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
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
            say(&reply, msg, sizeof msg, HALLBUS__STATUS_CODE__INTERNAL, "cannot read the store");
        else if (rc > 0)
            hb_error("verify: %s", problem);
        break;
    }
    case HALLBUS__AUDIT_REQUEST__QUERY_REPORT: {
        const Hallbus__AuditReportQuery *q = req->report;
        if (!q->hall_id || !*q->hall_id || !valid_range(q->from_date, q->to_date)) {
            say(&reply, msg, sizeof msg, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
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
            say(&reply, msg, sizeof msg, HALLBUS__STATUS_CODE__INTERNAL, "cannot build the report");
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
            stats.duplicates += a->halls[i].follow.duplicates;
            halls[i] = (char *)a->halls[i].id;
            seqs[i] = a->halls[i].follow.last;
        }
        stats.n_halls = stats.n_last_seq = a->nhalls < 256 ? a->nhalls : 256;
        stats.halls = halls;
        stats.last_seq = seqs;
        reply.stats = &stats;
        break;
    }
    default:
        say(&reply, msg, sizeof msg, HALLBUS__STATUS_CODE__UNKNOWN_COMMAND,
            "no query this hall-audit knows");
        break;
    }
send:
    reply.last_id = audit_store_last_id(a->store);
    size_t len = hallbus__audit_reply__get_packed_size(&reply);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf) {
        hallbus__audit_reply__pack(&reply, buf);
        const void *bufs[3] = {zmq_msg_data(&frames[0]), "", buf};
        size_t lens[3] = {zmq_msg_size(&frames[0]), 0, len};
        if (hb_zsock_sendv(hb_zsock_socket(zs), bufs, lens, 3) != 0)
            hb_debug("query reply not delivered: %s", zmq_strerror(errno));
        free(buf);
    }
    if (have_report)
        audit_report_clear(&report);
    audit_records_free(recs, nrecs);
    if (req)
        hallbus__audit_request__free_unpacked(req, NULL);
}
